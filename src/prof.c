/*
 * prof: sampling, the tables of backtraces and sampled objects, and the
 * dump in gperftools' heap-profile format (see prof.h).
 *
 * Nothing here calls malloc: backtraces come from libgcc's unwinder
 * (_Unwind_Backtrace reads .eh_frame; glibc's backtrace() would dlopen
 * libgcc_s and allocate), tables live in static storage and base_alloc,
 * and the dump is written with write(2) from a stack buffer.
 *
 * The unwinder is referenced weakly, so the library does not need
 * libgcc_s: loading it costs every process about 76 KiB of resident
 * memory, profiling or not. A program that has it (every C++ program)
 * resolves the weak names; otherwise the library constructor dlopens it
 * when prof is on (prof_start). Samples taken before that, or if it cannot
 * be loaded, hold one frame: the allocator's caller.
 *
 * One lock (prof_lock) guards both tables; it is taken once per sample and
 * on a free only when the object's hash bucket is not empty, which is rare
 * with one sample per 512 KiB.
 */
#define _GNU_SOURCE
#include "prof.h"
#include "base.h"
#include "init.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <dlfcn.h>
#include <unwind.h>

#pragma weak _Unwind_Backtrace
#pragma weak _Unwind_GetIP
#pragma weak dlopen
#pragma weak dlsym

#define PROF_MAX_DEPTH 64       /* frames kept per backtrace */
#define PROF_BT_BUCKETS 4096
#define PROF_OBJ_BUCKETS (1u << 16)

typedef struct prof_bt {
    struct prof_bt *next;   /* hash chain */
    uint64_t hash;
    uint64_t live_n, live_bytes;   /* sampled objects not yet freed */
    uint64_t total_n, total_bytes; /* every sampled object */
    unsigned depth;
    void *frames[];         /* [0] is the caller of the allocator */
} prof_bt_t;

typedef struct prof_obj {
    struct prof_obj *next;
    void *ptr;
    size_t size;
    prof_bt_t *bt;
} prof_obj_t;

static mutex_t prof_lock;
SC_SPARSE static prof_bt_t *bt_buckets[PROF_BT_BUCKETS];
/* Read without the lock by prof_free: an empty bucket means the pointer was
 * not sampled (its sampling happened before its free, in any thread that
 * could free it). */
SC_SPARSE static prof_obj_t *obj_buckets[PROF_OBJ_BUCKETS];
static prof_obj_t *obj_free_list;
static unsigned dump_seq;

/* ---- sampling intervals ------------------------------------------------ */

/* Natural logarithm of x in (0, 1], without libm: x = m * 2^e with m in
 * [1, 2), ln m = 2 atanh((m - 1) / (m + 1)) by its series (error below
 * 1e-9 for t < 1/3). */
SC_COLD static double prof_ln(double x)
{
    union { double d; uint64_t u; } v = { .d = x };
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1023) << 52);
    double t = (v.d - 1) / (v.d + 1), t2 = t * t, sum = 0, term = t;
    for (int k = 1; k <= 19; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return e * 0.69314718055994530942 + 2 * sum;
}

/* Bytes until the next sample: exponential with mean opt.prof_sample. */
SC_COLD static int64_t prof_interval(tcache_t *tc)
{
    /* u in (0, 1]: 53 random bits, never 0. */
    double u = (double)((tcache_random(tc) >> 11) + 1) * (1.0 / 9007199254740992.0);
    double bytes = -prof_ln(u) * (double)opt.prof_sample;
    return bytes < 1 ? 1 : bytes > 9e18 ? INT64_MAX : (int64_t)bytes;
}

/* ---- backtraces -------------------------------------------------------- */

typedef struct unwind_state {
    void **frames;
    unsigned n, max;
} unwind_state_t;

typedef _Unwind_Reason_Code (*unwind_backtrace_fn)(_Unwind_Trace_Fn, void *);
typedef _Unwind_Ptr (*unwind_get_ip_fn)(struct _Unwind_Context *);
static unwind_get_ip_fn unwind_get_ip;
static unwind_backtrace_fn unwind_backtrace; /* set last (release): then both are usable */

SC_COLD static _Unwind_Reason_Code unwind_step(struct _Unwind_Context *ctx, void *arg)
{
    unwind_state_t *st = arg;
    uintptr_t ip = unwind_get_ip(ctx);
    if (!ip || st->n == st->max) return _URC_END_OF_STACK;
    st->frames[st->n++] = (void *)ip;
    return _URC_NO_REASON;
}

/* Fills frames with the return addresses from the allocator's caller
 * outwards. The frames inside scmalloc are dropped by finding the caller's
 * address (what the public entry point saw as its return address); if it is
 * not found (a tail call), every frame is kept. */
