/* buf.h - growable byte buffer used to build JSON and bus frames.
 *
 * The buffer owns its storage; buf_reset() keeps the capacity so hot
 * paths reuse one buffer instead of allocating per message. The data is
 * always NUL-terminated (not counted in len) so it can be logged. */
#ifndef WOD_BUF_H
#define WOD_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf_s {
    char *data; /* owned; NULL until first append */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} buf_t;

void buf_init(buf_t *b);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
/* Ensure room for `extra` more bytes (plus the terminator). */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *data, size_t len);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append `s` as a quoted, escaped JSON string. */
void buf_json_str(buf_t *b, const char *s);
void buf_json_strn(buf_t *b, const char *s, size_t n);
/* Append a number the way JSON wants it (no NaN/inf, trimmed). */
void buf_json_num(buf_t *b, double v);
/* Little-endian fixed-width integers for binary bus frames. */
void buf_put_u8(buf_t *b, uint8_t v);
void buf_put_u16(buf_t *b, uint16_t v);
void buf_put_u32(buf_t *b, uint32_t v);
void buf_put_u64(buf_t *b, uint64_t v);
/* u32 length followed by bytes. */
void buf_put_blob(buf_t *b, const void *data, size_t len);

#endif
