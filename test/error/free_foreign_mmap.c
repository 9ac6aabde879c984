/*
 * free_foreign_mmap.c: free of a page from an mmap scmalloc does not own.
 * Must die by SIGABRT with a stderr line containing "invalid pointer" and the pointer.
 *
 * SCTEST: abort "invalid pointer"
 */
#include "../harness.h"
#include <sys/mman.h>

/* The pointer goes to stdout before the misuse; test/run.sh looks for it
 * in the allocator's message on stderr. */
static void announce(const void *p)
{
    printf("ptr=%p\n", p);
    fflush(stdout);
}

int main(void)
{
    void *warm = malloc(16);
    free(warm);
    size_t len = 16 * page_size();
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    memset(m, 1, len);
    char *bad = opaque_ptr(m + 4 * page_size());
    announce(bad);
    free(bad);
    printf("survived the misuse\n");
    return 0;
}
