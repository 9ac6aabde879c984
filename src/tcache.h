/*
 * tcache: a thread's private cache of free small regions, one bounded
 * stack per class. The fast paths below take no lock, do no atomic
 * read-modify-write and make no system call.
 *
 * Classes past the small ones hold large blocks up to SC_TCACHE_LARGE_MAX,
 * so that a 64 KiB malloc/free pair takes no lock either.
 *
 * A thread that has not allocated yet points at tcache_empty, whose stacks
 * have count 0 and cap 0: its first malloc misses, its first free finds the
 * stack full, and that one slow path creates the real cache. So the fast
 * path has no "initialised?" test. With the option tcache:false every cap
 * is 0 and all requests go to the arena, through the same code.
 *
 * With prof or secure on, every malloc and free must pass through code the
 * fast paths do not have (sampling; canaries and zeroing). Rather than test
 * an option on every fast path, the thread's cache is then kept out of
 * their sight: tls_tcache stays &tcache_empty, so both fast paths miss,
 * and the slow paths find the real cache through tcache_get(). The options
 * cost nothing when they are off.
 *
 * free's fast path puts a region of another arena on the remote stack of
 * its class, never on the stack this thread allocates from.
 *
 * Invariant per bin: stack <= low_water <= top <= limit; low_water marks the
 * fewest entries seen since the last GC pass (entries below it went unused).
 */
#ifndef SC_TCACHE_H
#define SC_TCACHE_H

#include "arena.h"

/* One stack, as pointers rather than a count: the fast paths then load the
 * top and move it, and the slot they touch does not hang on a loaded count.
 * Measured on micro -S 16: 11.0 ns per malloc/free pair with a count, 6.4
 * with the top pointer (free's class comes from the pointer itself, and
 * with a count the next pop waited for that chain to finish). An all-zero
 * bin (tcache_empty) reads as empty and full at once. */
typedef struct tcache_bin {
    void **top;          /* one past the newest entry: entries [stack, top) */
    void **stack;        /* the oldest entry's slot; stack[-1] is a NULL sentinel */
    void **limit;        /* stack + cap: full when top reaches it */
    void **low_water;    /* the lowest top since the last GC pass */
    /* The fast paths count what they hand out and take back, in the line
     * they already touch; the slow paths fold the counts into the arena's
     * statistics and the thread's bytes (tcache_thread_bytes adds what is
     * not folded yet). Counts rather than bytes: no size to load. */
    uint64_t nrequests;  /* pops since the last merge */
    uint64_t nfrees;     /* pushes since the last merge */
    uint8_t tick;        /* pops left until tcache_tick, modulo 256 */
    /* The slot below a first stack, which starts right after its bin
     * (tcache_own_bin_t): NULL, tcache_bin_push's sentinel. Padding in the
     * remote bins. */
    void *below;
} __attribute__((aligned(64))) tcache_bin_t;

/* A bin of the thread's own regions and its first stack, in two cache
 * lines side by side: a thread that keeps a few regions of a class touches
 * one 128-byte block of its cache for it. */
typedef struct tcache_own_bin {
    tcache_bin_t b;
    void *first[SC_TCACHE_FIRST_ENTRIES];
} tcache_own_bin_t;

static_assert(SC_TCACHE_NBINS <= 64 && SC_NSMALL <= 64, "a bit per bin in tcache_t");
static_assert(sizeof(tcache_bin_t) == 64 && offsetof(tcache_bin_t, below) == 56 &&
              offsetof(tcache_own_bin_t, first) == 64,
              "a first stack starts right above its bin's sentinel");

SC_INLINE uint32_t tcache_bin_count(const tcache_bin_t *b) { return (uint32_t)(b->top - b->stack); }
SC_INLINE uint32_t tcache_bin_cap(const tcache_bin_t *b) { return (uint32_t)(b->limit - b->stack); }

typedef struct tcache {
    /* The scalars and the own bins with their first stacks come first, the
     * remote bins after them: a thread that frees only its own arena's
     * regions, keeps few of each class and uses classes up to 4.5 KiB
     * touches the first page of its cache (tcache.c). */
    uint16_t fill[SC_TCACHE_NBINS];      /* how many to take from the arena on a miss */
    uint64_t allocated;    /* bytes this thread allocated (thread.allocated) */
    uint64_t deallocated;  /* bytes this thread freed */
    arena_t *arena;
    struct tcache *next, *prev; /* all live caches, for statistics and fork */
    unsigned gc_ticks;     /* slow-path events since the last GC pass */
    uint64_t tick_ms;      /* when tcache_tick last did its work */
    uint64_t rng;          /* per-thread random state (prof, secure); 0: not seeded */
    int64_t prof_left;     /* bytes to allocate before the next sample */
    bool prof_busy;        /* taking a sample: allocations inside are not sampled */
    /* Bit c: bins[c], remote[c] set up. The passes over a cache's bins
     * visit these only, so that they do not touch (not even read) the
     * pages of bins the thread never used. */
    uint64_t bins_set_up, remotes_set_up;
    /* Small classes, then large up to 64 KiB. All zero until a slow path
     * sets one up on its first use (tcache.c): empty and full at once, as
     * tcache_empty's, so the fast paths need no test. */
    tcache_own_bin_t bins[SC_TCACHE_NBINS];
    /* Small regions of other arenas that this thread freed. They are never
     * handed out again here, only returned to their arenas in batches:
     * reusing another thread's region would put this thread's data in a
     * cache line that the other thread's neighbouring regions share
     * (passive false sharing; bench/falseshare). */
    tcache_bin_t remote[SC_NSMALL];
} tcache_t;

