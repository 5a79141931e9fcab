/* redis_cluster.c - see redis_cluster.h.
 *
 * Nodes are kept (never freed) until the client closes: requests and
 * channels point at them, and a node that stops being a master (its
 * replica was promoted) only has its connections closed. A node seen
 * again as a master gets new connections.
 *
 * Sharded pub/sub with hiredis 0.14: hiredis only knows SUBSCRIBE and
 * PSUBSCRIBE; an `smessage` push on a context that hiredis does not think
 * is subscribed trips an assert, and one for a channel it has no callback
 * for goes to whatever callback ran last (or nowhere). So every sharded
 * channel is also SUBSCRIBEd (classic) under the same name on the same
 * connection, just before its SSUBSCRIBE: hiredis then has a callback for
 * the name and treats the context as subscribed. Nothing is ever
 * PUBLISHed (classic) on a cluster by us, so that subscription carries
 * nothing. Every callback on a subscriber connection is on_sub_reply with
 * its node, and it dispatches on the reply's kind. One more 0.14 rule: an
 * error reply on a subscribed context (an SSUBSCRIBE answered MOVED from a
 * stale map) makes hiredis drop the connection; it reconnects with
 * backoff and subscribes again from the refreshed map, so we never send
 * SUNSUBSCRIBE for a slot the server told us has moved. */
#include "redis_cluster.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* ---- pure parts (unit tested) */

uint16_t redis_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint8_t)buf[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned redis_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1) {
            key = open + 1;
            len = (size_t)(close - open - 1);
        }
    }
    return redis_crc16(key, len) & (REDIS_CLUSTER_SLOTS - 1);
}

#define CLUSTER_SCHEME "redis+cluster://"

int redis_url_is_cluster(const char *url)
{
    return strncmp(url, CLUSTER_SCHEME, strlen(CLUSTER_SCHEME)) == 0;
}

int redis_cluster_url_parse(const char *url, redis_cluster_url_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!redis_url_is_cluster(url)) return -1;
    const char *p = url + strlen(CLUSTER_SCHEME);
    const char *at = strrchr(p, '@');
    char cred[256] = "";
    if (at) {
        if ((size_t)(at - p) + 1 >= sizeof(cred)) return -1;
        memcpy(cred, p, (size_t)(at - p) + 1); /* "user:pw@" */
        p = at + 1;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || out->nseeds == REDIS_CLUSTER_MAX_SEEDS) return -1;
        char one[512];
        if (snprintf(one, sizeof(one), "redis://%s%.*s", cred, (int)n, p) >= (int)sizeof(one))
            return -1;
        if (strchr(one + 8, '/')) return -1; /* no /db on a cluster */
        if (redis_url_parse(one, &out->seeds[out->nseeds]) < 0) return -1;
        out->nseeds++;
        p += n;
        if (*p == ',') {
            p++;
            if (!*p) return -1;
        }
    }
    return out->nseeds > 0 ? 0 : -1;
}

int redis_cluster_parse_slots(const redisReply *r, const char *asked_host, redis_slot_range_t *out,
                              int max)
{
    if (!r || r->type != REDIS_REPLY_ARRAY) return -1;
    int n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3) return -1;
        const redisReply *a = e->element[0], *b = e->element[1], *m = e->element[2];
        if (a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER || a->integer < 0 ||
            b->integer < a->integer || b->integer >= REDIS_CLUSTER_SLOTS)
            return -1;
        if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
            m->element[0]->type != REDIS_REPLY_STRING ||
            m->element[1]->type != REDIS_REPLY_INTEGER || m->element[1]->integer <= 0 ||
            m->element[1]->integer > 65535)
            return -1;
        if (n == max) return -1;
        const char *host = m->element[0]->str;
        if (!host[0] || strcmp(host, "?") == 0) host = asked_host;
        if (strlen(host) >= sizeof(out[n].host)) return -1;
        out[n].first = (unsigned)a->integer;
        out[n].last = (unsigned)b->integer;
        snprintf(out[n].host, sizeof(out[n].host), "%s", host);
        out[n].port = (int)m->element[1]->integer;
        n++;
    }
    return n;
}

