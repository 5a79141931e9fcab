/* npc.h - a non-player character in a zone's sim: spawned from its
 * npcdef_t row (docs/GAME.md "Content"), driven by ai.c, damaged by
 * players, respawned by the sim.
 *
 * Protocol id "npc-<index>", index 1.. in the order the store lists the
 * zone's spawns (stable for the zone's lifetime). */
#ifndef WOD_SIM_NPC_H
#define WOD_SIM_NPC_H

#include "../game/npcdef.h"
#include "../game/zonedef.h"

#include <stdint.h>

typedef enum {
    AI_IDLE = 0, /* standing (or resting between strolls) */
    AI_WANDER,   /* strolling to a random point within def->wander of home */
    AI_PATROL,   /* walking its waypoint loop */
    AI_CHASE,    /* running at its target */
    AI_ATTACK,   /* in melee range, striking every AI_STRIKE_MS */
    AI_LEASH,    /* gave up: running home, healing, ignoring attacks */
    AI_FLEE,     /* below flee_at of its health: running from its target */
    AI_DEAD      /* waiting to respawn */
} ai_state_t;

typedef struct znpc_s {
    int index; /* 1-based: the protocol id is "npc-<index>" */
    int32_t ent;
    const npcdef_t *def; /* owned by the sim */
    double home_x, home_y, home_z;
    double x, y, z;
    double heading; /* radians, 0 = +z */
    int hp, max_hp;
    uint8_t alive;
    ai_state_t state;
    double state_until_ms; /* idle/wander: when the current rest or stroll ends */
    double goal_x, goal_z; /* wander target */
    int waypoint;          /* patrol: index of the waypoint walked to */
    int64_t target_pid;    /* player it is aggroed on (0 = none) */
    int32_t target_slot;   /* that player's entity slot (checked against target_pid) */
    double next_strike_ms; /* sim time its next strike may land */
    double heal_carry;     /* leash healing not yet a whole hit point */
    double respawn_at_ms;
    double respawn_ms;    /* its respawn delay (row or MOB_RESPAWN_MS), set by the sim */
    int next_line;        /* dialogue: the line said next (cycled) */
    double last_reply_ms; /* sim time it last answered a /say */
} znpc_t;

/* Sets n up from its definition at its spawn point, alive and idle. */
void npc_init(znpc_t *n, int index, const npcdef_t *def);

/* Applies `damage`; returns 1 if this killed it (then it waits for
 * npc_respawn at respawn_at_ms = now + n->respawn_ms). */
int npc_damage(znpc_t *n, int damage, double now_ms);
int npc_respawn_due(const znpc_t *n, double now_ms);
/* Back at its spawn point at full health, idle. */
void npc_respawn(znpc_t *n);

/* attackRating = 10 + 2 * strength, as for players (GAME-REFERENCE 2). */
int npc_attack_rating(const znpc_t *n);

/* The line it says next (cycling through its lines), or NULL if it has
 * none (animals never speak). */
const char *npc_next_line(znpc_t *n);

#endif
