/* bus_redis.c - the bus on Redis pub/sub (see bus.h).
 *
 * Two connections (redis_conn.c): `sub` only ever SUBSCRIBEs and reads
 * messages, `pub` only PUBLISHes, so a burst of publishes never queues
 * behind incoming traffic and Redis's subscriber rules (no other
 * commands in subscribed mode) never bite.
 *
 * The channel set is ours, not hiredis's: subscribe/unsubscribe edit it
 * and, when the subscriber connection is ready, send the command. After
 * a reconnect every channel in the set is subscribed again. Messages
 * published while the subscriber was away are lost (pub/sub keeps
 * nothing), which is why on_state(0)/on_state(1) tell the owner to
 * resynchronise. Redis also cuts a subscriber that reads too slowly
 * (client-output-buffer-limit pubsub); that is just another lost
 * connection here and recovers the same way.
 *
 * Frames are binary (envelope.h): always sent with %b, never %s.
 *
 * On a Redis Cluster (REDIS_URL=redis+cluster://...) the bus is a thin
 * layer over redis_cluster.c instead: sharded pub/sub (SPUBLISH /
 * SSUBSCRIBE), every channel under its cluster name (bus_channel_cluster_name:
 * the zone or gateway id becomes a hash tag, so a zone's channels and
 * registry keys share a slot and zones spread over the shards). The
 * owner keeps using the seed's names; delivery maps them back. */
#include "bus.h"
#include "channel.h"
#include "../redis/redis_cluster.h"
#include "../redis/redis_conn.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <errno.h>
#include <string.h>
#include <uthash.h>

typedef struct chan_s {
    char *name; /* owned */
    UT_hash_handle hh;
} chan_t;

typedef struct redis_bus_s {
    bus_t base;
    redis_conn_t sub; /* SUBSCRIBE + incoming messages */
    redis_conn_t pub; /* PUBLISH */
    chan_t *chans;    /* the subscription set, by name */
    int up;           /* both connections ready, as last reported */
    int resync_left;  /* SUBSCRIBE confirmations awaited after a (re)connect */
    int closing;
    int open_conns; /* connections not yet torn down (close frees at 0) */
} redis_bus_t;

/* Reports up only once both connections are ready and every channel of
 * the set is subscribed again, so what the owner publishes to resync is
 * not answered before we listen. */
static void update_state(redis_bus_t *rb)
{
    int up = rb->sub.ready && rb->pub.ready && rb->resync_left == 0;
    if (up == rb->up || rb->closing) return;
    rb->up = up;
    if (rb->base.on_state) rb->base.on_state(rb->base.ud, up);
}

/* A message (or a subscribe/unsubscribe confirmation) on the subscriber. */
static void on_sub_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    redis_bus_t *rb = priv;
    (void)ac;
    if (!reply || rb->closing) return; /* NULL: the context is going away */
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
    redisReply *kind = reply->element[0], *ch = reply->element[1], *data = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING) return;
    if (strcmp(kind->str, "subscribe") == 0) {
        if (rb->resync_left > 0 && --rb->resync_left == 0) update_state(rb);
        return;
    }
    if (strcmp(kind->str, "message") != 0) return;
    if (ch->type != REDIS_REPLY_STRING || data->type != REDIS_REPLY_STRING) return;
    chan_t *c = NULL;
    HASH_FIND(hh, rb->chans, ch->str, ch->len, c);
    if (!c) return; /* in flight when we unsubscribed */
    rb->base.stats.received++;
    rb->base.stats.bytes_in += data->len;
    rb->base.on_msg(rb->base.ud, c->name, data->str, data->len);
}

static int send_subscribe(redis_bus_t *rb, const char *cmd, const char *channel)
{
    redisAsyncContext *ac = redis_conn_ctx(&rb->sub);
    if (!ac || !rb->sub.ready) return 0; /* done on (re)connect */
    /* hiredis keeps this callback per channel and calls it for every message. */
    if (redisAsyncCommand(ac, on_sub_reply, rb, "%s %b", cmd, channel, strlen(channel)) != REDIS_OK)
        return -ENOTCONN;
    return 0;
}

static void on_conn_event(redis_conn_t *c, int up)
{
    redis_bus_t *rb = c->owner;
    if (c == &rb->sub) {
        rb->resync_left = 0;
        chan_t *ch, *tmp;
        HASH_ITER(hh, rb->chans, ch, tmp)
        {
            if (up && send_subscribe(rb, "SUBSCRIBE", ch->name) == 0) rb->resync_left++;
        }
    }
    update_state(rb);
}