int redis_redirect_parse(const char *err, redis_redirect_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncmp(err, "MOVED ", 6) == 0)
        p = err + 6;
    else if (strncmp(err, "ASK ", 4) == 0) {
        p = err + 4;
        out->ask = 1;
    } else
        return -1;
    char *end;
    unsigned long slot = strtoul(p, &end, 10);
    if (end == p || *end != ' ' || slot >= REDIS_CLUSTER_SLOTS) return -1;
    p = end + 1;
    const char *colon = strrchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= sizeof(out->host)) return -1;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port <= 0 || port > 65535) return -1;
    out->slot = (unsigned)slot;
    memcpy(out->host, p, (size_t)(colon - p));
    out->port = (int)port;
    return 0;
}

/* ---- the client */

#define MAX_NODES  256
#define MAX_RANGES 4096

typedef enum { CONN_NONE, CONN_RUNNING, CONN_CLOSING } conn_state_t;

typedef struct node_s node_t;
struct node_s {
    redis_cluster_t *cl;
    node_t *next;
    redis_url_t url;
    int master; /* in the current slot map */
    redis_conn_t cmd;
    redis_conn_t sub; /* sharded subscriptions (clients with on_msg) */
    conn_state_t cmd_state, sub_state;
};

typedef struct chan_s {
    char *name; /* owned */
    size_t len;
    unsigned slot;
    node_t *node;  /* where it was (S)SUBSCRIBEd, NULL = to do */
    int confirmed; /* ssubscribe answered there */
    int fresh;     /* added while up and never lost: not awaited for "up" */
    UT_hash_handle hh;
} chan_t;

typedef struct creq_s creq_t;
struct creq_s {
    creq_t *prev, *next;
    redis_cluster_t *cl;
    redisCallbackFn *cb;
    void *priv;
    int argc;
    char **argv;
    size_t *lens;
    unsigned slot;
    node_t *pinned; /* command_master: this node, no redirects */
    node_t *ask;    /* ASK target for the next send */
    int tries;      /* redirects + retries so far */
    uint64_t due;   /* waiting to be (re)sent at this loop time; 0 = not waiting */
    uint64_t born;  /* loop time of the call */
    int in_hiredis; /* hiredis holds a callback for it */
    int done;       /* the owner's callback ran */
};

struct redis_cluster_s {
    uv_loop_t *loop;
    redis_cluster_url_t url;
    char name[32];
    redis_conn_t ctl; /* CLUSTER SLOTS, from any seed */
    conn_state_t ctl_state;
    node_t *nodes;
    int nnodes;
    node_t *slots[REDIS_CLUSTER_SLOTS];
    node_t **masters;
    int nmasters;
    int have_map, covered;
    int refreshing;
    uint64_t last_refresh;
    uv_timer_t timer;
    chan_t *chans;
    creq_t *reqs;
    int up;
    int closing, open_conns;
    redis_cluster_state_cb on_state;
    redis_cluster_msg_cb on_msg;
    redis_cluster_closed_cb on_closed;
    void *owner;
};

static void refresh(redis_cluster_t *cl);
static void update_state(redis_cluster_t *cl);
static void send_req(creq_t *q);
static void subscribe_on(node_t *n, chan_t *c);

void *redis_cluster_owner(const redis_cluster_t *cl)
{
    return cl->owner;
}

int redis_cluster_up(const redis_cluster_t *cl)
{
    return cl->up;
}

static int conn_ready(redis_conn_t *c, conn_state_t st)
{
    return st == CONN_RUNNING && c->ready && redis_conn_ctx(c);
}

/* ---- connection life cycle */

static void conn_closed(redis_conn_t *c);

static void node_conn_event(redis_conn_t *c, int up);

