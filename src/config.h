/*
 * Compile-time limits and defaults. Everything that depends on the page
 * size is computed at start-up (os_page_size()); the limits here only size
 * static tables, and are checked with static_assert below.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Debug level: 0 none, 1 cheap asserts, 2 + expensive asserts, 3 + heap
 * walks on slow paths. Set with make DEBUG=n. */
#ifndef SC_DEBUG
#define SC_DEBUG 0
#endif
static const int config_debug = SC_DEBUG;
/* Valgrind annotations (make VALGRIND=1): blocks are reported to memcheck
 * as malloc-like, so it sees use-after-free, overflows and leaks in
 * programs running on scmalloc. */
#ifndef SC_VALGRIND
#define SC_VALGRIND 0
#endif
static const bool config_valgrind = SC_VALGRIND;
/* Fault injection (make FAULTS=1): the os layer fails chosen mmap, munmap,
 * mremap and madvise calls, as SCMALLOC_FAULTS says (see os.c). */
#ifndef SC_FAULTS
#define SC_FAULTS 0
#endif
static const bool config_faults = SC_FAULTS;
/* Hardened build (make SECURE=1): the option secure defaults to true. */
#ifndef SC_SECURE
#define SC_SECURE 0
#endif
static const bool config_secure = SC_SECURE;
/* Statistics counters on the slow paths and per-thread byte counters. */
static const bool config_stats = true;

/* Chunks: 4 MiB, aligned to their size. */
#define SC_CHUNK_SHIFT 22
#define SC_CHUNK_SIZE ((size_t)1 << SC_CHUNK_SHIFT)
#define SC_CHUNK_MASK (SC_CHUNK_SIZE - 1)

/* Page sizes we can run with (4 KiB .. 64 KiB). */
#define SC_MIN_PAGE_SHIFT 12
#define SC_MAX_PAGE_SHIFT 16
#define SC_MAX_CHUNK_PAGES (SC_CHUNK_SIZE >> SC_MIN_PAGE_SHIFT)

/* User virtual addresses are below 2^48 on x86-64 and arm64 (4-level). */
#define SC_VA_BITS 48

/* Size classes: small up to 16 KiB (slabs), large up to 2 MiB (page runs
 * inside a chunk), huge above (own mappings). */
#define SC_SMALL_MAX ((size_t)16384)
#define SC_LARGE_MAX ((size_t)2 << 20)
#define SC_NSMALL 45     /* classes 8 .. 16384 */
/* A block of more than this (malloc'ed, or moved by realloc while it grows)
 * gets a mapping of its own, a huge block, rather than a page run in an
 * arena (as tcmalloc's page heap and glibc's mmap threshold do from 256
 * and 128 KiB). Freed, its mapping goes back to the huge cache with its
 * pages, and is reused by the next such block that fits (or its pages are
 * moved into a bigger one by mremap); in an arena, the pages of a freed
 * 1 MiB run were cut up by slabs and smaller blocks, so the next long run
 * faulted in fresh pages while the arena kept the old ones dirty up to its
 * bound. A huge block also grows in place by mremap, without a copy.
 * Measured (medians of 7, against the arena runs up to 2 MiB, glibc in
 * brackets):
 *   - bench/mixed (4 threads, 8 B..64 KiB + 1% 256 KiB..1 MiB): peak RSS
 *     178.0 -> 159.2 MB (163.5), page faults 78.2k -> 46.9k (79.9k), time
 *     the same. From 512 KiB instead: 174.7 MB, 46.6k; arena runs of more
 *     than 64 pages kept in chunks of their own: 171-174 MB, 69.2k.
 *   - bench/large: 153.5 -> 146.9 MB, 44.4k -> 36.4k faults.
 *   - bench/realloc (4 buffers grown to 4 MiB by 16 bytes, then to 16 MiB
 *     by doubling), when realloc alone moved growing blocks there: peak
 *     RSS 88.2 -> 83.2 MB, page faults 78.1k -> 62.3k; past 1 MiB
 *     instead: 92.2 MB, 72.8k. Unchanged when malloc followed.
 *   - The cost: the huge cache has one lock. Two threads that malloc and
 *     free 300 KiB in a loop (bench/micro -t 2 -S 300000 -n 200k, one
 *     byte written) took 0.12 s against 0.05 s (tcmalloc 0.21); one
 *     thread, 1 MiB: 0.02 s against 0.07.
 * Past SC_HUGE_MAX_OWN live huge blocks, blocks up to SC_LARGE_MAX go to
 * the arenas again: each mapping is a kernel VMA, and a process may have
 * only vm.max_map_count (65530) of them. Aligned requests (memalign and
 * the like) up to SC_LARGE_MAX stay in the arenas, as before. */
