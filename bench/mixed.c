/*
 * mixed: many threads, high churn, sizes from 8 B to 64 KiB (log-uniform,
 * so every doubling is as likely as the next) and a few large blocks.
 *
 *   mixed [-t threads] [-n ops per thread] [-k slots per thread]
 *         [-M max small size] [-l large per mille] [-L large min]
 *         [-H large max] [-s seed]
 *     defaults: -t 4 -n 200000 -k 2000 -M 64k -l 10 -L 256k -H 1m -s 1
 *
 * Each operation replaces a random slot of the thread's table: check and
 * free the old block, malloc a new one and write all of it. -l 10 means
 * 1% of the new blocks are large (log-uniform in [L, H]).
 * ops = T * n replacements.
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>

typedef struct { void *p; uint32_t size; uint32_t tag; } obj_t;

static long nthreads = 4, ops = 200000, nslots = 2000, maxsmall = 65536, large_pm = 10,
            large_min = 256 * 1024, large_max = 1024 * 1024, seed = 1;
static pthread_barrier_t start_bar;

static inline uint32_t pick_size(rng_t *r)
{
    if ((long)rng_below(r, 1000) < large_pm)
        return (uint32_t)rng_logrange(r, (uint64_t)large_min, (uint64_t)large_max);
    return (uint32_t)rng_logrange(r, 8, (uint64_t)maxsmall);
}

static void *worker(void *arg)
{
    long self = (long)(intptr_t)arg;
    rng_t r;
    rng_seed(&r, (uint64_t)seed * 31337u + (uint64_t)self);
    obj_t *t = calloc((size_t)nslots, sizeof *t);
    if (!t) DIE(EXIT_NOMEM, "table");
    uint32_t tag = (uint32_t)self << 26;
    for (long k = 0; k < nslots; k++) {
        uint32_t n = pick_size(&r);
        t[k].p = xmalloc(n); t[k].size = n; t[k].tag = ++tag;
        fill_block(t[k].p, n, tag);
    }
    pthread_barrier_wait(&start_bar);
    for (long i = 0; i < ops; i++) {
        obj_t *s = &t[rng_below(&r, (uint64_t)nslots)];
        check_block(s->p, s->size, s->tag);
        free(s->p);
        uint32_t n = pick_size(&r);
        s->p = xmalloc(n); s->size = n; s->tag = ++tag;
        fill_block(s->p, n, tag);
    }
    for (long k = 0; k < nslots; k++) { check_block(t[k].p, t[k].size, t[k].tag); free(t[k].p); }
    free(t);
    return NULL;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "mixed";
    while ((c = getopt(argc, argv, "t:n:k:M:l:L:H:s:")) != -1) {
        switch (c) {
        case 't': OPT_NUM(nthreads); break;
        case 'n': OPT_NUM(ops); break;
        case 'k': OPT_NUM(nslots); break;
        case 'M': OPT_NUM(maxsmall); break;
        case 'l': OPT_NUM(large_pm); break;
        case 'L': OPT_NUM(large_min); break;
        case 'H': OPT_NUM(large_max); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: mixed [-t threads] [-n ops] [-k slots] [-M maxsmall] [-l large/1000] [-L lmin] [-H lmax] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (nthreads < 1 || nslots < 1 || maxsmall < 8 || large_min < 1 || large_max < large_min || large_max > (1L << 31)) {
        fprintf(stderr, "mixed: bad arguments\n"); return EXIT_USAGE;
    }
    pthread_barrier_init(&start_bar, NULL, (unsigned)nthreads + 1);
    pthread_t *th = xmalloc(sizeof *th * (size_t)nthreads);
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i)) DIE(1, "pthread_create");
    pthread_barrier_wait(&start_bar);
    double t0 = now_sec();
    for (long i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    double t1 = now_sec();
    free(th);
    char extra[64];
    snprintf(extra, sizeof extra, "threads=%ld", nthreads);
    print_result("mixed", (double)nthreads * (double)ops, t1 - t0, extra);
    return 0;
}
