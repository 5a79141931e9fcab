/* bot.c - one simulated player (see bot.h).
 *
 * Incoming frames are classified by their first bytes only: the server
 * writes every native frame as {"type":"<type>",...}. Only world_entry
 * (once per bot) is reassembled and parsed with jansson; `chat`
 * is scanned for the bench's own content marker. Everything else is
 * counted and dropped, so one bench process can keep up with the tens of
 * thousands of roster deltas per second a crowd produces. With
 * --encoding compact, rosters are binary frames (src/proto/compact.h):
 * each is reassembled and decoded into the bot's view, so a frame the
 * format does not allow is counted.
 *
 * The socket is wsc.c's (payload bytes are never copied or walked unless
 * the frame is one of those); outgoing frames are written at once.
 *
 * --travel: a bot walks over a shared border of the seed world's first
 * zones (zone-crossroads north into zone-forest or east into zone-city,
 * and back), so a run spreads over several zones and zone servers. */
#include "bot.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/str.h"
#include "proto/compact.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOT_FRAME_MAX     512         /* longest frame a bot writes */
#define CONNECT_LIMIT_MS  30000       /* connect + WebSocket handshake */
#define CROSS_WAIT_MS     5000        /* longest wait for state_update after a border step */
#define CROSS_OVER_FT     3.0         /* how far past the edge the border step goes */
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
    RX_AUTH_SUCCESS,
    RX_STATE_UPDATE,
    RX_COMPACT
} rx_kind_t;

struct bot_s {
    bench_t *b;        /* the run */
    uint32_t id;       /* index in the bot array; also in chat content */
    bot_state_t state; /* see bot.h */
    wsc_t ws;          /* the connection (ws.active while its handle exists) */
    uv_timer_t timer;  /* connect limit, next spread/travel step or roaming action */
    uint64_t rng;      /* xorshift state */
    int spreading;     /* walking to (tx, tz) */
    int travelling;    /* walking to (tx, tz), over a border */
    int crossing;      /* border step sent, waiting for state_update */
    rx_kind_t rx_kind; /* kind of the message being received */
    buf_t rx;          /* world_entry / state_update / compact frame reassembly */
    compact_view_t view; /* --encoding compact: what the frames said */
    char zone[40];     /* id of the zone we are in */
    double sx, sz;     /* its size */
    double x, z;       /* where the server has us (we only send legal moves) */
    double tx, tz;     /* spread target */
    double lo_x, hi_x; /* roaming box */
    double lo_z, hi_z;
    uint64_t next_move_us, next_chat_us, next_ping_us; /* roaming schedule */
    uint64_t next_shout_us, next_travel_us;
    uint64_t ping_sent_us; /* outstanding ping, 0 = none */
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
    if (bot->state == BOT_CONNECTING && b->st.connecting) b->st.connecting--;
    bot->state = BOT_FAILED;
    b->st.failed++;
    if (why && !b->last_error[0]) snprintf(b->last_error, sizeof(b->last_error), "%s", why);
    uv_timer_stop(&bot->timer);
}

/* Sends one text frame now (wsc queues what the socket does not take). A
 * frame str_fmt could not build (-1) arrives as SIZE_MAX and is dropped. */
static void send_frame(bot_t *bot, const char *data, size_t len)
{
    if (len > BOT_FRAME_MAX) return;
    if (wsc_send(&bot->ws, data, len) == 0) bot->b->st.msgs_sent++;
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
                    "\"maxUpdateRate\":%g%s}}}",
                    b->opt.update_rate, b->opt.compact ? ",\"encoding\":\"compact\"" : "");
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