static void start_conns(node_t *n)
{
    redis_cluster_t *cl = n->cl;
    char nm[64];
    if (n->cmd_state == CONN_NONE) {
        snprintf(nm, sizeof(nm), "%.16s-%d", cl->name, n->url.port);
        redis_conn_start(&n->cmd, cl->loop, &n->url, nm, node_conn_event, n);
        n->cmd_state = CONN_RUNNING;
        cl->open_conns++;
    }
    if (cl->on_msg && n->sub_state == CONN_NONE) {
        snprintf(nm, sizeof(nm), "%.16s-sub-%d", cl->name, n->url.port);
        redis_conn_start(&n->sub, cl->loop, &n->url, nm, node_conn_event, n);
        n->sub_state = CONN_RUNNING;
        cl->open_conns++;
    }
}

static void stop_conns(node_t *n)
{
    if (n->cmd_state == CONN_RUNNING) {
        n->cmd_state = CONN_CLOSING;
        redis_conn_close(&n->cmd, conn_closed);
    }
    if (n->sub_state == CONN_RUNNING) {
        n->sub_state = CONN_CLOSING;
        redis_conn_close(&n->sub, conn_closed);
    }
}

static node_t *node_get(redis_cluster_t *cl, const char *host, int port)
{
    for (node_t *n = cl->nodes; n; n = n->next)
        if (n->url.port == port && strcmp(n->url.host, host) == 0) return n;
    if (cl->nnodes == MAX_NODES) {
        log_error("redis", "%s: more than %d cluster nodes; ignoring %s:%d", cl->name, MAX_NODES,
                  host, port);
        return NULL;
    }
    node_t *n = wod_calloc(1, sizeof(*n));
    n->cl = cl;
    n->url = cl->url.seeds[0]; /* credentials */
    snprintf(n->url.host, sizeof(n->url.host), "%s", host);
    n->url.port = port;
    n->next = cl->nodes;
    cl->nodes = n;
    cl->nnodes++;
    return n;
}

/* ---- requests */

static void req_free(creq_t *q)
{
    redis_cluster_t *cl = q->cl;
    if (q->prev)
        q->prev->next = q->next;
    else
        cl->reqs = q->next;
    if (q->next) q->next->prev = q->prev;
    for (int i = 0; i < q->argc; i++)
        free(q->argv[i]);
    free(q->argv);
    free(q->lens);
    free(q);
}

/* Calls the owner back once; frees q unless hiredis still holds it. */
static void req_finish(creq_t *q, redisReply *reply)
{
    if (!q->done) {
        q->done = 1;
        q->due = 0;
        q->cb(NULL, reply, q->priv);
    }
    if (!q->in_hiredis) req_free(q);
}

/* Waits a growing delay before sending again; gives up past the bound. */
static void req_retry(creq_t *q, const char *why)
{
    redis_cluster_t *cl = q->cl;
    if (++q->tries > REDIS_CLUSTER_MAX_REDIRECTS) {
        log_warn("redis", "%s: giving up on %s (slot %u) after %d attempts: %s", cl->name,
                 q->argv[0], q->slot, q->tries, why);
        req_finish(q, NULL);
        return;
    }
    log_info("redis", "%s: %s (slot %u): %s; retry %d in %d ms", cl->name, q->argv[0], q->slot, why,
             q->tries, REDIS_CLUSTER_RETRY_MS << (q->tries - 1));
    q->due = uv_now(cl->loop) + ((uint64_t)REDIS_CLUSTER_RETRY_MS << (q->tries - 1));
    refresh(cl);
}

