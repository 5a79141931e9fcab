/* session_rules.h - the pure rules of a client session (no sockets, no
 * lws, no clock): which message a session may send in which state, the
 * chat rate limit, and when roster deltas are dropped and a full roster is
 * asked for. session.c applies them to a connection; the unit tests
 * (tests/unit/test_session_rules.c) drive them directly. */
#ifndef WOD_GW_SESSION_RULES_H
#define WOD_GW_SESSION_RULES_H

#include "../bus/envelope.h"
#include "../proto/msg.h"

#include <stddef.h>

#define GW_CHAT_BURST   10 /* chat rate limit: burst ... */
#define GW_CHAT_PER_SEC 2  /* ... then this many per second */

/* A client this far behind gets no roster deltas (they would only queue up
 * behind each other); once it is back under the low mark the zone sends it
 * one full roster instead. Chat, events and pongs are never dropped. */
#define GW_DELTA_DROP_BYTES   ((size_t)128 * 1024)
#define GW_DELTA_RESUME_BYTES ((size_t)16 * 1024)

/* A session's order: handshake, then auth, then a character in the world. */
typedef enum { ST_NEW, ST_HANDSHAKEN, ST_AUTHED, ST_IN_WORLD } conn_state_t;

/* The `error` to answer a message refused (static strings). */
typedef struct gw_refusal_s {
    const char *code, *message, *severity;
} gw_refusal_t;

/* May a message of `type` be handled in `state`? 0, or -1 with the error
 * to answer in *why. ping and disconnect always may; handshake only first;
 * auth only once, after the handshake; character_create/select after auth
 * and before a character is in the world; everything else in the world. */
int gw_rules_order(conn_state_t state, msg_type_t type, gw_refusal_t *why);

/* Chat rate limit: a token bucket of GW_CHAT_BURST lines refilled at
 * GW_CHAT_PER_SEC. Times in ms on a monotonic clock. */
typedef struct gw_chat_bucket_s {
    double tokens;
    double refill_at; /* tokens were last refilled then */
} gw_chat_bucket_t;

void gw_rules_chat_init(gw_chat_bucket_t *b, double now_ms);
/* 1 if a chat line may go now (it takes a token), 0 if it must be dropped. */
int gw_rules_chat_take(gw_chat_bucket_t *b, double now_ms);

/* Roster deltas for a client whose send queue backs up. */
typedef struct gw_roster_flow_s {
    int stale;        /* deltas were dropped: waiting for a full roster */
    int resync_asked; /* ... and the zone has been asked for one */
} gw_roster_flow_t;

/* A DELIVER of class cls for a client whose low lane holds low_bytes:
 * 1 = send it, 0 = drop it. A delta is dropped while the client is stale
 * or once its low lane passes GW_DELTA_DROP_BYTES (it is stale from then
 * on); a full roster ends staleness; other messages always go. */
int gw_rules_deliver(gw_roster_flow_t *f, env_msg_class_t cls, size_t low_bytes);

/* The client's queue drained to low_bytes: 1 = ask its zone for a full
 * roster now (once per drop, when under GW_DELTA_RESUME_BYTES). */
int gw_rules_resync_due(gw_roster_flow_t *f, size_t low_bytes);

#endif
