/* test_envelope.c - the bus envelope codec (src/bus/envelope.c): every
 * record kind survives a round trip, and every truncated or corrupted
 * frame is refused with -1 without reading outside the frame (frames
 * are heap copies of exactly their length, so ASan builds catch any
 * overread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECS 24

/* A frame holding one record of every kind, and where each record ends. */
typedef struct sample_s {
    buf_t b;
    env_rec_t recs[MAX_RECS];
    size_t ends[MAX_RECS];
    int n;
} sample_t;

static void client(env_rec_t *r, const char *gw, uint64_t conn)
{
    snprintf(r->client.gateway, sizeof(r->client.gateway), "%s", gw);
    r->client.conn = conn;
}

static void add(sample_t *s, const env_rec_t *r)
{
    s->recs[s->n] = *r;
    env_put(&s->b, r);
    s->ends[s->n++] = s->b.len;
}

static void build_sample(sample_t *s)
{
    memset(s, 0, sizeof(*s));
    buf_init(&s->b);
    env_begin(&s->b);
    env_rec_t r;

    memset(&r, 0, sizeof(r));
    r.kind = ENV_ENTER;
    client(&r, "gateway-1", 0x0000000500000007ULL);
    character_init(&r.u.enter.ch, 77, "Mira Vale", "A quiet one.", "zone-crossroads", 100.25, 0,
                   99.5);
    r.u.enter.ch.id = 1234;
    r.u.enter.ch.heading = 271.5;
    r.u.enter.ch.last_played = 1700000000123LL;
    r.u.enter.max_update_rate = 2.5;
    r.u.enter.entry = 1;
    r.u.enter.client_flags = MSG_CLIENT_MACHINE | MSG_CLIENT_POSITIONS;
    r.character_id = 1234;
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_LEAVE;
    client(&r, "gateway-2", 42);
    r.character_id = 1234;
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_MOVE;
    client(&r, "gateway-1", UINT64_MAX);
    r.character_id = -5; /* negative ids survive the unsigned wire form */
    r.u.move.method = MOVE_POSITION;
    r.u.move.has_speed = 1;
    r.u.move.speed = SPEED_RUN;
    r.u.move.heading = 45.125;
    r.u.move.x = -1e-300;
    r.u.move.y = 1e300;
    r.u.move.z = 3.0;
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_CHAT;
    client(&r, "g", 1);
    r.character_id = 9;
    r.u.chat.channel = CHAT_WHISPER;
    snprintf(r.u.chat.message, sizeof(r.u.chat.message), "héllo \"world\"\n");
    snprintf(r.u.chat.target, sizeof(r.u.chat.target), "Tomas");
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_INTERACT;
    client(&r, "gateway-1", 3);
    r.character_id = 10;
    snprintf(r.u.interact.target_id, sizeof(r.u.interact.target_id), "npc-guard-1");
    r.u.interact.action = ACT_EXAMINE;
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_COMBAT;
    client(&r, "gateway-1", 4);
    r.character_id = 11;
    snprintf(r.u.combat.ability_id, sizeof(r.u.combat.ability_id), "slash");
    snprintf(r.u.combat.target_id, sizeof(r.u.combat.target_id), "npc-wolf-3");
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_SHOUT;
    r.u.shout.sender_id = 12;
    snprintf(r.u.shout.sender_name, sizeof(r.u.shout.sender_name), "Mira Vale");
    snprintf(r.u.shout.sender_type, sizeof(r.u.shout.sender_type), "player");
    r.u.shout.channel = CHAT_SHOUT;
    r.u.shout.wx = 100;
    r.u.shout.wy = 0;
    r.u.shout.wz = 199.5;
    snprintf(r.u.shout.content, sizeof(r.u.shout.content), "Over here!");
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_COMMAND;
    client(&r, "gateway-1", 5);
    r.character_id = 13;
    snprintf(r.u.command.text, sizeof(r.u.command.text), "/cast \"Arcane Bolt\" Rabid Dog");
    add(s, &r);

    static const char payload[] = {'{', '"', 'a', '"', ':', '1', '}'};
    memset(&r, 0, sizeof(r));
    r.kind = ENV_DELIVER;
    r.client.conn = 0x123456789abcdefULL;
    r.type = "proximity_roster_delta";
    r.type_len = strlen(r.type);
    r.payload = payload;
    r.payload_len = sizeof(payload);
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_ROUTE;
    r.client.conn = 8;
    r.character_id = 1234;
    snprintf(r.u.route.zone, sizeof(r.u.route.zone), "zone-forest");
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_KICK;
    r.client.conn = 9;
    snprintf(r.u.kick.code, sizeof(r.u.kick.code), "DUPLICATE_LOGIN");
    snprintf(r.u.kick.message, sizeof(r.u.kick.message), "logged in elsewhere");
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_BROADCAST;
    r.type = "chat_message";
    r.type_len = strlen(r.type);
    r.payload = "{\"m\":\"hi\"}";
    r.payload_len = strlen(r.payload);
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_WHISPER;
    snprintf(r.u.whisper.target, sizeof(r.u.whisper.target), "Tomas");
    r.type = "chat_message";
    r.type_len = strlen(r.type);
    r.payload = ""; /* empty payload is legal on the wire */
    r.payload_len = 0;
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_RESYNC;
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_ADMIN_QUERY;
    snprintf(r.client.gateway, sizeof(r.client.gateway), "gateway-2");
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_ADMIN_SNAPSHOT;
    snprintf(r.u.route.zone, sizeof(r.u.route.zone), "zone-city");
    r.payload = "{\"entities\":[]}";
    r.payload_len = strlen(r.payload);
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_ADMIN_KICK;
    snprintf(r.u.whisper.target, sizeof(r.u.whisper.target), "Mira Vale");
    r.payload = "be nice";
    r.payload_len = strlen(r.payload);
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_EPOCH;
    snprintf(r.u.fence.zone, sizeof(r.u.fence.zone), "zone-crossroads");
    r.u.fence.epoch = 0x0102030405060708ull; /* all 8 bytes matter */
    add(s, &r);

    memset(&r, 0, sizeof(r));
    r.kind = ENV_UNKNOWN;
    r.client.conn = 0x100000002ull;
    r.character_id = 4321;
    snprintf(r.u.route.zone, sizeof(r.u.route.zone), "zone-city");
    add(s, &r);
}

