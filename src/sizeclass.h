/*
 * Size classes: size <-> class in O(1). See sizeclass.c for the spacing.
 */
#ifndef SC_SIZECLASS_H
#define SC_SIZECLASS_H

#include "debug.h"

typedef struct sizeclass_info {
    uint32_t size;       /* region size in bytes */
    uint32_t recip;      /* ceil(2^32 / size): offset -> index by multiply */
    uint32_t nregs;      /* small: regions per slab */
    uint32_t slab_pages; /* small: pages per slab */
} sizeclass_info_t;

extern SC_HIDDEN sizeclass_info_t sizeclass_info[SC_NCLASSES];
extern SC_HIDDEN uint8_t sizeclass_lookup[(SC_LOOKUP_MAX >> 3) + 1];
/* Above SC_LOOKUP_MAX every class up to SC_TCACHE_LARGE_MAX is a multiple
 * of 512 bytes: the class of size is sizeclass_lookup_512[(size + 511) >> 9]
 * (malloc's fast path for the classes past the byte table that the thread
 * caches hold; no bit scan). */
extern SC_HIDDEN uint8_t sizeclass_lookup_512[(SC_TCACHE_LARGE_MAX >> 9) + 1];
/* Pages of a large block -> its class, for the large classes the thread
 * caches hold whose size is whole pages; 0 for any other page count. */
#define SC_TCACHE_LARGE_PAGES (SC_TCACHE_LARGE_MAX >> SC_MIN_PAGE_SHIFT)
extern SC_HIDDEN uint8_t sizeclass_cached_large[SC_TCACHE_LARGE_PAGES + 1];
/* The thread-cache class of a large block of npages pages, or 0 if blocks
 * of that length are not cached (aligned allocations may not have their
 * class's pages). */
SC_INLINE unsigned sizeclass_cached_pages(size_t npages)
{
    return npages <= SC_TCACHE_LARGE_PAGES ? sizeclass_cached_large[npages] : 0;
}

/* Builds the tables; needs os_page (slab geometry depends on it). */
void sizeclass_init(void);

/* Arithmetic version of sizeclass_of for any size in 0 .. SC_LARGE_MAX; the
 * table is built from it. */
SC_INLINE unsigned sizeclass_compute(size_t size)
{
    if (size <= 8) return 0;
    if (size <= 128) return (unsigned)((size + 15) >> 4);
    size_t x = size - 1;
    unsigned lg = 63u - (unsigned)__builtin_clzl(x);
    if (lg < 12) return 9 + (lg - 7) * 4 + (unsigned)((x >> (lg - 2)) & 3);      /* .. 4 KiB */
    if (lg < 14) return 29 + (lg - 12) * 8 + (unsigned)((x >> (lg - 3)) & 7);    /* .. 16 KiB */
    return 45 + (lg - 14) * 4 + (unsigned)((x >> (lg - 2)) & 3);                 /* .. 2 MiB */
}

/* The class of a size in 1 .. SC_LARGE_MAX (0 counts as 1). */
SC_INLINE unsigned sizeclass_of(size_t size)
{
    if (likely(size <= SC_LOOKUP_MAX)) return sizeclass_lookup[(size + 7) >> 3];
    return sizeclass_compute(size);
}

SC_INLINE size_t sizeclass_size(unsigned cls) { return sizeclass_info[cls].size; }

/* Whether byte offset off in a slab starts a region, by one
 * multiplication and one comparison (no division), indexed by the small
 * map's byte (class + 1, 0 outside slabs): free()'s fast-path test.
 *
 * For off = k * size, off * magic wraps to k * e, where e = magic * size
 * - 2^64 < size; every other off wraps to at least magic. So "off * magic
 * < bound", with bound = (nregs - 1) * e + 1, holds exactly for the region
 * starts k < nregs: (nregs - 1) * e is far below magic. When the size is a
 * power of two, e = 0 and every multiple passes, which is right because
 * such slabs end with their last region (sizeclass_init checks it). Entry
 * 0 has bound 0: nothing outside a slab passes. */
typedef struct sizeclass_check { uint64_t magic, bound; } sizeclass_check_t;
extern SC_HIDDEN sizeclass_check_t sizeclass_check[SC_NSMALL + 1];

SC_INLINE bool sizeclass_starts_region(unsigned bin, uint64_t off)
{
    return off * sizeclass_check[bin].magic < sizeclass_check[bin].bound;
}

/* Region index of a byte offset in a slab, by multiplication. Exact for
 * multiples of the size; callers check index * size == offset. */
SC_INLINE uint32_t sizeclass_index(const sizeclass_info_t *ci, uint64_t offset)
{
    return (uint32_t)((offset * ci->recip) >> 32);
}

#endif
