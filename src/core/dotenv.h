/* dotenv.h - parser for .env files (KEY=value lines).
 *
 * Accepts `KEY=value`, `export KEY=value`, blank lines, `#` comments,
 * and values in double quotes (with \n \" \\ escapes) or single quotes
 * (literal). Unquoted values end at ` #` and are trimmed. */
#ifndef WOD_DOTENV_H
#define WOD_DOTENV_H

#include <stddef.h>

/* Called once per assignment; key and value are NUL-terminated and only
 * valid during the call. */
typedef void (*dotenv_cb)(void *ud, const char *key, const char *value);

/* Returns 0, or -1 with *err_line set to the 1-based line that does not
 * parse (the callback may already have run for earlier lines). */
int dotenv_parse(const char *text, size_t len, dotenv_cb cb, void *ud, int *err_line);

/* Reads `path` and exports each variable not already in the environment.
 * A missing file is not an error (returns 1). Returns -1 on a syntax
 * error with *err_line set. */
int dotenv_load(const char *path, int *err_line);

#endif
