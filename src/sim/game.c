/* game.c - the player-facing game of one zone: abilities and auto-attacks
 * between players and NPCs by the rules of combat.c, combat events and
 * state, death and respawn, regeneration and mob drops (docs/GAME.md;
 * inventories are item.c).
 *
 * A fighter is any entity slot: a player (its combat state lives in
 * zplayer_t) or an NPC (sim->npc_fight[i]). One function, strike(), runs
 * every ability use, whoever the attacker: combat_action, /attack,
 * /cast, interact "attack", auto-attacks and combat_strike() for the NPC
 * AI all end there, so the rules cannot drift apart.
 *
 * Only mobs can be attacked (no PvP, no murdering merchants). What an
 * NPC does is its AI's (ai.c): it turns on whoever strikes it
 * (ai_provoke), chases, and its strikes come back here through
 * combat_strike(); an NPC fights with its definition's level and stats. */
#include "sim_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define REGEN_HP_PER_S      2 /* out of combat, alive: points per second */
#define REGEN_STAMINA_PER_S 5
#define REGEN_MANA_PER_S    3

/* Used when the zone server passes no data (unit tests, tools): the
 * reference's basic_attack and the starting kit. */
static const gamedata_t builtin = {
    .abilities = {{"basic_attack", "Basic Attack", "A plain weapon strike.", TARGET_ENEMY, 10, 100,
                   5, 0, 0, 0, DMG_PHYSICAL, 8, STAT_STRENGTH, 0.4, "", 0, "", 0, 0}},
    .n_abilities = 1,
    .items = {{"rusty_sword", "Rusty Sword", "A pitted old blade.", ITEM_WEAPON, 3, RES_NONE, 0, 0,
               1},
              {"health_potion", "Health Potion", "Restores 50 health.", ITEM_CONSUMABLE, 0,
               RES_HEALTH, 50, 30, 20}},
    .n_items = 2,
};

const gamedata_t *zsim__data(const zsim_t *sim)
{
    return sim->data ? sim->data : &builtin;
}

const char *zsim__condition(int hp, int max_hp, int alive)
{
    if (!alive || hp <= 0) return "dead";
    double f = max_hp > 0 ? (double)hp / max_hp : 1;
    return f >= 1     ? "unhurt"
           : f > 0.75 ? "lightly wounded"
           : f > 0.5  ? "wounded"
           : f > 0.25 ? "badly wounded"
                      : "near death";
}

/* ---------- fighters ---------- */

typedef struct fighter_s {
    int32_t slot;
    zent_t *e;
    zplayer_t *p; /* a player, or */
    znpc_t *n;    /* an NPC */
    combat_state_t *st;
    combat_stats_t stats;
} fighter_t;

static int fighter_of(zsim_t *sim, int32_t slot, fighter_t *f)
{
    memset(f, 0, sizeof(*f));
    if (slot < 0 || (size_t)slot >= sim->n_slots || !sim->ents[slot].pid) return -1;
    f->slot = slot;
    f->e = &sim->ents[slot];
    if (f->e->kind == ZENT_PLAYER) {
        f->p = f->e->owner;
        f->st = &f->p->fight;
        combat_stats_from(&f->stats, &f->p->ch, f->p->weapon_bonus);
    } else {
        f->n = f->e->owner;
        f->st = &sim->npc_fight[f->n->index - 1];
        const npcdef_t *d = f->n->def;
        character_t c;
        memset(&c, 0, sizeof(c));
        c.level = d->level;
        c.strength = d->strength;
        c.vitality = d->vitality;
        c.dexterity = d->dexterity;
        c.agility = d->agility;
        c.intelligence = d->intelligence;
        c.wisdom = d->wisdom;
        combat_stats_from(&f->stats, &c, 0);
    }
    return 0;
}

static int alive(const fighter_t *f)
{
    if (f->p) return f->p->ch.is_alive && f->p->ch.hp > 0;
    return f->n && f->n->alive;
}

