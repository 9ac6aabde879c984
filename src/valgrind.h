/*
 * valgrind: memcheck client requests, compiled in only with make
 * VALGRIND=1 (the headers come with Debian's valgrind package); otherwise
 * the same names are no-ops, so callers use them behind config_valgrind
 * and every configuration type-checks.
 */
#ifndef SC_VALGRIND_H
#define SC_VALGRIND_H

#include "config.h"

#if SC_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MALLOCLIKE_BLOCK(addr, size, redzone, zeroed) ((void)(addr), (void)(size))
#define VALGRIND_FREELIKE_BLOCK(addr, redzone) ((void)(addr))
#define VALGRIND_DISABLE_ERROR_REPORTING ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(addr, size) ((void)(addr), (void)(size))
#define VALGRIND_ENABLE_ERROR_REPORTING ((void)0)
#endif

#endif
