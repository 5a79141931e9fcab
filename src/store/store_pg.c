/* store_pg.c - the PostgreSQL store (libpq), same interface and schema as
 * store_sqlite.c (the reference implementation).
 *
 * Threads: operations run on libuv worker threads (store_async), up to
 * four at once, so the store keeps a pool of PG_POOL_SIZE connections
 * guarded by a mutex and condition variable. An operation takes a free
 * connection (opening it on first use), runs, and gives it back; a
 * fifth concurrent caller waits. A PGconn is never used by two threads
 * at a time, which is all libpq asks. Queries use PQexecParams with text
 * parameters; no SQL is ever built from values.
 *
 * Failures: when a query fails and the connection is broken (server
 * restart, network cut), the connection is reset (PQreset) and the whole
 * operation - including a whole transaction - runs once more. A write
 * whose COMMIT reached the server just before the connection broke may
 * therefore run twice; every write here is either idempotent (UPDATE,
 * upsert) or guarded by a unique key, so the repeat turns into
 * STORE_ERR_EXISTS instead of a duplicate row.
 *
 * Migrations take a session advisory lock so a gateway and two zone
 * servers starting at once against an empty database do not race.
 *
 * Read replicas (DATABASE_REPLICA_URLS): each replica is a backend with
 * its own pool, like the primary. Reads that tolerate lag (zone and NPC
 * definitions) go to the replicas in turn; reads that must see the latest
 * write (login, tokens, characters, snapshots) and every write go to the
 * primary (docs/ARCHITECTURE.md "Persistence"). A replica that fails a
 * read, or whose replay lag passes PG_REPLICA_MAX_LAG_S, is skipped for
 * PG_REPLICA_RETRY_MS and the read goes to the next one, finally the
 * primary: a replica only ever makes reads cheaper, never fails one. */
#include "store.h"
#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_POOL_SIZE         4
#define PG_MIGRATE_LOCK      "727400017" /* pg_advisory_lock key, any constant */
#define PG_SAVE_BATCH        500         /* characters per UPDATE statement */
#define PG_UNIQUE_VIOLATED   "23505"
#define PG_MAX_REPLICAS      8
#define PG_REPLICA_RETRY_MS  5000 /* a failed or lagging replica is skipped this long */
#define PG_REPLICA_LAG_EVERY 2000 /* replay lag is measured at most this often */
#define PG_REPLICA_MAX_LAG_S 30.0

/* One server (the primary or a replica) with its connection pool. */
typedef struct pg_backend_s {
    char *url;
    char name[24];               /* "primary", "replica1", ... (metrics label) */
    pthread_mutex_t mu;          /* guards everything below */
    pthread_cond_t cv;           /* signalled when a slot frees */
    PGconn *conns[PG_POOL_SIZE]; /* NULL until first used */
    int busy[PG_POOL_SIZE];
    int in_use;
    unsigned long long queries, errors;
    double seconds;
    double lag_s;          /* replica: last measured replay lag, -1 = unknown */
    double lag_checked_ms; /* clock_mono_ms of that measurement */
    double skip_until_ms;  /* replica: not used before this */
} pg_backend_t;

typedef struct pg_store_s {
    store_t base;
    pg_backend_t primary;
    pg_backend_t replicas[PG_MAX_REPLICAS];
    int nreplicas;
    unsigned next_replica; /* round robin, under primary.mu */
} pg_store_t;

#define PG(s) ((pg_store_t *)(s))

typedef int (*pg_op_fn)(PGconn *c, void *arg);

/* ---- connections */

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("store", "postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static PGconn *pg_connect(const char *url)
{
    /* Defaults first; expand_dbname lets the URL override any of them. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "wod-server", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) return NULL;
    PQsetNoticeProcessor(c, on_notice, NULL);
    if (PQstatus(c) != CONNECTION_OK)
        log_error("store", "postgres connect: %.*s", (int)strcspn(PQerrorMessage(c), "\n"),
                  PQerrorMessage(c));
    return c;
}

static void backend_init(pg_backend_t *b, const char *url, const char *name)
{
    b->url = wod_strdup(url);
    snprintf(b->name, sizeof(b->name), "%s", name);
    b->lag_s = -1;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void backend_free(pg_backend_t *b)
{
    for (int i = 0; i < PG_POOL_SIZE; i++)
        if (b->conns[i]) PQfinish(b->conns[i]);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b->url);
}

static int acquire(pg_backend_t *s)
{
    pthread_mutex_lock(&s->mu);
    int slot = -1;
    for (;;) {
        for (int i = 0; i < PG_POOL_SIZE; i++) {
            if (s->busy[i]) continue;
            if (slot < 0 || (!s->conns[slot] && s->conns[i])) slot = i; /* prefer open ones */
        }
        if (slot >= 0) break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    s->busy[slot] = 1;
    s->in_use++;
    pthread_mutex_unlock(&s->mu);
    if (!s->conns[slot]) s->conns[slot] = pg_connect(s->url); /* outside the lock: slow */
    return slot;
}

static void release(pg_backend_t *s, int slot)
{
    pthread_mutex_lock(&s->mu);
    s->busy[slot] = 0;
    s->in_use--;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Measures a replica's replay lag (0 when it has replayed all it got:
 * an idle primary sends nothing, so the replay timestamp alone would
 * grow without the replica being behind). */
static void measure_lag(pg_backend_t *b, PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                            "THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - "
                            "pg_last_xact_replay_timestamp()), 0) END");
    double lag = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        lag = strtod(PQgetvalue(r, 0, 0), NULL);
    PQclear(r);
    pthread_mutex_lock(&b->mu);
    b->lag_s = lag;
    b->lag_checked_ms = clock_mono_ms();
    pthread_mutex_unlock(&b->mu);
}

