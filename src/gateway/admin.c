/* admin.c - the web client's static files and the admin console, on every
 * gateway (docs/OPERATIONS.md "Web client and admin console").
 *
 * Static files (web/, embedded at build time) are served with their
 * content type, an ETag and `Cache-Control: no-cache`, so a browser keeps
 * them and revalidates with If-None-Match (304). The admin console exists
 * only when ADMIN_TOKEN is set: otherwise /admin... and /api/admin/... are
 * 404. Its API wants `Authorization: Bearer <ADMIN_TOKEN>` (compared in
 * constant time); wrong tokens are 401 and, past a small burst per client
 * address, 429.
 *
 * Live maps and the player list come from the zones themselves: while the
 * console is in use (a request in the last ADMIN_ACTIVE_MS), the gateway
 * sends ADMIN_QUERY to every zone each second and keeps the latest
 * ADMIN_SNAPSHOT of each; requests answer from that cache, so they never
 * wait on the bus. Announcements go out on zone:{id}:broadcast, which
 * every gateway subscribes to for every zone. Kicks go to gateway:output:
 * the gateway holding the named character closes it with the reason. */
#include "gw.h"
#include "static.h"
#include "../bus/announce.h"
#include "../bus/channel.h"
#include "../bus/envelope.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#define ADMIN_ACTIVE_MS    10000 /* keep querying zones this long after a request */
#define ADMIN_MAX_BODY     8192  /* POST bodies */
#define ADMIN_FAIL_BURST   5     /* wrong tokens allowed at once per address ... */
#define ADMIN_FAIL_REFILL  0.2   /* ... then this many per second */
#define ADMIN_THROTTLE_IPS 64    /* addresses remembered for throttling */
#define ADMIN_MSG_MAX      500   /* announcement / kick reason length */

typedef struct admin_fail_s {
    char ip[64];
    double tokens, at_ms;
} admin_fail_t;

struct gw_admin_s {
    json_t *snapshots;   /* zoneId -> latest snapshot (with receivedAt) */
    double active_until; /* mono ms */
    admin_fail_t fails[ADMIN_THROTTLE_IPS];
    int store_ok;          /* last store probe: 1 ok, 0 failed, -1 none yet */
    double store_probe_ms; /* its duration */
    int probing;
    double next_probe;
};

static gw_admin_t *admin_of(gw_t *gw)
{
    if (!gw->admin) {
        gw->admin = wod_calloc(1, sizeof(gw_admin_t));
        gw->admin->snapshots = json_object();
        gw->admin->store_ok = -1;
    }
    return gw->admin;
}

static int enabled(gw_t *gw)
{
    return gw->cfg.admin_token[0] != '\0';
}

static int is_admin_path(const char *path)
{
    return strncmp(path, "/admin", 6) == 0 || strncmp(path, "/api/admin/", 11) == 0 ||
           strcmp(path, "/api/admin") == 0;
}

static void reply_json(struct lws *wsi, http_reply_t *reply, int status, json_t *j)
{
    buf_t *body = wod_calloc(1, sizeof(buf_t));
    char *s = json_dumps(j, JSON_COMPACT);
    buf_puts(body, s ? s : "null");
    free(s);
    json_decref(j);
    http_reply_start(wsi, reply, status, "application/json", body);
}

static void reply_error(struct lws *wsi, http_reply_t *reply, int status, const char *msg,
                        const char *path)
{
    reply_json(wsi, reply, status, json_pack("{s:s, s:s}", "error", msg, "path", path));
}

/* ---- static files -------------------------------------------------------- */