static const char *fname(const fighter_t *f)
{
    return f->p ? f->p->ch.name : f->n->def->name;
}

static int max_hp(const fighter_t *f)
{
    return f->p ? f->p->d.max_hp : f->n->max_hp;
}

/* ---------- events ---------- */

static void ev_begin(zsim_t *sim, const char *type)
{
    buf_t *b = &sim->gbuf;
    buf_reset(b);
    buf_puts(b, "{\"eventType\":");
    buf_json_str(b, type);
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
}

static void ev_id(zsim_t *sim, const char *key, int64_t pid)
{
    buf_printf(&sim->gbuf, ",\"%s\":", key);
    roster_put_id(&sim->gbuf, pid);
}

static void ev_str(zsim_t *sim, const char *key, const char *v)
{
    buf_printf(&sim->gbuf, ",\"%s\":", key);
    buf_json_str(&sim->gbuf, v);
}

static void ev_int(zsim_t *sim, const char *key, long long v)
{
    buf_printf(&sim->gbuf, ",\"%s\":%lld", key, v);
}

/* Closes the event and sends it to one player. */
static void ev_send_to(zsim_t *sim, zplayer_t *p)
{
    buf_putc(&sim->gbuf, '}');
    zsim__send(sim, p->ref, "event", &sim->gbuf);
}

/* Closes the event and sends it to every player within
 * COMBAT_EVENT_RANGE_FT of the attacker's slot. */
static void ev_send_near(zsim_t *sim, int32_t slot)
{
    buf_putc(&sim->gbuf, '}');
    const zent_t *a = &sim->ents[slot];
    sim->ghits.n = 0;
    grid_query(&sim->grid, a->x, a->y, a->z, COMBAT_EVENT_RANGE_FT, &sim->ghits);
    int self_seen = 0;
    for (size_t i = 0; i < sim->ghits.n; i++) {
        const zent_t *e = &sim->ents[sim->ghits.v[i].id];
        if (e->kind != ZENT_PLAYER) continue;
        self_seen |= sim->ghits.v[i].id == slot;
        zsim__send(sim, ((const zplayer_t *)e->owner)->ref, "event", &sim->gbuf);
    }
    /* an attacker out of the grid (it should not be) still hears itself */
    if (!self_seen && a->kind == ZENT_PLAYER)
        zsim__send(sim, ((const zplayer_t *)a->owner)->ref, "event", &sim->gbuf);
}

void zsim__send_pools(zsim_t *sim, zplayer_t *p)
{
    buf_t *b = &sim->gbuf;
    buf_reset(b);
    buf_puts(b, "{\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_printf(b,
               ",\"character\":{\"health\":{\"current\":%d,\"max\":%d},\"stamina\":{\"current\":%d,"
               "\"max\":%d},\"mana\":{\"current\":%d,\"max\":%d},\"isAlive\":%s}}",
               p->ch.hp, p->d.max_hp, p->ch.stamina, p->d.max_stamina, p->ch.mana, p->d.max_mana,
               p->ch.is_alive ? "true" : "false");
    zsim__send(sim, p->ref, "state_update", b);
}

static void send_combat_state(zsim_t *sim, zplayer_t *p)
{
    buf_t *b = &sim->gbuf;
    const combat_state_t *st = &p->fight;
    buf_reset(b);
    buf_puts(b, "{\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_printf(b, ",\"combat\":{\"atb\":{\"current\":%d,\"max\":%d},\"autoAttack\":{\"current\":",
               (int)floor(st->atb), (int)COMBAT_ATB_MAX);
    buf_json_num(b, st->auto_timer_s);
    buf_printf(b, ",\"max\":%g},\"inCombat\":%s", COMBAT_AUTO_PERIOD_S,
               st->in_combat ? "true" : "false");
    if (st->auto_target) {
        buf_puts(b, ",\"autoAttackTarget\":");
        roster_put_id(b, st->auto_target);
    }
    int any = 0;
    for (int i = 0; i < COMBAT_CHARGE_TYPES; i++) {
        if (!st->charges[i].type[0]) continue;
        buf_puts(b, any++ ? "," : ",\"specialCharges\":{");
        buf_json_str(b, st->charges[i].type);
        buf_printf(b, ":%d", st->charges[i].count);
    }
    if (any) buf_putc(b, '}');
    buf_puts(b, "}}");
    zsim__send(sim, p->ref, "state_update", b);
}