/* Runs op on a pooled connection of b; once more after a reset if the
 * connection turns out to be broken. A replica that cannot connect, or
 * lags too far, returns STORE_ERR at once (the caller moves on). */
static int run_on(pg_backend_t *s, int replica, pg_op_fn op, void *arg)
{
    int slot = acquire(s);
    PGconn *c = s->conns[slot];
    int rc = STORE_ERR;
    if (!c) goto out;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (PQstatus(c) != CONNECTION_OK) {
            PQreset(c);
            if (PQstatus(c) != CONNECTION_OK) {
                log_error("store", "postgres reconnect failed: %.*s",
                          (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
                continue;
            }
            log_info("store", "postgres connection re-established");
        }
        pthread_mutex_lock(&s->mu);
        int due = replica && clock_mono_ms() - s->lag_checked_ms >= PG_REPLICA_LAG_EVERY;
        pthread_mutex_unlock(&s->mu);
        if (due) {
            measure_lag(s, c);
            pthread_mutex_lock(&s->mu);
            double lag = s->lag_s;
            pthread_mutex_unlock(&s->mu);
            if (lag > PG_REPLICA_MAX_LAG_S) {
                log_warn("store", "postgres %s is %.1f s behind the primary; reading elsewhere",
                         s->name, lag);
                goto out;
            }
        }
        double t0 = clock_mono_ms();
        rc = op(c, arg);
        pthread_mutex_lock(&s->mu);
        s->queries++;
        s->errors += rc == STORE_ERR;
        s->seconds += (clock_mono_ms() - t0) / 1000.0;
        pthread_mutex_unlock(&s->mu);
        if (rc != STORE_ERR || PQstatus(c) == CONNECTION_OK) break;
        log_warn("store", "postgres connection lost during a query; retrying once");
    }
out:
    release(s, slot);
    return rc;
}

/* Reads and writes that must see the latest write: the primary. */
static int run(store_t *st, pg_op_fn op, void *arg)
{
    return run_on(&PG(st)->primary, 0, op, arg);
}

/* Reads that tolerate lag: a replica that answers, else the primary.
 * `empty` (may be NULL) says whether a result looks like a replica that
 * has not caught up with the schema yet (no zones at all): then the
 * primary is asked too. */
static int run_read(store_t *st, pg_op_fn op, void *arg, int (*empty)(void *arg))
{
    pg_store_t *s = PG(st);
    pthread_mutex_lock(&s->primary.mu);
    unsigned first = s->next_replica++;
    pthread_mutex_unlock(&s->primary.mu);
    for (int k = 0; k < s->nreplicas; k++) {
        pg_backend_t *b = &s->replicas[(first + (unsigned)k) % (unsigned)s->nreplicas];
        double now = clock_mono_ms();
        pthread_mutex_lock(&b->mu);
        int skip = now < b->skip_until_ms;
        pthread_mutex_unlock(&b->mu);
        if (skip) continue;
        int rc = run_on(b, 1, op, arg);
        if (rc != STORE_ERR && !(rc == STORE_OK && empty && empty(arg))) return rc;
        log_warn("store", "postgres %s %s; next read there in %d ms", b->name,
                 rc == STORE_ERR ? "unavailable" : "has no data yet", PG_REPLICA_RETRY_MS);
        pthread_mutex_lock(&b->mu);
        b->skip_until_ms = now + PG_REPLICA_RETRY_MS;
        pthread_mutex_unlock(&b->mu);
    }
    return run(st, op, arg);
}

/* ---- query helpers */

static PGresult *exec(PGconn *c, const char *sql, int n, const char *const *vals)
{
    return PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
}

/* Checks r (clearing it unless it is wanted): STORE_OK, EXISTS on a unique
 * violation, or STORE_ERR (logged). */
static int check(PGconn *c, PGresult *r, ExecStatusType want, const char *what, int keep)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = STORE_OK;
    if (st != want) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (state && strcmp(state, PG_UNIQUE_VIOLATED) == 0) {
            rc = STORE_ERR_EXISTS;
        } else {
            const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
            /* A broken connection is retried by run(); no error for that yet. */
            wlog(PQstatus(c) == CONNECTION_BAD ? LOG_WARN : LOG_ERROR, "store", "postgres %s: %.*s",
                 what, (int)strcspn(msg, "\n"), msg);
            rc = STORE_ERR;
        }
    }
    if (!keep || rc != STORE_OK) PQclear(r);
    return rc;
}

static int command(PGconn *c, const char *sql, int n, const char *const *vals, const char *what)
{
    return check(c, exec(c, sql, n, vals), PGRES_COMMAND_OK, what, 0);
}

