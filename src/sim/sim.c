/* sim.c - the simulation of one zone (see sim.h).
 *
 * Entities (players and NPCs) live in one slot array; the spatial grid
 * (grid.c) indexes slots by position and answers every range query.
 * A tick integrates movement, runs NPCs, hands players that walked over
 * a border to the host, then brings rosters up to date (roster.c).
 *
 * Roster dirty tracking: every change of position, presence or speech
 * stamps the grid cells it touches with the current epoch; a viewer's
 * roster is recomputed only if a cell within ROSTER_QUERY_RANGE changed
 * since the epoch of its last computation, and only when its update
 * interval (min(tick rate, maxUpdateRate)) has elapsed. Changes between
 * two sends to a client are thereby coalesced into one delta, computed
 * against exactly what that client was last told.
 *
 * Roster pass: nothing moves while it runs, so the grid is packed once
 * (grid_pack) and every due viewer reads its rows directly; viewers go
 * in grid order so neighbours' data stays in cache from one to the
 * next; with roster_threads > 1 they are shared out in chunks.
 *
 * Time: game logic runs on sim time (ticks x 1/tick_rate) so it is
 * deterministic; protocol timestamps are wall-clock ms.
 *
 * Chat: the sender is among the recipients of its own say/shout/emote/
 * cfh (distance 0), which doubles as the client's echo. A call for help
 * is heard within its range in danger or not, as the original's was. */
#include "sim_int.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define ZSIM_CELL_FT        50.0 /* grid cell side */
#define ZSIM_ENTRY_ENTITIES 256  /* world_entry.entities lists at most the nearest N */
/* Steps without `method` (the original clients: 10 ft every 2 s at walk)
 * spend a budget of travel time: it grows with sim time, up to
 * POS_MOVE_MAX_S banked (POS_MOVE_MIN_S on entry), and a step of d ft at
 * the named speed costs d / (POS_MOVE_TOLERANCE x speed) of it; a step may
 * overdraw it by POS_MOVE_SLACK_FT. Many small steps so cover no more than
 * one long walk would: the distance over any span is bounded by the time. */
#define POS_MOVE_MIN_S     2.0
#define POS_MOVE_MAX_S     10.0
#define POS_MOVE_TOLERANCE 1.5
#define POS_MOVE_SLACK_FT  2.0
#define ARRIVE_MIN_FT      0.5 /* walk-to arrives within max(this, 1.1 x one tick's step) */
#define STATS_WINDOW_S     60
#define ROSTER_CHUNK       32 /* viewers per pool work item */

#define ZSIM_NPC_REPLY_MS 2000.0 /* an NPC answers a /say at most this often */

static const double gait_mult[] = {
    [SPEED_STOP] = 0.0, [SPEED_WALK] = 1.0, [SPEED_JOG] = 2.0, [SPEED_RUN] = 3.5};
static const char *const speed_name[] = {
    [SPEED_STOP] = "stop", [SPEED_WALK] = "walk", [SPEED_JOG] = "jog", [SPEED_RUN] = "run"};

/* ---------- helpers ---------- */

static void send_buf(zsim_t *sim, uint64_t ref, const char *type, const buf_t *b)
{
    if (sim->hooks.send) sim->hooks.send(sim->hooks.ud, ref, type, b->data, b->len);
}

static void send_error(zsim_t *sim, zplayer_t *p, const char *code, const char *message,
                       const char *severity)
{
    buf_t *b = &sim->tmp;
    buf_reset(b);
    msg_error_fields(b, code, message, severity);
    if (strcmp(code, "MOVE_REJECTED") == 0) {
        buf_puts(b, ",\"position\":{\"x\":");
        buf_json_num(b, p->ch.x);
        buf_puts(b, ",\"y\":");
        buf_json_num(b, p->ch.y);
        buf_puts(b, ",\"z\":");
        buf_json_num(b, p->ch.z);
        buf_putc(b, '}');
    }
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_putc(b, '}');
    send_buf(sim, p->ref, "error", b);
}

static zplayer_t *find(const zsim_t *sim, uint64_t ref)
{
    zplayer_t *p = NULL;
    HASH_FIND(hh, sim->by_ref, &ref, sizeof(ref), p);
    return p;
}

void zsim__send(zsim_t *sim, uint64_t ref, const char *type, const buf_t *b)
{
    send_buf(sim, ref, type, b);
}

void zsim__error(zsim_t *sim, zplayer_t *p, const char *code, const char *message,
                 const char *severity)
{
    send_error(sim, p, code, message, severity);
}