static int is_retryable(const char *err)
{
    static const char *const kinds[] = {"CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(err, kinds[i], strlen(kinds[i])) == 0) return 1;
    return 0;
}

static void on_req_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    creq_t *q = priv;
    redis_cluster_t *cl = q->cl;
    (void)ac;
    q->in_hiredis = 0;
    if (q->done || cl->closing) {
        req_finish(q, NULL);
        return;
    }
    if (!reply) { /* connection lost: the command may or may not have run */
        refresh(cl);
        req_finish(q, NULL);
        return;
    }
    if (reply->type != REDIS_REPLY_ERROR || q->pinned) {
        req_finish(q, reply);
        return;
    }
    redis_redirect_t rd;
    if (redis_redirect_parse(reply->str, &rd) == 0) {
        node_t *n = node_get(cl, rd.host, rd.port);
        if (!n || ++q->tries > REDIS_CLUSTER_MAX_REDIRECTS) {
            log_warn("redis", "%s: %s (slot %u): too many redirects, last '%s'", cl->name,
                     q->argv[0], q->slot, reply->str);
            req_finish(q, NULL);
            return;
        }
        log_info("redis", "%s: %s (slot %u): %s", cl->name, q->argv[0], q->slot, reply->str);
        start_conns(n);
        if (rd.ask) {
            q->ask = n;
        } else {
            cl->slots[rd.slot] = n; /* until the refreshed map says otherwise */
            refresh(cl);
        }
        /* Back off from the second redirect on: a loop between two nodes
         * that disagree (a slot in migration) settles in a few ms. */
        if (q->tries > 1)
            q->due = uv_now(cl->loop) + ((uint64_t)REDIS_CLUSTER_RETRY_MS << (q->tries - 2));
        else
            send_req(q);
        return;
    }
    if (is_retryable(reply->str)) {
        req_retry(q, reply->str);
        return;
    }
    req_finish(q, reply);
}

static void send_req(creq_t *q)
{
    redis_cluster_t *cl = q->cl;
    node_t *n = q->pinned ? q->pinned : q->ask ? q->ask : cl->slots[q->slot];
    q->due = 0;
    if (!cl->have_map) { /* starting: wait for the first slot map like a connecting socket */
        if (uv_now(cl->loop) - q->born < REDIS_CONN_TIMEOUT_MS) {
            q->due = uv_now(cl->loop) + REDIS_CLUSTER_RETRY_MS;
            return;
        }
        log_warn("redis", "%s: %s: no slot map from any seed in %d ms", cl->name, q->argv[0],
                 REDIS_CONN_TIMEOUT_MS);
        req_finish(q, NULL);
        return;
    }
    if (!n) {
        req_retry(q, "no master serves the slot");
        return;
    }
    if (!conn_ready(&n->cmd, n->cmd_state)) {
        start_conns(n);
        req_retry(q, "master not connected");
        return;
    }
    redisAsyncContext *ctx = redis_conn_ctx(&n->cmd);
    if (q->ask) redisAsyncCommand(ctx, NULL, NULL, "ASKING");
    q->ask = NULL;
    if (redisAsyncCommandArgv(ctx, on_req_reply, q, q->argc, (const char **)q->argv, q->lens) !=
        REDIS_OK) {
        req_retry(q, "send failed");
        return;
    }
    q->in_hiredis = 1;
}

static creq_t *req_new(redis_cluster_t *cl, redisCallbackFn *cb, void *priv, int argc,
                       const char **argv, const size_t *argvlen)
{
    creq_t *q = wod_calloc(1, sizeof(*q));
    q->cl = cl;
    q->cb = cb;
    q->priv = priv;
    q->argc = argc;
    q->argv = wod_calloc((size_t)argc, sizeof(*q->argv));
    q->lens = wod_calloc((size_t)argc, sizeof(*q->lens));
    for (int i = 0; i < argc; i++) {
        q->lens[i] = argvlen ? argvlen[i] : strlen(argv[i]);
        q->argv[i] = wod_malloc(q->lens[i] + 1);
        memcpy(q->argv[i], argv[i], q->lens[i]);
        q->argv[i][q->lens[i]] = 0;
    }
    q->born = uv_now(cl->loop);
    q->next = cl->reqs;
    if (q->next) q->next->prev = q;
    cl->reqs = q;
    return q;
}

