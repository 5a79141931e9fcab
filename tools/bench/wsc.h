/* wsc.h - the minimal WebSocket client wod-bench's bots use (RFC 6455,
 * client side, ws:// only) on a libuv TCP handle.
 *
 * Why not libwebsockets' client: it runs every received payload byte
 * through a byte-at-a-time state machine and copies it into a per-wsi
 * buffer before the callback; with thousands of bots receiving 20 Hz
 * rosters that was most of the load tool's core. Here a frame header is
 * parsed once and the payload is handed to the caller as pointers into the
 * socket read buffer (no copy, no per-byte work); the caller peeks at the
 * first bytes and drops what it does not measure.
 *
 * Scope: what a bench client needs and nothing more. Text/binary data
 * frames (fragmented or not) are delivered; pings are answered; a close
 * frame is answered and ends the connection; the server's handshake
 * answer is checked for "101" only (no Sec-WebSocket-Accept check). */
#ifndef WOD_BENCH_WSC_H
#define WOD_BENCH_WSC_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define WSC_HS_MAX  4096 /* longest handshake answer accepted */
#define WSC_CTL_MAX 125  /* a control frame's payload is at most this long */

typedef struct wsc_s wsc_t;

typedef struct wsc_cbs_s {
    /* The handshake succeeded: wsc_send() may be used. */
    void (*on_open)(wsc_t *c);
    /* A piece of a data message: `first` on its first piece, `final` on its
     * last (both on an unfragmented message that arrived in one read). The
     * bytes live in the read buffer: copy what must outlive the call. */
    void (*on_data)(wsc_t *c, const char *data, size_t len, int first, int final);
    /* The connection is gone (after an error, a close frame or
     * wsc_close()) and its handle closed; `why` says why (never NULL).
     * `was_open` is 1 when on_open had run. */
    void (*on_closed)(wsc_t *c, int was_open, const char *why);
} wsc_cbs_t;

struct wsc_s {
    uv_tcp_t tcp;          /* valid while `active` */
    uv_connect_t conn_req; /* the pending connect */
    const wsc_cbs_t *cbs;  /* callbacks */
    void *user;            /* the caller's pointer */
    const char *host;      /* Host header (the caller keeps it alive) */
    const char *path;      /* request path (the caller keeps it alive) */
    int active;            /* the tcp handle is initialised and not yet closed */
    int open;              /* handshake done */
    int closing;           /* uv_close issued */
    char *hs;              /* handshake answer being read (NULL once open) */
    size_t hs_len;         /* bytes in hs */
    uint8_t hdr[14];       /* frame header being read */
    size_t hdr_len;        /* bytes in hdr */
    uint64_t left;         /* payload bytes left in the current frame */
    uint8_t opcode;        /* current frame's opcode */
    uint8_t fin;           /* current frame is the last of its message */
    uint8_t in_msg;        /* a data message has started and not ended */
    uint8_t in_payload;    /* header done, reading payload */
    uint8_t ctl[WSC_CTL_MAX];
    size_t ctl_len;    /* control payload collected */
    uint64_t bytes_in; /* bytes read from the socket, headers included */
    char why[96];      /* reason reported by on_closed */
};

/* Starts connecting to `dst` (bound to `src` when not NULL) and sends the
 * upgrade request for `host` and `path` once connected. 0 or a negative
 * libuv error (then nothing is left to close). */
int wsc_connect(wsc_t *c, uv_loop_t *loop, const struct sockaddr_in *dst,
                const struct sockaddr_in *src, const char *host, const char *path,
                const wsc_cbs_t *cbs, void *user);
/* Sends one text frame (masked, as a client must). 0, or -1 when the
 * connection is not open or the write failed (the connection then closes). */
int wsc_send(wsc_t *c, const char *data, size_t len);
/* Sends a close frame with `code` and closes the socket. */
void wsc_close(wsc_t *c, uint16_t code, const char *why);
/* Bytes read from every connection's socket so far (frames and headers). */
uint64_t wsc_total_bytes_in(void);
/* Closes the socket at once (no close frame). */
void wsc_abort(wsc_t *c, const char *why);

#endif