#define SC_HUGE_MIN ((size_t)256 << 10)
#define SC_HUGE_MAX_OWN 4096
#define SC_NCLASSES 73   /* classes 8 .. 2 MiB */
/* Sizes up to this are mapped to a class by one table load. */
#define SC_LOOKUP_MAX ((size_t)4096)

#define SC_MAX_ARENAS 256
#define SC_ARENAS_PER_CPU 4

/* Thread cache: small classes, and large classes up to SC_TCACHE_LARGE_MAX
 * (large blocks of those sizes are rounded up to their class so that
 * cached blocks are interchangeable). */
#define SC_TCACHE_LARGE_MAX ((size_t)64 << 10)
#define SC_TCACHE_NBINS 53   /* classes 8 .. 64 KiB */
#define SC_TCACHE_LARGE_ENTRIES 8
#define SC_TCACHE_LARGE_BYTES ((size_t)256 << 10)
/* Thread cache: entries per small class, scaled down for big classes so
 * that a bin holds at most SC_TCACHE_BYTES_PER_BIN. 16 KiB rather than 64:
 * measured peak RSS prodcons 7.9 -> 7.2 MiB, threads 3.7 -> 3.4 MiB, with
 * no change in time on prodcons, larson, churn, mixed or python. 8 KiB
 * rather than 16 (with the 1 MiB dirty floor): prodcons 6.1 -> 5.8 MiB,
 * threads 3.46 -> 3.2-3.4, larson 32.8 -> 31.8, the times the same within
 * noise (prodcons 0.68 -> 0.70 s); 4 KiB made prodcons 15% slower. */
#define SC_TCACHE_MAX_ENTRIES 200
#define SC_TCACHE_MIN_ENTRIES 8
#ifndef SC_TCACHE_BYTES_PER_BIN
#define SC_TCACHE_BYTES_PER_BIN ((size_t)8 << 10)
#endif
/* Slots of a bin's first stack (tcache.c): a new thread's stacks are
 * packed together until a class needs more room. */
#define SC_TCACHE_FIRST_ENTRIES 8
/* The most a bin's first fill takes (each miss doubles it), as tcmalloc's
 * slow start: 2000 threads that each hold 16 small blocks, 63 MB with 4,
 * 56 MB with 1; larson, threads, mixed, churn and prodcons the same
 * within noise (interleaved medians of 7-11). */
#ifndef SC_TCACHE_FIRST_FILL
#define SC_TCACHE_FIRST_FILL 1
#endif
/* Entries of a remote stack (regions of other arenas, see tcache.h): a
 * batch returned under one lock. */
#define SC_TCACHE_REMOTE_ENTRIES 64
/* The least a bin caches while its thread only frees that class. */
#ifndef SC_TCACHE_FREE_ONLY_ENTRIES
#define SC_TCACHE_FREE_ONLY_ENTRIES 32
#endif
/* Slow-path events between two incremental GC passes of a thread cache. */
#define SC_TCACHE_GC_INTERVAL 64
/* Every 256 requests of one class that the thread cache served, its fast
 * path calls tcache_tick, which runs the decay at most every
 * SC_TCACHE_TICK_MS: a thread that allocates only from its cache (no
 * slow path at all) still returns memory (see tcache_tick). */