/* combat_error to a player attacker (NPCs have nobody to tell). */
static void combat_error(zsim_t *sim, const fighter_t *a, int err, const ability_def_t *ab,
                         const char *narrative)
{
    if (!a->p) return;
    ev_begin(sim, "combat_error");
    ev_id(sim, "attackerId", a->e->pid);
    ev_str(sim, "reason", combat_err_reason(err));
    if (ab) ev_str(sim, "abilityId", ab->id);
    if (err == COMBAT_ERR_CHARGES && ab) {
        ev_str(sim, "chargeType", ab->consumes_charge);
        ev_int(sim, "required", ab->consumes_amount);
        ev_int(sim, "current", combat_charges(a->st, ab->consumes_charge));
    }
    if (err == COMBAT_ERR_COOLDOWN && ab)
        ev_int(sim, "remainingMs", (long long)ceil(combat_cooldown_left(a->st, ab, sim->time_ms)));
    if (narrative) ev_str(sim, "narrative", narrative);
    ev_send_to(sim, a->p);
}

/* ---------- death ---------- */

/* Everyone auto-attacking `pid` stops (the attackers that are players are told). */
static void clear_autos_on(zsim_t *sim, int64_t pid, const char *reason)
{
    for (size_t i = 0; i < sim->n_players; i++) {
        zplayer_t *q = sim->players[i];
        if (q->fight.auto_target != pid) continue;
        q->fight.auto_target = 0;
        ev_begin(sim, "auto_attack_stopped");
        ev_str(sim, "reason", reason);
        ev_id(sim, "targetId", pid);
        ev_str(sim, "narrative",
               strcmp(reason, "target_dead") == 0 ? "Your foe has fallen; you lower your weapon."
                                                  : "Your foe is gone; you lower your weapon.");
        ev_send_to(sim, q);
    }
    for (int i = 0; i < sim->n_npcs; i++)
        if (sim->npc_fight[i].auto_target == pid) sim->npc_fight[i].auto_target = 0;
}

static void roll_loot(zsim_t *sim, zplayer_t *killer, const znpc_t *n)
{
    const gamedata_t *g = zsim__data(sim);
    for (int i = 0; i < g->n_loot; i++) {
        const loot_def_t *l = &g->loot[i];
        if (strcmp(l->source, "*") != 0 && strcasecmp(l->source, n->def->name) != 0 &&
            strcmp(l->source, n->def->def_id) != 0)
            continue;
        if (combat_rand(&sim->rng) * 100.0 >= l->chance_pct) continue;
        const item_def_t *it = gamedata_item(g, l->item_id);
        if (!it) continue;
        int span = l->qty_max - l->qty_min + 1;
        int qty = l->qty_min + (span > 1 ? (int)(combat_rand(&sim->rng) * span) : 0);
        if (qty < 1) qty = 1;
        int got = zsim__item_give(killer, it, qty);
        if (got <= 0) continue;
        killer->persist_dirty = 1;
        char narrative[160];
        snprintf(narrative, sizeof(narrative), "You loot %d x %s from %s.", got, it->name,
                 n->def->name);
        ev_begin(sim, "loot");
        ev_str(sim, "itemId", it->id);
        ev_str(sim, "itemName", it->name);
        ev_int(sim, "quantity", got);
        ev_str(sim, "narrative", narrative);
        ev_send_to(sim, killer);
    }
}

