/* test_announce.c - the admin announcement record (bus/announce.c), as the
 * admin console and `wod-server announce` publish it and gateways read it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/announce.h"
#include "core/buf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_record_round_trips_as_announcement_event(void **state)
{
    (void)state;
    env_rec_t r;
    const char *text = "Restart in 5 \"minutes\" \xc3\xa9";
    char *payload = bus_announcement(&r, "zone-forest", text);
    assert_non_null(payload);
    assert_int_equal(r.kind, ENV_BROADCAST);

    buf_t b;
    buf_init(&b);
    env_begin(&b);
    env_put(&b, &r);
    env_reader_t rd;
    env_rec_t got;
    assert_int_equal(env_reader_init(&rd, b.data, b.len), 0);
    assert_int_equal(env_next(&rd, &got), 1);
    assert_int_equal(got.kind, ENV_BROADCAST);
    assert_int_equal(got.type_len, 5);
    assert_memory_equal(got.type, "event", 5);
    assert_int_equal(got.payload_len, strlen(payload));
    assert_memory_equal(got.payload, payload, got.payload_len);
    assert_int_equal(env_next(&rd, &got), 0);

    json_t *ev = json_loadb(payload, strlen(payload), 0, NULL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "eventType")), "announcement");
    assert_string_equal(json_string_value(json_object_get(ev, "message")), text);
    assert_string_equal(json_string_value(json_object_get(ev, "zoneId")), "zone-forest");
    assert_true(json_integer_value(json_object_get(ev, "timestamp")) > 0);
    json_decref(ev);
    buf_free(&b);
    free(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trips_as_announcement_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
