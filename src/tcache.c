/*
 * tcache: creation on a thread's first malloc or free, refill and flush in
 * batches under one bin lock, incremental GC of unused entries, and the
 * flush at thread exit (a pthread key destructor).
 *
 * A bin is set up on its first use (bin_setup), on its first stack, of at
 * most SC_TCACHE_FIRST_ENTRIES slots, in the cache line right after it
 * (tcache_own_bin_t); the first time it needs more room it moves to its
 * full stack (bin_grow), in the slots after the header, past the remote
 * stacks. A thread that keeps a few regions of many classes, as most
 * threads of a program with thousands do, so touches the first page of
 * its page-aligned cache (the bins of classes up to 4.5 KiB) rather than
 * every page its bins' full stacks span: 2000 threads that each hold 16
 * small blocks took 85 MB, 63 MB with first stacks, 56 MB with first
 * fills of 1 as well, and two pages of the cache each; one page since the
 * bins are set up lazily next to their first stacks. The remote bins are
 * set up on their first use, for the same reason.
 *
 * The thread pointer uses the initial-exec TLS model: one 8-byte slot, which
 * glibc's static TLS surplus serves even when the library is dlopen()ed.
 */
#include "tcache.h"
#include "background.h"
#include "huge.h"
#include "base.h"
#include "init.h"
#include "options.h"

#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>

/* Read, never written (every stack is empty and full at once): it stays
 * on the shared zero page, which is why it lies outside .bss. */
SC_SPARSE tcache_t tcache_empty;
/* Threads whose cache was destroyed at exit, but that still allocate (later
 * TLS destructors): no caching, arena 0. */
SC_SPARSE static tcache_t tcache_exiting;
__thread tcache_t *tls_tcache __attribute__((tls_model("initial-exec"))) = &tcache_empty;
__thread tcache_t *tls_tcache_hidden __attribute__((tls_model("initial-exec")));
static bool tcache_hide;

static pthread_key_t tcache_key;
static mutex_t tcache_list_lock;
static tcache_t *tcache_list, *tcache_recycled;
static uint16_t bin_caps[SC_TCACHE_NBINS], remote_caps[SC_NSMALL];
/* Where each bin's full stack begins, in slots from the end of the header
 * (0 when its first stack is the whole stack); where each remote stack
 * begins. */
static uint32_t full_at[SC_TCACHE_NBINS], remote_at[SC_NSMALL];
static size_t tcache_bytes;

static void tcache_thread_exit(void *arg);

void tcache_init(void)
{
    mutex_init(&tcache_list_lock);
    bool on = opt.tcache && !opt.junk;
    for (unsigned c = 0; c < SC_TCACHE_NBINS; c++) {
        size_t cap = SC_TCACHE_BYTES_PER_BIN / sizeclass_size(c);
        if (cap > SC_TCACHE_MAX_ENTRIES) cap = SC_TCACHE_MAX_ENTRIES;
        if (cap < SC_TCACHE_MIN_ENTRIES) cap = SC_TCACHE_MIN_ENTRIES;
        if (c >= SC_NSMALL) {
            cap = SC_TCACHE_LARGE_BYTES / sizeclass_size(c);
            if (cap > SC_TCACHE_LARGE_ENTRIES) cap = SC_TCACHE_LARGE_ENTRIES;
            if (cap < 2) cap = 2;
        }
        if (opt.tcache_max >= 0 && cap > (size_t)opt.tcache_max) cap = (size_t)opt.tcache_max;
        bin_caps[c] = on ? (uint16_t)cap : 0;
        if (c < SC_NSMALL)
            remote_caps[c] = bin_caps[c] < SC_TCACHE_REMOTE_ENTRIES ? bin_caps[c] : SC_TCACHE_REMOTE_ENTRIES;
    }
    /* Each stack has a NULL sentinel slot below it (tcache_bin_push). */
    uint32_t slots = 0;
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        remote_at[c] = slots + 1;
        slots += remote_caps[c] + 1u;
    }
    for (unsigned c = 0; c < SC_TCACHE_NBINS; c++) {
        if (bin_caps[c] <= SC_TCACHE_FIRST_ENTRIES) continue;
        full_at[c] = slots + 1;
        slots += bin_caps[c] + 1u;
    }
    /* Whole pages, so that base_alloc aligns it to a page. */
    tcache_bytes = page_ceil(sizeof(tcache_t) + slots * sizeof(void *));
    /* make SECURE=1 builds do secure mode's work on the fast paths. */
    tcache_hide = opt.prof || (opt.secure && !config_secure);
    pthread_key_create(&tcache_key, tcache_thread_exit);
}

