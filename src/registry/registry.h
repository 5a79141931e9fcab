/* registry.h - the shared registry of the seed: which server hosts which
 * zone, where each player is, which servers are alive.
 *
 * Keys (Redis implementation, docs/PROTOCOL.md "Registry"):
 *   zone:assignment:{zoneId}      -> serverId (claimed atomically)
 *   zone:epoch:{zoneId}           -> fencing epoch, bumped by every new claim/takeover
 *   player:location:{characterId} -> JSON {zone, zoneServer, gateway}
 *   server:heartbeat:{serverId}   -> JSON {type, zones, players, tickMs, address}, TTL 15 s
 * registry_local.c keeps the same data in memory for `wod-server all`.
 * Calls are asynchronous; callbacks run on the loop. */
#ifndef WOD_REGISTRY_H
#define WOD_REGISTRY_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#define REGISTRY_HEARTBEAT_TTL_S    15
#define REGISTRY_HEARTBEAT_EVERY_MS 5000
/* player:location keys expire unless refreshed (a crashed zone server
 * leaves none behind for long); zone servers rewrite them this often. */
#define REGISTRY_LOCATION_TTL_S      120
#define REGISTRY_LOCATION_REFRESH_MS 60000

typedef struct registry_s registry_t;

/* won=1 when server_id now owns the zone (new claim or already ours at the
 * epoch it held); owner names the current owner (NULL on error, "" when the
 * zone is free but was held by someone else after us); epoch is the claim's
 * fencing epoch (0 on error). Every record a zone server publishes for the
 * zone carries that epoch; gateways drop records of an older one. */
typedef void (*registry_claim_cb)(void *ud, const char *zone, int won, const char *owner,
                                  uint64_t epoch);
/* result is borrowed for the call: list_servers gives {serverId: heartbeat
 * object}, list_zones {zoneId: serverId}; NULL on error. */
typedef void (*registry_json_cb)(void *ud, json_t *result);

typedef struct registry_ops_s {
    /* Claims a zone, or confirms a claim. held_epoch 0: a new claim (a free
     * zone is taken with the next epoch; a zone already assigned to us gets
     * a new epoch too, as this process has none). held_epoch > 0: we run the
     * zone at that epoch; won only if the claim is still ours at that epoch.
     * If the registry lost the keys (a Redis restart without persistence)
     * and nobody claimed since, the claim is restored at held_epoch. */
    int (*claim_zone)(registry_t *r, const char *zone, uint64_t held_epoch, registry_claim_cb cb,
                      void *ud);
    /* Claims a zone that is free or still held by `dead_owner` (whose
     * heartbeat expired): a compare-and-set, so one claimant wins, with a
     * new epoch. */
    int (*takeover_zone)(registry_t *r, const char *zone, const char *dead_owner,
                         registry_claim_cb cb, void *ud);
    /* Deletes the assignment only if this server holds it. */
    int (*release_zone)(registry_t *r, const char *zone);
    /* Writes server:heartbeat:{server_id} = value with the 15 s TTL;
     * NULL deletes it (clean shutdown). */
    int (*heartbeat)(registry_t *r, const char *value_json);
    /* Writes player:location:{id} with the REGISTRY_LOCATION_TTL_S TTL
     * (writing it again refreshes it); value NULL deletes the location. */
    int (*player_location)(registry_t *r, int64_t character_id, const char *value_json);
    int (*list_servers)(registry_t *r, registry_json_cb cb, void *ud);
    int (*list_zones)(registry_t *r, registry_json_cb cb, void *ud);
    void (*close)(registry_t *r);
} registry_ops_t;

struct registry_s {
    const registry_ops_t *ops;
    char server_id[64];
};

/* Calls through the ops table, one per operation (see registry_ops_t). */
static inline int registry_claim_zone(registry_t *r, const char *zone, uint64_t held_epoch,
                                      registry_claim_cb cb, void *ud)
{
    return r->ops->claim_zone(r, zone, held_epoch, cb, ud);
}
static inline int registry_takeover_zone(registry_t *r, const char *zone, const char *dead_owner,
                                         registry_claim_cb cb, void *ud)
{
    return r->ops->takeover_zone(r, zone, dead_owner, cb, ud);
}
static inline int registry_release_zone(registry_t *r, const char *zone)
{
    return r->ops->release_zone(r, zone);
}
static inline int registry_heartbeat(registry_t *r, const char *value_json)
{
    return r->ops->heartbeat(r, value_json);
}
static inline int registry_player_location(registry_t *r, int64_t character_id,
                                           const char *value_json)
{
    return r->ops->player_location(r, character_id, value_json);
}
static inline int registry_list_servers(registry_t *r, registry_json_cb cb, void *ud)
{
    return r->ops->list_servers(r, cb, ud);
}
static inline int registry_list_zones(registry_t *r, registry_json_cb cb, void *ud)
{
    return r->ops->list_zones(r, cb, ud);
}
static inline void registry_close(registry_t *r)
{
    r->ops->close(r);
}

/* In-process registry shared by the roles of `wod-server all`. */
registry_t *registry_local_new(uv_loop_t *loop, const char *server_id);
/* Redis registry on its own command connection (reconnects with backoff).
 * While it waits to reconnect, calls return -ENOTCONN (no callback). A
 * call that returned 0 calls back exactly once, with NULL / won=0 on an
 * error or a dropped connection; close() calls back every call still in
 * flight (NULL) before it returns. NULL on a malformed url. */
registry_t *registry_redis_new(uv_loop_t *loop, const char *url, const char *server_id);

#endif
