/* Unit test of the arena's dirty-page floor (arena_maybe_decay): the pages
 * of a freed large block stay for the next block of its length, within the
 * decay time, unless realloc moved the block on to a bigger one. */
#include "../harness.h"
#include "arena.h"
#include "init.h"
#include "options.h"

enum { N = 400 }; /* pages: more than the plain floor (SC_DIRTY_FLOOR_BYTES) */

static void free_large(void *p, bool grown)
{
    chunk_t *c = chunk_of(p);
    page_t *pg = &c->pages[chunk_page_index(c, p)];
    if (grown) arena_dalloc_large_grown(c, pg, p);
    else arena_dalloc_large(c, pg, p);
}

int main(void)
{
    opt.dirty_decay_ms = 10000;
    REQUIRE(malloc_init());
    size_t plain_floor = SC_DIRTY_FLOOR_BYTES >> os_page_shift;
    REQUIRE(N > plain_floor && N * os_page <= SC_LARGE_MAX);

    /* A plain free: all N pages stay dirty, and the next block of that
     * length takes them (no page to fault in). */
    arena_t *a = arena_get(narenas - 1);
    REQUIRE(a);
    void *p = arena_alloc_large(a, N * os_page, os_page, false);
    REQUIRE(p);
    free_large(p, false);
    CHECKF(a->ndirty >= N, "%zu dirty pages after a free of %d", a->ndirty, N);
    void *q = arena_alloc_large(a, N * os_page, os_page, false);
    CHECK(q == p && a->ndirty < N);
    free_large(q, false);
    CHECK(a->ndirty >= N);
    CHECK(arena_check(a) == 0);

    /* Past the decay time, the periodic decay pass (one arena operation
     * in 16) forgets the block: the floor is the plain one again. */
    a->large_max_ms -= (uint64_t)opt.dirty_decay_ms;
    for (int i = 0; i < 16; i++) {
        void *r = arena_alloc_large(a, os_page, os_page, false);
        REQUIRE(r);
        free_large(r, false);
    }
    CHECKF(a->large_max < N, "the %d-page block is still the floor past the decay time", N);
    CHECKF(a->ndirty <= plain_floor + a->nactive, "%zu dirty pages past the decay time", a->ndirty);
    CHECK(arena_check(a) == 0);

    /* A block that realloc moved on: its length is no floor. */
    arena_t *b = arena_get(narenas - 2);
    REQUIRE(b && b != a);
    void *g = arena_alloc_large(b, N * os_page, os_page, false);
    REQUIRE(g);
    free_large(g, true);
    CHECKF(b->ndirty <= plain_floor + b->nactive, "%zu dirty pages after a grown block's free", b->ndirty);
    CHECK(b->large_max == 0);
    CHECK(arena_check(b) == 0);
    return harness_summary();
}
