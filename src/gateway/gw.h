/* gw.h - gateway internals shared by server.c, conn.c, session.c, api.c.
 * Not included outside src/gateway/. */
#ifndef WOD_GW_H
#define WOD_GW_H

#include "framing.h"
#include "gateway.h"
#include "session_rules.h"
#include "../bus/batch.h"
#include "../core/buf.h"
#include "../net/http.h"
#include "../proto/msg.h"

#include <libwebsockets.h>
#include <uthash.h>
#include <stdint.h>

#define GW_MAX_PENDING    32    /* messages held while an auth/db job runs */
#define GW_MAX_BAD_FRAMES 20    /* invalid frames in a row before a close */
#define GW_MAX_PLAYERS    10000 /* handshake_ack.serverCapabilities.maxPlayers (the original's) */

/* The send queue cap (GATEWAY_SEND_QUEUE_BYTES) and the stall time
 * (GATEWAY_SEND_STALL_MS) are configuration; see docs/OPERATIONS.md. */
#define GW_CLOSE_FLUSH_S 5 /* a closing client's queue + close frame, then killed */
#define GW_TRIM_BYTES    ((size_t)4 * 1024 * 1024) /* freed queue bytes before malloc_trim(0) */
/* TCP keepalive on client sockets: a peer that vanished (no FIN, no RST)
 * is found after about IDLE + INTVL * CNT seconds. */
#define GW_KEEPALIVE_IDLE_S  60
#define GW_KEEPALIVE_INTVL_S 10
#define GW_KEEPALIVE_CNT     5

/* Two send lanes per client: roster deltas go in the low one and are
 * written only when the high one (chat, events, pongs, everything else) is
 * empty, so a crowd's roster traffic never delays a chat line. */
enum { OUT_HIGH, OUT_LOW, OUT_LANES };

/* One lane: whole WebSocket frames (header and payload, as they go on the
 * wire) in one byte buffer, unsent from `head` on. The buffer starts
 * LWS_PRE bytes in, so that any frame in it can be handed to lws_write.
 * A polling session queues the same frames (gw_conn_take strips them). */
typedef struct out_queue_s {
    buf_t frames;
    size_t head;
    size_t bytes; /* unsent: frames.len - head */
} out_queue_t;

typedef struct gw_conn_s {
    gw_t *gw;
    struct lws *wsi;
    uint64_t id;                 /* generation << 32 | slot; what async work and the bus carry */
    const gw_framing_t *framing; /* native /ws or Socket.IO, chosen at the upgrade */
    conn_state_t state;
    /* the framing's heartbeat (Engine.IO: next ping, or the pong deadline);
     * idle on /ws. The connection is freed in its close callback. */
    uv_timer_t heartbeat;
    int sio_connected; /* framing_sio.c: Socket.IO namespace "/" connected */
    int sio_awaiting_pong;
    char sid[40]; /* Engine.IO session id */
    /* framing_poll.c: a long-polling session (socket-less: wsi NULL) */
    struct lws *poll_get;     /* the GET held open until there is data, or NULL */
    http_reply_t *poll_reply; /* its reply, in server.c's data for that socket */
    struct lws *poll_probe;   /* a WebSocket upgrading the session, or NULL */
    int poll_probe_pong;      /* "3probe" owed on poll_probe */
    int poll_noop;            /* "6" owed to the held GET (an upgrade is under way) */
    int poll_posting;         /* a POST of this session is being received */
    double poll_started_ms;
    int64_t account_id;
    char token[MSG_TOKEN_MAX + 1];
    int64_t character_id;
    character_t character; /* as it entered the world (for a recovery re-entry) */
    char character_name[CHAR_NAME_MAX + 1];
    char zone[ZONE_ID_MAX + 1];
    double max_update_rate;
    int wants_communication;        /* handshake capability: chat as `communication` */
    unsigned client_flags;          /* MSG_CLIENT_* from the handshake, for zones */
    int busy;                       /* an async job (auth, create, select) is running */
    msg_t *pending[GW_MAX_PENDING]; /* messages received while busy, in order */
    int n_pending;
    gw_chat_bucket_t chat; /* chat rate limit (session_rules.h) */
    int bad_frames;
    /* refused auth attempts; AUTH_MAX_FAILS_PER_CONN closes the connection */
    int auth_fails;
    buf_t rx; /* fragments of the message being received */
    out_queue_t out[OUT_LANES];
    size_t out_bytes;        /* both lanes, frame headers included */
    int out_dirty;           /* in gw->dirty: written before the loop sleeps */
    int out_waiting;         /* the socket was full: lws calls back when writable */
    gw_roster_flow_t roster; /* dropped deltas, asked resync (session_rules.h) */
    int closing;             /* close after the queue drains */
    int close_code;
    char close_reason[64];

    int close_sent;          /* the close frame is handed to lws */
    double last_progress_ms; /* the socket last took data (or the queue started) */
    /* recovery.c: last re-entry after the zone forgot this player */
    double reentered_ms;
} gw_conn_t;

