/*
 * cold_layout.c: the code a running program does not normally run
 * (SC_COLD in debug.h) and the unwind tables lie in mappings of their own
 * (src/cold.ld), so that a process that never calls the one nor unwinds
 * through the other has none of their pages resident. Through the real
 * library: after blocks of every kind were allocated, reallocated and
 * freed, the mapping that holds sc_ctl is not malloc's and has no page
 * resident, and neither has the mapping of the unwind tables (with the
 * default layout both share a mapping with pages every process reads).
 * Then sc_ctl's first call makes a page of its mapping resident: the
 * measure can see one.
 *
 * SCTEST: variants=release
 */
#define _GNU_SOURCE
#include "../harness.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <link.h>

typedef struct { uintptr_t start, end; long rss_kb; } mapping_t;

/* The mapping of this process that holds a, from /proc/self/smaps. */
static mapping_t mapping_of(uintptr_t a)
{
    mapping_t m = { 0, 0, -1 }, cur = { 0, 0, -1 };
    FILE *f = fopen("/proc/self/smaps", "r");
    REQUIRE(f);
    char line[512];
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        long kb;
        if (sscanf(line, "%lx-%lx ", &s, &e) == 2) { /* a mapping's first line */
            cur.start = s;
            cur.end = e;
            in = a >= s && a < e;
        } else if (in && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            m = cur;
            m.rss_kb = kb;
            in = false;
        }
    }
    fclose(f);
    return m;
}

static uintptr_t eh_frame_hdr; /* the unwind tables' index in libscmalloc.so */

static int find_eh_frame(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t inside = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && inside >= info->dlpi_addr + ph->p_vaddr &&
            inside < info->dlpi_addr + ph->p_vaddr + ph->p_memsz) {
            for (int j = 0; j < info->dlpi_phnum; j++)
                if (info->dlpi_phdr[j].p_type == PT_GNU_EH_FRAME)
                    eh_frame_hdr = info->dlpi_addr + info->dlpi_phdr[j].p_vaddr;
            return 1;
        }
    }
    return 0;
}

/* The library's definition of name (not a stub in this program). */
static uintptr_t library_symbol(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    REQUIRE(p);
    Dl_info info;
    REQUIRE(dladdr(p, &info) && info.dli_fname);
    CHECKF(strstr(info.dli_fname, "libscmalloc"), "%s comes from %s", name, info.dli_fname);
    return (uintptr_t)p;
}

int main(void)
{
    /* Blocks of every kind: small, large, huge, aligned, grown. */
    static const size_t sizes[] = { 8, 100, 3000, 20000, 100 << 10, 1 << 20, 5 << 20 };
    for (int round = 0; round < 50; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char *p = malloc(sizes[i]);
            REQUIRE(p);
            memset(p, 1, sizes[i]);
            p = realloc(p, sizes[i] * 2);
            REQUIRE(p);
            void *q = NULL;
            REQUIRE(posix_memalign(&q, 4096, sizes[i]) == 0);
            free(q);
            free(calloc(1, sizes[i]));
            free(p);
        }

    uintptr_t ctl = library_symbol("sc_ctl"), mal = library_symbol("malloc");
    mapping_t cold = mapping_of(ctl), hot = mapping_of(mal);
    REQUIRE(cold.rss_kb >= 0 && hot.rss_kb >= 0);
    CHECKF(cold.start != hot.start, "sc_ctl (%#lx) and malloc (%#lx) share the mapping %#lx-%#lx",
           (unsigned long)ctl, (unsigned long)mal, (unsigned long)hot.start, (unsigned long)hot.end);
    CHECKF(cold.rss_kb == 0, "the mapping of the cold code (%#lx-%#lx) has %ld kB resident",
           (unsigned long)cold.start, (unsigned long)cold.end, cold.rss_kb);
    CHECK(hot.rss_kb > 0);

    dl_iterate_phdr(find_eh_frame, (void *)mal);
    REQUIRE(eh_frame_hdr);
    mapping_t unwind = mapping_of(eh_frame_hdr);
    CHECKF(unwind.rss_kb == 0, "the mapping of the unwind tables (%#lx-%#lx) has %ld kB resident",
           (unsigned long)unwind.start, (unsigned long)unwind.end, unwind.rss_kb);

    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    CHECK(sc_ctl("epoch", &epoch, &len, &epoch, sizeof epoch) == 0);
    CHECKF(mapping_of(ctl).rss_kb > 0, "sc_ctl ran, yet its mapping has no page resident");
    return harness_summary();
}
