/* test_sio.c - Engine.IO v4 / Socket.IO v5 codec: every packet kind both
 * ways, and the malformed frames a hostile or buggy client can send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/sio.h"

/* Parses a NUL-terminated frame; asserts success. */
static void parse_ok(const char *frame, sio_packet_t *p)
{
    char err[128];
    int rc = sio_parse(frame, strlen(frame), p, err, sizeof err);
    if (rc != 0) fail_msg("parse of '%s' failed: %s", frame, err);
}

/* Parses a frame that must be refused; asserts the reason contains `why`
 * and that the packet comes back cleared. */
static void parse_bad_n(const char *frame, size_t len, const char *why)
{
    char err[128];
    sio_packet_t p;
    assert_int_equal(sio_parse(frame, len, &p, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("reason for rejecting '%.*s' was '%s', want '%s'", (int)len, frame, err, why);
    assert_null(p.data);
    assert_string_equal(p.nsp, "/");
    assert_int_equal(p.ack_id, -1);
}

static void parse_bad(const char *frame, const char *why)
{
    parse_bad_n(frame, strlen(frame), why);
}

/* Engine.IO control packets */

static void test_eio_control_packets(void **state)
{
    (void)state;
    sio_packet_t p;

    parse_ok("2", &p);
    assert_int_equal(p.eio, EIO_PING);
    assert_null(p.raw);
    assert_int_equal(p.raw_len, 0);
    assert_null(p.data);
    sio_packet_clear(&p);

    const char *probe = "2probe";
    parse_ok(probe, &p);
    assert_int_equal(p.eio, EIO_PING);
    assert_int_equal(p.raw_len, 5);
    assert_ptr_equal(p.raw, probe + 1);
    assert_memory_equal(p.raw, "probe", 5);
    sio_packet_clear(&p);

    parse_ok("3", &p);
    assert_int_equal(p.eio, EIO_PONG);
    assert_null(p.raw);
    sio_packet_clear(&p);

    parse_ok("3probe", &p);
    assert_int_equal(p.eio, EIO_PONG);
    assert_memory_equal(p.raw, "probe", 5);
    sio_packet_clear(&p);

    parse_ok("1", &p);
    assert_int_equal(p.eio, EIO_CLOSE);
    sio_packet_clear(&p);

    parse_ok("5", &p);
    assert_int_equal(p.eio, EIO_UPGRADE);
    sio_packet_clear(&p);

    parse_ok("6", &p);
    assert_int_equal(p.eio, EIO_NOOP);
    sio_packet_clear(&p);

    parse_ok("0{\"sid\":\"x\"}", &p);
    assert_int_equal(p.eio, EIO_OPEN);
    assert_int_equal(p.raw_len, 11);
    sio_packet_clear(&p);
}

static void test_eio_bad(void **state)
{
    (void)state;
    parse_bad("", "empty packet");
    parse_bad("7", "unknown Engine.IO packet type");
    parse_bad("9abc", "unknown Engine.IO packet type");
    parse_bad("x", "unknown Engine.IO packet type");
    parse_bad("b4AQID", "unknown Engine.IO packet type"); /* polling base64 binary */
    parse_bad_n("\0"
                "2",
                2, "unknown Engine.IO packet type");
    parse_bad("\xff", "unknown Engine.IO packet type 0xff");
    parse_bad("4", "empty Socket.IO packet");
    parse_bad("4hello", "unknown Socket.IO packet type");
    parse_bad("47[\"x\"]", "unknown Socket.IO packet type");

    /* A NULL buffer and a NULL err are tolerated. */
    sio_packet_t p;
    assert_int_equal(sio_parse(NULL, 0, &p, NULL, 0), -1);
    assert_int_equal(sio_parse("x", 1, &p, NULL, 0), -1);
    char tiny[4];
    assert_int_equal(sio_parse("7", 1, &p, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), 3); /* truncated, still terminated */
}

/* Socket.IO CONNECT / DISCONNECT / CONNECT_ERROR */

static void test_sio_connect(void **state)
{
    (void)state;
    sio_packet_t p;

    parse_ok("40", &p);
    assert_int_equal(p.eio, EIO_MESSAGE);
    assert_int_equal(p.sio, SIO_CONNECT);
    assert_string_equal(p.nsp, "/");
    assert_int_equal(p.ack_id, -1);
    assert_null(p.data);
    sio_packet_clear(&p);

    parse_ok("40{\"token\":\"abc\"}", &p);
    assert_int_equal(p.sio, SIO_CONNECT);
    assert_true(json_is_object(p.data));
    assert_string_equal(json_string_value(json_object_get(p.data, "token")), "abc");
    assert_int_equal(p.raw_len, strlen("{\"token\":\"abc\"}"));
    sio_packet_clear(&p);
    assert_null(p.data);
    sio_packet_clear(&p); /* idempotent */

    parse_ok("40/admin,", &p);
    assert_int_equal(p.sio, SIO_CONNECT);
    assert_string_equal(p.nsp, "/admin");
    assert_null(p.data);
    sio_packet_clear(&p);

    parse_ok("40/admin", &p); /* namespace running to the end of the frame */
    assert_string_equal(p.nsp, "/admin");
    sio_packet_clear(&p);

    parse_ok("40/admin,{\"a\":1}", &p);
    assert_string_equal(p.nsp, "/admin");
    assert_int_equal(json_integer_value(json_object_get(p.data, "a")), 1);
    sio_packet_clear(&p);

    parse_bad("40[1]", "CONNECT payload must be an object");
    parse_bad("40\"x\"", "CONNECT payload must be an object");
    parse_bad("4012", "ack id not allowed on CONNECT");
    parse_bad("40{", "invalid JSON in CONNECT packet");
}

static void test_sio_disconnect_and_error(void **state)
{
    (void)state;
    sio_packet_t p;

    parse_ok("41", &p);
    assert_int_equal(p.sio, SIO_DISCONNECT);
    assert_string_equal(p.nsp, "/");
    sio_packet_clear(&p);

    parse_ok("41/admin,", &p);
    assert_int_equal(p.sio, SIO_DISCONNECT);
    assert_string_equal(p.nsp, "/admin");
    sio_packet_clear(&p);

    parse_bad("41{}", "DISCONNECT takes no payload");
    parse_bad("417", "ack id not allowed on DISCONNECT");

    parse_ok("44{\"message\":\"Not authorized\"}", &p);
    assert_int_equal(p.sio, SIO_CONNECT_ERROR);
    assert_string_equal(json_string_value(json_object_get(p.data, "message")), "Not authorized");
    sio_packet_clear(&p);

    parse_ok("44\"Not authorized\"", &p);
    assert_string_equal(json_string_value(p.data), "Not authorized");
    sio_packet_clear(&p);

    parse_bad("44", "CONNECT_ERROR payload must be an object or a string");
    parse_bad("44[]", "CONNECT_ERROR payload must be an object or a string");
    parse_bad("441{}", "ack id not allowed on CONNECT_ERROR");
}

/* Socket.IO EVENT / ACK */

static void test_sio_event(void **state)
{
    (void)state;
    sio_packet_t p;
    const char *name;
    json_t *payload;

    parse_ok("42[\"ping\",{\"timestamp\":123}]", &p);
    assert_int_equal(p.sio, SIO_EVENT);
    assert_int_equal(p.ack_id, -1);
    assert_int_equal(sio_event_args(&p, &name, &payload), 0);
    assert_string_equal(name, "ping");
    assert_non_null(payload);
    assert_int_equal(json_integer_value(json_object_get(payload, "timestamp")), 123);
    sio_packet_clear(&p);

    parse_ok("42[\"foo\"]", &p);
    assert_int_equal(sio_event_args(&p, &name, &payload), 0);
    assert_string_equal(name, "foo");
    assert_null(payload);
    sio_packet_clear(&p);

    parse_ok("4212[\"foo\",1,2]", &p);
    assert_int_equal(p.ack_id, 12);
    assert_int_equal(sio_event_args(&p, &name, &payload), 0);
    assert_int_equal(json_integer_value(payload), 1);
    sio_packet_clear(&p);

    parse_ok("420[\"foo\"]", &p); /* ack id 0 is a valid id */
    assert_int_equal(p.ack_id, 0);
    sio_packet_clear(&p);

    parse_ok("42/admin,13[\"bar\"]", &p);
    assert_string_equal(p.nsp, "/admin");
    assert_int_equal(p.ack_id, 13);
    assert_int_equal(sio_event_args(&p, &name, &payload), 0);
    assert_string_equal(name, "bar");
    sio_packet_clear(&p);

    parse_ok("42 [\"ws\"] ", &p); /* JSON whitespace around the payload */
    assert_int_equal(sio_event_args(&p, &name, &payload), 0);
    assert_string_equal(name, "ws");
    sio_packet_clear(&p);

    /* The largest id a JS client can produce, and one past it. */
    parse_ok("429007199254740991[\"x\"]", &p);
    assert_true(p.ack_id == SIO_ACK_ID_MAX);
    sio_packet_clear(&p);
    parse_bad("429007199254740992[\"x\"]", "bad ack id");
    parse_bad("4299999999999999999999999[\"x\"]", "bad ack id");

    /* A parsed event whose name is not a string is refused by sio_event_args. */
    parse_ok("42[1,{}]", &p);
    assert_int_equal(sio_event_args(&p, &name, &payload), -1);
    assert_null(name);
    assert_null(payload);
    sio_packet_clear(&p);
    parse_ok("42[null]", &p);
    assert_int_equal(sio_event_args(&p, &name, &payload), -1);
    sio_packet_clear(&p);
}

static void test_sio_event_bad(void **state)
{
    (void)state;
    parse_bad("42", "EVENT payload must be a non-empty array");
    parse_bad("42[]", "EVENT payload must be a non-empty array");
    parse_bad("42{\"a\":1}", "EVENT payload must be a non-empty array");
    parse_bad("42\"x\"", "EVENT payload must be a non-empty array");
    parse_bad("42[\"x\"", "invalid JSON in EVENT packet");
    parse_bad("42[\"x\"]]", "invalid JSON in EVENT packet");
    parse_bad("42[\"x\"] trailing", "invalid JSON in EVENT packet");
    parse_bad("42abc", "invalid JSON in EVENT packet");
    parse_bad("42[\"\\u0000\"]", "invalid JSON");  /* NUL inside a C string: refused */
    parse_bad("42[\"\xc3\x28\"]", "invalid JSON"); /* invalid UTF-8 */
    parse_bad_n("42[\"a\0b\"]", 9, "invalid JSON");
    parse_bad("42/admin,", "EVENT payload must be a non-empty array");
    parse_bad("4212", "EVENT payload must be a non-empty array");
}

static void test_sio_ack(void **state)
{
    (void)state;
    sio_packet_t p;
    const char *name;
    json_t *payload;

    parse_ok("4312[]", &p);
    assert_int_equal(p.sio, SIO_ACK);
    assert_int_equal(p.ack_id, 12);
    assert_true(json_is_array(p.data));
    assert_int_equal(json_array_size(p.data), 0);
    assert_int_equal(sio_event_args(&p, &name, &payload), -1); /* not an event */
    sio_packet_clear(&p);

    parse_ok("43/admin,13[\"bar\"]", &p);
    assert_string_equal(p.nsp, "/admin");
    assert_int_equal(p.ack_id, 13);
    assert_string_equal(json_string_value(json_array_get(p.data, 0)), "bar");
    sio_packet_clear(&p);

    parse_bad("43[]", "ACK without ack id");
    parse_bad("431", "ACK payload must be an array");
    parse_bad("431{}", "ACK payload must be an array");
}

static void test_sio_binary_refused(void **state)
{
    (void)state;
    parse_bad("451-[\"baz\",{\"_placeholder\":true,\"num\":0}]",
              "binary attachments are not supported");
    parse_bad("452-/admin,[\"baz\"]", "binary attachments are not supported");
    parse_bad("461-15[\"bar\",{\"_placeholder\":true,\"num\":0}]",
              "binary attachments are not supported");
    parse_bad("45", "binary attachments are not supported");
}

static void test_sio_namespace_limits(void **state)
{
    (void)state;
    char frame[SIO_NSP_MAX + 16];
    sio_packet_t p;

    /* Exactly SIO_NSP_MAX bytes of namespace is fine. */
    strcpy(frame, "40/");
    memset(frame + 3, 'a', SIO_NSP_MAX - 1);
    strcpy(frame + 2 + SIO_NSP_MAX, ",");
    parse_ok(frame, &p);
    assert_int_equal(strlen(p.nsp), SIO_NSP_MAX);
    sio_packet_clear(&p);

    /* One more byte is refused. */
    strcpy(frame, "40/");
    memset(frame + 3, 'a', SIO_NSP_MAX);
    strcpy(frame + 3 + SIO_NSP_MAX, ",");
    parse_bad(frame, "namespace too long");

    parse_bad_n("40/ad\0min,", 10, "control character in namespace");
    parse_bad("40/a\nb,", "control character in namespace");
}

/* Encoders */

static void assert_buf(buf_t *b, const char *want)
{
    assert_int_equal(b->len, strlen(want));
    assert_string_equal(b->data, want);
    buf_reset(b);
}

static void test_encode(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);

    sio_encode_open(&b, "abc123", 25000, 20000, 65536);
    assert_buf(&b, "0{\"sid\":\"abc123\",\"upgrades\":[],\"pingInterval\":25000,"
                   "\"pingTimeout\":20000,\"maxPayload\":65536}");

    sio_encode_connect(&b, "s1");
    assert_buf(&b, "40{\"sid\":\"s1\"}");

    sio_encode_connect_error(&b, "Invalid namespace \"x\"");
    assert_buf(&b, "44{\"message\":\"Invalid namespace \\\"x\\\"\"}");

    sio_encode_connect_error_nsp(&b, "/admin", "Invalid namespace");
    assert_buf(&b, "44/admin,{\"message\":\"Invalid namespace\"}");
    sio_encode_connect_error_nsp(&b, "/", "x");
    assert_buf(&b, "44{\"message\":\"x\"}");

    const char *payload = "{\"clientTimestamp\":1,\"serverTimestamp\":2}";
    sio_encode_event(&b, "pong", payload, strlen(payload));
    assert_buf(&b, "42[\"pong\",{\"clientTimestamp\":1,\"serverTimestamp\":2}]");

    sio_encode_event(&b, "bare", NULL, 0);
    assert_buf(&b, "42[\"bare\"]");

    sio_encode_event(&b, "we\"ird", "1", 1);
    assert_buf(&b, "42[\"we\\\"ird\",1]");

    sio_encode_ack(&b, 12, "[\"ok\"]", 6);
    assert_buf(&b, "4312[\"ok\"]");

    sio_encode_ack(&b, 0, NULL, 0);
    assert_buf(&b, "430[]");

    sio_encode_disconnect(&b);
    assert_buf(&b, "41");
    sio_encode_ping(&b);
    assert_buf(&b, "2");
    sio_encode_pong(&b, "probe", 5);
    assert_buf(&b, "3probe");
    sio_encode_pong(&b, NULL, 0);
    assert_buf(&b, "3");
    sio_encode_close(&b);
    assert_buf(&b, "1");
    sio_encode_noop(&b);
    assert_buf(&b, "6");

    /* Encoders append: two frames back to back stay intact. */
    sio_encode_ping(&b);
    sio_encode_disconnect(&b);
    assert_buf(&b, "241");

    buf_free(&b);
}

/* What we encode, we parse back to the same packet. */
static void test_round_trip(void **state)
{
    (void)state;
    buf_t b;
    sio_packet_t p;
    const char *name;
    json_t *payload;
    buf_init(&b);

    sio_encode_connect(&b, "sid-1");
    parse_ok(b.data, &p);
    assert_int_equal(p.sio, SIO_CONNECT);
    assert_string_equal(json_string_value(json_object_get(p.data, "sid")), "sid-1");
    sio_packet_clear(&p);
    buf_reset(&b);

    sio_encode_connect_error(&b, "nope");
    parse_ok(b.data, &p);
    assert_int_equal(p.sio, SIO_CONNECT_ERROR);
    sio_packet_clear(&p);
    buf_reset(&b);

    sio_encode_connect_error_nsp(&b, "/chat", "nope");
    parse_ok(b.data, &p);
    assert_int_equal(p.sio, SIO_CONNECT_ERROR);
    assert_string_equal(p.nsp, "/chat");
    assert_string_equal(json_string_value(json_object_get(p.data, "message")), "nope");
    sio_packet_clear(&p);
    buf_reset(&b);

    sio_encode_event(&b, "chat", "{\"message\":\"h\\u00e9\"}", 21);
    parse_ok(b.data, &p);
    assert_int_equal(sio_event_args(&p, &name, &payload), 0);
    assert_string_equal(name, "chat");
    assert_string_equal(json_string_value(json_object_get(payload, "message")), "h\xc3\xa9");
    sio_packet_clear(&p);
    buf_reset(&b);

    sio_encode_ack(&b, 77, "[1,2]", 5);
    parse_ok(b.data, &p);
    assert_int_equal(p.sio, SIO_ACK);
    assert_int_equal(p.ack_id, 77);
    assert_int_equal(json_array_size(p.data), 2);
    sio_packet_clear(&p);
    buf_reset(&b);

    sio_encode_open(&b, "x", 1, 2, 3);
    parse_ok(b.data, &p);
    assert_int_equal(p.eio, EIO_OPEN);
    json_t *open = json_loadb(p.raw, p.raw_len, 0, NULL);
    assert_non_null(open);
    assert_int_equal(json_integer_value(json_object_get(open, "pingTimeout")), 2);
    assert_int_equal(json_array_size(json_object_get(open, "upgrades")), 0);
    json_decref(open);
    sio_packet_clear(&p);

    buf_free(&b);
}

/* Every prefix of a valid frame either parses or fails cleanly. */
static void test_prefixes_never_crash(void **state)
{
    (void)state;
    const char *frames[] = {
        "42/admin,13[\"bar\",{\"a\":[1,2,{\"b\":null}]}]",
        "40{\"token\":\"abc\"}",
        "4312[\"ok\"]",
        "451-[\"baz\",{\"_placeholder\":true,\"num\":0}]",
    };
    for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
        size_t n = strlen(frames[f]);
        for (size_t len = 0; len <= n; len++) {
            sio_packet_t p;
            char err[64];
            int rc = sio_parse(frames[f], len, &p, err, sizeof err);
            assert_true(rc == 0 || rc == -1);
            if (rc == -1) assert_null(p.data);
            sio_packet_clear(&p);
        }
    }
}

