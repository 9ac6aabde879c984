/*
 * rtree: pointer -> owner in O(1) without a lock.
 *
 * Arena chunks are known by one bit each: one bit per chunk-sized slot of
 * the 48-bit address space (2^26 bits, 8 MiB of zero pages in .bss,
 * touched only where chunks are). A set bit means the address lies in an
 * arena chunk, whose header is at the masked address (chunk_of) and whose
 * page map says the rest. free()'s fast path asks this first: the load
 * depends only on the pointer, so the header read that follows runs in
 * parallel instead of after two tree loads (measured: 5 of 17 ns per
 * malloc/free pair).
 *
 * Everything else goes through a two-level radix tree over the chunk
 * number (address >> SC_CHUNK_SHIFT). A slot holds:
 *   - a huge_t pointer | RTREE_HUGE for every chunk-sized slot covered by a
 *     huge mapping (huge mappings are chunk-aligned, so no slot is shared);
 *   - RTREE_FREED_HUGE at the first slot of a huge block that was freed, so
 *     that a second free of it is reported as a double free;
 *   - 0: not ours (or an arena chunk's: the bit is asked first).
 * Arena chunks have no slots, so a process without huge blocks writes
 * neither the root nor a leaf (two pages fewer resident).
 * Why a lookup rather than masking the pointer alone: free() must tell our
 * pointers from foreign ones (stack, another allocator, a stale huge
 * block) before it reads any header, and huge blocks with large alignments
 * have no header in front of them. Unused root slots point at one shared
 * zero leaf, so a lookup is two dependent loads and no branch on NULL
 * (the root stores offsets from that leaf, see rtree_leaf_at).
 */
#ifndef SC_RTREE_H
#define SC_RTREE_H

#include "debug.h"

#define RTREE_LEAF_BITS 13
#define RTREE_ROOT_BITS (SC_VA_BITS - SC_CHUNK_SHIFT - RTREE_LEAF_BITS)
#define RTREE_HUGE ((uintptr_t)1)
#define RTREE_FREED_HUGE ((uintptr_t)2)
#define RTREE_TAG_MASK ((uintptr_t)3)

static_assert(RTREE_ROOT_BITS > 0 && RTREE_ROOT_BITS <= 16, "radix tree shape");

#define RTREE_CHUNK_WORDS ((size_t)1 << (SC_VA_BITS - SC_CHUNK_SHIFT - 6))
extern SC_HIDDEN uint64_t rtree_chunk_bits[RTREE_CHUNK_WORDS];

/* Whether a lies in an arena chunk (then chunk_of(a) is its header). */
SC_INLINE bool rtree_in_arena_chunk(uintptr_t a)
{
    /* The word's index is the range check too (addresses of 2^SC_VA_BITS
     * and up have none). */
    uintptr_t w = a >> (SC_CHUNK_SHIFT + 6);
    if (unlikely(w >= RTREE_CHUNK_WORDS)) return false;
    /* Relaxed: the bits of other chunks in the word change concurrently;
     * ours was set before any pointer into the chunk was handed out. */
    uint64_t word = __atomic_load_n(&rtree_chunk_bits[w], __ATOMIC_RELAXED);
    return (word >> ((a >> SC_CHUNK_SHIFT) & 63)) & 1;
}

/* At start-up, after the options are read: keeps the 8 MiB bit array off
 * transparent huge pages (a few of its pages are ever touched), unless
 * opt.thp. */
void rtree_init(void);

/* Marks the chunk at addr as an arena chunk, or not. */
void rtree_mark_arena_chunk(uintptr_t addr, bool on);

typedef struct rtree_leaf { uintptr_t slot[1u << RTREE_LEAF_BITS]; } rtree_leaf_t;

/* A root slot holds its leaf's offset from the shared zero leaf, so that
 * the all-zero root of .bss means "every leaf is the zero leaf". */
extern SC_HIDDEN rtree_leaf_t rtree_zero_leaf;
extern SC_HIDDEN uintptr_t rtree_root[1u << RTREE_ROOT_BITS];

SC_INLINE rtree_leaf_t *rtree_leaf_at(uintptr_t off)
{
    return (rtree_leaf_t *)((uintptr_t)&rtree_zero_leaf + off);
}

/* The radix tree's slot for address a (0 for arena chunks: ask
 * rtree_in_arena_chunk first). */
SC_INLINE uintptr_t rtree_lookup(uintptr_t a)
{
    if (unlikely(a >> SC_VA_BITS)) return 0;
    rtree_leaf_t *leaf = rtree_leaf_at(__atomic_load_n(&rtree_root[a >> (SC_CHUNK_SHIFT + RTREE_LEAF_BITS)],
                                                       __ATOMIC_ACQUIRE));
    return __atomic_load_n(&leaf->slot[(a >> SC_CHUNK_SHIFT) & ((1u << RTREE_LEAF_BITS) - 1)],
                           __ATOMIC_ACQUIRE);
}

/* Sets the slots of [addr, addr + size) (chunk-aligned) to value.
 * False when a leaf could not be allocated. */
bool rtree_set_range(uintptr_t addr, size_t size, uintptr_t value);

#endif