zplayer_t *zsim__find(const zsim_t *sim, uint64_t ref)
{
    return find(sim, ref);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int32_t slot_alloc(zsim_t *sim)
{
    if (sim->n_free) return sim->free_slots[--sim->n_free];
    if (sim->n_slots == sim->slots_cap) {
        sim->slots_cap = sim->slots_cap ? sim->slots_cap * 2 : 64;
        sim->ents = wod_realloc(sim->ents, sim->slots_cap * sizeof(*sim->ents));
        sim->pids = wod_realloc(sim->pids, sim->slots_cap * sizeof(*sim->pids));
        sim->free_slots = wod_realloc(sim->free_slots, sim->slots_cap * sizeof(int32_t));
    }
    return (int32_t)sim->n_slots++;
}

static void slot_free(zsim_t *sim, int32_t slot)
{
    memset(&sim->ents[slot], 0, sizeof(sim->ents[slot]));
    sim->pids[slot] = 0;
    sim->free_slots[sim->n_free++] = slot;
}

static void ent_place(zsim_t *sim, int32_t slot, double x, double y, double z)
{
    zent_t *e = &sim->ents[slot];
    e->moved_seq = ++sim->move_seq; /* state_update: newer than what viewers were sent */
    e->x = x;
    e->y = y;
    e->z = z;
    if (e->in_grid)
        grid_move(&sim->grid, slot, x, y, z);
    else {
        grid_insert(&sim->grid, slot, x, y, z);
        e->in_grid = 1;
    }
}

static void ent_unplace(zsim_t *sim, int32_t slot)
{
    zent_t *e = &sim->ents[slot];
    if (!e->in_grid) return;
    grid_remove(&sim->grid, slot);
    e->in_grid = 0;
}

static double normalize_heading(double h)
{
    if (!isfinite(h)) return 0;
    h = fmod(h, 360.0);
    return h < 0 ? h + 360.0 : h;
}

/* NPCs aggroed on an entity, plus one if it is a player in combat
 * (dangerState: docs/GAME.md). NPCs are few per zone, so a scan beats
 * bookkeeping (and keeps the roster pass from touching every neighbour's
 * entity record). Whoever changes an aggro or a combat state touches the
 * victim's grid cell so its roster is recomputed. */
static int hostiles_near(const zsim_t *sim, const zent_t *e)
{
    int n = 0;
    for (int i = 0; i < sim->n_npcs; i++)
        n += sim->npcs[i].target_pid == e->pid && sim->npcs[i].alive;
    if (e->kind == ZENT_PLAYER) n += ((const zplayer_t *)e->owner)->fight.in_combat != 0;
    return n;
}

/* The player slot with this pid, or NULL. */
static zplayer_t *slot_player(zsim_t *sim, int32_t slot, int64_t pid)
{
    if (slot < 0 || (size_t)slot >= sim->n_slots) return NULL;
    zent_t *e = &sim->ents[slot];
    if (e->pid != pid || e->kind != ZENT_PLAYER || !e->in_grid) return NULL;
    return e->owner;
}

/* dangerState of player `pid` may have changed: recompute its roster. */
static void touch_victim(zsim_t *sim, int32_t slot, int64_t pid)
{
    zplayer_t *p = slot_player(sim, slot, pid);
    if (p) grid_touch(&sim->grid, p->ch.x, p->ch.z);
}

/* Sends the player's roster: full, or a delta if anything changed. A
 * compact client's goes as the bus kinds roster_compact (full) and
 * roster_compact_delta, which its gateway sends as binary frames. */
static void push_roster(zsim_t *sim, zplayer_t *p, int full)
{
    const zent_t *e = &sim->ents[p->ent];
    sim->hits.n = 0;
    grid_query(&sim->grid, e->x, e->y, e->z, ROSTER_QUERY_RANGE, &sim->hits);
    buf_reset(&sim->out);
    if (p->compact) {
        if (roster_compact_update(p->compact, &sim->scratch, sim->ents, sim->n_slots, p->ent,
                                  sim->hits.v, sim->hits.n, e->x, e->y, e->z, hostiles_near(sim, e),
                                  full, sim->ts, &sim->out))
            send_buf(sim, p->ref, full ? "roster_compact" : "roster_compact_delta", &sim->out);
        return;
    }
    if (roster_update(&p->roster, &sim->scratch, sim->ents, sim->n_slots, p->ent, sim->hits.v,
                      sim->hits.n, hostiles_near(sim, e), full, sim->ts, &sim->out))
        send_buf(sim, p->ref, full ? "proximity_roster" : "proximity_roster_delta", &sim->out);
}

/* ---------- lifecycle ---------- */

zsim_t *zsim_new(const zonedef_t *def, const zonedef_t *world, int n_world,
                 const zsim_config_t *cfg, const zsim_hooks_t *hooks)
{
    zsim_t *sim = wod_calloc(1, sizeof(*sim));
    sim->def = *def;
    sim->cfg = *cfg;
    if (sim->cfg.tick_rate <= 0) sim->cfg.tick_rate = 20;
    if (sim->cfg.roster_max_entities <= 0) sim->cfg.roster_max_entities = 64;
    if (hooks) sim->hooks = *hooks;
    sim->dt = 1.0 / sim->cfg.tick_rate;
    if (n_world > 0) {
        sim->world = wod_malloc((size_t)n_world * sizeof(*world));
        memcpy(sim->world, world, (size_t)n_world * sizeof(*world));
        sim->adjacent = wod_malloc((size_t)n_world * sizeof(int));
        for (int i = 0; i < n_world; i++)
            if (zonedef_adjacent(&sim->def, &sim->world[i])) sim->adjacent[sim->n_adjacent++] = i;
    }
    sim->n_world = n_world;
    grid_init(&sim->grid, def->size_x, def->size_z, ZSIM_CELL_FT);
    roster_scratch_init(&sim->scratch, sim->cfg.roster_max_entities);
    buf_init(&sim->out);
    buf_init(&sim->tmp);
    buf_init(&sim->gbuf);
    buf_init(&sim->cbuf);
    sim->pool = zpool_new(sim->cfg.roster_threads);
    sim->work = wod_calloc((size_t)zpool_threads(sim->pool), sizeof(*sim->work));
    for (int i = 0; i < zpool_threads(sim->pool); i++) {
        roster_scratch_init(&sim->work[i].scratch, sim->cfg.roster_max_entities);
        buf_init(&sim->work[i].out);
    }
    sim->ring_len = (size_t)sim->cfg.tick_rate * STATS_WINDOW_S;
    sim->tick_ms = wod_calloc(sim->ring_len, sizeof(float));
    sim->ts = clock_wall_ms();
    if (sim->cfg.mob_respawn_ms <= 0) sim->cfg.mob_respawn_ms = 120000;
    combat_rng_seed(&sim->rng, ai_seed(sim->cfg.rng_seed, def->id));
    if (sim->cfg.respawn_delay_ms <= 0) sim->cfg.respawn_delay_ms = ZSIM_RESPAWN_DEFAULT_MS;
    sim->data = cfg->data;
    return sim;
}

int zsim_add_npcs(zsim_t *sim, const npcdef_t *defs, int n)
{
    if (sim->cfg.disable_npcs || sim->n_npcs) return 0;
    int mine = 0;
    for (int i = 0; i < n; i++)
        mine += strcmp(defs[i].zone_id, sim->def.id) == 0;
    if (!mine) return 0;
    sim->npc_defs = wod_calloc((size_t)mine, sizeof(*sim->npc_defs));
    sim->npcs = wod_calloc((size_t)mine, sizeof(*sim->npcs));
    sim->npc_fight = wod_calloc((size_t)mine, sizeof(*sim->npc_fight));
    for (int i = 0; i < n; i++) {
        if (strcmp(defs[i].zone_id, sim->def.id) != 0) continue;
        npcdef_t *d = &sim->npc_defs[sim->n_npcs];
        *d = defs[i];
        d->x = clampd(d->x, 0, sim->def.size_x); /* a bad row must not put it off the grid */
        d->y = clampd(d->y, 0, sim->def.size_y);
        d->z = clampd(d->z, 0, sim->def.size_z);
        znpc_t *npc = &sim->npcs[sim->n_npcs];
        npc_init(npc, ++sim->n_npcs, d);
        npc->respawn_ms = d->respawn_ms > 0 ? d->respawn_ms : sim->cfg.mob_respawn_ms;
        npc->ent = slot_alloc(sim);
        zent_t *e = &sim->ents[npc->ent];
        memset(e, 0, sizeof(*e));
        zent_set_id(e, -(int64_t)npc->index);
        sim->pids[npc->ent] = e->pid;
        e->name = d->name;
        e->description = d->description;
        e->kind = ZENT_NPC;
        e->hostile = (uint8_t)d->hostile;
        e->interactive = !d->wildlife && d->n_lines > 0;
        e->wildlife = (uint8_t)d->wildlife;
        e->owner = npc;
        ent_place(sim, npc->ent, npc->x, npc->y, npc->z);
    }
    return sim->n_npcs;
}

static void player_destroy(zplayer_t *p)
{
    roster_free(&p->roster);
    if (p->compact) roster_compact_free(p->compact);
    free(p->compact);
    free(p);
}

void zsim_free(zsim_t *sim)
{
    if (!sim) return;
    HASH_CLEAR(hh, sim->by_ref);
    for (size_t i = 0; i < sim->n_players; i++)
        player_destroy(sim->players[i]);
    free(sim->players);
    free(sim->crossers);
    free(sim->due);
    for (int i = 0; i < zpool_threads(sim->pool); i++) {
        roster_scratch_free(&sim->work[i].scratch);
        buf_free(&sim->work[i].out);
        free(sim->work[i].recs);
    }
    free(sim->work);
    zpool_free(sim->pool);
    free(sim->npcs);
    free(sim->npc_fight);
    free(sim->npc_defs);
    free(sim->ents);
    free(sim->pids);
    free(sim->threats);
    free(sim->free_slots);
    free(sim->world);
    free(sim->adjacent);
    free(sim->tick_ms);
    grid_free(&sim->grid);
    grid_hits_free(&sim->hits);
    roster_scratch_free(&sim->scratch);
    buf_free(&sim->out);
    buf_free(&sim->tmp);
    buf_free(&sim->gbuf);
    buf_free(&sim->cbuf);
    grid_hits_free(&sim->ghits);
    free(sim);
}

const zonedef_t *zsim_def(const zsim_t *sim)
{
    return &sim->def;
}

/* ---------- enter / leave ---------- */

static int cmp_hit(const void *a, const void *b)
{
    float x = ((const grid_hit_t *)a)->d2, y = ((const grid_hit_t *)b)->d2;
    return (x > y) - (x < y);
}

static void put_entry_entity(buf_t *b, const zent_t *e)
{
    buf_puts(b, "{\"id\":");
    roster_put_id(b, e->pid);
    buf_puts(b, e->kind == ZENT_NPC ? ",\"type\":\"npc\",\"name\":"
                                    : ",\"type\":\"player\",\"name\":");
    buf_json_str(b, e->name);
    buf_puts(b, ",\"position\":{\"x\":");
    buf_json_num(b, e->x);
    buf_puts(b, ",\"y\":");
    buf_json_num(b, e->y);
    buf_puts(b, ",\"z\":");
    buf_json_num(b, e->z);
    buf_puts(b, "},\"description\":");
    buf_json_str(b, e->description ? e->description : "");
    if (e->interactive) buf_puts(b, ",\"interactive\":true");
    if (e->hostile) buf_puts(b, ",\"hostile\":true");
    buf_puts(b, ",\"isAlive\":true"); /* the dead are not in the grid */
    if (e->kind == ZENT_NPC) {
        const znpc_t *n = e->owner;
        buf_printf(b, ",\"level\":%d,\"family\":\"%s\"", n->def->level,
                   n->def->wildlife ? "wildlife" : "humanoid");
    }
    buf_putc(b, '}');
}

static void send_world_entry(zsim_t *sim, zplayer_t *p)
{
    buf_t *b = &sim->out;
    buf_reset(b);
    buf_printf(b, "{\"characterId\":\"%lld\"", (long long)p->ch.id); /* as character.id */
    buf_puts(b, ",\"entityId\":");
    roster_put_id(b, p->ch.id);
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_puts(b, ",\"character\":");
    character_json(b, &p->ch, speed_name[p->gait], p->speed_fps);
    buf_puts(b, ",\"zone\":");
    zonedef_json(b, &sim->def);
    buf_puts(b, ",\"entities\":[");
    const zent_t *me = &sim->ents[p->ent];
    sim->hits.n = 0;
    grid_query(&sim->grid, me->x, me->y, me->z, ZSIM_SEE_RANGE, &sim->hits);
    qsort(sim->hits.v, sim->hits.n, sizeof(*sim->hits.v), cmp_hit);
    int listed = 0;
    for (size_t i = 0; i < sim->hits.n && listed < ZSIM_ENTRY_ENTITIES; i++) {
        if (sim->hits.v[i].id == p->ent) continue;
        if (listed++) buf_putc(b, ',');
        put_entry_entity(b, &sim->ents[sim->hits.v[i].id]);
    }
    buf_puts(b, "],\"exits\":[");
    for (int i = 0; i < sim->n_adjacent; i++) {
        const zonedef_t *w = &sim->world[sim->adjacent[i]];
        if (i) buf_putc(b, ',');
        buf_puts(b, "{\"direction\":");
        buf_json_str(b, zonedef_direction(&sim->def, w));
        buf_puts(b, ",\"zoneId\":");
        buf_json_str(b, w->id);
        buf_puts(b, ",\"name\":");
        buf_json_str(b, w->name);
        buf_puts(b, ",\"description\":");
        buf_json_str(b, w->description);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
    send_buf(sim, p->ref, "world_entry", b);
}

static void send_zone_change(zsim_t *sim, zplayer_t *p)
{
    buf_t *b = &sim->out;
    buf_reset(b);
    buf_puts(b, "{\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_puts(b, ",\"zone\":");
    zonedef_json(b, &sim->def);
    buf_puts(b, ",\"character\":");
    character_json(b, &p->ch, speed_name[p->gait], p->speed_fps);
    buf_putc(b, '}');
    send_buf(sim, p->ref, "state_update", b);
}

int zsim_player_enter(zsim_t *sim, uint64_t ref, const character_t *ch, double max_update_rate,
                      int entry)
{
    if (find(sim, ref)) return -1;
    sim->ts = clock_wall_ms();
    zplayer_t *p = wod_calloc(1, sizeof(*p));
    p->ref = ref;
    p->ch = *ch;
    snprintf(p->ch.zone_id, sizeof(p->ch.zone_id), "%s", sim->def.id);
    if (!isfinite(p->ch.x) || !isfinite(p->ch.z) ||
        !zonedef_contains_local(&sim->def, p->ch.x, p->ch.z)) {
        p->ch.x = sim->def.spawn_x;
        p->ch.y = sim->def.spawn_y;
        p->ch.z = sim->def.spawn_z;
    }
    p->ch.y = isfinite(p->ch.y) ? clampd(p->ch.y, 0, sim->def.size_y) : sim->def.spawn_y;
    p->ch.heading = normalize_heading(p->ch.heading);
    character_derive(&p->ch, &p->d);
    zsim__game_enter(sim, p);
    p->gait = SPEED_STOP;
    p->last_pos_move_ms = sim->time_ms;
    p->step_credit_s = POS_MOVE_MIN_S;
    double rate = max_update_rate;
    if (!(rate > 0) || rate > sim->cfg.tick_rate) rate = sim->cfg.tick_rate;
    p->send_interval_ms = 1000.0 / rate;
    p->persist_dirty = 1;
    p->crossing = -1;
    roster_init(&p->roster, sim->cfg.roster_max_entities);

    p->ent = slot_alloc(sim);
    zent_t *e = &sim->ents[p->ent];
    memset(e, 0, sizeof(*e));
    zent_set_id(e, p->ch.id > 0 ? p->ch.id : (int64_t)(ref & INT64_MAX));
    sim->pids[p->ent] = e->pid;
    e->name = p->ch.name;
    e->description = p->ch.description;
    e->kind = ZENT_PLAYER;
    e->owner = p;
    ent_place(sim, p->ent, p->ch.x, p->ch.y, p->ch.z);

    if (sim->n_players == sim->players_cap) {
        sim->players_cap = sim->players_cap ? sim->players_cap * 2 : 16;
        /* arrays of zplayer_t pointers */
        // NOLINTNEXTLINE(bugprone-sizeof-expression)
        sim->players = wod_realloc(sim->players, sim->players_cap * sizeof(*sim->players));
        // NOLINTNEXTLINE(bugprone-sizeof-expression)
        sim->crossers = wod_realloc(sim->crossers, sim->players_cap * sizeof(*sim->crossers));
        // NOLINTNEXTLINE(bugprone-sizeof-expression)
        sim->due = wod_realloc(sim->due, sim->players_cap * sizeof(*sim->due));
    }
    p->idx = sim->n_players;
    sim->players[sim->n_players++] = p;
    HASH_ADD(hh, sim->by_ref, ref, sizeof(p->ref), p);

    if (entry)
        send_world_entry(sim, p);
    else
        send_zone_change(sim, p);
    push_roster(sim, p, 1);
    /* one epoch back: anything else changing before the next tick is re-checked */
    p->roster_epoch = sim->grid.epoch - 1;
    p->next_send_ms = sim->time_ms;
    p->state_epoch = sim->grid.epoch - 1;
    p->state_seq = sim->move_seq; /* world_entry told it where everything is */
    p->next_state_ms = sim->time_ms;
    return 0;
}

static void remove_player(zsim_t *sim, zplayer_t *p)
{
    ent_unplace(sim, p->ent);
    slot_free(sim, p->ent);
    HASH_DEL(sim->by_ref, p);
    size_t last = sim->n_players - 1;
    if (p->idx != last) {
        sim->players[p->idx] = sim->players[last];
        sim->players[p->idx]->idx = p->idx;
    }
    sim->n_players--;
    player_destroy(p);
}

int zsim_player_leave(zsim_t *sim, uint64_t ref, character_t *out)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    if (out) *out = p->ch;
    remove_player(sim, p);
    return 0;
}

int zsim_player_set_client(zsim_t *sim, uint64_t ref, unsigned flags)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    /* set right after zsim_player_enter, before any neighbour's roster lists it */
    sim->ents[p->ent].machine = (flags & MSG_CLIENT_MACHINE) != 0;
    p->wants_positions = (flags & MSG_CLIENT_POSITIONS) != 0;
    if ((flags & MSG_CLIENT_COMPACT) && !p->compact) {
        /* zsim_player_enter sent the entry roster as JSON; from here on
         * the client is compact, starting with a full frame */
        p->compact = wod_malloc(sizeof(*p->compact));
        roster_compact_init(p->compact, sim->cfg.roster_max_entities, ROSTER_COMPACT_BYTES_PER_S,
                            1000.0 / p->send_interval_ms);
        sim->ts = clock_wall_ms();
        push_roster(sim, p, 1);
    }
    return 0;
}

