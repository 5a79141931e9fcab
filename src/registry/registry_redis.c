/* registry_redis.c - the registry on Redis keys (see registry.h).
 *
 * One command connection (redis_conn.c, reconnecting with backoff).
 * Calls made while it waits to reconnect return -ENOTCONN and never call
 * back; the owner retries on its next heartbeat or when the bus reports
 * the connection up again. A call that returned 0 calls back exactly
 * once: with the result, or with NULL/won=0 when Redis answered an error
 * or the connection dropped. registry close() calls back every call
 * still in flight (NULL) before returning, so no callback outlives it.
 *
 * Claims run as Lua scripts so the assignment (zone:assignment:{id} ->
 * serverId, as in the seed) and its fencing epoch (zone:epoch:{id}, a
 * separate counter so the assignment value stays a plain serverId) change
 * together: every new claim or takeover INCRs the epoch in the same script.
 * The epoch key outlives a release, so epochs only grow.
 *
 * list_servers/list_zones walk the keyspace with SCAN (never KEYS, which
 * blocks Redis) and fetch the values with one MGET. */
#include "registry.h"
#include "../redis/redis_conn.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX          192
#define SCAN_COUNT       "200"
#define PREFIX_ZONE      "zone:assignment:"
#define PREFIX_EPOCH     "zone:epoch:"
#define PREFIX_HEARTBEAT "server:heartbeat:"
#define PREFIX_LOCATION  "player:location:"

/* Deletes KEYS[1] only while it still names us (ARGV[1]). */
#define RELEASE_SCRIPT                                                                             \
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "             \
    "else return 0 end"

/* Claim or confirm (registry.h claim_zone). KEYS: assignment, epoch; ARGV:
 * us, held epoch. Returns {owner, epoch}; owner "" = free, but claimed by
 * someone after our epoch (our state is stale). */
#define CLAIM_SCRIPT                                                                               \
    "local o = redis.call('GET', KEYS[1]) "                                                        \
    "local e = tonumber(redis.call('GET', KEYS[2]) or '0') "                                       \
    "local held = tonumber(ARGV[2]) "                                                              \
    "if o and (o ~= ARGV[1] or held > 0) then "                                                    \
    "  if o == ARGV[1] and e < held then redis.call('SET', KEYS[2], held) e = held end "           \
    "  return {o, tostring(e)} end "                                                               \
    "if held > 0 then "                                                                            \
    "  if e > held then return {'', tostring(e)} end "                                             \
    "  redis.call('SET', KEYS[2], held) e = held "                                                 \
    "else e = redis.call('INCR', KEYS[2]) end "                                                    \
    "redis.call('SET', KEYS[1], ARGV[1]) "                                                         \
    "return {ARGV[1], tostring(e)}"

/* Takes KEYS[1] if it is free or still names the dead owner ARGV[2], with
 * a new epoch in KEYS[2]; returns {owner, epoch} afterwards (exactly one of
 * several claimants wins). */
#define TAKEOVER_SCRIPT                                                                            \
    "local v = redis.call('GET', KEYS[1]) "                                                        \
    "if v == false or v == ARGV[2] then redis.call('SET', KEYS[1], ARGV[1]) "                      \
    "  return {ARGV[1], tostring(redis.call('INCR', KEYS[2]))} end "                               \
    "return {v, redis.call('GET', KEYS[2]) or '0'}"

typedef struct redis_registry_s redis_registry_t;

typedef enum { REQ_CLAIM, REQ_LIST_SERVERS, REQ_LIST_ZONES } req_kind_t;

/* A call with a callback, from the command until its last reply. */
typedef struct req_s {
    struct req_s *prev, *next; /* in rr->inflight */
    redis_registry_t *rr;
    req_kind_t kind;
    int answered; /* the owner's callback ran (maybe early, at close) */
    void *ud;
    union {
        registry_claim_cb claim;
        registry_json_cb json;
    } cb;
    /* claim */
    char zone[KEY_MAX];
    uint64_t held_epoch; /* what the caller runs the zone at, 0 = new claim */
    /* list: keys found so far (owned strings) */
    char **keys;
    size_t nkeys, capkeys;
} req_t;

