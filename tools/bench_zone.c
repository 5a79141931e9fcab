/* bench_zone.c - in-process load harness for the zone simulation.
 *
 * Drives 1,000 / 5,000 / 10,000 simulated players in one 3000 x 3000 ft
 * zone at 20 Hz: spread uniformly (each has tens to a few hundred
 * neighbours within 250 ft) plus one crowded hotspot of 300 players
 * within 30 ft of the centre. Everyone keeps moving, picking a new
 * heading every 2-5 s (the hotspot crowd turns back towards its centre).
 * hooks.send only counts bytes, so the numbers are the simulation's own
 * cost: movement, grid, roster computation, diffing and JSON.
 *
 * BENCH_COMPACT=1: every player is a compact client (capabilities.encoding
 * "compact", src/proto/compact.h) instead of JSON.
 *
 * NPCs (BENCH_NPCS=n, BENCH_FIGHTS=f; the default table adds a row of
 * 5,000 players with 2,000 NPCs, 500 fights): npcdef_t rows built here and
 * spawned through zsim_add_npcs as the zone server spawns the store's.
 * f hostile mobs each stand 4 ft from a fighter (a player that does not
 * walk) who types "/attack npc-k" and again whenever its mob has respawned,
 * so both sides fight by the real rules (ATB, auto-attacks, AI) all along:
 * a killed mob respawns after 1.5 s, the fighters are sturdy enough not
 * to die. The other NPCs are a third each: hostile mobs that
 * stroll and aggro walkers passing within 25 ft (leash 60 ft), friendly
 * wanderers and friendly patrollers walking a 100 ft square.
 *
 * Usage: bench-zone [seconds-per-run (default 10)] [players...]
 * Prints tick p50/p99/max (ms), roster bytes per player per second,
 * roster messages per player per second and roster KiB per tick (all
 * players together: what the zone hands its gateways every tick), the
 * NPCs and the players in combat (mean over the measured ticks). */
#include "core/clock.h"
#include "core/str.h"
#include "sim/sim.h"
/* read-only peeks (who is in combat, is a fighter's mob back): the bench
 * plays the clients, it needs what their screens would show */
#include "sim/sim_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_RATE    20
#define ZONE_FT      3000.0
#define HOTSPOT_N    300
#define HOTSPOT_R    30.0
#define WARMUP_TICKS 20
#define PROG         "bench-zone"

typedef struct {
    uint64_t roster_bytes, roster_msgs, other_bytes;
} counters_t;

static void on_send(void *ud, uint64_t ref, const char *type, const char *payload, size_t len)
{
    (void)ref;
    (void)payload;
    counters_t *c = ud;
    if (strncmp(type, "proximity_roster", 16) == 0 || strncmp(type, "roster_compact", 14) == 0) {
        c->roster_bytes += len;
        c->roster_msgs++;
    } else {
        c->other_bytes += len;
    }
}

static uint32_t rng = 2463534242u;
static int hotspot_n = HOTSPOT_N; /* BENCH_HOTSPOT=n overrides, for diagnosis */
static int threads = 1;           /* BENCH_THREADS=n: zsim_config_t.roster_threads */
static int compact;               /* BENCH_COMPACT=1: compact clients */
static int env_npcs, env_fights;  /* BENCH_NPCS / BENCH_FIGHTS for the players given */

#define FIGHT_GAP_FT   4.0    /* a fighter and its mob: within basic_attack's range */
#define FIGHT_START_MS 3000.0 /* fights begin over the first 3 s, all before the window */

static double frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (rng >> 8) * (1.0 / 16777216.0);
}

