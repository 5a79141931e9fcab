/* str.c - bounded formatting into fixed buffers; see str.h. */
#include "str.h"

#include <stdio.h>

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
