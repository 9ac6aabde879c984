/*
 * harness.h: the one test harness of scmalloc's api, error and stress
 * programs (test/unit has its own needs and may include this too).
 *
 *   CHECK(cond)               records a failure with file:line and the text
 *   CHECKF(cond, fmt, ...)    the same, with a printf-style explanation
 *   SKIP(fmt, ...)            ends the program as skipped (exit 77)
 *   return harness_summary(); at the end of main: 0 when every check held
 *
 * Failures go to stderr as "CHECK failed at file:line: cond (why)", so
 * test/run.sh can quote the first one. Counters are atomic: checks may run
 * from any thread. The harness itself never calls malloc after start-up
 * except through stdio, and the helpers below are header-only so every
 * test program stays one file.
 */
#ifndef SC_TEST_HARNESS_H
#define SC_TEST_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#define HARNESS_EXIT_SKIP 77
#define HARNESS_MAX_REPORTS 25

static unsigned long harness_checks_run;
static unsigned long harness_checks_failed;

__attribute__((format(printf, 5, 6)))
static inline int harness_check(int ok, const char *cond, const char *file,
                                int line, const char *fmt, ...)
{
    __atomic_add_fetch(&harness_checks_run, 1, __ATOMIC_RELAXED);
    if (ok)
        return 1;
    unsigned long n = __atomic_add_fetch(&harness_checks_failed, 1,
                                         __ATOMIC_RELAXED);
    if (n > HARNESS_MAX_REPORTS)
        return 0;
    int saved = errno;
    char why[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
    }
    fprintf(stderr, "CHECK failed at %s:%d: %s%s%s%s\n", file, line, cond,
            why[0] ? " (" : "", why, why[0] ? ")" : "");
    if (n == HARNESS_MAX_REPORTS)
        fprintf(stderr, "(further failures are counted, not shown)\n");
    fflush(stderr);
    errno = saved;
    return 0;
}

#define CHECK(cond) harness_check(!!(cond), #cond, __FILE__, __LINE__, NULL)
#define CHECKF(cond, ...) \
    harness_check(!!(cond), #cond, __FILE__, __LINE__, __VA_ARGS__)

/* An unconditional failure, for checks whose condition was tested above. */
#define FAILF(...) harness_check(0, "failed", __FILE__, __LINE__, __VA_ARGS__)

/* Stops at once: for failures after which nothing meaningful can follow. */
#define REQUIRE(cond)                                                   \
    do {                                                                \
        if (!CHECK(cond)) {                                             \
            fprintf(stderr, "fatal: cannot go on after this failure\n"); \
            exit(1);                                                    \
        }                                                               \
    } while (0)

#define SKIP(...)                                                       \
    do {                                                                \
        fprintf(stderr, "SKIP: ");                                      \
        fprintf(stderr, __VA_ARGS__);                                   \
        fprintf(stderr, "\n");                                          \
        exit(HARNESS_EXIT_SKIP);                                        \
    } while (0)

static inline int harness_summary(void)
{
    unsigned long run = __atomic_load_n(&harness_checks_run, __ATOMIC_RELAXED);
    unsigned long bad = __atomic_load_n(&harness_checks_failed, __ATOMIC_RELAXED);
    if (bad) {
        fprintf(stderr, "%lu of %lu checks failed\n", bad, run);
        return 1;
    }
    if (run == 0) {
        fprintf(stderr, "no check was run\n");
        return 1;
    }
    fprintf(stderr, "all %lu checks passed\n", run);
    return 0;
}

/* ---- helpers ---- */

/* A watchdog: when the program is still running `seconds` from now, it
 * says so (naming what it was doing) and exits 2, so a deadlock reads as
 * one instead of as a timeout. Call again to re-arm, with 0 to disarm. */
static const char *harness_watch_what = "the test";

static void harness_watchdog_fire(int sig)
{
    (void)sig;
    static const char head[] = "watchdog: still running after the time allowed for ";
    if (write(2, head, sizeof head - 1) < 0 ||
        write(2, harness_watch_what, strlen(harness_watch_what)) < 0 ||
        write(2, " (deadlock?)\n", 13) < 0)
        _exit(3);
    _exit(2);
}

static inline void harness_watchdog(unsigned seconds, const char *what)
{
    harness_watch_what = what;
    signal(SIGALRM, harness_watchdog_fire);
    alarm(seconds);
}


/* Hides a value from the optimiser, so calls like malloc(SIZE_MAX) are
 * made at run time and draw no -Walloc-size-larger-than warning. */
static inline size_t opaque_size(size_t n)
{
    volatile size_t v = n;
    return v;
}

static inline void *opaque_ptr(void *p)
{
    void *volatile v = p;
    return v;
}

/* Runs the test again with SCMALLOC_CONF=conf unless it already has it:
 * the allocator reads its options once, at start-up, before main. */
static inline void run_with_conf(char **argv, const char *conf)
{
    const char *now = getenv("SCMALLOC_CONF");
    if (now && strcmp(now, conf) == 0) return;
    setenv("SCMALLOC_CONF", conf, 1);
    execv("/proc/self/exe", argv);
    fprintf(stderr, "FAIL: cannot re-run the test with SCMALLOC_CONF=%s\n", conf);
    exit(1);
}

static inline size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static inline int is_aligned(const void *p, size_t align)
{
    return ((uintptr_t)p & (align - 1)) == 0;
}

static inline double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads all of a /proc file into buf and NUL-terminates it, without
 * allocating (the heap is what the test looks at); returns its length. */
static inline size_t read_proc_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    REQUIRE(fd >= 0);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, size - 1 - len)) > 0) len += (size_t)n;
    close(fd);
    REQUIRE(len < size - 1);
    buf[len] = 0;
    return len;
}

