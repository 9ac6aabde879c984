/*
 * stats_dump.c: a small threaded program for test/preload/stats_picture.sh.
 * Run under scmalloc (LD_PRELOAD): 4 threads allocate a mix of small, large
 * and huge blocks and free part of them; the survivors stay alive while the
 * main thread writes scmalloc's JSON statistics (sc_stats_print with "J")
 * to the file named by argv[1]. sc_stats_print is looked up with dlsym, so
 * the program is not linked with scmalloc and says so when it is not
 * preloaded. Prints "live BYTES" (the bytes it asked for and still holds).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 4
#define NSMALL 20000
#define NLARGE 24

typedef void write_cb_t(void *opaque, const char *text);
typedef void stats_print_t(write_cb_t *cb, void *opaque, const char *opts);

static void *live[NTHREADS][NSMALL + NLARGE + 1];
static size_t live_bytes[NTHREADS];

static void *churn(void *arg)
{
    unsigned t = (unsigned)(size_t)arg, seed = 12345u + t;
    static const size_t small[] = {8, 24, 48, 100, 200, 500, 1000, 3000, 8000, 16000};
    static const size_t large[] = {20000, 65536, 200000, 1000000};
    void **mine = live[t];
    size_t n = 0, bytes = 0;
    /* small blocks, smaller sizes more often (as in real programs), a few
     * bytes off the class sizes; one in four freed at once */
    for (unsigned i = 0; i < NSMALL; i++) {
        size_t k = (size_t)rand_r(&seed) % 10;
        size_t size = small[k * k / 9] + t;
        void *p = malloc(size);
        if (!p) return NULL;
        memset(p, 0x11, size);
        if (i % 4 == 1) free(p);
        else mine[n++] = p;
    }
    /* then two in three of the rest: leaves partly used slabs */
    size_t kept = 0;
    for (size_t j = 0; j < n; j++) {
        if (j % 3 == 0) {
            bytes += malloc_usable_size(mine[j]);
            mine[kept++] = mine[j];
        } else {
            free(mine[j]);
        }
    }
    /* large blocks, every other one kept */
    for (unsigned i = 0; i < NLARGE; i++) {
        size_t size = large[i % 4] + 4096 * t;
        void *p = malloc(size);
        if (!p) return NULL;
        memset(p, 0x22, size);
        if (i % 2) {
            free(p);
        } else {
            bytes += malloc_usable_size(p);
            mine[kept++] = p;
        }
    }
    /* one huge block, beyond the largest large size */
    size_t huge = (size_t)(6 + t) << 20;
    void *h = malloc(huge);
    if (!h) return NULL;
    memset(h, 0x33, huge);
    bytes += malloc_usable_size(h);
    mine[kept++] = h;
    live_bytes[t] = bytes;
    return arg;
}

static void write_cb(void *opaque, const char *text)
{
    if (fputs(text, (FILE *)opaque) == EOF) {
        perror("stats_dump: write");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stats_dump OUT.json (under LD_PRELOAD=libscmalloc.so)\n");
        return 2;
    }
    stats_print_t *stats_print = (stats_print_t *)dlsym(RTLD_DEFAULT, "sc_stats_print");
    if (!stats_print) {
        fprintf(stderr, "stats_dump: sc_stats_print not found: scmalloc is not preloaded\n");
        return 1;
    }
    pthread_t th[NTHREADS];
    for (size_t t = 0; t < NTHREADS; t++)
        if (pthread_create(&th[t], NULL, churn, (void *)t)) {
            fprintf(stderr, "stats_dump: pthread_create failed\n");
            return 1;
        }
    for (size_t t = 0; t < NTHREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        if (r != (void *)t) {
            fprintf(stderr, "stats_dump: thread %zu ran out of memory\n", t);
            return 1;
        }
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    stats_print(write_cb, f, "J");
    if (fclose(f)) {
        perror(argv[1]);
        return 1;
    }
    size_t total = 0;
    for (size_t t = 0; t < NTHREADS; t++) total += live_bytes[t];
    printf("live %zu\n", total);
    return 0;
}
