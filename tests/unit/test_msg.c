/* Unit tests for the client message decoder (src/proto/msg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/msg.h"

static int decode(const char *json, msg_t *m, const char **code)
{
    char err[200];
    return msg_decode_native(json, strlen(json), m, code, err, sizeof(err));
}

static void test_handshake(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                            "\"clientType\":\"vr\",\"capabilities\":{\"maxUpdateRate\":5}}}",
                            &m, &code),
                     0);
    assert_int_equal(m.type, MSG_HANDSHAKE);
    assert_string_equal(m.u.handshake.protocol_version, "1.0.0");
    assert_int_equal(m.u.handshake.client_type, CLIENT_VR);
    assert_true(m.u.handshake.max_update_rate == 5.0);
}

static void test_errors(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    assert_int_equal(decode("{bad", &m, &code), -1);
    assert_string_equal(code, MSG_ERR_PARSE);
    assert_int_equal(decode("[1,2]", &m, &code), -1);
    assert_string_equal(code, MSG_ERR_PAYLOAD);
    assert_int_equal(decode("{\"type\":\"warp\"}", &m, &code), -1);
    assert_string_equal(code, MSG_ERR_TYPE);
    assert_int_equal(decode("{\"type\":\"move\",\"payload\":{\"method\":\"heading\"}}", &m, &code),
                     -1);
    assert_string_equal(code, MSG_ERR_PAYLOAD);
    assert_int_equal(
        decode("{\"type\":\"move\",\"payload\":{\"method\":\"heading\",\"heading\":400}}", &m,
               &code),
        -1);
    assert_int_equal(
        decode("{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":7}}", &m, &code),
        -1);
    assert_int_equal(decode("{\"type\":\"ping\",\"payload\":\"x\"}", &m, &code), -1);
    /* duplicate keys are rejected, not silently merged */
    assert_int_equal(decode("{\"type\":\"ping\",\"type\":\"move\"}", &m, &code), -1);
}

static void test_move_compass_and_position(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"move\",\"payload\":{\"method\":\"compass\",\"compass\":"
                            "\"SW\",\"speed\":\"run\"}}",
                            &m, &code),
                     0);
    assert_true(m.u.move.heading == 225.0);
    assert_int_equal(m.u.move.speed, SPEED_RUN);
    assert_int_equal(m.u.move.has_speed, 1);
    assert_int_equal(decode("{\"type\":\"move\",\"payload\":{\"method\":\"position\",\"position\":"
                            "{\"x\":1.5,\"z\":-2}}}",
                            &m, &code),
                     0);
    assert_true(m.u.move.x == 1.5 && m.u.move.z == -2 && m.u.move.y == 0);
    assert_int_equal(m.u.move.has_speed, 0);
    /* method "position" walks there: a follow of a point (no target id) */
    assert_int_equal(m.u.move.method, MOVE_FOLLOW);
    assert_string_equal(m.u.move.target_id, "");
}

static msg_move_t mv(const char *payload, int rc_want)
{
    char json[512];
    msg_t m;
    const char *code = NULL;
    snprintf(json, sizeof(json), "{\"type\":\"move\",\"payload\":%s}", payload);
    int rc = decode(json, &m, &code);
    assert_int_equal(rc, rc_want);
    if (rc) assert_string_equal(code, MSG_ERR_PAYLOAD);
    return m.u.move;
}

/* `move` without `method`: the fields present decide. */
static void test_move_inference(void **state)
{
    (void)state;
    /* the original clients' step: position, heading 0, walk, no method */
    msg_move_t m =
        mv("{\"position\":{\"x\":100,\"y\":0,\"z\":90},\"heading\":0,\"speed\":\"walk\"}", 0);
    assert_int_equal(m.method, MOVE_POSITION);
    assert_true(m.x == 100 && m.z == 90);
    assert_int_equal(m.has_speed, 1);
    assert_int_equal(m.speed, SPEED_WALK);
    m = mv("{\"heading\":270}", 0);
    assert_int_equal(m.method, MOVE_HEADING);
    assert_true(m.heading == 270);
    m = mv("{\"compass\":\"NE\",\"speed\":\"jog\",\"distance\":30}", 0);
    assert_int_equal(m.method, MOVE_COMPASS);
    assert_true(m.heading == 45 && m.distance_ft == 30);
    /* speed "stop" alone stops, keeping the heading */
    m = mv("{\"speed\":\"stop\"}", 0);
    assert_int_equal(m.method, MOVE_HEADING);
    assert_int_equal(m.speed, SPEED_STOP);
    assert_true(m.heading == -1);
    /* a target entity: follow it to a range (feet, or the reference's names) */
    m = mv("{\"targetId\":\"npc-2\",\"range\":\"melee\",\"speed\":\"run\"}", 0);
    assert_int_equal(m.method, MOVE_FOLLOW);
    assert_string_equal(m.target_id, "npc-2");
    assert_true(m.range_ft == 5);
    m = mv("{\"targetId\":\"char-7\",\"range\":12.5}", 0);
    assert_true(m.range_ft == 12.5);
    /* targetId wins over position when both are present without method */
    m = mv("{\"targetId\":\"char-7\",\"position\":{\"x\":1,\"z\":2}}", 0);
    assert_int_equal(m.method, MOVE_FOLLOW);
    /* an explicit method wins over inference */
    m = mv("{\"method\":\"heading\",\"heading\":90,\"position\":{\"x\":1,\"z\":2}}", 0);
    assert_int_equal(m.method, MOVE_HEADING);
    /* nothing to go on, or bad values */
    mv("{}", -1);
    mv("{\"speed\":\"walk\"}", -1);
    mv("{\"targetId\":\"npc-1\",\"range\":\"far\"}", -1);
    mv("{\"targetId\":\"npc-1\",\"range\":-1}", -1);
    mv("{\"heading\":90,\"distance\":-3}", -1);
    mv("{\"position\":{\"x\":1}}", -1);
    mv("{\"method\":\"position\"}", -1);
}