static void serve_asset(struct lws *wsi, http_reply_t *reply, const web_asset_t *a)
{
    char inm[64];
    buf_t *body = wod_calloc(1, sizeof(buf_t));
    int status = 200;
    if (lws_hdr_copy(wsi, inm, sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        strcmp(inm, a->etag) == 0)
        status = 304;
    else
        buf_append(body, a->data, a->len);
    http_reply_start(wsi, reply, status, a->content_type, body);
    reply->cache_control = "no-cache";
    reply->etag = a->etag;
}

/* ---- authentication ---------------------------------------------------- */

static admin_fail_t *fail_slot(gw_admin_t *a, const char *ip)
{
    admin_fail_t *oldest = &a->fails[0];
    for (int i = 0; i < ADMIN_THROTTLE_IPS; i++) {
        admin_fail_t *f = &a->fails[i];
        if (f->ip[0] && strcmp(f->ip, ip) == 0) return f;
        if (f->at_ms < oldest->at_ms) oldest = f;
    }
    (void)snprintf(oldest->ip, sizeof(oldest->ip), "%s", ip);
    oldest->tokens = ADMIN_FAIL_BURST;
    oldest->at_ms = clock_mono_ms();
    return oldest;
}

const char *gw_admin_bearer(const char *authorization)
{
    return strncasecmp(authorization, "Bearer ", 7) == 0 ? authorization + 7 : "";
}

int gw_admin_zone_path(const char *path, char *zone, size_t cap)
{
    const char *pre = "/api/admin/zones/", *suf = "/entities";
    size_t pl = strlen(pre), n = strlen(path), sl = strlen(suf);
    if (strncmp(path, pre, pl) != 0 || n <= pl + sl || strcmp(path + n - sl, suf) != 0 ||
        n - pl - sl >= cap)
        return -1;
    (void)snprintf(zone, cap, "%.*s", (int)(n - pl - sl), path + pl);
    return strchr(zone, '/') ? -1 : 0;
}

/* 0 = authorised; else the HTTP status to answer (401, 429). */
static int check_token(gw_t *gw, struct lws *wsi)
{
    gw_admin_t *a = admin_of(gw);
    char ip[64] = "";
    lws_get_peer_simple(wsi, ip, sizeof(ip));
    admin_fail_t *f = fail_slot(a, ip);
    double now = clock_mono_ms();
    f->tokens += (now - f->at_ms) / 1000.0 * ADMIN_FAIL_REFILL;
    if (f->tokens > ADMIN_FAIL_BURST) f->tokens = ADMIN_FAIL_BURST;
    f->at_ms = now;
    if (f->tokens < 1) return 429;

    char hdr[256] = "";
    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) < 0) hdr[0] = '\0';
    const char *given = gw_admin_bearer(hdr);
    /* Hash both sides so the comparison takes the same time whatever the
     * lengths; sodium_memcmp is constant-time over the digests. */
    unsigned char h1[32], h2[32];
    crypto_generichash(h1, sizeof(h1), (const unsigned char *)given, strlen(given), NULL, 0);
    crypto_generichash(h2, sizeof(h2), (const unsigned char *)gw->cfg.admin_token,
                       strlen(gw->cfg.admin_token), NULL, 0);
    if (sodium_memcmp(h1, h2, sizeof(h1)) == 0) return 0;
    f->tokens -= 1;
    log_warn("admin", "wrong admin token from %s", ip);
    return 401;
}

/* ---- zone snapshots ------------------------------------------------------- */

static void query_zone(gw_t *gw, const char *zone)
{
    if (!gw->bus || !gw->bus_up) return;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_ADMIN_QUERY;
    (void)snprintf(r.client.gateway, sizeof(r.client.gateway), "%s", gw->cfg.server_id);
    char ch[BUS_CHANNEL_MAX];
    /* Best effort: the console asks again within a second. */
    if (bus_channel_zone(ch, sizeof(ch), BUS_ZONE_INPUT, zone) >= 0)
        (void)bus_publish_record(gw->bus, ch, &r);
}

static void query_all(gw_t *gw)
{
    for (int i = 0; i < gw->n_zones; i++)
        if (json_object_get(gw->zones_cache, gw->zones[i].id)) query_zone(gw, gw->zones[i].id);
}

static const zonedef_t *zone_def(gw_t *gw, const char *id)
{
    for (int i = 0; i < gw->n_zones; i++)
        if (strcmp(gw->zones[i].id, id) == 0) return &gw->zones[i];
    return NULL;
}

void gw_admin_record(gw_t *gw, const env_rec_t *r)
{
    if (r->kind == ENV_ADMIN_SNAPSHOT) {
        if (!gw->admin) return;
        json_error_t err;
        json_t *j = json_loadb(r->payload, r->payload_len, 0, &err);
        if (!json_is_object(j)) {
            log_warn("admin", "bad snapshot from %s: %s", r->u.route.zone, err.text);
            json_decref(j);
            return;
        }
        json_object_set_new(j, "receivedAt", json_integer((json_int_t)clock_wall_ms()));
        json_object_set_new(gw->admin->snapshots, r->u.route.zone, j);
        return;
    }
    if (r->kind != ENV_ADMIN_KICK) return;
    char reason[ADMIN_MSG_MAX + 1];
    (void)snprintf(reason, sizeof(reason), "%.*s", (int)r->payload_len, r->payload);
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (!c || c->state != ST_IN_WORLD ||
            strcasecmp(c->character_name, r->u.whisper.target) != 0)
            continue;
        log_info(gw_conn_subject(c), "kicked by an admin: %s", reason);
        gw_conn_error(c, "KICKED", reason, "fatal");
        /* The close takes the character out of the world (LEAVE). */
        gw_conn_close(c, LWS_CLOSE_STATUS_NORMAL, "kicked");
    }
}

