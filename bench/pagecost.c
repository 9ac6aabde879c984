/*
 * pagecost: what a page of memory costs on this machine, so that results
 * from different machines can be read side by side. Allocators differ
 * most in how many pages they fault in, give back and move, and the price
 * of each varies between machines: in the PVM guest (shadow page tables)
 * where the runs of 2026-11-30 were made, a page fault took 11 us, and
 * bench/large under scmalloc 1.7-2.0 s against 0.12 s on the machine of
 * the run before.
 *
 *   pagecost [-m MiB]     (default 64)
 *
 * Prints one line, microseconds per 4 KiB page:
 *   fault_us    first write to a fresh anonymous page (a page fault);
 *   touch_us    a write to a resident page (no fault, TLB miss at most);
 *   copy_us     memcpy of a resident page;
 *   moved_us    first write after mremap moved resident pages to another
 *               address (on top of the mremap call itself);
 *   madvise_us  MADV_DONTNEED of a resident page (the call, per page).
 * It calls no malloc: the allocator under test does not matter.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t size, pages;

static void touch(char *p)
{
    for (size_t i = 0; i < size; i += 4096) p[i]++;
}

static double per_page(double t0) { return (now() - t0) * 1e6 / (double)pages; }

/* An anonymous mapping of n bytes aligned to align (a power of two). */
static char *map_aligned(size_t n, size_t align)
{
    char *r = mmap(NULL, n + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) { perror("pagecost: mmap"); exit(1); }
    return (char *)(((uintptr_t)r + align - 1) & ~(uintptr_t)(align - 1));
}

int main(int argc, char **argv)
{
    long mib = 64;
    int c;
    while ((c = getopt(argc, argv, "m:")) != -1) {
        if (c == 'm') mib = atol(optarg);
        else { fprintf(stderr, "usage: pagecost [-m MiB]\n"); return 64; }
    }
    if (mib < 2) mib = 2;
    size = (size_t)mib << 20;
    pages = size / 4096;
    const size_t pmd = (size_t)2 << 20;

    char *a = map_aligned(size, pmd);
    double t = now();
    touch(a);
    double fault = per_page(t);
    t = now();
    touch(a);
    double warm = per_page(t);

    char *b = map_aligned(size, pmd);
    touch(b);
    t = now();
    memcpy(b, a, size);
    double copy = per_page(t);

    /* One page past a 2 MiB boundary: the kernel moves each page's entry,
     * whatever it would do with an aligned range. */
    char *dst = map_aligned(size + 4096, pmd) + 4096;
    if (mremap(a, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dst) != dst) { perror("pagecost: mremap"); return 1; }
    t = now();
    touch(dst);
    double moved = per_page(t);

    t = now();
    madvise(b, size, MADV_DONTNEED);
    double dontneed = per_page(t);

    printf("fault_us=%.2f touch_us=%.3f copy_us=%.3f moved_us=%.2f madvise_us=%.3f\n",
           fault, warm, copy, moved, dontneed);
    return 0;
}
