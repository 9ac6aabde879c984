/* Unit test of the size classes: the table against the arithmetic, the
 * spacing, alignment, the fragmentation bound and the slab geometry. */
#include "../harness.h"
#include "init.h"
#include "os.h"
#include "sizeclass.h"

int main(void)
{
    REQUIRE(malloc_init());
    /* Monotonic, aligned, and spaced as documented. */
    for (unsigned c = 0; c < SC_NCLASSES; c++) {
        size_t s = sizeclass_size(c);
        if (c) CHECKF(s > sizeclass_size(c - 1), "class %u size %zu", c, s);
        if (c) CHECKF(s % 16 == 0, "class %u size %zu not 16-aligned", c, s);
        if (c > 8) {
            /* quarter steps, eighths between 4 and 16 KiB */
            size_t pow = (size_t)1 << (63 - __builtin_clzl(s - 1)), step = pow / (pow >= 4096 && pow < 16384 ? 8 : 4);
            CHECKF((s - pow) % step == 0 && (c == 9 || s - sizeclass_size(c - 1) == step),
                   "class %u size %zu not a step of %zu", c, s, step);
        }
        CHECKF(sizeclass_of(s) == c, "size %zu maps to class %u, not %u", s, sizeclass_of(s), c);
        CHECKF(sizeclass_compute(s) == c, "computed class of %zu", s);
    }
    CHECK(sizeclass_size(0) == 8 && sizeclass_size(1) == 16 && sizeclass_size(8) == 128);
    CHECK(sizeclass_size(SC_NSMALL - 1) == SC_SMALL_MAX);
    CHECK(sizeclass_size(SC_NCLASSES - 1) == SC_LARGE_MAX);

    /* Every size maps to the smallest class that holds it; waste is under
     * 16 bytes up to 128 (16-byte steps) and under 25% above. The lookup
     * table agrees with the arithmetic. */
    size_t worst_num = 0, worst_den = 1;
    for (size_t size = 0; size <= SC_LARGE_MAX; size += size < 65536 ? 1 : 61) {
        unsigned c = sizeclass_of(size);
        size_t s = sizeclass_size(c);
        CHECKF(s >= size, "size %zu in class %zu", size, s);
        if (c) CHECKF(sizeclass_size(c - 1) < size, "size %zu could use class %zu", size, sizeclass_size(c - 1));
        if (size <= SC_LOOKUP_MAX) CHECKF(c == sizeclass_compute(size), "table and arithmetic differ at %zu", size);
        else if (size <= SC_TCACHE_LARGE_MAX)
            CHECKF(c == sizeclass_lookup_512[(size + 511) >> 9], "512-byte table and arithmetic differ at %zu", size);
        if (size <= 128) CHECKF(s - size < 16, "size %zu wastes %zu bytes", size, s - size);
        else if ((s - size) * worst_den > worst_num * size) { worst_num = s - size; worst_den = size; }
    }
    CHECKF(worst_num * 4 < worst_den, "worst internal fragmentation %zu/%zu", worst_num, worst_den);
    /* A page plus a header (sqlite3's page cache) wastes at most 1/8. */
    for (size_t size = 4097; size <= 16384; size++)
        CHECKF((sizeclass_size(sizeclass_of(size)) - size) * 8 < size, "size %zu in class %zu", size,
               sizeclass_size(sizeclass_of(size)));

    /* Slab geometry: at most 1/16 of a slab unused; multiplication by the
     * reciprocal gives the exact index of every region. */
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        const sizeclass_info_t *ci = &sizeclass_info[c];
        size_t bytes = (size_t)ci->slab_pages * os_page;
        CHECKF(ci->nregs >= 1 && ci->nregs * ci->size <= bytes, "class %u geometry", c);
        CHECKF((bytes - ci->nregs * ci->size) * 16 <= bytes, "class %u wastes %zu of %zu", c,
               bytes - ci->nregs * ci->size, bytes);
        /* free()'s one-multiplication region-start test agrees with the
         * division for every offset in the slab, its unused tail included
         * (free never asks past the slab: the small map covers its pages). */
        for (uint32_t off = 0; off < bytes; off++) {
            bool want = off % ci->size == 0 && off < ci->nregs * ci->size;
            if (sizeclass_starts_region(c + 1, off) != want) {
                CHECKF(0, "class %u offset %u: region start says %d", c, off, !want);
                break;
            }
        }
        for (uint32_t i = 0; i < ci->nregs; i++) {
            CHECKF(sizeclass_index(ci, i * ci->size) == i, "class %u region %u", c, i);
            if (i) CHECKF(sizeclass_index(ci, i * ci->size - 1) * ci->size != i * ci->size - 1,
                          "class %u offset %u taken for a region start", c, i * ci->size - 1);
        }
    }
    /* Pages outside slabs (small map byte 0): no offset passes. */
    for (uint64_t off = 0; off < ((uint64_t)SC_MAX_CHUNK_PAGES << SC_MAX_PAGE_SHIFT); off += 8)
        if (sizeclass_starts_region(0, off)) { CHECKF(0, "offset %llu passes outside a slab", (unsigned long long)off); break; }
    return harness_summary();
}
