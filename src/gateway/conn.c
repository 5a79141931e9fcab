/* conn.c - client connections: the id table and the outgoing queue. What
 * a message looks like on the socket is the connection's framing's
 * (framing.h).
 *
 * A connection is named outside this file by its id {generation, slot}
 * so that a late store reply or bus record for a client that has gone
 * finds nothing instead of freed memory (STYLE.md, "Errors, ownership"). */
#include "gw.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <malloc.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

gw_conn_t *gw_conn_new(gw_t *gw, struct lws *wsi, const gw_framing_t *framing)
{
    uint32_t slot;
    if (gw->n_free) {
        slot = gw->free_slots[--gw->n_free];
    } else {
        if (gw->n_slots == gw->cap_slots) {
            gw->cap_slots = gw->cap_slots ? gw->cap_slots * 2 : 1024;
            /* an array of pointers: sizeof a pointer is meant */
            /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
            gw->slots = wod_realloc(gw->slots, gw->cap_slots * sizeof(*gw->slots));
            gw->gens = wod_realloc(gw->gens, gw->cap_slots * sizeof(*gw->gens));
            gw->free_slots = wod_realloc(gw->free_slots, gw->cap_slots * sizeof(uint32_t));
        }
        slot = gw->n_slots++;
        gw->gens[slot] = 0;
    }
    gw_conn_t *c = wod_calloc(1, sizeof(*c));
    c->gw = gw;
    c->wsi = wsi;
    c->framing = framing;
    c->id = ((uint64_t)++gw->gens[slot] << 32) | slot;
    gw_rules_chat_init(&c->chat, clock_mono_ms());
    uv_timer_init(gw->loop, &c->heartbeat);
    buf_init(&c->rx);
    gw->slots[slot] = c;
    gw->n_conns++;
    gw->connections_total++;
    return c;
}

static void conn_closed(uv_handle_t *h)
{
    free(container_of((uv_timer_t *)h, gw_conn_t, heartbeat));
}

/* Frees both send lanes; the bytes count towards the next malloc_trim. */
static void drop_queue(gw_conn_t *c)
{
    for (int lane = 0; lane < OUT_LANES; lane++) {
        c->gw->freed_since_trim += c->out[lane].frames.cap;
        buf_free(&c->out[lane].frames);
        c->out[lane].head = c->out[lane].bytes = 0;
    }
    c->out_bytes = 0;
}

void gw_conn_free(gw_conn_t *c)
{
    gw_t *gw = c->gw;
    uint32_t slot = (uint32_t)(c->id & 0xffffffffu);
    gw->slots[slot] = NULL;
    gw->free_slots[gw->n_free++] = slot;
    gw->n_conns--;
    drop_queue(c);
    gw->freed_since_trim += sizeof(*c) + c->rx.cap;
    for (int i = 0; i < c->n_pending; i++)
        free(c->pending[i]);
    buf_free(&c->rx);
    c->wsi = NULL;
    c->closing = 1; /* late timers and replies find it closed */
    uv_close((uv_handle_t *)&c->heartbeat, conn_closed);
}

const char *gw_conn_subject(const gw_conn_t *c)
{
    static char subject[48];
    (void)snprintf(subject, sizeof(subject), "conn %llx", (unsigned long long)c->id);
    return subject;
}

gw_conn_t *gw_conn_find(gw_t *gw, uint64_t id)
{
    uint32_t slot = (uint32_t)(id & 0xffffffffu);
    if (slot >= gw->n_slots) return NULL;
    gw_conn_t *c = gw->slots[slot];
    return (c && c->id == id) ? c : NULL;
}

/* Cuts a client that does not read what we send: its queue goes at once,
 * then its transport ends it (gw_conn_ws_kill for a WebSocket). */
static void cut_slow(gw_conn_t *c, const char *why)
{
    log_warn(gw_conn_subject(c), "%s (%zu bytes queued): closing", why, c->out_bytes);
    c->gw->slow_closes++;
    drop_queue(c);
    c->framing->kill(c, why);
}

/* If the socket still takes data it gets a 1008 close frame; if it is
 * full (the usual case) no frame can reach it, so the socket is shut
 * down and reset (SO_LINGER 0: the kernel drops the unsent bytes instead
 * of retrying them for minutes) and lws closes it on the next loop turn. */