void gw_admin_zone_broadcast(gw_t *gw, const char *channel, const char *data, size_t len)
{
    char zone[ZONE_ID_MAX + 1];
    if (bus_channel_zone_of(channel, BUS_ZONE_BROADCAST, zone, sizeof(zone)) < 0) return;
    env_reader_t rd;
    env_rec_t r;
    if (env_reader_init(&rd, data, len) < 0) return;
    while (env_next(&rd, &r) == 1) {
        if (r.kind != ENV_BROADCAST) continue;
        for (uint32_t i = 0; i < gw->n_slots; i++) {
            gw_conn_t *c = gw->slots[i];
            if (c && c->state == ST_IN_WORLD && strcmp(c->zone, zone) == 0)
                gw_conn_send_msg(c, OUT_HIGH, r.type, r.type_len, r.payload, r.payload_len);
        }
    }
}

void gw_admin_attach(gw_t *gw)
{
    char ch[BUS_CHANNEL_MAX];
    /* A new bus refuses subscriptions only once closing: cannot happen here. */
    for (int i = 0; i < gw->n_zones; i++)
        if (bus_channel_zone(ch, sizeof(ch), BUS_ZONE_BROADCAST, gw->zones[i].id) >= 0)
            (void)bus_subscribe(gw->bus, ch);
}

/* ---- store probe --------------------------------------------------------- */

/* The gateway outlives its store jobs (main waits for store_pending()
 * before gw_free), so the probe may carry it by pointer. */
typedef struct probe_s {
    gw_t *gw;
    int rc;
    double ms;
} probe_t;

static void probe_work(store_t *s, void *arg)
{
    probe_t *p = arg;
    char hash[STORE_PWHASH_MAX + 1];
    int64_t id;
    double t0 = clock_mono_ms();
    /* Any read will do; a name that cannot exist answers NOTFOUND when healthy. */
    p->rc = store_account_find(s, "~health~", &id, hash, sizeof(hash));
    p->ms = clock_mono_ms() - t0;
}

static void probe_done(void *arg)
{
    probe_t *p = arg;
    gw_admin_t *a = p->gw->admin;
    a->store_ok = p->rc != STORE_ERR;
    a->store_probe_ms = p->ms;
    a->probing = 0;
    free(p);
}

void gw_admin_tick(gw_t *gw)
{
    gw_admin_t *a = gw->admin;
    double now = clock_mono_ms();
    if (!a || now > a->active_until) return;
    query_all(gw);
    if (!a->probing && now >= a->next_probe) {
        probe_t *p = wod_calloc(1, sizeof(*p));
        p->gw = gw;
        if (store_async(gw->store, gw->loop, probe_work, probe_done, p) == 0) {
            a->probing = 1;
            a->next_probe = now + 5000;
        } else {
            free(p);
        }
    }
}

/* ---- the API --------------------------------------------------------------- */

static json_t *cluster_json(gw_t *gw)
{
    gw_admin_t *a = gw->admin;
    uint64_t now = clock_wall_ms();
    json_t *servers = json_array(), *gateways = json_array(), *zones = json_array();
    const char *id;
    json_t *hb;
    json_object_foreach(gw->servers_cache, id, hb)
    {
        const char *type = json_string_value(json_object_get(hb, "type"));
        json_t *s = json_deep_copy(hb);
        json_object_set_new(s, "serverId", json_string(id));
        json_t *sent = json_object_get(hb, "sentAt");
        json_object_set_new(s, "heartbeatAgeMs",
                            json_is_integer(sent)
                                ? json_integer((json_int_t)now - json_integer_value(sent))
                                : json_null());
        if (type && strcmp(type, "gateway") == 0) {
            if (strcmp(id, gw->cfg.server_id) != 0) json_array_append(gateways, s);
        }
        json_array_append_new(servers, s);
    }
    /* This gateway's own numbers, live (in `all` mode it has no heartbeat). */
    json_array_append_new(gateways,
                          json_pack("{s:s, s:i, s:I, s:I, s:I, s:i}", "serverId", gw->cfg.server_id,
                                    "connections", (int)gw->n_conns, "msgsIn",
                                    (json_int_t)gw->msgs_in, "msgsOut", (json_int_t)gw->msgs_out,
                                    "heartbeatAgeMs", (json_int_t)0, "self", 1));
    for (int i = 0; i < gw->n_zones; i++) {
        const char *zid = gw->zones[i].id;
        json_t *owner = json_object_get(gw->zones_cache, zid);
        json_t *ohb = owner ? json_object_get(gw->servers_cache, json_string_value(owner)) : NULL;
        json_t *st = ohb ? json_object_get(json_object_get(ohb, "zoneStats"), zid) : NULL;
        json_t *players = st ? json_object_get(st, "players") : NULL;
        json_t *tick = st ? json_object_get(st, "tickMs") : NULL;
        json_t *z = json_pack("{s:s, s:s, s:O, s:O, s:O}", "zoneId", zid, "name", gw->zones[i].name,
                              "owner", owner ? owner : json_null(), "players",
                              players ? players : json_null(), "tickMs", tick ? tick : json_null());
        json_array_append_new(zones, z);
    }
    const char *redis = gw->role_all ? "in-process" : "redis";
    return json_pack(
        "{s:I, s:s, s:s, s:o, s:o, s:o, s:{s:s, s:b}, s:{s:s, s:o, s:f}}", "timestamp",
        (json_int_t)now, "gateway", gw->cfg.server_id, "mode", gw->role_all ? "all" : "distributed",
        "servers", servers, "zones", zones, "gateways", gateways, "bus", "kind", redis, "connected",
        gw->bus_up, "store", "kind", gw->store->kind, "ok",
        a->store_ok < 0 ? json_null() : json_boolean(a->store_ok), "probeMs", a->store_probe_ms);
}

