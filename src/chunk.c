/*
 * chunk: mapping, registering and releasing chunks, and their guard pages
 * in secure mode (layout in chunk.h). The page map inside is maintained by
 * the arena (arena.c), under the arena lock.
 */
#include "chunk.h"
#include "options.h"

/* Pages of the header proper (the page map grows with the page count). */
static size_t chunk_header_pages(void)
{
    size_t npages = SC_CHUNK_SIZE >> os_page_shift;
    size_t header = sizeof(chunk_t) + npages * sizeof(page_t);
    return (header + os_page - 1) >> os_page_shift;
}

/* Guard pages on each side of the runs: one in secure mode. Read once, at
 * start-up, so that every chunk has the same layout. */
static size_t guard_pages;

void chunk_init(void) { guard_pages = opt.secure ? 1 : 0; }

size_t chunk_usable_pages(void)
{
    return (SC_CHUNK_SIZE >> os_page_shift) - chunk_header_pages() - 2 * guard_pages;
}

chunk_t *chunk_alloc(struct arena *arena)
{
    chunk_t *c = os_map_aligned(SC_CHUNK_SIZE, SC_CHUNK_SIZE);
    if (!c) return NULL;
    /* A chunk is aligned to 4 MiB: where transparent huge pages are
     * "always" (RHEL's default), the kernel would back each 2 MiB half in
     * which one page is touched with a whole huge page, and khugepaged
     * would collapse half-used halves later. Measured with chunks asking
     * for huge pages (what "always" does): bench/threads peak RSS 3.3 ->
     * 12.2 MB, micro 1.7 -> 3.8 MB, larson +15%, mixed +6%, for 3-9% less
     * time. Unless opt.thp asks for them, chunks stay on 4 KiB pages. */
    if (!opt.thp) os_no_huge_pages(c, SC_CHUNK_SIZE);
    size_t npages = SC_CHUNK_SIZE >> os_page_shift, header = chunk_header_pages();
    size_t guard_bytes = guard_pages << os_page_shift;
    if (guard_pages && (!os_protect_none(chunk_page_addr(c, header), guard_bytes) ||
                        !os_protect_none(chunk_page_addr(c, npages - guard_pages), guard_bytes))) {
        os_unmap(c, SC_CHUNK_SIZE);
        return NULL;
    }
    c->arena = arena;
    c->npages = (uint32_t)npages;
    c->first_page = (uint32_t)(header + guard_pages);
    c->end_page = (uint32_t)(npages - guard_pages);
    for (size_t i = 0; i < header; i++) c->pages[i].kind = PAGE_HEADER;
    for (size_t i = header; i < c->first_page; i++) c->pages[i].kind = PAGE_GUARD;
    for (size_t i = c->end_page; i < npages; i++) c->pages[i].kind = PAGE_GUARD;
    /* Its bit alone says it is ours (rtree.h): no leaf of the radix tree
     * is made or written for it. */
    rtree_mark_arena_chunk((uintptr_t)c, true);
    return c;
}

void chunk_release(chunk_t *c)
{
    rtree_mark_arena_chunk((uintptr_t)c, false);
    os_unmap(c, SC_CHUNK_SIZE); /* the guard pages go with it */
}
