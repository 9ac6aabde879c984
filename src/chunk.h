/*
 * chunk: 4 MiB of address space, aligned to its size, owned by one arena.
 * Its first pages hold this header, whose page map says for every page what
 * it is. With the rtree (rtree.h) this gives pointer -> metadata in O(1)
 * without a lock: slot -> chunk, (ptr - chunk) >> page_shift -> page_t.
 *
 * Two maps, one entry per page:
 *   - smallmap, 4 bytes, read by free()'s fast path: for a slab page,
 *     (class + 1) << 26 | the page's index in its slab; 0 for every other
 *     page. One load gives the class and what is needed to check that the
 *     pointer starts a region; and since bits 19..25 are 0, entry >> 19 is
 *     (class + 1) * 128, the offset of the class's thread-cache bin
 *     (tcache_bin_of_entry): one shift between the load and the stack.
 *   - pages, the full entries (page_t), read and written under the arena
 *     lock.
 * Layout, in pages:
 *   [0, header_pages)           this header, kind PAGE_HEADER
 *   [header_pages, first_page)  opt.secure: one guard page, PAGE_GUARD
 *   [first_page, end_page)      runs: the only pages ever handed out
 *   [end_page, npages)          opt.secure: one guard page, PAGE_GUARD
 * Guard pages are PROT_NONE from chunk_alloc to chunk_release. The front
 * one stops an underflow out of the first block before it reaches this
 * header; the back one stops an overflow out of the last block before it
 * reaches the next chunk's header (the kernel maps chunks back to back).
 * They lie outside the runs, so nothing hands them out, merges them with
 * a free run or purges them, and they stay while a chunk is kept as a
 * spare. Without opt.secure, first_page == header_pages, end_page == npages.
 * Invariants (for pages first_page .. end_page-1):
 *   - the pages are tiled by runs: free runs, slabs and large blocks;
 *   - every page of a slab has kind PAGE_SMALL, head = its distance from the
 *     slab's first page, the slab's descriptor, and a smallmap entry;
 *   - every page of a large block has kind PAGE_LARGE and head as above; the
 *     first has npages;
 *   - every page of a free run has a free kind; the first and the last page
 *     carry the run's kind, npages, and head (0 and npages - 1);
 *   - two adjacent free runs never have the same kind (they are merged);
 *   - smallmap is 0 exactly for the pages that are not in a slab.
 * A fresh (zero) header reads as one clean free run with no slab pages.
 */
#ifndef SC_CHUNK_H
#define SC_CHUNK_H

#include "os.h"
#include "rtree.h"

enum page_kind {
    PAGE_FREE_CLEAN = 0, /* free, not backed by memory (reads as zero) */
    PAGE_FREE_DIRTY = 1, /* free, still backed: reused first, purged after the decay */
    PAGE_HEADER = 2,
    PAGE_SMALL = 3,
    PAGE_LARGE = 4,
    PAGE_GUARD = 5,      /* opt.secure: PROT_NONE, outside the runs (see above) */
};

struct slab;
struct arena;

typedef struct page {
    uint8_t kind;        /* enum page_kind */
    uint8_t reserved[3];
    uint32_t head;       /* distance from the run's first page */
    uint32_t npages;     /* run length, at the first (and for free runs the last) page */
    uint32_t reserved2;
    union {
        struct slab *slab;   /* PAGE_SMALL */
        uint64_t dirty_ms;   /* PAGE_FREE_DIRTY run head: when it became dirty */
    };
    struct page *next, *prev;   /* free run head: arena list of runs of this length and kind */
    struct page *dnext, *dprev; /* dirty run head: the arena's decay FIFO, oldest first */
} page_t;

static_assert(sizeof(page_t) <= 64, "page map entries stay small: 1.4% of a chunk");

typedef struct chunk {
    struct arena *arena;
    struct chunk *next, *prev;  /* the arena's chunks */
    uint32_t npages;            /* pages in the chunk */
    uint32_t first_page;        /* the first page of the runs: header and front guard before it */
    uint32_t nfree;             /* free pages (clean or dirty) */
    uint32_t end_page;          /* one past the last page of the runs: the back guard from here */
    uint64_t pad[3];
    uint32_t smallmap[SC_MAX_CHUNK_PAGES];
    page_t pages[];
} chunk_t;

#define SMALLMAP_SHIFT 26            /* class + 1 above this bit */
#define SMALLMAP_BIN_BYTES_SHIFT 19  /* entry >> 19 == (class + 1) * 128 */
#define SMALLMAP_PAGE_MASK ((1u << SMALLMAP_BIN_BYTES_SHIFT) - 1) /* page index in the slab */
static_assert(SC_NSMALL < (1u << (32 - SMALLMAP_SHIFT)), "class + 1 fits the small map");

/* Class + 1 of the slab page pi, or 0. */
SC_INLINE unsigned chunk_small_bin(const chunk_t *c, size_t pi) { return c->smallmap[pi] >> SMALLMAP_SHIFT; }

static_assert(sizeof(chunk_t) % 64 == 0, "page map aligned");

SC_INLINE chunk_t *chunk_of(const void *p) { return (chunk_t *)((uintptr_t)p & ~SC_CHUNK_MASK); }
SC_INLINE size_t chunk_page_index(const chunk_t *c, const void *p)
{
    return ((uintptr_t)p - (uintptr_t)c) >> os_page_shift;
}
SC_INLINE char *chunk_page_addr(const chunk_t *c, size_t pi)
{
    return (char *)c + (pi << os_page_shift);
}

/* At start-up, after the options are read. */
void chunk_init(void);
/* Maps and registers a new chunk for arena, with its guard pages in
 * secure mode; its pages first_page .. end_page-1 form one clean free run
 * that the caller inserts. NULL on failure (a guard that cannot be set
 * fails the chunk: secure mode never hands out unguarded chunks). */
chunk_t *chunk_alloc(struct arena *arena);
/* Unregisters and unmaps a chunk whose pages are all free. */
void chunk_release(chunk_t *c);
/* Pages available for runs in one chunk (same for every chunk):
 * end_page - first_page. */
size_t chunk_usable_pages(void);

#endif
