/*
 * alloc: the public entry points, their argument checks and errno.
 *
 * Call tree of the hot paths:
 *
 *   sc_malloc(size)
 *     size <= SC_LOOKUP_MAX: class = sizeclass_lookup[]; tcache_pop()  -- done, no lock
 *     else / miss: alloc_slow(size)
 *       small: tcache_alloc_slow(cls) -> arena_bin_fill()   (bin lock, batch)
 *       large, up to SC_HUGE_MIN: arena_alloc_large()       (arena lock)
 *       huge, above:  huge_alloc()          (huge lock; cached mapping or mmap)
 *
 *   sc_free(p)
 *     rtree_in_arena_chunk(p) (one bit) -> chunk small map -> class;
 *     region check; tcache_push()                           -- done, no lock
 *     small, stack full (or prof/secure on): free_small()
 *       -> tcache_free_slow() -> arena_bin_flush()           (batch)
 *     page-aligned: free_large(): up to 64 KiB the thread cache, as
 *       small ones; else arena_dalloc_large()
 *     else: free_other(): block_find(): the bit again, else the radix tree;
 *       huge: huge_free() (to the huge cache); anything else: misuse
 *       report and abort
 *
 * With prof or secure on, both fast paths always miss (tcache.h), so every
 * call comes through alloc_slow / free_block, where sampling (prof.c) and
 * the canaries and zeroing below happen.
 */
#define _GNU_SOURCE
#include "alloc.h"
#include "huge.h"
#include "init.h"
#include "options.h"
#include "prof.h"
#include "tcache.h"
#include "valgrind.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define JUNK_ALLOC 0xa5
#define JUNK_FREE 0x5a

/* Tell memcheck (VALGRIND=1 builds) that a block was handed out or taken
 * back; compiled away otherwise. */
SC_INLINE void *vg_alloc(void *p, size_t size, bool zeroed)
{
    if (config_valgrind && p) {
        VALGRIND_MALLOCLIKE_BLOCK(p, size, 0, zeroed);
        /* The rest of the region or run is off limits, so that an
         * overflow is seen. */
        size_t usable = sc_malloc_usable_size(p);
        if (usable > size) VALGRIND_MAKE_MEM_NOACCESS((char *)p + size, usable - size);
    }
    return p;
}

SC_INLINE void vg_free(void *p)
{
    if (config_valgrind && p) VALGRIND_FREELIKE_BLOCK(p, 0);
}

/* ---- secure mode: canaries ----------------------------------------------
 * The last CANARY_SIZE bytes of every small region hold secret ^ address
 * (never 0). free() checks them, so a write past the end of a block is
 * caught when the block is freed, and then zeroes the whole region, so a
 * second free finds a zero canary and is caught at once too. */
#define CANARY_SIZE 8
static uint64_t canary_secret;

/* Bytes a request of size needs beyond size for the canary. */
SC_INLINE size_t canary_room(size_t size) { return opt.secure && size <= SC_SMALL_MAX ? CANARY_SIZE : 0; }

SC_INLINE uint64_t *canary_slot(void *p, unsigned cls)
{
    return (uint64_t *)((char *)p + sizeclass_size(cls) - CANARY_SIZE);
}

SC_INLINE uint64_t canary_value(const void *p) { return (canary_secret ^ (uintptr_t)p) | 1; }

static SC_NOINLINE void canary_fail(void *p, uint64_t c)
{
    sc_misuse(c == 0 ? "double free" : "heap overflow (canary after the block overwritten)", p);
}

/* Checks the canary of a small region being freed, then zeroes it all. */
SC_INLINE void secure_wipe(void *p, unsigned cls)
{
    /* Memcheck (VALGRIND=1) holds the bytes past the requested size off
     * limits, the canary's among them; these accesses are the allocator's. */
    if (config_valgrind) VALGRIND_DISABLE_ERROR_REPORTING;
    uint64_t c;
    memcpy(&c, canary_slot(p, cls), sizeof(c));
    if (unlikely(c != canary_value(p))) canary_fail(p, c);
    memset(p, 0, sizeclass_size(cls));
    if (config_valgrind) VALGRIND_ENABLE_ERROR_REPORTING;
}