#define SC_TCACHE_TICK_MS 100

/* Dirty pages an arena keeps beyond the decay: at most half of its active
 * pages plus this floor; the oldest are purged first. Half rather than a
 * quarter: with a quarter, a heap of mixed sizes under churn (bench
 * mixed) purged pages it needed again at once, with twice the page faults
 * of the other allocators and a third of its time in the kernel; peak RSS
 * grows by about 5% there and not at all on the real programs. A 1 MiB
 * floor rather than 4: since purges go in batches (arena.c), the faults a
 * small floor costs no longer show in the time (bench/prodcons: 1.6k ->
 * 95k page faults, 0.71 -> 0.70 s, peak 7.2 -> 6.2 MiB; larson, mixed,
 * threads, churn and python the same within noise). */
#ifndef SC_DIRTY_FLOOR_BYTES
#define SC_DIRTY_FLOOR_BYTES ((size_t)1 << 20)
#endif
#ifndef SC_DIRTY_RATIO_SHIFT
#define SC_DIRTY_RATIO_SHIFT 1
#endif
/* Runs dirty for less than this stay, whatever the bound above says: a heap
 * whose live size swings a little past the bound (bench/prodcons: about
 * 290 dirty pages against a bound of 270) purged and faulted in the same
 * pages every few milliseconds, 87 MB per arena in 1.5 s. Measured on a
 * machine where a page fault costs 11 us: prodcons page faults 37.6k ->
 * 2.0k, 1.49 -> 1.28 s, peak RSS 5.5 -> 4.7 MB. 10 ms rather than 30 or
 * 100: sqlite, which frees tens of MB at once and then allocates other
 * sizes, kept its peak (130.4 MB) with 10 and 30, and went to 155 MB with
 * 100; prodcons's peak was 7.2 MB with 30. larson, mixed, threads, churn,
 * frag and python the same within noise. */
#ifndef SC_DIRTY_MIN_AGE_MS
#define SC_DIRTY_MIN_AGE_MS 10
#endif
/* A growing heap backs its new slabs, and the pages after them, in one
 * system call rather than a page fault per page (arena.c,
 * slab_populate_ahead): once an arena has carved this many pages for slabs
 * since its last purge, each slab carved from clean pages brings 1/16 of
 * that count, up to SC_POPULATE_AHEAD_PAGES, ahead. Measured on a machine
 * where a page fault costs 12.5 us and MADV_POPULATE_WRITE 0.8 us a page
 * (plus 5.8 us at the first touch: a VM with shadow page tables), medians
 * of 5: bench/frag 1.34 -> 0.92 s, sqlite 1.92 -> 1.68 s, mixed 0.61 ->
 * 0.58 s, peak RSS the same within 0.3%; larson's peak +2% (each of its
 * arenas may hold a run backed ahead), churn's +0.5%; prodcons the same
 * within noise; threads and micro never back ahead. 256 pages rather than
 * 64 ahead: no faster on frag or sqlite. The same for large blocks: no
 * faster (bench/large, mixed), and a large block is not always written
 * whole. */
#ifndef SC_POPULATE_AFTER_PAGES
#define SC_POPULATE_AFTER_PAGES 256
#endif
#ifndef SC_POPULATE_AHEAD_PAGES
#define SC_POPULATE_AHEAD_PAGES 64
#endif
static_assert(SC_LARGE_MAX * 2 <= SC_CHUNK_SIZE, "a large run must fit in a chunk beside its header");
static_assert(SC_SMALL_MAX < SC_LARGE_MAX, "small below large");
static_assert(SC_NSMALL <= 255, "class + 1 must fit the page map byte");
static_assert(SC_TCACHE_NBINS > SC_NSMALL && SC_TCACHE_NBINS <= SC_NCLASSES, "cached large classes");
static_assert((SC_MAX_CHUNK_PAGES & 63) == 0, "page bitmaps are whole words");

#endif
