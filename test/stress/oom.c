/*
 * oom.c: running out of address space. RLIMIT_AS is set to the current
 * virtual size + 256 MiB; then 1 MiB blocks, 64 MiB blocks and small
 * blocks are taken until malloc returns NULL, which must come with errno
 * ENOMEM and without a crash or an assertion. calloc, realloc, memalign
 * and posix_memalign fail cleanly too (realloc leaves its block intact).
 * Once everything is freed, allocation works again at every size; under
 * the limit malloc(1 GiB) fails with ENOMEM and small mallocs still work.
 *
 * SCTEST: variants=release,debug,ubsan,secure timeout=120
 */
#include "../harness.h"
#include <malloc.h>
#include <sys/resource.h>

enum { MAXB = 1 << 20, SMALL_CAP = 400000 };
static char *blocks[MAXB];
static size_t nblocks;

/* Takes blocks of `size` until NULL (or `cap` of them); returns how many. */
static size_t exhaust(size_t size, size_t cap, const char *what)
{
    size_t got = 0;
    for (;;) {
        if (nblocks >= MAXB || got >= cap)
            return got;
        errno = 0;
        char *p = malloc(size);
        if (!p) {
            CHECKF(errno == ENOMEM, "%s: malloc(%zu) returned NULL with errno %d, want ENOMEM",
                   what, size, errno);
            return got;
        }
        /* touch the first and the last byte: the memory must be usable */
        p[0] = 1;
        p[size - 1] = 2;
        blocks[nblocks++] = p;
        got++;
    }
}

static void free_all(void)
{
    for (size_t i = 0; i < nblocks; i++) {
        free(blocks[i]);
        blocks[i] = NULL;
    }
    nblocks = 0;
}

static void check_other_calls_fail(void)
{
    errno = 0;
    void *p = calloc(64, 1 << 20);
    CHECKF(p == NULL && errno == ENOMEM, "calloc(64 MiB) at the limit = %p, errno %d", p, errno);
    free(p);
    errno = 0;
    p = memalign(1 << 20, 64 << 20);
    CHECKF(p == NULL && errno == ENOMEM, "memalign(1 MiB, 64 MiB) at the limit = %p, errno %d",
           p, errno);
    free(p);
    p = NULL;
    int err = posix_memalign(&p, 4096, 64 << 20);
    CHECKF(err == ENOMEM, "posix_memalign(4096, 64 MiB) at the limit returned %d", err);
    if (!err)
        free(p);
}

int main(void)
{
    /* memory the test itself needs later, taken before the limit */
    size_t start_vm = vm_bytes();
    REQUIRE(start_vm > 0);
    struct rlimit rl = { start_vm + ((size_t)256 << 20), start_vm + ((size_t)256 << 20) };
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        SKIP("setrlimit(RLIMIT_AS): %s", strerror(errno));

    for (int round = 0; round < 3; round++) {
        /* 1 MiB blocks until the address space is gone */
        size_t n1 = exhaust((size_t)1 << 20, SIZE_MAX, "1 MiB blocks");
        CHECKF(n1 >= 64, "round %d: only %zu blocks of 1 MiB fit under a 256 MiB margin",
               round, n1);
        /* what remains is taken by smaller and smaller blocks */
        size_t n2 = exhaust(64 << 10, SIZE_MAX, "64 KiB blocks");
        size_t n3 = exhaust(512, SMALL_CAP, "512-byte blocks");
        size_t n4 = exhaust(16, SMALL_CAP, "16-byte blocks");
        CHECKF(n3 < SMALL_CAP && n4 < SMALL_CAP, "round %d: small allocations never failed "
               "(%zu, %zu)", round, n3, n4);
        check_other_calls_fail();
        /* realloc that cannot grow leaves the block as it was */
        char *last = blocks[0];
        memset(last, 0x42, 1 << 20);
        errno = 0;
        char *r = realloc(last, 200 << 20);
        CHECKF(r == NULL && errno == ENOMEM, "realloc to 200 MiB at the limit = %p, errno %d",
               (void *)r, errno);
        if (r)
            blocks[0] = r;
        else
            CHECK(find_byte_not(last, 1 << 20, 0x42) == (size_t)-1);
        free_all();

        /* 64 MiB blocks */
        size_t n64 = exhaust((size_t)64 << 20, SIZE_MAX, "64 MiB blocks");
        CHECKF(n64 >= 1, "round %d: no 64 MiB block fits under a 256 MiB margin", round);
        free_all();

        /* everything works again once memory is free */
        const size_t sizes[] = { 1, 100, 5000, 100 << 10, 1 << 20, 8 << 20, 64 << 20 };
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char *p = malloc(sizes[i]);
            CHECKF(p != NULL, "round %d: malloc(%zu) after freeing everything failed", round,
                   sizes[i]);
            if (p) {
                fill_pattern(p, sizes[i], i);
                CHECK(PATTERN_OK(p, sizes[i], i));
            }
            free(p);
        }
        fprintf(stderr, "round %d: %zu x 1 MiB, %zu x 64 KiB, %zu x 512 B, %zu x 16 B, "
                "%zu x 64 MiB\n", round, n1, n2, n3, n4, n64);
    }

    /* a request over the limit fails, small ones still work */
    errno = 0;
    void *g = malloc(opaque_size((size_t)1 << 30));
    CHECKF(g == NULL && errno == ENOMEM, "malloc(1 GiB) under the limit = %p, errno %d", g,
           errno);
    free(g);
    for (int i = 0; i < 1000; i++) {
        char *p = malloc(32);
        CHECKF(p != NULL, "malloc(32) after the failed 1 GiB request");
        if (p)
            memset(p, 1, 32);
        free(p);
    }
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
