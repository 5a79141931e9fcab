/* Unit tests for the gateway session's pure rules (src/gateway/session_rules.c):
 * the order of a session, the chat rate limit, and dropping roster deltas
 * for a backed-up client until a full roster resynchronises it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "gateway/session_rules.h"

/* Asserts the rule for (state, type): allowed, or refused with code. */
static void expect(conn_state_t state, msg_type_t type, const char *code)
{
    gw_refusal_t why = {NULL, NULL, NULL};
    int rc = gw_rules_order(state, type, &why);
    if (!code) {
        assert_int_equal(rc, 0);
        return;
    }
    assert_int_equal(rc, -1);
    assert_non_null(why.code);
    assert_string_equal(why.code, code);
    assert_non_null(why.message);
    assert_true(strcmp(why.severity, "error") == 0 || strcmp(why.severity, "warning") == 0);
}

static void test_handshake_first(void **state)
{
    (void)state;
    /* Before the handshake only ping, disconnect and the handshake itself. */
    expect(ST_NEW, MSG_PING, NULL);
    expect(ST_NEW, MSG_DISCONNECT, NULL);
    expect(ST_NEW, MSG_HANDSHAKE, NULL);
    expect(ST_NEW, MSG_AUTH, "HANDSHAKE_REQUIRED");
    expect(ST_NEW, MSG_CHARACTER_SELECT, "HANDSHAKE_REQUIRED");
    expect(ST_NEW, MSG_MOVE, "HANDSHAKE_REQUIRED");
    expect(ST_NEW, MSG_CHAT, "HANDSHAKE_REQUIRED");
    /* A second handshake is refused in every later state. */
    expect(ST_HANDSHAKEN, MSG_HANDSHAKE, "ALREADY_HANDSHAKEN");
    expect(ST_AUTHED, MSG_HANDSHAKE, "ALREADY_HANDSHAKEN");
    expect(ST_IN_WORLD, MSG_HANDSHAKE, "ALREADY_HANDSHAKEN");
}

static void test_auth_before_characters(void **state)
{
    (void)state;
    expect(ST_HANDSHAKEN, MSG_AUTH, NULL);
    expect(ST_HANDSHAKEN, MSG_CHARACTER_CREATE, "NOT_AUTHENTICATED");
    expect(ST_HANDSHAKEN, MSG_CHARACTER_SELECT, "NOT_AUTHENTICATED");
    expect(ST_HANDSHAKEN, MSG_MOVE, "NOT_AUTHENTICATED");
    /* auth once */
    expect(ST_AUTHED, MSG_AUTH, "ALREADY_AUTHENTICATED");
    expect(ST_IN_WORLD, MSG_AUTH, "ALREADY_AUTHENTICATED");
    expect(ST_AUTHED, MSG_CHARACTER_CREATE, NULL);
    expect(ST_AUTHED, MSG_CHARACTER_SELECT, NULL);
}

static void test_world_after_character(void **state)
{
    (void)state;
    static const msg_type_t world[] = {MSG_MOVE, MSG_CHAT, MSG_INTERACT, MSG_COMBAT_ACTION,
                                       MSG_PROXIMITY_REFRESH};
    for (size_t i = 0; i < sizeof(world) / sizeof(world[0]); i++) {
        expect(ST_AUTHED, world[i], "NOT_IN_WORLD");
        expect(ST_IN_WORLD, world[i], NULL);
    }
    expect(ST_IN_WORLD, MSG_CHARACTER_SELECT, "ALREADY_IN_WORLD");
    expect(ST_IN_WORLD, MSG_CHARACTER_CREATE, "ALREADY_IN_WORLD");
    expect(ST_IN_WORLD, MSG_PING, NULL);
    expect(ST_IN_WORLD, MSG_DISCONNECT, NULL);
}

static void test_chat_burst_then_rate(void **state)
{
    (void)state;
    gw_chat_bucket_t b;
    double now = 5000;
    gw_rules_chat_init(&b, now);
    for (int i = 0; i < GW_CHAT_BURST; i++)
        assert_int_equal(gw_rules_chat_take(&b, now), 1);
    assert_int_equal(gw_rules_chat_take(&b, now), 0); /* burst spent */
    assert_int_equal(gw_rules_chat_take(&b, now), 0); /* refusals take nothing back */
    /* GW_CHAT_PER_SEC lines a second afterwards: one every 500 ms. */
    now += 1000.0 / GW_CHAT_PER_SEC - 1;
    assert_int_equal(gw_rules_chat_take(&b, now), 0);
    now += 1;
    assert_int_equal(gw_rules_chat_take(&b, now), 1);
    assert_int_equal(gw_rules_chat_take(&b, now), 0);
    /* A long silence refills no more than the burst. */
    now += 3600 * 1000.0;
    for (int i = 0; i < GW_CHAT_BURST; i++)
        assert_int_equal(gw_rules_chat_take(&b, now), 1);
    assert_int_equal(gw_rules_chat_take(&b, now), 0);
}

static void test_deltas_dropped_until_full_roster(void **state)
{
    (void)state;
    gw_roster_flow_t f = {0, 0};
    /* A client keeping up gets every delta. */
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, 0), 1);
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, GW_DELTA_DROP_BYTES), 1);
    assert_int_equal(gw_rules_resync_due(&f, 0), 0); /* nothing dropped, nothing to ask */
    /* Past the mark: dropped, and the client is stale from now on. */
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, GW_DELTA_DROP_BYTES + 1), 0);
    assert_true(f.stale);
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, 0), 0); /* even once drained */
    /* Chat, events and anything else still go. */
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_CHAT, GW_DELTA_DROP_BYTES * 4), 1);
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_OTHER, GW_DELTA_DROP_BYTES * 4), 1);
    assert_true(f.stale);
    /* Resync only under the resume mark, and only once. */
    assert_int_equal(gw_rules_resync_due(&f, GW_DELTA_RESUME_BYTES + 1), 0);
    assert_int_equal(gw_rules_resync_due(&f, GW_DELTA_RESUME_BYTES), 1);
    assert_true(f.resync_asked);
    assert_int_equal(gw_rules_resync_due(&f, 0), 0);
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, 0), 0); /* still waiting */
    /* The full roster ends it: deltas flow again. */
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER, 0), 1);
    assert_false(f.stale);
    assert_false(f.resync_asked);
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, 0), 1);
    /* A second backlog asks again. */
    assert_int_equal(gw_rules_deliver(&f, ENV_MSG_ROSTER_DELTA, GW_DELTA_DROP_BYTES + 1), 0);
    assert_int_equal(gw_rules_resync_due(&f, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_first),
        cmocka_unit_test(test_auth_before_characters),
        cmocka_unit_test(test_world_after_character),
        cmocka_unit_test(test_chat_burst_then_rate),
        cmocka_unit_test(test_deltas_dropped_until_full_roster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