/* Resident set size in bytes, from /proc/self/statm (no malloc). */
static inline size_t rss_bytes(void)
{
    char buf[128];
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long vsz = 0, rss = 0;
    if (!f)
        return 0;
    if (fgets(buf, sizeof buf, f))
        sscanf(buf, "%lu %lu", &vsz, &rss);
    fclose(f);
    return rss * page_size();
}

/* Virtual size in bytes, from /proc/self/statm. */
static inline size_t vm_bytes(void)
{
    char buf[128];
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long vsz = 0;
    if (!f)
        return 0;
    if (fgets(buf, sizeof buf, f))
        sscanf(buf, "%lu", &vsz);
    fclose(f);
    return vsz * page_size();
}

/* A cheap, well-mixed 64-bit sequence (splitmix64). */
static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* xorshift-style generator state for tests that need many random numbers. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s = mix64(*s);
    return *s;
}

/* Fills n bytes with a pattern that depends on seed and on the offset, so a
 * block overlapping another, a stale copy, or a shifted copy is caught.
 * Byte i depends only on (seed, i): any prefix of a filled block is the
 * pattern of that shorter length, which is what realloc keeps. */
static inline uint64_t pattern_word(uint64_t k, size_t i)
{
    return k ^ ((uint64_t)(i & ~(size_t)7) * 0x100000001b3ull);
}

static inline void fill_pattern(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    uint64_t k = mix64(seed);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = pattern_word(k, i);
        memcpy(b + i, &w, 8);
    }
    if (i < n) {
        uint64_t w = pattern_word(k, i);
        memcpy(b + i, &w, n - i);
    }
}

/* Returns the offset of the first byte that differs from fill_pattern's,
 * or (size_t)-1 when all n bytes are intact. */
static inline size_t find_pattern_error(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t k = mix64(seed);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = pattern_word(k, i), got = 0;
        size_t len = n - i < 8 ? n - i : 8;
        if (len == 8)
            memcpy(&got, b + i, 8); /* one load, not a call */
        if (len < 8 || got != w) {
            for (size_t j = 0; j < len; j++)
                if (b[i + j] != ((const unsigned char *)&w)[j])
                    return i + j;
        }
    }
    return (size_t)-1;
}

