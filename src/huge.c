/*
 * huge: one mapping per block, aligned to max(chunk, alignment) so that each
 * rtree slot belongs to one block. Growth takes the cached mapping right
 * behind the block if there is one, else tries mremap in place (neither in
 * secure mode: see huge_realloc), else copies into a cached mapping, else
 * moves the pages to a fresh aligned reservation (MREMAP_FIXED): no byte
 * is copied. Freed blocks leave a
 * tombstone in their first slot, so a second free is reported as a double
 * free.
 *
 * Reuse before return: a freed mapping is kept in a small cache (its pages
 * still backed) and handed to the next huge request that it fits (a longer
 * one is split), because mapping and faulting in fresh pages costs far
 * more than the allocation itself. A request that no one cached mapping
 * fits gets a fresh range into which cached mappings' pages are moved
 * (mremap), so only what the cache cannot cover is faulted in; a block up
 * to SC_LARGE_MAX grows a shorter cached mapping where it is instead,
 * unless a longer one than any such block can take is cached. Cached
 * mappings older than dirty_decay_ms, or beyond the bound below, are
 * unmapped.
 *
 * Guard pages (opt.secure): every huge mapping, live or cached, is followed
 * by one PROT_NONE page, so that a linear overflow out of a block faults
 * instead of running into whatever is mapped next. The guard is not part
 * of the block: h->mapped and a cache entry's mapped count the usable pages
 * only (malloc_usable_size is h->mapped); the address space of a mapping is
 * mapped + guard, and stats.mapped counts it. A guard that cannot be set
 * (mprotect failing) fails the allocation or the resize, as if the memory
 * had run out: secure mode never hands out an unguarded block.
 */
#include "huge.h"
#include "base.h"
#include "options.h"
#include "os.h"
#include "rtree.h"

#include <errno.h>
#include <string.h>

/* Freed mappings kept: as many bytes as bring the huge bytes back up to
 * their recent peak (the highest live count within the decay time), or
 * the live bytes plus HUGE_CACHE_FLOOR if that is more, and never more
 * than HUGE_CACHE_MAX; what the decay does not take first. Keeping up to
 * the peak adds nothing to the process's peak: those bytes were resident
 * then. Measured on bench/large (time, peak RSS, page faults), with the
 * gathering below: live + 64 MiB 0.61 s, 150 MB, 346k; up to the peak
 * 0.22 s, 150 MB, 108k (glibc: 1.24 s, 164 MB; tcmalloc 0.15 s, 219 MB). */
#ifndef HUGE_CACHE_MAX
#define HUGE_CACHE_MAX ((size_t)256 << 20)
#endif
#ifndef HUGE_CACHE_FLOOR
#define HUGE_CACHE_FLOOR ((size_t)64 << 20)
#endif
/* Cached mappings at most. 64 rather than 32 since blocks from 256 KiB
 * are huge: bench/mixed (about 80 such blocks live) went 0.45 -> 0.42 s,
 * page faults 45.7k -> 40.0k, unmaps 1309 -> 724, peak RSS 157.9 -> 160.2
 * MB (glibc 0.46 s, 164.1 MB); 128 measured the same as 64. */
#define HUGE_CACHE_SLOTS 64

/* What one page-middle-directory entry maps (x86-64 and arm64 with 4 KiB
 * pages): mremap moves an aligned range of these by its page tables. */
#define HUGE_MOVE_UNIT ((size_t)2 << 20)

typedef struct huge_cached { void *addr; size_t mapped; uint64_t freed_ms; } huge_cached_t;

mutex_t huge_lock;
static huge_t *huge_list;
static huge_stats_t stats;
static huge_cached_t cache[HUGE_CACHE_SLOTS];
static size_t ncached, cached_bytes;
static size_t live_peak;        /* the most huge bytes live since live_peak_ms */
static uint64_t live_peak_ms;
static size_t guard; /* bytes of the guard after each mapping: a page in secure mode, else 0 */

void huge_init(void)
{
    mutex_init(&huge_lock);
    guard = opt.secure ? os_page : 0;
}

static size_t chunk_ceil(size_t n) { return (n + SC_CHUNK_MASK) & ~SC_CHUNK_MASK; }

static void huge_link(huge_t *h)
{
    h->prev = NULL;
    h->next = huge_list;
    if (huge_list) huge_list->prev = h;
    huge_list = h;
}

static void huge_unlink(huge_t *h)
{
    if (h->prev) h->prev->next = h->next;
    else huge_list = h->next;
    if (h->next) h->next->prev = h->prev;
}

