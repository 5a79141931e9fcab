/* grid.h - uniform spatial grid over a zone's x/z plane.
 *
 * Every range query of the zone simulation (rosters, chat, interaction)
 * goes through here instead of scanning all entities. Items are small
 * integer ids (the sim's entity slots); each cell keeps a packed array
 * of {id, position} so a query streams through contiguous memory, and
 * a per-id back-index makes move/remove O(1) (swap-remove).
 *
 * Each cell also carries a change stamp: insert/move/remove write the
 * grid's current epoch into the cells they touch, which lets the sim
 * ask "did anything change near this viewer since epoch E?" without
 * recomputing the viewer's roster (grid_changed_since).
 *
 * Positions outside the grid's box are clamped to the border cells, so
 * queries centred outside the zone (a shout from a neighbouring zone)
 * work unchanged.
 *
 * Packed view: with ~1 item per cell (50 ft cells, a few hundred players
 * per km^2) a 250 ft query spends more on visiting ~100 cells than on
 * the items. grid_pack() copies every cell's items, row-major, into one
 * array, so the cells of one row that a query reaches are a single
 * contiguous span (grid_row_span). The sim packs once per tick, after
 * movement and before the roster pass, during which nothing moves. The
 * spans list exactly the items grid_query visits, in the same order. */
#ifndef WOD_SIM_GRID_H
#define WOD_SIM_GRID_H

#include <stddef.h>
#include <stdint.h>

#define GRID_PACK_PAD 4 /* zeroed items after the packed view, for readers that over-read */

typedef struct grid_item_s {
    int32_t id;
    float x, y, z;
} grid_item_t;

typedef struct grid_cell_s {
    grid_item_t *items; /* owned, packed [0..n) */
    uint32_t n, cap;
    uint32_t stamp; /* epoch of the last insert/move/remove touching this cell */
} grid_cell_t;

typedef struct grid_s {
    double cell_size; /* feet per cell side */
    double inv_cell;
    int nx, nz;          /* cells per axis */
    grid_cell_t *cells;  /* owned, nx * nz, row-major by z */
    int32_t *where_cell; /* per id: cell index, -1 when absent */
    uint32_t *where_idx; /* per id: index within the cell */
    size_t id_cap;       /* length of where_* */
    uint32_t epoch;      /* stamp written by changes; the owner advances it */
    size_t count;        /* items in the grid */
    grid_item_t *packed; /* owned: all items, by cell in row-major order (grid_pack),
                            then GRID_PACK_PAD zeroed ones */
    uint32_t *packed_at; /* owned: nx * nz + 1 cell starts into packed */
    size_t packed_cap;   /* capacity of packed, in items */
    int packed_valid;    /* no insert/move/remove since the last grid_pack */
} grid_t;

/* One query result: an id, its squared 3D distance to the centre and
 * its offset from the centre (item - centre). */
typedef struct grid_hit_s {
    int32_t id;
    float d2;
    float dx, dy, dz;
} grid_hit_t;

/* A growable result vector the caller owns and reuses across queries. */
typedef struct grid_hits_s {
    grid_hit_t *v;
    size_t n, cap;
} grid_hits_t;

/* Covers [0,size_x] x [0,size_z] with square cells of `cell` feet. */
void grid_init(grid_t *g, double size_x, double size_z, double cell);
void grid_free(grid_t *g);

/* id must be >= 0 and not present. */
void grid_insert(grid_t *g, int32_t id, double x, double y, double z);
/* id must be present. */
void grid_move(grid_t *g, int32_t id, double x, double y, double z);
void grid_remove(grid_t *g, int32_t id);
int grid_contains(const grid_t *g, int32_t id);

/* Appends to `out` every item within `r` feet (3D) of (x,y,z), including
 * an item at the centre itself. Does not reset `out`. */
void grid_query(const grid_t *g, double x, double y, double z, double r, grid_hits_t *out);

/* Marks the cell holding (x, z) as changed in the current epoch (for
 * changes the grid cannot see, e.g. an entity that just spoke). */
void grid_touch(grid_t *g, double x, double z);

/* Did any cell overlapping the square of half-side r around (x, z)
 * change after `epoch`? */
int grid_changed_since(const grid_t *g, double x, double z, double r, uint32_t epoch);

void grid_hits_free(grid_hits_t *h);

/* Builds the packed view of the current contents (see the banner). Any
 * later insert/move/remove invalidates it until the next grid_pack. */
void grid_pack(grid_t *g);

/* Rows [*z0, *z1] a query of radius r around z reaches. */
void grid_rows(const grid_t *g, double z, double r, int *z0, int *z1);

/* The packed items [*begin, *end) of row cz that a query of radius r
 * around (x, z) visits: the same items, in the same order, as
 * grid_query looks at in that row (a superset of the hits). The packed
 * view must be valid. */
void grid_row_span(const grid_t *g, double x, double z, double r, int cz, uint32_t *begin,
                   uint32_t *end);

#endif
