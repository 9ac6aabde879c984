/*
 * large: big blocks, 64 KiB .. 64 MiB, every page written, checked and
 * freed; throughput, and how much memory is still resident once they are
 * all freed.
 *
 *   large [-n blocks] [-k live blocks] [-m min] [-M max] [-w wait ms] [-s seed]
 *     defaults: -n 200 -k 4 -m 64k -M 64m -w 0 -s 1
 *
 * Sizes are log-uniform in [m, M]. Each new block has one word written in
 * every page (and its last word); the oldest of the k live blocks is
 * checked page by page and freed when a new one comes. ops = blocks.
 * rss_live_kb: resident set with the last k blocks live;
 * rss_after_free_kb: resident set (/proc/self/statm) right after all
 * blocks are freed; bytes_per_sec: bytes of blocks allocated per second.
 * With -w W: afterwards the program keeps a light load for W ms (every
 * 10 ms a 64 KiB block and 100 small ones are allocated, touched and
 * freed) and prints rss_after_wait_kb, for allocators that give memory
 * back after a decay time rather than at once. Not part of secs.
 */
#include "common.h"
#include <getopt.h>

typedef struct { uint64_t *p; size_t size; uint64_t tag; } blk_t;

static size_t page;

static void touch(blk_t *b)
{
    size_t words_per_page = page / 8, nw = b->size / 8;
    for (size_t w = 0; w < nw; w += words_per_page) b->p[w] = b->tag ^ w;
    b->p[nw - 1] = ~b->tag;
}

static void check(const blk_t *b)
{
    size_t words_per_page = page / 8, nw = b->size / 8;
    for (size_t w = 0; w < nw; w += words_per_page)
        if (b->p[w] != (b->tag ^ w) && !(w == nw - 1))
            DIE(EXIT_CORRUPT, "block %p (%zu bytes): page at word %zu corrupted", (void *)b->p, b->size, w);
    if (b->p[nw - 1] != ~b->tag) DIE(EXIT_CORRUPT, "block %p (%zu bytes): last word corrupted", (void *)b->p, b->size);
}

int main(int argc, char **argv)
{
    long n = 200, k = 4, min = 64 * 1024, max = 64L << 20, wait_ms = 0, seed = 1;
    int c;
    bench_name = "large";
    while ((c = getopt(argc, argv, "n:k:m:M:w:s:")) != -1) {
        switch (c) {
        case 'n': OPT_NUM(n); break;
        case 'k': OPT_NUM(k); break;
        case 'm': OPT_NUM(min); break;
        case 'M': OPT_NUM(max); break;
        case 'w': OPT_NUM(wait_ms); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: large [-n blocks] [-k live] [-m min] [-M max] [-w wait ms] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (n < 1 || k < 1 || min < 64 || max < min) { fprintf(stderr, "large: bad arguments\n"); return EXIT_USAGE; }
    page = (size_t)sysconf(_SC_PAGESIZE);
    rng_t r;
    rng_seed(&r, (uint64_t)seed);
    blk_t *live = calloc((size_t)k, sizeof *live);
    if (!live) DIE(EXIT_NOMEM, "table");
    long rss_base = rss_kb();
    double bytes = 0;

    double t0 = now_sec();
    for (long i = 0; i < n; i++) {
        blk_t *b = &live[i % k];
        if (b->p) { check(b); free(b->p); }
        b->size = (size_t)rng_logrange(&r, (uint64_t)min, (uint64_t)max) & ~(size_t)7;
        b->p = xmalloc(b->size);
        b->tag = mix64((uint64_t)i + 1);
        touch(b);
        bytes += (double)b->size;
    }
    long rss_live = rss_kb();
    for (long j = 0; j < k; j++) if (live[j].p) { check(&live[j]); free(live[j].p); live[j].p = NULL; }
    double t1 = now_sec();
    long rss_after = rss_kb();
    free(live);

    char extra[260];
    int len = snprintf(extra, sizeof extra, "bytes_per_sec=%.0f rss_base_kb=%ld rss_live_kb=%ld rss_after_free_kb=%ld",
                       bytes / (t1 - t0), rss_base, rss_live, rss_after);
    if (wait_ms > 0) {
        double end = now_sec() + (double)wait_ms / 1000.0;
        void *small[100];
        while (now_sec() < end) {
            blk_t b = { xmalloc(65536), 65536, 12345 };
            touch(&b);
            for (int i = 0; i < 100; i++) { small[i] = xmalloc(64); fill_block(small[i], 64, (uint64_t)i); }
            for (int i = 0; i < 100; i++) { check_block(small[i], 64, (uint64_t)i); free(small[i]); }
            check(&b);
            free(b.p);
            usleep(10000);
        }
        snprintf(extra + len, sizeof extra - (size_t)len, " rss_after_wait_kb=%ld", rss_kb());
    }
    print_result("large", (double)n, t1 - t0, extra);
    return 0;
}