/* The cache is ordered by the time of free: cache[0] is the oldest. */
static void cache_remove(size_t i)
{
    cached_bytes -= cache[i].mapped;
    stats.mapped -= cache[i].mapped + guard;
    memmove(&cache[i], &cache[i + 1], (ncached - i - 1) * sizeof(cache[0]));
    ncached--;
}

/* huge_lock held, after the live bytes grew: a new peak starts now. */
static void note_live_locked(void)
{
    if (stats.allocated <= live_peak) return;
    live_peak = stats.allocated;
    live_peak_ms = opt.dirty_decay_ms > 0 ? os_now_ms() : 0;
}

/* A cached mapping of a block that an arena could have held (up to
 * SC_LARGE_MAX) is kept this long at most: such blocks come and go in
 * numbers (bench/mixed reuses a freed one within microseconds), and a
 * program that is done with them needs their pages for its other blocks,
 * which the arenas fault in. python3 (bench/py_work.py, a few dozen blocks
 * of 256 KiB to 2 MiB freed early): peak RSS 243.4 MB with such blocks in
 * the arenas, 250.0 MB with their mappings kept for dirty_decay_ms, 242.9
 * MB with 100 ms; bench/mixed 157.6 MB and 46.4k page faults either way
 * (and 178 MB, 78k in the arenas); with 1 s, python3 249.9 MB. Bounding
 * their bytes instead (at most 4, 8 or 16 MiB cached) gave python3 243-250
 * MB and bench/mixed 127k, 80k or 54k page faults. 50 rather than 100 ms
 * since such a block that finds no cached mapping grows a shorter one
 * (huge_cache_grow), which leaves more of them cached than gathering did:
 * bench/mixed 168.3 MB with 100 ms, 163.6 with 50 (160.4 before either);
 * python3 the same. */
#define HUGE_SMALL_DECAY_MS 50

/* huge_lock held: removes cached mappings older than the decay time (see
 * HUGE_SMALL_DECAY_MS), then the oldest ones until at most keep bytes and
 * keep_slots entries are left, into victims (at most HUGE_CACHE_SLOTS),
 * for the caller to unmap once the lock is released. Returns how many. */
static size_t drain_locked(size_t keep, size_t keep_slots, huge_cached_t *victims)
{
    uint64_t now = opt.dirty_decay_ms > 0 ? os_now_ms() : 0;
    size_t n = 0;
    if (opt.dirty_decay_ms > HUGE_SMALL_DECAY_MS)
        for (size_t i = 0; i < ncached;) {
            if (cache[i].mapped <= SC_LARGE_MAX && now - cache[i].freed_ms >= HUGE_SMALL_DECAY_MS) {
                victims[n++] = cache[i];
                cache_remove(i);
            } else {
                i++;
            }
        }
    while (ncached && (cached_bytes > keep || ncached > keep_slots ||
                       (opt.dirty_decay_ms >= 0 && now - cache[0].freed_ms >= (uint64_t)opt.dirty_decay_ms))) {
        victims[n++] = cache[0];
        cache_remove(0);
    }
    return n;
}

static void unmap_victims(const huge_cached_t *victims, size_t n)
{
    for (size_t i = 0; i < n; i++) os_unmap(victims[i].addr, victims[i].mapped + guard);
}

/* Unmaps cached mappings as drain_locked says. */
static void huge_cache_drain(size_t keep, size_t keep_slots)
{
    huge_cached_t victims[HUGE_CACHE_SLOTS];
    mutex_lock(&huge_lock);
    size_t n = drain_locked(keep, keep_slots, victims);
    mutex_unlock(&huge_lock);
    unmap_victims(victims, n);
}

/* huge_lock held: caches the mapping of a block that is gone (its slots
 * unregistered, its bytes out of stats.mapped) if the bounds allow, making
 * room by taking the oldest entries into victims (the caller unmaps them,
 * *nvictims of them, after the lock). False if it is not cached: the
 * caller unmaps it. */
