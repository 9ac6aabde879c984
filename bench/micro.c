/*
 * micro: the cost of one malloc/free pair of a fixed size, on the hot
 * path (the same size again and again, so a thread cache serves it).
 *
 *   micro [-t threads] [-S size] [-n pairs per thread]
 *     defaults: -t 1 -S 16 -n 20000000
 *
 * Each thread runs its own loop p = malloc(S); write first and last
 * byte; read them back; free(p). With -t 1 the loop runs in the main
 * thread (no thread is created), which is what the callgrind
 * instruction counts use: run with -n N and -n 2N and take the
 * difference over N. ns_per_pair = wall time of the loops / n (per
 * thread, the threads running at once); ops = t * n pairs.
 */
#include "common.h"
#include <getopt.h>
#include <pthread.h>

static long nthreads = 1, size = 16, pairs = 20000000;
static pthread_barrier_t bar;

__attribute__((noinline)) static void loop(long n, size_t sz)
{
    size_t align = min_align(sz);
    for (long i = 0; i < n; i++) {
        unsigned char *p = malloc(sz);
        __asm__ volatile("" : "+r"(p) : : "memory");   /* keep the pair: gcc may elide malloc+free */
        if (!p || ((uintptr_t)p & (align - 1)))
            DIE(p ? EXIT_ALIGN : EXIT_NOMEM, "malloc(%zu) returned %p", sz, (void *)p);
        p[0] = (unsigned char)i;
        p[sz - 1] = (unsigned char)(i >> 3);
        __asm__ volatile("" : : "r"(p) : "memory");
        if (p[0] != (unsigned char)i || p[sz - 1] != (unsigned char)(i >> 3))
            DIE(EXIT_CORRUPT, "block %p changed under us", (void *)p);
        free(p);
    }
}

static void *worker(void *arg)
{
    (void)arg;
    loop(1000, (size_t)size);          /* warm the thread's cache */
    pthread_barrier_wait(&bar);
    loop(pairs, (size_t)size);
    return NULL;
}

int main(int argc, char **argv)
{
    int c;
    bench_name = "micro";
    while ((c = getopt(argc, argv, "t:S:n:")) != -1) {
        switch (c) {
        case 't': OPT_NUM(nthreads); break;
        case 'S': OPT_NUM(size); break;
        case 'n': OPT_NUM(pairs); break;
        default: fprintf(stderr, "usage: micro [-t threads] [-S size] [-n pairs]\n"); return EXIT_USAGE;
        }
    }
    if (nthreads < 1 || size < 1 || pairs < 0) { fprintf(stderr, "micro: bad arguments\n"); return EXIT_USAGE; }
    double t0, t1;
    if (nthreads == 1) {
        t0 = now_sec();
        loop(pairs, (size_t)size);
        t1 = now_sec();
    } else {
        pthread_barrier_init(&bar, NULL, (unsigned)nthreads + 1);
        pthread_t *th = xmalloc(sizeof *th * (size_t)nthreads);
        for (long i = 0; i < nthreads; i++)
            if (pthread_create(&th[i], NULL, worker, NULL)) DIE(1, "pthread_create");
        pthread_barrier_wait(&bar);
        t0 = now_sec();
        for (long i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
        t1 = now_sec();
        free(th);
    }
    char extra[128];
    snprintf(extra, sizeof extra, "threads=%ld size=%ld ns_per_pair=%.3f", nthreads, size,
             pairs ? (t1 - t0) * 1e9 / (double)pairs : 0.0);
    print_result("micro", (double)nthreads * (double)pairs, t1 - t0, extra);
    return 0;
}