typedef struct gw_zone_state_s gw_zone_state_t;
/* An account job for c has been answered (gw_account_start). */
typedef void (*gw_account_done_fn)(gw_conn_t *c);
typedef struct gw_limits_s gw_limits_t;

/* Per-address login limits, for wod_auth_rate_limited_total{kind} (account.c). */
typedef enum { GW_LIMIT_LOGIN, GW_LIMIT_TOKEN, GW_LIMIT_GUEST, GW_LIMIT_KINDS } gw_auth_limit_t;
typedef struct gw_admin_s gw_admin_t;

/* Client input for one zone (destination = zone id), published once per
 * loop iteration (route.c). */
typedef struct gw_zone_batch_s {
    bus_batch_t b; /* first: bus_batch_get allocates the whole struct */
    int resync;    /* gw_route_resync: this zone was already asked */
} gw_zone_batch_t;

struct gw_s {
    uv_loop_t *loop;
    config_t cfg;
    store_t *store;
    registry_t *registry;
    bus_t *bus;
    zonedef_t *zones;
    int n_zones;
    int role_all;
    struct lws_context *lws;
    uv_timer_t timer;   /* 1 s housekeeping: registry cache, heartbeat */
    uv_prepare_t flush; /* publishes batched zone input before the loop sleeps */
    int shutting_down;
    int handles_open;
    double started_ms;
    int sio_ping_interval, sio_ping_timeout; /* ms */
    /* connection table */
    gw_conn_t **slots;
    uint32_t *gens;
    uint32_t n_slots, cap_slots;
    uint32_t *free_slots;
    uint32_t n_free;
    uint32_t n_conns;
    /* batched input per zone */
    bus_batch_t *batches;               /* gw_zone_batch_t per zone (route.c) */
    void (*conn_drained)(gw_conn_t *c); /* conn.c reports a draining send queue */
    uint64_t *dirty;                    /* conn ids with frames queued this loop turn */
    size_t n_dirty, cap_dirty;
    gw_zone_state_t *zone_states; /* recovery.c */
    gw_limits_t *limits;          /* limits.c */
    /* registry cache for the HTTP API */
    json_t *servers_cache, *zones_cache;
    json_t *assigned_seen; /* zoneId -> [owner, wall ms first seen] (/api/zones assignedAt) */
    int bus_up;
    gw_admin_t *admin; /* admin.c, created on first use */
    /* metrics */
    unsigned long long msgs_in, msgs_out, routed, auth_ok, auth_fail, connections_total;
    unsigned long long deltas_dropped; /* roster deltas not sent to backed-up clients */
    unsigned long long slow_closes;    /* clients cut for not reading */
    size_t freed_since_trim;           /* client bytes freed since the last malloc_trim */
    int trim_in;                       /* sweeps until the next malloc_trim, 0 = none due */
    double store_ms_total;
    unsigned long long store_ops;
    /* login abuse limits (account.c) */
    struct hashpool_s *hashpool; /* argon2id jobs, off libuv's worker pool */
    struct throttle_s *throttle; /* per-address buckets, per-account lockouts */
    unsigned long long auth_bad_password, auth_bad_token, auth_lockouts, auth_busy, auth_conn_cut;
    unsigned long long auth_limited[GW_LIMIT_KINDS];
    /* zone records from a deposed owner, dropped (recovery.c) */
    unsigned long long stale_epoch_drops;
};

/* Who calls whom (docs/ARCHITECTURE.md "Gateway layout"): server.c ->
 * framing_*.c -> session.c -> account.c, recovery.c, admin.c -> route.c ->
 * conn.c. A lower file reports upwards only through a callback the upper
 * one registered (gw_t.conn_drained, the `done` of gw_account_start). */

/* conn.c */
gw_conn_t *gw_conn_new(gw_t *gw, struct lws *wsi, const gw_framing_t *framing);
/* Unlinks c from the table; the memory goes once its timer has closed. */
void gw_conn_free(gw_conn_t *c);
gw_conn_t *gw_conn_find(gw_t *gw, uint64_t id);
/* Queues one raw text frame in the high lane. */
void gw_conn_write_raw(gw_conn_t *c, const char *data, size_t len);
/* Queues a protocol message in the connection's framing, in the high lane. */
void gw_conn_send(gw_conn_t *c, const char *type, const char *payload, size_t len);
/* The same in a given lane (OUT_HIGH, OUT_LOW), with a type of type_len
 * bytes (not NUL-terminated: as it lies in a bus record). */
void gw_conn_send_msg(gw_conn_t *c, int lane, const char *type, size_t type_len,
                      const char *payload, size_t len);
