/*
 * arena: bins of small regions, page runs for slabs and large blocks, and
 * purging of dirty pages.
 *
 * Page runs. Free runs of each chunk are kept in lists by length class
 * (arena.h), one set of lists for dirty runs (still backed by memory) and
 * one for clean runs (purged or never touched). A request takes a dirty run
 * from the smallest list that fits, else a dirty run and the clean run
 * beside it together, else a clean run (best fit up to the class; reusing
 * dirty pages first saves the page faults that a purged page costs when
 * touched again), else a new chunk. Freed runs merge with free neighbours
 * of the same state.
 *
 * Decay. Dirty runs also sit in a FIFO by the time they became dirty; runs
 * older than dirty_decay_ms are purged with madvise and become clean. The
 * check runs on the arena's slow paths (every few lock acquisitions), so a
 * program whose heap shrinks sees its RSS shrink, while one that frees and
 * allocates again within the decay time pays no page faults.
 *
 * Locks: a bin lock protects the bin's slabs; the arena lock protects
 * chunks, page runs and the page map. A bin lock may be held while the
 * arena lock is taken, never the reverse.
 */
#include "arena.h"
#include "base.h"
#include "options.h"

#include <errno.h>
#include <string.h>

arena_t *arenas[SC_MAX_ARENAS];
unsigned narenas;
mutex_t arenas_lock;
static unsigned next_rr;
static size_t usable_pages;

void arenas_init(void)
{
    mutex_init(&arenas_lock);
    unsigned n = opt.narenas > 0 ? (unsigned)opt.narenas : os_ncpus * SC_ARENAS_PER_CPU;
    narenas = n > SC_MAX_ARENAS ? SC_MAX_ARENAS : n;
    chunk_init();
    usable_pages = chunk_usable_pages();
}

static arena_t *arena_create(unsigned i)
{
    arena_t *a = base_alloc(sizeof(arena_t));
    if (!a) return NULL;
    a->index = i;
    mutex_init(&a->lock);
    for (unsigned c = 0; c < SC_NSMALL; c++) mutex_init(&a->bins[c].lock);
    return a;
}

arena_t *arena_get(unsigned i)
{
    arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
    if (likely(a)) return a;
    mutex_lock(&arenas_lock);
    a = arenas[i];
    if (!a) {
        a = arena_create(i);
        if (a) __atomic_store_n(&arenas[i], a, __ATOMIC_RELEASE);
    }
    mutex_unlock(&arenas_lock);
    return a;
}

/* Arena i for a new thread, counted; arena 0 if arena i cannot be created
 * (no memory for its metadata). */
static arena_t *arena_take(unsigned i)
{
    arena_t *a = arena_get(i);
    if (!a) a = arena_get(0);
    if (a) __atomic_fetch_add(&a->nthreads, 1, __ATOMIC_RELAXED);
    return a;
}

