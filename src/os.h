/*
 * The os layer: the only place that asks the kernel for memory. Failures
 * come back as NULL / false with errno set by the kernel; nothing aborts.
 */
#ifndef SC_OS_H
#define SC_OS_H

#include "debug.h"

/* The OS page size. x86-64 pages are always 4 KiB, so there it is a
 * constant: free()'s fast path then shifts by an immediate instead of
 * loading the size and shifting by a register (a measured 1 ns of 11 per
 * malloc/free pair). Elsewhere (arm64 has 4, 16 and 64 KiB kernels) it is
 * read once at start-up (os_init) and constant afterwards. */
#if defined(__x86_64__)
#define SC_FIXED_PAGE_SHIFT 12
#endif
#ifdef SC_FIXED_PAGE_SHIFT
#define os_page ((size_t)1 << SC_FIXED_PAGE_SHIFT)
#define os_page_shift ((unsigned)SC_FIXED_PAGE_SHIFT)
#else
extern SC_HIDDEN size_t os_page;
extern SC_HIDDEN unsigned os_page_shift;
#endif
extern SC_HIDDEN unsigned os_ncpus;

void os_init(void);
/* FAULTS=1 builds: how many system calls were made to fail. */
extern uint64_t os_faults_injected;
/* Reserve size bytes (a page multiple) aligned to align (a power of two,
 * >= page), readable and writable, zero-filled. NULL on failure. */
void *os_map_aligned(size_t size, size_t align);
void os_unmap(void *addr, size_t size);
/* Give pages back; they read as zero afterwards (MADV_DONTNEED). */
bool os_purge(void *addr, size_t size);
/* os_purge of n ranges; returns how many of them, from the first, were
 * purged (n unless the kernel refused one). One system call where the
 * kernel takes a batch (process_madvise on the process itself, Linux
 * 6.15 and later), so that the other CPUs' TLBs are flushed once rather
 * than once per range. */
typedef struct os_range { void *addr; size_t size; } os_range_t;
size_t os_purge_many(const os_range_t *r, size_t n);
/* Grow or shrink a mapping in place; false if growing would need pages
 * that are taken. */
bool os_resize_in_place(void *addr, size_t old_size, size_t new_size);
/* Move the pages of [old, old+old_size) to new_addr (an existing mapping
 * of new_size bytes, replaced), without copying. */
bool os_move(void *old_addr, size_t old_size, void *new_addr, size_t new_size);
/* Makes [addr, addr+size) (page-aligned, inside one of our mappings)
 * inaccessible: a guard page, so that a stray access faults. False if the
 * kernel refused (the pages keep their protection). */
bool os_protect_none(void *addr, size_t size);
/* Asks for transparent huge pages on [addr, addr+size) (MADV_HUGEPAGE); a
 * wish, so a refusal changes nothing. */
void os_want_huge_pages(void *addr, size_t size);
/* Keeps [addr, addr+size) (page-aligned) off transparent huge pages
 * (MADV_NOHUGEPAGE), even where the system's setting is "always", and out
 * of khugepaged's reach; a refusal changes nothing. */
void os_no_huge_pages(void *addr, size_t size);
/* Backs [addr, addr + size) with zeroed memory now, as if each page had
 * been written (MADV_POPULATE_WRITE, Linux 5.14): one system call instead
 * of a page fault per page. Pages already backed keep their contents.
 * False if it did not (no memory, or a kernel or seccomp filter that
 * refuses it: then os_can_populate turns false for good). */
bool os_populate(void *addr, size_t size);
bool os_can_populate(void);
/* Monotonic time in milliseconds (coarse clock, vDSO, cheap). */
uint64_t os_now_ms(void);

/* The files the allocator reads and writes itself (/proc/self/status,
 * messages on stderr, heap profiles), through raw system calls: glibc's
 * open, read, write and close are cancellation points, and a thread with a
 * cancellation pending would be unwound out of malloc or free with a lock
 * held, hanging the next thread on that arena (test/stress/cancel). The
 * results and errno are the kernel's. */
int os_open(const char *path, int flags, unsigned mode);
long os_read(int fd, void *buf, size_t n);
long os_write(int fd, const void *buf, size_t n);
int os_close(int fd);

SC_INLINE size_t page_ceil(size_t n) { return (n + os_page - 1) & ~(os_page - 1); }

#endif
