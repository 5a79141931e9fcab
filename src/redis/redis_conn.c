/* redis_conn.c - see redis_conn.h.
 *
 * hiredis 0.14 rules this file is built around:
 * - a context whose connect fails gets onConnect(REDIS_ERR) and is freed
 *   by hiredis right after; one that drops after connecting gets
 *   onDisconnect and is freed right after. Either way every pending
 *   command callback first runs once with a NULL reply.
 * - redisAsyncFree() must not be called from inside a hiredis callback,
 *   so our own teardowns (timeout, close) run from the uv timer.
 * - the libuv adapter closes its uv_poll_t itself and frees its own
 *   memory in the close callback; it never touches our structures.
 * - but the 0.14.1 adapter ignores a poll callback with status < 0, and
 *   libuv reports POLLERR exactly that way (UV_EBADF, handle stopped): a
 *   refused connect or a reset connection would hang unnoticed. So after
 *   attaching we swap in our own add/del hooks whose poll callback hands
 *   an error to hiredis as readiness, and hiredis's read/connect check
 *   then finds the socket error (as later hiredis versions do). */
#include "redis_conn.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <errno.h>
#include <hiredis/adapters/libuv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int redis_url_parse(const char *url, redis_url_t *out)
{
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) return -1;
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : 0;
        const char *pw = colon ? colon + 1 : p;
        size_t plen = (size_t)(at - pw);
        if (ulen >= sizeof(out->user) || plen >= sizeof(out->password)) return -1;
        memcpy(out->user, p, ulen);
        memcpy(out->password, pw, plen);
        p = at + 1;
    }
    const char *host_end;
    if (*p == '[') { /* [::1]:6379 */
        host_end = strchr(p, ']');
        if (!host_end) return -1;
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
    }
    size_t hlen = (size_t)(host_end - p);
    if (hlen == 0 || hlen >= sizeof(out->host)) return -1;
    memcpy(out->host, p, hlen);
    p = host_end + (*host_end == ']');
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535) return -1;
        out->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end || db < 0 || db > 1000000) return -1;
        out->db = (int)db;
        p = end;
    } else if (*p == '/') {
        p++;
    }
    return *p ? -1 : 0;
}

static void attempt(redis_conn_t *c);

static void timer_attempt(uv_timer_t *t)
{
    attempt(container_of(t, redis_conn_t, timer));
}

static void finish_lost(redis_conn_t *c, int was_ready)
{
    if (was_ready && c->on_event) c->on_event(c, 0);
}

/* The current context is gone (hiredis freed it, or we did). */
static void lost(redis_conn_t *c, const char *why)
{
    int was_ready = c->ready;
    c->ready = 0;
    if (c->closing) return; /* the timer belongs to the deferred close now */
    uv_timer_stop(&c->timer);
    c->failures++;
    /* First loss loudly; repeated failures at 1, 2, 4, 8, ... attempts. */
    if (was_ready || (c->failures & (c->failures - 1)) == 0)
        log_warn("redis", "%s: %s:%d %s; retrying in %llu ms (attempt %u)", c->name, c->url.host,
                 c->url.port, why, (unsigned long long)c->backoff_ms, c->failures);
    uv_timer_start(&c->timer, timer_attempt, c->backoff_ms, 0);
    if (c->nalts > 1) { /* next seed; back off only once all were tried */
        c->alt_i = (c->alt_i + 1) % c->nalts;
        c->url = c->alts[c->alt_i];
        if (c->alt_i != 0) {
            finish_lost(c, was_ready);
            return;
        }
    }
    c->backoff_ms *= 2;
    if (c->backoff_ms > REDIS_CONN_BACKOFF_MAX_MS) c->backoff_ms = REDIS_CONN_BACKOFF_MAX_MS;
    finish_lost(c, was_ready);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    redis_conn_t *c = ac->data;
    if (status == REDIS_OK || c->ac != ac) return;
    c->ac = NULL; /* hiredis frees it after we return */
    lost(c, ac->errstr[0] ? ac->errstr : "connect failed");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_conn_t *c = ac->data;
    (void)status;
    if (c->ac != ac) return; /* we detached it ourselves */
    c->ac = NULL;
    lost(c, ac->errstr[0] ? ac->errstr : "connection closed");
}

/* Drops the current context from a timer callback (never a hiredis one). */
static void drop(redis_conn_t *c, const char *why)
{
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    if (ac) redisAsyncFree(ac); /* runs pending callbacks with NULL */
    lost(c, why);
}

static void timer_timeout(uv_timer_t *t)
{
    redis_conn_t *c = container_of(t, redis_conn_t, timer);
    drop(c, "did not answer in time");
}

/* Reply to AUTH/SELECT: an error means this attempt cannot work. */
static void on_setup_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    redis_conn_t *c = priv;
    if (reply && reply->type == REDIS_REPLY_ERROR && c->ac == ac) {
        log_error("redis", "%s: %s", c->name, reply->str);
        redisAsyncDisconnect(ac); /* deferred by hiredis; on_disconnect retries */
    }
}

static void on_ping(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    redis_conn_t *c = priv;
    if (!reply || c->ac != ac || c->closing) return;
    if (reply->type == REDIS_REPLY_ERROR) { /* e.g. NOAUTH: retry with backoff */
        log_error("redis", "%s: %s", c->name, reply->str);
        redisAsyncDisconnect(ac);
        return;
    }
    uv_timer_stop(&c->timer);
    c->ready = 1;
    c->backoff_ms = REDIS_CONN_BACKOFF_MIN_MS;
    log_info("redis", "%s: connected to %s:%d%s", c->name, c->url.host, c->url.port,
             c->failures ? " (reconnected)" : "");
    c->failures = 0;
    if (c->on_event) c->on_event(c, 1);
}

