/*
 * churn.c: 3200 short-lived threads, four alive at a time, each allocating
 * and freeing ~100 blocks (and leaving a few for the next generation to
 * free). A thread's exit must hand its cached regions back: RSS may not
 * grow by more than 64 MiB over the baseline taken after the first
 * generation, stats.allocated must be back at its baseline once all is
 * freed, and the heap checks clean.
 *
 * SCTEST: variants=release,debug,ubsan timeout=180
 */
#include "../harness.h"
#include <pthread.h>

enum { TOTAL = 3200, AT_ONCE = 4, BLOCKS = 100, LEFT = 4 };

typedef struct {
    int id;
    char *inherit[LEFT]; /* blocks from the previous thread of this lane */
    size_t inherit_n[LEFT];
    char *leave[LEFT];   /* blocks for the next one */
    size_t leave_n[LEFT];
    int errors;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    uint64_t rng = 7 + j->id;
    for (int k = 0; k < LEFT; k++)
        if (j->inherit[k]) {
            if (!PATTERN_OK(j->inherit[k], j->inherit_n[k], (uintptr_t)j->inherit[k]))
                j->errors++;
            free(j->inherit[k]);
        }
    char *p[BLOCKS];
    size_t n[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        uint64_t r = rng_next(&rng);
        n[i] = (r % 50 == 0) ? 4096 + r % (256 << 10) : 1 + r % 1000;
        p[i] = malloc(n[i]);
        if (!p[i]) {
            j->errors++;
            n[i] = 0;
            continue;
        }
        fill_pattern(p[i], n[i], (uintptr_t)p[i]);
    }
    for (int i = 0; i < BLOCKS; i++) {
        if (!p[i])
            continue;
        if (!PATTERN_OK(p[i], n[i], (uintptr_t)p[i]))
            j->errors++;
        if (i < LEFT) {
            j->leave[i] = p[i];
            j->leave_n[i] = n[i];
        } else {
            free(p[i]);
        }
    }
    return NULL;
}

static job_t lanes[AT_ONCE];
static int errors;

/* Runs `count` threads, AT_ONCE at a time, each lane passing its leftover
 * blocks to its next thread. */
static void run_generations(int first, int count)
{
    for (int g = 0; g < count / AT_ONCE; g++) {
        pthread_t t[AT_ONCE];
        for (int l = 0; l < AT_ONCE; l++) {
            job_t *j = &lanes[l];
            memcpy(j->inherit, j->leave, sizeof j->leave);
            memcpy(j->inherit_n, j->leave_n, sizeof j->leave_n);
            memset(j->leave, 0, sizeof j->leave);
            j->id = first + g * AT_ONCE + l;
            REQUIRE(pthread_create(&t[l], NULL, worker, j) == 0);
        }
        for (int l = 0; l < AT_ONCE; l++) {
            pthread_join(t[l], NULL);
            errors += lanes[l].errors;
            lanes[l].errors = 0;
        }
    }
}

/* Frees (after checking) the blocks the last generation left behind. */
static void free_leftovers(void)
{
    for (int l = 0; l < AT_ONCE; l++)
        for (int k = 0; k < LEFT; k++) {
            char *q = lanes[l].leave[k];
            if (q && !PATTERN_OK(q, lanes[l].leave_n[k], (uintptr_t)q))
                errors++;
            free(q);
            lanes[l].leave[k] = NULL;
        }
}

int main(void)
{
    /* a few generations first: glibc's stack cache (which keeps each
     * stack's TLS, allocated with malloc) and the allocator's arenas exist
     * before the baseline */
    harness_watchdog(150, "3200 short-lived threads");
    run_generations(0, AT_ONCE * 4);
    free_leftovers();
    size_t rss0 = rss_bytes();
    size_t live0 = live_bytes();
    double start = now_seconds();

    run_generations(AT_ONCE * 4, TOTAL);
    double took = now_seconds() - start;
    size_t rss1 = rss_bytes();
    free_leftovers();
    size_t live1 = live_bytes();

    CHECKF(rss1 <= rss0 + ((size_t)64 << 20), "RSS grew from %zu to %zu MiB over %d threads",
           rss0 >> 20, rss1 >> 20, TOTAL);
    CHECKF(live1 == live0, "stats.allocated %zu before, %zu after %d threads that freed "
           "everything (%+ld bytes): exited threads' memory was not returned", live0, live1,
           TOTAL, (long)(live1 - live0));
    CHECKF(errors == 0, "%d damaged blocks or failed allocations", errors);
    size_t problems = sc_heap_check();
    CHECKF(problems == 0, "sc_heap_check found %zu problems", problems);
    fprintf(stderr, "%d threads in %.1f s; RSS %zu -> %zu MiB; allocated %zu -> %zu\n", TOTAL,
            took, rss0 >> 20, rss1 >> 20, live0, live1);
    return harness_summary();
}
