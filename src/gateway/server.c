/* server.c - the gateway's libwebsockets server on the process's libuv
 * loop: HTTP API, WebSocket upgrade on /ws and /socket.io/, and the
 * 1 s housekeeping timer. Framings are framing_*.c, protocol handling is
 * session.c. */
#include "gw.h"
#include "../bus/channel.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../net/http.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Per-wsi user data, zeroed by lws. */
typedef struct pss_s {
    uint64_t conn_id;            /* the connection a WebSocket carries */
    const gw_framing_t *framing; /* chosen at the upgrade */
    http_reply_t http;           /* HTTP requests */
    gw_http_req_t req;           /* a POST body (admin API) */
    gw_poll_req_t poll;          /* a Socket.IO long-polling request */
} pss_t;

static gw_t *gw_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static void uri_of(struct lws *wsi, char *out, int cap)
{
    out[0] = '\0';
    if (lws_hdr_copy(wsi, out, cap, WSI_TOKEN_GET_URI) < 0) out[0] = '\0';
}

static const gw_framing_t *const framings[] = {&gw_framing_ws, &gw_framing_sio,
                                               &gw_framing_sio_upgrade};

/* By id: a WebSocket joining a polling session may outlive it. */
static gw_conn_t *conn_of(struct lws *wsi, const pss_t *pss)
{
    return pss && pss->conn_id ? gw_conn_find(gw_of(wsi), pss->conn_id) : NULL;
}

/* Which WebSocket framing a request asks for; NULL if none. */
static const gw_framing_t *framing_for(struct lws *wsi, const char *uri)
{
    for (size_t i = 0; i < sizeof(framings) / sizeof(framings[0]); i++)
        if (framings[i]->accepts(wsi, uri)) return framings[i];
    return NULL;
}