static int rb_subscribe(bus_t *b, const char *channel)
{
    redis_bus_t *rb = (redis_bus_t *)b;
    chan_t *c = NULL;
    if (rb->closing) return -EINVAL;
    HASH_FIND_STR(rb->chans, channel, c);
    if (c) return 0;
    c = wod_calloc(1, sizeof(*c));
    c->name = wod_strdup(channel);
    HASH_ADD_KEYPTR(hh, rb->chans, c->name, strlen(c->name), c);
    /* Stays in the set even if the send fails: the reconnect subscribes it. */
    send_subscribe(rb, "SUBSCRIBE", channel);
    return 0;
}

static int rb_unsubscribe(bus_t *b, const char *channel)
{
    redis_bus_t *rb = (redis_bus_t *)b;
    chan_t *c = NULL;
    HASH_FIND_STR(rb->chans, channel, c);
    if (!c) return 0;
    HASH_DEL(rb->chans, c);
    send_subscribe(rb, "UNSUBSCRIBE", channel);
    free(c->name);
    free(c);
    return 0;
}

static void on_publish_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    (void)ac;
    (void)priv;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("bus", "PUBLISH failed: %s", reply->str);
}

static int rb_ready(bus_t *b, const char *channel)
{
    redis_bus_t *rb = (redis_bus_t *)b;
    (void)channel;
    /* Not while (re)connecting either: the owner counts the loss now and
     * resyncs on on_state(1), rather than frames piling up unbounded. */
    if (!redis_conn_ctx(&rb->pub) || !rb->pub.ready) return -ENOTCONN;
    return redis_conn_congested(&rb->pub) ? -ENOBUFS : 0;
}

static int rb_publish(bus_t *b, const char *channel, const char *data, size_t len)
{
    redis_bus_t *rb = (redis_bus_t *)b;
    int rc = rb_ready(b, channel);
    if (rc < 0) return rc;
    if (redisAsyncCommand(redis_conn_ctx(&rb->pub), on_publish_reply, NULL, "PUBLISH %b %b",
                          channel, strlen(channel), data, len) != REDIS_OK)
        return -ENOTCONN;
    b->stats.published++;
    b->stats.bytes_out += len;
    return 0;
}

static void conn_closed(redis_conn_t *c)
{
    redis_bus_t *rb = c->owner;
    if (--rb->open_conns > 0) return;
    chan_t *ch, *tmp;
    HASH_ITER(hh, rb->chans, ch, tmp)
    {
        /* uthash frees its table with the last element: analyzer false positive */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(rb->chans, ch);
        free(ch->name);
        free(ch);
    }
    free(rb);
}

static void rb_close(bus_t *b)
{
    redis_bus_t *rb = (redis_bus_t *)b;
    if (rb->closing) return;
    rb->closing = 1; /* no delivery, no on_state from here on */
    redis_conn_close(&rb->sub, conn_closed);
    redis_conn_close(&rb->pub, conn_closed);
}

static const bus_ops_t redis_ops = {
    .subscribe = rb_subscribe,
    .unsubscribe = rb_unsubscribe,
    .publish = rb_publish,
    .ready = rb_ready,
    .close = rb_close,
};

/* ---- cluster mode */

typedef struct cchan_s {
    char *cname; /* cluster name, the hash key */
    char *name;  /* the seed name the owner uses */
    UT_hash_handle hh;
} cchan_t;

typedef struct cluster_bus_s {
    bus_t base;
    redis_cluster_t *cl;
    cchan_t *chans;
    int closing;
} cluster_bus_t;

static void cb_on_state(redis_cluster_t *cl, int up)
{
    cluster_bus_t *cb = redis_cluster_owner(cl);
    if (!cb->closing && cb->base.on_state) cb->base.on_state(cb->base.ud, up);
}

static void cb_on_msg(redis_cluster_t *cl, const char *channel, size_t chlen, const char *data,
                      size_t len)
{
    cluster_bus_t *cb = redis_cluster_owner(cl);
    cchan_t *c = NULL;
    if (cb->closing) return;
    HASH_FIND(hh, cb->chans, channel, chlen, c);
    if (!c) return;
    cb->base.stats.received++;
    cb->base.stats.bytes_in += len;
    cb->base.on_msg(cb->base.ud, c->name, data, len);
}

