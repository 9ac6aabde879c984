/*
 * fuzz_ops.c: libFuzzer harness for scmalloc's sc_ API.
 *
 * Build and run: test/fuzz/run.sh (README.md in this folder). What it
 * runs to build the default variant, from the repository root:
 *
 *   clang -g -O1 -std=gnu11 -DSC_DEBUG=2 -Isrc -Iinclude -pthread \
 *         -fno-sanitize-recover=all \
 *         -fsanitize-coverage-ignorelist=test/fuzz/coverage_ignore.txt \
 *         -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
 *         -fno-builtin-free -fsanitize=fuzzer,undefined \
 *         test/fuzz/fuzz_ops.c $(find src -name '*.c') -o build/fuzz/fuzz_ops
 *
 * Why no AddressSanitizer by default. src/alloc.c defines malloc, free,
 * calloc, ... (and __libc_malloc & co.) as aliases of the sc_ functions.
 * ASan's malloc interceptors are weak symbols, so linking the library into
 * an ASan binary does not fail: scmalloc's strong definitions silently win
 * over ASan's, ASan's own runtime and interceptors (strdup, ...) still use
 * ASan's allocator, and the two heaps get mixed up (the naive ASan build
 * segfaults at start-up). So the default build leaves ASan out: scmalloc
 * is the malloc of the whole process, libFuzzer's own C++ allocations
 * included, which stresses the allocator between and during the
 * operations below; UBSan and SC_DEBUG=2 assertions stay on, and this
 * harness checks every byte of every block itself. run.sh verifies after
 * linking that `malloc` is scmalloc's.
 *
 * FUZZ_ASAN=1 test/fuzz/run.sh builds a second variant: the library
 * sources are compiled with ASan into objects of its own
 * (build/fuzz/asan/obj), and `objcopy --localize-symbol` makes the glibc
 * names in them (malloc, free, ..., mallinfo, mallopt) local, leaving the
 * sc_ names global; src/ is untouched. ASan then owns
 * malloc (run.sh checks that `malloc` is ASan's interceptor) and scmalloc
 * serves only the sc_ calls made here. That variant adds ASan's checks of
 * scmalloc's globals and stack, and of this harness.
 *
 * Input: a sequence of operations, each an opcode byte (taken mod 16)
 * followed by its argument bytes; reading past the end yields zeros.
 *
 *   op      meaning                 arguments
 *   0-1     malloc                  slot, size
 *   2       burst                   count, how, size    (see op_burst)
 *   3       calloc                  slot, nmemb, size
 *   4-5     realloc                 slot, size          (empty slot: realloc(NULL, n))
 *   6       posix_memalign          slot, align, size
 *   7       aligned_alloc           slot, align, size
 *   8       memalign                slot, align, size
 *   9-10    free                    slot
 *   11      free_sized              slot                (plain free for aligned blocks)
 *   12      hand to second thread   slot                (freed there in batches of 16)
 *   13      second thread allocates slot, flag, size    (flag odd: calloc)
 *   14      edge case               sub, slot           (impossible sizes, overflow, NULL)
 *   15      check all + heap check  flag                (flag odd: flush the hand-over first)
 *
 *   slot  = byte % 64 (a table of 64 live blocks; allocating into a full
 *           slot frees its block first)
 *   size  = 3 bytes: sel, lo, hi; sel % 16 picks a range (mostly small, up
 *           to 8 MiB, and sizes around class/page/chunk boundaries), v =
 *           lo | hi << 8 the value in it. Sizes above 64 KiB (and bursts
 *           above 64 KiB in all) draw on a per-input budget of 16 MiB;
 *           past it they wrap to below 64 KiB, so that no input spends
 *           long filling memory.
 *   align = byte: >= 0xf0 an invalid or impossible alignment from a table;
 *           bit 7 set: 2^(byte % 13) (1 .. 4 KiB); else 2^(byte % 27)
 *           (1 .. 64 MiB).
 *
 * Every block gets a fresh id; its whole usable size (malloc_usable_size,
 * which must be >= the requested size) is filled with a pattern derived
 * from the id. The pattern is checked in full before the block is freed
 * or reallocated and at the end of the input (check ops read blocks above
 * 256 KiB sampled); after realloc the min(old, new) prefix must hold the
 * old pattern; calloc blocks must be zero over the requested size; each
 * new block must be aligned (natural alignment up to 16, or the alignment
 * asked for) and must not overlap any other live block; usable size must
 * not change while a block lives; failures give NULL with ENOMEM or EINVAL
 * as documented (posix_memalign returns them and leaves errno alone; free
 * never changes errno). At the end of each input everything is freed, the
 * second thread exits (its thread cache is flushed) and sc_heap_check()
 * must return 0.
 *
 * The second thread is deterministic: it is started by the first
 * operation that needs it, every exchange is a synchronous hand-over
 * under a mutex (the fuzzing thread waits until it is done), and it is
 * joined at the end of the input, so the sequence of allocator calls per
 * thread depends only on the input.
 *
 * Any failed check prints one line starting with "fuzz_ops: FAIL" and
 * calls abort(). FUZZ_OPS_TRACE=1 in the environment prints every
 * operation to stderr (for reproducing a crash).
 */