#define PATTERN_OK(p, n, seed) (find_pattern_error((p), (n), (seed)) == (size_t)-1)

/* For blocks too big to fill in full on every round: the pattern on the
 * first and last 64 KiB and one word on every page in between, so each
 * page is touched (written and read back) but the cost stays small. */
#define SPARSE_EDGE ((size_t)64 << 10)

static inline void fill_sparse(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    if (n <= 4 * SPARSE_EDGE) {
        fill_pattern(p, n, seed);
        return;
    }
    fill_pattern(b, SPARSE_EDGE, seed);
    fill_pattern(b + n - SPARSE_EDGE, SPARSE_EDGE, seed + 1);
    for (size_t o = SPARSE_EDGE; o + 8 <= n - SPARSE_EDGE; o += 4096) {
        uint64_t w = mix64(seed ^ o);
        memcpy(b + o, &w, 8);
    }
}

static inline int sparse_ok(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    if (n <= 4 * SPARSE_EDGE)
        return PATTERN_OK(p, n, seed);
    if (!PATTERN_OK(b, SPARSE_EDGE, seed) ||
        !PATTERN_OK(b + n - SPARSE_EDGE, SPARSE_EDGE, seed + 1))
        return 0;
    for (size_t o = SPARSE_EDGE; o + 8 <= n - SPARSE_EDGE; o += 4096) {
        uint64_t w = mix64(seed ^ o), got;
        memcpy(&got, b + o, 8);
        if (got != w)
            return 0;
    }
    return 1;
}

/* Offset of the first byte that is not c, or (size_t)-1. */
static inline size_t find_byte_not(const void *p, size_t n, unsigned char c)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != c)
            return i;
    return (size_t)-1;
}

/* Runs a shell command line; returns its exit status, or -1. */
static inline int run_shell(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !(st >= 0 && ((st & 0x7f) == 0)))
        return -1;
    return (st >> 8) & 0xff;
}

/* A directory for scratch files: $SC_TMP (run.sh sets it) or /tmp. */
static inline const char *scratch_dir(void)
{
    const char *d = getenv("SC_TMP");
    return d && *d ? d : "/tmp";
}

/* The test variant run.sh names in $SC_VARIANT: release, debug or ubsan. */
static inline const char *test_variant(void)
{
    const char *v = getenv("SC_VARIANT");
    return v && *v ? v : "release";
}

/* ---- scmalloc statistics (programs linked with scmalloc) ---- */
#ifndef HARNESS_NO_SCMALLOC
#include <scmalloc.h>

/* Reads a size_t statistic after refreshing the epoch; exits on error. */
static inline size_t ctl_read_size(const char *name)
{
    uint64_t one = 1;
    size_t v = 0, len = sizeof v;
    int err = sc_ctl("epoch", NULL, NULL, &one, sizeof one);
    if (err != 0) {
        fprintf(stderr, "sc_ctl(\"epoch\") returned %d\n", err);
        exit(1);
    }
    err = sc_ctl(name, &v, &len, NULL, 0);
    if (err != 0 || len != sizeof v) {
        fprintf(stderr, "sc_ctl(\"%s\") returned %d, len %zu\n", name, err, len);
        exit(1);
    }
    return v;
}

static inline void tcache_flush(void)
{
    int err = sc_ctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    if (err != 0) {
        fprintf(stderr, "sc_ctl(\"thread.tcache.flush\") returned %d\n", err);
        exit(1);
    }
}

/* Live bytes after flushing the calling thread's cache. */
static inline size_t live_bytes(void)
{
    tcache_flush();
    return ctl_read_size("stats.allocated");
}

#endif /* HARNESS_NO_SCMALLOC */

#endif /* SC_TEST_HARNESS_H */