struct redis_registry_s {
    registry_t base;
    redis_conn_t conn;
    req_t *inflight; /* calls with callbacks not yet freed */
    int closing;
};

/* ---- request bookkeeping */

static req_t *req_new(redis_registry_t *rr, req_kind_t kind, void *ud)
{
    req_t *q = wod_calloc(1, sizeof(*q));
    q->rr = rr;
    q->kind = kind;
    q->ud = ud;
    q->next = rr->inflight;
    if (q->next) q->next->prev = q;
    rr->inflight = q;
    return q;
}

static void req_free(req_t *q)
{
    redis_registry_t *rr = q->rr;
    if (q->prev)
        q->prev->next = q->next;
    else
        rr->inflight = q->next;
    if (q->next) q->next->prev = q->prev;
    for (size_t i = 0; i < q->nkeys; i++)
        free(q->keys[i]);
    free(q->keys);
    free(q);
}

/* Calls the owner back once; later hiredis replies only free q. */
static void answer_claim(req_t *q, int won, const char *owner, uint64_t epoch)
{
    if (q->answered) return;
    q->answered = 1;
    q->cb.claim(q->ud, q->zone, won, owner, epoch);
}

static void answer_json(req_t *q, json_t *result)
{
    if (q->answered) return;
    q->answered = 1;
    q->cb.json(q->ud, result);
}

static void answer_error(req_t *q)
{
    if (q->kind == REQ_CLAIM)
        answer_claim(q, 0, NULL, 0);
    else
        answer_json(q, NULL);
}

/* Sends the next command of q; on failure answers with an error and frees q. */
static void req_send(req_t *q, redisCallbackFn *fn, int argc, const char **argv)
{
    redisAsyncContext *ac = redis_conn_ctx(&q->rr->conn);
    if (q->answered || !ac || redisAsyncCommandArgv(ac, fn, q, argc, argv, NULL) != REDIS_OK) {
        answer_error(q);
        req_free(q);
    }
}

static int is_error(const redisReply *r)
{
    return !r || r->type == REDIS_REPLY_ERROR;
}

static void log_reply_error(const char *what, const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_ERROR) log_warn("registry", "%s: %s", what, r->str);
}

/* ---- claim_zone / takeover_zone: one script each, reply {owner, epoch} */

static void on_claim_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    req_t *q = priv;
    (void)ac;
    if (is_error(reply) || q->answered || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING) {
        log_reply_error("claim EVAL", reply);
        answer_error(q);
    } else {
        const char *owner = reply->element[0]->str;
        uint64_t epoch = strtoull(reply->element[1]->str, NULL, 10);
        int ours = strcmp(owner, q->rr->base.server_id) == 0;
        answer_claim(q, ours && (q->held_epoch == 0 || q->held_epoch == epoch), owner, epoch);
    }
    req_free(q);
}

static int send_claim(registry_t *r, const char *zone, uint64_t held, const char *script,
                      const char *arg2, registry_claim_cb cb, void *ud)
{
    redis_registry_t *rr = (redis_registry_t *)r;
    if (strlen(zone) >= KEY_MAX) return -EINVAL;
    if (!redis_conn_ctx(&rr->conn)) return -ENOTCONN;
    req_t *q = req_new(rr, REQ_CLAIM, ud);
    q->cb.claim = cb;
    q->held_epoch = held;
    snprintf(q->zone, sizeof(q->zone), "%s", zone);
    char key[KEY_MAX + 32], ekey[KEY_MAX + 32];
    snprintf(key, sizeof(key), PREFIX_ZONE "%s", zone);
    snprintf(ekey, sizeof(ekey), PREFIX_EPOCH "%s", zone);
    const char *argv[] = {"EVAL", script, "2", key, ekey, r->server_id, arg2};
    if (redisAsyncCommandArgv(redis_conn_ctx(&rr->conn), on_claim_reply, q, 7, argv, NULL) !=
        REDIS_OK) {
        req_free(q);
        return -ENOTCONN;
    }
    return 0;
}