typedef struct {
    double next_turn_ms;
    int hotspot;
    int mob;          /* fighters: the npc index of their mob; 0 = a walker */
    double engage_ms; /* fighters: first /attack (fights start at scattered times) */
} bot_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void steer(zsim_t *sim, uint64_t ref, bot_t *b, double now_ms)
{
    msg_move_t m = {.method = MOVE_HEADING, .has_speed = 1, .speed = SPEED_WALK};
    m.heading = frand() * 360.0;
    if (b->hotspot) {
        const character_t *c = zsim_player(sim, ref);
        double dx = ZONE_FT / 2 - c->x, dz = ZONE_FT / 2 - c->z;
        if (dx * dx + dz * dz > HOTSPOT_R * HOTSPOT_R * 0.5)
            m.heading = fmod(atan2(dx, dz) * 180.0 / M_PI + 360.0 + (frand() - 0.5) * 60, 360.0);
        b->next_turn_ms = now_ms + 1000 + 1000 * frand();
    } else {
        if (frand() < 0.25) m.speed = SPEED_JOG;
        b->next_turn_ms = now_ms + 2000 + 3000 * frand();
    }
    zsim_player_move(sim, ref, &m);
}

static void npc_base(npcdef_t *d, int i, const char *def_id, double x, double z)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->tag, sizeof(d->tag), "bench.%s.%d", def_id, i);
    snprintf(d->def_id, sizeof(d->def_id), "%s", def_id);
    snprintf(d->zone_id, sizeof(d->zone_id), "zone-bench");
    snprintf(d->name, sizeof(d->name), "Bench %s %d", def_id, i);
    snprintf(d->description, sizeof(d->description), "A bench %s.", def_id);
    d->level = 1;
    d->strength = d->vitality = d->dexterity = d->agility = d->intelligence = d->wisdom = 5;
    d->max_hp = 40;
    d->speed = 8;
    d->x = x;
    d->z = z;
}

/* npcs[0..n_fights) are the fighters' mobs (placed by run()), the rest
 * a third each of roaming hostile mobs, wanderers and patrollers. */
static npcdef_t *make_npcs(int n_npcs, int n_fights)
{
    npcdef_t *v = calloc((size_t)n_npcs, sizeof(*v));
    for (int i = 0; i < n_npcs; i++) {
        double x = 60 + frand() * (ZONE_FT - 120), z = 60 + frand() * (ZONE_FT - 120);
        npcdef_t *d = &v[i];
        int kind = i < n_fights ? 0 : 1 + (i - n_fights) % 3;
        if (kind <= 1) {
            npc_base(d, i, kind == 0 ? "duelist" : "prowler", x, z);
            d->is_mob = d->hostile = 1;
            d->respawn_ms = 1500;
            d->aggro_radius = kind == 0 ? FIGHT_GAP_FT + 2 : 25;
            d->leash = kind == 0 ? 40 : 60;
            d->wander = kind == 0 ? 0 : 30;
            d->flee_at = kind == 0 ? 0 : 0.2;
        } else if (kind == 2) {
            npc_base(d, i, "wanderer", x, z);
            d->wander = 50;
        } else {
            npc_base(d, i, "patroller", x, z);
            double sq[4][2] = {{0, 0}, {100, 0}, {100, 100}, {0, 100}};
            d->n_patrol = 4;
            for (int k = 0; k < 4; k++) {
                d->patrol[k][0] = x - 50 + sq[k][0];
                d->patrol[k][1] = z - 50 + sq[k][1];
            }
        }
    }
    return v;
}

/* Fighters whose mob is alive and who are not auto-attacking it (at the
 * start, or after it died and respawned) attack it again. */
static void engage(zsim_t *sim, const bot_t *bots, int n_players, double now_ms)
{
    for (int i = 1; i <= n_players; i++) {
        if (!bots[i].mob || now_ms < bots[i].engage_ms) continue;
        const zplayer_t *p = zsim__find(sim, (uint64_t)i);
        if (!p || p->fight.auto_target || !p->ch.is_alive || !sim->npcs[bots[i].mob - 1].alive)
            continue;
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "/attack npc-%d", bots[i].mob);
        zsim_player_command(sim, (uint64_t)i, cmd);
    }
}

