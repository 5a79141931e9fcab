/* store_sqlite.c - the embedded store: one SQLite database in WAL mode.
 *
 * The connection is opened in serialized (FULLMUTEX) mode, so worker
 * threads from store_async() may use it concurrently; SQLite serializes
 * them. Writes are short transactions; WAL keeps readers unblocked. */
#include "store.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct sqlite_store_s {
    store_t base;
    sqlite3 *db;
} sqlite_store_t;

#define DB(s) (((sqlite_store_t *)(s))->db)

static int db_error(sqlite3 *db, const char *what)
{
    log_error("store", "sqlite %s: %s", what, sqlite3_errmsg(db));
    return STORE_ERR;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_error(db, "prepare");
        return NULL;
    }
    return st;
}

static void copy_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    (void)snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return STORE_ERR_EXISTS;
    if (rc != SQLITE_DONE) return db_error(db, what);
    return STORE_OK;
}

static int sq_migrate(store_t *s)
{
    sqlite3 *db = DB(s);
    char *err = NULL;
    if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER)", NULL,
                     NULL, &err) != SQLITE_OK) {
        log_error("store", "sqlite migrations table: %s", err);
        sqlite3_free(err);
        return STORE_ERR;
    }
    sqlite3_stmt *st = prepare(db, "SELECT COUNT(*) FROM schema_migrations");
    if (!st) return STORE_ERR;
    int applied = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    const char *const *m = store_migrations("sqlite");
    for (int i = 0; m[i]; i++) {
        if (i < applied) continue;
        char sql[128];
        (void)snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d)", i + 1);
        if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, m[i], NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
            log_error("store", "sqlite migration %d failed: %s", i + 1, err ? err : "?");
            sqlite3_free(err);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return STORE_ERR;
        }
        log_info("store", "applied migration %d", i + 1);
    }
    return STORE_OK;
}

static int text_enum(sqlite3_stmt *st, int col, int (*parse)(const char *))
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int v = parse(t ? (const char *)t : "");
    return v < 0 ? 0 : v;
}

static int sq_gamedata_load(store_t *s, gamedata_t *g)
{
    sqlite3 *db = DB(s);
    memset(g, 0, sizeof(*g));
    sqlite3_stmt *st = prepare(
        db, "SELECT id, name, description, target, range_ft, atb_cost, stamina_cost, mana_cost, "
            "health_cost, cooldown_s, damage_type, amount, scaling_stat, scaling, builds_charge, "
            "builds_amount, consumes_charge, consumes_amount, area_ft FROM abilities ORDER BY id");
    if (!st) return STORE_ERR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n_abilities < GD_MAX_ABILITIES) {
        ability_def_t *a = &g->abilities[g->n_abilities++];
        copy_text(st, 0, a->id, sizeof(a->id));
        copy_text(st, 1, a->name, sizeof(a->name));
        copy_text(st, 2, a->description, sizeof(a->description));
        const unsigned char *t = sqlite3_column_text(st, 3);
        a->target = t && strcmp((const char *)t, "ally") == 0 ? TARGET_ALLY : TARGET_ENEMY;
        a->range_ft = sqlite3_column_double(st, 4);
        a->atb_cost = sqlite3_column_int(st, 5);
        a->stamina_cost = sqlite3_column_int(st, 6);
        a->mana_cost = sqlite3_column_int(st, 7);
        a->health_cost = sqlite3_column_int(st, 8);
        a->cooldown_s = sqlite3_column_double(st, 9);
        a->damage_type = text_enum(st, 10, gamedata_damage_parse);
        a->amount = sqlite3_column_double(st, 11);
        a->scaling_stat = text_enum(st, 12, gamedata_stat_parse);
        a->scaling = sqlite3_column_double(st, 13);
        copy_text(st, 14, a->builds_charge, sizeof(a->builds_charge));
        a->builds_amount = sqlite3_column_int(st, 15);
        copy_text(st, 16, a->consumes_charge, sizeof(a->consumes_charge));
        a->consumes_amount = sqlite3_column_int(st, 17);
        a->area_ft = sqlite3_column_double(st, 18);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_error(db, "abilities");
    st = prepare(db, "SELECT id, name, description, kind, attack_bonus, resource, value, "
                     "cooldown_s, stack_max FROM items ORDER BY id");
    if (!st) return STORE_ERR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n_items < GD_MAX_ITEMS) {
        item_def_t *it = &g->items[g->n_items++];
        copy_text(st, 0, it->id, sizeof(it->id));
        copy_text(st, 1, it->name, sizeof(it->name));
        copy_text(st, 2, it->description, sizeof(it->description));
        it->kind = text_enum(st, 3, gamedata_item_kind_parse);
        it->attack_bonus = sqlite3_column_int(st, 4);
        it->resource = text_enum(st, 5, gamedata_resource_parse);
        it->value = sqlite3_column_int(st, 6);
        it->cooldown_s = sqlite3_column_double(st, 7);
        it->stack_max = sqlite3_column_int(st, 8);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_error(db, "items");
    st = prepare(db, "SELECT source, item_id, chance_pct, qty_min, qty_max FROM loot "
                     "ORDER BY source, item_id");
    if (!st) return STORE_ERR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n_loot < GD_MAX_LOOT) {
        loot_def_t *l = &g->loot[g->n_loot++];
        copy_text(st, 0, l->source, sizeof(l->source));
        copy_text(st, 1, l->item_id, sizeof(l->item_id));
        l->chance_pct = sqlite3_column_double(st, 2);
        l->qty_min = sqlite3_column_int(st, 3);
        l->qty_max = sqlite3_column_int(st, 4);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_error(db, "loot");
    return STORE_OK;
}

