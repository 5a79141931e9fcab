/* test_cmd.c - slash commands: the parser (quotes, key:value, names,
 * limits), aliases and suggestions, and commands run inside a real zone
 * simulation (data from migrations/003_game.sql through the SQLite
 * store): /help, /stats, /inventory, /use with its cooldown and stacks,
 * bad targets, cooldowns, the dead, and a fight to the death. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/cmd.h"
#include "sim/sim_int.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parser ---- */

static void test_parse_basic(void **state)
{
    (void)state;
    static cmd_parsed_t c;
    const char *err = NULL;
    assert_int_equal(cmd_parse("/SAY hello   world", &c, &err), 0);
    assert_string_equal(c.name, "say");
    assert_int_equal(c.argc, 2);
    assert_string_equal(c.text, "hello world");
    assert_int_equal(cmd_parse("look", &c, &err), 0); /* the slash is optional */
    assert_string_equal(c.name, "look");
    assert_int_equal(c.argc, 0);
    assert_int_equal(cmd_parse("/say \"a b\" 'c d' note:x", &c, &err), 0);
    assert_int_equal(c.argc, 2);
    assert_string_equal(c.argv[0], "a b");
    assert_string_equal(c.argv[1], "c d");
    assert_string_equal(c.text, "a b c d"); /* note:x vanishes from the text */
    assert_string_equal(cmd_kv(&c, "note"), "x");
    assert_null(cmd_kv(&c, "other"));
    assert_int_equal(cmd_parse("/move to:\"Rabid Dog\" RANGE:melee", &c, &err), 0);
    assert_string_equal(cmd_kv(&c, "to"), "Rabid Dog");
    assert_string_equal(cmd_kv(&c, "range"), "melee");
    assert_int_equal(cmd_parse("/move to:10.5,20", &c, &err), 0);
    assert_string_equal(cmd_kv(&c, "to"), "10.5,20");
    /* a quoted token with a colon stays text */
    assert_int_equal(cmd_parse("/say \"note: this\"", &c, &err), 0);
    assert_string_equal(c.text, "note: this");
    assert_int_equal(c.nkv, 0);
    /* an unterminated quote runs to the end */
    assert_int_equal(cmd_parse("/cast \"Arcane Bolt", &c, &err), 0);
    assert_string_equal(c.argv[0], "Arcane Bolt");
}

static void test_parse_errors(void **state)
{
    (void)state;
    static cmd_parsed_t c;
    const char *err = NULL;
    assert_int_equal(cmd_parse("/?", &c, &err), -1);
    assert_non_null(err);
    assert_int_equal(cmd_parse("/", &c, &err), -1);
    assert_int_equal(cmd_parse("", &c, &err), -1);
    assert_int_equal(cmd_parse("   ", &c, &err), -1);
    assert_int_equal(cmd_parse("/sa$y hi", &c, &err), -1);
    char line[600];
    memset(line, 'a', sizeof(line));
    memcpy(line, "/say ", 5);
    line[500] = '\0'; /* 500 characters: accepted */
    assert_int_equal(cmd_parse(line, &c, &err), 0);
    line[500] = 'a';
    line[501] = '\0'; /* 501: refused */
    assert_int_equal(cmd_parse(line, &c, &err), -1);
    assert_non_null(strstr(err, "500"));
    /* too many tokens */
    char many[400] = "/say";
    for (int i = 0; i < 40; i++)
        strcat(many, " x");
    assert_int_equal(cmd_parse(many, &c, &err), -1);
}

