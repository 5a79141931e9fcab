/* test_store.c - the store interface, run twice with the same test
 * functions: against SQLite (a temp file) and against PostgreSQL when
 * WOD_TEST_PG_URL names a database (scripts/services.sh postgres PORT DIR
 * prints one). The PostgreSQL group works in a schema of its own,
 * created and dropped here, so it never touches existing tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture_s {
    store_t *s;
    int64_t account; /* created by test_accounts */
    int64_t char_id; /* created by test_characters */
    char dir[64];    /* sqlite temp dir */
    char schema[64]; /* postgres schema */
} fixture_t;

static fixture_t sqlite_fx, pg_fx;

/* ---- the shared test functions (run in order within a group) */

static store_t *S(void **state)
{
    return ((fixture_t *)*state)->s;
}

static void test_migrate(void **state)
{
    store_t *s = S(state);
    assert_int_equal(s->ops->migrate(s), STORE_OK);
    assert_int_equal(s->ops->migrate(s), STORE_OK); /* idempotent */
}

static void test_gamedata_load(void **state)
{
    static gamedata_t g;
    assert_int_equal(S(state)->ops->gamedata_load(S(state), &g), STORE_OK);
    const ability_def_t *b = gamedata_ability(&g, "basic_attack");
    assert_non_null(b);
    assert_int_equal(b->atb_cost, 100);
    assert_true(b->scaling == 0.4); /* doubles, not float4 */
    assert_true(g.n_abilities >= 6);
    assert_non_null(gamedata_item(&g, "health_potion"));
    assert_true(g.n_loot >= 1);
}

static void test_zones_load(void **state)
{
    store_t *s = S(state);
    zonedef_t *zs = NULL;
    int n = 0;
    assert_int_equal(s->ops->zones_load(s, &zs, &n), STORE_OK);
    assert_int_equal(n, 16);
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(zs[i].id, "zone-crossroads") != 0) continue;
        found = 1;
        assert_string_equal(zs[i].name, "The Crossroads");
        assert_true(zs[i].size_x == 200 && zs[i].size_y == 50 && zs[i].size_z == 200);
        assert_true(zs[i].spawn_x == 100 && zs[i].spawn_y == 0 && zs[i].spawn_z == 100);
        assert_true(zs[i].origin_x == 0 && zs[i].origin_z == 0);
    }
    assert_true(found);
    free(zs);
}

/* The seeded cast (GAME-REFERENCE.md 7) with waypoints and lines. */
static void test_npcs_load(void **state)
{
    store_t *s = S(state);
    npcdef_t *v = NULL;
    int n = 0;
    assert_int_equal(s->ops->npcs_load(s, &v, &n), STORE_OK);
    assert_int_equal(n, 10);
    int rats = 0, levels = 0, seen = 0;
    for (int i = 0; i < n; i++) {
        const npcdef_t *d = &v[i];
        if (strncmp(d->tag, "mob.rat.", 8) == 0) {
            rats++;
            levels += d->level;
            assert_string_equal(d->name, "Rat");
            assert_true(d->is_mob && d->wildlife && !d->hostile && d->max_hp == 35);
            assert_true(d->strength == 6 && d->agility == 9 && d->wisdom == 3);
            assert_int_equal(d->n_lines, 0);
            double r = hypot(d->x - 100, d->z - 100);
            assert_true(r >= 10 && r <= 25);
        } else if (strcmp(d->tag, "npc.merchant.old") == 0) {
            seen |= 1;
            assert_string_equal(d->name, "Old Merchant");
            assert_string_equal(d->zone_id, "zone-crossroads");
            assert_true(!d->is_mob && !d->wildlife && d->level == 5 && d->max_hp == 150);
            assert_true(d->x == 102 && d->y == 0 && d->z == 98);
            assert_true(d->intelligence == 14 && d->wisdom == 16);
            assert_int_equal(d->n_lines, 4);
            assert_non_null(strstr(d->lines[0], "Lamp oil"));
        } else if (strcmp(d->tag, "mob.rabid_dog") == 0) {
            seen |= 2;
            assert_true(d->hostile && d->level == 7 && d->max_hp == 140);
            assert_true(d->aggro_radius > 0 && d->leash > d->aggro_radius && d->speed > 0);
            assert_true(hypot(d->x - 100, d->z - 100) > d->aggro_radius + 45); /* spawn safe */
        } else if (strcmp(d->tag, "mob.dire_toad") == 0) {
            seen |= 4;
            assert_string_equal(d->zone_id, "zone-forest");
            assert_true(d->level == 6 && d->max_hp == 160 && d->flee_at > 0);
            assert_int_equal(d->n_patrol, 4);
            assert_true(d->patrol[1][0] == 165 && d->patrol[1][1] == 310);
        } else if (strcmp(d->tag, "npc.hire.swordsman") == 0) {
            seen |= 8;
            assert_true(d->level == 3 && d->max_hp == 120 && d->n_patrol == 4 && d->n_lines == 3);
        }
    }
    assert_int_equal(rats, 5);
    assert_int_equal(levels, 2 + 3 + 1 + 2 + 3);
    assert_int_equal(seen, 15);
    free(v);
}

