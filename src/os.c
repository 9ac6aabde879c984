/*
 * os: mmap, munmap, mremap and madvise, the page size and the CPU count.
 * Every function returns failure to the caller; the callers decide.
 * errno is preserved across calls that succeed, so that free() never
 * changes it.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

size_t os_page = 4096;
unsigned os_page_shift = 12;
unsigned os_ncpus = 1;

void os_init(void)
{
    size_t page = getauxval(AT_PAGESZ);
    if (page == 0) page = 4096;
    os_page = page;
    os_page_shift = (unsigned)__builtin_ctzl(page);
    sc_check(os_page_shift >= SC_MIN_PAGE_SHIFT && os_page_shift <= SC_MAX_PAGE_SHIFT);

    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) os_ncpus = (unsigned)CPU_COUNT(&set);
    if (os_ncpus == 0) os_ncpus = 1;
}

void *os_map_aligned(size_t size, size_t align)
{
    int saved = errno;
    if (size == 0 || size + align < size) { errno = ENOMEM; return NULL; }
    if (size % align == 0) {
        /* The kernel places a new mapping just below the previous one, so
         * when the size is a multiple of the alignment (chunks), asking for
         * the exact size is usually aligned already, and saves the trim. */
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return NULL;
        if (((uintptr_t)p & (align - 1)) == 0) { errno = saved; return p; }
        munmap(p, size);
    }

    size_t span = size + align - os_page;
    if (span < size) { errno = ENOMEM; return NULL; }
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *aligned = (char *)(((uintptr_t)raw + align - 1) & ~(align - 1));
    size_t lead = (size_t)(aligned - raw), trail = span - lead - size;
    if (lead) munmap(raw, lead);
    if (trail) munmap(aligned + size, trail);
    errno = saved;
    return aligned;
}

void os_unmap(void *addr, size_t size)
{
    int saved = errno;
    munmap(addr, size);
    errno = saved;
}

bool os_purge(void *addr, size_t size)
{
    int saved = errno;
    bool ok = madvise(addr, size, MADV_DONTNEED) == 0;
    errno = saved;
    return ok;
}

bool os_grow_in_place(void *addr, size_t old_size, size_t new_size)
{
    int saved = errno;
    void *p = mremap(addr, old_size, new_size, 0);
    errno = saved;
    return p == addr;
}

bool os_shrink_in_place(void *addr, size_t old_size, size_t new_size)
{
    int saved = errno;
    void *p = mremap(addr, old_size, new_size, 0);
    errno = saved;
    return p == addr;
}

bool os_move(void *old_addr, size_t old_size, void *new_addr, size_t new_size)
{
    int saved = errno;
    void *p = mremap(old_addr, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, new_addr);
    errno = saved;
    return p == new_addr;
}

uint64_t os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t os_rss(void)
{
    int saved = errno;
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) { errno = saved; return 0; }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    errno = saved;
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *s = buf;
    while (*s && *s != ' ') s++;
    size_t pages = 0;
    while (*s == ' ') s++;
    while (*s >= '0' && *s <= '9') pages = pages * 10 + (size_t)(*s++ - '0');
    return pages * os_page;
}