static int sq_zones_load(store_t *s, zonedef_t **out, int *n)
{
    sqlite3_stmt *st = prepare(DB(s), "SELECT id, name, description, rating, weather, "
                                      "time_of_day, lighting, origin_x, origin_z, size_x, size_y, "
                                      "size_z, spawn_x, spawn_y, spawn_z FROM zones ORDER BY id");
    if (!st) return STORE_ERR;
    int cap = 16, cnt = 0, rc;
    zonedef_t *zs = wod_calloc((size_t)cap, sizeof(*zs));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap *= 2;
            zs = wod_realloc(zs, (size_t)cap * sizeof(*zs));
        }
        zonedef_t *z = &zs[cnt++];
        memset(z, 0, sizeof(*z));
        copy_text(st, 0, z->id, sizeof(z->id));
        copy_text(st, 1, z->name, sizeof(z->name));
        copy_text(st, 2, z->description, sizeof(z->description));
        copy_text(st, 3, z->rating, sizeof(z->rating));
        copy_text(st, 4, z->weather, sizeof(z->weather));
        copy_text(st, 5, z->time_of_day, sizeof(z->time_of_day));
        copy_text(st, 6, z->lighting, sizeof(z->lighting));
        double *f[] = {&z->origin_x, &z->origin_z, &z->size_x,  &z->size_y,
                       &z->size_z,   &z->spawn_x,  &z->spawn_y, &z->spawn_z};
        for (int i = 0; i < 8; i++)
            *f[i] = sqlite3_column_double(st, 7 + i);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(zs);
        return db_error(DB(s), "zones_load");
    }
    *out = zs;
    *n = cnt;
    return STORE_OK;
}

static int sq_npcs_load(store_t *s, npcdef_t **out, int *n)
{
    sqlite3 *db = DB(s);
    sqlite3_stmt *st = prepare(db, NPCDEF_SQL_SPAWNS);
    if (!st) return STORE_ERR;
    int cap = 16, cnt = 0, rc;
    npcdef_t *v = wod_calloc((size_t)cap, sizeof(*v));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap *= 2;
            v = wod_realloc(v, (size_t)cap * sizeof(*v));
        }
        npcdef_t *d = &v[cnt++];
        memset(d, 0, sizeof(*d));
        char kind[8], family[16];
        copy_text(st, 0, d->tag, sizeof(d->tag));
        copy_text(st, 1, d->def_id, sizeof(d->def_id));
        copy_text(st, 2, d->zone_id, sizeof(d->zone_id));
        copy_text(st, 3, d->name, sizeof(d->name));
        copy_text(st, 4, d->description, sizeof(d->description));
        copy_text(st, 5, kind, sizeof(kind));
        copy_text(st, 6, family, sizeof(family));
        d->is_mob = strcmp(kind, "mob") == 0;
        d->wildlife = strcmp(family, "wildlife") == 0;
        int *iv[] = {&d->level,        &d->strength, &d->vitality, &d->dexterity, &d->agility,
                     &d->intelligence, &d->wisdom,   &d->max_hp,   &d->hostile,   &d->respawn_ms};
        for (int i = 0; i < 10; i++)
            *iv[i] = sqlite3_column_int(st, 7 + i);
        double *fv[] = {&d->aggro_radius, &d->leash, &d->speed, &d->flee_at,
                        &d->wander,       &d->x,     &d->y,     &d->z};
        for (int i = 0; i < 8; i++)
            *fv[i] = sqlite3_column_double(st, 17 + i);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) goto fail;
    if (!(st = prepare(db, NPCDEF_SQL_WAYPOINTS))) goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        npcdef_add_waypoint(v, cnt, (const char *)sqlite3_column_text(st, 0),
                            sqlite3_column_double(st, 1), sqlite3_column_double(st, 2));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) goto fail;
    if (!(st = prepare(db, NPCDEF_SQL_LINES))) goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        npcdef_add_line(v, cnt, (const char *)sqlite3_column_text(st, 0),
                        (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) goto fail;
    *out = v;
    *n = cnt;
    return STORE_OK;
fail:
    free(v);
    return db_error(db, "npcs_load");
}

