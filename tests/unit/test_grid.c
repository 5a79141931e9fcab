/* test_grid.c - the spatial grid against a brute-force oracle on random
 * inserts, moves, removes and queries, plus change stamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_IDS 2000

typedef struct {
    int present;
    double x, y, z;
} oracle_t;

static oracle_t oracle[N_IDS];
static uint32_t rng = 12345;

static double rnd(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return lo + (hi - lo) * ((rng >> 8) / 16777216.0);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Compares one grid query with the oracle; distances that sit within
 * float rounding of the radius may go either way. */
static void check_query(const grid_t *g, grid_hits_t *h, double x, double y, double z, double r)
{
    h->n = 0;
    grid_query(g, x, y, z, r, h);
    int *got = malloc((h->n + 1) * sizeof(int));
    for (size_t i = 0; i < h->n; i++) {
        int id = h->v[i].id;
        got[i] = id;
        assert_true(id >= 0 && id < N_IDS);
        assert_true(oracle[id].present);
        double dx = oracle[id].x - x, dy = oracle[id].y - y, dz = oracle[id].z - z;
        double d2 = dx * dx + dy * dy + dz * dz;
        assert_true(d2 <= r * r * (1 + 1e-5) + 1e-3);
        assert_true(fabs(h->v[i].d2 - d2) <= 1e-3 * (1 + d2));
    }
    qsort(got, h->n, sizeof(int), cmp_int);
    for (size_t i = 1; i < h->n; i++)
        assert_true(got[i] != got[i - 1]); /* no duplicates */
    for (int id = 0; id < N_IDS; id++) {
        if (!oracle[id].present) continue;
        double dx = oracle[id].x - x, dy = oracle[id].y - y, dz = oracle[id].z - z;
        double d2 = dx * dx + dy * dy + dz * dz;
        if (d2 > r * r * (1 - 1e-5) - 1e-3) continue; /* on the edge: either way */
        if (!bsearch(&id, got, h->n, sizeof(int), cmp_int))
            fail_msg("id %d at distance %f missing from query r=%f", id, sqrt(d2), r);
    }
    free(got);
}

static void test_random_vs_oracle(void **state)
{
    (void)state;
    grid_t g;
    grid_hits_t h = {0};
    const double sx = 1000, sz = 700;
    grid_init(&g, sx, sz, 50);
    memset(oracle, 0, sizeof(oracle));
    for (int round = 0; round < 20000; round++) {
        int id = (int)rnd(0, N_IDS);
        double op = rnd(0, 1);
        /* a few points just outside the box exercise the border clamp */
        double x = rnd(-20, sx + 20), y = rnd(0, 30), z = rnd(-20, sz + 20);
        if (!oracle[id].present) {
            grid_insert(&g, id, x, y, z);
            oracle[id] = (oracle_t){1, x, y, z};
        } else if (op < 0.7) {
            /* mostly short moves, sometimes a jump */
            if (op < 0.5) {
                x = oracle[id].x + rnd(-8, 8);
                z = oracle[id].z + rnd(-8, 8);
            }
            grid_move(&g, id, x, y, z);
            oracle[id] = (oracle_t){1, x, y, z};
        } else {
            grid_remove(&g, id);
            oracle[id].present = 0;
        }
        assert_int_equal(grid_contains(&g, id), oracle[id].present);
        if (round % 100 == 0) {
            size_t present = 0;
            for (int i = 0; i < N_IDS; i++)
                present += (size_t)oracle[i].present;
            assert_int_equal(g.count, present);
            double r = rnd(0, 1) < 0.2 ? rnd(0, 10) : rnd(10, 300);
            check_query(&g, &h, rnd(-50, sx + 50), rnd(0, 30), rnd(-50, sz + 50), r);
        }
    }
    grid_hits_free(&h);
    grid_free(&g);
}

