/* framing_poll.c - Socket.IO over Engine.IO v4 HTTP long-polling, and the
 * upgrade of such a session to a WebSocket (docs/PROTOCOL.md "Long-polling").
 *
 * A polling session is a gw_conn_t without a socket (c->wsi is NULL): the
 * client fetches what is queued with GETs (one held open at a time, until
 * data is queued or the heartbeat pings) and sends its packets in POSTs;
 * both carry ?sid=. Packets in either direction are joined by 0x1e. What the
 * packets mean is framing_sio.c's; this file moves them over HTTP.
 *
 * Upgrade: a WebSocket with ?transport=websocket&sid= joins the session
 * (gw_framing_sio_upgrade); it answers "2probe" with "3probe" while the held
 * GET is released with a noop "6"; on "5" the session moves to the
 * WebSocket (c->framing = gw_framing_sio, c->wsi = that socket). A probe
 * that fails or closes leaves the session on polling.
 *
 * A session ends after a close (the held GET, or the next one within
 * GW_CLOSE_FLUSH_S, gets what is queued and a close packet "1"), a missed
 * pong (the heartbeat), or a protocol error; it is freed from a timer so
 * that no caller holds it when it goes. */
#include "framing.h"
#include "gw.h"
#include "../core/alloc.h" /* container_of */
#include "../core/clock.h"
#include "../core/log.h"
#include "../proto/sio.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SID_LEN 32 /* 16 hex digits of the connection id, 16 random */

/* Engine.IO's error answers (HTTP 400 unless said otherwise). */
enum { E_TRANSPORT = 0, E_SID = 1, E_METHOD = 2, E_REQUEST = 3, E_VERSION = 5 };
static const char *const error_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version",
};

static void reply_text(struct lws *wsi, http_reply_t *reply, int status, const char *type,
                       const char *text, size_t len)
{
    buf_t *body = wod_calloc(1, sizeof(buf_t));
    buf_append(body, text, len);
    http_reply_start(wsi, reply, status, type, body);
}

static void reply_error(struct lws *wsi, http_reply_t *reply, int status, int code)
{
    char json[96];
    int n = snprintf(json, sizeof(json), "{\"code\":%d,\"message\":\"%s\"}", code,
                     error_messages[code]);
    reply_text(wsi, reply, status, "application/json", json, (size_t)n);
}

static gw_conn_t *find_sid(gw_t *gw, const char *sid)
{
    char idhex[17];
    if (strlen(sid) != SID_LEN) return NULL;
    for (int i = 0; i < SID_LEN; i++)
        if (!strchr("0123456789abcdef", sid[i]) || !sid[i]) return NULL;
    memcpy(idhex, sid, 16);
    idhex[16] = '\0';
    gw_conn_t *c = gw_conn_find(gw, strtoull(idhex, NULL, 16));
    if (!c || c->closing || sodium_memcmp(c->sid, sid, SID_LEN) != 0) return NULL;
    return c;
}

static int is_polling(const gw_conn_t *c)
{
    return c->framing == &gw_framing_sio_poll;
}