/* Queues a compact roster frame (src/proto/compact.h) as one binary frame
 * in the low lane; native /ws only (Socket.IO clients never get one). */
void gw_conn_send_binary(gw_conn_t *c, const char *payload, size_t len);
void gw_conn_error(gw_conn_t *c, const char *code, const char *message, const char *severity);
/* The one way the server closes a client: sends what is queued, then a
 * close frame with code (an RFC 6455 status, LWS_CLOSE_STATUS_*) and
 * reason (cut to 63 bytes); the framing may queue a last word first (a
 * Socket.IO client gets a namespace disconnect "41" unless the code is
 * 1001). A socket that does not become writable within GW_CLOSE_FLUSH_S
 * is killed. Idempotent. */
void gw_conn_close(gw_conn_t *c, int code, const char *reason);
/* Moves the payloads of queued frames (high lane first, headers stripped)
 * into out, joined by sep, while out stays within cap bytes (at least one
 * frame); calls gw->conn_drained. Returns the number of frames taken. For
 * a transport without a socket. */
int gw_conn_take(gw_conn_t *c, buf_t *out, char sep, size_t cap);
/* The send path (conn.c): a message is framed into its lane's buffer and
 * the connection noted; gw_conn_flush, once per loop turn, writes each
 * noted connection's lanes with one writev straight to its socket. Only a
 * socket that does not take everything asks lws for a writable callback
 * (gw_conn_on_writable), which writes the rest the same way. */
void gw_conn_flush(gw_t *gw);
/* LWS_CALLBACK_SERVER_WRITEABLE: writes what is queued; calls
 * gw->conn_drained as the queue drains. */
int gw_conn_on_writable(gw_conn_t *c);
/* Once a second: cuts clients whose queue made no progress for
 * GATEWAY_SEND_STALL_MS, returns freed queue memory to the system. */
void gw_conn_sweep(gw_t *gw);

/* "conn 1a2b..." for log lines; the string lives until the next call. */
const char *gw_conn_subject(const gw_conn_t *c);

/* route.c: client input batched per zone. */
struct env_rec_s;
/* Appends one record for c to its zone's batch (fills client and character id). */
void gw_route_record(gw_conn_t *c, struct env_rec_s *r);
/* Publishes every zone's batch (once per loop iteration). */
void gw_route_flush(gw_t *gw);
/* Asks every zone with players here for full rosters (after a bus outage). */
void gw_route_resync(gw_t *gw);
void gw_route_free(gw_t *gw);

/* account.c: runs auth / character_create / character_select for c (m is
 * copied). done(c) is called once the answer is sent, if c is still there
 * (the session then dispatches what it held meanwhile). */
void gw_account_start(gw_conn_t *c, const msg_t *m, gw_account_done_fn done);
/* Starts the password hashing pool and the login throttles; 0 or -1. */
int gw_account_init(gw_t *gw);
/* Stops the pool (answering what it held) and frees the throttles. */
void gw_account_stop(gw_t *gw);

/* recovery.c */
void gw_recovery_check(gw_t *gw);
int gw_recovery_zone_down(gw_t *gw, const char *zone);
/* An EPOCH record: 1 if records of `zone` at `epoch` are current (the
 * highest epoch seen is remembered), 0 if a newer owner has spoken. */
int gw_recovery_epoch_ok(gw_t *gw, const char *zone, uint64_t epoch);
/* An UNKNOWN record: the zone lost the player; re-enter it from the session. */
void gw_recovery_unknown(gw_t *gw, const struct env_rec_s *r);
void gw_recovery_free(gw_t *gw);

/* session.c */
/* One decoded message; m is borrowed (the framing's stack buffer) and
 * copied only if it must wait for an account job. */
void gw_session_on_msg(gw_conn_t *c, msg_t *m);
void gw_session_closed(gw_conn_t *c);
/* A frame that did not decode: answered with an error, the connection is
 * closed after GW_MAX_BAD_FRAMES in a row. */
void gw_session_bad_frame(gw_conn_t *c, const char *code, const char *why);
/* Dispatches messages that arrived while an account job ran. */
void gw_session_drain(gw_conn_t *c);
/* Sends one chat line as `chat`, or `communication` if the client asked. */
void gw_session_send_chat(gw_conn_t *c, const char *payload, size_t len);
void gw_session_route(gw_t *gw, const char *data, size_t len); /* a bus frame */
/* gw->conn_drained: asks for a full roster if deltas were dropped. */
void gw_session_drained(gw_conn_t *c);

/* limits.c: deadlines and caps for connections that have not authenticated
 * (see the file banner); server.c calls these from its lws callback. */
void gw_limits_init(gw_t *gw);
void gw_limits_free(gw_t *gw);
/* Header tables lws may hand out: above the sockets admitted before their
 * request, so that our refusal answers before lws stops accepting. */
