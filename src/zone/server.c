/* server.c - see server.h. Bus input is decoded into sim calls; sim
 * output is appended to one frame per gateway and published once per
 * tick (DESIGN.md "Batching is the scaling lever").
 *
 * Fencing (docs/OPERATIONS.md "Split brain and fencing"): every record we
 * publish for a zone follows an EPOCH record naming our claim's epoch, so
 * gateways drop what a deposed owner still sends. And we act on a zone only
 * while we hold its claim: after a pause of the process (the loop clock
 * jumped) or a bus reconnect, each zone is fenced (no tick, no output,
 * input held) until the registry confirms the claim at our epoch; if
 * another server holds it, the zone and its backlog are dropped unseen. */
#include "zs.h"
#include "llm.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/str.h"

#include <stdio.h>
#include <math.h>
#include <string.h>
#include <uthash.h>

static const double tick_buckets[ZS_TICK_BUCKETS] = {1, 2, 5, 10, 25, 50, 100};

typedef struct save_job_s {
    zs_t *zs;
    double started;
    int n;
    character_t chars[];
} save_job_t;

static void on_hb_timer(uv_timer_t *t);

/* ---- output ----------------------------------------------------------- */

buf_t *zs__out_for(zs_t *zs, const char *gateway, const zs_zone_t *z)
{
    zs_out_t *o = (zs_out_t *)bus_batch_get(&zs->outs, gateway, sizeof(*o));
    if (o->b.records == 1) o->zone[0] = '\0'; /* a fresh frame */
    if (strcmp(o->zone, z->id) != 0) {
        env_put_epoch(&o->b.frame, z->id, z->epoch);
        (void)snprintf(o->zone, sizeof(o->zone), "%s", z->id);
    }
    return &o->b.frame;
}

static void flush(zs_t *zs)
{
    bus_batch_flush(zs->outs, zs->bus, bus_channel_gateway, "zone");
}

static void route_record(zs_t *zs, const zs_player_t *p, const char *zone)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_ROUTE;
    r.client = p->client;
    r.character_id = p->character_id;
    (void)snprintf(r.u.route.zone, sizeof(r.u.route.zone), "%s", zone);
    env_put(zs__out_for(zs, p->client.gateway, p->zone), &r);
}

static void set_location(zs_t *zs, const zs_player_t *p, const char *zone)
{
    char v[256];
    /* Three ids of at most 63 bytes each: always fits. */
    if (str_fmt(v, sizeof(v), "{\"zone\":\"%s\",\"zoneServer\":\"%s\",\"gateway\":\"%s\"}", zone,
                zs->cfg.server_id, p->client.gateway) < 0)
        return;
    /* Rewritten before its TTL runs out (next_location_refresh_ms): a
     * write lost to a registry outage is repaired by the next. */
    (void)registry_player_location(zs->registry, p->character_id, v);
}

/* ---- persistence ------------------------------------------------------ */

static void save_work(store_t *s, void *arg)
{
    save_job_t *j = arg;
    if (store_characters_save(s, j->chars, j->n) != STORE_OK)
        log_error("zone", "saving %d characters failed; they stay dirty until the next save", j->n);
}

static void save_done(void *arg)
{
    save_job_t *j = arg;
    j->zs->saves++;
    j->zs->save_ms_total += clock_mono_ms() - j->started;
    free(j);
}

void zs__save_async(zs_t *zs, const character_t *chars, int n)
{
    if (n <= 0) return;
    save_job_t *j = wod_malloc(sizeof(*j) + sizeof(character_t) * (size_t)n);
    j->zs = zs;
    j->started = clock_mono_ms();
    j->n = n;
    memcpy(j->chars, chars, sizeof(character_t) * (size_t)n);
    if (store_async(zs->store, zs->loop, save_work, save_done, j) < 0) free(j);
}

/* Writes a snapshot of every zone (async, or blocking when sync=1). */
static void snapshot_all(zs_t *zs, int sync)
{
    zs_zone_t *z, *tmp;
    HASH_ITER(hh, zs->zones, z, tmp)
    {
        if (z->fenced) continue; /* maybe stale: never overwrite the new owner's snapshot */
        zs_failover_snapshot(&zs->failover, z->id, z->sim, sync);
    }
}

static void on_save_timer(uv_timer_t *t)
{
    zs_t *zs = container_of(t, zs_t, save_timer);
    static character_t batch[ZS_SAVE_BATCH];
    zs__check_pause(zs);
    zs_zone_t *z, *tmp;
    HASH_ITER(hh, zs->zones, z, tmp)
    {
        size_t n;
        if (z->fenced) continue; /* maybe stale: it must not overwrite the new owner's saves */
        while ((n = zsim_collect_dirty(z->sim, batch, ZS_SAVE_BATCH)) > 0) {
            zs__save_async(zs, batch, (int)n);
            if (n < ZS_SAVE_BATCH) break;
        }
    }
    if (!zs->role_all) snapshot_all(zs, 0);
}

/* ---- players ---------------------------------------------------------- */

static zs_player_t *player_by_char(zs_t *zs, int64_t id)
{
    zs_player_t *p = NULL;
    HASH_FIND(hh_char, zs->by_char, &id, sizeof(id), p);
    return p;
}

void zs__player_drop(zs_t *zs, zs_player_t *p)
{
    /* a player in both tables: deleting from one frees that table only (uthash; analyzer false
     * positive) */
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
    HASH_DELETE(hh_ref, zs->by_ref, p);
    HASH_DELETE(hh_char, zs->by_char, p);
    free(p);
}

static zs_player_t *player_add(zs_t *zs, const env_client_t *client, int64_t char_id,
                               zs_zone_t *zone)
{
    zs_player_t *p = wod_calloc(1, sizeof(*p));
    p->ref = ++zs->next_ref;
    p->character_id = char_id;
    p->client = *client;
    p->zone = zone;
    HASH_ADD(hh_ref, zs->by_ref, ref, sizeof(p->ref), p);
    HASH_ADD(hh_char, zs->by_char, character_id, sizeof(p->character_id), p);
    return p;
}