#define _GNU_SOURCE
#include "scmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSLOTS 64
#define HANDOFF_MAX 16
#define BIG_SIZE ((size_t)64 << 10)
#define BIG_BUDGET ((size_t)16 << 20)
/* No user address is a nonzero multiple of this (48-bit address spaces). */
#define IMPOSSIBLE_ALIGN ((size_t)1 << 48)

typedef struct {
    unsigned char *p;
    size_t req;     /* requested size */
    size_t usable;  /* malloc_usable_size at allocation */
    size_t align;   /* alignment asked for; 0 for malloc/calloc/realloc */
    uint64_t id;
} block_t;

static block_t slots[NSLOTS];
static block_t handoff[HANDOFF_MAX];
static size_t nhandoff;
static uint64_t next_id;
static size_t big_budget;
static size_t op_index;
static const char *op_name = "start";
static int trace;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz_ops: FAIL op #%zu (%s): %s\n", op_index, op_name, buf);
    abort();
}

/* ---- input -------------------------------------------------------------- */

typedef struct { const uint8_t *d; size_t n, i; } input_t;

static unsigned next_byte(input_t *in) { return in->i < in->n ? in->d[in->i++] : 0; }

static size_t decode_size(input_t *in)
{
    static const size_t edges[] = {
        8, 16, 128, 1024, 3072, 4096, 8192, 12288, 14336, 16384, 20480, 32768,
        65536, 65536 + 4096, 262144, (size_t)1 << 20, ((size_t)2 << 20) - 4096,
        (size_t)2 << 20, ((size_t)4 << 20) - 8192, (size_t)4 << 20, (size_t)6 << 20,
        (size_t)8 << 20,
    };
    unsigned sel = next_byte(in), lo = next_byte(in), hi = next_byte(in);
    unsigned v = lo | hi << 8;
    size_t n;
    switch (sel & 15) {
    case 0: n = 0; break;
    case 1: case 2: case 3: n = 1 + v % 64; break;
    case 4: case 5: n = 1 + v % 512; break;
    case 6: n = 1 + v % 4096; break;
    case 7: n = 1 + v % 16384; break;
    case 8: n = 1 + v % 128; break;
    case 9: n = 16385 + v % (65536 - 16384); break;  /* large, thread-cached */
    case 10: n = 1 + (size_t)v * 4; break;            /* up to 256 KiB */
    case 11: n = 1 + (size_t)v * 32; break;           /* up to 2 MiB: large */
    case 12: case 13: {                               /* around a boundary */
        size_t base = edges[lo % (sizeof(edges) / sizeof(edges[0]))];
        long delta = (long)(hi % 65) - 32;
        n = delta < 0 && (size_t)-delta > base ? 0 : base + delta;
        break;
    }
    case 14: n = 1 + (size_t)v * 128; break;          /* up to 8 MiB: huge */
    default: n = 1 + v % 2048; break;
    }
    if (n > BIG_SIZE) {
        if (n > big_budget) n = 1 + n % BIG_SIZE;
        else big_budget -= n;
    }
    return n;
}

