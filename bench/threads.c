/*
 * threads: thread churn. Many short-lived threads, each allocating and
 * freeing a few hundred blocks, then exiting; a share of each thread's
 * blocks outlives it and is freed by a thread of the next wave (so
 * thread-exit clean-up and frees of an exited thread's blocks are hit).
 *
 *   threads [-n total threads] [-t threads at a time] [-b blocks per thread]
 *           [-m min] [-M max] [-l left over per thread] [-s seed]
 *     defaults: -n 4000 -t 4 -b 400 -m 8 -M 2048 -l 16 -s 1
 *
 * Threads start in waves of t and are joined before the next wave.
 * ops = threads created.
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>

typedef struct { void *p; uint32_t size; uint32_t tag; } obj_t;

static long total = 4000, conc = 4, nblocks = 400, min = 8, max = 2048, left = 16, seed = 1;
static obj_t *handoff;        /* [conc][left]: written by wave w, freed by wave w + 1 */

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg, slot = id % conc;
    rng_t r;
    rng_seed(&r, (uint64_t)seed * 65537u + (uint64_t)id);
    obj_t *o = xmalloc(sizeof *o * (size_t)nblocks);
    uint32_t tag = (uint32_t)id << 12;
    /* free what the previous thread of this slot left behind */
    for (long j = 0; j < left; j++) {
        obj_t *h = &handoff[slot * left + j];
        if (h->p) { check_block(h->p, h->size, h->tag); free(h->p); h->p = NULL; }
    }
    for (long j = 0; j < nblocks; j++) {
        uint32_t sz = (uint32_t)rng_logrange(&r, (uint64_t)min, (uint64_t)max);
        o[j].p = xmalloc(sz); o[j].size = sz; o[j].tag = ++tag;
        fill_block(o[j].p, sz, tag);
    }
    /* free in random order, except the first `left` blocks, handed over */
    for (long j = nblocks - 1; j > left; j--) {
        long x = left + (long)rng_below(&r, (uint64_t)(j - left + 1));
        obj_t tmp = o[j]; o[j] = o[x]; o[x] = tmp;
    }
    for (long j = left; j < nblocks; j++) { check_block(o[j].p, o[j].size, o[j].tag); free(o[j].p); }
    for (long j = 0; j < left && j < nblocks; j++) handoff[slot * left + j] = o[j];
    free(o);
    return NULL;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "threads";
    while ((c = getopt(argc, argv, "n:t:b:m:M:l:s:")) != -1) {
        switch (c) {
        case 'n': OPT_NUM(total); break;
        case 't': OPT_NUM(conc); break;
        case 'b': OPT_NUM(nblocks); break;
        case 'm': OPT_NUM(min); break;
        case 'M': OPT_NUM(max); break;
        case 'l': OPT_NUM(left); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: threads [-n total] [-t concurrent] [-b blocks] [-m min] [-M max] [-l left] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (total < 1 || conc < 1 || nblocks < 1 || min < 1 || max < min || left < 0 || left > nblocks) {
        fprintf(stderr, "threads: bad arguments\n"); return EXIT_USAGE;
    }
    handoff = calloc((size_t)(conc * (left ? left : 1)), sizeof *handoff);
    if (!handoff) DIE(EXIT_NOMEM, "handoff");
    pthread_t *th = xmalloc(sizeof *th * (size_t)conc);
    double t0 = now_sec();
    for (long started = 0; started < total; ) {
        long w = total - started < conc ? total - started : conc;
        for (long i = 0; i < w; i++)
            if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)(started + i))) DIE(1, "pthread_create");
        for (long i = 0; i < w; i++) pthread_join(th[i], NULL);
        started += w;
    }
    for (long j = 0; j < conc * left; j++)
        if (handoff[j].p) { check_block(handoff[j].p, handoff[j].size, handoff[j].tag); free(handoff[j].p); }
    double t1 = now_sec();
    free(th); free(handoff);
    char extra[96];
    snprintf(extra, sizeof extra, "concurrent=%ld blocks_per_thread=%ld rss_end_kb=%ld", conc, nblocks, rss_kb());
    print_result("threads", (double)total, t1 - t0, extra);
    return 0;
}
