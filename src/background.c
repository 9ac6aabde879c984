/*
 * background: the optional purging thread. Decay otherwise runs on the
 * program's own calls (slow paths, and the thread cache's tick), so a
 * program that frees much and then waits, as a server between bursts
 * does, keeps its dirty pages until it calls again. With
 * background_thread:true one thread runs the same decay over every arena
 * and the huge cache about every second (every tenth of dirty_decay_ms
 * when that is shorter): pages go back within the decay time and a
 * second, whatever the program does.
 *
 * The thread is created on a program's malloc or free (the first thread
 * cache made, or a thread cache's tick), never during the allocator's
 * start-up; pthread_create may allocate, and that nested call finds the
 * start already claimed. The thread blocks every signal (the program's
 * handlers never run on it), cannot be cancelled, never allocates, and
 * takes the locks only as a freeing thread would. If it cannot be created
 * (a sandbox that forbids clone, no memory), decay stays on the program's
 * calls and nothing else changes.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "background.h"
#include "arena.h"
#include "huge.h"
#include "options.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

enum { BG_NONE, BG_STARTING, BG_RUNNING, BG_FAILED };

static int state = BG_NONE;
static uint64_t passes;

/* Between two passes: a tenth of the decay time, from 10 ms to 1 s. */
static uint64_t interval_ms(void)
{
    int64_t decay = __atomic_load_n(&opt.dirty_decay_ms, __ATOMIC_RELAXED);
    if (decay <= 0) return 1000;
    uint64_t ms = (uint64_t)decay / 10;
    return ms < 10 ? 10 : ms > 1000 ? 1000 : ms;
}

static void *background_main(void *arg)
{
    (void)arg;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    pthread_setname_np(pthread_self(), "scmalloc_bg");
    for (;;) {
        uint64_t ms = interval_ms();
        struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
        /* No handler runs on this thread: EINTR only from a stop. */
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) continue;
        /* A decay of 0 purges on the spot, and -1 never: nothing to do. */
        if (__atomic_load_n(&opt.dirty_decay_ms, __ATOMIC_RELAXED) <= 0) continue;
        huge_decay();
        arenas_decay();
        __atomic_fetch_add(&passes, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Creates the detached thread with a stack of stack bytes (0: the
 * default); an error number on failure. */
static int create(size_t stack)
{
    pthread_attr_t attr;
    pthread_t t;
    int err = pthread_attr_init(&attr);
    if (err) return err;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack) pthread_attr_setstacksize(&attr, stack);
    err = pthread_create(&t, &attr, background_main, NULL);
    pthread_attr_destroy(&attr);
    return err;
}

void background_maybe_start(void)
{
    if (!opt.background_thread) return;
    int expected = BG_NONE;
    if (__atomic_load_n(&state, __ATOMIC_RELAXED) != BG_NONE ||
        !__atomic_compare_exchange_n(&state, &expected, BG_STARTING, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    /* The new thread inherits the mask: every signal blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* A purge's deepest path takes about 3 KiB (test/stress/small_stack);
     * a program whose static TLS does not fit in 64 KiB gets EINVAL, and
     * then the default size. */
    int err = create((size_t)64 << 10);
    if (err == EINVAL) err = create(0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    __atomic_store_n(&state, err ? BG_FAILED : BG_RUNNING, __ATOMIC_RELEASE);
}

bool background_running(void) { return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == BG_RUNNING; }

uint64_t background_passes(void) { return __atomic_load_n(&passes, __ATOMIC_RELAXED); }

void background_postfork_child(void)
{
    if (state == BG_RUNNING || state == BG_STARTING) state = BG_NONE;
    passes = 0;
}