static void copy_col(PGresult *r, int row, int col, char *out, size_t cap)
{
    snprintf(out, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static int64_t col_i64(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static double col_f64(PGresult *r, int row, int col)
{
    return strtod(PQgetvalue(r, row, col), NULL);
}

typedef struct num_s {
    char s[32];
} num_t;

static const char *i64s(num_t *n, int64_t v)
{
    snprintf(n->s, sizeof(n->s), "%" PRId64, v);
    return n->s;
}

static const char *f64s(num_t *n, double v)
{
    snprintf(n->s, sizeof(n->s), "%.17g", v);
    return n->s;
}

/* ---- migrations */

static int do_migrate(PGconn *c, void *arg)
{
    (void)arg;
    PGresult *r = exec(c, "SELECT pg_advisory_lock(" PG_MIGRATE_LOCK ")", 0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "migrate lock", 0) != STORE_OK) return STORE_ERR;
    int rc =
        command(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)", 0,
                NULL, "migrations table");
    int applied = 0;
    if (rc == STORE_OK) {
        r = exec(c, "SELECT COUNT(*) FROM schema_migrations", 0, NULL);
        rc = check(c, r, PGRES_TUPLES_OK, "migrations count", 1);
        if (rc == STORE_OK) {
            applied = (int)col_i64(r, 0, 0);
            PQclear(r);
        }
    }
    const char *const *m = store_migrations("postgres");
    for (int i = applied; rc == STORE_OK && m[i]; i++) {
        num_t v;
        const char *vals[] = {i64s(&v, i + 1)};
        rc = command(c, "BEGIN", 0, NULL, "begin");
        if (rc == STORE_OK) rc = check(c, PQexec(c, m[i]), PGRES_COMMAND_OK, "migration", 0);
        if (rc == STORE_OK)
            rc = command(c, "INSERT INTO schema_migrations VALUES ($1::int)", 1, vals,
                         "migration record");
        if (rc == STORE_OK) rc = command(c, "COMMIT", 0, NULL, "commit");
        if (rc != STORE_OK) {
            log_error("store", "postgres migration %d failed", i + 1);
            PQclear(PQexec(c, "ROLLBACK"));
            rc = STORE_ERR;
        } else {
            log_info("store", "applied migration %d", i + 1);
        }
    }
    PQclear(exec(c, "SELECT pg_advisory_unlock(" PG_MIGRATE_LOCK ")", 0, NULL));
    return rc;
}

static int pg_migrate(store_t *s)
{
    return run(s, do_migrate, NULL);
}

/* ---- zones */

typedef struct {
    zonedef_t **out;
    int *n;
} zones_args_t;

/* A replica without zones has not replayed the migrations yet. */
static int zones_empty(void *arg)
{
    zones_args_t *a = arg;
    if (*a->n > 0) return 0;
    free(*a->out);
    *a->out = NULL;
    return 1;
}

static int do_zones_load(PGconn *c, void *arg)
{
    zones_args_t *a = arg;
    PGresult *r = exec(c,
                       "SELECT id, name, description, rating, weather, time_of_day, lighting, "
                       "origin_x, origin_z, size_x, size_y, size_z, spawn_x, spawn_y, spawn_z "
                       "FROM zones ORDER BY id",
                       0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "zones_load", 1) != STORE_OK) return STORE_ERR;
    int n = PQntuples(r);
    zonedef_t *zs = wod_calloc(n > 0 ? (size_t)n : 1, sizeof(*zs));
    for (int i = 0; i < n; i++) {
        zonedef_t *z = &zs[i];
        copy_col(r, i, 0, z->id, sizeof(z->id));
        copy_col(r, i, 1, z->name, sizeof(z->name));
        copy_col(r, i, 2, z->description, sizeof(z->description));
        copy_col(r, i, 3, z->rating, sizeof(z->rating));
        copy_col(r, i, 4, z->weather, sizeof(z->weather));
        copy_col(r, i, 5, z->time_of_day, sizeof(z->time_of_day));
        copy_col(r, i, 6, z->lighting, sizeof(z->lighting));
        double *f[] = {&z->origin_x, &z->origin_z, &z->size_x,  &z->size_y,
                       &z->size_z,   &z->spawn_x,  &z->spawn_y, &z->spawn_z};
        for (int k = 0; k < 8; k++)
            *f[k] = col_f64(r, i, 7 + k);
    }
    PQclear(r);
    *a->out = zs;
    *a->n = n;
    return STORE_OK;
}

static int pg_zones_load(store_t *s, zonedef_t **out, int *n)
{
    zones_args_t a = {out, n};
    return run_read(s, do_zones_load, &a, zones_empty);
}

/* ---- game data */

static int enum_col(PGresult *r, int row, int col, int (*parse)(const char *))
{
    int v = parse(PQgetvalue(r, row, col));
    return v < 0 ? 0 : v;
}

