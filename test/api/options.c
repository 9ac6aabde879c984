/*
 * options.c: SCMALLOC_CONF. The program runs itself again in a child with
 * the variable set, and checks the child's exit status and stderr:
 *   tcache:false      a threaded workload runs, the heap checks clean,
 *                     opt.tcache (if readable) says false
 *   narenas:1         arenas.narenas is 1; the workload runs
 *   junk:true         memory from malloc is filled with 0xa5; freed small
 *                     blocks no longer hold what was written; calloc zero
 *   stats_print:true  statistics appear on stderr at exit (and not without)
 *   bogus:1           exactly one stderr line, naming "bogus"; runs fine
 *   dirty_decay_ms:0  256 MiB of large blocks filled and freed: RSS comes
 *                     back within 32 MiB of where it started
 *   secure:true,prof_prefix:...,prof_sample:4096
 *                     opt.secure, opt.prof_sample and the string option
 *                     opt.prof_prefix read back (writing one: EPERM);
 *                     freed small blocks are zeroed; the workload runs
 *   stats_print:true,stats_print_opts:J
 *                     the statistics at exit are JSON
 *   (none)            the workload writes nothing to stderr
 */
#include "../harness.h"
#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>

/* ---- what the child does ---- */

static void *workload_thread(void *arg)
{
    uint64_t rng = (uintptr_t)arg;
    enum { N = 256 };
    char *p[N] = { 0 };
    size_t sz[N] = { 0 };
    for (int it = 0; it < 40000; it++) {
        int i = (int)(rng_next(&rng) % N);
        if (p[i]) {
            if (!PATTERN_OK(p[i], sz[i], (uint64_t)(uintptr_t)p[i]))
                return (void *)1;
            free(p[i]);
            p[i] = NULL;
        } else {
            uint64_t r = rng_next(&rng);
            sz[i] = (r % 16 == 0) ? r % (128 << 10) : r % 512;
            p[i] = malloc(sz[i]);
            if (!p[i])
                return (void *)1;
            fill_pattern(p[i], sz[i], (uint64_t)(uintptr_t)p[i]);
        }
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    return NULL;
}

/* Four threads of mixed malloc/free; then a heap check. */
static void workload(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&t[i], NULL, workload_thread, (void *)(uintptr_t)(i + 1)) == 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECKF(r == NULL, "workload thread %d found a damaged block or got NULL", i);
    }
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
}

static void child_tcache(void)
{
    bool on = true;
    size_t len = sizeof on;
    int r = sc_ctl("opt.tcache", &on, &len, NULL, 0);
    if (r == 0)
        CHECKF(!on, "opt.tcache reads true under tcache:false");
    else
        fprintf(stdout, "note: opt.tcache not readable (%d)\n", r);
    workload();
}

static void child_narenas(void)
{
    unsigned n = 0;
    size_t len = sizeof n;
    int r = sc_ctl("arenas.narenas", &n, &len, NULL, 0);
    CHECKF(r == 0 && n == 1, "arenas.narenas = %u (sc_ctl %d) under narenas:1", n, r);
    workload();
}

static void child_junk(void)
{
    const size_t sizes[] = { 1, 8, 24, 64, 100, 500, 2048, 5000, 40000, 100 << 10, 6 << 20 };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            unsigned char *p = malloc(n);
            REQUIRE(p != NULL);
            size_t bad = find_byte_not(p, n, 0xa5);
            CHECKF(bad == (size_t)-1, "junk:true: malloc(%zu) byte %zu is %#x, not 0xa5 "
                   "(round %d)", n, bad, bad == (size_t)-1 ? 0 : p[bad], round);
            memset(p, 0x3c, n);
            free(p);
        }
    /* freed small blocks: read back through a pointer kept on purpose (the
     * slab stays mapped); the 0x3c bytes must be mostly gone */
    for (size_t n = 16; n <= 1024; n *= 2) {
        unsigned char *p = malloc(n);
        REQUIRE(p != NULL);
        void *keep = malloc(n); /* keeps the slab from being emptied */
        memset(p, 0x3c, n);
        volatile unsigned char *v = opaque_ptr(p);
        free(p);
        size_t same = 0;
        for (size_t j = 0; j < n; j++)
            same += v[j] == 0x3c;
        CHECKF(same <= n / 4, "junk:true: %zu of %zu bytes of a freed block unchanged",
               same, n);
        free(keep);
    }
    for (int i = 0; i < 100; i++) {
        unsigned char *c = calloc(1, 64 + i * 10);
        REQUIRE(c != NULL);
        CHECKF(find_byte_not(c, 64 + i * 10, 0) == (size_t)-1, "junk:true: calloc not zero");
        free(c);
    }
    workload();
}

static void child_decay(void)
{
    size_t base = rss_bytes();
    enum { MAXB = 4096 };
    static void *p[MAXB];
    size_t total = 0;
    int n = 0;
    uint64_t rng = 5;
    while (total < ((size_t)256 << 20) && n < MAXB) {
        size_t s = (64 << 10) + rng_next(&rng) % ((1 << 20) - (64 << 10));
        p[n] = malloc(s);
        REQUIRE(p[n] != NULL);
        memset(p[n], 0x77, s);
        total += s;
        n++;
    }
    size_t peak = rss_bytes();
    CHECKF(peak >= base + ((size_t)200 << 20), "RSS %zu -> %zu with 256 MiB written", base, peak);
    for (int i = 0; i < n; i++)
        free(p[i]);
    size_t after = rss_bytes();
    CHECKF(after <= base + ((size_t)32 << 20),
           "dirty_decay_ms:0: RSS %zu MiB at start, %zu MiB at peak, %zu MiB after freeing "
           "all %d large blocks", base >> 20, peak >> 20, after >> 20, n);
}

