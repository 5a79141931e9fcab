/* character.c - see character.h. Formulas follow the original server
 * (PROTOCOL-REFERENCE "World rules"); the ones it does not state are
 * ours and documented in docs/PROTOCOL.md. */
#include "character.h"

#include <ctype.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_STAT 10

void character_derive(const character_t *c, character_derived_t *d)
{
    d->max_hp = 100 + c->vitality * 10 + c->level * 5;
    d->max_stamina = 100 + c->vitality * 5 + c->agility * 3;
    d->max_mana = 100 + c->intelligence * 5 + c->wisdom * 5;
    d->carrying_capacity = 10.0 * c->strength;
    d->attack_rating = 10 + 2.0 * c->strength;
    d->magic_attack = 10 + 2.0 * c->intelligence;
    d->defense_rating = 0.5 * c->vitality;
    d->magic_defense = 0.5 * c->wisdom;
    d->physical_accuracy = 75 + 2.0 * c->dexterity;
    d->magic_accuracy = 75 + 2.0 * c->intelligence;
    d->evasion = 5 + 2.0 * c->agility;
    d->magic_evasion = 5 + 2.0 * c->wisdom;
    d->damage_absorption = 0.3 * c->vitality;
    d->magic_absorption = 0.3 * c->wisdom;
    d->glancing_blow_chance = 0.5 * c->agility;
    d->initiative = c->agility;
    d->movement_speed = 5.0 + c->agility * 0.1;
    d->attack_speed_bonus = 0.5 * c->agility;
    d->base_speed = d->movement_speed;
}

void character_init(character_t *c, int64_t account_id, const char *name, const char *description,
                    const char *zone_id, double x, double y, double z)
{
    memset(c, 0, sizeof(*c));
    c->account_id = account_id;
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->description, sizeof(c->description), "%s", description ? description : "");
    snprintf(c->zone_id, sizeof(c->zone_id), "%s", zone_id);
    c->level = 1;
    c->x = x;
    c->y = y;
    c->z = z;
    c->strength = c->vitality = c->dexterity = DEFAULT_STAT;
    c->agility = c->intelligence = c->wisdom = DEFAULT_STAT;
    character_derived_t d;
    character_derive(c, &d);
    c->hp = d.max_hp;
    c->stamina = d.max_stamina;
    c->mana = d.max_mana;
    c->is_alive = 1;
    /* the reference's seeded kit (GAME-REFERENCE.md 7); item rows in 003_game.sql */
    snprintf(c->items[0].item_id, sizeof(c->items[0].item_id), "rusty_sword");
    c->items[0].quantity = 1;
    c->items[0].equipped = 1;
    snprintf(c->items[1].item_id, sizeof(c->items[1].item_id), "health_potion");
    c->items[1].quantity = 5;
    c->n_items = 2;
}

int character_name_check(const char *name, const char **reason)
{
    size_t n = strlen(name);
    if (n < CHAR_NAME_MIN || n > CHAR_NAME_MAX) {
        *reason = "name must be 3 to 20 characters";
        return -1;
    }
    if (!isalpha((unsigned char)name[0])) {
        *reason = "name must start with a letter";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isalnum(c) || c == ' ' || c == '-' || c == '\'')) {
            *reason = "name may contain only letters, digits, spaces, '-' and '''";
            return -1;
        }
        if (c == ' ' && (i + 1 == n || name[i + 1] == ' ')) {
            *reason = "name may not end with a space or contain double spaces";
            return -1;
        }
    }
    return 0;
}

static void pool_json(buf_t *b, const char *key, int cur, int max)
{
    buf_printf(b, ",\"%s\":{\"current\":%d,\"max\":%d}", key, cur, max);
}

