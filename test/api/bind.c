/*
 * bind.c: threads that start together get arenas of their own while there
 * are arenas to spare (bind:least, the default). Rounds of threads, one
 * fewer than the arenas, are released by a barrier into their first
 * malloc; each reads its arena (thread.arena). No two threads of a round,
 * nor a thread and the main thread, may share one: two threads that saw
 * the same empty arena used to take it both, and their first small blocks
 * then shared a cache line (bench/falseshare).
 */
#include "../harness.h"
#include <pthread.h>
#include <stdbool.h>

enum { ROUNDS = 500, MAX_THREADS = 7 };

static pthread_barrier_t start;
static unsigned got[MAX_THREADS];

static void *first_malloc(void *arg)
{
    unsigned *slot = arg;
    pthread_barrier_wait(&start);
    void *p = malloc(16);
    REQUIRE(p);
    size_t len = sizeof *slot;
    REQUIRE(sc_ctl("thread.arena", slot, &len, NULL, 0) == 0);
    free(p);
    pthread_barrier_wait(&start); /* all bound before any exits (and unbinds) */
    return NULL;
}

int main(void)
{
    void *mine = malloc(16); /* the main thread binds first */
    REQUIRE(mine);
    unsigned narenas = 0, main_arena = 0;
    size_t len = sizeof narenas;
    REQUIRE(sc_ctl("arenas.narenas", &narenas, &len, NULL, 0) == 0);
    len = sizeof main_arena;
    REQUIRE(sc_ctl("thread.arena", &main_arena, &len, NULL, 0) == 0);
    if (narenas < 3) SKIP("%u arenas: too few for two threads of their own", narenas);
    unsigned nthreads = narenas - 1 < MAX_THREADS ? narenas - 1 : MAX_THREADS;

    int shared_rounds = 0;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t t[MAX_THREADS];
        REQUIRE(pthread_barrier_init(&start, NULL, nthreads) == 0);
        for (unsigned i = 0; i < nthreads; i++) REQUIRE(pthread_create(&t[i], NULL, first_malloc, &got[i]) == 0);
        for (unsigned i = 0; i < nthreads; i++) REQUIRE(pthread_join(t[i], NULL) == 0);
        pthread_barrier_destroy(&start);
        bool shared = false;
        for (unsigned i = 0; i < nthreads; i++) {
            shared |= got[i] == main_arena;
            for (unsigned j = 0; j < i; j++) shared |= got[i] == got[j];
        }
        if (shared && shared_rounds++ == 0) {
            char line[256];
            int n = snprintf(line, sizeof line, "round %d: main thread on arena %u, threads on", r, main_arena);
            for (unsigned i = 0; i < nthreads && n < (int)sizeof line; i++)
                n += snprintf(line + n, sizeof line - (size_t)n, " %u", got[i]);
            fprintf(stderr, "%s\n", line);
        }
    }
    CHECKF(shared_rounds == 0, "%d of %d rounds of %u threads started together shared an arena", shared_rounds,
           ROUNDS, nthreads);
    free(mine);
    return harness_summary();
}