static void slay(zsim_t *sim, fighter_t *a, fighter_t *t)
{
    char narrative[200];
    int64_t pid = t->e->pid;
    if (t->p) {
        zplayer_t *p = t->p;
        p->ch.hp = 0;
        p->ch.is_alive = 0;
        p->respawn_at_ms = sim->time_ms + sim->cfg.respawn_delay_ms;
        p->persist_dirty = 1;
        p->speed_fps = 0;
        p->gait = SPEED_STOP;
        p->move = MV_NONE;
        snprintf(narrative, sizeof(narrative),
                 "%s falls to %s and lies still. (%s rises again in %d s.)", p->ch.name, fname(a),
                 p->ch.name, (sim->cfg.respawn_delay_ms + 999) / 1000);
    } else {
        int64_t victim = t->n->target_pid;
        int32_t victim_slot = t->n->target_slot;
        npc_damage(t->n, t->n->hp > 0 ? t->n->hp : 1, sim->time_ms);
        zsim__touch_victim(sim, victim_slot, victim); /* no longer aggroed on anyone */
        snprintf(narrative, sizeof(narrative), "%s is slain by %s.", t->n->def->name, fname(a));
    }
    ev_begin(sim, "combat_death");
    ev_id(sim, "targetId", pid);
    ev_id(sim, "attackerId", a->e->pid);
    if (t->p) ev_int(sim, "respawnInMs", sim->cfg.respawn_delay_ms);
    ev_str(sim, "narrative", narrative);
    ev_send_near(sim, a->slot);
    /* out of combat: the dead keep nothing of the fight but ATB and charges */
    t->st->in_combat = 0;
    t->st->auto_target = 0;
    t->st->auto_timer_s = 0;
    clear_autos_on(sim, pid, "target_dead");
    if (t->p) {
        zsim__touch_victim(sim, t->slot, pid); /* out of combat: dangerState */
        zsim__send_pools(sim, t->p);
        send_combat_state(sim, t->p);
    } else {
        zsim__ent_unplace(sim, t->slot); /* out of rosters until it respawns (npc.c) */
        if (a->p) roll_loot(sim, a->p, t->n);
    }
}

/* ---------- the one strike path ---------- */

static void enter_combat(zsim_t *sim, fighter_t *a, fighter_t *t)
{
    int started = !a->st->in_combat || !t->st->in_combat;
    /* a player entering combat is in danger (hostiles_near, sim.c) */
    if (a->p && !a->st->in_combat) zsim__touch_victim(sim, a->slot, a->e->pid);
    if (t->p && !t->st->in_combat) zsim__touch_victim(sim, t->slot, t->e->pid);
    a->st->in_combat = t->st->in_combat = 1;
    a->st->last_hostile_ms = t->st->last_hostile_ms = sim->time_ms;
    if (!started) return;
    char narrative[160];
    snprintf(narrative, sizeof(narrative), "%s and %s clash!", fname(a), fname(t));
    ev_begin(sim, "combat_start");
    ev_id(sim, "attackerId", a->e->pid);
    ev_id(sim, "targetId", t->e->pid);
    ev_str(sim, "narrative", narrative);
    ev_send_near(sim, a->slot);
}

/* Is t a valid target of ab for a? */
static int valid_target(const fighter_t *a, const fighter_t *t, const ability_def_t *ab)
{
    if (!alive(t)) return 0;
    if (ab->target == TARGET_ALLY) return a->p && t->p; /* heals: players, oneself included */
    if (t->slot == a->slot) return 0;
    if (a->p) return t->n && t->n->def->is_mob; /* players fight mobs only */
    return t->p != NULL;                        /* NPCs strike players */
}

