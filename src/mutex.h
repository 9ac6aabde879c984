/*
 * Locks that sleep: pthread mutexes (adaptive: a short spin, then futex),
 * because spinning collapses when threads outnumber cores. Each lock counts
 * its acquisitions and how many of them found it taken.
 *
 * Lock order (a thread holding one may only take those after it):
 *   prof_lock < arenas_lock < tcache_list_lock < bin locks < arena lock < huge_lock < base_lock
 */
#ifndef SC_MUTEX_H
#define SC_MUTEX_H

#include <pthread.h>
#include "debug.h"

typedef struct mutex {
    pthread_mutex_t m;
    uint64_t nlocks;      /* acquisitions (written while held) */
    uint64_t ncontended;  /* acquisitions that had to wait */
} mutex_t;

SC_INLINE void mutex_init(mutex_t *l)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&l->m, &attr);
    pthread_mutexattr_destroy(&attr);
}

SC_INLINE void mutex_lock(mutex_t *l)
{
    if (unlikely(pthread_mutex_trylock(&l->m) != 0)) {
        pthread_mutex_lock(&l->m);
        l->ncontended++;
    }
    l->nlocks++;
}

SC_INLINE void mutex_unlock(mutex_t *l) { pthread_mutex_unlock(&l->m); }

/* In a forked child, the locks taken before fork() are re-created. */
SC_INLINE void mutex_reinit(mutex_t *l) { mutex_init(l); }

#endif
