/* ai.h - the NPC brain: one small state machine per NPC (states in
 * npc.h), pure and deterministic. The sim gathers what the NPC can see
 * (ai_view_t) each tick, calls ai_step, and carries out what it asks
 * (ai_out_t: moved, strike its target, aggro changed). Randomness comes
 * only from the zone's RNG passed in, so a pinned RNG_SEED replays the
 * same behaviour. See docs/GAME.md "NPCs and AI". */
#ifndef WOD_SIM_AI_H
#define WOD_SIM_AI_H

#include "npc.h"

#include <stdint.h>

#define AI_MELEE_FT        5.0    /* strikes reach this far */
#define AI_STRIKE_MS       3000.0 /* between two strikes (the reference's weaponSpeed) */
#define AI_FIRST_STRIKE_MS 500.0  /* from aggro to the earliest first strike */
#define AI_LEASH_HEAL_FRAC 0.25   /* of max HP healed per second while leashing */
#define AI_FLEE_SAFE_FT    40.0   /* a fleeing NPC this far from its target gives up */

/* What the sim tells the NPC this tick. */
typedef struct ai_view_s {
    int has_target;    /* its target is still in the zone and alive */
    double tx, ty, tz; /* ...at this position */
    /* nearest living player within aggro_radius (looked for only when
     * hostile and without a target): pid 0 = none */
    int64_t near_pid;
    int32_t near_slot;
} ai_view_t;

typedef struct ai_out_s {
    int moved;         /* its position changed */
    int strike;        /* strike its target now */
    int aggro_changed; /* target set or dropped (dangerState of that player) */
    int64_t dropped;   /* pid whose aggro was dropped this step, 0 = none */
} ai_out_t;

/* The zone's game RNG: splitmix64 (any state, any seed). */
uint64_t ai_rand(uint64_t *state);
/* Uniform in [0, 1). */
double ai_frand(uint64_t *state);
/* Seeds a zone's RNG from RNG_SEED and the zone id. */
uint64_t ai_seed(int seed, const char *zone_id);

/* Advances one NPC by dt seconds at sim time now_ms inside a zone of
 * size_x x size_z ft. Dead NPCs do nothing. */
void ai_step(znpc_t *n, const ai_view_t *v, double size_x, double size_z, double dt, double now_ms,
             uint64_t *rng, ai_out_t *out);

/* The NPC was attacked by player `pid` (slot `slot`): it turns on the
 * attacker unless dead, leashing (evading) or already on someone.
 * Returns 1 if it took the attacker as its target. */
int ai_provoke(znpc_t *n, int64_t pid, int32_t slot, double now_ms);

#endif
