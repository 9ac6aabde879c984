/*
 * fork.c: fork from a multi-threaded process must not deadlock or corrupt.
 * 8 threads allocate and free all the time (small, large, huge, some
 * freed by another thread) while the main thread forks 300 times, or as
 * many as fit in 30 s and at least 50 (a fork and its child's page
 * faults cost 0.5 s on a machine whose page faults cost 11 us, where 300
 * took 160-180 s of a CI run; about 100 fit in 60 s there). Each
 * child allocates, checks and frees small, large and huge blocks, starts
 * a thread that does the same, and _exit(0)s; every tenth child also runs
 * sc_heap_check(). A child that is not done within 20 s is killed by its
 * own alarm, and a parent stuck in fork() by a watchdog: a deadlock is a
 * failure, never a hang. The parent's threads keep checking their
 * patterns, and the parent's heap checks clean at the end.
 *
 * SCTEST: variants=release,debug,ubsan timeout=240
 */
#include "../harness.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

enum { THREADS = 8, FORKS = 300, MIN_FORKS = 50, BUDGET_S = 30, CHILD_ALARM = 20 };

static volatile int stop;
static unsigned long thread_errors;
static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static char *handoff;
static size_t handoff_n;

static void *churn(void *arg)
{
    uint64_t rng = 99 + (uintptr_t)arg;
    enum { N = 64 };
    char *p[N] = { 0 };
    size_t n[N] = { 0 };
    while (!stop) {
        int i = (int)(rng_next(&rng) % N);
        if (p[i]) {
            if (!PATTERN_OK(p[i], n[i], (uintptr_t)p[i]))
                __atomic_add_fetch(&thread_errors, 1, __ATOMIC_RELAXED);
            /* every so often swap a block with the hand-off slot, so frees
             * cross threads */
            if (rng_next(&rng) % 8 == 0) {
                pthread_mutex_lock(&handoff_lock);
                char *q = handoff;
                size_t qn = handoff_n;
                handoff = p[i];
                handoff_n = n[i];
                pthread_mutex_unlock(&handoff_lock);
                p[i] = q;
                n[i] = qn;
                if (p[i] && !PATTERN_OK(p[i], n[i], (uintptr_t)p[i]))
                    __atomic_add_fetch(&thread_errors, 1, __ATOMIC_RELAXED);
            }
            free(p[i]);
            p[i] = NULL;
        } else {
            uint64_t r = rng_next(&rng);
            size_t s = (r % 200 == 0) ? (5 << 20) + r % 4096      /* huge */
                     : (r % 20 == 0) ? 4096 + r % (200 << 10)     /* large */
                     : 1 + r % 600;                               /* small */
            p[i] = malloc(s);
            if (!p[i]) {
                __atomic_add_fetch(&thread_errors, 1, __ATOMIC_RELAXED);
                continue;
            }
            n[i] = s < 8192 ? s : 8192; /* pattern on the head only: keeps the pace */
            fill_pattern(p[i], n[i], (uintptr_t)p[i]);
        }
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    return NULL;
}

static int child_blocks(void)
{
    const size_t sizes[] = { 1, 24, 100, 1000, 4096, 30000, 100 << 10, 1 << 20, 5 << 20, 9 << 20 };
    enum { NS = sizeof sizes / sizeof sizes[0] };
    char *p[NS];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < NS; i++) {
            p[i] = malloc(sizes[i]);
            if (!p[i])
                return 2;
            fill_sparse(p[i], sizes[i], i + round);
        }
        for (int i = 0; i < NS; i++) {
            if (!sparse_ok(p[i], sizes[i], i + round))
                return 3;
            p[i] = realloc(p[i], sizes[i] + 100);
            if (!p[i] || !sparse_ok(p[i], sizes[i], i + round))
                return 4;
            free(p[i]);
        }
    }
    return 0;
}

static void *child_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)child_blocks();
}

static void child(int k)
{
    signal(SIGALRM, SIG_DFL); /* a stuck child dies by SIGALRM */
    alarm(CHILD_ALARM);
    int rc = child_blocks();
    if (rc)
        _exit(rc);
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0)
        _exit(5);
    void *r;
    pthread_join(t, &r);
    if (r)
        _exit(10 + (int)(intptr_t)r);
    /* the hand-off block, inherited from the parent, must be intact and
     * freeable here (unless a parent thread was mid-swap at the fork) */
    if (pthread_mutex_trylock(&handoff_lock) == 0) {
        if (handoff && !PATTERN_OK(handoff, handoff_n, (uintptr_t)handoff))
            _exit(6);
        free(handoff);
    }
    if (k % 10 == 0 && sc_heap_check() != 0)
        _exit(7);
    _exit(0);
}

/* What a child's exit status says (see child and child_blocks). */
static const char *child_status_text(int code)
{
    switch (code % 10) {
    case 2: return code > 10 ? ": malloc returned NULL in the child's thread"
                             : ": malloc returned NULL";
    case 3: return ": a block's pattern was damaged";
    case 4: return ": realloc lost content";
    case 5: return ": pthread_create failed";
    case 6: return ": the inherited hand-off block was damaged";
    case 7: return ": sc_heap_check found problems (see stderr)";
    default: return "";
    }
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i) == 0);

    int deadlocks = 0, failures = 0;
    double start = now_seconds();
    int forks = 0;
    for (int k = 0; k < FORKS && (k < MIN_FORKS || now_seconds() - start < BUDGET_S); k++) {
        forks = k + 1;
        fflush(NULL);
        harness_watchdog(CHILD_ALARM + 30, "fork() and waitpid() in the parent");
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0)
            child(k);
        int st;
        pid_t w;
        while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
            ;
        REQUIRE(w == pid);
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
            deadlocks++;
            FAILF("child %d (pid %d) did not finish in %d s: deadlock after fork", k,
                   (int)pid, CHILD_ALARM);
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            failures++;
            FAILF("child %d: %s %d%s", k, WIFSIGNALED(st) ? "killed by signal" : "exit status",
                  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                  WIFSIGNALED(st) ? "" : child_status_text(WEXITSTATUS(st)));
        }
        if (deadlocks + failures > 5)
            break;
    }
    double took = now_seconds() - start;
    harness_watchdog(60, "joining the parent's threads");
    stop = 1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    free(handoff);
    CHECKF(thread_errors == 0, "%lu damaged blocks or failed allocations in the parent's "
           "threads", thread_errors);
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems in the parent");
    fprintf(stderr, "%d forks in %.1f s: %d deadlocked, %d failed\n", forks, took, deadlocks,
            failures);
    return harness_summary();
}
