/* alloc.h - allocation wrappers that abort with a message on OOM.
 *
 * Every wod-server allocation goes through these so an out-of-memory
 * condition is reported once, with the size, instead of a NULL deref. */
#ifndef WOD_ALLOC_H
#define WOD_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *wod_malloc(size_t size);
void *wod_calloc(size_t n, size_t size);
void *wod_realloc(void *ptr, size_t size);
char *wod_strdup(const char *s);
char *wod_strndup(const char *s, size_t n);

/* Always-on assertion with file/line (Redis serverAssert). */
#define wod_assert(e) ((e) ? (void)0 : wod_assert_fail(#e, __FILE__, __LINE__))
_Noreturn void wod_assert_fail(const char *expr, const char *file, int line);

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