const character_t *zsim_player(const zsim_t *sim, uint64_t ref)
{
    zplayer_t *p = find(sim, ref);
    return p ? &p->ch : NULL;
}

uint64_t zsim_find_character(const zsim_t *sim, int64_t character_id)
{
    for (size_t i = 0; i < sim->n_players; i++)
        if (sim->players[i]->ch.id == character_id) return sim->players[i]->ref;
    return 0;
}

/* ---------- movement and borders ---------- */

/* Moves a player to a zone-local point. Outside the zone's box the point
 * either lies in another zone the player may enter now (queued to cross:
 * returns 1) or is clamped to the box. */
static int place_player(zsim_t *sim, zplayer_t *p, double x, double y, double z)
{
    const zonedef_t *d = &sim->def;
    y = clampd(y, 0, d->size_y);
    if (x < 0 || x > d->size_x || z < 0 || z > d->size_z) {
        int w = zonedef_find_world(sim->world, sim->n_world, d->origin_x + x, d->origin_z + z);
        if (w >= 0 && strcmp(sim->world[w].id, d->id) != 0 &&
            (!sim->hooks.can_cross || sim->hooks.can_cross(sim->hooks.ud, sim->world[w].id))) {
            p->ch.x = x; /* kept for the conversion into the target zone */
            p->ch.y = y;
            p->ch.z = z;
            p->crossing = w;
            return 1;
        }
        x = clampd(x, 0, d->size_x);
        z = clampd(z, 0, d->size_z);
    }
    if (x == p->ch.x && y == p->ch.y && z == p->ch.z) return 0;
    p->ch.x = x;
    p->ch.y = y;
    p->ch.z = z;
    p->persist_dirty = 1;
    ent_place(sim, p->ent, x, y, z);
    return 0;
}

