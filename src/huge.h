/*
 * huge: blocks above SC_HUGE_MIN (config.h says why and when not), above
 * SC_LARGE_MAX, or with alignments that do not fit a chunk, get a mapping
 * of their own, chunk-aligned and registered in the rtree, so free() finds
 * them in O(1) and tells them from foreign pointers.
 */
#ifndef SC_HUGE_H
#define SC_HUGE_H

#include "mutex.h"
#include "valgrind.h"

typedef struct huge {
    uintptr_t addr;   /* the block, vg_disguise()d (valgrind.h): see huge_addr */
    size_t size;      /* requested size */
    size_t mapped;    /* usable bytes mapped: a page multiple >= size (a guard page follows in secure mode) */
    struct huge *next, *prev;
} huge_t;

static inline void *huge_addr(const huge_t *h) { return vg_reveal(h->addr); }

extern mutex_t huge_lock;

void huge_init(void);
/* zero: the block must read as zero (fresh mappings do). grows: for a
 * block that realloc moves while it grows, which may take a cached mapping
 * of any length (it grows into it). */
void *huge_alloc(size_t size, size_t align, bool zero, bool grows);
/* h from the rtree slot of p; aborts on a pointer that is not a huge block's
 * start. */
void huge_free(huge_t *h, void *p);
/* Resizes in place or by moving pages (mremap), never copying; returns the
 * new address or NULL (the block is unchanged). new_size >
 * SC_HUGE_MIN. */
void *huge_realloc(huge_t *h, void *p, size_t new_size);

/* Unmaps every cached mapping; returns the bytes released. */
size_t huge_purge(void);
/* Bytes of freed mappings kept for reuse (dirty). */
size_t huge_cached(void);
/* Unmaps the cached mappings older than dirty_decay_ms. The thread caches'
 * GC passes call it, so that a program that stops using huge blocks still
 * gets their memory back after the decay time. */
void huge_decay(void);

typedef struct huge_stats { size_t count, allocated, mapped; uint64_t nmalloc, ndalloc; } huge_stats_t;
/* Live huge blocks, read without the lock (a hint: it may be a moment old). */
size_t huge_blocks(void);
void huge_stats_get(huge_stats_t *out);
size_t huge_check(void);

void huge_prefork(void);
void huge_postfork_parent(void);
void huge_postfork_child(void);

#endif