void character_json(buf_t *b, const character_t *c, const char *current_speed, double speed_fps)
{
    character_derived_t d;
    character_derive(c, &d);
    buf_printf(b, "{\"id\":\"%lld\",\"name\":", (long long)c->id);
    buf_json_str(b, c->name);
    buf_puts(b, ",\"description\":");
    buf_json_str(b, c->description);
    /* no ability points, feats, abilities or loadouts are earned yet: the
     * original sends them empty too */
    buf_printf(b,
               ",\"level\":%d,\"experience\":%lld,\"abilityPoints\":0,\"isAlive\":%s,"
               "\"position\":{\"x\":",
               c->level, (long long)c->experience, c->is_alive ? "true" : "false");
    buf_json_num(b, c->x);
    buf_puts(b, ",\"y\":");
    buf_json_num(b, c->y);
    buf_puts(b, ",\"z\":");
    buf_json_num(b, c->z);
    buf_puts(b, "},\"heading\":");
    buf_json_num(b, c->heading);
    buf_puts(b, ",\"rotation\":{\"x\":0,\"y\":");
    buf_json_num(b, c->heading);
    buf_puts(b, ",\"z\":0},\"currentSpeed\":");
    buf_json_str(b, current_speed);
    buf_puts(b, ",\"currentSpeedFps\":");
    buf_json_num(b, speed_fps);
    buf_printf(b,
               ",\"coreStats\":{\"strength\":%d,\"vitality\":%d,\"dexterity\":%d,\"agility\":%d,"
               "\"intelligence\":%d,\"wisdom\":%d}",
               c->strength, c->vitality, c->dexterity, c->agility, c->intelligence, c->wisdom);
    buf_printf(b, ",\"derivedStats\":{\"maxHp\":%d,\"maxStamina\":%d,\"maxMana\":%d", d.max_hp,
               d.max_stamina, d.max_mana);
    const struct {
        const char *name;
        double v;
    } ds[] = {
        {"carryingCapacity", d.carrying_capacity},
        {"attackRating", d.attack_rating},
        {"defenseRating", d.defense_rating},
        {"magicAttack", d.magic_attack},
        {"magicDefense", d.magic_defense},
        {"physicalAccuracy", d.physical_accuracy},
        {"magicAccuracy", d.magic_accuracy},
        {"evasion", d.evasion},
        {"magicEvasion", d.magic_evasion},
        {"damageAbsorption", d.damage_absorption},
        {"magicAbsorption", d.magic_absorption},
        {"glancingBlowChance", d.glancing_blow_chance},
        {"initiative", d.initiative},
        {"movementSpeed", d.movement_speed},
        {"attackSpeedBonus", d.attack_speed_bonus},
        {"baseSpeed", d.base_speed},
    };
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        buf_printf(b, ",\"%s\":", ds[i].name);
        buf_json_num(b, ds[i].v);
    }
    buf_putc(b, '}');
    pool_json(b, "health", c->hp, d.max_hp);
    pool_json(b, "stamina", c->stamina, d.max_stamina);
    pool_json(b, "mana", c->mana, d.max_mana);
    buf_puts(b, ",\"unlockedFeats\":[],\"unlockedAbilities\":[],\"activeLoadout\":[],"
                "\"passiveLoadout\":[],\"specialLoadout\":[],\"zoneId\":");
    buf_json_str(b, c->zone_id);
    buf_putc(b, '}');
}

void character_summary_json(buf_t *b, const character_t *c)
{
    buf_printf(b, "{\"id\":\"%lld\",\"name\":", (long long)c->id);
    buf_json_str(b, c->name);
    buf_printf(b, ",\"level\":%d,\"lastPlayed\":%lld,\"location\":", c->level,
               (long long)c->last_played);
    buf_json_str(b, c->zone_id);
    buf_putc(b, '}');
}

/* Field table shared by the snapshot writer and reader so they cannot
 * drift apart. */
typedef enum { F_I64, F_INT, F_DBL, F_STR } field_kind_t;
typedef struct {
    const char *name;
    field_kind_t kind;
    size_t off, size;
} field_t;

#define FLD(n, k, m)                                                                               \
    {                                                                                              \
        n, k, offsetof(character_t, m), sizeof(((character_t *)0)->m)                              \
    }
