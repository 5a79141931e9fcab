/* session.c - the client protocol dispatcher: one code path for both
 * framings (native /ws frames and Socket.IO events). It enforces the order
 * of a session (handshake, auth, character, world), hands auth and
 * character choice to account.c, routes world messages to the zone that
 * holds the player as bus records batched per zone, and delivers what
 * zones and other gateways send back. */
#include "gw.h"
#include "../bus/envelope.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../proto/sio.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#define PROTOCOL_VERSION "1.0.0"
#define SERVER_VERSION   "wod-server/0.1.0"

/* ---- routing to zones -------------------------------------------------- */

static buf_t *zone_frame(gw_t *gw, const char *zone)
{
    gw_zone_batch_t *b = NULL;
    HASH_FIND_STR(gw->batches, zone, b);
    if (!b) {
        b = wod_calloc(1, sizeof(*b));
        snprintf(b->zone, sizeof(b->zone), "%s", zone);
        buf_init(&b->frame);
        HASH_ADD_STR(gw->batches, zone, b);
    }
    if (!b->records) env_begin(&b->frame);
    b->records++;
    return &b->frame;
}

void gw_session_route_record(gw_conn_t *c, env_rec_t *r)
{
    snprintf(r->client.gateway, sizeof(r->client.gateway), "%s", c->gw->cfg.server_id);
    r->client.conn = c->id;
    r->character_id = c->character_id;
    env_put(zone_frame(c->gw, c->zone), r);
    c->gw->routed++;
}

void gw_session_flush(gw_t *gw)
{
    gw_zone_batch_t *b, *tmp;
    HASH_ITER(hh, gw->batches, b, tmp)
    {
        if (!b->records) continue;
        char ch[96];
        snprintf(ch, sizeof(ch), "zone:%s:input", b->zone);
        if (gw->bus && bus_publish(gw->bus, ch, b->frame.data, b->frame.len) < 0)
            log_warn("gateway", "bus down: dropped %d records for %s", b->records, b->zone);
        b->records = 0;
    }
}

void gw_session_resync(gw_t *gw)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_RESYNC;
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (!c || c->state != ST_IN_WORLD) continue;
        gw_zone_batch_t *b = NULL;
        HASH_FIND_STR(gw->batches, c->zone, b);
        if (b && b->resync) continue; /* one per zone */
        env_put(zone_frame(gw, c->zone), &r);
        HASH_FIND_STR(gw->batches, c->zone, b);
        b->resync = 1;
    }
    gw_zone_batch_t *b, *tmp;
    HASH_ITER(hh, gw->batches, b, tmp) b->resync = 0;
}

/* ---- in-world messages ----------------------------------------------- */

static void chat_world(gw_conn_t *c, const msg_chat_t *m)
{
    gw_t *gw = c->gw;
    buf_t p, f;
    buf_init(&p);
    buf_init(&f);
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
    snprintf(r.u.whisper.target, sizeof(r.u.whisper.target), "%s", m->target);
    r.type = "chat";
    r.type_len = strlen(r.type);
    r.payload = p.data;
    r.payload_len = p.len;
    env_begin(&f);
    env_put(&f, &r);
    if (bus_publish(gw->bus, "gateway:output", f.data, f.len) < 0)
        gw_conn_error(c, "BUS_UNAVAILABLE", "chat could not be delivered; try again", "warning");
    if (m->channel == CHAT_WHISPER && strcasecmp(m->target, c->character_name) != 0)
        gw_session_send_chat(c, p.data, p.len); /* the sender sees what it whispered */
    buf_free(&p);
    buf_free(&f);
}

void gw_session_send_chat(gw_conn_t *c, const char *payload, size_t len)
{
    gw_conn_send(c, c->wants_communication ? "communication" : "chat", payload, len);
}

static int chat_allowed(gw_conn_t *c)
{
    double now = clock_mono_ms();
    c->chat_tokens += (now - c->chat_refill_at) / 1000.0 * GW_CHAT_PER_SEC;
    if (c->chat_tokens > GW_CHAT_BURST) c->chat_tokens = GW_CHAT_BURST;
    c->chat_refill_at = now;
    if (c->chat_tokens < 1) return 0;
    c->chat_tokens -= 1;
    return 1;
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
    gw_session_route_record(c, &r);
}