zs_zone_t *zs__zone_find(zs_t *zs, const char *id)
{
    zs_zone_t *z = NULL;
    HASH_FIND_STR(zs->zones, id, z);
    return z;
}

static int same_client(const env_client_t *a, const env_client_t *b)
{
    return a->conn == b->conn && strcmp(a->gateway, b->gateway) == 0;
}

/* Tells the gateway of `c` to close it: its character was taken over. */
static void kick(zs_t *zs, const zs_zone_t *z, const env_client_t *c, const char *code,
                 const char *message)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_KICK;
    r.client = *c;
    (void)snprintf(r.u.kick.code, sizeof(r.u.kick.code), "%s", code);
    (void)snprintf(r.u.kick.message, sizeof(r.u.kick.message), "%s", message);
    env_put(zs__out_for(zs, c->gateway, z), &r);
}

/* An ADMIN_QUERY: one ADMIN_SNAPSHOT record to the asking gateway. */
static void admin_answer(zs_t *zs, zs_zone_t *z, const env_rec_t *r)
{
    buf_t b;
    buf_init(&b);
    zs__admin_snapshot(zs, z, &b);
    env_rec_t out;
    memset(&out, 0, sizeof(out));
    out.kind = ENV_ADMIN_SNAPSHOT;
    (void)snprintf(out.u.route.zone, sizeof(out.u.route.zone), "%s", z->id);
    out.payload = b.data;
    out.payload_len = b.len;
    env_put(zs__out_for(zs, r->client.gateway, z), &out);
    buf_free(&b);
}

static void enter(zs_t *zs, zs_zone_t *z, const env_rec_t *r)
{
    character_t ch = r->u.enter.ch;
    int mode = r->u.enter.entry;
    zs_player_t *old = player_by_char(zs, ch.id);
    /* A recovery re-entry of a player we still hold on the same connection
     * (the gateway re-entered it twice) is not a second recovery. */
    int recovered = mode == ENV_ENTRY_RECOVER && !(old && same_client(&old->client, &r->client));
    if (old) {
        /* Same character again (reconnect through another gateway, or a
         * second login): replace the route, never duplicate the entity, and
         * continue from the live state, the freshest there is. */
        character_t prev;
        if (zsim_player_leave(old->zone->sim, old->ref, &prev) == 0) ch = prev;
        if (!same_client(&old->client, &r->client))
            kick(zs, z, &old->client, "CHARACTER_TAKEN_OVER",
                 "This character was selected from another connection.");
        zs__player_drop(zs, old);
    } else if (mode == ENV_ENTRY_RECOVER && z->restore) {
        char key[32];
        (void)snprintf(key, sizeof(key), "%lld", (long long)ch.id);
        character_t snap;
        if (character_state_parse(json_object_get(z->restore, key), &snap) == 0) ch = snap;
        json_object_del(z->restore, key);
    }
    (void)snprintf(ch.zone_id, sizeof(ch.zone_id), "%s", z->id);
    zs_player_t *p = player_add(zs, &r->client, ch.id, z);
    p->max_update_rate = r->u.enter.max_update_rate;
    p->client_flags = r->u.enter.client_flags;
    if (recovered) {
        char ev[256];
        int n = str_fmt(ev, sizeof(ev),
                        "{\"eventType\":\"zone_recovered\",\"zoneId\":\"%s\",\"timestamp\":%llu,"
                        "\"narrative\":\"The world steadies around you.\"}",
                        z->id, (unsigned long long)clock_wall_ms());
        if (n >= 0) /* zone ids are short: always fits */
            env_put_deliver(zs__out_for(zs, p->client.gateway, z), p->client.conn, "event", ev,
                            (size_t)n);
    }
    if (zsim_player_enter(z->sim, p->ref, &ch, r->u.enter.max_update_rate,
                          mode == ENV_ENTRY_LOGIN) < 0) {
        zs__player_drop(zs, p);
        return;
    }
    zsim_player_set_client(z->sim, p->ref, p->client_flags);
    set_location(zs, p, z->id);
    if (mode != ENV_ENTRY_LOGIN) route_record(zs, p, z->id);
}

/* The player a record names, if the sender still owns its route (a newer
 * connection may have replaced it). */
static zs_player_t *commander(zs_t *zs, const env_rec_t *r)
{
    zs_player_t *p = player_by_char(zs, r->character_id);
    return p && same_client(&p->client, &r->client) ? p : NULL;
}

void zs__player_remove(zs_t *zs, zs_player_t *p, int keep_state)
{
    character_t ch;
    if (zsim_player_leave(p->zone->sim, p->ref, &ch) == 0) {
        ch.last_played = (int64_t)clock_wall_ms();
        zs__save_async(zs, &ch, 1);
        if (keep_state) {
            zs_zone_t *z = p->zone;
            buf_t b;
            buf_init(&b);
            character_state_json(&b, &ch);
            json_t *state = json_loadb(b.data, b.len, 0, NULL);
            buf_free(&b);
            char key[32];
            (void)snprintf(key, sizeof(key), "%lld", (long long)ch.id);
            if (!z->restore) z->restore = json_object();
            if (state) json_object_set_new(z->restore, key, state);
        }
    }
    (void)registry_player_location(zs->registry, p->character_id, NULL); /* else its TTL ends it */
    zs__player_drop(zs, p);
}

static void leave(zs_t *zs, const env_rec_t *r)
{
    zs_player_t *p = commander(zs, r);
    if (p) zs__player_remove(zs, p, 0);
}

/* Input named a player we do not host (we dropped it, e.g. its gateway
 * looked gone): tell its gateway, which re-enters it, so the player is
 * never left without answers. A character we host on another connection
 * was taken over; that connection has been kicked. */
