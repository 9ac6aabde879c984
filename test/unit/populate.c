/* Unit test of backing ahead (arena.c, slab_populate_ahead): an arena
 * that has carved few pages for slabs backs nothing ahead (its new slab
 * pages stay unbacked until written); once it has carved
 * SC_POPULATE_AFTER_PAGES, a slab carved from clean pages comes with a
 * dirty run right after it, of 1/16 of the pages carved (at most
 * SC_POPULATE_AHEAD_PAGES), and both are resident before anything writes
 * them; the next slab takes that run (no new backing); and a purge, the
 * sign of a heap that shrinks, stops it until the arena has carved as much
 * again. */
#define _GNU_SOURCE
#include "../harness.h"
#include "arena.h"
#include "init.h"
#include "options.h"

#include <sys/mman.h>

static bool resident(const void *p)
{
    unsigned char v = 0;
    REQUIRE(mincore((void *)((uintptr_t)p & ~(uintptr_t)(os_page - 1)), os_page, &v) == 0);
    return v & 1;
}

static unsigned cls;
static size_t slab_pages, nregs;
static void *regions[4096];

/* Takes one whole slab's regions: a fresh slab, since the bin's slabs are
 * all full. Returns its first page (the first region of a fresh slab). */
static char *take_slab(arena_t *a)
{
    REQUIRE(arena_bin_fill(a, cls, regions, nregs) == nregs);
    return (char *)regions[0];
}

int main(void)
{
    opt.dirty_decay_ms = 10000;
    REQUIRE(malloc_init());
    cls = sizeclass_of(1024);
    slab_pages = sizeclass_info[cls].slab_pages;
    nregs = sizeclass_info[cls].nregs;
    REQUIRE(nregs <= sizeof regions / sizeof regions[0]);
    arena_t *a = arena_get(narenas - 1);
    REQUIRE(a);

    /* Few pages carved: nothing is backed ahead, and a fresh slab is not
     * resident before it is written. */
    int slabs = 0;
    while (a->carved + slab_pages < SC_POPULATE_AFTER_PAGES) {
        char *s = take_slab(a);
        slabs++;
        CHECKF(a->populated == 0 && a->ndirty == 0, "slab %d (%zu pages carved): %llu pages backed ahead, %zu dirty",
               slabs, a->carved, (unsigned long long)a->populated, a->ndirty);
        if (slabs == 1 || a->carved + 2 * slab_pages >= SC_POPULATE_AFTER_PAGES)
            CHECKF(!resident(s), "slab %d: resident before it was written", slabs);
    }

    /* Past the threshold: the next slab brings a dirty run ahead, backed. */
    size_t carved = a->carved + slab_pages;
    size_t want = carved / 16 > SC_POPULATE_AHEAD_PAGES ? SC_POPULATE_AHEAD_PAGES : carved / 16;
    char *s = take_slab(a);
    CHECKF(a->populated == want && a->ndirty == want, "%zu pages carved: %llu backed ahead, %zu dirty; want %zu",
           carved, (unsigned long long)a->populated, a->ndirty, want);
    char *ahead = s + slab_pages * os_page;
    chunk_t *c = chunk_of(s);
    page_t *head = &c->pages[chunk_page_index(c, ahead)];
    CHECK(head->kind == PAGE_FREE_DIRTY && head->npages == want);
    size_t unbacked = 0;
    for (size_t i = 0; i < slab_pages + want; i++) unbacked += !resident(s + i * os_page);
    CHECKF(unbacked == 0, "%zu of the slab's and the run's %zu pages not resident", unbacked, slab_pages + want);
    CHECK(arena_check(a) == 0);

    /* The next slab is carved from that run: dirty, so nothing new is
     * backed, and it starts where the run did. */
    char *next = take_slab(a);
    CHECK(next == ahead);
    CHECKF(a->populated == want && a->ndirty == want - slab_pages, "after the next slab: %llu backed, %zu dirty",
           (unsigned long long)a->populated, a->ndirty);
    CHECK(arena_check(a) == 0);

    /* A purge: backing ahead stops until as many pages are carved again. */
    arena_purge(a, true);
    CHECK(a->ndirty == 0 && a->carved == 0);
    char *after = take_slab(a);
    CHECKF(a->populated == want && a->ndirty == 0, "after a purge: %llu backed, %zu dirty",
           (unsigned long long)a->populated, a->ndirty);
    CHECK(!resident(after));
    CHECK(arena_check(a) == 0);
    return harness_summary();
}
