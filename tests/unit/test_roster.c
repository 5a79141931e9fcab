/* test_roster.c - bearing/elevation math, number formatting, and the
 * roster diff: full roster shape, thresholds, channel moves, removals,
 * lastSpeaker, danger and the nearest-N cap with exact counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/roster.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_bearing_and_elevation(void **state)
{
    (void)state;
    assert_int_equal(roster_bearing_t(0, 10), 0);     /* north = +z */
    assert_int_equal(roster_bearing_t(10, 0), 900);   /* east = +x */
    assert_int_equal(roster_bearing_t(0, -10), 1800); /* south */
    assert_int_equal(roster_bearing_t(-10, 0), 2700); /* west */
    assert_int_equal(roster_bearing_t(5, 5), 450);
    assert_int_equal(roster_bearing_t(-1e-9, 10), 0); /* never 360 */
    assert_int_equal(roster_bearing_t(0, 0), 0);
    assert_int_equal(roster_elevation_t(0, 10), 0);
    assert_int_equal(roster_elevation_t(10, 10), 450);
    assert_int_equal(roster_elevation_t(-10, 10), -450);
    assert_int_equal(roster_elevation_t(5, 0), 900);
}

static void test_number_format(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    roster_put_tenths(&b, 123);
    buf_putc(&b, ' ');
    roster_put_tenths(&b, 50);
    buf_putc(&b, ' ');
    roster_put_tenths(&b, -5);
    buf_putc(&b, ' ');
    roster_put_tenths(&b, 0);
    buf_putc(&b, ' ');
    roster_put_u64(&b, 1700000000123ull);
    buf_putc(&b, ' ');
    roster_put_id(&b, 42);
    roster_put_id(&b, -3);
    assert_string_equal(b.data, "12.3 5 -0.5 0 1700000000123 \"char-42\"\"npc-3\"");
    int64_t pid;
    assert_int_equal(zent_id_parse("char-42", &pid), 0);
    assert_int_equal(pid, 42);
    assert_int_equal(zent_id_parse("npc-3", &pid), 0);
    assert_int_equal(pid, -3);
    assert_int_equal(zent_id_parse("npc-", &pid), -1);
    assert_int_equal(zent_id_parse("char-1x", &pid), -1);
    assert_int_equal(zent_id_parse("bob", &pid), -1);
    buf_free(&b);
}

/* ---- a tiny world: slot 0 is the viewer at the origin ---- */

#define MAX_SLOTS 16
static zent_t ents[MAX_SLOTS];
static const char *names[MAX_SLOTS] = {"Viewer", "Ann", "Ben", "Cat", "Dan", "Eve", "Fay",
                                       "Gus",    "Hal", "Ivy", "Jon", "Kim", "Lou", "Max"};
static grid_hit_t hits[MAX_SLOTS];

static void put(int slot, double x, double y, double z)
{
    zent_set_id(&ents[slot], slot);
    ents[slot].name = names[slot];
    ents[slot].kind = ZENT_PLAYER;
    ents[slot].x = x;
    ents[slot].y = y;
    ents[slot].z = z;
    ents[slot].in_grid = 1;
}

static size_t all_hits(void)
{
    size_t n = 0;
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!ents[i].in_grid) continue;
        double dx = ents[i].x - ents[0].x, dy = ents[i].y - ents[0].y, dz = ents[i].z - ents[0].z;
        double d2 = dx * dx + dy * dy + dz * dz;
        if (d2 <= ROSTER_QUERY_RANGE * ROSTER_QUERY_RANGE)
            hits[n++] = (grid_hit_t){i, (float)d2, (float)dx, (float)dy, (float)dz};
    }
    return n;
}

/* Runs an update; returns the parsed payload or NULL when nothing was sent. */
static int hostiles; /* dangerState input */

static json_t *run(roster_t *r, roster_scratch_t *s, int full)
{
    buf_t b;
    buf_init(&b);
    size_t n = all_hits();
    int rc = roster_update(r, s, ents, MAX_SLOTS, 0, hits, n, hostiles, full, 1000, &b);
    json_t *j = NULL;
    if (rc) {
        json_error_t err;
        j = json_loads(b.data, 0, &err);
        if (!j) fail_msg("bad JSON (%s): %s", err.text, b.data);
    } else {
        assert_int_equal(b.len, 0);
    }
    buf_free(&b);
    return j;
}

static json_t *chan(json_t *msg, const char *name)
{
    return json_object_get(json_object_get(msg, "channels"), name);
}

