/*
 * seccomp.c: purging under a seccomp filter. Purges of many dirty runs go
 * to the kernel in batches (process_madvise) where that is safe; a seccomp
 * filter may kill the process for any system call it does not list, so
 * under a filter scmalloc must keep to madvise. The test installs a
 * filter that kills the process on process_madvise and allows everything
 * else, then makes an arena purge hundreds of separate dirty runs. It
 * must live, the purged pages must read zero and the statistics must
 * count them. Without the filter (first half) the same work runs as a
 * reference. Skipped where seccomp filters are not available.
 */
#include "../harness.h"
#include "../seccomp_filter.h"

#include <stdbool.h>
#include <sys/syscall.h>

#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

/* Frees 300 separate dirty runs of 80 KiB (between live blocks of 96 KiB;
 * both above what thread caches hold), purges the calling thread's arena
 * and checks that the memory reads zero when it is handed out again. */
static void purge_many(const char *when)
{
    enum { N = 300 };
    static char *dirty[N], *live[N];
    const size_t dsize = 80 << 10, lsize = 96 << 10;
    for (int i = 0; i < N; i++) {
        dirty[i] = malloc(dsize);
        live[i] = malloc(lsize);
        REQUIRE(dirty[i] && live[i]);
        memset(dirty[i], 0x7e, dsize);
    }
    unsigned arena = 0;
    size_t len = sizeof arena;
    REQUIRE(sc_ctl("thread.arena", &arena, &len, NULL, 0) == 0);
    char name[64], stat[64];
    snprintf(name, sizeof name, "arena.%u.purge", arena);
    snprintf(stat, sizeof stat, "stats.arenas.%u.purged", arena);
    uint64_t one = 1, purged0 = 0, purged1 = 0;
    len = sizeof purged0;
    REQUIRE(sc_ctl("epoch", NULL, NULL, &one, sizeof one) == 0);
    REQUIRE(sc_ctl(stat, &purged0, &len, NULL, 0) == 0);
    for (int i = 0; i < N; i++) free(dirty[i]);
    REQUIRE(sc_ctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
    REQUIRE(sc_ctl(name, NULL, NULL, NULL, 0) == 0);
    REQUIRE(sc_ctl("epoch", NULL, NULL, &one, sizeof one) == 0);
    REQUIRE(sc_ctl(stat, &purged1, &len, NULL, 0) == 0);
    CHECKF(purged1 >= purged0 + (uint64_t)N * dsize, "%s: arena %u purged %llu -> %llu bytes", when, arena,
           (unsigned long long)purged0, (unsigned long long)purged1);
    /* The same pages come back (dirty first, then these clean runs): zero. */
    for (int i = 0; i < N; i++) {
        char *p = calloc(1, dsize);
        REQUIRE(p != NULL);
        CHECKF(find_byte_not(p, dsize, 0) == (size_t)-1, "%s: calloc after purge not zero", when);
        free(p);
        free(live[i]);
    }
    CHECKF(sc_heap_check() == 0, "%s: sc_heap_check found problems", when);
}

int main(void)
{
    purge_many("without a filter");
    if (!seccomp_refuse(SYS_process_madvise, -1, 0, SECCOMP_RET_KILL_PROCESS)) SKIP("seccomp filters not available here");
    purge_many("under a seccomp filter that kills process_madvise");
    return harness_summary();
}
