/* failover.h - what keeps a zone alive when its server is not: snapshots
 * and the standby's orphan scan and takeover (failover.c).
 *
 * Direction: server.c owns a zs_failover_t and tells it what it needs
 * (loop, store, registry, the world, and hooks for the few questions only
 * the server can answer); failover.c knows nothing of the server's zones
 * or players. */
#ifndef WOD_ZONE_FAILOVER_H
#define WOD_ZONE_FAILOVER_H

#include "../game/zonedef.h"
#include "../registry/registry.h"
#include "../sim/sim.h"
#include "../store/store.h"

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

/* A registry read slower than this went through a stalled Redis (or a
 * stalled us): what it shows about heartbeats is not evidence. */
#define ZS_FRESH_READ_MS 1000

typedef struct zs_failover_hooks_s {
    void *ud;
    /* 1 if this server hosts zone now. */
    int (*hosts)(void *ud, const char *zone);
    /* A takeover was won: open zone at epoch with the snapshot's players
     * (restore, owned by the callee; NULL if there was none). */
    void (*take)(void *ud, const char *zone, json_t *restore, uint64_t epoch);
    /* The pauses of this process detected so far; check: look at the loop
     * clock first (a pause found now fences the zones and counts). */
    unsigned (*pauses)(void *ud, int check);
} zs_failover_hooks_t;

typedef struct zs_failover_s {
    uv_loop_t *loop;
    store_t *store;       /* borrowed */
    registry_t *registry; /* borrowed */
    const zonedef_t *world;
    int n_world;
    zs_failover_hooks_t hooks;
    uv_timer_t scan_timer; /* standby: looks for orphaned zones every second;
                              closed by the owner of this struct */
    json_t *scan_zones;    /* last registry view of the zone claims */
    json_t *suspects;      /* zoneId -> dead owner seen on the previous scan */
    json_t *seen_assigned; /* zoneId -> true: zones that had an owner once */
    int scan_inflight;     /* one orphan scan at a time ... */
    double scan_asked_ms;  /* ... started then ... */
    unsigned scan_pauses;  /* ... when the pause count was this */
} zs_failover_t;

/* Initialises fo (and its timer on loop); nothing runs yet. */
void zs_failover_init(zs_failover_t *fo, uv_loop_t *loop, store_t *store, registry_t *registry,
                      const zonedef_t *world, int n_world, const zs_failover_hooks_t *hooks);
/* Starts the orphan scan (standby and unassigned servers). */
void zs_failover_scan_start(zs_failover_t *fo);
void zs_failover_scan_stop(zs_failover_t *fo);
/* Writes a snapshot of the zone's players (async, or blocking when sync=1). */
void zs_failover_snapshot(zs_failover_t *fo, const char *zone, zsim_t *sim, int sync);
/* Frees the registry views (the timer is closed by the owner first). */
void zs_failover_free(zs_failover_t *fo);

#endif
