/*
 * realloc.c: realloc keeps the min(old, new) prefix across every kind of
 * transition: small -> large -> huge -> large -> small, growth in small
 * steps through many classes, shrinking in place, huge growth (mremap)
 * and shrinking, and many blocks reallocated while others stay live;
 * bytes past the requested size that malloc_usable_size offered are kept;
 * a block that realloc grows past 256 KiB by moving it becomes huge; a
 * growing block's usable size never goes down.
 * Through the plain, sc_ and __libc_ names, plus reallocarray.
 *
 * SCTEST: static
 */
#include "family.h"

/* Reallocates p (holding `old` bytes of pattern seed) to `size`, checks
 * the kept prefix, refills all of it with seed+1. */
static char *step(const family_t *f, char *p, size_t old, size_t size, uint64_t *seed)
{
    char *q = f->realloc(p, size);
    CHECKF(q != NULL, "%s: realloc(%zu -> %zu) returned NULL", f->name, old, size);
    if (!q)
        return p;
    size_t keep = old < size ? old : size;
    size_t bad = find_pattern_error(q, keep, *seed);
    CHECKF(bad == (size_t)-1, "%s: realloc %zu -> %zu lost byte %zu of the prefix",
           f->name, old, size, bad);
    CHECKF(f->usable_size(q) >= size, "%s: realloc(%zu) usable %zu", f->name, size,
           f->usable_size(q));
    CHECKF(is_aligned(q, size <= 8 ? 8 : 16), "%s: realloc(%zu) = %p misaligned", f->name,
           size, (void *)q);
    *seed += 1;
    fill_pattern(q, size, *seed);
    return q;
}

static void check_transitions(const family_t *f)
{
    const size_t path[] = {
        24, 100 << 10, 8 << 20, 200 << 10, 40, 1,             /* s -> l -> h -> l -> s */
        5000, 64 << 20, 17, (5 << 20) + 1, 3 << 20, 300, 0x10001,
        4096, 4097, 8191, 16 << 20, 32 << 20, 9 << 20, 1 << 20, 8,
    };
    uint64_t seed = 1;
    char *p = f->malloc(path[0]);
    REQUIRE(p != NULL);
    fill_pattern(p, path[0], seed);
    for (size_t i = 1; i < sizeof path / sizeof path[0]; i++)
        p = step(f, p, path[i - 1], path[i], &seed);
    f->free(p);
}

/* Grow one byte at a time through the small classes, then by ~10% to
 * 40 MiB, then shrink back the same way. */
static void check_gradual(const family_t *f)
{
    uint64_t seed = 100;
    size_t size = 1;
    char *p = f->malloc(size);
    REQUIRE(p != NULL);
    fill_pattern(p, size, seed);
    for (; size < 2048; size++)
        p = step(f, p, size, size + 1, &seed);
    for (; size < ((size_t)40 << 20); size += size / 10)
        p = step(f, p, size, size + size / 10, &seed);
    for (; size > 64; size -= size / 8)
        p = step(f, p, size, size - size / 8, &seed);
    f->free(p);
}

/* Many live blocks, each reallocated several times in turn, so in-place
 * growth meets neighbours that are taken. */
static void check_many(const family_t *f)
{
    enum { N = 400, ROUNDS = 6 };
    static char *p[N];
    static size_t sz[N];
    static uint64_t seed[N];
    uint64_t rng = 77;
    for (int i = 0; i < N; i++) {
        sz[i] = 1 + rng_next(&rng) % 2000;
        seed[i] = (uint64_t)i << 20;
        p[i] = f->malloc(sz[i]);
        REQUIRE(p[i] != NULL);
        fill_pattern(p[i], sz[i], seed[i]);
    }
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N; i++) {
            uint64_t x = rng_next(&rng);
            size_t ns;
            switch (x % 5) {
            case 0: ns = 1 + x % 64; break;
            case 1: ns = sz[i] + 1 + x % 256; break;
            case 2: ns = 1 + x % (300 << 10); break;
            case 3: ns = sz[i] / 2 + 1; break;
            default: ns = (x % 97 == 0) ? (5 << 20) + x % 4096 : 1 + x % 8000; break;
            }
            p[i] = step(f, p[i], sz[i], ns, &seed[i]);
            sz[i] = ns;
        }
        for (int i = 0; i < N; i++)
            CHECKF(PATTERN_OK(p[i], sz[i], seed[i]), "%s: block %d overwritten by another "
                   "block's realloc (round %d)", f->name, i, r);
    }
    for (int i = 0; i < N; i++)
        f->free(p[i]);
}

/* Huge blocks grow and shrink repeatedly; each step keeps the prefix. */
static void check_huge(const family_t *f)
{
    uint64_t seed = 9999;
    size_t size = (size_t)6 << 20;
    char *p = f->malloc(size);
    REQUIRE(p != NULL);
    fill_pattern(p, size, seed);
    const size_t path[] = { 12 << 20, 128 << 20, (128 << 20) + 1, 7 << 20, 300 << 20,
                            (6 << 20) + 4095, 96 << 20 };
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        p = step(f, p, size, path[i], &seed);
        size = path[i];
    }
    f->free(p);
}

