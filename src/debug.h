/*
 * Assertions and fatal errors. The failure path never allocates: messages
 * are formatted into a stack buffer and written with write(2).
 */
#ifndef SC_DEBUG_H
#define SC_DEBUG_H

#include "config.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define SC_INLINE static inline __attribute__((always_inline))
#define SC_NOINLINE __attribute__((noinline))
#define SC_EXPORT __attribute__((visibility("default")))
/* On extern declarations of data the fast paths read, so they are reached
 * PC-relative rather than through the GOT. */
#define SC_HIDDEN __attribute__((visibility("hidden")))
/* On malloc and free: their code starts on a cache line. Measured (min of
 * 9 runs of bench/micro): 6.4 -> 6.2 ns per 16 B pair, 6.6 -> 6.1 at
 * 1 KiB, 8.6 -> 8.0 at 64 KiB; where the linker happened to put them
 * decided it before. */
#define SC_ALIGN_HOT __attribute__((aligned(64)))
/* On code that a running program does not normally run: introspection
 * (sc_ctl, statistics), consistency checks, error reports, the profiler's
 * sampling and dumps, the parsing of SCMALLOC_CONF's text. The shared
 * library links it into a mapping of its own (src/cold.ld), so that it
 * does not make pages of the hot code's mapping resident: the kernel
 * maps a file's pages around each fault in aligned 64 KiB windows. A
 * section name outside .text.*, which the default linker script would
 * take first. */
#define SC_COLD __attribute__((cold, section(".sc_cold")))
/* On zero-initialised tables of which a process touches a few pages, or
 * only reads (the radix tree's root, zero leaf and bitmap, the profiler's
 * tables, base's free lists, the statistics buffers, the empty thread
 * cache): the linker puts them after .bss (.lbss), so that the small
 * variables every process writes share two pages instead of lying
 * scattered between the tables, and pages that are only read stay on the
 * shared zero page. .bss went from 20.5 to 7 KiB; bench/micro's resident
 * anonymous memory from 176-180 to 160-164 KiB. */
#if defined(__GNUC__) && !defined(__clang__)
#define SC_SPARSE __attribute__((section(".lbss.scmalloc")))
#else
#define SC_SPARSE /* clang 14 would make the section PROGBITS: 8.7 MB of zeros in the file */
#endif

/* Formats like a tiny printf (%s %d %u %zu %lu %llu %p %x %zx, and - and
 * width) into buf; never allocates. Returns the length written. */
size_t fmt_vformat(char *buf, size_t size, const char *fmt, __builtin_va_list ap);
size_t fmt_format(char *buf, size_t size, const char *fmt, ...);
/* Writes a formatted line to stderr with write(2). */
void fmt_stderr(const char *fmt, ...);
/* Writes n bytes to stderr with write(2) (os_write: never a cancellation
 * point), as much as the kernel takes. */
void sc_write_stderr(const char *s, size_t n);

/* Reports client misuse ("double free", "invalid pointer") naming the
 * pointer, then aborts. Always on. */
__attribute__((noreturn, cold)) void sc_misuse(const char *what, const void *ptr);
/* Internal invariant broken: message then abort. */
__attribute__((noreturn, cold)) void sc_panic(const char *file, int line, const char *expr);

#define sc_assert(e) do { \
        if (config_debug >= 1 && unlikely(!(e))) sc_panic(__FILE__, __LINE__, #e); \
    } while (0)
#define sc_assert_expensive(e) do { \
        if (config_debug >= 2 && unlikely(!(e))) sc_panic(__FILE__, __LINE__, #e); \
    } while (0)
/* Checks that stay in release builds (internal consistency that, when
 * broken, would otherwise corrupt memory silently). */
#define sc_check(e) do { \
        if (unlikely(!(e))) sc_panic(__FILE__, __LINE__, #e); \
    } while (0)

#endif
