/*
 * secure_guard.c: the guard pages of secure mode (SCMALLOC_CONF=secure:true;
 * the program re-executes itself with it, since the allocator reads its
 * options before main). Seen from outside, through /proc/self/maps and by
 * children that touch the guards:
 *   - every huge block, fresh, reused from the cache (whole, trimmed or
 *     split), grown and shrunk by realloc, has a PROT_NONE page right after
 *     its malloc_usable_size bytes: writing one byte past them dies by
 *     SIGSEGV, writing the last usable byte does not;
 *   - every arena chunk has exactly two PROT_NONE pages: the one after its
 *     header and its last page; writing to either dies by SIGSEGV, both
 *     survive a chunk emptied and kept as the spare, and no small or large
 *     block ever overlaps one; the large block that ends where the back
 *     guard begins faults when written one byte past its end;
 *   - a heavy mix of small, large and huge mallocs, reallocs and frees
 *     keeps sc_heap_check() at 0, blocks intact, and stats.allocated back
 *     at its start value once everything is freed.
 *
 * SCTEST: timeout=120
 */
#include "family.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/wait.h>

#define CHUNK ((size_t)4 << 20)
#define MiB ((size_t)1 << 20)

static size_t pg;

/* ---- /proc/self/maps, read without allocating ---- */

typedef struct range { uintptr_t lo, hi; char perms[5]; } range_t;

#define MAX_RANGES 16384
static range_t ranges[MAX_RANGES];
static size_t nranges;
static char maps_buf[4 << 20];

static uintptr_t parse_hex(const char **s)
{
    uintptr_t v = 0;
    for (;; (*s)++) {
        char c = **s;
        if (c >= '0' && c <= '9') v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else return v;
    }
}

static void maps_read(void)
{
    read_proc_file("/proc/self/maps", maps_buf, sizeof maps_buf);
    nranges = 0;
    for (const char *s = maps_buf; *s && nranges < MAX_RANGES;) {
        range_t *r = &ranges[nranges++];
        r->lo = parse_hex(&s);
        s++; /* '-' */
        r->hi = parse_hex(&s);
        s++; /* ' ' */
        memcpy(r->perms, s, 4);
        r->perms[4] = 0;
        s = strchr(s, '\n');
        if (!s) break;
        s++;
    }
    REQUIRE(nranges > 0 && nranges < MAX_RANGES);
}

/* The permissions of the mapping holding a ("" if none), from the last
 * maps_read(). */
static const char *perms_at(uintptr_t a)
{
    for (size_t i = 0; i < nranges; i++)
        if (a >= ranges[i].lo && a < ranges[i].hi) return ranges[i].perms;
    return "";
}

static int is_guard(uintptr_t a) { return strcmp(perms_at(a), "---p") == 0; }
static int is_rw(uintptr_t a) { return strncmp(perms_at(a), "rw", 2) == 0; }

/* Whether some inaccessible page lies in [lo, hi). */
static int guard_inside(uintptr_t lo, uintptr_t hi)
{
    for (size_t i = 0; i < nranges; i++)
        if (!strcmp(ranges[i].perms, "---p") && ranges[i].lo < hi && ranges[i].hi > lo) return 1;
    return 0;
}

/* ---- touching from a child ---- */

/* How a child that writes one byte at a ends: the signal that killed it, or
 * 0 when it exited normally. */
static int write_signal(uintptr_t a)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* not a sanitizer's handler */
        *(volatile char *)a = 1;
        _exit(0);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    if (WIFSIGNALED(st)) return WTERMSIG(st);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

#define CHECK_FAULTS(a, what, ...)                                                   \
    do {                                                                             \
        int sig_ = write_signal(a);                                                  \
        CHECKF(sig_ == SIGSEGV, "writing %p (" what ") ended with signal %d, want SIGSEGV", \
               (void *)(a), __VA_ARGS__, sig_);                                      \
    } while (0)

#define CHECK_WRITABLE(a, what, ...)                                                 \
    do {                                                                             \
        int sig_ = write_signal(a);                                                  \
        CHECKF(sig_ == 0, "writing %p (" what ") ended with signal %d, want none",   \
               (void *)(a), __VA_ARGS__, sig_);                                      \
    } while (0)

/* ---- huge blocks ---- */