/* Hands a queued player to the zone it walked into. Frees p. */
static void cross(zsim_t *sim, zplayer_t *p)
{
    const zonedef_t *to = &sim->world[p->crossing];
    character_t st = p->ch;
    double wx = sim->def.origin_x + p->ch.x, wz = sim->def.origin_z + p->ch.z;
    st.x = clampd(wx - to->origin_x, 0, to->size_x);
    st.z = clampd(wz - to->origin_z, 0, to->size_z);
    st.y = clampd(st.y, 0, to->size_y);
    snprintf(st.zone_id, sizeof(st.zone_id), "%s", to->id);
    uint64_t ref = p->ref;
    remove_player(sim, p);
    log_debug(sim->def.id, "player %llu crossed into %s", (unsigned long long)ref, st.zone_id);
    if (sim->hooks.crossed) sim->hooks.crossed(sim->hooks.ud, ref, &st, st.zone_id);
}

static int32_t target_slot(zsim_t *sim, const char *target_id);

/* Ends the current movement; a targeted one (a distance, a point, an
 * entity) or any stop tells the mover why with `movement_complete`. */
static void end_move(zsim_t *sim, zplayer_t *p, const char *reason, int tell)
{
    int targeted = p->move == MV_DISTANCE || p->move == MV_POINT || p->move == MV_TARGET;
    int was_moving = p->move != MV_NONE && p->speed_fps > 0;
    p->move = MV_NONE;
    p->gait = SPEED_STOP;
    p->speed_fps = 0;
    p->persist_dirty = 1;
    if (!(tell && (targeted || was_moving))) return;
    static const struct {
        const char *reason, *text;
    } texts[] = {{"command", "You stop."},
                 {"distance_reached", "You have gone the distance."},
                 {"target_reached", "You arrive."},
                 {"target_lost", "You lose sight of your target and stop."}};
    const char *narrative = texts[0].text;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (strcmp(texts[i].reason, reason) == 0) narrative = texts[i].text;
    buf_t *b = &sim->tmp;
    buf_reset(b);
    buf_puts(b, "{\"eventType\":\"movement_complete\",\"reason\":");
    buf_json_str(b, reason);
    buf_puts(b, ",\"narrative\":");
    buf_json_str(b, narrative);
    buf_puts(b, ",\"position\":{\"x\":");
    buf_json_num(b, p->ch.x);
    buf_puts(b, ",\"y\":");
    buf_json_num(b, p->ch.y);
    buf_puts(b, ",\"z\":");
    buf_json_num(b, p->ch.z);
    buf_puts(b, "},\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_putc(b, '}');
    send_buf(sim, p->ref, "event", b);
}

int zsim_player_move(zsim_t *sim, uint64_t ref, const msg_move_t *m)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    sim->ts = clock_wall_ms();
    if (!p->ch.is_alive) { /* the dead lie still until they rise (docs/GAME.md) */
        send_error(sim, p, "DEAD", "You are dead and cannot move until you rise again.", "warning");
        return -1;
    }
    move_speed_t g = m->has_speed ? m->speed : SPEED_WALK;
    if (g < SPEED_STOP || g > SPEED_RUN) g = SPEED_WALK;
    if (m->method == MOVE_POSITION) {
        /* the original clients' step: the server owns positions; refuse
         * what the legs can't do at the named speed */
        double dx = m->x - p->ch.x, dz = m->z - p->ch.z;
        double dist = sqrt(dx * dx + dz * dz);
        double elapsed = (sim->time_ms - p->last_pos_move_ms) / 1000.0;
        double fps =
            POS_MOVE_TOLERANCE * gait_mult[g == SPEED_STOP ? SPEED_WALK : g] * p->d.base_speed;
        p->step_credit_s = fmin(p->step_credit_s + fmax(elapsed, 0), POS_MOVE_MAX_S);
        p->last_pos_move_ms = sim->time_ms;
        double allowed = fps * fmax(p->step_credit_s, 0) + POS_MOVE_SLACK_FT;
        if (!isfinite(dist) || !isfinite(m->y) || dist > allowed) {
            char msg[128];
            snprintf(msg, sizeof(msg), "Moved %.1f ft but could cover at most %.1f ft",
                     isfinite(dist) ? dist : -1.0, allowed);
            send_error(sim, p, "MOVE_REJECTED", msg, "warning");
            return -1;
        }
        p->step_credit_s -= dist / fps;
        end_move(sim, p, "command", 1);
        if (dist > 0.01) p->ch.heading = normalize_heading(atan2(dx, dz) * 180.0 / M_PI);
        if (place_player(sim, p, m->x, m->y, m->z)) cross(sim, p);
        return 0;
    }
    if (g == SPEED_STOP) {
        if (m->method == MOVE_HEADING && m->heading >= 0)
            p->ch.heading = normalize_heading(m->heading);
        end_move(sim, p, "command", 1);
        return 0;
    }
    if (m->method == MOVE_FOLLOW && m->target_id[0]) {
        int32_t slot = target_slot(sim, m->target_id);
        if (slot < 0 || slot == p->ent) {
            send_error(sim, p, "TARGET_NOT_FOUND", "No such target here", "warning");
            return -1;
        }
    }
    end_move(sim, p, "command", 1); /* a new move ends the old one */
    p->gait = g;
    p->speed_fps = gait_mult[g] * p->d.base_speed;
    if (m->method == MOVE_FOLLOW && m->target_id[0]) {
        p->move = MV_TARGET;
        zent_id_parse(m->target_id, &p->target_pid);
        p->range_ft = m->range_ft;
    } else if (m->method == MOVE_FOLLOW) {
        p->move = MV_POINT;
        p->tx = m->x;
        p->tz = m->z;
    } else {
        p->ch.heading = normalize_heading(m->heading);
        p->move = m->distance_ft > 0 ? MV_DISTANCE : MV_HEADING;
        p->move_left_ft = m->distance_ft;
    }
    return 0;
}

