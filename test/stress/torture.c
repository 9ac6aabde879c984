/*
 * torture.c: threads, fork and signals at once, for a bounded time.
 *
 *  - 4 workers allocate and free random sizes (1 B .. 1 MiB, a few huge
 *    ones of 2.5 MiB) with malloc, calloc (checked zero), posix_memalign
 *    (checked aligned) and realloc (content checked); every block carries
 *    a pattern derived from (owner, sequence number), checked before it is
 *    freed, and about a fifth of the blocks go through a shared queue to
 *    be freed by another thread;
 *  - a spawner keeps creating and joining short-lived threads that do the
 *    same; half of them exit leaving blocks in the queue for others;
 *  - a forker forks again and again; each child checks and frees blocks it
 *    inherited (its own, and ones other threads queued), allocates and
 *    frees, runs sc_heap_check() and _exit()s; the parent requires exit
 *    status 0 from every child within CHILD_LIMIT seconds (polling, and a
 *    child's own alarm: a deadlock after fork is a failure, not a hang);
 *  - a signaller sends SIGUSR1 with pthread_kill to all these threads as
 *    fast as it can, so that signals land in the middle of malloc and free,
 *    in lock waits, in fork's handlers and in thread creation and exit.
 *    The handler only does async-signal-safe work: it counts, writes a
 *    record into a static ring and a pattern into a block its thread
 *    allocated beforehand (checked when the thread ends). The first half
 *    of the run installs it with SA_RESTART, the second half without, so
 *    that interrupted system calls return EINTR instead of restarting
 *    (glibc's mutexes retry an interrupted futex wait either way).
 *
 * At the end every thread is joined, every block checked and freed, and:
 * the counters show many signals delivered in each half (and to every
 * worker), enough of them while a thread was inside malloc, calloc,
 * realloc, posix_memalign or free, forks and thread spawns happened, no
 * child failed or hung, sc_heap_check() == 0, and stats.allocated is back
 * at its baseline.
 *
 * Runs for $SC_STRESS_SECONDS (default: 8 s on the debug build, 5 s
 * otherwise), at most twice that on a machine so loaded that few signals
 * get delivered, or too few forks and thread spawns happened (beside
 * other tests: 9 forks in 5.1 s once): the checks on these counts then
 * hold with a wide margin.
 *
 * SCTEST: variants=release,debug,ubsan,secure static timeout=90
 */
#include "../harness.h"
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

enum {
    WORKERS = 4,
    SLOTS = 160,          /* blocks a worker holds at most */
    QUEUE = 2048,         /* the cross-thread exchange */
    SPAWN_LIVE = 3,       /* short-lived threads alive at once */
    SPAWN_OPS = 400,      /* operations of one short-lived thread */
    SPAWN_SLOTS = 32,
    FORK_BLOCKS = 8,      /* blocks the forker holds for its children */
    CHILD_LIMIT = 15,     /* seconds a child may take */
    TARGETS = 16,         /* threads the signaller may hit at once */
    RING = 1024,          /* records written by the signal handler */
    SCRATCH = 64,         /* bytes of a thread's signal scratch block */
    WARM_THREADS = 24,    /* more than ever alive at once in the test */
    MIN_HALF_SIGNALS = 500,  /* signals each half of the run must deliver */
    MIN_WORKER_SIGNALS = 20, /* and each worker must receive */
    MIN_INSIDE_SIGNALS = 100, /* signals that must land inside malloc & co */
    MIN_FORKS = 10,          /* children the run must fork */
    MIN_SPAWNED = 20,        /* short-lived threads it must start */
};

/* Owner ids, the high bits of every pattern seed. */
enum { OWNER_WORKER = 1, OWNER_FORKER = 50, OWNER_CHILD = 60, OWNER_SPAWNED = 100 };

typedef struct {
    char *p;
    size_t n;
    uint64_t seed;
    unsigned owner;
    int orphan; /* left in the queue by a short-lived thread as it ended */
} block_t;

static volatile int stop;        /* workers, spawner, forker: finish */
static volatile int stop_signals; /* signaller: finish */

