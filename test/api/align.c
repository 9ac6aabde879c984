/*
 * align.c: posix_memalign, aligned_alloc and memalign (plain, sc_ and
 * __libc_ names) for every power-of-two alignment from 1 byte to 64 MiB and
 * several sizes: aligned, usable size >= the request, writable in full
 * while all of a round are live, freeable (also with free_aligned_sized),
 * and realloc of an aligned block keeps its content. Invalid alignments:
 * posix_memalign returns EINVAL (0, 3, 24, 48, 4); aligned_alloc and
 * memalign give NULL with errno EINVAL for a non-power of two; an absurd
 * power of two (SIZE_MAX/2+1) fails with EINVAL or ENOMEM.
 */
#include "family.h"

extern void free_aligned_sized(void *ptr, size_t alignment, size_t size);

enum { POSIX, ALIGNED, MEMALIGN, NKINDS };
static const char *kind_name[NKINDS] = { "posix_memalign", "aligned_alloc", "memalign" };

static void *alloc_aligned(const family_t *f, int kind, size_t align, size_t size, int *err)
{
    void *p = NULL;
    *err = 0;
    switch (kind) {
    case POSIX:
        *err = f->posix_memalign(&p, align, size);
        if (*err)
            p = NULL;
        break;
    case ALIGNED:
        p = f->aligned_alloc(align, size);
        break;
    case MEMALIGN:
        p = f->memalign(align, size);
        break;
    }
    return p;
}

static void check_valid(const family_t *f)
{
    enum { MAXB = 16 };
    for (size_t align = 1; align <= ((size_t)64 << 20); align *= 2) {
        /* sizes: tiny, the alignment's neighbours, a large and a huge one;
         * huge multiples of a huge alignment are left out to bound memory */
        size_t cand[] = { 1, 24, align - 1, align, align + 1, 3 * align + 5, 100 << 10,
                          (5 << 20) + 3 };
        char *blk[MAXB];
        size_t bsz[MAXB], balign[MAXB];
        int nb = 0;
        for (int kind = 0; kind < NKINDS; kind++) {
            if (kind == POSIX && align < sizeof(void *))
                continue; /* EINVAL by definition, checked below */
            for (size_t c = 0; c < sizeof cand / sizeof cand[0]; c++) {
                size_t size = cand[c];
                if (size == 0 || size > ((size_t)160 << 20))
                    continue;
                int err;
                char *p = alloc_aligned(f, kind, align, size, &err);
                CHECKF(p != NULL && err == 0, "%s: %s(%zu, %zu) = %p, error %d",
                       f->name, kind_name[kind], align, size, (void *)p, err);
                if (!p)
                    continue;
                CHECKF(is_aligned(p, align), "%s: %s(%zu, %zu) = %p not aligned", f->name,
                       kind_name[kind], align, size, (void *)p);
                size_t u = f->usable_size(p);
                CHECKF(u >= size, "%s: %s(%zu, %zu) usable size %zu", f->name,
                       kind_name[kind], align, size, u);
                fill_sparse(p, size, align * 131 + size + kind);
                if (nb < MAXB) {
                    blk[nb] = p;
                    bsz[nb] = size;
                    balign[nb] = align * 131 + size + kind;
                    nb++;
                } else {
                    CHECK(sparse_ok(p, size, align * 131 + size + kind));
                    f->free(p);
                }
            }
        }
        for (int i = 0; i < nb; i++) {
            CHECKF(sparse_ok(blk[i], bsz[i], balign[i]),
                   "%s: aligned block of %zu bytes (alignment %zu) overwritten", f->name,
                   bsz[i], align);
            if (i % 3 == 0) {
                /* realloc of an aligned block keeps the content */
                size_t ns = bsz[i] * 2 + 10;
                char *q = f->realloc(blk[i], ns);
                CHECKF(q != NULL, "%s: realloc of an aligned block failed", f->name);
                if (q) {
                    CHECKF(sparse_ok(q, bsz[i], balign[i]),
                           "%s: realloc of a %zu-aligned block lost content", f->name, align);
                    f->free(q);
                }
            } else if (i % 3 == 1) {
                free_aligned_sized(blk[i], align, bsz[i]);
            } else {
                f->free(blk[i]);
            }
        }
    }
}

