/*
 * faults: scmalloc built with FAULTS=1 (build/faults), its os layer failing
 * every Nth (or a random 1 in N) mmap, munmap, mremap and madvise, as
 * SCMALLOC_FAULTS says. Under that, from several threads, every allocation
 * either succeeds with a usable block or returns NULL with errno ENOMEM;
 * nothing crashes; every block keeps its pattern; the heap check passes; and
 * after everything is freed the statistics balance (no live bytes).
 *
 *   faults THREADS OPS     (run by test/run.sh under several settings)
 *
 * The injection must reach the allocator: the library counts the calls it
 * failed on purpose (sc_ctl "os.faults_injected", FAULTS=1 builds only).
 */
#include "../harness.h"
#include "scmalloc.h"

#include <pthread.h>

#define SLOTS 512

static long nops = 20000;
static unsigned long nomem, served;

static size_t pick_size(unsigned *seed)
{
    unsigned r = (unsigned)rand_r(seed) % 100;
    if (r < 70) return (size_t)rand_r(seed) % 1024;
    if (r < 90) return (size_t)rand_r(seed) % (256 << 10);
    return (size_t)rand_r(seed) % (12 << 20);
}

/* The pattern: every 97th byte of a block's first 4 KiB, then one byte in
 * every page up to 256 KiB (a stride of 4099, so at a different offset in
 * each), then one in every 16 pages (a stride of 64 KiB + 97). Writing
 * every 97th byte of blocks of up to 12 MiB, or touching each of their
 * pages, spent most of the test's 40-80 s on this machine's page faults
 * rather than in the allocator. */
static size_t next_byte(size_t i)
{
    return i + (i < 4096 ? 97 : i < (256 << 10) ? 4099 : (64 << 10) + 97);
}

static void fill(unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i = next_byte(i)) p[i] = (unsigned char)(tag + i);
    if (n) p[n - 1] = (unsigned char)tag;
}

static int intact(const unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i = next_byte(i))
        if (i != n - 1 && p[i] != (unsigned char)(tag + i)) return 0;
    return !n || p[n - 1] == (unsigned char)tag;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    unsigned char *blk[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    unsigned tag[SLOTS] = {0};
    for (long op = 0; op < nops; op++) {
        int i = rand_r(&seed) % SLOTS;
        if (blk[i]) {
            CHECKF(intact(blk[i], len[i], tag[i]), "block %p of %zu bytes changed", (void *)blk[i], len[i]);
            if (rand_r(&seed) % 3 == 0) {
                size_t n = pick_size(&seed);
                errno = 0;
                unsigned char *q = sc_realloc(blk[i], n ? n : 1);
                if (!q) {
                    CHECKF(errno == ENOMEM, "realloc NULL with errno %d", errno);
                    __atomic_add_fetch(&nomem, 1, __ATOMIC_RELAXED);
                    continue; /* the old block is intact and still ours */
                }
                size_t keep = len[i] < n ? len[i] : n;
                CHECKF(intact(q, keep, tag[i]) || keep == 0 || keep < len[i], "realloc lost data");
                blk[i] = q;
                len[i] = n ? n : 1;
                tag[i] = (unsigned)rand_r(&seed);
                fill(q, len[i], tag[i]);
                continue;
            }
            sc_free(blk[i]);
            blk[i] = NULL;
            continue;
        }
        size_t n = pick_size(&seed);
        errno = 0;
        unsigned char *p;
        int kind = rand_r(&seed) % 4;
        if (kind == 0) p = sc_calloc(1, n);
        else if (kind == 1) {
            void *q = NULL;
            int err = sc_posix_memalign(&q, (size_t)64 << (rand_r(&seed) % 16), n);
            CHECKF(err == 0 || err == ENOMEM, "posix_memalign returned %d", err);
            p = q;
            errno = err ? ENOMEM : 0;
        } else p = sc_malloc(n);
        if (!p) {
            CHECKF(errno == ENOMEM, "NULL with errno %d for %zu bytes", errno, n);
            __atomic_add_fetch(&nomem, 1, __ATOMIC_RELAXED);
            continue;
        }
        __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
        CHECK(sc_malloc_usable_size(p) >= n);
        if (kind == 0)
            for (size_t k = 0; k < n; k = next_byte(k)) if (p[k]) { CHECKF(0, "calloc block not zero at %zu", k); break; }
        blk[i] = p;
        len[i] = n;
        tag[i] = (unsigned)rand_r(&seed);
        fill(p, n, tag[i]);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (!blk[i]) continue;
        CHECK(intact(blk[i], len[i], tag[i]));
        sc_free(blk[i]);
    }
    return NULL;
}

static void *idle(void *arg) { return arg; }

/* pthread_create allocates (its TLS vector, through us): under injected
 * faults it may fail with EAGAIN, which is an honest answer; try again. */
static void start(pthread_t *th, void *(*fn)(void *), void *arg)
{
    int err = 0;
    for (int tries = 0; tries < 1000; tries++)
        if ((err = pthread_create(th, NULL, fn, arg)) != EAGAIN) break;
    REQUIRE(err == 0);
}

static size_t allocated(void)
{
    sc_ctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    uint64_t e = 1;
    sc_ctl("epoch", NULL, NULL, &e, sizeof(e));
    size_t v = 0, len = sizeof(v);
    REQUIRE(sc_ctl("stats.allocated", &v, &len, NULL, 0) == 0);
    return v;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    if (argc > 2) nops = atol(argv[2]);
    const char *conf = getenv("SCMALLOC_FAULTS");
    pthread_t th[64];
    if (threads > 64) threads = 64;
    /* glibc keeps a malloc'ed TLS vector with each cached thread stack:
     * start the threads once before the baseline, so it is counted in. */
    for (int t = 0; t < threads; t++) start(&th[t], idle, NULL);
    for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
    size_t base = allocated();
    for (int t = 0; t < threads; t++) start(&th[t], worker, (void *)(uintptr_t)(t * 7919 + 1));
    for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
    CHECKF(sc_heap_check() == 0, "heap check after the run");
    size_t end = allocated();
    CHECKF(end == base, "live bytes %zu before, %zu after everything was freed", base, end);
    /* The allocator is usable again once the faults stop mattering. */
    void *p = sc_malloc(100);
    CHECK(p != NULL || errno == ENOMEM);
    sc_free(p);
    uint64_t injected = 0;
    size_t ilen = sizeof(injected);
    REQUIRE(sc_ctl("os.faults_injected", &injected, &ilen, NULL, 0) == 0);
    printf("faults %s: %lu served, %lu ENOMEM, %llu system calls failed on purpose\n", conf ? conf : "(none)",
           served, nomem, (unsigned long long)injected);
    /* Most failures are absorbed: an allocation that fails gives back what
     * the allocator holds and tries once more, so ENOMEM reaches the caller
     * only when the retry fails too. */
    if (conf) CHECKF(injected > 100, "only %llu system calls failed under %s: the injection did not reach the allocator",
                     (unsigned long long)injected, conf);
    return harness_summary();
}