static void unknown_player(zs_t *zs, zs_zone_t *z, const env_rec_t *r)
{
    if (!r->character_id || player_by_char(zs, r->character_id)) return;
    env_rec_t u;
    memset(&u, 0, sizeof(u));
    u.kind = ENV_UNKNOWN;
    u.client.conn = r->client.conn;
    u.character_id = r->character_id;
    (void)snprintf(u.u.route.zone, sizeof(u.u.route.zone), "%s", z->id);
    env_put(zs__out_for(zs, r->client.gateway, z), &u);
}

static void handle_record(zs_t *zs, zs_zone_t *z, const env_rec_t *r)
{
    zs_player_t *p;
    zs->records_in++;
    switch (r->kind) {
    case ENV_ENTER:
        enter(zs, z, r);
        break;
    case ENV_LEAVE:
        leave(zs, r);
        break;
    case ENV_MOVE:
        if ((p = commander(zs, r)))
            zsim_player_move(p->zone->sim, p->ref, &r->u.move);
        else
            unknown_player(zs, z, r);
        break;
    case ENV_CHAT:
        if ((p = commander(zs, r)))
            zsim_player_chat(p->zone->sim, p->ref, &r->u.chat);
        else
            unknown_player(zs, z, r);
        break;
    case ENV_INTERACT:
        if ((p = commander(zs, r)))
            zsim_player_interact(p->zone->sim, p->ref, &r->u.interact);
        else
            unknown_player(zs, z, r);
        break;
    case ENV_COMBAT:
        if ((p = commander(zs, r)))
            zsim_player_combat(p->zone->sim, p->ref, &r->u.combat);
        else
            unknown_player(zs, z, r);
        break;
    case ENV_COMMAND:
        if ((p = commander(zs, r)))
            zsim_player_command(p->zone->sim, p->ref, r->u.command.text);
        else
            unknown_player(zs, z, r);
        break;
    case ENV_SHOUT:
        zsim_remote_shout(z->sim, &r->u.shout);
        break;
    case ENV_RESYNC:
        if (!r->character_id)
            zsim_resync(z->sim);
        else if ((p = commander(zs, r)))
            zsim_player_resync(p->zone->sim, p->ref);
        break;
    case ENV_ADMIN_QUERY:
        admin_answer(zs, z, r);
        break;
    default:
        log_warn("zone", "unexpected %s record on %s input", env_kind_name(r->kind), z->id);
    }
}

static void process_frame(zs_t *zs, zs_zone_t *z, const char *data, size_t len)
{
    env_reader_t rd;
    env_rec_t r;
    int rc;
    if (env_reader_init(&rd, data, len) < 0) {
        zs->bad_frames++;
        log_warn(z->id, "dropping a bus frame that is not an envelope (%zu bytes)", len);
        return;
    }
    while ((rc = env_next(&rd, &r)) == 1)
        handle_record(zs, z, &r);
    if (rc < 0) {
        zs->bad_frames++;
        log_warn(z->id, "dropping the rest of a malformed bus frame");
    }
}

/* ---- fencing ------------------------------------------------------------ */

static void backlog_push(zs_t *zs, zs_zone_t *z, const char *data, size_t len)
{
    if (z->backlog_bytes + len > ZS_BACKLOG_MAX) {
        if (!z->backlog_dropped++) log_warn(z->id, "input backlog full: dropping input frames");
        zs->backlog_frames_dropped++;
        return;
    }
    zs_frame_t *f = wod_malloc(sizeof(*f) + len);
    f->next = NULL;
    f->len = len;
    memcpy(f->data, data, len);
    if (z->backlog_tail)
        z->backlog_tail->next = f;
    else
        z->backlog = f;
    z->backlog_tail = f;
    z->backlog_bytes += len;
}

/* Frees the backlog; returns how many frames it held. */
static int backlog_clear(zs_zone_t *z)
{
    int n = 0;
    while (z->backlog) {
        zs_frame_t *f = z->backlog;
        z->backlog = f->next;
        free(f);
        n++;
    }
    z->backlog_tail = NULL;
    z->backlog_bytes = 0;
    z->backlog_dropped = 0;
    return n;
}

static void zone_free(zs_zone_t *z)
{
    backlog_clear(z);
    zsim_free(z->sim);
    json_decref(z->restore);
    free(z);
}

/* Stops running a zone whose claim another server now holds (we were
 * paused or cut off long enough for a standby to take it). Its players
 * belong to the new owner: we drop them and the held input without a word
 * to anyone, and save nothing (the new owner's state is the newer one). */
static void give_up_zone(zs_t *zs, zs_zone_t *z, const char *owner, uint64_t epoch)
{
    int held = backlog_clear(z);
    size_t players = 0;
    zs_player_t *p, *tmp;
    HASH_ITER(hh_ref, zs->by_ref, p, tmp)
    {
        if (p->zone != z) continue;
        zs__player_drop(zs, p);
        players++;
    }
    log_warn(z->id,
             "claim lost to %s (epoch %llu, ours was %llu): giving the zone up, dropping %d held "
             "input frames and %zu players to the new owner",
             owner[0] ? owner : "(released)", (unsigned long long)epoch,
             (unsigned long long)z->epoch, held, players);
    zs->zones_lost++;
    char ch[BUS_CHANNEL_MAX];
    /* Cannot fail: the bus only forgets the name (and tells Redis if up). */
    if (bus_channel_zone(ch, sizeof(ch), BUS_ZONE_INPUT, z->id) >= 0)
        (void)bus_unsubscribe(zs->bus, ch);
    /* Still assigned to us at a newer epoch (someone claimed it in between):
     * let it go so a standby can take it over cleanly. */
    /* If this fails, our heartbeat no longer lists the zone and a standby
     * takes it over after two scans. */
    if (strcmp(owner, zs->cfg.server_id) == 0) (void)registry_release_zone(zs->registry, z->id);
    HASH_DEL(zs->zones, z);
    zone_free(z);
}

