/*
 * init: lazy, thread-safe start-up that never recurses into malloc, fork
 * handlers, and the exit hook.
 */
#ifndef SC_INIT_H
#define SC_INIT_H

#include "debug.h"

extern int malloc_initialized;

bool malloc_init_slow(void);
SC_INLINE bool malloc_init(void)
{
    if (likely(__atomic_load_n(&malloc_initialized, __ATOMIC_ACQUIRE))) return true;
    return malloc_init_slow();
}

#endif
