/* combat.h - the rules of a fight (GAME-REFERENCE.md 4; docs/GAME.md):
 * the ATB gauge, per-ability cooldowns, builder/consumer charges, hit
 * chance, the outcome roll (hit/crit/glance/penetrating/deflected) and
 * the mitigation formula, the area split rule, and one seeded random
 * generator per zone.
 *
 * Everything here is pure: numbers in, numbers out, no entities and no
 * I/O. The simulation (sim.c) owns who fights whom, range, events and
 * death, and calls these for every strike, a player's and an NPC's
 * alike (see combat_strike at the end). */
#ifndef WOD_SIM_COMBAT_H
#define WOD_SIM_COMBAT_H

#include "../game/character.h"
#include "../game/gamedata.h"

#include <stdint.h>

#define COMBAT_ATB_RATE       10.0    /* gauge points per second, in and out of combat */
#define COMBAT_ATB_MAX        200.0   /* the reference's default cap (settable to 500) */
#define COMBAT_ATB_START      100.0   /* on entering the world: one basic_attack is ready */
#define COMBAT_CHARGE_MAX     5       /* per charge type */
#define COMBAT_CHARGE_TYPES   4       /* distinct charge types one fighter holds */
#define COMBAT_COOLDOWNS      16      /* abilities cooling down at once per fighter */
#define COMBAT_AUTO_PERIOD_S  3.0     /* auto-attack: one basic_attack every weaponSpeed s */
#define COMBAT_TIMEOUT_MS     15000.0 /* out of combat this long after the last hostile act */
#define COMBAT_EVENT_RANGE_FT 150.0   /* players this close to the attacker see its events */

/* One generator per zone: splitmix64. Seeded from RNG_SEED (tests pin it). */
typedef struct combat_rng_s {
    uint64_t s;
} combat_rng_t;

void combat_rng_seed(combat_rng_t *r, uint64_t seed);
double combat_rand(combat_rng_t *r); /* [0, 1) */

/* A fighter's numbers for one strike. */
typedef struct combat_stats_s {
    int stat[STAT_WISDOM + 1]; /* indexed by stat_kind_t; [STAT_NONE] = 0 */
    character_derived_t d;     /* attackRating already includes weapon_bonus */
    int weapon_bonus;          /* equipped weapon's attack_bonus (physical base damage too) */
} combat_stats_t;

/* Fills s from a character's core stats, level and equipped weapon bonus. */
void combat_stats_from(combat_stats_t *s, const character_t *c, int weapon_bonus);

/* A fighter's combat state. Zeroed = out of combat, empty gauge. */
typedef struct combat_state_s {
    double atb; /* gauge, 0..COMBAT_ATB_MAX */
    int in_combat;
    double last_hostile_ms; /* sim time of its last hostile act (dealt or taken) */
    int64_t auto_target;    /* entity pid auto-attacked, 0 = none */
    double auto_timer_s;    /* time since the last auto-attack */
    struct {
        char type[GD_ID_MAX + 1];
        int count;
    } charges[COMBAT_CHARGE_TYPES];
    struct {
        const ability_def_t *ability;
        double ready_ms; /* sim time it may be used again */
    } cooldowns[COMBAT_COOLDOWNS];
} combat_state_t;

/* Why an ability cannot be used now (the reference's combat_error reasons). */
typedef enum {
    COMBAT_OK = 0,
    COMBAT_ERR_TARGET = -1,    /* target_not_found (absent, dead, not a valid target) */
    COMBAT_ERR_RANGE = -2,     /* out_of_range */
    COMBAT_ERR_COOLDOWN = -3,  /* cooldown */
    COMBAT_ERR_ATB = -4,       /* atb_low */
    COMBAT_ERR_CHARGES = -5,   /* charges_low */
    COMBAT_ERR_RESOURCES = -6, /* insufficient_resources */
    COMBAT_ERR_DEAD = -7,      /* the attacker is dead */
} combat_err_t;

/* The reason string of an error ("out_of_range", ...). */
const char *combat_err_reason(int err);

