/* test_combat.c - the rules of combat.c: the reference's worked example
 * (the seeded Wanderer vs a rat), hit chance clamps, every outcome's
 * damage, the area split, ATB/cooldown/charge/resource checks in the
 * reference's order, the seeded generator, and the ability rows of
 * migrations/003_game.sql as the SQLite store loads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/combat.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gamedata_t data; /* loaded once from a fresh SQLite store */

static int load_data(void **state)
{
    (void)state;
    char dir[] = "/tmp/wod-combat-XXXXXX", path[96];
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof(path), "sqlite:%s/t.db", dir);
    store_t *s = NULL;
    if (store_open(path, &s) != STORE_OK) return -1;
    int rc = s->ops->gamedata_load(s, &data);
    s->ops->close(s);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) return -1;
    return rc == STORE_OK ? 0 : -1;
}

static const ability_def_t *ab(const char *id)
{
    const ability_def_t *a = gamedata_ability(&data, id);
    assert_non_null(a);
    return a;
}

/* The seeded Wanderer: level 1, every core stat 10, no weapon counted
 * (the reference's example ignores gear). */
static void wanderer(combat_stats_t *s)
{
    character_t c;
    character_init(&c, 1, "Wanderer", "", "zone-crossroads", 100, 0, 100);
    combat_stats_from(s, &c, 0);
}

/* Rat: STR/VIT/DEX/AGI/INT/WIS 6/6/8/9/3/3. */
static void rat(combat_stats_t *s)
{
    character_t c;
    character_init(&c, 2, "Rat", "", "zone-crossroads", 0, 0, 0);
    c.level = 2;
    c.strength = 6;
    c.vitality = 6;
    c.dexterity = 8;
    c.agility = 9;
    c.intelligence = 3;
    c.wisdom = 3;
    combat_stats_from(s, &c, 0);
}

static void test_ability_rows(void **state)
{
    (void)state;
    const ability_def_t *b = ab("basic_attack");
    assert_string_equal(b->name, "Basic Attack");
    assert_int_equal(b->target, TARGET_ENEMY);
    assert_int_equal(b->atb_cost, 100);
    assert_int_equal(b->stamina_cost, 5);
    assert_int_equal(b->mana_cost, 0);
    assert_true(b->cooldown_s == 0);
    assert_int_equal(b->damage_type, DMG_PHYSICAL);
    assert_true(b->amount == 8 && b->scaling == 0.4 && b->scaling_stat == STAT_STRENGTH);
    /* a builder, a consumer, a ranged spell, a heal, an area attack */
    assert_string_equal(ab("rending_strike")->builds_charge, "combo");
    assert_int_equal(ab("finishing_blow")->consumes_amount, 3);
    assert_int_equal(ab("arcane_bolt")->damage_type, DMG_MAGIC);
    assert_true(ab("arcane_bolt")->range_ft > 50);
    assert_int_equal(ab("mend")->damage_type, DMG_HEAL);
    assert_int_equal(ab("mend")->target, TARGET_ALLY);
    assert_true(ab("whirlwind")->area_ft > 0);
    /* lookups by name, case-insensitive */
    assert_ptr_equal(gamedata_ability(&data, "arcane bolt"), ab("arcane_bolt"));
    assert_null(gamedata_ability(&data, "fireball"));
    /* items: the starting kit */
    const item_def_t *pot = gamedata_item(&data, "Health Potion");
    assert_non_null(pot);
    assert_int_equal(pot->resource, RES_HEALTH);
    assert_int_equal(pot->value, 50);
    assert_true(pot->cooldown_s == 30);
    assert_int_equal(pot->stack_max, 20);
    const item_def_t *sword = gamedata_item(&data, "rusty_sword");
    assert_non_null(sword);
    assert_int_equal(sword->kind, ITEM_WEAPON);
    assert_true(sword->attack_bonus > 0);
    assert_true(data.n_loot >= 1);
}