static int players_in_combat(const zsim_t *sim)
{
    int n = 0;
    for (size_t i = 0; i < sim->n_players; i++)
        n += sim->players[i]->fight.in_combat != 0;
    return n;
}

static void run(int n_players, int n_npcs, int n_fights, double seconds)
{
    if (n_npcs < 0) n_npcs = 0;
    if (n_fights > n_npcs) n_fights = n_npcs;
    if (n_fights < 0) n_fights = 0;
    if (n_fights > n_players - hotspot_n)
        n_fights = n_players > hotspot_n ? n_players - hotspot_n : 0;
    zonedef_t def;
    memset(&def, 0, sizeof(def));
    snprintf(def.id, sizeof(def.id), "zone-bench");
    snprintf(def.name, sizeof(def.name), "Bench City");
    snprintf(def.rating, sizeof(def.rating), "T");
    def.size_x = def.size_z = ZONE_FT;
    def.size_y = 100;
    def.spawn_x = def.spawn_z = ZONE_FT / 2;
    counters_t cnt = {0};
    zsim_config_t cfg = {
        .tick_rate = TICK_RATE, .roster_max_entities = 64, .roster_threads = threads};
    zsim_hooks_t hooks = {.ud = &cnt, .send = on_send};
    zsim_t *sim = zsim_new(&def, &def, 1, &cfg, &hooks);

    npcdef_t *npcs = n_npcs > 0 ? make_npcs(n_npcs, n_fights) : NULL;
    bot_t *bots = calloc((size_t)n_players + 1, sizeof(*bots));
    double t0 = clock_mono_ms();
    for (int i = 1; i <= n_players; i++) {
        character_t c;
        char name[24];
        snprintf(name, sizeof(name), "Bot%d", i);
        double x, z;
        bots[i].hotspot = i <= hotspot_n;
        if (bots[i].hotspot) {
            double a = frand() * 2 * M_PI, r = HOTSPOT_R * sqrt(frand());
            x = ZONE_FT / 2 + sin(a) * r;
            z = ZONE_FT / 2 + cos(a) * r;
        } else {
            x = frand() * ZONE_FT;
            z = frand() * ZONE_FT;
        }
        int fighter = npcs && n_players - i < n_fights; /* the last n_fights players */
        if (fighter) {
            x = 60 + fmod(x, ZONE_FT - 120); /* its mob is inside the zone too */
            z = 60 + fmod(z, ZONE_FT - 120);
            bots[i].mob = n_players - i + 1;
            npcdef_t *m = &npcs[bots[i].mob - 1];
            double a = frand() * 2 * M_PI;
            m->x = x + sin(a) * FIGHT_GAP_FT;
            m->z = z + cos(a) * FIGHT_GAP_FT;
            bots[i].next_turn_ms = 1e300; /* stands and fights */
            bots[i].engage_ms = frand() * FIGHT_START_MS;
        }
        character_init(&c, i, name, "A bench bot.", def.id, x, 0, z);
        c.id = i;
        c.agility = (int)(frand() * 20);
        if (n_npcs > 0) c.vitality = 200; /* outlives the window against its mob */
        zsim_player_enter(sim, (uint64_t)i, &c, 0, 1);
        if (compact) zsim_player_set_client(sim, (uint64_t)i, MSG_CLIENT_COMPACT);
    }
    double enter_ms = clock_mono_ms() - t0;
    if (npcs && zsim_add_npcs(sim, npcs, n_npcs) != n_npcs) {
        fprintf(stderr, "%s: zsim_add_npcs did not spawn all %d NPCs\n", PROG, n_npcs);
        exit(1);
    }
    free(npcs);

    int ticks = (int)(seconds * TICK_RATE);
    double *ms = malloc((size_t)ticks * sizeof(double));
    double now = 0, fighting = 0;
    int warmup = WARMUP_TICKS + (n_fights > 0 ? (int)(FIGHT_START_MS * TICK_RATE / 1000) : 0);
    for (int t = -warmup; t < ticks; t++) {
        for (int i = 1; i <= n_players; i++)
            if (now >= bots[i].next_turn_ms) steer(sim, (uint64_t)i, &bots[i], now);
        if (n_fights > 0) engage(sim, bots, n_players, now);
        if (t == 0) memset(&cnt, 0, sizeof(cnt));
        double a = clock_mono_ms();
        zsim_tick(sim, now);
        double d = clock_mono_ms() - a;
        if (t >= 0) {
            ms[t] = d;
            fighting += players_in_combat(sim);
        }
        now += 1000.0 / TICK_RATE;
    }
    qsort(ms, (size_t)ticks, sizeof(double), cmp_double);
    double p50 = ms[ticks / 2], p99 = ms[(int)ceil(0.99 * ticks) - 1], max = ms[ticks - 1];
    double bps = (double)cnt.roster_bytes / n_players / seconds;
    double mps = (double)cnt.roster_msgs / n_players / seconds;
    double kib_tick = (double)cnt.roster_bytes / ticks / 1024.0;
    printf("| %7d | %5d | %9.0f | %8.2f | %8.2f | %8.2f | %13.0f | %11.1f | %15.0f | %8.0f |\n",
           n_players, n_npcs, fighting / ticks, p50, p99, max, bps, mps, kib_tick, enter_ms);
    fflush(stdout);
    free(ms);
    free(bots);
    zsim_free(sim);
}