static char *heap_copy(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n) memcpy(c, p, n);
    return c;
}

static void assert_span(const char *a, size_t alen, const char *b, size_t blen)
{
    assert_int_equal(alen, blen);
    if (alen) assert_memory_equal(a, b, alen);
}

static void assert_character_equal(const character_t *a, const character_t *b)
{
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->account_id, b->account_id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->description, b->description);
    assert_int_equal(a->level, b->level);
    assert_int_equal(a->experience, b->experience);
    assert_string_equal(a->zone_id, b->zone_id);
    assert_true(a->x == b->x && a->y == b->y && a->z == b->z && a->heading == b->heading);
    assert_int_equal(a->strength, b->strength);
    assert_int_equal(a->vitality, b->vitality);
    assert_int_equal(a->dexterity, b->dexterity);
    assert_int_equal(a->agility, b->agility);
    assert_int_equal(a->intelligence, b->intelligence);
    assert_int_equal(a->wisdom, b->wisdom);
    assert_int_equal(a->hp, b->hp);
    assert_int_equal(a->stamina, b->stamina);
    assert_int_equal(a->mana, b->mana);
    assert_int_equal(a->last_played, b->last_played);
    assert_int_equal(a->is_alive, b->is_alive);
    assert_int_equal(a->n_items, b->n_items);
    for (int i = 0; i < a->n_items; i++) {
        assert_string_equal(a->items[i].item_id, b->items[i].item_id);
        assert_int_equal(a->items[i].quantity, b->items[i].quantity);
        assert_int_equal(a->items[i].equipped, b->items[i].equipped);
    }
}

