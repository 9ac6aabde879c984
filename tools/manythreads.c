/*
 * manythreads: the memory a thread costs its allocator, in a program with
 * thousands of threads that each keep a few small blocks (a server with a
 * thread per connection). Not part of the library, its tests or the
 * benchmark table; README's "Where it is behind" cites it.
 *
 * T threads start, each allocates one block of each of K sizes (16, 32,
 * ... 16*K bytes), writes them, and waits; once all T hold their blocks,
 * the peak RSS is printed; then every thread checks and frees its blocks
 * and exits.
 *
 *   cc -O2 -pthread -o manythreads tools/manythreads.c
 *   LD_PRELOAD=build/libscmalloc.so ./manythreads [threads] [sizes]
 *     defaults: 2000 threads, 16 sizes; 64 KiB stacks
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { MAX_SIZES = 64 };

static pthread_barrier_t held, done;
static int nsizes = 16;
static int bad;

static void *worker(void *arg)
{
    unsigned char tag = (unsigned char)(uintptr_t)arg;
    void *p[MAX_SIZES];
    for (int i = 0; i < nsizes; i++) {
        if (!(p[i] = malloc(16 * (size_t)(i + 1)))) abort();
        memset(p[i], tag, 16 * (size_t)(i + 1));
    }
    pthread_barrier_wait(&held);
    pthread_barrier_wait(&done);
    for (int i = 0; i < nsizes; i++) {
        const unsigned char *b = p[i];
        for (size_t j = 0; j < 16 * (size_t)(i + 1); j++)
            if (b[j] != tag) __atomic_store_n(&bad, 1, __ATOMIC_RELAXED);
        free(p[i]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int nthreads = argc > 1 ? atoi(argv[1]) : 2000;
    if (argc > 2) nsizes = atoi(argv[2]);
    if (nthreads < 1 || nsizes < 1 || nsizes > MAX_SIZES) {
        fprintf(stderr, "usage: manythreads [threads] [sizes, 1 to %d]\n", MAX_SIZES);
        return 2;
    }
    pthread_t *t = malloc(sizeof *t * (size_t)nthreads);
    pthread_attr_t attr;
    if (!t || pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 64 << 10)) return 1;
    pthread_barrier_init(&held, NULL, (unsigned)nthreads + 1);
    pthread_barrier_init(&done, NULL, (unsigned)nthreads + 1);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], &attr, worker, (void *)(uintptr_t)(i + 1))) {
            perror("pthread_create");
            return 1;
        }
    pthread_barrier_wait(&held);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    pthread_barrier_wait(&done);
    for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
    free(t);
    if (bad) {
        fprintf(stderr, "manythreads: a block lost its contents\n");
        return 1;
    }
    printf("threads=%d sizes=%d peak_rss_kb=%ld\n", nthreads, nsizes, ru.ru_maxrss);
    return 0;
}