/* One tick of a player's movement. Returns 1 if it walked over a border. */
static int step_player(zsim_t *sim, zplayer_t *p)
{
    double step = p->speed_fps * sim->dt;
    double x = p->ch.x, z = p->ch.z;
    const char *done = NULL;
    if (p->move == MV_POINT || p->move == MV_TARGET) {
        double gx = p->tx, gz = p->tz, stop_at = 0;
        if (p->move == MV_TARGET) {
            char id[ZENT_ID_MAX];
            zent_id_format(p->target_pid, id);
            int32_t slot = target_slot(sim, id);
            if (slot < 0) {
                end_move(sim, p, "target_lost", 1);
                return 0;
            }
            gx = sim->ents[slot].x;
            gz = sim->ents[slot].z;
            stop_at = p->range_ft;
        }
        double dx = gx - x, dz = gz - z, d = sqrt(dx * dx + dz * dz);
        double tol = fmax(ARRIVE_MIN_FT, 1.1 * step);
        if (p->move == MV_TARGET && d <= fmax(stop_at, tol)) {
            end_move(sim, p, "target_reached", 1);
            return 0;
        }
        if (d > 1e-9) p->ch.heading = normalize_heading(atan2(dx, dz) * 180.0 / M_PI);
        if (p->move == MV_POINT && d <= tol) { /* arrived: snap */
            x = gx;
            z = gz;
            done = "target_reached";
        } else if (p->move == MV_TARGET && d - step <= stop_at) {
            x += dx / d * (d - stop_at);
            z += dz / d * (d - stop_at);
            done = "target_reached";
        } else {
            x += dx / d * step;
            z += dz / d * step;
        }
    } else {
        if (p->move == MV_DISTANCE && step >= p->move_left_ft) {
            step = p->move_left_ft;
            done = "distance_reached";
        }
        p->move_left_ft -= step;
        double h = p->ch.heading * (M_PI / 180.0);
        x += sin(h) * step;
        z += cos(h) * step;
    }
    if (place_player(sim, p, x, p->ch.y, z)) return 1;
    if (done) end_move(sim, p, done, 1);
    return 0;
}

/* state_update {entities:{updated}} with the absolute position of each
 * entity within see range that moved since this viewer's last one. */
static void push_state(zsim_t *sim, zplayer_t *p)
{
    const zent_t *me = &sim->ents[p->ent];
    sim->hits.n = 0;
    grid_query(&sim->grid, me->x, me->y, me->z, ZSIM_SEE_RANGE, &sim->hits);
    buf_t *b = &sim->tmp;
    buf_reset(b);
    int n = 0;
    for (size_t i = 0; i < sim->hits.n && n < sim->cfg.roster_max_entities; i++) {
        const zent_t *e = &sim->ents[sim->hits.v[i].id];
        if (e->moved_seq <= p->state_seq) continue;
        buf_puts(b, n++ ? ",{\"id\":" : "{\"timestamp\":");
        if (n == 1) {
            roster_put_u64(b, sim->ts);
            buf_puts(b, ",\"entities\":{\"updated\":[{\"id\":");
        }
        roster_put_id(b, e->pid);
        buf_puts(b, ",\"name\":");
        buf_json_str(b, e->name);
        buf_puts(b, e->kind == ZENT_NPC ? ",\"type\":\"npc\"" : ",\"type\":\"player\"");
        buf_puts(b, ",\"position\":{\"x\":");
        buf_json_num(b, e->x);
        buf_puts(b, ",\"y\":");
        buf_json_num(b, e->y);
        buf_puts(b, ",\"z\":");
        buf_json_num(b, e->z);
        buf_puts(b, "}}");
    }
    p->state_seq = sim->move_seq;
    if (!n) return;
    buf_puts(b, "]}}");
    send_buf(sim, p->ref, "state_update", b);
}

/* ---------- chat ---------- */

static double channel_range(chat_channel_t c)
{
    switch (c) {
    case CHAT_SAY:
        return roster_channel_range[RCH_SAY];
    case CHAT_SHOUT:
        return roster_channel_range[RCH_SHOUT];
    case CHAT_EMOTE:
        return roster_channel_range[RCH_EMOTE];
    case CHAT_CFH:
        return roster_channel_range[RCH_CFH];
    default:
        return -1;
    }
}

/* Delivers one `chat` to every player within `range` of the zone-local
 * point: the reference's fields {channel, sender, senderId, message,
 * timestamp}, then ours (senderName, senderType, content, distance).
 * The payload is built once; only distance changes. */
static void deliver(zsim_t *sim, chat_channel_t ch, int64_t sender_pid, const char *sender_name,
                    const char *sender_type, const char *content, double x, double y, double z,
                    double range)
{
    buf_t *b = &sim->out;
    buf_reset(b);
    buf_puts(b, "{\"channel\":");
    buf_json_str(b, msg_chat_channel_name(ch));
    buf_puts(b, ",\"sender\":");
    buf_json_str(b, sender_name);
    buf_puts(b, ",\"senderId\":");
    roster_put_id(b, sender_pid);
    buf_puts(b, ",\"message\":");
    buf_json_str(b, content);
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_puts(b, ",\"senderName\":");
    buf_json_str(b, sender_name);
    buf_puts(b, ",\"senderType\":");
    buf_json_str(b, sender_type);
    buf_puts(b, ",\"content\":");
    buf_json_str(b, content);
    buf_puts(b, ",\"distance\":");
    size_t prefix = b->len;
    sim->hits.n = 0;
    grid_query(&sim->grid, x, y, z, range, &sim->hits);
    for (size_t i = 0; i < sim->hits.n; i++) {
        const zent_t *e = &sim->ents[sim->hits.v[i].id];
        if (e->kind != ZENT_PLAYER) continue;
        b->len = prefix;
        double dx = e->x - x, dy = e->y - y, dz = e->z - z;
        roster_put_tenths(b, lround(sqrt(dx * dx + dy * dy + dz * dz) * 10.0));
        buf_putc(b, '}');
        send_buf(sim, ((const zplayer_t *)e->owner)->ref, "chat", b);
    }
}

/* Distance from a world point to a zone's box on the x/z plane. */
static double dist_to_zone(const zonedef_t *z, double wx, double wz)
{
    double cx = clampd(wx, z->origin_x, z->origin_x + z->size_x);
    double cz = clampd(wz, z->origin_z, z->origin_z + z->size_z);
    return sqrt((wx - cx) * (wx - cx) + (wz - cz) * (wz - cz));
}

/* Does `text` contain `word` (ASCII, ignoring case)? */
static int mentions(const char *text, const char *word, size_t wlen)
{
    for (; *text; text++) {
        size_t i = 0;
        while (i < wlen && text[i] && (text[i] | 0x20) == (word[i] | 0x20))
            i++;
        if (i == wlen) return 1;
    }
    return 0;
}

/* Does a /say address this NPC: a word of its name (4+ letters, so not
 * "Old") appears in it? Keeps NPCs from chiming into every conversation. */
static int addressed(const znpc_t *n, const char *text)
{
    const char *w = n->def->name;
    while (*w) {
        size_t len = strcspn(w, " ");
        if (len >= 4 && mentions(text, w, len)) return 1;
        w += len;
        w += strspn(w, " ");
    }
    return 0;
}

/* NPCs in say range that are addressed answer with their next line. */
static void npcs_answer(zsim_t *sim, const zent_t *speaker, const char *text)
{
    double range = roster_channel_range[RCH_SAY];
    for (int i = 0; i < sim->n_npcs; i++) {
        znpc_t *n = &sim->npcs[i];
        if (!n->alive || n->def->wildlife || n->def->n_lines <= 0) continue;
        double dx = n->x - speaker->x, dy = n->y - speaker->y, dz = n->z - speaker->z;
        if (dx * dx + dy * dy + dz * dz > range * range || !addressed(n, text)) continue;
        if (n->last_reply_ms > 0 && sim->time_ms - n->last_reply_ms < ZSIM_NPC_REPLY_MS) continue;
        n->last_reply_ms = sim->time_ms > 0 ? sim->time_ms : 1e-3;
        if (sim->hooks.npc_addressed &&
            sim->hooks.npc_addressed(sim->hooks.ud, sim->def.id, n->index, n->def->name,
                                     n->def->description, speaker->name, text))
            continue; /* voiced later through zsim_npc_say */
        zsim_npc_say(sim, n->index, NULL);
    }
}

