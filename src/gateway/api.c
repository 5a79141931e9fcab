/* api.c - the gateway's HTTP API: /health, /api/info, /api/zones,
 * /api/servers and /metrics (Prometheus text). Cluster views come from a
 * cache of the registry refreshed every second, so a request never waits
 * on Redis. */
#include "gw.h"
#include "hashpool.h"
#include "throttle.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/str.h"

#include <string.h>

static void dump(buf_t *body, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    buf_puts(body, s ? s : "null");
    free(s);
    json_decref(j);
}

static void on_servers(void *ud, json_t *result)
{
    gw_t *gw = ud;
    if (!result) return;
    json_decref(gw->servers_cache);
    gw->servers_cache = json_deep_copy(result);
}

static void on_zones(void *ud, json_t *result)
{
    gw_t *gw = ud;
    if (!result) return;
    json_decref(gw->zones_cache);
    gw->zones_cache = json_deep_copy(result);
}

static int in_world_count(gw_t *gw)
{
    int n = 0;
    for (uint32_t i = 0; i < gw->n_slots; i++)
        if (gw->slots[i] && gw->slots[i]->state == ST_IN_WORLD) n++;
    return n;
}

void gw_api_refresh(gw_t *gw)
{
    static int ticks;
    if (!gw->role_all && ticks++ % (REGISTRY_HEARTBEAT_EVERY_MS / 1000) == 0) {
        char hb[384];
        int n = str_fmt(hb, sizeof(hb),
                        "{\"type\":\"gateway\",\"zones\":[],\"players\":%d,\"connections\":%u,"
                        "\"address\":\"%s:%d\",\"msgsIn\":%llu,\"msgsOut\":%llu,\"sentAt\":%llu}",
                        in_world_count(gw), gw->n_conns, gw->cfg.bind_address, gw->cfg.gateway_port,
                        gw->msgs_in, gw->msgs_out, (unsigned long long)clock_wall_ms());
        /* A beat lost to a registry outage is written again by the next one
         * (the TTL outlasts several). A bind address too long for hb would
         * give broken JSON: no beat then, and a warning. */
        if (n < 0)
            log_warn("gateway", "heartbeat does not fit %zu bytes; not written", sizeof(hb));
        else
            (void)registry_heartbeat(gw->registry, hb);
    }
    /* Refused while the registry is away: the cache keeps the last view and
     * the next second asks again. */
    (void)registry_list_servers(gw->registry, on_servers, gw);
    (void)registry_list_zones(gw->registry, on_zones, gw);
    gw_recovery_check(gw);
}

/* Each live server's heartbeat, plus the original's `serverId` and
 * `alive` (listed = its heartbeat key has not expired). */
static json_t *servers_array(gw_t *gw)
{
    json_t *arr = json_array();
    const char *id;
    json_t *hb;
    json_object_foreach(gw->servers_cache, id, hb)
    {
        json_t *s = json_deep_copy(hb);
        json_object_set_new(s, "serverId", json_string(id));
        json_object_set_new(s, "alive", json_true());
        json_array_append_new(arr, s);
    }
    return arr;
}

/* The host part of a server's heartbeat address ("127.0.0.1:3101"). */
static json_t *server_host(gw_t *gw, const char *server_id)
{
    json_t *hb = server_id ? json_object_get(gw->servers_cache, server_id) : NULL;
    const char *addr = json_string_value(json_object_get(hb, "address"));
    if (!addr) return json_null();
    const char *colon = strrchr(addr, ':');
    return json_stringn(addr, colon ? (size_t)(colon - addr) : strlen(addr));
}

/* assignedAt: the registry keeps no time, so it is when this gateway
 * first saw the zone held by its current owner (wall ms). */
static json_int_t assigned_at(gw_t *gw, const char *zone, const char *owner, uint64_t now)
{
    if (!owner) return 0;
    json_t *seen = json_object_get(gw->assigned_seen, zone);
    if (!seen || strcmp(json_string_value(json_array_get(seen, 0)), owner) != 0) {
        seen = json_pack("[s, I]", owner, (json_int_t)now);
        json_object_set_new(gw->assigned_seen, zone, seen);
    }
    return json_integer_value(json_array_get(seen, 1));
}

