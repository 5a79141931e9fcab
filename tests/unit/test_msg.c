/* Unit tests for the client message decoder (src/proto/msg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_move_compass_and_position),
        cmocka_unit_test(test_chat_limits),
        cmocka_unit_test(test_auth_and_select),
        cmocka_unit_test(test_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