static bool cache_put_locked(void *p, size_t mapped, huge_cached_t *victims, size_t *nvictims)
{
    size_t live = stats.allocated, limit = live + HUGE_CACHE_FLOOR;
    *nvictims = 0;
    /* A peak older than the decay time is forgotten: the bytes live now
     * are the new one. */
    uint64_t now = opt.dirty_decay_ms > 0 ? os_now_ms() : 0;
    if (opt.dirty_decay_ms >= 0 && now - live_peak_ms >= (uint64_t)opt.dirty_decay_ms) {
        live_peak = live;
        live_peak_ms = now;
    }
    if (live_peak - live > limit) limit = live_peak - live;
    if (limit > HUGE_CACHE_MAX) limit = HUGE_CACHE_MAX;
    if (opt.dirty_decay_ms == 0 || mapped > limit) return false;
    *nvictims = drain_locked(limit - mapped, HUGE_CACHE_SLOTS - 1, victims);
    cache[ncached++] = (huge_cached_t){ p, mapped, now };
    cached_bytes += mapped;
    stats.mapped += mapped + guard;
    return true;
}

/* cache_put_locked for a caller without the lock. */
static void huge_cache_put(void *p, size_t mapped)
{
    huge_cached_t victims[HUGE_CACHE_SLOTS];
    size_t nvictims;
    mutex_lock(&huge_lock);
    bool cached = cache_put_locked(p, mapped, victims, &nvictims);
    mutex_unlock(&huge_lock);
    unmap_victims(victims, nvictims);
    if (!cached) os_unmap(p, mapped + guard);
}

/* Block records (huge_t) of freed blocks, for the next ones: taken and
 * given back under huge_lock, which the callers hold anyway, rather than
 * from base_alloc under base_lock. */
static huge_t *node_free;

static huge_t *node_take_locked(void)
{
    huge_t *h = node_free;
    if (h) node_free = h->next;
    return h;
}

static void node_put_locked(huge_t *h)
{
    h->next = node_free;
    node_free = h;
}

static void node_put(huge_t *h)
{
    mutex_lock(&huge_lock);
    node_put_locked(h);
    mutex_unlock(&huge_lock);
}

/* huge_lock held: the index of the shortest cached mapping of lo to hi
 * bytes whose address is aligned to align (with longest: the longest);
 * ncached if there is none. */
static size_t cache_pick(size_t lo, size_t hi, size_t align, bool longest)
{
    size_t best = ncached;
    for (size_t i = 0; i < ncached; i++) {
        size_t m = cache[i].mapped;
        if (m < lo || m > hi || ((uintptr_t)cache[i].addr & (align - 1))) continue;
        if (best == ncached || (longest ? m > cache[best].mapped : m < cache[best].mapped)) best = i;
    }
    return best;
}

/* The smallest cached mapping of at least *mapped bytes aligned to align.
 * A longer one is split at the first chunk boundary past the request (and
 * its guard): the tail stays cached (its pages are still backed and
 * reusable, its guard still behind it), and the pages up to that boundary
 * become part of the block (*mapped grows to it): they are backed already,
 * and a block that grows uses them without a system call. In secure mode
 * they are unmapped instead, except the first, which becomes the block's
 * guard. NULL if none, or if that guard cannot be set (then the request's
 * pages are unmapped).
 *
 * Measured on bench/large (blocks of 64 KiB to 64 MiB, 600 of them):
 * unmapping those pages threw away about 700 MB of backed memory that
 * later blocks faulted in again: 132.8k page faults, 0.26 s; keeping them
 * in the block, 77.7k and 0.15 s (tcmalloc 58.4k, 0.13 s), peak RSS
 * 149.2 -> 152.8 MB. Caching them as a separate fragment for gathering
 * instead gave 88.1k and 0.19 s, and raised bench/realloc's peak from 96
 * to 116 MB: the cache stayed fuller while the arenas grew.
 * Mappings longer than most bytes are not taken.
 * node: if not NULL, gets a free block record (NULL if there is none). */
static void *huge_cache_take(size_t *mapped, size_t align, size_t most, huge_t **node)
{
    void *p = NULL;
    char *gap = NULL;
    size_t gap_len = 0;
    mutex_lock(&huge_lock);
    if (node) *node = node_take_locked();
    size_t best = cache_pick(*mapped, most, align, false);
    if (best < ncached) {
        huge_cached_t e = cache[best];
        p = e.addr;
        cache_remove(best);
        size_t keep = chunk_ceil(*mapped + guard);
        if (e.mapped - *mapped <= *mapped / 8) {
            *mapped = e.mapped; /* close enough: take it whole, guard and all */
        } else if (keep >= e.mapped) {
            gap = (char *)p + *mapped; /* no whole chunk to keep: trim (the old guard too) */
            gap_len = e.mapped + guard - *mapped;
        } else {
            gap = (char *)p + *mapped;
            gap_len = keep - *mapped;
            cache[ncached++] = (huge_cached_t){ (char *)p + keep, e.mapped - keep, e.freed_ms };
            cached_bytes += e.mapped - keep;
            stats.mapped += e.mapped - keep + guard;
        }
        if (gap_len && !guard) {
            *mapped += gap_len;
            gap_len = 0;
        }
    }
    mutex_unlock(&huge_lock);
    if (gap_len) {
        if (guard && !os_protect_none(gap, guard)) {
            os_unmap(p, (size_t)(gap - (char *)p) + gap_len);
            return NULL;
        }
        if (gap_len > guard) os_unmap(gap + guard, gap_len - guard);
    }
    return p;
}