static void apply(zsim_t *sim, fighter_t *a, fighter_t *t, const ability_def_t *ab, int base)
{
    combat_result_t r;
    combat_roll(ab, &a->stats, &t->stats, base, &sim->rng, &r);
    char narrative[240];
    if (ab->damage_type == DMG_HEAL) {
        int before = t->p->ch.hp;
        t->p->ch.hp += r.amount;
        if (t->p->ch.hp > t->p->d.max_hp) t->p->ch.hp = t->p->d.max_hp;
        t->p->persist_dirty = 1;
        snprintf(narrative, sizeof(narrative), "%s's %s restores %d health to %s.", fname(a),
                 ab->name, t->p->ch.hp - before, fname(t));
        ev_begin(sim, "combat_heal");
        ev_id(sim, "attackerId", a->e->pid);
        ev_id(sim, "targetId", t->e->pid);
        ev_str(sim, "abilityId", ab->id);
        ev_int(sim, "amount", t->p->ch.hp - before);
        ev_str(sim, "narrative", narrative);
        ev_send_near(sim, a->slot);
        zsim__send_pools(sim, t->p);
        return;
    }
    enter_combat(sim, a, t);
    if (r.outcome == OUTCOME_MISS) {
        snprintf(narrative, sizeof(narrative), "%s's %s misses %s.", fname(a), ab->name, fname(t));
        ev_begin(sim, "combat_miss");
        ev_id(sim, "attackerId", a->e->pid);
        ev_id(sim, "targetId", t->e->pid);
        ev_str(sim, "abilityId", ab->id);
        ev_str(sim, "narrative", narrative);
        ev_send_near(sim, a->slot);
    } else {
        static const char *const verbs[] = {
            "", "hits", "critically hits", "glances off", "pierces", "is deflected by"};
        snprintf(narrative, sizeof(narrative), "%s's %s %s %s for %d damage.", fname(a), ab->name,
                 verbs[r.outcome], fname(t), r.amount);
        ev_begin(sim, "combat_hit");
        ev_id(sim, "attackerId", a->e->pid);
        ev_id(sim, "targetId", t->e->pid);
        ev_str(sim, "abilityId", ab->id);
        ev_str(sim, "outcome", combat_outcome_name(r.outcome));
        ev_int(sim, "amount", r.amount);
        ev_int(sim, "baseDamage", r.base);
        ev_int(sim, "mitigatedDamage", r.base > r.amount ? r.base - r.amount : 0);
        int left = (t->p ? t->p->ch.hp : t->n->hp) - r.amount;
        ev_int(sim, "targetHp", left > 0 ? left : 0);
        ev_int(sim, "targetMaxHp", max_hp(t));
        ev_str(sim, "narrative", narrative);
        ev_send_near(sim, a->slot);
        if (t->p) {
            t->p->ch.hp = left > 0 ? left : 0;
            t->p->persist_dirty = 1;
            if (left > 0) zsim__send_pools(sim, t->p);
        } else if (left > 0) {
            t->n->hp = left;
        }
        if (left <= 0) {
            slay(sim, a, t);
            return;
        }
    }
    /* a struck creature turns on its attacker (its AI fights back) */
    if (t->n && a->p && ai_provoke(t->n, a->e->pid, a->slot, sim->time_ms))
        zsim__touch_victim(sim, a->slot, a->e->pid);
}

