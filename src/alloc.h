/*
 * alloc: the public entry points (alloc.c) and what the other top-level
 * files (override.c, stats.c, ctl.c) share with them.
 */
#ifndef SC_ALLOC_H
#define SC_ALLOC_H

#include "../include/scmalloc.h"
#include "debug.h"

#endif