static int on_http(struct lws *wsi, pss_t *pss, const char *path)
{
    const char *type = "application/json";
    if (gw_web_http(gw_of(wsi), wsi, path, &pss->req, &pss->http)) return 0;
    if (strncmp(path, "/socket.io", 10) == 0)
        return gw_poll_http(gw_of(wsi), wsi, &pss->poll, &pss->http);
    buf_t *body = wod_calloc(1, sizeof(buf_t));
    int status = gw_api_handle(gw_of(wsi), path, body, &type);
    http_reply_start(wsi, &pss->http, status, type, body);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    pss_t *pss = user;
    gw_t *gw;
    char uri[256];
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return gw_limits_admit(gw_of(wsi), (int)(intptr_t)in) < 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        gw_limits_attach(gw_of(wsi), wsi);
        return 0;
    case LWS_CALLBACK_HTTP:
        if (gw_limits_request(wsi) < 0) return -1;
        return on_http(wsi, pss, (const char *)in);
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->poll.body) return gw_poll_body(&pss->poll, in, len);
        return gw_web_body(&pss->req, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->poll.body) return gw_poll_body_done(gw_of(wsi), wsi, &pss->poll, &pss->http);
        return gw_web_body_done(gw_of(wsi), wsi, &pss->req, &pss->http);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!pss) return 0;
        gw_poll_writable(gw_of(wsi), wsi, &pss->poll, &pss->http);
        if (!pss->http.body) return 0;
        int rc = http_reply_write(wsi, &pss->http);
        if (rc == 0) gw_limits_served(wsi);
        return rc;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        if (gw_limits_request(wsi) < 0) return 1;
        gw = gw_of(wsi);
        uri_of(wsi, uri, sizeof(uri));
        const gw_framing_t *f = framing_for(wsi, uri);
        if (!f || gw->shutting_down) {
            log_info("gateway", "refusing WebSocket upgrade on %s", uri);
            return 1;
        }
        pss->framing = f;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        gw_conn_t *c = pss->framing->open(gw_of(wsi), wsi);
        if (!c) return -1;
        pss->conn_id = c->id;
        gw_limits_established(wsi, c);
        log_debug("gateway", "conn %llx: connected (%s)", (unsigned long long)c->id,
                  pss->framing->name);
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        /* Our close frame went out by hand (conn.c, send_close): this is the
         * client's answer, and lws must not echo a second close frame. */
        gw_conn_t *c = conn_of(wsi, pss);
        return c && c->close_sent ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        gw_conn_t *c = conn_of(wsi, pss);
        if (!c || c->closing) return 0;
        if (lws_frame_is_binary(wsi)) {
            gw_conn_close(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames not supported");
            return 0;
        }
        if (c->rx.len + len > (size_t)MSG_MAX_FRAME_BYTES) {
            log_info("gateway", "conn %llx: frame over %d bytes, closing",
                     (unsigned long long)c->id, MSG_MAX_FRAME_BYTES);
            gw_conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
            return 0;
        }
        buf_append(&c->rx, in, len);
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
        pss->framing->on_frame(c, c->rx.data ? c->rx.data : "", c->rx.len);
        /* the session may have closed c, but the struct lives until CLOSED */
        buf_reset(&c->rx);
        gw_limits_progress(wsi, c);
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        gw_conn_t *c = conn_of(wsi, pss);
        if (!c) return 0;
        gw_limits_progress(wsi, c); /* auth_success, sent from a store job */
        return pss->framing->writable(c, wsi);
    }
    case LWS_CALLBACK_CLOSED: {
        gw_conn_t *c = conn_of(wsi, pss);
        if (c && c->wsi == wsi) {
            gw_session_closed(c);
            gw_conn_free(c);
        } else if (c) {
            pss->framing->abandon(c, wsi); /* its session goes on without it */
        }
        pss->conn_id = 0;
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        gw_limits_closed_http(wsi);
        if (pss) {
            http_reply_clear(&pss->http);
            gw_poll_req_clear(gw_of(wsi), wsi, &pss->poll);
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        gw_limits_detach(wsi);
        if (pss) {
            http_reply_clear(&pss->http);
            gw_web_req_clear(&pss->req);
            gw_poll_req_clear(gw_of(wsi), wsi, &pss->poll);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[] = {
    {"wod", callback, sizeof(pss_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_timer(uv_timer_t *t)
{
    gw_t *gw = container_of(t, gw_t, timer);
    gw_api_refresh(gw);
    gw_conn_sweep(gw);
    gw_admin_tick(gw);
}

static void on_prepare(uv_prepare_t *p)
{
    gw_t *gw = container_of(p, gw_t, flush);
    gw_route_flush(gw);
    gw_conn_flush(gw);
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : 0;
    return v && *v && !*end && n > 0 && n <= INT_MAX ? (int)n : def; /* a bad value: the default */
}

int gw_new(uv_loop_t *loop, const gw_options_t *opt, gw_t **out)
{
    gw_t *gw = wod_calloc(1, sizeof(*gw));
    gw->loop = loop;
    gw->cfg = *opt->cfg;
    gw->store = opt->store;
    gw->registry = opt->registry;
    gw->n_zones = opt->n_zones;
    gw->zones = wod_malloc(sizeof(zonedef_t) * (size_t)(opt->n_zones ? opt->n_zones : 1));
    memcpy(gw->zones, opt->zones, sizeof(zonedef_t) * (size_t)opt->n_zones);
    gw->role_all = opt->role_all;
    gw->started_ms = clock_mono_ms();
    gw->conn_drained = gw_session_drained;
    /* Socket.IO timings; tests shorten them to see pings quickly. */
    gw->sio_ping_interval = env_int("SIO_PING_INTERVAL_MS", 25000);
    gw->sio_ping_timeout = env_int("SIO_PING_TIMEOUT_MS", 20000);
    gw->servers_cache = json_object();
    gw->zones_cache = json_object();
    gw->assigned_seen = json_object();
    if (gw_account_init(gw) < 0) {
        json_decref(gw->assigned_seen);
        json_decref(gw->servers_cache);
        json_decref(gw->zones_cache);
        free(gw->zones);
        free(gw);
        *out = NULL;
        return 1;
    }
    gw_limits_init(gw);

    http_lws_logging();
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[] = {loop};
    info.port = gw->cfg.gateway_port;
    info.iface = gw->cfg.bind_address;
    info.protocols = protocols;
    info.options =
        LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    info.foreign_loops = loops;
    info.user = gw;
    info.ka_time = GW_KEEPALIVE_IDLE_S; /* TCP keepalive on every accepted socket */
    info.ka_interval = GW_KEEPALIVE_INTVL_S;
    info.ka_probes = GW_KEEPALIVE_CNT;
    info.timeout_secs = 30;
    /* No lws "validity" pings: lws arms a per-connection timer for them in
     * one sorted list per thread, an O(connections) insert on every
     * handshake and pong, which at 15,000 clients took two thirds of the
     * gateway's core. Dead peers are found by TCP keepalive and the
     * stalled-writer cut (conn.c); live clients ping us. */
    static const lws_retry_bo_t no_validity_pings = {0};
    info.retry_and_idle_policy = &no_validity_pings;
    /* Deadlines before authentication are limits.c's; lws's own header
     * table timeout (whole seconds) only backs ours up. */
    info.timeout_secs_ah_idle = (unsigned)gw->cfg.http_header_timeout_ms / 1000 + 2;
    info.max_http_header_pool = (unsigned short)gw_limits_ah_pool(&gw->cfg);
    info.max_http_header_data = HTTP_HEADER_TABLE_BYTES;
    info.fd_limit_per_thread = 0;
    info.count_threads = 1;
    info.pt_serv_buf_size = 64 * 1024;
    int err = http_listen_start(&info, "gateway", "GATEWAY_PORT", &gw->lws);
    if (err) {
        gw_limits_free(gw);
        gw_account_stop(gw);
        json_decref(gw->servers_cache);
        json_decref(gw->zones_cache);
        json_decref(gw->assigned_seen);
        free(gw->zones);
        free(gw);
        *out = NULL;
        return err;
    }
    uv_timer_init(loop, &gw->timer);
    uv_timer_start(&gw->timer, on_timer, 200, 1000);
    uv_prepare_init(loop, &gw->flush);
    uv_prepare_start(&gw->flush, on_prepare);
    log_info("gateway", "listening on %s:%d (HTTP, /ws, /socket.io/, web client at /%s)",
             gw->cfg.bind_address, gw->cfg.gateway_port,
             gw->cfg.admin_token[0] ? ", admin console at /admin" : "");
    *out = gw;
    return 0;
}

void gw_attach_bus(gw_t *gw, bus_t *bus)
{
    char ch[BUS_CHANNEL_MAX];
    gw->bus = bus;
    gw->bus_up = 1;
    /* A new bus refuses subscriptions only once closing: cannot happen here. */
    if (bus_channel_gateway(ch, sizeof(ch), gw->cfg.server_id) >= 0) (void)bus_subscribe(bus, ch);
    (void)bus_subscribe(bus, BUS_CHANNEL_GATEWAYS);
    gw_admin_attach(gw);
    gw_api_refresh(gw);
}

void gw_bus_msg(void *ud, const char *channel, const char *data, size_t len)
{
    if (strncmp(channel, "zone:", 5) == 0)
        gw_admin_zone_broadcast(ud, channel, data, len);
    else
        gw_session_route(ud, data, len);
}

void gw_bus_state(void *ud, int up)
{
    gw_t *gw = ud;
    int was_down = !gw->bus_up;
    gw->bus_up = up;
    log_warn("gateway", "bus %s", up ? "connected" : "lost");
    /* Zone output may have been lost (Redis restarted, or cut our
     * subscriber for reading too slowly): ask for full rosters. */
    if (up && was_down) gw_route_resync(gw);
}

void gw_begin_shutdown(gw_t *gw)
{
    gw->shutting_down = 1;
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (!c) continue;
        gw_conn_error(c, "SERVER_SHUTDOWN", "The server is shutting down; your progress is saved.",
                      "fatal");
        gw_session_closed(c);
        gw_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutdown");
    }
    gw_route_flush(gw);
}

static void handle_closed(uv_handle_t *h)
{
    gw_t *gw = h->data;
    gw->handles_open--;
}

void gw_stop(gw_t *gw)
{
    /* With a foreign libuv loop lws tears down in two steps: this call
     * starts closing its handles, the loop completes them, and the second
     * lws_context_destroy() in gw_free() releases the rest. */
    gw_account_stop(gw);
    gw_poll_stop(gw);
    lws_context_destroy(gw->lws);
    gw->handles_open = 2;
    gw->timer.data = gw;
    gw->flush.data = gw;
    uv_close((uv_handle_t *)&gw->timer, handle_closed);
    uv_close((uv_handle_t *)&gw->flush, handle_closed);
}

void gw_free(gw_t *gw)
{
    wod_assert(gw->handles_open == 0);
    lws_context_destroy(gw->lws);
    gw_limits_free(gw);
    json_decref(gw->servers_cache);
    json_decref(gw->zones_cache);
    json_decref(gw->assigned_seen);
    gw_recovery_free(gw);
    gw_admin_free(gw);
    gw_route_free(gw);
    free(gw->slots);
    free(gw->dirty);
    free(gw->gens);
    free(gw->free_slots);
    free(gw->zones);
    free(gw);
}
