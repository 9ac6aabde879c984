/*
 * os: mmap, munmap, mremap, mprotect and madvise, the page size and the CPU
 * count, and the allocator's own file I/O (none of it a cancellation
 * point).
 * Every function returns failure to the caller; the callers decide.
 * errno is preserved across calls that succeed, so that free() never
 * changes it.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

/*
 * Fault injection, for tests (FAULTS=1 builds only): SCMALLOC_FAULTS=
 * "every:N" fails every Nth memory system call, "random:N:SEED" fails each
 * with probability 1/N from a seeded generator. A failed mmap or mremap
 * returns ENOMEM, a failed munmap leaves the mapping in place, a failed
 * madvise leaves the pages backed, a failed mprotect leaves the protection
 * as it was: what the kernel may do.
 */
static uint64_t fault_n, fault_seed, fault_calls;
uint64_t os_faults_injected;

static void os_faults_init(void)
{
    const char *s = secure_getenv("SCMALLOC_FAULTS");
    if (!s) return;
    bool random = strncmp(s, "random:", 7) == 0;
    if (!random && strncmp(s, "every:", 6) != 0) return;
    s += random ? 7 : 6;
    uint64_t n = 0, seed = 0;
    while (*s >= '0' && *s <= '9') n = n * 10 + (uint64_t)(*s++ - '0');
    if (random && *s == ':')
        for (s++; *s >= '0' && *s <= '9'; s++) seed = seed * 10 + (uint64_t)(*s - '0');
    fault_seed = random ? (seed | 1) : 0;
    fault_n = n;
}

/* Whether this system call should fail (always false in normal builds). */
static bool os_fault(void)
{
    if (!config_faults || !fault_n) return false;
    bool fail;
    if (fault_seed) {
        /* xorshift64; races between threads only make it more random */
        uint64_t x = __atomic_load_n(&fault_seed, __ATOMIC_RELAXED);
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        __atomic_store_n(&fault_seed, x, __ATOMIC_RELAXED);
        fail = x % fault_n == 0;
    } else {
        fail = __atomic_add_fetch(&fault_calls, 1, __ATOMIC_RELAXED) % fault_n == 0;
    }
    if (fail) __atomic_add_fetch(&os_faults_injected, 1, __ATOMIC_RELAXED);
    return fail;
}

#ifndef SC_FIXED_PAGE_SHIFT
size_t os_page = 4096;
unsigned os_page_shift = 12;
#endif
unsigned os_ncpus = 1;

/* The CPUs this process may run on (at least 1). On x86-64, the system call
 * itself rather than sched_getaffinity() and CPU_COUNT(): those two sit in
 * far corners of libc's text, and the kernel maps up to 64 KiB of file
 * pages around each first touch, which cost every process 128 KiB of
 * resident memory for one number. */
static unsigned os_cpu_count(void)
{
    unsigned count = 0;
#if defined(__x86_64__)
    unsigned long mask[64]; /* 4096 CPUs */
    long bytes;
    __asm__ volatile("syscall"
                     : "=a"(bytes)
                     : "0"((long)SYS_sched_getaffinity), "D"(0L), "S"(sizeof mask), "d"(mask)
                     : "rcx", "r11", "memory");
    for (long i = 0; bytes > 0 && i < bytes / (long)sizeof(mask[0]); i++)
        count += (unsigned)__builtin_popcountl(mask[i]);
#else
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) count = (unsigned)CPU_COUNT(&set);
#endif
    return count ? count : 1;
}

void os_init(void)
{
    size_t page = getauxval(AT_PAGESZ);
    if (page == 0) page = 4096;
#ifdef SC_FIXED_PAGE_SHIFT
    sc_check(page == os_page);
#else
    os_page = page;
    os_page_shift = (unsigned)__builtin_ctzl(page);
#endif
    sc_check(os_page_shift >= SC_MIN_PAGE_SHIFT && os_page_shift <= SC_MAX_PAGE_SHIFT);

    os_ncpus = os_cpu_count();
    if (config_faults) os_faults_init();
}

void *os_map_aligned(size_t size, size_t align)
{
    int saved = errno;
    if (size == 0 || size + align < size || os_fault()) { errno = ENOMEM; return NULL; }
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
    if (os_fault()) return;
    int saved = errno;
    munmap(addr, size);
    errno = saved;
}

bool os_purge(void *addr, size_t size)
{
    if (os_fault()) return false;
    int saved = errno;
    bool ok = madvise(addr, size, MADV_DONTNEED) == 0;
    errno = saved;
    return ok;
}

#ifndef PIDFD_SELF
#define PIDFD_SELF (-10000) /* Linux 6.15: the calling process, without a pidfd */
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#define OS_PURGE_BATCH 64

static bool batch_refused; /* the kernel has no process_madvise(MADV_DONTNEED, PIDFD_SELF) */

/* Whether the process runs under a seccomp filter (or that cannot be
 * told). A filter may kill the process for a system call it does not
 * list, and plain madvise is the one an allocator can count on; since a
 * program may install a filter at any time (sshd's privilege-separated
 * child does), this is asked before every batch: a few microseconds
 * against the interrupts a batch saves. The file is read in small pieces,
 * with the end of each piece kept in front of the next so that the line
 * is found across a boundary: free() may run on a thread with a small
 * stack (a 4 KiB buffer here made free's deepest path 6 KiB). */
