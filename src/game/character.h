/* character.h - a player character: persistent fields, derived stats and
 * the protocol's JSON shape for it.
 *
 * character_t is a plain value (no pointers) so it can be copied across
 * threads, stored, and carried whole in a bus record. */
#ifndef WOD_CHARACTER_H
#define WOD_CHARACTER_H

#include "../core/buf.h"

#include <stdint.h>

#define CHAR_NAME_MIN 3
#define CHAR_NAME_MAX 20
#define CHAR_DESC_MAX 255
#define ZONE_ID_MAX   47
#define CHAR_INV_MAX  16 /* inventory slots */
#define CHAR_ITEM_MAX 31 /* bytes of an item id */

/* One inventory slot: a stack of one item (gamedata.h item_def_t). */
typedef struct inv_slot_s {
    char item_id[CHAR_ITEM_MAX + 1];
    int quantity; /* >= 1 while the slot is in use */
    int equipped; /* weapons: worn in the main hand */
} inv_slot_t;

typedef struct character_s {
    int64_t id;
    int64_t account_id;
    char name[CHAR_NAME_MAX + 1];
    char description[CHAR_DESC_MAX + 1];
    int level;
    int64_t experience;
    char zone_id[ZONE_ID_MAX + 1];
    double x, y, z; /* feet, zone-local; y is up */
    double heading; /* degrees, 0 = north, 90 = east */
    int strength, vitality, dexterity, agility, intelligence, wisdom;
    int hp, stamina, mana; /* current values */
    int64_t last_played;   /* wall ms */
    int is_alive;          /* 0 after death until the respawn */
    int n_items;           /* used slots of items[], packed from 0 */
    inv_slot_t items[CHAR_INV_MAX];
} character_t;

/* Derived stats, unrounded, with the reference's names (GAME-REFERENCE.md
 * section 2; gear bonuses are added by the simulation, not here). */
typedef struct character_derived_s {
    int max_hp, max_stamina, max_mana;
    double carrying_capacity; /* kg */
    double attack_rating, magic_attack;
    double defense_rating, magic_defense;
    double physical_accuracy, magic_accuracy;
    double evasion, magic_evasion;
    double damage_absorption, magic_absorption;
    double glancing_blow_chance; /* percent */
    double initiative;
    double movement_speed;     /* the reference's "m/s"; our ft/s at walk */
    double attack_speed_bonus; /* percent */
    double base_speed;         /* = movement_speed, the name the simulation uses */
} character_derived_t;

/* The reference's formulas (maxHp = 100 + vitality*10 + level*5, ...);
 * the worked values for an all-10 level-1 character are pinned in
 * tests/unit/test_auth.c. */
void character_derive(const character_t *c, character_derived_t *d);

/* Fills a level-1 character with default stats, full pools, alive, with
 * the starting kit (a Rusty Sword, equipped, and 5 Health Potions), at
 * the given zone's spawn point. id is left 0 (the store assigns it). */
void character_init(character_t *c, int64_t account_id, const char *name, const char *description,
                    const char *zone_id, double x, double y, double z);

/* Validates a new character name: CHAR_NAME_MIN..CHAR_NAME_MAX characters,
 * letters first, then letters, digits, spaces, '-' or '\''; no double
 * spaces, no trailing space. Returns 0 or -1 with a reason. */
int character_name_check(const char *name, const char **reason);

/* Appends the full protocol character object (world_entry.character):
 * current_speed is "stop", "walk", "jog" or "run"; speed_fps the same in
 * feet per second (our currentSpeedFps). */
void character_json(buf_t *b, const character_t *c, const char *current_speed, double speed_fps);

/* Appends the short form used in auth_success.characters. */
void character_summary_json(buf_t *b, const character_t *c);

/* Every persistent field as one JSON object (zone snapshots). */
void character_state_json(buf_t *b, const character_t *c);
/* Reads what character_state_json wrote. Returns 0 or -1 if a field is
 * missing or of the wrong type. `obj` is a jansson json_t *. */
int character_state_parse(const void *obj, character_t *c);

#endif