SC_COLD static unsigned prof_backtrace(void **frames, const void *caller)
{
    void *raw[PROF_MAX_DEPTH + 16];
    unwind_state_t st = { raw, 0, PROF_MAX_DEPTH + 16 };
    unwind_backtrace_fn backtrace = __atomic_load_n(&unwind_backtrace, __ATOMIC_ACQUIRE);
    if (!backtrace) {
        frames[0] = (void *)caller;
        return 1;
    }
    backtrace(unwind_step, &st);
    unsigned first = 0;
    for (unsigned i = 0; i < st.n; i++)
        if (raw[i] == caller) { first = i; break; }
    unsigned depth = st.n - first < PROF_MAX_DEPTH ? st.n - first : PROF_MAX_DEPTH;
    memcpy(frames, raw + first, depth * sizeof(void *));
    return depth;
}

SC_COLD static uint64_t hash_frames(void *const *frames, unsigned depth)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (unsigned i = 0; i < depth; i++) h = (h ^ (uintptr_t)frames[i]) * 0x100000001b3u;
    return h ^ (h >> 29);
}

/* The table's entry for this backtrace, created if new. Under prof_lock. */
SC_COLD static prof_bt_t *bt_intern(void *const *frames, unsigned depth)
{
    uint64_t h = hash_frames(frames, depth);
    prof_bt_t **bucket = &bt_buckets[h % PROF_BT_BUCKETS];
    for (prof_bt_t *bt = *bucket; bt; bt = bt->next)
        if (bt->hash == h && bt->depth == depth && !memcmp(bt->frames, frames, depth * sizeof(void *)))
            return bt;
    prof_bt_t *bt = base_alloc(sizeof(*bt) + depth * sizeof(void *));
    if (!bt) return NULL;
    memset(bt, 0, sizeof(*bt));
    bt->hash = h;
    bt->depth = depth;
    memcpy(bt->frames, frames, depth * sizeof(void *));
    bt->next = *bucket;
    *bucket = bt;
    return bt;
}

SC_COLD static size_t obj_bucket(const void *p)
{
    uint64_t x = (uintptr_t)p * 0x9e3779b97f4a7c15u;
    return (size_t)(x >> 48) & (PROF_OBJ_BUCKETS - 1);
}

/* ---- the hooks ---------------------------------------------------------- */

void prof_init(void)
{
    mutex_init(&prof_lock);
    if (_Unwind_Backtrace && _Unwind_GetIP) {
        unwind_get_ip = _Unwind_GetIP;
        __atomic_store_n(&unwind_backtrace, _Unwind_Backtrace, __ATOMIC_RELEASE);
    }
}

void prof_start(void)
{
    if (!opt.prof || __atomic_load_n(&unwind_backtrace, __ATOMIC_ACQUIRE)) return;
    /* dlopen allocates: the allocator is ready, and what it allocates here
     * is sampled with one-frame traces. */
    void *h = dlopen && dlsym ? dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL) : NULL;
    unwind_get_ip_fn get_ip = h ? (unwind_get_ip_fn)dlsym(h, "_Unwind_GetIP") : NULL;
    unwind_backtrace_fn backtrace = h ? (unwind_backtrace_fn)dlsym(h, "_Unwind_Backtrace") : NULL;
    if (!get_ip || !backtrace) {
        fmt_stderr("scmalloc: warning: prof: libgcc_s.so.1 could not be loaded; backtraces hold only the allocator's caller\n");
        return;
    }
    unwind_get_ip = get_ip;
    __atomic_store_n(&unwind_backtrace, backtrace, __ATOMIC_RELEASE);
}

SC_COLD static void prof_sample(tcache_t *tc, void *p, size_t size, const void *caller)
{
    tc->prof_busy = true; /* the unwinder may allocate: not sampled */
    void *frames[PROF_MAX_DEPTH];
    unsigned depth = prof_backtrace(frames, caller);
    mutex_lock(&prof_lock);
    prof_bt_t *bt = bt_intern(frames, depth);
    prof_obj_t *o = obj_free_list;
    if (o) obj_free_list = o->next;
    else o = base_alloc(sizeof(*o));
    if (bt && o) {
        bt->live_n++;
        bt->live_bytes += size;
        bt->total_n++;
        bt->total_bytes += size;
        *o = (prof_obj_t){ .ptr = p, .size = size, .bt = bt };
        prof_obj_t **bucket = &obj_buckets[obj_bucket(p)];
        o->next = *bucket;
        __atomic_store_n(bucket, o, __ATOMIC_RELEASE);
    } else if (o) {
        o->next = obj_free_list;
        obj_free_list = o;
    }
    mutex_unlock(&prof_lock);
    tc->prof_busy = false;
}

SC_COLD void prof_alloc(void *p, size_t size, const void *caller)
{
    tcache_t *tc = tcache_current();
    /* Threads without a cache of their own (exiting, or out of memory) are
     * not sampled: they have nowhere to keep a countdown. */
    if (!tcache_is_own(tc) || tc->prof_busy) return;
    /* 0 only in a new cache: after a sample the count is at least 1. */
    if (tc->prof_left == 0) tc->prof_left = prof_interval(tc);
    tc->prof_left -= (int64_t)size;
    if (tc->prof_left > 0) return;
    /* Memoryless: the next interval starts afresh after a sample. */
    tc->prof_left = prof_interval(tc);
    prof_sample(tc, p, size, caller);
}

