/*
 * stress_sc: scmalloc's own locking and atomics under ThreadSanitizer. The
 * library is built with SANITIZE=thread (build/tsan) and called through the
 * sc_ names, since TSan keeps its own malloc. Eight threads allocate
 * random sizes (small, large, huge), realloc, and pass a share of their
 * blocks to the next thread, which checks and frees them; the statistics
 * interface and heap check run concurrently. TSan must report nothing
 * (halt_on_error), every pattern must hold, the heap check must pass.
 */
#include "../harness.h"
#include "scmalloc.h"

#include <pthread.h>

#define THREADS 8
#define SLOTS 256
#define OPS 20000

typedef struct { unsigned char *p; size_t n; unsigned tag; } blk_t;

static pthread_mutex_t box_lock = PTHREAD_MUTEX_INITIALIZER;
static blk_t box[THREADS][64];
static int box_n[THREADS];

static void fill(blk_t *b) { for (size_t i = 0; i < b->n; i += 31) b->p[i] = (unsigned char)(b->tag + i); }
static int intact(const blk_t *b)
{
    for (size_t i = 0; i < b->n; i += 31) if (b->p[i] != (unsigned char)(b->tag + i)) return 0;
    return 1;
}

static size_t pick(unsigned *seed)
{
    unsigned r = (unsigned)rand_r(seed) % 1000;
    if (r < 800) return 1 + (size_t)rand_r(seed) % 512;
    if (r < 990) return (size_t)rand_r(seed) % (128 << 10);
    return (size_t)rand_r(seed) % (6 << 20);
}

static void drain(int self)
{
    blk_t got[64];
    pthread_mutex_lock(&box_lock);
    int n = box_n[self];
    memcpy(got, box[self], sizeof(blk_t) * (size_t)n);
    box_n[self] = 0;
    pthread_mutex_unlock(&box_lock);
    for (int i = 0; i < n; i++) {
        CHECKF(intact(&got[i]), "block %p from another thread changed", (void *)got[i].p);
        sc_free(got[i].p);
    }
}

static void *worker(void *arg)
{
    int self = (int)(intptr_t)arg;
    unsigned seed = (unsigned)self * 2654435761u + 1;
    blk_t b[SLOTS] = {{0}};
    for (int op = 0; op < OPS; op++) {
        int i = rand_r(&seed) % SLOTS;
        if (b[i].p) {
            CHECKF(intact(&b[i]), "block %p changed", (void *)b[i].p);
            int what = rand_r(&seed) % 10;
            if (what == 0) {
                size_t n = pick(&seed);
                unsigned char *q = sc_realloc(b[i].p, n ? n : 1);
                REQUIRE(q);
                b[i].p = q;
                b[i].n = n < b[i].n ? n : b[i].n;
                CHECK(intact(&b[i]));
                b[i].n = n;
                fill(&b[i]);
                continue;
            }
            if (what == 1) { /* hand it to the next thread */
                int to = (self + 1) % THREADS;
                pthread_mutex_lock(&box_lock);
                int full = box_n[to] == 64;
                if (!full) box[to][box_n[to]++] = b[i];
                pthread_mutex_unlock(&box_lock);
                if (!full) { b[i].p = NULL; continue; }
            }
            sc_free(b[i].p);
            b[i].p = NULL;
        } else {
            b[i].n = pick(&seed);
            b[i].p = sc_malloc(b[i].n);
            REQUIRE(b[i].p);
            b[i].tag = (unsigned)rand_r(&seed);
            fill(&b[i]);
        }
        if (op % 64 == 0) drain(self);
        if (op % 5000 == 0) {
            uint64_t e = 1;
            size_t v, len = sizeof(v);
            sc_ctl("epoch", NULL, NULL, &e, sizeof(e));
            CHECK(sc_ctl("stats.allocated", &v, &len, NULL, 0) == 0);
        }
    }
    for (int i = 0; i < SLOTS; i++) if (b[i].p) { CHECK(intact(&b[i])); sc_free(b[i].p); }
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) REQUIRE(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++) drain(t);
    CHECK(sc_heap_check() == 0);
    return harness_summary();
}
