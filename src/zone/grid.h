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
 * work unchanged. */
#ifndef WOD_ZONE_GRID_H
#define WOD_ZONE_GRID_H

#include <stddef.h>
#include <stdint.h>

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

#endif
