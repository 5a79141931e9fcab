/* test_grid.c - the spatial grid against a brute-force oracle on random
 * inserts, moves, removes and queries, plus change stamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "zone/grid.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_vs_oracle),
        cmocka_unit_test(test_change_stamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