static int strike(zsim_t *sim, fighter_t *a, const ability_def_t *ab, int32_t tslot, int free_atb)
{
    if (!alive(a)) return COMBAT_ERR_DEAD;
    fighter_t t;
    if (fighter_of(sim, tslot, &t) < 0 || !valid_target(a, &t, ab)) return COMBAT_ERR_TARGET;
    if (tslot != a->slot && zsim__slot_distance(sim, a->slot, tslot) > ab->range_ft)
        return COMBAT_ERR_RANGE;
    int hp = a->p ? a->p->ch.hp : a->n->hp, sta = a->p ? a->p->ch.stamina : 0;
    int mana = a->p ? a->p->ch.mana : 0;
    int rc = combat_check(a->st, ab, sim->time_ms, free_atb, a->p != NULL, hp, sta, mana);
    if (rc != COMBAT_OK) return rc;
    combat_pay(a->st, ab, sim->time_ms, free_atb, a->p != NULL, &hp, &sta, &mana);
    if (a->p) {
        a->p->ch.hp = hp;
        a->p->ch.stamina = sta;
        a->p->ch.mana = mana;
        a->p->persist_dirty = 1;
    } else {
        a->n->hp = hp;
    }
    char narrative[160];
    snprintf(narrative, sizeof(narrative), "%s uses %s on %s.", fname(a), ab->name, fname(&t));
    ev_begin(sim, "combat_action");
    ev_id(sim, "attackerId", a->e->pid);
    ev_id(sim, "targetId", t.e->pid);
    ev_str(sim, "abilityId", ab->id);
    ev_str(sim, "abilityName", ab->name);
    ev_str(sim, "narrative", narrative);
    ev_send_near(sim, a->slot);

    int base = combat_base_damage(ab, &a->stats);
    if (ab->area_ft > 0 && ab->damage_type != DMG_HEAL) {
        /* every valid enemy within area_ft of the target shares the blow */
        const zent_t *c = t.e;
        sim->ghits.n = 0;
        grid_query(&sim->grid, c->x, c->y, c->z, ab->area_ft, &sim->ghits);
        int32_t slots[64];
        int n = 0;
        for (size_t i = 0; i < sim->ghits.n && n < 64; i++) {
            fighter_t o;
            if (fighter_of(sim, sim->ghits.v[i].id, &o) == 0 && valid_target(a, &o, ab))
                slots[n++] = o.slot;
        }
        int each = combat_area_share(base, n);
        for (int i = 0; i < n; i++) {
            fighter_t o;
            if (fighter_of(sim, slots[i], &o) == 0 && alive(&o)) apply(sim, a, &o, ab, each);
        }
    } else {
        apply(sim, a, &t, ab, base);
    }
    if (a->p) zsim__send_pools(sim, a->p);
    return COMBAT_OK;
}

int zsim__player_ability(zsim_t *sim, zplayer_t *p, const ability_def_t *ab, const char *target_id,
                         int set_auto, const char **why)
{
    static const char *const whys[] = {
        "",
        "No such target here (or it is dead, or not something you can use that on).",
        "Your target is out of range.",
        "That ability is still cooling down.",
        "Your ATB gauge is not full enough yet.",
        "You do not have enough charges for that.",
        "You do not have enough stamina or mana for that.",
        "You are dead and cannot act until you rise again.",
    };
    fighter_t a;
    fighter_of(sim, p->ent, &a);
    int32_t tslot = target_id && target_id[0]   ? zsim__target_slot(sim, target_id)
                    : ab->target == TARGET_ALLY ? p->ent
                                                : -1;
    int rc = alive(&a) ? strike(sim, &a, ab, tslot, 0) : COMBAT_ERR_DEAD;
    if (rc != COMBAT_OK) {
        const char *w = whys[-rc < 8 ? -rc : 1];
        combat_error(sim, &a, rc, ab, w);
        if (why) *why = w;
        return rc;
    }
    fighter_t t;
    if (set_auto && ab->target == TARGET_ENEMY && alive(&a) && fighter_of(sim, tslot, &t) == 0 &&
        alive(&t)) {
        p->fight.auto_target = t.e->pid;
        p->fight.auto_timer_s = 0;
    }
    return COMBAT_OK;
}

int zsim__player_disengage(zsim_t *sim, zplayer_t *p)
{
    (void)sim;
    if (!p->fight.in_combat) return 0;
    p->fight.auto_target = 0;
    p->fight.auto_timer_s = 0;
    return 1;
}

