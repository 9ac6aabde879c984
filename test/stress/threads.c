/*
 * threads.c: 16 threads (more than the cores, so locks are contended and
 * threads preempted inside the allocator) allocate and free random sizes
 * from 1 byte to 1 MiB, skewed towards small ones. Every block carries a
 * pattern derived from (thread, sequence number), checked before it is
 * freed. About a third of the blocks go through a shared exchange queue
 * and are freed by another thread; some are reallocated (prefix checked)
 * or come from calloc (checked zero) or memalign (checked aligned).
 * At the end: sc_heap_check() == 0, and stats.allocated is back to the
 * baseline read before the threads started.
 *
 * Runs for $SC_STRESS_SECONDS (default: 25 s on the debug build, 8 s
 * otherwise) and must complete a minimum number of operations.
 *
 * SCTEST: variants=release,debug,ubsan timeout=150
 */
#include "../harness.h"
#include <malloc.h>
#include <pthread.h>

enum { THREADS = 16, SLOTS = 512, QUEUE = 4096 };

typedef struct {
    char *p;
    size_t n;
    uint64_t seed;
} block_t;

/* The exchange: a bounded ring under a mutex. */
static struct {
    pthread_mutex_t lock;
    block_t b[QUEUE];
    unsigned head, tail; /* tail - head = occupancy */
} xq = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile int stop;
static double deadline;
static unsigned long total_ops, total_remote, total_errors;

static int xq_push(block_t b)
{
    int ok = 0;
    pthread_mutex_lock(&xq.lock);
    if (xq.tail - xq.head < QUEUE) {
        xq.b[xq.tail++ % QUEUE] = b;
        ok = 1;
    }
    pthread_mutex_unlock(&xq.lock);
    return ok;
}

static int xq_pop(block_t *b)
{
    int ok = 0;
    pthread_mutex_lock(&xq.lock);
    if (xq.tail != xq.head) {
        *b = xq.b[xq.head++ % QUEUE];
        ok = 1;
    }
    pthread_mutex_unlock(&xq.lock);
    return ok;
}

/* 1 B .. 1 MiB, skewed: most under 256 B, some pages, few large. */
static size_t random_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    unsigned pick = r % 1000;
    r >>= 10;
    if (pick < 700)
        return 1 + r % 256;
    if (pick < 900)
        return 1 + r % 4096;
    if (pick < 980)
        return 1 + r % (64 << 10);
    return 1 + r % (1 << 20);
}

static unsigned long check_block(const block_t *b, int tid)
{
    size_t bad = find_pattern_error(b->p, b->n, b->seed);
    if (bad == (size_t)-1)
        return 0;
    fprintf(stderr, "thread %d: block %p of %zu bytes (seed %#llx) damaged at offset %zu\n",
            tid, (void *)b->p, b->n, (unsigned long long)b->seed, bad);
    return 1;
}

static void *worker(void *arg)
{
    int tid = (int)(intptr_t)arg;
    uint64_t rng = 0x1234567ull * (tid + 1);
    uint64_t seq = 0;
    block_t slot[SLOTS] = { { 0 } };
    unsigned long ops = 0, remote = 0, errors = 0;

    while (!stop) {
        for (int burst = 0; burst < 256; burst++) {
            int i = (int)(rng_next(&rng) % SLOTS);
            block_t *b = &slot[i];
            if (b->p) {
                errors += check_block(b, tid);
                uint64_t r = rng_next(&rng);
                if (r % 3 == 0 && xq_push(*b)) {
                    b->p = NULL; /* another thread frees it */
                } else if (r % 11 == 1) {
                    size_t nn = random_size(&rng);
                    char *q = realloc(b->p, nn);
                    if (!q) {
                        errors++;
                        free(b->p);
                    } else {
                        block_t nb = { q, b->n < nn ? b->n : nn, b->seed };
                        errors += check_block(&nb, tid);
                        free(q);
                    }
                    b->p = NULL;
                } else {
                    free(b->p);
                    b->p = NULL;
                }
            } else {
                uint64_t r = rng_next(&rng);
                size_t n = random_size(&rng);
                unsigned kind = r % 16;
                if (kind == 0) {
                    b->p = calloc(1, n);
                    if (b->p && find_byte_not(b->p, n, 0) != (size_t)-1) {
                        fprintf(stderr, "thread %d: calloc(1, %zu) not zeroed\n", tid, n);
                        errors++;
                    }
                } else if (kind == 1) {
                    size_t align = (size_t)16 << (r >> 8) % 9; /* 16 .. 4096 */
                    b->p = memalign(align, n);
                    if (b->p && !is_aligned(b->p, align)) {
                        fprintf(stderr, "thread %d: memalign(%zu) = %p\n", tid, align,
                                (void *)b->p);
                        errors++;
                    }
                } else {
                    b->p = malloc(n);
                }
                if (!b->p) {
                    fprintf(stderr, "thread %d: allocation of %zu bytes failed\n", tid, n);
                    errors++;
                    continue;
                }
                b->n = n;
                b->seed = ((uint64_t)tid << 48) ^ ++seq;
                fill_pattern(b->p, n, b->seed);
            }
            /* free what others queued, after checking it */
            block_t got;
            if ((ops & 1) && xq_pop(&got)) {
                errors += check_block(&got, tid);
                free(got.p);
                remote++;
            }
            ops++;
        }
        if (now_seconds() > deadline)
            stop = 1;
    }
    for (int i = 0; i < SLOTS; i++)
        if (slot[i].p) {
            errors += check_block(&slot[i], tid);
            free(slot[i].p);
        }
    __atomic_add_fetch(&total_ops, ops, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_remote, remote, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_errors, errors, __ATOMIC_RELAXED);
    return NULL;
}

static void *warm_thread(void *arg)
{
    (void)arg;
    free(malloc(64));
    return NULL;
}

int main(void)
{
    const char *env = getenv("SC_STRESS_SECONDS");
    double seconds = env ? atof(env) : (!strcmp(test_variant(), "debug") ? 25 : 8);

    /* Start and join THREADS threads once first: glibc caches thread stacks
     * together with their TLS (allocated with malloc), so the measured
     * threads reuse them and only the allocator's own bookkeeping can move
     * stats.allocated. */
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, warm_thread, NULL) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    harness_watchdog((unsigned)seconds + 60, "16 threads of malloc and free");
    size_t baseline = live_bytes();
    double start = now_seconds();
    deadline = start + seconds;
    for (int i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    double took = now_seconds() - start;

    block_t b;
    unsigned long left = 0;
    while (xq_pop(&b)) {
        total_errors += check_block(&b, -1);
        free(b.p);
        left++;
    }

    size_t problems = sc_heap_check();
    CHECKF(problems == 0, "sc_heap_check found %zu problems", problems);
    size_t after = live_bytes();
    CHECKF(after == baseline, "stats.allocated %zu before the threads, %zu after all was freed "
           "(%+ld bytes)", baseline, after, (long)(after - baseline));
    CHECKF(total_errors == 0, "%lu damaged blocks or failed allocations", total_errors);
    unsigned long min_ops = (unsigned long)(20000 * seconds);
    CHECKF(total_ops >= min_ops, "only %lu operations in %.1f s (want >= %lu)", total_ops, took,
           min_ops);
    CHECKF(total_remote > total_ops / 20, "only %lu of %lu blocks were freed by another thread",
           total_remote, total_ops);
    fprintf(stderr, "%d threads, %.1f s: %lu operations, %lu remote frees, %lu left in the "
            "queue\n", THREADS, took, total_ops, total_remote, left);
    return harness_summary();
}
