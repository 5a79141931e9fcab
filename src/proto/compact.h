/* compact.h - the compact roster encoding (docs/PROTOCOL.md, "Compact
 * encoding"): what a client that asked for capabilities.encoding
 * "compact" gets instead of proximity_roster(_delta) and position
 * state_updates, as binary WebSocket frames on /ws.
 *
 * The constants are shared by the zone's writer (sim/roster.c) and the
 * client-side decoder below, which wod-bench, the unit tests and the
 * fuzz target use; web/compact.js and tests/e2e/compact_codec.py are the
 * same decoder in JavaScript and Python.
 *
 * A frame: u8 kind (COMPACT_FULL: forget the id table and the view
 * first; COMPACT_DELTA: changes), varint timestamp (FULL: wall ms;
 * DELTA: ms since the previous frame's), then records to the end, each
 * starting with a tag byte. Integers are unsigned LEB128 varints;
 * signed ones zigzag-encoded first. Positions are zone-local, in tenths
 * of a foot (COMPACT_QUANTUM_FT). */
#ifndef WOD_PROTO_COMPACT_H
#define WOD_PROTO_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#define COMPACT_FULL  1
#define COMPACT_DELTA 2

enum {
    CREC_DEF = 0x01,      /* varint sid, zz pid, u8 flags, u8 name length, name */
    CREC_ADD = 0x02,      /* varint sid, u8 channel mask, zz x, zz y, zz z */
    CREC_REMOVE = 0x03,   /* varint sid */
    CREC_COUNTS = 0x04,   /* u8 groups present, varint count per group present */
    CREC_SPEAKERS = 0x05, /* u8 groups present, varint sid+1 (0 = none) per group present */
    CREC_DANGER = 0x06,   /* varint hostilesNearby */
    CREC_SELF = 0x07,     /* zz x, zz y, zz z: the viewer's own position */
    CREC_MOVE = 0x10,     /* | CMOVE_* bits: varint sid, then zz dx, dy, dz, u8 mask as flagged */
};

enum { CMOVE_X = 1, CMOVE_Y = 2, CMOVE_Z = 4, CMOVE_MASK = 8 };

/* DEF flags: the low two bits are the roster type. */
enum { CDEF_PLAYER = 0, CDEF_NPC = 1, CDEF_WILDLIFE = 2, CDEF_TYPE = 3, CDEF_MACHINE = 4 };

/* Channel groups of COUNTS and SPEAKERS: channels of one range share
 * their count and speaker (touch; say; shout = emote = see = hear; cfh). */
#define COMPACT_GROUPS 4

#define COMPACT_QUANTUM_FT 0.1
#define COMPACT_SID_LIMIT  4096 /* small ids are < this (the server's table is smaller) */

/* Appends v as a varint at p (room for 10 bytes); returns the bytes written. */
static inline size_t compact_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t compact_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t compact_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- client-side decoder ---- */

/* One entry of the id table: what a DEF said. */
typedef struct compact_def_s {
    int64_t pid; /* > 0 "char-<pid>", < 0 "npc-<-pid>"; 0 = undefined */
    uint8_t flags;
    char *name; /* owned, NUL-terminated */
    uint8_t in_view;
    uint8_t mask;   /* channels listing it (bit per roster channel) */
    int32_t pos[3]; /* tenths of a foot */
} compact_def_t;

/* What a client knows after applying frames. */
typedef struct compact_view_s {
    compact_def_t *defs; /* by sid */
    uint32_t n_defs;     /* allocated entries */
    uint32_t in_view;    /* entries with in_view set */
    uint32_t count[COMPACT_GROUPS];
    uint32_t speaker[COMPACT_GROUPS]; /* sid + 1, 0 = none */
    uint32_t hostiles;
    int32_t self[3];
    uint64_t ts;   /* wall ms of the last frame */
    int has_state; /* a FULL frame was applied */
    uint64_t frames, records;
} compact_view_t;

void compact_view_init(compact_view_t *v);
void compact_view_free(compact_view_t *v);
/* Applies one frame. 0, or -1 with a reason in err (the view may then
 * be partly updated: a client should ask for a full roster). */
int compact_view_apply(compact_view_t *v, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif
