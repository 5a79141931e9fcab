/* zs.h - zone server internals shared by server.c and failover.c.
 * Not included outside src/zone/. */
#ifndef WOD_ZS_H
#define WOD_ZS_H

#include "server.h"
#include "../sim/sim.h"
#include "../bus/envelope.h"

#include <uthash.h>

#define ZS_MAX_CATCHUP  3    /* ticks run back to back after a stall */
#define ZS_SAVE_BATCH   4096 /* characters per save job */
#define ZS_TICK_BUCKETS 7    /* tick-time histogram buckets (ms), see tick_buckets */

typedef struct zs_zone_s {
    char id[ZONE_ID_MAX + 1];
    zsim_t *sim;
    zs_t *zs;
    /* Players of the last snapshot, by character id, after a takeover: a
     * player whose gateway re-enters it continues from here. */
    json_t *restore;
    UT_hash_handle hh;
} zs_zone_t;

typedef struct zs_player_s {
    uint64_t ref;
    int64_t character_id;
    env_client_t client;
    zs_zone_t *zone;
    UT_hash_handle hh_ref;
    UT_hash_handle hh_char;
} zs_player_t;

typedef struct zs_out_s {
    char gateway[ENV_GW_MAX + 1];
    buf_t frame;
    int records;
    UT_hash_handle hh;
} zs_out_t;

struct zs_s {
    uv_loop_t *loop;
    config_t cfg;
    store_t *store;
    registry_t *registry;
    bus_t *bus;
    zonedef_t *world;
    int n_world;
    gamedata_t *data; /* abilities, items, loot (owned copy; NULL = the sim's built-in) */
    int role_all;
    zs_zone_t *zones;
    zs_player_t *by_ref, *by_char;
    zs_out_t *outs;
    uint64_t next_ref;
    uv_timer_t tick_timer, save_timer, hb_timer;
    double step_ms, next_tick;
    int handles_open;
    int bus_up;
    double started_ms;
    /* failover (failover.c) */
    uv_timer_t scan_timer;  /* standby: looks for orphaned zones every second */
    json_t *scan_zones;     /* last registry views */
    json_t *suspects;       /* zoneId -> dead owner seen on the previous scan */
    json_t *seen_assigned;  /* zoneId -> true: zones that had an owner once */
    json_t *gateway_misses; /* gatewayId -> scans without a heartbeat */
    /* metrics */
    unsigned long long ticks, records_in, bad_frames, saves;
    double save_ms_total;
    unsigned long long tick_hist[ZS_TICK_BUCKETS + 1]; /* per bucket, last = +Inf */
    double tick_ms_sum;
};

/* server.c */
zs_zone_t *zs__zone_find(zs_t *zs, const char *id);
/* Creates and subscribes the sim of a zone we now own. restore: snapshot
 * players (owned), or NULL. */
zs_zone_t *zs__zone_open(zs_t *zs, const char *zone, json_t *restore);
void zs__player_drop(zs_t *zs, zs_player_t *p);
/* Takes a player out of the world: leaves its sim, saves it, clears its location. */
void zs__player_remove(zs_t *zs, zs_player_t *p);
void zs__save_async(zs_t *zs, const character_t *chars, int n);
void zs__heartbeat(zs_t *zs);
zs_out_t *zs__out_for(zs_t *zs, const char *gateway);

/* failover.c */
/* Writes a snapshot of every zone (async, or blocking when sync=1). */
void zs__snapshot_all(zs_t *zs, int sync);
/* Starts the orphan scan (standby and unassigned servers). */
void zs__failover_start(zs_t *zs);
/* Removes players whose gateway stopped sending heartbeats. */
void zs__reap_ghosts(zs_t *zs, json_t *servers);
void zs__failover_free(zs_t *zs);

#endif