/* A say ("b<id>:<sent_us>") or, with `shout`, a shout ("s<id>:<sent_us>"). */
static void send_chat(bot_t *bot, uint64_t now, int shout)
{
    char f[BOT_FRAME_MAX];
    int n = str_fmt(f, sizeof(f),
                    "{\"type\":\"chat\",\"payload\":{\"channel\":\"%s\",\"message\":\"%c%u:%llu\","
                    "\"timestamp\":%llu}}",
                    shout ? "shout" : "say", shout ? 's' : 'b', bot->id, (unsigned long long)now,
                    (unsigned long long)clock_wall_ms());
    send_frame(bot, f, (size_t)n);
    if (shout) {
        bot->b->st.shouts_sent++;
    } else {
        bot->b->st.chats_sent++;
    }
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
    if (bot->crossing) {
        next = now + CROSS_WAIT_MS * 1000ull;
    } else if (bot->spreading || bot->travelling) {
        next = now + SPREAD_STEP_MS * 1000ull;
    } else {
        next = UINT64_MAX;
        const uint64_t due[] = {bot->next_move_us, bot->next_chat_us, bot->next_ping_us,
                                bot->next_shout_us, bot->next_travel_us};
        for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++)
            if (due[i] && due[i] < next) next = due[i];
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

static double travel_hz(const bench_opts_t *o)
{
    return o->travel_s > 0 ? 1.0 / o->travel_s : 0;
}

static void start_roaming(bot_t *bot, uint64_t now)
{
    const bench_opts_t *o = &bot->b->opt;
    if (bot->spreading && bot->b->st.spreading) bot->b->st.spreading--;
    bot->spreading = 0;
    bot->next_move_us = first_due(bot, now, o->move_hz);
    bot->next_chat_us = first_due(bot, now, o->chat_hz);
    bot->next_ping_us = first_due(bot, now, o->ping_hz);
    bot->next_shout_us = first_due(bot, now, o->shout_hz);
    bot->next_travel_us = first_due(bot, now, travel_hz(o));
}

/* The roaming box: --spread square around (x, z), inside the zone. */
static void set_box(bot_t *bot)
{
    double half = bot->b->opt.spread_ft / 2;
    if (half < bot->b->opt.step_ft) half = bot->b->opt.step_ft;
    bot->lo_x = clampd(bot->x - half, 1, bot->sx - 1);
    bot->hi_x = clampd(bot->x + half, 1, bot->sx - 1);
    bot->lo_z = clampd(bot->z - half, 1, bot->sz - 1);
    bot->hi_z = clampd(bot->z + half, 1, bot->sz - 1);
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

/* Picks the point just over a border shared with another seed zone; 0 if
 * this zone has none the bench knows. */
static int travel_target(bot_t *bot)
{
    if (strcmp(bot->zone, "zone-crossroads") == 0) {
        if (bot->id & 1) { /* east, into zone-city */
            bot->tx = bot->sx + CROSS_OVER_FT;
            bot->tz = bot->z;
        } else { /* north, into zone-forest */
            bot->tx = bot->x;
            bot->tz = bot->sz + CROSS_OVER_FT;
        }
    } else if (strcmp(bot->zone, "zone-forest") == 0 && bot->x < 200) {
        bot->tx = bot->x; /* south, back to the crossroads */
        bot->tz = -CROSS_OVER_FT;
    } else if (strcmp(bot->zone, "zone-city") == 0 && bot->z < 200) {
        bot->tx = -CROSS_OVER_FT; /* west, back to the crossroads */
        bot->tz = bot->z;
    } else {
        return 0;
    }
    return 1;
}

/* One 5 ft step towards (tx, tz); returns 1 when the target was reached. */
static int walk_step(bot_t *bot)
{
    double dx = bot->tx - bot->x, dz = bot->tz - bot->z, d = sqrt(dx * dx + dz * dz);
    if (d <= SPREAD_STEP_FT) {
        send_move(bot, bot->tx, bot->tz);
        return 1;
    }
    send_move(bot, bot->x + dx / d * SPREAD_STEP_FT, bot->z + dz / d * SPREAD_STEP_FT);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    bot_t *bot = container_of(t, bot_t, timer);
    bench_t *b = bot->b;
    uint64_t now = bench_now_us();
    if (bot->state == BOT_CONNECTING) {
        fail(bot, "connect timed out");
        wsc_abort(&bot->ws, "connect timed out");
        return;
    }
    if (b->stopping || bot->state != BOT_IN_WORLD) return;
    if (bot->crossing) { /* no state_update: the border step was not taken */
        bot->crossing = 0;
        b->st.cross_failed++;
        set_box(bot);
        schedule(bot, now);
        return;
    }
    if (bot->spreading) {
        if (walk_step(bot)) start_roaming(bot, now);
        schedule(bot, now);
        return;
    }
    if (bot->travelling) {
        if (walk_step(bot)) {
            bot->travelling = 0;
            bot->crossing = 1;
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
        send_chat(bot, now, 0);
        bot->next_chat_us = next_due(bot->next_chat_us, now, b->opt.chat_hz);
    }
    if (bot->next_shout_us && bot->next_shout_us <= now) {
        send_chat(bot, now, 1);
        bot->next_shout_us = next_due(bot->next_shout_us, now, b->opt.shout_hz);
    }
    if (bot->next_ping_us && bot->next_ping_us <= now) {
        if (!bot->ping_sent_us || now - bot->ping_sent_us > PING_LOST_US) send_ping(bot, now);
        bot->next_ping_us = next_due(bot->next_ping_us, now, b->opt.ping_hz);
    }
    if (bot->next_travel_us && bot->next_travel_us <= now) {
        bot->next_travel_us = next_due(bot->next_travel_us, now, travel_hz(&b->opt));
        if (travel_target(bot)) bot->travelling = 1;
    }
    schedule(bot, now);
}

/* ---- what a bot hears ---------------------------------------------------- */

static rx_kind_t classify(const char *in, size_t len, int compact)
{
    if (compact && len && (in[0] == COMPACT_FULL || in[0] == COMPACT_DELTA)) return RX_COMPACT;
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
    case 's':
        return IS("state_update") ? RX_STATE_UPDATE : RX_OTHER;
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
    static const char key[] = "\"content\":\"";
    const char *p = memmem(in, len, key, sizeof(key) - 1);
    if (!p) return;
    p += sizeof(key) - 1;
    char tmp[48];
    size_t n = (size_t)(in + len - p) < sizeof(tmp) - 1 ? (size_t)(in + len - p) : sizeof(tmp) - 1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    if (tmp[0] != 'b' && tmp[0] != 's') return;
    char *end;
    unsigned long id = strtoul(tmp + 1, &end, 10);
    if (*end != ':' || id == bot->id) return; /* our own echo */
    unsigned long long sent = strtoull(end + 1, &end, 10);
    if (*end != '"' || sent > now) return;
    bench_t *b = bot->b;
    if (tmp[0] == 's') {
        b->st.shouts_heard++;
        if (b->measuring) hist_record(&b->st.shout, now - sent);
        return;
    }
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

/* Reads zone id and size, and our position, from world_entry or
 * state_update; 1 when a position was found. */
static int read_place(bot_t *bot)
{
    json_error_t jerr;
    json_t *root = json_loadb(bot->rx.data, bot->rx.len, 0, &jerr);
    json_t *pl = json_object_get(root, "payload");
    json_t *pos = json_object_get(json_object_get(pl, "character"), "position");
    json_t *zone = json_object_get(pl, "zone");
    json_t *size = json_object_get(zone, "size");
    const char *zid = json_string_value(json_object_get(zone, "id"));
    if (zid) snprintf(bot->zone, sizeof(bot->zone), "%s", zid);
    if (json_is_object(size)) {
        bot->sx = json_number_value(json_object_get(size, "x"));
        bot->sz = json_number_value(json_object_get(size, "z"));
    }
    int found = json_is_object(pos);
    if (found) {
        bot->x = json_number_value(json_object_get(pos, "x"));
        bot->z = json_number_value(json_object_get(pos, "z"));
    }
    json_decref(root);
    buf_free(&bot->rx);
    if (!(bot->sx > 2)) bot->sx = bot->x * 2 > 2 ? bot->x * 2 : 200;
    if (!(bot->sz > 2)) bot->sz = bot->z * 2 > 2 ? bot->z * 2 : 200;
    return found;
}

static void entered_world(bot_t *bot)
{
    bench_t *b = bot->b;
    if (!read_place(bot)) {
        fail(bot, "world_entry without character.position");
        return;
    }
    set_box(bot);
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

/* state_update: after a border crossing it names the new zone and position. */
static void state_updated(bot_t *bot)
{
    char before[sizeof(bot->zone)];
    memcpy(before, bot->zone, sizeof(before));
    if (!read_place(bot) || strcmp(before, bot->zone) == 0) return;
    bot->b->st.crossings++;
    bot->travelling = 0;
    bot->crossing = 0;
    set_box(bot);
    schedule(bot, bench_now_us());
}

static void on_data(wsc_t *ws, const char *in, size_t len, int first, int final)
{
    bot_t *bot = ws->user;
    bench_t *b = bot->b;
    uint64_t now = bench_now_us();
    if (first) {
        bot->rx_kind = classify(in, len, b->opt.compact);
        switch (bot->rx_kind) {
        case RX_COMMUNICATION:
            heard_chat(bot, in, len, now);
            break;
        case RX_COMPACT:
            buf_reset(&bot->rx); /* a roster: counted below too */
            /* fall through */
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
        case RX_STATE_UPDATE:
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
    if ((bot->rx_kind == RX_WORLD_ENTRY || bot->rx_kind == RX_STATE_UPDATE ||
         bot->rx_kind == RX_COMPACT) &&
        bot->rx.len + len < WORLD_ENTRY_LIMIT)
        buf_append(&bot->rx, in, len);
    if (!final) return;
    b->st.msgs_recv++;
    if (bot->rx_kind == RX_COMPACT) {
        uint64_t recs = bot->view.records;
        if (compact_view_apply(&bot->view, (const uint8_t *)bot->rx.data, bot->rx.len, NULL, 0) <
            0)
            b->st.compact_bad++;
        b->st.compact_recs += bot->view.records - recs;
        return;
    }
    if (bot->rx_kind == RX_WORLD_ENTRY && bot->state == BOT_OPEN) {
        entered_world(bot);
    } else if (bot->rx_kind == RX_STATE_UPDATE && bot->state == BOT_IN_WORLD) {
        state_updated(bot);
    } else if (bot->rx_kind == RX_AUTH_SUCCESS && bot->state == BOT_OPEN && b->opt.auth_only) {
        /* --auth-only: an authenticated idle connection is the goal */
        bot->state = BOT_IN_WORLD;
        b->st.entered++;
        b->st.in_world++;
        start_roaming(bot, now);
        bot->next_move_us = bot->next_chat_us = bot->next_shout_us = bot->next_travel_us = 0;
        schedule(bot, now);
    } else if ((bot->rx_kind == RX_AUTH_ERROR || bot->rx_kind == RX_ERROR) &&
               bot->state == BOT_OPEN) {
        /* a refusal before world entry (auth, name, limits) ends this bot */
        fail(bot, b->last_error);
        wsc_close(&bot->ws, 1000, "refused");
    }
}

static void on_open(wsc_t *ws)
{
    bot_t *bot = ws->user;
    bench_t *b = bot->b;
    uv_timer_stop(&bot->timer);
    if (b->st.connecting) b->st.connecting--;
    b->st.open++;
    bot->state = BOT_OPEN;
    send_login(bot);
}

static int sockets_open;
static void (*closed_done)(void);
static int timers_open;

static void on_closed(wsc_t *ws, int was_open, const char *why)
{
    bot_t *bot = ws->user;
    bench_t *b = bot->b;
    if (was_open && b->st.open) b->st.open--;
    if (bot->state == BOT_IN_WORLD && b->stopping) {
        if (b->st.in_world) b->st.in_world--;
        if (bot->spreading && b->st.spreading) b->st.spreading--;
        bot->spreading = 0;
        bot->state = BOT_CLOSED;
    } else if (bot->state == BOT_CONNECTING || bot->state == BOT_OPEN ||
               bot->state == BOT_IN_WORLD) {
        fail(bot, why);
    }
    uv_timer_stop(&bot->timer);
    if (--sockets_open == 0 && timers_open == 0 && closed_done) closed_done();
}

static const wsc_cbs_t bot_cbs = {on_open, on_data, on_closed};

/* ---- the array ----------------------------------------------------------- */

bot_t *bots_new(bench_t *b, int n)
{
    bot_t *bots = wod_calloc((size_t)n, sizeof(bot_t));
    for (int i = 0; i < n; i++) {
        bots[i].b = b;
        bots[i].id = (uint32_t)i;
        bots[i].rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)(i + 1) * 0xBF58476D1CE4E5B9ull);
        buf_init(&bots[i].rx);
        compact_view_init(&bots[i].view);
        uv_timer_init(b->loop, &bots[i].timer);
    }
    return bots;
}

void bot_connect(bot_t *bots, int i)
{
    bot_t *bot = &bots[i];
    bench_t *b = bot->b;
    const bench_opts_t *o = &b->opt;
    const struct sockaddr_in *src =
        o->n_sources > 1 ? &b->src[(size_t)i % (size_t)o->n_sources] : NULL;
    bot->state = BOT_CONNECTING;
    b->st.connecting++;
    int rc = wsc_connect(&bot->ws, b->loop, &b->dst, src, b->host_hdr, o->path, &bot_cbs, bot);
    if (rc < 0) {
        char why[96];
        snprintf(why, sizeof(why), "connect failed: %s", uv_strerror(rc));
        fail(bot, why);
        return;
    }
    sockets_open++;
    uv_timer_start(&bot->timer, on_timer, CONNECT_LIMIT_MS, 0);
}

void bots_close_all(bot_t *bots, int n)
{
    for (int i = 0; i < n; i++) {
        uv_timer_stop(&bots[i].timer);
        wsc_close(&bots[i].ws, 1000, "bench over");
    }
}

static void timer_closed(uv_handle_t *h)
{
    (void)h;
    if (--timers_open == 0 && sockets_open == 0 && closed_done) closed_done();
}

void bots_close_handles(bot_t *bots, int n, void (*done)(void))
{
    closed_done = done;
    timers_open = n;
    for (int i = 0; i < n; i++) {
        wsc_abort(&bots[i].ws, "bench over");
        uv_close((uv_handle_t *)&bots[i].timer, timer_closed);
    }
    if (n == 0 && done) done();
}

void bots_free(bot_t *bots, int n)
{
    for (int i = 0; i < n; i++) {
        buf_free(&bots[i].rx);
        compact_view_free(&bots[i].view);
    }
    free(bots);
}

bot_state_t bot_state(const bot_t *bots, int i)
{
    return bots[i].state;
}