static int do_gamedata_load(PGconn *c, void *arg)
{
    gamedata_t *g = arg;
    memset(g, 0, sizeof(*g));
    PGresult *r = exec(c,
                       "SELECT id, name, description, target, range_ft, atb_cost, stamina_cost, "
                       "mana_cost, health_cost, cooldown_s, damage_type, amount, scaling_stat, "
                       "scaling, builds_charge, builds_amount, consumes_charge, consumes_amount, "
                       "area_ft FROM abilities ORDER BY id",
                       0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "abilities", 1) != STORE_OK) return STORE_ERR;
    for (int i = 0; i < PQntuples(r) && g->n_abilities < GD_MAX_ABILITIES; i++) {
        ability_def_t *a = &g->abilities[g->n_abilities++];
        copy_col(r, i, 0, a->id, sizeof(a->id));
        copy_col(r, i, 1, a->name, sizeof(a->name));
        copy_col(r, i, 2, a->description, sizeof(a->description));
        a->target = strcmp(PQgetvalue(r, i, 3), "ally") == 0 ? TARGET_ALLY : TARGET_ENEMY;
        a->range_ft = col_f64(r, i, 4);
        a->atb_cost = (int)col_i64(r, i, 5);
        a->stamina_cost = (int)col_i64(r, i, 6);
        a->mana_cost = (int)col_i64(r, i, 7);
        a->health_cost = (int)col_i64(r, i, 8);
        a->cooldown_s = col_f64(r, i, 9);
        a->damage_type = enum_col(r, i, 10, gamedata_damage_parse);
        a->amount = col_f64(r, i, 11);
        a->scaling_stat = enum_col(r, i, 12, gamedata_stat_parse);
        a->scaling = col_f64(r, i, 13);
        copy_col(r, i, 14, a->builds_charge, sizeof(a->builds_charge));
        a->builds_amount = (int)col_i64(r, i, 15);
        copy_col(r, i, 16, a->consumes_charge, sizeof(a->consumes_charge));
        a->consumes_amount = (int)col_i64(r, i, 17);
        a->area_ft = col_f64(r, i, 18);
    }
    PQclear(r);
    r = exec(c,
             "SELECT id, name, description, kind, attack_bonus, resource, value, cooldown_s, "
             "stack_max FROM items ORDER BY id",
             0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "items", 1) != STORE_OK) return STORE_ERR;
    for (int i = 0; i < PQntuples(r) && g->n_items < GD_MAX_ITEMS; i++) {
        item_def_t *it = &g->items[g->n_items++];
        copy_col(r, i, 0, it->id, sizeof(it->id));
        copy_col(r, i, 1, it->name, sizeof(it->name));
        copy_col(r, i, 2, it->description, sizeof(it->description));
        it->kind = enum_col(r, i, 3, gamedata_item_kind_parse);
        it->attack_bonus = (int)col_i64(r, i, 4);
        it->resource = enum_col(r, i, 5, gamedata_resource_parse);
        it->value = (int)col_i64(r, i, 6);
        it->cooldown_s = col_f64(r, i, 7);
        it->stack_max = (int)col_i64(r, i, 8);
    }
    PQclear(r);
    r = exec(c,
             "SELECT source, item_id, chance_pct, qty_min, qty_max FROM loot "
             "ORDER BY source, item_id",
             0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "loot", 1) != STORE_OK) return STORE_ERR;
    for (int i = 0; i < PQntuples(r) && g->n_loot < GD_MAX_LOOT; i++) {
        loot_def_t *l = &g->loot[g->n_loot++];
        copy_col(r, i, 0, l->source, sizeof(l->source));
        copy_col(r, i, 1, l->item_id, sizeof(l->item_id));
        l->chance_pct = col_f64(r, i, 2);
        l->qty_min = (int)col_i64(r, i, 3);
        l->qty_max = (int)col_i64(r, i, 4);
    }
    PQclear(r);
    return STORE_OK;
}

static int pg_gamedata_load(store_t *s, gamedata_t *out)
{
    return run(s, do_gamedata_load, out);
}

typedef struct {
    npcdef_t **out;
    int *n;
} npcs_args_t;

static int do_npcs_load(PGconn *c, void *arg)
{
    npcs_args_t *a = arg;
    PGresult *r = exec(c, NPCDEF_SQL_SPAWNS, 0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "npcs_load", 1) != STORE_OK) return STORE_ERR;
    int n = PQntuples(r);
    npcdef_t *v = wod_calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
    for (int i = 0; i < n; i++) {
        npcdef_t *d = &v[i];
        char kind[8], family[16];
        copy_col(r, i, 0, d->tag, sizeof(d->tag));
        copy_col(r, i, 1, d->def_id, sizeof(d->def_id));
        copy_col(r, i, 2, d->zone_id, sizeof(d->zone_id));
        copy_col(r, i, 3, d->name, sizeof(d->name));
        copy_col(r, i, 4, d->description, sizeof(d->description));
        copy_col(r, i, 5, kind, sizeof(kind));
        copy_col(r, i, 6, family, sizeof(family));
        d->is_mob = strcmp(kind, "mob") == 0;
        d->wildlife = strcmp(family, "wildlife") == 0;
        int *iv[] = {&d->level,        &d->strength, &d->vitality, &d->dexterity, &d->agility,
                     &d->intelligence, &d->wisdom,   &d->max_hp,   &d->hostile,   &d->respawn_ms};
        for (int k = 0; k < 10; k++)
            *iv[k] = (int)col_i64(r, i, 7 + k);
        double *fv[] = {&d->aggro_radius, &d->leash, &d->speed, &d->flee_at,
                        &d->wander,       &d->x,     &d->y,     &d->z};
        for (int k = 0; k < 8; k++)
            *fv[k] = col_f64(r, i, 17 + k);
    }
    PQclear(r);
    r = exec(c, NPCDEF_SQL_WAYPOINTS, 0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "npcs_load waypoints", 1) != STORE_OK) goto fail;
    for (int i = 0; i < PQntuples(r); i++)
        npcdef_add_waypoint(v, n, PQgetvalue(r, i, 0), col_f64(r, i, 1), col_f64(r, i, 2));
    PQclear(r);
    r = exec(c, NPCDEF_SQL_LINES, 0, NULL);
    if (check(c, r, PGRES_TUPLES_OK, "npcs_load lines", 1) != STORE_OK) goto fail;
    for (int i = 0; i < PQntuples(r); i++)
        npcdef_add_line(v, n, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    *a->out = v;
    *a->n = n;
    return STORE_OK;
fail:
    free(v);
    return STORE_ERR;
}

static int pg_npcs_load(store_t *s, npcdef_t **out, int *n)
{
    npcs_args_t a = {out, n};
    return run_read(s, do_npcs_load, &a, NULL);
}

/* ---- accounts and tokens */

typedef struct {
    const char *username, *pwhash, *display_name;
    int64_t *id;
    char *hash_out;
    size_t cap;
} account_args_t;

static int do_account_create(PGconn *c, void *arg)
{
    account_args_t *a = arg;
    num_t now;
    const char *vals[] = {a->username, a->pwhash, a->display_name,
                          i64s(&now, (int64_t)clock_wall_ms())};
    PGresult *r = exec(c,
                       "INSERT INTO accounts (username, password_hash, display_name, created_at) "
                       "VALUES ($1, $2, $3, $4::bigint) RETURNING id",
                       4, vals);
    int rc = check(c, r, PGRES_TUPLES_OK, "account_create", 1);
    if (rc != STORE_OK) return rc;
    *a->id = col_i64(r, 0, 0);
    PQclear(r);
    return STORE_OK;
}