static bool seccomp_filtered(void)
{
    static const char key[] = "\nSeccomp:";
    const size_t key_len = sizeof(key) - 1;
    int saved = errno;
    int fd = os_open("/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
    int verdict = -1; /* -1: not found, 0: no filter, 1: a filter or another mode */
    char buf[256];
    size_t keep = 0;
    while (fd >= 0 && keep < sizeof(buf) - 1) {
        long n = os_read(fd, buf + keep, sizeof(buf) - 1 - keep);
        if (n <= 0) break;
        size_t len = keep + (size_t)n;
        buf[len] = 0;
        const char *s = strstr(buf, key);
        if (s) {
            const char *v = s + key_len;
            while (*v == ' ' || *v == '\t') v++;
            if (*v) {
                verdict = *v != '0';
                break;
            }
            keep = len - (size_t)(s - buf); /* the value comes in the next piece */
        } else {
            keep = len < key_len - 1 ? len : key_len - 1;
        }
        memmove(buf, buf + len - keep, keep);
    }
    if (fd >= 0) os_close(fd);
    errno = saved;
    return verdict != 0;
}

size_t os_purge_many(const os_range_t *r, size_t n)
{
    /* os_range_t is laid out as struct iovec. */
    static_assert(sizeof(os_range_t) == sizeof(struct iovec) &&
                  offsetof(os_range_t, size) == offsetof(struct iovec, iov_len), "os_range_t is an iovec");
    size_t done = 0;
    bool batch = n > 1 && !config_faults && !__atomic_load_n(&batch_refused, __ATOMIC_RELAXED) &&
                 !seccomp_filtered();
    while (batch && n - done > 1) {
        size_t k = n - done < OS_PURGE_BATCH ? n - done : OS_PURGE_BATCH, bytes = 0;
        for (size_t i = 0; i < k; i++) bytes += r[done + i].size;
        int saved = errno;
        long got = syscall(SYS_process_madvise, PIDFD_SELF, (const struct iovec *)(r + done), k, MADV_DONTNEED, 0);
        int err = errno;
        errno = saved;
        if (got < 0) {
            /* Not this kernel (no such call, no MADV_DONTNEED there, no
             * PIDFD_SELF): one madvise per range from now on. */
            if (err == ENOSYS || err == EINVAL || err == EBADF || err == EPERM || err == ESRCH)
                __atomic_store_n(&batch_refused, true, __ATOMIC_RELAXED);
            break;
        }
        if ((size_t)got != bytes) {
            /* Stopped inside the batch: count the ranges it finished and
             * let madvise report on the rest. */
            for (size_t left = (size_t)got; left >= r[done].size; done++) left -= r[done].size;
            break;
        }
        done += k;
    }
    for (; done < n; done++)
        if (!os_purge(r[done].addr, r[done].size)) break;
    return done;
}

bool os_resize_in_place(void *addr, size_t old_size, size_t new_size)
{
    if (os_fault()) return false;
    int saved = errno;
    void *p = mremap(addr, old_size, new_size, 0);
    errno = saved;
    return p == addr;
}

bool os_move(void *old_addr, size_t old_size, void *new_addr, size_t new_size)
{
    if (os_fault()) return false;
    int saved = errno;
    void *p = mremap(old_addr, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, new_addr);
    errno = saved;
    return p == new_addr;
}

void os_want_huge_pages(void *addr, size_t size)
{
    int saved = errno;
    (void)madvise(addr, size, MADV_HUGEPAGE);
    errno = saved;
}

void os_no_huge_pages(void *addr, size_t size)
{
    int saved = errno;
    (void)madvise(addr, size, MADV_NOHUGEPAGE);
    errno = saved;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
static bool populate_refused; /* an older kernel, or a seccomp filter */

bool os_can_populate(void) { return !__atomic_load_n(&populate_refused, __ATOMIC_RELAXED); }

bool os_populate(void *addr, size_t size)
{
    if (!os_can_populate()) return false;
    int saved = errno;
    bool ok = madvise(addr, size, MADV_POPULATE_WRITE) == 0;
    /* ENOMEM or EINTR: the pages not backed now fault in when touched. */
    if (!ok && (errno == EINVAL || errno == EPERM || errno == ENOSYS))
        __atomic_store_n(&populate_refused, true, __ATOMIC_RELAXED);
    errno = saved;
    return ok;
}

bool os_protect_none(void *addr, size_t size)
{
    if (os_fault()) return false;
    int saved = errno;
    bool ok = mprotect(addr, size, PROT_NONE) == 0;
    errno = saved;
    return ok;
}

uint64_t os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int os_open(const char *path, int flags, unsigned mode)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

long os_read(int fd, void *buf, size_t n) { return syscall(SYS_read, fd, buf, n); }

long os_write(int fd, const void *buf, size_t n) { return syscall(SYS_write, fd, buf, n); }

int os_close(int fd) { return (int)syscall(SYS_close, fd); }