/* ---- totals, added by each thread at its end ---- */
static unsigned long total_ops, total_remote, total_orphans, total_errors;
static unsigned long total_spawned, total_forks, total_sent;

/* ---- the exchange queue: a bounded ring under a mutex ---- */
static struct {
    pthread_mutex_t lock;
    block_t b[QUEUE];
    unsigned head, tail; /* tail - head = occupancy */
} xq = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int xq_push(block_t b)
{
    int ok = 0;
    pthread_mutex_lock(&xq.lock);
    if (xq.tail - xq.head < QUEUE) {
        xq.b[xq.tail++ % QUEUE] = b;
        ok = 1;
    }
    pthread_mutex_unlock(&xq.lock);
    return ok;
}

static int xq_pop(block_t *b)
{
    int ok = 0;
    pthread_mutex_lock(&xq.lock);
    if (xq.tail != xq.head) {
        *b = xq.b[xq.head++ % QUEUE];
        ok = 1;
    }
    pthread_mutex_unlock(&xq.lock);
    return ok;
}

/* ---- patterns ---- */

/* Patterns are sparse on big blocks (harness.h), so that a 1 MiB block
 * costs a few KiB of writes and the run keeps its pace. */
static int block_ok(const block_t *b)
{
    return sparse_ok(b->p, b->n, b->seed);
}

/* Whether the first `keep` bytes of a block that fill_sparse(p, n, seed)
 * wrote are intact: what realloc must preserve. */
static int sparse_prefix_ok(const char *p, size_t n, size_t keep, uint64_t seed)
{
    if (keep > n)
        keep = n;
    if (n <= 4 * SPARSE_EDGE)
        return PATTERN_OK(p, keep, seed); /* any prefix of a pattern is one */
    if (!PATTERN_OK(p, keep < SPARSE_EDGE ? keep : SPARSE_EDGE, seed))
        return 0;
    for (size_t o = SPARSE_EDGE; o + 8 <= n - SPARSE_EDGE && o + 8 <= keep; o += 4096) {
        uint64_t w = mix64(seed ^ o), got;
        memcpy(&got, p + o, 8);
        if (got != w)
            return 0;
    }
    size_t tail = n - SPARSE_EDGE;
    if (keep > tail && !PATTERN_OK(p + tail, keep - tail, seed + 1))
        return 0;
    return 1;
}

static unsigned long report_damage(const block_t *b, const char *who)
{
    fprintf(stderr, "%s: block %p of %zu bytes (owner %u, seed %#llx) damaged\n", who,
            (void *)b->p, b->n, b->owner, (unsigned long long)b->seed);
    return 1;
}

/* 1 B .. 1 MiB, skewed towards small sizes; 1 in 500 is huge (own mapping). */
static size_t random_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    unsigned pick = r % 1000;
    r >>= 10;
    if (pick < 650)
        return 1 + r % 256;
    if (pick < 850)
        return 1 + r % 4096;
    if (pick < 950)
        return 1 + r % (64 << 10);
    if (pick < 998)
        return 1 + r % (1 << 20);
    return (5 << 19) + r % 4096; /* 2.5 MiB: above SC_LARGE_MAX */
}

/* ---- the signal side ---- */

/* What the handler writes: who was hit, and the running count. */
typedef struct {
    volatile sig_atomic_t target;
    volatile sig_atomic_t count;
} sig_record_t;

static sig_record_t sig_ring[RING];
static unsigned long sig_total;        /* handler runs, all threads */
static __thread int tls_target = -1;   /* this thread's signaller slot */
static __thread volatile sig_atomic_t tls_hits; /* handler runs in this thread */
static __thread unsigned char *volatile tls_scratch; /* malloc'd before signals come */

/* Set around the allocator calls of workers and short-lived threads, so
 * that the handler can count the signals that interrupted one. */
static __thread volatile sig_atomic_t tls_in_allocator;
static unsigned long sig_in_allocator;

#define IN_ALLOCATOR(call)                                       \
    __extension__({                                              \
        tls_in_allocator = 1;                                    \
        __typeof__(call) result_ = (call);                       \
        tls_in_allocator = 0;                                    \
        result_;                                                 \
    })

