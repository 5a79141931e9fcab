/* npc.h - the few non-player characters every zone has: where they
 * stand (deterministic from the zone id, so every run and every zone
 * server agrees), how they wander, and how much damage they take.
 *
 * Kept deliberately small: a merchant near the spawn point, two hostile
 * creatures roaming a leash around homes well away from spawn (so the
 * spawn point is safe), and a harmless wanderer. */
#ifndef WOD_SIM_NPC_H
#define WOD_SIM_NPC_H

#include "../game/zonedef.h"

#include <stdint.h>

#define NPC_MAX_PER_ZONE 4
#define NPC_NAME_MAX     47
#define NPC_RESPAWN_MS   30000.0 /* a killed NPC comes back after this */

typedef struct znpc_s {
    int index; /* 1-based: the protocol id is "npc-<index>" */
    int32_t ent;
    char name[NPC_NAME_MAX + 1];
    const char *description; /* static text */
    const char *talk;        /* what `talk` answers (static text) */
    double home_x, home_z;   /* wander centre */
    double leash;            /* wander radius, 0 = stationary */
    double x, y, z;
    double heading, speed; /* current walk (ft/s; 0 = resting) */
    double state_until_ms; /* sim time the current walk/rest ends */
    int hp, max_hp;
    uint8_t hostile, interactive, alive;
    double respawn_at_ms;
    uint32_t rng; /* xorshift32 state */
} znpc_t;

/* Fills out[] with the zone's NPCs; returns how many (<= max). */
int npc_spawn_zone(const zonedef_t *def, znpc_t *out, int max);

/* Advances one NPC by dt seconds at sim time now_ms; returns 1 if its
 * position changed. Dead NPCs do not move. */
int npc_think(znpc_t *n, const zonedef_t *def, double dt, double now_ms);

/* Applies `damage`; returns 1 if this killed it (it then respawns at
 * home NPC_RESPAWN_MS later, see npc_respawn_due). */
int npc_damage(znpc_t *n, int damage, double now_ms);
int npc_respawn_due(const znpc_t *n, double now_ms);
void npc_respawn(znpc_t *n);

#endif
