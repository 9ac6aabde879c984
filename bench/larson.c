/*
 * larson: a server-like load after Larson & Krishnan. T threads each keep
 * a table of live objects and replace random ones with new blocks of
 * random size; a share of the new blocks is handed to another thread,
 * which checks and frees them (cross-thread frees).
 *
 *   larson [-t threads] [-n ops per thread] [-k slots per thread]
 *          [-m min] [-M max] [-r remote percent] [-s seed]
 *     defaults: -t 4 -n 1000000 -k 10000 -m 8 -M 1000 -r 10 -s 1
 *
 * ops = T * n replacements in total. Blocks handed over travel in
 * batches of 64 (a malloc'ed batch record pushed on the receiver's
 * lock-free inbox), so the hand-over costs the allocator, not a lock.
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct { void *p; uint32_t size; uint32_t tag; } obj_t;

enum { BATCH = 64 };
typedef struct batch {
    struct batch *next;
    int n;
    obj_t o[BATCH];
} batch_t;

typedef struct {
    _Alignas(64) _Atomic(batch_t *) inbox;
    char pad[64 - sizeof(void *)];
} inbox_t;

static long nthreads = 4, ops = 1000000, nslots = 10000, min = 8, max = 1000, remote = 10, seed = 1;
static inbox_t *inboxes;
static pthread_barrier_t start_bar, end_bar;
static _Atomic long remote_freed;
static _Atomic long finished;   /* threads past their last operation */

static void drain(int self)
{
    batch_t *b = atomic_exchange_explicit(&inboxes[self].inbox, NULL, memory_order_acquire);
    long n = 0;
    while (b) {
        batch_t *next = b->next;
        for (int i = 0; i < b->n; i++) {
            check_block(b->o[i].p, b->o[i].size, b->o[i].tag);
            free(b->o[i].p);
        }
        n += b->n;
        free(b);
        b = next;
    }
    if (n) atomic_fetch_add_explicit(&remote_freed, n, memory_order_relaxed);
}

static void push(int dest, batch_t *b)
{
    batch_t *head = atomic_load_explicit(&inboxes[dest].inbox, memory_order_relaxed);
    do b->next = head;
    while (!atomic_compare_exchange_weak_explicit(&inboxes[dest].inbox, &head, b,
                                                  memory_order_release, memory_order_relaxed));
}

static void *worker(void *arg)
{
    int self = (int)(intptr_t)arg;
    rng_t r;
    rng_seed(&r, (uint64_t)seed * 1000003u + (uint64_t)self);
    obj_t *t = calloc((size_t)nslots, sizeof *t);
    if (!t) DIE(EXIT_NOMEM, "table");
    uint32_t tag = (uint32_t)self << 26;
    uint64_t remote_thr = (uint64_t)remote * ((1ULL << 32) / 100);
    batch_t *out = NULL;
    int dest = (self + 1) % (int)nthreads;

    /* warm the table up before the clock starts */
    for (long k = 0; k < nslots; k++) {
        uint32_t n = (uint32_t)rng_range(&r, (uint64_t)min, (uint64_t)max);
        t[k].p = xmalloc(n); t[k].size = n; t[k].tag = ++tag;
        fill_block(t[k].p, n, t[k].tag);
    }
    pthread_barrier_wait(&start_bar);

    for (long i = 0; i < ops; i++) {
        uint64_t x = rng_next(&r);
        size_t k = (size_t)(((x & 0xffffffffu) * (uint64_t)nslots) >> 32);
        obj_t *s = &t[k];
        check_block(s->p, s->size, s->tag);
        free(s->p);
        uint32_t n = (uint32_t)(min + (((x >> 32) & 0xffff) * (uint64_t)(max - min + 1) >> 16));
        void *p = xmalloc(n);
        fill_block(p, n, ++tag);
        if (nthreads > 1 && ((rng_next(&r) >> 32) < remote_thr)) {
            /* hand this one to the next thread; the slot gets a fresh block */
            if (!out) { out = xmalloc(sizeof *out); out->n = 0; }
            out->o[out->n].p = p; out->o[out->n].size = n; out->o[out->n].tag = tag;
            if (++out->n == BATCH) { push(dest, out); out = NULL; dest = (dest + 1) % (int)nthreads; if (dest == self) dest = (dest + 1) % (int)nthreads; }
            n = (uint32_t)(min + ((rng_next(&r) & 0xffff) * (uint64_t)(max - min + 1) >> 16));
            p = xmalloc(n);
            fill_block(p, n, ++tag);
        }
        s->p = p; s->size = n; s->tag = tag;
        if ((i & 255) == 0) drain(self);
    }
    if (out) push(dest, out);
    /* Keep freeing what the others still send until they are all done:
     * a thread that stopped draining at its own end let its inbox grow
     * while the slower threads ran on, so peak RSS measured how unevenly
     * the threads were scheduled (34 to 100 MiB for the same allocator). */
    atomic_fetch_add_explicit(&finished, 1, memory_order_acq_rel);
    while (atomic_load_explicit(&finished, memory_order_acquire) < nthreads) {
        drain(self);
        sched_yield();
    }
    pthread_barrier_wait(&end_bar);   /* every batch is pushed */
    drain(self);
    for (long k = 0; k < nslots; k++) { check_block(t[k].p, t[k].size, t[k].tag); free(t[k].p); }
    free(t);
    return NULL;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "larson";
    while ((c = getopt(argc, argv, "t:n:k:m:M:r:s:")) != -1) {
        switch (c) {
        case 't': OPT_NUM(nthreads); break;
        case 'n': OPT_NUM(ops); break;
        case 'k': OPT_NUM(nslots); break;
        case 'm': OPT_NUM(min); break;
        case 'M': OPT_NUM(max); break;
        case 'r': OPT_NUM(remote); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: larson [-t threads] [-n ops] [-k slots] [-m min] [-M max] [-r remote%%] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (nthreads < 1 || nslots < 1 || min < 1 || max < min || remote < 0 || remote > 100 || max > 65535 * 16) {
        fprintf(stderr, "larson: bad arguments\n"); return EXIT_USAGE;
    }
    inboxes = aligned_alloc(64, sizeof(inbox_t) * (size_t)nthreads);
    if (!inboxes) DIE(EXIT_NOMEM, "inboxes");
    for (long i = 0; i < nthreads; i++) atomic_init(&inboxes[i].inbox, NULL);
    pthread_barrier_init(&start_bar, NULL, (unsigned)nthreads + 1);
    pthread_barrier_init(&end_bar, NULL, (unsigned)nthreads);
    pthread_t *th = xmalloc(sizeof *th * (size_t)nthreads);
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i)) DIE(1, "pthread_create");
    pthread_barrier_wait(&start_bar);
    double t0 = now_sec();
    for (long i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    double t1 = now_sec();
    free(th);
    free(inboxes);

    char extra[160];
    snprintf(extra, sizeof extra, "threads=%ld remote_freed=%ld", nthreads, (long)atomic_load(&remote_freed));
    print_result("larson", (double)nthreads * (double)ops, t1 - t0, extra);
    return 0;
}