static void fence_check(zs_t *zs, zs_zone_t *z);

static void on_fence_check(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    zs_t *zs = ud;
    zs__check_pause(zs);
    zs_zone_t *z = zs__zone_find(zs, zone);
    if (!z || !z->fenced) return;
    z->fence_inflight = 0;
    if (z->fence_stale) { /* the takeover may have come after Redis answered this */
        z->fence_stale = 0;
        fence_check(zs, z);
        return;
    }
    if (!owner) return; /* registry unavailable: the tick asks again */
    if (!won) {
        give_up_zone(zs, z, owner, epoch);
        return;
    }
    log_info(z->id, "claim confirmed at epoch %llu: resuming with %zu bytes of held input",
             (unsigned long long)epoch, z->backlog_bytes);
    z->fenced = 0;
    for (zs_frame_t *f = z->backlog; f; f = f->next)
        process_frame(zs, z, f->data, f->len);
    backlog_clear(z);
    flush(zs);
}

static void fence_check(zs_t *zs, zs_zone_t *z)
{
    if (z->fence_inflight) return;
    z->fence_asked_ms = clock_mono_ms();
    z->fence_inflight = 1;
    if (registry_claim_zone(zs->registry, z->id, z->epoch, on_fence_check, zs) < 0)
        z->fence_inflight = 0; /* not connected: retried from the tick */
}

static void fence_all(zs_t *zs, const char *why)
{
    if (zs->role_all || !zs->zones) return; /* one process: nobody to take over */
    log_warn("zone", "%s: holding %u zones until the registry confirms our claims", why,
             HASH_COUNT(zs->zones));
    zs_zone_t *z, *tmp;
    HASH_ITER(hh, zs->zones, z, tmp)
    {
        z->fenced = 1;
        /* Answers come in order: one to a check sent before this point is
         * not proof, so its arrival sends a new check. */
        if (z->fence_inflight)
            z->fence_stale = 1;
        else
            fence_check(zs, z);
    }
}

int zs__check_pause(zs_t *zs)
{
    double now = clock_mono_ms(), gap = now - zs->alive_ms;
    zs->alive_ms = now;
    if (gap < ZS_PAUSE_MS) return 0;
    zs->pauses++;
    char why[96];
    (void)snprintf(why, sizeof(why), "the process was stalled for %.1f s", gap / 1000.0);
    fence_all(zs, why);
    return 1;
}

void zs_bus_msg(void *ud, const char *channel, const char *data, size_t len)
{
    zs_t *zs = ud;
    char id[ZONE_ID_MAX + 1];
    if (bus_channel_zone_of(channel, BUS_ZONE_INPUT, id, sizeof(id)) < 0) return;
    zs__check_pause(zs); /* before acting on what piled up while we were stopped */
    zs_zone_t *z = zs__zone_find(zs, id);
    if (!z) return;
    if (z->fenced) {
        backlog_push(zs, z, data, len);
        return;
    }
    process_frame(zs, z, data, len);
    /* What input produced (chat, events, errors, world entry) goes out now,
     * one frame per gateway for the whole input frame: chat and events are
     * never held for the tick; roster deltas, made by the tick, still are. */
    flush(zs);
}

void zs_bus_state(void *ud, int up)
{
    zs_t *zs = ud;
    zs->bus_up = up;
    log_warn("zone", "bus %s", up ? "connected" : "lost");
    /* While the bus was down a standby may have taken our zones over. */
    if (up && zs->bus_lost) fence_all(zs, "bus reconnected");
    zs->bus_lost = !up;
    if (up) { /* deltas may have been lost while the bus was down */
        zs_zone_t *z, *tmp;
        HASH_ITER(hh, zs->zones, z, tmp)
        zsim_resync(z->sim);
    }
    if (up && zs->hb_timer.data == zs) /* re-register at once rather than at the next beat */
        uv_timer_start(&zs->hb_timer, on_hb_timer, 200,
                       zs->role_all ? 1000 : REGISTRY_HEARTBEAT_EVERY_MS);
}

void zs_health_json(zs_t *zs, buf_t *out)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "status", "ok", "type", "zone", "serverId",
                  zs->cfg.server_id, "timestamp", (json_int_t)clock_wall_ms(), "uptime",
                  (json_int_t)((clock_mono_ms() - zs->started_ms) / 1000), "connected", zs->bus_up);
    char *s = json_dumps(j, JSON_COMPACT);
    buf_puts(out, s);
    free(s);
    json_decref(j);
}

