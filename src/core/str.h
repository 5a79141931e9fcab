/* str.h - bounded formatting into fixed buffers.
 *
 * snprintf returns the length it *would* have written; using that as the
 * length of what is in the buffer sends whatever lies past the buffer
 * (STYLE.md: a pong once carried ~320 bytes of stack). str_fmt returns
 * the length actually written or fails, so a caller that uses the
 * length has to handle truncation. */
#ifndef WOD_STR_H
#define WOD_STR_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into dst (cap bytes, NUL-terminated). Returns the length
 * written (< cap), or -1 if the result did not fit or cap is 0; on
 * failure dst holds "" (never a silently cut string). */
int str_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int str_vfmt(char *dst, size_t cap, const char *fmt, va_list ap);

/* All of s as a base-10 int / a double: 0, or -1 (out untouched) if s is
 * empty, has anything after the number, or is out of range (atoi/atof
 * would have read "x" as 0 and "5s" as 5). */
int str_to_int(const char *s, int *out);
int str_to_double(const char *s, double *out);

#endif