/* Bytes of the cached mapping that starts at addr, for a block ending there
 * that grows by want bytes: up to the first chunk boundary past them, or
 * the whole mapping; the rest stays cached (still aligned). 0 if no cached
 * mapping starts at addr or it is shorter than want. Such a neighbour is
 * most often the rest of the mapping the block was split from
 * (huge_cache_take), so its pages are backed and the block grows into them
 * without a system call, a copy or a fault. Not in secure mode: a guard
 * page lies behind every block. */
static size_t huge_cache_absorb(char *addr, size_t want)
{
    size_t got = 0;
    mutex_lock(&huge_lock);
    for (size_t i = 0; i < ncached; i++) {
        if (cache[i].addr != addr) continue;
        if (cache[i].mapped < want) break;
        got = chunk_ceil((uintptr_t)addr + want) - (uintptr_t)addr;
        if (got >= cache[i].mapped) {
            got = cache[i].mapped;
            cache_remove(i);
        } else {
            cache[i].addr = addr + got;
            cache[i].mapped -= got;
            cached_bytes -= got;
            stats.mapped -= got;
        }
        break;
    }
    mutex_unlock(&huge_lock);
    return got;
}

/* A fresh mapping of mapped bytes aligned to align, with its guard behind
 * it in secure mode. NULL on failure. */
static void *huge_map(size_t mapped, size_t align)
{
    char *p = os_map_aligned(mapped + guard, align);
    /* opt.thp: the kernel backs the block with 2 MiB pages where it can
     * (bench/large: page faults 437k -> 63k, same peak). Mappings grown
     * in place or moved by mremap keep the wish. */
    if (p && opt.thp) os_want_huge_pages(p, mapped);
    if (p && guard && !os_protect_none(p + mapped, guard)) {
        os_unmap(p, mapped + guard);
        return NULL;
    }
    return p;
}

/* No one cached mapping is big enough: a fresh range of mapped bytes
 * aligned to align, into which the pages of cached mappings are moved,
 * largest first (mremap: no copy, no fault), until it is covered; only
 * what the cache cannot cover is faulted in as the block is written. A
 * mapping that is longer than what is left to cover gives its end and
 * keeps its (aligned) start cached. *reused: the bytes moved in (they
 * hold old data). NULL if nothing is cached or the range cannot be
 * mapped. Not in secure mode: a cached mapping's guard page would be
 * left behind in the middle of the block. Only mappings longer than
 * min_src give pages (see huge_alloc).
 *
 * Pieces go in whole HUGE_MOVE_UNITs from a mapping's (aligned) start to
 * an aligned place in the range where they can: mremap then moves page
 * tables, 2 MiB at a time, instead of each page's entry, where it can
 * (Linux 6.18 moves freshly faulted pages one by one anyway). Under a
 * hypervisor that keeps shadow page tables (PVM), a page moved one by one
 * costs a trap on its next touch: 5 us, against 0.04-0.2 for a page whose
 * table moved and 11 us for a fresh page. bench/large went 3.0 -> 1.8 s,
 * moves of unaligned pieces 697 -> 153 MB of 2.1 GB moved (the aligned
 * ones take 30 us per MB in the kernel, the others 114), page faults 47k
 * -> 52k. Whole chunks (4 MiB, so that the rest stays a chunk's
 * alignment): 2.1 s.
 *
 * Measured on bench/large (600 blocks of 64 KiB .. 64 MiB, 4 live, every
 * page written; cache bound live + 64 MiB): growing the largest cached
 * mapping instead (the one mremap that extends it) took 437k page faults
 * and 0.83 s, with a peak of 167 MB; gathering 346k, 0.61 s, 150 MB. */