static void assert_rec_equal(const env_rec_t *want, const env_rec_t *got)
{
    assert_int_equal(got->kind, want->kind);
    switch (want->kind) {
    case ENV_ENTER:
        assert_string_equal(got->client.gateway, want->client.gateway);
        assert_int_equal(got->client.conn, want->client.conn);
        assert_character_equal(&got->u.enter.ch, &want->u.enter.ch);
        assert_true(got->u.enter.max_update_rate == want->u.enter.max_update_rate);
        assert_int_equal(got->u.enter.entry, want->u.enter.entry);
        assert_int_equal(got->u.enter.client_flags, want->u.enter.client_flags);
        assert_int_equal(got->character_id, want->u.enter.ch.id);
        break;
    case ENV_LEAVE:
    case ENV_MOVE:
    case ENV_CHAT:
    case ENV_INTERACT:
    case ENV_COMBAT:
    case ENV_COMMAND:
        assert_string_equal(got->client.gateway, want->client.gateway);
        assert_int_equal(got->client.conn, want->client.conn);
        assert_int_equal(got->character_id, want->character_id);
        if (want->kind == ENV_MOVE) {
            assert_int_equal(got->u.move.method, want->u.move.method);
            assert_int_equal(got->u.move.has_speed, want->u.move.has_speed);
            assert_int_equal(got->u.move.speed, want->u.move.speed);
            assert_true(got->u.move.heading == want->u.move.heading);
            assert_true(got->u.move.x == want->u.move.x && got->u.move.y == want->u.move.y &&
                        got->u.move.z == want->u.move.z);
        } else if (want->kind == ENV_CHAT) {
            assert_int_equal(got->u.chat.channel, want->u.chat.channel);
            assert_string_equal(got->u.chat.message, want->u.chat.message);
            assert_string_equal(got->u.chat.target, want->u.chat.target);
        } else if (want->kind == ENV_INTERACT) {
            assert_string_equal(got->u.interact.target_id, want->u.interact.target_id);
            assert_int_equal(got->u.interact.action, want->u.interact.action);
        } else if (want->kind == ENV_COMBAT) {
            assert_string_equal(got->u.combat.ability_id, want->u.combat.ability_id);
            assert_string_equal(got->u.combat.target_id, want->u.combat.target_id);
        } else if (want->kind == ENV_COMMAND) {
            assert_string_equal(got->u.command.text, want->u.command.text);
        }
        break;
    case ENV_SHOUT:
        assert_int_equal(got->u.shout.sender_id, want->u.shout.sender_id);
        assert_string_equal(got->u.shout.sender_name, want->u.shout.sender_name);
        assert_string_equal(got->u.shout.sender_type, want->u.shout.sender_type);
        assert_int_equal(got->u.shout.channel, want->u.shout.channel);
        assert_true(got->u.shout.wx == want->u.shout.wx && got->u.shout.wy == want->u.shout.wy &&
                    got->u.shout.wz == want->u.shout.wz);
        assert_string_equal(got->u.shout.content, want->u.shout.content);
        break;
    case ENV_DELIVER:
        assert_int_equal(got->client.conn, want->client.conn);
        assert_int_equal(got->msg_class, env_msg_class(want->type, want->type_len));
        assert_span(got->type, got->type_len, want->type, want->type_len);
        assert_span(got->payload, got->payload_len, want->payload, want->payload_len);
        break;
    case ENV_ROUTE:
        assert_int_equal(got->client.conn, want->client.conn);
        assert_int_equal(got->character_id, want->character_id);
        assert_string_equal(got->u.route.zone, want->u.route.zone);
        break;
    case ENV_KICK:
        assert_int_equal(got->client.conn, want->client.conn);
        assert_string_equal(got->u.kick.code, want->u.kick.code);
        assert_string_equal(got->u.kick.message, want->u.kick.message);
        break;
    case ENV_WHISPER:
        assert_string_equal(got->u.whisper.target, want->u.whisper.target);
        /* fall through */
    case ENV_BROADCAST:
        assert_span(got->type, got->type_len, want->type, want->type_len);
        assert_span(got->payload, got->payload_len, want->payload, want->payload_len);
        break;
    case ENV_RESYNC:
        break;
    case ENV_ADMIN_QUERY:
        assert_string_equal(got->client.gateway, want->client.gateway);
        break;
    case ENV_ADMIN_SNAPSHOT:
        assert_string_equal(got->u.route.zone, want->u.route.zone);
        assert_span(got->payload, got->payload_len, want->payload, want->payload_len);
        break;
    case ENV_ADMIN_KICK:
        assert_string_equal(got->u.whisper.target, want->u.whisper.target);
        assert_span(got->payload, got->payload_len, want->payload, want->payload_len);
        break;
    case ENV_EPOCH:
        assert_string_equal(got->u.fence.zone, want->u.fence.zone);
        assert_true(got->u.fence.epoch == want->u.fence.epoch);
        break;
    case ENV_UNKNOWN:
        assert_int_equal(got->client.conn, want->client.conn);
        assert_int_equal(got->character_id, want->character_id);
        assert_string_equal(got->u.route.zone, want->u.route.zone);
        break;
    default:
        fail_msg("unexpected kind %d", want->kind);
    }
}

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    sample_t s;
    build_sample(&s);
    assert_int_equal(s.n, ENV_KIND_MAX - 1); /* one of each */
    char *frame = heap_copy(s.b.data, s.b.len);
    env_reader_t r;
    env_rec_t got;
    assert_int_equal(env_reader_init(&r, frame, s.b.len), 0);
    for (int i = 0; i < s.n; i++) {
        assert_int_equal(env_next(&r, &got), 1);
        /* Borrowed spans point into the frame. */
        if (got.type) assert_true(got.type >= frame && got.type + got.type_len <= frame + s.b.len);
        assert_rec_equal(&s.recs[i], &got);
    }
    assert_int_equal(env_next(&r, &got), 0);
    assert_int_equal(env_next(&r, &got), 0); /* stays at the end */
    free(frame);
    buf_free(&s.b);
}