static void free_counted(void *p)
{
    tls_in_allocator = 1;
    free(p);
    tls_in_allocator = 0;
}

static unsigned char scratch_byte(long hits, int i)
{
    return (unsigned char)(hits * 131 + i * 7 + 1);
}

/* Async-signal-safe: an atomic add (lock-free), plain stores to static
 * memory and to a block this thread owns, errno untouched. */
static void on_sigusr1(int sig)
{
    (void)sig;
    unsigned long n = __atomic_add_fetch(&sig_total, 1, __ATOMIC_RELAXED);
    long hits = ++tls_hits;
    if (tls_in_allocator)
        __atomic_add_fetch(&sig_in_allocator, 1, __ATOMIC_RELAXED);
    sig_ring[n % RING].target = tls_target;
    sig_ring[n % RING].count = (sig_atomic_t)n;
    unsigned char *s = tls_scratch;
    if (s)
        for (int i = 0; i < SCRATCH; i++)
            s[i] = scratch_byte(hits, i);
}

static void install_handler(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
}

/* The threads the signaller hits. A thread enters itself before it starts
 * its work and leaves before it ends; pthread_kill runs under the lock, so
 * it never names a thread that has left (and may be gone). */
static struct {
    pthread_mutex_t lock;
    pthread_t thread[TARGETS];
    int used[TARGETS];
} targets = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void target_enter(void)
{
    unsigned char *s = malloc(SCRATCH);
    REQUIRE(s != NULL);
    memset(s, 0, SCRATCH);
    tls_scratch = s; /* zeroed before the handler may write to it */
    pthread_mutex_lock(&targets.lock);
    for (int i = 0; i < TARGETS; i++)
        if (!targets.used[i]) {
            targets.used[i] = 1;
            targets.thread[i] = pthread_self();
            tls_target = i;
            break;
        }
    pthread_mutex_unlock(&targets.lock);
    REQUIRE(tls_target >= 0);
}

/* Leaves the signaller's list, blocks SIGUSR1, and checks that the last
 * handler run left its pattern in the scratch block (the allocator gave
 * that memory to no one else). Returns the errors found (0 or 1) and the
 * signals received in *hits. */
static unsigned long target_leave(long *hits)
{
    pthread_mutex_lock(&targets.lock);
    targets.used[tls_target] = 0;
    pthread_mutex_unlock(&targets.lock);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* a pending one is dropped at exit */
    unsigned long errors = 0;
    *hits = tls_hits;
    unsigned char *s = tls_scratch;
    tls_scratch = NULL;
    for (int i = 0; i < SCRATCH; i++) {
        unsigned char want = *hits ? scratch_byte(*hits, i) : 0;
        if (s[i] != want) {
            fprintf(stderr, "signal scratch block %p: byte %d is %#x, want %#x after %ld "
                    "signals\n", (void *)s, i, s[i], want, *hits);
            errors = 1;
            break;
        }
    }
    free(s);
    return errors;
}

static void *signaller(void *arg)
{
    (void)arg;
    uint64_t rng = 4242;
    unsigned long sent = 0;
    while (!stop_signals) {
        pthread_mutex_lock(&targets.lock);
        for (int i = 0; i < TARGETS; i++)
            if (targets.used[i] && pthread_kill(targets.thread[i], SIGUSR1) == 0)
                sent++;
        pthread_mutex_unlock(&targets.lock);
        /* Mostly back-to-back; now and then a pause, so that the targets
         * run long stretches too and signals land at varied points. */
        uint64_t r = rng_next(&rng) % 16;
        if (r == 0) {
            struct timespec ts = { 0, 50000 };
            nanosleep(&ts, NULL);
        } else if (r < 4) {
            sched_yield();
        }
    }
    __atomic_add_fetch(&total_sent, sent, __ATOMIC_RELAXED);
    return NULL;
}

/* ---- one random operation on a set of slots (workers and spawned) ---- */

typedef struct {
    unsigned owner;
    const char *name;
    uint64_t rng, seq;
    unsigned long ops, remote, orphans, errors;
} actor_t;

