/* cmd.h - slash commands (GAME-REFERENCE.md 3; docs/GAME.md "Commands").
 *
 * A command line ("/cast \"Arcane Bolt\" Rabid Dog") arrives as a
 * `command` message or a chat line starting with '/'. cmd_parse splits
 * it by the reference's rules; the one table in cmd.c maps the name (or
 * an alias) to a handler and a per-character cooldown; every command is
 * answered with command_response {success, command, message?, error?,
 * data?, timestamp}. The parser and the table lookups are pure and tested
 * in tests/unit/test_cmd.c; the handlers run inside the zone (sim_int.h). */
#ifndef WOD_SIM_CMD_H
#define WOD_SIM_CMD_H

#include "../proto/msg.h"

#define CMD_MAX_TOKENS 24
#define CMD_NAME_MAX   31
#define CMD_TEXT_CHARS MSG_COMMAND_MAX /* longer lines are refused */

typedef struct cmd_parsed_s {
    char name[CMD_NAME_MAX + 1]; /* lower-cased, [a-z0-9_-]+ */
    int argc;                    /* positional tokens (quotes removed) */
    const char *argv[CMD_MAX_TOKENS];
    int nkv; /* key:value tokens (key lower-cased) */
    const char *key[CMD_MAX_TOKENS];
    const char *val[CMD_MAX_TOKENS];
    char text[MSG_COMMAND_MAX * 4 + 1];       /* positional tokens joined by one space */
    char store[MSG_COMMAND_MAX * 4 * 2 + 64]; /* token bytes */
} cmd_parsed_t;

/* Parses a command line: an optional leading '/', then tokens split on
 * spaces, where '...' or "..." group (quotes removed); the first token is
 * the name, lower-cased, which must match [a-z0-9_-]+; a later unquoted
 * token "key:value" with a key of [a-z0-9_-]+ becomes a key:value pair
 * (and is not part of text). Returns 0, or -1 with *err set (empty line,
 * invalid name, more than CMD_TEXT_CHARS characters, too many tokens). */
int cmd_parse(const char *raw, cmd_parsed_t *out, const char **err);

/* Value of key in a parsed line, or NULL. */
const char *cmd_kv(const cmd_parsed_t *c, const char *key);

/* Index into the command table of a name or alias, or -1. */
int cmd_lookup(const char *name);
/* Canonical name of table entry i. */
const char *cmd_name(int i);
/* Number of commands in the table. */
int cmd_count(void);
/* Up to max command names nearest to `name` by edit distance (names and
 * aliases considered, canonical names returned, no duplicates, distance
 * <= 3 only); returns how many. */
int cmd_suggest(const char *name, const char **out, int max);
/* Levenshtein distance (bytes). */
int cmd_edit_distance(const char *a, const char *b);

#endif