static int sq_account_create(store_t *s, const char *username, const char *pwhash,
                             const char *display_name, int64_t *id)
{
    sqlite3 *db = DB(s);
    sqlite3_stmt *st = prepare(db, "INSERT INTO accounts (username, password_hash, display_name, "
                                   "created_at) VALUES (?, ?, ?, ?) RETURNING id");
    if (!st) return STORE_ERR;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, pwhash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, display_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)clock_wall_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return STORE_ERR_EXISTS;
    if (rc != SQLITE_ROW) return db_error(db, "account_create");
    return STORE_OK;
}

static int sq_account_find(store_t *s, const char *username, int64_t *id, char *pwhash, size_t cap)
{
    sqlite3_stmt *st = prepare(DB(s), "SELECT id, password_hash FROM accounts WHERE username = ?");
    if (!st) return STORE_ERR;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = STORE_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        copy_text(st, 1, pwhash, cap);
        ret = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(DB(s), "account_find");
    }
    sqlite3_finalize(st);
    return ret;
}

static int sq_token_put(store_t *s, const char *selector, const char *verifier_hash,
                        int64_t account_id, int64_t expires_ms)
{
    sqlite3_stmt *st = prepare(DB(s), "INSERT INTO tokens VALUES (?, ?, ?, ?)");
    if (!st) return STORE_ERR;
    sqlite3_bind_text(st, 1, selector, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_text(st, 3, verifier_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, expires_ms);
    return step_done(DB(s), st, "token_put");
}

static int sq_token_get(store_t *s, const char *selector, int64_t now_ms, int64_t *account_id,
                        char verifier_hash[STORE_HASH_HEX + 1])
{
    sqlite3_stmt *st = prepare(DB(s), "SELECT account_id, verifier_hash FROM tokens "
                                      "WHERE selector = ? AND expires_at > ?");
    if (!st) return STORE_ERR;
    sqlite3_bind_text(st, 1, selector, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st), ret = STORE_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *account_id = sqlite3_column_int64(st, 0);
        copy_text(st, 1, verifier_hash, STORE_HASH_HEX + 1);
        ret = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(DB(s), "token_get");
    }
    sqlite3_finalize(st);
    return ret;
}

#define CHAR_COLS                                                                                  \
    "id, account_id, name, description, level, experience, zone_id, x, y, z, heading, strength, "  \
    "vitality, dexterity, agility, intelligence, wisdom, hp, stamina, mana, last_played, is_alive"

static void read_character(sqlite3_stmt *st, character_t *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    copy_text(st, 2, c->name, sizeof(c->name));
    copy_text(st, 3, c->description, sizeof(c->description));
    c->level = sqlite3_column_int(st, 4);
    c->experience = sqlite3_column_int64(st, 5);
    copy_text(st, 6, c->zone_id, sizeof(c->zone_id));
    c->x = sqlite3_column_double(st, 7);
    c->y = sqlite3_column_double(st, 8);
    c->z = sqlite3_column_double(st, 9);
    c->heading = sqlite3_column_double(st, 10);
    int *stats[] = {&c->strength, &c->vitality, &c->dexterity, &c->agility, &c->intelligence,
                    &c->wisdom,   &c->hp,       &c->stamina,   &c->mana};
    for (int i = 0; i < 9; i++)
        *stats[i] = sqlite3_column_int(st, 11 + i);
    c->last_played = sqlite3_column_int64(st, 20);
    c->is_alive = sqlite3_column_int(st, 21) != 0;
}