static json_t *zone_entities(gw_t *gw, const char *zone)
{
    json_t *s = json_object_get(gw->admin->snapshots, zone);
    if (s) return json_incref(s);
    const zonedef_t *d = zone_def(gw, zone);
    return json_pack("{s:s, s:s, s:n, s:{s:f, s:f}, s:[]}", "zoneId", zone, "name", d->name,
                     "timestamp", "size", "x", d->size_x, "z", d->size_z, "entities");
}

static json_t *players_json(gw_t *gw, const char *q)
{
    json_t *out = json_array();
    const char *zone;
    json_t *snap;
    json_object_foreach(gw->admin->snapshots, zone, snap)
    {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(snap, "entities"), i, e)
        {
            const char *type = json_string_value(json_object_get(e, "type"));
            const char *name = json_string_value(json_object_get(e, "name"));
            if (!type || strcmp(type, "player") != 0 || !name) continue;
            if (q && *q && !strcasestr(name, q)) continue;
            json_t *p = json_deep_copy(e);
            json_object_set_new(p, "zoneId", json_string(zone));
            json_array_append_new(out, p);
        }
    }
    return out;
}

static void publish_announcement(gw_t *gw, const char *zone, const char *message)
{
    env_rec_t r;
    char *payload = bus_announcement(&r, zone, message);
    char ch[BUS_CHANNEL_MAX];
    if (bus_channel_zone(ch, sizeof(ch), BUS_ZONE_BROADCAST, zone) < 0 ||
        bus_publish_record(gw->bus, ch, &r) < 0)
        log_warn("admin", "announcement to %s lost: bus down", zone);
    free(payload);
}

static void publish_kick(gw_t *gw, const char *name, const char *reason)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_ADMIN_KICK;
    (void)snprintf(r.u.whisper.target, sizeof(r.u.whisper.target), "%s", name);
    r.payload = reason;
    r.payload_len = strlen(reason);
    if (bus_publish_record(gw->bus, BUS_CHANNEL_GATEWAYS, &r) < 0)
        log_warn("admin", "kick of %s lost: bus down", name);
}

/* A string field of 1..max bytes, or NULL. */
static const char *field(json_t *body, const char *key, size_t max)
{
    const char *s = json_string_value(json_object_get(body, key));
    return s && *s && strlen(s) <= max ? s : NULL;
}

static void handle_post(gw_t *gw, struct lws *wsi, const char *path, json_t *body,
                        http_reply_t *reply)
{
    if (!json_is_object(body)) {
        reply_error(wsi, reply, 400, "body must be a JSON object", path);
        return;
    }
    if (strcmp(path, "/api/admin/announce") == 0) {
        const char *zone = field(body, "zoneId", ZONE_ID_MAX);
        const char *msg = field(body, "message", BUS_ANNOUNCE_MAX);
        if (!zone || !zone_def(gw, zone) || !msg) {
            reply_error(wsi, reply, 400, "need zoneId (a known zone) and message (1-500)", path);
            return;
        }
        publish_announcement(gw, zone, msg);
        log_info("admin", "announcement in %s: %s", zone, msg);
        reply_json(wsi, reply, 200, json_pack("{s:b}", "ok", 1));
        return;
    }
    if (strcmp(path, "/api/admin/kick") == 0) {
        const char *name = field(body, "name", CHAR_NAME_MAX);
        const char *reason = field(body, "reason", ADMIN_MSG_MAX);
        if (!name) {
            reply_error(wsi, reply, 400, "need name (a character name)", path);
            return;
        }
        publish_kick(gw, name, reason ? reason : "Kicked by an administrator.");
        log_info("admin", "kick %s", name);
        reply_json(wsi, reply, 200, json_pack("{s:b}", "ok", 1));
        return;
    }
    reply_error(wsi, reply, 404, "not found", path);
}

