/*
 * arena: an independent allocator with its own locks, chunks and bins.
 * Threads are spread over arenas so that they rarely contend (Evans 2006).
 */
#ifndef SC_ARENA_H
#define SC_ARENA_H

#include "chunk.h"
#include "mutex.h"
#include "slab.h"

/* Per small class. Invariant: curregs == sum over the bin's slabs of
 * (nregs - nfree); regions cached in thread caches count as allocated. */
typedef struct bin {
    mutex_t lock;
    slab_t *cur;        /* slab regions are taken from first (not on the list) */
    slab_t *nonfull;    /* other slabs with free regions */
    size_t curregs;     /* regions handed out */
    size_t curslabs;
    uint64_t nmalloc;   /* regions handed to threads (fills and direct allocations) */
    uint64_t ndalloc;   /* regions given back */
    uint64_t nrequests; /* malloc calls served, merged from thread caches */
    uint64_t nfills, nflushes, nslabs;
} __attribute__((aligned(64))) bin_t;

/* Free runs are listed by length class: each length below RUN_EXACT pages
 * has its own list, longer runs four lists per doubling (a run sits in the
 * list of the largest class length not above its own; run_list_index
 * below). A search compares the first few runs of a list (arena.c), which
 * measured the same page faults as an exact best fit on bench/mixed (85.2k
 * against 85.3k; taking a list's first run: 87.7k). 56 lists rather than
 * one per length (1025) make an arena 8.3 KiB instead of 24: bench/micro's
 * resident anonymous memory went from 188 to 176 KiB with one thread and
 * from 296 to 276 with two. */
#define RUN_EXACT 32
#define RUN_LISTS (RUN_EXACT + 4 * (SC_CHUNK_SHIFT - SC_MIN_PAGE_SHIFT - 5 + 1))
static_assert(RUN_LISTS <= 64, "one bitmap word per state");
static_assert(RUN_EXACT == 32, "run_list_index: the first class group is lg 5");

typedef struct arena {
    unsigned index;
    unsigned nthreads;          /* threads bound (atomic) */
    mutex_t lock;               /* chunks, page runs, large blocks, purging */
    chunk_t *chunks;
    size_t nchunks;
    /* Free runs by length class, one set per state (0 clean, 1 dirty),
     * with a bitmap of the non-empty lists for the search. */
    page_t *runs[2][RUN_LISTS];
    uint64_t runmap[2];
    page_t *dirty_oldest, *dirty_newest; /* decay FIFO */
    size_t ndirty;              /* dirty free pages */
    size_t nclean;              /* clean free pages inside chunks (retained) */
    size_t nactive;             /* pages in slabs and large blocks */
    unsigned purge_ticks;
    size_t carved;              /* pages of slabs carved from clean runs since the last purge */
    size_t large_max;           /* pages of the longest large block freed since large_max_ms */
    uint64_t large_max_ms;      /* (see arena_maybe_decay) */
    /* statistics */
    uint64_t large_nmalloc, large_ndalloc, large_nrequests;
    size_t large_allocated;     /* bytes in large blocks (page multiples) */
    uint64_t npurge, nmadvise, purged;
    uint64_t populated;         /* pages backed ahead of use (slab_alloc; atomic, added without the lock) */
    bin_t bins[SC_NSMALL];
} arena_t;

/* The list of runs of n pages: n itself below RUN_EXACT, then four classes
 * per doubling, [4, 5, 6, 7] << (lg - 2) for n in [2^lg, 2^(lg+1)). */
SC_INLINE size_t run_list_index(size_t n)
{
    if (n < RUN_EXACT) return n;
    unsigned lg = 63u - (unsigned)__builtin_clzll(n);
    return RUN_EXACT + 4 * (lg - 5) + ((n >> (lg - 2)) & 3);
}

/* The shortest length that list i holds. */
SC_INLINE size_t run_list_min(size_t i)
{
    if (i < RUN_EXACT) return i;
    size_t g = (i - RUN_EXACT) / 4, step = (i - RUN_EXACT) % 4;
    return (4 + step) << (g + 3);
}

extern arena_t *arenas[SC_MAX_ARENAS];
extern unsigned narenas;         /* configured count */
extern mutex_t arenas_lock;

void arenas_init(void);
/* The arena for a new thread (round-robin or least loaded, per option);
 * increments its thread count. NULL if it cannot be created. */
arena_t *arena_bind(void);
void arena_unbind(arena_t *a);
/* After arena_unbind at a thread's exit: if no thread is bound to a any
 * more, purges its dirty pages down to the bound at once (arena.c). */
void arena_left(arena_t *a);
/* Arena i, created on first use; NULL on failure. */
arena_t *arena_get(unsigned i);

/* Small regions, batched: fill takes up to n regions of class cls; flush
 * gives back n regions of class cls (from any arenas). */
size_t arena_bin_fill(arena_t *a, unsigned cls, void **out, size_t n);
void arena_bin_flush(unsigned cls, void **ptrs, size_t n);

/* Large blocks (page runs): size <= SC_LARGE_MAX, align a power of two
 * with page_ceil(size) + align - page <= SC_LARGE_MAX. */
void *arena_alloc_large(arena_t *a, size_t size, size_t align, bool zero);
void arena_dalloc_large(chunk_t *c, page_t *pg, void *p);
/* The same for a block that realloc moved on to a bigger one: its length
 * says nothing of the blocks to come (see arena_maybe_decay). */
void arena_dalloc_large_grown(chunk_t *c, page_t *pg, void *p);
/* Frees n large blocks (from a thread cache), one arena lock per run of
 * blocks of the same arena. */
void arena_large_flush(void **ptrs, size_t n);
/* Resizes a large block in place; false if it cannot. */
bool arena_resize_large(chunk_t *c, page_t *pg, size_t new_size);

/* Purges dirty pages older than the decay time (all of them if all). */
void arena_purge(arena_t *a, bool all);
/* arena_purge(a, false) for every arena (the background thread). */
void arenas_decay(void);
size_t arena_purge_all(void);

/* Checks the arena's invariants; returns the number of problems. */
size_t arena_check(arena_t *a);

void arenas_prefork(void);
void arenas_postfork_parent(void);
void arenas_postfork_child(void);

#endif