void alloc_init(void)
{
    /* 16 random bytes from the kernel, not necessarily 8-byte aligned. */
    const unsigned char *kernel = (const unsigned char *)getauxval(AT_RANDOM);
    if (kernel) memcpy(&canary_secret, kernel + 8, sizeof(canary_secret));
    else canary_secret = (uint64_t)(uintptr_t)&canary_secret * 0x9e3779b97f4a7c15u;
}

/* Bytes of a small region of class cls the caller may use. */
SC_INLINE size_t small_usable(unsigned cls) { return sizeclass_size(cls) - (opt.secure ? CANARY_SIZE : 0); }

/* ---- allocation ------------------------------------------------------------ */

/* A region (small classes) or a block (cached large classes) of class cls
 * through the thread cache. */
static void *alloc_class(unsigned cls)
{
    void *p = tcache_pop(tcache_current(), cls);
    if (!p) p = tcache_alloc_slow(cls);
    if (unlikely(!p)) { errno = ENOMEM; return NULL; }
    if (opt.secure && cls < SC_NSMALL) {
        uint64_t c = canary_value(p);
        memcpy(canary_slot(p, cls), &c, sizeof(c));
    }
    return p;
}

/* Small sizes, and large ones up to SC_TCACHE_LARGE_MAX. The first
 * allocation of a process can come here before the library constructor
 * has run (a constructor of a library loaded before this one allocates):
 * the class table and the options must be set up before they are read,
 * or every size maps to class 0 (an 8-byte region for any request). */
static void *alloc_cached(size_t size, bool zero)
{
    if (!malloc_init()) { errno = ENOMEM; return NULL; }
    unsigned cls = sizeclass_of(size + canary_room(size));
    void *p = alloc_class(cls);
    if (!p) return NULL;
    if (zero) memset(p, 0, size);
    else if (unlikely(opt.junk)) memset(p, JUNK_ALLOC, cls < SC_NSMALL ? small_usable(cls) : sizeclass_size(cls));
    return p;
}

/* Out of memory or address space: gives back what scmalloc holds without
 * need (the calling thread's cache, dirty pages, chunks left empty, cached
 * huge mappings), so that one retry may succeed. True if anything went. */
static SC_NOINLINE bool reclaim(void)
{
    tcache_flush(tcache_current());
    return arena_purge_all() + huge_purge() > 0;
}

/* own: a huge block (a mapping of its own) even if a page run could hold
 * it, unless there are SC_HUGE_MAX_OWN huge blocks already; see
 * SC_HUGE_MIN. grows: realloc's new block for one that grows (huge_alloc
 * says why that matters). */
static void *alloc_big(size_t size, size_t align, bool zero, bool own, bool grows)
{
    if (unlikely(size > PTRDIFF_MAX || align > PTRDIFF_MAX)) { errno = ENOMEM; return NULL; }
    if (!malloc_init()) { errno = ENOMEM; return NULL; }
    void *p;
    bool retried = false;
    if (own && huge_blocks() >= SC_HUGE_MAX_OWN) own = false;
again:
    if (!own && size <= SC_LARGE_MAX && page_ceil(size) + (align > os_page ? align - os_page : 0) <= SC_LARGE_MAX) {
        arena_t *a = tcache_arena();
        if (!a) { errno = ENOMEM; return NULL; }
        p = arena_alloc_large(a, size, align, zero);
    } else {
        p = huge_alloc(size, align, zero, grows);
    }
    if (unlikely(!p) && !retried && reclaim()) { retried = true; goto again; }
    if (unlikely(!p)) { errno = ENOMEM; return NULL; }
    if (!zero && unlikely(opt.junk)) memset(p, JUNK_ALLOC, size);
    tcache_count_bytes(page_ceil(size), 0);
    return p;
}

