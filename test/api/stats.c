/*
 * stats.c: the statistics and control interface. stats.allocated follows
 * the live bytes (up by at least what is allocated, back to the baseline
 * once freed and the thread cache flushed) for small, large and huge
 * blocks; allocated <= active <= mapped; thread.allocated and
 * thread.deallocated count; version is SCMALLOC_VERSION; arenas.narenas
 * >= 1; sc_ctl answers ENOENT for unknown names, EINVAL for a wrong
 * *oldlenp, EPERM for writing a read-only name; sc_stats_print writes JSON
 * that parses ("J", checked here and by python3 when present) and text
 * (NULL opts), to a callback or, with a NULL callback, to stderr; a
 * freed huge mapping decays, and splitting a cached one gives no backed
 * page back; a block of more than 256 KiB is a huge block, one of 256 KiB
 * is not, one of 300 KiB takes no cached mapping of more than twice that,
 * past 4096 live huge blocks those up to 2 MiB go to the arenas
 * (stats.huge.count stops there), a cached mapping of 1 MiB goes
 * sooner than the decay time, and one of 900 KiB that no cached mapping
 * fits grows the longest shorter one where it is; sc_heap_check()
 * returns 0.
 */
#include "family.h"
#include <fcntl.h>
#include <stdbool.h>

/* ---- a strict JSON syntax checker (RFC 8259), enough to reject broken
 * output without relying on python being installed ---- */
typedef struct { const char *s; int depth; } json_t;

static void json_ws(json_t *j)
{
    while (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')
        j->s++;
}

static int json_value(json_t *j);

static int json_string(json_t *j)
{
    if (*j->s != '"')
        return 0;
    j->s++;
    while (*j->s != '"') {
        unsigned char c = (unsigned char)*j->s;
        if (c == 0 || c < 0x20)
            return 0;
        if (c == '\\') {
            j->s++;
            if (*j->s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", j->s[i]) || !j->s[i])
                        return 0;
                j->s += 5;
                continue;
            }
            if (!*j->s || !strchr("\"\\/bfnrt", *j->s))
                return 0;
        }
        j->s++;
    }
    j->s++;
    return 1;
}

static int json_number(json_t *j)
{
    const char *s = j->s;
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    j->s = s;
    return 1;
}

static int json_value(json_t *j)
{
    if (++j->depth > 200)
        return 0;
    json_ws(j);
    int ok = 0;
    switch (*j->s) {
    case '{':
        j->s++;
        json_ws(j);
        if (*j->s == '}') {
            j->s++;
            ok = 1;
            break;
        }
        for (;;) {
            json_ws(j);
            if (!json_string(j))
                return 0;
            json_ws(j);
            if (*j->s++ != ':')
                return 0;
            if (!json_value(j))
                return 0;
            json_ws(j);
            if (*j->s == ',') {
                j->s++;
                continue;
            }
            if (*j->s++ != '}')
                return 0;
            ok = 1;
            break;
        }
        break;
    case '[':
        j->s++;
        json_ws(j);
        if (*j->s == ']') {
            j->s++;
            ok = 1;
            break;
        }
        for (;;) {
            if (!json_value(j))
                return 0;
            json_ws(j);
            if (*j->s == ',') {
                j->s++;
                continue;
            }
            if (*j->s++ != ']')
                return 0;
            ok = 1;
            break;
        }
        break;
    case '"':
        ok = json_string(j);
        break;
    case 't':
        ok = strncmp(j->s, "true", 4) == 0 && (j->s += 4);
        break;
    case 'f':
        ok = strncmp(j->s, "false", 5) == 0 && (j->s += 5);
        break;
    case 'n':
        ok = strncmp(j->s, "null", 4) == 0 && (j->s += 4);
        break;
    default:
        ok = json_number(j);
    }
    j->depth--;
    return ok;
}

/* 1 when text is one JSON object and nothing but white space after it. */
static int json_valid_object(const char *text, const char **where)
{
    json_t j = { text, 0 };
    json_ws(&j);
    int ok = *j.s == '{' && json_value(&j);
    json_ws(&j);
    *where = j.s;
    return ok && *j.s == 0;
}

/* ---- a growing text buffer fed by sc_stats_print's callback ---- */
typedef struct { char *buf; size_t len, cap; int calls; } sink_t;

static void sink_write(void *opaque, const char *text)
{
    sink_t *s = opaque;
    size_t n = strlen(text);
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        if (!s->buf)
            abort();
    }
    memcpy(s->buf + s->len, text, n + 1);
    s->len += n;
    s->calls++;
}