static void test_handshake_caps_and_refresh(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                            "\"capabilities\":{\"isMachine\":true,\"communication\":true}}}",
                            &m, &code),
                     0);
    assert_int_equal(m.u.handshake.is_machine, 1);
    assert_int_equal(m.u.handshake.communication, 1);
    assert_int_equal(decode("{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                            "\"capabilities\":{\"isMachine\":1}}}",
                            &m, &code),
                     -1);
    assert_int_equal(decode("{\"type\":\"proximity_refresh\",\"payload\":{}}", &m, &code), 0);
    assert_int_equal(m.type, MSG_PROXIMITY_REFRESH);
    /* ours: capabilities.encoding "compact" (anything else is JSON; not a string: refused) */
    assert_int_equal(decode("{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                            "\"capabilities\":{\"encoding\":\"compact\"}}}",
                            &m, &code),
                     0);
    assert_int_equal(m.u.handshake.compact, 1);
    assert_true(msg_client_flags(&m.u.handshake) & MSG_CLIENT_COMPACT);
    assert_int_equal(decode("{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                            "\"capabilities\":{\"encoding\":\"msgpack\"}}}",
                            &m, &code),
                     0);
    assert_int_equal(m.u.handshake.compact, 0);
    assert_false(msg_client_flags(&m.u.handshake) & MSG_CLIENT_COMPACT);
    assert_int_equal(decode("{\"type\":\"handshake\",\"payload\":{\"protocolVersion\":\"1.0.0\","
                            "\"capabilities\":{\"encoding\":1}}}",
                            &m, &code),
                     -1);
}

static void test_chat_limits(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    char big[700];
    memset(big, 'a', 501);
    big[501] = '\0';
    char json[900];
    snprintf(json, sizeof(json),
             "{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":\"%s\"}}", big);
    assert_int_equal(decode(json, &m, &code), -1);
    assert_string_equal(code, "MESSAGE_TOO_LONG");
    big[500] = '\0';
    snprintf(json, sizeof(json),
             "{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":\"%s\"}}", big);
    assert_int_equal(decode(json, &m, &code), 0);
    assert_int_equal(decode("{\"type\":\"chat\",\"payload\":{\"channel\":\"whisper\",\"message\":"
                            "\"x\"}}",
                            &m, &code),
                     -1); /* whisper needs a target */
    assert_int_equal(decode("{\"type\":\"chat\",\"payload\":{\"channel\":\"whisper\",\"message\":"
                            "\"x\",\"target\":\"Bob\"}}",
                            &m, &code),
                     0);
    assert_string_equal(m.u.chat.target, "Bob");
}

static void test_auth_and_select(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"auth\",\"payload\":{\"method\":\"credentials\","
                            "\"username\":\"bob\",\"password\":\"pw\",\"register\":true}}",
                            &m, &code),
                     0);
    assert_int_equal(m.u.auth.method, AUTH_CREDENTIALS);
    assert_int_equal(m.u.auth.register_account, 1);
    assert_int_equal(decode("{\"type\":\"auth\",\"payload\":{\"method\":\"token\"}}", &m, &code),
                     -1);
    assert_int_equal(
        decode("{\"type\":\"character_select\",\"payload\":{\"characterId\":\"42\"}}", &m, &code),
        0);
    assert_int_equal(m.u.select.character_id, 42);
    assert_int_equal(
        decode("{\"type\":\"character_select\",\"payload\":{\"characterId\":\"4x\"}}", &m, &code),
        -1);
}

