/* zonedef.c - see zonedef.h. */
#include "zonedef.h"

#include <math.h>
#include <string.h>

#define EDGE_EPS 1e-6

int zonedef_contains_local(const zonedef_t *z, double x, double z_)
{
    return x >= 0 && x <= z->size_x && z_ >= 0 && z_ <= z->size_z;
}

int zonedef_find_world(const zonedef_t *defs, int n, double wx, double wz)
{
    /* Half-open boxes so a point on a shared edge belongs to one zone. */
    for (int i = 0; i < n; i++) {
        const zonedef_t *z = &defs[i];
        if (wx >= z->origin_x && wx < z->origin_x + z->size_x && wz >= z->origin_z &&
            wz < z->origin_z + z->size_z)
            return i;
    }
    return -1;
}

static double overlap(double a0, double a1, double b0, double b1)
{
    double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi - lo;
}

int zonedef_adjacent(const zonedef_t *a, const zonedef_t *b)
{
    if (a == b || strcmp(a->id, b->id) == 0) return 0;
    double ax1 = a->origin_x + a->size_x, az1 = a->origin_z + a->size_z;
    double bx1 = b->origin_x + b->size_x, bz1 = b->origin_z + b->size_z;
    int touch_x = fabs(ax1 - b->origin_x) < EDGE_EPS || fabs(bx1 - a->origin_x) < EDGE_EPS;
    int touch_z = fabs(az1 - b->origin_z) < EDGE_EPS || fabs(bz1 - a->origin_z) < EDGE_EPS;
    if (touch_x && overlap(a->origin_z, az1, b->origin_z, bz1) > EDGE_EPS) return 1;
    if (touch_z && overlap(a->origin_x, ax1, b->origin_x, bx1) > EDGE_EPS) return 1;
    return 0;
}

const char *zonedef_direction(const zonedef_t *a, const zonedef_t *b)
{
    if (fabs(a->origin_z + a->size_z - b->origin_z) < EDGE_EPS) return "north";
    if (fabs(b->origin_z + b->size_z - a->origin_z) < EDGE_EPS) return "south";
    if (fabs(a->origin_x + a->size_x - b->origin_x) < EDGE_EPS) return "east";
    if (fabs(b->origin_x + b->size_x - a->origin_x) < EDGE_EPS) return "west";
    return "unknown";
}

void zonedef_json(buf_t *b, const zonedef_t *z)
{
    buf_puts(b, "{\"id\":");
    buf_json_str(b, z->id);
    buf_puts(b, ",\"name\":");
    buf_json_str(b, z->name);
    buf_puts(b, ",\"description\":");
    buf_json_str(b, z->description);
    buf_puts(b, ",\"weather\":");
    buf_json_str(b, z->weather);
    buf_puts(b, ",\"timeOfDay\":");
    buf_json_str(b, z->time_of_day);
    buf_puts(b, ",\"lighting\":");
    buf_json_str(b, z->lighting);
    buf_puts(b, ",\"contentRating\":");
    buf_json_str(b, z->rating);
    buf_puts(b, ",\"size\":{\"x\":");
    buf_json_num(b, z->size_x);
    buf_puts(b, ",\"y\":");
    buf_json_num(b, z->size_y);
    buf_puts(b, ",\"z\":");
    buf_json_num(b, z->size_z);
    buf_puts(b, "}}");
}