void zs_metrics(zs_t *zs, buf_t *b)
{
    buf_printf(b,
               "# HELP wod_zone_zones_loaded Zones this server runs.\n"
               "# TYPE wod_zone_zones_loaded gauge\nwod_zone_zones_loaded %u\n"
               "# HELP wod_zone_players Players per zone.\n# TYPE wod_zone_players gauge\n",
               HASH_COUNT(zs->zones));
    zs_zone_t *z, *tmp;
    HASH_ITER(hh, zs->zones, z, tmp)
    buf_printf(b, "wod_zone_players{zone=\"%s\"} %zu\n", z->id, zsim_player_count(z->sim));
    buf_puts(b, "# HELP wod_zone_tick_ms Time to tick all zones of this server.\n"
                "# TYPE wod_zone_tick_ms histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i <= ZS_TICK_BUCKETS; i++) {
        cum += zs->tick_hist[i];
        if (i < ZS_TICK_BUCKETS)
            buf_printf(b, "wod_zone_tick_ms_bucket{le=\"%g\"} %llu\n", tick_buckets[i], cum);
        else
            buf_printf(b, "wod_zone_tick_ms_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    buf_printf(b, "wod_zone_tick_ms_sum %.3f\nwod_zone_tick_ms_count %llu\n", zs->tick_ms_sum,
               zs->ticks);
    buf_printf(b,
               "# TYPE wod_zone_records_in_total counter\nwod_zone_records_in_total %llu\n"
               "# TYPE wod_zone_bad_frames_total counter\nwod_zone_bad_frames_total %llu\n",
               zs->records_in, zs->bad_frames);
    buf_printf(b,
               "# HELP wod_zone_zones_lost_total Zones given up: another server held the claim.\n"
               "# TYPE wod_zone_zones_lost_total counter\nwod_zone_zones_lost_total %llu\n"
               "# HELP wod_zone_pauses_total Process stalls detected (loop clock jumps).\n"
               "# TYPE wod_zone_pauses_total counter\nwod_zone_pauses_total %u\n"
               "# TYPE wod_zone_backlog_frames_dropped_total counter\n"
               "wod_zone_backlog_frames_dropped_total %llu\n"
               "# HELP wod_zone_crossings_held_total Steps over a border refused: the bus would "
               "not take the handover.\n"
               "# TYPE wod_zone_crossings_held_total counter\nwod_zone_crossings_held_total %llu\n",
               zs->zones_lost, zs->pauses, zs->backlog_frames_dropped, zs->crossings_held);
    if (zs->bus) bus_stats_prometheus(zs->bus, "zone", b);
    store_metrics_prometheus(zs->store, "zone", b);
    buf_printf(b,
               "# HELP wod_store_query_seconds Store operations run by the zone server.\n"
               "# TYPE wod_store_query_seconds summary\n"
               "wod_store_query_seconds_sum{role=\"zone\"} %.6f\n"
               "wod_store_query_seconds_count{role=\"zone\"} %llu\n",
               zs->save_ms_total / 1000.0, zs->saves);
}

/* ---- sim hooks ---------------------------------------------------------- */

static void hook_send(void *ud, uint64_t ref, const char *type, const char *payload, size_t len)
{
    zs_t *zs = ud;
    zs_player_t *p = NULL;
    HASH_FIND(hh_ref, zs->by_ref, &ref, sizeof(ref), p);
    if (!p) return;
    env_put_deliver(zs__out_for(zs, p->client.gateway, p->zone), p->client.conn, type, payload,
                    len);
}

/* One record on another zone's input channel; 0 or the bus's error. */
static int publish_input(zs_t *zs, const char *to_zone, const env_rec_t *r)
{
    char ch[BUS_CHANNEL_MAX];
    int rc = bus_channel_zone(ch, sizeof(ch), BUS_ZONE_INPUT, to_zone);
    return rc < 0 ? rc : bus_publish_record(zs->bus, ch, r);
}

/* A handover is a single record: lost, the player would be nowhere. So
 * while the bus would refuse it (congested or down) nobody steps over;
 * they stand at the border and cross with a later step. */
static int hook_can_cross(void *ud, const char *to_zone)
{
    zs_t *zs = ud;
    if (zs__zone_find(zs, to_zone)) return 1;
    char ch[BUS_CHANNEL_MAX];
    int rc = bus_channel_zone(ch, sizeof(ch), BUS_ZONE_INPUT, to_zone);
    if (rc >= 0) rc = bus_ready(zs->bus, ch);
    if (rc >= 0) return 1;
    zs->crossings_held++;
    double now = clock_mono_ms();
    if (now - zs->crossings_held_logged_ms >= 5000) {
        zs->crossings_held_logged_ms = now;
        log_warn("zone", "players held at the border to %s: %s (%llu steps held so far)", to_zone,
                 bus_why(rc), zs->crossings_held);
    }
    return 0;
}

static void hook_crossed(void *ud, uint64_t ref, const character_t *state, const char *to_zone)
{
    zs_t *zs = ud;
    zs_player_t *p = NULL;
    HASH_FIND(hh_ref, zs->by_ref, &ref, sizeof(ref), p);
    if (!p) return;
    zs__save_async(zs, state, 1); /* the new zone is where a restart puts them */
    zs_zone_t *target = zs__zone_find(zs, to_zone);
    if (target) {
        p->zone = target;
        if (zsim_player_enter(target->sim, ref, state, p->max_update_rate, ENV_ENTRY_TRANSFER) ==
            0) {
            zsim_player_set_client(target->sim, ref, p->client_flags);
            route_record(zs, p, to_zone);
            set_location(zs, p, to_zone);
            return;
        }
    }
    /* Another server hosts it: hand the player over through the bus
     * (hook_can_cross let them step over only if the bus would take it). */
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_ENTER;
    r.client = p->client;
    r.u.enter.ch = *state;
    r.u.enter.entry = 0;
    r.u.enter.max_update_rate = p->max_update_rate;
    r.u.enter.client_flags = p->client_flags;
    int rc = publish_input(zs, to_zone, &r);
    if (rc < 0)
        log_error("zone", "handover of %lld to %s failed: %s", (long long)state->id, to_zone,
                  bus_why(rc));
    route_record(zs, p, to_zone);
    zs__player_drop(zs, p);
}

/* /tell to someone not in the sender's zone: every gateway delivers it
 * to whoever plays that character (as the gateway's own whisper does). */
static void hook_tell(void *ud, const char *target_name, const char *type, const char *payload,
                      size_t len)
{
    zs_t *zs = ud;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_WHISPER;
    snprintf(r.u.whisper.target, sizeof(r.u.whisper.target), "%s", target_name);
    r.type = type;
    r.type_len = strlen(type);
    r.payload = payload;
    r.payload_len = len;
    buf_t f;
    buf_init(&f);
    env_begin(&f);
    env_put(&f, &r);
    if (zs->bus) bus_publish(zs->bus, "gateway:output", f.data, f.len);
    buf_free(&f);
}

static void hook_shout(void *ud, const char *to_zone, const msg_shout_t *s)
{
    zs_t *zs = ud;
    zs_zone_t *target = zs__zone_find(zs, to_zone);
    if (target) {
        zsim_remote_shout(target->sim, s);
        return;
    }
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_SHOUT;
    r.u.shout = *s;
    /* A shout is chat: lost with the bus like any other line, not retried. */
    int rc = publish_input(zs, to_zone, &r);
    if (rc < 0) log_warn("zone", "shout to %s lost: %s", to_zone, bus_why(rc));
}

/* ---- tick and heartbeat ---------------------------------------------- */

/* A player's say named an NPC: voice it through the LLM if one is
 * configured and not rate-capped (else the sim uses a scripted line). */
static int hook_npc_addressed(void *ud, const char *zone_id, int npc_index, const char *npc_name,
                              const char *npc_description, const char *speaker, const char *text)
{
    zs_t *zs = ud;
    return zs->llm &&
           llm_ask(zs->llm, zone_id, npc_index, npc_name, npc_description, speaker, text) == 0;
}

static void on_llm_reply(void *ud, const char *zone_id, int npc_index, int outcome,
                         const char *text)
{
    zs_t *zs = ud;
    zs_zone_t *z = zs__zone_find(zs, zone_id);
    if (!z || outcome == 0) return; /* zone gone, or the NPC chose silence */
    zsim_npc_say(z->sim, npc_index, outcome > 0 ? text : NULL); /* failed: a scripted line */
    flush(zs);
}

static void on_tick(uv_timer_t *t)
{
    zs_t *zs = container_of(t, zs_t, tick_timer);
    zs__check_pause(zs);
    double now = clock_mono_ms();
    int n = 0;
    zs_zone_t *fz, *ftmp;
    HASH_ITER(hh, zs->zones, fz, ftmp)
    if (fz->fenced && !fz->fence_inflight && now - fz->fence_asked_ms >= ZS_FENCE_RETRY_MS)
        fence_check(zs, fz);
    while (now >= zs->next_tick && n < ZS_MAX_CATCHUP) {
        zs_zone_t *z, *tmp;
        double t0 = clock_mono_ms();
        HASH_ITER(hh, zs->zones, z, tmp)
        if (!z->fenced) zsim_tick(z->sim, zs->next_tick);
        double took = clock_mono_ms() - t0;
        int b = 0;
        while (b < ZS_TICK_BUCKETS && took > tick_buckets[b])
            b++;
        zs->tick_hist[b]++;
        zs->tick_ms_sum += took;
        zs->next_tick += zs->step_ms;
        zs->ticks++;
        n++;
    }
    if (now >= zs->next_tick) zs->next_tick = now + zs->step_ms; /* too far behind: skip */
    flush(zs);
    /* At least 1 ms, rounded up: libuv 1.44 runs a timer restarted with 0
     * again inside the same pass, without polling, so rounding down made
     * the loop spin here, reading the clock, for up to 1 ms a tick (and a
     * server behind would never read its sockets). */
    double wait = ceil(zs->next_tick - clock_mono_ms());
    uv_timer_start(&zs->tick_timer, on_tick, wait > 1 ? (uint64_t)wait : 1, 0);
}

void zs__heartbeat(zs_t *zs)
{
    json_t *zones = json_array(), *stats = json_object();
    size_t players = 0;
    zs_zone_t *z, *tmp;
    HASH_ITER(hh, zs->zones, z, tmp)
    {
        zsim_tick_stats_t st;
        zsim_tick_stats(z->sim, &st);
        size_t n = zsim_player_count(z->sim);
        players += n;
        json_array_append_new(zones, json_string(z->id));
        json_object_set_new(stats, z->id,
                            json_pack("{s:I, s:{s:f, s:f, s:f, s:f}}", "players", (json_int_t)n,
                                      "tickMs", "avg", st.avg_ms, "p50", st.p50_ms, "p99",
                                      st.p99_ms, "max", st.max_ms));
    }
    char addr[96];
    (void)snprintf(addr, sizeof(addr), "%s:%d", zs->cfg.bind_address,
                   zs->role_all ? zs->cfg.gateway_port : zs->cfg.zone_http_port);
    json_t *hb = json_pack("{s:s, s:o, s:I, s:o, s:s, s:I}", "type", zs->role_all ? "all" : "zone",
                           "zones", zones, "players", (json_int_t)players, "zoneStats", stats,
                           "address", addr, "sentAt", (json_int_t)clock_wall_ms());
    char *s = json_dumps(hb, JSON_COMPACT);
    (void)registry_heartbeat(zs->registry, s); /* the next beat repairs a lost one (TTL) */
    free(s);
    json_decref(hb);
    /* player:location keys have a TTL: rewrite them while the players are here */
    double now = clock_mono_ms();
    if (now >= zs->next_location_refresh_ms) {
        zs->next_location_refresh_ms = now + REGISTRY_LOCATION_REFRESH_MS;
        zs_player_t *p, *ptmp;
        HASH_ITER(hh_char, zs->by_char, p, ptmp)
        {
            if (p->zone) set_location(zs, p, p->zone->id);
        }
    }
}

static void on_reclaim(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    zs_t *zs = ud;
    zs_zone_t *z = zs__zone_find(zs, zone);
    if (!z || z->fenced || won) return;
    if (owner) give_up_zone(zs, z, owner, epoch); /* NULL owner: registry down, keep running */
}

/* Removes players whose gateway stopped sending heartbeats. servers is a
 * fresh heartbeat read (ZS_FRESH_READ_MS, no pause), or NULL: no evidence,
 * and the misses counted so far are forgotten. */
static void reap_ghosts(zs_t *zs, json_t *servers)
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
        if (n + 1 < ZS_GHOST_SCANS) continue;
        log_warn(p->zone->id,
                 "character %lld leaves: gateway %s has had no heartbeat for %d fresh reads",
                 (long long)p->character_id, gw, ZS_GHOST_SCANS);
        zs__player_remove(zs, p, 1); /* kept: if the gateway speaks again, it re-enters */
    }
    json_decref(zs->gateway_misses);
    zs->gateway_misses = misses;
}

