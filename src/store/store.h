/* store.h - persistent storage: accounts, tokens, characters, zones.
 *
 * One interface, two implementations chosen at start-up from
 * DATABASE_URL: store_sqlite.c (embedded default) and store_pg.c.
 * The operations are synchronous and thread-safe; the loop never calls
 * them directly but through store_async(), which runs them on libuv's
 * worker pool so a query never stalls a tick (docs/ARCHITECTURE.md). */
#ifndef WOD_STORE_H
#define WOD_STORE_H

#include "../core/buf.h"
#include "../game/character.h"
#include "../game/gamedata.h"
#include "../game/npcdef.h"
#include "../game/zonedef.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define STORE_OK           0
#define STORE_ERR          (-1) /* I/O or database failure (logged) */
#define STORE_ERR_NOTFOUND (-2)
#define STORE_ERR_EXISTS   (-3) /* unique constraint: username, character name */

#define STORE_SELECTOR_HEX 32 /* token selector: 16 random bytes as hex */
#define STORE_HASH_HEX     64 /* sha-256 as hex */
#define STORE_PWHASH_MAX   128

typedef struct store_s store_t;

typedef struct store_ops_s {
    /* Applies pending migrations (schema + seed zones). */
    int (*migrate)(store_t *s);
    /* Abilities, items and loot (migrations/003_game.sql) into *out. */
    int (*gamedata_load)(store_t *s, gamedata_t *out);
    /* *out is malloc'd (caller frees), *n zones. */
    int (*zones_load)(store_t *s, zonedef_t **out, int *n);
    /* Every NPC spawn of every zone with its definition, waypoints and
     * lines: *out is malloc'd (caller frees), *n spawns. */
    int (*npcs_load)(store_t *s, npcdef_t **out, int *n);
    /* username/pwhash NULL for a guest account. */
    int (*account_create)(store_t *s, const char *username, const char *pwhash,
                          const char *display_name, int64_t *id);
    int (*account_find)(store_t *s, const char *username, int64_t *id, char *pwhash, size_t cap);
    int (*token_put)(store_t *s, const char *selector, const char *verifier_hash,
                     int64_t account_id, int64_t expires_ms);
    /* Returns the stored verifier hash; the caller compares in constant time. */
    int (*token_get)(store_t *s, const char *selector, int64_t now_ms, int64_t *account_id,
                     char verifier_hash[STORE_HASH_HEX + 1]);
    /* Characters come with their inventory (items, n_items) and is_alive. */
    int (*characters_list)(store_t *s, int64_t account_id, character_t *out, int max, int *n);
    /* Inserts c (and its inventory) and sets c->id. STORE_ERR_EXISTS when the name is taken. */
    int (*character_create)(store_t *s, character_t *c);
    int (*character_get)(store_t *s, int64_t id, character_t *out);
    /* Saves the changing fields of n characters, inventories included, in one transaction. */
    int (*characters_save)(store_t *s, const character_t *c, int n);
    /* Zone snapshot for failover: opaque text (JSON), or NOTFOUND. */
    int (*snapshot_put)(store_t *s, const char *zone_id, const char *data, size_t len);
    int (*snapshot_get)(store_t *s, const char *zone_id, char **data, size_t *len);
    /* Per-backend metrics in Prometheus text, labelled role="<role>"; NULL = none. */
    void (*metrics)(store_t *s, const char *role, buf_t *out);
    void (*close)(store_t *s);
} store_ops_t;

struct store_s {
    const store_ops_t *ops;
    const char *kind; /* "sqlite" or "postgres" */
};

/* Calls through the ops table, one per operation (see store_ops_t). */
static inline int store_migrate(store_t *s)
{
    return s->ops->migrate(s);
}
static inline int store_zones_load(store_t *s, zonedef_t **out, int *n)
{
    return s->ops->zones_load(s, out, n);
}
static inline int store_npcs_load(store_t *s, npcdef_t **out, int *n)
{
    return s->ops->npcs_load(s, out, n);
}
static inline int store_account_create(store_t *s, const char *username, const char *pwhash,
                                       const char *display_name, int64_t *id)
{
    return s->ops->account_create(s, username, pwhash, display_name, id);
}
static inline int store_account_find(store_t *s, const char *username, int64_t *id, char *pwhash,
                                     size_t cap)
{
    return s->ops->account_find(s, username, id, pwhash, cap);
}
static inline int store_token_put(store_t *s, const char *selector, const char *verifier_hash,
                                  int64_t account_id, int64_t expires_ms)
{
    return s->ops->token_put(s, selector, verifier_hash, account_id, expires_ms);
}
static inline int store_token_get(store_t *s, const char *selector, int64_t now_ms,
                                  int64_t *account_id, char verifier_hash[STORE_HASH_HEX + 1])
{
    return s->ops->token_get(s, selector, now_ms, account_id, verifier_hash);
}
static inline int store_characters_list(store_t *s, int64_t account_id, character_t *out, int max,
                                        int *n)
{
    return s->ops->characters_list(s, account_id, out, max, n);
}
static inline int store_character_create(store_t *s, character_t *c)
{
    return s->ops->character_create(s, c);
}
static inline int store_character_get(store_t *s, int64_t id, character_t *out)
{
    return s->ops->character_get(s, id, out);
}
static inline int store_characters_save(store_t *s, const character_t *c, int n)
{
    return s->ops->characters_save(s, c, n);
}
static inline int store_snapshot_put(store_t *s, const char *zone_id, const char *data, size_t len)
{
    return s->ops->snapshot_put(s, zone_id, data, len);
}
static inline int store_snapshot_get(store_t *s, const char *zone_id, char **data, size_t *len)
{
    return s->ops->snapshot_get(s, zone_id, data, len);
}
static inline void store_close(store_t *s)
{
    s->ops->close(s);
}

/* Opens the store named by `url` (sqlite:PATH or postgres://...) with
 * read replicas `replica_urls` (comma-separated postgres:// URLs, "" or
 * NULL = none; PostgreSQL only). */
int store_open(const char *url, store_t **out);
int store_open_replicas(const char *url, const char *replica_urls, store_t **out);
int store_pg_set_replicas(store_t *s, const char *urls);
/* Appends the store's metrics (PostgreSQL: per backend), if it has any. */
void store_metrics_prometheus(store_t *s, const char *role, buf_t *out);
store_t *store_sqlite_open(const char *path);
store_t *store_pg_open(const char *url);

typedef void (*store_work_fn)(store_t *s, void *arg); /* on a worker thread */
typedef void (*store_done_fn)(void *arg);             /* back on the loop */

/* Runs work(s, arg) off the loop, then done(arg) on it. Returns 0, or a
 * negative uv error (then neither callback runs). */
int store_async(store_t *s, uv_loop_t *loop, store_work_fn work, store_done_fn done, void *arg);
/* Number of store_async calls whose done has not run yet. */
int store_pending(void);

/* Migration scripts for a dialect ("sqlite" or "postgres"), generated at
 * build time from src/store/migrations/. NULL-terminated, in order. */
extern const char *const *store_migrations(const char *dialect);

#endif