/* ---- dispatcher ------------------------------------------------------- */

static void handle_handshake(gw_conn_t *c, const msg_handshake_t *h)
{
    if (c->state != ST_NEW) {
        gw_conn_error(c, "ALREADY_HANDSHAKEN", "handshake was already done", "warning");
        return;
    }
    int compatible = strncmp(h->protocol_version, "1.", 2) == 0;
    c->max_update_rate = h->max_update_rate;
    c->client_flags = msg_client_flags(h);
    c->wants_communication = h->communication;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "{\"protocolVersion\":\"" PROTOCOL_VERSION "\",\"serverVersion\":\"" SERVER_VERSION
                 "\",\"compatible\":");
    buf_puts(&b, compatible ? "true" : "false");
    buf_printf(&b, ",\"sessionId\":\"%016llx\",\"timestamp\":%llu,\"requiresAuth\":true",
               (unsigned long long)c->id, (unsigned long long)clock_wall_ms());
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
    default:
        break;
    }
    if (c->state == ST_NEW) {
        gw_conn_error(c, "HANDSHAKE_REQUIRED", "send handshake first", "error");
        return;
    }
    switch (m->type) {
    case MSG_AUTH:
        if (c->state != ST_HANDSHAKEN) {
            gw_conn_error(c, "ALREADY_AUTHENTICATED", "this connection is already authenticated",
                          "warning");
            return;
        }
        gw_account_start(c, m);
        return;
    case MSG_CHARACTER_CREATE:
    case MSG_CHARACTER_SELECT:
        if (c->state == ST_HANDSHAKEN) {
            gw_conn_error(c, "NOT_AUTHENTICATED", "authenticate first", "error");
            return;
        }
        if (c->state == ST_IN_WORLD) {
            gw_conn_error(c, "ALREADY_IN_WORLD", "a character is already in the world", "warning");
            return;
        }
        gw_account_start(c, m);
        return;
    default:
        if (c->state != ST_IN_WORLD) {
            gw_conn_error(c, c->state == ST_HANDSHAKEN ? "NOT_AUTHENTICATED" : "NOT_IN_WORLD",
                          "enter the world first (auth, then character_create or "
                          "character_select)",
                          "error");
            return;
        }
        handle_world(c, m);
    }
}

void gw_session_on_msg(gw_conn_t *c, msg_t *m)
{
    c->gw->msgs_in++;
    if (c->busy) {
        if (c->n_pending == GW_MAX_PENDING) {
            gw_conn_error(c, "BUSY", "too many requests while the previous one runs", "warning");
            free(m);
            return;
        }
        c->pending[c->n_pending++] = m;
        return;
    }
    dispatch(c, m);
    free(m);
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

static void bad_frame(gw_conn_t *c, const char *code, const char *why)
{
    if (++c->bad_frames > GW_MAX_BAD_FRAMES) {
        log_info(gw_conn_subject(c), "closing after %d invalid frames", c->bad_frames);
        gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many invalid messages");
        return;
    }
    gw_conn_error(c, code, why, "error");
}

static void on_sio_frame(gw_conn_t *c, const char *data, size_t len)
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
        gw_session_sio_pong(c);
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
            const char *name;
            json_t *payload;
            if (!c->sio_connected || strcmp(p.nsp, "/") != 0) {
                gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "event before connect");
                break;
            }
            if (sio_event_args(&p, &name, &payload) < 0) {
                bad_frame(c, MSG_ERR_PAYLOAD, "an event needs a name");
                break;
            }
            msg_t *m = wod_malloc(sizeof(*m));
            const char *code;
            int ok = msg_decode(name, payload, m, &code, err, sizeof(err)) == 0;
            if (p.ack_id >= 0) {
                buf_t args;
                buf_init(&args);
                if (ok) {
                    buf_puts(&args, "[{\"ok\":true}]");
                } else {
                    buf_puts(&args, "[{\"ok\":false,\"code\":");
                    buf_json_str(&args, code);
                    buf_puts(&args, "}]");
                }
                sio_encode_ack(&b, p.ack_id, args.data, args.len);
                gw_conn_write_raw(c, b.data, b.len);
                buf_free(&args);
            }
            if (ok) {
                c->bad_frames = 0;
                gw_session_on_msg(c, m);
            } else {
                free(m);
                bad_frame(c, code, err);
            }
        }
        break;
    default:
        break;
    }
    buf_free(&b);
    sio_packet_clear(&p);
}