static void fill_block(actor_t *a, block_t *b, char *p, size_t n)
{
    b->p = p;
    b->n = n;
    b->owner = a->owner;
    b->orphan = 0;
    b->seed = ((uint64_t)a->owner << 40) ^ ++a->seq;
    fill_sparse(p, n, b->seed);
}

static void new_block(actor_t *a, block_t *b)
{
    uint64_t r = rng_next(&a->rng);
    size_t n = random_size(&a->rng);
    char *p = NULL;
    switch (r % 16) {
    case 0:
    case 1:
        p = IN_ALLOCATOR(calloc(1, n));
        if (p) {
            /* all of a small block; the two ends of a big one */
            size_t edge = n < 2 * SPARSE_EDGE ? n : SPARSE_EDGE;
            if (find_byte_not(p, edge, 0) != (size_t)-1 ||
                find_byte_not(p + n - edge, edge, 0) != (size_t)-1) {
                fprintf(stderr, "%s: calloc(1, %zu) = %p not zeroed\n", a->name, n, (void *)p);
                a->errors++;
            }
        }
        break;
    case 2:
    case 3: {
        size_t align = (size_t)16 << (r >> 8) % 13; /* 16 B .. 64 KiB */
        void *q = NULL;
        int rc = IN_ALLOCATOR(posix_memalign(&q, align, n));
        if (rc != 0 || !is_aligned(q, align)) {
            fprintf(stderr, "%s: posix_memalign(%zu, %zu) = %d, %p\n", a->name, align, n, rc, q);
            a->errors++;
            if (rc == 0)
                free(q);
            return;
        }
        p = q;
        break;
    }
    default:
        p = IN_ALLOCATOR(malloc(n));
    }
    if (!p) {
        fprintf(stderr, "%s: allocation of %zu bytes failed\n", a->name, n);
        a->errors++;
        return;
    }
    if (malloc_usable_size(p) < n) {
        fprintf(stderr, "%s: malloc_usable_size(%p) = %zu < %zu\n", a->name, (void *)p,
                malloc_usable_size(p), n);
        a->errors++;
    }
    fill_block(a, b, p, n);
}

/* Resizes b, checks what realloc kept, and writes a fresh pattern. */
static void realloc_block(actor_t *a, block_t *b)
{
    size_t nn = random_size(&a->rng);
    char *q = IN_ALLOCATOR(realloc(b->p, nn));
    if (!q) {
        fprintf(stderr, "%s: realloc(%p, %zu) failed\n", a->name, (void *)b->p, nn);
        a->errors++;
        free_counted(b->p);
        b->p = NULL;
        return;
    }
    if (!sparse_prefix_ok(q, b->n, nn, b->seed)) {
        fprintf(stderr, "%s: realloc of %zu-byte block (seed %#llx) to %zu bytes lost content "
                "(now at %p)\n", a->name, b->n, (unsigned long long)b->seed, nn, (void *)q);
        a->errors++;
    }
    fill_block(a, b, q, nn);
}

static void step(actor_t *a, block_t *slot, int nslots)
{
    block_t *b = &slot[rng_next(&a->rng) % nslots];
    if (b->p) {
        if (!block_ok(b))
            a->errors += report_damage(b, a->name);
        uint64_t r = rng_next(&a->rng) % 10;
        if (r < 2 && xq_push(*b)) {
            b->p = NULL; /* someone else frees it */
        } else if (r == 2) {
            realloc_block(a, b);
        } else {
            free_counted(b->p);
            b->p = NULL;
        }
    } else {
        new_block(a, b);
    }
    /* free what others queued, after checking it */
    block_t got;
    if ((a->ops & 1) && xq_pop(&got)) {
        if (!block_ok(&got))
            a->errors += report_damage(&got, a->name);
        free_counted(got.p);
        a->remote++;
        if (got.orphan)
            a->orphans++;
    }
    a->ops++;
}

static void actor_done(actor_t *a)
{
    __atomic_add_fetch(&total_ops, a->ops, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_remote, a->remote, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_orphans, a->orphans, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_errors, a->errors, __ATOMIC_RELAXED);
}

/* ---- workers ---- */