/* Liveness evidence: a heartbeat read counts only if it was quick (Redis
 * answered promptly) and we did not pause while it was out; anything else
 * saw a stalled world, and the misses counted so far are forgotten. */
static void on_hb_servers(void *ud, json_t *servers)
{
    zs_t *zs = ud;
    zs__check_pause(zs);
    zs->servers_inflight = 0;
    double took = clock_mono_ms() - zs->servers_asked_ms;
    if (servers && (took > ZS_FRESH_READ_MS || zs->pauses != zs->servers_pauses)) {
        log_info("zone", "heartbeat read took %.0f ms: not used as liveness evidence", took);
        servers = NULL;
    }
    reap_ghosts(zs, servers);
}

static void on_hb_timer(uv_timer_t *t)
{
    zs_t *zs = container_of(t, zs_t, hb_timer);
    /* Re-assert every claim: after a Redis restart this claims them again,
     * after being cut off it tells us whether someone else took over. */
    zs_zone_t *z, *tmp;
    zs__check_pause(zs);
    HASH_ITER(hh, zs->zones, z, tmp)
    /* Refused while the registry is away: the next heartbeat asserts again,
     * and a reconnect fences the zone until a claim check answers. */
    if (!z->fenced) (void)registry_claim_zone(zs->registry, z->id, z->epoch, on_reclaim, zs);
    zs__heartbeat(zs);
    /* One read at a time: replies queued behind a stalled Redis must not
     * arrive as a burst of "missing" verdicts. */
    if (!zs->role_all && !zs->servers_inflight) {
        zs->servers_inflight = 1;
        zs->servers_asked_ms = clock_mono_ms();
        zs->servers_pauses = zs->pauses;
        if (registry_list_servers(zs->registry, on_hb_servers, zs) < 0) zs->servers_inflight = 0;
    }
}