static void test_aliases_and_suggestions(void **state)
{
    (void)state;
    assert_string_equal(cmd_name(cmd_lookup("l")), "look");
    assert_string_equal(cmd_name(cmd_lookup("examine")), "look");
    assert_string_equal(cmd_name(cmd_lookup("atk")), "attack");
    assert_string_equal(cmd_name(cmd_lookup("inv")), "inventory");
    assert_string_equal(cmd_name(cmd_lookup("i")), "inventory");
    assert_string_equal(cmd_name(cmd_lookup("yell")), "shout");
    assert_string_equal(cmd_name(cmd_lookup("w")), "tell");
    assert_string_equal(cmd_name(cmd_lookup("run")), "move");
    assert_string_equal(cmd_name(cmd_lookup("me")), "emote");
    assert_int_equal(cmd_lookup("fly"), -1);
    const char *s[3];
    int n = cmd_suggest("lok", s, 3);
    assert_true(n >= 1 && n <= 3);
    assert_string_equal(s[0], "look");
    n = cmd_suggest("atack", s, 3);
    assert_true(n >= 1);
    assert_string_equal(s[0], "attack");
    assert_int_equal(cmd_suggest("qqqqqqqqqqqq", s, 3), 0);
    assert_int_equal(cmd_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(cmd_edit_distance("", "abc"), 3);
}

/* ---- in a zone ---- */

static gamedata_t data;
static json_t *sent; /* array of [ref, type, payload] */

static void on_send(void *ud, uint64_t ref, const char *type, const char *payload, size_t len)
{
    (void)ud;
    json_t *p = json_loadb(payload, len, 0, NULL);
    if (!p) fail_msg("%s payload is not JSON: %.*s", type, (int)len, payload);
    json_array_append_new(sent, json_pack("[I, s, o]", (json_int_t)ref, type, p));
}

static json_t *last(uint64_t ref, const char *type)
{
    for (size_t i = json_array_size(sent); i-- > 0;) {
        json_t *m = json_array_get(sent, i);
        if ((uint64_t)json_integer_value(json_array_get(m, 0)) == ref &&
            strcmp(json_string_value(json_array_get(m, 1)), type) == 0)
            return json_array_get(m, 2);
    }
    return NULL;
}

static int count_events(uint64_t ref, const char *event_type)
{
    int n = 0;
    for (size_t i = 0; i < json_array_size(sent); i++) {
        json_t *m = json_array_get(sent, i);
        json_t *p = json_array_get(m, 2);
        n += (uint64_t)json_integer_value(json_array_get(m, 0)) == ref &&
             strcmp(json_string_value(json_array_get(m, 1)), "event") == 0 &&
             strcmp(json_string_value(json_object_get(p, "eventType")), event_type) == 0;
    }
    return n;
}

/* Runs a command; returns its command_response (borrowed). */
static json_t *run(zsim_t *sim, uint64_t ref, const char *line)
{
    assert_int_equal(zsim_player_command(sim, ref, line), 0);
    json_t *r = last(ref, "command_response");
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "command")), line);
    return r;
}

static int ok(json_t *r)
{
    return json_is_true(json_object_get(r, "success"));
}

static const char *error_of(json_t *r)
{
    const char *e = json_string_value(json_object_get(r, "error"));
    return e ? e : "";
}

static zonedef_t zone;
static zonedef_t world[32]; /* every zone, for borders */
static int n_world;
/* the seeded cast (004_npcs.sql), in tag order: npc-1 the Rabid Dog at
 * (30, 30), npc-2..6 rats, npc-7/8 the hirelings, npc-9 the Old Merchant */
static npcdef_t *cast;
static int n_cast;

static int setup(void **state)
{
    (void)state;
    char dir[] = "/tmp/wod-cmd-XXXXXX", path[96], cmd[128];
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof(path), "sqlite:%s/t.db", dir);
    store_t *s = NULL;
    if (store_open(path, &s) != STORE_OK) return -1;
    int rc = s->ops->gamedata_load(s, &data);
    zonedef_t *zs = NULL;
    int n = 0;
    if (rc == STORE_OK) rc = s->ops->zones_load(s, &zs, &n);
    if (rc == STORE_OK) rc = s->ops->npcs_load(s, &cast, &n_cast);
    for (int i = 0; i < n; i++)
        if (strcmp(zs[i].id, "zone-crossroads") == 0) zone = zs[i];
    if (!zs) return -1; /* the store loaded no zones */
    n_world = n < 32 ? n : 32;
    memcpy(world, zs, sizeof(zonedef_t) * (size_t)n_world);
    free(zs);
    s->ops->close(s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) return -1;
    return rc == STORE_OK && zone.id[0] ? 0 : -1;
}

static zsim_t *new_sim(void)
{
    json_decref(sent);
    sent = json_array();
    zsim_config_t cfg = {.tick_rate = 20,
                         .roster_max_entities = 64,
                         .data = &data,
                         .rng_seed = 1234,
                         .respawn_delay_ms = 2000};
    zsim_hooks_t hooks = {.send = on_send};
    zsim_t *sim = zsim_new(&zone, world, n_world, &cfg, &hooks);
    zsim_add_npcs(sim, cast, n_cast);
    return sim;
}

static void enter(zsim_t *sim, uint64_t ref, int64_t id, const char *name, double x, double z)
{
    character_t c;
    character_init(&c, 1, name, "A test character.", zone.id, x, 0, z);
    c.id = id;
    assert_int_equal(zsim_player_enter(sim, ref, &c, 0, 1), 0);
}