static void test_full_and_deltas(void **state)
{
    (void)state;
    memset(ents, 0, sizeof(ents));
    hostiles = 0;
    roster_t r;
    roster_scratch_t s;
    roster_init(&r, 64);
    roster_scratch_init(&s, 64);
    put(0, 0, 0, 0);
    put(1, 0, 0, 10);  /* Ann: say, north */
    put(2, 100, 0, 0); /* Ben: shout, east */

    json_t *j = run(&r, &s, 1);
    assert_int_equal(json_integer_value(json_object_get(chan(j, "touch"), "count")), 0);
    assert_int_equal(json_integer_value(json_object_get(chan(j, "say"), "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(chan(j, "shout"), "count")), 2);
    assert_int_equal(json_integer_value(json_object_get(chan(j, "cfh"), "count")), 2);
    json_t *ents_see = json_object_get(chan(j, "see"), "entities");
    assert_int_equal(json_array_size(ents_see), 2);
    /* nearest first */
    assert_string_equal(json_string_value(json_object_get(json_array_get(ents_see, 0), "id")),
                        "char-1");
    assert_true(json_number_value(json_object_get(json_array_get(ents_see, 1), "bearing")) == 90);
    assert_true(json_number_value(json_object_get(json_array_get(ents_see, 1), "range")) == 100);
    assert_int_equal(json_array_size(json_object_get(chan(j, "see"), "sample")), 2);
    assert_null(json_object_get(chan(j, "see"), "lastSpeaker"));
    assert_true(json_is_false(json_object_get(j, "dangerState"))); /* the original's boolean */
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "danger"), "level")),
                        "safe");
    json_t *ann = json_array_get(ents_see, 0);
    assert_true(json_is_true(json_object_get(ann, "isAlive")));
    assert_true(json_is_false(json_object_get(ann, "isMachine")));
    assert_int_equal(json_integer_value(json_object_get(j, "timestamp")), 1000);
    json_decref(j);

    /* nothing moved: nothing to send */
    assert_null(run(&r, &s, 0));
    /* sub-threshold drift (0.5 ft, 1.7 degrees) is not noticeable... */
    put(1, 0.3, 0, 10.5);
    assert_null(run(&r, &s, 0));
    /* ...and does not accumulate silently: the threshold is against what was sent */
    put(1, 0.3, 0, 11.1);
    j = run(&r, &s, 0);
    assert_non_null(j);
    json_t *upd = json_array_get(json_object_get(chan(j, "say"), "updated"), 0);
    assert_string_equal(json_string_value(json_object_get(upd, "id")), "char-1");
    assert_true(json_number_value(json_object_get(upd, "range")) == 11.1);
    assert_null(json_object_get(upd, "bearing")); /* only what moved */
    assert_null(json_object_get(chan(j, "say"), "count"));
    assert_null(json_object_get(j, "dangerState"));
    assert_null(json_object_get(j, "danger"));
    json_decref(j);

    /* Ben goes around: bearing 90 -> 180 */
    put(2, 0, 0, -100);
    j = run(&r, &s, 0);
    upd = json_array_get(json_object_get(chan(j, "shout"), "updated"), 0);
    assert_true(json_number_value(json_object_get(upd, "bearing")) == 180);
    assert_null(json_object_get(upd, "range"));
    assert_null(chan(j, "say")); /* untouched channels are absent */
    json_decref(j);

    /* Ann walks out of say into shout range */
    put(1, 0, 0, 30);
    j = run(&r, &s, 0);
    json_t *say = chan(j, "say");
    assert_string_equal(json_string_value(json_array_get(json_object_get(say, "removed"), 0)),
                        "char-1");
    assert_int_equal(json_integer_value(json_object_get(say, "count")), 0);
    assert_int_equal(json_array_size(json_object_get(say, "sample")), 0);
    upd = json_array_get(json_object_get(chan(j, "hear"), "updated"), 0);
    assert_true(json_number_value(json_object_get(upd, "range")) == 30);
    json_decref(j);

    /* Cat arrives in touch, above us: added everywhere with elevation */
    put(3, 3, 4, 0);
    j = run(&r, &s, 0);
    json_t *added = json_array_get(json_object_get(chan(j, "touch"), "added"), 0);
    assert_string_equal(json_string_value(json_object_get(added, "name")), "Cat");
    assert_string_equal(json_string_value(json_object_get(added, "type")), "player");
    assert_true(json_number_value(json_object_get(added, "range")) == 5);
    assert_true(json_number_value(json_object_get(added, "elevation")) == 53.1);
    assert_non_null(json_object_get(chan(j, "cfh"), "added"));
    assert_int_equal(json_integer_value(json_object_get(chan(j, "cfh"), "count")), 3);
    json_decref(j);

    /* Cat speaks: lastSpeaker shows up where count <= 3 */
    ents[3].spoke_seq = 1;
    j = run(&r, &s, 0);
    assert_string_equal(json_string_value(json_object_get(chan(j, "touch"), "lastSpeaker")), "Cat");
    assert_string_equal(json_string_value(json_object_get(chan(j, "cfh"), "lastSpeaker")), "Cat");
    json_decref(j);
    assert_null(run(&r, &s, 0));

    /* Cat leaves the world; Ben leaves range */
    ents[3].in_grid = 0;
    put(2, 0, 0, -300);
    j = run(&r, &s, 0);
    json_t *cfh = chan(j, "cfh");
    assert_int_equal(json_array_size(json_object_get(cfh, "removed")), 2);
    assert_int_equal(json_integer_value(json_object_get(cfh, "count")), 1);
    assert_true(json_is_null(json_object_get(cfh, "lastSpeaker")));
    json_decref(j);

    /* a hostile NPC close by: dangerState changes */
    put(4, 0, 0, -20);
    zent_set_id(&ents[4], -1);
    ents[4].kind = ZENT_NPC;
    ents[4].hostile = 1;
    hostiles = 1;
    j = run(&r, &s, 0);
    assert_true(json_is_true(json_object_get(j, "dangerState")));
    json_t *ds = json_object_get(j, "danger");
    assert_string_equal(json_string_value(json_object_get(ds, "level")), "danger");
    assert_int_equal(json_integer_value(json_object_get(ds, "hostilesNearby")), 1);
    added = json_array_get(json_object_get(chan(j, "say"), "added"), 0);
    assert_string_equal(json_string_value(json_object_get(added, "id")), "npc-1");
    assert_string_equal(json_string_value(json_object_get(added, "type")), "npc");
    assert_true(json_is_true(json_object_get(added, "isMachine")));
    json_decref(j);

    roster_free(&r);
    roster_scratch_free(&s);
}

