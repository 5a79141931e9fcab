/* Unit tests for passwords and tokens (src/gateway/auth.c) and the
 * character/zone helpers (src/game). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "game/character.h"
#include "game/zonedef.h"
#include "gateway/auth.h"

static void test_password(void **state)
{
    (void)state;
    char hash[STORE_PWHASH_MAX];
    assert_int_equal(auth_init(), 0);
    assert_int_equal(auth_hash_password("correct horse", hash), 0);
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_int_equal(auth_verify_password(hash, "correct horse"), 0);
    assert_int_not_equal(auth_verify_password(hash, "correct hors"), 0);
}

static void test_token_roundtrip(void **state)
{
    (void)state;
    char token[AUTH_TOKEN_LEN + 1], sel[STORE_SELECTOR_HEX + 1], vh[STORE_HASH_HEX + 1];
    char sel2[STORE_SELECTOR_HEX + 1], vh2[STORE_HASH_HEX + 1];
    auth_token_new(token, sel, vh);
    assert_int_equal(strlen(token), AUTH_TOKEN_LEN);
    assert_int_equal(auth_token_parse(token, sel2, vh2), 0);
    assert_string_equal(sel, sel2);
    assert_true(auth_hash_equal(vh, vh2));
    token[AUTH_TOKEN_LEN - 1] = token[AUTH_TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
    assert_int_equal(auth_token_parse(token, sel2, vh2), 0);
    assert_false(auth_hash_equal(vh, vh2));
    assert_int_equal(auth_token_parse("short", sel2, vh2), -1);
    char again[AUTH_TOKEN_LEN + 1], s3[STORE_SELECTOR_HEX + 1], v3[STORE_HASH_HEX + 1];
    auth_token_new(again, s3, v3);
    assert_string_not_equal(sel, s3);
}

static void test_names(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(character_name_check("Anna", &why), 0);
    assert_int_equal(character_name_check("Mary-Jane O'Neil", &why), 0);
    assert_int_equal(character_name_check("ab", &why), -1);
    assert_int_equal(character_name_check("9lives", &why), -1);
    assert_int_equal(character_name_check("bad  space", &why), -1);
    assert_int_equal(character_name_check("trailing ", &why), -1);
    assert_int_equal(character_name_check("semi;colon", &why), -1);
    assert_int_equal(auth_username_check("user.name-1", &why), 0);
    assert_int_equal(auth_username_check("no spaces", &why), -1);
}

static void test_derived_stats(void **state)
{
    (void)state;
    character_t c;
    character_derived_t d;
    character_init(&c, 1, "Anna", "", "zone-crossroads", 100, 0, 100);
    c.vitality = 12;
    c.level = 3;
    c.strength = 7;
    c.agility = 20;
    character_derive(&c, &d);
    assert_int_equal(d.max_hp, 100 + 12 * 10 + 3 * 5);
    assert_true(d.attack_rating == 10 + 7 * 2);
    assert_true(d.base_speed == 5.0 + 20 * 0.1);
}

/* The reference's worked values for a new character (all cores 10, L1). */
static void test_derived_stats_reference(void **state)
{
    (void)state;
    character_t c;
    character_derived_t d;
    character_init(&c, 1, "Anna", "", "zone-crossroads", 100, 0, 100);
    character_derive(&c, &d);
    assert_int_equal(d.max_hp, 205);
    assert_int_equal(d.max_stamina, 180);
    assert_int_equal(d.max_mana, 200);
    assert_int_equal(c.hp, 205);
    assert_int_equal(c.stamina, 180);
    assert_int_equal(c.mana, 200);
    assert_true(d.carrying_capacity == 100);
    assert_true(d.attack_rating == 30 && d.magic_attack == 30);
    assert_true(d.defense_rating == 5 && d.magic_defense == 5);
    assert_true(d.physical_accuracy == 95 && d.magic_accuracy == 95);
    assert_true(d.evasion == 25 && d.magic_evasion == 25);
    assert_true(d.damage_absorption == 3 && d.magic_absorption == 3);
    assert_true(d.glancing_blow_chance == 5 && d.initiative == 10);
    assert_true(d.movement_speed == 6 && d.attack_speed_bonus == 5);
}

static void test_state_roundtrip(void **state)
{
    (void)state;
    character_t c, back;
    character_init(&c, 42, "Quote\"Name", "desc \\ with\nnewline", "zone-forest", 1.25, 2, -3.5);
    c.id = 7;
    c.heading = 123.456;
    c.experience = 1234567890123LL;
    c.is_alive = 0;
    c.items[2] = c.items[1];
    c.items[2].quantity = 20;
    c.n_items = 3;
    buf_t b;
    buf_init(&b);
    character_state_json(&b, &c);
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    assert_int_equal(character_state_parse(j, &back), 0);
    assert_memory_equal(&c, &back, sizeof(c));
    json_t *items = json_object_get(j, "items");
    json_object_set_new(json_array_get(items, 1), "quantity", json_integer(0)); /* empty stack */
    assert_int_equal(character_state_parse(j, &back), -1);
    json_object_set_new(j, "x", json_string("nope"));
    assert_int_equal(character_state_parse(j, &back), -1);
    json_decref(j);
    buf_free(&b);
}

static void test_zone_geometry(void **state)
{
    (void)state;
    zonedef_t z[3];
    memset(z, 0, sizeof(z));
    strcpy(z[0].id, "zone-crossroads");
    z[0].size_x = z[0].size_z = 200;
    strcpy(z[1].id, "zone-forest");
    z[1].origin_z = 200;
    z[1].size_x = 200;
    z[1].size_z = 400;
    strcpy(z[2].id, "zone-city");
    z[2].origin_x = 200;
    z[2].size_x = z[2].size_z = 1000;
    assert_true(zonedef_adjacent(&z[0], &z[1]));
    assert_true(zonedef_adjacent(&z[0], &z[2]));
    assert_string_equal(zonedef_direction(&z[0], &z[1]), "north");
    assert_string_equal(zonedef_direction(&z[0], &z[2]), "east");
    assert_string_equal(zonedef_direction(&z[1], &z[0]), "south");
    assert_int_equal(zonedef_find_world(z, 3, 100, 250), 1);
    assert_int_equal(zonedef_find_world(z, 3, 100, 200), 1); /* shared edge belongs to one zone */
    assert_int_equal(zonedef_find_world(z, 3, -5, 5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_token_roundtrip),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_derived_stats),
        cmocka_unit_test(test_derived_stats_reference),
        cmocka_unit_test(test_zone_geometry),
        cmocka_unit_test(test_state_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
