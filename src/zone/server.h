/* server.h - the zone server role: hosts the zsim_t of every zone it
 * owns, feeds them bus input, ticks them at TICK_RATE, batches their
 * output per gateway, persists players, and keeps its registry entries
 * (zone claims, heartbeat, player locations) alive. */
#ifndef WOD_ZONE_SERVER_H
#define WOD_ZONE_SERVER_H

#include "../bus/bus.h"
#include "../core/buf.h"
#include "../core/config.h"
#include "../game/gamedata.h"
#include "../game/zonedef.h"
#include "../registry/registry.h"
#include "../store/store.h"

#include <uv.h>

typedef struct zs_s zs_t;

typedef struct zs_options_s {
    const config_t *cfg;
    store_t *store;         /* borrowed */
    registry_t *registry;   /* borrowed */
    const zonedef_t *zones; /* the whole world; copied */
    int n_zones;
    int role_all;           /* heartbeat says type "all" and refreshes every second */
    const gamedata_t *data; /* abilities/items/loot from the store; copied; may be NULL */
} zs_options_t;

zs_t *zs_new(uv_loop_t *loop, const zs_options_t *opt);
/* Subscribes, claims zones (ASSIGNED_ZONES or every unclaimed one) and
 * starts ticking. */
void zs_attach_bus(zs_t *zs, bus_t *bus);
void zs_bus_msg(void *ud, const char *channel, const char *data, size_t len);
void zs_bus_state(void *ud, int up);
/* /health body ({status, type "zone", serverId, timestamp, uptime, connected}). */
void zs_health_json(zs_t *zs, buf_t *out);
/* Prometheus text: zones, players per zone, tick histogram, bus and store. */
void zs_metrics(zs_t *zs, buf_t *out);
/* Saves every player now (blocking: for shutdown), releases the claims. */
void zs_shutdown(zs_t *zs);
void zs_free(zs_t *zs);

#endif