static const char *python3_path(void)
{
    if (access("/usr/bin/python3", X_OK) == 0)
        return "/usr/bin/python3";
    return run_shell("command -v python3 >/dev/null 2>&1") == 0 ? "python3" : NULL;
}

static void check_stats_print(void)
{
    /* some live memory in every kind, so the report has rows */
    void *keep[3] = { malloc(40), malloc(100 << 10), malloc(6 << 20) };

    sink_t js = { 0 };
    sc_stats_print(sink_write, &js, "J");
    CHECKF(js.calls > 0 && js.len > 2, "sc_stats_print(\"J\") wrote nothing");
    if (js.buf) {
        const char *where;
        int ok = json_valid_object(js.buf, &where);
        CHECKF(ok, "sc_stats_print(\"J\") is not one JSON object: error near offset %zu: %.60s",
               (size_t)(where - js.buf), where);
        CHECKF(strstr(js.buf, "allocated") != NULL, "JSON stats do not mention \"allocated\"");

        char path[512], cmd[1200];
        snprintf(path, sizeof path, "%s/stats-%d.json", scratch_dir(), (int)getpid());
        FILE *fp = fopen(path, "w");
        REQUIRE(fp != NULL);
        fwrite(js.buf, 1, js.len, fp);
        fclose(fp);
        const char *py = python3_path();
        if (py) {
            snprintf(cmd, sizeof cmd,
                     "%s -c 'import json,sys; d=json.load(sys.stdin); "
                     "sys.exit(0 if isinstance(d, dict) else 3)' < '%s'", py, path);
            int rc = run_shell(cmd);
            CHECKF(rc == 0, "python3 json.load of sc_stats_print(\"J\") output failed "
                   "(exit %d); the output is in %s", rc, path);
            if (rc == 0)
                unlink(path);
        } else {
            fprintf(stderr, "note: no python3, JSON checked by the built-in parser only\n");
            unlink(path);
        }
    }
    free(js.buf);

    sink_t tx = { 0 };
    sc_stats_print(sink_write, &tx, NULL);
    CHECKF(tx.len > 20, "sc_stats_print(NULL opts) wrote %zu bytes", tx.len);
    if (tx.buf)
        CHECKF(strstr(tx.buf, "allocated") != NULL, "text stats do not mention \"allocated\"");
    free(tx.buf);

    /* a NULL callback writes to stderr: catch fd 2 in a file */
    char path[512];
    snprintf(path, sizeof path, "%s/stats-%d.txt", scratch_dir(), (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    sc_stats_print(NULL, NULL, NULL);
    dup2(saved, 2);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    CHECKF(n > 20, "sc_stats_print(NULL, NULL, NULL) wrote %ld bytes to stderr", (long)n);

    for (int i = 0; i < 3; i++)
        free(keep[i]);
}

static void check_allocated_follows(void)
{
    const struct { size_t size; int count; } kinds[] = {
        { 24, 5000 }, { 1000, 3000 }, { 100 << 10, 40 }, { 6 << 20, 3 },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t size = kinds[k].size;
        int count = kinds[k].count;
        void **v = malloc(count * sizeof *v);
        REQUIRE(v != NULL);
        size_t base = live_bytes();
        for (int i = 0; i < count; i++) {
            v[i] = malloc(size);
            REQUIRE(v[i] != NULL);
        }
        size_t with = live_bytes();
        CHECKF(with >= base + size * count && with <= base + (size + size / 4 + 4096) * count,
               "stats.allocated %zu -> %zu after %d x %zu bytes", base, with, count, size);
        size_t active = ctl_read_size("stats.active");
        size_t mapped = ctl_read_size("stats.mapped");
        CHECKF(with <= active && active <= mapped,
               "want allocated <= active <= mapped, have %zu, %zu, %zu", with, active, mapped);
        for (int i = 0; i < count; i++)
            free(v[i]);
        size_t after = live_bytes();
        CHECKF(after == base, "stats.allocated %zu -> %zu -> %zu: %d x %zu bytes freed, "
               "tcache flushed", base, with, after, count, size);
        free(v);
    }
}

static void check_thread_counters(void)
{
    uint64_t a0, a1, d0, d1;
    size_t len = sizeof a0;
    CHECK(sc_ctl("thread.allocated", &a0, &len, NULL, 0) == 0 && len == 8);
    len = 8;
    CHECK(sc_ctl("thread.deallocated", &d0, &len, NULL, 0) == 0);
    char *p = opaque_ptr(malloc(5000));
    REQUIRE(p != NULL);
    memset(p, 1, 5000);
    len = 8;
    CHECK(sc_ctl("thread.allocated", &a1, &len, NULL, 0) == 0);
    CHECKF(a1 >= a0 + 5000, "thread.allocated %llu -> %llu after malloc(5000)",
           (unsigned long long)a0, (unsigned long long)a1);
    free(p);
    len = 8;
    CHECK(sc_ctl("thread.deallocated", &d1, &len, NULL, 0) == 0);
    CHECKF(d1 >= d0 + 5000, "thread.deallocated %llu -> %llu after free of 5000 bytes",
           (unsigned long long)d0, (unsigned long long)d1);

    /* Exact through the fast paths and the slow ones: 3000 blocks of one
     * class are more than a thread cache holds, so some come from fills and
     * go back in flushes; every one counts its class size (48, or 64 with
     * secure's canary), on the way out and on the way back. */
    enum { N = 3000 };
    static void *v[N];
    len = 8;
    CHECK(sc_ctl("thread.allocated", &a0, &len, NULL, 0) == 0);
    len = 8;
    CHECK(sc_ctl("thread.deallocated", &d0, &len, NULL, 0) == 0);
    for (int i = 0; i < N; i++) REQUIRE((v[i] = opaque_ptr(malloc(48))) != NULL);
    len = 8;
    CHECK(sc_ctl("thread.allocated", &a1, &len, NULL, 0) == 0);
    uint64_t grew = a1 - a0;
    CHECKF(grew % N == 0 && grew / N >= 48 && grew / N <= 64,
           "thread.allocated grew by %llu after %d malloc(48): not %d times one class size",
           (unsigned long long)grew, N, N);
    for (int i = 0; i < N; i++) free(v[i]);
    len = 8;
    CHECK(sc_ctl("thread.deallocated", &d1, &len, NULL, 0) == 0);
    CHECKF(d1 - d0 == grew, "thread.deallocated grew by %llu after %d free, not %llu",
           (unsigned long long)(d1 - d0), N, (unsigned long long)grew);
}

static void check_ctl_errors(void)
{
    size_t v, len;
    uint64_t one = 1;

    len = sizeof v;
    CHECK(sc_ctl("no.such.name", &v, &len, NULL, 0) == ENOENT);
    len = sizeof v;
    CHECK(sc_ctl("stats.allocatedx", &v, &len, NULL, 0) == ENOENT);
    len = sizeof v;
    CHECK(sc_ctl("", &v, &len, NULL, 0) == ENOENT);
    CHECK(sc_ctl("stats", NULL, NULL, NULL, 0) == ENOENT);

    len = 4; /* size_t is 8 */
    int r = sc_ctl("stats.allocated", &v, &len, NULL, 0);
    CHECKF(r == EINVAL, "stats.allocated with *oldlenp 4 returned %d", r);
    len = 16;
    r = sc_ctl("stats.allocated", &v, &len, NULL, 0);
    CHECKF(r == EINVAL, "stats.allocated with *oldlenp 16 returned %d", r);
    r = sc_ctl("epoch", NULL, NULL, &one, 4);
    CHECKF(r == EINVAL, "epoch written with newlen 4 returned %d", r);

    len = sizeof v;
    r = sc_ctl("stats.allocated", &v, &len, &v, sizeof v);
    CHECKF(r == EPERM, "writing stats.allocated returned %d, want EPERM", r);

    CHECK(sc_ctl("epoch", NULL, NULL, &one, sizeof one) == 0);
    uint64_t e = 0;
    len = sizeof e;
    CHECK(sc_ctl("epoch", &e, &len, NULL, 0) == 0 && len == sizeof e);

    const char *ver = NULL;
    len = sizeof ver;
    r = sc_ctl("version", &ver, &len, NULL, 0);
    CHECKF(r == 0 && ver && strcmp(ver, SCMALLOC_VERSION) == 0, "version: %d, \"%s\"", r,
           ver ? ver : "(null)");

    unsigned na = 0;
    len = sizeof na;
    r = sc_ctl("arenas.narenas", &na, &len, NULL, 0);
    CHECKF(r == 0 && na >= 1, "arenas.narenas: %d, %u", r, na);

    const char *names[] = { "stats.allocated", "stats.active", "stats.resident",
                            "stats.mapped", "stats.retained", "stats.dirty" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        len = sizeof v;
        r = sc_ctl(names[i], &v, &len, NULL, 0);
        CHECKF(r == 0 && len == sizeof v, "sc_ctl(\"%s\") returned %d", names[i], r);
    }
    CHECK(sc_ctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
}

/* Slow paths: fills and flushes of a few classes, many GC passes of the
 * thread cache (which decay the huge cache). */
static void small_activity(void)
{
    static void *v[20000];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20000; i++) REQUIRE((v[i] = malloc(16 + (size_t)(i % 7) * 48)) != NULL);
        for (int i = 0; i < 20000; i++) free(v[i]);
    }
}

/* A freed huge block's mapping is cached for reuse; once it is older than
 * dirty_decay_ms, small-allocation activity alone gives it back (the
 * thread cache's GC pass), without any further huge call. */
static void check_huge_cache_decays(void)
{
    int64_t decay = 50, old = 0;
    size_t len = sizeof old;
    REQUIRE(sc_ctl("opt.dirty_decay_ms", &old, &len, &decay, sizeof decay) == 0);
    const size_t big = 24 << 20;
    char *h = malloc(big);
    REQUIRE(h != NULL);
    memset(h, 1, big);
    size_t mapped_live = ctl_read_size("stats.mapped");
    free(h);
    size_t mapped_freed = ctl_read_size("stats.mapped");
    CHECKF(mapped_freed + big > mapped_live, "a freed huge block was not cached: stats.mapped %zu -> %zu",
           mapped_live, mapped_freed);
    usleep(150 * 1000);
    small_activity();
    size_t mapped_after = ctl_read_size("stats.mapped");
    CHECKF(mapped_after + big <= mapped_freed,
           "stats.mapped %zu with a huge block, %zu once freed, %zu after the decay time and small activity",
           mapped_live, mapped_freed, mapped_after);
    REQUIRE(sc_ctl("opt.dirty_decay_ms", NULL, NULL, &old, sizeof old) == 0);
}

/* The same with activity that the thread cache serves alone (one small
 * block allocated and freed again and again: no slow path at all), as in
 * a server that went back to small requests after a burst of big ones:
 * the fast path's periodic tick runs the decay. */
static void check_huge_cache_decays_cache_only(void)
{
    int64_t decay = 50, old = 0;
    size_t len = sizeof old;
    REQUIRE(sc_ctl("opt.dirty_decay_ms", &old, &len, &decay, sizeof decay) == 0);
    void *warm = malloc(48); /* the class's stack holds a region from now on */
    REQUIRE(warm != NULL);
    free(warm);
    const size_t big = 24 << 20;
    char *h = malloc(big);
    REQUIRE(h != NULL);
    memset(h, 1, big);
    free(h);
    size_t mapped_freed = ctl_read_size("stats.mapped");
    usleep(150 * 1000);
    for (int i = 0; i < 100000; i++) {
        void *p = malloc(48);
        REQUIRE(p != NULL);
        *(volatile char *)p = 1;
        free(p);
    }
    size_t mapped_after = ctl_read_size("stats.mapped");
    CHECKF(mapped_after + big <= mapped_freed,
           "stats.mapped %zu once a huge block was freed, %zu after the decay time and 100000 cached malloc/free",
           mapped_freed, mapped_after);
    REQUIRE(sc_ctl("opt.dirty_decay_ms", NULL, NULL, &old, sizeof old) == 0);
}

/* With the default dirty_decay_ms (10 s), the cached mapping of a block
 * that an arena could have held (1 MiB) goes after about 50 ms of small
 * activity; that of a longer block (8 MiB) stays. */
static void check_small_huge_decays_sooner(void)
{
    const size_t mib = 1 << 20;
    sc_malloc_trim(0); /* an empty huge cache */
    char *small = malloc(mib), *large = malloc(8 * mib);
    REQUIRE(small != NULL && large != NULL);
    memset(small, 1, mib);
    memset(large, 1, 8 * mib);
    free(small);
    free(large);
    size_t cached = ctl_read_size("stats.mapped");
    usleep(250 * 1000);
    small_activity();
    size_t after = ctl_read_size("stats.mapped");
    CHECKF(after + mib <= cached && after + 8 * mib > cached,
           "stats.mapped %zu with a 1 MiB and an 8 MiB mapping cached, %zu 250 ms later: want the 1 MiB one gone, "
           "the 8 MiB one kept", cached, after);
    sc_malloc_trim(0);
}

/* Taking a cached huge mapping for a shorter block gives the block the
 * pages up to the next chunk boundary instead of unmapping them, and keeps
 * the rest cached: no backed page is given back on the way; the block
 * grows into the cached pages behind it where it is; and a block that
 * takes the rest is resident before it is written. */
static void check_huge_split_keeps_pages(void)
{
    bool secure = false;
    size_t slen = sizeof secure;
    REQUIRE(sc_ctl("opt.secure", &secure, &slen, NULL, 0) == 0);
    if (secure) return; /* there the first page past the block is its guard */
    int64_t decay = 60000, old = 0;
    size_t len = sizeof old;
    REQUIRE(sc_ctl("opt.dirty_decay_ms", &old, &len, &decay, sizeof decay) == 0);
    sc_malloc_trim(0); /* an empty huge cache */
    const size_t mib = 1 << 20;
    char *a = malloc(16 * mib);
    REQUIRE(a != NULL);
    memset(a, 0x33, 16 * mib);
    free(a);
    size_t mapped_cached = ctl_read_size("stats.mapped");
    char *b = malloc(5 * mib); /* takes a: 8 MiB for the block, 8 MiB stay cached */
    REQUIRE(b != NULL);
    CHECKF(b == a, "a 5 MiB block did not take the cached 16 MiB mapping (%p, %p)", (void *)a, (void *)b);
    CHECKF(malloc_usable_size(b) == 8 * mib, "a 5 MiB block split from a cached mapping has %zu usable bytes, want 8 MiB",
           malloc_usable_size(b));
    size_t mapped_split = ctl_read_size("stats.mapped");
    CHECKF(mapped_split == mapped_cached, "stats.mapped %zu with the cached 16 MiB, %zu once split: pages were given back",
           mapped_cached, mapped_split);
    /* Growing b takes the cached pages right behind it, where it is. */
    memset(b, 0x44, 5 * mib);
    char *g = realloc(b, 12 * mib);
    REQUIRE(g != NULL);
    CHECKF(g == b, "a block did not grow into the cached pages behind it (%p -> %p)", (void *)b, (void *)g);
    CHECKF(find_byte_not(g, 5 * mib, 0x44) == (size_t)-1, "a block grown into cached pages lost its bytes");
    CHECKF(ctl_read_size("stats.mapped") == mapped_cached, "stats.mapped %zu after growing into cached pages, want %zu",
           ctl_read_size("stats.mapped"), mapped_cached);
    b = g;
    char *c = malloc(4 * mib);
    REQUIRE(c != NULL);
    CHECKF(c == a + 12 * mib, "a 4 MiB block did not take the cached rest (%p, want %p)", (void *)c, (void *)(a + 12 * mib));
    size_t pages = 4 * mib / 4096, resident = 0;
    unsigned char *in_core = malloc(pages);
    REQUIRE(in_core != NULL);
    REQUIRE(mincore(c, 4 * mib, in_core) == 0);
    for (size_t i = 0; i < pages; i++) resident += in_core[i] & 1;
    CHECKF(resident == pages, "the cached rest has %zu of %zu pages resident", resident, pages);
    free(in_core);
    free(b);
    free(c);
    REQUIRE(sc_ctl("opt.dirty_decay_ms", NULL, NULL, &old, sizeof old) == 0);
}

/* A block up to 2 MiB that no cached mapping fits, with only shorter ones
 * cached, grows the longest of them where it is (no page moves): it gets
 * that mapping's address, and calloc clears the old bytes. Not in secure
 * mode (a guard page lies behind every mapping). Nothing decays meanwhile
 * (dirty_decay_ms -1), however slow the variant. */
static void check_huge_grows_shorter_cached(void)
{
    bool secure = false;
    size_t slen = sizeof secure;
    REQUIRE(sc_ctl("opt.secure", &secure, &slen, NULL, 0) == 0);
    if (secure) return;
    int64_t decay = -1, old = 0;
    size_t len = sizeof old;
    REQUIRE(sc_ctl("opt.dirty_decay_ms", &old, &len, &decay, sizeof decay) == 0);
    const size_t kib = 1024;
    sc_malloc_trim(0); /* an empty huge cache */
    char *a = malloc(300 * kib), *b = malloc(400 * kib);
    REQUIRE(a != NULL && b != NULL);
    memset(a, 0x5a, 300 * kib);
    memset(b, 0x5a, 400 * kib);
    free(a);
    free(b);
    char *c = calloc(1, 900 * kib);
    REQUIRE(c != NULL);
    CHECKF(c == b, "calloc(900 KiB) with mappings of 300 and 400 KiB cached: %p, want the longer one grown where it is (%p)",
           (void *)c, (void *)b);
    CHECKF(malloc_usable_size(c) >= 900 * kib, "calloc(900 KiB) has %zu usable bytes", malloc_usable_size(c));
    size_t at = find_byte_not(c, 900 * kib, 0);
    CHECKF(at == (size_t)-1, "calloc(900 KiB) from a grown cached mapping: byte %zu is not zero", at);
    free(c);
    REQUIRE(sc_ctl("opt.dirty_decay_ms", NULL, NULL, &old, sizeof old) == 0);
    sc_malloc_trim(0);
}

/* Blocks over SC_HUGE_MIN (256 KiB) get a mapping of their own; with
 * SC_HUGE_MAX_OWN (4096) of them live, the next ones up to 2 MiB are page
 * runs in an arena, so that a program with many such blocks does not run
 * out of kernel VMAs (vm.max_map_count). The blocks are only touched at
 * their first byte: 1.2 GB of address space, a few MB resident. */
static void check_huge_route(void)
{
    enum { CAP = 4096, N = CAP + 16 };
    const size_t kib = 1024;
    size_t base = ctl_read_size("stats.huge.count");
    char *a = malloc(256 * kib), *b = malloc(256 * kib + 1);
    REQUIRE(a != NULL && b != NULL);
    CHECKF(ctl_read_size("stats.huge.count") == base + 1,
           "malloc(256 KiB) and malloc(256 KiB + 1): huge blocks %zu -> %zu, want one more",
           base, ctl_read_size("stats.huge.count"));
    free(a);
    free(b);
    /* With a 16 MiB mapping cached, a 300 KiB block takes at most twice
     * its size, not the cached pages up to the first chunk boundary. */
    char *big = malloc(16 << 20);
    REQUIRE(big != NULL);
    memset(big, 1, 16 << 20);
    free(big);
    char *c = malloc(300 * kib);
    REQUIRE(c != NULL);
    CHECKF(malloc_usable_size(c) <= 600 * kib, "malloc(300 KiB) with 16 MiB cached: %zu usable bytes, want at most 600 KiB",
           malloc_usable_size(c));
    free(c);
    static char *v[N];
    for (int i = 0; i < N; i++) {
        REQUIRE((v[i] = malloc(300 * kib)) != NULL);
        v[i][0] = (char)i;
    }
    size_t n = ctl_read_size("stats.huge.count");
    CHECKF(n >= CAP && n < base + N, "%d blocks of 300 KiB live: %zu huge blocks (%zu before), want %d and the rest in arenas",
           N, n, base, CAP);
    for (int i = 0; i < N; i++) {
        CHECKF(v[i][0] == (char)i, "block %d lost its first byte", i);
        free(v[i]);
    }
    CHECKF(ctl_read_size("stats.huge.count") == base, "huge blocks %zu after freeing them all, want %zu",
           ctl_read_size("stats.huge.count"), base);
    sc_malloc_trim(0);
}

int main(void)
{
    check_ctl_errors();
    check_allocated_follows();
    check_thread_counters();
    check_stats_print();
    check_huge_cache_decays();
    check_huge_cache_decays_cache_only();
    check_small_huge_decays_sooner();
    check_huge_split_keeps_pages();
    check_huge_grows_shorter_cached();
    check_huge_route();
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
