/*
 * chunk: mapping, registering and releasing chunks. The page map inside is
 * maintained by the arena (arena.c), under the arena lock.
 */
#include "chunk.h"

size_t chunk_usable_pages(void)
{
    size_t npages = SC_CHUNK_SIZE >> os_page_shift;
    size_t header = sizeof(chunk_t) + npages * sizeof(page_t);
    return npages - ((header + os_page - 1) >> os_page_shift);
}

chunk_t *chunk_alloc(struct arena *arena)
{
    chunk_t *c = os_map_aligned(SC_CHUNK_SIZE, SC_CHUNK_SIZE);
    if (!c) return NULL;
    c->arena = arena;
    c->npages = (uint32_t)(SC_CHUNK_SIZE >> os_page_shift);
    c->first_page = (uint32_t)(c->npages - chunk_usable_pages());
    for (uint32_t i = 0; i < c->first_page; i++) c->pages[i].kind = PAGE_HEADER;
    if (!rtree_set_range((uintptr_t)c, SC_CHUNK_SIZE, (uintptr_t)c)) {
        rtree_set_range((uintptr_t)c, SC_CHUNK_SIZE, 0); /* before the addresses go back */
        os_unmap(c, SC_CHUNK_SIZE);
        return NULL;
    }
    rtree_mark_arena_chunk((uintptr_t)c, true);
    return c;
}

void chunk_release(chunk_t *c)
{
    rtree_mark_arena_chunk((uintptr_t)c, false);
    rtree_set_range((uintptr_t)c, SC_CHUNK_SIZE, 0);
    os_unmap(c, SC_CHUNK_SIZE);
}