static int pg_account_create(store_t *s, const char *username, const char *pwhash,
                             const char *display_name, int64_t *id)
{
    account_args_t a = {username, pwhash, display_name, id, NULL, 0};
    return run(s, do_account_create, &a);
}

static int do_account_find(PGconn *c, void *arg)
{
    account_args_t *a = arg;
    const char *vals[] = {a->username};
    PGresult *r = exec(c, "SELECT id, password_hash FROM accounts WHERE username = $1", 1, vals);
    int rc = check(c, r, PGRES_TUPLES_OK, "account_find", 1);
    if (rc != STORE_OK) return rc;
    if (PQntuples(r) == 0) {
        rc = STORE_ERR_NOTFOUND;
    } else {
        *a->id = col_i64(r, 0, 0);
        copy_col(r, 0, 1, a->hash_out, a->cap);
    }
    PQclear(r);
    return rc;
}

static int pg_account_find(store_t *s, const char *username, int64_t *id, char *pwhash, size_t cap)
{
    account_args_t a = {username, NULL, NULL, id, pwhash, cap};
    return run(s, do_account_find, &a);
}

typedef struct {
    const char *selector, *hash;
    int64_t account_id, ms;
    int64_t *account_out;
    char *hash_out;
} token_args_t;

static int do_token_put(PGconn *c, void *arg)
{
    token_args_t *a = arg;
    num_t acc, exp;
    const char *vals[] = {a->selector, i64s(&acc, a->account_id), a->hash, i64s(&exp, a->ms)};
    return command(c,
                   "INSERT INTO tokens (selector, account_id, verifier_hash, expires_at) "
                   "VALUES ($1, $2::bigint, $3, $4::bigint)",
                   4, vals, "token_put");
}

static int pg_token_put(store_t *s, const char *selector, const char *verifier_hash,
                        int64_t account_id, int64_t expires_ms)
{
    token_args_t a = {selector, verifier_hash, account_id, expires_ms, NULL, NULL};
    return run(s, do_token_put, &a);
}

static int do_token_get(PGconn *c, void *arg)
{
    token_args_t *a = arg;
    num_t now;
    const char *vals[] = {a->selector, i64s(&now, a->ms)};
    PGresult *r = exec(c,
                       "SELECT account_id, verifier_hash FROM tokens "
                       "WHERE selector = $1 AND expires_at > $2::bigint",
                       2, vals);
    int rc = check(c, r, PGRES_TUPLES_OK, "token_get", 1);
    if (rc != STORE_OK) return rc;
    if (PQntuples(r) == 0) {
        rc = STORE_ERR_NOTFOUND;
    } else {
        *a->account_out = col_i64(r, 0, 0);
        copy_col(r, 0, 1, a->hash_out, STORE_HASH_HEX + 1);
    }
    PQclear(r);
    return rc;
}

static int pg_token_get(store_t *s, const char *selector, int64_t now_ms, int64_t *account_id,
                        char verifier_hash[STORE_HASH_HEX + 1])
{
    token_args_t a = {selector, NULL, 0, now_ms, account_id, verifier_hash};
    return run(s, do_token_get, &a);
}

/* ---- characters */

#define CHAR_COLS                                                                                  \
    "id, account_id, name, description, level, experience, zone_id, x, y, z, heading, strength, "  \
    "vitality, dexterity, agility, intelligence, wisdom, hp, stamina, mana, last_played, is_alive"

static void read_character(PGresult *r, int row, character_t *c)
{
    memset(c, 0, sizeof(*c));
    c->id = col_i64(r, row, 0);
    c->account_id = col_i64(r, row, 1);
    copy_col(r, row, 2, c->name, sizeof(c->name));
    copy_col(r, row, 3, c->description, sizeof(c->description));
    c->level = (int)col_i64(r, row, 4);
    c->experience = col_i64(r, row, 5);
    copy_col(r, row, 6, c->zone_id, sizeof(c->zone_id));
    c->x = col_f64(r, row, 7);
    c->y = col_f64(r, row, 8);
    c->z = col_f64(r, row, 9);
    c->heading = col_f64(r, row, 10);
    int *stats[] = {&c->strength, &c->vitality, &c->dexterity, &c->agility, &c->intelligence,
                    &c->wisdom,   &c->hp,       &c->stamina,   &c->mana};
    for (int i = 0; i < 9; i++)
        *stats[i] = (int)col_i64(r, row, 11 + i);
    c->last_played = col_i64(r, row, 20);
    c->is_alive = col_i64(r, row, 21) != 0;
}

/* Appends v to a PostgreSQL array literal, quoted (zone ids are text). */
static void array_str(buf_t *b, const char *v)
{
    buf_putc(b, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') buf_putc(b, '\\');
        buf_putc(b, *v);
    }
    buf_putc(b, '"');
}

/* Fills c->items from character_items. */
static int read_items(PGconn *c, character_t *ch)
{
    num_t id;
    const char *vals[] = {i64s(&id, ch->id)};
    PGresult *r = exec(c,
                       "SELECT item_id, quantity, equipped FROM character_items "
                       "WHERE character_id = $1::bigint ORDER BY slot",
                       1, vals);
    if (check(c, r, PGRES_TUPLES_OK, "read_items", 1) != STORE_OK) return STORE_ERR;
    ch->n_items = 0;
    for (int i = 0; i < PQntuples(r) && ch->n_items < CHAR_INV_MAX; i++) {
        inv_slot_t *s = &ch->items[ch->n_items];
        copy_col(r, i, 0, s->item_id, sizeof(s->item_id));
        s->quantity = (int)col_i64(r, i, 1);
        s->equipped = col_i64(r, i, 2) != 0;
        if (s->quantity > 0) ch->n_items++;
    }
    PQclear(r);
    return STORE_OK;
}

