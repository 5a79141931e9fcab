/* registry_local.c - in-memory registry for `wod-server all` (see
 * registry.h). One process, one server: claims always succeed unless the
 * zone is already held, heartbeats never expire while the process lives.
 * Callbacks run synchronously: the caller never holds state across them. */
#include "registry.h"
#include "../core/alloc.h"

#include <stdio.h>
#include <string.h>

typedef struct local_registry_s {
    registry_t base;
    json_t *zones;     /* zoneId -> serverId */
    json_t *epochs;    /* zoneId -> fencing epoch (kept across releases) */
    json_t *servers;   /* serverId -> heartbeat object */
    json_t *locations; /* characterId -> location object */
} local_registry_t;

#define LR(r) ((local_registry_t *)(r))

static uint64_t epoch_of(local_registry_t *lr, const char *zone)
{
    return (uint64_t)json_integer_value(json_object_get(lr->epochs, zone));
}

static uint64_t bump_epoch(local_registry_t *lr, const char *zone)
{
    uint64_t e = epoch_of(lr, zone) + 1;
    json_object_set_new(lr->epochs, zone, json_integer((json_int_t)e));
    return e;
}

/* Same rules as the Redis claim script (registry.h), minus lost keys. */
static int lr_claim(registry_t *r, const char *zone, uint64_t held, registry_claim_cb cb, void *ud)
{
    local_registry_t *lr = LR(r);
    json_t *owner = json_object_get(lr->zones, zone);
    uint64_t e = epoch_of(lr, zone);
    if (!owner && (held == 0 || held == e)) {
        json_object_set_new(lr->zones, zone, json_string(r->server_id));
        owner = json_object_get(lr->zones, zone);
        if (held == 0) e = bump_epoch(lr, zone);
    } else if (owner && held == 0 && strcmp(json_string_value(owner), r->server_id) == 0) {
        e = bump_epoch(lr, zone);
    }
    const char *o = owner ? json_string_value(owner) : "";
    cb(ud, zone, strcmp(o, r->server_id) == 0 && (held == 0 || held == e), o, e);
    return 0;
}

static int lr_takeover(registry_t *r, const char *zone, const char *dead_owner,
                       registry_claim_cb cb, void *ud)
{
    local_registry_t *lr = LR(r);
    json_t *owner = json_object_get(lr->zones, zone);
    uint64_t e = epoch_of(lr, zone);
    if (!owner || strcmp(json_string_value(owner), dead_owner) == 0) {
        json_object_set_new(lr->zones, zone, json_string(r->server_id));
        owner = json_object_get(lr->zones, zone);
        e = bump_epoch(lr, zone);
    }
    const char *o = json_string_value(owner);
    cb(ud, zone, strcmp(o, r->server_id) == 0, o, e);
    return 0;
}

static int lr_release(registry_t *r, const char *zone)
{
    json_t *owner = json_object_get(LR(r)->zones, zone);
    if (owner && strcmp(json_string_value(owner), r->server_id) == 0)
        json_object_del(LR(r)->zones, zone);
    return 0;
}

static int lr_heartbeat(registry_t *r, const char *value)
{
    if (!value) return json_object_del(LR(r)->servers, r->server_id), 0;
    json_t *v = json_loads(value, 0, NULL);
    if (!v) return -1;
    json_object_set_new(LR(r)->servers, r->server_id, v);
    return 0;
}

static int lr_location(registry_t *r, int64_t id, const char *value)
{
    char key[32];
    (void)snprintf(key, sizeof(key), "%lld", (long long)id);
    if (!value) return json_object_del(LR(r)->locations, key), 0;
    json_t *v = json_loads(value, 0, NULL);
    if (!v) return -1;
    json_object_set_new(LR(r)->locations, key, v);
    return 0;
}

static int lr_list_servers(registry_t *r, registry_json_cb cb, void *ud)
{
    cb(ud, LR(r)->servers);
    return 0;
}

static int lr_list_zones(registry_t *r, registry_json_cb cb, void *ud)
{
    cb(ud, LR(r)->zones);
    return 0;
}

static void lr_close(registry_t *r)
{
    json_decref(LR(r)->zones);
    json_decref(LR(r)->epochs);
    json_decref(LR(r)->servers);
    json_decref(LR(r)->locations);
    free(r);
}

static const registry_ops_t local_ops = {
    .claim_zone = lr_claim,
    .takeover_zone = lr_takeover,
    .release_zone = lr_release,
    .heartbeat = lr_heartbeat,
    .player_location = lr_location,
    .list_servers = lr_list_servers,
    .list_zones = lr_list_zones,
    .close = lr_close,
};

registry_t *registry_local_new(uv_loop_t *loop, const char *server_id)
{
    (void)loop;
    local_registry_t *r = wod_calloc(1, sizeof(*r));
    r->base.ops = &local_ops;
    (void)snprintf(r->base.server_id, sizeof(r->base.server_id), "%s", server_id);
    r->zones = json_object();
    r->epochs = json_object();
    r->servers = json_object();
    r->locations = json_object();
    return &r->base;
}
