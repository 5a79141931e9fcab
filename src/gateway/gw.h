/* gw.h - gateway internals shared by server.c, conn.c, session.c, api.c.
 * Not included outside src/gateway/. */
#ifndef WOD_GW_H
#define WOD_GW_H

#include "gateway.h"
#include "../core/buf.h"
#include "../proto/msg.h"

#include <libwebsockets.h>
#include <uthash.h>
#include <stdint.h>

#define GW_MAX_OUT_BYTES  (4 * 1024 * 1024) /* queued for one client before it is cut */
#define GW_MAX_PENDING    32                /* messages held while an auth/db job runs */
#define GW_CHAT_BURST     10                /* chat rate limit: burst ... */
#define GW_CHAT_PER_SEC   2                 /* ... then this many per second */
#define GW_MAX_BAD_FRAMES 20                /* invalid frames in a row before a close */
/* A client this far behind gets no roster deltas (they would only queue up
 * behind each other); once it is back under the low mark the zone sends it
 * one full roster instead. Chat, events and pongs are never dropped. */
#define GW_DELTA_DROP_BYTES   (128 * 1024)
#define GW_DELTA_RESUME_BYTES (16 * 1024)

typedef enum { FRAMING_NATIVE, FRAMING_SIO } framing_t;
typedef enum { ST_NEW, ST_HANDSHAKEN, ST_AUTHED, ST_IN_WORLD } conn_state_t;

typedef struct out_msg_s {
    struct out_msg_s *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE headroom + len bytes */
} out_msg_t;

/* Two send lanes per client: roster deltas go in the low one and are
 * written only when the high one (chat, events, pongs, everything else) is
 * empty, so a crowd's roster traffic never delays a chat line. */
enum { OUT_HIGH, OUT_LOW, OUT_LANES };

typedef struct out_queue_s {
    out_msg_t *head, *tail;
    size_t bytes;
} out_queue_t;

typedef struct gw_conn_s {
    gw_t *gw;
    struct lws *wsi;
    uint64_t id; /* generation << 32 | slot; what async work and the bus carry */
    framing_t framing;
    conn_state_t state;
    int sio_connected;    /* Socket.IO namespace "/" connected */
    uv_timer_t sio_timer; /* Engine.IO heartbeat: next ping, or the pong deadline */
    int sio_awaiting_pong;
    char sid[24];
    int64_t account_id;
    char token[MSG_TOKEN_MAX + 1];
    int64_t character_id;
    character_t character; /* as it entered the world (for a recovery re-entry) */
    char character_name[CHAR_NAME_MAX + 1];
    char zone[ZONE_ID_MAX + 1];
    double max_update_rate;
    int busy;                       /* an async job (auth, create, select) is running */
    msg_t *pending[GW_MAX_PENDING]; /* messages received while busy, in order */
    int n_pending;
    double chat_tokens, chat_refill_at;
    int bad_frames;
    buf_t rx; /* fragments of the message being received */
    out_queue_t out[OUT_LANES];
    size_t out_bytes; /* both lanes */
    int roster_stale; /* deltas were dropped: waiting for a full roster */
    int resync_asked; /* ... and the zone has been asked for one */
    int closing;      /* close after the queue drains */
    int close_code;
    char close_reason[64];
    /* recovery.c: last re-entry after the zone forgot this player */
    double reentered_ms;
} gw_conn_t;

typedef struct gw_zone_state_s gw_zone_state_t;

/* Client input for one zone, published once per loop iteration. */
typedef struct gw_zone_batch_s {
    char zone[ZONE_ID_MAX + 1];
    buf_t frame;
    int records;
    int resync; /* gw_session_resync: this zone already asked */
    UT_hash_handle hh;
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
    gw_zone_batch_t *batches;
    gw_zone_state_t *zone_states; /* recovery.c */
    /* registry cache for the HTTP API */
    json_t *servers_cache, *zones_cache;
    int bus_up;
    /* metrics */
    unsigned long long msgs_in, msgs_out, routed, auth_ok, auth_fail, connections_total;
    unsigned long long deltas_dropped; /* roster deltas not sent to backed-up clients */
    double store_ms_total;
    unsigned long long store_ops;
    /* zone records from a deposed owner, dropped (recovery.c) */
    unsigned long long stale_epoch_drops;
};

/* conn.c */
gw_conn_t *gw_conn_new(gw_t *gw, struct lws *wsi, framing_t framing);
/* Unlinks c from the table; the memory goes once its timer has closed. */
void gw_conn_free(gw_conn_t *c);
gw_conn_t *gw_conn_find(gw_t *gw, uint64_t id);
/* Queues one raw text frame in the high lane. */
void gw_conn_write_raw(gw_conn_t *c, const char *data, size_t len);
/* Queues a protocol message in the connection's framing. */
void gw_conn_send(gw_conn_t *c, const char *type, const char *payload, size_t len);
void gw_conn_error(gw_conn_t *c, const char *code, const char *message, const char *severity);
/* Sends what is queued, then closes with the reason. */
void gw_conn_close(gw_conn_t *c, int code, const char *reason);
int gw_conn_on_writable(gw_conn_t *c);

/* "conn 1a2b..." for log lines; the string lives until the next call. */
const char *gw_conn_subject(const gw_conn_t *c);

/* account.c: runs auth / character_create / character_select for c. */
void gw_account_start(gw_conn_t *c, msg_t *m);

/* session.c */
void gw_session_on_frame(gw_conn_t *c, const char *data, size_t len);
void gw_session_on_msg(gw_conn_t *c, msg_t *m); /* takes ownership of m */
void gw_session_closed(gw_conn_t *c);
/* Dispatches messages that arrived while an account job ran. */
void gw_session_drain(gw_conn_t *c);
void gw_session_route(gw_t *gw, const char *data, size_t len); /* a bus frame */
void gw_session_flush(gw_t *gw);
/* Asks every zone with players here for full rosters (after a bus outage). */
void gw_session_resync(gw_t *gw);
/* Called as c's send queue drains: asks for a full roster if deltas were dropped. */
void gw_session_drained(gw_conn_t *c);
/* Starts the Engine.IO heartbeat of a Socket.IO connection. */
void gw_session_sio_start(gw_conn_t *c);
void gw_session_sio_pong(gw_conn_t *c);

/* Routes one record for c to its zone (fills client and character id). */
struct env_rec_s;
void gw_session_route_record(gw_conn_t *c, struct env_rec_s *r);

/* recovery.c */
void gw_recovery_check(gw_t *gw);
int gw_recovery_zone_down(gw_t *gw, const char *zone);
/* An EPOCH record: 1 if records of `zone` at `epoch` are current (the
 * highest epoch seen is remembered), 0 if a newer owner has spoken. */
int gw_recovery_epoch_ok(gw_t *gw, const char *zone, uint64_t epoch);
/* An UNKNOWN record: the zone lost the player; re-enter it from the session. */
void gw_recovery_unknown(gw_t *gw, const struct env_rec_s *r);
void gw_recovery_free(gw_t *gw);

/* api.c */
/* Builds the response for an HTTP GET; returns the status code. */
int gw_api_handle(gw_t *gw, const char *path, buf_t *body, const char **content_type);
void gw_api_refresh(gw_t *gw);

#endif
