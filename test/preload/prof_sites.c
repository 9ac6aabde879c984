/*
 * prof_sites.c: allocation sites with known live and total bytes, for
 * test/preload/prof.sh. Each site is its own non-inlined function, so the
 * heap profile can be checked per function. Prints nothing on success;
 * exits non-zero if the dump through sc_ctl("prof.dump") fails.
 *
 *   site_big      keeps 24 MiB live in 1 KiB blocks (malloc)
 *   site_small    keeps 8,000,000 bytes live in 200-byte blocks (calloc)
 *   site_aligned  keeps 8 MiB live in 256-byte blocks aligned to 64 (posix_memalign)
 *   site_grow     keeps 16 buffers grown by realloc to 512 KiB each (8 MiB)
 *   site_temp     allocates 51,200,000 bytes in 512-byte blocks, frees each at once
 *   site_thread   keeps 4 MiB live in 4 KiB blocks, allocated by another thread
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scmalloc.h>

static void *keep[1 << 18];
static size_t nkeep;

__attribute__((noinline)) static void site_big(void)
{
    for (int i = 0; i < 24 * 1024; i++) keep[nkeep++] = malloc(1024);
}

__attribute__((noinline)) static void site_small(void)
{
    for (int i = 0; i < 40000; i++) keep[nkeep++] = calloc(1, 200);
}

__attribute__((noinline)) static void site_aligned(void)
{
    for (int i = 0; i < 32 * 1024; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 64, 256) != 0 || ((size_t)p & 63)) exit(3);
        keep[nkeep++] = p;
    }
}

__attribute__((noinline)) static void site_grow(void)
{
    for (int i = 0; i < 16; i++) {
        char *p = NULL;
        for (size_t size = 64; size <= 512 * 1024; size += size / 8 + 64) p = realloc(p, size);
        keep[nkeep++] = realloc(p, 512 * 1024);
    }
}

__attribute__((noinline)) static void site_temp(void)
{
    for (int i = 0; i < 100000; i++) {
        char *p = malloc(512);
        memset(p, i, 512);
        free(p);
    }
}

__attribute__((noinline)) static void *site_thread(void *arg)
{
    void **out = arg;
    for (int i = 0; i < 1024; i++) out[i] = malloc(4096);
    return NULL;
}

int main(int argc, char **argv)
{
    static void *from_thread[1024];
    pthread_t t;
    site_big();
    site_small();
    site_aligned();
    site_grow();
    site_temp();
    if (pthread_create(&t, NULL, site_thread, from_thread) || pthread_join(t, NULL)) return 4;
    for (size_t i = 0; i < nkeep; i++)
        if (!keep[i]) return 5;
    if (argc > 1) {
        const char *path = argv[1];
        int err = sc_ctl("prof.dump", NULL, NULL, &path, sizeof(path));
        if (err) { fprintf(stderr, "prof.dump: error %d\n", err); return 6; }
    }
    return 0;
}
