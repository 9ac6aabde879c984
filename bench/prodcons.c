/*
 * prodcons: P producer threads only allocate, C consumer threads only
 * check and free what they receive. Every block is freed by a thread
 * other than the one that allocated it.
 *
 *   prodcons [-p producers] [-c consumers] [-n blocks per producer]
 *            [-m min] [-M max] [-q queue capacity in batches] [-s seed]
 *     defaults: -p 2 -c 2 -n 2000000 -m 8 -M 512 -q 64 -s 1
 *
 * Blocks travel in batches of 64 (the batch record itself is malloc'ed by
 * the producer and freed by the consumer) through one bounded queue per
 * consumer (mutex + condition variables); producer i sends its batches
 * round-robin to the consumers, starting at consumer i mod C.
 * ops = P * n blocks allocated and freed.
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>

typedef struct { void *p; uint32_t size; uint32_t tag; } obj_t;
enum { BATCH = 64 };
typedef struct { int n; obj_t o[BATCH]; } batch_t;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    batch_t **ring;
    long head, tail, cap;
    char pad[64];
} queue_t;

static long np = 2, nc = 2, nblocks = 2000000, min = 8, max = 512, qcap = 64, seed = 1;
static queue_t *queues;
static pthread_barrier_t start_bar;

static void q_put(queue_t *q, batch_t *b)
{
    pthread_mutex_lock(&q->mu);
    while (q->tail - q->head == q->cap) pthread_cond_wait(&q->not_full, &q->mu);
    q->ring[q->tail++ % q->cap] = b;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

static batch_t *q_get(queue_t *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->tail == q->head) pthread_cond_wait(&q->not_empty, &q->mu);
    batch_t *b = q->ring[q->head++ % q->cap];
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    return b;
}

static void *producer(void *arg)
{
    long self = (long)(intptr_t)arg;
    rng_t r;
    rng_seed(&r, (uint64_t)seed * 7919u + (uint64_t)self);
    uint32_t tag = (uint32_t)self << 26;
    long dest = self % nc;
    pthread_barrier_wait(&start_bar);
    for (long done = 0; done < nblocks; ) {
        batch_t *b = xmalloc(sizeof *b);
        int n = nblocks - done < BATCH ? (int)(nblocks - done) : BATCH;
        for (int i = 0; i < n; i++) {
            uint32_t sz = (uint32_t)rng_range(&r, (uint64_t)min, (uint64_t)max);
            void *p = xmalloc(sz);
            fill_block(p, sz, ++tag);
            b->o[i].p = p; b->o[i].size = sz; b->o[i].tag = tag;
        }
        b->n = n;
        done += n;
        q_put(&queues[dest], b);
        dest = (dest + 1) % nc;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    queue_t *q = &queues[(intptr_t)arg];
    pthread_barrier_wait(&start_bar);
    for (;;) {
        batch_t *b = q_get(q);
        if (!b) break;                       /* every producer is done */
        for (int i = 0; i < b->n; i++) {
            check_block(b->o[i].p, b->o[i].size, b->o[i].tag);
            free(b->o[i].p);
        }
        free(b);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "prodcons";
    while ((c = getopt(argc, argv, "p:c:n:m:M:q:s:")) != -1) {
        switch (c) {
        case 'p': OPT_NUM(np); break;
        case 'c': OPT_NUM(nc); break;
        case 'n': OPT_NUM(nblocks); break;
        case 'm': OPT_NUM(min); break;
        case 'M': OPT_NUM(max); break;
        case 'q': OPT_NUM(qcap); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: prodcons [-p producers] [-c consumers] [-n blocks] [-m min] [-M max] [-q cap] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (np < 1 || nc < 1 || min < 1 || max < min || qcap < 1) { fprintf(stderr, "prodcons: bad arguments\n"); return EXIT_USAGE; }
    queues = xmalloc(sizeof *queues * (size_t)nc);
    for (long i = 0; i < nc; i++) {
        pthread_mutex_init(&queues[i].mu, NULL);
        pthread_cond_init(&queues[i].not_empty, NULL);
        pthread_cond_init(&queues[i].not_full, NULL);
        queues[i].ring = xmalloc(sizeof(batch_t *) * (size_t)qcap);
        queues[i].head = queues[i].tail = 0;
        queues[i].cap = qcap;
    }
    pthread_barrier_init(&start_bar, NULL, (unsigned)(np + nc + 1));
    pthread_t *pt = xmalloc(sizeof *pt * (size_t)np), *ct = xmalloc(sizeof *ct * (size_t)nc);
    for (long i = 0; i < np; i++) if (pthread_create(&pt[i], NULL, producer, (void *)(intptr_t)i)) DIE(1, "pthread_create");
    for (long i = 0; i < nc; i++) if (pthread_create(&ct[i], NULL, consumer, (void *)(intptr_t)i)) DIE(1, "pthread_create");
    pthread_barrier_wait(&start_bar);
    double t0 = now_sec();
    for (long i = 0; i < np; i++) pthread_join(pt[i], NULL);
    for (long i = 0; i < nc; i++) q_put(&queues[i], NULL);
    for (long i = 0; i < nc; i++) pthread_join(ct[i], NULL);
    double t1 = now_sec();
    for (long i = 0; i < nc; i++) free(queues[i].ring);
    free(queues); free(pt); free(ct);

    char extra[96];
    snprintf(extra, sizeof extra, "producers=%ld consumers=%ld", np, nc);
    print_result("prodcons", (double)np * (double)nblocks, t1 - t0, extra);
    return 0;
}
