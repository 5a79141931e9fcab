/* zonedef.h - static description of a zone, loaded from the store.
 *
 * Zones are axis-aligned boxes placed in one world frame: x grows east,
 * z grows north, y is up. A character's position is zone-local
 * (0..size on each axis); world = origin + local. Zones whose boxes
 * share an edge are adjacent: walking over that edge changes zone, and
 * a shout carries across it. */
#ifndef WOD_ZONEDEF_H
#define WOD_ZONEDEF_H

#include "character.h"

#define ZONE_NAME_MAX  63
#define ZONE_DESC_MAX  255
#define ZONE_MAX_EXITS 8

typedef struct zonedef_s {
    char id[ZONE_ID_MAX + 1];
    char name[ZONE_NAME_MAX + 1];
    char description[ZONE_DESC_MAX + 1];
    char rating[4]; /* content rating: T, M or AO */
    char weather[16];
    char time_of_day[16];
    char lighting[16];
    double origin_x, origin_z; /* world position of the zone's (0,0) corner */
    double size_x, size_y, size_z;
    double spawn_x, spawn_y, spawn_z;
} zonedef_t;

/* Is the zone-local point inside the zone's box (x/z only)? */
int zonedef_contains_local(const zonedef_t *z, double x, double z_);

/* Index of the zone (in defs[0..n)) containing world point (wx, wz),
 * or -1. */
int zonedef_find_world(const zonedef_t *defs, int n, double wx, double wz);

/* Do two zones share an edge of positive length? */
int zonedef_adjacent(const zonedef_t *a, const zonedef_t *b);

/* Direction ("north", "east", ...) from zone a towards adjacent zone b. */
const char *zonedef_direction(const zonedef_t *a, const zonedef_t *b);

/* Appends the protocol zone object (world_entry.zone). */
void zonedef_json(buf_t *b, const zonedef_t *z);

#endif
