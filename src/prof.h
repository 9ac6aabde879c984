/*
 * prof: heap profiling by sampling (option prof).
 *
 * Each thread counts down the bytes it allocates; when the count crosses
 * zero the allocation is sampled (its backtrace and size are recorded) and
 * a new count is drawn from an exponential distribution of mean
 * prof_sample. So an allocation of s bytes is sampled with probability
 * 1 - exp(-s / prof_sample) whatever came before it, which is what pprof's
 * "heap_v2" reader assumes when it scales the samples back up.
 *
 * A dump lists, per backtrace, the sampled objects still live and all that
 * were ever sampled, in gperftools' heap-profile text format, followed by
 * /proc/self/maps, so google-pprof symbolises it.
 *
 * The allocator calls in only when opt.prof is on (alloc.c; the fast paths
 * never see it, see tcache.h).
 */
#ifndef SC_PROF_H
#define SC_PROF_H

#include "tcache.h"

void prof_init(void);
/* From the library constructor: loads libgcc's unwinder if prof is on and
 * the program does not have it. */
void prof_start(void);
/* p (size bytes, asked for by the code that called the allocator at
 * caller) was just allocated. */
void prof_alloc(void *p, size_t size, const void *caller);
/* p is about to be freed (or moved by realloc). */
void prof_free(void *p);
/* Writes a profile to path, or to <prof_prefix>.<pid>.<seq>.heap when path
 * is NULL. Returns 0, ENOENT when profiling is off, or an errno value of
 * the failed open or write. */
int prof_dump(const char *path);
/* At exit: the final dump, if prof_final. */
void prof_fini(void);

void prof_prefork(void);
void prof_postfork_parent(void);
void prof_postfork_child(void);

#endif