arena_t *arena_bind(void)
{
    if (opt.bind == BIND_RR) return arena_take(__atomic_fetch_add(&next_rr, 1, __ATOMIC_RELAXED) % narenas);
    /* Least loaded: the first arena with the fewest threads; arenas not
     * created yet count as empty. The count goes up only if it is still
     * the one the choice saw, else the thread chooses again: two threads
     * that start together used to see the same empty arena and both take
     * it, and then their first regions were neighbours in one cache line
     * (bench/falseshare: 4 shared lines and 1.4 s instead of 0 and 0.3 s,
     * in 5 of the 30 runs of the six full benchmark runs before, then in 3
     * of 5). */
    for (;;) {
        unsigned choice = 0, best = ~0u;
        for (unsigned i = 0; i < narenas && best; i++) {
            arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
            unsigned n = a ? __atomic_load_n(&a->nthreads, __ATOMIC_RELAXED) : 0;
            if (n < best) { best = n; choice = i; }
        }
        arena_t *a = arena_get(choice);
        if (!a) return arena_take(0);
        if (__atomic_compare_exchange_n(&a->nthreads, &best, best + 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return a;
    }
}

void arena_unbind(arena_t *a)
{
    if (a) __atomic_fetch_sub(&a->nthreads, 1, __ATOMIC_RELAXED);
}

/* ---- free page runs (arena lock held) ---------------------------------- */

static void runs_link(arena_t *a, page_t *head, int dirty)
{
    size_t i = run_list_index(head->npages);
    page_t **list = &a->runs[dirty][i];
    head->prev = NULL;
    head->next = *list;
    if (*list) (*list)->prev = head;
    *list = head;
    a->runmap[dirty] |= 1ull << i;
}

static void runs_unlink(arena_t *a, page_t *head, int dirty)
{
    size_t i = run_list_index(head->npages);
    if (head->prev) head->prev->next = head->next;
    else a->runs[dirty][i] = head->next;
    if (head->next) head->next->prev = head->prev;
    if (!a->runs[dirty][i]) a->runmap[dirty] &= ~(1ull << i);
}

static void fifo_push(arena_t *a, page_t *head)
{
    head->dnext = NULL;
    head->dprev = a->dirty_newest;
    if (a->dirty_newest) a->dirty_newest->dnext = head;
    else a->dirty_oldest = head;
    a->dirty_newest = head;
}

static void fifo_remove(arena_t *a, page_t *head)
{
    if (head->dprev) head->dprev->dnext = head->dnext;
    else a->dirty_oldest = head->dnext;
    if (head->dnext) head->dnext->dprev = head->dprev;
    else a->dirty_newest = head->dprev;
}

/* Puts the free run [pi, pi + n) of c in the lists as kind, without merging.
 * Writes the head and the tail entries. */
static void run_insert(arena_t *a, chunk_t *c, size_t pi, size_t n, int kind, uint64_t dirty_ms)
{
    page_t *head = &c->pages[pi], *tail = &c->pages[pi + n - 1];
    tail->kind = (uint8_t)kind;
    tail->head = (uint32_t)(n - 1);
    tail->npages = (uint32_t)n;
    head->kind = (uint8_t)kind;
    head->head = 0;
    head->npages = (uint32_t)n;
    int dirty = kind == PAGE_FREE_DIRTY;
    runs_link(a, head, dirty);
    if (dirty) {
        head->dirty_ms = dirty_ms;
        fifo_push(a, head);
        a->ndirty += n;
    } else {
        a->nclean += n;
    }
    c->nfree += (uint32_t)n;
}

static void run_remove(arena_t *a, chunk_t *c, page_t *head)
{
    int dirty = head->kind == PAGE_FREE_DIRTY;
    runs_unlink(a, head, dirty);
    if (dirty) {
        fifo_remove(a, head);
        a->ndirty -= head->npages;
    } else {
        a->nclean -= head->npages;
    }
    c->nfree -= head->npages;
}

/* Runs of a list that a search compares. */
#define RUN_SCAN 8

/* The shortest run of list (of the given state) with at least n pages
 * among its first RUN_SCAN, or NULL. */
static page_t *runs_list_fit(arena_t *a, int dirty, size_t i, size_t n)
{
    page_t *best = NULL;
    page_t *h = a->runs[dirty][i];
    for (int k = 0; h && k < RUN_SCAN; h = h->next, k++) {
        if (h->npages < n || (best && h->npages >= best->npages)) continue;
        best = h;
        if (h->npages == n) break;
    }
    return best;
}

/* A free run of the given state with at least n pages, or NULL: the best
 * fit among the first runs of n's list, else of the next non-empty list
 * (whose runs all fit). Lists below RUN_EXACT hold one length, so there
 * the first run is the best fit. */
static page_t *runs_fit(arena_t *a, int dirty, size_t n)
{
    size_t i = run_list_index(n);
    if (i >= RUN_EXACT) {
        page_t *h = runs_list_fit(a, dirty, i, n);
        if (h) return h;
        i++;
    }
    uint64_t bits = i < RUN_LISTS ? a->runmap[dirty] >> i : 0;
    if (!bits) return NULL;
    i += (size_t)__builtin_ctzll(bits);
    return i < RUN_EXACT ? a->runs[dirty][i] : runs_list_fit(a, dirty, i, n);
}

static void chunk_link(arena_t *a, chunk_t *c)
{
    c->prev = NULL;
    c->next = a->chunks;
    if (a->chunks) a->chunks->prev = c;
    a->chunks = c;
    a->nchunks++;
}

static void chunk_unlink(arena_t *a, chunk_t *c)
{
    if (c->prev) c->prev->next = c->next;
    else a->chunks = c->next;
    if (c->next) c->next->prev = c->prev;
    a->nchunks--;
}

/* No dirty run fits n pages: n pages made of a dirty run and the clean run
 * beside it, so that the dirty pages are used again (no fault) and only
 * the rest is new. Tries the first runs of the longest dirty lists, so the
 * dirty part is about the longest there is. Returns the first page, or 0
 * (*chunk set). The pages are not clean.
 *
 * Without it, a dirty run shorter than every later request stayed unused
 * until the bound purged it, and the requests faulted in clean pages.
 * Measured, page faults without and with it: bench/large 77.7k -> 73.5k
 * (its blocks of 64 KiB to 2 MiB alone: 60.4k -> 52.0k; tcmalloc 3.4k),
 * bench/mixed 85.2k -> 79.9k; prodcons, larson, threads, frag and realloc
 * the same within 1%. */
static size_t run_alloc_mixed(arena_t *a, size_t n, chunk_t **chunk)
{
    uint64_t lists = a->runmap[1];
    int looked = 0;
    while (lists && looked < 2 * RUN_SCAN) {
        size_t i = 63u - (unsigned)__builtin_clzll(lists);
        lists &= ~(1ull << i);
        for (page_t *d = a->runs[1][i]; d && looked < 2 * RUN_SCAN; d = d->next, looked++) {
            chunk_t *c = chunk_of(d);
            size_t pi = (size_t)(d - c->pages), len = d->npages;
            if (pi + len < c->end_page) {
                page_t *r = &c->pages[pi + len];
                if (r->kind == PAGE_FREE_CLEAN && len + r->npages >= n) {
                    size_t total = len + r->npages;
                    run_remove(a, c, r);
                    run_remove(a, c, d);
                    if (total > n) run_insert(a, c, pi + n, total - n, PAGE_FREE_CLEAN, 0);
                    *chunk = c;
                    return pi;
                }
            }
            if (pi > c->first_page && c->pages[pi - 1].kind == PAGE_FREE_CLEAN) {
                page_t *l = &c->pages[pi - 1];
                l -= l->head;
                size_t lpi = (size_t)(l - c->pages), start = pi + len - n;
                if (l->npages + len >= n) {
                    run_remove(a, c, l);
                    run_remove(a, c, d);
                    if (start > lpi) run_insert(a, c, lpi, start - lpi, PAGE_FREE_CLEAN, 0);
                    *chunk = c;
                    return start;
                }
            }
        }
    }
    return 0;
}

/* Takes a free run of exactly n pages. Sets *chunk, returns the first page
 * index (0 on failure: page 0 is always header) and whether the pages are
 * clean (zero). The pages' map entries are the caller's to write. */
static size_t run_alloc(arena_t *a, size_t n, chunk_t **chunk, bool *clean)
{
    page_t *head = runs_fit(a, 1, n);
    if (!head && a->runmap[1]) {
        size_t pi = run_alloc_mixed(a, n, chunk);
        if (pi) {
            *clean = false;
            return pi;
        }
    }
    if (!head) head = runs_fit(a, 0, n);
    chunk_t *c;
    if (head) {
        c = chunk_of(head);
    } else {
        c = chunk_alloc(a);
        if (!c) return 0;
        chunk_link(a, c);
        run_insert(a, c, c->first_page, c->end_page - c->first_page, PAGE_FREE_CLEAN, 0);
        head = &c->pages[c->first_page];
    }
    size_t pi = (size_t)(head - c->pages);
    int kind = head->kind;
    uint64_t ms = head->dirty_ms;
    size_t total = head->npages;
    run_remove(a, c, head);
    /* The remainder keeps the state; its neighbours differ from it, since
     * the run we split was merged with all it could merge with. */
    if (total > n) run_insert(a, c, pi + n, total - n, kind, ms);
    *chunk = c;
    *clean = kind == PAGE_FREE_CLEAN;
    return pi;
}

/* Gives back a run whose pages are all marked free; merges it with free
 * neighbours of the same kind. */
static void run_merge_insert(arena_t *a, chunk_t *c, size_t pi, size_t n, int kind, uint64_t now)
{
    if (pi > c->first_page) {
        page_t *left = &c->pages[pi - 1];
        if (left->kind == kind) {
            page_t *lh = left - left->head;
            pi = (size_t)(lh - c->pages);
            n += lh->npages;
            run_remove(a, c, lh);
        }
    }
    if (pi + n < c->end_page) {
        page_t *right = &c->pages[pi + n];
        if (right->kind == kind) {
            n += right->npages;
            run_remove(a, c, right);
        }
    }
    run_insert(a, c, pi, n, kind, now);
}

/* Releases chunk c if all its pages are clean and free and the arena keeps
 * another chunk (one chunk stays as a spare). */
static void chunk_maybe_release(arena_t *a, chunk_t *c)
{
    if (c->nfree != c->end_page - c->first_page || a->nchunks <= 1) return;
    page_t *head = &c->pages[c->first_page];
    if (head->kind != PAGE_FREE_CLEAN || head->npages != c->end_page - c->first_page) return;
    run_remove(a, c, head);
    chunk_unlink(a, c);
    chunk_release(c);
}

/* Marks [pi, pi + n) dirty and free, merges, and runs the decay check. */
static void run_free(arena_t *a, chunk_t *c, size_t pi, size_t n)
{
    for (size_t i = pi; i < pi + n; i++) {
        c->smallmap[i] = 0;
        c->pages[i].kind = PAGE_FREE_DIRTY;
    }
    a->nactive -= n;
    uint64_t now = opt.dirty_decay_ms > 0 ? os_now_ms() : 0;
    run_merge_insert(a, c, pi, n, PAGE_FREE_DIRTY, now);
}

#define PURGE_BATCH 64

/* Whether the oldest dirty run is to go: the arena keeps at most keep
 * dirty pages, and none that became dirty before cutoff (ms); runs that
 * became dirty at or after young (ms) stay either way. */
static bool purge_due(const arena_t *a, size_t keep, uint64_t cutoff, uint64_t young)
{
    return a->dirty_oldest && a->dirty_oldest->dirty_ms < young &&
           (a->ndirty > keep || a->dirty_oldest->dirty_ms < cutoff);
}

/* Purges the oldest dirty runs while purge_due, up to PURGE_BATCH at a
 * time: they leave the lists, one call purges them all (os_purge_many:
 * the other CPUs' TLBs are flushed once per batch, not once per run; on
 * bench/mixed the flush interrupts were 7% of the CPU time), and they come
 * back clean. If the kernel refuses one, it and the rest of its batch stay
 * dirty (pages we cannot prove zero are never called clean), go to the
 * back of the decay list, and purging stops there. */
static void purge_oldest(arena_t *a, size_t keep, uint64_t cutoff, uint64_t young)
{
    while (purge_due(a, keep, cutoff, young)) {
        page_t *runs[PURGE_BATCH];
        os_range_t ranges[PURGE_BATCH];
        size_t n = 0;
        for (; n < PURGE_BATCH && purge_due(a, keep, cutoff, young); n++) {
            page_t *head = a->dirty_oldest;
            chunk_t *c = chunk_of(head);
            run_remove(a, c, head);
            runs[n] = head;
            ranges[n] = (os_range_t){ chunk_page_addr(c, (size_t)(head - c->pages)), (size_t)head->npages << os_page_shift };
        }
        size_t ok = os_purge_many(ranges, n);
        a->nmadvise += n;
        for (size_t i = 0; i < n; i++) {
            chunk_t *c = chunk_of(runs[i]);
            size_t pi = (size_t)(runs[i] - c->pages), len = runs[i]->npages;
            if (i >= ok) {
                run_insert(a, c, pi, len, PAGE_FREE_DIRTY, os_now_ms());
                continue;
            }
            a->purged += len;
            a->carved = 0; /* the heap shrinks: no more backing ahead for now */
            c->pages[pi].kind = PAGE_FREE_CLEAN;
            c->pages[pi + len - 1].kind = PAGE_FREE_CLEAN;
            run_merge_insert(a, c, pi, len, PAGE_FREE_CLEAN, 0);
            chunk_maybe_release(a, c);
        }
        if (ok < n) return;
    }
}

/* Arena lock held. */
static void arena_decay_locked(arena_t *a, bool all)
{
    if (!a->dirty_oldest || (!all && opt.dirty_decay_ms < 0)) return;
    a->npurge++;
    if (all || opt.dirty_decay_ms == 0) {
        purge_oldest(a, 0, 0, UINT64_MAX);
    } else {
        uint64_t now = os_now_ms(), decay = (uint64_t)opt.dirty_decay_ms;
        if (a->large_max && now - a->large_max_ms >= decay) a->large_max = 0; /* the floor forgets it */
        purge_oldest(a, SIZE_MAX, now >= decay ? now - decay + 1 : 0, UINT64_MAX);
    }
}

/* The most dirty pages an arena keeps beyond the decay: half of its active
 * pages (SC_DIRTY_RATIO_SHIFT) plus a floor.
 *
 * The floor is at least twice the longest large block freed within the
 * decay time, so that the pages of a freed block are there for the next
 * ones of that size rather than purged and faulted in again. Measured on
 * bench/large (4 live blocks of 64 KiB .. 64 MiB): page faults 73.5k ->
 * 44.4k, 0.16 -> 0.12 s, peak RSS +0.5%; once the longest block instead:
 * 63.9k, 0.14 s. Blocks that realloc moved on to a bigger one do not count
 * (bench/realloc: a buffer that outgrew the large classes, whose pages
 * the arena does not need: counted, its peak rose 88 -> 95 MB). The
 * block is forgotten by the periodic decay pass, which reads the clock
 * anyway, not here on every call. */
static size_t dirty_bound(const arena_t *a)
{
    size_t floor = SC_DIRTY_FLOOR_BYTES >> os_page_shift;
    if (2 * a->large_max > floor) floor = 2 * a->large_max;
    return (a->nactive >> SC_DIRTY_RATIO_SHIFT) + floor;
}

/* Called with the arena lock held at the end of slow-path operations.
 * Besides the decay time, dirty pages are bounded (dirty_bound), so that a
 * heap that shrinks gives its memory back even if the program then stays
 * idle; the oldest go first, once they are SC_DIRTY_MIN_AGE_MS old while
 * threads are bound to the arena, at once when none is. */
static void arena_maybe_decay(arena_t *a)
{
    if (!a->dirty_oldest) return;
    size_t limit = dirty_bound(a);
    if (a->ndirty > limit && opt.dirty_decay_ms >= 0) {
        /* Down to 3/4 of the bound, so that a heap hovering at it is not
         * purged one run at a time; runs dirty for less than
         * SC_DIRTY_MIN_AGE_MS stay (runs carry their time only with a
         * decay time), for the threads bound to the arena: with none
         * (see arena_left), they go at once. */
        uint64_t young = UINT64_MAX;
        if (opt.dirty_decay_ms > 0 && __atomic_load_n(&a->nthreads, __ATOMIC_RELAXED) != 0) {
            uint64_t now = os_now_ms();
            young = now >= SC_DIRTY_MIN_AGE_MS ? now - SC_DIRTY_MIN_AGE_MS + 1 : 0;
        }
        a->npurge++;
        purge_oldest(a, limit - limit / 4, 0, young);
    }
    if (opt.dirty_decay_ms == 0 || (++a->purge_ticks & 15) == 0) arena_decay_locked(a, false);
}

/* The last thread bound to arena a has exited: the bound's purge, now
 * without the minimum age. The young runs it leaves are for the threads
 * that use the arena; with none left, and without a background thread,
 * no call would purge them later (bench/prodcons ended with 2.7 MB dirty
 * in each producer's arena after 177k purge calls that purged nothing).
 * Frees into an arena without threads purge the same way. */
void arena_left(arena_t *a)
{
    if (!a || __atomic_load_n(&a->nthreads, __ATOMIC_RELAXED) != 0) return;
    mutex_lock(&a->lock);
    arena_maybe_decay(a);
    mutex_unlock(&a->lock);
}

void arena_purge(arena_t *a, bool all)
{
    mutex_lock(&a->lock);
    arena_decay_locked(a, all);
    mutex_unlock(&a->lock);
}

void arenas_decay(void)
{
    for (unsigned i = 0; i < narenas; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (a) arena_purge(a, false);
    }
}

SC_COLD size_t arena_purge_all(void)
{
    size_t purged = 0;
    for (unsigned i = 0; i < narenas; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) continue;
        mutex_lock(&a->lock);
        size_t before = a->purged;
        arena_decay_locked(a, true);
        purged += a->purged - before;
        mutex_unlock(&a->lock);
    }
    return purged;
}

/* ---- slabs ------------------------------------------------------------- */

/* A growing heap: after a slab was carved from the clean run that begins at
 * page pi, up to 1/16 of the pages carved so far (at most
 * SC_POPULATE_AHEAD_PAGES) from the front of that run become a dirty run,
 * for the caller to back with memory in the same system call as the slab
 * (os_populate). The next slabs and large blocks take them first, with no
 * page fault. Nothing until the arena has carved SC_POPULATE_AFTER_PAGES,
 * so a small program backs no page it does not use. Returns the pages. */
static size_t slab_populate_ahead(arena_t *a, chunk_t *c, size_t pi)
{
    if (a->carved < SC_POPULATE_AFTER_PAGES || pi >= c->end_page || !os_can_populate()) return 0;
    page_t *head = &c->pages[pi];
    if (head->kind != PAGE_FREE_CLEAN) return 0;
    size_t want = a->carved / 16, total = head->npages;
    if (want > SC_POPULATE_AHEAD_PAGES) want = SC_POPULATE_AHEAD_PAGES;
    size_t k = want < total ? want : total;
    run_remove(a, c, head);
    if (total > k) run_insert(a, c, pi + k, total - k, PAGE_FREE_CLEAN, 0);
    /* Marked dirty before the merge, which reads the kinds at the ends:
     * it may join a dirty run on the right (never the slab on the left). */
    c->pages[pi].kind = PAGE_FREE_DIRTY;
    c->pages[pi + k - 1].kind = PAGE_FREE_DIRTY;
    run_merge_insert(a, c, pi, k, PAGE_FREE_DIRTY, os_now_ms());
    return k;
}

static slab_t *slab_alloc(arena_t *a, unsigned cls)
{
    size_t n = sizeclass_info[cls].slab_pages;
    chunk_t *c;
    bool clean;
    mutex_lock(&a->lock);
    size_t pi = run_alloc(a, n, &c, &clean);
    if (!pi) { mutex_unlock(&a->lock); return NULL; }
    char *base = chunk_page_addr(c, pi);
    slab_t *s = slab_create(cls, base);
    if (!s) {
        run_merge_insert(a, c, pi, n, clean ? PAGE_FREE_CLEAN : PAGE_FREE_DIRTY, os_now_ms());
        mutex_unlock(&a->lock);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        page_t *pg = &c->pages[pi + i];
        pg->kind = PAGE_SMALL;
        pg->head = (uint32_t)i;
        pg->npages = (uint32_t)n;
        pg->slab = s;
        c->smallmap[pi + i] = (uint32_t)(cls + 1) << SMALLMAP_SHIFT | (uint32_t)i;
    }
    a->nactive += n;
    size_t ahead = 0;
    if (clean) {
        a->carved += n;
        ahead = slab_populate_ahead(a, c, pi + n);
    }
    arena_maybe_decay(a);
    mutex_unlock(&a->lock);
    /* Outside the arena lock: the dirty run may be taken meanwhile, and a
     * page that its new owner has written is left as it is. */
    if (ahead && os_populate(base, (n + ahead) << os_page_shift))
        __atomic_fetch_add(&a->populated, ahead, __ATOMIC_RELAXED);
    return s;
}

static void slab_free(arena_t *a, slab_t *s)
{
    chunk_t *c = chunk_of(slab_base(s));
    size_t pi = chunk_page_index(c, slab_base(s));
    mutex_lock(&a->lock);
    run_free(a, c, pi, sizeclass_info[s->cls].slab_pages);
    arena_maybe_decay(a);
    mutex_unlock(&a->lock);
    slab_destroy(s);
}

static void bin_list_push(bin_t *b, slab_t *s)
{
    s->prev = NULL;
    s->next = b->nonfull;
    if (b->nonfull) b->nonfull->prev = s;
    b->nonfull = s;
    s->listed = 1;
}

static void bin_list_remove(bin_t *b, slab_t *s)
{
    if (s->prev) s->prev->next = s->next;
    else b->nonfull = s->next;
    if (s->next) s->next->prev = s->prev;
    s->listed = 0;
}

size_t arena_bin_fill(arena_t *a, unsigned cls, void **out, size_t n)
{
    bin_t *b = &a->bins[cls];
    size_t got = 0;
    mutex_lock(&b->lock);
    while (got < n) {
        slab_t *s = b->cur;
        if (!s || s->nfree == 0) {
            if (b->nonfull) {
                s = b->nonfull;
                bin_list_remove(b, s);
            } else {
                s = slab_alloc(a, cls);
                if (!s) break;
                b->curslabs++;
                b->nslabs++;
            }
            b->cur = s;
        }
        got += slab_take(s, out + got, n - got);
    }
    b->curregs += got;
    b->nmalloc += got;
    b->nfills++;
    mutex_unlock(&b->lock);
    return got;
}

/* Bin lock held; ci: the bin's class. Returns the slab if it became empty
 * and must be freed. The caller counts the region out of the bin. */
static slab_t *bin_dalloc_locked(bin_t *b, chunk_t *c, void *p, const sizeclass_info_t *ci)
{
    page_t *pg = &c->pages[chunk_page_index(c, p)];
    if (pg->kind != PAGE_SMALL) sc_misuse(pg->kind <= PAGE_FREE_DIRTY ? "double free" : "invalid pointer", p);
    slab_t *s = pg->slab;
    sc_assert(sizeclass_info[s->cls].size == ci->size);
    slab_put(s, p, ci);
    if (s == b->cur) return NULL;
    if (s->nfree == ci->nregs) {
        /* Empty: give its pages back, unless it is the only slab left. */
        if (s->listed) bin_list_remove(b, s);
        if (!b->cur) { b->cur = s; return NULL; }
        b->curslabs--;
        return s;
    }
    if (!s->listed) bin_list_push(b, s);
    return NULL;
}

void arena_bin_flush(unsigned cls, void **ptrs, size_t n)
{
    /* The class geometry once for all the regions, and the bin's counts
     * once per lock: callgrind on bench/frag -n 200k, 76 -> 59
     * instructions per region returned (262k regions). */
    const sizeclass_info_t ci = sizeclass_info[cls];
    /* Take the arena of the first pointer, return every pointer of that
     * arena under one lock acquisition, repeat with what is left. */
    while (n) {
        arena_t *a = chunk_of(ptrs[0])->arena;
        bin_t *b = &a->bins[cls];
        size_t left = 0;
        mutex_lock(&b->lock);
        b->nflushes++;
        for (size_t i = 0; i < n; i++) {
            void *p = ptrs[i];
            chunk_t *c = chunk_of(p);
            if (c->arena != a) { ptrs[left++] = p; continue; }
            slab_t *s = bin_dalloc_locked(b, c, p, &ci);
            /* Freed under the bin lock (bin -> arena is the lock order), so
             * that fork() never sees a slab counted out of its bin whose
             * pages are not yet free. */
            if (s) slab_free(a, s);
        }
        b->curregs -= n - left;
        b->ndalloc += n - left;
        mutex_unlock(&b->lock);
        n = left;
    }
}

/* ---- large blocks ------------------------------------------------------ */

void *arena_alloc_large(arena_t *a, size_t size, size_t align, bool zero)
{
    size_t n = page_ceil(size) >> os_page_shift;
    size_t extra = align > os_page ? (align >> os_page_shift) - 1 : 0;
    if (n + extra > usable_pages) { errno = ENOMEM; return NULL; }
    chunk_t *c;
    bool clean;
    mutex_lock(&a->lock);
    size_t pi = run_alloc(a, n + extra, &c, &clean);
    if (!pi) { mutex_unlock(&a->lock); errno = ENOMEM; return NULL; }
    size_t lead = 0, trail = 0;
    if (extra) {
        uintptr_t addr = (uintptr_t)chunk_page_addr(c, pi);
        lead = (((addr + align - 1) & ~(align - 1)) - addr) >> os_page_shift;
        trail = extra - lead;
    }
    size_t first = pi;
    pi += lead;
    for (size_t i = 0; i < n; i++) {
        page_t *pg = &c->pages[pi + i];
        pg->kind = PAGE_LARGE;
        pg->head = (uint32_t)i;
    }
    if (extra) {
        /* Give back the pieces around the aligned part (after the block's
         * pages are marked, so the merge does not take them for free). They
         * keep their state; the trail may border the remainder that
         * run_alloc put back, so both are merged. */
        int kind = clean ? PAGE_FREE_CLEAN : PAGE_FREE_DIRTY;
        uint64_t now = kind == PAGE_FREE_DIRTY ? os_now_ms() : 0;
        if (lead) run_merge_insert(a, c, first, lead, kind, now);
        if (trail) run_merge_insert(a, c, pi + n, trail, kind, now);
    }
    c->pages[pi].npages = (uint32_t)n;
    a->nactive += n;
    a->large_nmalloc++;
    /* Thread caches add their counts without the lock (tcache.c). */
    __atomic_fetch_add(&a->large_nrequests, 1, __ATOMIC_RELAXED);
    a->large_allocated += n << os_page_shift;
    arena_maybe_decay(a);
    mutex_unlock(&a->lock);
    void *p = chunk_page_addr(c, pi);
    if (zero && !clean) memset(p, 0, size);
    return p;
}

/* Arena lock held. */
static void dalloc_large_locked(arena_t *a, chunk_t *c, page_t *pg, void *p, bool grown)
{
    if (pg->kind != PAGE_LARGE || pg->head != 0 || chunk_page_addr(c, (size_t)(pg - c->pages)) != p) {
        int kind = pg->kind;
        mutex_unlock(&a->lock);
        sc_misuse(kind <= PAGE_FREE_DIRTY && ((uintptr_t)p & (os_page - 1)) == 0 ? "double free" : "invalid pointer", p);
    }
    size_t n = pg->npages;
    if (!grown && n >= a->large_max && opt.dirty_decay_ms > 0) {
        a->large_max = n;
        a->large_max_ms = os_now_ms();
    }
    a->large_ndalloc++;
    a->large_allocated -= n << os_page_shift;
    run_free(a, c, (size_t)(pg - c->pages), n);
}

static void dalloc_large(chunk_t *c, page_t *pg, void *p, bool grown)
{
    arena_t *a = c->arena;
    mutex_lock(&a->lock);
    dalloc_large_locked(a, c, pg, p, grown);
    arena_maybe_decay(a);
    mutex_unlock(&a->lock);
}

void arena_dalloc_large(chunk_t *c, page_t *pg, void *p) { dalloc_large(c, pg, p, false); }
void arena_dalloc_large_grown(chunk_t *c, page_t *pg, void *p) { dalloc_large(c, pg, p, true); }

void arena_large_flush(void **ptrs, size_t n)
{
    size_t i = 0;
    while (i < n) {
        arena_t *a = chunk_of(ptrs[i])->arena;
        mutex_lock(&a->lock);
        for (; i < n && chunk_of(ptrs[i])->arena == a; i++) {
            chunk_t *c = chunk_of(ptrs[i]);
            dalloc_large_locked(a, c, &c->pages[chunk_page_index(c, ptrs[i])], ptrs[i], false);
        }
        arena_maybe_decay(a);
        mutex_unlock(&a->lock);
    }
}

bool arena_resize_large(chunk_t *c, page_t *pg, size_t new_size)
{
    arena_t *a = c->arena;
    size_t pi = (size_t)(pg - c->pages);
    size_t old_n = pg->npages, new_n = page_ceil(new_size) >> os_page_shift;
    bool ok = true;
    mutex_lock(&a->lock);
    if (new_n < old_n) {
        run_free(a, c, pi + new_n, old_n - new_n);
    } else if (new_n > old_n) {
        size_t next = pi + old_n, need = new_n - old_n;
        page_t *right = next < c->end_page ? &c->pages[next] : NULL;
        if (!right || right->kind > PAGE_FREE_DIRTY || right->npages < need) {
            ok = false;
        } else {
            int kind = right->kind;
            uint64_t ms = right->dirty_ms;
            size_t total = right->npages;
            bool clean = kind == PAGE_FREE_CLEAN;
            run_remove(a, c, right);
            if (total > need) run_insert(a, c, next + need, total - need, kind, ms);
            for (size_t i = old_n; i < new_n; i++) {
                page_t *p = &c->pages[pi + i];
                p->kind = PAGE_LARGE;
                p->head = (uint32_t)i;
            }
            a->nactive += need;
            (void)clean;
        }
    }
    if (ok) {
        a->large_allocated += (new_n << os_page_shift) - (old_n << os_page_shift);
        pg->npages = (uint32_t)new_n;
    }
    mutex_unlock(&a->lock);
    return ok;
}

/* ---- fork -------------------------------------------------------------- */

void arenas_prefork(void)
{
    mutex_lock(&arenas_lock);
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        if (!arenas[i]) continue;
        for (unsigned c = 0; c < SC_NSMALL; c++) mutex_lock(&arenas[i]->bins[c].lock);
    }
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++)
        if (arenas[i]) mutex_lock(&arenas[i]->lock);
}

