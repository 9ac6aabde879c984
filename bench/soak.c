/*
 * soak: a long-running server-like load whose live heap is stable, to show
 * whether RSS levels off or creeps up (fragmentation, caches that never
 * give back). T threads each own a table of slots and replace random ones;
 * sizes are mostly 16 B..4 KiB with some 64 KiB..1 MiB, and the size mix
 * shifts every phase (so freed memory must be reused for other sizes);
 * 10% of new blocks are freed by the next thread. Every second the main
 * thread prints "sample t=SECONDS rss_kb=N".
 *
 *   soak [-t threads] [-k slots per thread] [-d seconds] [-p phase seconds]
 *     defaults: -t 4 -k 20000 -d 600 -p 30
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct { uint64_t *p; size_t words; uint64_t tag; } blk_t;

static long nthreads = 4, nslots = 20000, duration = 600, phase_secs = 30;
static _Atomic int stop;
static _Atomic long phase;
static _Atomic long ops_done;

typedef struct {
    pthread_mutex_t lock;
    blk_t box[256];
    int n;
} inbox_t;
static inbox_t *inbox;

static size_t pick(rng_t *r)
{
    long ph = atomic_load_explicit(&phase, memory_order_relaxed);
    uint64_t x = rng_below(r, 1000);
    if (x < 3) return (size_t)rng_range(r, 64 << 10, 1 << 20);
    /* the small sizes' range moves with the phase */
    size_t lo = 16 << (ph % 4), hi = 512 << (ph % 4);
    return (size_t)rng_range(r, lo, hi);
}

static void put(blk_t *b, size_t size, rng_t *r)
{
    b->words = (size + 7) / 8;
    b->p = malloc(b->words * 8);
    if (!b->p) DIE(EXIT_NOMEM, "malloc(%zu) returned NULL", size);
    b->tag = rng_next(r);
    b->p[0] = b->tag;
    b->p[b->words - 1] = ~b->tag;
}

static void drop(blk_t *b)
{
    if (b->p[0] != b->tag || b->p[b->words - 1] != ~b->tag)
        DIE(EXIT_CORRUPT, "block %p of %zu words changed", (void *)b->p, b->words);
    free(b->p);
    b->p = NULL;
}

static void *worker(void *arg)
{
    long self = (long)(intptr_t)arg;
    rng_t r;
    rng_seed(&r, (uint64_t)self + 1);
    blk_t *slot = calloc((size_t)nslots, sizeof(blk_t));
    if (!slot) DIE(EXIT_NOMEM, "calloc");
    for (long i = 0; i < nslots; i++) put(&slot[i], pick(&r), &r);
    long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        long i = (long)rng_below(&r, (uint64_t)nslots);
        if (rng_below(&r, 10) == 0) {
            inbox_t *to = &inbox[(self + 1) % nthreads];
            pthread_mutex_lock(&to->lock);
            int full = to->n == 256;
            if (!full) to->box[to->n++] = slot[i];
            pthread_mutex_unlock(&to->lock);
            if (full) drop(&slot[i]);
        } else {
            drop(&slot[i]);
        }
        put(&slot[i], pick(&r), &r);
        if (++n % 256 == 0) {
            inbox_t *me = &inbox[self];
            pthread_mutex_lock(&me->lock);
            for (int k = 0; k < me->n; k++) drop(&me->box[k]);
            me->n = 0;
            pthread_mutex_unlock(&me->lock);
            atomic_fetch_add_explicit(&ops_done, 256, memory_order_relaxed);
        }
    }
    for (long i = 0; i < nslots; i++) drop(&slot[i]);
    free(slot);
    return NULL;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "soak";
    while ((c = getopt(argc, argv, "t:k:d:p:")) != -1) {
        switch (c) {
        case 't': OPT_NUM(nthreads); break;
        case 'k': OPT_NUM(nslots); break;
        case 'd': OPT_NUM(duration); break;
        case 'p': OPT_NUM(phase_secs); break;
        default: fprintf(stderr, "usage: soak [-t threads] [-k slots] [-d seconds] [-p phase seconds]\n"); return EXIT_USAGE;
        }
    }
    if (nthreads < 1 || nslots < 1 || duration < 1 || phase_secs < 1) { fprintf(stderr, "soak: bad arguments\n"); return EXIT_USAGE; }
    inbox = calloc((size_t)nthreads, sizeof(inbox_t));
    pthread_t *th = calloc((size_t)nthreads, sizeof(pthread_t));
    if (!inbox || !th) DIE(EXIT_NOMEM, "calloc");
    for (long i = 0; i < nthreads; i++) pthread_mutex_init(&inbox[i].lock, NULL);
    double t0 = now_sec();
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i)) DIE(1, "pthread_create");
    for (long s = 1; s <= duration; s++) {
        while (now_sec() - t0 < (double)s) usleep(20000);
        atomic_store(&phase, s / phase_secs);
        printf("sample t=%ld rss_kb=%ld ops=%ld\n", s, rss_kb(), atomic_load(&ops_done));
        fflush(stdout);
    }
    atomic_store(&stop, 1);
    for (long i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    for (long i = 0; i < nthreads; i++)
        for (int k = 0; k < inbox[i].n; k++) drop(&inbox[i].box[k]);
    double t1 = now_sec();
    char extra[96];
    snprintf(extra, sizeof extra, "threads=%ld rss_end_kb=%ld", nthreads, rss_kb());
    print_result("soak", (double)atomic_load(&ops_done), t1 - t0, extra);
    free(th);
    free(inbox);
    return 0;
}
