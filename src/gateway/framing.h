/* framing.h - how a client's protocol messages are framed on its socket.
 *
 * Two framings carry the same messages (docs/PROTOCOL.md "Transports"):
 * native JSON frames on /ws (framing_ws.c) and Engine.IO v4 + Socket.IO v5
 * event packets on /socket.io/, over a WebSocket (framing_sio.c) or HTTP
 * long-polling (framing_poll.c). server.c picks one per
 * connection at the upgrade (`accepts`); after that the gateway only calls
 * through the table and never asks which framing a connection speaks.
 *
 * Direction: a framing sits between server.c (which hands it frames) and
 * session.c (to which it hands decoded messages); it queues its own bytes
 * with gw_conn_write_raw(). conn.c calls `encode` and `close` through the
 * table. */
#ifndef WOD_GW_FRAMING_H
#define WOD_GW_FRAMING_H

#include "../core/buf.h"

#include <stddef.h>

struct lws;
typedef struct gw_conn_s gw_conn_t;

typedef struct gw_s gw_t;

/* Buffer for lws_get_urlarg_by_name: lws 4.1.6 gives up at the first query
 * argument (in order) longer than the buffer, so this fits any we expect. */
#define GW_URLARG_MAX 512

/* Two kinds of entries: per socket (server.c calls them with the wsi's
 * framing, chosen at the upgrade) and per connection (conn.c calls them
 * with c->framing). For /ws and a Socket.IO WebSocket both are the same
 * table; a Socket.IO long-polling session (framing_poll.c) has no socket
 * of its own, and the WebSocket that takes it over joins it with the
 * upgrade framing until the Engine.IO upgrade completes. */
typedef struct gw_framing_s {
    const char *name;  /* for log lines: "ws", "socket.io" */
    int binary_frames; /* 1: compact rosters go to its clients as binary frames */
    /* Per socket. 1 if an upgrade request for uri (query arguments read
     * from wsi) is for this framing. */
    int (*accepts)(struct lws *wsi, const char *uri);
    /* The WebSocket is established: the connection it carries (a new one,
     * greeted, heartbeats started; or the session it joins), or NULL to
     * refuse it. */
    gw_conn_t *(*open)(gw_t *gw, struct lws *wsi);
    /* One complete text frame from the client: decodes it and hands the
     * messages to the session (gw_session_on_msg), or answers the error. */
    void (*on_frame)(gw_conn_t *c, const char *data, size_t len);
    /* The WebSocket wsi carrying c may write. Returns -1 to have lws close it. */
    int (*writable)(gw_conn_t *c, struct lws *wsi);
    /* wsi closed but c is not on it (c->wsi != wsi): an upgrade that did
     * not complete; c goes on without it. */
    void (*abandon)(gw_conn_t *c, struct lws *wsi);

    /* Per connection. Appends the frame carrying one protocol message (type of type_len
     * bytes, payload JSON) to out: 0, or -1 if the client cannot take
     * messages yet (nothing is appended; the message is dropped). */
    int (*encode)(gw_conn_t *c, buf_t *out, const char *type, size_t type_len, const char *payload,
                  size_t len);
    /* gw_conn_close is about to close c with code: queues what the framing
     * sends before the WebSocket close frame (a Socket.IO disconnect). */
    void (*close)(gw_conn_t *c, int code);
    /* Something was queued, or the close began (c->closing): have it written. */
    void (*wake)(gw_conn_t *c);
    /* The client does not read (its queue is already dropped): end it now. */
    void (*kill)(gw_conn_t *c, const char *why);
} gw_framing_t;

extern const gw_framing_t gw_framing_ws;       /* framing_ws.c: /ws */
extern const gw_framing_t gw_framing_sio;      /* framing_sio.c: /socket.io/ WebSocket */
extern const gw_framing_t gw_framing_sio_poll; /* framing_poll.c: /socket.io/ long-polling */
/* framing_poll.c: a WebSocket with ?sid= taking a polling session over. */
extern const gw_framing_t gw_framing_sio_upgrade;

/* framing_sio.c, shared with framing_poll.c: sends the Engine.IO open
 * packet (upgrades offered if polling) and starts the heartbeat. */
void gw_sio_greet(gw_conn_t *c, int polling);
/* Its entries, which the polling session shares. */
void gw_sio_on_frame(gw_conn_t *c, const char *data, size_t len);
int gw_sio_encode(gw_conn_t *c, buf_t *out, const char *type, size_t type_len, const char *payload,
                  size_t len);
void gw_sio_close(gw_conn_t *c, int code);

/* conn.c: the WebSocket side of the per-socket and per-connection entries. */
int gw_conn_ws_writable(gw_conn_t *c, struct lws *wsi);
void gw_conn_ws_abandon(gw_conn_t *c, struct lws *wsi);
void gw_conn_ws_wake(gw_conn_t *c);
void gw_conn_ws_kill(gw_conn_t *c, const char *why);

#endif