/* Replaces the inventory rows of n characters (inside the caller's
 * transaction): one DELETE and one INSERT from arrays. */
static int write_items(PGconn *c, const character_t *cs, int n)
{
    buf_t ids, cid, slot, item, qty, eq;
    buf_t *all[] = {&ids, &cid, &slot, &item, &qty, &eq};
    for (int k = 0; k < 6; k++) {
        buf_init(all[k]);
        buf_putc(all[k], '{');
    }
    int rows = 0;
    for (int i = 0; i < n; i++) {
        buf_printf(&ids, "%s%" PRId64, i ? "," : "", cs[i].id);
        for (int k = 0; k < cs[i].n_items && k < CHAR_INV_MAX; k++) {
            const char *sep = rows++ ? "," : "";
            buf_printf(&cid, "%s%" PRId64, sep, cs[i].id);
            buf_printf(&slot, "%s%d", sep, k);
            buf_puts(&item, sep);
            array_str(&item, cs[i].items[k].item_id);
            buf_printf(&qty, "%s%d", sep, cs[i].items[k].quantity);
            buf_printf(&eq, "%s%d", sep, cs[i].items[k].equipped != 0);
        }
    }
    for (int k = 0; k < 6; k++)
        buf_putc(all[k], '}');
    const char *v1[] = {ids.data};
    int rc = command(c, "DELETE FROM character_items WHERE character_id = ANY($1::bigint[])", 1, v1,
                     "write_items");
    const char *v2[] = {cid.data, slot.data, item.data, qty.data, eq.data};
    if (rc == STORE_OK && rows)
        rc =
            command(c,
                    "INSERT INTO character_items (character_id, slot, item_id, quantity, equipped) "
                    "SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[], "
                    "$5::int[])",
                    5, v2, "write_items");
    for (int k = 0; k < 6; k++)
        buf_free(all[k]);
    return rc;
}

typedef struct {
    int64_t id;
    character_t *out;
    int max, *n;
} chars_args_t;

static int do_characters_list(PGconn *c, void *arg)
{
    chars_args_t *a = arg;
    num_t id;
    const char *vals[] = {i64s(&id, a->id)};
    PGresult *r = exec(c,
                       "SELECT " CHAR_COLS " FROM characters WHERE account_id = $1::bigint "
                       "ORDER BY id",
                       1, vals);
    if (check(c, r, PGRES_TUPLES_OK, "characters_list", 1) != STORE_OK) return STORE_ERR;
    int rows = PQntuples(r), cnt = 0;
    for (int i = 0; i < rows && cnt < a->max; i++)
        read_character(r, i, &a->out[cnt++]);
    PQclear(r);
    for (int i = 0; i < cnt; i++)
        if (read_items(c, &a->out[i]) != STORE_OK) return STORE_ERR;
    *a->n = cnt;
    return STORE_OK;
}

static int pg_characters_list(store_t *s, int64_t account_id, character_t *out, int max, int *n)
{
    chars_args_t a = {account_id, out, max, n};
    return run(s, do_characters_list, &a);
}

/* ASCII lower-case, as store_sqlite.c: names are unique ignoring case. */
static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
    out[i] = '\0';
}

static int do_character_create(PGconn *c, void *arg)
{
    character_t *ch = arg;
    char key[CHAR_NAME_MAX + 1];
    lower(ch->name, key, sizeof(key));
    num_t n[18];
    const char *vals[] = {i64s(&n[0], ch->account_id),
                          ch->name,
                          key,
                          ch->description,
                          i64s(&n[1], ch->level),
                          i64s(&n[2], ch->experience),
                          ch->zone_id,
                          f64s(&n[3], ch->x),
                          f64s(&n[4], ch->y),
                          f64s(&n[5], ch->z),
                          f64s(&n[6], ch->heading),
                          i64s(&n[7], ch->strength),
                          i64s(&n[8], ch->vitality),
                          i64s(&n[9], ch->dexterity),
                          i64s(&n[10], ch->agility),
                          i64s(&n[11], ch->intelligence),
                          i64s(&n[12], ch->wisdom),
                          i64s(&n[13], ch->hp),
                          i64s(&n[14], ch->stamina),
                          i64s(&n[15], ch->mana),
                          i64s(&n[16], ch->last_played),
                          i64s(&n[17], ch->is_alive != 0)};
    PGresult *r = exec(c,
                       "INSERT INTO characters (account_id, name, name_key, description, level, "
                       "experience, zone_id, x, y, z, heading, strength, vitality, dexterity, "
                       "agility, intelligence, wisdom, hp, stamina, mana, last_played, is_alive) "
                       "VALUES ($1::bigint, $2, $3, $4, $5::int, $6::bigint, $7, $8::float8, "
                       "$9::float8, $10::float8, $11::float8, $12::int, $13::int, $14::int, "
                       "$15::int, $16::int, $17::int, $18::int, $19::int, $20::int, $21::bigint, "
                       "$22::int) RETURNING id",
                       22, vals);
    int rc = check(c, r, PGRES_TUPLES_OK, "character_create", 1);
    if (rc != STORE_OK) return rc;
    ch->id = col_i64(r, 0, 0);
    PQclear(r);
    return write_items(c, ch, 1);
}

static int pg_character_create(store_t *s, character_t *c)
{
    return run(s, do_character_create, c);
}