int zsim_npc_say(zsim_t *sim, int npc_index, const char *text)
{
    if (npc_index < 1 || npc_index > sim->n_npcs) return -1;
    znpc_t *n = &sim->npcs[npc_index - 1];
    if (!n->alive || n->def->wildlife) return -1;
    if (!text && !(text = npc_next_line(n))) return -1;
    sim->ts = clock_wall_ms();
    zent_t *e = &sim->ents[n->ent];
    e->spoke_seq = ++sim->speak_seq;
    grid_touch(&sim->grid, e->x, e->z);
    deliver(sim, CHAT_SAY, e->pid, n->def->name, "npc", text, e->x, e->y, e->z,
            roster_channel_range[RCH_SAY]);
    return 0;
}

int zsim_player_chat(zsim_t *sim, uint64_t ref, const msg_chat_t *m)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    sim->ts = clock_wall_ms();
    double range = channel_range(m->channel);
    if (range < 0) {
        send_error(sim, p, "INVALID_CHANNEL", "This channel is not local chat", "error");
        return -1;
    }
    if (!m->message[0]) {
        send_error(sim, p, "EMPTY_MESSAGE", "Message is empty", "warning");
        return -1;
    }
    zent_t *e = &sim->ents[p->ent];
    e->spoke_seq = ++sim->speak_seq;
    grid_touch(&sim->grid, e->x, e->z); /* lastSpeaker may change for its neighbours */
    deliver(sim, m->channel, e->pid, p->ch.name, "player", m->message, e->x, e->y, e->z, range);
    if (m->channel == CHAT_SAY) npcs_answer(sim, e, m->message);

    if (m->channel == CHAT_SHOUT && sim->hooks.shout_out && sim->n_adjacent) {
        double wx = sim->def.origin_x + e->x, wz = sim->def.origin_z + e->z;
        msg_shout_t s;
        memset(&s, 0, sizeof(s));
        s.sender_id = p->ch.id;
        snprintf(s.sender_name, sizeof(s.sender_name), "%s", p->ch.name);
        snprintf(s.sender_type, sizeof(s.sender_type), "player");
        s.channel = m->channel;
        s.wx = wx;
        s.wy = e->y;
        s.wz = wz;
        snprintf(s.content, sizeof(s.content), "%s", m->message);
        for (int i = 0; i < sim->n_adjacent; i++) {
            const zonedef_t *w = &sim->world[sim->adjacent[i]];
            if (dist_to_zone(w, wx, wz) <= range) sim->hooks.shout_out(sim->hooks.ud, w->id, &s);
        }
    }
    return 0;
}

void zsim_remote_shout(zsim_t *sim, const msg_shout_t *s)
{
    double range = channel_range(s->channel);
    if (range < 0) return;
    sim->ts = clock_wall_ms();
    int64_t pid = strcmp(s->sender_type, "npc") == 0 ? -s->sender_id : s->sender_id;
    deliver(sim, s->channel, pid, s->sender_name, s->sender_type, s->content,
            s->wx - sim->def.origin_x, s->wy, s->wz - sim->def.origin_z, range);
}

/* ---------- interaction and combat ---------- */

static void send_event(zsim_t *sim, zplayer_t *p, const char *event_type, int64_t target_pid,
                       const char *narrative, const char *extra_json)
{
    buf_t *b = &sim->tmp;
    buf_reset(b);
    buf_puts(b, "{\"eventType\":");
    buf_json_str(b, event_type);
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
    if (target_pid) {
        buf_puts(b, ",\"targetId\":");
        roster_put_id(b, target_pid);
    }
    if (narrative) {
        buf_puts(b, ",\"narrative\":");
        buf_json_str(b, narrative);
    }
    if (extra_json) buf_puts(b, extra_json);
    buf_putc(b, '}');
    send_buf(sim, p->ref, "event", b);
}

/* Resolves a protocol target id to a live entity slot, or -1. */
static int32_t target_slot(zsim_t *sim, const char *target_id)
{
    int64_t pid;
    if (zent_id_parse(target_id, &pid) < 0) return -1;
    if (pid < 0) {
        if (pid < -(int64_t)sim->n_npcs) return -1; /* also "npc-99999999999999999999" */
        int i = (int)(-pid) - 1;
        if (!sim->npcs[i].alive) return -1;
        return sim->npcs[i].ent;
    }
    uint64_t ref = zsim_find_character(sim, pid);
    zplayer_t *t = ref ? find(sim, ref) : NULL;
    return t ? t->ent : -1;
}

static double slot_distance(zsim_t *sim, int32_t a, int32_t b)
{
    const zent_t *x = &sim->ents[a], *y = &sim->ents[b];
    double dx = x->x - y->x, dy = x->y - y->y, dz = x->z - y->z;
    return sqrt(dx * dx + dy * dy + dz * dz);
}

void zsim__ent_place(zsim_t *sim, int32_t slot, double x, double y, double z)
{
    ent_place(sim, slot, x, y, z);
}

void zsim__ent_unplace(zsim_t *sim, int32_t slot)
{
    ent_unplace(sim, slot);
}

int zsim__hostiles_near(const zsim_t *sim, const zent_t *e)
{
    return hostiles_near(sim, e);
}

int32_t zsim__target_slot(zsim_t *sim, const char *target_id)
{
    return target_slot(sim, target_id);
}

double zsim__slot_distance(zsim_t *sim, int32_t a, int32_t b)
{
    return slot_distance(sim, a, b);
}

void zsim__touch_victim(zsim_t *sim, int32_t slot, int64_t pid)
{
    touch_victim(sim, slot, pid);
}

/* The ability a combat_action names; basic_attack if none or unknown
 * (the reference's fallback). */
static const ability_def_t *ability_named(const zsim_t *sim, const char *id)
{
    const ability_def_t *ab = id && id[0] ? gamedata_ability(zsim__data(sim), id) : NULL;
    return ab ? ab : gamedata_ability(zsim__data(sim), "basic_attack");
}

/* Attacks through the game's one path (game.c) once the target is
 * something that may be attacked at all: mobs, not players or
 * townsfolk. */
static int attack(zsim_t *sim, zplayer_t *p, int32_t slot, const char *ability)
{
    const zent_t *t = &sim->ents[slot];
    if (t->kind != ZENT_NPC) {
        send_error(sim, p, "INVALID_TARGET", "Players cannot be attacked here", "warning");
        return -1;
    }
    if (!((const znpc_t *)t->owner)->def->is_mob) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%s is friendly and cannot be attacked", t->name);
        send_error(sim, p, "INVALID_TARGET", msg, "warning");
        return -1;
    }
    const ability_def_t *ab = ability_named(sim, ability);
    if (!ab) return -1;
    return zsim__player_ability(sim, p, ab, t->idstr, 0, NULL) == COMBAT_OK ? 0 : -1;
}

/* The slot of `target_id` if it names something other than the player;
 * otherwise the player is told TARGET_NOT_FOUND and -1 returned. */
static int32_t other_target(zsim_t *sim, zplayer_t *p, const char *target_id)
{
    int32_t slot = target_slot(sim, target_id);
    int64_t pid;
    if (slot < 0 && zent_id_parse(target_id, &pid) == 0 && pid < 0 && -pid <= sim->n_npcs) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%s is dead", sim->npcs[-pid - 1].def->name);
        send_error(sim, p, "TARGET_DEAD", msg, "warning");
        return -1;
    }
    if (slot < 0 || slot == p->ent) {
        send_error(sim, p, "TARGET_NOT_FOUND", "No such target here", "warning");
        return -1;
    }
    return slot;
}

