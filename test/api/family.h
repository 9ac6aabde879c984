/*
 * family.h: the malloc family as a table, so one api test runs the same
 * checks against the standard names, the sc_ names and the glibc-internal
 * __libc_ names (the ones glibc and programs call under LD_PRELOAD).
 */
#ifndef SC_TEST_FAMILY_H
#define SC_TEST_FAMILY_H

#include "../harness.h"
#include <malloc.h>
#include <scmalloc.h>

/* glibc 2.36 declares neither of these, nor the __libc_ names; scmalloc
 * exports them all. */
extern void free_sized(void *ptr, size_t size);
extern void free_aligned_sized(void *ptr, size_t alignment, size_t size);
extern void cfree(void *ptr);
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);
extern int __posix_memalign(void **memptr, size_t alignment, size_t size);

typedef struct family {
    const char *name;
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t); /* NULL: none */
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);        /* NULL: none */
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*usable_size)(void *);
} family_t;

/* reallocarray and aligned_alloc have no __libc_ twin: the table uses the
 * plain ones there, which is still a mix of entry points on one block. */
static const family_t families[] = {
    { "libc names", malloc, free, calloc, realloc, reallocarray,
      posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
      malloc_usable_size },
    { "sc_ names", sc_malloc, sc_free, sc_calloc, sc_realloc,
      sc_reallocarray, sc_posix_memalign, sc_aligned_alloc, sc_memalign,
      sc_valloc, sc_pvalloc, sc_malloc_usable_size },
    { "__libc_ names", __libc_malloc, __libc_free, __libc_calloc,
      __libc_realloc, reallocarray, __posix_memalign, aligned_alloc,
      __libc_memalign, __libc_valloc, __libc_pvalloc, malloc_usable_size },
};
#define NFAMILIES (sizeof families / sizeof families[0])

/* Every size-class boundary up to max: 8, 16, then 16-byte steps to 128,
 * then four classes per doubling (160, 192, 224, 256, 320, ...). Returns
 * how many were written to out. */
static inline size_t size_class_list(size_t *out, size_t cap, size_t max)
{
    size_t n = 0;
    if (n < cap && 8 <= max)
        out[n++] = 8;
    for (size_t s = 16; s <= 128 && s <= max && n < cap; s += 16)
        out[n++] = s;
    for (size_t base = 128; base < max; base *= 2)
        for (size_t k = 1; k <= 4 && n < cap; k++) {
            size_t s = base + k * (base / 4);
            if (s > max)
                return n;
            out[n++] = s;
        }
    return n;
}

#endif /* SC_TEST_FAMILY_H */