/* Arrays are never null (the original clients): a channel growing past
 * ROSTER_SAMPLE_MAX gets an empty sample, not null. */
static void test_sample_never_null(void **state)
{
    (void)state;
    memset(ents, 0, sizeof(ents));
    hostiles = 0;
    roster_t r;
    roster_scratch_t s;
    roster_init(&r, 64);
    roster_scratch_init(&s, 64);
    put(0, 0, 0, 0);
    for (int i = 1; i <= 3; i++)
        put(i, 0, 0, 10.0 * i);
    json_t *j = run(&r, &s, 1);
    assert_int_equal(json_array_size(json_object_get(chan(j, "see"), "sample")), 3);
    json_decref(j);
    put(4, 0, 0, 40);
    j = run(&r, &s, 0);
    json_t *sample = json_object_get(chan(j, "see"), "sample");
    assert_true(json_is_array(sample));
    assert_int_equal(json_array_size(sample), 0);
    assert_int_equal(json_integer_value(json_object_get(chan(j, "see"), "count")), 4);
    json_decref(j);
    roster_free(&r);
    roster_scratch_free(&s);
}

static void test_nearest_cap(void **state)
{
    (void)state;
    memset(ents, 0, sizeof(ents));
    hostiles = 0;
    roster_t r;
    roster_scratch_t s;
    roster_init(&r, 3);
    roster_scratch_init(&s, 3);
    put(0, 0, 0, 0);
    for (int i = 1; i <= 10; i++)
        put(i, 0, 0, 10.0 * i); /* 10, 20, ... 100 ft */
    json_t *j = run(&r, &s, 1);
    json_t *see = chan(j, "see");
    assert_int_equal(json_integer_value(json_object_get(see, "count")), 10);
    json_t *list = json_object_get(see, "entities");
    assert_int_equal(json_array_size(list), 3);
    for (int i = 0; i < 3; i++)
        assert_true(json_number_value(json_object_get(json_array_get(list, (size_t)i), "range")) ==
                    10.0 * (i + 1));
    assert_null(json_object_get(see, "sample")); /* count > 3 */
    assert_int_equal(json_array_size(json_object_get(chan(j, "say"), "entities")), 2);
    json_decref(j);

    /* a newcomer closer than everyone pushes the third out of the list */
    put(11, 0, 0, 1);
    j = run(&r, &s, 0);
    see = chan(j, "see");
    assert_int_equal(json_integer_value(json_object_get(see, "count")), 11);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(see, "added"), 0), "id")),
        "char-11");
    assert_string_equal(json_string_value(json_array_get(json_object_get(see, "removed"), 0)),
                        "char-3");
    json_decref(j);
    roster_free(&r);
    roster_scratch_free(&s);
}

/* roster_update_grid (the tick's path: reads the grid's packed view)
 * against roster_update over grid_query's hits, on a random crowd that
 * moves, speaks, comes and goes: byte-identical payloads. */
#define BIG_SLOTS 600
static zent_t big[BIG_SLOTS];
static int64_t big_pids[BIG_SLOTS];
static char big_names[BIG_SLOTS][16];
static uint32_t rng = 777;