static void test_worked_example(void **state)
{
    (void)state;
    combat_stats_t w, r;
    wanderer(&w);
    rat(&r);
    const ability_def_t *b = ab("basic_attack");
    int base = combat_base_damage(b, &w);
    assert_int_equal(base, 12); /* 8 + 0.4 * 10 */
    assert_true(combat_hit_chance(b, &w, &r) == 73.5);
    double abs_ = r.d.damage_absorption, def = r.d.defense_rating;
    assert_int_equal(combat_outcome_damage(OUTCOME_HIT, base, 0, abs_, def), 9);
    assert_int_equal(combat_outcome_damage(OUTCOME_CRIT, base, 0, abs_, def), 15);
    assert_int_equal(combat_outcome_damage(OUTCOME_GLANCE, base, 0, abs_, def), 4);
    assert_int_equal(combat_outcome_damage(OUTCOME_PENETRATING, base, 0, abs_, def), 10);
    assert_int_equal(combat_outcome_damage(OUTCOME_DEFLECTED, base, 0, abs_, def), 4);
    assert_int_equal(combat_outcome_damage(OUTCOME_MISS, base, 0, abs_, def), 0);
    /* a weapon adds to the physical base and the attack rating */
    combat_stats_t armed;
    character_t c;
    character_init(&c, 1, "Wanderer", "", "z", 0, 0, 0);
    combat_stats_from(&armed, &c, 3);
    assert_int_equal(combat_base_damage(b, &armed), 15);
    assert_true(armed.d.attack_rating == 33);
    assert_int_equal(combat_base_damage(ab("arcane_bolt"), &armed),
                     15); /* 10 + 0.5 * 10, no sword */
}

static void test_outcome_rules(void **state)
{
    (void)state;
    /* minimum 1 whatever the mitigation */
    assert_int_equal(combat_outcome_damage(OUTCOME_HIT, 1, 0, 50, 500), 1);
    assert_int_equal(combat_outcome_damage(OUTCOME_PENETRATING, 2, 0, 10, 0), 1);
    /* magic glance halves after mitigation: 0.5 * (20 - 0) * (1 - 0) = 10 */
    assert_int_equal(combat_outcome_damage(OUTCOME_GLANCE, 20, 1, 0, 0), 10);
    /* physical glance mitigates the half: (10 - 4) = 6 */
    assert_int_equal(combat_outcome_damage(OUTCOME_GLANCE, 20, 0, 4, 0), 6);
    assert_int_equal(combat_outcome_damage(OUTCOME_GLANCE, 20, 1, 4, 0), 8);
    /* hit chance clamps to 5..95 */
    combat_stats_t a, d;
    wanderer(&a);
    wanderer(&d);
    d.d.evasion = 1000;
    assert_true(combat_hit_chance(ab("basic_attack"), &a, &d) == 5);
    d.d.evasion = -1000;
    assert_true(combat_hit_chance(ab("basic_attack"), &a, &d) == 95);
    /* magic uses the magic pair: 75 + 0.5*(95-75) - 0.5*25 = 72.5 */
    wanderer(&d);
    assert_true(combat_hit_chance(ab("arcane_bolt"), &a, &d) == 72.5);
    /* the area split: 3 targets share 12 * 1.2 = 14.4 -> 4 each */
    assert_int_equal(combat_area_share(12, 1), 12);
    assert_int_equal(combat_area_share(12, 3), 4);
    assert_int_equal(combat_area_share(1, 10), 1);
}

static void test_seeded_rolls(void **state)
{
    (void)state;
    combat_rng_t r1, r2;
    combat_rng_seed(&r1, 42);
    combat_rng_seed(&r2, 42);
    for (int i = 0; i < 100; i++) {
        double a = combat_rand(&r1);
        assert_true(a >= 0 && a < 1);
        assert_true(a == combat_rand(&r2));
    }
    combat_stats_t w, r;
    wanderer(&w);
    rat(&r);
    const ability_def_t *b = ab("basic_attack");
    int counts[6] = {0};
    combat_rng_seed(&r1, 7);
    for (int i = 0; i < 20000; i++) {
        combat_result_t res;
        combat_roll(b, &w, &r, 12, &r1, &res);
        counts[res.outcome]++;
        static const int want[] = {0, 9, 15, 4, 10, 4};
        assert_int_equal(res.amount, want[res.outcome]);
    }
    /* 26.5% misses; of the hits 5% crit, 5% glance (AGI 10), 5% pen., 5% defl. */
    assert_true(counts[OUTCOME_MISS] > 4800 && counts[OUTCOME_MISS] < 5800);
    assert_true(counts[OUTCOME_CRIT] > 500 && counts[OUTCOME_CRIT] < 950);
    assert_true(counts[OUTCOME_HIT] > 10500 && counts[OUTCOME_HIT] < 12900);
    /* heals never miss and are not mitigated */
    combat_result_t h;
    combat_roll(ab("mend"), &w, &r, 35, &r1, &h);
    assert_int_equal(h.amount, 35);
}

