/* test_bus_local.c - the in-process bus of `wod-server all`: delivery only
 * to subscribers, in publish order, never inside the publisher's call,
 * unsubscribe and close (also from inside a delivery callback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus/bus.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

typedef struct {
    const char *name;
    char got[16][32]; /* "channel:data" per delivery */
    int n;
    bus_t *close_on_msg; /* closed from inside the callback */
} sink_t;

static void on_msg(void *ud, const char *channel, const char *data, size_t len)
{
    sink_t *s = ud;
    if (s->n < 16) snprintf(s->got[s->n], sizeof(s->got[0]), "%s:%.*s", channel, (int)len, data);
    s->n++;
    if (s->close_on_msg) {
        bus_close(s->close_on_msg);
        s->close_on_msg = NULL;
    }
}

static void run_loop(uv_loop_t *loop)
{
    for (int i = 0; i < 5; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void test_delivery_order_and_deferral(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    bus_hub_t *hub = bus_hub_new(&loop);
    sink_t a = {.name = "a"}, b = {.name = "b"};
    bus_t *ba = bus_local_new(hub, on_msg, NULL, &a);
    bus_t *bb = bus_local_new(hub, on_msg, NULL, &b);
    assert_int_equal(bus_subscribe(bb, "zone:z1:input"), 0);
    assert_int_equal(bus_subscribe(bb, "zone:z1:input"), 0); /* twice is once */
    assert_int_equal(bus_publish(ba, "zone:z1:input", "one", 3), 0);
    assert_int_equal(bus_publish(ba, "zone:z2:input", "nobody", 6), 0);
    assert_int_equal(bus_publish(ba, "zone:z1:input", "two", 3), 0);
    assert_int_equal(b.n, 0); /* not inside the publisher's call */
    run_loop(&loop);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.got[0], "zone:z1:input:one");
    assert_string_equal(b.got[1], "zone:z1:input:two");
    assert_int_equal(a.n, 0); /* the publisher did not subscribe */
    assert_int_equal(ba->stats.published, 3);
    assert_int_equal(bb->stats.received, 2);
    assert_int_equal(bb->stats.bytes_in, 6);

    assert_int_equal(bus_unsubscribe(bb, "zone:z1:input"), 0);
    assert_int_equal(bus_publish(ba, "zone:z1:input", "three", 5), 0);
    run_loop(&loop);
    assert_int_equal(b.n, 2);

    bus_close(ba);
    bus_close(bb);
    bus_hub_free(hub);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A subscriber that closes the other subscriber's bus, and one that
 * closes its own, from inside delivery: no use after free (ASan), and a
 * closed bus gets nothing more. */
static void test_close_inside_callback(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    bus_hub_t *hub = bus_hub_new(&loop);
    sink_t a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
    bus_t *ba = bus_local_new(hub, on_msg, NULL, &a);
    bus_t *bb = bus_local_new(hub, on_msg, NULL, &b);
    bus_t *bc = bus_local_new(hub, on_msg, NULL, &c);
    bus_subscribe(ba, "ch");
    bus_subscribe(bb, "ch");
    bus_subscribe(bc, "ch");
    /* members are walked newest first: c, b, a */
    c.close_on_msg = bb; /* c closes b before b's turn */
    a.close_on_msg = ba; /* a closes itself */
    bus_publish(bc, "ch", "x", 1);
    bus_publish(bc, "ch", "y", 1);
    run_loop(&loop);
    assert_int_equal(c.n, 2);
    assert_int_equal(b.n, 0);
    assert_int_equal(a.n, 1); /* closed after the first */
    bus_close(bc);
    bus_hub_free(hub);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_order_and_deferral),
        cmocka_unit_test(test_close_inside_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
