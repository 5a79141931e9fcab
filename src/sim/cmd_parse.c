/* cmd_parse.c - the command line parser and edit distance (see cmd.h):
 * pure string work, no simulation. */
#include "cmd.h"

#include <ctype.h>
#include <string.h>

static int valid_word(const char *s, size_t n)
{
    if (!n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return 0;
    }
    return 1;
}

static int utf8_chars(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int cmd_parse(const char *raw, cmd_parsed_t *c, const char **err)
{
    memset(c, 0, sizeof(*c));
    if (!raw) raw = "";
    if (utf8_chars(raw) > CMD_TEXT_CHARS || strlen(raw) >= sizeof(c->text)) {
        *err = "Command text is longer than 500 characters.";
        return -1;
    }
    const char *s = raw;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '/') s++;
    char *w = c->store;
    int ntok = 0, first = 1;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s) break;
        char *tok = w;
        int quoted_start = *s == '"' || *s == '\'';
        size_t kv_key = 0; /* bytes before an unquoted ':' (0 = none) */
        char q = 0;
        while (*s && (q || (*s != ' ' && *s != '\t'))) {
            if (!q && (*s == '"' || *s == '\'')) {
                q = *s++;
                continue;
            }
            if (q && *s == q) {
                q = 0;
                s++;
                continue;
            }
            if (!q && *s == ':' && !kv_key) kv_key = (size_t)(w - tok) + 1;
            *w++ = *s++;
        }
        *w++ = '\0';
        if (++ntok > CMD_MAX_TOKENS) {
            *err = "Too many words in the command.";
            return -1;
        }
        if (first) {
            size_t n = strlen(tok);
            for (size_t i = 0; i < n; i++)
                tok[i] = (char)tolower((unsigned char)tok[i]);
            if (n > CMD_NAME_MAX || !valid_word(tok, n)) {
                *err =
                    n ? "Invalid command name: use letters, digits, '_' or '-'." : "Empty command.";
                return -1;
            }
            memcpy(c->name, tok, n + 1);
            first = 0;
            continue;
        }
        size_t klen = kv_key ? kv_key - 1 : 0;
        int is_kv = !quoted_start && kv_key;
        if (is_kv) {
            for (size_t i = 0; i < klen; i++)
                tok[i] = (char)tolower((unsigned char)tok[i]);
            is_kv = valid_word(tok, klen);
        }
        if (is_kv) {
            tok[klen] = '\0';
            c->key[c->nkv] = tok;
            c->val[c->nkv++] = tok + klen + 1;
        } else {
            c->argv[c->argc++] = tok;
        }
    }
    if (first) {
        *err = "Empty command.";
        return -1;
    }
    size_t n = 0;
    for (int i = 0; i < c->argc; i++) {
        size_t k = strlen(c->argv[i]);
        if (n + k + 2 > sizeof(c->text)) break;
        if (i) c->text[n++] = ' ';
        memcpy(c->text + n, c->argv[i], k);
        n += k;
    }
    c->text[n] = '\0';
    return 0;
}

const char *cmd_kv(const cmd_parsed_t *c, const char *key)
{
    for (int i = 0; i < c->nkv; i++)
        if (strcmp(c->key[i], key) == 0) return c->val[i];
    return NULL;
}

int cmd_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64) return 99;
    int row[65];
    for (size_t j = 0; j <= m; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int cur = row[j];
            int best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[m];
}