static long worker_hits[WORKERS];

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[32];
    snprintf(name, sizeof name, "worker %d", id);
    actor_t a = { .owner = OWNER_WORKER + id, .name = name, .rng = 0x9e37ull * (id + 1) };
    block_t slot[SLOTS];
    memset(slot, 0, sizeof slot);
    target_enter();
    while (!stop)
        for (int k = 0; k < 64; k++)
            step(&a, slot, SLOTS);
    for (int i = 0; i < SLOTS; i++)
        if (slot[i].p) {
            if (!block_ok(&slot[i]))
                a.errors += report_damage(&slot[i], name);
            free(slot[i].p);
            slot[i].p = NULL;
        }
    a.errors += target_leave(&worker_hits[id]);
    actor_done(&a);
    return NULL;
}

/* ---- the spawner and its short-lived threads ---- */

static void *short_lived(void *arg)
{
    unsigned k = (unsigned)(uintptr_t)arg;
    char name[32];
    snprintf(name, sizeof name, "spawned thread %u", k);
    actor_t a = { .owner = OWNER_SPAWNED + k % 100000, .name = name, .rng = 0x5eedull + k };
    block_t slot[SPAWN_SLOTS];
    memset(slot, 0, sizeof slot);
    target_enter();
    for (int i = 0; i < SPAWN_OPS && !stop; i++)
        step(&a, slot, SPAWN_SLOTS);
    /* Odd threads exit holding blocks: the queue takes them, and workers,
     * the forker or main free them after this thread is gone. */
    for (int i = 0; i < SPAWN_SLOTS; i++)
        if (slot[i].p) {
            if (!block_ok(&slot[i]))
                a.errors += report_damage(&slot[i], name);
            slot[i].orphan = 1;
            if (!(k & 1) || !xq_push(slot[i]))
                free(slot[i].p);
        }
    long hits;
    a.errors += target_leave(&hits);
    actor_done(&a);
    return NULL;
}

static void *spawner(void *arg)
{
    (void)arg;
    pthread_t live[SPAWN_LIVE];
    int alive[SPAWN_LIVE] = { 0 };
    unsigned n = 0, failed = 0;
    target_enter();
    while (!stop) {
        int i = n % SPAWN_LIVE; /* the oldest: joined, then replaced */
        if (alive[i])
            pthread_join(live[i], NULL);
        alive[i] = 0;
        int rc = pthread_create(&live[i], NULL, short_lived, (void *)(uintptr_t)n);
        if (rc != 0) {
            failed++;
            fprintf(stderr, "spawner: pthread_create failed: %s\n", strerror(rc));
            break;
        }
        alive[i] = 1;
        n++;
        __atomic_add_fetch(&total_spawned, 1, __ATOMIC_RELAXED);
    }
    for (int i = 0; i < SPAWN_LIVE; i++)
        if (alive[i])
            pthread_join(live[i], NULL);
    long hits;
    unsigned long errors = target_leave(&hits) + failed;
    __atomic_add_fetch(&total_errors, errors, __ATOMIC_RELAXED);
    return NULL;
}

/* ---- the forker ---- */

static block_t fork_block[FORK_BLOCKS]; /* intact whenever this thread forks */

/* Child exit statuses. */
enum {
    CHILD_OK, CHILD_INHERITED, CHILD_QUEUED, CHILD_NOMEM, CHILD_PATTERN, CHILD_REALLOC,
    CHILD_CALLOC, CHILD_HEAP,
};

static const char *child_status_text(int code)
{
    switch (code) {
    case CHILD_INHERITED: return "a block the forker held was damaged in the child";
    case CHILD_QUEUED: return "a queued block (another thread's) was damaged in the child";
    case CHILD_NOMEM: return "an allocation failed in the child";
    case CHILD_PATTERN: return "a block the child allocated was damaged";
    case CHILD_REALLOC: return "realloc lost content in the child";
    case CHILD_CALLOC: return "calloc memory not zeroed in the child";
    case CHILD_HEAP: return "sc_heap_check found problems in the child (see stderr)";
    default: return "unknown exit status";
    }
}

