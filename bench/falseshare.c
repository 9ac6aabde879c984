/*
 * falseshare: does the allocator hand two threads the same cache line?
 * After Hoard's active-false and passive-false benchmarks.
 *
 *   falseshare [-t threads] [-n writes per byte per round] [-k objects per
 *              thread] [-S object size] [-r rounds] [-x received per thread]
 *     defaults: -t 2 -n 2000000 -k 1 -S 8 -r 4 -x 1
 *
 * Before the clock starts, the main thread allocates x objects for each
 * thread, interleaved (thread 0's, thread 1's, ...), so neighbours share
 * cache lines. In every round each thread frees what it received (first
 * round only; passive false sharing: the freed memory must not come back
 * to another thread), allocates its own k objects of S bytes at the same
 * moment as the others (active false sharing), then increments every byte
 * of them n times in a hot loop, checks the counts, and frees them.
 * A lost increment means two threads were given overlapping bytes: that
 * exits non-zero. ops = byte increments in total.
 * shared_lines = cache lines (64 B) that objects of two or more threads
 * touched, summed over the rounds (0 for an allocator that avoids it).
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>

static long nthreads = 2, iters = 2000000, nobj = 1, osize = 8, rounds = 4, nrecv = 1;
static pthread_barrier_t bar;
static unsigned char ***recv_objs;    /* [thread][x] */
static uintptr_t *addrs;              /* [round][thread][k] */

static void *worker(void *arg)
{
    long self = (long)(intptr_t)arg;
    unsigned char **own = xmalloc(sizeof *own * (size_t)nobj);
    pthread_barrier_wait(&bar);                          /* clock starts */
    for (long x = 0; x < nrecv; x++) {
        check_block(recv_objs[self][x], (size_t)osize, (uint64_t)(self * nrecv + x));
        free(recv_objs[self][x]);
    }
    for (long rd = 0; rd < rounds; rd++) {
        pthread_barrier_wait(&bar);                      /* allocate together */
        for (long j = 0; j < nobj; j++) {
            own[j] = xmalloc((size_t)osize);
            memset(own[j], (int)(self + j), (size_t)osize);
            addrs[(rd * nthreads + self) * nobj + j] = (uintptr_t)own[j];
        }
        pthread_barrier_wait(&bar);                      /* write together */
        for (long i = 0; i < iters; i++)
            for (long j = 0; j < nobj; j++) {
                volatile unsigned char *p = own[j];
                for (long b = 0; b < osize; b++) p[b]++;
            }
        for (long j = 0; j < nobj; j++) {
            unsigned char want = (unsigned char)(self + j + iters);
            for (long b = 0; b < osize; b++)
                if (own[j][b] != want)
                    DIE(EXIT_CORRUPT, "thread %ld object %p byte %ld is %u, want %u (lost writes: overlapping blocks)",
                        self, (void *)own[j], b, own[j][b], want);
            free(own[j]);
        }
    }
    free(own);
    return NULL;
}

static int cmp_u(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "falseshare";
    while ((c = getopt(argc, argv, "t:n:k:S:r:x:")) != -1) {
        switch (c) {
        case 't': OPT_NUM(nthreads); break;
        case 'n': OPT_NUM(iters); break;
        case 'k': OPT_NUM(nobj); break;
        case 'S': OPT_NUM(osize); break;
        case 'r': OPT_NUM(rounds); break;
        case 'x': OPT_NUM(nrecv); break;
        default: fprintf(stderr, "usage: falseshare [-t threads] [-n iters] [-k objs] [-S size] [-r rounds] [-x received]\n"); return EXIT_USAGE;
        }
    }
    if (nthreads < 1 || nobj < 1 || osize < 1 || rounds < 1 || nrecv < 0) { fprintf(stderr, "falseshare: bad arguments\n"); return EXIT_USAGE; }

    recv_objs = xmalloc(sizeof *recv_objs * (size_t)nthreads);
    for (long t = 0; t < nthreads; t++) recv_objs[t] = xmalloc(sizeof **recv_objs * (size_t)(nrecv ? nrecv : 1));
    for (long x = 0; x < nrecv; x++)
        for (long t = 0; t < nthreads; t++) {
            recv_objs[t][x] = xmalloc((size_t)osize);
            fill_block(recv_objs[t][x], (size_t)osize, (uint64_t)(t * nrecv + x));
        }
    addrs = xmalloc(sizeof *addrs * (size_t)(rounds * nthreads * nobj));

    pthread_barrier_init(&bar, NULL, (unsigned)nthreads + 1);
    pthread_t *th = xmalloc(sizeof *th * (size_t)nthreads);
    for (long t = 0; t < nthreads; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t)) DIE(1, "pthread_create");
    pthread_barrier_wait(&bar);
    double t0 = now_sec();
    for (long rd = 0; rd < rounds; rd++) { pthread_barrier_wait(&bar); pthread_barrier_wait(&bar); }
    for (long t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    double t1 = now_sec();

    /* count cache lines touched by objects of more than one thread */
    long shared = 0;
    size_t per_round = (size_t)(nthreads * nobj);
    uintptr_t *lines = xmalloc(sizeof *lines * 2 * per_round * (size_t)((osize + 63) / 64 + 1));
    for (long rd = 0; rd < rounds; rd++) {
        /* (line << 16 | thread) for every line of every object */
        size_t n = 0;
        for (long t = 0; t < nthreads; t++)
            for (long j = 0; j < nobj; j++) {
                uintptr_t a = addrs[(rd * nthreads + t) * nobj + j];
                for (uintptr_t l = a >> 6; l <= (a + (uintptr_t)osize - 1) >> 6; l++)
                    lines[n++] = (l << 16) | (uintptr_t)(t & 0xffff);
            }
        qsort(lines, n, sizeof *lines, cmp_u);
        for (size_t i = 0; i < n; ) {
            size_t j = i; int multi = 0;
            while (j < n && (lines[j] >> 16) == (lines[i] >> 16)) {
                if ((lines[j] & 0xffff) != (lines[i] & 0xffff)) multi = 1;
                j++;
            }
            shared += multi;
            i = j;
        }
    }
    free(lines); free(addrs); free(th);
    for (long t = 0; t < nthreads; t++) free(recv_objs[t]);
    free(recv_objs);

    char extra[128];
    snprintf(extra, sizeof extra, "threads=%ld shared_lines=%ld", nthreads, shared);
    print_result("falseshare", (double)nthreads * (double)rounds * (double)iters * (double)nobj * (double)osize, t1 - t0, extra);
    return 0;
}
