/*
 * edge.c: the corner cases of the malloc family, as glibc 2.36 answers
 * them, through the plain, the sc_ and the __libc_ names: malloc(0),
 * free(NULL), realloc(NULL, n), realloc(p, 0), overflowing and absurd
 * sizes (NULL + ENOMEM, the old block intact), free keeping errno,
 * malloc_usable_size, valloc and pvalloc, mallinfo, malloc_trim, mallopt,
 * free_sized / free_aligned_sized / cfree.
 *
 * SCTEST: static
 */
#include "family.h"
#include <stdbool.h>
#include <stdint.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* True when the library runs with the option secure (make SECURE=1, or
 * SCMALLOC_CONF=secure:true). */
static int secure_mode(void)
{
    bool on = false;
    size_t len = sizeof(on);
    return sc_ctl("opt.secure", &on, &len, NULL, 0) == 0 && on;
}

/* malloc(0) gives distinct, non-NULL, freeable pointers. */
static void check_malloc_zero(const family_t *f)
{
    enum { N = 64 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = f->malloc(opaque_size(0));
        CHECKF(p[i] != NULL, "%s: malloc(0) returned NULL", f->name);
        for (int j = 0; j < i; j++)
            CHECKF(p[i] != p[j], "%s: malloc(0) returned %p twice", f->name, p[i]);
    }
    for (int i = 0; i < N; i++)
        f->free(p[i]);
    /* calloc with a zero factor: also a unique pointer */
    void *a = f->calloc(0, 16), *b = f->calloc(16, 0);
    CHECKF(a != NULL && b != NULL && a != b, "%s: calloc(0,16)=%p calloc(16,0)=%p",
           f->name, a, b);
    f->free(a);
    f->free(b);
}

static void check_realloc_edges(const family_t *f)
{
    f->free(NULL); /* no-op */

    char *p = f->realloc(NULL, 100);
    CHECKF(p != NULL, "%s: realloc(NULL, 100) returned NULL", f->name);
    CHECKF(f->usable_size(p) >= 100, "%s: usable %zu < 100", f->name, f->usable_size(p));
    fill_pattern(p, 100, 7);
    CHECK(PATTERN_OK(p, 100, 7));

    errno = 0;
    void *q = f->realloc(p, 0); /* glibc: frees p, returns NULL */
    CHECKF(q == NULL, "%s: realloc(p, 0) returned %p, glibc returns NULL", f->name, q);
    if (q)
        f->free(q);

    void *z = f->realloc(NULL, 0); /* glibc: malloc(0), a unique pointer */
    CHECKF(z != NULL, "%s: realloc(NULL, 0) returned NULL", f->name);
    f->free(z);

    /* realloc to the same size keeps the content */
    p = f->malloc(300);
    fill_pattern(p, 300, 9);
    p = f->realloc(p, 300);
    CHECKF(p && PATTERN_OK(p, 300, 9), "%s: realloc to same size lost content", f->name);
    f->free(p);
}

/* Requests no allocator can serve: NULL with ENOMEM, and the allocator
 * keeps working. */
