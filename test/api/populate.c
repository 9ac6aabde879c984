/*
 * populate.c: backing ahead (arena.c, slab_populate_ahead) through the
 * real library. A thread that keeps a few small blocks gets no page backed
 * ahead of use; one whose heap then grows by 16 MiB of small blocks does
 * (stats.arenas.<i>.populated), and every block keeps its pattern. Then a
 * child under a seccomp filter that refuses MADV_POPULATE_WRITE with EPERM,
 * as sandboxes that list madvise's advice values do, grows its heap the
 * same way: its blocks keep their patterns, nothing is counted as backed
 * ahead, and the heap checks clean. Unit test: unit/populate.
 */
#include "../harness.h"
#include "../stress/arena_stat.h"
#include "../seccomp_filter.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

enum { SMALL = 64, FEW = 100, MANY = (16 << 20) / SMALL };

static char **blocks;

/* n blocks of SMALL bytes, each filled with its own pattern. */
static void grow(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        blocks[i] = malloc(SMALL);
        REQUIRE(blocks[i]);
        fill_pattern(blocks[i], SMALL, i);
    }
}

static size_t release(size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += find_pattern_error(blocks[i], SMALL, i) != (size_t)-1;
        free(blocks[i]);
    }
    return bad;
}

static void *small_then_large(void *arg)
{
    (void)arg;
    unsigned arena = arena_stat_own_arena();
    uint64_t before = arena_stat(arena, "populated");
    grow(FEW);
    CHECKF(arena_stat(arena, "populated") == before, "%d blocks of %d B: %llu bytes backed ahead", FEW, SMALL,
           (unsigned long long)(arena_stat(arena, "populated") - before));
    CHECK(release(FEW) == 0);
    grow(MANY);
    /* What was backed ahead went into slabs or is still a dirty run (none
     * was purged: the heap only grew). */
    uint64_t got = arena_stat(arena, "populated") - before;
    uint64_t held = arena_stat(arena, "active") + arena_stat(arena, "dirty");
    CHECKF(got > 0 && got <= held, "16 MiB of %d B blocks: %llu bytes backed ahead, %llu active or dirty", SMALL,
           (unsigned long long)got, (unsigned long long)held);
    CHECK(release(MANY) == 0);
    return NULL;
}

/* The child's verdict as its exit status: 0 good, 1 a check failed, 77
 * no seccomp here. */
static int refused_child(void)
{
    if (!seccomp_refuse(SYS_madvise, 2, MADV_POPULATE_WRITE, SECCOMP_RET_ERRNO | EPERM)) return HARNESS_EXIT_SKIP;
    unsigned arena = arena_stat_own_arena();
    uint64_t before = arena_stat(arena, "populated");
    grow(MANY);
    uint64_t got = arena_stat(arena, "populated") - before;
    size_t bad = release(MANY);
    if (got != 0 || bad != 0 || sc_heap_check() != 0) {
        fprintf(stderr, "under the filter: %llu bytes counted as backed ahead, %zu blocks lost their pattern\n",
                (unsigned long long)got, bad);
        return 1;
    }
    return 0;
}

int main(void)
{
    blocks = malloc(sizeof *blocks * MANY);
    REQUIRE(blocks);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, small_then_large, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(sc_heap_check() == 0);

    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(refused_child());
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == HARNESS_EXIT_SKIP) SKIP("seccomp filters not available here");
    CHECKF(WEXITSTATUS(status) == 0, "the child under the filter exited with %d", WEXITSTATUS(status));
    free(blocks);
    return harness_summary();
}