static void *huge_cache_gather(size_t mapped, size_t align, size_t min_src, size_t *reused)
{
    *reused = 0;
    if (guard) return NULL;
    mutex_lock(&huge_lock);
    bool any = cache_pick(min_src + 1, SIZE_MAX, 1, true) < ncached;
    mutex_unlock(&huge_lock);
    if (!any) return NULL;
    char *q = huge_map(mapped, align);
    if (!q) return NULL;
    while (*reused < mapped) {
        mutex_lock(&huge_lock);
        size_t best = cache_pick(min_src + 1, SIZE_MAX, 1, true);
        if (best == ncached) {
            mutex_unlock(&huge_lock);
            break;
        }
        size_t part = mapped - *reused;
        size_t whole = (cache[best].mapped < part ? cache[best].mapped : part) & ~(HUGE_MOVE_UNIT - 1);
        char *src;
        if (whole && whole < cache[best].mapped && !((uintptr_t)(q + *reused) & (HUGE_MOVE_UNIT - 1))) {
            /* Whole units from the mapping's start, to an aligned place:
             * see above. The rest stays cached, 2 MiB-aligned (gathering
             * and decay take it; huge_cache_take wants a chunk's
             * alignment). */
            part = whole;
            src = cache[best].addr;
            cache[best].addr = src + whole;
            cache[best].mapped -= whole;
            cached_bytes -= whole;
            stats.mapped -= whole;
        } else if (cache[best].mapped <= part) {
            part = cache[best].mapped;
            src = cache[best].addr;
            cache_remove(best);
        } else {
            cache[best].mapped -= part;
            src = (char *)cache[best].addr + cache[best].mapped;
            cached_bytes -= part;
            stats.mapped -= part;
        }
        mutex_unlock(&huge_lock);
        if (!os_move(src, part, q + *reused, part)) {
            os_unmap(src, part); /* the range keeps its fresh pages there */
            break;
        }
        *reused += part;
    }
    return q;
}

/* The longest cached mapping shorter than mapped bytes (and aligned to
 * align), grown where it is to mapped bytes: mremap without moving, one
 * system call that moves no page, so no other CPU's TLB is flushed. The
 * address space behind a mapping up to its chunk boundary was left free
 * when it was mapped (os_map_aligned trims it) and usually still is; if
 * the kernel has put another mapping there since, the mapping stays
 * cached and this gives NULL. *reused: the bytes that were cached (old data);
 * the pages past them are faulted in as the block is written. Not in
 * secure mode: the guard page behind the mapping would end up inside the
 * block. */
static void *huge_cache_grow(size_t mapped, size_t align, size_t *reused)
{
    if (guard) return NULL;
    mutex_lock(&huge_lock);
    size_t best = cache_pick(0, mapped - 1, align, true);
    if (best == ncached) {
        mutex_unlock(&huge_lock);
        return NULL;
    }
    huge_cached_t e = cache[best];
    cache_remove(best);
    mutex_unlock(&huge_lock);
    if (os_resize_in_place(e.addr, e.mapped, mapped)) {
        *reused = e.mapped;
        return e.addr;
    }
    huge_cache_put(e.addr, e.mapped);
    return NULL;
}