/* ---- zones ------------------------------------------------------------ */

zs_zone_t *zs__zone_open(zs_t *zs, const char *zone, json_t *restore, uint64_t epoch)
{
    zs_zone_t *z = zs__zone_find(zs, zone);
    const zonedef_t *def = NULL;
    for (int i = 0; i < zs->n_world; i++)
        if (strcmp(zs->world[i].id, zone) == 0) def = &zs->world[i];
    if (z || !def) {
        json_decref(restore);
        return z;
    }
    zsim_config_t cfg = {.tick_rate = zs->cfg.tick_rate,
                         .roster_max_entities = zs->cfg.roster_max_entities,
                         .disable_npcs = !zs->cfg.npcs,
                         .roster_threads = zs->cfg.roster_threads,
                         .data = zs->data,
                         .mob_respawn_ms = zs->cfg.mob_respawn_ms,
                         .rng_seed = zs->cfg.rng_seed,
                         .respawn_delay_ms = zs->cfg.respawn_delay_ms};
    zsim_hooks_t hooks = {.ud = zs,
                          .send = hook_send,
                          .crossed = hook_crossed,
                          .can_cross = hook_can_cross,
                          .shout_out = hook_shout,
                          .tell = hook_tell,
                          .npc_addressed = hook_npc_addressed};
    z = wod_calloc(1, sizeof(*z));
    (void)snprintf(z->id, sizeof(z->id), "%s", zone);
    z->zs = zs;
    z->restore = restore;
    z->epoch = epoch;
    z->sim = zsim_new(def, zs->world, zs->n_world, &cfg, &hooks);
    int n_npcs = zsim_add_npcs(z->sim, zs->npcs, zs->n_npcs);
    HASH_ADD_STR(zs->zones, id, z);
    char ch[BUS_CHANNEL_MAX];
    if (bus_channel_zone(ch, sizeof(ch), BUS_ZONE_INPUT, zone) < 0 ||
        bus_subscribe(zs->bus, ch) < 0)
        log_error(zone, "cannot subscribe to the zone's input: the bus is closing");
    log_info(zone, "zone loaded (%.0fx%.0f ft, %d NPCs) at epoch %llu%s", def->size_x, def->size_z,
             n_npcs, (unsigned long long)epoch, restore ? ", restored from snapshot" : "");
    zs__heartbeat(zs); /* the registry shows the new zone at once */
    return z;
}

static void on_claim(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    zs_t *zs = ud;
    if (!won) {
        if (owner)
            log_info("zone", "%s is hosted by %s", zone, owner);
        else
            log_warn("zone", "could not claim %s (registry unavailable)", zone);
        return;
    }
    zs__zone_open(zs, zone, NULL, epoch);
}

/* failover.c asks these (zs_failover_hooks_t). */
static int fo_hosts(void *ud, const char *zone)
{
    return zs__zone_find(ud, zone) != NULL;
}

static void fo_take(void *ud, const char *zone, json_t *restore, uint64_t epoch)
{
    zs__zone_open(ud, zone, restore, epoch);
}

static unsigned fo_pauses(void *ud, int check)
{
    zs_t *zs = ud;
    if (check) zs__check_pause(zs);
    return zs->pauses;
}