static void *alloc_any(size_t size, bool zero)
{
    if (size <= SC_TCACHE_LARGE_MAX) return alloc_cached(size, zero);
    return alloc_big(size, os_page, zero, size > SC_HUGE_MIN, false);
}

/* Every allocation that misses the fast path (all of them with prof or
 * secure on). caller: the return address of the public entry point, where
 * a sample's backtrace starts. */
static SC_NOINLINE void *alloc_slow(size_t size, bool zero, const void *caller)
{
    void *p = alloc_any(size, zero);
    if (unlikely(opt.prof) && p) prof_alloc(p, size, caller);
    return vg_alloc(p, size, zero);
}

/* realloc's new block for one that grows past SC_HUGE_MIN. */
static SC_NOINLINE void *alloc_grown(size_t size, const void *caller)
{
    void *p = alloc_big(size, os_page, false, true, true);
    if (unlikely(opt.prof) && p) prof_alloc(p, size, caller);
    return vg_alloc(p, size, false);
}

#define CALLER() __builtin_return_address(0)

/* The fast path's pop, for size <= FAST_MAX. In make SECURE=1 builds the
 * fast paths do secure mode's work themselves (a canary here, the check
 * and zeroing in sc_free), which costs less than the detour through the
 * slow paths that the option takes in other builds (tcache.h). */
#define FAST_MAX (SC_LOOKUP_MAX - (config_secure ? CANARY_SIZE : 0))

SC_INLINE void *fast_pop(size_t size)
{
    bool secure = config_secure && opt.secure;
    unsigned cls = sizeclass_lookup[(size + (secure ? CANARY_SIZE : 0) + 7) >> 3];
    void *p = tcache_pop(tls_tcache, cls);
    if (secure && p) {
        uint64_t c = canary_value(p);
        memcpy(canary_slot(p, cls), &c, sizeof(c));
    }
    return p;
}

/* malloc's fast path (sc_malloc, realloc(NULL, size)): NULL on a miss. */
SC_INLINE void *malloc_fast(size_t size)
{
    if (likely(size <= FAST_MAX)) {
        void *p = fast_pop(size);
        if (likely(p)) return vg_alloc(p, size, false);
    } else if (size <= SC_TCACHE_LARGE_MAX && !config_secure) {
        /* The classes past the lookup table that the thread cache holds
         * (up to 64 KiB): a buffer allocated again and again skips the
         * slow path's layers. SECURE=1 builds leave them to it (the small
         * ones among them need a canary). */
        void *p = tcache_pop(tls_tcache, sizeclass_lookup_512[(size + 511) >> 9]);
        if (likely(p)) return vg_alloc(p, size, false);
    }
    return NULL;
}

SC_EXPORT SC_ALIGN_HOT void *sc_malloc(size_t size)
{
    void *p = malloc_fast(size);
    if (likely(p)) return p;
    return alloc_slow(size, false, CALLER());
}

SC_EXPORT void *sc_calloc(size_t nmemb, size_t size)
{
    size_t total;
    if (unlikely(__builtin_mul_overflow(nmemb, size, &total))) { errno = ENOMEM; return NULL; }
    if (likely(total <= FAST_MAX)) {
        void *p = fast_pop(total);
        if (likely(p)) return memset(vg_alloc(p, total, false), 0, total);
    }
    return alloc_slow(total, true, CALLER());
}

/* ---- finding a block from its pointer ---------------------------------- */

/* The small map entry of address a in arena chunk c (chunk.h). */
SC_INLINE uint32_t small_entry(const chunk_t *c, uintptr_t a)
{
    return c->smallmap[(a & SC_CHUNK_MASK) >> os_page_shift];
}

/* For address a whose page has small map entry m: 0 if the page is not in
 * a slab, 1 if a starts a region (*cls set), -1 if it points inside one.
 * One multiplication tells a region start (sizeclass.h). */
SC_INLINE int small_region(uint32_t m, uintptr_t a, unsigned *cls)
{
    unsigned bin = m >> SMALLMAP_SHIFT;
    *cls = bin - 1;
    size_t off = (a & (os_page - 1)) + ((size_t)(m & SMALLMAP_PAGE_MASK) << os_page_shift);
    if (sizeclass_starts_region(bin, off)) return 1;
    return m ? -1 : 0;
}

