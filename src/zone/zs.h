/* zs.h - zone server internals shared by server.c and admin.c.
 * Not included outside src/zone/. */
#ifndef WOD_ZS_H
#define WOD_ZS_H

#include "failover.h"
#include "server.h"
#include "../sim/sim.h"
#include "../bus/batch.h"
#include "../bus/envelope.h"

#include <uthash.h>

#define ZS_MAX_CATCHUP  3    /* ticks run back to back after a stall */
#define ZS_SAVE_BATCH   4096 /* characters per save job */
#define ZS_TICK_BUCKETS 7    /* tick-time histogram buckets (ms), see tick_buckets */
/* A loop that went this long without running was paused (SIGSTOP, VM
 * pause, swap): a standby may have taken our zones meanwhile. Far below the
 * 15 s heartbeat TTL, far above any tick. */
#define ZS_PAUSE_MS       3000
#define ZS_FENCE_RETRY_MS 500 /* claim check retry while the registry is down */
#define ZS_BACKLOG_MAX    ((size_t)8 * 1024 * 1024) /* input held per zone during a claim check */
/* Fresh heartbeat reads in a row (REGISTRY_HEARTBEAT_EVERY_MS apart) that
 * must miss a gateway before its players go: 10 s of a reachable Redis
 * without a heartbeat the gateway refreshes every 5 s. */
#define ZS_GHOST_SCANS 3

/* One bus input frame held while the zone's claim is being checked. */
typedef struct zs_frame_s {
    struct zs_frame_s *next;
    size_t len;
    char data[];
} zs_frame_t;

typedef struct zs_zone_s {
    char id[ZONE_ID_MAX + 1];
    zsim_t *sim;
    zs_t *zs;
    /* Players of the last snapshot, by character id, after a takeover: a
     * player whose gateway re-enters it continues from here. */
    json_t *restore;
    uint64_t epoch; /* fencing epoch of our claim; stamped on every output record */
    /* Fenced: after a pause or a bus reconnect we may have lost the claim.
     * No tick, no output; input is held in the backlog until the registry
     * confirms the claim (then it is processed) or names another owner
     * (then the zone is given up and the backlog dropped). */
    int fenced;
    int fence_inflight;    /* a claim check is waiting for the registry ... */
    int fence_stale;       /* ... and was sent before the latest pause: ask again */
    double fence_asked_ms; /* when it was sent */
    zs_frame_t *backlog, *backlog_tail;
    size_t backlog_bytes;
    unsigned long backlog_dropped; /* frames beyond ZS_BACKLOG_MAX */
    UT_hash_handle hh;
} zs_zone_t;

typedef struct zs_player_s {
    uint64_t ref;
    int64_t character_id;
    env_client_t client;
    zs_zone_t *zone;
    double max_update_rate; /* the client's, kept over border crossings */
    unsigned client_flags;  /* MSG_CLIENT_* of the client */
    UT_hash_handle hh_ref;
    UT_hash_handle hh_char;
} zs_player_t;

/* Output for one gateway (destination = gateway id). */
typedef struct zs_out_s {
    bus_batch_t b;              /* first: bus_batch_get allocates the whole struct */
    char zone[ZONE_ID_MAX + 1]; /* zone of the frame's last EPOCH record */
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
    npcdef_t *npcs;   /* every zone's NPC spawns, loaded at start-up */
    int n_npcs;
    struct llm_s *llm; /* LLM-voiced NPCs, NULL = off */
    int role_all;
    zs_zone_t *zones;
    zs_player_t *by_ref, *by_char;
    bus_batch_t *outs; /* zs_out_t per gateway */
    uint64_t next_ref;
    uv_timer_t tick_timer, save_timer, hb_timer;
    double step_ms, next_tick;
    int handles_open;
    int bus_up;
    double started_ms;
    double next_location_refresh_ms; /* mono ms: rewrite player:location keys (TTL) */
    zs_failover_t failover;          /* snapshots, the standby's orphan scan (failover.c) */
    json_t *gateway_misses;          /* gatewayId -> fresh heartbeat reads without it */
    int servers_inflight;            /* one ghost check's heartbeat read at a time ... */
    double servers_asked_ms;
    unsigned servers_pauses;
    /* fencing */
    double alive_ms; /* the loop last ran then (pause detection) */
    unsigned pauses; /* pauses detected so far */
    int bus_lost;    /* the bus went down (its next up is a reconnect) */
    /* metrics */
    unsigned long long ticks, records_in, bad_frames, saves;
    unsigned long long zones_lost, backlog_frames_dropped;
    unsigned long long crossings_held; /* steps into a zone the bus could not reach */
    double crossings_held_logged_ms;
    double save_ms_total;
    unsigned long long tick_hist[ZS_TICK_BUCKETS + 1]; /* per bucket, last = +Inf */
    double tick_ms_sum;
};

/* server.c */
zs_zone_t *zs__zone_find(zs_t *zs, const char *id);
/* Creates and subscribes the sim of a zone we now own. restore: snapshot
 * players (owned), or NULL. */
zs_zone_t *zs__zone_open(zs_t *zs, const char *zone, json_t *restore, uint64_t epoch);
void zs__player_drop(zs_t *zs, zs_player_t *p);
/* Takes a player out of the world: leaves its sim, saves it, clears its
 * location. keep_state: its state goes to the zone's restore set, so a
 * re-entry (ENV_ENTRY_RECOVER) continues from there. */
void zs__player_remove(zs_t *zs, zs_player_t *p, int keep_state);
void zs__save_async(zs_t *zs, const character_t *chars, int n);
void zs__heartbeat(zs_t *zs);
/* The output frame for a gateway, counting one more record from zone z
 * (an EPOCH record is written first when the frame's zone changes). */
buf_t *zs__out_for(zs_t *zs, const char *gateway, const zs_zone_t *z);
/* Checks the loop clock: after a pause, fences every zone. Returns 1 then. */
int zs__check_pause(zs_t *zs);
/* admin.c: the payload of the ADMIN_SNAPSHOT answering an ADMIN_QUERY for
 * zone z (every entity with its position, JSON), appended to out. */
void zs__admin_snapshot(zs_t *zs, zs_zone_t *z, buf_t *out);

#endif