static void child(unsigned k)
{
    signal(SIGALRM, SIG_DFL); /* a stuck child dies by SIGALRM */
    alarm(CHILD_LIMIT - 2);
    for (int i = 0; i < FORK_BLOCKS; i++) {
        if (!block_ok(&fork_block[i]))
            _exit(CHILD_INHERITED);
        free(fork_block[i].p);
    }
    /* Blocks other threads queued, unless one of them held the queue's
     * lock when this process was forked. */
    if (pthread_mutex_trylock(&xq.lock) == 0) {
        for (int i = 0; i < 16 && xq.tail != xq.head; i++) {
            block_t b = xq.b[xq.head++ % QUEUE];
            if (!block_ok(&b))
                _exit(CHILD_QUEUED);
            free(b.p);
        }
        pthread_mutex_unlock(&xq.lock);
    }
    static const size_t sizes[] = { 1, 24, 100, 1000, 4096, 30000, 100 << 10, 1 << 20, 3 << 20 };
    enum { NS = sizeof sizes / sizeof sizes[0] };
    char *p[NS];
    for (int i = 0; i < NS; i++) {
        p[i] = malloc(sizes[i]);
        if (!p[i])
            _exit(CHILD_NOMEM);
        fill_sparse(p[i], sizes[i], ((uint64_t)OWNER_CHILD << 40) ^ (k * NS + i));
    }
    for (int i = 0; i < NS; i++) {
        uint64_t seed = ((uint64_t)OWNER_CHILD << 40) ^ (k * NS + i);
        if (!sparse_ok(p[i], sizes[i], seed))
            _exit(CHILD_PATTERN);
        char *q = realloc(p[i], sizes[i] * 2 + 100);
        if (!q)
            _exit(CHILD_NOMEM);
        if (!sparse_prefix_ok(q, sizes[i], sizes[i], seed))
            _exit(CHILD_REALLOC);
        free(q);
    }
    char *z = calloc(1000, 10);
    if (!z)
        _exit(CHILD_NOMEM);
    if (find_byte_not(z, 10000, 0) != (size_t)-1)
        _exit(CHILD_CALLOC);
    free(z);
    if (sc_heap_check() != 0)
        _exit(CHILD_HEAP);
    _exit(CHILD_OK);
}

/* Waits for pid, polling, at most CHILD_LIMIT seconds; then kills it.
 * Returns 1 when it ended in time, with its status in *st. */
static int wait_child(pid_t pid, int *st)
{
    double limit = now_seconds() + CHILD_LIMIT;
    for (;;) {
        pid_t w = waitpid(pid, st, WNOHANG);
        if (w == pid)
            return 1;
        if (w < 0 && errno != EINTR) {
            FAILF("waitpid(%d): %s", (int)pid, strerror(errno));
            return 0;
        }
        if (now_seconds() > limit) {
            kill(pid, SIGKILL);
            while (waitpid(pid, st, 0) < 0 && errno == EINTR)
                ;
            return 0;
        }
        struct timespec ts = { 0, 1000000 }; /* EINTR just shortens it */
        nanosleep(&ts, NULL);
    }
}

