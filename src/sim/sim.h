/* sim.h - the game simulation of one zone: entities, movement, the
 * spatial grid, proximity rosters, local chat, NPCs.
 *
 * A zsim_t knows nothing about sockets, buses or databases. The zone
 * server (zone/server.c) feeds it typed commands and receives its output
 * through zsim_hooks_t: protocol messages for players, players that
 * walked over a border, shouts that carry into a neighbouring zone.
 * Players are named by an opaque 64-bit `ref` chosen by the caller.
 * All calls happen on the loop thread. */
#ifndef WOD_SIM_SIM_H
#define WOD_SIM_SIM_H

#include "../game/character.h"
#include "../game/gamedata.h"
#include "../game/npcdef.h"
#include "../game/zonedef.h"
#include "../proto/msg.h"

#include <stddef.h>
#include <stdint.h>

typedef struct zsim_s zsim_t;

typedef struct zsim_hooks_s {
    void *ud;
    /* One protocol message for one player: `type` and its payload as a
     * complete JSON value (len bytes, not NUL-terminated necessarily). */
    void (*send)(void *ud, uint64_t ref, const char *type, const char *payload, size_t len);
    /* The player walked over a border into `to_zone`; the sim already
     * removed it. `state` has zone_id = to_zone and zone-local position
     * in the new zone. The caller hands it to that zone. */
    void (*crossed)(void *ud, uint64_t ref, const character_t *state, const char *to_zone);
    /* May a player walk into to_zone now? 0 keeps them at the border (the
     * handover could not be sent; they try again with their next step).
     * NULL = always. */
    int (*can_cross)(void *ud, const char *to_zone);
    /* A shout from this zone reaches into adjacent zone `to_zone`. */
    void (*shout_out)(void *ud, const char *to_zone, const msg_shout_t *s);
    /* /tell to a character that is not in this zone: deliver `type` +
     * payload to whoever plays `target_name`, wherever it is (may be NULL). */
    void (*tell)(void *ud, const char *target_name, const char *type, const char *payload,
                 size_t len);
    /* A player's say names talking NPC npc-<npc_index> nearby. Return 1
     * to voice it yourself later (zsim_npc_say), 0 for its scripted line
     * now. NULL = always scripted. */
    int (*npc_addressed)(void *ud, const char *zone_id, int npc_index, const char *npc_name,
                         const char *npc_description, const char *speaker, const char *text);
} zsim_hooks_t;

#define ZSIM_RESPAWN_DEFAULT_MS 10000

typedef struct zsim_config_s {
    int tick_rate;           /* ticks per second */
    int roster_max_entities; /* nearest N listed per roster channel */
    int disable_npcs;        /* 1: spawn no NPCs (tests, benches); 0 = normal */
    int roster_threads;      /* threads computing rosters during a tick, the caller's
                                included (0 or 1: the caller's only) */
    const gamedata_t *data;  /* abilities/items/loot, borrowed for the sim's life;
                                NULL = a built-in basic_attack and the starting items */
    int mob_respawn_ms;      /* a killed mob's respawn delay unless its row sets one
                                (0 = 120000) */
    int rng_seed;            /* RNG_SEED: with the zone id, seeds the zone's game RNG
                                (NPC AI, combat rolls, loot) */
    int respawn_delay_ms;    /* RESPAWN_DELAY_MS: dead players rise after this (0 = default) */
} zsim_config_t;

typedef struct zsim_tick_stats_s {
    double avg_ms, p50_ms, p99_ms, max_ms; /* over the last minute */
    uint64_t ticks;
} zsim_tick_stats_t;

/* `def` is copied. `world`/`n_world` describe every zone (for borders,
 * exits and adjacency) and are copied too. */
zsim_t *zsim_new(const zonedef_t *def, const zonedef_t *world, int n_world,
                 const zsim_config_t *cfg, const zsim_hooks_t *hooks);
void zsim_free(zsim_t *sim);
/* Spawns the NPCs of defs[0..n) whose zone_id is this zone (copied), in
 * that order as npc-1, npc-2, ... Once per sim; nothing if disable_npcs.
 * Returns how many. */
