/*
 * base: bump allocation from 2 MiB blocks (whole pages from the top, the
 * rest from the bottom), with one free list per 64-byte size step for
 * reuse. Requests above BASE_LIST_MAX get their own mapping.
 * Everything is under base_lock, taken last in the lock order.
 *
 * In secure mode each mapping has a PROT_NONE guard page on either side, so
 * that a linear overflow or underflow out of a neighbouring mapping (a
 * huge block, a chunk) faults before it reaches the allocator's metadata.
 * The guards are not counted in base_mapped(): they are never resident.
 */
#include "base.h"
#include "options.h"
#include "os.h"

#include <string.h>

#define BASE_BLOCK ((size_t)2 << 20)
#define BASE_QUANTUM 64
#define BASE_LIST_MAX ((size_t)256 << 10)

typedef struct base_free_node { struct base_free_node *next; } base_free_node_t;

mutex_t base_lock;
/* The current block's free middle: whole pages are taken from its top
 * down, everything else from its bottom up (base_alloc). */
static char *lo, *hi;
static size_t mapped;
#define BASE_LISTS (BASE_LIST_MAX / BASE_QUANTUM + 1)
SC_SPARSE static base_free_node_t *free_lists[BASE_LISTS];
/* Non-empty lists: base_alloc reads a list only when its bit is set, so
 * that the 32 KiB of list heads stay untouched in a process that never
 * frees base memory. */
static uint64_t free_nonempty[BASE_LISTS / 64 + 1];

static size_t guard; /* bytes of a guard: a page in secure mode, else 0 */

void base_init(void)
{
    mutex_init(&base_lock);
    guard = opt.secure ? os_page : 0;
}

/* size bytes (a page multiple), zero, between guard pages in secure mode.
 * NULL on failure, a guard that cannot be set included. */
static void *base_map(size_t size)
{
    char *p = os_map_aligned(size + 2 * guard, os_page);
    /* Sparse metadata, like a chunk (chunk_alloc). */
    if (p && !opt.thp) os_no_huge_pages(p, size + 2 * guard);
    if (!p || !guard) return p;
    if (!os_protect_none(p, guard) || !os_protect_none(p + guard + size, guard)) {
        os_unmap(p, size + 2 * guard);
        return NULL;
    }
    return p + guard;
}

static void base_unmap(void *p, size_t size)
{
    os_unmap((char *)p - guard, size + 2 * guard);
}

void *base_alloc(size_t size)
{
    size = (size + BASE_QUANTUM - 1) & ~(size_t)(BASE_QUANTUM - 1);
    if (size > BASE_LIST_MAX) {
        size_t n = page_ceil(size);
        void *p = base_map(n);
        if (p) __atomic_fetch_add(&mapped, n, __ATOMIC_RELAXED);
        return p;
    }
    mutex_lock(&base_lock);
    size_t i = size / BASE_QUANTUM;
    void *p;
    if (free_nonempty[i / 64] & (1ull << (i % 64))) {
        p = free_lists[i];
        free_lists[i] = ((base_free_node_t *)p)->next;
        if (!free_lists[i]) free_nonempty[i / 64] &= ~(1ull << (i % 64));
        mutex_unlock(&base_lock);
        memset(p, 0, size);
        return p;
    }
    if ((size_t)(hi - lo) < size) {
        char *block = base_map(BASE_BLOCK);
        if (!block) { mutex_unlock(&base_lock); return NULL; }
        mapped += BASE_BLOCK;
        lo = block;
        hi = block + BASE_BLOCK;
    }
    /* Whole pages (thread caches, radix tree leaves) come page-aligned
     * from the top, the rest (slab descriptors, arenas) from the bottom.
     * A thread cache touches its first page only; from one end, the slab
     * descriptors made between two threads' caches went after the first
     * cache, and each such gap left a page resident for a few of them
     * (tools/manythreads, 2000 threads: 36.5 -> 32.4 MB; tcmalloc 35.8,
     * glibc 23.7). */
    if ((size & (os_page - 1)) == 0) {
        hi -= size;
        p = hi;
    } else {
        p = lo;
        lo += size;
    }
    mutex_unlock(&base_lock);
    return p; /* fresh pages are zero */
}

void base_free(void *p, size_t size)
{
    if (!p) return;
    size = (size + BASE_QUANTUM - 1) & ~(size_t)(BASE_QUANTUM - 1);
    if (size > BASE_LIST_MAX) {
        size_t n = page_ceil(size);
        base_unmap(p, n);
        __atomic_fetch_sub(&mapped, n, __ATOMIC_RELAXED);
        return;
    }
    mutex_lock(&base_lock);
    size_t i = size / BASE_QUANTUM;
    base_free_node_t *node = p;
    node->next = free_lists[i];
    free_lists[i] = node;
    free_nonempty[i / 64] |= 1ull << (i % 64);
    mutex_unlock(&base_lock);
}

size_t base_mapped(void) { return __atomic_load_n(&mapped, __ATOMIC_RELAXED); }