static void *forker(void *arg)
{
    (void)arg;
    actor_t a = { .owner = OWNER_FORKER, .name = "forker", .rng = 777 };
    unsigned long forks = 0, failures = 0, hung = 0;
    target_enter();
    for (int i = 0; i < FORK_BLOCKS; i++)
        new_block(&a, &fork_block[i]);
    while (!stop && failures + hung < 5) {
        /* Renew one held block a round: with one another thread queued
         * (its allocator, maybe gone now) or with a new one. */
        block_t *b = &fork_block[forks % FORK_BLOCKS];
        if (b->p) {
            if (!block_ok(b))
                a.errors += report_damage(b, "forker");
            free(b->p);
            b->p = NULL;
        }
        if (!xq_pop(b))
            new_block(&a, b);
        else if (!block_ok(b))
            a.errors += report_damage(b, "forker (queued block)");
        if (!b->p) {
            /* new_block failed and said so; the child must find all blocks */
            new_block(&a, b);
            if (!b->p)
                break;
        }

        pid_t pid = fork();
        if (pid < 0) {
            FAILF("fork: %s", strerror(errno));
            break;
        }
        if (pid == 0)
            child((unsigned)forks);
        forks++;
        __atomic_add_fetch(&total_forks, 1, __ATOMIC_RELAXED);
        int st = 0;
        if (!wait_child(pid, &st)) {
            hung++;
            FAILF("child %lu (pid %d) still running after %d s: killed (deadlock after fork?)",
                  forks, (int)pid, CHILD_LIMIT);
        } else if (WIFSIGNALED(st)) {
            if (WTERMSIG(st) == SIGALRM)
                hung++;
            else
                failures++;
            FAILF("child %lu (pid %d) killed by signal %d%s", forks, (int)pid, WTERMSIG(st),
                  WTERMSIG(st) == SIGALRM ? " (its own alarm: deadlock after fork?)" : "");
        } else if (WEXITSTATUS(st) != 0) {
            failures++;
            FAILF("child %lu (pid %d) exit status %d: %s", forks, (int)pid, WEXITSTATUS(st),
                  child_status_text(WEXITSTATUS(st)));
        }
    }
    for (int i = 0; i < FORK_BLOCKS; i++)
        if (fork_block[i].p) {
            if (!block_ok(&fork_block[i]))
                a.errors += report_damage(&fork_block[i], "forker");
            free(fork_block[i].p);
            fork_block[i].p = NULL;
        }
    long hits;
    a.errors += target_leave(&hits);
    actor_done(&a);
    return NULL;
}

/* ---- main ---- */

static pthread_barrier_t warm_barrier;

static void *warm_thread(void *arg)
{
    (void)arg;
    free(malloc(64));
    pthread_barrier_wait(&warm_barrier);
    return NULL;
}

/* One half of the run: at least `seconds`, and on a loaded machine (where
 * the signaller gets little CPU) up to twice that, until `want` signals
 * were delivered, `want_inside` of them inside an allocator call, and
 * (since the run began) want_forks forks and want_spawned thread spawns.
 * Returns the signals delivered in it. */
static unsigned long run_half(double seconds, unsigned long want, unsigned long want_inside,
                              unsigned long want_forks, unsigned long want_spawned)
{
    unsigned long before = __atomic_load_n(&sig_total, __ATOMIC_RELAXED);
    unsigned long before_inside = __atomic_load_n(&sig_in_allocator, __ATOMIC_RELAXED);
    double start = now_seconds();
    for (;;) {
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
        double t = now_seconds() - start;
        unsigned long got = __atomic_load_n(&sig_total, __ATOMIC_RELAXED) - before;
        unsigned long inside = __atomic_load_n(&sig_in_allocator, __ATOMIC_RELAXED) -
                               before_inside;
        int enough = got >= want && inside >= want_inside &&
                      __atomic_load_n(&total_forks, __ATOMIC_RELAXED) >= want_forks &&
                      __atomic_load_n(&total_spawned, __ATOMIC_RELAXED) >= want_spawned;
        if ((t >= seconds && enough) || t >= 2 * seconds)
            return got;
    }
}