/* Frees the session from its own timer: nothing up the stack holds it. */
static void on_reap(uv_timer_t *t)
{
    gw_conn_t *c = container_of(t, gw_conn_t, heartbeat);
    if (c->poll_get) lws_set_timeout(c->poll_get, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    if (c->poll_probe) lws_set_timeout(c->poll_probe, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    log_debug(gw_conn_subject(c), "polling session ends");
    gw_session_closed(c);
    gw_conn_free(c);
}

static void reap_in(gw_conn_t *c, int ms)
{
    uv_timer_start(&c->heartbeat, on_reap, (uint64_t)ms, 0);
}

/* A protocol error: the session ends at once. */
static void fail(gw_conn_t *c, const char *why)
{
    log_info(gw_conn_subject(c), "polling: %s", why);
    gw_session_closed(c);
    gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
}

/* The stage deadlines of limits.c, which times sockets, not sessions:
 * checked at each request (a live client polls at least every pingInterval). */
static void check_deadlines(gw_conn_t *c)
{
    const config_t *cfg = &c->gw->cfg;
    double age = clock_mono_ms() - c->poll_started_ms;
    if (c->state == ST_NEW && age > cfg->handshake_timeout_ms)
        fail(c, "handshake timeout");
    else if (c->state < ST_AUTHED && !c->busy &&
             age > (double)cfg->handshake_timeout_ms + cfg->auth_timeout_ms)
        fail(c, "auth timeout");
}

static void poll_wake(gw_conn_t *c)
{
    /* Closing: the queue and "1" go to the held GET or the next ones; a
     * client that does not come for them is dropped after the grace. */
    if (c->closing) reap_in(c, GW_CLOSE_FLUSH_S * 1000);
    if (c->poll_get) lws_callback_on_writable(c->poll_get);
}

static void poll_kill(gw_conn_t *c, const char *why)
{
    gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
}

static void hold_get(gw_conn_t *c, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply)
{
    c->poll_get = wsi;
    c->poll_reply = reply;
    pr->conn_id = c->id;
    pr->held = 1;
    /* the heartbeat answers it within pingInterval; this only backs it up */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
                    (c->gw->sio_ping_interval + c->gw->sio_ping_timeout) / 1000 + GW_CLOSE_FLUSH_S);
    if (c->out_bytes || c->closing || c->poll_noop) lws_callback_on_writable(wsi);
}

static void handshake(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply)
{
    unsigned char rnd[8];
    gw_conn_t *c = gw_conn_new(gw, NULL, &gw_framing_sio_poll);
    randombytes_buf(rnd, sizeof(rnd));
    (void)snprintf(c->sid, sizeof(c->sid), "%016llx%02x%02x%02x%02x%02x%02x%02x%02x",
                   (unsigned long long)c->id, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
                   rnd[6], rnd[7]);
    c->poll_started_ms = clock_mono_ms();
    log_debug(gw_conn_subject(c), "polling session opens");
    gw_sio_greet(c, 1);
    hold_get(c, wsi, pr, reply);
}

int gw_poll_http(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply)
{
    char eio[GW_URLARG_MAX], transport[GW_URLARG_MAX], sid[GW_URLARG_MAX];
    int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    const char *e = lws_get_urlarg_by_name(wsi, "EIO=", eio, sizeof(eio));
    const char *t = lws_get_urlarg_by_name(wsi, "transport=", transport, sizeof(transport));
    const char *s = lws_get_urlarg_by_name(wsi, "sid=", sid, sizeof(sid));
    if (!t || strcmp(t, "polling") != 0) {
        /* a WebSocket transport asked without the upgrade headers */
        int known = t && strcmp(t, "websocket") == 0;
        reply_error(wsi, reply, 400, known ? E_REQUEST : E_TRANSPORT);
        return 0;
    }
    if (!e || strcmp(e, "4") != 0) {
        reply_error(wsi, reply, 400, E_VERSION);
        return 0;
    }
    if (!s) {
        if (!get) {
            reply_error(wsi, reply, 400, E_METHOD);
        } else if (gw->shutting_down) {
            reply_error(wsi, reply, 503, E_REQUEST);
        } else {
            handshake(gw, wsi, pr, reply);
        }
        return 0;
    }
    gw_conn_t *c = find_sid(gw, s);
    if (!c) {
        reply_error(wsi, reply, 400, E_SID);
        return 0;
    }
    if (!is_polling(c) || !(get || post)) {
        /* upgraded to a WebSocket, or a method polling does not use */
        reply_error(wsi, reply, 400, E_REQUEST);
        return 0;
    }
    check_deadlines(c);
    gw_limits_session(wsi, c);
    if (get) {
        if (c->poll_get) {
            /* Engine.IO allows one GET at a time: an overlap ends the session */
            reply_error(wsi, reply, 400, E_REQUEST);
            fail(c, "overlapping GET");
            return 0;
        }
        hold_get(c, wsi, pr, reply);
        return 0;
    }
    if (c->poll_posting) {
        reply_error(wsi, reply, 400, E_REQUEST);
        fail(c, "overlapping POST");
        return 0;
    }
    c->poll_posting = 1;
    pr->conn_id = c->id;
    pr->body = wod_calloc(1, sizeof(buf_t));
    pr->too_big = 0;
    return 0;
}

int gw_poll_body(gw_poll_req_t *pr, const void *in, size_t len)
{
    if (!pr->body) return 0;
    if (pr->body->len + len > (size_t)MSG_MAX_FRAME_BYTES) pr->too_big = 1;
    if (!pr->too_big) buf_append(pr->body, in, len);
    return 0;
}

/* Checks a whole POST before any of it is acted on: an invalid packet, or
 * one polling does not carry (an upgrade, a binary "b..." packet), fails
 * the lot. */
static int payload_ok(const char *data, size_t len)
{
    const char *pos = data, *pkt = NULL;
    size_t n;
    int rc;
    while ((rc = sio_payload_next(&pos, data + len, &pkt, &n)) > 0) {
        sio_packet_t p;
        if (sio_parse(pkt, n, &p, NULL, 0) < 0) return 0;
        eio_type_t type = p.eio;
        sio_packet_clear(&p);
        if (type == EIO_OPEN || type == EIO_UPGRADE) return 0;
    }
    return rc == 0;
}

int gw_poll_body_done(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply)
{
    if (!pr->body) return 0;
    gw_conn_t *c = gw_conn_find(gw, pr->conn_id);
    buf_t *b = pr->body;
    pr->body = NULL;
    if (c) c->poll_posting = 0;
    if (!c || c->closing || !is_polling(c)) {
        reply_error(wsi, reply, 400, c ? E_REQUEST : E_SID);
    } else if (pr->too_big) {
        /* over maxPayload: Engine.IO answers 413 and the session ends */
        reply_text(wsi, reply, 413, "application/json",
                   "{\"code\":3,\"message\":\"Payload too large\"}", 40);
        fail(c, "POST over maxPayload");
    } else if (!payload_ok(b->data ? b->data : "", b->len)) {
        reply_error(wsi, reply, 400, E_REQUEST);
        fail(c, "invalid packet");
    } else {
        const char *pos = b->data, *pkt = NULL;
        size_t n;
        /* account.c reads the client's address from c->wsi */
        c->wsi = wsi;
        while (!c->closing && is_polling(c) &&
               sio_payload_next(&pos, b->data + b->len, &pkt, &n) > 0)
            gw_sio_on_frame(c, pkt, n);
        c->wsi = NULL;
        gw_limits_session(wsi, c);
        reply_text(wsi, reply, 200, "text/html", "ok", 2);
    }
    buf_free(b);
    free(b);
    return 0;
}

void gw_poll_writable(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply)
{
    if (!pr->held || reply->body) return;
    gw_conn_t *c = gw_conn_find(gw, pr->conn_id);
    if (!c || c->poll_get != wsi) return;
    buf_t *body = wod_calloc(1, sizeof(buf_t));
    gw_conn_take(c, body, SIO_RECORD_SEP, (size_t)MSG_MAX_FRAME_BYTES);
    if (!body->len && c->poll_noop) buf_putc(body, '6');
    c->poll_noop = 0;
    if (c->closing && !c->out_bytes) {
        if (body->len) buf_putc(body, SIO_RECORD_SEP);
        buf_putc(body, '1');
        reap_in(c, 0);
    }
    if (!body->len) { /* woken for nothing: keep holding */
        buf_free(body);
        free(body);
        return;
    }
    c->poll_get = NULL;
    c->poll_reply = NULL;
    pr->held = 0;
    http_reply_start(wsi, reply, 200, "text/plain; charset=UTF-8", body);
}

void gw_poll_req_clear(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr)
{
    gw_conn_t *c = pr->conn_id ? gw_conn_find(gw, pr->conn_id) : NULL;
    if (c && c->poll_get == wsi) {
        c->poll_get = NULL;
        c->poll_reply = NULL;
    }
    if (c && pr->body) c->poll_posting = 0;
    if (pr->body) {
        buf_free(pr->body);
        free(pr->body);
        pr->body = NULL;
    }
    pr->held = 0;
    pr->conn_id = 0;
}

void gw_poll_stop(gw_t *gw)
{
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (!c || c->wsi) continue;
        gw_session_closed(c);
        gw_conn_free(c);
    }
}

