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
 * Usage: bench-zone [seconds-per-run (default 10)] [players...]
 * Prints tick p50/p99/max (ms), roster bytes per player per second,
 * roster messages per player per second and roster KiB per tick (all
 * players together: what the zone hands its gateways every tick). */
#include "core/clock.h"
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_RATE    20
#define ZONE_FT      3000.0
#define HOTSPOT_N    300
#define HOTSPOT_R    30.0
#define WARMUP_TICKS 20

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

static void run(int n_players, double seconds)
{
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
        character_init(&c, i, name, "A bench bot.", def.id, x, 0, z);
        c.id = i;
        c.agility = (int)(frand() * 20);
        zsim_player_enter(sim, (uint64_t)i, &c, 0, 1);
        if (compact) zsim_player_set_client(sim, (uint64_t)i, MSG_CLIENT_COMPACT);
    }
    double enter_ms = clock_mono_ms() - t0;

    int ticks = (int)(seconds * TICK_RATE);
    double *ms = malloc((size_t)ticks * sizeof(double));
    double now = 0;
    for (int t = -WARMUP_TICKS; t < ticks; t++) {
        for (int i = 1; i <= n_players; i++)
            if (now >= bots[i].next_turn_ms) steer(sim, (uint64_t)i, &bots[i], now);
        if (t == 0) memset(&cnt, 0, sizeof(cnt));
        double a = clock_mono_ms();
        zsim_tick(sim, now);
        double d = clock_mono_ms() - a;
        if (t >= 0) ms[t] = d;
        now += 1000.0 / TICK_RATE;
    }
    qsort(ms, (size_t)ticks, sizeof(double), cmp_double);
    double p50 = ms[ticks / 2], p99 = ms[(int)ceil(0.99 * ticks) - 1], max = ms[ticks - 1];
    double bps = (double)cnt.roster_bytes / n_players / seconds;
    double mps = (double)cnt.roster_msgs / n_players / seconds;
    double kib_tick = (double)cnt.roster_bytes / ticks / 1024.0;
    printf("| %7d | %8.2f | %8.2f | %8.2f | %13.0f | %11.1f | %15.0f | %8.0f |\n", n_players, p50,
           p99, max, bps, mps, kib_tick, enter_ms);
    fflush(stdout);
    free(ms);
    free(bots);
    zsim_free(sim);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    if (getenv("BENCH_HOTSPOT")) hotspot_n = atoi(getenv("BENCH_HOTSPOT"));
    if (getenv("BENCH_THREADS")) threads = atoi(getenv("BENCH_THREADS"));
    if (getenv("BENCH_COMPACT")) compact = atoi(getenv("BENCH_COMPACT"));
    if (seconds <= 0) seconds = 10;
    printf("zone %gx%g ft, %d Hz, hotspot %d players within %g ft, roster_max_entities 64, "
           "%g s per run, roster threads %d, %s clients\n\n",
           ZONE_FT, ZONE_FT, TICK_RATE, hotspot_n, HOTSPOT_R, seconds, threads,
           compact ? "compact" : "JSON");
    printf("| players | p50 (ms) | p99 (ms) | max (ms) | roster B/pl/s |   msgs/pl/s | "
           "roster KiB/tick | enter ms |\n");
    printf("|--------:|---------:|---------:|---------:|--------------:|------------:|"
           "----------------:|---------:|\n");
    if (argc > 2) {
        for (int i = 2; i < argc; i++)
            run(atoi(argv[i]), seconds);
    } else {
        int sizes[] = {1000, 5000, 10000};
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            run(sizes[i], seconds);
    }
    return 0;
}
