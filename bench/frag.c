/*
 * frag: memory efficiency and fragmentation. Build a large heap of small
 * objects, free most of them at random, then allocate objects of other
 * sizes: a good allocator reuses the holes (low RSS), a poor one grows.
 *
 *   frag [-n objects] [-f free percent] [-a min1] [-b max1]
 *        [-c min2] [-d max2] [-s seed]
 *     defaults: -n 2000000 -f 90 -a 16 -b 128 -c 200 -d 400 -s 1
 *
 * Phase 1: n objects of [a, b] bytes (uniform). Phase 2: free f% of them,
 * chosen at random. Phase 3: allocate objects of [c, d] bytes until their
 * bytes equal the bytes freed in phase 2. Then everything is checked and
 * freed. Printed (KiB, from /proc/self/statm): rss_full_kb (after phase
 * 1), rss_after_free_kb (after phase 2), rss_refill_kb (after phase 3),
 * rss_end_kb (after the final frees); peak_rss_kb (ru_maxrss);
 * live_kb: bytes the program asked for and holds after phase 3;
 * overhead = rss_refill_kb / (live_kb + table) - 1.
 * ops = mallocs + frees.
 */
#include "common.h"
#include <getopt.h>
#include <sys/mman.h>

typedef struct { void *p; uint32_t size; uint32_t tag; } obj_t;

static void *table_alloc(size_t bytes)   /* outside the allocator under test */
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) DIE(EXIT_NOMEM, "mmap table");
    return p;
}

int main(int argc, char **argv)
{
    long n = 2000000, freepct = 90, a = 16, b = 128, c2 = 200, d = 400, seed = 1;
    int c;
    bench_name = "frag";
    while ((c = getopt(argc, argv, "n:f:a:b:c:d:s:")) != -1) {
        switch (c) {
        case 'n': OPT_NUM(n); break;
        case 'f': OPT_NUM(freepct); break;
        case 'a': OPT_NUM(a); break;
        case 'b': OPT_NUM(b); break;
        case 'c': OPT_NUM(c2); break;
        case 'd': OPT_NUM(d); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: frag [-n objs] [-f free%%] [-a min1] [-b max1] [-c min2] [-d max2] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (n < 1 || freepct < 0 || freepct > 100 || a < 1 || b < a || c2 < 1 || d < c2) { fprintf(stderr, "frag: bad arguments\n"); return EXIT_USAGE; }
    rng_t r;
    rng_seed(&r, (uint64_t)seed);
    obj_t *t1 = table_alloc(sizeof *t1 * (size_t)n);
    size_t cap2 = (size_t)((double)n * (double)(a + b) / (double)(c2 + d) + 16);
    obj_t *t2 = table_alloc(sizeof *t2 * cap2);
    long table_kb = (long)((sizeof *t1 * (size_t)n + sizeof *t2 * cap2) / 1024);
    uint32_t tag = 0;
    double ops = 0;
    long rss_base = rss_kb();

    double t0 = now_sec();
    for (long i = 0; i < n; i++) {
        uint32_t sz = (uint32_t)rng_range(&r, (uint64_t)a, (uint64_t)b);
        t1[i].p = xmalloc(sz); t1[i].size = sz; t1[i].tag = ++tag;
        fill_block(t1[i].p, sz, tag);
    }
    ops += (double)n;
    long rss_full = rss_kb();

    uint64_t freed = 0, live = 0;
    uint64_t thr = (uint64_t)freepct * ((1ULL << 32) / 100);
    for (long i = 0; i < n; i++) {
        if ((rng_next(&r) >> 32) < thr) {
            check_block(t1[i].p, t1[i].size, t1[i].tag);
            free(t1[i].p);
            freed += t1[i].size;
            t1[i].p = NULL;
            ops++;
        } else live += t1[i].size;
    }
    long rss_after_free = rss_kb();

    size_t n2 = 0;
    for (uint64_t got = 0; got < freed && n2 < cap2; n2++) {
        uint32_t sz = (uint32_t)rng_range(&r, (uint64_t)c2, (uint64_t)d);
        t2[n2].p = xmalloc(sz); t2[n2].size = sz; t2[n2].tag = ++tag;
        fill_block(t2[n2].p, sz, tag);
        got += sz; live += sz;
    }
    ops += (double)n2;
    long rss_refill = rss_kb();

    for (long i = 0; i < n; i++)
        if (t1[i].p) { check_block(t1[i].p, t1[i].size, t1[i].tag); free(t1[i].p); ops++; }
    for (size_t i = 0; i < n2; i++) { check_block(t2[i].p, t2[i].size, t2[i].tag); free(t2[i].p); ops++; }
    double t_end = now_sec();
    long rss_end = rss_kb();
    long live_kb = (long)(live / 1024);

    char extra[320];
    snprintf(extra, sizeof extra,
             "rss_base_kb=%ld rss_full_kb=%ld rss_after_free_kb=%ld rss_refill_kb=%ld rss_end_kb=%ld live_kb=%ld table_kb=%ld overhead=%.3f",
             rss_base, rss_full, rss_after_free, rss_refill, rss_end, live_kb, table_kb,
             (double)(rss_refill - rss_base) / (double)(live_kb + table_kb) - 1.0);
    print_result("frag", ops, t_end - t0, extra);
    return 0;
}