int zsim_player_interact(zsim_t *sim, uint64_t ref, const msg_interact_t *m)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    sim->ts = clock_wall_ms();
    int32_t slot = other_target(sim, p, m->target_id);
    if (slot < 0) return -1;
    const zent_t *t = &sim->ents[slot];
    double d = slot_distance(sim, p->ent, slot);
    if (m->action == ACT_ATTACK) return attack(sim, p, slot, "basic_attack");
    if (d > (m->action == ACT_EXAMINE ? ZSIM_SEE_RANGE : ZSIM_INTERACT_RANGE)) {
        send_error(sim, p, "OUT_OF_RANGE", "Target is too far away", "warning");
        return -1;
    }
    char narrative[512];
    znpc_t *n = t->kind == ZENT_NPC ? t->owner : NULL;
    switch (m->action) {
    case ACT_EXAMINE:
        snprintf(narrative, sizeof(narrative), "%s: %s", t->name,
                 t->description && t->description[0] ? t->description : "Nothing remarkable.");
        send_event(sim, p, "examine", t->pid, narrative, NULL);
        break;
    case ACT_TALK: {
        if (!n) {
            snprintf(narrative, sizeof(narrative), "You greet %s.", t->name);
            send_event(sim, p, "dialogue", t->pid, narrative, NULL);
            break;
        }
        const char *line = npc_next_line(n);
        if (!line) {
            snprintf(narrative, sizeof(narrative), "%s cannot talk: it is an animal", t->name);
            send_error(sim, p, "CANNOT_TALK", narrative, "warning");
            return -1;
        }
        snprintf(narrative, sizeof(narrative), "%s says, \"%s\"", t->name, line);
        buf_t extra;
        buf_init(&extra);
        buf_puts(&extra, ",\"speaker\":");
        buf_json_str(&extra, t->name);
        buf_puts(&extra, ",\"line\":");
        buf_json_str(&extra, line);
        send_event(sim, p, "dialogue", t->pid, narrative, extra.data);
        buf_free(&extra);
        break;
    }
    default:
        snprintf(narrative, sizeof(narrative), "%s has nothing for you right now.", t->name);
        send_event(sim, p, "interaction", t->pid, narrative, NULL);
        break;
    }
    return 0;
}

int zsim_player_combat(zsim_t *sim, uint64_t ref, const msg_combat_t *m)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    sim->ts = clock_wall_ms();
    const ability_def_t *ab = ability_named(sim, m->ability_id);
    if (ab && ab->target == TARGET_ALLY) /* heals: oneself or another player */
        return zsim__player_ability(sim, p, ab, m->target_id, 0, NULL) == COMBAT_OK ? 0 : -1;
    int32_t slot = other_target(sim, p, m->target_id);
    if (slot < 0) return -1;
    return attack(sim, p, slot, m->ability_id);
}

int zsim_player_command(zsim_t *sim, uint64_t ref, const char *text)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    sim->ts = clock_wall_ms();
    zsim__command(sim, p, text);
    return 0;
}

/* ---------- tick ---------- */

/* The one place an NPC hurts a player: its AI decided to strike (ai.c),
 * the combat engine rolls it by the players' rules (game.c). */
static void npc_strike(zsim_t *sim, znpc_t *n, zplayer_t *target)
{
    combat_strike(sim, n->index, sim->ents[target->ent].pid, "basic_attack", 1);
}

/* What NPC n sees this tick (ai.h): its target, or the nearest living
 * player within its aggro radius. Returns the target's player, if any. */
static zplayer_t *npc_view(zsim_t *sim, const znpc_t *n, ai_view_t *v)
{
    memset(v, 0, sizeof(*v));
    v->near_slot = -1;
    if (n->target_pid) {
        zplayer_t *t = slot_player(sim, n->target_slot, n->target_pid);
        if (!t || t->ch.hp <= 0) return NULL;
        v->has_target = 1;
        v->tx = t->ch.x;
        v->ty = t->ch.y;
        v->tz = t->ch.z;
        return t;
    }
    if (!n->def->hostile || n->def->aggro_radius <= 0 || n->state == AI_LEASH) return NULL;
    sim->hits.n = 0;
    grid_query(&sim->grid, n->x, n->y, n->z, n->def->aggro_radius, &sim->hits);
    float best = 0;
    for (size_t i = 0; i < sim->hits.n; i++) {
        const grid_hit_t *h = &sim->hits.v[i];
        const zent_t *e = &sim->ents[h->id];
        if (e->kind != ZENT_PLAYER || ((const zplayer_t *)e->owner)->ch.hp <= 0) continue;
        if (v->near_pid && (h->d2 > best || (h->d2 == best && e->pid > v->near_pid))) continue;
        best = h->d2;
        v->near_pid = e->pid;
        v->near_slot = h->id;
    }
    return NULL;
}

static void tick_npcs(zsim_t *sim)
{
    for (int i = 0; i < sim->n_npcs; i++) {
        znpc_t *n = &sim->npcs[i];
        if (!n->alive) {
            if (npc_respawn_due(n, sim->time_ms)) {
                npc_respawn(n);
                memset(&sim->npc_fight[i], 0, sizeof(sim->npc_fight[i]));
                ent_place(sim, n->ent, n->x, n->y, n->z);
            }
            continue;
        }
        ai_view_t v;
        ai_out_t out;
        zplayer_t *t = npc_view(sim, n, &v);
        int32_t old_slot = n->target_slot;
        ai_step(n, &v, sim->def.size_x, sim->def.size_z, sim->dt, sim->time_ms, &sim->rng.s, &out);
        if (out.moved) ent_place(sim, n->ent, n->x, n->y, n->z);
        if (out.aggro_changed) { /* the victims' dangerState changed */
            if (out.dropped) touch_victim(sim, old_slot, out.dropped);
            if (n->target_pid) touch_victim(sim, n->target_slot, n->target_pid);
        }
        if (out.strike && t) npc_strike(sim, n, t);
    }
}

/* Fills sim->threats for the roster pass: what hostiles_near counts for
 * every viewer, in one walk over the NPCs instead of one per viewer
 * (players x NPCs per tick: a quarter of a 5,000-player, 2,000-NPC tick). */
static void count_threats(zsim_t *sim)
{
    if (sim->threats_cap < sim->n_slots) {
        sim->threats_cap = sim->slots_cap;
        sim->threats = wod_realloc(sim->threats, sim->threats_cap * sizeof(*sim->threats));
    }
    memset(sim->threats, 0, sim->n_slots * sizeof(*sim->threats));
    for (int i = 0; i < sim->n_npcs; i++) {
        const znpc_t *n = &sim->npcs[i];
        if (!n->alive || !n->target_pid) continue;
        int32_t s = n->target_slot;
        if (s < 0 || (size_t)s >= sim->n_slots || sim->ents[s].pid != n->target_pid) {
            s = -1; /* its target left this tick: whoever has that pid now, if anyone */
            for (size_t k = 0; k < sim->n_players && s < 0; k++)
                if (sim->ents[sim->players[k]->ent].pid == n->target_pid) s = sim->players[k]->ent;
            if (s < 0) continue;
        }
        sim->threats[s]++;
    }
}

static int threats_near(const zsim_t *sim, const zplayer_t *p)
{
    return (int)sim->threats[p->ent] + (p->fight.in_combat != 0);
}

/* Pool job: roster deltas of due viewers [begin, end). Reads the world,
 * writes only the viewers' roster state and this worker's buffers. */