static void test_change_stamps(void **state)
{
    (void)state;
    grid_t g;
    grid_init(&g, 1000, 1000, 50);
    grid_insert(&g, 1, 100, 0, 100);
    uint32_t e = g.epoch;
    g.epoch++;
    assert_false(grid_changed_since(&g, 100, 100, 250, e));
    grid_move(&g, 1, 900, 0, 900); /* stamps the old and the new cell */
    assert_true(grid_changed_since(&g, 100, 100, 250, e));
    assert_true(grid_changed_since(&g, 900, 900, 10, e));
    assert_false(grid_changed_since(&g, 500, 500, 100, e));
    e = g.epoch++;
    grid_touch(&g, 500, 500);
    assert_true(grid_changed_since(&g, 480, 480, 30, e));
    assert_false(grid_changed_since(&g, 900, 900, 10, e));
    grid_remove(&g, 1);
    assert_true(grid_changed_since(&g, 900, 900, 10, e));
    assert_int_equal(g.count, 0);
    grid_free(&g);
}

/* The packed view's row spans hold exactly the items grid_query looks
 * at, in its order: filtering them the way grid_query does gives the
 * same hits, same order, same numbers. */
static void check_spans(const grid_t *g, grid_hits_t *h, double x, double y, double z, double r)
{
    h->n = 0;
    grid_query(g, x, y, z, r, h);
    float fx = (float)x, fy = (float)y, fz = (float)z, r2 = (float)(r * r);
    size_t k = 0;
    int z0, z1;
    grid_rows(g, z, r, &z0, &z1);
    for (int cz = z0; cz <= z1; cz++) {
        uint32_t b, e;
        grid_row_span(g, x, z, r, cz, &b, &e);
        assert_true(b <= e && e <= g->count);
        for (uint32_t i = b; i < e; i++) {
            const grid_item_t *it = &g->packed[i];
            float dx = it->x - fx, dy = it->y - fy, dz = it->z - fz;
            float d2 = dx * dx + dy * dy + dz * dz;
            if (!(d2 <= r2)) continue;
            assert_true(k < h->n);
            assert_int_equal(h->v[k].id, it->id);
            assert_true(h->v[k].d2 == d2 && h->v[k].dx == dx && h->v[k].dz == dz);
            k++;
        }
    }
    assert_int_equal(k, h->n);
}

static void test_packed_view(void **state)
{
    (void)state;
    grid_t g;
    grid_hits_t h = {0};
    const double sx = 1000, sz = 700;
    grid_init(&g, sx, sz, 50);
    grid_pack(&g); /* empty */
    assert_true(g.packed_valid);
    check_spans(&g, &h, 500, 0, 350, 250);
    for (int id = 0; id < N_IDS; id++)
        grid_insert(&g, id, rnd(-20, sx + 20), rnd(0, 30), rnd(-20, sz + 20));
    for (int round = 0; round < 50; round++) {
        for (int m = 0; m < 200; m++) {
            int id = (int)rnd(0, N_IDS);
            if (grid_contains(&g, id) && rnd(0, 1) < 0.2)
                grid_remove(&g, id);
            else if (grid_contains(&g, id))
                grid_move(&g, id, rnd(-20, sx + 20), rnd(0, 30), rnd(-20, sz + 20));
            else
                grid_insert(&g, id, rnd(0, sx), rnd(0, 30), rnd(0, sz));
        }
        assert_false(g.packed_valid); /* changes invalidate it */
        grid_pack(&g);
        assert_true(g.packed_valid);
        for (int q = 0; q < 20; q++) {
            double r = rnd(0, 1) < 0.2 ? rnd(0, 10) : rnd(10, 300);
            check_spans(&g, &h, rnd(-50, sx + 50), rnd(0, 30), rnd(-50, sz + 50), r);
        }
        check_spans(&g, &h, sx / 2, 0, sz / 2, 250);
    }
    grid_hits_free(&h);
    grid_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_vs_oracle),
        cmocka_unit_test(test_change_stamps),
        cmocka_unit_test(test_packed_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
