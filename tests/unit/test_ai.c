/* test_ai.c - the NPC state machine (sim/ai.c) on scripted scenarios:
 * aggro -> chase -> attack -> leash -> reset, a passive mob provoked,
 * flee at low health, a patrol loop, and determinism of wandering with
 * a pinned seed. The "world" is the test: it plays the sim's part of
 * filling ai_view_t each tick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/ai.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DT       0.05 /* 20 Hz */
#define ZONE     200.0
#define SEED     42
#define TICKS(s) ((int)((s) / DT + 0.5))

static npcdef_t base_def(void)
{
    npcdef_t d;
    memset(&d, 0, sizeof(d));
    snprintf(d.tag, sizeof(d.tag), "mob.test");
    snprintf(d.name, sizeof(d.name), "Test Dog");
    d.is_mob = 1;
    d.wildlife = 1;
    d.level = 7;
    d.strength = 12;
    d.max_hp = 100;
    d.hostile = 1;
    d.aggro_radius = 30;
    d.leash = 50;
    d.speed = 10;
    d.x = 100;
    d.z = 100;
    return d;
}

typedef struct world_s {
    znpc_t n;
    uint64_t rng;
    double now_ms;
    double px, pz; /* the one player */
    int present;   /* player in the zone and alive */
} world_t;

/* One tick: the player is seen if within aggro radius (and the NPC has
 * no target), or followed if it is the target. */
static ai_out_t tick(world_t *w)
{
    ai_view_t v;
    memset(&v, 0, sizeof(v));
    v.near_slot = -1;
    double d = hypot(w->px - w->n.x, w->pz - w->n.z);
    if (w->n.target_pid) {
        v.has_target = w->present;
        v.tx = w->px;
        v.tz = w->pz;
    } else if (w->present && w->n.def->hostile && d <= w->n.def->aggro_radius &&
               w->n.state != AI_LEASH) {
        v.near_pid = 7;
        v.near_slot = 3;
    }
    w->now_ms += DT * 1000;
    ai_out_t out;
    ai_step(&w->n, &v, ZONE, ZONE, DT, w->now_ms, &w->rng, &out);
    return out;
}

static void world_init(world_t *w, const npcdef_t *d)
{
    memset(w, 0, sizeof(*w));
    npc_init(&w->n, 1, d);
    w->rng = ai_seed(SEED, "zone-test");
}

static void test_aggro_chase_attack_leash_reset(void **state)
{
    (void)state;
    npcdef_t d = base_def();
    world_t w;
    world_init(&w, &d);
    w.present = 1;
    w.px = 160; /* 60 ft east: outside the aggro radius */
    w.pz = 100;
    for (int i = 0; i < TICKS(2); i++) {
        ai_out_t o = tick(&w);
        assert_false(o.aggro_changed || o.strike || o.moved);
    }
    assert_int_equal(w.n.state, AI_IDLE);
    assert_int_equal(w.n.target_pid, 0);

    /* the player steps to 20 ft: aggro */
    w.px = 120;
    ai_out_t o = tick(&w);
    assert_true(o.aggro_changed);
    assert_int_equal(w.n.target_pid, 7);
    assert_int_equal(w.n.target_slot, 3);
    assert_int_equal(w.n.state, AI_CHASE);

    /* chase at 10 ft/s: 0.5 ft per tick, into melee range */
    double x0 = w.n.x;
    o = tick(&w);
    assert_true(o.moved);
    assert_true(fabs(w.n.x - x0 - 0.5) < 1e-9);
    int strikes = 0, ticks_to_melee = 0;
    while (w.n.state == AI_CHASE) {
        o = tick(&w);
        strikes += o.strike;
        assert_true(++ticks_to_melee < TICKS(5));
    }
    assert_int_equal(w.n.state, AI_ATTACK);
    assert_true(hypot(w.px - w.n.x, w.pz - w.n.z) <= AI_MELEE_FT);

    /* attack: a strike every AI_STRIKE_MS while in melee */
    double t_first = -1;
    for (int i = 0; i < TICKS(7); i++) {
        o = tick(&w);
        if (o.strike) {
            if (t_first < 0) t_first = w.now_ms;
            strikes++;
        }
        assert_int_equal(w.n.state, AI_ATTACK);
        assert_false(o.moved);
    }
    assert_true(t_first > 0);
    assert_int_equal(strikes, 3); /* at t, t+3 s, t+6 s */

    /* hurt it, then the player runs far east: it follows until its leash */
    w.n.hp = 40;
    w.px = 195;
    int dropped = 0;
    for (int i = 0; i < TICKS(10) && !dropped; i++) {
        o = tick(&w);
        assert_false(o.strike);
        if (o.aggro_changed) {
            dropped = 1;
            assert_int_equal(o.dropped, 7);
        }
    }
    assert_true(dropped);
    assert_int_equal(w.n.state, AI_LEASH);
    assert_int_equal(w.n.target_pid, 0);
    assert_true(w.n.x - 100 > d.leash - 1 && w.n.x - 100 <= d.leash + 1);

    /* leashing: evades (ignores attacks and players), heals, runs home */
    assert_int_equal(ai_provoke(&w.n, 7, 3, w.now_ms), 0);
    w.px = w.n.x - 2; /* right next to it: ignored while it returns */
    int hp0 = w.n.hp;
    o = tick(&w);
    assert_true(o.moved && !o.aggro_changed);
    assert_true(w.n.hp > hp0);
    w.present = 0; /* the player logs out */
    for (int i = 0; i < TICKS(10) && w.n.state == AI_LEASH; i++)
        tick(&w);
    assert_int_equal(w.n.state, AI_IDLE);
    assert_true(w.n.x == 100 && w.n.z == 100);
    assert_int_equal(w.n.hp, w.n.max_hp);

    /* reset: it aggroes afresh when the player comes back */
    w.present = 1;
    w.px = 110;
    w.pz = 100;
    o = tick(&w);
    assert_true(o.aggro_changed);
    assert_int_equal(w.n.state, AI_CHASE);
}

