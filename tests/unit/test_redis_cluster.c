/* test_redis_cluster.c - the Redis Cluster client: CRC16 and hash slots
 * against known vectors (Redis's own CLUSTER KEYSLOT answers), URL, slot
 * map and redirect parsing, the bus's cluster channel names; and, given
 * WOD_TEST_REDIS_CLUSTER_URL (scripts/services.sh redis-cluster PORT DIR),
 * the bus and the registry on a real cluster: sharded pub/sub across
 * shards, claims, lists, and a command that has to follow a MOVED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/bus.h"
#include "bus/channel.h"
#include "core/log.h"
#include "redis/redis_cluster.h"
#include "registry/registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_crc16_vectors(void **state)
{
    (void)state;
    assert_int_equal(redis_crc16("123456789", 9), 0x31C3);
    assert_int_equal(redis_crc16("", 0), 0);
}

static void test_key_slot(void **state)
{
    (void)state;
    /* Expected values from redis-server 7 CLUSTER KEYSLOT. */
    static const struct {
        const char *key;
        unsigned slot;
    } v[] = {
        {"{user1000}.following", 3443},
        {"123456789", 12739},
        {"foo", 12182},
        {"zone:{zone-forest}:input", 15586},
        {"zone:assignment:{zone-forest}", 15586},
        {"zone:{zone-crossroads}:input", 5341},
        {"gateway:output", 13354},
        {"{}", 15257},           /* empty tag: the whole key */
        {"foo{}{bar}", 8363},    /* first tag empty: the whole key */
        {"foo{{bar}}zap", 4015}, /* tag is "{bar" */
        {"foo{bar}{zap}", 5061}, /* first tag only: "bar" */
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unsigned got = redis_key_slot(v[i].key, strlen(v[i].key));
        if (got != v[i].slot) fail_msg("slot of '%s': %u, want %u", v[i].key, got, v[i].slot);
    }
    assert_int_equal(redis_key_slot("{user1000}.followers", 20),
                     redis_key_slot("{user1000}.following", 20));
}

