/*
 * base: the allocator's own metadata (slab descriptors, huge descriptors,
 * thread caches, arenas, radix-tree leaves). Never mixed with user blocks,
 * so an overflow of a user block cannot reach it.
 */
#ifndef SC_BASE_H
#define SC_BASE_H

#include "mutex.h"

extern mutex_t base_lock;

void base_init(void);
/* Zero-filled memory of size bytes, 64-byte aligned (page-aligned when size
 * is a multiple of the page size); NULL on failure. */
void *base_alloc(size_t size);
/* Returns memory from base_alloc of the same size, for reuse. */
void base_free(void *p, size_t size);
/* Bytes of metadata mapped (for statistics). */
size_t base_mapped(void);

#endif
