/* tail.c - `wod-server bus-tail [CHANNEL...]`: subscribes to bus channels
 * on REDIS_URL and prints every envelope record as one text line, so an
 * operator can watch the binary bus (docs/OPERATIONS.md). */
#include "bus_tail.h"
#include "../bus/bus.h"
#include "../bus/channel.h"
#include "../bus/envelope.h"
#include "../core/clock.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *const msg_class_names[ENV_MSG_CLASS_MAX] = {"other", "roster_delta",  "roster",
                                                               "chat",  "compact_delta", "compact"};

static void print_record(const char *channel, const env_rec_t *r)
{
    printf("%" PRIu64 " %s %s", clock_wall_ms(), channel, env_kind_name(r->kind));
    if (r->client.gateway[0]) printf(" gw=%s", r->client.gateway);
    if (r->client.conn) printf(" conn=%" PRIx64, r->client.conn);
    if (r->character_id) printf(" char=%" PRId64, r->character_id);
    switch (r->kind) {
    case ENV_ENTER:
        printf(" name=%s zone=%s pos=%.1f,%.1f,%.1f entry=%d", r->u.enter.ch.name,
               r->u.enter.ch.zone_id, r->u.enter.ch.x, r->u.enter.ch.y, r->u.enter.ch.z,
               r->u.enter.entry);
        break;
    case ENV_MOVE:
        printf(" method=%d heading=%.0f speed=%d", r->u.move.method, r->u.move.heading,
               r->u.move.speed);
        break;
    case ENV_CHAT:
        printf(" channel=%s text=\"%s\"", msg_chat_channel_name(r->u.chat.channel),
               r->u.chat.message);
        break;
    case ENV_SHOUT:
        printf(" from=%s text=\"%s\"", r->u.shout.sender_name, r->u.shout.content);
        break;
    case ENV_COMMAND:
        printf(" text=\"%s\"", r->u.command.text);
        break;
    case ENV_ROUTE:
    case ENV_UNKNOWN:
        printf(" zone=%s", r->u.route.zone);
        break;
    case ENV_EPOCH:
        printf(" zone=%s epoch=%" PRIu64, r->u.fence.zone, r->u.fence.epoch);
        break;
    case ENV_KICK:
        printf(" code=%s", r->u.kick.code);
        break;
    case ENV_WHISPER:
        printf(" to=%s", r->u.whisper.target); /* fall through */
    case ENV_DELIVER:
    case ENV_BROADCAST:
        if (r->kind == ENV_DELIVER) printf(" class=%s", msg_class_names[r->msg_class]);
        if (r->msg_class == ENV_MSG_COMPACT || r->msg_class == ENV_MSG_COMPACT_DELTA) {
            /* binary (src/proto/compact.h): not for a terminal */
            printf(" type=%.*s payload=<%zu bytes, compact>", (int)r->type_len, r->type,
                   r->payload_len);
            break;
        }
        printf(" type=%.*s payload=%.*s", (int)r->type_len, r->type,
               (int)(r->payload_len > 200 ? 200 : r->payload_len), r->payload);
        break;
    default:
        break;
    }
    putchar('\n');
}

static void on_msg(void *ud, const char *channel, const char *data, size_t len)
{
    (void)ud;
    env_reader_t rd;
    env_rec_t r;
    int rc;
    if (env_reader_init(&rd, data, len) < 0) {
        printf("%s not an envelope (%zu bytes)\n", channel, len);
        (void)fflush(stdout); /* best effort: a reader that left stops nothing */
        return;
    }
    while ((rc = env_next(&rd, &r)) == 1)
        print_record(channel, &r);
    if (rc < 0) printf("%s malformed record\n", channel);
    (void)fflush(stdout); /* best effort: a reader that left stops nothing */
}

static void on_state(void *ud, int up)
{
    (void)ud;
    (void)fprintf(stderr, "bus-tail: %s\n", up ? "subscribed" : "connection lost, retrying");
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    uv_stop(s->loop);
}

int bus_tail_main(const config_t *cfg, const zonedef_t *zones, int n_zones, int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    bus_t *bus = bus_redis_new(loop, cfg->redis_url, on_msg, on_state, NULL);
    if (!bus) return 1;
    /* A fresh Redis bus refuses a subscription only once closing: the
     * results below cannot be errors. */
    if (argc > 0) {
        for (int i = 0; i < argc; i++)
            (void)bus_subscribe(bus, argv[i]);
    } else {
        char ch[BUS_CHANNEL_MAX];
        for (int i = 0; i < n_zones; i++)
            if (bus_channel_zone(ch, sizeof(ch), BUS_ZONE_INPUT, zones[i].id) >= 0)
                (void)bus_subscribe(bus, ch);
        (void)bus_subscribe(bus, BUS_CHANNEL_GATEWAYS);
    }
    uv_signal_t sig_int, sig_term;
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
