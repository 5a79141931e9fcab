/* item.c - inventories (docs/GAME.md "Items"): giving with stacks, using
 * consumables with per-item cooldowns, wielding weapons. An inventory is
 * part of character_t, so it travels and persists with the character. */
#include "sim_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int zsim__weapon_bonus(const zsim_t *sim, const character_t *c)
{
    int bonus = 0;
    for (int i = 0; i < c->n_items; i++) {
        const item_def_t *it = gamedata_item(zsim__data(sim), c->items[i].item_id);
        if (it && c->items[i].equipped && it->kind == ITEM_WEAPON) bonus += it->attack_bonus;
    }
    return bonus;
}

/* Inventory slot holding item `it`, or -1. */
static int slot_of(const character_t *c, const item_def_t *it)
{
    for (int i = 0; i < c->n_items; i++)
        if (strcmp(c->items[i].item_id, it->id) == 0) return i;
    return -1;
}

/* The item a player means by `name`: an id or a full name (any case), else
 * the one item it carries whose name holds `name` as a word part
 * ("/use potion"). NULL if none, or several different ones match. */
static const item_def_t *carried(const zsim_t *sim, const zplayer_t *p, const char *name)
{
    const gamedata_t *g = zsim__data(sim);
    const item_def_t *it = gamedata_item(g, name), *found = NULL;
    if (it || !name[0]) return it;
    for (int i = 0; i < p->ch.n_items; i++) {
        const item_def_t *c = gamedata_item(g, p->ch.items[i].item_id);
        if (!c || !strcasestr(c->name, name) || c == found) continue;
        if (found) return NULL; /* ambiguous */
        found = c;
    }
    return found;
}

static void slot_remove(character_t *c, int i)
{
    memmove(&c->items[i], &c->items[i + 1], (size_t)(c->n_items - i - 1) * sizeof(c->items[0]));
    c->n_items--;
    memset(&c->items[c->n_items], 0, sizeof(c->items[0]));
}

int zsim__item_give(zplayer_t *p, const item_def_t *it, int qty)
{
    character_t *c = &p->ch;
    int given = 0, stack = it->stack_max > 0 ? it->stack_max : 1;
    for (int i = 0; i < c->n_items && qty > 0; i++) {
        if (strcmp(c->items[i].item_id, it->id) != 0 || c->items[i].quantity >= stack) continue;
        int room = stack - c->items[i].quantity, k = qty < room ? qty : room;
        c->items[i].quantity += k;
        qty -= k;
        given += k;
    }
    while (qty > 0 && c->n_items < CHAR_INV_MAX) {
        inv_slot_t *s = &c->items[c->n_items++];
        memset(s, 0, sizeof(*s));
        snprintf(s->item_id, sizeof(s->item_id), "%s", it->id);
        s->quantity = qty < stack ? qty : stack;
        qty -= s->quantity;
        given += s->quantity;
    }
    return given;
}

int zsim__item_use(zsim_t *sim, zplayer_t *p, const char *name, buf_t *data, const char **why)
{
    const item_def_t *it = carried(sim, p, name);
    int i = it ? slot_of(&p->ch, it) : -1;
    if (i < 0) {
        *why = "You do not have that item.";
        return -1;
    }
    if (!p->ch.is_alive) {
        *why = "You are dead and cannot use items until you rise again.";
        return -1;
    }
    if (it->kind != ITEM_CONSUMABLE || it->resource == RES_NONE) {
        *why = it->kind == ITEM_WEAPON ? "That is a weapon: /equip it." : "That item has no use.";
        return -1;
    }
    int slot = -1;
    for (int k = 0; k < ZSIM_ITEM_CDS; k++) {
        if (p->item_cd[k].item == it) slot = k;
    }
    if (slot >= 0 && p->item_cd[slot].ready_ms > sim->time_ms) {
        *why = "That item is not ready yet: potions need 30 s between uses.";
        buf_printf(data, "{\"itemId\":\"%s\",\"remainingMs\":%.0f}", it->id,
                   ceil(p->item_cd[slot].ready_ms - sim->time_ms));
        return -1;
    }
    int *cur = it->resource == RES_HEALTH    ? &p->ch.hp
               : it->resource == RES_STAMINA ? &p->ch.stamina
                                             : &p->ch.mana;
    int max = it->resource == RES_HEALTH    ? p->d.max_hp
              : it->resource == RES_STAMINA ? p->d.max_stamina
                                            : p->d.max_mana;
    if (*cur >= max) {
        *why = it->resource == RES_HEALTH    ? "You are already at full health."
               : it->resource == RES_STAMINA ? "You are already at full stamina."
                                             : "You are already at full mana.";
        return -1;
    }
    int gain = max - *cur < it->value ? max - *cur : it->value;
    *cur += gain;
    if (--p->ch.items[i].quantity <= 0) slot_remove(&p->ch, i);
    int left = 0;
    for (int k = 0; k < p->ch.n_items; k++)
        if (strcmp(p->ch.items[k].item_id, it->id) == 0) left += p->ch.items[k].quantity;
    if (it->cooldown_s > 0) {
        if (slot < 0) /* a free or expired cooldown slot */
            for (int k = 0; k < ZSIM_ITEM_CDS && slot < 0; k++)
                if (!p->item_cd[k].item || p->item_cd[k].ready_ms <= sim->time_ms) slot = k;
        if (slot < 0) slot = 0;
        p->item_cd[slot].item = it;
        p->item_cd[slot].ready_ms = sim->time_ms + it->cooldown_s * 1000.0;
    }
    p->persist_dirty = 1;
    buf_puts(data, "{\"itemId\":");
    buf_json_str(data, it->id);
    buf_puts(data, ",\"itemName\":");
    buf_json_str(data, it->name);
    buf_printf(data, ",\"quantityRemaining\":%d,\"resource\":", left);
    buf_json_str(data, gamedata_resource_name(it->resource));
    buf_printf(data, ",\"value\":%d,\"current\":%d,\"max\":%d}", gain, *cur, max);
    zsim__send_pools(sim, p);
    return 0;
}

int zsim__item_equip(zsim_t *sim, zplayer_t *p, const char *name, int equip, const char **why)
{
    const gamedata_t *g = zsim__data(sim);
    const item_def_t *it = carried(sim, p, name);
    int i = it ? slot_of(&p->ch, it) : -1;
    if (!equip && i < 0 && (strcasecmp(name, "mainhand") == 0 || strcasecmp(name, "weapon") == 0))
        for (int k = 0; k < p->ch.n_items && i < 0; k++)
            if (p->ch.items[k].equipped) i = k, it = gamedata_item(g, p->ch.items[k].item_id);
    if (i < 0 || !it) {
        *why = "You do not have that item.";
        return -1;
    }
    if (!p->ch.is_alive) {
        *why = "You are dead and cannot do that until you rise again.";
        return -1;
    }
    if (it->kind != ITEM_WEAPON) {
        *why = "Only weapons can be equipped.";
        return -1;
    }
    if (equip && p->ch.items[i].equipped) {
        *why = "You already wield it.";
        return -1;
    }
    if (!equip && !p->ch.items[i].equipped) {
        *why = "You are not wielding it.";
        return -1;
    }
    if (equip) /* one main hand */
        for (int k = 0; k < p->ch.n_items; k++)
            p->ch.items[k].equipped = 0;
    p->ch.items[i].equipped = equip;
    p->weapon_bonus = zsim__weapon_bonus(sim, &p->ch);
    p->persist_dirty = 1;
    return 0;
}
