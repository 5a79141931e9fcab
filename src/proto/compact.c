/* compact.c - client-side decoder of the compact roster encoding (see
 * compact.h). Strict: anything the server never writes (an unknown tag,
 * a record past the end, an ADD of an undefined id, a MOVE of an entity
 * not in view, a DEF over one in view, a delta before any full frame)
 * fails, so the unit and e2e tests catch a writer that drifts. */
#include "compact.h"
#include "../core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd_s {
    const uint8_t *p, *end;
    char *err;
    size_t errlen;
} rd_t;

static int fail(rd_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(rd_t *r, const char *fmt, ...)
{
    if (r->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int get_u8(rd_t *r, uint8_t *v)
{
    if (r->p >= r->end) return fail(r, "truncated record");
    *v = *r->p++;
    return 0;
}

static int get_varint(rd_t *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = 0;
        if (get_u8(r, &b) < 0) return -1;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return fail(r, "varint too long");
}

static int get_zz(rd_t *r, int64_t *v)
{
    uint64_t u = 0;
    if (get_varint(r, &u) < 0) return -1;
    *v = compact_unzigzag(u);
    return 0;
}

/* A position or a delta of one: tenths of a foot, within int32. */
static int get_coord(rd_t *r, int32_t *v)
{
    int64_t x = 0;
    if (get_zz(r, &x) < 0) return -1;
    if (x < INT32_MIN / 2 || x > INT32_MAX / 2) return fail(r, "coordinate out of range");
    *v = (int32_t)x;
    return 0;
}

static int get_sid(rd_t *r, compact_view_t *v, uint32_t *sid)
{
    uint64_t x;
    if (get_varint(r, &x) < 0) return -1;
    if (x >= COMPACT_SID_LIMIT) return fail(r, "id %llu out of range", (unsigned long long)x);
    if (x >= v->n_defs) {
        uint32_t n = v->n_defs ? v->n_defs : 64;
        while (n <= x)
            n *= 2;
        v->defs = wod_realloc(v->defs, n * sizeof(*v->defs));
        memset(v->defs + v->n_defs, 0, (n - v->n_defs) * sizeof(*v->defs));
        v->n_defs = n;
    }
    *sid = (uint32_t)x;
    return 0;
}

static void reset(compact_view_t *v)
{
    for (uint32_t i = 0; i < v->n_defs; i++)
        free(v->defs[i].name);
    if (v->n_defs) memset(v->defs, 0, v->n_defs * sizeof(*v->defs));
    memset(v->count, 0, sizeof(v->count));
    memset(v->speaker, 0, sizeof(v->speaker));
    memset(v->self, 0, sizeof(v->self));
    v->in_view = v->hostiles = 0;
}

void compact_view_init(compact_view_t *v)
{
    memset(v, 0, sizeof(*v));
}

void compact_view_free(compact_view_t *v)
{
    reset(v);
    free(v->defs);
    memset(v, 0, sizeof(*v));
}

static int apply_record(rd_t *r, compact_view_t *v, uint8_t tag)
{
    uint32_t sid;
    if (tag >= CREC_MOVE && tag < CREC_MOVE + 16) {
        if (get_sid(r, v, &sid) < 0) return -1;
        compact_def_t *d = &v->defs[sid];
        if (!d->in_view) return fail(r, "MOVE of %u, not in view", sid);
        for (int a = 0; a < 3; a++) {
            if (!(tag & (CMOVE_X << a))) continue;
            int32_t delta = 0;
            if (get_coord(r, &delta) < 0) return -1;
            d->pos[a] += delta;
        }
        if ((tag & CMOVE_MASK) && get_u8(r, &d->mask) < 0) return -1;
        return 0;
    }
    switch (tag) {
    case CREC_DEF: {
        int64_t pid = 0;
        uint8_t flags = 0, n = 0;
        if (get_sid(r, v, &sid) < 0 || get_zz(r, &pid) < 0 || get_u8(r, &flags) < 0 ||
            get_u8(r, &n) < 0)
            return -1;
        if (pid == 0) return fail(r, "DEF of %u with pid 0", sid);
        if ((size_t)(r->end - r->p) < n) return fail(r, "truncated name");
        compact_def_t *d = &v->defs[sid];
        if (d->in_view) return fail(r, "DEF of %u while in view", sid);
        free(d->name);
        d->name = wod_malloc((size_t)n + 1);
        memcpy(d->name, r->p, n);
        d->name[n] = '\0';
        r->p += n;
        d->pid = pid;
        d->flags = flags;
        return 0;
    }
    case CREC_ADD: {
        if (get_sid(r, v, &sid) < 0) return -1;
        compact_def_t *d = &v->defs[sid];
        if (!d->pid) return fail(r, "ADD of undefined id %u", sid);
        if (d->in_view) return fail(r, "ADD of %u, already in view", sid);
        if (get_u8(r, &d->mask) < 0) return -1;
        for (int a = 0; a < 3; a++)
            if (get_coord(r, &d->pos[a]) < 0) return -1;
        d->in_view = 1;
        v->in_view++;
        return 0;
    }
    case CREC_REMOVE:
        if (get_sid(r, v, &sid) < 0) return -1;
        if (!v->defs[sid].in_view) return fail(r, "REMOVE of %u, not in view", sid);
        v->defs[sid].in_view = 0;
        v->in_view--;
        return 0;
    case CREC_COUNTS:
    case CREC_SPEAKERS: {
        uint8_t which = 0;
        if (get_u8(r, &which) < 0) return -1;
        if (which >> COMPACT_GROUPS) return fail(r, "bad group bits %#x", which);
        for (int g = 0; g < COMPACT_GROUPS; g++) {
            if (!(which & (1u << g))) continue;
            uint64_t x = 0;
            if (get_varint(r, &x) < 0) return -1;
            if (x > UINT32_MAX) return fail(r, "value out of range");
            if (tag == CREC_COUNTS) {
                v->count[g] = (uint32_t)x;
            } else {
                if (x > COMPACT_SID_LIMIT) return fail(r, "speaker id out of range");
                v->speaker[g] = (uint32_t)x;
            }
        }
        return 0;
    }
    case CREC_DANGER: {
        uint64_t x = 0;
        if (get_varint(r, &x) < 0) return -1;
        if (x > UINT32_MAX) return fail(r, "value out of range");
        v->hostiles = (uint32_t)x;
        return 0;
    }
    case CREC_SELF:
        for (int a = 0; a < 3; a++)
            if (get_coord(r, &v->self[a]) < 0) return -1;
        return 0;
    default:
        return fail(r, "unknown record tag %#x", tag);
    }
}

int compact_view_apply(compact_view_t *v, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    rd_t r = {p, p + len, err, errlen};
    uint8_t kind = 0;
    uint64_t ts = 0;
    if (get_u8(&r, &kind) < 0 || get_varint(&r, &ts) < 0) return -1;
    if (kind == COMPACT_FULL) {
        reset(v);
        v->ts = ts;
        v->has_state = 1;
    } else if (kind == COMPACT_DELTA) {
        if (!v->has_state) return fail(&r, "delta before a full frame");
        v->ts += ts;
    } else {
        return fail(&r, "unknown frame kind %u", kind);
    }
    v->frames++;
    while (r.p < r.end) {
        uint8_t tag = *r.p++;
        if (apply_record(&r, v, tag) < 0) return -1;
        v->records++;
    }
    /* every speaker is a listed entity */
    for (int g = 0; g < COMPACT_GROUPS; g++) {
        uint32_t s = v->speaker[g];
        if (s && (s - 1 >= v->n_defs || !v->defs[s - 1].in_view))
            return fail(&r, "speaker %u of group %d not in view", s - 1, g);
    }
    return 0;
}