/* Fills c->items from character_items. */
static int read_items(sqlite3 *db, character_t *c)
{
    sqlite3_stmt *st = prepare(db, "SELECT item_id, quantity, equipped FROM character_items "
                                   "WHERE character_id = ? ORDER BY slot");
    if (!st) return STORE_ERR;
    sqlite3_bind_int64(st, 1, c->id);
    int rc;
    c->n_items = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (c->n_items == CHAR_INV_MAX) continue;
        inv_slot_t *s = &c->items[c->n_items];
        copy_text(st, 0, s->item_id, sizeof(s->item_id));
        s->quantity = sqlite3_column_int(st, 1);
        s->equipped = sqlite3_column_int(st, 2) != 0;
        if (s->quantity > 0) c->n_items++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? STORE_OK : db_error(db, "read_items");
}

/* Replaces a character's inventory rows (inside the caller's transaction). */
static int write_items(sqlite3 *db, const character_t *c)
{
    sqlite3_stmt *st = prepare(db, "DELETE FROM character_items WHERE character_id = ?");
    if (!st) return STORE_ERR;
    sqlite3_bind_int64(st, 1, c->id);
    int rc = step_done(db, st, "write_items");
    for (int i = 0; rc == STORE_OK && i < c->n_items && i < CHAR_INV_MAX; i++) {
        st = prepare(db, "INSERT INTO character_items VALUES (?, ?, ?, ?, ?)");
        if (!st) return STORE_ERR;
        sqlite3_bind_int64(st, 1, c->id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_text(st, 3, c->items[i].item_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, c->items[i].quantity);
        sqlite3_bind_int(st, 5, c->items[i].equipped != 0);
        rc = step_done(db, st, "write_items");
    }
    return rc;
}

static int sq_characters_list(store_t *s, int64_t account_id, character_t *out, int max, int *n)
{
    sqlite3_stmt *st =
        prepare(DB(s), "SELECT " CHAR_COLS " FROM characters WHERE account_id = ? ORDER BY id");
    if (!st) return STORE_ERR;
    sqlite3_bind_int64(st, 1, account_id);
    int rc, cnt = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cnt < max) read_character(st, &out[cnt++]);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_error(DB(s), "characters_list");
    for (int i = 0; i < cnt; i++)
        if (read_items(DB(s), &out[i]) != STORE_OK) return STORE_ERR;
    *n = cnt;
    return STORE_OK;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
    out[i] = '\0';
}

static int sq_character_create(store_t *s, character_t *c)
{
    sqlite3 *db = DB(s);
    sqlite3_stmt *st = prepare(
        db, "INSERT INTO characters (account_id, name, name_key, description, level, experience, "
            "zone_id, x, y, z, heading, strength, vitality, dexterity, agility, intelligence, "
            "wisdom, hp, stamina, mana, last_played, is_alive) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id");
    if (!st) return STORE_ERR;
    char key[CHAR_NAME_MAX + 1];
    lower(c->name, key, sizeof(key));
    sqlite3_bind_int64(st, 1, c->account_id);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, c->description, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, c->level);
    sqlite3_bind_int64(st, 6, c->experience);
    sqlite3_bind_text(st, 7, c->zone_id, -1, SQLITE_TRANSIENT);
    double f[] = {c->x, c->y, c->z, c->heading};
    for (int i = 0; i < 4; i++)
        sqlite3_bind_double(st, 8 + i, f[i]);
    int v[] = {c->strength, c->vitality, c->dexterity, c->agility, c->intelligence,
               c->wisdom,   c->hp,       c->stamina,   c->mana};
    for (int i = 0; i < 9; i++)
        sqlite3_bind_int(st, 12 + i, v[i]);
    sqlite3_bind_int64(st, 21, c->last_played);
    sqlite3_bind_int(st, 22, c->is_alive != 0);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) c->id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return STORE_ERR_EXISTS;
    if (rc != SQLITE_ROW) return db_error(db, "character_create");
    return write_items(db, c);
}

static int sq_character_get(store_t *s, int64_t id, character_t *out)
{
    sqlite3_stmt *st = prepare(DB(s), "SELECT " CHAR_COLS " FROM characters WHERE id = ?");
    if (!st) return STORE_ERR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), ret = STORE_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        read_character(st, out);
        ret = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(DB(s), "character_get");
    }
    sqlite3_finalize(st);
    return ret == STORE_OK ? read_items(DB(s), out) : ret;
}

