/* gamedata.h - the game's content tables as the database holds them
 * (migrations/003_game.sql): abilities, item definitions and what mobs
 * drop. Loaded once at start-up by the store and handed, read-only, to
 * every zone simulation. Rules that use them live in src/sim/combat.c
 * and src/sim/cmd.c; docs/GAME.md describes the rows. */
#ifndef WOD_GAMEDATA_H
#define WOD_GAMEDATA_H

#define GD_ID_MAX        31 /* ability, item and charge ids */
#define GD_NAME_MAX      47
#define GD_DESC_MAX      191
#define GD_MAX_ABILITIES 64
#define GD_MAX_ITEMS     64
#define GD_MAX_LOOT      64

/* What an ability's amount scales with (a core stat). */
typedef enum {
    STAT_NONE = 0,
    STAT_STRENGTH,
    STAT_VITALITY,
    STAT_DEXTERITY,
    STAT_AGILITY,
    STAT_INTELLIGENCE,
    STAT_WISDOM,
} stat_kind_t;

/* The reference's damage types; DMG_PHYSICAL uses physicalAccuracy vs
 * evasion and defense/absorption, every other one the magic pair. HEAL
 * restores health and never misses. */
typedef enum {
    DMG_PHYSICAL = 0,
    DMG_MAGIC,
    DMG_FIRE,
    DMG_ICE,
    DMG_LIGHTNING,
    DMG_POISON,
    DMG_HOLY,
    DMG_DARK,
    DMG_HEAL,
} damage_type_t;

typedef enum { TARGET_ENEMY = 0, TARGET_ALLY = 1 } ability_target_t;

typedef struct ability_def_s {
    char id[GD_ID_MAX + 1];
    char name[GD_NAME_MAX + 1];
    char description[GD_DESC_MAX + 1];
    int target;                        /* ability_target_t; TARGET_ALLY includes oneself */
    double range_ft;                   /* 3D distance to the target */
    int atb_cost;                      /* gauge points spent (0 = free) */
    int stamina_cost;                  /* players only */
    int mana_cost;                     /* players only */
    int health_cost;                   /* the caster needs hp > health_cost */
    double cooldown_s;                 /* per ability, per fighter */
    int damage_type;                   /* damage_type_t */
    double amount;                     /* base = max(1, floor(amount + stat * scaling)) */
    int scaling_stat;                  /* stat_kind_t */
    double scaling;                    /* multiplier of the stat */
    char builds_charge[GD_ID_MAX + 1]; /* "" = none */
    int builds_amount;
    char consumes_charge[GD_ID_MAX + 1]; /* "" = none */
    int consumes_amount;
    double area_ft; /* > 0: hits every enemy within this radius of the target (split rule) */
} ability_def_t;

typedef enum { ITEM_CONSUMABLE = 0, ITEM_WEAPON = 1, ITEM_MISC = 2 } item_kind_t;
typedef enum { RES_NONE = 0, RES_HEALTH, RES_STAMINA, RES_MANA } resource_t;

typedef struct item_def_s {
    char id[GD_ID_MAX + 1];
    char name[GD_NAME_MAX + 1];
    char description[GD_DESC_MAX + 1];
    int kind;          /* item_kind_t */
    int attack_bonus;  /* weapons, while equipped: + attackRating and + physical base damage */
    int resource;      /* consumables: resource_t restored */
    int value;         /* consumables: amount restored */
    double cooldown_s; /* consumables: per item, per character */
    int stack_max;     /* most of it one inventory slot holds */
} item_def_t;

/* A mob drop: a killed hostile NPC named `source` ("*" = any hostile)
 * drops qty_min..qty_max of item_id with chance_pct percent. */
typedef struct loot_def_s {
    char source[GD_NAME_MAX + 1];
    char item_id[GD_ID_MAX + 1];
    double chance_pct;
    int qty_min, qty_max;
} loot_def_t;

typedef struct gamedata_s {
    ability_def_t abilities[GD_MAX_ABILITIES];
    int n_abilities;
    item_def_t items[GD_MAX_ITEMS];
    int n_items;
    loot_def_t loot[GD_MAX_LOOT];
    int n_loot;
} gamedata_t;

/* Lookups by id (exact) or name (case-insensitive); NULL if absent. */
const ability_def_t *gamedata_ability(const gamedata_t *g, const char *id_or_name);
const item_def_t *gamedata_item(const gamedata_t *g, const char *id_or_name);

/* Name tables for the database's text columns; -1 if unknown. */
int gamedata_stat_parse(const char *s);
int gamedata_damage_parse(const char *s);
int gamedata_item_kind_parse(const char *s);
int gamedata_resource_parse(const char *s);
const char *gamedata_resource_name(int r);

#endif