static void check_absurd_sizes(const family_t *f)
{
    const size_t sizes[] = {
        SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX - 4096,
        SIZE_MAX - (1u << 20), SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX + 1,
        (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX - 4096,
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = opaque_size(sizes[i]);
        void *p;

        errno = 0;
        p = f->malloc(n);
        CHECKF(p == NULL && errno == ENOMEM, "%s: malloc(%#zx) = %p, errno %d",
               f->name, n, p, errno);

        errno = 0;
        p = f->calloc(1, n);
        CHECKF(p == NULL && errno == ENOMEM, "%s: calloc(1, %#zx) = %p, errno %d",
               f->name, n, p, errno);

        errno = 0;
        p = f->memalign(64, n);
        CHECKF(p == NULL && errno == ENOMEM, "%s: memalign(64, %#zx) = %p, errno %d",
               f->name, n, p, errno);

        errno = 0;
        p = f->valloc(n);
        CHECKF(p == NULL && errno == ENOMEM, "%s: valloc(%#zx) = %p, errno %d",
               f->name, n, p, errno);

        errno = 0;
        p = f->pvalloc(n);
        CHECKF(p == NULL && errno == ENOMEM, "%s: pvalloc(%#zx) = %p, errno %d",
               f->name, n, p, errno);

        errno = 0;
        p = f->aligned_alloc(4096, n);
        CHECKF(p == NULL && errno == ENOMEM, "%s: aligned_alloc(4096, %#zx) = %p, errno %d",
               f->name, n, p, errno);

        p = (void *)1;
        int err = f->posix_memalign(&p, 64, n);
        CHECKF(err == ENOMEM, "%s: posix_memalign(64, %#zx) returned %d", f->name, n, err);

        /* realloc of a live block to an absurd size: NULL, ENOMEM, the
         * block intact and still owned by the caller */
        for (size_t old = 24; old <= (size_t)8 << 20; old *= 64) {
            char *b = f->malloc(old);
            REQUIRE(b != NULL);
            fill_pattern(b, old, old);
            errno = 0;
            void *r = f->realloc(b, n);
            CHECKF(r == NULL && errno == ENOMEM, "%s: realloc(%zu-byte block, %#zx) = %p, errno %d",
                   f->name, old, n, r, errno);
            CHECKF(PATTERN_OK(b, old, old), "%s: failed realloc damaged the %zu-byte block",
                   f->name, old);
            f->free(r ? r : b);
        }
    }
    /* still works */
    void *p = f->malloc(100);
    CHECKF(p != NULL, "%s: malloc after failures returned NULL", f->name);
    f->free(p);
}

/* nmemb * size overflows: NULL with ENOMEM; reallocarray keeps the block. */
static void check_overflow(const family_t *f)
{
    const struct { size_t a, b; } pairs[] = {
        { SIZE_MAX, 2 }, { 2, SIZE_MAX }, { SIZE_MAX / 2 + 1, 2 },
        { (size_t)1 << 32, (size_t)1 << 32 }, { (SIZE_MAX / 3) + 1, 3 },
        { SIZE_MAX, SIZE_MAX }, { ((size_t)1 << 33) + 1, (size_t)1 << 31 },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t a = opaque_size(pairs[i].a), b = opaque_size(pairs[i].b);
        errno = 0;
        void *p = f->calloc(a, b);
        CHECKF(p == NULL && errno == ENOMEM, "%s: calloc(%#zx, %#zx) = %p, errno %d",
               f->name, a, b, p, errno);

        char *blk = f->malloc(1000);
        REQUIRE(blk != NULL);
        fill_pattern(blk, 1000, i);
        errno = 0;
        p = f->reallocarray(blk, a, b);
        CHECKF(p == NULL && errno == ENOMEM, "%s: reallocarray(p, %#zx, %#zx) = %p, errno %d",
               f->name, a, b, p, errno);
        CHECKF(PATTERN_OK(blk, 1000, i), "%s: failed reallocarray damaged the block", f->name);
        f->free(p ? p : blk);

        errno = 0;
        p = f->reallocarray(NULL, a, b);
        CHECKF(p == NULL && errno == ENOMEM, "%s: reallocarray(NULL, %#zx, %#zx) = %p, errno %d",
               f->name, a, b, p, errno);
    }
    /* a product that fits works */
    char *p = f->reallocarray(NULL, 100, 24);
    CHECKF(p && f->usable_size(p) >= 2400, "%s: reallocarray(NULL, 100, 24) failed", f->name);
    fill_pattern(p, 2400, 3);
    p = f->reallocarray(p, 200, 24);
    CHECKF(p && PATTERN_OK(p, 2400, 3), "%s: reallocarray grow lost content", f->name);
    f->free(p);
}

/* free() must not change errno, whatever it does inside (munmap, madvise). */
static void check_free_keeps_errno(const family_t *f)
{
    const size_t sizes[] = { 1, 32, 4000, 100 << 10, 3 << 20, 8 << 20, 64 << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = f->malloc(sizes[i]);
        REQUIRE(p != NULL);
        memset(p, 1, sizes[i]);
        errno = 1234;
        f->free(p);
        CHECKF(errno == 1234, "%s: free of a %zu-byte block changed errno to %d",
               f->name, sizes[i], errno);
    }
    /* many small ones so some free goes past the thread cache */
    enum { N = 5000 };
    static void *v[N];
    for (int i = 0; i < N; i++)
        v[i] = f->malloc(48);
    errno = 1234;
    for (int i = 0; i < N; i++)
        f->free(v[i]);
    CHECKF(errno == 1234, "%s: freeing %d small blocks changed errno to %d", f->name, N, errno);
    errno = 1234;
    f->free(NULL);
    CHECKF(errno == 1234, "%s: free(NULL) changed errno", f->name);
}

static void check_usable_size(const family_t *f)
{
    CHECKF(f->usable_size(NULL) == 0, "%s: malloc_usable_size(NULL) = %zu",
           f->name, f->usable_size(NULL));
    for (size_t n = 1; n < (size_t)4 << 20; n = n * 3 / 2 + 1) {
        char *p = f->malloc(n);
        REQUIRE(p != NULL);
        size_t u = f->usable_size(p);
        CHECKF(u >= n, "%s: malloc_usable_size(malloc(%zu)) = %zu", f->name, n, u);
        /* small and large blocks are rounded to their class (4 per
         * doubling: under 25% more); huge ones may reuse a cached mapping */
        if (n <= (size_t)1 << 20)
            CHECKF(u <= n + n / 4 + 16 + page_size(),
                   "%s: malloc_usable_size(malloc(%zu)) = %zu, more than the class spacing "
                   "allows", f->name, n, u);
        memset(p, 0x5c, u); /* the whole usable size is the caller's */
        CHECK(find_byte_not(p, u, 0x5c) == (size_t)-1);
        f->free(p);
    }
}

static void check_valloc_pvalloc(const family_t *f)
{
    size_t pg = page_size();
    const size_t sizes[] = { 0, 1, 100, pg - 1, pg, pg + 1, 3 * pg, 100 << 10, 5 << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        char *v = f->valloc(n);
        CHECKF(v && is_aligned(v, pg), "%s: valloc(%zu) = %p", f->name, n, (void *)v);
        if (v) {
            CHECKF(f->usable_size(v) >= n, "%s: valloc(%zu) usable %zu", f->name, n,
                   f->usable_size(v));
            fill_pattern(v, n, n);
            CHECK(PATTERN_OK(v, n, n));
        }

        char *p = f->pvalloc(n);
        CHECKF(p && is_aligned(p, pg), "%s: pvalloc(%zu) = %p", f->name, n, (void *)p);
        if (p) {
            size_t u = f->usable_size(p);
            size_t want = (n + pg - 1) / pg * pg;
            /* glibc's usable size is a page multiple; in secure mode the
             * last 8 bytes of a small region are its canary, not usable. */
            CHECKF(u >= want && (u % pg == 0 || secure_mode()),
                   "%s: pvalloc(%zu) usable size %zu, want a page multiple >= %zu",
                   f->name, n, u, want);
            fill_pattern(p, u, n + 1);
            CHECK(PATTERN_OK(p, u, n + 1));
        }
        f->free(v);
        f->free(p);
    }
}

/* Each block a fresh pattern; all checked after all were written, so two
 * blocks that overlap are caught. */
static void check_no_overlap(const family_t *f)
{
    enum { N = 2000 };
    static char *p[N];
    static size_t sz[N];
    uint64_t rng = 42;
    for (int i = 0; i < N; i++) {
        uint64_t r = rng_next(&rng);
        sz[i] = (r % 8 == 0) ? r % (200 << 10) : r % 600;
        p[i] = f->malloc(sz[i]);
        REQUIRE(p[i] != NULL);
        fill_pattern(p[i], sz[i], (uint64_t)i * 977);
    }
    for (int i = 0; i < N; i++)
        CHECKF(PATTERN_OK(p[i], sz[i], (uint64_t)i * 977),
               "%s: block %d (%zu bytes at %p) was overwritten", f->name, i, sz[i],
               (void *)p[i]);
    for (int i = 0; i < N; i += 2)
        f->free(p[i]);
    for (int i = 0; i < N; i += 2) {
        p[i] = f->malloc(sz[i]);
        REQUIRE(p[i] != NULL);
        fill_pattern(p[i], sz[i], (uint64_t)i * 31);
    }
    for (int i = 0; i < N; i++)
        CHECKF(PATTERN_OK(p[i], sz[i], (uint64_t)i * ((i % 2) ? 977 : 31)),
               "%s: block %d overwritten after reuse", f->name, i);
    for (int i = 0; i < N; i++)
        f->free(p[i]);
}

/* mallinfo2 / mallinfo: uordblks (bytes in use) grows with live memory. */
static void check_mallinfo(void)
{
    /* blocks cached by a thread count as in use: start with an empty cache */
    tcache_flush();
    struct mallinfo2 before = mallinfo2();
    struct mallinfo before1 = mallinfo();
    enum { N = 1024 };
    static void *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = malloc(8192);
        REQUIRE(v[i] != NULL);
        memset(v[i], 1, 8192);
    }
    struct mallinfo2 after = mallinfo2();
    struct mallinfo after1 = mallinfo();
    CHECKF(after.uordblks >= before.uordblks + (size_t)N * 8192,
           "mallinfo2().uordblks went from %zu to %zu with %d KiB more live",
           before.uordblks, after.uordblks, N * 8);
    CHECKF((size_t)(unsigned)after1.uordblks >= (size_t)(unsigned)before1.uordblks + (size_t)N * 8192,
           "mallinfo().uordblks went from %d to %d", before1.uordblks, after1.uordblks);
    for (int i = 0; i < N; i++)
        free(v[i]);
    tcache_flush();
    struct mallinfo2 freed = mallinfo2();
    CHECKF(freed.uordblks < after.uordblks,
           "mallinfo2().uordblks did not fall after free (%zu -> %zu)",
           after.uordblks, freed.uordblks);
}