static int characters_save_locked(sqlite3 *db, const character_t *cs, int n)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, "begin");
    sqlite3_stmt *st = prepare(db, "UPDATE characters SET zone_id=?, x=?, y=?, z=?, heading=?, "
                                   "level=?, experience=?, hp=?, stamina=?, mana=?, "
                                   "last_played=?, is_alive=? WHERE id=?");
    int ret = st ? STORE_OK : STORE_ERR;
    for (int i = 0; st && i < n; i++) {
        const character_t *c = &cs[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, c->zone_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, c->x);
        sqlite3_bind_double(st, 3, c->y);
        sqlite3_bind_double(st, 4, c->z);
        sqlite3_bind_double(st, 5, c->heading);
        sqlite3_bind_int(st, 6, c->level);
        sqlite3_bind_int64(st, 7, c->experience);
        sqlite3_bind_int(st, 8, c->hp);
        sqlite3_bind_int(st, 9, c->stamina);
        sqlite3_bind_int(st, 10, c->mana);
        sqlite3_bind_int64(st, 11, c->last_played);
        sqlite3_bind_int(st, 12, c->is_alive != 0);
        sqlite3_bind_int64(st, 13, c->id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            ret = db_error(db, "characters_save");
            break;
        }
        if ((ret = write_items(db, c)) != STORE_OK) break;
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, ret == STORE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, "commit");
    return ret;
}

/* A transaction is connection state: while one worker thread is between
 * BEGIN and COMMIT no other may use the connection. The connection's own
 * (recursive) mutex held across the whole transaction gives exactly that. */
static int sq_characters_save(store_t *s, const character_t *cs, int n)
{
    sqlite3 *db = DB(s);
    sqlite3_mutex_enter(sqlite3_db_mutex(db));
    int rc = characters_save_locked(db, cs, n);
    sqlite3_mutex_leave(sqlite3_db_mutex(db));
    return rc;
}

static int sq_snapshot_put(store_t *s, const char *zone_id, const char *data, size_t len)
{
    sqlite3_stmt *st = prepare(DB(s), "INSERT OR REPLACE INTO zone_snapshots VALUES (?, ?, ?)");
    if (!st) return STORE_ERR;
    sqlite3_bind_text(st, 1, zone_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, data, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)clock_wall_ms());
    return step_done(DB(s), st, "snapshot_put");
}

static int sq_snapshot_get(store_t *s, const char *zone_id, char **data, size_t *len)
{
    sqlite3_stmt *st = prepare(DB(s), "SELECT data FROM zone_snapshots WHERE zone_id = ?");
    if (!st) return STORE_ERR;
    sqlite3_bind_text(st, 1, zone_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = STORE_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *data = wod_strndup((const char *)sqlite3_column_text(st, 0), *len);
        ret = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(DB(s), "snapshot_get");
    }
    sqlite3_finalize(st);
    return ret;
}

static void sq_close(store_t *s)
{
    sqlite3_close(DB(s));
    free(s);
}

static const store_ops_t sqlite_ops = {
    .migrate = sq_migrate,
    .gamedata_load = sq_gamedata_load,
    .zones_load = sq_zones_load,
    .npcs_load = sq_npcs_load,
    .account_create = sq_account_create,
    .account_find = sq_account_find,
    .token_put = sq_token_put,
    .token_get = sq_token_get,
    .characters_list = sq_characters_list,
    .character_create = sq_character_create,
    .character_get = sq_character_get,
    .characters_save = sq_characters_save,
    .snapshot_put = sq_snapshot_put,
    .snapshot_get = sq_snapshot_get,
    .close = sq_close,
};

/* Creates the parent directory of `path` if missing (data/ on first run). */
static void make_parent_dir(const char *path)
{
    char dir[512];
    (void)snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return;
    *slash = '\0';
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        log_warn("store", "cannot create %s: %s", dir, strerror(errno));
}

store_t *store_sqlite_open(const char *path)
{
    make_parent_dir(path);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        log_error("store", "cannot open sqlite database %s: %s", path,
                  db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
                 NULL, NULL, NULL);
    sqlite_store_t *s = wod_calloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    s->base.kind = "sqlite";
    s->db = db;
    log_info("store", "sqlite database %s", path);
    return &s->base;
}
