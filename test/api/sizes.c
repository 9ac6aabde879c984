/*
 * sizes.c: every size class boundary and its neighbours up to 8 MiB, the
 * page size and its neighbours, chunk-sized requests around 4 MiB, and huge
 * blocks (5, 64, 256 MiB); through the plain, sc_ and __libc_ names. All
 * blocks of a round are live at once, each filled in full with its own
 * pattern and checked after all were written (so overlaps show), aligned
 * to 16 (8 for requests of at most 8 bytes), with a usable size of at
 * least the request.
 *
 * SCTEST: static
 */
#include "family.h"

#define MAXN 1024

static size_t build_sizes(size_t *out)
{
    size_t classes[256];
    size_t nc = size_class_list(classes, 256, (size_t)8 << 20);
    size_t n = 0, pg = page_size();
    out[n++] = 0;
    out[n++] = 1;
    for (size_t i = 0; i < nc; i++) {
        out[n++] = classes[i] - 1;
        out[n++] = classes[i];
        out[n++] = classes[i] + 1;
    }
    const size_t extra[] = {
        pg - 1, pg, pg + 1, 2 * pg - 1, 2 * pg, 2 * pg + 1,
        ((size_t)4 << 20) - pg - 1, ((size_t)4 << 20) - pg, ((size_t)4 << 20) - 1,
        (size_t)4 << 20, ((size_t)4 << 20) + 1, ((size_t)4 << 20) + pg,
        ((size_t)2 << 20) - 1, (size_t)2 << 20, ((size_t)2 << 20) + 1,
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        out[n++] = extra[i];
    return n;
}

static void run_round(const family_t *f, const size_t *sizes, size_t n, uint64_t salt)
{
    static char *p[MAXN];
    for (size_t i = 0; i < n; i++) {
        size_t s = sizes[i];
        p[i] = f->malloc(s);
        CHECKF(p[i] != NULL, "%s: malloc(%zu) returned NULL", f->name, s);
        if (!p[i])
            continue;
        size_t align = s <= 8 ? 8 : 16;
        CHECKF(is_aligned(p[i], align), "%s: malloc(%zu) = %p not %zu-aligned", f->name,
               s, (void *)p[i], align);
        size_t u = f->usable_size(p[i]);
        CHECKF(u >= s, "%s: malloc(%zu) usable size %zu", f->name, s, u);
        fill_pattern(p[i], s, salt + i);
    }
    for (size_t i = 0; i < n; i++) {
        if (!p[i])
            continue;
        size_t bad = find_pattern_error(p[i], sizes[i], salt + i);
        CHECKF(bad == (size_t)-1, "%s: %zu-byte block at %p overwritten at offset %zu",
               f->name, sizes[i], (void *)p[i], bad);
    }
    /* free every other one, reallocate the same sizes, check all again */
    for (size_t i = 0; i < n; i += 2)
        f->free(p[i]);
    for (size_t i = 0; i < n; i += 2) {
        p[i] = f->malloc(sizes[i]);
        CHECKF(p[i] != NULL, "%s: malloc(%zu) returned NULL on reuse", f->name, sizes[i]);
        if (p[i])
            fill_pattern(p[i], sizes[i], ~(salt + i));
    }
    for (size_t i = 0; i < n; i++) {
        if (!p[i])
            continue;
        uint64_t seed = (i % 2 == 0) ? ~(salt + i) : salt + i;
        size_t bad = find_pattern_error(p[i], sizes[i], seed);
        CHECKF(bad == (size_t)-1, "%s: %zu-byte block overwritten at offset %zu after reuse",
               f->name, sizes[i], bad);
    }
    /* free in reverse order, so the page-run coalescing sees the other side */
    for (size_t i = n; i-- > 0;)
        f->free(p[i]);
}

/* Huge blocks, all live together, filled (in full or sparsely) and checked. */
static void run_huge(const family_t *f, int full)
{
    const size_t huge[] = { (size_t)5 << 20, ((size_t)5 << 20) + 1, (size_t)64 << 20,
                            (size_t)256 << 20, ((size_t)8 << 20) + 12345 };
    enum { NH = sizeof huge / sizeof huge[0] };
    char *p[NH];
    for (size_t i = 0; i < NH; i++) {
        p[i] = f->malloc(huge[i]);
        CHECKF(p[i] != NULL, "%s: malloc(%zu) returned NULL", f->name, huge[i]);
        if (!p[i])
            continue;
        CHECKF(is_aligned(p[i], 16), "%s: huge block %p not 16-aligned", f->name, (void *)p[i]);
        CHECKF(f->usable_size(p[i]) >= huge[i], "%s: malloc(%zu) usable %zu", f->name,
               huge[i], f->usable_size(p[i]));
        if (full)
            fill_pattern(p[i], huge[i], 1000 + i);
        else
            fill_sparse(p[i], huge[i], 1000 + i);
    }
    for (size_t i = 0; i < NH; i++)
        if (p[i])
            CHECKF(full ? PATTERN_OK(p[i], huge[i], 1000 + i) : sparse_ok(p[i], huge[i], 1000 + i),
                   "%s: huge %zu-byte block overwritten",
                   f->name, huge[i]);
    for (size_t i = 0; i < NH; i++)
        f->free(p[i]);
}

int main(void)
{
    static size_t sizes[MAXN];
    size_t n = build_sizes(sizes);
    REQUIRE(n <= MAXN);
    for (size_t i = 0; i < NFAMILIES; i++) {
        run_round(&families[i], sizes, n, 100 * i);
        run_round(&families[i], sizes, n, 100 * i + 50);
    }
    /* filling 256 MiB costs ~1 s here (page faults): in full once, then
     * one word per page */
    for (size_t i = 0; i < NFAMILIES; i++)
        run_huge(&families[i], i == 0);
    /* one mixed table: malloc from one name, free through another */
    for (size_t i = 0; i < n; i++) {
        void *p = families[i % NFAMILIES].malloc(sizes[i]);
        REQUIRE(p != NULL);
        fill_pattern(p, sizes[i], i);
        CHECK(PATTERN_OK(p, sizes[i], i));
        families[(i + 1) % NFAMILIES].free(p);
    }
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
