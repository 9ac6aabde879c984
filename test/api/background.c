/*
 * background.c: the option background_thread. With it on, memory that a
 * program freed before it stopped calling the allocator altogether goes
 * back to the OS within the decay time and a pass of the thread: here
 * 40 MiB of huge blocks (kept by the huge cache for reuse otherwise) and
 * the dirty pages of four threads' blocks, freed before a sleep of 1.5 s
 * with dirty_decay_ms:300. The thread is named scmalloc_bg and blocks
 * every signal; a forked child has none until its first tick, then its
 * own. With the option off (the default) no thread is made.
 *
 * SCTEST: timeout=60
 */
#include "../harness.h"
#include <dirent.h>
#include <pthread.h>
#include <scmalloc.h>
#include <stdbool.h>
#include <sys/wait.h>

#define CONF_ON "background_thread:true,dirty_decay_ms:300"
#define CONF_OFF "dirty_decay_ms:300"

/* Resident bytes, read without allocating. */
static size_t rss_now(void)
{
    char buf[128];
    read_proc_file("/proc/self/statm", buf, sizeof buf);
    unsigned long vsz = 0, rss = 0;
    sscanf(buf, "%lu %lu", &vsz, &rss);
    return rss * page_size();
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {}
}

static bool running(void)
{
    bool on = false;
    size_t len = sizeof on;
    CHECK(sc_ctl("background_thread.running", &on, &len, NULL, 0) == 0);
    return on;
}

static uint64_t passes(void)
{
    uint64_t n = 0;
    size_t len = sizeof n;
    CHECK(sc_ctl("background_thread.passes", &n, &len, NULL, 0) == 0);
    return n;
}

/* The task id of this process's thread named scmalloc_bg, or 0. */
static long background_tid(void)
{
    DIR *d = opendir("/proc/self/task");
    REQUIRE(d);
    long found = 0;
    struct dirent *e;
    while ((e = readdir(d)) && !found) {
        if (e->d_name[0] == '.') continue;
        char path[64], comm[64];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        read_proc_file(path, comm, sizeof comm);
        if (!strcmp(comm, "scmalloc_bg\n")) found = atol(e->d_name);
    }
    closedir(d);
    return found;
}

static void *small_blocks(void *arg)
{
    enum { N = 3000 };
    void **p = malloc(N * sizeof *p);
    REQUIRE(p);
    for (int i = 0; i < N; i++) {
        REQUIRE((p[i] = malloc(200 + (size_t)(i % 40) * 100)));
        memset(p[i], 1, 200);
    }
    for (int i = 0; i < N; i++) free(p[i]);
    free(p);
    return arg;
}

/* Allocates, touches and frees 40 MiB of huge blocks and the blocks of
 * four threads. */
static void allocate_and_free(void)
{
    enum { H = 16 };
    void *h[H];
    for (int i = 0; i < H; i++) {
        size_t size = (size_t)(1 + i % 4) << 20;
        REQUIRE((h[i] = malloc(size)));
        memset(h[i], 1, size);
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++) REQUIRE(pthread_create(&t[i], NULL, small_blocks, NULL) == 0);
    for (int i = 0; i < 4; i++) REQUIRE(pthread_join(t[i], NULL) == 0);
    for (int i = 0; i < H; i++) free(h[i]);
}

static int child_after_fork(void)
{
    CHECK(!running());
    CHECK(background_tid() == 0);
    /* Calls for 400 ms: the thread cache's tick (every 256 requests of a
     * class, at most every 100 ms) starts the child's thread. */
    double end = now_seconds() + 0.4;
    while (now_seconds() < end) {
        for (int i = 0; i < 300; i++) free(opaque_ptr(malloc(64)));
        sleep_ms(5);
    }
    CHECK(running());
    CHECK(background_tid() != 0);
    return harness_summary();
}

static int run_on(void)
{
    allocate_and_free();
    size_t freed = rss_now();
    sleep_ms(1500); /* no call to the allocator */
    size_t idle = rss_now();
    CHECKF(idle + (30u << 20) <= freed, "resident %zu KiB after the frees, %zu KiB 1.5 s later",
           freed >> 10, idle >> 10);
    CHECK(running());
    CHECKF(passes() >= 3, "%llu passes", (unsigned long long)passes());

    long tid = background_tid();
    CHECK(tid != 0);
    if (tid) {
        char path[64], status[4096];
        snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
        read_proc_file(path, status, sizeof status);
        const char *blk = strstr(status, "SigBlk:");
        unsigned long long mask = 0;
        CHECK(blk && sscanf(blk, "SigBlk: %llx", &mask) == 1);
        const int sigs[] = { SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCHLD, SIGPIPE };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            CHECKF(mask & (1ull << (sigs[i] - 1)), "signal %d not blocked (SigBlk %llx)", sigs[i], mask);
    }

    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(child_after_fork());
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the forked child: status %#x", st);
    CHECK(running()); /* the parent's thread is still there */
    return harness_summary();
}

static int run_off(void)
{
    allocate_and_free();
    sleep_ms(300);
    CHECK(!running());
    CHECK(passes() == 0);
    CHECK(background_tid() == 0);
    return harness_summary();
}

/* Runs this program again with SC_BG_MODE=mode and conf added to the
 * variant's SCMALLOC_CONF (secure:true in the secure one). */
static void exec_mode(char **argv, const char *mode, const char *conf)
{
    const char *base = getenv("SCMALLOC_CONF");
    char all[512];
    snprintf(all, sizeof all, "%s%s%s", base ? base : "", base ? "," : "", conf);
    setenv("SCMALLOC_CONF", all, 1);
    setenv("SC_BG_MODE", mode, 1);
    execv("/proc/self/exe", argv);
    _exit(127);
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *mode = getenv("SC_BG_MODE");
    if (mode && !strcmp(mode, "off")) return run_off();
    if (mode && !strcmp(mode, "on")) return run_on();
    /* The default first, in a child of its own. */
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) exec_mode(argv, "off", CONF_OFF);
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "with " CONF_OFF ": status %#x", st);
    if (harness_summary() != 0) return 1;
    exec_mode(argv, "on", CONF_ON);
}