static void child_secure(void)
{
    bool on = false;
    size_t len = sizeof on;
    CHECKF(sc_ctl("opt.secure", &on, &len, NULL, 0) == 0 && on, "opt.secure does not read true");
    int64_t sample = 0;
    len = sizeof sample;
    CHECKF(sc_ctl("opt.prof_sample", &sample, &len, NULL, 0) == 0 && sample == 4096,
           "opt.prof_sample reads %lld, want 4096", (long long)sample);
    const char *prefix = NULL;
    len = sizeof prefix;
    CHECKF(sc_ctl("opt.prof_prefix", &prefix, &len, NULL, 0) == 0 && prefix &&
           !strcmp(prefix, "/tmp/some"),
           "opt.prof_prefix reads '%s', want '/tmp/some'", prefix ? prefix : "(null)");
    const char *other = "x";
    CHECKF(sc_ctl("opt.prof_prefix", NULL, NULL, &other, sizeof other) == EPERM,
           "writing opt.prof_prefix is not EPERM");
    /* freed small blocks read back as zero (through a pointer kept on
     * purpose; a neighbour keeps the slab in use) */
    for (size_t n = 16; n <= 4096; n *= 2) {
        unsigned char *p = malloc(n);
        void *keep = malloc(n);
        REQUIRE(p != NULL && keep != NULL);
        memset(p, 0x3c, n);
        volatile unsigned char *v = opaque_ptr(p);
        free(p);
        size_t nonzero = 0;
        for (size_t j = 0; j < n; j++)
            nonzero += v[j] != 0;
        CHECKF(nonzero == 0, "secure:true: %zu of %zu bytes of a freed block not zeroed", nonzero, n);
        free(keep);
    }
    workload();
}

static void child_plain(void)
{
    workload();
}

/* ---- the parent: run each mode, capture stderr ---- */

typedef struct {
    const char *mode;
    const char *conf; /* NULL: unset */
} mode_t_;

static const mode_t_ modes[] = {
    { "tcache", "tcache:false" },
    { "narenas", "narenas:1" },
    { "junk", "junk:true" },
    { "stats", "stats_print:true" },
    { "bogus", "bogus:1" },
    { "decay", "dirty_decay_ms:0" },
    { "secure", "secure:true,prof_prefix:/tmp/some,prof_sample:4096" },
    { "json", "stats_print:true,stats_print_opts:J" },
    { "plain", NULL },
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            buf = realloc(buf, cap);
            REQUIRE(buf != NULL);
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static int run_child(const mode_t_ *m, char **err, size_t *errlen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/options-%d-%s.err", scratch_dir(), (int)getpid(), m->mode);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!freopen(path, "w", stderr))
            _exit(98);
        if (m->conf)
            setenv("SCMALLOC_CONF", m->conf, 1);
        else
            unsetenv("SCMALLOC_CONF");
        char *argv[] = { "options", "--child", (char *)m->mode, NULL };
        execv("/proc/self/exe", argv);
        _exit(99);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    *err = slurp(path, errlen);
    unlink(path);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

static int child_main(const char *mode)
{
    if (!strcmp(mode, "tcache"))
        child_tcache();
    else if (!strcmp(mode, "narenas"))
        child_narenas();
    else if (!strcmp(mode, "junk"))
        child_junk();
    else if (!strcmp(mode, "decay"))
        child_decay();
    else if (!strcmp(mode, "secure"))
        child_secure();
    else
        child_plain();
    /* the harness summary goes to stdout here: stderr belongs to the
     * allocator's own messages, which the parent inspects */
    unsigned long bad = __atomic_load_n(&harness_checks_failed, __ATOMIC_RELAXED);
    return bad ? 1 : 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--child"))
        return child_main(argv[2]);

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const mode_t_ *m = &modes[i];
        char *err = NULL;
        size_t errlen = 0;
        int rc = run_child(m, &err, &errlen);
        const char *e = err ? err : "";
        CHECKF(rc == 0, "SCMALLOC_CONF=%s: child exited %d; its stderr: %.600s",
               m->conf ? m->conf : "(unset)", rc, e);
        if (!strcmp(m->mode, "stats")) {
            CHECKF(errlen > 200 && strstr(e, "allocated"),
                   "stats_print:true: %zu bytes on stderr at exit, want the statistics", errlen);
        } else if (!strcmp(m->mode, "json")) {
            CHECKF(errlen > 200 && !strncmp(e, "{\"scmalloc\": {", 14) && strstr(e, "\"stats\""),
                   "stats_print_opts:J: stderr at exit is not the JSON statistics: %.200s", e);
        } else if (!strcmp(m->mode, "bogus")) {
            CHECKF(count_lines(e) == 1 && strstr(e, "bogus"),
                   "bogus:1: want one warning line naming \"bogus\", stderr has %d lines: %.300s",
                   count_lines(e), e);
        } else {
            CHECKF(errlen == 0, "SCMALLOC_CONF=%s: unexpected stderr: %.600s",
                   m->conf ? m->conf : "(unset)", e);
        }
        free(err);
    }
    return harness_summary();
}