/* Like the adapter's redisLibuvPoll, but an error status is passed on. */
static void poll_cb(uv_poll_t *handle, int status, int events)
{
    redisLibuvEvents *p = handle->data;
    int ev = status < 0 ? p->events : events;
    /* p outlives the context (freed in the handle's close callback), and
     * the adapter's cleanup clears p->context when hiredis frees it. */
    if (p->context && (ev & UV_READABLE)) redisAsyncHandleRead(p->context);
    if (p->context && (ev & UV_WRITABLE)) redisAsyncHandleWrite(p->context);
}

static void set_events(redisLibuvEvents *p, int events)
{
    p->events = events;
    if (events)
        uv_poll_start(&p->handle, events, poll_cb);
    else
        uv_poll_stop(&p->handle);
}

static void add_read(void *priv)
{
    redisLibuvEvents *p = priv;
    set_events(p, p->events | UV_READABLE);
}

static void del_read(void *priv)
{
    redisLibuvEvents *p = priv;
    set_events(p, p->events & ~UV_READABLE);
}

static void add_write(void *priv)
{
    redisLibuvEvents *p = priv;
    set_events(p, p->events | UV_WRITABLE);
}

static void del_write(void *priv)
{
    redisLibuvEvents *p = priv;
    set_events(p, p->events & ~UV_WRITABLE);
}

static void attempt(redis_conn_t *c)
{
    if (c->closing || c->ac) return;
    redisAsyncContext *ac = redisAsyncConnect(c->url.host, c->url.port);
    if (!ac) {
        lost(c, "out of memory");
        return;
    }
    if (ac->err) {
        char why[128];
        snprintf(why, sizeof(why), "%s", ac->errstr);
        redisAsyncFree(ac);
        lost(c, why);
        return;
    }
    if (redisLibuvAttach(ac, c->loop) != REDIS_OK) {
        ac->ev.cleanup = NULL; /* the adapter has no state to clean up */
        redisAsyncFree(ac);
        lost(c, "cannot attach to the event loop");
        return;
    }
    ac->ev.addRead = add_read; /* see the banner: error-aware poll callback */
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->data = c;
    redisEnableKeepAlive(&ac->c); /* notice a dead peer on an idle connection */
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    /* Queued now, sent as soon as the socket connects, ahead of anything
     * the owner sends; PING's answer marks the connection ready. */
    if (c->url.password[0]) {
        if (c->url.user[0])
            redisAsyncCommand(ac, on_setup_reply, c, "AUTH %s %s", c->url.user, c->url.password);
        else
            redisAsyncCommand(ac, on_setup_reply, c, "AUTH %s", c->url.password);
    }
    if (c->url.db) redisAsyncCommand(ac, on_setup_reply, c, "SELECT %d", c->url.db);
    redisAsyncCommand(ac, on_ping, c, "PING");
    uv_timer_start(&c->timer, timer_timeout, REDIS_CONN_TIMEOUT_MS, 0);
}

void redis_conn_start(redis_conn_t *c, uv_loop_t *loop, const redis_url_t *url, const char *name,
                      redis_conn_event_cb on_event, void *owner)
{
    memset(c, 0, sizeof(*c));
    c->loop = loop;
    c->url = *url;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->on_event = on_event;
    c->owner = owner;
    c->backoff_ms = REDIS_CONN_BACKOFF_MIN_MS;
    uv_timer_init(loop, &c->timer);
    attempt(c);
}

void redis_conn_set_alternates(redis_conn_t *c, const redis_url_t *urls, int n)
{
    c->alts = urls;
    c->nalts = n;
    c->alt_i = 0;
}

redisAsyncContext *redis_conn_ctx(redis_conn_t *c)
{
    return c->closing ? NULL : c->ac;
}

int redis_conn_congested(redis_conn_t *c)
{
    return c->ac && sdslen(c->ac->c.obuf) > REDIS_CONN_MAX_OUTPUT;
}

static void timer_closed(uv_handle_t *h)
{
    redis_conn_t *c = container_of((uv_timer_t *)h, redis_conn_t, timer);
    if (c->on_closed) c->on_closed(c);
}

#define CLOSE_DRAIN_TRIES 50 /* x 10 ms: what a clean shutdown waits for its last writes */

static void timer_close_now(uv_timer_t *t)
{
    redis_conn_t *c = container_of(t, redis_conn_t, timer);
    redisAsyncContext *ac = c->ac;
    /* A shutdown's last commands (release a claim, delete a heartbeat) must
     * reach Redis: wait until they are written and answered. */
    if (ac && c->ready && c->drain_tries++ < CLOSE_DRAIN_TRIES &&
        (sdslen(ac->c.obuf) > 0 || ac->replies.head)) {
        uv_timer_start(&c->timer, timer_close_now, 10, 0);
        return;
    }
    c->ac = NULL;
    c->ready = 0;
    if (ac) redisAsyncFree(ac); /* NULL replies + disconnect callback, synchronously */
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

void redis_conn_close(redis_conn_t *c, redis_conn_closed_cb on_closed)
{
    if (c->closing) return;
    c->closing = 1;
    c->on_closed = on_closed;
    uv_timer_stop(&c->timer);
    uv_timer_start(&c->timer, timer_close_now, 0, 0);
}