static const field_t fields[] = {
    FLD("id", F_I64, id),
    FLD("accountId", F_I64, account_id),
    FLD("name", F_STR, name),
    FLD("description", F_STR, description),
    FLD("level", F_INT, level),
    FLD("experience", F_I64, experience),
    FLD("zoneId", F_STR, zone_id),
    FLD("x", F_DBL, x),
    FLD("y", F_DBL, y),
    FLD("z", F_DBL, z),
    FLD("heading", F_DBL, heading),
    FLD("strength", F_INT, strength),
    FLD("vitality", F_INT, vitality),
    FLD("dexterity", F_INT, dexterity),
    FLD("agility", F_INT, agility),
    FLD("intelligence", F_INT, intelligence),
    FLD("wisdom", F_INT, wisdom),
    FLD("hp", F_INT, hp),
    FLD("stamina", F_INT, stamina),
    FLD("mana", F_INT, mana),
    FLD("lastPlayed", F_I64, last_played),
    FLD("isAlive", F_INT, is_alive),
};

void character_state_json(buf_t *b, const character_t *c)
{
    const char *base = (const char *)c;
    buf_putc(b, '{');
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const field_t *f = &fields[i];
        if (i) buf_putc(b, ',');
        buf_json_str(b, f->name);
        buf_putc(b, ':');
        int64_t i64;
        int i32;
        double d;
        switch (f->kind) {
        case F_I64:
            memcpy(&i64, base + f->off, sizeof(i64));
            buf_printf(b, "%lld", (long long)i64);
            break;
        case F_INT:
            memcpy(&i32, base + f->off, sizeof(i32));
            buf_printf(b, "%d", i32);
            break;
        case F_DBL:
            memcpy(&d, base + f->off, sizeof(d));
            buf_printf(b, "%.17g", d);
            break;
        case F_STR:
            buf_json_str(b, base + f->off);
            break;
        }
    }
    buf_puts(b, ",\"items\":[");
    for (int i = 0; i < c->n_items && i < CHAR_INV_MAX; i++) {
        if (i) buf_putc(b, ',');
        buf_puts(b, "{\"itemId\":");
        buf_json_str(b, c->items[i].item_id);
        buf_printf(b, ",\"quantity\":%d,\"equipped\":%d}", c->items[i].quantity,
                   c->items[i].equipped);
    }
    buf_puts(b, "]}");
}

int character_state_parse(const void *obj, character_t *c)
{
    json_t *o = (json_t *)obj;
    char *base = (char *)c;
    memset(c, 0, sizeof(*c));
    if (!json_is_object(o)) return -1;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const field_t *f = &fields[i];
        json_t *v = json_object_get(o, f->name);
        if (f->kind == F_STR) {
            if (!json_is_string(v) || json_string_length(v) >= f->size) return -1;
            memcpy(base + f->off, json_string_value(v), json_string_length(v) + 1);
        } else if (f->kind == F_DBL) {
            if (!json_is_number(v)) return -1;
            double d = json_number_value(v);
            memcpy(base + f->off, &d, sizeof(d));
        } else {
            if (!json_is_integer(v)) return -1;
            int64_t i64 = (int64_t)json_integer_value(v);
            int i32 = (int)i64;
            if (f->kind == F_I64)
                memcpy(base + f->off, &i64, sizeof(i64));
            else
                memcpy(base + f->off, &i32, sizeof(i32));
        }
    }
    json_t *items = json_object_get(o, "items");
    if (!json_is_array(items) || json_array_size(items) > CHAR_INV_MAX) return -1;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i), *id = json_object_get(it, "itemId");
        json_t *q = json_object_get(it, "quantity"), *eq = json_object_get(it, "equipped");
        if (!json_is_string(id) || json_string_length(id) > CHAR_ITEM_MAX || !json_is_integer(q) ||
            json_integer_value(q) < 1 || !json_is_integer(eq))
            return -1;
        inv_slot_t *s = &c->items[c->n_items++];
        memcpy(s->item_id, json_string_value(id), json_string_length(id) + 1);
        s->quantity = (int)json_integer_value(q);
        s->equipped = json_integer_value(eq) != 0;
    }
    return 0;
}
