/* Unit test of the arena's page runs: best fit, coalescing of freed
 * neighbours, in-place resize, purging (dirty -> clean) and the heap check. */
#include "../harness.h"
#include "arena.h"
#include "init.h"
#include "options.h"

#include <string.h>
#include <sys/mman.h>

static size_t run_pages(void *p)
{
    chunk_t *c = chunk_of(p);
    page_t *pg = &c->pages[chunk_page_index(c, p)];
    return pg->npages;
}

int main(void)
{
    opt.dirty_decay_ms = -1; /* purge only when asked */
    REQUIRE(malloc_init());
    arena_t *a = arena_get(narenas - 1); /* an arena nobody else uses */
    REQUIRE(a);
    size_t pg = os_page;
    char *x = arena_alloc_large(a, 10 * pg, pg, false);
    char *y = arena_alloc_large(a, 20 * pg, pg, false);
    char *z = arena_alloc_large(a, 30 * pg, pg, false);
    REQUIRE(x && y && z);
    CHECK(chunk_of(x) == chunk_of(y) && chunk_of(y) == chunk_of(z));
    CHECK(y == x + 10 * pg && z == y + 20 * pg); /* carved in order from one run */
    CHECK(a->nactive == 60);
    CHECK(arena_check(a) == 0);

    /* Free y then x: one dirty run of 30 pages at x. */
    chunk_t *c = chunk_of(x);
    arena_dalloc_large(c, &c->pages[chunk_page_index(c, y)], y);
    arena_dalloc_large(c, &c->pages[chunk_page_index(c, x)], x);
    page_t *head = &c->pages[chunk_page_index(c, x)];
    CHECK(head->kind == PAGE_FREE_DIRTY && head->npages == 30);
    CHECK(a->ndirty == 30);
    CHECK(arena_check(a) == 0);

    /* Best fit: a 25-page request takes the dirty 30-page run first. */
    char *w = arena_alloc_large(a, 25 * pg, pg, false);
    CHECK(w == x);
    CHECK(a->ndirty == 5);
    /* Grow in place into the 5 dirty pages that follow. */
    CHECK(arena_resize_large(c, &c->pages[chunk_page_index(c, w)], 30 * pg));
    CHECK(run_pages(w) == 30 && a->ndirty == 0);
    /* z follows directly: growing further cannot be in place. */
    CHECK(!arena_resize_large(c, &c->pages[chunk_page_index(c, w)], 31 * pg));
    /* Shrink in place gives back the tail. */
    CHECK(arena_resize_large(c, &c->pages[chunk_page_index(c, w)], 12 * pg));
    CHECK(run_pages(w) == 12 && a->ndirty == 18);
    CHECK(arena_check(a) == 0);

    /* Purge: dirty pages become clean and merge with clean neighbours. */
    size_t clean_before = a->nclean;
    arena_purge(a, true);
    CHECK(a->ndirty == 0 && a->nclean == clean_before + 18);
    CHECK(arena_check(a) == 0);

    /* Aligned large: 64 KiB alignment. */
    char *al = arena_alloc_large(a, 3 * pg, 65536, true);
    CHECK(al && ((uintptr_t)al & 65535) == 0);
    for (size_t i = 0; i < 3 * pg; i++) if (al[i]) { CHECK(!"zeroed"); break; }
    CHECK(arena_check(a) == 0);

    /* Purging in batches (more runs than one system call takes): 100
     * dirty runs of 2 pages between live blocks, written before they were
     * freed, all become clean, read zero and are no longer resident. */
    enum { NRUNS = 100 };
    char *dirty[NRUNS], *live[NRUNS];
    for (int i = 0; i < NRUNS; i++) {
        dirty[i] = arena_alloc_large(a, 2 * pg, pg, false);
        live[i] = arena_alloc_large(a, pg, pg, false);
        REQUIRE(dirty[i] && live[i]);
        memset(dirty[i], 0xab, 2 * pg);
    }
    size_t clean0 = a->nclean, purged0 = a->purged;
    for (int i = 0; i < NRUNS; i++) {
        chunk_t *dc = chunk_of(dirty[i]);
        arena_dalloc_large(dc, &dc->pages[chunk_page_index(dc, dirty[i])], dirty[i]);
    }
    CHECK(a->ndirty == 2 * NRUNS);
    arena_purge(a, true);
    CHECK(a->ndirty == 0 && a->nclean == clean0 + 2 * NRUNS && a->purged == purged0 + 2 * NRUNS);
    CHECK(arena_check(a) == 0);
    for (int i = 0; i < NRUNS; i++) {
        unsigned char in_core[2] = { 1, 1 };
        CHECKF(mincore(dirty[i], 2 * pg, in_core) == 0 && !(in_core[0] & 1) && !(in_core[1] & 1),
               "purged run %d still resident", i);
        CHECKF(find_byte_not(dirty[i], 2 * pg, 0) == (size_t)-1, "purged run %d does not read zero", i);
    }
    for (int i = 0; i < NRUNS; i++) {
        chunk_t *lc = chunk_of(live[i]);
        arena_dalloc_large(lc, &lc->pages[chunk_page_index(lc, live[i])], live[i]);
    }
    CHECK(arena_check(a) == 0);

    /* Run lists by length class: every length has exactly one list, whose
     * shortest length is at most it and the next list's is above it. */
    for (size_t n = 1; n <= SC_MAX_CHUNK_PAGES; n++) {
        size_t i = run_list_index(n);
        CHECKF(i < RUN_LISTS && run_list_min(i) <= n && (i + 1 == RUN_LISTS || run_list_min(i + 1) > n),
               "length %zu: list %zu", n, i);
    }
    CHECK(run_list_min(run_list_index(SC_MAX_CHUNK_PAGES)) == SC_MAX_CHUNK_PAGES);
    /* A search looks past shorter runs of its own list: free runs of 33
     * and 38 pages (one list, [32, 40)); 35 pages take the 38-page run,
     * 33 pages the 33-page one, and 41 ([40, 48)) a fresh run. */
    {
        arena_purge(a, true); /* no dirty neighbour for the runs to merge with */
        /* Live separators longer than any hole left so far, so that the four
         * blocks are carved in order from one clean run. */
        char *r33 = arena_alloc_large(a, 33 * pg, pg, false), *s1 = arena_alloc_large(a, 64 * pg, pg, false);
        char *r38 = arena_alloc_large(a, 38 * pg, pg, false), *s2 = arena_alloc_large(a, 64 * pg, pg, false);
        REQUIRE(r33 && s1 && r38 && s2);
        REQUIRE(s1 == r33 + 33 * pg && r38 == s1 + 64 * pg && s2 == r38 + 38 * pg);
        chunk_t *rc = chunk_of(r33);
        arena_dalloc_large(rc, &rc->pages[chunk_page_index(rc, r38)], r38);
        arena_dalloc_large(rc, &rc->pages[chunk_page_index(rc, r33)], r33);
        CHECK(arena_check(a) == 0);
        char *t35 = arena_alloc_large(a, 35 * pg, pg, false);
        char *t33 = arena_alloc_large(a, 33 * pg, pg, false);
        char *t41 = arena_alloc_large(a, 41 * pg, pg, false);
        CHECK(t35 == r38 && t33 == r33);
        CHECK(t41 && t41 != r33 && t41 != r38);
        CHECK(arena_check(a) == 0);
        /* And takes the best fit of its list, not the first: freed in this
         * order, the 38-page run (t35 and its 3-page tail, merged) comes
         * first in the list, and 33 pages still take the 33-page run. */
        arena_dalloc_large(rc, &rc->pages[chunk_page_index(rc, t33)], t33);
        arena_dalloc_large(rc, &rc->pages[chunk_page_index(rc, t35)], t35);
        CHECK(rc->pages[chunk_page_index(rc, r38)].npages == 38);
        t33 = arena_alloc_large(a, 33 * pg, pg, false);
        t35 = arena_alloc_large(a, 35 * pg, pg, false);
        CHECK(t33 == r33 && t35 == r38);
        CHECK(arena_check(a) == 0);
        char *all[] = { t35, t33, t41, s1, s2 };
        for (int i = 0; i < 5; i++) {
            chunk_t *xc = chunk_of(all[i]);
            arena_dalloc_large(xc, &xc->pages[chunk_page_index(xc, all[i])], all[i]);
        }
        CHECK(arena_check(a) == 0);
    }

    /* No dirty run is long enough: the block is made of a dirty run and the
     * clean run beside it (right, then left), the dirty pages are used
     * again, and a zeroed block is zeroed over them. */
    {
        arena_purge(a, true);
        char *d1 = arena_alloc_large(a, 5 * pg, pg, false);
        REQUIRE(d1);
        chunk_t *dc = chunk_of(d1);
        size_t di = chunk_page_index(dc, d1);
        REQUIRE(dc->pages[di + 5].kind == PAGE_FREE_CLEAN && dc->pages[di + 5].npages >= 5); /* clean on the right */
        memset(d1, 0xab, 5 * pg);
        arena_dalloc_large(dc, &dc->pages[di], d1);
        CHECK(a->ndirty == 5);
        char *m1 = arena_alloc_large(a, 10 * pg, pg, true);
        CHECK(m1 == d1 && a->ndirty == 0);
        CHECK(m1 && find_byte_not(m1, 10 * pg, 0) == (size_t)-1);
        CHECK(arena_check(a) == 0);
        /* Left: [clean][dirty d2][live s2], longer than any hole so far so
         * that they are carved in order. */
        char *p2 = arena_alloc_large(a, 70 * pg, pg, false), *d2 = arena_alloc_large(a, 66 * pg, pg, false);
        char *s2 = arena_alloc_large(a, 72 * pg, pg, false);
        REQUIRE(p2 && d2 && s2);
        REQUIRE(d2 == p2 + 70 * pg && s2 == d2 + 66 * pg);
        arena_dalloc_large(chunk_of(p2), &chunk_of(p2)->pages[chunk_page_index(chunk_of(p2), p2)], p2);
        arena_purge(a, true); /* p2's pages: clean */
        memset(d2, 0xcd, 66 * pg);
        arena_dalloc_large(chunk_of(d2), &chunk_of(d2)->pages[chunk_page_index(chunk_of(d2), d2)], d2);
        CHECK(a->ndirty == 66);
        char *m2 = arena_alloc_large(a, 100 * pg, pg, true);
        CHECK(m2 == d2 - 34 * pg && a->ndirty == 0);
        CHECK(m2 && find_byte_not(m2, 100 * pg, 0) == (size_t)-1);
        CHECK(arena_check(a) == 0);
        char *all[] = { m1, m2, s2 };
        for (int i = 0; i < 3; i++) {
            chunk_t *xc = chunk_of(all[i]);
            arena_dalloc_large(xc, &xc->pages[chunk_page_index(xc, all[i])], all[i]);
        }
        CHECK(arena_check(a) == 0);
    }

    /* Free all: one free run per state, counters back to zero. */
    arena_dalloc_large(chunk_of(al), &chunk_of(al)->pages[chunk_page_index(chunk_of(al), al)], al);
    arena_dalloc_large(c, &c->pages[chunk_page_index(c, w)], w);
    arena_dalloc_large(c, &c->pages[chunk_page_index(c, z)], z);
    CHECK(a->nactive == 0 && a->large_allocated == 0);
    CHECK(arena_check(a) == 0);
    arena_purge(a, true);
    CHECK(a->ndirty == 0);
    CHECK(arena_check(a) == 0);
    CHECK(a->nchunks == 1); /* a spare chunk is kept */
    return harness_summary();
}
