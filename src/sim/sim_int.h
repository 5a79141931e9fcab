/* sim_int.h - the zone simulation's internals, shared by the files of
 * src/sim/ that make up one zone: sim.c (entities, movement, rosters,
 * chat), game.c (combat, items, life and death) and cmd.c (slash
 * commands). Not included outside src/sim/, but by tools/bench_zone.c,
 * which only reads (who is in combat) to play its clients. */
#ifndef WOD_SIM_INT_H
#define WOD_SIM_INT_H

#include "sim.h"
#include "../core/buf.h"
#include "ai.h"
#include "combat.h"
#include "entity.h"
#include "grid.h"
#include "npc.h"
#include "pool.h"
#include "roster.h"

#include <uthash.h>

#define ZSIM_SEE_RANGE      150.0
#define ZSIM_INTERACT_RANGE 20.0 /* talk/trade/use: say range */
#define ZSIM_CMD_MAX        48   /* commands with a cooldown slot per player (cmd.c table) */
#define ZSIM_ITEM_CDS       8    /* items cooling down at once per player */

/* A player's movement: none, walking a heading (until stopped or for a
 * distance), to a point, or towards an entity. */
typedef enum { MV_NONE, MV_HEADING, MV_DISTANCE, MV_POINT, MV_TARGET } move_kind_t;

typedef struct zplayer_s {
    uint64_t ref;
    int32_t ent; /* entity slot */
    size_t idx;  /* position in sim->players */
    character_t ch;
    character_derived_t d;
    move_speed_t gait;
    double speed_fps;        /* current speed, ft/s */
    move_kind_t move;        /* what the current movement is */
    double move_left_ft;     /* MV_DISTANCE: feet still to go */
    double tx, tz;           /* MV_POINT: where to (y is kept) */
    int64_t target_pid;      /* MV_TARGET: whom to approach */
    double range_ft;         /* MV_TARGET: stop within this range */
    double next_state_ms;    /* sim time the next state_update may go out */
    uint64_t state_seq;      /* sim->move_seq at its last state_update */
    uint32_t state_epoch;    /* grid epoch of its last state_update check */
    int wants_positions;     /* a graphical client: state_update positions */
    double last_pos_move_ms; /* sim time step_credit_s was last brought up to date */
    double step_credit_s;    /* travel time steps without `method` may still spend */
    double send_interval_ms; /* 1000 / min(tick rate, maxUpdateRate) */
    double next_send_ms;     /* sim time the next roster delta may go out */
    uint32_t roster_epoch;   /* grid epoch the roster was computed at */
    int persist_dirty;       /* position/heading/zone/hp changed since collect */
    int crossing;            /* index into sim->world when queued to cross, else -1 */
    int is_due;              /* roster recomputed in this tick's roster pass */
    roster_t roster;         /* what the client was last told */
    UT_hash_handle hh;       /* sim->by_ref */
    /* a compact client's view and ids (then `roster` is unused) */
    roster_compact_t *compact;
    /* the game (game.c, cmd.c) */
    combat_state_t fight;
    int weapon_bonus;               /* equipped weapon's attack_bonus */
    double respawn_at_ms;           /* sim time a dead player rises; 0 = alive */
    double regen_acc_s;             /* time towards the next regeneration step */
    double cmd_ready[ZSIM_CMD_MAX]; /* sim time each command may run again */
    double speech_tokens;           /* /say, /shout, /emote, /tell: token bucket (cmd.c) */
    double speech_refill_ms;        /* sim time of the last refill */
    struct {
        const item_def_t *item;
        double ready_ms;
    } item_cd[ZSIM_ITEM_CDS];
} zplayer_t;

/* Per-thread state of the parallel roster pass; payloads are collected
 * here and sent by the loop thread once the pass is over. */
typedef struct zwork_s {
    roster_scratch_t scratch;
    buf_t out; /* concatenated payloads */
    struct zrec_s {
        uint64_t ref;
        size_t off, len;
        int compact; /* a compact frame, not JSON */
    } * recs;
    size_t n_recs, recs_cap;
    char pad[64]; /* no cache line shared with the next worker's fields */
} zwork_t;

struct zsim_s {
    zonedef_t def;
    zonedef_t *world; /* owned copy */
    int n_world;
    int *adjacent; /* indices into world of zones sharing an edge with def */
    int n_adjacent;
    zsim_config_t cfg;
    zsim_hooks_t hooks;
    double dt;      /* seconds per tick */
    double time_ms; /* sim time */
    uint64_t ticks;
    uint64_t ts; /* wall ms for protocol timestamps, refreshed per call */

    grid_t grid;
    zent_t *ents;  /* slots; pid 0 = free */
    int64_t *pids; /* pids[slot] == ents[slot].pid: compact, for the roster pass */
    size_t n_slots, slots_cap;
    int32_t *free_slots;
    size_t n_free;

