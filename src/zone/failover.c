/* failover.c - what keeps a zone alive when its server is not: snapshots,
 * and the standby's orphan scan and takeover (failover.h). Reaping the
 * players of dead gateways is the server's (server.c).
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
#include "failover.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <string.h>

#define SCAN_EVERY_MS     1000
#define SNAPSHOT_MAX_CHAR 100000

typedef struct snap_job_s {
    char zone[ZONE_ID_MAX + 1];
    buf_t data;
} snap_job_t;

static void snapshot_build(const char *zone, zsim_t *sim, buf_t *out)
{
    static character_t all[SNAPSHOT_MAX_CHAR];
    size_t n = zsim_collect_all(sim, all, SNAPSHOT_MAX_CHAR);
    buf_puts(out, "{\"zone\":");
    buf_json_str(out, zone);
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
    if (store_snapshot_put(s, j->zone, j->data.data, j->data.len) != STORE_OK)
        log_error(j->zone, "snapshot write failed");
}

static void snap_done(void *arg)
{
    snap_job_t *j = arg;
    buf_free(&j->data);
    free(j);
}

void zs_failover_snapshot(zs_failover_t *fo, const char *zone, zsim_t *sim, int sync)
{
    snap_job_t *j = wod_calloc(1, sizeof(*j));
    (void)snprintf(j->zone, sizeof(j->zone), "%s", zone);
    buf_init(&j->data);
    snapshot_build(zone, sim, &j->data);
    if (sync) {
        snap_work(fo->store, j);
        snap_done(j);
    } else if (store_async(fo->store, fo->loop, snap_work, snap_done, j) < 0) {
        snap_done(j);
    }
}

/* ---- takeover ----------------------------------------------------------- */

typedef struct restore_job_s {
    zs_failover_t *fo;
    char zone[ZONE_ID_MAX + 1];
    uint64_t epoch;
    char *data;
    size_t len;
    int rc;
} restore_job_t;

static void restore_work(store_t *s, void *arg)
{
    restore_job_t *j = arg;
    j->rc = store_snapshot_get(s, j->zone, &j->data, &j->len);
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
    j->fo->hooks.take(j->fo->hooks.ud, j->zone, players, j->epoch);
    free(j->data);
    free(j);
}

static void on_takeover(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    zs_failover_t *fo = ud;
    if (!won) {
        if (owner) log_info(zone, "another server took the zone over: %s", owner);
        return;
    }
    restore_job_t *j = wod_calloc(1, sizeof(*j));
    j->fo = fo;
    j->epoch = epoch;
    (void)snprintf(j->zone, sizeof(j->zone), "%s", zone);
    if (store_async(fo->store, fo->loop, restore_work, restore_done, j) < 0) {
        free(j);
        fo->hooks.take(fo->hooks.ud, zone, NULL, epoch);
    }
}

/* ---- the scan ------------------------------------------------------------ */

static void on_scan_servers(void *ud, json_t *servers)
{
    zs_failover_t *fo = ud;
    unsigned pauses = fo->hooks.pauses(fo->hooks.ud, 1);
    fo->scan_inflight = 0;
    double took = clock_mono_ms() - fo->scan_asked_ms;
    if (servers && (took > ZS_FRESH_READ_MS || pauses != fo->scan_pauses)) {
        log_info("zone", "orphan scan took %.0f ms: not used as liveness evidence", took);
        json_object_clear(fo->suspects);
        return;
    }
    if (!servers || !fo->scan_zones) return;
    json_t *suspects = json_object();
    for (int i = 0; i < fo->n_world; i++) {
        const char *zone = fo->world[i].id;
        json_t *owner = json_object_get(fo->scan_zones, zone);
        const char *o = json_string_value(owner);
        if (o && json_object_get(servers, o)) {
            json_object_set_new(fo->seen_assigned, zone, json_true());
            continue; /* alive */
        }
        if (fo->hooks.hosts(fo->hooks.ud, zone)) continue;
        if (!o && !json_object_get(fo->seen_assigned, zone)) continue; /* never hosted */
        const char *dead = o ? o : "";
        /* Two scans in a row, so a server that just claimed and has not yet
         * written its first heartbeat is not mistaken for a dead one. */
        json_t *prev = json_object_get(fo->suspects, zone);
        if (prev && strcmp(json_string_value(prev), dead) == 0) {
            log_warn(zone, "owner %s is gone: taking the zone over", o ? o : "(released)");
            registry_takeover_zone(fo->registry, zone, dead, on_takeover, fo);
        }
        json_object_set_new(suspects, zone, json_string(dead));
    }
    json_decref(fo->suspects);
    fo->suspects = suspects;
}

static void on_scan_zones(void *ud, json_t *zones)
{
    zs_failover_t *fo = ud;
    if (!zones) {
        fo->scan_inflight = 0;
        return;
    }
    json_decref(fo->scan_zones);
    fo->scan_zones = json_deep_copy(zones);
    if (registry_list_servers(fo->registry, on_scan_servers, fo) < 0) fo->scan_inflight = 0;
}

static void on_scan_timer(uv_timer_t *t)
{
    zs_failover_t *fo = container_of(t, zs_failover_t, scan_timer);
    if (fo->scan_inflight) return; /* the last scan is still waiting for Redis */
    fo->scan_inflight = 1;
    fo->scan_asked_ms = clock_mono_ms();
    fo->scan_pauses = fo->hooks.pauses(fo->hooks.ud, 0);
    if (registry_list_zones(fo->registry, on_scan_zones, fo) < 0) fo->scan_inflight = 0;
}

void zs_failover_init(zs_failover_t *fo, uv_loop_t *loop, store_t *store, registry_t *registry,
                      const zonedef_t *world, int n_world, const zs_failover_hooks_t *hooks)
{
    memset(fo, 0, sizeof(*fo));
    fo->loop = loop;
    fo->store = store;
    fo->registry = registry;
    fo->world = world;
    fo->n_world = n_world;
    fo->hooks = *hooks;
    fo->seen_assigned = json_object();
    fo->suspects = json_object();
    uv_timer_init(loop, &fo->scan_timer);
}

void zs_failover_scan_start(zs_failover_t *fo)
{
    log_info("zone", "watching for orphaned zones");
    uv_timer_start(&fo->scan_timer, on_scan_timer, SCAN_EVERY_MS, SCAN_EVERY_MS);
}

void zs_failover_scan_stop(zs_failover_t *fo)
{
    uv_timer_stop(&fo->scan_timer);
}

void zs_failover_free(zs_failover_t *fo)
{
    json_decref(fo->scan_zones);
    json_decref(fo->suspects);
    json_decref(fo->seen_assigned);
}
