/* bench_bus.c - the bus alone: a zone-side publisher -> Redis (or a Redis
 * Cluster) -> a gateway-side subscriber, through src/bus (bus_redis.c,
 * redis_cluster.c) with real envelopes.
 *
 *   bench-bus URL [SECONDS] [GATEWAYS] [PER_FRAME] [WINDOW]
 *
 * Each bus message is what a zone server sends one gateway per tick: an
 * EPOCH record and PER_FRAME (default 20) DELIVER records carrying a
 * realistic roster-delta JSON (~150 bytes). The publisher keeps WINDOW
 * frames (default 256) in flight, round robin over GATEWAYS (default 6)
 * channels gateway:gw-N:output (on a cluster they hash to different
 * shards); the subscriber decodes every frame. Prints one line:
 *   frames_pub_s=... frames_recv_s=... client_msgs_s=... mb_s=... */
#include "bus/bus.h"
#include "bus/envelope.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "bench-bus"

typedef struct bench_s {
    bus_t *pub, *sub;
    int pub_up, sub_up;
    int gateways, per_frame, window;
    char (*channels)[64];
    buf_t *frames; /* one prepared frame per gateway */
    unsigned long long published, received, msgs, bytes, next;
    uv_timer_t refill, stop;
    int running;
} bench_t;

static const char PAYLOAD[] =
    "{\"channel\":\"near\",\"count\":24,\"added\":[],\"removed\":[],\"updated\":[{\"id\":\"c:"
    "1234\","
    "\"name\":\"Wanderer\",\"x\":101.5,\"y\":0,\"z\":98.25,\"heading\":270,\"distance\":12.5}]}";

static void refill(bench_t *b)
{
    while (b->running && b->published - b->received < (unsigned long long)b->window) {
        int g = (int)(b->next++ % (unsigned long long)b->gateways);
        if (bus_publish(b->pub, b->channels[g], (const char *)b->frames[g].data, b->frames[g].len) <
            0)
            return; /* congested or reconnecting: the timer tries again */
        b->published++;
    }
}

static void on_refill(uv_timer_t *t)
{
    refill(t->data);
}

static void on_msg(void *ud, const char *channel, const char *data, size_t len)
{
    bench_t *b = ud;
    (void)channel;
    env_reader_t r;
    env_rec_t rec;
    if (env_reader_init(&r, data, len) < 0) return;
    while (env_next(&r, &rec) == 1)
        if (rec.kind == ENV_DELIVER) b->msgs++;
    b->received++;
    b->bytes += len;
    refill(b);
}

static void on_pub_state(void *ud, int up)
{
    ((bench_t *)ud)->pub_up = up;
}

static void on_sub_state(void *ud, int up)
{
    ((bench_t *)ud)->sub_up = up;
}

static void wake(uv_timer_t *t)
{
    (void)t;
}

static void run_for(uv_loop_t *loop, double ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, wake, 1, 1);
    double end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT); /* t lives on this stack: let the close finish */
}

/* All of s as a number, or -1 with a message (atof/atoi took "x" as 0). */
static int parse_double(const char *what, const char *s, double *out)
{
    if (str_to_double(s, out) == 0) return 0;
    fprintf(stderr, "%s: bad %s '%s'\n", PROG, what, s);
    return -1;
}

static int parse_int(const char *what, const char *s, int *out)
{
    if (str_to_int(s, out) == 0) return 0;
    fprintf(stderr, "%s: bad %s '%s'\n", PROG, what, s);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [SECONDS] [GATEWAYS] [PER_FRAME] [WINDOW]\n", argv[0]);
        return 2;
    }
    log_setup(LOG_WARN, 0, "bench-bus");
    double seconds = 5;
    bench_t b = {0};
    b.gateways = 6;
    b.per_frame = 20;
    b.window = 256;
    if ((argc > 2 && parse_double("SECONDS", argv[2], &seconds) < 0) ||
        (argc > 3 && parse_int("GATEWAYS", argv[3], &b.gateways) < 0) ||
        (argc > 4 && parse_int("PER_FRAME", argv[4], &b.per_frame) < 0) ||
        (argc > 5 && parse_int("WINDOW", argv[5], &b.window) < 0))
        return 2;
    if (seconds <= 0 || b.gateways < 1 || b.per_frame < 1 || b.window < 1) return 2;
    uv_loop_t *loop = uv_default_loop();
    b.pub = bus_redis_new(loop, argv[1], NULL, on_pub_state, &b);
    b.sub = bus_redis_new(loop, argv[1], on_msg, on_sub_state, &b);
    if (!b.pub || !b.sub) return 2;
    b.channels = calloc((size_t)b.gateways, sizeof(*b.channels));
    b.frames = calloc((size_t)b.gateways, sizeof(*b.frames));
    for (int g = 0; g < b.gateways; g++) {
        snprintf(b.channels[g], sizeof(b.channels[g]), "gateway:gw-%d:output", g + 1);
        bus_subscribe(b.sub, b.channels[g]);
        env_begin(&b.frames[g]);
        env_put_epoch(&b.frames[g], "zone-forest", 7);
        for (int i = 0; i < b.per_frame; i++)
            env_put_deliver(&b.frames[g], (uint64_t)g * 1000 + (uint64_t)i,
                            "proximity_roster_delta", PAYLOAD, sizeof(PAYLOAD) - 1);
    }
    for (int i = 0; i < 500 && !(b.pub_up && b.sub_up); i++)
        run_for(loop, 10);
    if (!(b.pub_up && b.sub_up)) {
        fprintf(stderr, "bench-bus: bus not up on %s\n", argv[1]);
        return 1;
    }
    uv_timer_init(loop, &b.refill);
    b.refill.data = &b;
    uv_timer_start(&b.refill, on_refill, 1, 1);
    b.running = 1;
    refill(&b);
    run_for(loop, 1000); /* warm up */
    unsigned long long p0 = b.published, r0 = b.received, m0 = b.msgs, y0 = b.bytes;
    double t0 = clock_mono_ms();
    run_for(loop, seconds * 1000);
    double dt = (clock_mono_ms() - t0) / 1000.0;
    unsigned long long p = b.published - p0, r = b.received - r0, m = b.msgs - m0, y = b.bytes - y0;
    b.running = 0;
    printf("frames_pub_s=%.0f frames_recv_s=%.0f client_msgs_s=%.0f mb_s=%.1f frame_bytes=%zu "
           "per_frame=%d gateways=%d\n",
           p / dt, r / dt, m / dt, y / dt / 1e6, b.frames[0].len, b.per_frame, b.gateways);
    uv_timer_stop(&b.refill);
    uv_close((uv_handle_t *)&b.refill, NULL);
    bus_close(b.pub);
    bus_close(b.sub);
    uv_run(loop, UV_RUN_DEFAULT);
    for (int g = 0; g < b.gateways; g++)
        buf_free(&b.frames[g]);
    free(b.frames);
    free(b.channels);
    return 0;
}