/* Invalid or impossible alignments, picked by align bytes >= 0xf0. */
static const size_t bad_aligns[16] = {
    0, 3, 6, 12, 24, 48, 100, 4095, 4097, ((size_t)1 << 20) + 8, SIZE_MAX,
    1, 2, 4, (size_t)1 << 62, (size_t)3 << 20,
};

static size_t decode_align(input_t *in)
{
    unsigned a = next_byte(in);
    if (a >= 0xf0) return bad_aligns[a & 15];
    if (a & 0x80) return (size_t)1 << (a % 13);
    return (size_t)1 << (a % 27);
}

static int is_pow2(size_t x) { return x && !(x & (x - 1)); }

/* ---- patterns ----------------------------------------------------------- */

/* The loops over block contents are kept out of coverage and UBSan
 * instrumentation (and not inlined into instrumented callers): their
 * comparisons say nothing about the allocator, and with trace-cmp hooks
 * and pointer-overflow checks they took most of the run time. */
#ifdef __clang__
#define NO_COVERAGE __attribute__((no_sanitize("coverage", "undefined"), noinline))
#else
#define NO_COVERAGE __attribute__((noinline))
#endif

static uint64_t pattern_seed(uint64_t id)
{
    uint64_t x = (id + 1) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x;
}
#define PATTERN_STEP 0xd6e8feb86659fd93ull

/* Byte o of the pattern of id is byte o % 8 of word o / 8, the word being
 * seed + (o / 8) * step, stored with memcpy: any prefix of a block's
 * pattern is the pattern of the shorter block. */
NO_COVERAGE static void fill(unsigned char *p, size_t n, uint64_t id)
{
    uint64_t w = pattern_seed(id);
    size_t i = 0;
    for (; i + 8 <= n; i += 8, w += PATTERN_STEP) memcpy(p + i, &w, 8);
    if (i < n) memcpy(p + i, &w, n - i);
}

/* Offset of the first byte of p[0, n) that is not id's pattern, or n;
 * p is word `word` of the block. */
NO_COVERAGE static size_t pattern_mismatch_at(const unsigned char *p, size_t n, uint64_t id, size_t word)
{
    uint64_t w = pattern_seed(id) + word * PATTERN_STEP, v[4];
    size_t i = 0;
    for (; i + 32 <= n; i += 32, w += 4 * PATTERN_STEP) {
        memcpy(v, p + i, 32);
        if ((v[0] ^ w) | (v[1] ^ (w + PATTERN_STEP)) | (v[2] ^ (w + 2 * PATTERN_STEP)) |
            (v[3] ^ (w + 3 * PATTERN_STEP)))
            break;
    }
    for (; i + 8 <= n; i += 8, w += PATTERN_STEP) {
        memcpy(v, p + i, 8);
        if (v[0] != w) break;
    }
    unsigned char want[8];
    memcpy(want, &w, 8);
    for (size_t j = 0; i + j < n && j < 8; j++)
        if (p[i + j] != want[j]) return i + j;
    return n;
}

/* Checks p[from, to) against the pattern; from must be a multiple of 8. */
static void check_range(const block_t *b, size_t from, size_t to, const char *what)
{
    size_t off = from + pattern_mismatch_at(b->p + from, to - from, b->id, from / 8);
    if (off < to) {
        unsigned char want[8];
        uint64_t w = pattern_seed(b->id) + (off / 8) * PATTERN_STEP;
        memcpy(want, &w, 8);
        fail("%s: block %p id %llu (size %zu, usable %zu, align %zu): byte %zu is 0x%02x, want 0x%02x",
             what, (void *)b->p, (unsigned long long)b->id, b->req, b->usable, b->align, off,
             b->p[off], want[off % 8]);
    }
}

