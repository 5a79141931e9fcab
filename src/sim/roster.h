/* roster.h - proximity rosters: computing one viewer's 7-channel roster
 * from a grid query, diffing it against what the viewer was last sent,
 * and writing `proximity_roster` / `proximity_roster_delta` payloads.
 *
 * Channels are nested by range (touch 5 < say 20 < shout = emote = see
 * = hear 150 < cfh 250 ft), so the nearest N entities of every channel
 * are a prefix of the nearest N within 250 ft: one selection serves all
 * seven lists, while each channel's `count` stays exact.
 *
 * A delta lists an entity as `updated` only when a client could notice:
 * range moved by >= max(ROSTER_RANGE_EPS_FT, range / ROSTER_RANGE_EPS_DIV),
 * bearing by >= ROSTER_BEARING_EPS_DEG, or elevation by >=
 * ROSTER_ELEVATION_EPS_DEG since the value last sent; only the fields
 * that moved are present. Numbers are rounded to 0.1. `sample` and
 * `lastSpeaker` exist only while count <= ROSTER_SAMPLE_MAX; a delta
 * sets `sample` to [] and `lastSpeaker` to null when the count grows past it. Wire format:
 * docs/PROTOCOL.md. */
#ifndef WOD_SIM_ROSTER_H
#define WOD_SIM_ROSTER_H

#include "../core/buf.h"
#include "entity.h"
#include "grid.h"

#include <stddef.h>
#include <stdint.h>

#define ROSTER_CHANNELS          7
#define ROSTER_QUERY_RANGE       250.0 /* widest channel (cfh) */
#define ROSTER_SAMPLE_MAX        3     /* sample/lastSpeaker only while count <= this */
#define ROSTER_RANGE_EPS_FT      1.0
#define ROSTER_RANGE_EPS_DIV     20 /* relative range threshold: 1/20 = 5 % */
#define ROSTER_BEARING_EPS_DEG   5.0
#define ROSTER_ELEVATION_EPS_DEG 5.0

typedef enum {
    RCH_TOUCH,
    RCH_SAY,
    RCH_SHOUT,
    RCH_EMOTE,
    RCH_SEE,
    RCH_HEAR,
    RCH_CFH,
} roster_channel_t;

extern const double roster_channel_range[ROSTER_CHANNELS];
extern const char *const roster_channel_name[ROSTER_CHANNELS];

/* What the viewer was last told about one listed entity. */
typedef struct roster_entry_s {
    int64_t pid;
    int32_t slot;      /* entity slot when listed (slots are reused: check pid) */
    int32_t range_t;   /* last sent range, tenths of a foot */
    float ux, uz;      /* last sent horizontal direction (unit; 0,0 = on top) */
    int16_t bearing_t; /* last sent bearing, tenths of a degree */
    int16_t elev_t;    /* last sent elevation, tenths of a degree */
    uint8_t mask;      /* channels (bit per roster_channel_t) listing it */
} roster_entry_t;

/* Per-viewer roster state: exactly what the client believes. */
typedef struct roster_s {
    roster_entry_t *e; /* owned, capacity max */
    int n, max;
    uint32_t count[ROSTER_CHANNELS];
    int64_t speaker[ROSTER_CHANNELS]; /* lastSpeaker pid sent, 0 = none */
    int hostiles;                     /* dangerState.hostilesNearby sent */
    int has_state;                    /* a full roster went out */
} roster_t;

typedef struct roster_near_s roster_near_t;
typedef struct roster_cand_s roster_cand_t;
typedef struct roster_diff_s roster_diff_t;
typedef struct roster_mark_s roster_mark_t;

/* Reusable working memory shared by all viewers of one sim. */
typedef struct roster_scratch_s {
    roster_near_t *near; /* entities within the widest channel: where to find them, d2 */
    size_t near_cap;
    roster_near_t *tmp; /* selection scratch */
    size_t tmp_cap;
    roster_cand_t *cand;  /* capacity max: the nearest, with geometry */
    buf_t frag;           /* added/updated objects, built once, copied per channel */
    roster_entry_t *next; /* capacity max; swapped with a roster's array */
    roster_diff_t *diff;
    roster_mark_t *mark; /* per entity slot */
    size_t mark_cap;
    uint32_t stamp;
    int max;
} roster_scratch_t;

/* max = roster_max_entities (>= 1). */
void roster_init(roster_t *r, int max);
void roster_free(roster_t *r);
void roster_scratch_init(roster_scratch_t *s, int max);
void roster_scratch_free(roster_scratch_t *s);

/* Recomputes the roster of entity `viewer` from `hits` (every entity
 * within ROSTER_QUERY_RANGE of it, the viewer itself included or not).
 * n_slots bounds the entity slot numbers. `hostiles` is the number of
 * NPCs aggroed on the viewer (dangerState). full=1 appends a complete
 * proximity_roster payload to `out` and returns 1. full=0 appends a
 * proximity_roster_delta payload against the last state and returns 1,
 * or returns 0 and appends nothing when the client could not notice a
 * difference. The new state becomes the last state either way. */
int roster_update(roster_t *r, roster_scratch_t *s, const zent_t *ents, size_t n_slots,
                  int32_t viewer, const grid_hit_t *hits, size_t n_hits, int hostiles, int full,
                  uint64_t ts, buf_t *out);

/* Same as roster_update with the hits of a grid_query of radius
 * ROSTER_QUERY_RANGE around (x, y, z), the viewer's position, but reads
 * the grid's packed view directly (grid_pack must be current): one pass
 * over the nearby items finds and counts them, and geometry is only
 * computed for the nearest `max`. pids[slot] must equal ents[slot].pid
 * (a compact copy the caller keeps: matching against the last state
 * then does not touch every neighbour's entity record). Output is
 * byte-identical to roster_update over grid_query's hits. */
int roster_update_grid(roster_t *r, roster_scratch_t *s, const zent_t *ents, const int64_t *pids,
                       size_t n_slots, int32_t viewer, const grid_t *g, double x, double y,
                       double z, int hostiles, int full, uint64_t ts, buf_t *out);

/* Appends v/10 as a JSON number (12.3, -4, 0.5). */
void roster_put_tenths(buf_t *b, int64_t v);
/* Appends an unsigned integer. */
void roster_put_u64(buf_t *b, uint64_t v);
/* Appends a quoted protocol id. */
void roster_put_id(buf_t *b, int64_t pid);

/* Bearing from (dx, dz) in tenths of a degree, 0..3599 (0 = north = +z). */
int roster_bearing_t(double dx, double dz);
/* Elevation angle in tenths of a degree for a rise dy over horizontal h. */
int roster_elevation_t(double dy, double h);

#endif