void *huge_alloc(size_t size, size_t align, bool zero, bool grows)
{
    size_t mapped = page_ceil(size);
    if (mapped < size || mapped > ((size_t)1 << SC_VA_BITS)) { errno = ENOMEM; return NULL; }
    if (align < SC_CHUNK_SIZE) align = SC_CHUNK_SIZE;
    /* A block that an arena could hold (up to SC_LARGE_MAX) takes a
     * cached mapping of at most twice its size: one of 300 KiB would
     * otherwise keep the backed pages of a cached 16 MiB mapping up to its
     * first chunk boundary (4 MiB). For it, huge_cache_gather moves pages
     * of a longer one instead. bench/mixed (blocks of 256 KiB to 1 MiB
     * among smaller ones): peak RSS 166 -> 161 MB, page faults and time
     * the same; up to a quarter more only (the class spacing): 154 MB, but
     * 0.45 -> 0.77 s in the system calls of gathering. A block that
     * realloc moves while it grows takes any: it grows into it (limited
     * too, bench/realloc's peak went 83 -> 110 MB). */
    bool small = mapped <= SC_LARGE_MAX && !grows;
    size_t most = small ? 2 * mapped : SIZE_MAX;
    huge_t *h = NULL;
    void *p = huge_cache_take(&mapped, align, most, &h);
    if (!h && !(h = base_alloc(sizeof(huge_t)))) {
        if (p) huge_cache_put(p, mapped);
        errno = ENOMEM;
        return NULL;
    }
    if (p && zero) memset(p, 0, size);
    /* No cached mapping fits. A block up to SC_LARGE_MAX gathers pages only
     * from mappings longer than that (none of its peers takes those whole),
     * else it grows the longest shorter one. Gathering from any mapping
     * broke up the very ones the next blocks would have taken: they missed
     * too, and gathered in turn, each time with a fresh aligned range and
     * page moves (mremap), which flush the TLB of every CPU that runs one
     * of the process's threads. bench/mixed -t 2 -n 250k -k 1000 (1% of
     * the blocks 256 KiB to 1 MiB): 8% of those blocks gathered; 718
     * mremap and 842 munmap calls, 16% of the time in the kernel, 0.39 s
     * (tcmalloc 0.30 s); now 73 and 96, 7%, 0.29-0.33 s, page faults 12.6k
     * -> 13.4k. bench/large (one thread, so no other CPU to flush) keeps
     * gathering from its long mappings: 0.10 s, 36.4k faults either way;
     * growing instead of that took 0.16-0.19 s and 66-81k faults. */
    size_t reused;
    if (!p && (p = huge_cache_gather(mapped, align, small ? SC_LARGE_MAX : 0, &reused)) && zero)
        memset(p, 0, reused < size ? reused : size);
    if (!p && small && (p = huge_cache_grow(mapped, align, &reused)) && zero)
        memset(p, 0, reused < size ? reused : size);
    if (!p) p = huge_map(mapped, align);
    if (!p && ncached) {
        huge_cache_drain(0, 0); /* out of address space or memory: give the cache back */
        p = huge_map(mapped, align);
    }
    if (!p) { node_put(h); errno = ENOMEM; return NULL; }
    h->addr = vg_disguise(p);
    h->size = size;
    h->mapped = mapped;
    if (!rtree_set_range((uintptr_t)p, chunk_ceil(mapped), (uintptr_t)h | RTREE_HUGE)) {
        rtree_set_range((uintptr_t)p, chunk_ceil(mapped), 0);
        os_unmap(p, mapped + guard);
        node_put(h);
        errno = ENOMEM;
        return NULL;
    }
    mutex_lock(&huge_lock);
    huge_link(h);
    __atomic_fetch_add(&stats.count, 1, __ATOMIC_RELAXED); /* huge_blocks reads it without the lock */
    stats.nmalloc++;
    stats.allocated += mapped;
    stats.mapped += mapped + guard;
    note_live_locked();
    mutex_unlock(&huge_lock);
    return p;
}

/* One critical section: the slots are unregistered under the lock, so that
 * huge_check never sees a listed block without them. */
void huge_free(huge_t *h, void *p)
{
    if (huge_addr(h) != p) sc_misuse("invalid pointer", p);
    size_t mapped = h->mapped, nvictims;
    huge_cached_t victims[HUGE_CACHE_SLOTS];
    mutex_lock(&huge_lock);
    huge_unlink(h);
    __atomic_fetch_sub(&stats.count, 1, __ATOMIC_RELAXED);
    stats.ndalloc++;
    stats.allocated -= mapped;
    stats.mapped -= mapped + guard;
    rtree_set_range((uintptr_t)p, chunk_ceil(mapped), 0);
    rtree_set_range((uintptr_t)p, SC_CHUNK_SIZE, RTREE_FREED_HUGE);
    node_put_locked(h);
    bool cached = cache_put_locked(p, mapped, victims, &nvictims);
    mutex_unlock(&huge_lock);
    unmap_victims(victims, nvictims);
    if (!cached) os_unmap(p, mapped + guard);
}

size_t huge_purge(void)
{
    mutex_lock(&huge_lock);
    size_t bytes = cached_bytes;
    mutex_unlock(&huge_lock);
    huge_cache_drain(0, 0);
    return bytes;
}

/* Whether a cached mapping of at least mapped bytes, aligned as
 * huge_realloc takes them, is there (it may be gone when taken). */
static bool huge_cache_holds(size_t mapped)
{
    mutex_lock(&huge_lock);
    bool any = cache_pick(mapped, SIZE_MAX, SC_CHUNK_SIZE, false) < ncached;
    mutex_unlock(&huge_lock);
    return any;
}

