/* combat.c - see combat.h. The formulas are the reference's
 * (GAME-REFERENCE.md 4); the worked example "Wanderer vs Rat" is pinned
 * in tests/unit/test_combat.c. */
#include "combat.h"

#include <math.h>
#include <string.h>

void combat_rng_seed(combat_rng_t *r, uint64_t seed)
{
    r->s = seed;
}

double combat_rand(combat_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

void combat_stats_from(combat_stats_t *s, const character_t *c, int weapon_bonus)
{
    memset(s, 0, sizeof(*s));
    s->stat[STAT_STRENGTH] = c->strength;
    s->stat[STAT_VITALITY] = c->vitality;
    s->stat[STAT_DEXTERITY] = c->dexterity;
    s->stat[STAT_AGILITY] = c->agility;
    s->stat[STAT_INTELLIGENCE] = c->intelligence;
    s->stat[STAT_WISDOM] = c->wisdom;
    character_derive(c, &s->d);
    s->weapon_bonus = weapon_bonus;
    s->d.attack_rating += weapon_bonus;
}

const char *combat_err_reason(int err)
{
    switch (err) {
    case COMBAT_ERR_TARGET:
        return "target_not_found";
    case COMBAT_ERR_RANGE:
        return "out_of_range";
    case COMBAT_ERR_COOLDOWN:
        return "cooldown";
    case COMBAT_ERR_ATB:
        return "atb_low";
    case COMBAT_ERR_CHARGES:
        return "charges_low";
    case COMBAT_ERR_RESOURCES:
        return "insufficient_resources";
    case COMBAT_ERR_DEAD:
        return "attacker_dead";
    default:
        return "ok";
    }
}

void combat_atb_fill(combat_state_t *st, double dt)
{
    st->atb += COMBAT_ATB_RATE * dt;
    if (st->atb > COMBAT_ATB_MAX) st->atb = COMBAT_ATB_MAX;
    if (st->atb < 0) st->atb = 0;
}

int combat_charges(const combat_state_t *st, const char *type)
{
    for (int i = 0; i < COMBAT_CHARGE_TYPES; i++)
        if (st->charges[i].type[0] && strcmp(st->charges[i].type, type) == 0)
            return st->charges[i].count;
    return 0;
}

/* The slot of a charge type, created if `create`; -1 if none/full. */
static int charge_slot(combat_state_t *st, const char *type, int create)
{
    int free_slot = -1;
    for (int i = 0; i < COMBAT_CHARGE_TYPES; i++) {
        if (st->charges[i].type[0] && strcmp(st->charges[i].type, type) == 0) return i;
        if (!st->charges[i].type[0] && free_slot < 0) free_slot = i;
    }
    if (!create || free_slot < 0) return -1;
    size_t n = strlen(type);
    if (n >= sizeof(st->charges[0].type)) n = sizeof(st->charges[0].type) - 1;
    memcpy(st->charges[free_slot].type, type, n);
    st->charges[free_slot].type[n] = '\0';
    st->charges[free_slot].count = 0;
    return free_slot;
}

int combat_charges_add(combat_state_t *st, const char *type, int amount)
{
    int i = charge_slot(st, type, 1);
    if (i < 0) return 0;
    int v = st->charges[i].count + amount;
    st->charges[i].count = v > COMBAT_CHARGE_MAX ? COMBAT_CHARGE_MAX : v < 0 ? 0 : v;
    return st->charges[i].count;
}

double combat_cooldown_left(const combat_state_t *st, const ability_def_t *ab, double now_ms)
{
    for (int i = 0; i < COMBAT_COOLDOWNS; i++)
        if (st->cooldowns[i].ability == ab)
            return st->cooldowns[i].ready_ms > now_ms ? st->cooldowns[i].ready_ms - now_ms : 0;
    return 0;
}

int combat_check(const combat_state_t *st, const ability_def_t *ab, double now_ms, int free_atb,
                 int pay_resources, int hp, int stamina, int mana)
{
    if (combat_cooldown_left(st, ab, now_ms) > 0) return COMBAT_ERR_COOLDOWN;
    if (!free_atb && st->atb < ab->atb_cost) return COMBAT_ERR_ATB;
    if (ab->consumes_charge[0] && combat_charges(st, ab->consumes_charge) < ab->consumes_amount)
        return COMBAT_ERR_CHARGES;
    if (pay_resources && (stamina < ab->stamina_cost || mana < ab->mana_cost))
        return COMBAT_ERR_RESOURCES;
    if (ab->health_cost > 0 && hp <= ab->health_cost) return COMBAT_ERR_RESOURCES;
    return COMBAT_OK;
}

void combat_pay(combat_state_t *st, const ability_def_t *ab, double now_ms, int free_atb,
                int pay_resources, int *hp, int *stamina, int *mana)
{
    if (!free_atb) st->atb -= ab->atb_cost;
    if (st->atb < 0) st->atb = 0;
    if (ab->consumes_charge[0]) combat_charges_add(st, ab->consumes_charge, -ab->consumes_amount);
    if (ab->builds_charge[0]) combat_charges_add(st, ab->builds_charge, ab->builds_amount);
    if (pay_resources) {
        *stamina -= ab->stamina_cost;
        *mana -= ab->mana_cost;
    }
    *hp -= ab->health_cost;
    if (ab->cooldown_s <= 0) return;
    /* reuse this ability's slot, else an expired one */
    int slot = -1;
    for (int i = 0; i < COMBAT_COOLDOWNS && slot < 0; i++)
        if (st->cooldowns[i].ability == ab) slot = i;
    for (int i = 0; i < COMBAT_COOLDOWNS && slot < 0; i++)
        if (!st->cooldowns[i].ability || st->cooldowns[i].ready_ms <= now_ms) slot = i;
    if (slot < 0) slot = 0; /* more than COMBAT_COOLDOWNS abilities cooling: drop the oldest slot */
    st->cooldowns[slot].ability = ab;
    st->cooldowns[slot].ready_ms = now_ms + ab->cooldown_s * 1000.0;
}

int combat_base_damage(const ability_def_t *ab, const combat_stats_t *att)
{
    int s = ab->scaling_stat > STAT_NONE && ab->scaling_stat <= STAT_WISDOM
                ? att->stat[ab->scaling_stat]
                : 0;
    double v = ab->amount + s * ab->scaling;
    if (ab->damage_type == DMG_PHYSICAL) v += att->weapon_bonus;
    /* a tiny epsilon so 8 + 0.4 * 10 is 12, not 11.999... */
    double f = floor(v + 1e-9);
    return f < 1 ? 1 : f > 1e6 ? 1000000 : (int)f;
}

int combat_area_share(int base, int n)
{
    if (n <= 1) return base;
    double total = base * (1.0 + 0.1 * (n - 1));
    int each = (int)floor(total / n + 1e-9);
    return each < 1 ? 1 : each;
}

static int is_magic(const ability_def_t *ab)
{
    return ab->damage_type != DMG_PHYSICAL;
}

double combat_hit_chance(const ability_def_t *ab, const combat_stats_t *att,
                         const combat_stats_t *def)
{
    double acc = is_magic(ab) ? att->d.magic_accuracy : att->d.physical_accuracy;
    double eva = is_magic(ab) ? def->d.magic_evasion : def->d.evasion;
    double h = 75 + 0.5 * (acc - 75) - 0.5 * eva;
    return h < 5 ? 5 : h > 95 ? 95 : h;
}

const char *combat_outcome_name(int outcome)
{
    static const char *const names[] = {"miss",   "hit",         "crit",
                                        "glance", "penetrating", "deflected"};
    return outcome >= 0 && outcome <= OUTCOME_DEFLECTED ? names[outcome] : "hit";
}

static double mitigate(double x, double absorption, double defense)
{
    return (x - absorption) * (1.0 - defense / (defense + 100.0));
}

static int floor_min1(double v)
{
    double f = floor(v + 1e-9);
    return f < 1 ? 1 : (int)f;
}

int combat_outcome_damage(int outcome, int base, int magic, double abs_, double def)
{
    switch (outcome) {
    case OUTCOME_MISS:
        return 0;
    case OUTCOME_CRIT:
        return floor_min1(mitigate(floor(1.5 * base), abs_, def));
    case OUTCOME_GLANCE:
        return floor_min1(magic ? 0.5 * mitigate(base, abs_, def)
                                : mitigate(0.5 * base, abs_, def));
    case OUTCOME_PENETRATING:
        return floor_min1(base - abs_);
    case OUTCOME_DEFLECTED:
        return floor_min1(0.5 * mitigate(base, abs_, def));
    default:
        return floor_min1(mitigate(base, abs_, def));
    }
}

void combat_roll(const ability_def_t *ab, const combat_stats_t *att, const combat_stats_t *def,
                 int base, combat_rng_t *rng, combat_result_t *out)
{
    memset(out, 0, sizeof(*out));
    out->base = base;
    if (ab->damage_type == DMG_HEAL) {
        out->outcome = OUTCOME_HIT;
        out->amount = base;
        out->hit_chance = 100;
        return;
    }
    out->hit_chance = combat_hit_chance(ab, att, def);
    if (combat_rand(rng) * 100.0 > out->hit_chance) {
        out->outcome = OUTCOME_MISS;
        return;
    }
    double r = combat_rand(rng) * 100.0, glance = att->d.glancing_blow_chance;
    if (r < 5)
        out->outcome = OUTCOME_CRIT;
    else if (r < 5 + glance)
        out->outcome = OUTCOME_GLANCE;
    else if (r < 10 + glance)
        out->outcome = OUTCOME_PENETRATING;
    else if (r < 15 + glance)
        out->outcome = OUTCOME_DEFLECTED;
    else
        out->outcome = OUTCOME_HIT;
    int magic = is_magic(ab);
    out->amount = combat_outcome_damage(out->outcome, base, magic,
                                        magic ? def->d.magic_absorption : def->d.damage_absorption,
                                        magic ? def->d.magic_defense : def->d.defense_rating);
}
