/* bus_local.c - in-process bus for `wod-server all` (see bus.h).
 *
 * Publishes are queued on the hub and delivered from a uv_async/idle
 * callback, so a subscriber never runs inside the publisher's call
 * chain, exactly as with Redis. */
#include "bus.h"
#include "../core/alloc.h"

#include <string.h>
#include <uthash.h>

typedef struct sub_s {
    char *channel; /* owned */
    UT_hash_handle hh;
} sub_t;

typedef struct local_bus_s {
    bus_t base;
    bus_hub_t *hub;
    sub_t *subs;              /* hash by channel */
    struct local_bus_s *next; /* hub membership */
    int closed;
} local_bus_t;

typedef struct pending_s {
    struct pending_s *next;
    char *channel;
    size_t len;
    char data[]; /* len bytes */
} pending_t;

struct bus_hub_s {
    uv_loop_t *loop;
    uv_idle_t idle; /* runs while messages are queued */
    local_bus_t *members;
    pending_t *head, *tail;
    int idle_active;
    int delivering; /* inside deliver(): closed buses are freed after it */
};

static void free_bus(local_bus_t *lb)
{
    sub_t *s, *tmp;
    HASH_ITER(hh, lb->subs, s, tmp)
    {
        /* uthash frees its table with the last element; the analyzer loses track (false positive)
         */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(lb->subs, s);
        free(s->channel);
        free(s);
    }
    free(lb);
}

static void deliver(uv_idle_t *h)
{
    bus_hub_t *hub = container_of(h, bus_hub_t, idle);
    pending_t *p = hub->head;
    hub->head = hub->tail = NULL;
    uv_idle_stop(&hub->idle);
    hub->idle_active = 0;
    hub->delivering = 1;
    while (p) {
        pending_t *next = p->next;
        for (local_bus_t *m = hub->members; m; m = m->next) {
            sub_t *s = NULL;
            if (m->closed) continue;
            HASH_FIND_STR(m->subs, p->channel, s);
            if (!s) continue;
            m->base.stats.received++;
            m->base.stats.bytes_in += p->len;
            m->base.on_msg(m->base.ud, p->channel, p->data, p->len);
        }
        free(p->channel);
        free(p);
        p = next;
    }
    hub->delivering = 0;
    /* a subscriber may have closed a bus (its own too) from its callback */
    for (local_bus_t **pp = &hub->members; *pp;) {
        local_bus_t *m = *pp;
        if (!m->closed) {
            pp = &m->next;
            continue;
        }
        *pp = m->next;
        free_bus(m);
    }
}

static int l_subscribe(bus_t *b, const char *channel)
{
    local_bus_t *lb = (local_bus_t *)b;
    sub_t *s = NULL;
    HASH_FIND_STR(lb->subs, channel, s);
    if (s) return 0;
    s = wod_calloc(1, sizeof(*s));
    s->channel = wod_strdup(channel);
    HASH_ADD_KEYPTR(hh, lb->subs, s->channel, strlen(s->channel), s);
    return 0;
}

static int l_unsubscribe(bus_t *b, const char *channel)
{
    local_bus_t *lb = (local_bus_t *)b;
    sub_t *s = NULL;
    HASH_FIND_STR(lb->subs, channel, s);
    if (!s) return 0;
    HASH_DEL(lb->subs, s);
    free(s->channel);
    free(s);
    return 0;
}

static int l_publish(bus_t *b, const char *channel, const char *data, size_t len)
{
    local_bus_t *lb = (local_bus_t *)b;
    bus_hub_t *hub = lb->hub;
    pending_t *p = wod_malloc(sizeof(*p) + len);
    p->next = NULL;
    p->channel = wod_strdup(channel);
    p->len = len;
    memcpy(p->data, data, len);
    if (hub->tail)
        hub->tail->next = p;
    else
        hub->head = p;
    hub->tail = p;
    if (!hub->idle_active) {
        uv_idle_start(&hub->idle, deliver);
        hub->idle_active = 1;
    }
    b->stats.published++;
    b->stats.bytes_out += len;
    return 0;
}

static void l_close(bus_t *b)
{
    local_bus_t *lb = (local_bus_t *)b;
    bus_hub_t *hub = lb->hub;
    lb->closed = 1;
    if (hub->delivering) return; /* deliver() is walking the members: it frees lb */
    for (local_bus_t **pp = &hub->members; *pp; pp = &(*pp)->next) {
        if (*pp == lb) {
            *pp = lb->next;
            break;
        }
    }
    free_bus(lb);
}

static const bus_ops_t local_ops = {
    .subscribe = l_subscribe, .unsubscribe = l_unsubscribe, .publish = l_publish, .close = l_close};

bus_hub_t *bus_hub_new(uv_loop_t *loop)
{
    bus_hub_t *hub = wod_calloc(1, sizeof(*hub));
    hub->loop = loop;
    uv_idle_init(loop, &hub->idle);
    return hub;
}

static void hub_closed(uv_handle_t *h)
{
    bus_hub_t *hub = container_of((uv_idle_t *)h, bus_hub_t, idle);
    pending_t *p = hub->head;
    while (p) {
        pending_t *next = p->next;
        free(p->channel);
        free(p);
        p = next;
    }
    free(hub);
}

void bus_hub_free(bus_hub_t *hub)
{
    uv_close((uv_handle_t *)&hub->idle, hub_closed);
}

bus_t *bus_local_new(bus_hub_t *hub, bus_msg_cb on_msg, bus_state_cb on_state, void *ud)
{
    local_bus_t *lb = wod_calloc(1, sizeof(*lb));
    lb->base.ops = &local_ops;
    lb->base.on_msg = on_msg;
    lb->base.on_state = on_state;
    lb->base.ud = ud;
    lb->hub = hub;
    lb->next = hub->members;
    hub->members = lb;
    return &lb->base;
}