/* The guard right after p's usable bytes, seen in the maps and by a child. */
static void check_huge_guard(void *p, const char *what, int by_child)
{
    size_t u = malloc_usable_size(p);
    uintptr_t end = (uintptr_t)p + u;
    maps_read();
    CHECKF(u % pg == 0, "%s: usable size %zu is not whole pages", what, u);
    CHECKF(is_rw((uintptr_t)p) && is_rw(end - 1), "%s: %p + %zu not all read-write (%s, %s)", what, p, u,
           perms_at((uintptr_t)p), perms_at(end - 1));
    CHECKF(!guard_inside((uintptr_t)p, end), "%s: a guard page inside the block %p + %zu", what, p, u);
    CHECKF(is_guard(end), "%s: the page after %p + %zu is \"%s\", want \"---p\"", what, p, u, perms_at(end));
    if (by_child) {
        CHECK_FAULTS(end, "%s, one past the usable size", what);
        CHECK_WRITABLE(end - 1, "%s, the last usable byte", what);
    }
}

static void check_huge(void)
{
    /* Fresh mappings: just above the large limit, a whole chunk (the guard
     * is in the next chunk-sized slot), odd sizes, a large alignment. */
    size_t sizes[] = { 2 * MiB + 1, 3 * MiB, 4 * MiB, 5 * MiB + 123, 9 * MiB - 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = malloc(sizes[i]);
        REQUIRE(p);
        CHECKF(malloc_usable_size(p) >= sizes[i], "usable %zu < %zu", malloc_usable_size(p), sizes[i]);
        fill_sparse(p, sizes[i], i);
        check_huge_guard(p, "fresh huge block", 1);
        CHECK(sparse_ok(p, sizes[i], i));
        free(p);
    }
    void *al = NULL;
    CHECK(posix_memalign(&al, 8 * MiB, 3 * MiB) == 0 && is_aligned(al, 8 * MiB));
    check_huge_guard(al, "8 MiB-aligned huge block", 1);
    free(al);

    /* realloc: growth (moves in secure mode), shrink (a new guard at the
     * new end), growth again; the content follows. */
    size_t n = 3 * MiB;
    char *p = malloc(n);
    REQUIRE(p);
    fill_sparse(p, n, 77);
    size_t steps[] = { 20 * MiB, 6 * MiB + 5, 6 * MiB - pg, 13 * MiB, 3 * MiB };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t m = steps[i];
        char *q = realloc(p, m);
        REQUIRE(q);
        size_t keep = n < m ? n : m;
        if (keep == n) CHECKF(sparse_ok(q, keep, 77), "realloc %zu -> %zu lost the content", n, m);
        else CHECKF(sparse_ok(q, 64 << 10, 77), "realloc %zu -> %zu lost the content", n, m);
        p = q;
        n = m;
        fill_sparse(p, n, 77);
        check_huge_guard(p, "realloc'ed huge block", i == 1 || i == 3);
    }
    free(p);

    /* The cache of freed mappings: a live block raises the cache limit; a
     * freed 40 MiB mapping is split (10 MiB taken, the tail cached), the
     * tail then taken whole; a freed 6 MiB one is trimmed to 4.5 MiB. */
    char *hold = malloc(24 * MiB);
    REQUIRE(hold);
    char *big = malloc(40 * MiB);
    REQUIRE(big);
    big[0] = 1;
    free(big);
    char *a = malloc(10 * MiB);
    REQUIRE(a);
    check_huge_guard(a, "huge block split from a cached one", 1);
    char *b = malloc(27 * MiB);
    REQUIRE(b);
    check_huge_guard(b, "huge block taken whole from the cache", 1);
    char *c = malloc(6 * MiB);
    REQUIRE(c);
    free(c);
    char *d = malloc(4 * MiB + MiB / 2);
    REQUIRE(d);
    check_huge_guard(d, "huge block trimmed from a cached one", 1);
    if (a != big || d != c)
        fprintf(stderr, "note: the cache was not used as expected (%p %p, %p %p)\n",
                (void *)a, (void *)big, (void *)d, (void *)c);
    free(a);
    free(b);
    free(d);
    free(hold);
    malloc_trim(0);
}

/* ---- arena chunks ---- */

/* The inaccessible pages of the chunk holding p: exactly two, the one
 * after the header and the last; both fault. */