static int rr_claim(registry_t *r, const char *zone, uint64_t held, registry_claim_cb cb, void *ud)
{
    char h[24];
    snprintf(h, sizeof(h), "%llu", (unsigned long long)held);
    return send_claim(r, zone, held, CLAIM_SCRIPT, h, cb, ud);
}

static int rr_takeover(registry_t *r, const char *zone, const char *dead_owner,
                       registry_claim_cb cb, void *ud)
{
    return send_claim(r, zone, 0, TAKEOVER_SCRIPT, dead_owner, cb, ud);
}

/* ---- fire-and-forget writes: errors are logged */

static void on_write_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    log_reply_error(priv, r);
}

static int send_write(redis_registry_t *rr, const char *what, int argc, const char **argv)
{
    redisAsyncContext *ac = redis_conn_ctx(&rr->conn);
    if (!ac) return -ENOTCONN;
    /* `what` is a string literal, so it outlives the reply. */
    if (redisAsyncCommandArgv(ac, on_write_reply, (void *)what, argc, argv, NULL) != REDIS_OK)
        return -ENOTCONN;
    return 0;
}

static int rr_release(registry_t *r, const char *zone)
{
    char key[KEY_MAX + 32];
    snprintf(key, sizeof(key), PREFIX_ZONE "%s", zone);
    const char *argv[] = {"EVAL", RELEASE_SCRIPT, "1", key, r->server_id};
    return send_write((redis_registry_t *)r, "release_zone", 5, argv);
}

static int rr_heartbeat(registry_t *r, const char *value_json)
{
    char key[KEY_MAX + 32], ttl[16];
    snprintf(key, sizeof(key), PREFIX_HEARTBEAT "%s", r->server_id);
    snprintf(ttl, sizeof(ttl), "%d", REGISTRY_HEARTBEAT_TTL_S);
    if (!value_json) {
        const char *del[] = {"DEL", key};
        return send_write((redis_registry_t *)r, "heartbeat DEL", 2, del);
    }
    const char *argv[] = {"SET", key, value_json, "EX", ttl};
    return send_write((redis_registry_t *)r, "heartbeat", 5, argv);
}

static int rr_location(registry_t *r, int64_t character_id, const char *value_json)
{
    char key[64];
    snprintf(key, sizeof(key), PREFIX_LOCATION "%lld", (long long)character_id);
    if (!value_json) {
        const char *argv[] = {"DEL", key};
        return send_write((redis_registry_t *)r, "player_location DEL", 2, argv);
    }
    char ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", REGISTRY_LOCATION_TTL_S);
    const char *argv[] = {"SET", key, value_json, "EX", ttl};
    return send_write((redis_registry_t *)r, "player_location SET", 5, argv);
}

/* ---- list_servers / list_zones: SCAN MATCH prefix*, then MGET */

static const char *list_prefix(const req_t *q)
{
    return q->kind == REQ_LIST_SERVERS ? PREFIX_HEARTBEAT : PREFIX_ZONE;
}

static void scan_next(req_t *q, const char *cursor);

