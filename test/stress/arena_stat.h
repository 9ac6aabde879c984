/*
 * arena_stat.h: one counter of one arena, through sc_ctl (after an epoch
 * refresh), for the stress tests that must show that the path they aim at
 * really ran. Include after harness.h.
 */
#ifndef SC_TEST_ARENA_STAT_H
#define SC_TEST_ARENA_STAT_H

#include <scmalloc.h>

/* The calling thread's arena. */
static inline unsigned arena_stat_own_arena(void)
{
    unsigned arena = 0;
    size_t len = sizeof arena;
    CHECK(sc_ctl("thread.arena", &arena, &len, NULL, 0) == 0);
    return arena;
}

/* stats.arenas.<arena>.<leaf>, a uint64_t counter such as nmadvise. */
static inline uint64_t arena_stat(unsigned arena, const char *leaf)
{
    uint64_t epoch = 1, value = 0;
    size_t len = sizeof value;
    char name[96];
    snprintf(name, sizeof name, "stats.arenas.%u.%s", arena, leaf);
    CHECK(sc_ctl("epoch", NULL, NULL, &epoch, sizeof epoch) == 0);
    CHECKF(sc_ctl(name, &value, &len, NULL, 0) == 0, "sc_ctl(%s)", name);
    return value;
}

#endif
