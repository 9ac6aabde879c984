/*
 * idle_purge.c: an arena whose threads have all exited gives its dirty
 * pages back at once, down to its bound (arena.c, arena_left), instead of
 * keeping the young ones for threads that are gone.
 *   1. A thread builds 16 MiB of small blocks, frees them and exits: its
 *      arena then holds at most the bound of dirty pages (1 MiB, plus
 *      half of what is still active).
 *   2. A thread builds 16 MiB of small blocks and exits; the main thread
 *      checks and frees them into that arena, which has no thread: the
 *      same bound holds after the frees.
 * Before the change each case left about 16 MiB dirty (every run was
 * younger than the minimum age when the frees purged). Skipped when the
 * decay is off (dirty_decay_ms < 0 keeps every dirty page by request).
 */
#include "../harness.h"
#include "../stress/arena_stat.h"

#include <pthread.h>
#include <sys/mman.h>

enum { SMALL = 64, MANY = (16 << 20) / SMALL };
static const uint64_t FLOOR = 1 << 20; /* SC_DIRTY_FLOOR_BYTES */

static char **blocks;
static unsigned worker_arena;

static void grow(void)
{
    for (size_t i = 0; i < MANY; i++) {
        blocks[i] = malloc(SMALL);
        REQUIRE(blocks[i]);
        fill_pattern(blocks[i], SMALL, i);
    }
}

static void release(void)
{
    size_t bad = 0;
    for (size_t i = 0; i < MANY; i++) {
        bad += find_pattern_error(blocks[i], SMALL, i) != (size_t)-1;
        free(blocks[i]);
    }
    CHECKF(bad == 0, "%zu blocks lost their pattern", bad);
}

static void *grow_free_exit(void *arg)
{
    (void)arg;
    worker_arena = arena_stat_own_arena();
    grow();
    release();
    return NULL;
}

static void *grow_exit(void *arg)
{
    (void)arg;
    worker_arena = arena_stat_own_arena();
    grow();
    return NULL;
}

static void check_bound(const char *what)
{
    uint64_t dirty = arena_stat(worker_arena, "dirty"), active = arena_stat(worker_arena, "active");
    CHECKF(dirty <= FLOOR + active / 2, "%s: arena %u keeps %llu bytes dirty (%llu active, bound %llu)", what,
           worker_arena, (unsigned long long)dirty, (unsigned long long)active,
           (unsigned long long)(FLOOR + active / 2));
}

int main(void)
{
    int64_t decay = 0;
    size_t len = sizeof decay;
    REQUIRE(sc_ctl("opt.dirty_decay_ms", &decay, &len, NULL, 0) == 0);
    if (decay < 0) SKIP("dirty_decay_ms < 0 keeps dirty pages by request");
    blocks = mmap(NULL, MANY * sizeof *blocks, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(blocks != MAP_FAILED);
    /* The main thread's arena is not the workers': least-loaded binding
     * gives each new thread an arena without threads. */
    unsigned own = arena_stat_own_arena();

    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, grow_free_exit, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(worker_arena != own);
    check_bound("a thread that freed its 16 MiB and exited");

    REQUIRE(pthread_create(&t, NULL, grow_exit, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(worker_arena != own);
    uint64_t held = arena_stat(worker_arena, "active");
    CHECKF(held >= (uint64_t)MANY * SMALL, "16 MiB live, %llu bytes active", (unsigned long long)held);
    release();
    CHECK(sc_ctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0); /* the remote stacks too */
    check_bound("16 MiB freed by another thread into an arena without threads");
    CHECK(sc_heap_check() == 0);
    return harness_summary();
}