static json_t *zones_object(gw_t *gw)
{
    json_t *zones = json_object();
    for (int i = 0; i < gw->n_zones; i++) {
        const char *id = gw->zones[i].id;
        json_t *owner = json_object_get(gw->zones_cache, id);
        json_t *z = json_pack("{s:s, s:o, s:i}", "name", gw->zones[i].name, "server",
                              owner ? json_copy(owner) : json_null(), "players", 0);
        /* players and tick times per zone come from the owner's heartbeat */
        json_t *hb = owner ? json_object_get(gw->servers_cache, json_string_value(owner)) : NULL;
        json_t *st = hb ? json_object_get(json_object_get(hb, "zoneStats"), id) : NULL;
        if (st) {
            json_object_set(z, "players", json_object_get(st, "players"));
            json_object_set(z, "tickMs", json_object_get(st, "tickMs"));
        }
        json_object_set_new(zones, id, z);
    }
    return zones;
}

static void metrics(gw_t *gw, buf_t *b)
{
    buf_printf(
        b,
        "# HELP wod_gateway_connections Active client WebSocket connections.\n"
        "# TYPE wod_gateway_connections gauge\nwod_gateway_connections %u\n"
        "# HELP wod_gateway_players Clients with a character in the world.\n"
        "# TYPE wod_gateway_players gauge\nwod_gateway_players %d\n"
        "# TYPE wod_gateway_connections_total counter\nwod_gateway_connections_total %llu\n"
        "# HELP wod_gateway_messages_in_total Client messages received.\n"
        "# TYPE wod_gateway_messages_in_total counter\nwod_gateway_messages_in_total %llu\n"
        "# TYPE wod_gateway_messages_out_total counter\nwod_gateway_messages_out_total %llu\n"
        "# HELP wod_gateway_routed_total Client messages routed to zones.\n"
        "# TYPE wod_gateway_routed_total counter\nwod_gateway_routed_total %llu\n"
        "# TYPE wod_gateway_auth_total counter\n"
        "wod_gateway_auth_total{result=\"ok\"} %llu\n"
        "wod_gateway_auth_total{result=\"fail\"} %llu\n",
        gw->n_conns, in_world_count(gw), gw->connections_total, gw->msgs_in, gw->msgs_out,
        gw->routed, gw->auth_ok, gw->auth_fail);
    buf_printf(b,
               "# HELP wod_gateway_deltas_dropped_total Roster deltas skipped for clients too "
               "far behind (they get a full roster once caught up).\n"
               "# TYPE wod_gateway_deltas_dropped_total counter\n"
               "wod_gateway_deltas_dropped_total %llu\n"
               "# HELP wod_gateway_stale_epoch_drops_total Zone records dropped: their zone "
               "server had lost the zone (fencing).\n"
               "# TYPE wod_gateway_stale_epoch_drops_total counter\n"
               "wod_gateway_stale_epoch_drops_total %llu\n",
               gw->deltas_dropped, gw->stale_epoch_drops);
    gw_limits_metrics(gw, b);
    buf_printf(b,
               "# HELP wod_gateway_slow_client_closes_total Clients closed for not reading "
               "(send queue over GATEWAY_SEND_QUEUE_BYTES or stalled GATEWAY_SEND_STALL_MS).\n"
               "# TYPE wod_gateway_slow_client_closes_total counter\n"
               "wod_gateway_slow_client_closes_total %llu\n",
               gw->slow_closes);
    if (gw->bus) bus_stats_prometheus(gw->bus, "gateway", b);
    buf_printf(b,
               "# HELP wod_store_query_seconds Store operations run by the gateway.\n"
               "# TYPE wod_store_query_seconds summary\n"
               "wod_store_query_seconds_sum{role=\"gateway\"} %.6f\n"
               "wod_store_query_seconds_count{role=\"gateway\"} %llu\n",
               gw->store_ms_total / 1000.0, gw->store_ops);
    buf_printf(b,
               "# HELP wod_auth_failures_total Wrong passwords and unknown tokens.\n"
               "# TYPE wod_auth_failures_total counter\n"
               "wod_auth_failures_total{method=\"password\"} %llu\n"
               "wod_auth_failures_total{method=\"token\"} %llu\n"
               "# HELP wod_auth_lockouts_total Account lockouts started by failed logins.\n"
               "# TYPE wod_auth_lockouts_total counter\nwod_auth_lockouts_total %llu\n"
               "# HELP wod_auth_busy_total Password logins refused because the hashing queue was "
               "full.\n"
               "# TYPE wod_auth_busy_total counter\nwod_auth_busy_total %llu\n"
               "# HELP wod_auth_connections_cut_total Connections closed after too many refused "
               "auth attempts.\n"
               "# TYPE wod_auth_connections_cut_total counter\n"
               "wod_auth_connections_cut_total %llu\n"
               "# HELP wod_auth_hash_queue_depth Password jobs running or waiting.\n"
               "# TYPE wod_auth_hash_queue_depth gauge\nwod_auth_hash_queue_depth %d\n"
               "# HELP wod_auth_throttle_entries Addresses and accounts the throttles remember.\n"
               "# TYPE wod_auth_throttle_entries gauge\nwod_auth_throttle_entries %zu\n"
               "# HELP wod_auth_rate_limited_total Auth requests refused by a per-address limit.\n"
               "# TYPE wod_auth_rate_limited_total counter\n"
               "wod_auth_rate_limited_total{kind=\"login\"} %llu\n"
               "wod_auth_rate_limited_total{kind=\"token\"} %llu\n"
               "wod_auth_rate_limited_total{kind=\"guest\"} %llu\n",
               gw->auth_bad_password, gw->auth_bad_token, gw->auth_lockouts, gw->auth_busy,
               gw->auth_conn_cut, gw->hashpool ? hashpool_depth(gw->hashpool) : 0,
               gw->throttle ? throttle_count(gw->throttle) : 0, gw->auth_limited[GW_LIMIT_LOGIN],
               gw->auth_limited[GW_LIMIT_TOKEN], gw->auth_limited[GW_LIMIT_GUEST]);
}