SC_COLD void prof_free(void *p)
{
    prof_obj_t **bucket = &obj_buckets[obj_bucket(p)];
    if (!__atomic_load_n(bucket, __ATOMIC_ACQUIRE)) return;
    mutex_lock(&prof_lock);
    for (prof_obj_t **link = bucket, *o; (o = *link); link = &o->next) {
        if (o->ptr != p) continue;
        *link = o->next;
        o->bt->live_n--;
        o->bt->live_bytes -= o->size;
        o->next = obj_free_list;
        obj_free_list = o;
        break;
    }
    mutex_unlock(&prof_lock);
}

/* ---- the dump ------------------------------------------------------------- */

typedef struct dump_writer {
    int fd;
    int err;
    size_t len;
    char buf[4096];
} dump_writer_t;

SC_COLD static void dump_flush(dump_writer_t *w)
{
    for (size_t off = 0; off < w->len && !w->err;) {
        long n = os_write(w->fd, w->buf + off, w->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) w->err = n < 0 ? errno : EIO;
        else off += (size_t)n;
    }
    w->len = 0;
}

SC_COLD static void dump_printf(dump_writer_t *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (w->len + n > sizeof(w->buf)) dump_flush(w);
    memcpy(w->buf + w->len, line, n);
    w->len += n;
}

SC_COLD static void dump_maps(dump_writer_t *w)
{
    dump_flush(w);
    int fd = os_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return;
    for (;;) {
        long n = os_read(fd, w->buf, sizeof(w->buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        w->len = (size_t)n;
        dump_flush(w);
        if (w->err) break;
    }
    os_close(fd);
}

/* Under prof_lock. */
SC_COLD static void dump_profile(dump_writer_t *w)
{
    uint64_t live_n = 0, live_bytes = 0, total_n = 0, total_bytes = 0;
    for (size_t i = 0; i < PROF_BT_BUCKETS; i++)
        for (prof_bt_t *bt = bt_buckets[i]; bt; bt = bt->next) {
            live_n += bt->live_n;
            live_bytes += bt->live_bytes;
            total_n += bt->total_n;
            total_bytes += bt->total_bytes;
        }
    dump_printf(w, "heap profile: %llu: %llu [%llu: %llu] @ heap_v2/%llu\n", (unsigned long long)live_n,
                (unsigned long long)live_bytes, (unsigned long long)total_n, (unsigned long long)total_bytes,
                (unsigned long long)opt.prof_sample);
    for (size_t i = 0; i < PROF_BT_BUCKETS; i++)
        for (prof_bt_t *bt = bt_buckets[i]; bt; bt = bt->next) {
            dump_printf(w, "%llu: %llu [%llu: %llu] @", (unsigned long long)bt->live_n,
                        (unsigned long long)bt->live_bytes, (unsigned long long)bt->total_n,
                        (unsigned long long)bt->total_bytes);
            /* pprof subtracts 1 from every address but the first, to land
             * inside the call instruction; ours are all return addresses. */
            for (unsigned f = 0; f < bt->depth; f++)
                dump_printf(w, " %p", (void *)((uintptr_t)bt->frames[f] - (f == 0)));
            dump_printf(w, "\n");
        }
    dump_printf(w, "\nMAPPED_LIBRARIES:\n");
    dump_maps(w);
}

SC_COLD int prof_dump(const char *path)
{
    if (!opt.prof || !malloc_init()) return ENOENT;
    char name[SC_OPTION_STRING_MAX + 48];
    if (!path) {
        unsigned seq = __atomic_fetch_add(&dump_seq, 1, __ATOMIC_RELAXED);
        fmt_format(name, sizeof(name), "%s.%d.%u.heap", opt.prof_prefix, (int)getpid(), seq);
        path = name;
    }
    int fd = os_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    SC_SPARSE static dump_writer_t w; /* 4 KiB: not on a thread's stack; guarded by prof_lock */
    mutex_lock(&prof_lock);
    w.fd = fd;
    w.err = 0;
    w.len = 0;
    dump_profile(&w);
    dump_flush(&w);
    int err = w.err;
    mutex_unlock(&prof_lock);
    if (os_close(fd) != 0 && !err) err = errno;
    return err;
}

void prof_fini(void)
{
    if (!opt.prof || !opt.prof_final) return;
    int err = prof_dump(NULL);
    if (err) fmt_stderr("scmalloc: prof: cannot write the final heap profile (errno %d)\n", err);
}

void prof_prefork(void) { mutex_lock(&prof_lock); }
void prof_postfork_parent(void) { mutex_unlock(&prof_lock); }
void prof_postfork_child(void) { mutex_reinit(&prof_lock); }
