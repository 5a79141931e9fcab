/* test_compact.c - the compact roster encoding: sim/roster.c's writer
 * against proto/compact.c's decoder. Round trips in a moving crowd
 * (checked against a brute-force nearest-N), quantisation bounds, the id
 * table (an entity keeps its id; a full table reuses ids of entities out
 * of view), and the far-entity budget (priority order, bytes per second,
 * nothing lost once movement stops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/compact.h"
#include "sim/grid.h"
#include "sim/roster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTS 1400

static zent_t ents[MAX_ENTS];
static int64_t pids[MAX_ENTS];
static char names[MAX_ENTS][16];
static int n_ents;
static grid_t grid;
static grid_hits_t hits;
static int viewer;

static void world_init(int n, double size)
{
    memset(ents, 0, sizeof(ents));
    n_ents = n;
    grid_init(&grid, size, size, 50.0);
    memset(&hits, 0, sizeof(hits));
    for (int i = 0; i < n; i++) {
        zent_set_id(&ents[i], i % 3 == 2 ? -(int64_t)(i + 1) : (int64_t)(i + 1));
        pids[i] = ents[i].pid;
        snprintf(names[i], sizeof(names[i]), "E%d", i);
        ents[i].name = names[i];
        ents[i].kind = ents[i].pid < 0 ? ZENT_NPC : ZENT_PLAYER;
        ents[i].wildlife = i % 9 == 8;
        ents[i].machine = i % 5 == 0;
        ents[i].in_grid = 1;
    }
}

static void place(int i, double x, double y, double z)
{
    if (ents[i].x == x && ents[i].y == y && ents[i].z == z && grid_contains(&grid, i)) return;
    ents[i].x = x;
    ents[i].y = y;
    ents[i].z = z;
    if (grid_contains(&grid, i))
        grid_move(&grid, i, x, y, z);
    else
        grid_insert(&grid, i, x, y, z);
}

static void world_free(void)
{
    grid_free(&grid);
    grid_hits_free(&hits);
}

static int32_t q(double v)
{
    return (int32_t)floor((double)(float)v * 10.0 + 0.5);
}

/* One update of the viewer: the full frame from grid_query's hits (as at
 * entry), deltas from the packed grid (as in the tick). Returns the
 * frame's size (0: nothing sent). */
static size_t step(roster_compact_t *r, roster_scratch_t *s, compact_view_t *v, int full,
                   int hostiles)
{
    buf_t b;
    buf_init(&b);
    const zent_t *e = &ents[viewer];
    int rc;
    if (full) {
        hits.n = 0;
        grid_query(&grid, e->x, e->y, e->z, ROSTER_QUERY_RANGE, &hits);
        rc = roster_compact_update(r, s, ents, (size_t)n_ents, viewer, hits.v, hits.n, e->x, e->y,
                                   e->z, hostiles, 1, 1700000000000ull, &b);
    } else {
        grid_pack(&grid);
        rc = roster_compact_update_grid(r, s, ents, pids, (size_t)n_ents, viewer, &grid, e->x, e->y,
                                        e->z, hostiles, 0, 1700000000050ull, &b);
    }
    size_t len = b.len;
    if (rc) {
        char err[128];
        if (compact_view_apply(v, (const uint8_t *)b.data, b.len, err, sizeof(err)) < 0)
            fail_msg("frame does not decode: %s", err);
    } else {
        assert_int_equal(b.len, 0);
    }
    buf_free(&b);
    return len;
}

