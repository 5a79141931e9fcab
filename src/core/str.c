/* str.c - bounded formatting into fixed buffers; see str.h. */
#include "str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

int str_vfmt(char *dst, size_t cap, const char *fmt, va_list ap)
{
    if (!dst || cap == 0) return -1;
    int n = vsnprintf(dst, cap, fmt, ap);
    if (n < 0 || (size_t)n >= cap) {
        dst[0] = '\0';
        return -1;
    }
    return n;
}

int str_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = str_vfmt(dst, cap, fmt, ap);
    va_end(ap);
    return n;
}

int str_to_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < INT_MIN || v > INT_MAX) return -1;
    *out = (int)v;
    return 0;
}

int str_to_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE) return -1;
    *out = v;
    return 0;
}
