/* ai.c - see ai.h.
 *
 * Transitions (checked in this order every tick):
 *   target gone/dead, or NPC pulled past its leash  -> LEASH (drop aggro)
 *   target and health <= flee_at                    -> FLEE (until AI_FLEE_SAFE_FT away -> LEASH)
 *   target within AI_MELEE_FT                       -> ATTACK (strike every AI_STRIKE_MS)
 *   target farther                                  -> CHASE at def->speed
 *   LEASH                                           -> run home healing; at home: full HP, IDLE
 *   hostile and a player within aggro_radius        -> CHASE (aggro)
 *   waypoints                                       -> PATROL at half speed, looping
 *   wander > 0                                      -> IDLE 2-6 s <-> WANDER 1-4 s
 *   otherwise                                       -> IDLE */
#include "ai.h"

#include <math.h>

uint64_t ai_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double ai_frand(uint64_t *state)
{
    return (double)(ai_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t ai_seed(int seed, const char *zone_id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the zone id */
    for (const char *s = zone_id; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ull;
    }
    return h ^ ((uint64_t)(uint32_t)seed * 0x9e3779b97f4a7c15ull);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Walks towards (gx, gz) at `speed`, stopping `stop` ft short. Returns 1
 * if it moved; *arrived is set once within stop (+ a step's slack). */
static int walk_to(znpc_t *n, double gx, double gz, double speed, double stop, double dt, double sx,
                   double sz, int *arrived)
{
    double dx = gx - n->x, dz = gz - n->z, d = sqrt(dx * dx + dz * dz);
    double step = speed * dt;
    if (arrived) *arrived = d <= stop + 1e-6;
    if (d <= stop + 1e-6 || step <= 0) return 0;
    double go = d - stop < step ? d - stop : step;
    n->heading = atan2(dx, dz);
    n->x = clampd(n->x + dx / d * go, 0, sx);
    n->z = clampd(n->z + dz / d * go, 0, sz);
    if (arrived) *arrived = go >= d - stop - 1e-6;
    return 1;
}

static void drop_target(znpc_t *n, ai_out_t *out)
{
    out->aggro_changed = 1;
    out->dropped = n->target_pid;
    n->target_pid = 0;
    n->target_slot = -1;
    n->state = AI_LEASH;
}

void ai_step(znpc_t *n, const ai_view_t *v, double sx, double sz, double dt, double now_ms,
             uint64_t *rng, ai_out_t *out)
{
    out->moved = out->strike = out->aggro_changed = 0;
    out->dropped = 0;
    if (!n->alive) return;
    const npcdef_t *d = n->def;
    double hx = n->x - n->home_x, hz = n->z - n->home_z;
    double from_home = sqrt(hx * hx + hz * hz);

    if (n->target_pid && (!v->has_target || from_home > d->leash)) drop_target(n, out);
    if (n->target_pid) {
        double dx = v->tx - n->x, dz = v->tz - n->z, dy = v->ty - n->y;
        double dist = sqrt(dx * dx + dy * dy + dz * dz);
        if (d->flee_at > 0 && n->hp <= d->flee_at * n->max_hp) {
            n->state = AI_FLEE;
            if (dist >= AI_FLEE_SAFE_FT) {
                drop_target(n, out);
                return;
            }
            /* run straight away from the target (or anywhere, if on top of it) */
            double ax = dist > 1e-6 ? -dx / dist : 1, az = dist > 1e-6 ? -dz / dist : 0;
            out->moved =
                walk_to(n, n->x + ax * 100, n->z + az * 100, d->speed, 0, dt, sx, sz, NULL);
            return;
        }
        if (dist <= AI_MELEE_FT) {
            n->state = AI_ATTACK;
            if (dist > 1e-6) n->heading = atan2(dx, dz);
            if (now_ms >= n->next_strike_ms) {
                out->strike = 1;
                n->next_strike_ms = now_ms + AI_STRIKE_MS;
            }
            return;
        }
        n->state = AI_CHASE;
        out->moved = walk_to(n, v->tx, v->tz, d->speed, AI_MELEE_FT * 0.8, dt, sx, sz, NULL);
        return;
    }
    if (n->state == AI_LEASH) {
        int home = 0;
        out->moved =
            walk_to(n, n->home_x, n->home_z, d->speed > 0 ? d->speed : 1, 0, dt, sx, sz, &home);
        n->heal_carry += n->max_hp * AI_LEASH_HEAL_FRAC * dt;
        int whole = (int)n->heal_carry;
        n->heal_carry -= whole;
        n->hp += whole;
        if (n->hp > n->max_hp || home) n->hp = n->max_hp;
        if (home) {
            n->state = AI_IDLE;
            n->state_until_ms = now_ms + 2000;
        }
        return;
    }
    if (d->hostile && v->near_pid) {
        n->target_pid = v->near_pid;
        n->target_slot = v->near_slot;
        n->state = AI_CHASE;
        if (n->next_strike_ms < now_ms + AI_FIRST_STRIKE_MS)
            n->next_strike_ms = now_ms + AI_FIRST_STRIKE_MS;
        out->aggro_changed = 1;
        return;
    }
    if (d->n_patrol > 0 && d->speed > 0) {
        int at = 0;
        n->state = AI_PATROL;
        const double *w = d->patrol[n->waypoint % d->n_patrol];
        out->moved = walk_to(n, w[0], w[1], d->speed * 0.5, 0, dt, sx, sz, &at);
        if (at) n->waypoint = (n->waypoint + 1) % d->n_patrol;
        return;
    }
    if (d->wander > 0 && d->speed > 0) {
        if (now_ms >= n->state_until_ms) {
            if (n->state == AI_WANDER) { /* rest 2-6 s */
                n->state = AI_IDLE;
                n->state_until_ms = now_ms + 2000 + 4000 * ai_frand(rng);
            } else { /* stroll 1-4 s towards a point inside the wander radius */
                double a = ai_frand(rng) * 2 * M_PI, r = d->wander * sqrt(ai_frand(rng));
                n->goal_x = n->home_x + sin(a) * r;
                n->goal_z = n->home_z + cos(a) * r;
                n->state = AI_WANDER;
                n->state_until_ms = now_ms + 1000 + 3000 * ai_frand(rng);
            }
        }
        if (n->state == AI_WANDER) {
            int at = 0;
            out->moved = walk_to(n, n->goal_x, n->goal_z, d->speed * 0.5, 0, dt, sx, sz, &at);
            if (at) n->state_until_ms = now_ms; /* rest from the next tick */
        }
        return;
    }
    n->state = AI_IDLE;
}

int ai_provoke(znpc_t *n, int64_t pid, int32_t slot, double now_ms)
{
    if (!n->alive || n->state == AI_LEASH || n->target_pid) return 0;
    n->target_pid = pid;
    n->target_slot = slot;
    n->state = AI_CHASE;
    if (n->next_strike_ms < now_ms + AI_FIRST_STRIKE_MS)
        n->next_strike_ms = now_ms + AI_FIRST_STRIKE_MS;
    return 1;
}