int main(void)
{
    const char *env = getenv("SC_STRESS_SECONDS");
    double seconds = env ? atof(env) : (!strcmp(test_variant(), "debug") ? 8 : 5);

    /* Start WARM_THREADS threads at once and join them: glibc keeps thread
     * stacks in a cache together with their TLS blocks (allocated with
     * malloc), so afterwards the stacks of the test's threads, never more
     * than this alive at once, come from that cache and only the allocator
     * can move stats.allocated. */
    pthread_t warm[WARM_THREADS];
    REQUIRE(pthread_barrier_init(&warm_barrier, NULL, WARM_THREADS) == 0);
    for (int i = 0; i < WARM_THREADS; i++)
        REQUIRE(pthread_create(&warm[i], NULL, warm_thread, NULL) == 0);
    for (int i = 0; i < WARM_THREADS; i++)
        pthread_join(warm[i], NULL);
    pthread_barrier_destroy(&warm_barrier);

    harness_watchdog(2 * (unsigned)seconds + 60, "the torture run (threads, forks, signals)");
    install_handler(1);
    size_t baseline = live_bytes();
    double start = now_seconds();

    pthread_t w[WORKERS], sp, fk, sg;
    for (int i = 0; i < WORKERS; i++)
        REQUIRE(pthread_create(&w[i], NULL, worker, (void *)(intptr_t)i) == 0);
    REQUIRE(pthread_create(&sp, NULL, spawner, NULL) == 0);
    REQUIRE(pthread_create(&fk, NULL, forker, NULL) == 0);
    REQUIRE(pthread_create(&sg, NULL, signaller, NULL) == 0);

    unsigned long first_half = run_half(seconds / 2, 2 * MIN_HALF_SIGNALS, MIN_INSIDE_SIGNALS, 0, 0);
    install_handler(0); /* interrupted system calls now fail with EINTR */
    unsigned long second_half = run_half(seconds / 2, 2 * MIN_HALF_SIGNALS, MIN_INSIDE_SIGNALS,
                                         2 * MIN_FORKS, 2 * MIN_SPAWNED);

    stop_signals = 1;
    pthread_join(sg, NULL);
    stop = 1;
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(sp, NULL);
    pthread_join(fk, NULL);
    double took = now_seconds() - start;
    harness_watchdog(30, "the final checks");

    unsigned long left = 0;
    block_t b;
    while (xq_pop(&b)) {
        if (!block_ok(&b))
            total_errors += report_damage(&b, "main");
        free(b.p);
        left++;
    }

    unsigned long delivered = __atomic_load_n(&sig_total, __ATOMIC_RELAXED);
    CHECKF(total_errors == 0, "%lu damaged blocks, failed allocations or other errors "
           "(see above)", total_errors);
    CHECKF(delivered > 1000, "only %lu signals delivered (%lu sent)", delivered, total_sent);
    CHECKF(first_half >= MIN_HALF_SIGNALS && second_half >= MIN_HALF_SIGNALS,
           "signals delivered: %lu with SA_RESTART, %lu without; want >= %d each", first_half,
           second_half, MIN_HALF_SIGNALS);
    unsigned long inside = __atomic_load_n(&sig_in_allocator, __ATOMIC_RELAXED);
    CHECKF(inside >= MIN_INSIDE_SIGNALS, "only %lu of %lu signals interrupted an allocator call",
           inside, delivered);
    for (int i = 0; i < WORKERS; i++)
        CHECKF(worker_hits[i] >= MIN_WORKER_SIGNALS, "worker %d received only %ld signals", i,
               worker_hits[i]);
    int ring_bad = 0;
    for (int i = 0; i < RING; i++)
        if (sig_ring[i].count != 0 &&
            (sig_ring[i].target < 0 || sig_ring[i].target >= TARGETS ||
             (unsigned long)sig_ring[i].count > delivered))
            ring_bad++;
    CHECKF(ring_bad == 0, "%d signal records out of range", ring_bad);
    CHECKF(total_forks >= MIN_FORKS, "only %lu forks in %.1f s", total_forks, took);
    CHECKF(total_spawned >= MIN_SPAWNED, "only %lu short-lived threads in %.1f s", total_spawned, took);
    CHECKF(total_ops >= 20000, "only %lu operations in %.1f s", total_ops, took);
    CHECKF(total_remote > total_ops / 50, "only %lu of %lu operations freed another thread's "
           "block", total_remote, total_ops);
    CHECKF(total_orphans > 0, "no block a short-lived thread left behind was freed by another "
           "thread");

    size_t problems = sc_heap_check();
    CHECKF(problems == 0, "sc_heap_check found %zu problems", problems);
    size_t after = live_bytes();
    CHECKF(after == baseline, "stats.allocated %zu before the threads, %zu after all was freed "
           "(%+ld bytes)", baseline, after, (long)(after - baseline));
    fprintf(stderr, "%.1f s: %lu operations (%lu freed by another thread, %lu of them left "
            "behind by short-lived threads), %lu threads spawned, %lu forks, %lu signals sent, %lu "
            "delivered (%lu with SA_RESTART, %lu inside an allocator call), %lu blocks left in the "
            "queue\n", took, total_ops, total_remote, total_orphans, total_spawned, total_forks,
            total_sent, delivered, first_half, inside, left);
    return harness_summary();
}
