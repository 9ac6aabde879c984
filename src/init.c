/*
 * init: the first allocation of any thread (or the library constructor,
 * whichever comes first) runs malloc_init_slow under a static lock. It uses
 * only system calls, secure_getenv and static storage.
 *
 * SCMALLOC_CONF is read with secure_getenv: a setuid, setgid or
 * file-capability program (AT_SECURE) ignores it, as glibc ignores its own
 * tunables there. Otherwise the user who starts such a program could make
 * it write heap profiles as root wherever prof_prefix points.
 *
 * fork(): the prepare handler takes every allocator lock in the lock order
 * (mutex.h); the parent releases them; the child re-creates them, since
 * only the forking thread lives on. The handlers are registered when an
 * allocator lock is first taken in a process that has more than one thread
 * (glibc's __libc_single_threaded is false from the first pthread_create
 * on): before that, the thread that calls fork() is the only one, and it
 * holds no allocator lock when it does. A thread registers before it takes
 * the lock, so a lock held by any thread but the forking one was taken
 * after the registration, and fork() runs the handlers; a registration that
 * meets a fork() in another thread waits for it (glibc holds its handler
 * lock across fork). Registering costs a 64 KiB window of libc's code that
 * nothing else in a small single-threaded program touches: 64 KiB of its
 * resident memory (bench/micro, 1 thread, under setarch -R: RssFile 1472
 * -> 1408 KiB).
 */
#define _GNU_SOURCE
#include "init.h"
#include "alloc.h"
#include "arena.h"
#include "base.h"
#include "huge.h"
#include "options.h"
#include "prof.h"
#include "sizeclass.h"
#include "tcache.h"
#include "../include/scmalloc.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/single_threaded.h>

int malloc_initialized;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void malloc_prefork(void)
{
    prof_prefork();
    tcache_prefork();
    arenas_prefork();
    huge_prefork();
    mutex_lock(&base_lock);
}

static void malloc_postfork_parent(void)
{
    mutex_unlock(&base_lock);
    huge_postfork_parent();
    arenas_postfork_parent();
    tcache_postfork_parent();
    prof_postfork_parent();
}

static void malloc_postfork_child(void)
{
    mutex_reinit(&base_lock);
    huge_postfork_child();
    arenas_postfork_child();
    tcache_postfork_child();
    prof_postfork_child();
}

bool malloc_init_slow(void)
{
    pthread_mutex_lock(&init_lock);
    if (malloc_initialized) {
        pthread_mutex_unlock(&init_lock);
        return true;
    }
    os_init();
    options_parse(secure_getenv("SCMALLOC_CONF"));
    base_init();
    sizeclass_init();
    arenas_init();
    huge_init();
    tcache_init();
    prof_init();
    alloc_init();
    __atomic_store_n(&malloc_initialized, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&init_lock);
    return true;
}

int fork_handlers_state; /* 0 not registered, 1 being registered, 2 registered */
static __thread bool fork_handlers_registering __attribute__((tls_model("initial-exec")));

void fork_handlers_register(void)
{
    /* pthread_atfork may allocate: the registering thread's own locks go
     * ahead; another thread waits until the handlers are in. */
    if (__libc_single_threaded || fork_handlers_registering) return;
    int expected = 0;
    if (__atomic_compare_exchange_n(&fork_handlers_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        fork_handlers_registering = true;
        pthread_atfork(malloc_prefork, malloc_postfork_parent, malloc_postfork_child);
        fork_handlers_registering = false;
        __atomic_store_n(&fork_handlers_state, 2, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&fork_handlers_state, __ATOMIC_ACQUIRE) != 2) sched_yield();
}

__attribute__((constructor)) static void malloc_constructor(void)
{
    malloc_init();
    prof_start();
}

__attribute__((destructor)) static void malloc_destructor(void)
{
    if (!malloc_initialized) return;
    prof_fini();
    if (opt.stats_print) sc_stats_print(NULL, NULL, opt.stats_print_opts);
}