static void test_accounts(void **state)
{
    fixture_t *fx = *state;
    store_t *s = fx->s;
    int64_t id = 0, found = 0, guest = 0;
    char hash[STORE_PWHASH_MAX];
    assert_int_equal(s->ops->account_create(s, "alice", "$argon2id$fake", "Alice", &id), STORE_OK);
    assert_true(id > 0);
    assert_int_equal(s->ops->account_find(s, "alice", &found, hash, sizeof(hash)), STORE_OK);
    assert_int_equal(found, id);
    assert_string_equal(hash, "$argon2id$fake");
    int64_t dup = 0;
    assert_int_equal(s->ops->account_create(s, "alice", "x", "Other", &dup), STORE_ERR_EXISTS);
    assert_int_equal(s->ops->account_find(s, "nobody", &found, hash, sizeof(hash)),
                     STORE_ERR_NOTFOUND);
    /* Guests have no username; two of them do not collide. */
    assert_int_equal(s->ops->account_create(s, NULL, NULL, "Guest 1", &guest), STORE_OK);
    assert_int_equal(s->ops->account_create(s, NULL, NULL, "Guest 2", &dup), STORE_OK);
    assert_true(guest != dup && guest != id);
    fx->account = id;
}

static void test_tokens(void **state)
{
    fixture_t *fx = *state;
    store_t *s = fx->s;
    const char *sel = "00112233445566778899aabbccddeeff";
    const char *hash = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int64_t now = (int64_t)clock_wall_ms(), acc = 0;
    char got[STORE_HASH_HEX + 1];
    assert_int_equal(s->ops->token_put(s, sel, hash, fx->account, now + 3600000), STORE_OK);
    assert_int_equal(s->ops->token_get(s, sel, now, &acc, got), STORE_OK);
    assert_int_equal(acc, fx->account);
    assert_string_equal(got, hash);
    /* An hour and a second later the token has expired. */
    assert_int_equal(s->ops->token_get(s, sel, now + 3601000, &acc, got), STORE_ERR_NOTFOUND);
    assert_int_equal(s->ops->token_get(s, "ffffffffffffffffffffffffffffffff", now, &acc, got),
                     STORE_ERR_NOTFOUND);
    assert_int_equal(s->ops->token_put(s, sel, hash, fx->account, now), STORE_ERR_EXISTS);
}

