/*
 * calloc.c: calloc returns zeroed memory even when that memory was used
 * before: blocks are malloc'ed, filled with 0xff and freed, then calloc
 * asks for the same sizes (so it gets the same regions, pages or mappings
 * back) and every byte must be 0. Small, large (100 KiB) and huge (8 MiB)
 * sizes, through the plain, sc_ and __libc_ names; also calloc's own
 * nmemb * size split and a realloc that grows a calloc'ed block.
 *
 * SCTEST: static
 */
#include "family.h"

static void dirty_then_calloc(const family_t *f, size_t size, int count)
{
    char **p = calloc((size_t)count, sizeof *p); /* the bookkeeping itself */
    REQUIRE(p != NULL);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < count; i++) {
            p[i] = f->malloc(size);
            REQUIRE(p[i] != NULL);
            memset(p[i], 0xff, f->usable_size(p[i]));
        }
        for (int i = 0; i < count; i++)
            f->free(p[i]);
        for (int i = 0; i < count; i++) {
            /* alternate the factor order: calloc(n, 1) and calloc(1, n) */
            p[i] = (i & 1) ? f->calloc(size, 1) : f->calloc(1, size);
            REQUIRE(p[i] != NULL);
            size_t bad = find_byte_not(p[i], size, 0);
            CHECKF(bad == (size_t)-1,
                   "%s: calloc(%zu) after reuse has byte %zu = %#x (round %d, block %d)",
                   f->name, size, bad, bad == (size_t)-1 ? 0 : ((unsigned char *)p[i])[bad],
                   round, i);
            memset(p[i], 0xff, size);
        }
        for (int i = 0; i < count; i++)
            f->free(p[i]);
    }
    free(p);
}

/* calloc(nmemb, size) zeroes nmemb * size bytes, not just one of them. */
static void check_split(const family_t *f)
{
    const struct { size_t n, s; } v[] = {
        { 3, 17 }, { 100, 100 }, { 1000, 24 }, { 7, 4096 }, { 4096, 33 }, { 3, 1 << 20 },
        { 1 << 20, 6 },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t total = v[i].n * v[i].s;
        char *d = f->malloc(total);
        REQUIRE(d != NULL);
        memset(d, 0xee, total);
        f->free(d);
        char *p = f->calloc(v[i].n, v[i].s);
        REQUIRE(p != NULL);
        CHECKF(f->usable_size(p) >= total, "%s: calloc(%zu, %zu) usable %zu", f->name,
               v[i].n, v[i].s, f->usable_size(p));
        CHECKF(find_byte_not(p, total, 0) == (size_t)-1, "%s: calloc(%zu, %zu) not zeroed",
               f->name, v[i].n, v[i].s);
        f->free(p);
    }
}

/* Interleaves small callocs with dirty frees of the same class, so the
 * thread cache hands back regions that were written a moment ago. */
static void check_interleaved(const family_t *f)
{
    for (size_t size = 8; size <= 4096; size += size / 4 + 8) {
        for (int i = 0; i < 200; i++) {
            char *a = f->malloc(size);
            REQUIRE(a != NULL);
            memset(a, 0xa7, size);
            f->free(a);
            char *c = f->calloc(1, size);
            REQUIRE(c != NULL);
            CHECKF(find_byte_not(c, size, 0) == (size_t)-1,
                   "%s: calloc(1, %zu) right after a dirty free is not zeroed", f->name, size);
            f->free(c);
        }
    }
}

/* Freed huge blocks that are each too short for a later huge calloc give
 * it their pages (huge.c moves them into one range): every byte must
 * still read 0, the parts beyond them too, and a live huge block keeps
 * its bytes throughout. */
static void check_gathered(const family_t *f)
{
    const size_t keep_size = 5 << 20, big = 40 << 20;
    const size_t sizes[] = { 6 << 20, 9 << 20, 11 << 20 };
    char *keep = f->malloc(keep_size);
    REQUIRE(keep != NULL);
    memset(keep, 0x5c, keep_size);
    for (int round = 0; round < 2; round++) {
        char *p[3];
        for (int i = 0; i < 3; i++) {
            p[i] = f->malloc(sizes[i]);
            REQUIRE(p[i] != NULL);
            memset(p[i], 0xff, f->usable_size(p[i]));
        }
        for (int i = 0; i < 3; i++) f->free(p[i]);
        char *c = f->calloc(1, big);
        REQUIRE(c != NULL);
        size_t bad = find_byte_not(c, big, 0);
        CHECKF(bad == (size_t)-1, "%s: calloc(%zu) over freed huge blocks has byte %zu = %#x (round %d)",
               f->name, big, bad, bad == (size_t)-1 ? 0 : ((unsigned char *)c)[bad], round);
        memset(c, 0xee, big);
        f->free(c);
    }
    CHECKF(find_byte_not(keep, keep_size, 0x5c) == (size_t)-1, "%s: a live huge block changed", f->name);
    f->free(keep);
}

int main(void)
{
    const size_t small[] = { 1, 8, 16, 24, 48, 100, 128, 160, 500, 1024, 3000, 4096, 10000 };
    for (size_t fi = 0; fi < NFAMILIES; fi++) {
        const family_t *f = &families[fi];
        for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
            dirty_then_calloc(f, small[i], 500);
        dirty_then_calloc(f, 100 << 10, 64);         /* large */
        dirty_then_calloc(f, (1 << 20) + 5, 8);      /* large, multi-page */
        dirty_then_calloc(f, 8 << 20, 3);            /* huge */
        dirty_then_calloc(f, (24 << 20) + 4096, 2);  /* huge */
        check_split(f);
        check_interleaved(f);
        check_gathered(f);
    }
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
