/*
 * slab: a run of pages cut into regions of one small class. Bookkeeping is
 * out of band (a bitmap in the descriptor, from base memory), so user
 * overflows cannot corrupt it and a double free is seen as a bit that is
 * already set.
 *
 * Invariant: nfree == popcount(bitmap) and 0 <= nfree <= nregs.
 */
#ifndef SC_SLAB_H
#define SC_SLAB_H

#include "sizeclass.h"
#include "valgrind.h"

typedef struct slab {
    struct slab *next, *prev; /* the bin's list of non-full slabs */
    uintptr_t base;           /* first region, vg_disguise()d (valgrind.h): see slab_base */
    uint32_t nfree;           /* free regions */
    uint16_t cls;
    uint8_t listed;           /* on the bin's non-full list */
    uint8_t reserved;
    uint64_t bitmap[];        /* bit set: region free */
} slab_t;

/* The slab's first region. */
SC_INLINE char *slab_base(const slab_t *s) { return vg_reveal(s->base); }

SC_INLINE size_t slab_desc_size(unsigned cls)
{
    return sizeof(slab_t) + ((sizeclass_info[cls].nregs + 63) / 64) * sizeof(uint64_t);
}

/* A descriptor for a fresh slab at base with every region free. */
slab_t *slab_create(unsigned cls, char *base);
void slab_destroy(slab_t *s);
/* Takes up to n free regions, lowest address first; returns how many. */
size_t slab_take(slab_t *s, void **out, size_t n);
/* Region index of p in s, whose class geometry is ci, or -1 if p is not
 * the start of one of its regions. */
SC_INLINE long slab_index_of(const slab_t *s, const void *p, const sizeclass_info_t *ci)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)slab_base(s);
    if (off >= (uintptr_t)ci->nregs * ci->size) return -1;
    uint32_t idx = sizeclass_index(ci, off);
    return (uintptr_t)idx * ci->size == off ? (long)idx : -1;
}

/* slab_index_of with the geometry looked up. */
SC_INLINE long slab_region_index(const slab_t *s, const void *p)
{
    return slab_index_of(s, p, &sizeclass_info[s->cls]);
}

/* Marks p free again; ci: its class's sizeclass_info, which the caller
 * loads once for a whole flush of regions of one class. Aborts with a
 * message if p is not the start of a region of this slab or is already
 * free. */
SC_INLINE void slab_put(slab_t *s, void *p, const sizeclass_info_t *ci)
{
    long idx = slab_index_of(s, p, ci);
    if (idx < 0) sc_misuse("invalid pointer", p);
    uint64_t bit = 1ull << (idx % 64);
    if (s->bitmap[idx / 64] & bit) sc_misuse("double free", p);
    s->bitmap[idx / 64] |= bit;
    s->nfree++;
}

#endif
