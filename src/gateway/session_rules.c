/* session_rules.c - see session_rules.h. */
#include "session_rules.h"

static int refuse(gw_refusal_t *why, const char *code, const char *message, const char *severity)
{
    why->code = code;
    why->message = message;
    why->severity = severity;
    return -1;
}

int gw_rules_order(conn_state_t state, msg_type_t type, gw_refusal_t *why)
{
    switch (type) {
    case MSG_PING:
    case MSG_DISCONNECT:
        return 0;
    case MSG_HANDSHAKE:
        if (state != ST_NEW)
            return refuse(why, "ALREADY_HANDSHAKEN", "handshake was already done", "warning");
        return 0;
    default:
        break;
    }
    if (state == ST_NEW) return refuse(why, "HANDSHAKE_REQUIRED", "send handshake first", "error");
    switch (type) {
    case MSG_AUTH:
        if (state != ST_HANDSHAKEN)
            return refuse(why, "ALREADY_AUTHENTICATED", "this connection is already authenticated",
                          "warning");
        return 0;
    case MSG_CHARACTER_CREATE:
    case MSG_CHARACTER_SELECT:
        if (state == ST_HANDSHAKEN)
            return refuse(why, "NOT_AUTHENTICATED", "authenticate first", "error");
        if (state == ST_IN_WORLD)
            return refuse(why, "ALREADY_IN_WORLD", "a character is already in the world",
                          "warning");
        return 0;
    default:
        if (state != ST_IN_WORLD)
            return refuse(why, state == ST_HANDSHAKEN ? "NOT_AUTHENTICATED" : "NOT_IN_WORLD",
                          "enter the world first (auth, then character_create or "
                          "character_select)",
                          "error");
        return 0;
    }
}

void gw_rules_chat_init(gw_chat_bucket_t *b, double now_ms)
{
    b->tokens = GW_CHAT_BURST;
    b->refill_at = now_ms;
}

int gw_rules_chat_take(gw_chat_bucket_t *b, double now_ms)
{
    b->tokens += (now_ms - b->refill_at) / 1000.0 * GW_CHAT_PER_SEC;
    if (b->tokens > GW_CHAT_BURST) b->tokens = GW_CHAT_BURST;
    b->refill_at = now_ms;
    if (b->tokens < 1) return 0;
    b->tokens -= 1;
    return 1;
}

int gw_rules_deliver(gw_roster_flow_t *f, env_msg_class_t cls, size_t low_bytes)
{
    switch (cls) {
    case ENV_MSG_ROSTER_DELTA:
    case ENV_MSG_COMPACT_DELTA:
        if (f->stale || low_bytes > GW_DELTA_DROP_BYTES) {
            f->stale = 1;
            return 0;
        }
        return 1;
    case ENV_MSG_ROSTER:
    case ENV_MSG_COMPACT:
        f->stale = f->resync_asked = 0;
        return 1;
    default:
        return 1;
    }
}

int gw_rules_resync_due(gw_roster_flow_t *f, size_t low_bytes)
{
    if (!f->stale || f->resync_asked || low_bytes > GW_DELTA_RESUME_BYTES) return 0;
    f->resync_asked = 1;
    return 1;
}