static int cb_subscribe(bus_t *b, const char *channel)
{
    cluster_bus_t *cb = (cluster_bus_t *)b;
    char cname[320];
    cchan_t *c = NULL;
    if (cb->closing || bus_channel_cluster_name(channel, cname, sizeof(cname)) < 0) return -EINVAL;
    HASH_FIND_STR(cb->chans, cname, c);
    if (c) return 0;
    c = wod_calloc(1, sizeof(*c));
    c->cname = wod_strdup(cname);
    c->name = wod_strdup(channel);
    HASH_ADD_KEYPTR(hh, cb->chans, c->cname, strlen(c->cname), c);
    return redis_cluster_ssubscribe(cb->cl, cname);
}

static int cb_unsubscribe(bus_t *b, const char *channel)
{
    cluster_bus_t *cb = (cluster_bus_t *)b;
    char cname[320];
    cchan_t *c = NULL;
    if (bus_channel_cluster_name(channel, cname, sizeof(cname)) < 0) return 0;
    HASH_FIND_STR(cb->chans, cname, c);
    if (!c) return 0;
    HASH_DEL(cb->chans, c);
    free(c->cname);
    free(c->name);
    free(c);
    return redis_cluster_sunsubscribe(cb->cl, cname);
}

static int cb_ready(bus_t *b, const char *channel)
{
    cluster_bus_t *cb = (cluster_bus_t *)b;
    char cname[320];
    if (bus_channel_cluster_name(channel, cname, sizeof(cname)) < 0) return -EINVAL;
    return redis_cluster_ready(cb->cl, cname, strlen(cname));
}

static int cb_publish(bus_t *b, const char *channel, const char *data, size_t len)
{
    cluster_bus_t *cb = (cluster_bus_t *)b;
    char cname[320];
    if (bus_channel_cluster_name(channel, cname, sizeof(cname)) < 0) return -EINVAL;
    int rc = redis_cluster_spublish(cb->cl, cname, strlen(cname), data, len);
    if (rc < 0) return rc;
    b->stats.published++;
    b->stats.bytes_out += len;
    return 0;
}

static void cb_closed(redis_cluster_t *cl)
{
    cluster_bus_t *cb = redis_cluster_owner(cl);
    cchan_t *c, *tmp;
    HASH_ITER(hh, cb->chans, c, tmp)
    {
        /* uthash frees its table with the last element: analyzer false positive */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(cb->chans, c);
        free(c->cname);
        free(c->name);
        free(c);
    }
    free(cb);
}

static void cb_close(bus_t *b)
{
    cluster_bus_t *cb = (cluster_bus_t *)b;
    if (cb->closing) return;
    cb->closing = 1;
    redis_cluster_close(cb->cl, cb_closed);
}

static const bus_ops_t cluster_ops = {
    .subscribe = cb_subscribe,
    .unsubscribe = cb_unsubscribe,
    .publish = cb_publish,
    .ready = cb_ready,
    .close = cb_close,
};

static bus_t *bus_cluster_new(uv_loop_t *loop, const char *url, bus_msg_cb on_msg,
                              bus_state_cb on_state, void *ud)
{
    redis_cluster_url_t u;
    if (redis_cluster_url_parse(url, &u) < 0) {
        log_error("bus",
                  "bad Redis Cluster URL '%s' (want redis+cluster://host:port[,host:port...])",
                  url);
        return NULL;
    }
    cluster_bus_t *cb = wod_calloc(1, sizeof(*cb));
    cb->base.ops = &cluster_ops;
    cb->base.on_msg = on_msg;
    cb->base.on_state = on_state;
    cb->base.ud = ud;
    cb->cl = redis_cluster_new(loop, &u, "bus", cb_on_state, cb_on_msg, cb);
    return &cb->base;
}

bus_t *bus_redis_new(uv_loop_t *loop, const char *url, bus_msg_cb on_msg, bus_state_cb on_state,
                     void *ud)
{
    if (redis_url_is_cluster(url)) return bus_cluster_new(loop, url, on_msg, on_state, ud);
    redis_url_t u;
    if (redis_url_parse(url, &u) < 0) {
        log_error("bus", "bad Redis URL '%s' (want redis://[:password@]host[:port][/db])", url);
        return NULL;
    }
    redis_bus_t *rb = wod_calloc(1, sizeof(*rb));
    rb->base.ops = &redis_ops;
    rb->base.on_msg = on_msg;
    rb->base.on_state = on_state;
    rb->base.ud = ud;
    rb->open_conns = 2;
    redis_conn_start(&rb->sub, loop, &u, "bus-sub", on_conn_event, rb);
    redis_conn_start(&rb->pub, loop, &u, "bus-pub", on_conn_event, rb);
    return &rb->base;
}