static void test_deliver_fast_path_matches(void **state)
{
    (void)state;
    buf_t a, b;
    buf_init(&a);
    buf_init(&b);
    env_begin(&a);
    env_begin(&b);
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_DELIVER;
    r.client.conn = 77;
    r.type = "pong";
    r.type_len = 4;
    r.payload = "{\"t\":1}";
    r.payload_len = 7;
    env_put(&a, &r);
    env_put_deliver(&b, 77, "pong", "{\"t\":1}", 7);
    assert_span(a.data, a.len, b.data, b.len);
    /* and the EPOCH helper the zone server uses */
    env_begin(&a);
    env_begin(&b);
    memset(&r, 0, sizeof(r));
    r.kind = ENV_EPOCH;
    snprintf(r.u.fence.zone, sizeof(r.u.fence.zone), "zone-forest");
    r.u.fence.epoch = 42;
    env_put(&a, &r);
    env_put_epoch(&b, "zone-forest", 42);
    assert_span(a.data, a.len, b.data, b.len);
    buf_free(&a);
    buf_free(&b);
}

static void test_empty_frame_and_bad_headers(void **state)
{
    (void)state;
    env_reader_t r;
    env_rec_t rec;
    const char ok[] = {ENV_MAGIC, ENV_VERSION};
    assert_int_equal(env_reader_init(&r, ok, 2), 0);
    assert_int_equal(env_next(&r, &rec), 0);
    assert_int_equal(env_reader_init(&r, ok, 0), -1);
    assert_int_equal(env_reader_init(&r, ok, 1), -1);
    const char bad_magic[] = {'X', ENV_VERSION};
    assert_int_equal(env_reader_init(&r, bad_magic, 2), -1);
    const char bad_version[] = {ENV_MAGIC, ENV_VERSION + 1};
    assert_int_equal(env_reader_init(&r, bad_version, 2), -1);
}

