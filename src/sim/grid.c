/* grid.c - see grid.h. */
#include "grid.h"
#include "../core/alloc.h"

#include <math.h>
#include <string.h>

void grid_init(grid_t *g, double size_x, double size_z, double cell)
{
    wod_assert(cell > 0);
    memset(g, 0, sizeof(*g));
    g->cell_size = cell;
    g->inv_cell = 1.0 / cell;
    g->nx = (int)ceil(size_x / cell);
    g->nz = (int)ceil(size_z / cell);
    if (g->nx < 1) g->nx = 1;
    if (g->nz < 1) g->nz = 1;
    g->cells = wod_calloc((size_t)g->nx * (size_t)g->nz, sizeof(grid_cell_t));
    g->epoch = 1;
}

void grid_free(grid_t *g)
{
    if (g->cells) {
        for (int i = 0; i < g->nx * g->nz; i++)
            free(g->cells[i].items);
    }
    free(g->cells);
    free(g->where_cell);
    free(g->where_idx);
    free(g->packed);
    free(g->packed_at);
    memset(g, 0, sizeof(*g));
}

/* Clamped cell coordinates. floor() is a libm call on baseline x86-64;
 * after the clamps v >= 0, where truncation is floor. */
static inline int cell_x(const grid_t *g, double x)
{
    double f = x * g->inv_cell;
    if (f < 0) return 0;
    if (f >= g->nx) return g->nx - 1;
    return (int)f;
}

static inline int cell_z(const grid_t *g, double z)
{
    double f = z * g->inv_cell;
    if (f < 0) return 0;
    if (f >= g->nz) return g->nz - 1;
    return (int)f;
}

static inline int cell_of(const grid_t *g, double x, double z)
{
    return cell_z(g, z) * g->nx + cell_x(g, x);
}

static void ensure_id(grid_t *g, int32_t id)
{
    if ((size_t)id < g->id_cap) return;
    size_t cap = g->id_cap ? g->id_cap : 64;
    while (cap <= (size_t)id)
        cap *= 2;
    g->where_cell = wod_realloc(g->where_cell, cap * sizeof(*g->where_cell));
    g->where_idx = wod_realloc(g->where_idx, cap * sizeof(*g->where_idx));
    for (size_t i = g->id_cap; i < cap; i++)
        g->where_cell[i] = -1;
    g->id_cap = cap;
}

static void cell_add(grid_t *g, int ci, int32_t id, double x, double y, double z)
{
    grid_cell_t *c = &g->cells[ci];
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->items = wod_realloc(c->items, c->cap * sizeof(*c->items));
    }
    c->items[c->n] = (grid_item_t){id, (float)x, (float)y, (float)z};
    g->where_cell[id] = ci;
    g->where_idx[id] = c->n;
    c->n++;
    c->stamp = g->epoch;
    g->packed_valid = 0;
}

static void cell_del(grid_t *g, int32_t id)
{
    int ci = g->where_cell[id];
    grid_cell_t *c = &g->cells[ci];
    uint32_t i = g->where_idx[id];
    c->n--;
    if (i != c->n) {
        c->items[i] = c->items[c->n];
        g->where_idx[c->items[i].id] = i;
    }
    g->where_cell[id] = -1;
    c->stamp = g->epoch;
    g->packed_valid = 0;
}

void grid_insert(grid_t *g, int32_t id, double x, double y, double z)
{
    wod_assert(id >= 0);
    ensure_id(g, id);
    wod_assert(g->where_cell[id] < 0);
    cell_add(g, cell_of(g, x, z), id, x, y, z);
    g->count++;
}

void grid_move(grid_t *g, int32_t id, double x, double y, double z)
{
    wod_assert(grid_contains(g, id));
    int ci = cell_of(g, x, z);
    if (ci == g->where_cell[id]) {
        grid_cell_t *c = &g->cells[ci];
        c->items[g->where_idx[id]] = (grid_item_t){id, (float)x, (float)y, (float)z};
        c->stamp = g->epoch;
        g->packed_valid = 0;
        return;
    }
    cell_del(g, id);
    cell_add(g, ci, id, x, y, z);
}

void grid_remove(grid_t *g, int32_t id)
{
    wod_assert(grid_contains(g, id));
    cell_del(g, id);
    g->count--;
}

int grid_contains(const grid_t *g, int32_t id)
{
    return id >= 0 && (size_t)id < g->id_cap && g->where_cell[id] >= 0;
}

