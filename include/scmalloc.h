/*
 * scmalloc: a scalable concurrent malloc(3).
 *
 * This is the only public header. Linking libscmalloc (or preloading it)
 * replaces the malloc family; the sc_-prefixed functions below are always
 * exported as well, so scmalloc can be called beside another allocator
 * (for example under a sanitizer that keeps its own malloc).
 */
#ifndef SCMALLOC_H
#define SCMALLOC_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCMALLOC_VERSION "0.1.0"

/* The malloc family, under the sc_ prefix. Behaviour is that of the
 * unprefixed function as glibc defines it (see README.md). */
void *sc_malloc(size_t size);
void  sc_free(void *ptr);
void *sc_calloc(size_t nmemb, size_t size);
void *sc_realloc(void *ptr, size_t size);
void *sc_reallocarray(void *ptr, size_t nmemb, size_t size);
int   sc_posix_memalign(void **memptr, size_t alignment, size_t size);
void *sc_aligned_alloc(size_t alignment, size_t size);
void *sc_memalign(size_t alignment, size_t size);
void *sc_valloc(size_t size);
void *sc_pvalloc(size_t size);
size_t sc_malloc_usable_size(void *ptr);
void  sc_free_sized(void *ptr, size_t size);
void  sc_free_aligned_sized(void *ptr, size_t alignment, size_t size);
int   sc_malloc_trim(size_t pad);
void  sc_malloc_stats(void);
/* glibc's malloc_info: XML statistics to fp; options must be 0. */
int   sc_malloc_info(int options, FILE *fp);
int   sc_mallopt(int param, int value);

/* Statistics. write_cb receives pieces of text (NUL-terminated); NULL
 * means stderr. opts: NULL or a string of letters; "J" gives JSON. */
typedef void sc_write_cb_t(void *opaque, const char *text);
void sc_stats_print(sc_write_cb_t *write_cb, void *opaque, const char *opts);

/* Control interface in the style of jemalloc's mallctl. Names:
 *   version (const char *), epoch (uint64_t, write to refresh),
 *   opt.<name> (see README), stats.allocated / active / resident /
 *   mapped / retained / dirty (size_t), thread.allocated /
 *   thread.deallocated (uint64_t), thread.tcache.flush (void),
 *   arena.<i>.purge (void), arenas.narenas (unsigned),
 *   prof.dump (write a const char * file name, or NULL for the default),
 *   stats.arenas.<i>.<...>, stats.bins.<j>.<...> (see README).
 * Returns 0, or ENOENT (unknown name), EINVAL (wrong length or value),
 * EPERM (write to a read-only name). */
int sc_ctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

/* Walks every arena, chunk, slab and free page run and checks the
 * heap's invariants. Returns the number of problems found (0: the heap
 * is consistent); each problem is reported with one line on stderr. */
size_t sc_heap_check(void);

#ifdef __cplusplus
}
#endif

#endif /* SCMALLOC_H */