/* Every prefix of a valid frame: whole records decode, then the cut one
 * is refused (or the cut fell exactly on a record boundary: clean end). */
static void test_truncated_frames(void **state)
{
    (void)state;
    sample_t s;
    build_sample(&s);
    for (size_t len = 0; len < s.b.len; len++) {
        char *frame = heap_copy(s.b.data, len);
        env_reader_t r;
        env_rec_t rec;
        if (env_reader_init(&r, frame, len) < 0) {
            assert_true(len < 2);
            free(frame);
            continue;
        }
        int whole = 0;
        for (int i = 0; i < s.n && s.ends[i] <= len; i++)
            whole++;
        int got = 0, rc;
        while ((rc = env_next(&r, &rec)) == 1)
            assert_rec_equal(&s.recs[got++], &rec);
        assert_int_equal(got, whole);
        int at_boundary = len == 2 || (whole > 0 && s.ends[whole - 1] == len);
        assert_int_equal(rc, at_boundary ? 0 : -1);
        if (rc < 0) assert_int_equal(env_next(&r, &rec), -1); /* stays refused */
        free(frame);
    }
    buf_free(&s.b);
}

/* Decodes a frame made of header + the given bytes; returns env_next's result. */
static int decode_one(const uint8_t *body, size_t n, env_rec_t *rec)
{
    char *frame = malloc(n + 2);
    assert_non_null(frame);
    frame[0] = ENV_MAGIC;
    frame[1] = ENV_VERSION;
    memcpy(frame + 2, body, n);
    env_reader_t r;
    assert_int_equal(env_reader_init(&r, frame, n + 2), 0);
    int rc = env_next(&r, rec);
    free(frame);
    return rc;
}

static void test_corrupt_records(void **state)
{
    (void)state;
    env_rec_t rec;
    const uint8_t kind0[] = {0};
    assert_int_equal(decode_one(kind0, 1, &rec), -1);
    const uint8_t kind_max[] = {ENV_KIND_MAX};
    assert_int_equal(decode_one(kind_max, 1, &rec), -1);
    const uint8_t kind_ff[] = {0xff};
    assert_int_equal(decode_one(kind_ff, 1, &rec), -1);

    /* LEAVE whose gateway string is longer than ENV_GW_MAX. */
    uint8_t body[256];
    memset(body, 'g', sizeof(body));
    body[0] = ENV_LEAVE;
    body[1] = ENV_GW_MAX + 1;
    body[2] = 0;
    memset(body + 3 + ENV_GW_MAX + 1, 0, 16);
    assert_int_equal(decode_one(body, 3 + ENV_GW_MAX + 1 + 16, &rec), -1);
    body[1] = ENV_GW_MAX; /* exactly the limit fits */
    memset(body + 3 + ENV_GW_MAX, 0, 16);
    assert_int_equal(decode_one(body, 3 + ENV_GW_MAX + 16, &rec), 1);
    assert_int_equal(strlen(rec.client.gateway), ENV_GW_MAX);

    /* An embedded NUL in a string is refused. */
    const uint8_t nul[] = {ENV_LEAVE, 3, 0, 'a', 0, 'b', 1, 0, 0, 0, 0,
                           0,         0, 0, 2,   0, 0,   0, 0, 0, 0, 0};
    assert_int_equal(decode_one(nul, sizeof(nul), &rec), -1);

    /* MOVE with a method out of range. */
    uint8_t mv[96] = {ENV_MOVE, 1, 0, 'g'};
    size_t n = 4 + 8 + 8;      /* kind, gw, conn, character */
    mv[n++] = MOVE_FOLLOW + 1; /* method out of range */
    mv[n++] = 0;
    mv[n++] = 0;
    n += 32 + 2 + 16; /* heading, x, y, z; empty target id; range, distance */
    assert_int_equal(decode_one(mv, n, &rec), -1);
    mv[4 + 16] = MOVE_POSITION;
    assert_int_equal(decode_one(mv, n, &rec), 1);
    mv[4 + 16 + 2] = SPEED_RUN + 1; /* speed out of range */
    assert_int_equal(decode_one(mv, n, &rec), -1);

    /* DELIVER whose blob claims more bytes than the frame holds. */
    const uint8_t dl[] = {ENV_DELIVER, 1, 0,   0,    0,    0,    0,    0,  0,
                          1,           0, 't', 0xff, 0xff, 0xff, 0xff, '{'};
    assert_int_equal(decode_one(dl, sizeof(dl), &rec), -1);
}

