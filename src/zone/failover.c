/* failover.c - what keeps a zone alive when its server is not: snapshots,
 * the standby's orphan scan and takeover, and reaping the players of dead
 * gateways.
 *
 * A snapshot is a JSON object {zone, savedAt, players: {characterId:
 * state}} written every SAVE_INTERVAL_MS and at shutdown. A standby
 * (ZONE_STANDBY=1, or a server with ASSIGNED_ZONES empty) lists the
 * registry every second; a zone whose owner has had no heartbeat on two
 * scans in a row, or that was released, is taken over with a
 * compare-and-set (registry takeover_zone) so exactly one standby wins.
 * The winner loads the snapshot; gateways then re-enter their players
 * (ENV_ENTRY_RECOVER) and each continues from its snapshot state.
 *
 * Liveness is decided on evidence gathered while Redis answers promptly:
 * a scan or heartbeat read that took longer than ZS_FRESH_READ_MS, or
 * during which this process paused, went through a stalled Redis (or a
 * stalled us) and shows expired heartbeats of servers that are alive. It
 * is not counted, and what was counted before it is forgotten. Only one
 * read is out at a time, so replies queued behind a stall cannot arrive as
 * a burst of verdicts. */
#include "zs.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <string.h>

#define SCAN_EVERY_MS 1000
/* Fresh heartbeat reads in a row (REGISTRY_HEARTBEAT_EVERY_MS apart) that
 * must miss a gateway before its players go: 10 s of a reachable Redis
 * without a heartbeat the gateway refreshes every 5 s. */
#define GHOST_SCANS       3
#define SNAPSHOT_MAX_CHAR 100000

typedef struct snap_job_s {
    char zone[ZONE_ID_MAX + 1];
    buf_t data;
} snap_job_t;

static void snapshot_build(zs_zone_t *z, buf_t *out)
{
    static character_t all[SNAPSHOT_MAX_CHAR];
    size_t n = zsim_collect_all(z->sim, all, SNAPSHOT_MAX_CHAR);
    buf_puts(out, "{\"zone\":");
    buf_json_str(out, z->id);
    buf_printf(out, ",\"savedAt\":%llu,\"players\":{", (unsigned long long)clock_wall_ms());
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(out, ',');
        buf_printf(out, "\"%lld\":", (long long)all[i].id);
        character_state_json(out, &all[i]);
    }
    buf_puts(out, "}}");
}

static void snap_work(store_t *s, void *arg)
{
    snap_job_t *j = arg;
    if (s->ops->snapshot_put(s, j->zone, j->data.data, j->data.len) != STORE_OK)
        log_error(j->zone, "snapshot write failed");
}

static void snap_done(void *arg)
{
    snap_job_t *j = arg;
    buf_free(&j->data);
    free(j);
}

void zs__snapshot_all(zs_t *zs, int sync)
{
    zs_zone_t *z, *tmp;
    HASH_ITER(hh, zs->zones, z, tmp)
    {
        if (z->fenced) continue; /* maybe stale: never overwrite the new owner's snapshot */
        snap_job_t *j = wod_calloc(1, sizeof(*j));
        snprintf(j->zone, sizeof(j->zone), "%s", z->id);
        buf_init(&j->data);
        snapshot_build(z, &j->data);
        if (sync) {
            snap_work(zs->store, j);
            snap_done(j);
        } else if (store_async(zs->store, zs->loop, snap_work, snap_done, j) < 0) {
            snap_done(j);
        }
    }
}

/* ---- takeover ----------------------------------------------------------- */

typedef struct restore_job_s {
    zs_t *zs;
    char zone[ZONE_ID_MAX + 1];
    uint64_t epoch;
    char *data;
    size_t len;
    int rc;
} restore_job_t;

static void restore_work(store_t *s, void *arg)
{
    restore_job_t *j = arg;
    j->rc = s->ops->snapshot_get(s, j->zone, &j->data, &j->len);
}

static void restore_done(void *arg)
{
    restore_job_t *j = arg;
    json_t *players = NULL;
    if (j->rc == STORE_OK) {
        json_error_t err;
        json_t *root = json_loadb(j->data, j->len, 0, &err);
        players = json_incref(json_object_get(root, "players"));
        json_decref(root);
        if (!players) log_warn(j->zone, "snapshot unreadable: %s", err.text);
    }
    log_info(j->zone, "taking over with %zu players from the snapshot",
             players ? json_object_size(players) : 0);
    zs__zone_open(j->zs, j->zone, players, j->epoch);
    free(j->data);
    free(j);
}

static void on_takeover(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    zs_t *zs = ud;
    if (!won) {
        if (owner) log_info(zone, "another server took the zone over: %s", owner);
        return;
    }
    restore_job_t *j = wod_calloc(1, sizeof(*j));
    j->zs = zs;
    j->epoch = epoch;
    snprintf(j->zone, sizeof(j->zone), "%s", zone);
    if (store_async(zs->store, zs->loop, restore_work, restore_done, j) < 0) {
        free(j);
        zs__zone_open(zs, zone, NULL, epoch);
    }
}