static void test_characters(void **state)
{
    fixture_t *fx = *state;
    store_t *s = fx->s;
    character_t c, other, list[8];
    character_init(&c, fx->account, "Mira Vale", "A quiet one.", "zone-crossroads", 100, 0, 100);
    assert_int_equal(s->ops->character_create(s, &c), STORE_OK);
    assert_true(c.id > 0);
    /* Names are unique ignoring case. */
    character_init(&other, fx->account, "MIRA VALE", "", "zone-crossroads", 1, 0, 1);
    assert_int_equal(s->ops->character_create(s, &other), STORE_ERR_EXISTS);
    character_init(&other, fx->account, "Tomas", "", "zone-forest", 100, 0, 20);
    assert_int_equal(s->ops->character_create(s, &other), STORE_OK);
    assert_true(other.id > c.id);

    int n = 0;
    assert_int_equal(s->ops->characters_list(s, fx->account, list, 8, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, c.id);
    assert_string_equal(list[0].name, "Mira Vale");
    assert_string_equal(list[1].name, "Tomas");
    assert_int_equal(s->ops->characters_list(s, fx->account, list, 1, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s->ops->characters_list(s, 999999, list, 8, &n), STORE_OK);
    assert_int_equal(n, 0);

    character_t got;
    assert_int_equal(s->ops->character_get(s, c.id, &got), STORE_OK);
    assert_int_equal(got.account_id, fx->account);
    assert_string_equal(got.name, "Mira Vale");
    assert_string_equal(got.description, "A quiet one.");
    assert_string_equal(got.zone_id, "zone-crossroads");
    assert_int_equal(got.level, c.level);
    assert_int_equal(got.hp, c.hp);
    assert_int_equal(got.strength, c.strength);
    assert_true(got.x == 100 && got.y == 0 && got.z == 100);
    /* alive, with the starting kit */
    assert_int_equal(got.is_alive, 1);
    assert_int_equal(got.n_items, 2);
    assert_string_equal(got.items[0].item_id, "rusty_sword");
    assert_int_equal(got.items[0].equipped, 1);
    assert_string_equal(got.items[1].item_id, "health_potion");
    assert_int_equal(got.items[1].quantity, 5);
    assert_int_equal(list[0].n_items, 2); /* the list carries inventories too */
    assert_int_equal(s->ops->character_get(s, 999999, &got), STORE_ERR_NOTFOUND);
    fx->char_id = c.id;
}

static void test_characters_save(void **state)
{
    fixture_t *fx = *state;
    store_t *s = fx->s;
    character_t cs[2];
    assert_int_equal(s->ops->character_get(s, fx->char_id, &cs[0]), STORE_OK);
    int n = 0;
    character_t list[8];
    assert_int_equal(s->ops->characters_list(s, fx->account, list, 8, &n), STORE_OK);
    assert_int_equal(n, 2);
    cs[1] = list[1];
    snprintf(cs[0].zone_id, sizeof(cs[0].zone_id), "zone-forest");
    cs[0].x = 12.345678901234567;
    cs[0].y = 1.5;
    cs[0].z = 399.25;
    cs[0].heading = 271.5;
    cs[0].hp = 42;
    cs[0].experience = 1234567890123LL;
    cs[0].last_played = 1700000000123LL;
    cs[0].is_alive = 0;
    cs[0].items[1].quantity = 3; /* two potions drunk, a tooth looted */
    snprintf(cs[0].items[2].item_id, sizeof(cs[0].items[2].item_id), "rat_tail");
    cs[0].items[2].quantity = 2;
    cs[0].n_items = 3;
    cs[1].x = 7;
    cs[1].n_items = 0; /* an empty bag stays empty */
    assert_int_equal(s->ops->characters_save(s, cs, 2), STORE_OK);

    character_t got;
    assert_int_equal(s->ops->character_get(s, fx->char_id, &got), STORE_OK);
    assert_string_equal(got.zone_id, "zone-forest");
    assert_true(got.x == 12.345678901234567); /* doubles survive exactly */
    assert_true(got.y == 1.5 && got.z == 399.25 && got.heading == 271.5);
    assert_int_equal(got.hp, 42);
    assert_int_equal(got.experience, 1234567890123LL);
    assert_int_equal(got.last_played, 1700000000123LL);
    assert_string_equal(got.name, "Mira Vale"); /* not a saved field, unchanged */
    assert_int_equal(got.is_alive, 0);
    assert_int_equal(got.n_items, 3);
    assert_int_equal(got.items[1].quantity, 3);
    assert_string_equal(got.items[2].item_id, "rat_tail");
    assert_int_equal(got.items[2].quantity, 2);
    assert_int_equal(s->ops->character_get(s, cs[1].id, &got), STORE_OK);
    assert_true(got.x == 7);
    assert_int_equal(got.n_items, 0);
    assert_int_equal(s->ops->characters_save(s, cs, 0), STORE_OK);
}

static void test_snapshots(void **state)
{
    store_t *s = S(state);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(s->ops->snapshot_get(s, "zone-city", &data, &len), STORE_ERR_NOTFOUND);
    const char *v1 = "{\"entities\":[1,2,3]}", *v2 = "{\"entities\":[]}xyz";
    assert_int_equal(s->ops->snapshot_put(s, "zone-city", v1, strlen(v1)), STORE_OK);
    assert_int_equal(s->ops->snapshot_get(s, "zone-city", &data, &len), STORE_OK);
    assert_int_equal(len, strlen(v1));
    assert_string_equal(data, v1);
    free(data);
    /* Replaces; and only len bytes of the input count. */
    assert_int_equal(s->ops->snapshot_put(s, "zone-city", v2, strlen(v2) - 3), STORE_OK);
    assert_int_equal(s->ops->snapshot_get(s, "zone-city", &data, &len), STORE_OK);
    assert_int_equal(len, strlen(v2) - 3);
    assert_memory_equal(data, v2, len);
    assert_int_equal(data[len], '\0');
    free(data);
}

/* store_async runs work off the loop and done on it. */
typedef struct {
    store_t *s;
    int rc, n;
    int done;
} async_job_t;

static void async_work(store_t *s, void *arg)
{
    async_job_t *j = arg;
    zonedef_t *zs = NULL;
    j->rc = s->ops->zones_load(s, &zs, &j->n);
    free(zs);
}

static void async_done(void *arg)
{
    ((async_job_t *)arg)->done++;
}

static void test_async(void **state)
{
    store_t *s = S(state);
    uv_loop_t loop;
    uv_loop_init(&loop);
    async_job_t jobs[8];
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < 8; i++) /* more than the pool: some wait their turn */
        assert_int_equal(store_async(s, &loop, async_work, async_done, &jobs[i]), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].done, 1);
        assert_int_equal(jobs[i].rc, STORE_OK);
        assert_int_equal(jobs[i].n, 16);
    }
    assert_int_equal(store_pending(), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Concurrent batch saves from the worker pool: each is its own transaction
 * and none may fail because another is open on the same connection. */
typedef struct {
    character_t ch[20];
    int rc;
} save_job_t;

static void save_work(store_t *s, void *arg)
{
    save_job_t *j = arg;
    for (int round = 0; round < 20 && j->rc == STORE_OK; round++)
        j->rc = s->ops->characters_save(s, j->ch, 20);
}

static void test_concurrent_saves(void **state)
{
    store_t *s = S(state);
    int64_t acc;
    assert_int_equal(s->ops->account_create(s, NULL, NULL, "Saver", &acc), STORE_OK);
    static save_job_t jobs[8];
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < 20; k++) {
            character_t *c = &jobs[i].ch[k];
            char name[32];
            snprintf(name, sizeof(name), "Saver%dx%d", i, k);
            character_init(c, acc, name, "", "zone-crossroads", 1, 0, 1);
            assert_int_equal(s->ops->character_create(s, c), STORE_OK);
            c->x = 10 + i;
        }
        jobs[i].rc = STORE_OK;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    for (int i = 0; i < 8; i++)
        assert_int_equal(store_async(s, &loop, save_work, NULL, &jobs[i]), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].rc, STORE_OK);
        character_t got;
        assert_int_equal(s->ops->character_get(s, jobs[i].ch[19].id, &got), STORE_OK);
        assert_true(got.x == 10 + i);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

