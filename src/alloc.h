/*
 * alloc: the public entry points (alloc.c) and what the other top-level
 * files (stats.c, ctl.c, init.c) share with them.
 */
#ifndef SC_ALLOC_H
#define SC_ALLOC_H

#include "../include/scmalloc.h"
#include "debug.h"

/* Start-up of alloc.c's own state (the canary secret). */
void alloc_init(void);

#endif
