/*
 * malloc_info.c: glibc's malloc_info answered from scmalloc's counters, in
 * glibc's XML shape: one <heap> per arena in use, the free regions of each
 * size class in <sizes>, totals; options other than 0 give -1 and EINVAL.
 * The XML is checked with a real parser (python3's minidom) when python3
 * is there.
 */
#include "../harness.h"
#include "scmalloc.h"

#include <malloc.h>

int main(void)
{
    void *p[200];
    for (int i = 0; i < 200; i++) p[i] = malloc((size_t)(i % 50) * 16 + 1);
    for (int i = 0; i < 200; i += 2) free(p[i]); /* free regions in several classes */

    char path[] = "/tmp/sc_malloc_info_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    FILE *f = fdopen(fd, "w+");
    REQUIRE(f);
    CHECK(malloc_info(0, f) == 0);
    fflush(f);
    rewind(f);
    char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    CHECKF(strncmp(text, "<malloc version=\"1\">", 20) == 0, "starts with: %.40s", text);
    CHECK(strstr(text, "<heap nr=\"0\">") != NULL);
    CHECK(strstr(text, "<size from=") != NULL);
    CHECK(strstr(text, "<total type=\"mmap\"") != NULL);
    CHECK(n > 10 && strcmp(text + n - 10, "</malloc>\n") == 0);

    fclose(f);
    FILE *null = fopen("/dev/null", "w");
    REQUIRE(null);
    errno = 0;
    CHECK(malloc_info(1, null) == -1 && errno == EINVAL);
    CHECK(sc_malloc_info(0, null) == 0);
    fclose(null);

    if (access("/usr/bin/python3", X_OK) == 0) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd),
                 "/usr/bin/python3 -c 'import sys,xml.dom.minidom as m; m.parse(sys.argv[1])' %s", path);
        CHECKF(system(cmd) == 0, "python3's XML parser rejected %s", path);
    }
    unlink(path);
    for (int i = 1; i < 200; i += 2) free(p[i]);
    return harness_summary();
}