enum block_type { BLOCK_NONE, BLOCK_SMALL, BLOCK_LARGE, BLOCK_HUGE };

typedef struct block {
    int type;
    unsigned cls;
    chunk_t *chunk;
    page_t *page;
    huge_t *huge;
    size_t usable; /* bytes the caller may use */
    bool grown;    /* realloc moved it on to a bigger block */
} block_t;

/* Fills b for p, a pointer scmalloc returned and has not freed. With
 * strict, anything else aborts with a message naming p; otherwise b->type
 * is BLOCK_NONE. */
static void block_find(void *p, block_t *b, bool strict)
{
    uintptr_t a = (uintptr_t)p, e = rtree_in_arena_chunk(a) ? (uintptr_t)chunk_of(p) : rtree_lookup(a);
    memset(b, 0, sizeof(*b));
    if (e == 0 || e == RTREE_FREED_HUGE) {
        if (!strict) return;
        sc_misuse(e == RTREE_FREED_HUGE && (a & SC_CHUNK_MASK) == 0 ? "double free" : "invalid pointer", p);
    }
    if (e & RTREE_HUGE) {
        huge_t *h = (huge_t *)(e & ~RTREE_TAG_MASK);
        if (huge_addr(h) != p) { if (strict) sc_misuse("invalid pointer", p); return; }
        b->type = BLOCK_HUGE;
        b->huge = h;
        /* All of it, as for small and large blocks: malloc_usable_size
         * lets the caller use every mapped byte, and realloc keeps them. */
        b->usable = h->mapped;
        return;
    }
    chunk_t *c = (chunk_t *)e;
    size_t pi = chunk_page_index(c, p);
    page_t *pg = &c->pages[pi];
    b->chunk = c;
    b->page = pg;
    unsigned cls;
    int small = small_region(small_entry(c, a), a, &cls);
    if (small) {
        if (small < 0) {
            if (strict) sc_misuse("invalid pointer", p);
            return;
        }
        b->type = BLOCK_SMALL;
        b->cls = cls;
        b->usable = small_usable(cls);
        return;
    }
    if (pg->kind == PAGE_LARGE && pg->head == 0 && chunk_page_addr(c, pi) == p) {
        b->type = BLOCK_LARGE;
        /* All of it: a block reused from a thread cache does not record
         * the size it was last asked for. */
        b->usable = (size_t)pg->npages << os_page_shift;
        return;
    }
    if (strict)
        sc_misuse(pg->kind <= PAGE_FREE_DIRTY && (a & (os_page - 1)) == 0 ? "double free" : "invalid pointer", p);
}

/* A small region into the thread's cache, if it is of the thread's arena
 * (tcache.h says why not otherwise). */
SC_INLINE void free_region(void *p, unsigned cls)
{
    tcache_t *tc = tcache_current();
    if (chunk_of(p)->arena != tc->arena || !tcache_push(tc, cls, p)) tcache_free_slow(p, cls);
}

SC_INLINE void free_block(void *p, block_t *b)
{
    if (unlikely(opt.prof)) prof_free(p);
    switch (b->type) {
    case BLOCK_SMALL:
        if (opt.secure) {
            secure_wipe(p, b->cls);
        } else if (unlikely(opt.junk)) {
            memset(p, JUNK_FREE, b->usable);
        }
        vg_free(p); /* after the canary is read: memcheck would flag it */
        free_region(p, b->cls);
        break;
    case BLOCK_LARGE:
        if (unlikely(opt.junk)) memset(p, JUNK_FREE, b->usable);
        vg_free(p);
        unsigned cls = sizeclass_cached_pages(b->usable >> os_page_shift);
        if (cls) {
            if (!tcache_push(tcache_current(), cls, p)) tcache_free_slow(p, cls);
            break;
        }
        tcache_count_bytes(0, b->usable);
        if (b->grown) arena_dalloc_large_grown(b->chunk, b->page, p);
        else arena_dalloc_large(b->chunk, b->page, p);
        break;
    case BLOCK_HUGE:
        vg_free(p);
        tcache_count_bytes(0, b->usable);
        huge_free(b->huge, p);
        break;
    }
}