zs_t *zs_new(uv_loop_t *loop, const zs_options_t *opt)
{
    zs_t *zs = wod_calloc(1, sizeof(*zs));
    zs->loop = loop;
    zs->cfg = *opt->cfg;
    zs->store = opt->store;
    zs->registry = opt->registry;
    zs->n_world = opt->n_zones;
    zs->world = wod_malloc(sizeof(zonedef_t) * (size_t)(opt->n_zones ? opt->n_zones : 1));
    memcpy(zs->world, opt->zones, sizeof(zonedef_t) * (size_t)opt->n_zones);
    zs->role_all = opt->role_all;
    if (opt->data) {
        zs->data = wod_malloc(sizeof(*zs->data));
        *zs->data = *opt->data;
    }
    zs->llm = llm_new(loop, &zs->cfg, on_llm_reply, zs);
    /* Once, before the loop runs (like the zones): zones opened later
     * take their NPCs from this copy without touching the store. */
    if (zs->cfg.npcs && store_npcs_load(zs->store, &zs->npcs, &zs->n_npcs) != STORE_OK) {
        log_error("zone", "could not load NPCs from the database; zones run without them");
        zs->npcs = NULL;
        zs->n_npcs = 0;
    }
    zs->step_ms = 1000.0 / zs->cfg.tick_rate;
    zs->started_ms = clock_mono_ms();
    uv_timer_init(loop, &zs->tick_timer);
    uv_timer_init(loop, &zs->save_timer);
    uv_timer_init(loop, &zs->hb_timer);
    zs_failover_hooks_t hooks = {zs, fo_hosts, fo_take, fo_pauses};
    zs_failover_init(&zs->failover, loop, zs->store, zs->registry, zs->world, zs->n_world, &hooks);
    zs->gateway_misses = json_object();
    return zs;
}

void zs_attach_bus(zs_t *zs, bus_t *bus)
{
    zs->bus = bus;
    zs->bus_up = 1;
    int claimed_any = 0;
    for (int i = 0; i < zs->cfg.n_assigned_zones; i++) {
        int known = 0;
        for (int k = 0; k < zs->n_world; k++)
            known |= strcmp(zs->world[k].id, zs->cfg.assigned_zones[i]) == 0;
        if (!known)
            log_warn("zone", "ASSIGNED_ZONES names unknown zone %s", zs->cfg.assigned_zones[i]);
    }
    if (!zs->cfg.zone_standby) {
        for (int i = 0; i < zs->n_world; i++) {
            if (!config_assigns_zone(&zs->cfg, zs->world[i].id)) continue;
            if (registry_claim_zone(zs->registry, zs->world[i].id, 0, on_claim, zs) < 0)
                log_warn("zone", "could not claim %s (registry unavailable)", zs->world[i].id);
            claimed_any = 1;
        }
    }
    if (!claimed_any) log_info("zone", "no zones to claim (standby)");
    zs->next_tick = clock_mono_ms() + zs->step_ms;
    zs->alive_ms = clock_mono_ms();
    uv_timer_start(&zs->tick_timer, on_tick, (uint64_t)zs->step_ms, 0);
    uv_timer_start(&zs->save_timer, on_save_timer, (uint64_t)zs->cfg.save_interval_ms,
                   (uint64_t)zs->cfg.save_interval_ms);
    uint64_t every = zs->role_all ? 1000 : REGISTRY_HEARTBEAT_EVERY_MS;
    zs->hb_timer.data = zs;
    uv_timer_start(&zs->hb_timer, on_hb_timer, 0, every);
    if (!zs->role_all && (zs->cfg.zone_standby || zs->cfg.n_assigned_zones == 0))
        zs_failover_scan_start(&zs->failover);
}

void zs_shutdown(zs_t *zs)
{
    uv_timer_stop(&zs->tick_timer);
    uv_timer_stop(&zs->save_timer);
    uv_timer_stop(&zs->hb_timer);
    zs_failover_scan_stop(&zs->failover);
    /* Snapshot before releasing, so a standby that claims the zone at once
     * restores from this state. */
    if (!zs->role_all) snapshot_all(zs, 1);
    zs_zone_t *z, *tmp;
    size_t total = 0;
    HASH_ITER(hh, zs->zones, z, tmp)
    {
        if (z->fenced) {
            log_warn(z->id, "claim unconfirmed at shutdown: not saving or releasing the zone");
            continue;
        }
        size_t n = zsim_player_count(z->sim);
        if (n) {
            character_t *all = wod_malloc(sizeof(character_t) * n);
            n = zsim_collect_all(z->sim, all, n);
            int64_t now = (int64_t)clock_wall_ms();
            for (size_t i = 0; i < n; i++)
                all[i].last_played = now;
            if (store_characters_save(zs->store, all, (int)n) != STORE_OK)
                log_error(z->id, "final save of %zu characters failed", n);
            total += n;
            free(all);
        }
        (void)registry_release_zone(zs->registry,
                                    z->id); /* else the claim dies with our heartbeat */
    }
    (void)registry_heartbeat(zs->registry, NULL); /* else the heartbeat's TTL ends it */
    flush(zs);
    log_info("zone", "saved %zu characters, released %u zones", total, HASH_COUNT(zs->zones));
}

static void handle_closed(uv_handle_t *h)
{
    zs_t *zs = h->data;
    if (--zs->handles_open) return;
    zs_zone_t *z, *tz;
    HASH_ITER(hh, zs->zones, z, tz)
    {
        /* uthash frees its table with the last element; the analyzer loses track (false positive)
         */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(zs->zones, z);
        zone_free(z);
    }
    zs_failover_free(&zs->failover);
    json_decref(zs->gateway_misses);
    zs_player_t *p, *tp;
    HASH_ITER(hh_ref, zs->by_ref, p, tp) zs__player_drop(zs, p);
    bus_batch_free_all(&zs->outs);
    free(zs->world);
    free(zs->data);
    free(zs->npcs);
    llm_free(zs->llm);
    free(zs);
}

void zs_free(zs_t *zs)
{
    zs->handles_open = 4;
    uv_timer_t *timers[] = {&zs->tick_timer, &zs->save_timer, &zs->hb_timer,
                            &zs->failover.scan_timer};
    for (int i = 0; i < 4; i++) {
        timers[i]->data = zs;
        uv_close((uv_handle_t *)timers[i], handle_closed);
    }
}