int combat_strike(zsim_t *sim, int npc_index, int64_t target_pid, const char *ability_id,
                  int free_atb)
{
    if (npc_index < 1 || npc_index > sim->n_npcs) return COMBAT_ERR_TARGET;
    const ability_def_t *ab = ability_id ? gamedata_ability(zsim__data(sim), ability_id) : NULL;
    if (!ab) ab = gamedata_ability(zsim__data(sim), "basic_attack");
    if (!ab) return COMBAT_ERR_TARGET;
    fighter_t a;
    if (fighter_of(sim, sim->npcs[npc_index - 1].ent, &a) < 0) return COMBAT_ERR_TARGET;
    char id[ZENT_ID_MAX];
    zent_id_format(target_pid, id);
    return strike(sim, &a, ab, zsim__target_slot(sim, id), free_atb);
}

/* ---------- the tick ---------- */

/* One auto-attack swing of fighter slot `slot` (basic_attack, no ATB). */
static void auto_swing(zsim_t *sim, int32_t slot)
{
    fighter_t a;
    if (fighter_of(sim, slot, &a) < 0 || !a.st->auto_target) return;
    const ability_def_t *ab = gamedata_ability(zsim__data(sim), "basic_attack");
    if (!ab) return;
    char id[ZENT_ID_MAX];
    zent_id_format(a.st->auto_target, id);
    int32_t t = zsim__target_slot(sim, id);
    if (t < 0) { /* gone: left the zone or died meanwhile */
        int64_t pid = a.st->auto_target;
        a.st->auto_target = 0;
        if (a.p) {
            ev_begin(sim, "auto_attack_stopped");
            ev_str(sim, "reason", "target_lost");
            ev_id(sim, "targetId", pid);
            ev_str(sim, "narrative", "Your foe is gone; you lower your weapon.");
            ev_send_to(sim, a.p);
        }
        return;
    }
    int rc = strike(sim, &a, ab, t, 1);
    if (rc == COMBAT_ERR_RANGE || rc == COMBAT_ERR_RESOURCES)
        combat_error(sim, &a, rc, ab,
                     rc == COMBAT_ERR_RANGE ? "Your foe is out of reach of your auto-attack."
                                            : "Too exhausted to swing.");
}

/* Gauge, auto-attack timer and timeout of one fighter; returns 1 if it
 * just left combat. */
static int fight_tick(zsim_t *sim, combat_state_t *st, int32_t slot)
{
    combat_atb_fill(st, sim->dt);
    if (!st->in_combat) return 0;
    if (sim->time_ms - st->last_hostile_ms >= COMBAT_TIMEOUT_MS) {
        st->in_combat = 0;
        st->auto_target = 0;
        st->auto_timer_s = 0;
        return 1;
    }
    if (!st->auto_target) return 0;
    st->auto_timer_s += sim->dt;
    if (st->auto_timer_s + 1e-9 >= COMBAT_AUTO_PERIOD_S) {
        st->auto_timer_s = 0;
        auto_swing(sim, slot);
    }
    return 0;
}

static void combat_end_event(zsim_t *sim, int32_t slot)
{
    ev_begin(sim, "combat_end");
    ev_id(sim, "entityId", sim->ents[slot].pid);
    ev_str(sim, "narrative", "The fight is over.");
    ev_send_near(sim, slot);
}

static void respawn(zsim_t *sim, zplayer_t *p)
{
    p->respawn_at_ms = 0;
    p->ch.is_alive = 1;
    p->ch.hp = p->d.max_hp;
    p->ch.stamina = p->d.max_stamina;
    p->ch.mana = p->d.max_mana;
    p->ch.x = sim->def.spawn_x;
    p->ch.y = sim->def.spawn_y;
    p->ch.z = sim->def.spawn_z;
    p->speed_fps = 0;
    p->gait = SPEED_STOP;
    p->move = MV_NONE;
    p->persist_dirty = 1;
    memset(&p->fight, 0, sizeof(p->fight));
    p->fight.atb = COMBAT_ATB_START;
    zsim__ent_place(sim, p->ent, p->ch.x, p->ch.y, p->ch.z);
    ev_begin(sim, "respawn");
    buf_puts(&sim->gbuf, ",\"position\":{\"x\":");
    buf_json_num(&sim->gbuf, p->ch.x);
    buf_puts(&sim->gbuf, ",\"y\":");
    buf_json_num(&sim->gbuf, p->ch.y);
    buf_puts(&sim->gbuf, ",\"z\":");
    buf_json_num(&sim->gbuf, p->ch.z);
    buf_putc(&sim->gbuf, '}');
    ev_str(sim, "narrative", "Breath returns. You rise again at the zone's gathering place.");
    ev_send_to(sim, p);
    zsim__send_pools(sim, p);
}

