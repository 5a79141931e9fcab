/* framing.h - how a client's protocol messages are framed on its socket.
 *
 * Two framings carry the same messages (docs/PROTOCOL.md "Transports"):
 * native JSON frames on /ws (framing_ws.c) and Engine.IO v4 + Socket.IO v5
 * event packets on /socket.io/ (framing_sio.c). server.c picks one per
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

typedef struct gw_framing_s {
    const char *name;  /* for log lines: "ws", "socket.io" */
    int binary_frames; /* 1: compact rosters go to its clients as binary frames */
    /* 1 if an upgrade request for uri (query arguments read from wsi) is
     * for this framing. */
    int (*accepts)(struct lws *wsi, const char *uri);
    /* The WebSocket is established: greet the client, start heartbeats. */
    void (*open)(gw_conn_t *c);
    /* One complete text frame from the client: decodes it and hands the
     * messages to the session (gw_session_on_msg), or answers the error. */
    void (*on_frame)(gw_conn_t *c, const char *data, size_t len);
    /* Appends the frame carrying one protocol message (type of type_len
     * bytes, payload JSON) to out: 0, or -1 if the client cannot take
     * messages yet (nothing is appended; the message is dropped). */
    int (*encode)(gw_conn_t *c, buf_t *out, const char *type, size_t type_len, const char *payload,
                  size_t len);
    /* gw_conn_close is about to close c with code: queues what the framing
     * sends before the WebSocket close frame (a Socket.IO disconnect). */
    void (*close)(gw_conn_t *c, int code);
} gw_framing_t;

extern const gw_framing_t gw_framing_ws;  /* framing_ws.c: /ws */
extern const gw_framing_t gw_framing_sio; /* framing_sio.c: /socket.io/ */

#endif