/* ---- the WebSocket taking a polling session over ----------------------- */

static int upgrade_accepts(struct lws *wsi, const char *uri)
{
    char buf[GW_URLARG_MAX];
    if (strcmp(uri, "/socket.io/") != 0 && strcmp(uri, "/socket.io") != 0) return 0;
    const char *eio = lws_get_urlarg_by_name(wsi, "EIO=", buf, sizeof(buf));
    if (!eio || strcmp(eio, "4") != 0) return 0;
    const char *t = lws_get_urlarg_by_name(wsi, "transport=", buf, sizeof(buf));
    if (!t || strcmp(t, "websocket") != 0) return 0;
    return lws_get_urlarg_by_name(wsi, "sid=", buf, sizeof(buf)) != NULL;
}

/* Joins the session named by sid=, if it is on polling and not already
 * being upgraded: a second upgrade is refused. */
static gw_conn_t *upgrade_open(gw_t *gw, struct lws *wsi)
{
    char sid[GW_URLARG_MAX];
    const char *s = lws_get_urlarg_by_name(wsi, "sid=", sid, sizeof(sid));
    gw_conn_t *c = s ? find_sid(gw, s) : NULL;
    if (!c || !is_polling(c) || c->poll_probe) {
        log_info("gateway", "refusing a Socket.IO upgrade: %s",
                 !c ? "unknown sid" : "not on polling, or already upgrading");
        return NULL;
    }
    c->poll_probe = wsi;
    return c;
}