void *huge_realloc(huge_t *h, void *p, size_t new_size)
{
    /* Slots are always unregistered before their pages go back to the
     * kernel: from that moment another thread may map the same addresses
     * and register them itself. */
    uintptr_t a = (uintptr_t)p, tag = (uintptr_t)h | RTREE_HUGE;
    size_t old_mapped = h->mapped, new_mapped = page_ceil(new_size);
    void *q, *retired = NULL;
    size_t old_span = chunk_ceil(old_mapped), new_span = chunk_ceil(new_mapped);
    if (new_mapped < new_size) return NULL;
    /* Growing by small steps (a string or vector appended to): growth
     * takes 1/8 more at once, and a size that still fits the mapping, or
     * shrinks it by less than 1/8, keeps it, so that the next steps need
     * no system call. The extra pages are only address space until they
     * are written. Measured on bench/realloc (+16 B steps to 4 MiB): 8228
     * mremap calls went to 152 (and peak RSS from 87.7 to 71.3 MiB).
     * A block that grows keeps all of its mapping, however much of it the
     * new size leaves over: a block that took a longer cached mapping got
     * the rest up to a chunk boundary as room to grow (huge_cache_take),
     * already backed. Giving that back on the next step, as a shrink,
     * made the steps after fault the pages in again: bench/realloc 1.37
     * -> 0.76 s, page faults 65k -> 34k. */
    if (new_mapped <= old_mapped && (new_size >= h->size || new_mapped >= old_mapped - old_mapped / 8)) {
        h->size = new_size;
        return p;
    }
    if (new_mapped > old_mapped && new_mapped < old_mapped + old_mapped / 8) {
        new_mapped = page_ceil(old_mapped + old_mapped / 8);
        new_span = chunk_ceil(new_mapped);
    }
    size_t taken = new_mapped; /* what a cached mapping gives, below */
    /* Growth by half or more takes a cached mapping before it grows in
     * place: copying the old bytes into backed pages costs less than
     * faulting in the new ones, and the process's resident memory does
     * not grow while the cache keeps its own (bench/realloc, buffers
     * doubling to 16 MiB round after round: page faults 34k -> 31k, peak
     * RSS 90.6 -> 85.8 MB; with pages costing 0.2 us to copy and 11 us to
     * fault in on the machine measured). Smaller steps copy more than they
     * fault in, and grow in place first. */
    bool copy_first = !guard && new_mapped > old_mapped && new_mapped - old_mapped >= old_mapped / 2 &&
                      huge_cache_holds(new_mapped);
    size_t absorbed;           /* what the cached mapping behind the block gives */
    if (new_mapped < old_mapped && guard) {
        /* Secure: the first page past the new end becomes the guard, then
         * the rest goes, the old guard with it. Guard first, so that a
         * failure leaves the block as it was. */
        if (!os_protect_none((char *)p + new_mapped, guard)) return NULL;
        if (new_span < old_span) rtree_set_range(a + new_span, old_span - new_span, 0);
        os_unmap((char *)p + new_mapped + guard, old_mapped - new_mapped);
    } else if (new_mapped < old_mapped) {
        if (new_span < old_span) rtree_set_range(a + new_span, old_span - new_span, 0);
        if (!os_resize_in_place(p, old_mapped, new_mapped)) {
            if (new_span < old_span) rtree_set_range(a + new_span, old_span - new_span, tag);
            return NULL;
        }
    } else if (!guard && (absorbed = huge_cache_absorb((char *)p + old_mapped, new_mapped - old_mapped))) {
        /* Grown into the cached pages that follow it (bench/realloc: a
         * buffer doubling inside the mapping it was split from). Their
         * slots were registered before, so their radix tree leaves exist;
         * should a leaf still be missing, the pages go back to the cache. */
        new_mapped = old_mapped + absorbed;
        new_span = chunk_ceil(new_mapped);
        if (!rtree_set_range(a, new_span, tag)) {
            rtree_set_range(a + old_span, new_span - old_span, 0);
            huge_cache_put((char *)p + old_mapped, absorbed);
            return NULL;
        }
    } else if (!guard && !copy_first && os_resize_in_place(p, old_mapped, new_mapped)) {
        /* Grown in place. Never in secure mode: the guard page holds the
         * addresses the block would grow into, and lifting it for the
         * mremap would leave the block unguarded for a while, with a
         * failure path that must put the guard back. There, growth always
         * moves the pages (below): still no copy. */
        if (!rtree_set_range(a, new_span, tag)) {
            rtree_set_range(a + old_span, new_span - old_span, 0);
            os_resize_in_place(p, new_mapped, old_mapped);
            return NULL;
        }
    } else if ((q = huge_cache_take(&taken, SC_CHUNK_SIZE, SIZE_MAX, NULL)) != NULL) {
        /* A cached mapping is big enough: its pages are backed, so copying
         * the old bytes into it costs less than faulting in the new part
         * of a fresh one (a fault is a trap and a page to zero), and the
         * old mapping goes to the cache in its place (bench/realloc: the
         * buffers doubling round after round). */
        size_t taken_span = chunk_ceil(taken);
        if (!rtree_set_range((uintptr_t)q, taken_span, tag)) {
            rtree_set_range((uintptr_t)q, taken_span, 0);
            os_unmap(q, taken + guard);
            return NULL;
        }
        memcpy(q, p, old_mapped); /* every usable byte (malloc_usable_size) */
        rtree_set_range(a, old_span, 0);
        rtree_set_range(a, SC_CHUNK_SIZE, RTREE_FREED_HUGE);
        retired = p;
        new_mapped = taken;
        h->addr = vg_disguise(q);
        p = q;
    } else {
        /* Reserve an aligned range (with its guard) and move the pages
         * there: no copy. The radix tree leaves of p's slots exist, so
         * restoring them cannot fail. */
        q = huge_map(new_mapped, SC_CHUNK_SIZE);
        if (!q) return NULL;
        if (!rtree_set_range((uintptr_t)q, new_span, tag)) {
            rtree_set_range((uintptr_t)q, new_span, 0);
            os_unmap(q, new_mapped + guard);
            return NULL;
        }
        rtree_set_range(a, old_span, 0);
        if (!os_move(p, old_mapped, q, new_mapped)) {
            rtree_set_range(a, old_span, tag);
            rtree_set_range((uintptr_t)q, new_span, 0);
            os_unmap(q, new_mapped + guard);
            return NULL;
        }
        if (guard) os_unmap((char *)p + old_mapped, guard); /* the moved block's old guard */
        h->addr = vg_disguise(q);
        p = q;
    }
    mutex_lock(&huge_lock);
    stats.allocated += new_mapped - old_mapped;
    stats.mapped += new_mapped - old_mapped;
    note_live_locked();
    mutex_unlock(&huge_lock);
    h->size = new_size;
    h->mapped = new_mapped;
    if (retired) huge_cache_put(retired, old_mapped);
    return p;
}

