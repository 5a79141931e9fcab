/* npc.c - see npc.h. */
#include "npc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NPC_WALK_SPEED 3.0 /* ft/s */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h ? h : 1;
}

static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x ? x : 0x9e3779b9u;
}

static double frand(uint32_t *s) /* [0,1) */
{
    return (next_rand(s) >> 8) * (1.0 / 16777216.0);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

typedef struct npc_kind_s {
    const char *name, *description, *talk;
    int hostile, interactive, max_hp;
    double leash;
    double near; /* 1: beside spawn; 0: far ring */
} npc_kind_t;

static const npc_kind_t kinds[NPC_MAX_PER_ZONE] = {
    {"Old Marrow the Merchant",
     "A stooped trader in a moth-eaten coat, his cart piled with lanterns, rope and odd trinkets.",
     "\"Lamp oil, rope, charms against the dark? Everything a traveller needs, friend.\"", 0, 1,
     200, 0, 1},
    {"Feral Ghoul", "A hunched, grey-skinned thing that sniffs the air and bares broken teeth.",
     "The ghoul only hisses at you.", 1, 0, 60, 15, 0},
    {"Shadow Wolf", "A lean black wolf whose outline seems to smear at the edges.",
     "The wolf growls, low and long.", 1, 0, 80, 15, 0},
    {"Stray Cat", "A scruffy tabby with one torn ear, watching everything.",
     "The cat blinks at you slowly.", 0, 1, 10, 25, 0},
};

int npc_spawn_zone(const zonedef_t *def, znpc_t *out, int max)
{
    uint32_t seed = fnv1a(def->id);
    int n = max < NPC_MAX_PER_ZONE ? max : NPC_MAX_PER_ZONE;
    double span = def->size_x < def->size_z ? def->size_x : def->size_z;
    double margin = span > 20 ? 5 : 0;
    for (int i = 0; i < n; i++) {
        const npc_kind_t *k = &kinds[i];
        znpc_t *p = &out[i];
        memset(p, 0, sizeof(*p));
        p->index = i + 1;
        p->ent = -1;
        snprintf(p->name, sizeof(p->name), "%s", k->name);
        p->description = k->description;
        p->talk = k->talk;
        p->rng = seed ^ (uint32_t)(0x9e3779b9u * (uint32_t)(i + 1));
        next_rand(&p->rng);
        double hx, hz;
        if (k->near) {
            hx = def->spawn_x + 6;
            hz = def->spawn_z + 4;
        } else {
            /* a ring at 35-45% of the zone's short side from spawn */
            double a = frand(&p->rng) * 2 * M_PI;
            double d = span * (0.35 + 0.10 * frand(&p->rng));
            hx = def->spawn_x + sin(a) * d;
            hz = def->spawn_z + cos(a) * d;
        }
        p->home_x = clampd(hx, margin, def->size_x - margin);
        p->home_z = clampd(hz, margin, def->size_z - margin);
        p->x = p->home_x;
        p->z = p->home_z;
        p->y = clampd(def->spawn_y, 0, def->size_y);
        p->leash = k->leash;
        p->max_hp = p->hp = k->max_hp;
        p->hostile = (uint8_t)k->hostile;
        p->interactive = (uint8_t)k->interactive;
        p->alive = 1;
    }
    return n;
}

int npc_think(znpc_t *n, const zonedef_t *def, double dt, double now_ms)
{
    if (!n->alive || n->leash <= 0) return 0;
    if (now_ms >= n->state_until_ms) {
        if (n->speed > 0) { /* rest 2-6 s */
            n->speed = 0;
            n->state_until_ms = now_ms + 2000 + 4000 * frand(&n->rng);
        } else { /* walk 1-4 s towards a point inside the leash */
            double a = frand(&n->rng) * 2 * M_PI, d = n->leash * sqrt(frand(&n->rng));
            double tx = n->home_x + sin(a) * d, tz = n->home_z + cos(a) * d;
            n->heading = atan2(tx - n->x, tz - n->z);
            n->speed = NPC_WALK_SPEED;
            n->state_until_ms = now_ms + 1000 + 3000 * frand(&n->rng);
        }
    }
    if (n->speed <= 0) return 0;
    double nx = n->x + sin(n->heading) * n->speed * dt;
    double nz = n->z + cos(n->heading) * n->speed * dt;
    double hx = nx - n->home_x, hz = nz - n->home_z;
    if (hx * hx + hz * hz > n->leash * n->leash) { /* at the leash: stop and rest */
        n->speed = 0;
        n->state_until_ms = now_ms + 2000;
        return 0;
    }
    n->x = clampd(nx, 0, def->size_x);
    n->z = clampd(nz, 0, def->size_z);
    return 1;
}

int npc_damage(znpc_t *n, int damage, double now_ms)
{
    if (!n->alive) return 0;
    n->hp -= damage;
    if (n->hp > 0) return 0;
    n->hp = 0;
    n->alive = 0;
    n->speed = 0;
    n->respawn_at_ms = now_ms + NPC_RESPAWN_MS;
    return 1;
}

int npc_respawn_due(const znpc_t *n, double now_ms)
{
    return !n->alive && now_ms >= n->respawn_at_ms;
}

void npc_respawn(znpc_t *n)
{
    n->alive = 1;
    n->hp = n->max_hp;
    n->x = n->home_x;
    n->z = n->home_z;
    n->speed = 0;
    n->state_until_ms = 0;
}