static void **tcache_slots(tcache_t *tc) { return (void **)(tc + 1); }

/* Slots of a bin's first stack. */
static uint32_t first_cap(unsigned cls)
{
    return bin_caps[cls] < SC_TCACHE_FIRST_ENTRIES ? bin_caps[cls] : SC_TCACHE_FIRST_ENTRIES;
}

/* Whether bin cls is on its first stack and has a full one to move to. */
static bool bin_can_grow(tcache_t *tc, unsigned cls)
{
    return full_at[cls] && tc->bins[cls].b.stack != tcache_slots(tc) + full_at[cls];
}

/* A bin's cap where it is now: its first stack's, or its full one's. */
static uint32_t bin_cap_here(tcache_t *tc, unsigned cls)
{
    return bin_can_grow(tc, cls) ? first_cap(cls) : bin_caps[cls];
}

/* Moves bin cls to its full stack, if it has one and is not there yet;
 * the entries keep their order, the limit becomes the full cap. */
static void bin_grow(tcache_t *tc, unsigned cls)
{
    if (!bin_can_grow(tc, cls)) return;
    tcache_bin_t *b = &tc->bins[cls].b;
    void **full = tcache_slots(tc) + full_at[cls];
    uint32_t n = tcache_bin_count(b);
    memcpy(full, b->stack, n * sizeof(void *));
    /* Memcheck must not find stale copies (tcache_pop). */
    if (config_valgrind) memset(b->stack, 0, n * sizeof(void *));
    b->low_water = full + (b->low_water - b->stack);
    b->stack = full;
    b->top = full + n;
    b->limit = full + bin_caps[cls];
}

/* Sets up bin cls on its first use, on its first stack. Its sentinel
 * (b.below) is zero from base_alloc or the recycled cache's memset, and
 * never written. */
static void bin_setup(tcache_t *tc, unsigned cls)
{
    tcache_own_bin_t *ob = &tc->bins[cls];
    sc_assert(ob->b.below == NULL);
    ob->b.stack = ob->b.top = ob->b.low_water = ob->first;
    ob->b.limit = ob->first + first_cap(cls);
    tc->bins_set_up |= 1ull << cls;
}

/* Visits the set bits of mask as c, lowest first. */
#define for_each_bit(c, mask) \
    for (uint64_t m_ = (mask), c; m_ && ((c) = (unsigned)__builtin_ctzll(m_), 1); m_ &= m_ - 1)

/* Sets up remote stack cls on its first use. */
static void remote_init(tcache_t *tc, unsigned cls)
{
    tcache_bin_t *r = &tc->remote[cls];
    void **stack = tcache_slots(tc) + remote_at[cls];
    /* The sentinel: zero from base_alloc and never written (nothing
     * stores below a stack). */
    sc_assert(stack[-1] == NULL);
    r->stack = r->top = r->low_water = stack;
    r->limit = stack + remote_caps[cls];
    tc->remotes_set_up |= 1ull << cls;
}

static tcache_t *tcache_create(void)
{
    tcache_t *tc = NULL;
    mutex_lock(&tcache_list_lock);
    if (tcache_recycled) {
        tc = tcache_recycled;
        tcache_recycled = tc->next;
    }
    mutex_unlock(&tcache_list_lock);
    if (tc) {
        memset(tc, 0, sizeof(*tc));
    } else {
        /* Zero, and only the scalars written here: the bins, the remote
         * bins and all stacks stay untouched until used. */
        tc = base_alloc(tcache_bytes);
        if (!tc) return NULL;
    }
    for (unsigned c = 0; c < SC_TCACHE_NBINS; c++) {
        /* A new thread's first fills are small (a thread that keeps a few
         * regions of a class should not take a batch it never uses); each
         * miss doubles the next (tcache_alloc_slow). */
        uint32_t fill = bin_caps[c] / 8;
        if (fill > SC_TCACHE_FIRST_FILL) fill = SC_TCACHE_FIRST_FILL;
        tc->fill[c] = (uint16_t)(fill ? fill : bin_caps[c] > 0);
    }
    tc->arena = arena_bind();
    mutex_lock(&tcache_list_lock);
    tc->next = tcache_list;
    if (tcache_list) tcache_list->prev = tc;
    tcache_list = tc;
    mutex_unlock(&tcache_list_lock);
    return tc;
}