static void test_info_commands(void **state)
{
    (void)state;
    zsim_t *sim = new_sim();
    enter(sim, 1, 101, "Alice", 100, 100);
    enter(sim, 2, 102, "Bobby", 104, 100);
    json_t *r = run(sim, 1, "/help");
    assert_true(ok(r));
    json_t *list = json_object_get(json_object_get(r, "data"), "commands");
    assert_int_equal((int)json_array_size(list), cmd_count());
    r = run(sim, 1, "/help atk");
    assert_true(ok(r));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "command")),
                        "attack");
    r = run(sim, 1, "/l");
    assert_true(ok(r));
    json_t *d = json_object_get(r, "data");
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "zone"), "id")),
                        "zone-crossroads");
    assert_true(json_array_size(json_object_get(d, "entities")) >= 2); /* Bobby, the merchant */
    r = run(sim, 1, "/look bobby");
    assert_true(ok(r));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "condition")),
                        "unhurt");
    r = run(sim, 1, "/look nobody-here");
    assert_false(ok(r));
    r = run(sim, 1, "/stats");
    assert_true(ok(r));
    d = json_object_get(r, "data");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "health"), "max")), 205);
    /* the equipped Rusty Sword raises attack: 30 + 3 */
    assert_true(json_number_value(
                    json_object_get(json_object_get(d, "derivedStats"), "attackRating")) == 33);
    r = run(sim, 1, "/inv");
    assert_true(ok(r));
    json_t *items = json_object_get(json_object_get(r, "data"), "items");
    assert_int_equal((int)json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "itemId")),
                        "rusty_sword");
    assert_true(json_is_true(json_object_get(json_array_get(items, 0), "equipped")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "quantity")), 5);
    r = run(sim, 1, "/who");
    assert_true(ok(r));
    assert_int_equal((int)json_array_size(json_object_get(json_object_get(r, "data"), "players")),
                     2);
    /* unknown: suggestions */
    r = run(sim, 1, "/lok around");
    assert_false(ok(r));
    assert_non_null(strstr(error_of(r), "/look"));
    /* per-command cooldown: /listen 5 s */
    assert_true(ok(run(sim, 1, "/listen")));
    r = run(sim, 1, "/listen");
    assert_false(ok(r));
    assert_non_null(strstr(error_of(r), "cooldown"));
    assert_true(ok(run(sim, 2, "/listen"))); /* per character */
    for (int i = 0; i < 101; i++)
        zsim_tick(sim, 0);
    assert_true(ok(run(sim, 1, "/listen")));
    assert_true(ok(run(sim, 1, "/sense")));
    /* chat commands reach the other player */
    assert_true(ok(run(sim, 1, "/say hello there")));
    json_t *m = last(2, "chat");
    assert_string_equal(json_string_value(json_object_get(m, "content")), "hello there");
    assert_true(ok(run(sim, 1, "/me waves")));
    m = last(2, "chat");
    assert_string_equal(json_string_value(json_object_get(m, "content")), "Alice waves");
    assert_true(ok(run(sim, 1, "/tell Bobby psst")));
    m = last(2, "chat");
    assert_string_equal(json_string_value(json_object_get(m, "channel")), "whisper");
    assert_false(ok(run(sim, 1, "/tell Nobody hi"))); /* no tell hook: nobody else online */
    assert_false(ok(run(sim, 1, "/say")));
    /* movement */
    assert_true(ok(run(sim, 1, "/move north")));
    assert_true(ok(run(sim, 1, "/stop")));
    assert_true(ok(run(sim, 1, "/walk heading:90 jog 10ft")));
    assert_false(ok(run(sim, 1, "/move heading:400")));
    assert_false(ok(run(sim, 1, "/move sideways")));
    assert_false(ok(run(sim, 1, "/move")));
    assert_false(ok(run(sim, 1, "/move to:nobody")));
    /* speech commands share the chat budget: 10 in a burst, then 2 a second */
    int refused = 0;
    for (int i = 0; i < 15; i++)
        refused += !ok(run(sim, 2, "/shout spam"));
    assert_true(refused >= 4);
    for (int i = 0; i < 20; i++)
        zsim_tick(sim, 0);
    assert_true(ok(run(sim, 2, "/shout again")));
    zsim_free(sim);
}