static void upgrade_abandon(gw_conn_t *c, struct lws *wsi)
{
    if (c->poll_probe == wsi) c->poll_probe = NULL;
}

/* The session moves to the WebSocket; a GET still held gets a noop. */
static void upgrade_complete(gw_conn_t *c)
{
    log_debug(gw_conn_subject(c), "polling session upgraded to a WebSocket");
    if (c->poll_get) {
        reply_text(c->poll_get, c->poll_reply, 200, "text/plain; charset=UTF-8", "6", 1);
        c->poll_get = NULL;
        c->poll_reply = NULL;
    }
    c->framing = &gw_framing_sio;
    c->wsi = c->poll_probe;
    c->poll_probe = NULL;
    c->poll_noop = 0;
    if (c->out_bytes) gw_conn_ws_wake(c);
}

static void upgrade_on_frame(gw_conn_t *c, const char *data, size_t len)
{
    if (!is_polling(c)) { /* upgraded: a Socket.IO WebSocket like any */
        gw_sio_on_frame(c, data, len);
        return;
    }
    if (len == 6 && memcmp(data, "2probe", 6) == 0) {
        c->poll_probe_pong = 1;
        lws_callback_on_writable(c->poll_probe);
        c->poll_noop = 1; /* the client waits for its GET to return */
        if (c->poll_get) lws_callback_on_writable(c->poll_get);
    } else if (len == 1 && data[0] == '5') {
        upgrade_complete(c);
    } else {
        log_info(gw_conn_subject(c), "upgrade: unexpected packet, dropping the WebSocket");
        lws_set_timeout(c->poll_probe, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        c->poll_probe = NULL;
    }
}

static int upgrade_writable(gw_conn_t *c, struct lws *wsi)
{
    if (c->wsi == wsi) return gw_conn_on_writable(c);
    if (wsi != c->poll_probe || !c->poll_probe_pong) return 0;
    unsigned char frame[LWS_PRE + 6];
    memcpy(frame + LWS_PRE, "3probe", 6); // NOLINT(bugprone-not-null-terminated-result): a frame
    c->poll_probe_pong = 0;
    return lws_write(wsi, frame + LWS_PRE, 6, LWS_WRITE_TEXT) < 6 ? -1 : 0;
}

static gw_conn_t *no_open(gw_t *gw, struct lws *wsi)
{
    (void)gw;
    (void)wsi;
    return NULL;
}

static int no_accepts(struct lws *wsi, const char *uri)
{
    (void)wsi;
    (void)uri;
    return 0;
}

/* The session: Socket.IO packets, carried by HTTP requests. */
const gw_framing_t gw_framing_sio_poll = {
    .name = "socket.io polling",
    .accepts = no_accepts, /* sessions start in gw_poll_http, not at an upgrade */
    .open = no_open,
    .on_frame = gw_sio_on_frame,
    .writable = upgrade_writable,
    .abandon = upgrade_abandon,
    .encode = gw_sio_encode,
    .close = gw_sio_close,
    .wake = poll_wake,
    .kill = poll_kill,
};

/* The WebSocket joining a session: its sockets' entries. */
const gw_framing_t gw_framing_sio_upgrade = {
    .name = "socket.io upgrade",
    .accepts = upgrade_accepts,
    .open = upgrade_open,
    .on_frame = upgrade_on_frame,
    .writable = upgrade_writable,
    .abandon = upgrade_abandon,
    .encode = gw_sio_encode,
    .close = gw_sio_close,
    .wake = gw_conn_ws_wake,
    .kill = gw_conn_ws_kill,
};