    zplayer_t **players; /* dense, order irrelevant */
    size_t n_players, players_cap;
    zplayer_t *by_ref; /* uthash on ref */

    znpc_t *npcs;
    npcdef_t *npc_defs; /* owned copies, npcs[i].def points here */
    int n_npcs;
    combat_state_t *npc_fight; /* combat state of npcs[i] */
    const gamedata_t *data;    /* abilities, items, loot (borrowed) */
    combat_rng_t rng;  /* the zone's one generator (combat, loot, ai_step), seeded from RNG_SEED
                        * and the zone id */
    buf_t gbuf;        /* game events (game.c, cmd.c) */
    buf_t cbuf;        /* command_response bodies (cmd.c) */
    grid_hits_t ghits; /* game range queries */
    uint32_t speak_seq;
    uint64_t move_seq; /* counts entity placements (zent_t.moved_seq) */

    roster_scratch_t scratch; /* rosters outside the tick (entry) */
    grid_hits_t hits;
    buf_t out, tmp;
    zpool_t *pool;
    zwork_t *work;   /* one per pool thread */
    zplayer_t **due; /* viewers whose roster is recomputed this tick */
    zplayer_t **crossers;
    size_t n_crossers;
    uint32_t *threats; /* per slot: living NPCs targeting its player (count_threats) */
    size_t threats_cap;

    float *tick_ms; /* ring of the last STATS_WINDOW_S seconds */
    size_t ring_len, ring_pos, ring_n;
};

/* ---- sim.c helpers used by game.c and cmd.c ---- */
void zsim__send(zsim_t *sim, uint64_t ref, const char *type, const buf_t *b);
void zsim__error(zsim_t *sim, zplayer_t *p, const char *code, const char *message,
                 const char *severity);
zplayer_t *zsim__find(const zsim_t *sim, uint64_t ref);
/* Live entity slot of a protocol id ("char-N", "npc-N"), or -1. */
int32_t zsim__target_slot(zsim_t *sim, const char *target_id);
double zsim__slot_distance(zsim_t *sim, int32_t a, int32_t b);
int zsim__hostiles_near(const zsim_t *sim, const zent_t *e);
void zsim__ent_unplace(zsim_t *sim, int32_t slot);
void zsim__ent_place(zsim_t *sim, int32_t slot, double x, double y, double z);
/* Player `pid` in `slot` may have changed dangerState: recompute its roster. */
void zsim__touch_victim(zsim_t *sim, int32_t slot, int64_t pid);

/* ---- game.c ---- */
/* Player enters: combat state, weapon, respawn timer if dead. */
void zsim__game_enter(zsim_t *sim, zplayer_t *p);
/* One tick of the game: ATB, auto-attacks, timeouts, regen, respawns,
 * combat state_updates. */
void zsim__game_tick(zsim_t *sim);
/* A player uses an ability on a target id (combat_action, /attack, /cast,
 * interact attack). set_auto: also start auto-attacking it. Errors go to
 * the player as combat_error events; *why (if not NULL) gets the reason
 * text. Returns COMBAT_OK or a combat_err_t. */
int zsim__player_ability(zsim_t *sim, zplayer_t *p, const ability_def_t *ab, const char *target_id,
                         int set_auto, const char **why);
/* Stops auto-attacking; returns 1 if it was in combat. */
int zsim__player_disengage(zsim_t *sim, zplayer_t *p);
/* ---- item.c ---- */
/* attack_bonus of the weapons a character wields. */
int zsim__weapon_bonus(const zsim_t *sim, const character_t *c);
/* Item use/equip by id or name. Returns 0, or -1 with *why set. */
int zsim__item_use(zsim_t *sim, zplayer_t *p, const char *name, buf_t *data, const char **why);
int zsim__item_equip(zsim_t *sim, zplayer_t *p, const char *name, int equip, const char **why);
/* Adds qty of an item (stacks up to stack_max); returns how many fitted. */
int zsim__item_give(zplayer_t *p, const item_def_t *it, int qty);
/* Sends state_update {character:{health, stamina, mana, isAlive}}. */
void zsim__send_pools(zsim_t *sim, zplayer_t *p);
/* The zone's game data (never NULL). */
const gamedata_t *zsim__data(const zsim_t *sim);
/* "unhurt" .. "dead" from hp/max. */
const char *zsim__condition(int hp, int max_hp, int alive);
/* A player's name resolved to its slot (case-insensitive), or an NPC's; -1. */
int32_t zsim__find_by_name(zsim_t *sim, const char *name);

/* ---- cmd.c ---- */
/* Parses and runs one command line; always answers command_response. */
void zsim__command(zsim_t *sim, zplayer_t *p, const char *text);

#endif