static void check_pattern(const block_t *b, size_t n, const char *what) { check_range(b, 0, n, what); }

/* Checks a live block: usable size unchanged, and the pattern: entirely,
 * or with sampled, for blocks above SAMPLE_ABOVE, the first and last
 * 4 KiB and the first 64 bytes of every 4 KiB in between (check ops:
 * they would otherwise spend most of the run re-reading big blocks, which
 * are checked in full when freed or reallocated). */
#define SAMPLE_ABOVE ((size_t)256 << 10)
static void verify_block(const block_t *b, int sampled, const char *what)
{
    size_t u = sc_malloc_usable_size(b->p);
    if (u != b->usable)
        fail("%s: block %p id %llu size %zu: malloc_usable_size changed from %zu to %zu", what,
             (void *)b->p, (unsigned long long)b->id, b->req, b->usable, u);
    if (!sampled || u <= SAMPLE_ABOVE) {
        check_range(b, 0, u, what);
        return;
    }
    check_range(b, 0, 4096, what);
    for (size_t off = 4096; off + 4096 < u; off += 4096) check_range(b, off, off + 64, what);
    check_range(b, (u - 4096) & ~(size_t)7, u, what);
}

static void verify(const block_t *b, const char *what) { verify_block(b, 0, what); }

/* ---- new blocks ---------------------------------------------------------- */

static size_t natural_align(size_t n)
{
    size_t a = 16;
    while (a > 1 && a > n) a >>= 1;
    return a;
}

NO_COVERAGE static size_t first_nonzero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    uint64_t v;
    for (; i + 8 <= n; i += 8) {
        memcpy(&v, p + i, 8);
        if (v) break;
    }
    while (i < n && !p[i]) i++;
    return i;
}

NO_COVERAGE static int overlaps(const block_t *a, const unsigned char *p, size_t len)
{
    size_t alen = a->usable ? a->usable : 1;
    return a->p && a->p < p + len && p < a->p + alen;
}

/* Takes a pointer just returned for size n (align: asked alignment or 0):
 * checks it, gives it a new id and fills it. except: the slot whose old
 * block p may legitimately equal (realloc), or NULL. zero: calloc. */
static void adopt(block_t *b, void *ptr, size_t n, size_t align, int zero, const block_t *except)
{
    unsigned char *p = ptr;
    size_t u = sc_malloc_usable_size(p);
    if (u < n) fail("block %p: malloc_usable_size %zu < requested %zu", ptr, u, n);
    size_t want = align ? align : natural_align(n);
    if ((uintptr_t)p % want) fail("block %p of size %zu is not aligned to %zu", ptr, n, want);
    size_t nz = zero ? first_nonzero(p, n) : n;
    if (nz < n) fail("calloc block %p size %zu: byte %zu is 0x%02x, not zero", ptr, n, nz, p[nz]);
    size_t len = u ? u : 1;
    for (int i = 0; i < NSLOTS; i++)
        if (&slots[i] != except && overlaps(&slots[i], p, len))
            fail("new block %p (size %zu, usable %zu) overlaps live block %p id %llu (size %zu, usable %zu) in slot %d",
                 ptr, n, u, (void *)slots[i].p, (unsigned long long)slots[i].id, slots[i].req,
                 slots[i].usable, i);
    for (size_t i = 0; i < nhandoff; i++)
        if (overlaps(&handoff[i], p, len))
            fail("new block %p (size %zu) overlaps block %p id %llu waiting for the second thread",
                 ptr, n, (void *)handoff[i].p, (unsigned long long)handoff[i].id);
    b->p = p;
    b->req = n;
    b->usable = u;
    b->align = align;
    b->id = next_id++;
    fill(p, u, b->id);
}

static void expect_fail(void *p, int err, int want, const char *call)
{
    if (p) fail("%s returned %p, want NULL", call, p);
    if (err != want) fail("%s: errno %d, want %d", call, err, want);
}

/* ---- the second thread ---------------------------------------------------- */

enum { W_IDLE, W_FREE, W_MALLOC, W_CALLOC, W_QUIT };

static struct {
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cmd;           /* set by the fuzzing thread, back to W_IDLE when done */
    size_t size;       /* W_MALLOC / W_CALLOC */
    void *result;
    const block_t *list; /* W_FREE: free list[0, count) */
    size_t count;
} worker = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* Frees with free_sized if sized, unless the block came from an aligned
 * call (C23: those need free_aligned_sized); free otherwise. The second
 * thread uses free_sized for odd ids. */
static void free_block(const block_t *b, int sized)
{
    int saved = 12345;
    errno = saved;
    if (sized && !b->align) sc_free_sized(b->p, b->req);
    else sc_free(b->p);
    if (errno != saved) fail("free(%p) changed errno to %d", (void *)b->p, errno);
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&worker.mu);
    for (;;) {
        while (worker.cmd == W_IDLE) pthread_cond_wait(&worker.cv, &worker.mu);
        int cmd = worker.cmd;
        switch (cmd) {
        case W_FREE:
            for (size_t i = 0; i < worker.count; i++) free_block(&worker.list[i], (int)(worker.list[i].id & 1));
            break;
        case W_MALLOC: worker.result = sc_malloc(worker.size); break;
        case W_CALLOC: worker.result = sc_calloc(1, worker.size); break;
        }
        worker.cmd = W_IDLE;
        pthread_cond_broadcast(&worker.cv);
        if (cmd == W_QUIT) break;
    }
    pthread_mutex_unlock(&worker.mu);
    return NULL;
}

static void worker_call(int cmd)
{
    if (!worker.running) {
        if (cmd == W_QUIT) return;
        int err = pthread_create(&worker.thread, NULL, worker_main, NULL);
        if (err) fail("pthread_create: %s", strerror(err));
        worker.running = 1;
    }
    pthread_mutex_lock(&worker.mu);
    worker.cmd = cmd;
    pthread_cond_broadcast(&worker.cv);
    while (worker.cmd != W_IDLE) pthread_cond_wait(&worker.cv, &worker.mu);
    pthread_mutex_unlock(&worker.mu);
    if (cmd == W_QUIT) {
        int err = pthread_join(worker.thread, NULL);
        if (err) fail("pthread_join: %s", strerror(err));
        worker.running = 0;
    }
}

static void handoff_flush(void)
{
    if (!nhandoff) return;
    for (size_t i = 0; i < nhandoff; i++) verify(&handoff[i], "before the second thread frees it");
    worker.list = handoff;
    worker.count = nhandoff;
    worker_call(W_FREE);
    nhandoff = 0;
}

/* ---- operations ------------------------------------------------------------ */

static void release(block_t *b, int sized, const char *what)
{
    if (!b->p) return;
    verify(b, what);
    free_block(b, sized);
    b->p = NULL;
}

static void op_malloc(block_t *b, size_t n)
{
    release(b, 0, "before malloc");
    void *p = sc_malloc(n);
    if (!p) fail("malloc(%zu) returned NULL (errno %d)", n, errno);
    adopt(b, p, n, 0, 0, NULL);
}

static void op_calloc(block_t *b, unsigned nm, size_t n)
{
    release(b, 0, "before calloc");
    size_t nmemb = 1 + nm % 16, each = n / nmemb;
    if (nm % 16 == 15) { nmemb = n; each = 1; }
    void *p = sc_calloc(nmemb, each);
    if (!p) fail("calloc(%zu, %zu) returned NULL (errno %d)", nmemb, each, errno);
    adopt(b, p, nmemb * each, 0, 1, NULL);
}

