/*
 * rtree: leaves are created on first use with a compare-and-swap, never
 * freed, and come from base (metadata memory).
 */
#include "rtree.h"
#include "base.h"
#include "options.h"
#include "os.h"

/* Both zero-initialised (.bss), so that free() works before the first
 * malloc and the library carries no relocations for the root: a root that
 * pointed at the zero leaf statically cost 8192 load-time relocations,
 * 256 KiB of resident memory in every process. */
SC_SPARSE rtree_leaf_t rtree_zero_leaf;
SC_SPARSE uintptr_t rtree_root[1u << RTREE_ROOT_BITS];

static rtree_leaf_t *rtree_leaf_get(size_t i)
{
    uintptr_t off = __atomic_load_n(&rtree_root[i], __ATOMIC_ACQUIRE);
    if (off != 0) return rtree_leaf_at(off);
    rtree_leaf_t *fresh = base_alloc(sizeof(rtree_leaf_t));
    if (!fresh) return NULL;
    uintptr_t expected = 0;
    if (__atomic_compare_exchange_n(&rtree_root[i], &expected,
                                    (uintptr_t)fresh - (uintptr_t)&rtree_zero_leaf, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    base_free(fresh, sizeof(rtree_leaf_t));
    return rtree_leaf_at(expected);
}

bool rtree_set_range(uintptr_t addr, size_t size, uintptr_t value)
{
    sc_assert((addr & SC_CHUNK_MASK) == 0);
    for (uintptr_t a = addr; a < addr + size; a += SC_CHUNK_SIZE) {
        sc_check(a >> SC_VA_BITS == 0);
        rtree_leaf_t *leaf = rtree_leaf_get(a >> (SC_CHUNK_SHIFT + RTREE_LEAF_BITS));
        if (!leaf) return false;
        __atomic_store_n(&leaf->slot[(a >> SC_CHUNK_SHIFT) & ((1u << RTREE_LEAF_BITS) - 1)],
                         value, __ATOMIC_RELEASE);
    }
    return true;
}

SC_SPARSE uint64_t rtree_chunk_bits[RTREE_CHUNK_WORDS];

void rtree_init(void)
{
    if (opt.thp) return;
    /* The whole pages inside the array: what remains of .bss on either
     * side is too short to hold an aligned 2 MiB page. */
    uintptr_t lo = ((uintptr_t)rtree_chunk_bits + os_page - 1) & ~(os_page - 1);
    uintptr_t hi = ((uintptr_t)rtree_chunk_bits + sizeof(rtree_chunk_bits)) & ~(os_page - 1);
    os_no_huge_pages((void *)lo, hi - lo);
}

void rtree_mark_arena_chunk(uintptr_t addr, bool on)
{
    uint64_t bit = 1ull << ((addr >> SC_CHUNK_SHIFT) & 63);
    uint64_t *word = &rtree_chunk_bits[addr >> (SC_CHUNK_SHIFT + 6)];
    if (on) __atomic_fetch_or(word, bit, __ATOMIC_RELEASE);
    else __atomic_fetch_and(word, ~bit, __ATOMIC_RELEASE);
}