static void check_chunk_guards(void *p, const char *what, int by_child)
{
    uintptr_t base = (uintptr_t)p & ~(CHUNK - 1), end = base + CHUNK;
    maps_read();
    uintptr_t found[4];
    size_t nfound = 0;
    for (uintptr_t a = base; a < end; a += pg)
        if (is_guard(a) && nfound < 4) found[nfound++] = a;
    CHECKF(nfound == 2, "%s: chunk %p has %zu guard pages, want 2", what, (void *)base, nfound);
    if (nfound != 2) return;
    CHECKF(is_rw(base) && is_rw(found[0] - 1), "%s: chunk %p: header not read-write", what, (void *)base);
    CHECKF(found[0] > base && found[0] - base <= 64 * pg,
           "%s: chunk %p: front guard at +%#zx, want right after the header", what, (void *)base,
           (size_t)(found[0] - base));
    CHECKF(found[1] == end - pg, "%s: chunk %p: back guard at +%#zx, want the last page", what, (void *)base,
           (size_t)(found[1] - base));
    CHECKF(is_rw(found[0] + pg) && is_rw(end - pg - 1), "%s: chunk %p: runs not read-write", what, (void *)base);
    if (by_child) {
        CHECK_FAULTS(found[0], "%s: the page after the chunk header", what);
        CHECK_FAULTS(found[1], "%s: the last page of the chunk", what);
        CHECK_FAULTS(end - 1, "%s: the last byte of the chunk", what);
    }
}

static void check_chunks(void)
{
    char *s = malloc(64);
    char *l = malloc(100 << 10);
    REQUIRE(s && l);
    check_chunk_guards(s, "small block's chunk", 1);
    check_chunk_guards(l, "large block's chunk", 0);

    /* Fill chunks with 256 KiB blocks: none may overlap a guard. */
    enum { N = 64 };
    char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = malloc(256 << 10);
        REQUIRE(v[i]);
    }
    maps_read();
    for (int i = 0; i < N; i++) {
        size_t u = malloc_usable_size(v[i]);
        CHECKF(!guard_inside((uintptr_t)v[i], (uintptr_t)v[i] + u), "large block %p + %zu overlaps a guard page",
               (void *)v[i], u);
    }

    /* A large block that ends where its chunk's back guard begins: blocks
     * of 256 KiB (the longest that malloc places in an arena; longer ones
     * get mappings of their own) until one ends at most 256 KiB before
     * that guard, then one of exactly the bytes left (best fit hands out
     * that rest). A dirty run elsewhere may be taken first, hence the
     * tries. */
    enum { TRIES = 64 };
    char *t[2 * TRIES] = {0};
    int nt = 0, tail_seen = 0;
    for (int k = 0; k < TRIES && !tail_seen; k++) {
        char *a = malloc(256 << 10);
        REQUIRE(a);
        t[nt++] = a;
        uintptr_t back = ((uintptr_t)a & ~(CHUNK - 1)) + CHUNK - pg, end = (uintptr_t)a + malloc_usable_size(a);
        char *b = a;
        if (end < back) {
            /* small or thread-cached below 64 KiB: not carved from that rest */
            if (back - end <= (64 << 10) || back - end > (256 << 10)) continue;
            b = malloc(back - end);
            REQUIRE(b);
            t[nt++] = b;
            end = (uintptr_t)b + malloc_usable_size(b);
        }
        if (end != back) continue;
        maps_read();
        CHECKF(is_guard(end), "the page after the large block %p, the last of its chunk, is \"%s\"", (void *)b,
               perms_at(end));
        CHECK_FAULTS(end, "one past the large block %p at the end of its chunk", (void *)b);
        CHECK_WRITABLE(end - 1, "the last byte of the large block %p", (void *)b);
        tail_seen = 1;
    }
    CHECKF(tail_seen, "no large block could be placed at the end of a chunk in %d tries", TRIES);
    for (int k = 0; k < nt; k++) free(t[k]);
    /* Small blocks, many slabs: none overlaps a guard. */
    enum { NS = 20000 };
    static char *sm[NS];
    for (int i = 0; i < NS; i++) {
        sm[i] = malloc(16 + (size_t)(i % 97) * 40);
        REQUIRE(sm[i]);
    }
    maps_read();
    for (int i = 0; i < NS; i++) {
        size_t u = malloc_usable_size(sm[i]);
        if (guard_inside((uintptr_t)sm[i], (uintptr_t)sm[i] + u)) {
            FAILF("small block %p + %zu overlaps a guard page", (void *)sm[i], u);
            break;
        }
    }
    for (int i = 0; i < NS; i++) free(sm[i]);

    /* Empty the chunks and give everything back: the chunk kept as the
     * spare keeps its guards, as does any chunk carved again. */
    for (int i = 0; i < N; i++) free(v[i]);
    free(l);
    free(s);
    tcache_flush();
    malloc_trim(0);
    CHECKF(sc_heap_check() == 0, "heap check after emptying chunks");
    char *again = malloc(200 << 10);
    REQUIRE(again);
    check_chunk_guards(again, "chunk reused after trim", 1);
    free(again);
}

