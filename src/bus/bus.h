/* bus.h - the message bus between gateways and zone servers.
 *
 * Publish/subscribe on named channels carrying opaque byte frames (the
 * envelope format of envelope.h). Two implementations behind one ops
 * table: bus_local.c (in-process, for `wod-server all`) and bus_redis.c
 * (Redis pub/sub, a subscriber connection apart from the command one).
 * Channel names follow the seed: zone:{id}:input, zone:{id}:broadcast,
 * gateway:output, gateway:{id}:output. */
#ifndef WOD_BUS_H
#define WOD_BUS_H

#include "../core/buf.h"

#include <errno.h>
#include <stddef.h>
#include <uv.h>

typedef struct bus_s bus_t;

/* A frame arrived on a subscribed channel. data is valid during the call. */
typedef void (*bus_msg_cb)(void *ud, const char *channel, const char *data, size_t len);
/* The bus (re)connected (up=1) or lost its connection (up=0). After a
 * reconnect the bus has re-subscribed; messages in between may be lost,
 * so the owner resynchronises (full rosters, re-registration). */
typedef void (*bus_state_cb)(void *ud, int up);

typedef struct bus_ops_s {
    int (*subscribe)(bus_t *b, const char *channel);
    int (*unsubscribe)(bus_t *b, const char *channel);
    /* Copies data; returns 0 or a negative error (not connected). */
    int (*publish)(bus_t *b, const char *channel, const char *data, size_t len);
    /* Would a publish on channel be taken now? 0 or publish's error.
     * NULL: always (the in-process bus). */
    int (*ready)(bus_t *b, const char *channel);
    /* Stops delivery, closes connections, frees b once handles are closed. */
    void (*close)(bus_t *b);
} bus_ops_t;

typedef struct bus_stats_s {
    unsigned long long published, received, bytes_out, bytes_in;
} bus_stats_t;

struct bus_s {
    const bus_ops_t *ops;
    bus_msg_cb on_msg;
    bus_state_cb on_state;
    void *ud;
    bus_stats_t stats;
};

static inline int bus_publish(bus_t *b, const char *channel, const char *data, size_t len)
{
    return b->ops->publish(b, channel, data, len);
}
/* For a sender that must not lose a record (a player walking into a
 * zone on another server): ask first, and hold off while it would fail. */
static inline int bus_ready(bus_t *b, const char *channel)
{
    return b->ops->ready ? b->ops->ready(b, channel) : 0;
}
/* What a failed publish means, for logs: -ENOBUFS is the bus's own
 * backpressure (the connection to Redis is behind), anything else is down. */
static inline const char *bus_why(int rc)
{
    return rc == -ENOBUFS ? "bus congested" : "bus down";
}
static inline int bus_subscribe(bus_t *b, const char *channel)
{
    return b->ops->subscribe(b, channel);
}
static inline int bus_unsubscribe(bus_t *b, const char *channel)
{
    return b->ops->unsubscribe(b, channel);
}
static inline void bus_close(bus_t *b)
{
    b->ops->close(b);
}

/* Appends the bus counters in Prometheus text, labelled role="<role>". */
void bus_stats_prometheus(const bus_t *b, const char *role, buf_t *out);

/* In-process bus: every bus_t made from one hub sees the others'
 * publishes. Delivery is deferred to the next loop iteration (never
 * re-entrant), in publish order. */
typedef struct bus_hub_s bus_hub_t;
bus_hub_t *bus_hub_new(uv_loop_t *loop);
void bus_hub_free(bus_hub_t *hub); /* after all its buses are closed */
bus_t *bus_local_new(bus_hub_t *hub, bus_msg_cb on_msg, bus_state_cb on_state, void *ud);

/* Redis bus. url is redis://host:port, or redis+cluster://host:port,...
 * for a Redis Cluster (sharded pub/sub). Connects asynchronously and
 * keeps reconnecting with backoff; on_state reports transitions. */
bus_t *bus_redis_new(uv_loop_t *loop, const char *url, bus_msg_cb on_msg, bus_state_cb on_state,
                     void *ud);

#endif