/* p starts a region of small class cls. */
static SC_NOINLINE void free_small(void *p, unsigned cls)
{
    block_t b = { .type = BLOCK_SMALL, .cls = cls, .usable = small_usable(cls) };
    free_block(p, &b);
}

/* The rest of sc_free's secure path (make SECURE=1), for a region already
 * checked and zeroed that the thread cache's top did not take. */
static SC_NOINLINE void free_small_wiped(void *p, unsigned cls)
{
    if (unlikely(opt.prof)) prof_free(p);
    free_region(p, cls);
}

/* Huge blocks, and every invalid pointer. */
static SC_NOINLINE void free_other(void *p)
{
    block_t b;
    block_find(p, &b, true);
    free_block(p, &b);
}

/* A page-aligned address in an arena chunk outside the slabs: the start
 * of a large block, usually of a class the thread cache holds. Its
 * common case pushes without saving a register; the rest goes through
 * free_other (measured: the saves were 14 of 48 instructions here). */
static SC_NOINLINE void free_large(void *p, chunk_t *c)
{
    page_t *pg = &c->pages[chunk_page_index(c, p)];
    if (likely(pg->kind == PAGE_LARGE && pg->head == 0)) {
        /* free_block's path for a cached class, without its option tests:
         * tls_tcache's push always fails with prof or junk on (measured:
         * 1.2 of 10.8 ns per 64 KiB malloc/free pair). */
        unsigned cls = sizeclass_cached_pages(pg->npages);
        if (cls && likely(tcache_push(tls_tcache, cls, p))) {
            vg_free(p);
            return;
        }
    }
    free_other(p); /* a block of another size, a full stack, or misuse */
}

SC_EXPORT SC_ALIGN_HOT void sc_free(void *p)
{
    uintptr_t a = (uintptr_t)p;
    unsigned cls;
    /* A region start in a slab, and room in the thread's stack for it (the
     * remote stack of its class if it is another arena's): done. A small
     * region whose stack is full goes to free_small, a page-aligned
     * pointer to free_large; everything else (NULL, huge, foreign, misuse)
     * to free_other. The cases are out of line so that this function saves
     * no registers (a 64 KiB pair once spent a third of its time in such a
     * prologue). The arena test is off the dependency chain from p to the
     * stack's top, so it costs no time. */
    chunk_t *c = chunk_of(p);
    if (likely(rtree_in_arena_chunk(a))) {
        uint32_t m = small_entry(c, a);
        int small = small_region(m, a, &cls);
        if (likely(small > 0)) {
            tcache_t *tc = tls_tcache;
            if (config_secure && opt.secure) {
                secure_wipe(p, cls);
                vg_free(p);
                if (likely(c->arena == tc->arena) && likely(tcache_push(tc, cls, p))) return;
                free_small_wiped(p, cls);
                return;
            }
            if (likely(c->arena == tc->arena) ? likely(tcache_bin_push(tcache_bin_of_entry(tc, m), p))
                                              : tcache_push_remote(tc, cls, p)) {
                vg_free(p);
                return;
            }
            free_small(p, cls);
            return;
        }
        if ((a & (os_page - 1)) == 0) {
            free_large(p, c); /* it checks the page (a slab's page included) */
            return;
        }
    }
    if (p) free_other(p);
}

SC_EXPORT void sc_free_sized(void *p, size_t size) { (void)size; sc_free(p); }
SC_EXPORT void sc_free_aligned_sized(void *p, size_t align, size_t size) { (void)align; (void)size; sc_free(p); }

SC_EXPORT size_t sc_malloc_usable_size(void *p)
{
    if (!p) return 0;
    block_t b;
    block_find(p, &b, false);
    return b.usable;
}

