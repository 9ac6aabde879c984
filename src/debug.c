/*
 * Message formatting without stdio or malloc, and the fatal paths.
 */
#include "debug.h"
#include "os.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

SC_COLD static size_t put_num(char *buf, size_t size, size_t pos, unsigned long long v,
                      unsigned base, int width, bool neg)
{
    char tmp[32];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) tmp[n++] = '-';
    for (int pad = n; pad < width; pad++) { if (pos + 1 < size) buf[pos] = ' '; pos++; } /* any width */
    while (n > 0) { if (pos + 1 < size) buf[pos] = tmp[n - 1]; pos++; n--; }
    return pos;
}

SC_COLD size_t fmt_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t pos = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') { if (pos + 1 < size) buf[pos] = *f; pos++; continue; }
        f++;
        bool left = false;
        if (*f == '-') { left = true; f++; }
        int width = 0;
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        int lng = 0;
        while (*f == 'l') { lng++; f++; }
        if (*f == 'z') { lng = 2; f++; }
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t len = strlen(s);
            if (!left) for (size_t i = len; i < (size_t)width; i++) { if (pos + 1 < size) buf[pos] = ' '; pos++; }
            for (size_t i = 0; i < len; i++) { if (pos + 1 < size) buf[pos] = s[i]; pos++; }
            if (left) for (size_t i = len; i < (size_t)width; i++) { if (pos + 1 < size) buf[pos] = ' '; pos++; }
            break;
        }
        case 'd': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            pos = put_num(buf, size, pos, v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, width, v < 0);
            break;
        }
        case 'u': case 'x': {
            unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            pos = put_num(buf, size, pos, v, *f == 'x' ? 16 : 10, width, false);
            break;
        }
        case 'p': {
            for (const char *x = "0x"; *x; x++, pos++)
                if (pos + 1 < size) buf[pos] = *x;
            pos = put_num(buf, size, pos, (uintptr_t)va_arg(ap, void *), 16, 0, false);
            break;
        }
        case '%':
            if (pos + 1 < size) buf[pos] = '%';
            pos++;
            break;
        default: break;
        }
        if (!*f) break;
    }
    if (size) buf[pos < size ? pos : size - 1] = 0;
    return pos < size ? pos : size - 1;
}

SC_COLD size_t fmt_format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

SC_COLD void sc_write_stderr(const char *s, size_t n)
{
    while (n) {
        long w = os_write(2, s, n);
        if (w <= 0) return;
        s += w; n -= (size_t)w;
    }
}

SC_COLD void fmt_stderr(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sc_write_stderr(buf, n);
}

SC_COLD void sc_misuse(const char *what, const void *ptr)
{
    fmt_stderr("scmalloc: error: %s: %p\n", what, ptr);
    abort();
}

SC_COLD void sc_panic(const char *file, int line, const char *expr)
{
    fmt_stderr("scmalloc: internal error: %s:%d: %s\n", file, line, expr);
    abort();
}
