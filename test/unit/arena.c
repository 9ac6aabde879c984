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
