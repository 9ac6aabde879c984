/*
 * Shared helpers of the scmalloc benchmark workloads (bench/<name>.c).
 *
 * Every workload:
 *   - fills each block it allocates with a pattern derived from a per-block
 *     tag and checks the pattern before freeing it; a mismatch (or a NULL
 *     from malloc, or a misaligned pointer) prints a line on stderr and
 *     exits non-zero, so a broken allocator fails instead of looking fast;
 *   - prints one line at the end:
 *       RESULT workload=NAME ops=N secs=S ops_per_sec=R [key=value ...]
 *     which bench/run.py parses (every key=value pair is kept).
 *
 * Only the C library's malloc family is called (no sc_ functions), so the
 * same binary measures any allocator put in front of glibc by LD_PRELOAD.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#define BENCH_UNUSED __attribute__((unused))

/* ---- time ---------------------------------------------------------- */

static BENCH_UNUSED double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- random numbers (splitmix64 / xorshift64*) ---------------------- */

static inline uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct { uint64_t s; } rng_t;

static inline void rng_seed(rng_t *r, uint64_t seed) { r->s = mix64(seed) | 1; }

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t x = r->s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* uniform in [0, n) (n > 0); multiply-shift, no division */
static inline uint64_t rng_below(rng_t *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi) /* [lo, hi] */
{
    return lo + rng_below(r, hi - lo + 1);
}

/* log-uniform in [lo, hi]: small sizes are as likely per doubling as big ones */
static BENCH_UNUSED uint64_t rng_logrange(rng_t *r, uint64_t lo, uint64_t hi)
{
    if (lo >= hi) return lo;
    int blo = 63 - __builtin_clzll(lo), bhi = 63 - __builtin_clzll(hi);
    for (;;) {
        int b = blo + (int)rng_below(r, (uint64_t)(bhi - blo + 1));
        uint64_t base = 1ULL << b;
        uint64_t v = base + rng_below(r, base);
        if (v >= lo && v <= hi) return v;
    }
}

/* ---- failure ------------------------------------------------------- */

static const char *bench_name = "bench";

#define DIE(code, ...) do { \
    fprintf(stderr, "%s: FAIL: ", bench_name); \
    fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); \
    exit(code); \
} while (0)

enum { EXIT_CORRUPT = 2, EXIT_NOMEM = 3, EXIT_ALIGN = 4, EXIT_USAGE = 64 };

/* ---- block patterns ------------------------------------------------ */

/* Minimum alignment the C standard promises a block of n bytes. */
static inline size_t min_align(size_t n)
{
    if (n >= 16) return 16;
    size_t a = 1;
    while (a * 2 <= n) a *= 2;
    return a;
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) DIE(EXIT_NOMEM, "malloc(%zu) returned NULL", n);
    if (((uintptr_t)p & (min_align(n) - 1)) != 0)
        DIE(EXIT_ALIGN, "malloc(%zu) returned misaligned %p", n, p);
    return p;
}

static inline uint64_t tag_word(uint64_t tag) { return mix64(tag) | 1; }
static inline unsigned char tag_byte(uint64_t tag) { return (unsigned char)(0x5a ^ tag ^ (tag >> 9)); }

/* Writes every byte of the block: a tag word at the start (and at the
 * end from 16 bytes up), a byte pattern in between. */
static inline void fill_block(void *p, size_t n, uint64_t tag)
{
    unsigned char *c = (unsigned char *)p;
    uint64_t w = tag_word(tag);
    memset(c, tag_byte(tag), n);
    if (n >= 8) memcpy(c, &w, 8);
    if (n >= 16) memcpy(c + n - 8, &w, 8);
}

/* Checks the pattern: both tag words and every word in between for
 * blocks up to 1 KiB; above that, one word per 64 bytes (a block that
 * overlaps another live block by a cache line is still caught). */
static inline int block_ok(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *c = (const unsigned char *)p;
    unsigned char b = tag_byte(tag);
    if (n < 16) {
        size_t i = 0;
        if (n >= 8) {
            uint64_t w = tag_word(tag), h;
            memcpy(&h, c, 8);
            if (h != w) return 0;
            i = 8;
        }
        for (; i < n; i++) if (c[i] != b) return 0;
        return 1;
    }
    uint64_t w = tag_word(tag), h, t, pw = 0x0101010101010101ULL * b;
    memcpy(&h, c, 8); memcpy(&t, c + n - 8, 8);
    if (h != w || t != w) return 0;
    size_t step = n <= 1024 ? 8 : 64;
    for (size_t i = 8; i + 16 <= n; i += step) {
        uint64_t x;
        memcpy(&x, c + i, 8);
        if (x != pw) return 0;
    }
    return 1;
}

static inline void check_block(const void *p, size_t n, uint64_t tag)
{
    if (!block_ok(p, n, tag))
        DIE(EXIT_CORRUPT, "block %p of %zu bytes (tag %llu) corrupted", p, n,
            (unsigned long long)tag);
}

/* ---- memory figures ------------------------------------------------ */

static BENCH_UNUSED long rss_kb(void) /* current resident set, from /proc/self/statm */
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
    fclose(f);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static BENCH_UNUSED long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ---- result -------------------------------------------------------- */

static BENCH_UNUSED void print_result(const char *workload, double ops, double secs,
                                      const char *extra)
{
    printf("RESULT workload=%s ops=%.0f secs=%.6f ops_per_sec=%.1f peak_rss_kb=%ld%s%s\n",
           workload, ops, secs, secs > 0 ? ops / secs : 0.0, peak_rss_kb(),
           extra && *extra ? " " : "", extra ? extra : "");
    fflush(stdout);
}

/* ---- options ------------------------------------------------------- */

static BENCH_UNUSED long parse_num(const char *s, const char *what)
{
    /* accepts suffixes k, m, g (powers of 1024) */
    char *end;
    double v = strtod(s, &end);
    if (end == s) { fprintf(stderr, "%s: bad number for %s: %s\n", bench_name, what, s); exit(EXIT_USAGE); }
    switch (*end) {
    case 'k': case 'K': v *= 1024; break;
    case 'm': case 'M': v *= 1024 * 1024; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
    case '\0': break;
    default: fprintf(stderr, "%s: bad number for %s: %s\n", bench_name, what, s); exit(EXIT_USAGE);
    }
    return (long)v;
}

#define OPT_NUM(var) var = parse_num(optarg, #var)

#endif /* BENCH_COMMON_H */