static void op_realloc(block_t *b, size_t n)
{
    if (!b->p) {
        void *p = sc_realloc(NULL, n);
        if (!p) fail("realloc(NULL, %zu) returned NULL (errno %d)", n, errno);
        adopt(b, p, n, 0, 0, NULL);
        return;
    }
    verify(b, "before realloc");
    block_t old = *b;
    void *p = sc_realloc(b->p, n);
    if (n == 0) {
        if (p) fail("realloc(%p, 0) returned %p, want NULL (the block freed)", (void *)old.p, p);
        b->p = NULL;
        return;
    }
    if (!p) fail("realloc(%p, %zu) returned NULL (errno %d)", (void *)old.p, n, errno);
    block_t moved = old;
    moved.p = p;
    check_pattern(&moved, old.req < n ? old.req : n, "after realloc (kept prefix)");
    adopt(b, p, n, 0, 0, b);
}

enum { AL_POSIX, AL_ALIGNED, AL_MEMALIGN };

static void op_aligned(block_t *b, int kind, size_t align, size_t n)
{
    static const char *names[] = { "posix_memalign", "aligned_alloc", "memalign" };
    release(b, 0, "before aligned allocation");
    /* What the call must do: 0 success, else the error. */
    int want = 0;
    size_t asked = align;
    switch (kind) {
    case AL_POSIX: want = !is_pow2(align) || align % sizeof(void *) ? EINVAL : 0; break;
    case AL_ALIGNED: want = !is_pow2(align) ? EINVAL : 0; break;
    case AL_MEMALIGN:
        if (align == 0) asked = 0; /* memalign(0, n) is malloc(n) */
        else want = !is_pow2(align) ? EINVAL : 0;
        break;
    }
    if (!want && align >= IMPOSSIBLE_ALIGN) want = ENOMEM;
    void *p = NULL;
    int err;
    if (kind == AL_POSIX) {
        errno = 4321;
        void *sentinel = (void *)&p;
        p = sentinel;
        err = sc_posix_memalign(&p, align, n);
        if (errno != 4321) fail("posix_memalign(%zu, %zu) changed errno to %d", align, n, errno);
        if (err && p != sentinel) fail("posix_memalign(%zu, %zu) failed with %d but set *memptr", align, n, err);
        if (err) p = NULL;
    } else {
        errno = 0;
        p = kind == AL_ALIGNED ? sc_aligned_alloc(align, n) : sc_memalign(align, n);
        err = p ? 0 : errno;
    }
    if (want) {
        if (p || err != want)
            fail("%s(%zu, %zu): got %p error %d, want NULL error %d", names[kind], align, n, p, err, want);
        return;
    }
    if (!p) fail("%s(%zu, %zu) returned NULL (error %d)", names[kind], align, n, err);
    adopt(b, p, n, asked, 0, NULL);
}

static void op_handoff(block_t *b)
{
    if (!b->p) return;
    verify(b, "before hand-over");
    handoff[nhandoff++] = *b;
    b->p = NULL;
    if (nhandoff == HANDOFF_MAX) handoff_flush();
}

static void op_remote_alloc(block_t *b, int zero, size_t n)
{
    release(b, 0, "before remote allocation");
    worker.size = n;
    worker_call(zero ? W_CALLOC : W_MALLOC);
    if (!worker.result) fail("%s(%zu) in the second thread returned NULL", zero ? "calloc" : "malloc", n);
    adopt(b, worker.result, n, 0, zero, NULL);
}

/* Allocates count blocks of size n at once (enough to fill and flush
 * thread caches and to need new slabs and runs), checks them all, then
 * frees them: in allocation order or reversed, sized or not, here or in
 * the second thread. */
#define BURST_MAX 512
static block_t burst[BURST_MAX];

static void op_burst(unsigned count_byte, unsigned how, size_t n)
{
    size_t count = 1 + (size_t)count_byte * 2;
    if (count * n > BIG_SIZE) { /* big bursts draw on the input's budget */
        size_t afford = (big_budget + BIG_SIZE) / n;
        if (count > afford) count = afford ? afford : 1;
        big_budget -= count * n < big_budget ? count * n : big_budget;
    }
    for (size_t i = 0; i < count; i++) {
        void *p = sc_malloc(n);
        if (!p) fail("burst: malloc(%zu) #%zu returned NULL (errno %d)", n, i, errno);
        adopt(&burst[i], p, n, 0, 0, NULL); /* checks against the slots */
    }
    /* A block overlapping an earlier one of the burst overwrote its
     * pattern. */
    for (size_t i = 0; i < count; i++) verify(&burst[i], "burst");
    if (how & 4) {
        worker.list = burst;
        worker.count = count;
        worker_call(W_FREE);
    } else {
        for (size_t k = 0; k < count; k++) {
            size_t i = how & 1 ? count - 1 - k : k;
            free_block(&burst[i], (int)(how & 2));
        }
    }
}