static void handle_get(gw_t *gw, struct lws *wsi, const char *path, http_reply_t *reply)
{
    gw_admin_t *a = gw->admin;
    if (strcmp(path, "/api/admin/cluster") == 0) {
        reply_json(wsi, reply, 200, cluster_json(gw));
        return;
    }
    if (strcmp(path, "/api/admin/players") == 0) {
        char buf[80];
        /* returns a pointer past "q=" inside buf */
        const char *q = lws_get_urlarg_by_name(wsi, "q=", buf, sizeof(buf));
        reply_json(wsi, reply, 200, json_pack("{s:o}", "players", players_json(gw, q)));
        return;
    }
    char zone[ZONE_ID_MAX + 1];
    if (gw_admin_zone_path(path, zone, sizeof(zone)) == 0) {
        if (zone_def(gw, zone)) {
            /* No snapshot yet (first look at this zone): ask now. */
            if (!json_object_get(a->snapshots, zone)) query_zone(gw, zone);
            reply_json(wsi, reply, 200, zone_entities(gw, zone));
            return;
        }
    }
    reply_error(wsi, reply, 404, "not found", path);
}

/* ---- entry points from server.c -------------------------------------------- */

int gw_web_http(gw_t *gw, struct lws *wsi, const char *path, gw_http_req_t *req,
                http_reply_t *reply)
{
    int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    if (!is_admin_path(path)) {
        const web_asset_t *asset = post ? NULL : web_asset_find(path);
        if (!asset) return 0;
        serve_asset(wsi, reply, asset);
        return 1;
    }
    if (!enabled(gw)) {
        reply_error(wsi, reply, 404, "not found", path);
        return 1;
    }
    if (strncmp(path, "/api/", 5) != 0) {
        const web_asset_t *asset = post ? NULL : web_asset_find(path);
        if (asset)
            serve_asset(wsi, reply, asset);
        else
            reply_error(wsi, reply, 404, "not found", path);
        return 1;
    }
    int st = check_token(gw, wsi);
    if (st) {
        reply_error(wsi, reply, st, st == 429 ? "too many wrong tokens, wait" : "unauthorized",
                    path);
        return 1;
    }
    gw_admin_t *a = admin_of(gw);
    int was_idle = clock_mono_ms() > a->active_until;
    a->active_until = clock_mono_ms() + ADMIN_ACTIVE_MS;
    if (was_idle) query_all(gw);
    if (post) {
        /* Without a Content-Length no body follows (and lws would wait). */
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
            reply_error(wsi, reply, 411, "a JSON body with a Content-Length is required", path);
            return 1;
        }
        /* The answer comes once the body is in (gw_web_body_done). */
        (void)snprintf(req->path, sizeof(req->path), "%s", path);
        req->body = wod_calloc(1, sizeof(buf_t));
        req->too_big = 0;
        return 1;
    }
    handle_get(gw, wsi, path, reply);
    return 1;
}

int gw_web_body(gw_http_req_t *req, const void *in, size_t len)
{
    if (!req->body) return 0;
    if (req->body->len + len > ADMIN_MAX_BODY) req->too_big = 1;
    if (!req->too_big) buf_append(req->body, in, len);
    return 0;
}

int gw_web_body_done(gw_t *gw, struct lws *wsi, gw_http_req_t *req, http_reply_t *reply)
{
    if (!req->body) return 0;
    if (req->too_big) {
        reply_error(wsi, reply, 413, "body over 8 KiB", req->path);
        gw_web_req_clear(req);
        return 0;
    }
    json_t *body = json_loadb(req->body->data ? req->body->data : "", req->body->len, 0, NULL);
    handle_post(gw, wsi, req->path, body, reply);
    json_decref(body);
    gw_web_req_clear(req);
    return 0;
}

void gw_web_req_clear(gw_http_req_t *req)
{
    if (!req->body) return;
    buf_free(req->body);
    free(req->body);
    req->body = NULL;
}

void gw_admin_free(gw_t *gw)
{
    if (!gw->admin) return;
    json_decref(gw->admin->snapshots);
    free(gw->admin);
    gw->admin = NULL;
}