int redis_cluster_command(redis_cluster_t *cl, const char *key, redisCallbackFn *cb, void *priv,
                          int argc, const char **argv, const size_t *argvlen)
{
    if (cl->closing) return -ENOTCONN;
    creq_t *q = req_new(cl, cb, priv, argc, argv, argvlen);
    q->slot = redis_key_slot(key, strlen(key));
    send_req(q);
    return 0;
}

int redis_cluster_masters(const redis_cluster_t *cl)
{
    return cl->have_map ? cl->nmasters : 0;
}

int redis_cluster_command_master(redis_cluster_t *cl, int i, redisCallbackFn *cb, void *priv,
                                 int argc, const char **argv, const size_t *argvlen)
{
    if (cl->closing || !cl->have_map || i < 0 || i >= cl->nmasters) return -ENOTCONN;
    creq_t *q = req_new(cl, cb, priv, argc, argv, argvlen);
    q->pinned = cl->masters[i];
    send_req(q);
    return 0;
}

/* ---- publish */

static void on_spublish_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    redis_cluster_t *cl = priv;
    (void)ac;
    if (!reply || reply->type != REDIS_REPLY_ERROR || cl->closing) return;
    log_warn("redis", "%s: SPUBLISH: %s", cl->name, reply->str);
    refresh(cl);
}

int redis_cluster_ready(redis_cluster_t *cl, const char *channel, size_t chlen)
{
    if (cl->closing || !cl->have_map) return -ENOTCONN;
    node_t *n = cl->slots[redis_key_slot(channel, chlen)];
    if (!n || !conn_ready(&n->cmd, n->cmd_state)) return -ENOTCONN;
    return redis_conn_congested(&n->cmd) ? -ENOBUFS : 0;
}

int redis_cluster_spublish(redis_cluster_t *cl, const char *channel, size_t chlen, const char *data,
                           size_t len)
{
    int rc = redis_cluster_ready(cl, channel, chlen);
    if (rc < 0) return rc;
    node_t *n = cl->slots[redis_key_slot(channel, chlen)];
    if (redisAsyncCommand(redis_conn_ctx(&n->cmd), on_spublish_reply, cl, "SPUBLISH %b %b", channel,
                          chlen, data, len) != REDIS_OK)
        return -ENOTCONN;
    return 0;
}

/* ---- sharded subscriptions */

static chan_t *chan_find(redis_cluster_t *cl, const char *name, size_t len)
{
    chan_t *c = NULL;
    HASH_FIND(hh, cl->chans, name, len, c);
    return c;
}

/* Drops c's subscription on the node it was made on (if still there). */
static void unsubscribe_from(chan_t *c)
{
    node_t *n = c->node;
    c->node = NULL;
    c->confirmed = 0;
    c->fresh = 0;
    if (!n || !conn_ready(&n->sub, n->sub_state)) return;
    redisAsyncContext *ctx = redis_conn_ctx(&n->sub);
    redisAsyncCommand(ctx, NULL, NULL, "SUNSUBSCRIBE %b", c->name, c->len);
    redisAsyncCommand(ctx, NULL, NULL, "UNSUBSCRIBE %b", c->name, c->len);
}