static void test_command(void **state)
{
    (void)state;
    static msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"command\",\"payload\":\"/look\"}", &m, &code), 0);
    assert_int_equal(m.type, MSG_COMMAND);
    assert_string_equal(m.u.command.text, "/look");
    assert_int_equal(
        decode("{\"type\":\"command\",\"payload\":{\"command\":\"/say hi\"}}", &m, &code), 0);
    assert_string_equal(m.u.command.text, "/say hi");
    /* nested {type, payload}, missing or non-string: empty_command */
    assert_int_equal(
        decode("{\"type\":\"command\",\"payload\":{\"command\":{\"type\":\"x\"}}}", &m, &code), -1);
    assert_string_equal(code, "EMPTY_COMMAND");
    assert_int_equal(decode("{\"type\":\"command\"}", &m, &code), -1);
    assert_string_equal(code, "EMPTY_COMMAND");
    assert_int_equal(decode("{\"type\":\"command\",\"payload\":7}", &m, &code), -1);
    /* longer than the buffer: refused at the edge (500 characters are counted by the zone) */
    static char big[2200];
    strcpy(big, "{\"type\":\"command\",\"payload\":\"/say ");
    size_t n = strlen(big);
    memset(big + n, 'x', 2050);
    strcpy(big + n + 2050, "\"}");
    assert_int_equal(decode(big, &m, &code), -1);
    assert_string_equal(code, "COMMAND_TOO_LONG");
}

/* The pong echoes the client's timestamp: any finite double must give a
 * short, valid JSON object whose length is what the buffer holds (the old
 * snprintf reply to 1e308 sent ~320 bytes past a 96-byte buffer). */
static void test_pong_payload(void **state)
{
    (void)state;
    const double ts[] = {0, 1700000000123.0, 1.5, -42, 1e308, -1e308, 4.9e-324, 1e17, 123456.789};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        char p[96];
        memset(p, 'A', sizeof(p));
        int n = msg_pong_payload(p, sizeof(p), ts[i], 1700000000000ULL);
        assert_true(n > 0 && n < (int)sizeof(p));
        assert_int_equal(strlen(p), (size_t)n);
        json_error_t je;
        json_t *j = json_loadb(p, (size_t)n, 0, &je);
        assert_non_null(j);
        assert_true(json_number_value(json_object_get(j, "clientTimestamp")) == ts[i]);
        assert_int_equal(json_integer_value(json_object_get(j, "serverTimestamp")),
                         1700000000000LL);
        json_decref(j);
    }
    /* through the decoder: 1e308 is a valid ping timestamp */
    msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"ping\",\"payload\":{\"timestamp\":1e308}}", &m, &code), 0);
    char p[96];
    assert_true(msg_pong_payload(p, sizeof(p), m.u.ping.timestamp, 1) < 64);
    /* too small a buffer fails instead of reporting what did not fit */
    char small[16];
    assert_int_equal(msg_pong_payload(small, sizeof(small), 1e308, 1), -1);
    assert_string_equal(small, "");
}

/* Control characters: stripped from free text, refused in names. */
static void test_control_chars(void **state)
{
    (void)state;
    msg_t m;
    const char *code;
    assert_int_equal(decode("{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":"
                            "\"a\\u001b[2Jb\\u0007c\\nd\\te\\r\\u007f\\u009bf\"}}",
                            &m, &code),
                     0);
    assert_string_equal(m.u.chat.message, "a[2Jbc\nd\tef");
    /* nothing left: empty */
    assert_int_equal(decode("{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":"
                            "\"\\u001b\\u0007\"}}",
                            &m, &code),
                     -1);
    assert_int_equal(decode("{\"type\":\"character_create\",\"payload\":{\"name\":\"Bo\\u001bb\","
                            "\"appearance\":{\"description\":\"tall\\u0007 one\"}}}",
                            &m, &code),
                     -1);
    assert_string_equal(code, MSG_ERR_NAME);
    assert_int_equal(decode("{\"type\":\"character_create\",\"payload\":{\"name\":\"Bob\","
                            "\"appearance\":{\"description\":\"tall\\u0007 one\"}}}",
                            &m, &code),
                     0);
    assert_string_equal(m.u.create.description, "tall one");
    assert_int_equal(decode("{\"type\":\"auth\",\"payload\":{\"method\":\"guest\","
                            "\"guestName\":\"G\\u0008x\"}}",
                            &m, &code),
                     -1);
    assert_string_equal(code, MSG_ERR_NAME);
    /* UTF-8 letters are not control characters */
    assert_int_equal(decode("{\"type\":\"chat\",\"payload\":{\"channel\":\"say\",\"message\":"
                            "\"h\\u00e9llo \\u00a0\\u0100\"}}",
                            &m, &code),
                     0);
    assert_string_equal(m.u.chat.message, "h\xc3\xa9llo \xc2\xa0\xc4\x80");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_move_compass_and_position),
        cmocka_unit_test(test_move_inference),
        cmocka_unit_test(test_handshake_caps_and_refresh),
        cmocka_unit_test(test_chat_limits),
        cmocka_unit_test(test_auth_and_select),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_pong_payload),
        cmocka_unit_test(test_control_chars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