static int do_character_get(PGconn *c, void *arg)
{
    chars_args_t *a = arg;
    num_t id;
    const char *vals[] = {i64s(&id, a->id)};
    PGresult *r = exec(c, "SELECT " CHAR_COLS " FROM characters WHERE id = $1::bigint", 1, vals);
    int rc = check(c, r, PGRES_TUPLES_OK, "character_get", 1);
    if (rc != STORE_OK) return rc;
    if (PQntuples(r) == 0)
        rc = STORE_ERR_NOTFOUND;
    else
        read_character(r, 0, a->out);
    PQclear(r);
    return rc == STORE_OK ? read_items(c, a->out) : rc;
}

static int pg_character_get(store_t *s, int64_t id, character_t *out)
{
    chars_args_t a = {id, out, 1, NULL};
    return run(s, do_character_get, &a);
}

typedef struct {
    const character_t *cs;
    int n;
} save_args_t;

/* One UPDATE per PG_SAVE_BATCH characters: the columns travel as arrays
 * and unnest() turns them back into rows, so saving a busy zone is a few
 * round trips instead of one per player. */
static int do_characters_save(PGconn *c, void *arg)
{
    save_args_t *a = arg;
    enum { ID, ZONE, X, Y, Z, HEADING, LEVEL, XP, HP, STAMINA, MANA, PLAYED, ALIVE, NCOL };
    buf_t cols[NCOL];
    for (int k = 0; k < NCOL; k++)
        buf_init(&cols[k]);
    int rc = command(c, "BEGIN", 0, NULL, "begin");
    for (int start = 0; rc == STORE_OK && start < a->n; start += PG_SAVE_BATCH) {
        int end = a->n - start > PG_SAVE_BATCH ? start + PG_SAVE_BATCH : a->n;
        for (int k = 0; k < NCOL; k++) {
            buf_reset(&cols[k]);
            buf_putc(&cols[k], '{');
        }
        for (int i = start; i < end; i++) {
            const character_t *ch = &a->cs[i];
            const char *sep = i > start ? "," : "";
            buf_printf(&cols[ID], "%s%" PRId64, sep, ch->id);
            buf_puts(&cols[ZONE], sep);
            array_str(&cols[ZONE], ch->zone_id);
            buf_printf(&cols[X], "%s%.17g", sep, ch->x);
            buf_printf(&cols[Y], "%s%.17g", sep, ch->y);
            buf_printf(&cols[Z], "%s%.17g", sep, ch->z);
            buf_printf(&cols[HEADING], "%s%.17g", sep, ch->heading);
            buf_printf(&cols[LEVEL], "%s%d", sep, ch->level);
            buf_printf(&cols[XP], "%s%" PRId64, sep, ch->experience);
            buf_printf(&cols[HP], "%s%d", sep, ch->hp);
            buf_printf(&cols[STAMINA], "%s%d", sep, ch->stamina);
            buf_printf(&cols[MANA], "%s%d", sep, ch->mana);
            buf_printf(&cols[PLAYED], "%s%" PRId64, sep, ch->last_played);
            buf_printf(&cols[ALIVE], "%s%d", sep, ch->is_alive != 0);
        }
        const char *vals[NCOL];
        for (int k = 0; k < NCOL; k++) {
            buf_putc(&cols[k], '}');
            vals[k] = cols[k].data;
        }
        rc = command(c,
                     "UPDATE characters AS c SET zone_id = v.zone_id, x = v.x, y = v.y, "
                     "z = v.z, heading = v.heading, level = v.level, experience = v.experience, "
                     "hp = v.hp, stamina = v.stamina, mana = v.mana, last_played = v.last_played, "
                     "is_alive = v.is_alive "
                     "FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::float8[], "
                     "$5::float8[], $6::float8[], $7::int[], $8::bigint[], $9::int[], "
                     "$10::int[], $11::int[], $12::bigint[], $13::int[]) AS v(id, zone_id, x, y, "
                     "z, heading, level, experience, hp, stamina, mana, last_played, is_alive) "
                     "WHERE c.id = v.id",
                     NCOL, vals, "characters_save");
        if (rc == STORE_OK) rc = write_items(c, a->cs + start, end - start);
    }
    if (rc == STORE_OK) rc = command(c, "COMMIT", 0, NULL, "commit");
    if (rc != STORE_OK) {
        PQclear(PQexec(c, "ROLLBACK"));
        rc = STORE_ERR;
    }
    for (int k = 0; k < NCOL; k++)
        buf_free(&cols[k]);
    return rc;
}

static int pg_characters_save(store_t *s, const character_t *c, int n)
{
    if (n <= 0) return STORE_OK;
    save_args_t a = {c, n};
    return run(s, do_characters_save, &a);
}

/* ---- zone snapshots */

typedef struct {
    const char *zone_id;
    const char *data; /* NUL-terminated copy */
    char **out;
    size_t *len;
} snap_args_t;

static int do_snapshot_put(PGconn *c, void *arg)
{
    snap_args_t *a = arg;
    num_t now;
    const char *vals[] = {a->zone_id, a->data, i64s(&now, (int64_t)clock_wall_ms())};
    return command(c,
                   "INSERT INTO zone_snapshots (zone_id, data, saved_at) "
                   "VALUES ($1, $2, $3::bigint) ON CONFLICT (zone_id) DO UPDATE "
                   "SET data = EXCLUDED.data, saved_at = EXCLUDED.saved_at",
                   3, vals, "snapshot_put");
}

static int pg_snapshot_put(store_t *s, const char *zone_id, const char *data, size_t len)
{
    /* Text parameters are NUL-terminated; the caller's bytes may not be. */
    char *copy = wod_strndup(data, len);
    snap_args_t a = {zone_id, copy, NULL, NULL};
    int rc = run(s, do_snapshot_put, &a);
    free(copy);
    return rc;
}

