/*
 * cancel.c: malloc and free are not cancellation points. A thread with a
 * deferred cancellation pending (pthread_cancel on itself) frees blocks
 * until its arena purges dirty pages in a batch, the path that asks the
 * kernel whether a seccomp filter is installed by reading
 * /proc/self/status. If that read went through open(2) and read(2), which
 * are cancellation points, the thread would be unwound out of free()
 * holding the arena lock: the next thread on that arena would hang.
 *
 * The thread records that free() returned before it reaches its own
 * pthread_testcancel(). Afterwards fresh threads allocate and free on
 * every arena; an alarm turns a hang into a failure.
 *
 * SCTEST: variants=release,debug timeout=120
 */
#include "../harness.h"
#include <pthread.h>
#include <time.h>
#include "arena_stat.h"

enum { BLOCKS = 96, BLOCK = 128 << 10, ALARM_S = 30 };

static volatile int frees_returned;
static unsigned victim_arena;

/* Waits by the clock: clock_gettime is not a cancellation point. */
static void spin_ms(long ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void *victim(void *arg)
{
    (void)arg;
    static void *v[BLOCKS];
    /* Large blocks, past the thread cache, side by side in the arena. */
    for (int i = 0; i < BLOCKS; i++) {
        v[i] = malloc(BLOCK);
        if (!v[i]) return NULL;
        memset(v[i], 0x5a, BLOCK);
    }
    victim_arena = arena_stat_own_arena();
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cancel(pthread_self());
    /* Every other block: separate dirty runs, so that the arena's bound
     * on dirty pages purges several of them in one batch. That bound
     * leaves runs younger than 10 ms (SC_DIRTY_MIN_AGE_MS): the thread
     * waits 50 ms, without a cancellation point, and a large malloc
     * (which reaches the arena) purges them. */
    for (int i = 0; i < BLOCKS; i += 2) free(v[i]);
    spin_ms(50);
    void *big = malloc(BLOCK);
    for (int i = 1; i < BLOCKS; i += 2) free(v[i]);
    free(big);
    void *p = malloc(100);
    free(p);
    frees_returned = 1;
    pthread_testcancel();
    return NULL;
}

static void *user(void *arg)
{
    (void)arg;
    for (int round = 0; round < 50; round++) {
        void *v[64];
        for (int i = 0; i < 64; i++) {
            size_t size = i % 8 == 0 ? BLOCK : 16 + (size_t)i * 40;
            v[i] = malloc(size);
            if (!v[i]) return (void *)1;
            memset(v[i], i, size);
        }
        for (int i = 0; i < 64; i++) free(v[i]);
    }
    return NULL;
}

int main(void)
{
    alarm(ALARM_S);
    void *keep = malloc(64); /* the main thread holds an arena of its own */
    pthread_t t;
    void *ret;
    CHECK(pthread_create(&t, NULL, victim, NULL) == 0);
    CHECK(pthread_join(t, &ret) == 0);
    CHECKF(ret == PTHREAD_CANCELED, "the victim thread was to end cancelled, got %p", ret);
    CHECKF(frees_returned, "the thread was cancelled inside malloc or free");
    /* The test means something only if a batch was purged: more than one
     * range given back in the victim's arena. */
    uint64_t nmadvise = arena_stat(victim_arena, "nmadvise");
    CHECKF(nmadvise >= 2, "arena %u: nmadvise is %llu: no batch purge happened", victim_arena, (unsigned long long)nmadvise);

    /* Threads bind to the least loaded arenas: the victim's comes first. */
    pthread_t u[8];
    for (int i = 0; i < 8; i++) CHECK(pthread_create(&u[i], NULL, user, NULL) == 0);
    for (int i = 0; i < 8; i++) {
        CHECK(pthread_join(u[i], &ret) == 0);
        CHECKF(ret == NULL, "a thread after the cancelled one could not allocate");
    }
    free(keep);
    return harness_summary();
}