/* ---- realloc ------------------------------------------------------------ */

/* A block that realloc resized where it is (or moved without copying): for
 * the profiler, the old block is gone and a new one is there. */
static void *resized(void *old, void *q, size_t size, const void *caller)
{
    if (unlikely(opt.prof)) {
        prof_free(old);
        prof_alloc(q, size, caller);
    }
    return q;
}

SC_EXPORT void *sc_realloc(void *p, size_t size)
{
    if (!p) {
        void *q = malloc_fast(size);
        return likely(q) ? q : alloc_slow(size, false, CALLER());
    }
    if (size == 0) { sc_free(p); return NULL; }
    block_t b;
    block_find(p, &b, true);
    if (size > PTRDIFF_MAX) { errno = ENOMEM; return NULL; }
    /* Under memcheck every realloc moves, so that it tracks both blocks. */
    switch (config_valgrind ? BLOCK_NONE : b.type) {
    case BLOCK_SMALL:
        if (size <= SC_SMALL_MAX && sizeclass_of(size + canary_room(size)) == b.cls)
            return resized(p, p, size, CALLER());
        break;
    case BLOCK_LARGE:
        if (size > SC_SMALL_MAX && size <= SC_LARGE_MAX) {
            size_t old = b.usable;
            /* The same pages (a buffer growing in small steps): no lock. */
            if (page_ceil(size) == old) return resized(p, p, size, CALLER());
            if (arena_resize_large(b.chunk, b.page, size)) {
                tcache_count_bytes(page_ceil(size), old);
                return resized(p, p, size, CALLER());
            }
        }
        break;
    case BLOCK_HUGE:
        if (size > SC_HUGE_MIN) {
            size_t old = b.usable;
            void *q = huge_realloc(b.huge, p, size);
            if (q) {
                tcache_count_bytes(page_ceil(size), old);
                return resized(p, q, size, CALLER());
            }
        }
        break;
    }
    b.grown = size > b.usable;
    void *q = b.grown && size > SC_HUGE_MIN ? alloc_grown(size, CALLER()) : alloc_slow(size, false, CALLER());
    if (!q) return NULL;
    /* Every usable byte moves (malloc_usable_size lets the caller use
     * them); the caller may have asked for less, and memcheck would flag
     * the copy of the slack. */
    if (config_valgrind) VALGRIND_DISABLE_ERROR_REPORTING;
    memcpy(q, p, b.usable < size ? b.usable : size);
    if (config_valgrind) VALGRIND_ENABLE_ERROR_REPORTING;
    free_block(p, &b);
    return q;
}

SC_EXPORT void *sc_reallocarray(void *p, size_t nmemb, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(nmemb, size, &total)) { errno = ENOMEM; return NULL; }
    return sc_realloc(p, total);
}

/* ---- aligned allocation ------------------------------------------------- */

static void *alloc_aligned_raw(size_t align, size_t size)
{
    if (!malloc_init()) { errno = ENOMEM; return NULL; }
    if (align <= 16 && (align <= 8 || size > 8)) return alloc_any(size ? size : 1, false);
    if (align <= os_page && size <= SC_SMALL_MAX) {
        /* A class whose size is a multiple of align: regions start at
         * page-aligned slab bases, so each one is aligned. */
        size_t need = size + canary_room(size);
        unsigned cls = sizeclass_of(need > align ? need : align);
        for (; cls < SC_NSMALL; cls++) {
            if (sizeclass_size(cls) % align) continue;
            void *p = alloc_class(cls);
            if (p && unlikely(opt.junk)) memset(p, JUNK_ALLOC, small_usable(cls));
            return p;
        }
    }
    if (size < SC_SMALL_MAX + 1) size = SC_SMALL_MAX + 1;
    return alloc_big(size, align, false, false, false);
}

static void *alloc_aligned(size_t align, size_t size, const void *caller)
{
    void *p = alloc_aligned_raw(align, size);
    if (unlikely(opt.prof) && p) prof_alloc(p, size, caller);
    return vg_alloc(p, size, false);
}

static bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

SC_EXPORT int sc_posix_memalign(void **memptr, size_t align, size_t size)
{
    if (!is_pow2(align) || align % sizeof(void *)) return EINVAL;
    int saved = errno;
    void *p = alloc_aligned(align, size, CALLER());
    errno = saved;
    if (!p) return ENOMEM;
    *memptr = p;
    return 0;
}

SC_EXPORT void *sc_aligned_alloc(size_t align, size_t size)
{
    if (!is_pow2(align)) { errno = EINVAL; return NULL; }
    return alloc_aligned(align, size, CALLER());
}

SC_EXPORT void *sc_memalign(size_t align, size_t size)
{
    if (align == 0) return sc_malloc(size); /* glibc: alignments up to 16 mean malloc */
    if (!is_pow2(align)) { errno = EINVAL; return NULL; }
    return alloc_aligned(align, size, CALLER());
}

SC_EXPORT void *sc_valloc(size_t size)
{
    if (!malloc_init()) { errno = ENOMEM; return NULL; }
    return alloc_aligned(os_page, size, CALLER());
}

SC_EXPORT void *sc_pvalloc(size_t size)
{
    if (!malloc_init()) { errno = ENOMEM; return NULL; }
    size_t rounded = page_ceil(size ? size : 1);
    if (rounded < size) { errno = ENOMEM; return NULL; }
    return alloc_aligned(os_page, rounded, CALLER());
}

/* ---- trimming ------------------------------------------------------------ */

SC_EXPORT SC_COLD int sc_malloc_trim(size_t pad)
{
    (void)pad;
    if (!malloc_init()) return 0;
    tcache_t *tc = tcache_get();
    tcache_flush(tc);
    size_t purged = arena_purge_all();
    return purged + huge_purge() > 0;
}

/* ---- drop-in names ------------------------------------------------------- */

/* The standard and glibc names are aliases of the sc_ functions (an alias
 * must live in the file that defines its target), so that linking or
 * preloading the library replaces the malloc family of the whole process,
 * including the calls glibc makes itself (__libc_malloc and friends). */
#define ALIAS(name) __attribute__((alias(#name), used, visibility("default")))

void *malloc(size_t size) ALIAS(sc_malloc);
void free(void *p) ALIAS(sc_free);
void *calloc(size_t n, size_t size) ALIAS(sc_calloc);
void *realloc(void *p, size_t size) ALIAS(sc_realloc);
void *reallocarray(void *p, size_t n, size_t size) ALIAS(sc_reallocarray);
int posix_memalign(void **memptr, size_t align, size_t size) ALIAS(sc_posix_memalign);
void *aligned_alloc(size_t align, size_t size) ALIAS(sc_aligned_alloc);
void *memalign(size_t align, size_t size) ALIAS(sc_memalign);
void *valloc(size_t size) ALIAS(sc_valloc);
void *pvalloc(size_t size) ALIAS(sc_pvalloc);
size_t malloc_usable_size(void *p) ALIAS(sc_malloc_usable_size);
void free_sized(void *p, size_t size) ALIAS(sc_free_sized);
void free_aligned_sized(void *p, size_t align, size_t size) ALIAS(sc_free_aligned_sized);
void cfree(void *p) ALIAS(sc_free);
int malloc_trim(size_t pad) ALIAS(sc_malloc_trim);

void *__libc_malloc(size_t size) ALIAS(sc_malloc);
void __libc_free(void *p) ALIAS(sc_free);
void *__libc_calloc(size_t n, size_t size) ALIAS(sc_calloc);
void *__libc_realloc(void *p, size_t size) ALIAS(sc_realloc);
void *__libc_memalign(size_t align, size_t size) ALIAS(sc_memalign);
void *__libc_valloc(size_t size) ALIAS(sc_valloc);
void *__libc_pvalloc(size_t size) ALIAS(sc_pvalloc);
int __posix_memalign(void **memptr, size_t align, size_t size) ALIAS(sc_posix_memalign);