static void op_edge(block_t *b, unsigned sub)
{
    const size_t too_big = (size_t)PTRDIFF_MAX + 1;
    void *p;
    switch (sub % 8) {
    case 0:
        errno = 0; p = sc_malloc(too_big); expect_fail(p, errno, ENOMEM, "malloc(PTRDIFF_MAX + 1)");
        errno = 0; p = sc_malloc(SIZE_MAX); expect_fail(p, errno, ENOMEM, "malloc(SIZE_MAX)");
        break;
    case 1:
        errno = 0; p = sc_calloc(SIZE_MAX / 2 + 2, 2); expect_fail(p, errno, ENOMEM, "calloc(SIZE_MAX / 2 + 2, 2)");
        errno = 0; p = sc_calloc((size_t)1 << 33, (size_t)1 << 31); expect_fail(p, errno, ENOMEM, "calloc(2^33, 2^31)");
        errno = 0; p = sc_calloc(too_big, 1); expect_fail(p, errno, ENOMEM, "calloc(PTRDIFF_MAX + 1, 1)");
        break;
    case 2: case 6: {
        size_t n = sub % 8 == 2 ? SIZE_MAX - (sub >> 3) : too_big;
        if (b->p) verify(b, "before failing realloc");
        errno = 0;
        p = sc_realloc(b->p, n);
        expect_fail(p, errno, ENOMEM, "realloc(p, impossible size)");
        if (b->p) verify(b, "after failing realloc (block must be intact)");
        break;
    }
    case 3: {
        void *q = NULL;
        errno = 0;
        int err = sc_posix_memalign(&q, 16, too_big);
        if (err != ENOMEM || q) fail("posix_memalign(16, PTRDIFF_MAX + 1): %d %p, want ENOMEM", err, q);
        errno = 0; p = sc_aligned_alloc(64, SIZE_MAX); expect_fail(p, errno, ENOMEM, "aligned_alloc(64, SIZE_MAX)");
        errno = 0; p = sc_memalign(4096, too_big); expect_fail(p, errno, ENOMEM, "memalign(4096, PTRDIFF_MAX + 1)");
        break;
    }
    case 4:
        if (sc_malloc_usable_size(NULL) != 0) fail("malloc_usable_size(NULL) != 0");
        errno = 777; sc_free(NULL); sc_free_sized(NULL, 0);
        if (errno != 777) fail("free(NULL) changed errno");
        break;
    case 5:
        /* Beyond the address space: mmap must fail, not crash. */
        errno = 0; p = sc_malloc((size_t)1 << 48); expect_fail(p, errno, ENOMEM, "malloc(2^48)");
        break;
    case 7: {
        /* calloc with a zero factor: a unique, live, zero-size block. */
        release(b, 0, "before calloc(0, n)");
        p = sub & 8 ? sc_calloc(0, 100) : sc_calloc(100, 0);
        if (!p) fail("calloc with a zero factor returned NULL");
        adopt(b, p, 0, 0, 1, NULL);
        break;
    }
    }
}