static void test_target_gone_drops_aggro(void **state)
{
    (void)state;
    npcdef_t d = base_def();
    world_t w;
    world_init(&w, &d);
    w.present = 1;
    w.px = 104;
    w.pz = 100;
    tick(&w);
    assert_int_equal(w.n.target_pid, 7);
    w.present = 0; /* dead or gone */
    ai_out_t o = tick(&w);
    assert_true(o.aggro_changed);
    assert_int_equal(o.dropped, 7);
    assert_int_equal(w.n.target_pid, 0);
    assert_int_equal(w.n.state, AI_IDLE); /* it never left home: reset at once */
}

static void test_passive_mob_fights_back_only(void **state)
{
    (void)state;
    npcdef_t d = base_def();
    d.hostile = 0;
    d.aggro_radius = 0;
    world_t w;
    world_init(&w, &d);
    w.present = 1;
    w.px = 103;
    w.pz = 100;
    for (int i = 0; i < TICKS(3); i++)
        assert_false(tick(&w).aggro_changed);
    assert_int_equal(w.n.target_pid, 0);
    assert_int_equal(ai_provoke(&w.n, 7, 3, w.now_ms), 1);
    assert_int_equal(ai_provoke(&w.n, 8, 4, w.now_ms), 0); /* keeps its first target */
    int strikes = 0;
    for (int i = 0; i < TICKS(1); i++)
        strikes += tick(&w).strike;
    assert_int_equal(strikes, 1);
    assert_int_equal(w.n.state, AI_ATTACK);
    /* dead NPCs neither act nor get provoked */
    w.n.respawn_ms = 5000;
    assert_int_equal(npc_damage(&w.n, 1000, w.now_ms), 1);
    assert_int_equal(ai_provoke(&w.n, 7, 3, w.now_ms), 0);
    ai_out_t o = tick(&w);
    assert_false(o.moved || o.strike);
    assert_false(npc_respawn_due(&w.n, w.now_ms));
    assert_true(npc_respawn_due(&w.n, w.now_ms + 5000));
    npc_respawn(&w.n);
    assert_true(w.n.alive && w.n.hp == w.n.max_hp && w.n.x == 100 && w.n.state == AI_IDLE);
}