static void check_invalid(const family_t *f)
{
    const size_t bad_posix[] = { 0, 1, 2, 3, 4, 12, 24, 48, 96, 4095, 4097, SIZE_MAX };
    for (size_t i = 0; i < sizeof bad_posix / sizeof bad_posix[0]; i++) {
        size_t a = opaque_size(bad_posix[i]);
        if (a == 4 && sizeof(void *) == 4)
            continue;
        void *p = NULL;
        int err = f->posix_memalign(&p, a, 64);
        CHECKF(err == EINVAL, "%s: posix_memalign(alignment %zu) returned %d, want EINVAL",
               f->name, a, err);
    }
    const size_t bad_pow2[] = { 0, 3, 6, 24, 48, 100, 4095, 12288, ((size_t)1 << 20) + 1, SIZE_MAX };
    for (size_t i = 0; i < sizeof bad_pow2 / sizeof bad_pow2[0]; i++) {
        size_t a = opaque_size(bad_pow2[i]);
        errno = 0;
        void *p = f->aligned_alloc(a, 64);
        CHECKF(p == NULL && errno == EINVAL, "%s: aligned_alloc(%zu, 64) = %p, errno %d",
               f->name, a, p, errno);
        if (a == 0)
            continue; /* memalign(0, n): glibc treats as malloc, left open */
        errno = 0;
        p = f->memalign(a, 64);
        CHECKF(p == NULL && errno == EINVAL, "%s: memalign(%zu, 64) = %p, errno %d",
               f->name, a, p, errno);
    }
    /* a power of two too large to serve */
    size_t absurd = opaque_size(SIZE_MAX / 2 + 1);
    void *p = NULL;
    int err = f->posix_memalign(&p, absurd, 64);
    CHECKF(err == EINVAL || err == ENOMEM, "%s: posix_memalign(SIZE_MAX/2+1) returned %d",
           f->name, err);
    for (int kind = ALIGNED; kind <= MEMALIGN; kind++) {
        errno = 0;
        p = alloc_aligned(f, kind, absurd, 64, &err);
        CHECKF(p == NULL && (errno == EINVAL || errno == ENOMEM),
               "%s: %s(SIZE_MAX/2+1, 64) = %p, errno %d", f->name, kind_name[kind], p, errno);
    }
    /* a large but possible alignment with an impossible size */
    errno = 0;
    p = f->aligned_alloc((size_t)1 << 30, opaque_size(SIZE_MAX - 100));
    CHECKF(p == NULL && errno == ENOMEM, "%s: aligned_alloc(1 GiB, SIZE_MAX-100) = %p, errno %d",
           f->name, p, errno);
    /* still works */
    err = f->posix_memalign(&p, 64, 64);
    CHECK(err == 0 && p && is_aligned(p, 64));
    if (!err)
        f->free(p);
}

/* Many small aligned blocks at once: alignments above the size class must
 * not make blocks overlap or waste without bound. */
static void check_many(const family_t *f)
{
    enum { N = 3000 };
    static char *p[N];
    for (int i = 0; i < N; i++) {
        size_t align = (size_t)1 << (3 + i % 10); /* 8 .. 4096 */
        size_t size = 1 + (size_t)(i * 37) % 300;
        p[i] = f->memalign(align, size);
        REQUIRE(p[i] != NULL);
        CHECKF(is_aligned(p[i], align), "%s: memalign(%zu, %zu) = %p", f->name, align, size,
               (void *)p[i]);
        fill_pattern(p[i], size, i);
    }
    for (int i = 0; i < N; i++) {
        size_t size = 1 + (size_t)(i * 37) % 300;
        CHECKF(PATTERN_OK(p[i], size, i), "%s: small aligned block %d overwritten", f->name, i);
        f->free(p[i]);
    }
}

int main(void)
{
    for (size_t i = 0; i < NFAMILIES; i++) {
        check_valid(&families[i]);
        check_invalid(&families[i]);
        check_many(&families[i]);
    }
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
