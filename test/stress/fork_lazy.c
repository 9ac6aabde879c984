/*
 * fork_lazy.c: the main thread allocates only before it starts a worker
 * and not again until it is done forking, so that every lock the children
 * need is the worker's: with one arena (the program runs itself again with
 * SCMALLOC_CONF=narenas:1), the very bin, arena, huge and base locks that
 * the worker takes all the time. (Its name is from when scmalloc
 * registered its fork handlers lazily, on the worker's first lock.)
 * The main thread forks 100 times; each child allocates and frees blocks
 * of every kind, frees a block the worker handed over, and _exits. A child
 * stuck on a lock that it inherited taken is killed by its own alarm: a
 * failure, never a hang. Without the handlers a child hangs in about
 * half of the runs (measured with pthread_atfork left out: 3 of 5 runs of
 * 100 forks, 0 of 1 of 200); stress/fork and stress/fork_prepare caught
 * it in every run.
 * It runs alone (test/run.sh runs other tests side by side): forks of a
 * process whose worker never stops writing are slow on a virtual machine,
 * and slower when they share the CPUs. Measured on a 2-CPU VM with 200
 * forks: 33 s alone, 65 s beside two busy loops, 171-180 s beside the
 * other tests of the suite (its timeout is 180). 100 forks, as now, take
 * about half of that (17-23 s in a full run).
 *
 * SCTEST: variants=release,debug timeout=180 alone
 */
#include "../harness.h"
#include <pthread.h>
#include <sys/wait.h>

enum { FORKS = 100, CHILD_ALARM = 10 };

static volatile int stop;
static void *volatile handed; /* a block the worker leaves for the children */

static void *worker(void *arg)
{
    (void)arg;
    enum { N = 256 };
    static void *v[N];
    uint64_t rng = 7;
    while (!stop) {
        for (int i = 0; i < N; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(rng >> 33);
            size_t size = r % 16 == 0 ? (size_t)(64 << 10) + r % (1 << 20)   /* large */
                        : r % 97 == 0 ? (size_t)(3 << 20)                     /* huge */
                        : 8 + r % 2000;                                       /* small */
            v[i] = malloc(size);
            if (!v[i]) { stop = 1; return (void *)1; }
            memset(v[i], 0x5a, 8);
        }
        if (!handed) { handed = v[0]; v[0] = NULL; }
        for (int i = 0; i < N; i++) free(v[i]);
    }
    return NULL;
}

static void child(void)
{
    alarm(CHILD_ALARM);
    static const size_t sizes[] = { 16, 200, 3000, 20000, 100 << 10, 1 << 20, 5 << 20 };
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = malloc(sizes[i]);
            if (!p) _exit(3);
            memset(p, (int)i, sizes[i]);
            if (p[sizes[i] - 1] != (unsigned char)i) _exit(4);
            free(p);
        }
    void *h = handed;
    if (h) free(h); /* the worker's block, freed into the shared arena */
    _exit(0);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!getenv("SCMALLOC_CONF")) {
        setenv("SCMALLOC_CONF", "narenas:1", 1);
        execv("/proc/self/exe", argv);
        CHECKF(0, "cannot run itself again: %s", strerror(errno));
        return harness_summary();
    }
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, worker, NULL) == 0);
    struct timespec pause = { 0, 2 * 1000 * 1000 };
    nanosleep(&pause, NULL); /* let the worker start */
    int failed = 0, hung = 0;
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        if (pid < 0) { failed++; break; }
        if (pid == 0) child();
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) { failed++; continue; }
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) { hung++; break; }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    stop = 1;
    void *ret = NULL;
    pthread_join(t, &ret);
    CHECKF(ret == NULL, "the worker ran out of memory");
    CHECKF(hung == 0, "a child hung on a lock it inherited taken");
    CHECKF(failed == 0, "%d of %d children failed", failed, FORKS);
    return harness_summary();
}