static double rnd(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return lo + (hi - lo) * ((rng >> 8) / 16777216.0);
}

static void big_place(grid_t *g, int slot, double x, double y, double z)
{
    big[slot].x = x;
    big[slot].y = y;
    big[slot].z = z;
    if (big[slot].in_grid) {
        grid_move(g, slot, x, y, z);
    } else {
        grid_insert(g, slot, x, y, z);
        big[slot].in_grid = 1;
    }
}

static void test_grid_path_matches_hits_path(void **state)
{
    (void)state;
    grid_t g;
    grid_init(&g, 1200, 1200, 50);
    grid_hits_t h = {0};
    static int64_t next_pid = 1;
    for (int i = 0; i < BIG_SLOTS; i++) {
        snprintf(big_names[i], sizeof(big_names[i]), i % 7 ? "P%d" : "Q\"%d", i);
        zent_set_id(&big[i], i % 11 ? next_pid++ : -next_pid++);
        big[i].name = big_names[i];
        big[i].kind = big[i].pid > 0 ? ZENT_PLAYER : ZENT_NPC;
        /* a crowd around (600, 600) and a sparse rest */
        if (i < 200)
            big_place(&g, i, 600 + rnd(-30, 30), rnd(0, 5), 600 + rnd(-30, 30));
        else
            big_place(&g, i, rnd(0, 1200), rnd(0, 40), rnd(0, 1200));
    }
    enum { VIEWERS = 40 };
    roster_t ra[VIEWERS], rb[VIEWERS];
    roster_scratch_t sa, sb;
    const int max = 16;
    roster_scratch_init(&sa, max);
    roster_scratch_init(&sb, max);
    for (int v = 0; v < VIEWERS; v++) {
        roster_init(&ra[v], max);
        roster_init(&rb[v], max);
    }
    buf_t a, b;
    buf_init(&a);
    buf_init(&b);
    uint32_t seq = 0;
    for (int step = 0; step < 60; step++) {
        for (int i = 0; i < BIG_SLOTS; i++) {
            if (!big[i].in_grid) {
                if (rnd(0, 1) < 0.3) { /* the slot is reused by someone else */
                    zent_set_id(&big[i], next_pid++);
                    big_place(&g, i, rnd(0, 1200), 0, rnd(0, 1200));
                }
                continue;
            }
            if (i >= VIEWERS && rnd(0, 1) < 0.01) {
                grid_remove(&g, i);
                big[i].in_grid = 0;
                continue;
            }
            double step_ft = rnd(0, 1) < 0.05 ? 40 : 2;
            big_place(&g, i, big[i].x + rnd(-step_ft, step_ft), big[i].y,
                      big[i].z + rnd(-step_ft, step_ft));
            if (rnd(0, 1) < 0.01) big[i].spoke_seq = ++seq;
        }
        grid_pack(&g);
        for (int i = 0; i < BIG_SLOTS; i++)
            big_pids[i] = big[i].pid;
        for (int v = 0; v < VIEWERS; v++) {
            int full = step == 0 || step == 30;
            h.n = 0;
            grid_query(&g, big[v].x, big[v].y, big[v].z, ROSTER_QUERY_RANGE, &h);
            buf_reset(&a);
            buf_reset(&b);
            int hostile_n = v % 3;
            int rc_a = roster_update(&ra[v], &sa, big, BIG_SLOTS, v, h.v, h.n, hostile_n, full,
                                     1000 + (uint64_t)step, &a);
            int rc_b =
                roster_update_grid(&rb[v], &sb, big, big_pids, BIG_SLOTS, v, &g, big[v].x, big[v].y,
                                   big[v].z, hostile_n, full, 1000 + (uint64_t)step, &b);
            assert_int_equal(rc_a, rc_b);
            assert_int_equal(a.len, b.len);
            if (a.len) assert_memory_equal(a.data, b.data, a.len);
            if (rc_a) {
                json_error_t err;
                json_t *j = json_loads(b.data, 0, &err);
                if (!j) fail_msg("bad JSON (%s): %s", err.text, b.data);
                json_decref(j);
            }
        }
    }
    for (int v = 0; v < VIEWERS; v++) {
        roster_free(&ra[v]);
        roster_free(&rb[v]);
    }
    roster_scratch_free(&sa);
    roster_scratch_free(&sb);
    buf_free(&a);
    buf_free(&b);
    grid_hits_free(&h);
    grid_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearing_and_elevation),
        cmocka_unit_test(test_number_format),
        cmocka_unit_test(test_full_and_deltas),
        cmocka_unit_test(test_sample_never_null),
        cmocka_unit_test(test_nearest_cap),
        cmocka_unit_test(test_grid_path_matches_hits_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
