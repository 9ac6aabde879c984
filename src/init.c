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
 * only the forking thread lives on. The handlers are registered at the end
 * of initialisation, on the first malloc or in the library constructor,
 * whichever comes first: glibc runs prepare handlers in the reverse order
 * of registration, so ours, registered before the program's, run after
 * them, and a program's prepare handler may still allocate. Registered
 * later (on the first lock taken once the process had a second thread, as
 * scmalloc did to keep 64 KiB of libc's code out of small programs), ours
 * ran first, and a prepare handler that allocated waited forever for a
 * lock its own thread held (test/stress/fork_prepare).
 */
#define _GNU_SOURCE
#include "init.h"
#include "alloc.h"
#include "arena.h"
#include "background.h"
#include "base.h"
#include "huge.h"
#include "options.h"
#include "prof.h"
#include "sizeclass.h"
#include "tcache.h"
#include "../include/scmalloc.h"

#include <pthread.h>
#include <stdlib.h>

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
    background_postfork_child();
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
    rtree_init();
    sizeclass_init();
    arenas_init();
    huge_init();
    tcache_init();
    prof_init();
    alloc_init();
    __atomic_store_n(&malloc_initialized, 1, __ATOMIC_RELEASE);
    /* After the flag: pthread_atfork may allocate. */
    pthread_atfork(malloc_prefork, malloc_postfork_parent, malloc_postfork_child);
    pthread_mutex_unlock(&init_lock);
    return true;
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