static void test_items(void **state)
{
    (void)state;
    zsim_t *sim = new_sim();
    enter(sim, 1, 101, "Alice", 100, 100);
    zplayer_t *p = zsim__find(sim, 1);
    json_t *r = run(sim, 1, "/use Health Potion");
    assert_false(ok(r)); /* full health: refused, nothing spent */
    assert_non_null(strstr(error_of(r), "full"));
    assert_int_equal(p->ch.items[1].quantity, 5);
    p->ch.hp = 100;
    r = run(sim, 1, "/use \"health potion\" self");
    assert_true(ok(r));
    json_t *d = json_object_get(r, "data");
    assert_int_equal(json_integer_value(json_object_get(d, "value")), 50);
    assert_int_equal(json_integer_value(json_object_get(d, "quantityRemaining")), 4);
    assert_int_equal(p->ch.hp, 150);
    r = run(sim, 1, "/use health_potion"); /* 30 s item cooldown */
    assert_false(ok(r));
    d = json_object_get(r, "data");
    assert_true(json_integer_value(json_object_get(d, "remainingMs")) > 29000);
    assert_int_equal(p->ch.items[1].quantity, 4);
    assert_false(ok(run(sim, 1, "/use Elixir of Life")));
    r = run(sim, 1, "/use potion"); /* a part of the name: the Health Potion, cooling down */
    assert_false(ok(r));
    assert_null(strstr(error_of(r), "do not have"));
    assert_false(ok(run(sim, 1, "/use")));
    assert_false(ok(run(sim, 1, "/use rusty sword"))); /* a weapon is equipped, not used */
    /* equip/unequip */
    assert_true(ok(run(sim, 1, "/unequip mainhand")));
    assert_int_equal(p->weapon_bonus, 0);
    assert_false(ok(run(sim, 1, "/unequip rusty sword")));
    assert_true(ok(run(sim, 1, "/equip rusty sword")));
    assert_int_equal(p->weapon_bonus, 3);
    assert_false(ok(run(sim, 1, "/equip health potion")));
    /* stacks: 4 + 30 potions = a stack of 20 and one of 14 */
    const item_def_t *pot = gamedata_item(&data, "health_potion");
    assert_int_equal(zsim__item_give(p, pot, 30), 30);
    assert_int_equal(p->ch.n_items, 3);
    assert_int_equal(p->ch.items[1].quantity, 20);
    assert_int_equal(p->ch.items[2].quantity, 14);
    /* a full bag takes what fits */
    const item_def_t *sword = gamedata_item(&data, "rusty_sword");
    assert_int_equal(zsim__item_give(p, sword, 100), CHAR_INV_MAX - 3);
    assert_int_equal(p->ch.n_items, CHAR_INV_MAX);
    /* 34 uses later the potion slots are gone, never negative */
    for (int k = 0; k < 34; k++) {
        p->ch.hp = 10;
        p->item_cd[0].ready_ms = 0;
        for (int j = 0; j < ZSIM_ITEM_CDS; j++)
            p->item_cd[j].ready_ms = 0;
        assert_true(ok(run(sim, 1, "/use health potion")));
    }
    assert_false(ok(run(sim, 1, "/use health potion")));
    for (int i = 0; i < p->ch.n_items; i++)
        assert_true(p->ch.items[i].quantity >= 1);
    zsim_free(sim);
}

static void test_bad_targets_and_death(void **state)
{
    (void)state;
    zsim_t *sim = new_sim();
    enter(sim, 1, 101, "Alice", 100, 100);
    assert_false(ok(run(sim, 1, "/attack")));
    assert_false(ok(run(sim, 1, "/attack Alice")));   /* oneself */
    assert_false(ok(run(sim, 1, "/attack npc-9")));   /* the merchant is friendly */
    assert_false(ok(run(sim, 1, "/attack Grendel"))); /* no such thing */
    assert_false(ok(run(sim, 1, "/attack npc-188888888888888888888"))); /* found by fuzz_cmd */
    assert_false(ok(run(sim, 1, "/attack npc-0")));
    assert_false(ok(run(sim, 1, "/cast fireball npc-1")));  /* no such ability */
    assert_false(ok(run(sim, 1, "/cast \"Arcane Bolt\""))); /* needs a target */
    assert_false(ok(run(sim, 1, "/disengage")));            /* not in combat */
    /* the dog far away: out of range (as a command error and a combat_error) */
    json_t *r = run(sim, 1, "/attack npc-1");
    assert_false(ok(r));
    assert_non_null(strstr(error_of(r), "range"));
    json_t *ev = last(1, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "eventType")), "combat_error");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "out_of_range");
    /* heal oneself: allowed at full health (nothing to restore), costs mana */
    assert_true(ok(run(sim, 1, "/cast mend")));
    r = run(sim, 1, "/cast mend"); /* 8 s cooldown */
    assert_false(ok(r));
    /* the dead cannot act, then rise at spawn with full pools */
    zplayer_t *p = zsim__find(sim, 1);
    p->ch.hp = 0;
    p->ch.is_alive = 0;
    p->respawn_at_ms = 1; /* due at the next tick */
    r = run(sim, 1, "/attack npc-1");
    assert_false(ok(r));
    assert_non_null(strstr(error_of(r), "dead"));
    assert_false(ok(run(sim, 1, "/use health potion")));
    assert_false(ok(run(sim, 1, "/move north")));
    assert_true(ok(run(sim, 1, "/stats"))); /* looking around is fine */
    zsim_tick(sim, 0);
    assert_int_equal(p->ch.is_alive, 1);
    assert_int_equal(p->ch.hp, 205);
    assert_int_equal(count_events(1, "respawn"), 1);
    zsim_free(sim);
}