static void test_cluster_url(void **state)
{
    (void)state;
    redis_cluster_url_t u;
    assert_true(redis_url_is_cluster("redis+cluster://h:1"));
    assert_false(redis_url_is_cluster("redis://h:1"));
    assert_int_equal(redis_cluster_url_parse("redis+cluster://127.0.0.1:7000", &u), 0);
    assert_int_equal(u.nseeds, 1);
    assert_string_equal(u.seeds[0].host, "127.0.0.1");
    assert_int_equal(u.seeds[0].port, 7000);
    assert_int_equal(redis_cluster_url_parse("redis+cluster://:pw@a:1,b:2,[::1]:3", &u), 0);
    assert_int_equal(u.nseeds, 3);
    assert_string_equal(u.seeds[1].host, "b");
    assert_int_equal(u.seeds[1].port, 2);
    assert_string_equal(u.seeds[2].host, "::1");
    assert_string_equal(u.seeds[2].password, "pw");
    assert_string_equal(u.seeds[0].password, "pw");
    static const char *const bad[] = {
        "redis://a:1",           "redis+cluster://",
        "redis+cluster://a:1,",  "redis+cluster://a:1,,b:2",
        "redis+cluster://a:1/2", "redis+cluster://a:0",
        "redis+cluster://a:x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (redis_cluster_url_parse(bad[i], &u) == 0) fail_msg("accepted '%s'", bad[i]);
    char many[1024] = "redis+cluster://";
    for (int i = 0; i < REDIS_CLUSTER_MAX_SEEDS + 1; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sh:%d", i ? "," : "", i + 1);
    assert_int_equal(redis_cluster_url_parse(many, &u), -1);
}

/* ---- CLUSTER SLOTS replies built by hand */

static redisReply *r_int(long long v)
{
    redisReply *r = calloc(1, sizeof(*r));
    r->type = REDIS_REPLY_INTEGER;
    r->integer = v;
    return r;
}

static redisReply *r_str(const char *s)
{
    redisReply *r = calloc(1, sizeof(*r));
    r->type = REDIS_REPLY_STRING;
    r->str = strdup(s);
    r->len = strlen(s);
    return r;
}

static redisReply *r_arr(size_t n, ...)
{
    redisReply *r = calloc(1, sizeof(*r));
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    /* an array of pointers: sizeof a pointer is meant */
    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
    r->element = calloc(n ? n : 1, sizeof(*r->element));
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        r->element[i] = va_arg(ap, redisReply *);
    va_end(ap);
    return r;
}

static void test_parse_slots(void **state)
{
    (void)state;
    redis_slot_range_t rg[8];
    redisReply *ok = r_arr(
        3,
        r_arr(4, r_int(0), r_int(5460), r_arr(3, r_str("127.0.0.1"), r_int(7000), r_str("id1")),
              r_arr(3, r_str("127.0.0.1"), r_int(7003), r_str("id4"))),
        r_arr(3, r_int(5461), r_int(10922), r_arr(2, r_str(""), r_int(7001))),
        r_arr(3, r_int(10923), r_int(16383), r_arr(3, r_str("10.0.0.3"), r_int(7002), r_str("x"))));
    assert_int_equal(redis_cluster_parse_slots(ok, "seed-host", rg, 8), 3);
    assert_int_equal(rg[0].first, 0);
    assert_int_equal(rg[0].last, 5460);
    assert_string_equal(rg[0].host, "127.0.0.1");
    assert_int_equal(rg[0].port, 7000);
    assert_string_equal(rg[1].host, "seed-host"); /* empty host: the node asked */
    assert_int_equal(rg[2].port, 7002);
    assert_int_equal(redis_cluster_parse_slots(ok, "h", rg, 2), -1); /* no room */
    freeReplyObject(ok);

    redisReply *bad[] = {
        r_str("nope"),
        r_arr(1, r_arr(2, r_int(0), r_int(10))),
        r_arr(1, r_arr(3, r_int(10), r_int(5), r_arr(2, r_str("h"), r_int(1)))),
        r_arr(1, r_arr(3, r_int(0), r_int(16384), r_arr(2, r_str("h"), r_int(1)))),
        r_arr(1, r_arr(3, r_int(0), r_int(1), r_arr(2, r_str("h"), r_int(0)))),
        r_arr(1, r_arr(3, r_int(0), r_int(1), r_arr(2, r_int(5), r_int(1)))),
        r_arr(1, r_arr(3, r_str("0"), r_int(1), r_arr(2, r_str("h"), r_int(1)))),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (redis_cluster_parse_slots(bad[i], "h", rg, 8) != -1) fail_msg("accepted bad[%zu]", i);
        freeReplyObject(bad[i]);
    }
    assert_int_equal(redis_cluster_parse_slots(NULL, "h", rg, 8), -1);
}

static void test_redirects(void **state)
{
    (void)state;
    redis_redirect_t rd;
    assert_int_equal(redis_redirect_parse("MOVED 3999 127.0.0.1:6381", &rd), 0);
    assert_false(rd.ask);
    assert_int_equal(rd.slot, 3999);
    assert_string_equal(rd.host, "127.0.0.1");
    assert_int_equal(rd.port, 6381);
    assert_int_equal(redis_redirect_parse("ASK 0 ::1:7000", &rd), 0);
    assert_true(rd.ask);
    assert_string_equal(rd.host, "::1");
    assert_int_equal(rd.port, 7000);
    static const char *const bad[] = {
        "ERR wrong",
        "MOVED",
        "MOVED 3999",
        "MOVED x h:1",
        "MOVED 16384 h:1",
        "MOVED 1 h",
        "MOVED 1 :1",
        "MOVED 1 h:0",
        "MOVED 1 h:99999",
        "MOVED 1 h:1x",
        "CLUSTERDOWN The cluster is down",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (redis_redirect_parse(bad[i], &rd) == 0) fail_msg("accepted '%s'", bad[i]);
}

static void test_cluster_channel_names(void **state)
{
    (void)state;
    char out[128];
    static const char *const v[][2] = {
        {"zone:zone-forest:input", "zone:{zone-forest}:input"},
        {"zone:zone-forest:broadcast", "zone:{zone-forest}:broadcast"},
        {"gateway:gw-1:output", "gateway:{gw-1}:output"},
        {"gateway:output", "gateway:output"},
        {"zone::input", "zone::input"},
        {"other", "other"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(bus_channel_cluster_name(v[i][0], out, sizeof(out)), 0);
        assert_string_equal(out, v[i][1]);
    }
    assert_int_equal(bus_channel_cluster_name("zone:zone-forest:input", out, 10), -1);
    /* A zone's input channel and its claim keys share a slot. */
    assert_int_equal(redis_key_slot("zone:{zone-forest}:input", 24),
                     redis_key_slot("zone:epoch:{zone-forest}", 24));
}

/* ---- against a real cluster */

static const char *cluster_url(void)
{
    const char *u = getenv("WOD_TEST_REDIS_CLUSTER_URL");
    return u && *u ? u : NULL;
}

static void wake(uv_timer_t *t)
{
    (void)t;
}

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

static void drain_and_close(uv_loop_t *loop)
{
    for (int i = 0; i < 100 && uv_run(loop, UV_RUN_NOWAIT); i++)
        usleep(1000);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

typedef struct probe_s {
    int up, got;
    char last_channel[128];
    char last[64];
} probe_t;

static void probe_msg(void *ud, const char *channel, const char *data, size_t len)
{
    probe_t *p = ud;
    p->got++;
    snprintf(p->last_channel, sizeof(p->last_channel), "%s", channel);
    snprintf(p->last, sizeof(p->last), "%.*s", (int)len, data);
}

static void probe_state(void *ud, int up)
{
    ((probe_t *)ud)->up = up;
}

static void test_bus_on_cluster(void **state)
{
    (void)state;
    if (!cluster_url()) skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    probe_t pa = {0}, pb = {0};
    bus_t *a = bus_redis_new(&loop, cluster_url(), probe_msg, probe_state, &pa);
    bus_t *b = bus_redis_new(&loop, cluster_url(), probe_msg, probe_state, &pb);
    assert_non_null(a);
    assert_non_null(b);
    /* Zones on different shards (slots 15586, 5341, 2219) and gateway:output. */
    static const char *const chans[] = {"zone:zone-forest:input", "zone:zone-crossroads:input",
                                        "zone:zone-city:broadcast", "gateway:output"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(bus_subscribe(b, chans[i]), 0);
    assert_true(run_until(&loop, &pa.up, 1, 10000));
    assert_true(run_until(&loop, &pb.up, 1, 10000));
    for (size_t i = 0; i < 4; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "m%zu", i);
        assert_int_equal(bus_publish(a, chans[i], msg, strlen(msg)), 0);
        assert_true(run_until(&loop, &pb.got, (int)i + 1, 5000));
        assert_string_equal(pb.last_channel, chans[i]); /* the seed name, mapped back */
        assert_string_equal(pb.last, msg);
    }
    assert_int_equal(bus_unsubscribe(b, chans[0]), 0);
    assert_int_equal(bus_publish(a, chans[0], "gone", 4), 0);
    assert_int_equal(bus_publish(a, chans[1], "here", 4), 0);
    assert_true(run_until(&loop, &pb.got, 5, 5000));
    assert_string_equal(pb.last, "here");
    assert_int_equal(pa.got, 0);
    bus_close(a);
    bus_close(b);
    drain_and_close(&loop);
}

typedef struct claim_probe_s {
    int done, won;
    uint64_t epoch;
    int listed;
    char owner_forest[64];
} claim_probe_t;

static void on_claim(void *ud, const char *zone, int won, const char *owner, uint64_t epoch)
{
    claim_probe_t *p = ud;
    (void)zone;
    (void)owner;
    p->won = won;
    p->epoch = epoch;
    p->done++;
}

static void on_zones(void *ud, json_t *result)
{
    claim_probe_t *p = ud;
    json_t *v = result ? json_object_get(result, "zone-forest-t") : NULL;
    snprintf(p->owner_forest, sizeof(p->owner_forest), "%s", v ? json_string_value(v) : "");
    p->listed++;
}

static void test_registry_on_cluster(void **state)
{
    (void)state;
    if (!cluster_url()) skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    char id[64];
    snprintf(id, sizeof(id), "srv-cl-%d", (int)getpid());
    registry_t *r = registry_redis_new(&loop, cluster_url(), id);
    assert_non_null(r);
    claim_probe_t p = {0};
    /* Wait for the slot map. */
    for (int i = 0; i < 200 && r->ops->claim_zone(r, "zone-forest-t", 0, on_claim, &p) < 0; i++) {
        int never = 0;
        run_until(&loop, &never, 1, 25);
    }
    assert_true(run_until(&loop, &p.done, 1, 5000));
    assert_true(p.won);
    uint64_t e1 = p.epoch;
    assert_true(e1 > 0);
    /* Confirming at the epoch we hold keeps it. */
    assert_int_equal(r->ops->claim_zone(r, "zone-forest-t", e1, on_claim, &p), 0);
    assert_true(run_until(&loop, &p.done, 2, 5000));
    assert_true(p.won);
    assert_int_equal(p.epoch, e1);
    /* A claim on a zone of another shard works the same. */
    assert_int_equal(r->ops->claim_zone(r, "zone-crossroads-t", 0, on_claim, &p), 0);
    assert_true(run_until(&loop, &p.done, 3, 5000));
    assert_true(p.won);
    /* list_zones SCANs every master. */
    assert_int_equal(r->ops->list_zones(r, on_zones, &p), 0);
    assert_true(run_until(&loop, &p.listed, 1, 5000));
    assert_string_equal(p.owner_forest, id);
    assert_int_equal(r->ops->release_zone(r, "zone-forest-t"), 0);
    assert_int_equal(r->ops->release_zone(r, "zone-crossroads-t"), 0);
    assert_int_equal(r->ops->list_zones(r, on_zones, &p), 0);
    assert_true(run_until(&loop, &p.listed, 2, 5000));
    assert_string_equal(p.owner_forest, "");
    r->ops->close(r);
    drain_and_close(&loop);
}

/* ---- a slot moving between masters: ASK while it migrates, MOVED after,
 * and the sharded subscriber's `sunsubscribe` push */

typedef struct reply_probe_s {
    int done;
    char status[64];
} reply_probe_t;

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    reply_probe_t *p = priv;
    (void)ac;
    snprintf(p->status, sizeof(p->status), "%s", reply && reply->str ? reply->str : "(null)");
    p->done++;
}

typedef struct node_addr_s {
    int port;
    char id[64];
} node_addr_t;

static redisReply *sync_cmd(int port, const char *fmt, ...)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

static void node_id(int port, char *out, size_t cap)
{
    redisReply *r = sync_cmd(port, "CLUSTER MYID");
    assert_non_null(r);
    snprintf(out, cap, "%s", r->str);
    freeReplyObject(r);
}

/* The master of `slot` and another master, from CLUSTER SLOTS on `seed`. */
static void masters_for(int seed, unsigned slot, node_addr_t *owner, node_addr_t *other)
{
    redisReply *r = sync_cmd(seed, "CLUSTER SLOTS");
    assert_non_null(r);
    redis_slot_range_t rg[16];
    int n = redis_cluster_parse_slots(r, "127.0.0.1", rg, 16);
    freeReplyObject(r);
    assert_true(n >= 2);
    owner->port = other->port = 0;
    for (int i = 0; i < n; i++) {
        if (slot >= rg[i].first && slot <= rg[i].last)
            owner->port = rg[i].port;
        else if (!other->port)
            other->port = rg[i].port;
    }
    assert_true(owner->port && other->port && owner->port != other->port);
    node_id(owner->port, owner->id, sizeof(owner->id));
    node_id(other->port, other->id, sizeof(other->id));
}

static void set_slot_owner(int seed_port, unsigned slot, const node_addr_t *to)
{
    /* Every master learns the new owner at once (the cluster bus would
     * spread it anyway). */
    redisReply *r = sync_cmd(seed_port, "CLUSTER SLOTS");
    redis_slot_range_t rg[16];
    int n = redis_cluster_parse_slots(r, "127.0.0.1", rg, 16);
    freeReplyObject(r);
    for (int i = 0; i < n; i++) {
        redisReply *x = sync_cmd(rg[i].port, "CLUSTER SETSLOT %u NODE %s", slot, to->id);
        if (x) freeReplyObject(x);
    }
}

static void test_slot_migration(void **state)
{
    (void)state;
    if (!cluster_url()) skip();
    redis_cluster_url_t cu;
    assert_int_equal(redis_cluster_url_parse(cluster_url(), &cu), 0);
    int seed = cu.seeds[0].port;
    char zone[64];
    snprintf(zone, sizeof(zone), "zone-mv-%d", (int)getpid());
    char chan[96], key[96];
    snprintf(chan, sizeof(chan), "zone:%s:input", zone);
    snprintf(key, sizeof(key), "zone:{%s}:input", zone);
    unsigned slot = redis_key_slot(key, strlen(key));
    node_addr_t a, b;
    masters_for(seed, slot, &a, &b);

    uv_loop_t loop;
    uv_loop_init(&loop);
    probe_t pp = {0}, ps = {0};
    bus_t *pub = bus_redis_new(&loop, cluster_url(), probe_msg, probe_state, &pp);
    bus_t *sub = bus_redis_new(&loop, cluster_url(), probe_msg, probe_state, &ps);
    registry_t *r = registry_redis_new(&loop, cluster_url(), "srv-mv");
    assert_int_equal(bus_subscribe(sub, chan), 0);
    assert_true(run_until(&loop, &pp.up, 1, 10000));
    assert_true(run_until(&loop, &ps.up, 1, 10000));

    /* Migrating: a key that is not on a gets ASK; the command runs on b
     * after ASKING. */
    redisReply *x = sync_cmd(b.port, "CLUSTER SETSLOT %u IMPORTING %s", slot, a.id);
    assert_true(x && x->type != REDIS_REPLY_ERROR);
    freeReplyObject(x);
    x = sync_cmd(a.port, "CLUSTER SETSLOT %u MIGRATING %s", slot, b.id);
    assert_true(x && x->type != REDIS_REPLY_ERROR);
    freeReplyObject(x);
    char tkey[128];
    snprintf(tkey, sizeof(tkey), "{%s}:asked", zone);
    redis_cluster_t *cl = redis_cluster_new(&loop, &cu, "test", NULL, NULL, NULL);
    reply_probe_t rp = {0};
    const char *set[] = {"SET", tkey, "1"};
    assert_int_equal(redis_cluster_command(cl, tkey, on_reply, &rp, 3, set, NULL), 0);
    assert_true(run_until(&loop, &rp.done, 1, 5000));
    assert_string_equal(rp.status, "OK");
    x = sync_cmd(b.port, "CLUSTER COUNTKEYSINSLOT %u", slot);
    assert_true(x && x->type == REDIS_REPLY_INTEGER && x->integer == 1); /* landed on b */
    freeReplyObject(x);
    /* A claim (two keys, both missing) cannot run mid-migration: b answers
     * TRYAGAIN, retried with backoff; once b owns the slot, a answers
     * MOVED and the claim goes through on b. */
    claim_probe_t p = {0};
    assert_int_equal(r->ops->claim_zone(r, zone, 0, on_claim, &p), 0);
    int never = 0;
    run_until(&loop, &never, 1, 150);
    assert_int_equal(p.done, 0);
    set_slot_owner(seed, slot, &b);
    assert_true(run_until(&loop, &p.done, 1, 5000));
    assert_true(p.won);
    char akey[128];
    snprintf(akey, sizeof(akey), "zone:assignment:{%s}", zone);
    x = sync_cmd(b.port, "GET %s", akey);
    assert_true(x && x->type == REDIS_REPLY_STRING);
    freeReplyObject(x);
    /* The sharded subscriber on a got `sunsubscribe` and is on b now. */
    int got = 0;
    for (int i = 0; i < 100 && !got; i++) {
        bus_publish(pub, chan, "moved", 5);
        int want = ps.got + 1;
        got = run_until(&loop, &ps.got, want, 100) && strcmp(ps.last, "moved") == 0;
    }
    assert_true(got);
    assert_string_equal(ps.last_channel, chan);

    /* Give the slot back (its keys first), so the cluster is as it was. */
    x = sync_cmd(a.port, "CLUSTER SETSLOT %u IMPORTING %s", slot, b.id);
    freeReplyObject(x);
    x = sync_cmd(b.port, "CLUSTER SETSLOT %u MIGRATING %s", slot, a.id);
    freeReplyObject(x);
    char ekey[128];
    snprintf(ekey, sizeof(ekey), "zone:epoch:{%s}", zone);
    x = sync_cmd(b.port, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s %s %s", a.port, "", akey, ekey,
                 tkey);
    assert_true(x && x->type != REDIS_REPLY_ERROR);
    freeReplyObject(x);
    set_slot_owner(seed, slot, &a);
    assert_int_equal(r->ops->release_zone(r, zone), 0);
    r->ops->close(r);
    redis_cluster_close(cl, NULL);
    bus_close(pub);
    bus_close(sub);
    drain_and_close(&loop);
}

/* ---- faults, on a one-node cluster of our own */

static pid_t lone_pid;
static int lone_port;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static redisContext *lone_cmd(const char *cmd)
{
    redisContext *c = redisConnect("127.0.0.1", lone_port);
    if (!c || c->err) return c;
    redisReply *r = redisCommand(c, cmd);
    if (r) freeReplyObject(r);
    return c;
}

/* A cluster-enabled redis-server with no slots (so cluster_state:fail). */
static int start_lone_node(void)
{
    char dir[] = "/tmp/wod-lone-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    for (int attempt = 0; attempt < 5; attempt++) {
        lone_port = free_port();
        if (lone_port <= 0 || lone_port > 55535) continue; /* + 10000 is the bus port */
        char port[16], conf[128];
        snprintf(port, sizeof(port), "%d", lone_port);
        snprintf(conf, sizeof(conf), "%s/nodes-%d.conf", dir, lone_port);
        lone_pid = fork();
        if (lone_pid == 0) {
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save",
                   "", "--appendonly", "no", "--cluster-enabled", "yes", "--cluster-config-file",
                   conf, "--dir", dir, "--logfile", "/dev/null", (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 50; i++) {
            usleep(100000);
            redisContext *c = redisConnect("127.0.0.1", lone_port);
            int ok = c && !c->err;
            if (c) redisFree(c);
            if (ok) return 0;
            if (waitpid(lone_pid, NULL, WNOHANG) == lone_pid) break; /* port taken */
        }
    }
    return -1;
}

static void stop_lone_node(void)
{
    if (lone_pid > 0) {
        kill(lone_pid, SIGKILL);
        waitpid(lone_pid, NULL, 0);
    }
}

static void test_faults(void **state)
{
    (void)state;
    if (!cluster_url()) skip(); /* needs redis-server 7 like the live tests */
    assert_int_equal(start_lone_node(), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* The first seed is down: the control connection moves on. */
    char url[128];
    snprintf(url, sizeof(url), "redis+cluster://127.0.0.1:1,127.0.0.1:%d", lone_port);
    registry_t *r = registry_redis_new(&loop, url, "srv-faults");
    assert_non_null(r);
    claim_probe_t p = {0};
    /* No slot has a master: the claim fails after bounded retries. */
    assert_int_equal(r->ops->claim_zone(r, "zone-forest", 0, on_claim, &p), 0);
    assert_true(run_until(&loop, &p.done, 1, 15000));
    assert_false(p.won);
    /* Half the slots: the node answers CLUSTERDOWN (cluster_state:fail). */
    redisContext *c = lone_cmd("CLUSTER ADDSLOTSRANGE 0 8000");
    assert_true(c && !c->err);
    redisFree(c);
    assert_int_equal(r->ops->claim_zone(r, "zone-crossroads", 0, on_claim, &p), 0); /* 5341 */
    assert_true(run_until(&loop, &p.done, 2, 15000));
    assert_false(p.won);
    /* Every slot served: the same client recovers without a restart. */
    c = lone_cmd("CLUSTER ADDSLOTSRANGE 8001 16383");
    redisFree(c);
    int tries = 0;
    while (!p.won && tries++ < 40) {
        assert_int_equal(r->ops->claim_zone(r, "zone-forest", 0, on_claim, &p), 0);
        int want = p.done + 1;
        assert_true(run_until(&loop, &p.done, want, 15000));
        if (!p.won) {
            int never = 0;
            run_until(&loop, &never, 1, 250);
        }
    }
    assert_true(p.won);
    r->ops->close(r);
    drain_and_close(&loop);
    stop_lone_node();
}

int main(void)
{
    log_setup(LOG_WARN, 0, "test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_vectors),  cmocka_unit_test(test_key_slot),
        cmocka_unit_test(test_cluster_url),    cmocka_unit_test(test_parse_slots),
        cmocka_unit_test(test_redirects),      cmocka_unit_test(test_cluster_channel_names),
        cmocka_unit_test(test_bus_on_cluster), cmocka_unit_test(test_registry_on_cluster),
        cmocka_unit_test(test_slot_migration), cmocka_unit_test(test_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