/* Columns [*x0, *x1] of row cz that the circle of radius r around
 * (x, z) reaches (border rows and columns are unbounded: they hold
 * clamped outside positions). */
static inline void row_cols(const grid_t *g, double x, double z, double r, int cz, int *x0, int *x1)
{
    double lo = cz == 0 ? -INFINITY : cz * g->cell_size;
    double hi = cz == g->nz - 1 ? INFINITY : (cz + 1) * g->cell_size;
    double dz = z < lo ? lo - z : z > hi ? z - hi : 0;
    double half = sqrt(r * r - dz * dz > 0 ? r * r - dz * dz : 0);
    *x0 = cell_x(g, x - half);
    *x1 = cell_x(g, x + half);
}

void grid_query(const grid_t *g, double x, double y, double z, double r, grid_hits_t *out)
{
    int z0 = cell_z(g, z - r), z1 = cell_z(g, z + r);
    float fx = (float)x, fy = (float)y, fz = (float)z, r2 = (float)(r * r);
    for (int cz = z0; cz <= z1; cz++) {
        const grid_cell_t *row = &g->cells[(size_t)cz * (size_t)g->nx];
        int x0, x1;
        row_cols(g, x, z, r, cz, &x0, &x1);
        for (int cx = x0; cx <= x1; cx++) {
            const grid_cell_t *c = &row[cx];
            if (c->n == 0) continue;
            if (out->n + c->n > out->cap) {
                size_t cap = out->cap ? out->cap : 256;
                while (cap < out->n + c->n)
                    cap *= 2;
                out->v = wod_realloc(out->v, cap * sizeof(*out->v));
                out->cap = cap;
            }
            grid_hit_t *o = out->v + out->n;
            size_t k = 0;
            for (uint32_t i = 0; i < c->n; i++) {
                const grid_item_t *it = &c->items[i];
                float dx = it->x - fx, dy = it->y - fy, dz = it->z - fz;
                float d2 = dx * dx + dy * dy + dz * dz;
                o[k] = (grid_hit_t){it->id, d2, dx, dy, dz};
                k += d2 <= r2; /* branch-free append */
            }
            out->n += k;
        }
    }
}

void grid_touch(grid_t *g, double x, double z)
{
    g->cells[cell_of(g, x, z)].stamp = g->epoch;
}

int grid_changed_since(const grid_t *g, double x, double z, double r, uint32_t epoch)
{
    int x0 = cell_x(g, x - r), x1 = cell_x(g, x + r);
    int z0 = cell_z(g, z - r), z1 = cell_z(g, z + r);
    for (int cz = z0; cz <= z1; cz++) {
        const grid_cell_t *row = &g->cells[(size_t)cz * (size_t)g->nx];
        for (int cx = x0; cx <= x1; cx++)
            if (row[cx].stamp > epoch) return 1;
    }
    return 0;
}

void grid_pack(grid_t *g)
{
    size_t ncells = (size_t)g->nx * (size_t)g->nz;
    if (!g->packed_at) g->packed_at = wod_malloc((ncells + 1) * sizeof(*g->packed_at));
    if (g->count + GRID_PACK_PAD > g->packed_cap) {
        g->packed_cap = g->count + g->count / 2 + 64;
        free(g->packed);
        g->packed = wod_malloc(g->packed_cap * sizeof(*g->packed));
    }
    uint32_t at = 0;
    for (size_t i = 0; i < ncells; i++) {
        const grid_cell_t *c = &g->cells[i];
        g->packed_at[i] = at;
        if (c->n) memcpy(g->packed + at, c->items, c->n * sizeof(*c->items));
        at += c->n;
    }
    g->packed_at[ncells] = at;
    wod_assert(at == g->count);
    memset(g->packed + at, 0, GRID_PACK_PAD * sizeof(*g->packed));
    g->packed_valid = 1;
}

void grid_rows(const grid_t *g, double z, double r, int *z0, int *z1)
{
    *z0 = cell_z(g, z - r);
    *z1 = cell_z(g, z + r);
}

void grid_row_span(const grid_t *g, double x, double z, double r, int cz, uint32_t *begin,
                   uint32_t *end)
{
    int x0, x1;
    row_cols(g, x, z, r, cz, &x0, &x1);
    *begin = g->packed_at[cz * g->nx + x0];
    *end = g->packed_at[cz * g->nx + x1 + 1];
}

void grid_hits_free(grid_hits_t *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