#define STORE_TESTS                                                                                \
    cmocka_unit_test(test_migrate), cmocka_unit_test(test_zones_load),                             \
        cmocka_unit_test(test_gamedata_load), cmocka_unit_test(test_npcs_load),                    \
        cmocka_unit_test(test_npcs_load), cmocka_unit_test(test_accounts),                         \
        cmocka_unit_test(test_tokens), cmocka_unit_test(test_characters),                          \
        cmocka_unit_test(test_characters_save), cmocka_unit_test(test_snapshots),                  \
        cmocka_unit_test(test_async), cmocka_unit_test(test_concurrent_saves)

/* ---- SQLite group */

static int sqlite_setup(void **state)
{
    snprintf(sqlite_fx.dir, sizeof(sqlite_fx.dir), "/tmp/wod-test-store-XXXXXX");
    if (!mkdtemp(sqlite_fx.dir)) return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/wod.db", sqlite_fx.dir);
    sqlite_fx.s = store_sqlite_open(path);
    *state = &sqlite_fx;
    return sqlite_fx.s ? 0 : -1;
}

static int sqlite_teardown(void **state)
{
    (void)state;
    if (sqlite_fx.s) sqlite_fx.s->ops->close(sqlite_fx.s);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sqlite_fx.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- PostgreSQL group: a fresh schema per run */

static int pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("WOD_TEST_PG_URL"));
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQclear(PQexec(c, "SET client_min_messages = warning"));
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "cannot connect to WOD_TEST_PG_URL: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

static int pg_setup(void **state)
{
    const char *url = getenv("WOD_TEST_PG_URL");
    char sql[256], full[512];
    snprintf(pg_fx.schema, sizeof(pg_fx.schema), "wod_test_%d", (int)getpid());
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", pg_fx.schema,
             pg_fx.schema);
    if (pg_admin(sql) < 0) return -1;
    /* Every pooled connection of the store works in that schema. */
    snprintf(full, sizeof(full), "%s%soptions=-csearch_path%%3D%s", url,
             strchr(url, '?') ? "&" : "?", pg_fx.schema);
    pg_fx.s = store_pg_open(full);
    *state = &pg_fx;
    return pg_fx.s ? 0 : -1;
}

static int pg_teardown(void **state)
{
    (void)state;
    if (pg_fx.s) pg_fx.s->ops->close(pg_fx.s);
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", pg_fx.schema);
    return pg_admin(sql);
}

int main(void)
{
    log_setup(LOG_WARN, 0, "test");
    const struct CMUnitTest tests[] = {STORE_TESTS};
    int failed = cmocka_run_group_tests_name("store_sqlite", tests, sqlite_setup, sqlite_teardown);
    if (getenv("WOD_TEST_PG_URL") && *getenv("WOD_TEST_PG_URL")) {
        failed += cmocka_run_group_tests_name("store_postgres", tests, pg_setup, pg_teardown);
    } else {
        printf("[  SKIPPED ] store_postgres: set WOD_TEST_PG_URL=postgres://... to run the "
               "PostgreSQL group (scripts/services.sh postgres PORT DIR starts one)\n");
    }
    return failed;
}
