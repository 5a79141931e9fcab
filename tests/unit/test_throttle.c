/* Unit tests for the login throttles (src/gateway/throttle.c) with a fake
 * clock, and the bounded hashing pool (src/gateway/hashpool.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <uv.h>

#include "gateway/hashpool.h"
#include "gateway/throttle.h"

static void test_bucket_refills_evenly(void **state)
{
    (void)state;
    throttle_t *t = throttle_new(100);
    double now = 1000;
    /* 3 per minute: three go, the fourth waits 20 s (one token's refill). */
    for (int i = 0; i < 3; i++) {
        assert_true(throttle_bucket_wait(t, "guest:a", 3, 60000, now) == 0);
        throttle_bucket_take(t, "guest:a", 3, 60000, now);
    }
    assert_true(throttle_bucket_wait(t, "guest:a", 3, 60000, now) == 20000);
    /* Another address is not affected. */
    assert_true(throttle_bucket_wait(t, "guest:b", 3, 60000, now) == 0);
    now += 10000;
    assert_true(throttle_bucket_wait(t, "guest:a", 3, 60000, now) == 10000);
    now += 10000;
    assert_true(throttle_bucket_wait(t, "guest:a", 3, 60000, now) == 0);
    throttle_bucket_take(t, "guest:a", 3, 60000, now);
    assert_true(throttle_bucket_wait(t, "guest:a", 3, 60000, now) > 0);
    /* Long idle refills to the limit, not beyond it. */
    now += 3600000;
    for (int i = 0; i < 3; i++)
        throttle_bucket_take(t, "guest:a", 3, 60000, now);
    assert_true(throttle_bucket_wait(t, "guest:a", 3, 60000, now) > 0);
    /* limit 0 = unlimited */
    for (int i = 0; i < 1000; i++)
        throttle_bucket_take(t, "guest:c", 0, 60000, now);
    assert_true(throttle_bucket_wait(t, "guest:c", 0, 60000, now) == 0);
    throttle_free(t);
}

static void test_lockout_backoff_and_reset(void **state)
{
    (void)state;
    throttle_t *t = throttle_new(100);
    throttle_lockout_t p = {5, 1000, 8000};
    double now = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(throttle_fail(t, "acct:alice", &p, now) == 0);
        assert_true(throttle_locked_ms(t, "acct:alice", now) == 0);
    }
    /* Fifth failure: 1 s, then doubling, capped at 8 s. */
    assert_true(throttle_fail(t, "acct:alice", &p, now) == 1000);
    assert_true(throttle_locked_ms(t, "acct:alice", now + 400) == 600);
    assert_true(throttle_locked_ms(t, "acct:alice", now + 1000) == 0);
    now += 1000;
    assert_true(throttle_fail(t, "acct:alice", &p, now) == 2000);
    assert_true(throttle_fail(t, "acct:alice", &p, now) == 4000);
    assert_true(throttle_fail(t, "acct:alice", &p, now) == 8000);
    assert_true(throttle_fail(t, "acct:alice", &p, now) == 8000);
    for (int i = 0; i < 100; i++)
        assert_true(throttle_fail(t, "acct:alice", &p, now) == 8000); /* no shift overflow */
    assert_true(throttle_locked_ms(t, "acct:bob", now) == 0);
    /* Success forgets the streak: four more failures lock nothing. */
    throttle_success(t, "acct:alice");
    assert_true(throttle_locked_ms(t, "acct:alice", now) == 0);
    for (int i = 0; i < 4; i++)
        assert_true(throttle_fail(t, "acct:alice", &p, now) == 0);
    /* threshold 0 never locks */
    throttle_lockout_t off = {0, 1000, 8000};
    for (int i = 0; i < 50; i++)
        assert_true(throttle_fail(t, "acct:carol", &off, now) == 0);
    throttle_free(t);
}

static void test_bounded_lru(void **state)
{
    (void)state;
    throttle_t *t = throttle_new(3);
    throttle_lockout_t p = {1, 1000, 1000};
    char key[32];
    throttle_fail(t, "acct:keep", &p, 0);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "acct:%d", i);
        throttle_fail(t, key, &p, 0);
        /* Touching "keep" makes it the most recently used each round. */
        assert_true(throttle_locked_ms(t, "acct:keep", 0) > 0);
        assert_true(throttle_count(t) <= 3);
    }
    assert_int_equal(throttle_count(t), 3);
    assert_true(throttle_locked_ms(t, "acct:keep", 0) > 0);
    assert_true(throttle_locked_ms(t, "acct:0", 0) == 0); /* evicted */
    assert_true(throttle_locked_ms(t, "acct:9", 0) > 0);
    throttle_free(t);
}

/* --- hashpool: a gate holds the threads so the queue fills for sure --- */
static uv_mutex_t gate;
static int ran, done_ok, done_cancelled;

static void gated_work(void *arg)
{
    (void)arg;
    uv_mutex_lock(&gate);
    ran++;
    uv_mutex_unlock(&gate);
}

static void count_done(void *arg, int status)
{
    (void)arg;
    if (status == 0)
        done_ok++;
    else
        done_cancelled++;
}

static void test_hashpool_bounded(void **state)
{
    (void)state;
    uv_loop_t loop;
    hashpool_t *p;
    uv_loop_init(&loop);
    uv_mutex_init(&gate);
    ran = done_ok = done_cancelled = 0;
    uv_mutex_lock(&gate);
    assert_int_equal(hashpool_new(&p, &loop, 2, 3), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(hashpool_submit(p, gated_work, count_done, NULL), 0);
    assert_int_equal(hashpool_submit(p, gated_work, count_done, NULL), -EBUSY);
    assert_int_equal(hashpool_depth(p), 5);
    uv_mutex_unlock(&gate);
    while (done_ok < 5)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(ran, 5);
    assert_int_equal(hashpool_depth(p), 0);
    /* Room again; close answers a job that never started with UV_ECANCELED. */
    uv_mutex_lock(&gate);
    for (int i = 0; i < 5; i++)
        assert_int_equal(hashpool_submit(p, gated_work, count_done, NULL), 0);
    uv_mutex_unlock(&gate);
    hashpool_close(p);
    assert_int_equal(done_ok + done_cancelled, 10);
    assert_int_equal(ran, done_ok);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    uv_mutex_destroy(&gate);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_refills_evenly),
        cmocka_unit_test(test_lockout_backoff_and_reset),
        cmocka_unit_test(test_bounded_lru),
        cmocka_unit_test(test_hashpool_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
