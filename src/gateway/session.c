/* session.c - the client protocol dispatcher: one code path for every
 * framing (framing_*.c decode frames into msg_t and hand them here). It
 * applies the session's rules (session_rules.c: handshake, auth,
 * character, world; chat rate; roster deltas), hands auth and character
 * choice to account.c, routes world messages to the zone that holds the
 * player (route.c), and delivers what zones and other gateways send back. */
#include "gw.h"
#include "../bus/envelope.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PROTOCOL_VERSION "1.0.0"
#define SERVER_VERSION   "wod-server/0.1.0"

/* ---- in-world messages ----------------------------------------------- */

static void chat_world(gw_conn_t *c, const msg_chat_t *m)
{
    gw_t *gw = c->gw;
    buf_t p;
    buf_init(&p);
    /* the reference's chat fields, then ours (docs/PROTOCOL.md "Chat") */
    buf_puts(&p, "{\"channel\":");
    buf_json_str(&p, msg_chat_channel_name(m->channel));
    buf_puts(&p, ",\"sender\":");
    buf_json_str(&p, c->character_name);
    buf_printf(&p, ",\"senderId\":\"char-%lld\",\"message\":", (long long)c->character_id);
    buf_json_str(&p, m->message);
    buf_printf(&p, ",\"timestamp\":%llu,\"senderName\":", (unsigned long long)clock_wall_ms());
    buf_json_str(&p, c->character_name);
    buf_puts(&p, ",\"senderType\":\"player\",\"content\":");
    buf_json_str(&p, m->message);
    buf_puts(&p, ",\"distance\":0}");
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = m->channel == CHAT_WORLD ? ENV_BROADCAST : ENV_WHISPER;
    (void)snprintf(r.u.whisper.target, sizeof(r.u.whisper.target), "%s", m->target);
    r.type = "chat";
    r.type_len = strlen(r.type);
    r.payload = p.data;
    r.payload_len = p.len;
    if (bus_publish_record(gw->bus, BUS_CHANNEL_GATEWAYS, &r) < 0)
        gw_conn_error(c, "BUS_UNAVAILABLE", "chat could not be delivered; try again", "warning");
    if (m->channel == CHAT_WHISPER && strcasecmp(m->target, c->character_name) != 0)
        gw_session_send_chat(c, p.data, p.len); /* the sender sees what it whispered */
    buf_free(&p);
}

void gw_session_send_chat(gw_conn_t *c, const char *payload, size_t len)
{
    gw_conn_send(c, c->wants_communication ? "communication" : "chat", payload, len);
}

static int chat_allowed(gw_conn_t *c)
{
    return gw_rules_chat_take(&c->chat, clock_mono_ms());
}

static void handle_world(gw_conn_t *c, msg_t *m)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    switch (m->type) {
    case MSG_MOVE:
        r.kind = ENV_MOVE;
        r.u.move = m->u.move;
        break;
    case MSG_CHAT:
        if (!chat_allowed(c)) {
            gw_conn_error(c, "RATE_LIMITED", "You are sending chat too fast; message dropped.",
                          "warning");
            return;
        }
        if (m->u.chat.message[0] == '/') { /* a slash command typed into chat */
            r.kind = ENV_COMMAND;
            snprintf(r.u.command.text, sizeof(r.u.command.text), "%s", m->u.chat.message);
            break;
        }
        if (m->u.chat.channel == CHAT_PARTY) {
            gw_conn_error(c, "NOT_IN_PARTY", "You are not in a party.", "info");
            return;
        }
        if (m->u.chat.channel == CHAT_WORLD || m->u.chat.channel == CHAT_WHISPER) {
            chat_world(c, &m->u.chat);
            return;
        }
        r.kind = ENV_CHAT;
        r.u.chat = m->u.chat;
        break;
    case MSG_INTERACT:
        r.kind = ENV_INTERACT;
        r.u.interact = m->u.interact;
        break;
    case MSG_COMBAT_ACTION:
        r.kind = ENV_COMBAT;
        r.u.combat = m->u.combat;
        break;
    case MSG_COMMAND:
        r.kind = ENV_COMMAND;
        r.u.command = m->u.command;
        break;
    case MSG_PROXIMITY_REFRESH:
        r.kind = ENV_RESYNC; /* names this player: a full roster for it alone */
        break;
    default:
        return;
    }
    if (gw_recovery_zone_down(c->gw, c->zone)) {
        gw_conn_error(c, "ZONE_UNAVAILABLE",
                      "Your zone is moving to another server; try again in a few seconds.",
                      "warning");
        return;
    }
    gw_route_record(c, &r);
}