static void regen(zsim_t *sim, zplayer_t *p)
{
    p->regen_acc_s += sim->dt;
    if (p->regen_acc_s + 1e-9 < 1.0) return;
    p->regen_acc_s = 0;
    int before[3] = {p->ch.hp, p->ch.stamina, p->ch.mana};
    int *cur[3] = {&p->ch.hp, &p->ch.stamina, &p->ch.mana};
    const int max[3] = {p->d.max_hp, p->d.max_stamina, p->d.max_mana};
    const int rate[3] = {REGEN_HP_PER_S, REGEN_STAMINA_PER_S, REGEN_MANA_PER_S};
    int changed = 0;
    for (int i = 0; i < 3; i++) {
        if (*cur[i] < max[i]) *cur[i] += rate[i];
        if (*cur[i] > max[i]) *cur[i] = max[i];
        changed |= *cur[i] != before[i];
    }
    if (!changed) return;
    p->persist_dirty = 1;
    zsim__send_pools(sim, p);
}

void zsim__game_tick(zsim_t *sim)
{
    for (size_t i = 0; i < sim->n_players; i++) {
        zplayer_t *p = sim->players[i];
        if (!p->ch.is_alive) {
            if (p->respawn_at_ms > 0 && sim->time_ms >= p->respawn_at_ms) respawn(sim, p);
            continue;
        }
        int was = p->fight.in_combat;
        if (fight_tick(sim, &p->fight, p->ent)) {
            combat_end_event(sim, p->ent);
            zsim__touch_victim(sim, p->ent, sim->ents[p->ent].pid); /* dangerState */
        }
        if (was || p->fight.in_combat) send_combat_state(sim, p);
        if (!p->fight.in_combat && p->ch.is_alive) regen(sim, p);
    }
    for (int i = 0; i < sim->n_npcs; i++) {
        znpc_t *n = &sim->npcs[i];
        if (!n->alive) continue;
        if (fight_tick(sim, &sim->npc_fight[i], n->ent)) combat_end_event(sim, n->ent);
    }
}

/* ---------- entering ---------- */

void zsim__game_enter(zsim_t *sim, zplayer_t *p)
{
    memset(&p->fight, 0, sizeof(p->fight));
    p->fight.atb = COMBAT_ATB_START; /* the first attack is possible at once (docs/GAME.md) */
    if (p->ch.n_items < 0 || p->ch.n_items > CHAR_INV_MAX) p->ch.n_items = 0;
    p->weapon_bonus = zsim__weapon_bonus(sim, &p->ch);
    if (p->ch.hp > p->d.max_hp) p->ch.hp = p->d.max_hp;
    if (p->ch.hp < 0) p->ch.hp = 0;
    if (p->ch.hp == 0) p->ch.is_alive = 0;
    /* dead at login (died, then logged out): rises after the usual delay */
    p->respawn_at_ms = p->ch.is_alive ? 0 : sim->time_ms + sim->cfg.respawn_delay_ms;
}

int32_t zsim__find_by_name(zsim_t *sim, const char *name)
{
    for (size_t i = 0; i < sim->n_players; i++)
        if (strcasecmp(sim->players[i]->ch.name, name) == 0) return sim->players[i]->ent;
    for (int i = 0; i < sim->n_npcs; i++)
        if (sim->npcs[i].alive && strcasecmp(sim->npcs[i].def->name, name) == 0)
            return sim->npcs[i].ent;
    return -1;
}
