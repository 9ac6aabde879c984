/* Unit test of the allocator's own formatter (debug.c: error reports and
 * statistics are written without stdio, which may allocate): its output is
 * snprintf's for every conversion it supports, whatever the width (widths
 * past its 32-byte digit buffer once wrote past that buffer), and it
 * truncates to the buffer it is given, always terminated. */
#include "../harness.h"
#include "debug.h"

#include <stdio.h>
#include <string.h>

#define SAME(...)                                                                     \
    do {                                                                              \
        char ours[256], libc[256];                                                    \
        memset(ours, 'X', sizeof ours);                                               \
        size_t n = fmt_format(ours, sizeof ours, __VA_ARGS__);                        \
        snprintf(libc, sizeof libc, __VA_ARGS__);                                     \
        CHECKF(strcmp(ours, libc) == 0, "%s: \"%s\", snprintf \"%s\"", #__VA_ARGS__, ours, libc); \
        CHECKF(n == strlen(libc), "%s: length %zu, not %zu", #__VA_ARGS__, n, strlen(libc)); \
    } while (0)

int main(void)
{
    SAME("plain text");
    SAME("%d %d %d", 0, -1, 2147483647);
    SAME("%lld %lld", -9223372036854775807LL - 1, 9223372036854775807LL);
    SAME("%u %x %lx %llu", 4000000000u, 0xdeadbeefu, 0xfffffffffUL, 18446744073709551615ULL);
    SAME("%zu|%10zu|%12llu|%6zu", (size_t)42, (size_t)123456, 99ULL, (size_t)1234567);
    SAME("%s|%8s|%-8s|%12s|", "a", "right", "left", "");
    SAME("%5d|%5d|%2d", -42, 7, 12345);
    SAME("100%%");
    /* Wider than the formatter's 32-byte digit buffer. */
    SAME("%40d|%64llu|%100x|", -5, 77ULL, 0xabcu);
    SAME("%60s|", "wide");

    /* %p: 0x and hex digits, as glibc's. */
    char buf[64];
    int x;
    fmt_format(buf, sizeof buf, "%p", (void *)&x);
    char want[64];
    snprintf(want, sizeof want, "%p", (void *)&x);
    CHECKF(strcmp(buf, want) == 0, "%%p gave %s, not %s", buf, want);

    /* Truncation: at most size - 1 characters and a terminator, the rest of
     * the buffer untouched. */
    char small[8];
    memset(small, 'X', sizeof small);
    size_t n = fmt_format(small, 5, "%40d", 12345);
    CHECKF(n == 4 && strcmp(small, "    ") == 0, "truncated to \"%s\" (%zu)", small, n);
    CHECK(small[5] == 'X' && small[7] == 'X');
    memset(small, 'X', sizeof small);
    n = fmt_format(small, 1, "abc");
    CHECK(n == 0 && small[0] == 0 && small[1] == 'X');
    return harness_summary();
}
