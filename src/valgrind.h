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

/* Descriptors that hold the address of a user block (a slab's first
 * region, a huge block) keep it disguised in VALGRIND=1 builds: memcheck's
 * leak checker counts any word that holds a block's address as a reference
 * to it, so a leaked block would be called "still reachable" through the
 * allocator's own metadata. The disguise sets high bits no address has.
 * In other builds it is nothing. */
#define VG_DISGUISE ((uintptr_t)(SC_VALGRIND ? 0x5a5a000000000000ull : 0))
static inline uintptr_t vg_disguise(const void *p) { return (uintptr_t)p ^ VG_DISGUISE; }
static inline void *vg_reveal(uintptr_t v) { return (void *)(v ^ VG_DISGUISE); }

#endif