/* A sequence found by the random test that once lost bytes: a page run
 * shrunk in place, freed and handed out again kept its old size record, and
 * the next realloc copied only that many bytes. */
static void check_reused_run(const family_t *f)
{
    char *b1 = f->malloc(30007);
    char *b0 = f->malloc(21887);
    REQUIRE(b0 && b1);
    b0 = f->realloc(b0, 16830);
    f->free(b0);
    b0 = f->malloc(27479);
    f->free(b1);
    b0 = f->realloc(b0, 27768);
    b1 = f->malloc(19404);
    REQUIRE(b0 && b1);
    fill_pattern(b1, 19404, 5);
    char *q = f->realloc(b1, 37182);
    REQUIRE(q != NULL);
    size_t bad = find_pattern_error(q, 19404, 5);
    CHECKF(bad == (size_t)-1, "%s: realloc(19404 -> 37182) of a reused page run lost byte %zu",
           f->name, bad);
    f->free(q);
    f->free(b0);
}

/* Bytes past the requested size that malloc_usable_size offered are the
 * caller's: a realloc that moves the block keeps all of them. Small, large
 * and huge blocks, and a huge block grown by a small step (which takes
 * headroom), moved by a growth that cannot stay in place. */
static void check_usable_kept(const family_t *f)
{
    /* A freed mapping that a moving growth may reuse (scmalloc keeps some
     * in a cache; with secure, huge growth always moves). */
    f->free(f->malloc((size_t)64 << 20));
    const size_t sizes[] = { 100, 20000, (3 << 20) + 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int stepped = 0; stepped < 2; stepped++) {
            char *p = f->malloc(sizes[i]);
            REQUIRE(p != NULL);
            if (stepped) p = f->realloc(p, sizes[i] + 16);
            REQUIRE(p != NULL);
            size_t usable = f->usable_size(p);
            fill_pattern(p, usable, 77 + i);
            char *blocker = f->malloc(sizes[i]); /* something may sit behind p */
            char *q = f->realloc(p, usable * 4);
            REQUIRE(q != NULL);
            size_t bad = find_pattern_error(q, usable, 77 + i);
            CHECKF(bad == (size_t)-1, "%s: realloc(%zu -> %zu) lost usable byte %zu of %zu",
                   f->name, sizes[i], usable * 4, bad, usable);
            f->free(q);
            f->free(blocker);
        }
    }
}

/* While a block grows, its usable size never goes down: the room a huge
 * block got beyond its size (scmalloc hands a block that takes a longer
 * cached mapping the rest of it up to a chunk boundary) stays the
 * block's for its next steps. Giving it back on a step that still fits
 * made every later step fault those pages in again. */
static void check_growth_keeps_room(const family_t *f)
{
    uint64_t seed = 1200;
    f->free(f->malloc((size_t)16 << 20)); /* a freed mapping longer than the block */
    char *p = f->malloc(100);
    REQUIRE(p);
    fill_pattern(p, 100, seed);
    size_t size = 300 << 10;
    p = step(f, p, 100, size, &seed);
    size_t usable = f->usable_size(p);
    for (int i = 0; i < 40; i++) {
        size_t next = size + 8192 + 16;
        p = step(f, p, size, next, &seed);
        CHECKF(f->usable_size(p) >= usable, "%s: realloc %zu -> %zu cut the usable size from %zu to %zu",
               f->name, size, next, usable, f->usable_size(p));
        usable = f->usable_size(p);
        size = next;
    }
    f->free(p);
}

/* A block that realloc moves while it grows past 256 KiB becomes a huge
 * block (a mapping of its own, which grows further in place); one that
 * shrinks back under it leaves the huge blocks. */
static void check_grown_huge(const family_t *f)
{
    uint64_t seed = 900;
    size_t count0 = ctl_read_size("stats.huge.count");
    char *p = f->malloc(100);
    REQUIRE(p);
    fill_pattern(p, 100, seed);
    p = step(f, p, 100, 300 << 10, &seed); /* a small block cannot grow in place */
    CHECKF(ctl_read_size("stats.huge.count") == count0 + 1, "%s: a block grown to 300 KiB is not huge", f->name);
    p = step(f, p, 300 << 10, 700 << 10, &seed);
    CHECK(ctl_read_size("stats.huge.count") == count0 + 1);
    p = step(f, p, 700 << 10, 100 << 10, &seed);
    CHECKF(ctl_read_size("stats.huge.count") == count0, "%s: a block shrunk to 100 KiB is still huge", f->name);
    /* malloc itself gives such sizes mappings of their own too */
    char *q = f->malloc(300 << 10);
    REQUIRE(q);
    CHECK(ctl_read_size("stats.huge.count") == count0 + 1);
    f->free(q);
    f->free(p);
}

int main(void)
{
    for (size_t i = 0; i < NFAMILIES; i++) {
        const family_t *f = &families[i];
        check_transitions(f);
        check_reused_run(f);
        check_gradual(f);
        check_many(f);
        check_usable_kept(f);
        check_growth_keeps_room(f);
        check_grown_huge(f);
        if (i == 0)
            check_huge(f); /* 300 MiB of filling: once */
    }
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
