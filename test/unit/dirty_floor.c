/* Unit test of the arena's bound on dirty pages (arena_maybe_decay): the
 * pages of a freed large block stay for the next block of its length,
 * within the decay time, unless realloc moved the block on to a bigger
 * one; and pages dirty for less than SC_DIRTY_MIN_AGE_MS stay whatever
 * the bound says while a thread is bound to the arena, so that a heap
 * swinging about the bound does not purge and fault in the same pages
 * again and again. An arena without threads purges them at once, on a
 * free into it and when its last thread leaves (arena_left). The arenas
 * here are used without binding a thread: nthreads is set by hand. */
#include "../harness.h"
#include "arena.h"
#include "init.h"
#include "options.h"

#include <time.h>

enum { N = 400 }; /* pages: more than the plain floor (SC_DIRTY_FLOOR_BYTES) */

static void free_large(void *p, bool grown)
{
    chunk_t *c = chunk_of(p);
    page_t *pg = &c->pages[chunk_page_index(c, p)];
    if (grown) arena_dalloc_large_grown(c, pg, p);
    else arena_dalloc_large(c, pg, p);
}

/* Past SC_DIRTY_MIN_AGE_MS: the dirty runs there are are old enough. */
static void wait_min_age(void)
{
    struct timespec ts = { 0, (SC_DIRTY_MIN_AGE_MS + 5) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
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
    a->nthreads = 1;
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
     * in 16) forgets the block: the floor is the plain one again, and the
     * next operation purges the pages, old enough by then. Each operation
     * takes a page and keeps it, so that no free merges with the dirty
     * run (a merged run is as young as its newest pages). */
    a->large_max_ms -= (uint64_t)opt.dirty_decay_ms;
    wait_min_age();
    void *kept[17];
    for (int i = 0; i < 17; i++) {
        kept[i] = arena_alloc_large(a, os_page, os_page, false);
        REQUIRE(kept[i]);
    }
    CHECKF(a->large_max < N, "the %d-page block is still the floor past the decay time", N);
    CHECKF(a->ndirty <= plain_floor + a->nactive, "%zu dirty pages past the decay time", a->ndirty);
    for (int i = 0; i < 17; i++) free_large(kept[i], false);
    CHECK(arena_check(a) == 0);

    /* A block that realloc moved on: its length is no floor. Its pages
     * stay while they are young (the free itself checks the bound); the
     * first operation past SC_DIRTY_MIN_AGE_MS purges them. A check in
     * between would depend on how fast the machine gets there. */
    arena_t *b = arena_get(narenas - 2);
    REQUIRE(b && b != a);
    b->nthreads = 1;
    void *g = arena_alloc_large(b, N * os_page, os_page, false);
    REQUIRE(g);
    free_large(g, true);
    CHECK(b->large_max == 0);
    CHECKF(b->ndirty >= N, "%zu dirty pages right after a free of %d: young pages were purged",
           b->ndirty, N);
    wait_min_age();
    void *old = arena_alloc_large(b, os_page, os_page, false);
    REQUIRE(old);
    CHECKF(b->ndirty <= plain_floor + b->nactive, "%zu dirty pages after a grown block's free, past %d ms",
           b->ndirty, SC_DIRTY_MIN_AGE_MS);
    free_large(old, false);
    CHECK(arena_check(b) == 0);

    /* Without threads: the same free leaves no more than the bound, young
     * or not. */
    arena_t *d = arena_get(narenas - 3);
    REQUIRE(d && d != a && d != b);
    REQUIRE(d->nthreads == 0);
    g = arena_alloc_large(d, N * os_page, os_page, false);
    REQUIRE(g);
    free_large(g, true);
    CHECKF(d->ndirty <= plain_floor + d->nactive, "%zu young dirty pages kept by an arena without threads",
           d->ndirty);
    /* Its last thread leaving: young pages kept while it was bound go. */
    d->nthreads = 1;
    g = arena_alloc_large(d, N * os_page, os_page, false);
    REQUIRE(g);
    free_large(g, true);
    CHECKF(d->ndirty >= N, "%zu dirty pages right after a free of %d with a thread bound", d->ndirty, N);
    d->nthreads = 0;
    arena_left(d);
    CHECKF(d->ndirty <= plain_floor + d->nactive, "%zu dirty pages after the last thread left", d->ndirty);
    CHECK(arena_check(d) == 0);
    return harness_summary();
}