/* The class byte of DELIVER follows from the type; the gateway reads only it. */
static void test_deliver_class(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        env_msg_class_t cls;
    } cases[] = {
        {"proximity_roster_delta", ENV_MSG_ROSTER_DELTA},
        {"proximity_roster", ENV_MSG_ROSTER},
        {"chat", ENV_MSG_CHAT},
        {"event", ENV_MSG_OTHER},
        {"proximity_roster_deltas", ENV_MSG_OTHER}, /* a prefix is not a match */
        {"cha", ENV_MSG_OTHER},
        {"", ENV_MSG_OTHER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(env_msg_class(cases[i].type, strlen(cases[i].type)), cases[i].cls);
        buf_t b;
        buf_init(&b);
        env_begin(&b);
        env_put_deliver(&b, 5, cases[i].type, "{}", 2);
        env_reader_t r;
        env_rec_t rec;
        assert_int_equal(env_reader_init(&r, b.data, b.len), 0);
        assert_int_equal(env_next(&r, &rec), 1);
        assert_int_equal(rec.kind, ENV_DELIVER);
        assert_int_equal(rec.msg_class, cases[i].cls);
        /* the byte right after the connection id */
        assert_int_equal((uint8_t)b.data[2 + 1 + 8], cases[i].cls);
        buf_free(&b);
    }
    /* A class beyond the known ones is a malformed record. */
    const uint8_t bad[] = {ENV_DELIVER, 5, 0,   0, 0, 0, 0, 0,   0,  ENV_MSG_CLASS_MAX,
                           1,           0, 'x', 2, 0, 0, 0, '{', '}'};
    env_rec_t rec;
    assert_int_equal(decode_one(bad, sizeof(bad), &rec), -1);
    uint8_t ok[sizeof(bad)];
    memcpy(ok, bad, sizeof(bad));
    ok[9] = ENV_MSG_CHAT;
    assert_int_equal(decode_one(ok, sizeof(ok), &rec), 1);
    assert_int_equal(rec.msg_class, ENV_MSG_CHAT);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(env_kind_name(ENV_ENTER), "ENTER");
    assert_string_equal(env_kind_name(ENV_WHISPER), "WHISPER");
    assert_string_equal(env_kind_name(ENV_EPOCH), "EPOCH");
    assert_string_equal(env_kind_name(ENV_UNKNOWN), "UNKNOWN");
    assert_string_equal(env_kind_name(ENV_COMMAND), "COMMAND");
    assert_int_equal(ENV_COMMAND, 19); /* docs/PROTOCOL.md's record table */
    assert_string_equal(env_kind_name((env_kind_t)0), "?");
    assert_string_equal(env_kind_name(ENV_KIND_MAX), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_deliver_fast_path_matches),
        cmocka_unit_test(test_empty_frame_and_bad_headers),
        cmocka_unit_test(test_truncated_frames),
        cmocka_unit_test(test_corrupt_records),
        cmocka_unit_test(test_deliver_class),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