static int cmp_d2(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The decoded view against brute force: the nearest `max` within 250 ft,
 * their channels, exact counts, SELF. Positions: exact for all (EXACT),
 * exact within ROSTER_COMPACT_NEAR_FT and within ROSTER_COMPACT_FAR_ERR
 * of the distance beyond (BOUNDED: no budget limit), or exact near only
 * (NEAR). */
enum { NEAR, BOUNDED, EXACT };
static void check_view(const compact_view_t *v, int max, int exact)
{
    const zent_t *me = &ents[viewer];
    float fx = (float)me->x, fy = (float)me->y, fz = (float)me->z;
    static double d2s[MAX_ENTS];
    int n = 0;
    uint32_t count[4] = {0};
    for (int i = 0; i < n_ents; i++) {
        if (i == viewer || !grid_contains(&grid, i)) continue;
        float dx = (float)ents[i].x - fx, dy = (float)ents[i].y - fy, dz = (float)ents[i].z - fz;
        float d2 = dx * dx + dy * dy + dz * dz;
        if (d2 > (float)(250.0 * 250.0)) continue;
        d2s[n++] = d2;
        count[3]++;
        count[2] += d2 <= (float)(150.0 * 150.0);
        count[1] += d2 <= (float)(20.0 * 20.0);
        count[0] += d2 <= (float)(5.0 * 5.0);
    }
    for (int g = 0; g < 4; g++)
        assert_int_equal(v->count[g], count[g]);
    qsort(d2s, (size_t)n, sizeof(double), cmp_d2);
    int k = n < max ? n : max;
    double limit = k ? d2s[k - 1] : -1;
    assert_int_equal(v->in_view, k);
    for (uint32_t sid = 0; sid < v->n_defs; sid++) {
        const compact_def_t *d = &v->defs[sid];
        if (!d->in_view) continue;
        int i = (int)(d->pid > 0 ? d->pid : -d->pid) - 1;
        assert_int_equal(d->pid, ents[i].pid);
        assert_string_equal(d->name, ents[i].name);
        int type =
            ents[i].kind == ZENT_NPC ? (ents[i].wildlife ? CDEF_WILDLIFE : CDEF_NPC) : CDEF_PLAYER;
        assert_int_equal(d->flags & CDEF_TYPE, type);
        assert_int_equal(!!(d->flags & CDEF_MACHINE), ents[i].kind == ZENT_NPC || ents[i].machine);
        float dx = (float)ents[i].x - fx, dy = (float)ents[i].y - fy, dz = (float)ents[i].z - fz;
        float d2 = dx * dx + dy * dy + dz * dz;
        assert_true(d2 <= limit);
        uint8_t mask = 1u << RCH_CFH;
        if (d2 <= (float)(150.0 * 150.0)) mask |= 0x3c;
        if (d2 <= (float)(20.0 * 20.0)) mask |= 1u << RCH_SAY;
        if (d2 <= (float)(5.0 * 5.0)) mask |= 1u << RCH_TOUCH;
        assert_int_equal(d->mask, mask);
        if (exact == EXACT || d2 <= (float)(ROSTER_COMPACT_NEAR_FT * ROSTER_COMPACT_NEAR_FT)) {
            assert_int_equal(d->pos[0], q(ents[i].x));
            assert_int_equal(d->pos[1], q(ents[i].y));
            assert_int_equal(d->pos[2], q(ents[i].z));
        } else if (exact == BOUNDED) {
            double ex = d->pos[0] * 0.1 - ents[i].x, ey = d->pos[1] * 0.1 - ents[i].y;
            double ez = d->pos[2] * 0.1 - ents[i].z;
            double err = sqrt(ex * ex + ey * ey + ez * ez);
            if (err > ROSTER_COMPACT_FAR_ERR * sqrt(d2) + 0.1)
                fail_msg("entity %d is %.2f ft off at %.1f ft", i, err, sqrt(d2));
        }
    }
    assert_int_equal(v->self[0], q(me->x));
    assert_int_equal(v->self[1], q(me->y));
    assert_int_equal(v->self[2], q(me->z));
}

static uint64_t rng = 88172645463325252ull;
static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void test_round_trip_in_a_moving_crowd(void **state)
{
    (void)state;
    world_init(300, 3000);
    viewer = 0;
    for (int i = 0; i < n_ents; i++)
        place(i, 1500 + (rnd() - 0.5) * 400, rnd() < 0.2 ? rnd() * 10 : 0,
              1500 + (rnd() - 0.5) * 400);
    roster_compact_t r;
    roster_scratch_t s;
    compact_view_t v;
    roster_compact_init(&r, 64, 1 << 30, 20); /* no budget limit: every move goes */
    roster_scratch_init(&s, 64);
    compact_view_init(&v);
    assert_true(step(&r, &s, &v, 1, 0) > 0);
    check_view(&v, 64, EXACT);
    assert_int_equal(v.hostiles, 0);
    for (int t = 0; t < 200; t++) {
        for (int i = 0; i < n_ents; i++) /* steps like the bench bots', at .x5 boundaries too */
            if (rnd() < 0.3)
                place(i, ents[i].x + floor((rnd() - 0.5) * 600) / 100.0, ents[i].y,
                      ents[i].z + floor((rnd() - 0.5) * 600) / 100.0);
        step(&r, &s, &v, t % 50 == 49, t % 20 < 5 ? t % 20 : 0);
        check_view(&v, 64, t % 50 == 49 ? EXACT : BOUNDED);
        assert_int_equal(v.hostiles, t % 20 < 5 ? t % 20 : 0);
    }
    /* at rest, the minor differences go out in the next (idle) frames */
    for (int t = 0; t < 10 && r.pending; t++)
        step(&r, &s, &v, 0, 0);
    assert_int_equal(r.pending, 0);
    check_view(&v, 64, EXACT);
    /* nothing moved: nothing sent (full and delta quantise alike) */
    step(&r, &s, &v, 1, 0);
    assert_int_equal(step(&r, &s, &v, 0, 0), 0);
    compact_view_free(&v);
    roster_scratch_free(&s);
    roster_compact_free(&r);
    world_free();
}

static void test_quantisation_bounds(void **state)
{
    (void)state;
    world_init(6, 3000);
    viewer = 0;
    place(0, 0, 0, 0);
    place(1, 0.04, 0, 0.05);        /* rounds down / half up */
    place(2, 100.05, 12.34, 99.95); /* the bench's 2-decimal positions */
    place(3, 176.77, 0, 176.77);    /* 250 ft away, diagonal */
    place(4, 0.0, 149.99, 0.0);     /* high up */
    place(5, 2999.99, 0, 2999.99);  /* the far corner: out of range */
    roster_compact_t r;
    roster_scratch_t s;
    compact_view_t v;
    roster_compact_init(&r, 64, 1 << 30, 20);
    roster_scratch_init(&s, 64);
    compact_view_init(&v);
    step(&r, &s, &v, 1, 0);
    check_view(&v, 64, EXACT);
    for (uint32_t sid = 0; sid < v.n_defs; sid++) {
        if (!v.defs[sid].in_view) continue;
        int i = (int)(v.defs[sid].pid > 0 ? v.defs[sid].pid : -v.defs[sid].pid) - 1;
        double p[3] = {ents[i].x, ents[i].y, ents[i].z};
        for (int a = 0; a < 3; a++) /* within half a quantum (plus float rounding) */
            assert_true(fabs(v.defs[sid].pos[a] * COMPACT_QUANTUM_FT - p[a]) <= 0.05 + 1e-4);
    }
    /* the viewer at the far corner: large coordinates, the same bound */
    viewer = 5;
    step(&r, &s, &v, 1, 0);
    check_view(&v, 64, EXACT);
    assert_int_equal(v.self[0], 30000);
    assert_int_equal(v.in_view, 0);
    /* a 0.1 ft move is one quantum: sent; 0.01 ft is not */
    viewer = 0;
    step(&r, &s, &v, 1, 0);
    place(2, 100.15, 12.34, 99.95);
    assert_true(step(&r, &s, &v, 0, 0) > 0);
    check_view(&v, 64, EXACT);
    place(2, 100.151, 12.34, 99.95);
    assert_int_equal(step(&r, &s, &v, 0, 0), 0);
    compact_view_free(&v);
    roster_scratch_free(&s);
    roster_compact_free(&r);
    world_free();
}

static void test_id_table_reuse(void **state)
{
    (void)state;
    /* 1,300 entities 10 ft apart on a line; the viewer walks along it with
     * a view of 4, so every entity passes through and the table (1,024)
     * runs full and must hand out ids of entities long out of view */
    world_init(1300, 14000);
    viewer = 0;
    for (int i = 1; i < n_ents; i++)
        place(i, 10.0 * i, 0, 100);
    place(0, 5, 0, 100);
    roster_compact_t r;
    roster_scratch_t s;
    compact_view_t v;
    roster_compact_init(&r, 4, 1 << 30, 20);
    roster_scratch_init(&s, 4);
    compact_view_init(&v);
    step(&r, &s, &v, 1, 0);
    check_view(&v, 4, EXACT);
    int64_t first_pid_of_sid0 = v.defs[0].pid;
    uint32_t max_sid = 0;
    for (int t = 1; t < 1300 * 2; t++) {
        place(0, 5 + 5.0 * t, 0, 100);
        step(&r, &s, &v, 0, 0);
        check_view(&v, 4, EXACT);
        for (uint32_t sid = 0; sid < v.n_defs; sid++)
            if (v.defs[sid].pid && sid > max_sid) max_sid = sid;
    }
    assert_int_equal(max_sid, ROSTER_COMPACT_IDS - 1); /* the table filled ... */
    assert_true(v.defs[0].pid != first_pid_of_sid0);   /* ... and ids were reused */
    /* walking back over the last stretch: those entities are still in the
     * table, so they come back with their ids and no new definition */
    int64_t pid_at[ROSTER_COMPACT_IDS];
    for (uint32_t sid = 0; sid < ROSTER_COMPACT_IDS; sid++)
        pid_at[sid] = v.defs[sid].pid;
    for (int t = 1300 * 2 - 1; t > 1300 * 2 - 200; t--) {
        place(0, 5 + 5.0 * t, 0, 100);
        step(&r, &s, &v, 0, 0);
        check_view(&v, 4, EXACT);
    }
    for (uint32_t sid = 0; sid < ROSTER_COMPACT_IDS; sid++)
        assert_int_equal(v.defs[sid].pid, pid_at[sid]);
    compact_view_free(&v);
    roster_scratch_free(&s);
    roster_compact_free(&r);
    world_free();
}

static void test_far_budget(void **state)
{
    (void)state;
    world_init(3, 3000);
    viewer = 0;
    place(0, 1000, 0, 1000);
    place(1, 1030, 0, 1000); /* 30 ft: far */
    place(2, 1200, 0, 1000); /* 200 ft: far */
    roster_compact_t r;
    roster_scratch_t s;
    compact_view_t v;
    /* 80 B/s at 20 Hz: 4 bytes an update; a delta's header is 2, one far
     * move of x by 10 ft is 4: one far move per update */
    roster_compact_init(&r, 64, 80, 20);
    roster_scratch_init(&s, 64);
    compact_view_init(&v);
    step(&r, &s, &v, 1, 0);
    place(1, 1040, 0, 1000); /* both move 10 ft */
    place(2, 1210, 0, 1000);
    /* the nearer one has moved the most relative to its distance: first */
    assert_true(step(&r, &s, &v, 0, 0) > 0);
    uint32_t sid1 = 0, sid2 = 0;
    for (uint32_t sid = 0; sid < v.n_defs; sid++) {
        if (v.defs[sid].pid == ents[1].pid) sid1 = sid;
        if (v.defs[sid].pid == ents[2].pid) sid2 = sid;
    }
    assert_int_equal(v.defs[sid1].pos[0], 10400);
    assert_int_equal(v.defs[sid2].pos[0], 12000); /* held back */
    assert_int_equal(r.pending, 1);
    /* nothing moves any more: the held-back move follows, within a few
     * updates (each frame's header is charged too) */
    for (int t = 0; t < 5 && r.pending; t++)
        step(&r, &s, &v, 0, 0);
    assert_int_equal(v.defs[sid2].pos[0], 12100);
    assert_int_equal(r.pending, 0);
    check_view(&v, 64, EXACT);
    compact_view_free(&v);
    roster_scratch_free(&s);
    roster_compact_free(&r);
    world_free();
}

static void test_budget_bounds_bytes_near_stay_exact(void **state)
{
    (void)state;
    /* 60 far entities all moving 5 ft every update (over 2 % of their
     * distance), 4 near ones too: with a 2,000 B/s budget the far traffic
     * is held to it, the near ones are exact after every frame, and
     * everything converges once it stops */
    world_init(65, 3000);
    viewer = 0;
    place(0, 1500, 0, 1500);
    for (int i = 1; i < 5; i++)
        place(i, 1500 + 3 * i, 0, 1500);
    for (int i = 5; i < n_ents; i++)
        place(i, 1500 + 40 + 2 * i, 0, 1500 + 50 + i);
    roster_compact_t r;
    roster_scratch_t s;
    compact_view_t v;
    roster_compact_init(&r, 64, 2000, 20);
    roster_scratch_init(&s, 64);
    compact_view_init(&v);
    step(&r, &s, &v, 1, 0);
    size_t total = 0;
    int updates = 200; /* 10 s at 20 Hz */
    for (int t = 0; t < updates; t++) {
        for (int i = 1; i < n_ents; i++)
            place(i, ents[i].x + (i < 5 ? (t % 2 ? 1.3 : -1.3) : (t % 2 ? 5.3 : -5.3)), 0,
                  ents[i].z);
        total += step(&r, &s, &v, 0, 0);
        check_view(&v, 64, NEAR);
    }
    /* the unbudgeted part (4 near moves, header) plus 2,000 B/s, one
     * second's credit and one move of overshoot at most */
    double seconds = updates / 20.0;
    assert_true((double)total <= seconds * 2000 + 2000 + 4 * 6 * updates + 8);
    assert_true((double)total >= seconds * 2000 * 0.8); /* the budget was used */
    for (int t = 0; t < 100 && r.pending; t++)
        step(&r, &s, &v, 0, 0);
    assert_int_equal(r.pending, 0);
    check_view(&v, 64, EXACT);
    compact_view_free(&v);
    roster_scratch_free(&s);
    roster_compact_free(&r);
    world_free();
}

static void test_decoder_rejects_malformed(void **state)
{
    (void)state;
    compact_view_t v;
    compact_view_init(&v);
    char err[96];
    const uint8_t delta_first[] = {COMPACT_DELTA, 1};
    assert_int_equal(compact_view_apply(&v, delta_first, sizeof(delta_first), err, sizeof(err)),
                     -1);
    const uint8_t full[] = {
        COMPACT_FULL,  5, CREC_DEF, 3, 2, CDEF_PLAYER, 2, 'A', 'b', CREC_ADD, 3, 0x40, 10, 0, 20,
        CREC_SPEAKERS, 1, 4};
    assert_int_equal(compact_view_apply(&v, full, sizeof(full), err, sizeof(err)), 0);
    assert_int_equal(v.in_view, 1);
    assert_int_equal(v.defs[3].pid, 1);
    assert_int_equal(v.defs[3].pos[0], 5);
    assert_int_equal(v.defs[3].pos[2], 10);
    static const struct {
        size_t len;
        uint8_t b[6];
    } bad[] = {
        {4, {COMPACT_DELTA, 1, CREC_ADD, 9}},                   /* ADD of an undefined id */
        {5, {COMPACT_DELTA, 1, CREC_MOVE | 1, 7, 2}},           /* MOVE of one not in view */
        {4, {COMPACT_DELTA, 1, CREC_REMOVE, 7}},                /* REMOVE of one not in view */
        {6, {COMPACT_DELTA, 1, CREC_DEF, 3, 2, 0}},             /* a truncated DEF */
        {3, {COMPACT_DELTA, 1, 0x7f}},                          /* an unknown tag */
        {4, {COMPACT_DELTA, 1, CREC_COUNTS, 0x10}},             /* bad group bits */
        {6, {COMPACT_DELTA, 1, CREC_REMOVE, 0xff, 0xff, 0xff}}, /* a varint past the end */
        {2, {9, 0}},                                            /* an unknown frame kind */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        compact_view_t w;
        compact_view_init(&w);
        assert_int_equal(compact_view_apply(&w, full, sizeof(full), err, sizeof(err)), 0);
        if (compact_view_apply(&w, bad[i].b, bad[i].len, err, sizeof(err)) != -1)
            fail_msg("malformed frame %zu accepted", i);
        compact_view_free(&w);
    }
    /* a DEF over an entity in view */
    const uint8_t redef[] = {COMPACT_DELTA, 1, CREC_DEF, 3, 4, 0, 1, 'C'};
    assert_int_equal(compact_view_apply(&v, redef, sizeof(redef), err, sizeof(err)), -1);
    /* a speaker must be in view */
    const uint8_t gone[] = {COMPACT_DELTA, 1, CREC_REMOVE, 3};
    assert_int_equal(compact_view_apply(&v, gone, sizeof(gone), err, sizeof(err)), -1);
    compact_view_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_in_a_moving_crowd),
        cmocka_unit_test(test_quantisation_bounds),
        cmocka_unit_test(test_id_table_reuse),
        cmocka_unit_test(test_far_budget),
        cmocka_unit_test(test_budget_bounds_bytes_near_stay_exact),
        cmocka_unit_test(test_decoder_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