static void test_atb_cooldown_charges(void **state)
{
    (void)state;
    combat_state_t st;
    memset(&st, 0, sizeof(st));
    const ability_def_t *b = ab("basic_attack"), *fin = ab("finishing_blow");
    const ability_def_t *rend = ab("rending_strike");
    /* an empty gauge refuses; 10 s fills 100 */
    assert_int_equal(combat_check(&st, b, 0, 0, 1, 100, 100, 100), COMBAT_ERR_ATB);
    for (int i = 0; i < 200; i++)
        combat_atb_fill(&st, 0.05);
    assert_true(st.atb > 99.99 && st.atb < 100.01);
    for (int i = 0; i < 1000; i++)
        combat_atb_fill(&st, 0.05);
    assert_true(st.atb == COMBAT_ATB_MAX);
    /* an auto-attack (free) ignores the gauge */
    combat_state_t empty;
    memset(&empty, 0, sizeof(empty));
    assert_int_equal(combat_check(&empty, b, 0, 1, 1, 100, 100, 100), COMBAT_OK);
    /* resources: players pay stamina; NPCs do not */
    assert_int_equal(combat_check(&st, b, 0, 0, 1, 100, 4, 0), COMBAT_ERR_RESOURCES);
    assert_int_equal(combat_check(&st, b, 0, 0, 0, 100, 0, 0), COMBAT_OK);
    int hp = 100, sta = 100, mana = 100;
    combat_pay(&st, b, 0, 0, 1, &hp, &sta, &mana);
    assert_true(st.atb == 100);
    assert_int_equal(sta, 95);
    /* the consumer needs 3 combo; the builder adds 1 and has a 2 s cooldown */
    assert_int_equal(combat_check(&st, fin, 0, 0, 1, hp, sta, mana), COMBAT_ERR_CHARGES);
    assert_int_equal(combat_check(&st, rend, 0, 0, 1, hp, sta, mana), COMBAT_OK);
    combat_pay(&st, rend, 0, 0, 1, &hp, &sta, &mana);
    assert_int_equal(combat_charges(&st, "combo"), 1);
    assert_int_equal(combat_check(&st, rend, 1000, 0, 1, hp, sta, mana), COMBAT_ERR_COOLDOWN);
    assert_true(combat_cooldown_left(&st, rend, 1000) == 1000);
    /* the cooldown is checked before the gauge (reference order) */
    st.atb = 0;
    assert_int_equal(combat_check(&st, rend, 1500, 0, 1, hp, sta, mana), COMBAT_ERR_COOLDOWN);
    assert_int_equal(combat_check(&st, rend, 2000, 0, 1, hp, sta, mana), COMBAT_ERR_ATB);
    /* charges cap at 5 */
    assert_int_equal(combat_charges_add(&st, "combo", 10), COMBAT_CHARGE_MAX);
    st.atb = 200;
    assert_int_equal(combat_check(&st, fin, 2000, 0, 1, hp, sta, mana), COMBAT_OK);
    combat_pay(&st, fin, 2000, 0, 1, &hp, &sta, &mana);
    assert_int_equal(combat_charges(&st, "combo"), 2);
    assert_string_equal(combat_err_reason(COMBAT_ERR_CHARGES), "charges_low");
    assert_string_equal(combat_err_reason(COMBAT_ERR_RANGE), "out_of_range");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ability_rows),         cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_outcome_rules),        cmocka_unit_test(test_seeded_rolls),
        cmocka_unit_test(test_atb_cooldown_charges),
    };
    return cmocka_run_group_tests(tests, load_data, NULL);
}