void gw_session_on_frame(gw_conn_t *c, const char *data, size_t len)
{
    if (c->framing == FRAMING_SIO) {
        on_sio_frame(c, data, len);
        return;
    }
    msg_t *m = wod_malloc(sizeof(*m));
    const char *code;
    char err[200];
    if (msg_decode_native(data, len, m, &code, err, sizeof(err)) < 0) {
        free(m);
        bad_frame(c, code, err);
        return;
    }
    c->bad_frames = 0;
    gw_session_on_msg(c, m);
}

void gw_session_closed(gw_conn_t *c)
{
    if (c->state != ST_IN_WORLD) return;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_LEAVE;
    gw_session_route_record(c, &r);
    log_info(gw_conn_subject(c), "character %lld leaves %s", (long long)c->character_id, c->zone);
    c->state = ST_AUTHED;
}

/* ---- output from zones and other gateways ------------------------------ */

static void deliver(gw_conn_t *c, const char *type, const char *payload, size_t len)
{
    if (strcmp(type, "proximity_roster_delta") == 0) {
        if (c->roster_stale || c->out[OUT_LOW].bytes > GW_DELTA_DROP_BYTES) {
            c->roster_stale = 1;
            c->gw->deltas_dropped++;
            return;
        }
    } else if (strcmp(type, "proximity_roster") == 0) {
        c->roster_stale = c->resync_asked = 0;
    } else if (strcmp(type, "chat") == 0) {
        gw_session_send_chat(c, payload, len);
        return;
    }
    gw_conn_send(c, type, payload, len);
}

void gw_session_drained(gw_conn_t *c)
{
    if (!c->roster_stale || c->resync_asked || c->out[OUT_LOW].bytes > GW_DELTA_RESUME_BYTES ||
        c->state != ST_IN_WORLD)
        return;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_RESYNC;
    gw_session_route_record(c, &r);
    c->resync_asked = 1;
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
        char type[64];
        /* Fencing: records after an EPOCH of a deposed owner are dropped. */
        if (r.kind == ENV_EPOCH) {
            stale = !gw_recovery_epoch_ok(gw, r.u.fence.zone, r.u.fence.epoch);
            continue;
        }
        if (stale) {
            gw->stale_epoch_drops++;
            continue;
        }
        if (r.type) snprintf(type, sizeof(type), "%.*s", (int)r.type_len, r.type);
        switch (r.kind) {
        case ENV_DELIVER:
            c = gw_conn_find(gw, r.client.conn);
            if (c && c->state == ST_IN_WORLD) deliver(c, type, r.payload, r.payload_len);
            break;
        case ENV_ROUTE:
            c = gw_conn_find(gw, r.client.conn);
            if (c && c->character_id == r.character_id)
                snprintf(c->zone, sizeof(c->zone), "%s", r.u.route.zone);
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
        case ENV_WHISPER:
            for (uint32_t i = 0; i < gw->n_slots; i++) {
                c = gw->slots[i];
                if (!c || c->state != ST_IN_WORLD) continue;
                if (r.kind == ENV_WHISPER && strcasecmp(c->character_name, r.u.whisper.target))
                    continue;
                if (strcmp(type, "chat") == 0)
                    gw_session_send_chat(c, r.payload, r.payload_len);
                else
                    gw_conn_send(c, type, r.payload, r.payload_len);
            }
            break;
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

/* Engine.IO heartbeat: ping every pingInterval; a pong must come within
 * pingTimeout of the ping or the connection is closed. */
static void on_sio_timer(uv_timer_t *t)
{
    gw_conn_t *c = container_of(t, gw_conn_t, sio_timer);
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
    uv_timer_start(&c->sio_timer, on_sio_timer, (uint64_t)gw->sio_ping_timeout, 0);
}

void gw_session_sio_start(gw_conn_t *c)
{
    uv_timer_start(&c->sio_timer, on_sio_timer, (uint64_t)c->gw->sio_ping_interval, 0);
}

void gw_session_sio_pong(gw_conn_t *c)
{
    if (!c->sio_awaiting_pong) return;
    c->sio_awaiting_pong = 0;
    gw_session_sio_start(c);
}