static void on_mget(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    req_t *q = priv;
    (void)ac;
    if (is_error(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements != q->nkeys) {
        log_reply_error("list MGET", reply);
        answer_error(q);
        req_free(q);
        return;
    }
    size_t plen = strlen(list_prefix(q));
    json_t *out = json_object();
    for (size_t i = 0; i < q->nkeys; i++) {
        const redisReply *v = reply->element[i];
        const char *id = q->keys[i] + plen;
        if (v->type != REDIS_REPLY_STRING) continue; /* expired since the SCAN */
        if (q->kind == REQ_LIST_ZONES) {
            json_object_set_new(out, id, json_stringn(v->str, v->len));
            continue;
        }
        json_error_t err;
        json_t *hb = json_loadb(v->str, v->len, 0, &err);
        if (hb)
            json_object_set_new(out, id, hb);
        else
            log_warn("registry", "heartbeat of %s is not JSON: %s", id, err.text);
    }
    answer_json(q, out);
    json_decref(out);
    req_free(q);
}

static void fetch_values(req_t *q)
{
    if (q->nkeys == 0) {
        json_t *empty = json_object();
        answer_json(q, empty);
        json_decref(empty);
        req_free(q);
        return;
    }
    const char **argv = wod_malloc((q->nkeys + 1) * sizeof(*argv));
    argv[0] = "MGET";
    for (size_t i = 0; i < q->nkeys; i++)
        argv[i + 1] = q->keys[i];
    req_send(q, on_mget, (int)q->nkeys + 1, argv);
    free(argv);
}

static void on_scan(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    req_t *q = priv;
    (void)ac;
    if (is_error(reply) || q->answered || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        log_reply_error("list SCAN", reply);
        answer_error(q);
        req_free(q);
        return;
    }
    const redisReply *keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING) continue;
        /* SCAN may return a key twice across iterations; keep the first. */
        int dup = 0;
        for (size_t j = 0; j < q->nkeys && !dup; j++)
            dup = strcmp(q->keys[j], k->str) == 0;
        if (dup) continue;
        if (q->nkeys == q->capkeys) {
            q->capkeys = q->capkeys ? q->capkeys * 2 : 16;
            q->keys = wod_realloc(q->keys, q->capkeys * sizeof(*q->keys));
        }
        q->keys[q->nkeys++] = wod_strndup(k->str, k->len);
    }
    if (strcmp(reply->element[0]->str, "0") == 0)
        fetch_values(q);
    else
        scan_next(q, reply->element[0]->str);
}

static void scan_next(req_t *q, const char *cursor)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "%s*", list_prefix(q));
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT};
    req_send(q, on_scan, 6, argv);
}

static int start_list(redis_registry_t *rr, req_kind_t kind, registry_json_cb cb, void *ud)
{
    if (!redis_conn_ctx(&rr->conn)) return -ENOTCONN;
    req_t *q = req_new(rr, kind, ud);
    q->cb.json = cb;
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "%s*", list_prefix(q));
    const char *argv[] = {"SCAN", "0", "MATCH", pattern, "COUNT", SCAN_COUNT};
    if (redisAsyncCommandArgv(redis_conn_ctx(&rr->conn), on_scan, q, 6, argv, NULL) != REDIS_OK) {
        req_free(q);
        return -ENOTCONN;
    }
    return 0;
}

static int rr_list_servers(registry_t *r, registry_json_cb cb, void *ud)
{
    return start_list((redis_registry_t *)r, REQ_LIST_SERVERS, cb, ud);
}

static int rr_list_zones(registry_t *r, registry_json_cb cb, void *ud)
{
    return start_list((redis_registry_t *)r, REQ_LIST_ZONES, cb, ud);
}

/* ---- life cycle */

static void conn_closed(redis_conn_t *c)
{
    redis_registry_t *rr = c->owner;
    /* hiredis ran every pending callback with NULL, which freed every req. */
    wod_assert(rr->inflight == NULL);
    free(rr);
}

static void rr_close(registry_t *r)
{
    redis_registry_t *rr = (redis_registry_t *)r;
    if (rr->closing) return;
    rr->closing = 1;
    for (req_t *q = rr->inflight; q; q = q->next)
        answer_error(q); /* now, not after the owner is gone */
    redis_conn_close(&rr->conn, conn_closed);
}

static const registry_ops_t redis_ops = {
    .claim_zone = rr_claim,
    .release_zone = rr_release,
    .takeover_zone = rr_takeover,
    .heartbeat = rr_heartbeat,
    .player_location = rr_location,
    .list_servers = rr_list_servers,
    .list_zones = rr_list_zones,
    .close = rr_close,
};

registry_t *registry_redis_new(uv_loop_t *loop, const char *url, const char *server_id)
{
    redis_url_t u;
    if (redis_url_parse(url, &u) < 0) {
        log_error("registry", "bad Redis URL '%s' (want redis://[:password@]host[:port][/db])",
                  url);
        return NULL;
    }
    redis_registry_t *rr = wod_calloc(1, sizeof(*rr));
    rr->base.ops = &redis_ops;
    snprintf(rr->base.server_id, sizeof(rr->base.server_id), "%s", server_id);
    redis_conn_start(&rr->conn, loop, &u, "registry", NULL, rr);
    return &rr->base;
}
