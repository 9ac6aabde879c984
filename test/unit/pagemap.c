/* Unit test of pointer -> metadata: the arena chunks' bits, the rtree and
 * the chunk page map for small, large, huge and over-aligned blocks, and
 * foreign pointers. Arena chunks are in the bits only: until the first
 * huge block, no slot of the radix tree's root is written. */
#include "../harness.h"
#include "chunk.h"
#include "huge.h"
#include "init.h"
#include "scmalloc.h"
#include "sizeclass.h"
#include "slab.h"

int main(void)
{
    REQUIRE(malloc_init());
    /* Small: slab pages carry class + 1, their distance to the slab start
     * and the descriptor. */
    for (size_t size = 1; size <= SC_SMALL_MAX; size = size * 3 / 2 + 1) {
        char *p = sc_malloc(size);
        REQUIRE(p);
        CHECKF(rtree_in_arena_chunk((uintptr_t)p), "small %zu not in a chunk", size);
        CHECK(rtree_lookup((uintptr_t)p) == 0);
        chunk_t *c = chunk_of(p);
        page_t *pg = &c->pages[chunk_page_index(c, p)];
        size_t pi = chunk_page_index(c, p);
        CHECKF(pg->kind == PAGE_SMALL && chunk_small_bin(c, pi) == sizeclass_of(size) + 1, "small %zu page map", size);
        slab_t *s = pg->slab;
        CHECK(s && slab_base(s) == chunk_page_addr(c, chunk_page_index(c, p) - pg->head));
        CHECK(slab_region_index(s, p) >= 0);
        CHECK(slab_region_index(s, p + 1) == -1);
        sc_free(p);
    }
    /* Large: page runs; every page says LARGE and its distance to the head. */
    char *l = sc_malloc(100000);
    REQUIRE(l);
    chunk_t *c = chunk_of(l);
    CHECK(rtree_in_arena_chunk((uintptr_t)l) && rtree_lookup((uintptr_t)l) == 0);
    size_t pi = chunk_page_index(c, l);
    CHECK(c->pages[pi].kind == PAGE_LARGE && c->pages[pi].head == 0 && chunk_small_bin(c, pi) == 0);
    CHECK(c->pages[pi].npages == (100000 + os_page - 1) / os_page);
    CHECK(c->pages[pi + 3].kind == PAGE_LARGE && c->pages[pi + 3].head == 3);
    CHECK(c->pages[0].kind == PAGE_HEADER);
    sc_free(l);
    CHECK(c->pages[pi].kind == PAGE_FREE_DIRTY || c->pages[pi].kind == PAGE_FREE_CLEAN);

    /* Over-aligned large: aligned, and found. */
    void *a = NULL;
    REQUIRE(sc_posix_memalign(&a, 65536, 40000) == 0);
    CHECK(((uintptr_t)a & 65535) == 0);
    CHECK(rtree_in_arena_chunk((uintptr_t)a));
    sc_free(a);
    size_t written = 0;
    for (size_t i = 0; i < sizeof rtree_root / sizeof rtree_root[0]; i++) written += rtree_root[i] != 0;
    CHECKF(written == 0, "%zu root slots written for arena chunks", written);

    /* Huge: every chunk slot it covers points at its descriptor. */
    size_t hs = 9u << 20;
    char *h = sc_malloc(hs);
    REQUIRE(h);
    uintptr_t e = rtree_lookup((uintptr_t)h);
    CHECK(e & RTREE_HUGE);
    huge_t *hd = (huge_t *)(e & ~RTREE_TAG_MASK);
    CHECK(huge_addr(hd) == h && hd->mapped >= hs);
    CHECK(rtree_lookup((uintptr_t)h + hs - 1) == e);
    CHECK(((uintptr_t)h & SC_CHUNK_MASK) == 0);
    CHECK(!rtree_in_arena_chunk((uintptr_t)h)); /* huge blocks take the slow path */
    sc_free(h);
    CHECK(rtree_lookup((uintptr_t)h) != e);

    /* Huge with a 64 MiB alignment. */
    REQUIRE(sc_posix_memalign(&a, 64u << 20, 3u << 20) == 0);
    CHECK(((uintptr_t)a & ((64u << 20) - 1)) == 0 && (rtree_lookup((uintptr_t)a) & RTREE_HUGE));
    sc_free(a);

    /* Foreign pointers are not ours. */
    int local;
    CHECK(rtree_lookup((uintptr_t)&local) == 0);
    CHECK(!rtree_in_arena_chunk((uintptr_t)&local));
    CHECK(!rtree_in_arena_chunk((uintptr_t)1 << 60));
    CHECK(rtree_lookup((uintptr_t)1 << 60) == 0);
    CHECK(rtree_lookup(0) == 0);
    CHECK(sc_heap_check() == 0);
    return harness_summary();
}