/* ---- a heavy mix ---- */

static size_t mix_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng) % 100;
    if (r < 60) return 1 + rng_next(rng) % 1024;
    if (r < 80) return 1 + rng_next(rng) % (64 << 10);
    if (r < 93) return (64 << 10) + rng_next(rng) % (2 * MiB);
    return 2 * MiB + rng_next(rng) % (14 * MiB);
}

static void check_mix(void)
{
    enum { SLOTS = 400, OPS = 30000 };
    static char *blk[SLOTS];
    static size_t len[SLOTS];
    uint64_t rng = 12345;
    size_t base = live_bytes();
    for (int op = 0; op < OPS; op++) {
        int i = (int)(rng_next(&rng) % SLOTS);
        if (blk[i]) {
            if (!sparse_ok(blk[i], len[i], (uint64_t)i)) {
                FAILF("op %d: block %p of %zu bytes changed", op, (void *)blk[i], len[i]);
                break;
            }
            if (rng_next(&rng) % 3 == 0) {
                size_t n = mix_size(&rng);
                char *q = realloc(blk[i], n);
                REQUIRE(q);
                size_t keep = n < len[i] ? n : len[i];
                if (keep == len[i] && !sparse_ok(q, keep, (uint64_t)i)) {
                    FAILF("op %d: realloc %zu -> %zu lost the content", op, len[i], n);
                    break;
                }
                blk[i] = q;
                len[i] = n;
                fill_sparse(q, n, (uint64_t)i);
            } else {
                free(blk[i]);
                blk[i] = NULL;
            }
        } else {
            len[i] = mix_size(&rng);
            blk[i] = malloc(len[i]);
            REQUIRE(blk[i]);
            fill_sparse(blk[i], len[i], (uint64_t)i);
        }
        if (op % 5000 == 4999) {
            size_t problems = sc_heap_check();
            CHECKF(problems == 0, "op %d: sc_heap_check() found %zu problems", op, problems);
            size_t allocated = ctl_read_size("stats.allocated"), active = ctl_read_size("stats.active"),
                   mapped = ctl_read_size("stats.mapped");
            CHECKF(allocated <= active && active <= mapped,
                   "want allocated <= active <= mapped, have %zu, %zu, %zu", allocated, active, mapped);
            /* every live huge block still has its guard */
            maps_read();
            for (int j = 0; j < SLOTS; j++) {
                if (!blk[j] || len[j] <= 2 * MiB) continue;
                uintptr_t end = (uintptr_t)blk[j] + malloc_usable_size(blk[j]);
                CHECKF(is_guard(end), "op %d: huge block %p of %zu bytes: page after it is \"%s\"", op,
                       (void *)blk[j], len[j], perms_at(end));
            }
        }
    }
    for (int i = 0; i < SLOTS; i++) free(blk[i]);
    size_t after = live_bytes();
    CHECKF(after == base, "stats.allocated %zu before the mix, %zu after everything was freed", base, after);
    CHECKF(sc_heap_check() == 0, "heap check after the mix");
    malloc_trim(0);
    CHECKF(sc_heap_check() == 0, "heap check after malloc_trim");
}

int main(int argc, char **argv)
{
    (void)argc;
    bool secure = false;
    size_t len = sizeof secure;
    REQUIRE(sc_ctl("opt.secure", &secure, &len, NULL, 0) == 0 && len == sizeof secure);
    if (!secure) {
        /* Options are read at the first allocation, before main: run again
         * with secure mode set (once; a second time means it did not take). */
        REQUIRE(!getenv("SECURE_GUARD_REEXEC"));
        setenv("SCMALLOC_CONF", "secure:true", 1);
        setenv("SECURE_GUARD_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        FAILF("execv(/proc/self/exe): %s", strerror(errno));
        return harness_summary();
    }
    pg = page_size();
    harness_watchdog(120, "the secure guard checks");
    check_huge();
    check_chunks();
    check_mix();
    return harness_summary();
}