static void roster_job(void *ctx, int worker, size_t begin, size_t end)
{
    zsim_t *sim = ctx;
    zwork_t *wk = &sim->work[worker];
    for (size_t i = begin; i < end; i++) {
        zplayer_t *p = sim->due[i];
        /* viewers are scattered in memory: start loading the next ones */
        if (i + 2 < end) {
            __builtin_prefetch(&sim->due[i + 2]->ent);
            __builtin_prefetch(&sim->due[i + 2]->roster);
        }
        if (i + 1 < end) {
            const zplayer_t *q = sim->due[i + 1];
            __builtin_prefetch(&sim->ents[q->ent]);
            __builtin_prefetch(q->compact ? (const void *)q->compact : (const void *)q->roster.e);
        }
        const zent_t *e = &sim->ents[p->ent];
        size_t off = wk->out.len;
        int sent =
            p->compact
                ? roster_compact_update_grid(p->compact, &wk->scratch, sim->ents, sim->pids,
                                             sim->n_slots, p->ent, &sim->grid, e->x, e->y, e->z,
                                             threats_near(sim, p), 0, sim->ts, &wk->out)
                : roster_update_grid(&p->roster, &wk->scratch, sim->ents, sim->pids, sim->n_slots,
                                     p->ent, &sim->grid, e->x, e->y, e->z, threats_near(sim, p), 0,
                                     sim->ts, &wk->out);
        if (!sent) continue;
        if (wk->n_recs == wk->recs_cap) {
            wk->recs_cap = wk->recs_cap ? wk->recs_cap * 2 : 256;
            wk->recs = wod_realloc(wk->recs, wk->recs_cap * sizeof(*wk->recs));
        }
        wk->recs[wk->n_recs++] =
            (struct zrec_s){p->ref, off, wk->out.len - off, p->compact != NULL};
    }
}

/* Fills sim->due with the n_due players marked is_due, in grid order
 * (cell by cell, row-major): consecutive viewers then share most of
 * their neighbours, so the grid items and entities a roster reads stay
 * in cache instead of being fetched again for every viewer. Packs the
 * grid for the roster pass, during which nothing moves. */
static void order_due(zsim_t *sim, size_t n_due)
{
    grid_t *g = &sim->grid;
    grid_pack(g);
    size_t k = 0;
    for (size_t i = 0; i < g->count && k < n_due; i++) {
        const zent_t *e = &sim->ents[g->packed[i].id];
        if (e->kind != ZENT_PLAYER) continue;
        zplayer_t *p = e->owner;
        if (!p->is_due) continue;
        p->is_due = 0;
        sim->due[k++] = p;
    }
    for (size_t i = 0; i < sim->n_players && k < n_due; i++) { /* not in the grid */
        zplayer_t *p = sim->players[i];
        if (!p->is_due) continue;
        p->is_due = 0;
        sim->due[k++] = p;
    }
    wod_assert(k == n_due);
}

void zsim_tick(zsim_t *sim, double now_ms)
{
    (void)now_ms; /* game logic runs on sim time; see the banner */
    double t0 = clock_mono_ms();
    sim->ts = clock_wall_ms();
    sim->ticks++;
    sim->time_ms += 1000.0 * sim->dt;

    /* 1. movement; crossings are queued so the array stays put while we walk it */
    sim->n_crossers = 0;
    for (size_t i = 0; i < sim->n_players; i++) {
        zplayer_t *p = sim->players[i];
        if (p->speed_fps <= 0 || p->move == MV_NONE) continue;
        if (step_player(sim, p)) sim->crossers[sim->n_crossers++] = p;
    }
    /* 2. NPCs, then the game: gauges, auto-attacks, regeneration, respawns */
    tick_npcs(sim);
    zsim__game_tick(sim);
    /* 3. borders */
    for (size_t i = 0; i < sim->n_crossers; i++)
        cross(sim, sim->crossers[i]);
    /* 4. absolute positions of what moved in each player's view, at its own rate */
    for (size_t i = 0; i < sim->n_players; i++) {
        zplayer_t *p = sim->players[i];
        /* a compact client's frames carry positions */
        if (!p->wants_positions || p->compact || sim->time_ms + 1e-6 < p->next_state_ms) continue;
        const zent_t *e = &sim->ents[p->ent];
        if (!grid_changed_since(&sim->grid, e->x, e->z, ZSIM_SEE_RANGE, p->state_epoch)) continue;
        p->state_epoch = sim->grid.epoch;
        p->next_state_ms = sim->time_ms + p->send_interval_ms;
        push_state(sim, p);
    }
    /* 5. rosters of players near a change, at each player's own rate */
    uint32_t epoch = sim->grid.epoch;
    size_t n_due = 0;
    for (size_t i = 0; i < sim->n_players; i++) {
        zplayer_t *p = sim->players[i];
        if (sim->time_ms + 1e-6 < p->next_send_ms) continue;
        const zent_t *e = &sim->ents[p->ent];
        /* far moves a compact client's budget held back are sent later */
        if (!grid_changed_since(&sim->grid, e->x, e->z, ROSTER_QUERY_RANGE, p->roster_epoch) &&
            !(p->compact && p->compact->pending))
            continue;
        p->roster_epoch = epoch;
        p->next_send_ms = sim->time_ms + p->send_interval_ms;
        p->is_due = 1;
        n_due++;
    }
    if (n_due) {
        order_due(sim, n_due);
        count_threats(sim);
    }
    zpool_run(sim->pool, roster_job, sim, n_due, ROSTER_CHUNK);
    for (int w = 0; w < zpool_threads(sim->pool); w++) {
        zwork_t *wk = &sim->work[w];
        for (size_t i = 0; i < wk->n_recs; i++)
            if (sim->hooks.send)
                sim->hooks.send(sim->hooks.ud, wk->recs[i].ref,
                                wk->recs[i].compact ? "roster_compact_delta"
                                                    : "proximity_roster_delta",
                                wk->out.data + wk->recs[i].off, wk->recs[i].len);
        wk->n_recs = 0;
        buf_reset(&wk->out);
    }
    sim->grid.epoch++;

    float ms = (float)(clock_mono_ms() - t0);
    sim->tick_ms[sim->ring_pos] = ms;
    sim->ring_pos = (sim->ring_pos + 1) % sim->ring_len;
    if (sim->ring_n < sim->ring_len) sim->ring_n++;
}

/* ---------- persistence and stats ---------- */

size_t zsim_collect_dirty(zsim_t *sim, character_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < sim->n_players && n < max; i++) {
        zplayer_t *p = sim->players[i];
        if (!p->persist_dirty) continue;
        out[n++] = p->ch;
        p->persist_dirty = 0;
    }
    return n;
}

size_t zsim_collect_all(zsim_t *sim, character_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < sim->n_players && n < max; i++)
        out[n++] = sim->players[i]->ch;
    return n;
}

size_t zsim_player_count(const zsim_t *sim)
{
    return sim->n_players;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void zsim_tick_stats(const zsim_t *sim, zsim_tick_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->ticks = sim->ticks;
    size_t n = sim->ring_n;
    if (!n) return;
    float *v = wod_malloc(n * sizeof(float));
    memcpy(v, sim->tick_ms, n * sizeof(float)); /* the ring's first n slots are its contents */
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    qsort(v, n, sizeof(float), cmp_float);
    out->avg_ms = sum / (double)n;
    out->p50_ms = v[(n - 1) / 2];
    size_t k = (size_t)ceil(0.99 * (double)n);
    out->p99_ms = v[k ? k - 1 : 0];
    out->max_ms = v[n - 1];
    free(v);
}

void zsim_resync(zsim_t *sim)
{
    for (size_t i = 0; i < sim->n_players; i++)
        push_roster(sim, sim->players[i], 1);
}

int zsim_player_resync(zsim_t *sim, uint64_t ref)
{
    zplayer_t *p = find(sim, ref);
    if (!p) return -1;
    push_roster(sim, p, 1);
    return 0;
}

void zsim_each_entity(const zsim_t *sim, void (*cb)(void *ud, const zsim_entity_view_t *e),
                      void *ud)
{
    for (size_t i = 0; i < sim->n_slots; i++) {
        const zent_t *e = &sim->ents[i];
        if (!e->pid || !e->in_grid) continue;
        zsim_entity_view_t v = {
            e->idstr, e->name, e->kind == ZENT_PLAYER, e->hostile, e->x, e->y, e->z, 0, 0};
        if (e->kind == ZENT_PLAYER) {
            const zplayer_t *p = e->owner;
            v.heading = p->ch.heading;
            v.ref = p->ref;
        } else {
            /* NPCs keep radians; the view speaks degrees like players. */
            double h = ((const znpc_t *)e->owner)->heading * 180.0 / M_PI;
            v.heading = fmod(h + 360.0, 360.0);
        }
        cb(ud, &v);
    }
}
