/*
 * fork_prepare.c: a program's pthread_atfork handlers may allocate. glibc
 * runs prepare handlers in the reverse order of registration, so
 * scmalloc's (which take every allocator lock) must be registered before
 * the program's and run after them. Here main() registers handlers that
 * allocate blocks of every kind (sizes this thread has not used yet, so
 * they miss the thread cache and take bin, arena and huge locks) before
 * anything else, then starts a thread, then forks 20 times with a worker
 * allocating meanwhile. A fork that hangs in a handler is caught by the
 * alarm: a failure, never a hang. The children allocate too.
 *
 * SCTEST: variants=release,debug,secure timeout=120
 */
#include "../harness.h"
#include <pthread.h>
#include <sys/wait.h>

enum { FORKS = 20, ALARM_S = 30 };

static const size_t sizes[] = { 24, 200, 3000, 9000, 40000, 100000, 700000, 5000000 };
#define NSIZES (sizeof sizes / sizeof sizes[0])
static volatile unsigned long handler_blocks;

/* Each call uses sizes not used before (the offset grows), so no block
 * comes out of the thread cache. */
static void allocate_all(unsigned round)
{
    for (size_t i = 0; i < NSIZES; i++) {
        size_t size = sizes[i] + 16 * round;
        unsigned char *p = malloc(size);
        if (!p) abort();
        memset(p, 0x33, size < 4096 ? size : 4096);
        p[size - 1] = 0x44;
        free(p);
        handler_blocks++;
    }
}

static unsigned rounds;
static void prepare(void) { allocate_all(++rounds); }
static void parent(void) { allocate_all(++rounds); }
static void child(void) { allocate_all(++rounds); }

static volatile int stop;

static void *worker(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!stop) {
        void *p = malloc(sizes[n % NSIZES] + n % 64);
        if (!p) return (void *)1;
        memset(p, 1, 16);
        free(p);
        n++;
    }
    return NULL;
}

int main(void)
{
    CHECK(pthread_atfork(prepare, parent, child) == 0);
    alarm(ALARM_S);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            allocate_all(1000);
            _exit(0);
        }
        CHECKF(pid > 0, "fork failed");
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %#x", i, status);
    }
    stop = 1;
    void *ret;
    CHECK(pthread_join(t, &ret) == 0 && ret == NULL);
    CHECKF(handler_blocks == 2 * FORKS * NSIZES, "the handlers allocated %lu blocks", handler_blocks);
    return harness_summary();
}