int gw_api_handle(gw_t *gw, const char *path, buf_t *body, const char **type)
{
    uint64_t now = clock_wall_ms();
    if (strncmp(path, "/api/", 5) == 0) {
        /* The local registry answers at once; Redis answers refresh the cache
         * for the next request, this one uses what the cache holds (also
         * when the registry refuses: the 1 s refresh asks again). */
        (void)registry_list_servers(gw->registry, on_servers, gw);
        (void)registry_list_zones(gw->registry, on_zones, gw);
    }
    if (strcmp(path, "/health") == 0) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "status", "ok", "type",
                              gw->role_all ? "all" : "gateway", "serverId", gw->cfg.server_id,
                              "timestamp", (json_int_t)now, "uptime",
                              (json_int_t)((clock_mono_ms() - gw->started_ms) / 1000), "connected",
                              gw->bus_up);
        dump(body, j);
        return 200;
    }
    if (strcmp(path, "/api/info") == 0) {
        json_t *zones = zones_object(gw);
        json_int_t players = 0;
        const char *id;
        json_t *hb;
        json_object_foreach(gw->servers_cache, id, hb)
        {
            const char *t = json_string_value(json_object_get(hb, "type"));
            if (t && strcmp(t, "gateway") != 0)
                players += json_integer_value(json_object_get(hb, "players"));
        }
        json_t *servers = servers_array(gw);
        /* the original's counts, then our detail under names of its own */
        json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i, s:o, s:o}", "serverId",
                              gw->cfg.server_id, "type", gw->role_all ? "all" : "gateway",
                              "timestamp", (json_int_t)now, "players", players, "connections",
                              (int)gw->n_conns, "zones", (int)json_object_size(gw->zones_cache),
                              "servers", (int)json_array_size(servers), "zoneDetails", zones,
                              "serverDetails", servers);
        dump(body, j);
        return 200;
    }
    if (strcmp(path, "/api/zones") == 0) {
        json_t *arr = json_array();
        for (int i = 0; i < gw->n_zones; i++) {
            const char *id = gw->zones[i].id;
            const char *owner = json_string_value(json_object_get(gw->zones_cache, id));
            json_array_append_new(
                arr, json_pack("{s:s, s:o, s:o, s:I, s:s}", "zoneId", id, "serverId",
                               owner ? json_string(owner) : json_null(), "serverHost",
                               server_host(gw, owner), "assignedAt",
                               assigned_at(gw, id, owner, now), "name", gw->zones[i].name));
        }
        dump(body, json_pack("{s:o}", "zones", arr));
        return 200;
    }
    if (strcmp(path, "/api/servers") == 0) {
        dump(body, json_pack("{s:o}", "servers", servers_array(gw)));
        return 200;
    }
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4";
        metrics(gw, body);
        return 200;
    }
    dump(body, json_pack("{s:s, s:s}", "error", "not found", "path", path));
    return 404;
}