int zsim_add_npcs(zsim_t *sim, const npcdef_t *defs, int n);
const zonedef_t *zsim_def(const zsim_t *sim);

/* Adds a player. entry=1 (login): sends world_entry then a full
 * proximity_roster. entry=0 (walked in over a border): sends a
 * state_update with `zone`, then a full proximity_roster. A position
 * outside the zone is moved to the spawn point. max_update_rate (Hz,
 * 0 = tick rate) caps how often roster deltas go to this player. Returns
 * 0, or -1 if `ref` is already in the zone. */
int zsim_player_enter(zsim_t *sim, uint64_t ref, const character_t *ch, double max_update_rate,
                      int entry);
/* Removes a player; others see it leave. Copies its final state to *out
 * (if not NULL). Returns -1 if unknown. */
int zsim_player_leave(zsim_t *sim, uint64_t ref, character_t *out);
/* What the player's client asked for (MSG_CLIENT_* bits), right after
 * zsim_player_enter: MSG_CLIENT_MACHINE shows it with isMachine true in
 * others' rosters; MSG_CLIENT_POSITIONS sends it state_update positions
 * (graphical clients). Returns -1 if unknown. */
int zsim_player_set_client(zsim_t *sim, uint64_t ref, unsigned flags);
/* Current state of a player, or NULL. */
const character_t *zsim_player(const zsim_t *sim, uint64_t ref);
/* ref of the player with this character id, or 0. */
uint64_t zsim_find_character(const zsim_t *sim, int64_t character_id);

/* Commands. Errors go to the player as `error` messages via hooks.send;
 * the return is 0 or -1 for the caller's metrics only. */
int zsim_player_move(zsim_t *sim, uint64_t ref, const msg_move_t *m);
int zsim_player_chat(zsim_t *sim, uint64_t ref, const msg_chat_t *m); /* say/shout/emote/cfh */
int zsim_player_interact(zsim_t *sim, uint64_t ref, const msg_interact_t *m);
int zsim_player_combat(zsim_t *sim, uint64_t ref, const msg_combat_t *m);
/* A slash command line (`command` message or chat starting with '/'):
 * parsed and run by cmd.c; always answered with command_response. */
int zsim_player_command(zsim_t *sim, uint64_t ref, const char *text);
/* A shout from a neighbouring zone, heard by players in range. */
void zsim_remote_shout(zsim_t *sim, const msg_shout_t *s);

/* NPC npc-<npc_index> says `text` (NULL: its next scripted line) on the
 * say channel. Returns -1 if it is unknown, dead or cannot talk. */
int zsim_npc_say(zsim_t *sim, int npc_index, const char *text);

/* Sends every player a full proximity_roster now (after a bus outage,
 * when deltas may have been lost). */
void zsim_resync(zsim_t *sim);
/* The same for one player (its gateway dropped deltas it could not send). */
int zsim_player_resync(zsim_t *sim, uint64_t ref);

/* Advances the zone by one tick: movement, borders, NPCs, roster deltas. */
void zsim_tick(zsim_t *sim, double now_ms);

/* Copies up to `max` players whose persistent state changed since the
 * last call into out[]; returns how many. Clears their dirty flag. */
size_t zsim_collect_dirty(zsim_t *sim, character_t *out, size_t max);
/* Copies every player's state (for shutdown). Returns how many (<= max). */
size_t zsim_collect_all(zsim_t *sim, character_t *out, size_t max);

size_t zsim_player_count(const zsim_t *sim);
void zsim_tick_stats(const zsim_t *sim, zsim_tick_stats_t *out);

/* One entity as the admin console's live map sees it. */
typedef struct zsim_entity_view_s {
    const char *id, *name; /* protocol id ("char-5", "npc-2"), display name */
    int is_player, hostile;
    double x, y, z, heading; /* zone-local feet, degrees */
    uint64_t ref;            /* players: the caller's ref; NPCs: 0 */
} zsim_entity_view_t;
/* Calls cb for every entity present in the zone (dead NPCs excluded). */
void zsim_each_entity(const zsim_t *sim, void (*cb)(void *ud, const zsim_entity_view_t *e),
                      void *ud);

#endif