/* Advances the gauge by dt seconds (capped). */
void combat_atb_fill(combat_state_t *st, double dt);
/* Charges of a type held now. */
int combat_charges(const combat_state_t *st, const char *type);
/* Adds charges of a type, at most COMBAT_CHARGE_MAX; returns the new count. */
int combat_charges_add(combat_state_t *st, const char *type, int amount);
/* Remaining cooldown of an ability in ms (0 = ready). */
double combat_cooldown_left(const combat_state_t *st, const ability_def_t *ab, double now_ms);

/* The checks after alive/range, in the reference's order: cooldown, ATB
 * (skipped when free, e.g. an auto-attack), charges, resources (stamina,
 * mana, hp > health_cost; pass pay_resources=0 for NPCs). */
int combat_check(const combat_state_t *st, const ability_def_t *ab, double now_ms, int free_atb,
                 int pay_resources, int hp, int stamina, int mana);
/* Pays what combat_check allowed: ATB (unless free), charges consumed,
 * charges built, stamina/mana/hp costs (if pay_resources), the cooldown. */
void combat_pay(combat_state_t *st, const ability_def_t *ab, double now_ms, int free_atb,
                int pay_resources, int *hp, int *stamina, int *mana);

/* base = max(1, floor(amount + stat * scaling [+ weapon_bonus if physical])). */
int combat_base_damage(const ability_def_t *ab, const combat_stats_t *att);
/* The area split rule: n targets share base * (1 + 0.1 * (n - 1)) evenly;
 * each gets max(1, floor(that / n)). n <= 1 leaves base as is. */
int combat_area_share(int base, int n);

/* hit% = clamp(75 + 0.5 * (accuracy - 75) - 0.5 * evasion, 5, 95), with
 * the physical pair or, for every other damage type, the magic pair. */
double combat_hit_chance(const ability_def_t *ab, const combat_stats_t *att,
                         const combat_stats_t *def);

typedef enum {
    OUTCOME_MISS = 0,
    OUTCOME_HIT,
    OUTCOME_CRIT,
    OUTCOME_GLANCE,
    OUTCOME_PENETRATING,
    OUTCOME_DEFLECTED,
} combat_outcome_t;

const char *combat_outcome_name(int outcome);

/* Damage of an outcome with M(x) = (x - absorption) * (1 - def / (def + 100)),
 * floored, at least 1: hit M(base); crit M(floor(1.5 base)); glance
 * M(0.5 base) (magic: 0.5 M(base)); penetrating base - absorption;
 * deflected floor(0.5 M(base)). Miss: 0. */
int combat_outcome_damage(int outcome, int base, int magic, double absorption, double defense);

typedef struct combat_result_s {
    int outcome;       /* combat_outcome_t */
    int base;          /* base damage (or heal) */
    int amount;        /* dealt (or healed) */
    double hit_chance; /* percent */
} combat_result_t;

/* Rolls one strike of `ab` (base damage already computed, area share
 * applied): miss if rand*100 > hit%; else r in [0,100): < 5 crit, next
 * glance% (the attacker's glancingBlowChance) glance, next 5 penetrating,
 * next 5 deflected, else hit. Heals never miss: amount = base. */
void combat_roll(const ability_def_t *ab, const combat_stats_t *att, const combat_stats_t *def,
                 int base, combat_rng_t *rng, combat_result_t *out);

/* For the NPC AI: an NPC strikes an entity by exactly the rules a player's
 * /attack follows (range, cooldown, ATB unless free, charges, outcome roll,
 * events to players within 150 ft, death). npc_index is the NPC's 1-based
 * index ("npc-<index>"); target_pid is the entity's pid (> 0 a character
 * id, < 0 an NPC); ability_id NULL or unknown = basic_attack; free_atb=1 for
 * an auto-attack swing. Returns COMBAT_OK or a combat_err_t (the reason is
 * not sent to anyone: NPCs have no client). Implemented in game.c (it needs
 * the zone's entities). */
typedef struct zsim_s zsim_t;
int combat_strike(zsim_t *sim, int npc_index, int64_t target_pid, const char *ability_id,
                  int free_atb);

#endif