static void check_trim_mallopt(void)
{
    int r = malloc_trim(0);
    CHECKF(r == 0 || r == 1, "malloc_trim(0) = %d", r);
    r = sc_malloc_trim(1 << 20);
    CHECKF(r == 0 || r == 1, "sc_malloc_trim = %d", r);
    const struct { int param, value; const char *name; } opts[] = {
        { M_MMAP_THRESHOLD, 256 << 10, "M_MMAP_THRESHOLD" },
        { M_TRIM_THRESHOLD, 1 << 20, "M_TRIM_THRESHOLD" },
        { M_TOP_PAD, 64 << 10, "M_TOP_PAD" },
        { M_MMAP_MAX, 65536, "M_MMAP_MAX" },
        { M_ARENA_MAX, 8, "M_ARENA_MAX" },
        { M_ARENA_TEST, 8, "M_ARENA_TEST" },
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        r = mallopt(opts[i].param, opts[i].value);
        CHECKF(r == 1, "mallopt(%s) = %d", opts[i].name, r);
    }
    void *p = malloc(1 << 20);
    CHECK(p != NULL);
    free(p);
}

/* free_sized, free_aligned_sized and cfree free their block: the live byte
 * count falls by the block's size. */
static void check_sized_frees(void)
{
    const size_t sizes[] = { 40, 3000, 200 << 10, 6 << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        for (int how = 0; how < 5; how++) {
            size_t base = live_bytes();
            char *p = (how == 2 || how == 4) ? aligned_alloc(256, n) : malloc(n);
            REQUIRE(p != NULL);
            memset(p, 7, n);
            size_t with = live_bytes();
            CHECKF(with >= base + n, "stats.allocated %zu -> %zu with %zu bytes live",
                   base, with, n);
            const char *what = "?";
            switch (how) {
            case 0: free_sized(p, n); what = "free_sized"; break;
            case 1: cfree(p); what = "cfree"; break;
            case 2: free_aligned_sized(p, 256, n); what = "free_aligned_sized"; break;
            case 3: sc_free_sized(p, n); what = "sc_free_sized"; break;
            case 4: sc_free_aligned_sized(p, 256, n); what = "sc_free_aligned_sized"; break;
            }
            size_t after = live_bytes();
            CHECKF(after == base, "%s of %zu bytes: stats.allocated %zu -> %zu -> %zu",
                   what, n, base, with, after);
        }
    }
}

int main(void)
{
    for (size_t i = 0; i < NFAMILIES; i++) {
        const family_t *f = &families[i];
        check_malloc_zero(f);
        check_realloc_edges(f);
        check_absurd_sizes(f);
        check_overflow(f);
        check_free_keeps_errno(f);
        check_usable_size(f);
        check_valloc_pvalloc(f);
        check_no_overlap(f);
    }
    check_mallinfo();
    check_trim_mallopt();
    check_sized_frees();
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
