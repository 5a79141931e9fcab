/* dotenv.c - see dotenv.h. */
#include "dotenv.h"
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOTENV_MAX_FILE ((size_t)1024 * 1024)

static int is_key_char(char c, int first)
{
    return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* Parses one line [p, end). Returns 0 ok (maybe empty), -1 on error. */
static int parse_line(const char *p, const char *end, dotenv_cb cb, void *ud, buf_t *key,
                      buf_t *val)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p == '#') return 0;
    if ((size_t)(end - p) > 7 && strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
        p += 7;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
    buf_reset(key);
    buf_reset(val);
    if (p == end || !is_key_char(*p, 1)) return -1;
    while (p < end && is_key_char(*p, 0))
        buf_putc(key, *p++);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p != '=') return -1;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && (*p == '"' || *p == '\'')) {
        char q = *p++;
        int closed = 0;
        while (p < end) {
            char c = *p++;
            if (c == q) {
                closed = 1;
                break;
            }
            if (q == '"' && c == '\\' && p < end) {
                char e = *p++;
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
            if (c == '\0') return -1;
            buf_putc(val, c);
        }
        if (!closed) return -1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p != '#') return -1;
    } else {
        const char *s = p;
        while (p < end && !(*p == '#' && p > s && (p[-1] == ' ' || p[-1] == '\t'))) {
            if (*p == '\0') return -1;
            p++;
        }
        while (p > s && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
            p--;
        buf_append(val, s, (size_t)(p - s));
    }
    if (!val->data) buf_append(val, "", 0);
    cb(ud, key->data, val->data);
    return 0;
}

int dotenv_parse(const char *text, size_t len, dotenv_cb cb, void *ud, int *err_line)
{
    buf_t key, val;
    buf_init(&key);
    buf_init(&val);
    const char *p = text, *end = text + len;
    int line = 0, rc = 0;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *trim = le;
        if (trim > p && trim[-1] == '\r') trim--;
        if (parse_line(p, trim, cb, ud, &key, &val) < 0) {
            if (err_line) *err_line = line;
            rc = -1;
            break;
        }
        p = nl ? nl + 1 : end;
    }
    buf_free(&key);
    buf_free(&val);
    return rc;
}

static void export_cb(void *ud, const char *key, const char *value)
{
    (void)ud;
    setenv(key, value, 0);
}

int dotenv_load(const char *path, int *err_line)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 1;
    buf_t b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < DOTENV_MAX_FILE)
        buf_append(&b, chunk, n);
    fclose(f);
    int rc = dotenv_parse(b.data ? b.data : "", b.len, export_cb, NULL, err_line);
    buf_free(&b);
    return rc;
}