/* ---- dispatcher ------------------------------------------------------- */

static void handle_handshake(gw_conn_t *c, const msg_handshake_t *h)
{
    int compatible = strncmp(h->protocol_version, "1.", 2) == 0;
    c->max_update_rate = h->max_update_rate;
    c->client_flags = msg_client_flags(h);
    if (!c->framing->binary_frames) c->client_flags &= ~MSG_CLIENT_COMPACT; /* binary: /ws only */
    c->wants_communication = h->communication;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "{\"protocolVersion\":\"" PROTOCOL_VERSION "\",\"serverVersion\":\"" SERVER_VERSION
                 "\",\"compatible\":");
    buf_puts(&b, compatible ? "true" : "false");
    buf_printf(&b, ",\"sessionId\":\"%016llx\",\"timestamp\":%llu,\"requiresAuth\":true",
               (unsigned long long)c->id, (unsigned long long)clock_wall_ms());
    /* ours: the roster encoding this connection gets (docs/PROTOCOL.md) */
    buf_puts(&b, c->client_flags & MSG_CLIENT_COMPACT ? ",\"encoding\":\"compact\""
                                                      : ",\"encoding\":\"json\"");
    buf_printf(&b,
               ",\"serverCapabilities\":{\"maxPlayers\":%d,\"features\":[\"proximity_roster\","
               "\"movement\",\"chat\",\"combat\"]}}",
               GW_MAX_PLAYERS);
    gw_conn_send(c, "handshake_ack", b.data, b.len);
    buf_free(&b);
    if (!compatible) {
        gw_conn_error(c, "UNSUPPORTED_PROTOCOL",
                      "this server speaks protocol 1.x; please update your client", "error");
        return;
    }
    c->state = ST_HANDSHAKEN;
}

static void dispatch(gw_conn_t *c, msg_t *m)
{
    gw_refusal_t why;
    if (gw_rules_order(c->state, m->type, &why) < 0) {
        gw_conn_error(c, why.code, why.message, why.severity);
        return;
    }
    switch (m->type) {
    case MSG_PING: {
        char p[96];
        int n = msg_pong_payload(p, sizeof(p), m->u.ping.timestamp, clock_wall_ms());
        if (n < 0) {
            log_warn(gw_conn_subject(c), "pong does not fit %zu bytes; not sent", sizeof(p));
            return;
        }
        gw_conn_send(c, "pong", p, (size_t)n);
        return;
    }
    case MSG_DISCONNECT:
        log_info(gw_conn_subject(c), "client disconnects: %s", m->u.disconnect.reason);
        gw_session_closed(c);
        gw_conn_close(c, LWS_CLOSE_STATUS_NORMAL, "bye");
        return;
    case MSG_HANDSHAKE:
        handle_handshake(c, &m->u.handshake);
        return;
    case MSG_AUTH:
    case MSG_CHARACTER_CREATE:
    case MSG_CHARACTER_SELECT:
        gw_account_start(c, m, gw_session_drain);
        return;
    default:
        handle_world(c, m);
    }
}

void gw_session_on_msg(gw_conn_t *c, msg_t *m)
{
    c->gw->msgs_in++;
    if (c->busy) {
        /* Only a message held while an account job runs leaves the
         * framing's stack buffer: a copy, freed once dispatched. */
        if (c->n_pending == GW_MAX_PENDING) {
            gw_conn_error(c, "BUSY", "too many requests while the previous one runs", "warning");
            return;
        }
        msg_t *held = wod_malloc(sizeof(*held));
        *held = *m;
        c->pending[c->n_pending++] = held;
        return;
    }
    dispatch(c, m);
}

void gw_session_drain(gw_conn_t *c)
{
    while (!c->busy && c->n_pending && !c->closing) {
        msg_t *m = c->pending[0];
        memmove(c->pending, c->pending + 1, (size_t)(--c->n_pending) * sizeof(msg_t *));
        dispatch(c, m);
        free(m);
    }
}

void gw_session_bad_frame(gw_conn_t *c, const char *code, const char *why)
{
    if (++c->bad_frames > GW_MAX_BAD_FRAMES) {
        log_info(gw_conn_subject(c), "closing after %d invalid frames", c->bad_frames);
        gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many invalid messages");
        return;
    }
    gw_conn_error(c, code, why, "error");
}

