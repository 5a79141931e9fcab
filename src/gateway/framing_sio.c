/* framing_sio.c - the Socket.IO framing on /socket.io/ (Engine.IO v4 +
 * Socket.IO v5 over WebSocket, docs/PROTOCOL.md "Transports"): the open
 * packet, namespace connect/disconnect, acks, and the Engine.IO heartbeat.
 * The packet codec itself is proto/sio.c; this file owns the session
 * state of the framing (namespace connected, ping outstanding). */
#include "framing.h"
#include "gw.h"
#include "../core/alloc.h" /* container_of */
#include "../core/log.h"
#include "../proto/sio.h"

#include <stdio.h>
#include <string.h>

static int sio_accepts(struct lws *wsi, const char *uri)
{
    if (strcmp(uri, "/socket.io/") != 0 && strcmp(uri, "/socket.io") != 0) return 0;
    char buf[64];
    const char *eio = lws_get_urlarg_by_name(wsi, "EIO=", buf, sizeof(buf));
    if (!eio || strcmp(eio, "4") != 0) return 0;
    const char *t = lws_get_urlarg_by_name(wsi, "transport=", buf, sizeof(buf));
    return t && strcmp(t, "websocket") == 0;
}

/* Engine.IO heartbeat: ping every pingInterval; a pong must come within
 * pingTimeout of the ping or the connection is closed. */
static void on_heartbeat(uv_timer_t *t)
{
    gw_conn_t *c = container_of(t, gw_conn_t, heartbeat);
    gw_t *gw = c->gw;
    if (!c->wsi || c->closing) return;
    if (c->sio_awaiting_pong) {
        log_info(gw_conn_subject(c), "socket.io ping timeout");
        gw_session_closed(c);
        gw_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "ping timeout");
        return;
    }
    gw_conn_write_raw(c, "2", 1);
    c->sio_awaiting_pong = 1;
    uv_timer_start(&c->heartbeat, on_heartbeat, (uint64_t)gw->sio_ping_timeout, 0);
}

static void heartbeat_start(gw_conn_t *c)
{
    uv_timer_start(&c->heartbeat, on_heartbeat, (uint64_t)c->gw->sio_ping_interval, 0);
}

static void on_pong(gw_conn_t *c)
{
    if (!c->sio_awaiting_pong) return;
    c->sio_awaiting_pong = 0;
    heartbeat_start(c);
}

static void sio_open(gw_conn_t *c)
{
    gw_t *gw = c->gw;
    (void)snprintf(c->sid, sizeof(c->sid), "%016llx", (unsigned long long)c->id);
    buf_t b;
    buf_init(&b);
    sio_encode_open(&b, c->sid, gw->sio_ping_interval, gw->sio_ping_timeout, MSG_MAX_FRAME_BYTES);
    gw_conn_write_raw(c, b.data, b.len);
    buf_free(&b);
    heartbeat_start(c);
}

/* A Socket.IO event: decoded into a msg_t, acknowledged if the client
 * asked (the ack says whether it was valid), handed to the session. */
static void on_event(gw_conn_t *c, const sio_packet_t *p, buf_t *b)
{
    const char *name;
    json_t *payload;
    char err[160];
    if (!c->sio_connected || strcmp(p->nsp, "/") != 0) {
        gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "event before connect");
        return;
    }
    if (sio_event_args(p, &name, &payload) < 0) {
        gw_session_bad_frame(c, MSG_ERR_PAYLOAD, "an event needs a name");
        return;
    }
    msg_t m; /* ~2 KiB: on the stack, not a malloc per frame */
    const char *code;
    int ok = msg_decode(name, payload, &m, &code, err, sizeof(err)) == 0;
    if (p->ack_id >= 0) {
        buf_t args;
        buf_init(&args);
        if (ok) {
            buf_puts(&args, "[{\"ok\":true}]");
        } else {
            buf_puts(&args, "[{\"ok\":false,\"code\":");
            buf_json_str(&args, code);
            buf_puts(&args, "}]");
        }
        sio_encode_ack(b, p->ack_id, args.data, args.len);
        gw_conn_write_raw(c, b->data, b->len);
        buf_free(&args);
    }
    if (ok) {
        c->bad_frames = 0;
        gw_session_on_msg(c, &m);
    } else {
        gw_session_bad_frame(c, code, err);
    }
}

static void sio_on_frame(gw_conn_t *c, const char *data, size_t len)
{
    sio_packet_t p;
    char err[160];
    buf_t b;
    if (sio_parse(data, len, &p, err, sizeof(err)) < 0) {
        log_info(gw_conn_subject(c), "bad socket.io packet: %s", err);
        gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "invalid packet");
        return;
    }
    buf_init(&b);
    switch (p.eio) {
    case EIO_PONG:
        on_pong(c);
        break;
    case EIO_PING:
        sio_encode_pong(&b, p.raw, p.raw_len);
        gw_conn_write_raw(c, b.data, b.len);
        break;
    case EIO_CLOSE:
        gw_session_closed(c);
        gw_conn_close(c, LWS_CLOSE_STATUS_NORMAL, "client closed");
        break;
    case EIO_MESSAGE:
        if (p.sio == SIO_CONNECT) {
            if (strcmp(p.nsp, "/") != 0) {
                sio_encode_connect_error_nsp(&b, p.nsp, "Invalid namespace");
            } else {
                c->sio_connected = 1;
                sio_encode_connect(&b, c->sid);
            }
            gw_conn_write_raw(c, b.data, b.len);
        } else if (p.sio == SIO_DISCONNECT) {
            c->sio_connected = 0;
            gw_session_closed(c);
            gw_conn_close(c, LWS_CLOSE_STATUS_NORMAL, "namespace disconnect");
        } else if (p.sio == SIO_EVENT) {
            on_event(c, &p, &b);
        }
        break;
    default:
        break;
    }
    buf_free(&b);
    sio_packet_clear(&p);
}

static int sio_encode(gw_conn_t *c, buf_t *out, const char *type, size_t type_len,
                      const char *payload, size_t len)
{
    if (!c->sio_connected) return -1;
    sio_encode_event_n(out, type, type_len, payload, len);
    return 0;
}

/* A namespace disconnect tells the client not to reconnect on its own; a
 * shutdown (1001) leaves it free to. */
static void sio_close(gw_conn_t *c, int code)
{
    if (c->sio_connected && code != LWS_CLOSE_STATUS_GOINGAWAY) gw_conn_write_raw(c, "41", 2);
}

const gw_framing_t gw_framing_sio = {
    .name = "socket.io",
    .accepts = sio_accepts,
    .open = sio_open,
    .on_frame = sio_on_frame,
    .encode = sio_encode,
    .close = sio_close,
};