static void check_all(void)
{
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].p) verify_block(&slots[i], 1, "check op");
    for (size_t i = 0; i < nhandoff; i++) verify_block(&handoff[i], 1, "check op (handed over)");
    size_t problems = sc_heap_check();
    if (problems) fail("sc_heap_check() found %zu problems with blocks live", problems);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    const char *t = getenv("FUZZ_OPS_TRACE");
    trace = t && *t && *t != '0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input_t in = { data, size, 0 };
    memset(slots, 0, sizeof(slots));
    nhandoff = 0;
    next_id = 0;
    big_budget = BIG_BUDGET;
    op_index = 0;

    while (in.i < in.n) {
        unsigned op = next_byte(&in) % 16;
        op_index++;
        block_t *b;
        unsigned x, y;
        size_t n, align;
        switch (op) {
        case 2:
            op_name = "burst"; x = next_byte(&in); y = next_byte(&in); n = decode_size(&in);
            if (trace) fprintf(stderr, "#%zu burst count-sel %u how %u size %zu\n", op_index, x, y % 8, n);
            op_burst(x, y, n);
            break;
        case 0: case 1:
            op_name = "malloc"; b = &slots[next_byte(&in) % NSLOTS]; n = decode_size(&in);
            if (trace) fprintf(stderr, "#%zu malloc slot %td size %zu\n", op_index, b - slots, n);
            op_malloc(b, n);
            break;
        case 3:
            op_name = "calloc"; b = &slots[next_byte(&in) % NSLOTS]; x = next_byte(&in); n = decode_size(&in);
            if (trace) fprintf(stderr, "#%zu calloc slot %td nmemb-sel %u size %zu\n", op_index, b - slots, x, n);
            op_calloc(b, x, n);
            break;
        case 4: case 5:
            op_name = "realloc"; b = &slots[next_byte(&in) % NSLOTS]; n = decode_size(&in);
            if (trace) fprintf(stderr, "#%zu realloc slot %td (%p) size %zu\n", op_index, b - slots, (void *)b->p, n);
            op_realloc(b, n);
            break;
        case 6: case 7: case 8: {
            static const char *names[] = { "posix_memalign", "aligned_alloc", "memalign" };
            op_name = names[op - 6];
            b = &slots[next_byte(&in) % NSLOTS]; align = decode_align(&in); n = decode_size(&in);
            if (trace) fprintf(stderr, "#%zu %s slot %td align %zu size %zu\n", op_index, op_name, b - slots, align, n);
            op_aligned(b, (int)op - 6, align, n);
            break;
        }
        case 9: case 10: case 11:
            op_name = op == 11 ? "free_sized" : "free"; b = &slots[next_byte(&in) % NSLOTS];
            if (trace) fprintf(stderr, "#%zu %s slot %td (%p)\n", op_index, op_name, b - slots, (void *)b->p);
            release(b, op == 11, "before free");
            break;
        case 12:
            op_name = "hand over"; b = &slots[next_byte(&in) % NSLOTS];
            if (trace) fprintf(stderr, "#%zu hand over slot %td (%p)\n", op_index, b - slots, (void *)b->p);
            op_handoff(b);
            break;
        case 13:
            op_name = "remote alloc"; b = &slots[next_byte(&in) % NSLOTS]; x = next_byte(&in); n = decode_size(&in);
            if (trace) fprintf(stderr, "#%zu remote %s slot %td size %zu\n", op_index, x & 1 ? "calloc" : "malloc", b - slots, n);
            op_remote_alloc(b, (int)(x & 1), n);
            break;
        case 14:
            op_name = "edge"; x = next_byte(&in); b = &slots[next_byte(&in) % NSLOTS];
            if (trace) fprintf(stderr, "#%zu edge %u slot %td\n", op_index, x % 8, b - slots);
            op_edge(b, x);
            break;
        case 15:
            op_name = "check"; x = next_byte(&in);
            if (trace) fprintf(stderr, "#%zu check%s\n", op_index, x & 1 ? " (flush hand-over)" : "");
            if (x & 1) handoff_flush();
            check_all();
            break;
        }
    }

    op_name = "end of input";
    op_index++;
    for (int i = 0; i < NSLOTS; i++) release(&slots[i], i & 1, "end of input");
    handoff_flush();
    worker_call(W_QUIT);
    size_t problems = sc_heap_check();
    if (problems) fail("sc_heap_check() found %zu problems after freeing everything", problems);
    return 0;
}