void gw_session_closed(gw_conn_t *c)
{
    if (c->state != ST_IN_WORLD) return;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_LEAVE;
    gw_route_record(c, &r);
    log_info(gw_conn_subject(c), "character %lld leaves %s", (long long)c->character_id, c->zone);
    c->state = ST_AUTHED;
}

/* ---- output from zones and other gateways ------------------------------ */

/* One DELIVER record for c: the lane and whether a delta may be dropped
 * follow from its class, never from reading its type. */
static void deliver(gw_conn_t *c, const env_rec_t *r)
{
    if (!gw_rules_deliver(&c->roster, r->msg_class, c->out[OUT_LOW].bytes)) {
        c->gw->deltas_dropped++;
        return;
    }
    switch (r->msg_class) {
    case ENV_MSG_CHAT:
        gw_session_send_chat(c, r->payload, r->payload_len);
        return;
    case ENV_MSG_COMPACT:
    case ENV_MSG_COMPACT_DELTA: /* a compact client's rosters, as binary frames */
        gw_conn_send_binary(c, r->payload, r->payload_len);
        return;
    default:
        break;
    }
    int lane = r->msg_class == ENV_MSG_ROSTER_DELTA ? OUT_LOW : OUT_HIGH;
    gw_conn_send_msg(c, lane, r->type, r->type_len, r->payload, r->payload_len);
}

void gw_session_drained(gw_conn_t *c)
{
    if (c->state != ST_IN_WORLD || !gw_rules_resync_due(&c->roster, c->out[OUT_LOW].bytes)) return;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_RESYNC;
    gw_route_record(c, &r);
}

void gw_session_route(gw_t *gw, const char *data, size_t len)
{
    env_reader_t rd;
    env_rec_t r;
    int rc, stale = 0;
    if (env_reader_init(&rd, data, len) < 0) {
        log_warn("gateway", "dropping a bus frame that is not an envelope (%zu bytes)", len);
        return;
    }
    while ((rc = env_next(&rd, &r)) == 1) {
        gw_conn_t *c = NULL;
        /* Fencing: records after an EPOCH of a deposed owner are dropped. */
        if (r.kind == ENV_EPOCH) {
            stale = !gw_recovery_epoch_ok(gw, r.u.fence.zone, r.u.fence.epoch);
            continue;
        }
        if (stale) {
            gw->stale_epoch_drops++;
            continue;
        }
        switch (r.kind) {
        case ENV_DELIVER:
            c = gw_conn_find(gw, r.client.conn);
            if (c && c->state == ST_IN_WORLD) deliver(c, &r);
            break;
        case ENV_ROUTE:
            c = gw_conn_find(gw, r.client.conn);
            if (c && c->character_id == r.character_id)
                (void)snprintf(c->zone, sizeof(c->zone), "%s", r.u.route.zone);
            break;
        case ENV_KICK:
            c = gw_conn_find(gw, r.client.conn);
            if (c) {
                gw_conn_error(c, r.u.kick.code, r.u.kick.message, "fatal");
                c->state = ST_AUTHED;
                gw_conn_close(c, LWS_CLOSE_STATUS_NORMAL, r.u.kick.code);
            }
            break;
        case ENV_UNKNOWN:
            gw_recovery_unknown(gw, &r);
            break;
        case ENV_BROADCAST:
        case ENV_WHISPER: {
            int is_chat = env_msg_class(r.type, r.type_len) == ENV_MSG_CHAT;
            for (uint32_t i = 0; i < gw->n_slots; i++) {
                c = gw->slots[i];
                if (!c || c->state != ST_IN_WORLD) continue;
                if (r.kind == ENV_WHISPER && strcasecmp(c->character_name, r.u.whisper.target) != 0)
                    continue;
                if (is_chat)
                    gw_session_send_chat(c, r.payload, r.payload_len);
                else
                    gw_conn_send_msg(c, OUT_HIGH, r.type, r.type_len, r.payload, r.payload_len);
            }
            break;
        }
        case ENV_ADMIN_SNAPSHOT:
        case ENV_ADMIN_KICK:
            gw_admin_record(gw, &r);
            break;
        default:
            log_warn("gateway", "unexpected %s record on gateway channel", env_kind_name(r.kind));
        }
    }
    if (rc < 0) log_warn("gateway", "dropping the rest of a malformed bus frame");
}