static void test_flee_at_low_health(void **state)
{
    (void)state;
    npcdef_t d = base_def();
    d.flee_at = 0.25;
    d.leash = 100;
    world_t w;
    world_init(&w, &d);
    w.present = 1;
    w.px = 103;
    w.pz = 100;
    tick(&w);
    tick(&w);
    assert_int_equal(w.n.state, AI_ATTACK);
    w.n.hp = 25; /* at the threshold */
    ai_out_t o = tick(&w);
    assert_int_equal(w.n.state, AI_FLEE);
    assert_true(o.moved && !o.strike);
    assert_true(w.n.x < 100); /* away from the player, who is east */
    int gave_up = 0;
    for (int i = 0; i < TICKS(10) && !gave_up; i++) {
        o = tick(&w);
        assert_false(o.strike);
        gave_up = o.aggro_changed;
    }
    assert_true(gave_up);
    assert_int_equal(w.n.state, AI_LEASH);
    assert_true(w.px - w.n.x >= AI_FLEE_SAFE_FT - 1);
}

static void test_patrol_loop(void **state)
{
    (void)state;
    npcdef_t d = base_def();
    d.hostile = 0;
    d.speed = 4; /* patrols at 2 ft/s */
    double wp[4][2] = {{100, 100}, {110, 100}, {110, 110}, {100, 110}};
    d.n_patrol = 4;
    memcpy(d.patrol, wp, sizeof(wp));
    world_t w;
    world_init(&w, &d);
    int order[8] = {0}, n_order = 0, last = w.n.waypoint;
    for (int i = 0; i < TICKS(45) && n_order < 8; i++) {
        tick(&w);
        assert_int_equal(w.n.state, AI_PATROL);
        assert_true(w.n.x >= 100 - 1e-9 && w.n.x <= 110 + 1e-9);
        assert_true(w.n.z >= 100 - 1e-9 && w.n.z <= 110 + 1e-9);
        if (w.n.waypoint != last) {
            order[n_order++] = last; /* reached */
            last = w.n.waypoint;
            assert_true(fabs(w.n.x - wp[order[n_order - 1]][0]) < 1e-6);
            assert_true(fabs(w.n.z - wp[order[n_order - 1]][1]) < 1e-6);
        }
    }
    assert_int_equal(n_order, 8); /* two full rounds of 40 ft in < 45 s */
    for (int i = 0; i < 8; i++)
        assert_int_equal(order[i], i % 4);
}

static void wander_run(int seed, double *xs, int n)
{
    npcdef_t d = base_def();
    d.hostile = 0;
    d.wander = 15;
    world_t w;
    world_init(&w, &d);
    w.rng = ai_seed(seed, "zone-test");
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < TICKS(1); k++) {
            tick(&w);
            assert_true(hypot(w.n.x - 100, w.n.z - 100) <= d.wander + 1e-6);
        }
        xs[i] = w.n.x * 1000 + w.n.z;
    }
}

static void test_wander_deterministic(void **state)
{
    (void)state;
    double a[60], b[60], c[60];
    wander_run(SEED, a, 60);
    wander_run(SEED, b, 60);
    wander_run(SEED + 1, c, 60);
    assert_memory_equal(a, b, sizeof(a));
    int moved = 0, differ = 0;
    for (int i = 1; i < 60; i++) {
        moved |= a[i] != a[0];
        differ |= a[i] != c[i];
    }
    assert_true(moved && differ);
}

static void test_dialogue_cycles_and_animals_are_silent(void **state)
{
    (void)state;
    npcdef_t d = base_def();
    d.wildlife = 0;
    d.n_lines = 2;
    snprintf(d.lines[0], sizeof(d.lines[0]), "one");
    snprintf(d.lines[1], sizeof(d.lines[1]), "two");
    znpc_t n;
    npc_init(&n, 1, &d);
    assert_string_equal(npc_next_line(&n), "one");
    assert_string_equal(npc_next_line(&n), "two");
    assert_string_equal(npc_next_line(&n), "one");
    d.wildlife = 1;
    assert_null(npc_next_line(&n));
    assert_int_equal(npc_attack_rating(&n), 10 + 2 * 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggro_chase_attack_leash_reset),
        cmocka_unit_test(test_target_gone_drops_aggro),
        cmocka_unit_test(test_passive_mob_fights_back_only),
        cmocka_unit_test(test_flee_at_low_health),
        cmocka_unit_test(test_patrol_loop),
        cmocka_unit_test(test_wander_deterministic),
        cmocka_unit_test(test_dialogue_cycles_and_animals_are_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