int gw_limits_ah_pool(const config_t *cfg);
/* FILTER_NETWORK_CONNECTION: 0 to accept fd, or -1 once it has been
 * answered 429 or 503 (lws then closes it). */
int gw_limits_admit(gw_t *gw, int fd);
void gw_limits_attach(gw_t *gw, struct lws *wsi); /* SERVER_NEW_CLIENT_INSTANTIATED */
/* A complete HTTP request (or upgrade): 0, or -1 once it has been answered
 * 431 for headers over HTTP_MAX_HEADER_BYTES (the caller closes). */
int gw_limits_request(struct lws *wsi);
void gw_limits_served(struct lws *wsi);                          /* its response sent, keep-alive */
void gw_limits_established(struct lws *wsi, const gw_conn_t *c); /* WebSocket open */
/* After each frame received and before each write: follows c->state. */
void gw_limits_progress(struct lws *wsi, const gw_conn_t *c);
/* An HTTP request of a polling session c: once c is authenticated, the
 * socket no longer counts against MAX_UNAUTH_CONNS. */
void gw_limits_session(struct lws *wsi, const gw_conn_t *c);
void gw_limits_closed_http(struct lws *wsi); /* CLOSED_HTTP: counts requests lws dropped */
void gw_limits_detach(struct lws *wsi);      /* WSI_DESTROY */
void gw_limits_metrics(gw_t *gw, buf_t *b);
/* admin.c: static files, the admin console and its API. */
#include "../net/http.h"
typedef struct gw_http_req_s {
    buf_t *body; /* a POST body being received, or NULL */
    int too_big; /* over the limit: the rest is dropped, the answer is 413 */
    char path[128];
} gw_http_req_t;
/* Answers static files and /admin, /api/admin/...: 1 = handled (a reply is
 * started, or a POST body is awaited), 0 = not ours. */
int gw_web_http(gw_t *gw, struct lws *wsi, const char *path, gw_http_req_t *req,
                http_reply_t *reply);
/* LWS_CALLBACK_HTTP_BODY. */
int gw_web_body(gw_http_req_t *req, const void *in, size_t len);
/* LWS_CALLBACK_HTTP_BODY_COMPLETION. */
int gw_web_body_done(gw_t *gw, struct lws *wsi, gw_http_req_t *req, http_reply_t *reply);
void gw_web_req_clear(gw_http_req_t *req);
/* ADMIN_SNAPSHOT and ADMIN_KICK records from the bus. */
void gw_admin_record(gw_t *gw, const struct env_rec_s *r);
/* A frame on zone:{id}:broadcast: to every player here in that zone. */
void gw_admin_zone_broadcast(gw_t *gw, const char *channel, const char *data, size_t len);
/* Subscribes to every zone's broadcast channel. */
void gw_admin_attach(gw_t *gw);
/* Every second: queries zones while the console is in use. */
void gw_admin_tick(gw_t *gw);
void gw_admin_free(gw_t *gw);
/* Parsers of untrusted text (tests/fuzz/fuzz_admin.c). The token of an
 * "Authorization: Bearer <token>" value, or "". */
const char *gw_admin_bearer(const char *authorization);
/* The zone of "/api/admin/zones/{zone}/entities": 0, or -1 if not that. */
int gw_admin_zone_path(const char *path, char *zone, size_t cap);

/* framing_poll.c: Socket.IO long-polling requests (GET/POST /socket.io/
 * ?EIO=4&transport=polling), answered from server.c's HTTP callbacks. */
typedef struct gw_poll_req_s {
    uint64_t conn_id; /* the session a held GET or a POST belongs to, 0 = none */
    int held;         /* this socket is the session's held GET */
    buf_t *body;      /* a POST body being received, or NULL */
    int too_big;      /* over maxPayload: the rest is dropped, the answer is 413 */
} gw_poll_req_t;
/* LWS_CALLBACK_HTTP on /socket.io: starts the answer, holds a GET, or
 * awaits a POST body. Returns what the callback returns. */
int gw_poll_http(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply);
int gw_poll_body(gw_poll_req_t *pr, const void *in, size_t len); /* HTTP_BODY */
int gw_poll_body_done(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply);
/* HTTP_WRITEABLE before the reply goes: a held GET takes what is queued. */
void gw_poll_writable(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr, http_reply_t *reply);
/* CLOSED_HTTP / WSI_DESTROY: the session forgets this socket. */
void gw_poll_req_clear(gw_t *gw, struct lws *wsi, gw_poll_req_t *pr);
/* gw_stop: ends the sessions that have no socket of their own. */
void gw_poll_stop(gw_t *gw);

/* api.c */
/* Builds the response for an HTTP GET; returns the status code. */
int gw_api_handle(gw_t *gw, const char *path, buf_t *body, const char **content_type);
void gw_api_refresh(gw_t *gw);

#endif