static void test_fight_to_the_death(void **state)
{
    (void)state;
    zsim_t *sim = new_sim();
    /* find the Rabid Dog (npc-1) and stand beside it; a bystander far away */
    enter(sim, 9, 109, "Watcher", 100, 100);
    json_t *r = run(sim, 9, "/look npc-1");
    double gx, gz;
    if (ok(r)) {
        json_t *pos = json_object_get(json_object_get(r, "data"), "position");
        gx = json_number_value(json_object_get(pos, "x"));
        gz = json_number_value(json_object_get(pos, "z"));
    } else { /* beyond 150 ft: ask the sim directly */
        gx = sim->npcs[0].x;
        gz = sim->npcs[0].z;
    }
    enter(sim, 1, 101, "Alice", gx, gz + 3 <= 200 ? gz + 3 : gz - 3);
    r = run(sim, 1, "/attack npc-1");
    assert_true(ok(r));
    assert_true(count_events(1, "combat_action") >= 1);
    assert_true(count_events(1, "combat_start") == 1);
    int died = 0;
    for (int i = 0; i < 20 * 120 && !died; i++) {
        zsim_tick(sim, 0);
        died = count_events(1, "combat_death");
    }
    assert_int_equal(died, 1);
    json_t *death = NULL;
    for (size_t i = 0; i < json_array_size(sent); i++) {
        json_t *m = json_array_get(sent, i);
        json_t *p = json_array_get(m, 2);
        if (json_integer_value(json_array_get(m, 0)) == 1 &&
            strcmp(json_string_value(json_array_get(m, 1)), "event") == 0 &&
            strcmp(json_string_value(json_object_get(p, "eventType")), "combat_death") == 0)
            death = p;
    }
    assert_non_null(death);
    assert_non_null(json_object_get(death, "narrative"));
    /* the dog bit back at least once: Alice is hurt (or she died) */
    zplayer_t *p = zsim__find(sim, 1);
    assert_true(p->ch.hp < 205);
    assert_true(count_events(1, "combat_hit") >= 3);
    assert_true(last(1, "state_update") != NULL);
    /* in-combat state updates carry the ATB gauge */
    int seen_atb = 0;
    for (size_t i = 0; i < json_array_size(sent); i++) {
        json_t *m = json_array_get(sent, i);
        json_t *c = json_object_get(json_array_get(m, 2), "combat");
        if (json_integer_value(json_array_get(m, 0)) == 1 && c)
            seen_atb |=
                json_integer_value(json_object_get(json_object_get(c, "atb"), "max")) == 200;
    }
    assert_true(seen_atb);
    zsim_free(sim);
}

static void test_move_over_a_border(void **state)
{
    (void)state;
    zsim_t *sim = new_sim();
    enter(sim, 1, 101, "Alice", 100, 195);
    /* a walk north over the edge hands Alice to the forest */
    json_t *r = run(sim, 1, "/move to:100,210 run");
    assert_true(ok(r));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "method")),
                        "position");
    for (int i = 0; i < 200 && zsim__find(sim, 1); i++)
        zsim_tick(sim, 0);
    assert_null(zsim__find(sim, 1));
    zsim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_aliases_and_suggestions),
        cmocka_unit_test(test_info_commands),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_bad_targets_and_death),
        cmocka_unit_test(test_fight_to_the_death),
        cmocka_unit_test(test_move_over_a_border),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    json_decref(sent);
    free(cast);
    return rc;
}
