/* test_redis.c - bus_redis + registry_redis against a real redis-server
 * (WOD_TEST_REDIS_URL, e.g. from `scripts/services.sh redis PORT DIR`).
 * Without it only the offline checks run (URL parsing, publishing with
 * no server). The test checks what it reads through a plain synchronous
 * hiredis connection of its own, and never restarts the server; it does
 * make Redis cut the bus's subscriber (CLIENT KILL TYPE pubsub), the way
 * Redis drops a slow subscriber, and checks that the bus recovers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/bus.h"
#include "redis/redis_conn.h"
#include "core/log.h"
#include "registry/registry.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *redis_url(void)
{
    const char *u = getenv("WOD_TEST_REDIS_URL");
    return u && *u ? u : NULL;
}

static void wake(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until *flag >= want or ms pass; returns whether it got there. */
static int run_until(uv_loop_t *loop, const int *flag, int want, int ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, wake, 5, 5);
    uint64_t deadline = uv_now(loop) + (uint64_t)ms;
    while (*flag < want && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag >= want;
}

/* Runs the loop until every handle is closed; fails on a leak. */
static void drain_and_close(uv_loop_t *loop)
{
    for (int i = 0; i < 100 && uv_run(loop, UV_RUN_NOWAIT); i++)
        usleep(1000);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static redisContext *sync_conn(void)
{
    redis_url_t u;
    assert_int_equal(redis_url_parse(redis_url(), &u), 0);
    redisContext *c = redisConnect(u.host, u.port);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    if (u.password[0]) freeReplyObject(redisCommand(c, "AUTH %s", u.password));
    if (u.db) freeReplyObject(redisCommand(c, "SELECT %d", u.db));
    return c;
}

/* ---- offline */

static void test_url_parse(void **state)
{
    (void)state;
    redis_url_t u;
    assert_int_equal(redis_url_parse("redis://localhost:6379", &u), 0);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.password, "");
    assert_int_equal(redis_url_parse("redis://10.0.0.5", &u), 0);
    assert_int_equal(u.port, 6379);
    assert_int_equal(redis_url_parse("redis://:s3cret@127.0.0.1:16379/2", &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 16379);
    assert_int_equal(u.db, 2);
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.user, "");
    assert_int_equal(redis_url_parse("redis://app:pw@h:1/", &u), 0);
    assert_string_equal(u.user, "app");
    assert_string_equal(u.password, "pw");
    assert_int_equal(redis_url_parse("redis://[::1]:7000/3", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 3);
    const char *bad[] = {
        "http://x",      "redis://",       "redis://h:0",  "redis://h:70000", "redis://h:12x",
        "redis://h/abc", "redis://h:1/2/", "redis://[::1", "localhost:6379",  ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        if (redis_url_parse(bad[i], &u) == 0) fail_msg("accepted '%s'", bad[i]);
}

static void ignore_msg(void *ud, const char *ch, const char *data, size_t len)
{
    (void)ud;
    (void)ch;
    (void)data;
    (void)len;
}

static void count_state(void *ud, int up)
{
    int *n = ud;
    n[up ? 1 : 0]++;
}

typedef struct claim_probe_s {
    int calls, won;
    char owner[64];
    char zone[64];
    uint64_t epoch;
} claim_probe_t;

static void on_claim(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    claim_probe_t *p = ud;
    p->calls++;
    p->won = won;
    p->epoch = epoch;
    snprintf(p->zone, sizeof(p->zone), "%s", zone);
    snprintf(p->owner, sizeof(p->owner), "%s", owner ? owner : "(null)");
}

/* Nothing listens on port 1: the bus keeps retrying, never reports up,
 * refuses publishes while it waits, and closes without leaking. */
static void test_no_server(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_null(bus_redis_new(&loop, "nonsense", ignore_msg, NULL, NULL));
    assert_null(registry_redis_new(&loop, "redis://h:0", "x"));
    int states[2] = {0, 0}, never = 0;
    bus_t *b = bus_redis_new(&loop, "redis://127.0.0.1:1", ignore_msg, count_state, states);
    registry_t *r = registry_redis_new(&loop, "redis://127.0.0.1:1", "srv-x");
    assert_non_null(b);
    assert_non_null(r);
    assert_int_equal(bus_subscribe(b, "zone:x:input"), 0); /* remembered for later */
    run_until(&loop, &never, 1, 400); /* a few refused attempts, with backoff */
    assert_int_equal(states[0] + states[1], 0);
    assert_true(bus_publish(b, "zone:x:input", "W\1", 2) < 0);
    assert_int_equal(b->stats.published, 0);
    /* A registry call is refused, or queued for the attempt in progress
     * and then answered with an error: either way, no owner. */
    claim_probe_t cp = {0};
    int rc = r->ops->claim_zone(r, "zone-x", 0, on_claim, &cp);
    if (rc == 0) {
        assert_true(run_until(&loop, &cp.calls, 1, 2000));
        assert_int_equal(cp.won, 0);
        assert_string_equal(cp.owner, "(null)");
    } else {
        assert_int_equal(rc, -ENOTCONN);
    }
    assert_int_equal(cp.calls, rc == 0 ? 1 : 0);
    bus_close(b);
    r->ops->close(r);
    drain_and_close(&loop);
}

/* ---- against a live server */

typedef struct bus_probe_s {
    int up, down, got;
    char channel[64];
    char data[64];
    size_t len;
} bus_probe_t;

static void probe_msg(void *ud, const char *ch, const char *data, size_t len)
{
    bus_probe_t *p = ud;
    p->got++;
    snprintf(p->channel, sizeof(p->channel), "%s", ch);
    p->len = len < sizeof(p->data) ? len : sizeof(p->data);
    memcpy(p->data, data, p->len);
}

static void probe_state(void *ud, int up)
{
    bus_probe_t *p = ud;
    if (up)
        p->up++;
    else
        p->down++;
}

/* Publishes `frame` on `ch` from `pub` every few ms until `p` receives one. */
static void publish_until_received(uv_loop_t *loop, bus_t *pub, const char *ch, bus_probe_t *p,
                                   const char *frame, size_t len)
{
    int want = p->got + 1;
    for (int i = 0; i < 100 && p->got < want; i++) {
        assert_int_equal(bus_publish(pub, ch, frame, len), 0);
        run_until(loop, &p->got, want, 20);
    }
    assert_true(p->got >= want);
    assert_string_equal(p->channel, ch);
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, frame, len);
}

static void test_bus_pubsub(void **state)
{
    (void)state;
    if (!redis_url()) skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    bus_probe_t pa, pb;
    memset(&pa, 0, sizeof(pa));
    memset(&pb, 0, sizeof(pb));
    bus_t *a = bus_redis_new(&loop, redis_url(), probe_msg, probe_state, &pa);
    bus_t *b = bus_redis_new(&loop, redis_url(), probe_msg, probe_state, &pb);
    char ch[64];
    snprintf(ch, sizeof(ch), "gateway:test-%d:output", (int)getpid());
    assert_int_equal(bus_subscribe(a, ch), 0); /* before the connection is up */
    assert_true(run_until(&loop, &pa.up, 1, 3000));
    assert_true(run_until(&loop, &pb.up, 1, 3000));

    /* Binary-safe: NUL and 0xff bytes inside the frame. */
    static const char frame[] = {'W', 1, 0, (char)0xff, 'x', 0, '\r', '\n', 7};
    publish_until_received(&loop, b, ch, &pa, frame, sizeof(frame));
    assert_true(b->stats.published >= 1);
    assert_true(b->stats.bytes_out >= sizeof(frame));
    assert_true(a->stats.received >= 1);
    assert_true(a->stats.bytes_in >= sizeof(frame));
    assert_int_equal(pb.got, 0); /* b never subscribed */

    /* Redis cuts the subscriber (as it does a slow one over its pubsub
     * output buffer limit): the owner hears down, then up, and the bus
     * has subscribed again. */
    redisContext *sc = sync_conn();
    redisReply *rep = redisCommand(sc, "CLIENT KILL TYPE pubsub");
    assert_non_null(rep);
    assert_true(rep->type == REDIS_REPLY_INTEGER && rep->integer >= 1);
    freeReplyObject(rep);
    assert_true(run_until(&loop, &pa.down, 1, 3000));
    assert_true(run_until(&loop, &pa.up, 2, 5000));
    static const char again[] = {'W', 1, 'a', 'g', 'a', 'i', 'n'};
    publish_until_received(&loop, b, ch, &pa, again, sizeof(again));
    assert_int_equal(pb.down, 0);

    /* Unsubscribed: nothing more is delivered. */
    assert_int_equal(bus_unsubscribe(a, ch), 0);
    int got = pa.got, never = 0;
    run_until(&loop, &never, 1, 100);
    assert_int_equal(bus_publish(b, ch, "W\1", 2), 0);
    run_until(&loop, &never, 1, 200);
    assert_int_equal(pa.got, got);

    redisFree(sc);
    bus_close(a);
    bus_close(b);
    drain_and_close(&loop);
}

typedef struct list_probe_s {
    int calls;
    json_t *result; /* a copy */
} list_probe_t;

static void on_list(void *ud, json_t *result)
{
    list_probe_t *p = ud;
    p->calls++;
    json_decref(p->result);
    p->result = result ? json_deep_copy(result) : NULL;
}

static char *sync_get(redisContext *sc, const char *key)
{
    redisReply *rep = redisCommand(sc, "GET %s", key);
    assert_non_null(rep);
    char *v = rep->type == REDIS_REPLY_STRING ? strdup(rep->str) : NULL;
    freeReplyObject(rep);
    return v;
}

static void test_registry(void **state)
{
    (void)state;
    if (!redis_url()) skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    char id_a[32], id_b[32], zone[64], key[128];
    snprintf(id_a, sizeof(id_a), "zone-test-a-%d", (int)getpid());
    snprintf(id_b, sizeof(id_b), "zone-test-b-%d", (int)getpid());
    snprintf(zone, sizeof(zone), "zone-test-%d", (int)getpid());
    registry_t *ra = registry_redis_new(&loop, redis_url(), id_a);
    registry_t *rb = registry_redis_new(&loop, redis_url(), id_b);
    assert_non_null(ra);
    assert_non_null(rb);
    redisContext *sc = sync_conn();

    /* Claims: a wins, b loses and learns the owner, a again keeps it. */
    claim_probe_t c1 = {0}, c2 = {0}, c3 = {0};
    assert_int_equal(ra->ops->claim_zone(ra, zone, 0, on_claim, &c1), 0);
    assert_true(run_until(&loop, &c1.calls, 1, 3000));
    assert_int_equal(c1.won, 1);
    assert_string_equal(c1.owner, id_a);
    assert_string_equal(c1.zone, zone);
    assert_int_equal(rb->ops->claim_zone(rb, zone, 0, on_claim, &c2), 0);
    assert_true(run_until(&loop, &c2.calls, 1, 3000));
    assert_int_equal(c2.won, 0);
    assert_string_equal(c2.owner, id_a);
    assert_int_equal(ra->ops->claim_zone(ra, zone, c1.epoch, on_claim, &c3), 0);
    assert_true(run_until(&loop, &c3.calls, 1, 3000));
    assert_int_equal(c3.won, 1);
    assert_true(c1.epoch >= 1);
    assert_int_equal(c3.epoch, c1.epoch); /* a confirmation keeps the epoch */
    snprintf(key, sizeof(key), "zone:assignment:%s", zone);
    char *v = sync_get(sc, key);
    assert_non_null(v);
    assert_string_equal(v, id_a);
    free(v);

    /* Heartbeat with its TTL. */
    char hb[256];
    snprintf(hb, sizeof(hb), "{\"type\":\"zone\",\"zones\":[\"%s\"],\"players\":3,\"tickMs\":1.5}",
             zone);
    assert_int_equal(ra->ops->heartbeat(ra, hb), 0);
    claim_probe_t sync_point = {0}; /* replies come in order: once this answers, the SET ran */
    assert_int_equal(rb->ops->claim_zone(rb, zone, 0, on_claim, &sync_point), 0);
    assert_int_equal(ra->ops->claim_zone(ra, zone, 0, on_claim, &sync_point), 0);
    assert_true(run_until(&loop, &sync_point.calls, 2, 3000));
    snprintf(key, sizeof(key), "server:heartbeat:%s", id_a);
    redisReply *rep = redisCommand(sc, "TTL %s", key);
    assert_true(rep && rep->type == REDIS_REPLY_INTEGER);
    assert_true(rep->integer >= 1 && rep->integer <= REGISTRY_HEARTBEAT_TTL_S);
    freeReplyObject(rep);
    v = sync_get(sc, key);
    assert_non_null(v);
    assert_string_equal(v, hb);
    free(v);

    /* Listing: the cluster as the gateway's /api/servers and /api/zones see it. */
    list_probe_t ls = {0}, lz = {0};
    assert_int_equal(rb->ops->list_servers(rb, on_list, &ls), 0);
    assert_int_equal(rb->ops->list_zones(rb, on_list, &lz), 0);
    assert_true(run_until(&loop, &ls.calls, 1, 3000));
    assert_true(run_until(&loop, &lz.calls, 1, 3000));
    assert_non_null(ls.result);
    json_t *mine = json_object_get(ls.result, id_a);
    assert_true(json_is_object(mine));
    assert_string_equal(json_string_value(json_object_get(mine, "type")), "zone");
    assert_int_equal(json_integer_value(json_object_get(mine, "players")), 3);
    assert_null(json_object_get(ls.result, id_b)); /* b never sent a heartbeat */
    assert_non_null(lz.result);
    assert_string_equal(json_string_value(json_object_get(lz.result, zone)), id_a);

    /* Player location: set, then delete. */
    snprintf(key, sizeof(key), "player:location:%d", 900000 + (int)getpid());
    const char *loc = "{\"zone\":\"zone-forest\",\"zoneServer\":\"zone-2\",\"gateway\":\"gw-1\"}";
    assert_int_equal(ra->ops->player_location(ra, 900000 + getpid(), loc), 0);
    sync_point.calls = 0;
    assert_int_equal(ra->ops->claim_zone(ra, zone, 0, on_claim, &sync_point), 0);
    assert_true(run_until(&loop, &sync_point.calls, 1, 3000));
    v = sync_get(sc, key);
    assert_non_null(v);
    assert_string_equal(v, loc);
    free(v);
    assert_int_equal(ra->ops->player_location(ra, 900000 + getpid(), NULL), 0);

    /* Release: only the owner's release deletes the assignment. */
    assert_int_equal(rb->ops->release_zone(rb, zone), 0);
    sync_point.calls = 0;
    assert_int_equal(rb->ops->claim_zone(rb, zone, 0, on_claim, &sync_point), 0);
    assert_true(run_until(&loop, &sync_point.calls, 1, 3000));
    assert_int_equal(sync_point.won, 0); /* still a's */
    v = sync_get(sc, key);
    assert_null(v); /* the location was deleted */
    assert_int_equal(ra->ops->release_zone(ra, zone), 0);
    sync_point.calls = 0;
    assert_int_equal(rb->ops->claim_zone(rb, zone, 0, on_claim, &sync_point), 0);
    assert_true(run_until(&loop, &sync_point.calls, 1, 3000));
    assert_int_equal(sync_point.won, 1); /* released, so b could take it */
    assert_string_equal(sync_point.owner, id_b);

    /* A call in flight at close is answered (NULL) before close returns. */
    list_probe_t late = {0};
    assert_int_equal(ra->ops->list_zones(ra, on_list, &late), 0);
    ra->ops->close(ra);
    assert_int_equal(late.calls, 1);
    assert_null(late.result);

    snprintf(key, sizeof(key), "zone:assignment:%s", zone);
    freeReplyObject(redisCommand(sc, "DEL %s zone:epoch:%s server:heartbeat:%s", key, zone, id_a));
    redisFree(sc);
    rb->ops->close(rb);
    json_decref(ls.result);
    json_decref(lz.result);
    drain_and_close(&loop);
    assert_int_equal(late.calls, 1); /* and not again during teardown */
}

/* Runs one claim (held >= 0) or takeover (dead != NULL) and waits for it. */
static claim_probe_t claim_sync(uv_loop_t *loop, registry_t *r, const char *zone, uint64_t held,
                                const char *dead)
{
    claim_probe_t p = {0};
    if (dead)
        assert_int_equal(r->ops->takeover_zone(r, zone, dead, on_claim, &p), 0);
    else
        assert_int_equal(r->ops->claim_zone(r, zone, held, on_claim, &p), 0);
    assert_true(run_until(loop, &p.calls, 1, 10000));
    return p;
}

/* Fencing epochs: every new claim or takeover bumps the epoch; a claim
 * confirmed at an old epoch is lost; keys lost with a Redis restart are
 * restored at the holder's epoch, never lowered. */
static void test_registry_epochs(void **state)
{
    (void)state;
    if (!redis_url()) skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    char id_a[32], id_b[32], zone[64], akey[128], ekey[128];
    snprintf(id_a, sizeof(id_a), "zone-ep-a-%d", (int)getpid());
    snprintf(id_b, sizeof(id_b), "zone-ep-b-%d", (int)getpid());
    snprintf(zone, sizeof(zone), "zone-ep-%d", (int)getpid());
    snprintf(akey, sizeof(akey), "zone:assignment:%s", zone);
    snprintf(ekey, sizeof(ekey), "zone:epoch:%s", zone);
    registry_t *ra = registry_redis_new(&loop, redis_url(), id_a);
    registry_t *rb = registry_redis_new(&loop, redis_url(), id_b);
    redisContext *sc = sync_conn();
    freeReplyObject(redisCommand(sc, "DEL %s %s", akey, ekey));

    claim_probe_t p = claim_sync(&loop, ra, zone, 0, NULL);
    assert_int_equal(p.won, 1);
    assert_int_equal(p.epoch, 1);
    p = claim_sync(&loop, ra, zone, 1, NULL); /* confirm */
    assert_int_equal(p.won, 1);
    assert_int_equal(p.epoch, 1);
    p = claim_sync(&loop, rb, zone, 0, NULL); /* held: b loses, sees a's epoch */
    assert_int_equal(p.won, 0);
    assert_string_equal(p.owner, id_a);
    assert_int_equal(p.epoch, 1);
    p = claim_sync(&loop, rb, zone, 0, "someone-else"); /* takeover from the wrong owner */
    assert_int_equal(p.won, 0);
    assert_string_equal(p.owner, id_a);
    p = claim_sync(&loop, rb, zone, 0, id_a); /* a's heartbeat expired: b takes over */
    assert_int_equal(p.won, 1);
    assert_int_equal(p.epoch, 2);
    /* a wakes up from a pause and checks its claim at epoch 1: lost */
    p = claim_sync(&loop, ra, zone, 1, NULL);
    assert_int_equal(p.won, 0);
    assert_string_equal(p.owner, id_b);
    assert_int_equal(p.epoch, 2);
    /* b lets go; a's check at epoch 1 still fails (b held it after a) */
    assert_int_equal(rb->ops->release_zone(rb, zone), 0);
    char *held = NULL;
    for (int i = 0; i < 2000 && (held = sync_get(sc, akey)); i++) { /* b's own connection */
        free(held);
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    assert_null(held);
    p = claim_sync(&loop, ra, zone, 1, NULL);
    assert_int_equal(p.won, 0);
    assert_string_equal(p.owner, "");
    assert_int_equal(p.epoch, 2);
    char *v = sync_get(sc, akey);
    assert_null(v); /* and a did not take it */
    /* b claims again: a new epoch */
    p = claim_sync(&loop, rb, zone, 0, NULL);
    assert_int_equal(p.won, 1);
    assert_int_equal(p.epoch, 3);
    /* Redis lost its data (restart without persistence): b's confirmation
     * restores the claim at epoch 3, not at a counter restarting from 1. */
    freeReplyObject(redisCommand(sc, "DEL %s %s", akey, ekey));
    p = claim_sync(&loop, rb, zone, 3, NULL);
    assert_int_equal(p.won, 1);
    assert_int_equal(p.epoch, 3);
    v = sync_get(sc, ekey);
    assert_non_null(v);
    assert_string_equal(v, "3");
    free(v);
    v = sync_get(sc, akey);
    assert_non_null(v);
    assert_string_equal(v, id_b);
    free(v);
    /* Only the assignment lost: the same. */
    freeReplyObject(redisCommand(sc, "DEL %s", akey));
    p = claim_sync(&loop, rb, zone, 3, NULL);
    assert_int_equal(p.won, 1);
    assert_int_equal(p.epoch, 3);

    freeReplyObject(redisCommand(sc, "DEL %s %s", akey, ekey));
    redisFree(sc);
    ra->ops->close(ra);
    rb->ops->close(rb);
    drain_and_close(&loop);
}

int main(void)
{
    log_setup(LOG_ERROR, 0, "test");
    if (!redis_url())
        printf("[  SKIPPED ] live Redis tests: set WOD_TEST_REDIS_URL=redis://127.0.0.1:PORT "
               "(scripts/services.sh redis PORT DIR starts one)\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),       cmocka_unit_test(test_no_server),
        cmocka_unit_test(test_bus_pubsub),      cmocka_unit_test(test_registry),
        cmocka_unit_test(test_registry_epochs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
