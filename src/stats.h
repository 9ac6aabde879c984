/*
 * stats: counters gathered on demand from arenas, bins and huge blocks
 * (each read under the lock that guards it), and one writer for text and
 * JSON.
 */
#ifndef SC_STATS_H
#define SC_STATS_H

#include "arena.h"

typedef struct bin_stats {
    size_t size, nregs, slab_size;
    size_t curregs, curslabs;
    uint64_t nmalloc, ndalloc, nrequests, nfills, nflushes, nslabs;
    uint64_t nlocks, ncontended;
} bin_stats_t;

typedef struct arena_stats {
    unsigned index, nthreads;
    size_t nchunks, active, dirty, retained;        /* bytes */
    size_t small_allocated, large_allocated;        /* bytes */
    uint64_t small_nrequests, large_nmalloc, large_ndalloc;
    uint64_t npurge, nmadvise, purged;              /* purged: bytes */
    uint64_t populated;                             /* bytes backed ahead of use */
    uint64_t nlocks, ncontended;                    /* all of the arena's locks */
    bin_stats_t bins[SC_NSMALL];
} arena_stats_t;

typedef struct stats {
    size_t allocated;   /* bytes in live blocks (small regions count their class size;
                           regions cached by threads count as allocated) */
    size_t active;      /* bytes in pages that hold live blocks */
    size_t dirty;       /* free pages still backed by memory */
    size_t retained;    /* free pages inside chunks, given back to the OS */
    size_t metadata;    /* chunk headers and base memory */
    size_t resident;    /* active + dirty + metadata (an upper bound of what we hold) */
    size_t mapped;      /* chunks + huge mappings */
    size_t small_allocated, large_allocated, huge_allocated, nhuge;
    uint64_t huge_nmalloc, huge_ndalloc;
    uint64_t nlocks, ncontended;
    unsigned narenas_used;
} stats_t;

void stats_arena_read(arena_t *a, arena_stats_t *out);
void stats_read(stats_t *out);

#endif