static void on_sub_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    node_t *n = priv;
    redis_cluster_t *cl = n->cl;
    if (!reply || cl->closing) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        /* e.g. MOVED: our map is stale. Subscribe again after a refresh. */
        log_warn("redis", "%s: SSUBSCRIBE on %s:%d: %s", cl->name, n->url.host, n->url.port,
                 reply->str);
        chan_t *c, *tmp;
        HASH_ITER(hh, cl->chans, c, tmp)
        {
            if (c->node == n && !c->confirmed) {
                c->node = NULL;
                c->fresh = 0;
            }
        }
        refresh(cl);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element[0]->str;
    redisReply *ch = reply->element[1], *data = reply->element[2];
    chan_t *c = chan_find(cl, ch->str, ch->len);
    if (strcmp(kind, "smessage") == 0) {
        if (c && data->type == REDIS_REPLY_STRING)
            cl->on_msg(cl, ch->str, ch->len, data->str, data->len);
    } else if (strcmp(kind, "ssubscribe") == 0) {
        if (c && c->node == n && !c->confirmed) {
            c->confirmed = 1;
            update_state(cl);
        }
    } else if (strcmp(kind, "sunsubscribe") == 0) {
        /* Not asked for: the slot moved away from this node. */
        if (c && c->node == n) {
            log_warn("redis", "%s: %s:%d dropped sharded channel %.*s (slot moved)", cl->name,
                     n->url.host, n->url.port, (int)c->len, c->name);
            /* The server already unsubscribed us: only the classic twin goes.
             * (A SUNSUBSCRIBE would be answered MOVED, and hiredis 0.14 drops
             * a subscribed connection on any error reply.) */
            redisAsyncCommand(ac, NULL, NULL, "UNSUBSCRIBE %b", c->name, c->len);
            c->node = NULL;
            c->confirmed = 0;
            c->fresh = 0;
            update_state(cl);
            refresh(cl);
        }
    }
}

static void subscribe_on(node_t *n, chan_t *c)
{
    if (!conn_ready(&n->sub, n->sub_state)) return;
    redisAsyncContext *ctx = redis_conn_ctx(&n->sub);
    /* The classic SUBSCRIBE first: see the banner. */
    redisAsyncCommand(ctx, on_sub_reply, n, "SUBSCRIBE %b", c->name, c->len);
    redisAsyncCommand(ctx, on_sub_reply, n, "SSUBSCRIBE %b", c->name, c->len);
    c->node = n;
    c->confirmed = 0;
}

/* Puts every channel on the master owning its slot now. */
static void place_channels(redis_cluster_t *cl)
{
    chan_t *c, *tmp;
    HASH_ITER(hh, cl->chans, c, tmp)
    {
        node_t *want = cl->slots[c->slot];
        if (c->node && c->node != want) unsubscribe_from(c);
        if (!c->node && want) subscribe_on(want, c);
    }
}

int redis_cluster_ssubscribe(redis_cluster_t *cl, const char *channel)
{
    size_t len = strlen(channel);
    if (cl->closing) return -EINVAL;
    if (chan_find(cl, channel, len)) return 0;
    chan_t *c = wod_calloc(1, sizeof(*c));
    c->name = wod_strdup(channel);
    c->len = len;
    c->slot = redis_key_slot(channel, len);
    /* Like SUBSCRIBE on one Redis: a channel added while up does not make
     * the bus "down"; channels lost in an outage are awaited. */
    c->fresh = cl->up;
    HASH_ADD_KEYPTR(hh, cl->chans, c->name, c->len, c);
    if (cl->have_map && cl->slots[c->slot]) subscribe_on(cl->slots[c->slot], c);
    update_state(cl);
    return 0;
}

int redis_cluster_sunsubscribe(redis_cluster_t *cl, const char *channel)
{
    chan_t *c = chan_find(cl, channel, strlen(channel));
    if (!c) return 0;
    unsubscribe_from(c);
    HASH_DEL(cl->chans, c);
    free(c->name);
    free(c);
    update_state(cl);
    return 0;
}

/* ---- topology */

