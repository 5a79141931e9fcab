/* bot.c - one simulated player (see bot.h).
 *
 * Incoming frames are classified by their first bytes only: the server
 * writes every native frame as {"type":"<type>",...}. Only world_entry
 * (once per bot) is reassembled and parsed with jansson; `chat`
 * is scanned for the bench's own content marker. Everything else is
 * counted and dropped, so one bench process can keep up with the tens of
 * thousands of roster deltas per second a crowd produces.
 *
 * Outgoing frames are queued per bot ([u16 len][bytes]...) and written one
 * per WRITEABLE callback, as libwebsockets requires. */
#include "bot.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/str.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOT_QUEUE_MAX     (16 * 1024) /* queued bytes before a frame is dropped */
#define BOT_FRAME_MAX     512         /* longest frame a bot writes */
#define SPREAD_STEP_FT    5.0         /* one spreading position move ... */
#define SPREAD_STEP_MS    250         /* ... every 250 ms: 20 ft/s, under run speed (21 ft/s) */
#define PING_LOST_US      10000000ull /* a ping without pong for 10 s is forgotten */
#define WORLD_ENTRY_LIMIT (4 * 1024 * 1024)

typedef enum {
    RX_OTHER,
    RX_COMMUNICATION,
    RX_ROSTER,
    RX_PONG,
    RX_WORLD_ENTRY,
    RX_ERROR,
    RX_AUTH_ERROR,
    RX_AUTH_SUCCESS
} rx_kind_t;

struct bot_s {
    bench_t *b;          /* the run */
    uint32_t id;         /* index in the bot array; also in chat content */
    bot_state_t state;   /* see bot.h */
    struct lws *wsi;     /* NULL when not connected */
    uv_timer_t timer;    /* next spread step or roaming action */
    uint64_t rng;        /* xorshift state */
    int closing;         /* close on the next WRITEABLE */
    int spreading;       /* walking to (tx, tz) */
    int in_msg;          /* inside a multi-chunk message */
    rx_kind_t rx_kind;   /* kind of the message being received */
    buf_t rx;            /* world_entry reassembly */
    char *q;             /* outgoing frames: [u16 len][bytes]... */
    size_t q_len, q_cap; /* bytes used / allocated in q */
    double x, z;         /* where the server has us (we only send legal moves) */
    double tx, tz;       /* spread target */
    double lo_x, hi_x;   /* roaming box */
    double lo_z, hi_z;
    uint64_t next_move_us, next_chat_us, next_ping_us; /* roaming schedule */
    uint64_t ping_sent_us;                             /* outstanding ping, 0 = none */
    uint64_t move_sent_us; /* oldest move not yet followed by a roster delta, 0 = none */
};

static void on_timer(uv_timer_t *t);

/* ---- helpers ------------------------------------------------------------ */