/* ---- the scan ------------------------------------------------------------ */

static void on_scan_servers(void *ud, json_t *servers)
{
    zs_t *zs = ud;
    zs__check_pause(zs);
    zs->scan_inflight = 0;
    double took = clock_mono_ms() - zs->scan_asked_ms;
    if (servers && (took > ZS_FRESH_READ_MS || zs->pauses != zs->scan_pauses)) {
        log_info("zone", "orphan scan took %.0f ms: not used as liveness evidence", took);
        json_object_clear(zs->suspects);
        return;
    }
    if (!servers || !zs->scan_zones) return;
    json_t *suspects = json_object();
    for (int i = 0; i < zs->n_world; i++) {
        const char *zone = zs->world[i].id;
        json_t *owner = json_object_get(zs->scan_zones, zone);
        const char *o = json_string_value(owner);
        if (o && json_object_get(servers, o)) {
            json_object_set_new(zs->seen_assigned, zone, json_true());
            continue; /* alive */
        }
        if (zs__zone_find(zs, zone)) continue;
        if (!o && !json_object_get(zs->seen_assigned, zone)) continue; /* never hosted */
        const char *dead = o ? o : "";
        /* Two scans in a row, so a server that just claimed and has not yet
         * written its first heartbeat is not mistaken for a dead one. */
        json_t *prev = json_object_get(zs->suspects, zone);
        if (prev && strcmp(json_string_value(prev), dead) == 0) {
            log_warn(zone, "owner %s is gone: taking the zone over", o ? o : "(released)");
            zs->registry->ops->takeover_zone(zs->registry, zone, dead, on_takeover, zs);
        }
        json_object_set_new(suspects, zone, json_string(dead));
    }
    json_decref(zs->suspects);
    zs->suspects = suspects;
}

static void on_scan_zones(void *ud, json_t *zones)
{
    zs_t *zs = ud;
    if (!zones) {
        zs->scan_inflight = 0;
        return;
    }
    json_decref(zs->scan_zones);
    zs->scan_zones = json_deep_copy(zones);
    if (zs->registry->ops->list_servers(zs->registry, on_scan_servers, zs) < 0)
        zs->scan_inflight = 0;
}

static void on_scan_timer(uv_timer_t *t)
{
    zs_t *zs = container_of(t, zs_t, scan_timer);
    if (zs->scan_inflight) return; /* the last scan is still waiting for Redis */
    zs->scan_inflight = 1;
    zs->scan_asked_ms = clock_mono_ms();
    zs->scan_pauses = zs->pauses;
    if (zs->registry->ops->list_zones(zs->registry, on_scan_zones, zs) < 0) zs->scan_inflight = 0;
}

void zs__failover_start(zs_t *zs)
{
    zs->seen_assigned = json_object();
    zs->suspects = json_object();
    zs->gateway_misses = json_object();
    uv_timer_init(zs->loop, &zs->scan_timer);
    if (zs->role_all || !(zs->cfg.zone_standby || zs->cfg.n_assigned_zones == 0)) return;
    log_info("zone", "watching for orphaned zones");
    uv_timer_start(&zs->scan_timer, on_scan_timer, SCAN_EVERY_MS, SCAN_EVERY_MS);
}

/* ---- ghosts -------------------------------------------------------------- */

void zs__reap_ghosts(zs_t *zs, json_t *servers)
{
    if (zs->role_all) return;
    if (!servers) { /* no evidence either way: start counting again */
        json_object_clear(zs->gateway_misses);
        return;
    }
    json_t *misses = json_object();
    zs_player_t *p, *tmp;
    HASH_ITER(hh_ref, zs->by_ref, p, tmp)
    {
        const char *gw = p->client.gateway;
        if (json_object_get(servers, gw)) continue;
        json_int_t n = json_integer_value(json_object_get(zs->gateway_misses, gw));
        if (!json_object_get(misses, gw)) json_object_set_new(misses, gw, json_integer(n + 1));
        if (n + 1 < GHOST_SCANS) continue;
        log_warn(p->zone->id,
                 "character %lld leaves: gateway %s has had no heartbeat for %d fresh reads",
                 (long long)p->character_id, gw, GHOST_SCANS);
        zs__player_remove(zs, p, 1); /* kept: if the gateway speaks again, it re-enters */
    }
    json_decref(zs->gateway_misses);
    zs->gateway_misses = misses;
}

void zs__failover_free(zs_t *zs)
{
    json_decref(zs->scan_zones);
    json_decref(zs->suspects);
    json_decref(zs->seen_assigned);
    json_decref(zs->gateway_misses);
}
