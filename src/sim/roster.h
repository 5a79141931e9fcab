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

/* One entity a compact client holds in its view (see roster_compact_t). */
typedef struct roster_centry_s {
    int64_t pid;
    int32_t slot; /* entity slot when listed (slots are reused: check pid) */
    uint32_t sid; /* its small id in the client's table */
    int32_t q[3]; /* last sent position, zone-local tenths of a foot */
    uint8_t mask; /* channels listing it */
} roster_centry_t;

/* Per-viewer state of a compact client (capabilities.encoding "compact",
 * src/proto/compact.h, docs/PROTOCOL.md "Compact encoding"): its view
 * with absolute positions as last sent, and the table of small ids
 * whose definitions (protocol id, name, type) it holds. The table
 * outlives the view: an entity seen before comes back with its old id
 * and no definition. When it is full, the id of an entity not in view
 * is reused (round robin), and redefined. */
typedef struct roster_compact_s {
    roster_centry_t *e; /* owned, capacity max: the view */
    int n, max;
    int64_t *sid_pid;  /* sid -> pid (0: free) */
    uint8_t *sid_busy; /* 1: in the client's view, or taken by the frame being written */
    uint32_t *hash;    /* pid -> sid + 1 (0 empty), linear probing, hash_cap = 2 ids_cap */
    uint32_t ids_n, ids_cap, ids_max, hash_cap, hand;
    uint32_t count[4];       /* COUNTS sent, by channel group */
    uint32_t speaker_sid[4]; /* SPEAKERS sent: sid + 1, 0 none */
    int64_t speaker_pid[4];
    int hostiles;
    int32_t self[3]; /* SELF sent */
    uint64_t ts;     /* timestamp of the last frame */
    int32_t credit;  /* bytes far entities' moves may still use (can go negative) */
    int32_t per_update, credit_max;
    int pending;   /* far moves the budget held back: worth an update even if nothing moved */
    int has_state; /* a full frame went out */
} roster_compact_t;

typedef struct roster_near_s roster_near_t;
typedef struct roster_cand_s roster_cand_t;
typedef struct roster_diff_s roster_diff_t;
typedef struct roster_mark_s roster_mark_t;
typedef struct roster_far_s roster_far_t;

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
    roster_mark_t *mark;    /* per entity slot */
    roster_centry_t *cnext; /* capacity max: compact; swapped with a view's array */
    uint8_t *ckind;         /* capacity max: compact, per candidate */
    roster_far_t *cfar;     /* capacity max: compact, far moves by priority */
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

/* Compact clients: the nearest ROSTER_COMPACT_NEAR_FT get every change
 * (0.1 ft) at every update; farther ones share what is left of
 * ROSTER_COMPACT_BYTES_PER_S (everything a frame holds counts), the most
 * displaced relative to their distance first. A far entity displaced by
 * less than ROSTER_COMPACT_FAR_ERR of its distance (2 %: finer than the
 * JSON roster's 5 % range / 5 degree bearing) is sent only in a frame
 * with nothing else in it, so a view at rest converges exactly. */
#define ROSTER_COMPACT_NEAR_FT     20.0
#define ROSTER_COMPACT_FAR_ERR     0.02
#define ROSTER_COMPACT_BYTES_PER_S 6000
#define ROSTER_COMPACT_IDS         1024 /* id table entries (at least 2 max) */

/* max = roster_max_entities; bytes_per_s and rate_hz set the far budget
 * (bytes_per_s / rate_hz per update, at most one second's saved). */
void roster_compact_init(roster_compact_t *r, int max, int bytes_per_s, double rate_hz);
void roster_compact_free(roster_compact_t *r);

/* roster_update / roster_update_grid for a compact client: appends one
 * compact frame (COMPACT_FULL with full=1: the client forgets its table
 * and view; else COMPACT_DELTA) to `out` and returns 1, or returns 0 and
 * appends nothing when nothing changed that the budget lets through.
 * (x, y, z) is the viewer's position (sent as SELF). */
int roster_compact_update(roster_compact_t *r, roster_scratch_t *s, const zent_t *ents,
                          size_t n_slots, int32_t viewer, const grid_hit_t *hits, size_t n_hits,
                          double x, double y, double z, int hostiles, int full, uint64_t ts,
                          buf_t *out);
int roster_compact_update_grid(roster_compact_t *r, roster_scratch_t *s, const zent_t *ents,
                               const int64_t *pids, size_t n_slots, int32_t viewer, const grid_t *g,
                               double x, double y, double z, int hostiles, int full, uint64_t ts,
                               buf_t *out);

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