static void apply_map(redis_cluster_t *cl, const redis_slot_range_t *rg, int nr)
{
    for (node_t *n = cl->nodes; n; n = n->next)
        n->master = 0;
    memset(cl->slots, 0, sizeof(cl->slots));
    for (int i = 0; i < nr; i++) {
        node_t *n = node_get(cl, rg[i].host, rg[i].port);
        if (!n) continue;
        n->master = 1;
        for (unsigned s = rg[i].first; s <= rg[i].last; s++)
            cl->slots[s] = n;
    }
    unsigned missing = 0, first_missing = 0;
    for (unsigned s = 0; s < REDIS_CLUSTER_SLOTS; s++)
        if (!cl->slots[s] && missing++ == 0) first_missing = s;
    if (missing && (cl->covered || !cl->have_map))
        log_warn("redis", "%s: %u slots have no master (first: %u); retrying", cl->name, missing,
                 first_missing);
    cl->covered = missing == 0;
    free(cl->masters);
    cl->masters = NULL;
    cl->nmasters = 0;
    for (node_t *n = cl->nodes; n; n = n->next) {
        if (!n->master) {
            stop_conns(n);
            continue;
        }
        start_conns(n);
        /* an array of pointers: sizeof a pointer is meant */
        /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
        cl->masters = wod_realloc(cl->masters, (size_t)(cl->nmasters + 1) * sizeof(*cl->masters));
        cl->masters[cl->nmasters++] = n;
    }
    if (!cl->have_map)
        log_info("redis", "%s: cluster slot map: %d masters, %u slots served", cl->name,
                 cl->nmasters, REDIS_CLUSTER_SLOTS - missing);
    cl->have_map = 1;
    place_channels(cl);
    update_state(cl);
}

static void on_slots(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    redis_cluster_t *cl = priv;
    (void)ac;
    cl->refreshing = 0;
    if (!reply || cl->closing) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        log_warn("redis", "%s: CLUSTER SLOTS on %s:%d: %s", cl->name, cl->ctl.url.host,
                 cl->ctl.url.port, reply->str);
        return; /* the timer asks again */
    }
    redis_slot_range_t *rg = wod_malloc(MAX_RANGES * sizeof(*rg));
    int n = redis_cluster_parse_slots(reply, cl->ctl.url.host, rg, MAX_RANGES);
    if (n < 0)
        log_warn("redis", "%s: malformed CLUSTER SLOTS reply from %s:%d", cl->name,
                 cl->ctl.url.host, cl->ctl.url.port);
    else
        apply_map(cl, rg, n);
    free(rg);
}

/* Asks for the slot map (at most one request in flight). */
static void refresh(redis_cluster_t *cl)
{
    if (cl->closing || cl->refreshing || !conn_ready(&cl->ctl, cl->ctl_state)) return;
    if (redisAsyncCommand(redis_conn_ctx(&cl->ctl), on_slots, cl, "CLUSTER SLOTS") != REDIS_OK)
        return;
    cl->refreshing = 1;
    cl->last_refresh = uv_now(cl->loop);
}

static void update_state(redis_cluster_t *cl)
{
    int up = cl->have_map && cl->covered;
    for (int i = 0; up && i < cl->nmasters; i++) {
        node_t *n = cl->masters[i];
        up =
            conn_ready(&n->cmd, n->cmd_state) && (!cl->on_msg || conn_ready(&n->sub, n->sub_state));
    }
    chan_t *c, *tmp;
    HASH_ITER(hh, cl->chans, c, tmp)
    {
        if (!up) break;
        up = (c->confirmed || c->fresh) && c->node == cl->slots[c->slot];
    }
    if (up == cl->up || cl->closing) return;
    cl->up = up;
    log_info("redis", "%s: cluster %s", cl->name, up ? "up" : "degraded; following the topology");
    if (cl->on_state) cl->on_state(cl, up);
}

static void node_conn_event(redis_conn_t *c, int up)
{
    node_t *n = c->owner;
    redis_cluster_t *cl = n->cl;
    if (c == &n->sub) {
        chan_t *ch, *tmp;
        HASH_ITER(hh, cl->chans, ch, tmp)
        {
            if (up && !ch->node && cl->slots[ch->slot] == n) subscribe_on(n, ch);
            if (!up && ch->node == n) {
                ch->node = NULL;
                ch->confirmed = 0;
                ch->fresh = 0;
            }
        }
    }
    if (!up) refresh(cl);
    update_state(cl);
}