void arenas_postfork_parent(void)
{
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        if (!arenas[i]) continue;
        mutex_unlock(&arenas[i]->lock);
        for (unsigned c = 0; c < SC_NSMALL; c++) mutex_unlock(&arenas[i]->bins[c].lock);
    }
    mutex_unlock(&arenas_lock);
}

void arenas_postfork_child(void)
{
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        if (!arenas[i]) continue;
        mutex_reinit(&arenas[i]->lock);
        for (unsigned c = 0; c < SC_NSMALL; c++) mutex_reinit(&arenas[i]->bins[c].lock);
        arenas[i]->nthreads = 0;
    }
    mutex_reinit(&arenas_lock);
}

/* ---- consistency check --------------------------------------------------- */

#define CHECK(cond, ...) do { if (!(cond)) { fmt_stderr("scmalloc: heap check: " __VA_ARGS__); problems++; } } while (0)

SC_COLD size_t arena_check(arena_t *a)
{
    size_t problems = 0;
    for (unsigned cls = 0; cls < SC_NSMALL; cls++) mutex_lock(&a->bins[cls].lock);
    mutex_lock(&a->lock);
    size_t ndirty = 0, nclean = 0, nactive = 0, nchunks = 0, large = 0;
    size_t curregs[SC_NSMALL] = {0}, curslabs[SC_NSMALL] = {0};
    for (chunk_t *c = a->chunks; c; c = c->next) {
        nchunks++;
        CHECK(c->arena == a, "chunk %p: wrong arena\n", (void *)c);
        CHECK(rtree_in_arena_chunk((uintptr_t)c), "chunk %p: not registered\n", (void *)c);
        /* Outside the runs: the header, then in secure mode one guard page
         * in front of the runs and one behind them; never in the small map. */
        size_t guards = (size_t)(c->npages - c->end_page), header = c->first_page - guards;
        if (c->end_page > c->npages || c->first_page < guards || c->end_page - c->first_page != usable_pages) {
            CHECK(0, "chunk %p: runs from page %u to %u of %u\n", (void *)c, c->first_page, c->end_page, c->npages);
            continue;
        }
        for (size_t pi = 0; pi < c->npages; pi++) {
            if (pi == c->first_page) pi = c->end_page;
            if (pi == c->npages) break;
            int want = pi < header ? PAGE_HEADER : PAGE_GUARD;
            CHECK(c->pages[pi].kind == want && c->smallmap[pi] == 0,
                  "chunk %p page %zu: kind %u outside the runs, want %d\n", (void *)c, pi, c->pages[pi].kind, want);
        }
        size_t nfree = 0;
        int prev_free_kind = -1;
        for (size_t pi = c->first_page; pi < c->end_page;) {
            page_t *pg = &c->pages[pi];
            size_t n = pg->npages;
            CHECK(pg->head == 0, "chunk %p page %zu: run head has head %u\n", (void *)c, pi, pg->head);
            if (n == 0 || pi + n > c->end_page) {
                CHECK(0, "chunk %p page %zu: bad run length %zu\n", (void *)c, pi, n);
                break;
            }
            if (pg->kind == PAGE_FREE_CLEAN || pg->kind == PAGE_FREE_DIRTY) {
                page_t *tail = &c->pages[pi + n - 1];
                CHECK(tail->kind == pg->kind && tail->npages == n && tail->head == n - 1,
                      "chunk %p page %zu: free run tail mismatch\n", (void *)c, pi);
                CHECK(prev_free_kind != pg->kind, "chunk %p page %zu: unmerged free runs (kind %u, %zu pages)\n", (void *)c, pi, pg->kind, n);
                CHECK(a->runmap[pg->kind] & (1ull << run_list_index(n)), "chunk %p page %zu: free run not listed\n", (void *)c, pi);
                for (size_t i = 0; i < n; i++)
                    CHECK(c->smallmap[pi + i] == 0 && c->pages[pi + i].kind <= PAGE_FREE_DIRTY,
                          "chunk %p page %zu: free page with a small map entry or wrong kind\n", (void *)c, pi + i);
                if (pg->kind == PAGE_FREE_DIRTY) ndirty += n; else nclean += n;
                nfree += n;
                prev_free_kind = pg->kind;
            } else if (pg->kind == PAGE_SMALL) {
                slab_t *s = pg->slab;
                unsigned bin = chunk_small_bin(c, pi), cls = bin - 1u;
                CHECK(bin >= 1 && bin <= SC_NSMALL && s && s->cls == cls && slab_base(s) == chunk_page_addr(c, pi),
                      "chunk %p page %zu: bad slab\n", (void *)c, pi);
                if (cls >= SC_NSMALL || !s) break;
                CHECK(n == sizeclass_info[cls].slab_pages, "chunk %p page %zu: slab length\n", (void *)c, pi);
                for (size_t i = 0; i < n; i++)
                    CHECK(c->pages[pi + i].kind == PAGE_SMALL && c->pages[pi + i].head == i && c->pages[pi + i].slab == s &&
                          c->smallmap[pi + i] == ((uint32_t)bin << SMALLMAP_SHIFT | (uint32_t)i),
                          "chunk %p page %zu: slab page map\n", (void *)c, pi + i);
                size_t pop = 0;
                for (unsigned w = 0; w < (sizeclass_info[cls].nregs + 63) / 64; w++)
                    pop += (size_t)__builtin_popcountll(s->bitmap[w]);
                CHECK(pop == s->nfree, "slab %p: nfree %u but %zu bits free\n", (void *)slab_base(s), s->nfree, pop);
                curregs[cls] += sizeclass_info[cls].nregs - s->nfree;
                curslabs[cls]++;
                nactive += n;
                prev_free_kind = -1;
            } else if (pg->kind == PAGE_LARGE) {
                for (size_t i = 0; i < n; i++)
                    CHECK(c->pages[pi + i].kind == PAGE_LARGE && c->pages[pi + i].head == i && c->smallmap[pi + i] == 0,
                          "chunk %p page %zu: large page map\n", (void *)c, pi + i);
                nactive += n;
                large += n << os_page_shift;
                prev_free_kind = -1;
            } else {
                CHECK(0, "chunk %p page %zu: bad kind %u\n", (void *)c, pi, pg->kind);
                break;
            }
            pi += n;
        }
        CHECK(nfree == c->nfree, "chunk %p: nfree %u, counted %zu\n", (void *)c, c->nfree, nfree);
    }
    CHECK(nchunks == a->nchunks, "arena %u: nchunks\n", a->index);
    CHECK(ndirty == a->ndirty, "arena %u: ndirty %zu, counted %zu\n", a->index, a->ndirty, ndirty);
    CHECK(nclean == a->nclean, "arena %u: nclean %zu, counted %zu\n", a->index, a->nclean, nclean);
    CHECK(nactive == a->nactive, "arena %u: nactive %zu, counted %zu\n", a->index, a->nactive, nactive);
    CHECK(large == a->large_allocated, "arena %u: large bytes %zu, counted %zu\n", a->index, a->large_allocated, large);
    size_t fifo = 0;
    for (page_t *p = a->dirty_oldest; p; p = p->dnext) fifo += p->npages;
    CHECK(fifo == a->ndirty, "arena %u: decay list holds %zu pages, %zu dirty\n", a->index, fifo, a->ndirty);
    mutex_unlock(&a->lock);
    for (unsigned cls = 0; cls < SC_NSMALL; cls++) {
        bin_t *b = &a->bins[cls];
        CHECK(curregs[cls] == b->curregs, "arena %u class %u: curregs %zu, counted %zu\n", a->index, cls, b->curregs, curregs[cls]);
        CHECK(curslabs[cls] == b->curslabs, "arena %u class %u: curslabs %zu, counted %zu\n", a->index, cls, b->curslabs, curslabs[cls]);
        for (slab_t *s = b->nonfull; s; s = s->next)
            CHECK(s->nfree > 0 && s->listed && s != b->cur, "arena %u class %u: bad non-full list\n", a->index, cls);
        mutex_unlock(&b->lock);
    }
    return problems;
}