/* Takes every packet of body; returns the count, or -1 at an empty packet. */
static int split(const char *body, const char **pkts, size_t *lens)
{
    const char *pos = body, *pkt = NULL;
    size_t n;
    int rc, count = 0;
    while ((rc = sio_payload_next(&pos, body + strlen(body), &pkt, &n)) > 0) {
        pkts[count] = pkt;
        lens[count++] = n;
    }
    return rc < 0 ? -1 : count;
}

static void test_polling_payload(void **state)
{
    (void)state;
    const char *pkts[4] = {0};
    size_t lens[4] = {0};
    assert_int_equal(split("40", pkts, lens), 1);
    assert_int_equal(lens[0], 2);
    assert_int_equal(split("3\x1e"
                           "42[\"a\"]\x1e"
                           "1",
                           pkts, lens),
                     3);
    assert_memory_equal(pkts[1], "42[\"a\"]", lens[1]);
    assert_memory_equal(pkts[2], "1", lens[2]);
    assert_int_equal(split("", pkts, lens), -1);
    assert_int_equal(split("\x1e", pkts, lens), -1);
    assert_int_equal(split("40\x1e", pkts, lens), -1);
    assert_int_equal(split("\x1e"
                           "40",
                           pkts, lens),
                     -1);
    assert_int_equal(split("2\x1e\x1e"
                           "3",
                           pkts, lens),
                     -1);
    buf_t b;
    buf_init(&b);
    sio_encode_open_polling(&b, "s", 1, 2, 3);
    assert_string_equal(b.data, "0{\"sid\":\"s\",\"upgrades\":[\"websocket\"],\"pingInterval\":1,"
                                "\"pingTimeout\":2,\"maxPayload\":3}");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eio_control_packets),
        cmocka_unit_test(test_eio_bad),
        cmocka_unit_test(test_sio_connect),
        cmocka_unit_test(test_sio_disconnect_and_error),
        cmocka_unit_test(test_sio_event),
        cmocka_unit_test(test_sio_event_bad),
        cmocka_unit_test(test_sio_ack),
        cmocka_unit_test(test_sio_binary_refused),
        cmocka_unit_test(test_sio_namespace_limits),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_prefixes_never_crash),
        cmocka_unit_test(test_polling_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