extern __thread tcache_t *tls_tcache __attribute__((tls_model("initial-exec")));
extern SC_HIDDEN tcache_t tcache_empty;
/* With prof or secure on: the thread's cache, hidden from the fast paths
 * (see above); NULL otherwise. */
extern __thread tcache_t *tls_tcache_hidden __attribute__((tls_model("initial-exec")));

/* The cache the slow paths pop from and push to: the hidden one if any. */
SC_INLINE tcache_t *tcache_current(void)
{
    tcache_t *h = tls_tcache_hidden;
    return h ? h : tls_tcache;
}

/* The fast path's periodic call (every 256 requests of a class): the
 * decay, at most every SC_TCACHE_TICK_MS. Returns p, the region the
 * pop is handing out. */
__attribute__((returns_nonnull)) void *tcache_tick(tcache_t *tc, void *p);

/* Pops a cached region of class cls, or NULL. One comparison answers both
 * "empty?" and "below the low water mark?" on the common path: an empty
 * stack has top == low_water (== stack), so only at the mark does the pop
 * look further. */
SC_INLINE void *tcache_pop(tcache_t *tc, unsigned cls)
{
    tcache_bin_t *b = &tc->bins[cls].b;
    void **top = b->top;
    if (unlikely(top == b->low_water)) {
        if (top == b->stack) return NULL;
        b->low_water = top - 1;
    }
    void *p = *--top;
    b->top = top;
    /* Memcheck must not find the stale slot and call a leaked block reachable. */
    if (config_valgrind) *top = NULL;
    b->nrequests++;
    /* Stacks hold blocks, never NULL: the callers' miss test folds away. */
    if (!p) __builtin_unreachable();
    /* One byte counted down and wrapping: a decrement of memory and a
     * branch; the call is a tail call, so the fast path saves no
     * register for it. */
    if (unlikely(--b->tick == 0)) return tcache_tick(tc, p);
    return p;
}

/* Pushes p onto stack b; false when it is full (or caching is off). */
SC_INLINE bool tcache_bin_push(tcache_bin_t *b, void *p)
{
    void **top = b->top;
    if (unlikely(top == b->limit)) return false;
    /* The cheapest double free check: freeing the block just freed (the
     * sentinel below an empty stack is NULL, never p). */
    if (unlikely(top[-1] == p)) sc_misuse("double free", p);
    *top = p;
    b->top = top + 1;
    b->nfrees++;
    return true;
}

/* The stack of the class of a slab page whose small map entry is m
 * (chunk.h): one shift and one add, the whole way from free's load of the
 * entry to the stack's top (measured: 6.5 -> 6.1 ns per 16 B malloc/free
 * pair against shifting out the class and scaling it). */
SC_INLINE tcache_bin_t *tcache_bin_of_entry(tcache_t *tc, uint32_t m)
{
    static_assert(sizeof(tcache_own_bin_t) << SMALLMAP_BIN_BYTES_SHIFT == 1u << SMALLMAP_SHIFT,
                  "the small map entry holds (class + 1) * sizeof(tcache_own_bin_t)");
    return (tcache_bin_t *)((char *)tc->bins + (m >> SMALLMAP_BIN_BYTES_SHIFT) - sizeof(tcache_own_bin_t));
}

/* Pushes a region of the thread's arena, or a cached large block. */
SC_INLINE bool tcache_push(tcache_t *tc, unsigned cls, void *p) { return tcache_bin_push(&tc->bins[cls].b, p); }
/* Pushes a small region of another arena. */
SC_INLINE bool tcache_push_remote(tcache_t *tc, unsigned cls, void *p) { return tcache_bin_push(&tc->remote[cls], p); }

void tcache_init(void);
/* The calling thread's cache, created if needed (NULL only if it cannot be:
 * then the caller goes to the arena directly). */
tcache_t *tcache_get(void);
/* Slow paths of tcache_pop / tcache_push. tcache_free_slow takes any
 * region of a small or cached class: one of another arena goes to the
 * remote stack of its class. */
void *tcache_alloc_slow(unsigned cls);
void tcache_free_slow(void *p, unsigned cls);
/* Counts bytes for thread.allocated / thread.deallocated outside the fast
 * paths (which count in tcache_pop / tcache_push). */
void tcache_count_bytes(size_t allocated, size_t deallocated);
/* thread.allocated and thread.deallocated of tc's thread. */
void tcache_thread_bytes(const tcache_t *tc, uint64_t *allocated, uint64_t *deallocated);
/* Returns every cached region of the calling thread to its arena. */
void tcache_flush(tcache_t *tc);
/* The arena the calling thread allocates from. */
arena_t *tcache_arena(void);
/* A uniformly random 64-bit number from the calling thread's generator. */
uint64_t tcache_random(tcache_t *tc);
/* True for the caches that belong to one live thread (not the shared
 * stand-ins for threads without a cache). */
bool tcache_is_own(const tcache_t *tc);

/* Merges the calling thread's per-class request counts into its arena's
 * bins (other threads' counts arrive when they fill, flush or exit). */
void tcache_stats_merge(void);

void tcache_prefork(void);
void tcache_postfork_parent(void);
void tcache_postfork_child(void);

#endif