tcache_t *tcache_get(void)
{
    tcache_t *tc = tls_tcache;
    if (likely(tc != &tcache_empty)) return tc;
    if (tls_tcache_hidden) return tls_tcache_hidden;
    if (!malloc_init()) return NULL;
    tc = tcache_create();
    if (!tc) return NULL;
    if (tcache_hide) tls_tcache_hidden = tc;
    else tls_tcache = tc;
    /* May allocate (keys past the first 32): the cache is already set. */
    pthread_setspecific(tcache_key, tc);
    /* pthread_create allocates too, and finds this cache. */
    background_maybe_start();
    return tc;
}

bool tcache_is_own(const tcache_t *tc)
{
    return tc && tc != &tcache_empty && tc != &tcache_exiting;
}

/* The calling thread's own cache if it has one, without creating it. */
static tcache_t *tcache_self(void)
{
    tcache_t *tc = tls_tcache_hidden ? tls_tcache_hidden : tls_tcache;
    return tcache_is_own(tc) ? tc : NULL;
}

/* splitmix64, seeded from the kernel's random bytes for this process
 * (AT_RANDOM), the cache's address and the clock. */
uint64_t tcache_random(tcache_t *tc)
{
    if (!tc->rng) {
        /* 16 random bytes from the kernel, not necessarily 8-byte aligned. */
        const unsigned char *kernel = (const unsigned char *)getauxval(AT_RANDOM);
        uint64_t seed = 0;
        if (kernel) memcpy(&seed, kernel, sizeof(seed));
        tc->rng = seed ^ ((uint64_t)(uintptr_t)tc << 16) ^ os_now_ms();
    }
    uint64_t z = (tc->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

arena_t *tcache_arena(void)
{
    tcache_t *tc = tcache_get();
    if (tc && tc->arena) return tc->arena;
    return arena_get(0);
}

/* Folds the fast paths' counts of class cls: requests into the arena's
 * statistics, both into the thread's byte counts. */
static void bin_merge_requests(tcache_t *tc, unsigned cls)
{
    tcache_bin_t *b = &tc->bins[cls].b;
    uint64_t n = b->nrequests, f = b->nfrees;
    if (f) {
        tc->deallocated += f * sizeclass_size(cls);
        b->nfrees = 0;
    }
    if (!n) return;
    tc->allocated += n * sizeclass_size(cls);
    b->nrequests = 0;
    if (!tc->arena) return;
    uint64_t *sum = cls < SC_NSMALL ? &tc->arena->bins[cls].nrequests : &tc->arena->large_nrequests;
    __atomic_fetch_add(sum, n, __ATOMIC_RELAXED);
}

SC_COLD void tcache_thread_bytes(const tcache_t *tc, uint64_t *allocated, uint64_t *deallocated)
{
    uint64_t a = tc->allocated, d = tc->deallocated;
    for_each_bit(c, tc->bins_set_up) {
        a += tc->bins[c].b.nrequests * sizeclass_size(c);
        d += tc->bins[c].b.nfrees * sizeclass_size(c);
    }
    for_each_bit(c, tc->remotes_set_up) d += tc->remote[c].nfrees * sizeclass_size(c);
    *allocated = a;
    *deallocated = d;
}

/* Gives back the oldest n entries of bin cls (the bottom of the stack). */
static void bin_flush_bottom(tcache_t *tc, unsigned cls, unsigned n)
{
    tcache_bin_t *b = &tc->bins[cls].b;
    uint32_t count = tcache_bin_count(b);
    if (n > count) n = count;
    if (!n) return;
    if (cls < SC_NSMALL) arena_bin_flush(cls, b->stack, n);
    else arena_large_flush(b->stack, n);
    memmove(b->stack, b->stack + n, (size_t)(count - n) * sizeof(void *));
    b->top -= n;
    /* Memcheck must not find stale copies above the top (tcache_pop). */
    if (config_valgrind) memset(b->top, 0, n * sizeof(void *));
    bin_merge_requests(tc, cls);
}

/* Returns every region of remote stack cls to its arena. */
static void remote_flush(tcache_t *tc, unsigned cls)
{
    tcache_bin_t *r = &tc->remote[cls];
    tc->deallocated += r->nfrees * sizeclass_size(cls);
    r->nfrees = 0;
    uint32_t n = tcache_bin_count(r);
    if (!n) return;
    arena_bin_flush(cls, r->stack, n);
    r->top = r->stack;
    if (config_valgrind) memset(r->stack, 0, n * sizeof(void *));
}

/* Every SC_TCACHE_GC_INTERVAL slow-path events: entries below a bin's low
 * water mark went unused since the last pass; give back 3/4 of them, so a
 * thread that stopped using a class does not hold its memory. */
static void tcache_gc(tcache_t *tc)
{
    if (++tc->gc_ticks < SC_TCACHE_GC_INTERVAL) return;
    tc->gc_ticks = 0;
    for_each_bit(c, tc->bins_set_up) {
        tcache_bin_t *b = &tc->bins[c].b;
        unsigned unused = (unsigned)(b->low_water - b->stack);
        if (unused) {
            bin_flush_bottom(tc, c, unused - unused / 4);
            if (tc->fill[c] > 1) tc->fill[c] /= 2; /* the last fills were too generous */
        }
        b->low_water = b->top;
    }
    /* What other threads' regions wait here is of no use to this one. */
    for_each_bit(c, tc->remotes_set_up) remote_flush(tc, c);
    huge_decay();
}

/* From the fast path, every 256 requests of a class: the decay of the
 * huge cache and of the thread's arena, at most every SC_TCACHE_TICK_MS.
 * Not the GC pass: run every 100 ms it flushed entries that came back at
 * once (bench/realloc peak RSS 83 -> 94 MB, page faults 62k -> 68k).
 * Without the tick, a thread served by its cache alone never
 * reached a slow path, so nothing decayed: bench/large -w 16000 (a light
 * load of small and 64 KiB blocks for 16 s after 113 MB of huge blocks
 * were freed) still had 113 MB resident at the end; jemalloc, which
 * ticks the same way, had 4 MB. */
SC_NOINLINE __attribute__((cold)) void *tcache_tick(tcache_t *tc, void *p)
{
    uint64_t now = os_now_ms();
    if (now - tc->tick_ms < SC_TCACHE_TICK_MS) return p;
    tc->tick_ms = now;
    background_maybe_start(); /* in a forked child: the thread is gone */
    huge_decay();
    if (tc->arena) arena_purge(tc->arena, false);
    return p;
}

/* Secure mode: a fill hands out regions in a random order (Fisher-Yates),
 * so neighbours in memory are not neighbours in time and an overflow
 * cannot count on what lies next to its block. */
static void shuffle(tcache_t *tc, void **v, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(tcache_random(tc) % i);
        void *t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* A fill comes in address order; reversed, the stack hands the regions out
 * in address order (the top is popped first), so that objects allocated
 * one after the other lie one after the other, as the hardware
 * prefetchers expect. Measured: python3 with PYTHONMALLOC=malloc ran 7%
 * faster. */
static void reverse(void **v, uint32_t n)
{
    for (uint32_t i = 0, j = n; i + 1 < j; i++, j--) {
        void *t = v[i];
        v[i] = v[j - 1];
        v[j - 1] = t;
    }
}

/* Takes up to n regions or blocks of class cls from arena a. */
static size_t arena_fill(arena_t *a, unsigned cls, void **out, size_t n)
{
    if (cls < SC_NSMALL) return arena_bin_fill(a, cls, out, n);
    /* Large: one block per miss; there is no batch to gain. */
    return (out[0] = arena_alloc_large(a, sizeclass_size(cls), os_page, false)) != NULL;
}

void *tcache_alloc_slow(unsigned cls)
{
    tcache_t *tc = tcache_get();
    arena_t *a = tc && tc->arena ? tc->arena : arena_get(0);
    if (!a) return NULL;
    void *p;
    if (!tcache_is_own(tc) || bin_caps[cls] == 0) {
        if (!arena_fill(a, cls, &p, 1)) return NULL;
        if (tcache_is_own(tc)) tc->allocated += sizeclass_size(cls);
        if (cls < SC_NSMALL) __atomic_fetch_add(&a->bins[cls].nrequests, 1, __ATOMIC_RELAXED);
        return p;
    }
    tcache_bin_t *b = &tc->bins[cls].b;
    if (!(tc->bins_set_up & (1ull << cls))) bin_setup(tc, cls);
    if ((p = tcache_pop(tc, cls))) return p; /* the fast path looked at tcache_empty */
    uint16_t *fill = &tc->fill[cls];
    if (*fill > first_cap(cls)) bin_grow(tc, cls);
    b->limit = b->stack + bin_cap_here(tc, cls); /* it allocates: the whole stack again */
    uint32_t want = *fill < tcache_bin_cap(b) ? *fill : tcache_bin_cap(b);
    uint32_t got = (uint32_t)arena_fill(a, cls, b->stack, want);
    b->top = b->stack + got;
    if (opt.secure) shuffle(tc, b->stack, got);
    else reverse(b->stack, got);
    /* Each miss asks for more next time, up to half the full stack; GC
     * halves it again for bins whose entries go unused. */
    uint32_t half = bin_caps[cls] / 2;
    if (*fill < half) *fill = (uint16_t)(*fill * 2 < half ? *fill * 2 : half);
    bin_merge_requests(tc, cls);
    tcache_gc(tc);
    p = tcache_pop(tc, cls);
    b->low_water = b->top;
    return p;
}

void tcache_free_slow(void *p, unsigned cls)
{
    tcache_t *tc = tcache_get();
    if (tcache_is_own(tc) && cls < SC_NSMALL && chunk_of(p)->arena != tc->arena && remote_caps[cls]) {
        if (!(tc->remotes_set_up & (1ull << cls))) remote_init(tc, cls);
        if (tcache_push_remote(tc, cls, p)) return; /* set up just now, or no cache before */
        remote_flush(tc, cls);
        tcache_gc(tc);
        tcache_push_remote(tc, cls, p);
        return;
    }
    if (!tcache_is_own(tc) || bin_caps[cls] == 0) {
        if (tcache_is_own(tc)) tc->deallocated += sizeclass_size(cls);
        if (cls < SC_NSMALL) arena_bin_flush(cls, &p, 1);
        else arena_large_flush(&p, 1);
        return;
    }
    tcache_bin_t *b = &tc->bins[cls].b;
    if (!(tc->bins_set_up & (1ull << cls))) bin_setup(tc, cls);
    if (tcache_push(tc, cls, p)) return; /* the fast path looked at tcache_empty, or set up just now */
    if (bin_can_grow(tc, cls)) {
        /* Its first stack is full: the room of the full one, at once. */
        bin_grow(tc, cls);
        tcache_push(tc, cls, p);
        return;
    }
    uint32_t cap = tcache_bin_cap(b);
    if (b->nrequests == 0 && cap > SC_TCACHE_FREE_ONLY_ENTRIES) {
        /* Nothing of this class was allocated since the bin was last filled
         * or flushed: the thread frees what others allocate (a consumer),
         * or a structure it is done with. What it caches would only wait
         * for the next flush, keeping the owners' slabs from being reused:
         * give all of it back and cache fewer, until it allocates again
         * (tcache_alloc_slow restores the limit). */
        bin_flush_bottom(tc, cls, cap);
        cap = cap / 2 > SC_TCACHE_FREE_ONLY_ENTRIES ? cap / 2 : SC_TCACHE_FREE_ONLY_ENTRIES;
        b->limit = b->stack + cap;
    } else {
        bin_flush_bottom(tc, cls, cap - cap / 2);
    }
    if (b->low_water > b->top) b->low_water = b->top;
    tcache_gc(tc);
    tcache_push(tc, cls, p);
}

void tcache_count_bytes(size_t allocated, size_t deallocated)
{
    tcache_t *tc = tcache_get();
    if (!tc || tc == &tcache_exiting) return;
    tc->allocated += allocated;
    tc->deallocated += deallocated;
}

void tcache_flush(tcache_t *tc)
{
    if (!tc || tc == &tcache_empty || tc == &tcache_exiting) return;
    for_each_bit(c, tc->bins_set_up) {
        tcache_bin_t *b = &tc->bins[c].b;
        bin_flush_bottom(tc, c, tcache_bin_count(b));
        bin_merge_requests(tc, c);
        b->low_water = b->stack;
    }
    for_each_bit(c, tc->remotes_set_up) remote_flush(tc, c);
}

SC_COLD void tcache_stats_merge(void)
{
    tcache_t *tc = tcache_self();
    if (!tc) return;
    for_each_bit(c, tc->bins_set_up) bin_merge_requests(tc, c);
}

static void tcache_thread_exit(void *arg)
{
    tcache_t *tc = arg;
    tcache_flush(tc);
    tls_tcache = &tcache_exiting;
    tls_tcache_hidden = NULL;
    arena_unbind(tc->arena);
    arena_left(tc->arena);
    mutex_lock(&tcache_list_lock);
    if (tc->prev) tc->prev->next = tc->next;
    else tcache_list = tc->next;
    if (tc->next) tc->next->prev = tc->prev;
    tc->next = tcache_recycled;
    tcache_recycled = tc;
    mutex_unlock(&tcache_list_lock);
}

void tcache_prefork(void) { mutex_lock(&tcache_list_lock); }
void tcache_postfork_parent(void) { mutex_unlock(&tcache_list_lock); }

void tcache_postfork_child(void)
{
    mutex_reinit(&tcache_list_lock);
    /* Only the forking thread lives on; the other caches' regions are lost
     * to the child (as in every allocator: their owners are gone). */
    tcache_t *self = tcache_self();
    tcache_list = NULL;
    if (self) {
        self->next = self->prev = NULL;
        tcache_list = self;
        if (self->arena) self->arena->nthreads = 1;
    }
}
