/*
 * Size classes.
 *
 * Requests are rounded up to a class so that regions of one slab are
 * interchangeable. The spacing is 8, 16, then 16-byte steps up to 128, then
 * four classes per doubling: for a size in (2^k, 2^(k+1)] the classes are
 * 2^k + i * 2^(k-2), i = 1..4. Rounding up therefore wastes less than 25%
 * of a request (the worst case is just above a class: 2^k + 1 -> 2^k +
 * 2^(k-2)) and less than 12.5% on average over a class's span. All classes
 * from 16 up are multiples of 16, so malloc's 16-byte alignment holds for
 * every request of 16 bytes or more; the 8-byte class serves requests that
 * cannot hold a 16-byte-aligned object anyway.
 *
 * Between 4 and 16 KiB the spacing is eight classes per doubling (512-byte
 * steps, then 1 KiB): a page plus a small header is a common request
 * (sqlite3's page cache: 4100-4160 and 4353-4416 bytes), and four per
 * doubling rounded it to 5120, a fifth more. bench's sqlite workload:
 * peak RSS 136.4 -> 130.6 MB (glibc 135.0); bench/mixed, whose sizes
 * reach 64 KiB, the same within noise.
 *
 * Class index: sizes up to 128 use (size + 15) / 16; above, with
 * x = size - 1 and lg = floor(log2(x)), the index is
 * 9 + 4 * (lg - 7) + the two bits of x below its top bit up to 4 KiB,
 * 29 + 8 * (lg - 12) + the three bits below it up to 16 KiB, and
 * 45 + 4 * (lg - 14) + the two bits below it above.
 * Sizes up to SC_LOOKUP_MAX are looked up in a byte table instead (one load).
 *
 * Small classes (up to 16 KiB) live in slabs. A slab has the fewest pages
 * that hold at least four regions (or one page) and leave at most 1/16 of
 * the slab unused, or, for a region of more than a page, of eight regions
 * when that fills whole pages; the geometry depends on the page size, so it
 * is computed at start-up.
 */
#include "sizeclass.h"
#include "os.h"

sizeclass_info_t sizeclass_info[SC_NCLASSES];
uint8_t sizeclass_lookup[(SC_LOOKUP_MAX >> 3) + 1];
uint8_t sizeclass_lookup_512[(SC_TCACHE_LARGE_MAX >> 9) + 1];
uint8_t sizeclass_cached_large[SC_TCACHE_LARGE_PAGES + 1];
sizeclass_check_t sizeclass_check[SC_NSMALL + 1];

static size_t class_size_compute(unsigned cls)
{
    if (cls == 0) return 8;
    if (cls <= 8) return (size_t)cls * 16;
    if (cls >= 29 && cls < 45) { /* eight per doubling from 4 to 16 KiB */
        size_t base = (size_t)4096 << ((cls - 29) / 8);
        return base + (size_t)((cls - 29) % 8 + 1) * (base >> 3);
    }
    unsigned group = cls < 29 ? (cls - 9) / 4 : 7 + (cls - 45) / 4, step = cls < 29 ? (cls - 9) % 4 : (cls - 45) % 4;
    size_t base = (size_t)128 << group;
    return base + (size_t)(step + 1) * (base >> 2);
}

void sizeclass_init(void)
{
    for (unsigned c = 0; c < SC_NCLASSES; c++) {
        sizeclass_info_t *ci = &sizeclass_info[c];
        size_t size = class_size_compute(c);
        ci->size = (uint32_t)size;
        ci->recip = (uint32_t)(((1ull << 32) + size - 1) / size);
        if (c < SC_NSMALL) {
            size_t min_bytes = size * 4 > os_page ? size * 4 : os_page;
            size_t pages = (min_bytes + os_page - 1) / os_page;
            /* At most 1/64 of a slab unused (jemalloc's classes have about
             * as much): 320 and 384 take 3 and 2 pages rather than one,
             * which left 6.25% unused. Regions are handed out lowest
             * address first, so a slab in light use still touches its
             * first page only. Measured (5 interleaved runs, against
             * 1/16): frag peak 365.2 -> 358.8 MB, larson 31.2 -> 30.0,
             * threads 3.19 -> 3.06, churn 12.49 -> 12.36; prodcons and
             * mixed the same within noise; times the same. */
            while ((pages * os_page) % size > (pages * os_page) / 64) pages++;
            /* A region of more than a page: eight of a 512-byte-step size
             * (4608, 5632, ...) fill whole pages, where the loop above
             * stops with some of the slab unused (4608: 8 pages, 512
             * bytes), which would eat into what the finer classes save. */
            if (size > os_page && (pages * os_page) % size && (size * 8) % os_page == 0)
                pages = size * 8 / os_page;
            ci->slab_pages = (uint32_t)pages;
            ci->nregs = (uint32_t)(pages * os_page / size);
            /* free's region test (sizeclass.h) and the two facts it needs */
            uint64_t magic = UINT64_MAX / size + 1; /* ceil(2^64 / size) */
            uint64_t e = magic * size;              /* wraps: magic * size - 2^64 */
            sc_check(e != 0 || ci->nregs * size == pages * os_page);
            sc_check((ci->nregs - 1) * e < magic);
            sizeclass_check[c + 1] = (sizeclass_check_t){ magic, (ci->nregs - 1) * e + 1 };
        }
    }
    sc_check(sizeclass_info[SC_NSMALL - 1].size == SC_SMALL_MAX);
    sc_check(sizeclass_info[SC_NCLASSES - 1].size == SC_LARGE_MAX);
    for (unsigned c = SC_NSMALL; c < SC_TCACHE_NBINS; c++) {
        size_t size = sizeclass_info[c].size;
        if (size % os_page == 0) sizeclass_cached_large[size >> os_page_shift] = (uint8_t)c;
    }
    for (size_t i = 0; i <= SC_LOOKUP_MAX >> 3; i++)
        sizeclass_lookup[i] = (uint8_t)sizeclass_compute(i << 3);
    for (size_t i = 0; i <= SC_TCACHE_LARGE_MAX >> 9; i++)
        sizeclass_lookup_512[i] = (uint8_t)sizeclass_compute(i << 9);
}