static double rnd(bot_t *bot)
{
    uint64_t x = bot->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bot->rng = x;
    return (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void fail(bot_t *bot, const char *why)
{
    bench_t *b = bot->b;
    if (bot->state == BOT_FAILED || bot->state == BOT_CLOSED) return;
    if (bot->state == BOT_IN_WORLD && b->st.in_world) b->st.in_world--;
    if (bot->spreading && b->st.spreading) b->st.spreading--;
    bot->spreading = 0;
    bot->state = BOT_FAILED;
    b->st.failed++;
    if (why && !b->last_error[0]) snprintf(b->last_error, sizeof(b->last_error), "%s", why);
    uv_timer_stop(&bot->timer);
}

/* Queues one text frame and asks for a WRITEABLE callback. A frame
 * str_fmt could not build (-1) arrives as SIZE_MAX: dropped by the
 * BOT_FRAME_MAX check. */
static void send_frame(bot_t *bot, const char *data, size_t len)
{
    if (!bot->wsi || bot->closing || len > BOT_FRAME_MAX) return;
    if (bot->q_len + 2 + len > BOT_QUEUE_MAX) return; /* server not reading: drop */
    if (bot->q_len + 2 + len > bot->q_cap) {
        bot->q_cap = bot->q_cap ? bot->q_cap * 2 : 1024;
        while (bot->q_cap < bot->q_len + 2 + len)
            bot->q_cap *= 2;
        bot->q = wod_realloc(bot->q, bot->q_cap);
    }
    bot->q[bot->q_len] = (char)(len & 0xff);
    bot->q[bot->q_len + 1] = (char)(len >> 8);
    memcpy(bot->q + bot->q_len + 2, data, len);
    bot->q_len += 2 + len;
    lws_callback_on_writable(bot->wsi);
}

/* Writes the first queued frame; returns -1 to have lws close the wsi. */
static int write_one(bot_t *bot)
{
    static unsigned char wbuf[LWS_PRE + BOT_FRAME_MAX];
    if (bot->closing) {
        lws_close_reason(bot->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bench over", 10);
        return -1;
    }
    if (!bot->q_len) return 0;
    size_t len = (size_t)(unsigned char)bot->q[0] | (size_t)(unsigned char)bot->q[1] << 8;
    memcpy(wbuf + LWS_PRE, bot->q + 2, len);
    memmove(bot->q, bot->q + 2 + len, bot->q_len - 2 - len);
    bot->q_len -= 2 + len;
    if (lws_write(bot->wsi, wbuf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) return -1;
    bot->b->st.msgs_sent++;
    if (bot->q_len) lws_callback_on_writable(bot->wsi);
    return 0;
}

/* ---- what a bot says ---------------------------------------------------- */

static void send_login(bot_t *bot)
{
    bench_t *b = bot->b;
    char f[BOT_FRAME_MAX];
    int n = str_fmt(f, sizeof(f),
                    "{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                    "\"clientType\":\"text\",\"clientVersion\":\"wod-bench\",\"capabilities\":{"
                    "\"graphics\":false,\"audio\":false,\"input\":[\"keyboard\"],"
                    "\"maxUpdateRate\":%g}}}",
                    b->opt.update_rate);
    send_frame(bot, f, (size_t)n);
    n = str_fmt(f, sizeof(f),
                "{\"type\":\"auth\",\"payload\":{\"method\":\"guest\",\"guestName\":\"B%s%u\"}}",
                b->run_tag, bot->id);
    send_frame(bot, f, (size_t)n);
    if (b->opt.auth_only) return;
    n = str_fmt(f, sizeof(f),
                "{\"type\":\"character_create\",\"payload\":{\"name\":\"B%s%u\","
                "\"appearance\":{\"description\":\"a wod-bench bot\"}}}",
                b->run_tag, bot->id);
    send_frame(bot, f, (size_t)n);
}

static void send_move(bot_t *bot, double x, double z)
{
    char f[BOT_FRAME_MAX];
    int n = str_fmt(f, sizeof(f),
                    "{\"type\":\"move\",\"payload\":{\"position\":{"
                    "\"x\":%.2f,\"y\":0,\"z\":%.2f},\"speed\":\"run\",\"timestamp\":%llu}}",
                    x, z, (unsigned long long)clock_wall_ms());
    send_frame(bot, f, (size_t)n);
    /* the server rounds nothing away: what we sent is where we are */
    bot->x = floor(x * 100.0 + 0.5) / 100.0;
    bot->z = floor(z * 100.0 + 0.5) / 100.0;
}

static void send_chat(bot_t *bot, uint64_t now)
{
    char f[BOT_FRAME_MAX];
    int n = str_fmt(f, sizeof(f),
                    "{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":\"b%u:%llu\","
                    "\"timestamp\":%llu}}",
                    bot->id, (unsigned long long)now, (unsigned long long)clock_wall_ms());
    send_frame(bot, f, (size_t)n);
    bot->b->st.chats_sent++;
}

static void send_ping(bot_t *bot, uint64_t now)
{
    char f[BOT_FRAME_MAX];
    int n = str_fmt(f, sizeof(f), "{\"type\":\"ping\",\"payload\":{\"timestamp\":%llu}}",
                    (unsigned long long)clock_wall_ms());
    send_frame(bot, f, (size_t)n);
    bot->ping_sent_us = now;
}

/* ---- movement ------------------------------------------------------------ */

static void schedule(bot_t *bot, uint64_t now)
{
    if (bot->b->stopping || bot->state != BOT_IN_WORLD) return;
    uint64_t next;
    if (bot->spreading) {
        next = now + SPREAD_STEP_MS * 1000ull;
    } else {
        next = UINT64_MAX;
        if (bot->next_move_us && bot->next_move_us < next) next = bot->next_move_us;
        if (bot->next_chat_us && bot->next_chat_us < next) next = bot->next_chat_us;
        if (bot->next_ping_us && bot->next_ping_us < next) next = bot->next_ping_us;
        if (next == UINT64_MAX) return;
    }
    uint64_t delay_ms = next > now ? (next - now + 999) / 1000 : 0;
    uv_timer_start(&bot->timer, on_timer, delay_ms, 0);
}

static uint64_t period_us(double hz)
{
    return hz > 0 ? (uint64_t)(1e6 / hz) : 0;
}

/* First due time: a random phase within one period, so bots don't act in step. */
static uint64_t first_due(bot_t *bot, uint64_t now, double hz)
{
    uint64_t p = period_us(hz);
    return p ? now + 1 + (uint64_t)(rnd(bot) * (double)p) : 0;
}

/* Next due time; a bot that fell more than a period behind resynchronises. */
static uint64_t next_due(uint64_t due, uint64_t now, double hz)
{
    uint64_t p = period_us(hz);
    due += p;
    return due + p < now ? now + p : due;
}

static void start_roaming(bot_t *bot, uint64_t now)
{
    const bench_opts_t *o = &bot->b->opt;
    if (bot->spreading && bot->b->st.spreading) bot->b->st.spreading--;
    bot->spreading = 0;
    bot->next_move_us = first_due(bot, now, o->move_hz);
    bot->next_chat_us = first_due(bot, now, o->chat_hz);
    bot->next_ping_us = first_due(bot, now, o->ping_hz);
}

static void roam_step(bot_t *bot)
{
    double step = bot->b->opt.step_ft, h = rnd(bot) * 2 * M_PI;
    double dx = step * sin(h), dz = step * cos(h);
    /* bounce off the box edges */
    if (bot->x + dx < bot->lo_x || bot->x + dx > bot->hi_x) dx = -dx;
    if (bot->z + dz < bot->lo_z || bot->z + dz > bot->hi_z) dz = -dz;
    send_move(bot, clampd(bot->x + dx, bot->lo_x, bot->hi_x),
              clampd(bot->z + dz, bot->lo_z, bot->hi_z));
}

static void on_timer(uv_timer_t *t)
{
    bot_t *bot = container_of(t, bot_t, timer);
    bench_t *b = bot->b;
    if (b->stopping || bot->state != BOT_IN_WORLD) return;
    uint64_t now = bench_now_us();
    if (bot->spreading) {
        double dx = bot->tx - bot->x, dz = bot->tz - bot->z, d = sqrt(dx * dx + dz * dz);
        if (d <= SPREAD_STEP_FT) {
            send_move(bot, bot->tx, bot->tz);
            start_roaming(bot, now);
        } else {
            send_move(bot, bot->x + dx / d * SPREAD_STEP_FT, bot->z + dz / d * SPREAD_STEP_FT);
        }
        schedule(bot, now);
        return;
    }
    if (bot->next_move_us && bot->next_move_us <= now) {
        roam_step(bot);
        if (!bot->move_sent_us) bot->move_sent_us = now;
        bot->next_move_us = next_due(bot->next_move_us, now, b->opt.move_hz);
    }
    if (bot->next_chat_us && bot->next_chat_us <= now) {
        send_chat(bot, now);
        bot->next_chat_us = next_due(bot->next_chat_us, now, b->opt.chat_hz);
    }
    if (bot->next_ping_us && bot->next_ping_us <= now) {
        if (!bot->ping_sent_us || now - bot->ping_sent_us > PING_LOST_US) send_ping(bot, now);
        bot->next_ping_us = next_due(bot->next_ping_us, now, b->opt.ping_hz);
    }
    schedule(bot, now);
}

/* ---- what a bot hears ---------------------------------------------------- */

static rx_kind_t classify(const char *in, size_t len)
{
    static const char pre[] = "{\"type\":\"";
    const size_t n = sizeof(pre) - 1;
    if (len < n + 4 || memcmp(in, pre, n) != 0) return RX_OTHER;
    const char *t = in + n;
    size_t left = len - n;
#define IS(lit) (left > sizeof(lit) - 1 && memcmp(t, lit "\"", sizeof(lit)) == 0)
    switch (t[0]) {
    case 'c':
        return IS("chat") || IS("communication") ? RX_COMMUNICATION : RX_OTHER;
    case 'p':
        if (IS("proximity_roster_delta") || IS("proximity_roster")) return RX_ROSTER;
        return IS("pong") ? RX_PONG : RX_OTHER;
    case 'w':
        return IS("world_entry") ? RX_WORLD_ENTRY : RX_OTHER;
    case 'e':
        return IS("error") ? RX_ERROR : RX_OTHER;
    case 'a':
        if (IS("auth_success")) return RX_AUTH_SUCCESS;
        return IS("auth_error") ? RX_AUTH_ERROR : RX_OTHER;
    default:
        return RX_OTHER;
    }
#undef IS
}

static void heard_chat(bot_t *bot, const char *in, size_t len, uint64_t now)
{
    static const char key[] = "\"content\":\"b";
    const char *p = memmem(in, len, key, sizeof(key) - 1);
    if (!p) return;
    p += sizeof(key) - 1;
    char tmp[48];
    size_t n = (size_t)(in + len - p) < sizeof(tmp) - 1 ? (size_t)(in + len - p) : sizeof(tmp) - 1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    char *end;
    unsigned long id = strtoul(tmp, &end, 10);
    if (*end != ':' || id == bot->id) return; /* our own echo */
    unsigned long long sent = strtoull(end + 1, &end, 10);
    if (*end != '"' || sent > now) return;
    bench_t *b = bot->b;
    b->st.chats_heard++;
    if (b->measuring) {
        hist_record(&b->st.chat, now - sent);
        hist_record(&b->st.chat_sec, now - sent);
    }
}

static void copy_error(bot_t *bot, const char *in, size_t len)
{
    bench_t *b = bot->b;
    b->st.server_errors++;
    if (!b->last_error[0] || bot->state != BOT_IN_WORLD) {
        size_t n = len < sizeof(b->last_error) - 1 ? len : sizeof(b->last_error) - 1;
        memcpy(b->last_error, in, n);
        b->last_error[n] = 0;
    }
}

static void entered_world(bot_t *bot)
{
    bench_t *b = bot->b;
    json_error_t jerr;
    json_t *root = json_loadb(bot->rx.data, bot->rx.len, 0, &jerr);
    json_t *pl = json_object_get(root, "payload");
    json_t *pos = json_object_get(json_object_get(pl, "character"), "position");
    json_t *size = json_object_get(json_object_get(pl, "zone"), "size");
    if (!json_is_object(pos)) {
        json_decref(root);
        fail(bot, "world_entry without character.position");
        return;
    }
    double sx = json_number_value(json_object_get(size, "x"));
    double sz = json_number_value(json_object_get(size, "z"));
    bot->x = json_number_value(json_object_get(pos, "x"));
    bot->z = json_number_value(json_object_get(pos, "z"));
    json_decref(root);
    buf_free(&bot->rx);
    if (!(sx > 2)) sx = bot->x * 2 > 2 ? bot->x * 2 : 200;
    if (!(sz > 2)) sz = bot->z * 2 > 2 ? bot->z * 2 : 200;
    double half = b->opt.spread_ft / 2;
    if (half < b->opt.step_ft) half = b->opt.step_ft;
    bot->lo_x = clampd(bot->x - half, 1, sx - 1);
    bot->hi_x = clampd(bot->x + half, 1, sx - 1);
    bot->lo_z = clampd(bot->z - half, 1, sz - 1);
    bot->hi_z = clampd(bot->z + half, 1, sz - 1);
    bot->tx = bot->lo_x + rnd(bot) * (bot->hi_x - bot->lo_x);
    bot->tz = bot->lo_z + rnd(bot) * (bot->hi_z - bot->lo_z);
    bot->state = BOT_IN_WORLD;
    b->st.entered++;
    b->st.in_world++;
    uint64_t now = bench_now_us();
    if (b->opt.spread_ft > 0) {
        bot->spreading = 1;
        b->st.spreading++;
    } else {
        start_roaming(bot, now);
    }
    schedule(bot, now);
}

static void on_receive(bot_t *bot, const char *in, size_t len)
{
    bench_t *b = bot->b;
    uint64_t now = bench_now_us();
    if (!bot->in_msg) {
        bot->in_msg = 1;
        bot->rx_kind = classify(in, len);
        switch (bot->rx_kind) {
        case RX_COMMUNICATION:
            heard_chat(bot, in, len, now);
            break;
        case RX_ROSTER:
            b->st.rosters++;
            if (bot->move_sent_us) {
                if (b->measuring) hist_record(&b->st.move, now - bot->move_sent_us);
                bot->move_sent_us = 0;
            }
            break;
        case RX_PONG:
            if (bot->ping_sent_us) {
                if (b->measuring) hist_record(&b->st.ping, now - bot->ping_sent_us);
                bot->ping_sent_us = 0;
            }
            break;
        case RX_WORLD_ENTRY:
            buf_reset(&bot->rx);
            break;
        case RX_ERROR:
        case RX_AUTH_ERROR:
            copy_error(bot, in, len);
            break;
        default:
            break;
        }
    }
    if (bot->rx_kind == RX_WORLD_ENTRY && bot->rx.len + len < WORLD_ENTRY_LIMIT)
        buf_append(&bot->rx, in, len);
    b->st.bytes_recv += len;
    if (!lws_is_final_fragment(bot->wsi)) return;
    bot->in_msg = 0;
    b->st.msgs_recv++;
    if (bot->rx_kind == RX_WORLD_ENTRY && bot->state == BOT_OPEN) {
        entered_world(bot);
    } else if (bot->rx_kind == RX_AUTH_SUCCESS && bot->state == BOT_OPEN && b->opt.auth_only) {
        /* --auth-only: an authenticated idle connection is the goal */
        bot->state = BOT_IN_WORLD;
        b->st.entered++;
        b->st.in_world++;
        start_roaming(bot, now);
        bot->next_move_us = bot->next_chat_us = 0;
        schedule(bot, now);
    } else if ((bot->rx_kind == RX_AUTH_ERROR || bot->rx_kind == RX_ERROR) &&
               bot->state == BOT_OPEN) {
        /* a refusal before world entry (auth, name, limits) ends this bot */
        fail(bot, b->last_error);
        bot->closing = 1;
        lws_callback_on_writable(bot->wsi);
    }
}

static int bot_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    bot_t *bot = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!bot) return lws_callback_http_dummy(wsi, reason, user, in, len);
    bench_t *b = bot->b;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[160];
        snprintf(why, sizeof(why), "connect failed: %s", in ? (const char *)in : "(no reason)");
        if (bot->state == BOT_CONNECTING && b->st.connecting) b->st.connecting--;
        fail(bot, why);
        bot->wsi = NULL;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (b->st.connecting) b->st.connecting--;
        b->st.open++;
        bot->state = BOT_OPEN;
        send_login(bot);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_receive(bot, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return write_one(bot);
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (b->st.open) b->st.open--;
        if (bot->state == BOT_IN_WORLD && b->stopping) {
            if (b->st.in_world) b->st.in_world--;
            if (bot->spreading && b->st.spreading) b->st.spreading--;
            bot->spreading = 0;
            bot->state = BOT_CLOSED;
        } else if (bot->state == BOT_CONNECTING) {
            if (b->st.connecting) b->st.connecting--;
            fail(bot, "closed during the WebSocket handshake");
        } else if (bot->state == BOT_OPEN || bot->state == BOT_IN_WORLD) {
            fail(bot, "disconnected by the server");
        }
        bot->wsi = NULL;
        uv_timer_stop(&bot->timer);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (bot->wsi == wsi) bot->wsi = NULL;
        break;
    default:
        break;
    }
    return 0;
}

const struct lws_protocols bot_protocols[] = {
    {"wod-bench", bot_callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- the array ----------------------------------------------------------- */

bot_t *bots_new(bench_t *b, int n)
{
    bot_t *bots = wod_calloc((size_t)n, sizeof(bot_t));
    for (int i = 0; i < n; i++) {
        bots[i].b = b;
        bots[i].id = (uint32_t)i;
        bots[i].rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)(i + 1) * 0xBF58476D1CE4E5B9ull);
        buf_init(&bots[i].rx);
        uv_timer_init(b->loop, &bots[i].timer);
    }
    return bots;
}

void bot_connect(bot_t *bots, int i)
{
    bot_t *bot = &bots[i];
    bench_t *b = bot->b;
    const bench_opts_t *o = &b->opt;
    char host[300];
    snprintf(host, sizeof(host), "%s:%d", o->host, o->port);
    struct lws_client_connect_info cci;
    memset(&cci, 0, sizeof(cci));
    cci.context = b->lws;
    cci.address = o->host;
    cci.port = o->port;
    cci.path = o->path;
    cci.host = host;
    cci.origin = host;
    cci.ietf_version_or_minus_one = -1;
    cci.local_protocol_name = bot_protocols[0].name;
    cci.opaque_user_data = bot;
    cci.pwsi = &bot->wsi;
    if (o->n_sources > 1) cci.iface = o->sources[(size_t)i % (size_t)o->n_sources];
    bot->state = BOT_CONNECTING;
    b->st.connecting++;
    if (!lws_client_connect_via_info(&cci)) {
        /* lws may already have reported CONNECTION_ERROR through the callback */
        if (bot->state == BOT_CONNECTING) {
            if (b->st.connecting) b->st.connecting--;
            fail(bot, "lws_client_connect_via_info failed");
        }
        bot->wsi = NULL;
    }
}

void bots_close_all(bot_t *bots, int n)
{
    for (int i = 0; i < n; i++) {
        bot_t *bot = &bots[i];
        uv_timer_stop(&bot->timer);
        if (!bot->wsi) continue;
        bot->closing = 1;
        lws_callback_on_writable(bot->wsi);
    }
}

static void (*timers_done)(void);
static int timers_open;

static void timer_closed(uv_handle_t *h)
{
    (void)h;
    if (--timers_open == 0 && timers_done) timers_done();
}

void bots_close_timers(bot_t *bots, int n, void (*done)(void))
{
    timers_done = done;
    timers_open = n;
    for (int i = 0; i < n; i++)
        uv_close((uv_handle_t *)&bots[i].timer, timer_closed);
    if (n == 0 && done) done();
}

void bots_free(bot_t *bots, int n)
{
    for (int i = 0; i < n; i++) {
        buf_free(&bots[i].rx);
        free(bots[i].q);
    }
    free(bots);
}

bot_state_t bot_state(const bot_t *bots, int i)
{
    return bots[i].state;
}