size_t huge_blocks(void) { return __atomic_load_n(&stats.count, __ATOMIC_RELAXED); }

SC_COLD void huge_stats_get(huge_stats_t *out)
{
    mutex_lock(&huge_lock);
    *out = stats;
    mutex_unlock(&huge_lock);
}

SC_COLD size_t huge_check(void)
{
    size_t problems = 0, count = 0, bytes = 0;
    mutex_lock(&huge_lock);
    for (huge_t *h = huge_list; h; h = h->next) {
        count++;
        bytes += h->mapped;
        for (uintptr_t a = (uintptr_t)huge_addr(h); a < (uintptr_t)huge_addr(h) + h->mapped; a += SC_CHUNK_SIZE)
            if (rtree_lookup(a) != ((uintptr_t)h | RTREE_HUGE)) {
                fmt_stderr("scmalloc: heap check: huge %p not registered at %p\n", huge_addr(h), (void *)a);
                problems++;
                break;
            }
    }
    size_t cbytes = 0;
    for (size_t i = 0; i < ncached; i++) cbytes += cache[i].mapped;
    if (cbytes != cached_bytes || stats.mapped != stats.allocated + cached_bytes + (count + ncached) * guard) {
        fmt_stderr("scmalloc: heap check: huge cache %zu bytes, counted %zu; mapped %zu\n",
                   cached_bytes, cbytes, stats.mapped);
        problems++;
    }
    if (count != stats.count || bytes != stats.allocated) {
        fmt_stderr("scmalloc: heap check: huge list %zu blocks %zu bytes, stats %zu %zu\n",
                   count, bytes, stats.count, stats.allocated);
        problems++;
    }
    mutex_unlock(&huge_lock);
    return problems;
}

void huge_prefork(void) { mutex_lock(&huge_lock); }
void huge_postfork_parent(void) { mutex_unlock(&huge_lock); }
void huge_postfork_child(void) { mutex_reinit(&huge_lock); }

void huge_decay(void)
{
    if (opt.dirty_decay_ms > 0) huge_cache_drain(SIZE_MAX, HUGE_CACHE_SLOTS);
}

size_t huge_cached(void)
{
    mutex_lock(&huge_lock);
    size_t n = cached_bytes;
    mutex_unlock(&huge_lock);
    return n;
}