/* All of s as a number, or -1 with a message (atof/atoi took "x" as 0). */
static int parse_double(const char *what, const char *s, double *out)
{
    if (str_to_double(s, out) == 0) return 0;
    fprintf(stderr, "%s: bad %s '%s'\n", PROG, what, s);
    return -1;
}

static int parse_int(const char *what, const char *s, int *out)
{
    if (str_to_int(s, out) == 0) return 0;
    fprintf(stderr, "%s: bad %s '%s'\n", PROG, what, s);
    return -1;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    const char *e;
    if ((argc > 1 && parse_double("seconds", argv[1], &seconds) < 0) ||
        ((e = getenv("BENCH_HOTSPOT")) && parse_int("BENCH_HOTSPOT", e, &hotspot_n) < 0) ||
        ((e = getenv("BENCH_THREADS")) && parse_int("BENCH_THREADS", e, &threads) < 0) ||
        ((e = getenv("BENCH_COMPACT")) && parse_int("BENCH_COMPACT", e, &compact) < 0) ||
        ((e = getenv("BENCH_NPCS")) && parse_int("BENCH_NPCS", e, &env_npcs) < 0) ||
        ((e = getenv("BENCH_FIGHTS")) && parse_int("BENCH_FIGHTS", e, &env_fights) < 0))
        return 2;
    if (seconds <= 0) seconds = 10;
    printf("zone %gx%g ft, %d Hz, hotspot %d players within %g ft, roster_max_entities 64, "
           "%g s per run, roster threads %d, %s clients\n\n",
           ZONE_FT, ZONE_FT, TICK_RATE, hotspot_n, HOTSPOT_R, seconds, threads,
           compact ? "compact" : "JSON");
    printf("| players |  NPCs | in combat | p50 (ms) | p99 (ms) | max (ms) | roster B/pl/s |   "
           "msgs/pl/s | roster KiB/tick | enter ms |\n");
    printf("|--------:|------:|----------:|---------:|---------:|---------:|--------------:|"
           "------------:|----------------:|---------:|\n");
    if (argc > 2) {
        for (int i = 2; i < argc; i++) {
            int n = 0;
            if (parse_int("players", argv[i], &n) < 0) return 2;
            run(n, env_npcs, env_fights, seconds);
        }
    } else {
        int rows[][3] = {{1000, 0, 0}, {5000, 0, 0}, {10000, 0, 0}, {5000, 2000, 500}};
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            run(rows[i][0], rows[i][1], rows[i][2], seconds);
    }
    return 0;
}