static int do_snapshot_get(PGconn *c, void *arg)
{
    snap_args_t *a = arg;
    const char *vals[] = {a->zone_id};
    PGresult *r = exec(c, "SELECT data FROM zone_snapshots WHERE zone_id = $1", 1, vals);
    int rc = check(c, r, PGRES_TUPLES_OK, "snapshot_get", 1);
    if (rc != STORE_OK) return rc;
    if (PQntuples(r) == 0) {
        rc = STORE_ERR_NOTFOUND;
    } else {
        *a->len = (size_t)PQgetlength(r, 0, 0);
        *a->out = wod_strndup(PQgetvalue(r, 0, 0), *a->len);
    }
    PQclear(r);
    return rc;
}

static int pg_snapshot_get(store_t *s, const char *zone_id, char **data, size_t *len)
{
    snap_args_t a = {zone_id, NULL, data, len};
    return run(s, do_snapshot_get, &a);
}

static void pg_metrics(store_t *st, const char *role, buf_t *out)
{
    static const char *const help[][3] = {
        {"wod_store_backend_queries_total", "counter", "Store operations per PostgreSQL backend."},
        {"wod_store_backend_errors_total", "counter", "Failed store operations per backend."},
        {"wod_store_backend_query_seconds_total", "counter", "Time spent in store operations."},
        {"wod_store_backend_pool_in_use", "gauge", "Pooled connections in use."},
        {"wod_store_replica_lag_seconds", "gauge",
         "Replica replay lag at the last check (-1 = unknown)."},
    };
    pg_store_t *s = PG(st);
    for (size_t m = 0; m < sizeof(help) / sizeof(help[0]); m++) {
        if (m == 4 && s->nreplicas == 0) break;
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", help[m][0], help[m][2], help[m][0],
                   help[m][1]);
        for (int i = m == 4 ? 0 : -1; i < s->nreplicas; i++) {
            pg_backend_t *b = i < 0 ? &s->primary : &s->replicas[i];
            pthread_mutex_lock(&b->mu);
            buf_printf(out, "%s{role=\"%s\",backend=\"%s\"} ", help[m][0], role, b->name);
            if (m == 0)
                buf_printf(out, "%llu\n", b->queries);
            else if (m == 1)
                buf_printf(out, "%llu\n", b->errors);
            else if (m == 2)
                buf_printf(out, "%.6f\n", b->seconds);
            else if (m == 3)
                buf_printf(out, "%d\n", b->in_use);
            else
                buf_printf(out, "%.3f\n", b->lag_s);
            pthread_mutex_unlock(&b->mu);
        }
    }
}

int store_pg_set_replicas(store_t *st, const char *urls)
{
    pg_store_t *s = PG(st);
    const char *p = urls;
    while (*p) {
        size_t n = strcspn(p, ",");
        char url[512];
        if (n == 0 || n >= sizeof(url) || s->nreplicas == PG_MAX_REPLICAS) {
            log_error("store", "DATABASE_REPLICA_URLS: an empty or too long URL, or more than %d",
                      PG_MAX_REPLICAS);
            return STORE_ERR;
        }
        memcpy(url, p, n);
        url[n] = 0;
        if (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0) {
            log_error("store", "DATABASE_REPLICA_URLS: not a postgres:// URL: %s", url);
            return STORE_ERR;
        }
        char name[24];
        snprintf(name, sizeof(name), "replica%d", s->nreplicas + 1);
        backend_init(&s->replicas[s->nreplicas++], url, name);
        /* Connections open on the first read; a replica down now is not fatal. */
        log_info("store", "postgres %s for lag-tolerant reads (zone and NPC definitions)", name);
        p += n;
        if (*p == ',') p++;
    }
    return STORE_OK;
}

/* Caller guarantees no operation is in flight (as for store_sqlite.c). */
static void pg_close(store_t *st)
{
    pg_store_t *s = PG(st);
    backend_free(&s->primary);
    for (int i = 0; i < s->nreplicas; i++)
        backend_free(&s->replicas[i]);
    free(s);
}

static const store_ops_t pg_ops = {
    .migrate = pg_migrate,
    .gamedata_load = pg_gamedata_load,
    .zones_load = pg_zones_load,
    .npcs_load = pg_npcs_load,
    .account_create = pg_account_create,
    .account_find = pg_account_find,
    .token_put = pg_token_put,
    .token_get = pg_token_get,
    .characters_list = pg_characters_list,
    .character_create = pg_character_create,
    .character_get = pg_character_get,
    .characters_save = pg_characters_save,
    .snapshot_put = pg_snapshot_put,
    .snapshot_get = pg_snapshot_get,
    .metrics = pg_metrics,
    .close = pg_close,
};

/* Opens one connection now so a wrong URL or a down server is reported
 * at start-up; the rest of the pool opens on demand. */
store_t *store_pg_open(const char *url)
{
    if (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0) {
        log_error("store", "unsupported DATABASE_URL (want sqlite:PATH or postgres://...)");
        return NULL;
    }
    PGconn *c = pg_connect(url);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        if (c) PQfinish(c);
        return NULL;
    }
    pg_store_t *s = wod_calloc(1, sizeof(*s));
    s->base.ops = &pg_ops;
    s->base.kind = "postgres";
    backend_init(&s->primary, url, "primary");
    s->primary.conns[0] = c;
    log_info("store", "postgres database %s@%s:%s/%s (pool of %d)", PQuser(c), PQhost(c), PQport(c),
             PQdb(c), PG_POOL_SIZE);
    return &s->base;
}