static void ctl_event(redis_conn_t *c, int up)
{
    redis_cluster_t *cl = c->owner;
    if (up) refresh(cl);
}

static void tick(uv_timer_t *t)
{
    redis_cluster_t *cl = container_of(t, redis_cluster_t, timer);
    uint64_t now = uv_now(cl->loop);
    if (!cl->up && now - cl->last_refresh >= REDIS_CLUSTER_REFRESH_MS) refresh(cl);
    /* Each send may fail and free its request: walk by saved next. */
    creq_t *q = cl->reqs, *next;
    for (; q; q = next) {
        next = q->next;
        if (q->due && q->due <= now && !q->in_hiredis && !q->done) send_req(q);
        if (cl->closing) break; /* a callback closed us: next may be freed */
    }
}

redis_cluster_t *redis_cluster_new(uv_loop_t *loop, const redis_cluster_url_t *url,
                                   const char *name, redis_cluster_state_cb on_state,
                                   redis_cluster_msg_cb on_msg, void *owner)
{
    redis_cluster_t *cl = wod_calloc(1, sizeof(*cl));
    cl->loop = loop;
    cl->url = *url;
    snprintf(cl->name, sizeof(cl->name), "%s", name);
    cl->on_state = on_state;
    cl->on_msg = on_msg;
    cl->owner = owner;
    uv_timer_init(loop, &cl->timer);
    uv_timer_start(&cl->timer, tick, REDIS_CLUSTER_RETRY_MS, REDIS_CLUSTER_RETRY_MS);
    char nm[64];
    snprintf(nm, sizeof(nm), "%.16s-ctl", name);
    redis_conn_start(&cl->ctl, loop, &cl->url.seeds[0], nm, ctl_event, cl);
    redis_conn_set_alternates(&cl->ctl, cl->url.seeds, cl->url.nseeds);
    cl->ctl_state = CONN_RUNNING;
    cl->open_conns = 1;
    return cl;
}

/* ---- close */

static void timer_closed(uv_handle_t *h)
{
    redis_cluster_t *cl = container_of((uv_timer_t *)h, redis_cluster_t, timer);
    wod_assert(cl->reqs == NULL);
    chan_t *c, *tmp;
    HASH_ITER(hh, cl->chans, c, tmp)
    {
        /* uthash frees its table with the last element: analyzer false positive */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(cl->chans, c);
        free(c->name);
        free(c);
    }
    while (cl->nodes) {
        node_t *n = cl->nodes;
        cl->nodes = n->next;
        free(n);
    }
    free(cl->masters);
    if (cl->on_closed) cl->on_closed(cl);
    free(cl);
}

static void conn_closed(redis_conn_t *c)
{
    redis_cluster_t *cl;
    if (c->on_event == ctl_event) {
        cl = c->owner;
        cl->ctl_state = CONN_NONE;
    } else {
        node_t *n = c->owner;
        cl = n->cl;
        if (c == &n->cmd)
            n->cmd_state = CONN_NONE;
        else
            n->sub_state = CONN_NONE;
        /* A node that became a master again while its old connections closed. */
        if (n->master && !cl->closing) start_conns(n);
    }
    if (--cl->open_conns == 0 && cl->closing) uv_close((uv_handle_t *)&cl->timer, timer_closed);
}

void redis_cluster_close(redis_cluster_t *cl, redis_cluster_closed_cb on_closed)
{
    if (cl->closing) return;
    cl->closing = 1;
    cl->on_closed = on_closed;
    uv_timer_stop(&cl->timer);
    creq_t *q = cl->reqs, *next;
    for (; q; q = next) {
        next = q->next;
        req_finish(q, NULL);
    }
    if (cl->ctl_state == CONN_RUNNING) {
        cl->ctl_state = CONN_CLOSING;
        redis_conn_close(&cl->ctl, conn_closed);
    }
    for (node_t *n = cl->nodes; n; n = n->next) {
        n->master = 0;
        stop_conns(n);
    }
}
