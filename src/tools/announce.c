/* announce.c - `wod-server announce ZONE TEXT`: one admin announcement,
 * the same BROADCAST record the admin console publishes, sent on REDIS_URL
 * (one Redis or a cluster) to every gateway with players in ZONE
 * (docs/OPERATIONS.md "Announcements").
 *
 * Pub/sub has no acknowledgement of its own, so the command subscribes to
 * the zone's broadcast channel itself, publishes once the subscription is
 * confirmed, and counts the announcement acknowledged when its own record
 * comes back: then Redis has taken it and fanned it out to every
 * subscriber, the gateways included. It publishes exactly once: a retry
 * could show players the same announcement twice. */
#include "announce.h"
#include "../bus/announce.h"
#include "../bus/batch.h"
#include "../bus/bus.h"
#include "../bus/channel.h"
#include "../core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANNOUNCE_TIMEOUT_MS 10000 /* connect, publish and hear it back */

typedef struct announce_s {
    const char *url, *zone, *text;
    char channel[BUS_CHANNEL_MAX];
    env_rec_t rec;
    char *payload; /* ours, to recognise the echo */
    bus_t *bus;
    int published;
    int rc;
    uv_timer_t timer;
} announce_t;

static void finish(announce_t *a, int rc)
{
    a->rc = rc;
    uv_stop(a->timer.loop);
}

static void on_state(void *ud, int up)
{
    announce_t *a = ud;
    if (!up || a->published) return;
    /* up: our subscription is confirmed, so the echo cannot be missed */
    a->payload = bus_announcement(&a->rec, a->zone, a->text);
    a->published = 1;
    if (bus_publish_record(a->bus, a->channel, &a->rec) < 0) {
        (void)fprintf(stderr, "wod-server announce: Redis at %s refused the publish\n", a->url);
        finish(a, 1);
    }
}

static void on_msg(void *ud, const char *channel, const char *data, size_t len)
{
    announce_t *a = ud;
    env_reader_t rd;
    env_rec_t r;
    (void)channel;
    if (!a->payload || env_reader_init(&rd, data, len) < 0) return;
    while (env_next(&rd, &r) == 1) {
        if (r.kind == ENV_BROADCAST && r.payload_len == a->rec.payload_len &&
            memcmp(r.payload, a->payload, r.payload_len) == 0) {
            printf("announced in %s\n", a->zone);
            finish(a, 0);
            return;
        }
    }
}

static void on_timeout(uv_timer_t *t)
{
    announce_t *a = container_of(t, announce_t, timer);
    if (a->published)
        (void)fprintf(stderr,
                      "wod-server announce: published on %s but not acknowledged within %d s\n",
                      a->url, ANNOUNCE_TIMEOUT_MS / 1000);
    else
        (void)fprintf(stderr,
                      "wod-server announce: no Redis at %s within %d s (a `wod-server all` "
                      "has no bus: announce from its admin console instead)\n",
                      a->url, ANNOUNCE_TIMEOUT_MS / 1000);
    finish(a, 1);
}

int announce_check_args(int argc, char **argv)
{
    if (argc != 2) {
        (void)fprintf(stderr, "usage: wod-server announce ZONE \"TEXT\"\n");
        return 2;
    }
    size_t n = strlen(argv[1]);
    if (n == 0 || n > BUS_ANNOUNCE_MAX) {
        (void)fprintf(stderr, "wod-server announce: the text must be 1-%d bytes\n",
                      BUS_ANNOUNCE_MAX);
        return 2;
    }
    return 0;
}

int announce_main(const config_t *cfg, const zonedef_t *zones, int n_zones, int argc, char **argv)
{
    announce_t a;
    memset(&a, 0, sizeof(a));
    if (announce_check_args(argc, argv)) return 2;
    a.url = cfg->redis_url;
    a.zone = argv[0];
    a.text = argv[1];
    int known = 0;
    for (int i = 0; i < n_zones && !known; i++)
        known = strcmp(zones[i].id, a.zone) == 0;
    if (!known || bus_channel_zone(a.channel, sizeof(a.channel), BUS_ZONE_BROADCAST, a.zone) < 0) {
        (void)fprintf(stderr, "wod-server announce: unknown zone '%s'\n", a.zone);
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    a.bus = bus_redis_new(loop, a.url, on_msg, on_state, &a);
    if (!a.bus) return 2; /* a malformed REDIS_URL, already logged */
    a.rc = 1;
    uv_timer_init(loop, &a.timer);
    uv_timer_start(&a.timer, on_timeout, ANNOUNCE_TIMEOUT_MS, 0);
    /* a fresh bus refuses a subscription only once closing */
    (void)bus_subscribe(a.bus, a.channel);
    uv_run(loop, UV_RUN_DEFAULT);
    bus_close(a.bus);
    uv_close((uv_handle_t *)&a.timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT); /* let the connections close */
    free(a.payload);
    return a.rc;
}