void gw_conn_ws_kill(gw_conn_t *c, const char *why)
{
    if (!lws_send_pipe_choked(c->wsi)) {
        gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
        return;
    }
    int fd = lws_get_socket_fd(c->wsi);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    shutdown(fd, SHUT_RDWR);
    c->closing = c->close_sent = 1;
    c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Bytes of the header of the frame at p (RFC 6455 5.2; ours, unmasked). */
static size_t frame_header_size(const unsigned char *p)
{
    size_t n = p[1] & 0x7f;
    return n == 127 ? 10 : n == 126 ? 4 : 2;
}

/* Bytes of the frame whose header is at p, header included. */
static size_t frame_size(const unsigned char *p)
{
    size_t n = p[1] & 0x7f;
    if (n == 126) return 4 + ((size_t)p[2] << 8 | p[3]);
    if (n == 127) {
        uint64_t len = 0;
        for (int i = 2; i < 10; i++)
            len = len << 8 | p[i];
        return 10 + (size_t)len;
    }
    return 2 + n;
}

/* Notes c for gw_conn_flush, unless lws is to call back when the socket
 * takes more (writing before that would only meet EAGAIN). */
static void mark_dirty(gw_conn_t *c)
{
    gw_t *gw = c->gw;
    if (c->out_dirty || c->out_waiting) return;
    if (gw->n_dirty == gw->cap_dirty) {
        gw->cap_dirty = gw->cap_dirty ? gw->cap_dirty * 2 : 256;
        gw->dirty = wod_realloc(gw->dirty, gw->cap_dirty * sizeof(*gw->dirty));
    }
    gw->dirty[gw->n_dirty++] = c->id;
    c->out_dirty = 1;
}

/* Queued frames go out in gw_conn_flush; a closing connection's rest and
 * its close frame go from the writable callback. */
void gw_conn_ws_wake(gw_conn_t *c)
{
    if (!c->closing) {
        mark_dirty(c);
        return;
    }
    lws_callback_on_writable(c->wsi);
    /* A socket that never becomes writable (a peer that stopped reading)
     * must not hold a closing connection: lws kills it after the grace. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, GW_CLOSE_FLUSH_S);
}

int gw_conn_ws_writable(gw_conn_t *c, struct lws *wsi)
{
    (void)wsi;
    return gw_conn_on_writable(c);
}

void gw_conn_ws_abandon(gw_conn_t *c, struct lws *wsi)
{
    (void)c;
    (void)wsi;
}

/* Frames the message in place at the end of its lane: one final frame,
 * text or binary, unmasked as a server's (RFC 6455 5.2). We frame here
 * rather than through lws_write, which writes one frame per call (one
 * send each), so that all a client is due in a loop turn leaves in one
 * writev (docs/ARCHITECTURE.md, "One writev per client per loop turn").
 * A polling session's messages are framed too (gw_conn_take strips the
 * headers): its queue is ready for the WebSocket it may upgrade to. */
static void enqueue_frame(gw_conn_t *c, int lane, const char *data, size_t len, int binary)
{
    if (c->closing) return;
    unsigned char h[10];
    size_t hn = 0;
    /* FIN, opcode 2 (binary) or 1 (text) */
    h[hn++] = (unsigned char)(0x80 | (binary ? 0x2 : 0x1));
    if (len < 126) {
        h[hn++] = (unsigned char)len;
    } else if (len <= 0xffff) {
        h[hn++] = 126;
        h[hn++] = (unsigned char)(len >> 8);
        h[hn++] = (unsigned char)len;
    } else {
        h[hn++] = 127;
        for (int i = 7; i >= 0; i--)
            h[hn++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    /* A client that does not read cannot make us hold unbounded memory. */
    if (c->out_bytes + hn + len > (size_t)c->gw->cfg.send_queue_bytes) {
        cut_slow(c, "send queue full");
        return;
    }
    out_queue_t *q = &c->out[lane];
    if (!q->frames.len) {
        buf_reserve(&q->frames, LWS_PRE + hn + len);
        q->frames.len = q->head = LWS_PRE;
    }
    buf_append(&q->frames, h, hn);
    buf_append(&q->frames, data, len);
    q->bytes += hn + len;
    if (!c->out_bytes) c->last_progress_ms = clock_mono_ms();
    c->out_bytes += hn + len;
    c->gw->msgs_out++;
    c->framing->wake(c);
}

static void enqueue(gw_conn_t *c, int lane, const char *data, size_t len)
{
    enqueue_frame(c, lane, data, len, 0);
}

void gw_conn_send_binary(gw_conn_t *c, const char *payload, size_t len)
{
    if (!c->framing->binary_frames) return;
    enqueue_frame(c, OUT_LOW, payload, len, 1);
}

void gw_conn_write_raw(gw_conn_t *c, const char *data, size_t len)
{
    enqueue(c, OUT_HIGH, data, len);
}

void gw_conn_send_msg(gw_conn_t *c, int lane, const char *type, size_t type_len,
                      const char *payload, size_t len)
{
    static buf_t frame; /* loop thread only; reused */
    buf_reset(&frame);
    if (c->framing->encode(c, &frame, type, type_len, payload, len) < 0) return;
    enqueue(c, lane, frame.data, frame.len);
}

void gw_conn_send(gw_conn_t *c, const char *type, const char *payload, size_t len)
{
    gw_conn_send_msg(c, OUT_HIGH, type, strlen(type), payload, len);
}

void gw_conn_error(gw_conn_t *c, const char *code, const char *message, const char *severity)
{
    buf_t b;
    buf_init(&b);
    msg_error_json(&b, code, message, severity);
    gw_conn_send(c, "error", b.data, b.len);
    buf_free(&b);
}

void gw_conn_close(gw_conn_t *c, int code, const char *reason)
{
    if (c->closing) return;
    c->framing->close(c, code);
    if (c->closing) return; /* what the framing queued found the client too slow */
    c->closing = 1;
    c->close_code = code;
    (void)snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    c->framing->wake(c);
}

/* Writes the close frame itself, as raw bytes (FIN + opcode 8, length,
 * code, reason; a server frame is not masked). The documented way
 * (lws_close_reason, then return -1) sends nothing with this lws: 4.1.6
 * on libuv, a _DEBUG build, closes a second time at once ("uv repeat
 * test") and kills the socket; a close by lws_set_timeout is a kill
 * without a frame too. lws answers the client's close frame by closing;
 * a client that never answers is killed after GW_CLOSE_FLUSH_S. */
static int send_close(gw_conn_t *c)
{
    unsigned char frame[LWS_PRE + 4 + sizeof(c->close_reason)];
    unsigned char *p = frame + LWS_PRE;
    size_t n = strlen(c->close_reason); /* < 64: fits the 7-bit length */
    p[0] = 0x88;
    p[1] = (unsigned char)(n + 2);
    p[2] = (unsigned char)(c->close_code >> 8);
    p[3] = (unsigned char)c->close_code;
    memcpy(p + 4, c->close_reason, n);
    c->close_sent = 1;
    if (lws_write(c->wsi, p, n + 4, LWS_WRITE_RAW) < (int)(n + 4)) return -1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, GW_CLOSE_FLUSH_S);
    return 0;
}

/* Drops the n bytes (whole frames) at the front of lane q, sent or taken. */
static void lane_advance(gw_conn_t *c, out_queue_t *q, size_t n)
{
    unsigned char *d = (unsigned char *)q->frames.data;
    c->out_bytes -= n;
    q->bytes -= n;
    q->head += n;
    if (!q->bytes) {
        q->frames.len = q->head = LWS_PRE;
    } else if (q->head - LWS_PRE >= q->bytes) {
        /* what is left fits in what has gone: cheap to move to the front */
        memmove(d + LWS_PRE, d + q->head, q->bytes);
        q->head = LWS_PRE;
        q->frames.len = LWS_PRE + q->bytes;
    }
}

/* Takes n written bytes off the front of lane q. A frame the socket took
 * only part of is handed whole to lws (its remainder, LWS_WRITE_RAW:
 * lws keeps what the socket refuses and sends it first when writable),
 * so that lws's own frames (pongs) never land inside one of ours and the
 * lanes hold whole frames only. Returns -1 if lws failed. */
static int lane_consume(gw_conn_t *c, out_queue_t *q, size_t n)
{
    unsigned char *d = (unsigned char *)q->frames.data;
    size_t pos = q->head, end = q->head + n;
    int rc = 0;
    while (pos < end) {
        size_t size = frame_size(d + pos);
        if (pos + size > end) {
            /* LWS_PRE bytes before d + end are ours (already sent) */
            if (lws_write(c->wsi, d + end, pos + size - end, LWS_WRITE_RAW) <
                (int)(pos + size - end))
                rc = -1;
        }
        pos += size;
    }
    lane_advance(c, q, pos - q->head);
    return rc;
}

/* Writes both lanes, high first, with one writev straight to the socket;
 * asks lws for a writable callback if some are left. Returns -1 if the
 * socket failed (the connection is done). */
static int conn_write(gw_conn_t *c)
{
    if (!c->out_bytes) return 0;
    /* bytes lws holds (a partial frame, a pong) must go first */
    if (lws_partial_buffered(c->wsi)) goto wait;
    struct iovec iov[OUT_LANES];
    int n_iov = 0;
    for (int lane = 0; lane < OUT_LANES; lane++) {
        out_queue_t *q = &c->out[lane];
        if (!q->bytes) continue;
        iov[n_iov].iov_base = q->frames.data + q->head;
        iov[n_iov++].iov_len = q->bytes;
    }
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
    ssize_t n = sendmsg(lws_get_socket_fd(c->wsi), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) goto wait;
        log_info(gw_conn_subject(c), "send: %s", strerror(errno));
        return -1;
    }
    size_t left = (size_t)n;
    for (int lane = 0; lane < OUT_LANES && left; lane++) {
        out_queue_t *q = &c->out[lane];
        size_t take = left < q->bytes ? left : q->bytes;
        if (take && lane_consume(c, q, take) < 0) return -1;
        left -= take;
    }
    if (n > 0) c->last_progress_ms = clock_mono_ms();
    if (!c->out_bytes) return 0;
wait:
    c->out_waiting = 1;
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* After a write: the session hears of a draining queue; a closing
 * connection whose queue is out gets its close frame. */
static void conn_written(gw_conn_t *c)
{
    if (c->gw->conn_drained) c->gw->conn_drained(c);
    if (c->closing && !c->out_bytes) lws_callback_on_writable(c->wsi);
}

void gw_conn_flush(gw_t *gw)
{
    /* conn_drained may queue more (a resync): the list can grow meanwhile */
    for (size_t i = 0; i < gw->n_dirty; i++) {
        gw_conn_t *c = gw_conn_find(gw, gw->dirty[i]);
        if (!c) continue;
        c->out_dirty = 0;
        if (!c->wsi || c->close_sent || c->out_waiting) continue;
        gw_limits_progress(c->wsi, c); /* auth_success, sent from a store job */
        if (conn_write(c) < 0) {
            /* the peer is gone: lws finds out on its next read or kills it */
            drop_queue(c);
            c->closing = c->close_sent = 1;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        conn_written(c);
    }
    gw->n_dirty = 0;
}

/* Writes what is queued the same way; -1 has lws close the connection. */
int gw_conn_on_writable(gw_conn_t *c)
{
    c->out_waiting = 0;
    if (c->close_sent) return 0;
    if (conn_write(c) < 0) return -1;
    if (c->gw->conn_drained) c->gw->conn_drained(c);
    if (c->closing && !c->out_bytes) return send_close(c);
    return 0;
}

int gw_conn_take(gw_conn_t *c, buf_t *out, char sep, size_t cap)
{
    int n = 0;
    for (int lane = 0; lane < OUT_LANES; lane++) {
        out_queue_t *q = &c->out[lane];
        while (q->bytes) {
            const unsigned char *f = (const unsigned char *)q->frames.data + q->head;
            size_t hn = frame_header_size(f), size = frame_size(f);
            if (n && out->len + 1 + size - hn > cap) goto full;
            if (out->len) buf_putc(out, sep);
            buf_append(out, f + hn, size - hn);
            n++;
            lane_advance(c, q, size);
        }
    }
full:
    if (n) c->last_progress_ms = clock_mono_ms();
    if (c->gw->conn_drained) c->gw->conn_drained(c);
    return n;
}

void gw_conn_sweep(gw_t *gw)
{
    double now = clock_mono_ms();
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (!c) continue;
        if (!c->close_sent && c->out_bytes && now - c->last_progress_ms > gw->cfg.send_stall_ms)
            cut_slow(c, "no write progress");
        else if (!c->out_bytes && (c->out[OUT_HIGH].frames.cap || c->out[OUT_LOW].frames.cap))
            drop_queue(c); /* a quiet client keeps no buffers (idle clients are most) */
    }
    /* Queues are many small blocks: after a burst of slow clients glibc
     * keeps the freed pages unless asked. The trim waits two sweeps so
     * that what lws and the zones free once those clients are gone goes
     * back too (measured in tests/e2e/test_hostile_io.py). */
    if (gw->freed_since_trim > GW_TRIM_BYTES && !gw->trim_in) gw->trim_in = 2;
    if (gw->trim_in && --gw->trim_in == 0) {
        malloc_trim(0);
        gw->freed_since_trim = 0;
    }
}
