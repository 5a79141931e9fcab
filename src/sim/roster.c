/* roster.c - see roster.h.
 *
 * Cost per recomputed viewer (the tick uses roster_update_grid):
 * 1. one SIMD pass over the grid's packed rows around it: distances,
 *    exact channel counts, candidates within 250 ft as {where, d2};
 * 2. the nearest `max`: a log-scale histogram of d2 and one branch-free
 *    partition, a quickselect only inside the bin holding the max-th;
 *    then geometry (sqrt, direction) for those `max` only, four at a
 *    time;
 * 3. O(max) matching against the last sent state (slot + pid);
 * 4. the delta JSON, each added/updated object formatted once and
 *    copied into every channel that lists it.
 * No sorting on the delta path, no printf, no allocation beyond the
 * scratch arrays' amortized growth; atan2 is only evaluated for values
 * about to be sent (bearing changes are detected with a dot product
 * against the last sent direction). Entities come out in no particular
 * order on the delta path (the full roster is sorted nearest first). */
#include "roster.h"
#include "../core/alloc.h"
#include "../proto/compact.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

const double roster_channel_range[ROSTER_CHANNELS] = {5, 20, 150, 150, 150, 150, 250};
const char *const roster_channel_name[ROSTER_CHANNELS] = {"touch", "say",  "shout", "emote",
                                                          "see",   "hear", "cfh"};

#define NOT_COMPUTED INT16_MIN
#define SELECT_BINS  128

/* An entity within the widest channel during selection: `ref` says where
 * its geometry is (an index into the caller's hits, or into the grid's
 * packed items), d2 its squared distance. Kept small: selection moves
 * these around, geometry is only looked up for the nearest `max`. */
struct roster_near_s {
    int32_t ref;
    float d2;
};

/* Where the geometry of a roster_near_t comes from: hits (roster_update)
 * or the packed grid items relative to the viewer (roster_update_grid),
 * computed exactly as grid_query computes its hits. */
typedef struct geo_src_s {
    const grid_hit_t *hits;
    const grid_item_t *items;
    float fx, fy, fz;
} geo_src_t;

/* Step 1's results: how many candidates, exact counts. */
typedef struct near_set_s {
    size_t n;
    uint32_t count[ROSTER_CHANNELS];
} near_set_t;

struct roster_cand_s {
    int32_t slot;
    float d2;
    float dx, dy, dz, h;
    float ux, uz; /* horizontal direction (unit; 0,0 when h is ~0) */
    int32_t range_t;
    int16_t bearing_t, elev_t; /* NOT_COMPUTED until needed */
    uint8_t mask;
    float px, py, pz; /* compact only: absolute position, as the grid holds it */
};

enum { UPD_RANGE = 1, UPD_BEARING = 2, UPD_ELEV = 4 };

struct roster_diff_s {
    int32_t new_i, old_i; /* -1 when absent on that side */
    uint8_t old_mask, new_mask, upd;
    uint32_t add_off, add_len; /* its `added` object in s->frag, once built */
    uint32_t upd_off, upd_len; /* its `updated` object in s->frag, once built */
};

struct roster_mark_s {
    uint32_t stamp;
    int32_t idx;
};

/* A far entity's move waiting for the compact budget. */
struct roster_far_s {
    int32_t bin; /* priority bin, 0 first: see far_bin */
    int32_t i;   /* candidate index */
};

/* Inline append: with a constant n the memcpy compiles to a few moves.
 * Leaves the NUL terminator to the caller's last buf_putc/buf_append. */
static inline void put_raw(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static inline void putc_raw(buf_t *b, char c)
{
    if (b->len + 2 > b->cap) buf_reserve(b, 1);
    b->data[b->len++] = c;
}

#define PUTS(b, lit) put_raw((b), (lit), sizeof(lit) - 1)

/* Copies n bytes between non-overlapping buffers. The fragments a delta
 * is assembled from are mostly 20-120 bytes, where a libc call costs
 * about as much as the copy itself. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
    if (n > 128) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16)
            memcpy(d + i, s + i, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* put_raw for a fragment of run-time length. */
static inline void put_frag(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) buf_reserve(b, n);
    copy_bytes(b->data + b->len, s, n);
    b->len += n;
}

/* Room for n more bytes (and the terminator); returns where they go. */
static inline char *room(buf_t *b, size_t n)
{
    if (b->len + n + 1 > b->cap) buf_reserve(b, n);
    return b->data + b->len;
}

/* ---- number and string formatting (hot path: no printf, no per-byte calls) ---- */

/* Writes v in decimal to p; returns the number of digits. */
static inline size_t fmt_u64(char *p, uint64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    size_t n = 1;
    for (uint64_t t = v; t >= 10; t /= 10)
        n++;
    char *q = p + n;
    while (v >= 100) {
        q -= 2;
        memcpy(q, pairs + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, pairs + v * 2, 2);
    } else {
        *--q = (char)('0' + v);
    }
    return n;
}

static inline void put_u64_raw(buf_t *b, uint64_t v)
{
    char *p = room(b, 20);
    b->len += fmt_u64(p, v);
}

static inline void put_tenths_raw(buf_t *b, int64_t v)
{
    char *p = room(b, 24);
    size_t n = 0;
    if (v < 0) {
        p[n++] = '-';
        v = -v;
    }
    uint64_t u = (uint64_t)v;
    n += fmt_u64(p + n, u / 10);
    if (u % 10) {
        p[n++] = '.';
        p[n++] = (char)('0' + u % 10);
    }
    b->len += n;
}

/* A quoted protocol id (zent_id_format's text). */
static inline void put_id_raw(buf_t *b, int64_t pid)
{
    char *p = room(b, ZENT_ID_MAX + 2);
    size_t n;
    if (pid > 0) {
        memcpy(p, "\"char-", 6); // NOLINT(bugprone-not-null-terminated-result): JSON bytes
        n = 6 + fmt_u64(p + 6, (uint64_t)pid);
    } else {
        memcpy(p, "\"npc-", 5); // NOLINT(bugprone-not-null-terminated-result): JSON bytes
        n = 5 + fmt_u64(p + 5, (uint64_t)0 - (uint64_t)pid);
    }
    p[n] = '"';
    b->len += n + 1;
}

/* A JSON string: names rarely need escaping, so copy them whole and
 * leave the rest to buf_json_strn (identical output). */
static void put_str(buf_t *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            buf_json_strn(b, s, n);
            return;
        }
    }
    char *p = room(b, n + 2);
    p[0] = '"';
    copy_bytes(p + 1, s, n);
    p[n + 1] = '"';
    b->len += n + 2;
}

void roster_put_u64(buf_t *b, uint64_t v)
{
    put_u64_raw(b, v);
    b->data[b->len] = '\0';
}

void roster_put_tenths(buf_t *b, int64_t v)
{
    put_tenths_raw(b, v);
    b->data[b->len] = '\0';
}

void roster_put_id(buf_t *b, int64_t pid)
{
    put_id_raw(b, pid);
    b->data[b->len] = '\0';
}

/* `"<channel>":` for each channel */
static const struct {
    const char *s;
    size_t n;
} chan_key[ROSTER_CHANNELS] = {
#define K(x)                                                                                       \
    {                                                                                              \
        "\"" x "\":", sizeof(x) + 2                                                                \
    }
    K("touch"), K("say"), K("shout"), K("emote"), K("see"), K("hear"), K("cfh"),
#undef K
};

int roster_bearing_t(double dx, double dz)
{
    if (dx * dx + dz * dz < 1e-12) return 0;
    double deg = atan2(dx, dz) * (180.0 / M_PI);
    int t = (int)lround(deg * 10.0);
    if (t < 0) t += 3600;
    if (t >= 3600) t -= 3600;
    return t;
}

int roster_elevation_t(double dy, double h)
{
    if (dy == 0) return 0;
    return (int)lround(atan2(dy, h) * (1800.0 / M_PI));
}

/* ---- lifecycle ---- */

void roster_init(roster_t *r, int max)
{
    wod_assert(max >= 1);
    memset(r, 0, sizeof(*r));
    r->max = max;
    r->e = wod_malloc((size_t)max * sizeof(*r->e));
}

void roster_free(roster_t *r)
{
    free(r->e);
    memset(r, 0, sizeof(*r));
}

void roster_scratch_init(roster_scratch_t *s, int max)
{
    memset(s, 0, sizeof(*s));
    s->max = max;
    s->next = wod_malloc((size_t)max * sizeof(*s->next));
    s->cand = wod_malloc((size_t)max * sizeof(*s->cand));
    buf_init(&s->frag);
    /* new entries + old entries that vanished */
    s->diff = wod_malloc((size_t)max * 2 * sizeof(*s->diff));
    s->cnext = wod_malloc((size_t)max * sizeof(*s->cnext));
    s->ckind = wod_malloc((size_t)max);
    s->cfar = wod_malloc((size_t)max * 2 * sizeof(*s->cfar)); /* + sort scratch */
}

void roster_scratch_free(roster_scratch_t *s)
{
    free(s->cand);
    free(s->near);
    free(s->tmp);
    buf_free(&s->frag);
    free(s->next);
    free(s->diff);
    free(s->mark);
    free(s->cnext);
    free(s->ckind);
    free(s->cfar);
    memset(s, 0, sizeof(*s));
}

/* ---- selection ---- */

static inline void hswap(roster_near_t *a, roster_near_t *b)
{
    roster_near_t t = *a;
    *a = *b;
    *b = t;
}

/* Reorders c[0..n) so that c[0..k) are the k smallest by d2. */
static void select_nearest(roster_near_t *c, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c[mid].d2 < c[lo].d2) hswap(&c[mid], &c[lo]);
        if (c[hi].d2 < c[lo].d2) hswap(&c[hi], &c[lo]);
        if (c[hi].d2 < c[mid].d2) hswap(&c[hi], &c[mid]);
        float pivot = c[mid].d2;
        size_t i = lo, j = hi;
        while (i <= j) {
            while (c[i].d2 < pivot)
                i++;
            while (c[j].d2 > pivot)
                j--;
            if (i <= j) {
                hswap(&c[i], &c[j]);
                i++;
                if (j == 0) break;
                j--;
            }
        }
        /* now [lo..j] <= pivot <= [i..hi] */
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            return;
    }
}

/* Appends a copy of bytes already in the buffer (which may move). */
static void append_self(buf_t *b, size_t off, size_t len)
{
    buf_reserve(b, len);
    memcpy(b->data + b->len, b->data + off, len);
    b->len += len;
    b->data[b->len] = '\0';
}

/* Histogram bin of a squared distance: its float bits (monotonic for
 * d2 >= 0) past the exponent and 3 mantissa bits, i.e. 8 bins per
 * octave from 1 ft^2 up; everything below lands in bin 0. Log-scale
 * bins stay useful both in a crowd (hundreds within a few feet) and for
 * a sparse 250 ft disc. */
static inline int d2_bin(float d2)
{
    uint32_t u;
    memcpy(&u, &d2, sizeof(u));
    int b = (int)(u >> 20) - (127 << 3);
    return b < 0 ? 0 : b > SELECT_BINS - 1 ? SELECT_BINS - 1 : b;
}

/* Moves the k nearest of c[0..n) (n > k) to the front, in no particular
 * order. A histogram over d2 finds the bin holding the k-th nearest;
 * everything in nearer bins is taken whole, and only that one (small)
 * bin is quickselected. Both passes are branch-free: data-dependent
 * branches here mispredict about half the time. */
static void take_nearest(roster_near_t *c, size_t n, size_t k, roster_near_t *tmp)
{
    uint32_t hist[2][SELECT_BINS]; /* two, so repeated bins don't chain on one counter */
    memset(hist, 0, sizeof(hist));
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        hist[0][d2_bin(c[i].d2)]++;
        hist[1][d2_bin(c[i + 1].d2)]++;
    }
    if (i < n) hist[0][d2_bin(c[i].d2)]++;
    /* the bin of the k-th nearest, scanning from whichever end is closer
     * (in a sparse disc most candidates sit in the outermost bins) */
    size_t below = 0;
    int edge;
    if (k * 2 <= n) {
        edge = 0;
        while (below + hist[0][edge] + hist[1][edge] < k) {
            below += hist[0][edge] + hist[1][edge];
            edge++;
        }
    } else {
        size_t above = 0;
        edge = SELECT_BINS - 1;
        while (above + hist[0][edge] + hist[1][edge] <= n - k) {
            above += hist[0][edge] + hist[1][edge];
            edge--;
        }
        below = n - above - hist[0][edge] - hist[1][edge];
    }
    /* c[0..below) <- bins < edge; tmp <- bin edge */
    size_t front = 0, nt = 0;
    for (i = 0; i < n; i++) {
        roster_near_t v = c[i];
        int b = d2_bin(v.d2);
        c[front] = v; /* front <= i: never overwrites an unread item */
        front += (size_t)(b < edge);
        tmp[nt] = v;
        nt += (size_t)(b == edge);
    }
    if (nt > k - below) select_nearest(tmp, nt, k - below);
    memcpy(c + below, tmp, (k - below) * sizeof(*c));
}

static int near_cmp(const void *a, const void *b)
{
    float x = ((const roster_near_t *)a)->d2, y = ((const roster_near_t *)b)->d2;
    return (x > y) - (x < y);
}

static inline int cand_bearing(roster_cand_t *c)
{
    if (c->bearing_t == NOT_COMPUTED) c->bearing_t = (int16_t)roster_bearing_t(c->dx, c->dz);
    return c->bearing_t;
}

static inline int cand_elev(roster_cand_t *c)
{
    if (c->elev_t == NOT_COMPUTED) c->elev_t = (int16_t)roster_elevation_t(c->dy, c->h);
    return c->elev_t;
}

/* Horizontal distance, range in tenths and horizontal direction of
 * cand[0..k): four at a time where SSE2 is there (IEEE sqrt and division
 * round the same either way, so the results are identical). */
static void cand_geometry(roster_cand_t *cand, int k)
{
    int i = 0;
#ifdef __SSE2__
    const __m128 ten = _mm_set1_ps(10.0f), half = _mm_set1_ps(0.5f), tiny = _mm_set1_ps(1e-4f);
    for (; i + 4 <= k; i += 4) {
        roster_cand_t *c = &cand[i];
        __m128 dx = _mm_setr_ps(c[0].dx, c[1].dx, c[2].dx, c[3].dx);
        __m128 dz = _mm_setr_ps(c[0].dz, c[1].dz, c[2].dz, c[3].dz);
        __m128 d2 = _mm_setr_ps(c[0].d2, c[1].d2, c[2].d2, c[3].d2);
        __m128 h = _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(dx, dx), _mm_mul_ps(dz, dz)));
        __m128i rt = _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(d2), ten), half));
        __m128 ok = _mm_cmpgt_ps(h, tiny);
        __m128 ux = _mm_and_ps(ok, _mm_div_ps(dx, h)), uz = _mm_and_ps(ok, _mm_div_ps(dz, h));
        float hv[4], uxv[4], uzv[4];
        int32_t rv[4];
        _mm_storeu_ps(hv, h);
        _mm_storeu_ps(uxv, ux);
        _mm_storeu_ps(uzv, uz);
        _mm_storeu_si128((__m128i *)rv, rt);
        for (int l = 0; l < 4; l++) {
            c[l].h = hv[l];
            c[l].range_t = rv[l];
            c[l].ux = uxv[l];
            c[l].uz = uzv[l];
        }
    }
#endif
    for (; i < k; i++) {
        roster_cand_t *c = &cand[i];
        c->h = sqrtf(c->dx * c->dx + c->dz * c->dz);
        c->range_t = (int32_t)(sqrtf(c->d2) * 10.0f + 0.5f);
        if (c->h > 1e-4f) {
            c->ux = c->dx / c->h;
            c->uz = c->dz / c->h;
        } else {
            c->ux = c->uz = 0;
        }
    }
}

/* ---- JSON pieces ---- */

static void put_entity(buf_t *b, const zent_t *e, roster_cand_t *c)
{
    buf_reserve(b, (size_t)e->idlen + 10);
    PUTS(b, "{\"id\":\"");
    put_frag(b, e->idstr, e->idlen);
    PUTS(b, "\",\"name\":");
    put_str(b, e->name);
    /* in the grid means alive: the dead are taken out of it */
    if (e->kind == ZENT_NPC && e->wildlife)
        PUTS(b, ",\"type\":\"wildlife\",\"isMachine\":true,\"isAlive\":true,\"bearing\":");
    else if (e->kind == ZENT_NPC)
        PUTS(b, ",\"type\":\"npc\",\"isMachine\":true,\"isAlive\":true,\"bearing\":");
    else if (e->machine)
        PUTS(b, ",\"type\":\"player\",\"isMachine\":true,\"isAlive\":true,\"bearing\":");
    else
        PUTS(b, ",\"type\":\"player\",\"isMachine\":false,\"isAlive\":true,\"bearing\":");
    put_tenths_raw(b, cand_bearing(c));
    PUTS(b, ",\"elevation\":");
    put_tenths_raw(b, cand_elev(c));
    PUTS(b, ",\"range\":");
    put_tenths_raw(b, c->range_t);
    putc_raw(b, '}');
}

/* dangerState is the original's boolean; our detail is `danger`. */
static void put_danger(buf_t *b, int hostiles)
{
    if (hostiles > 0)
        PUTS(b, "\"dangerState\":true,\"danger\":{\"level\":\"danger\"");
    else
        PUTS(b, "\"dangerState\":false,\"danger\":{\"level\":\"safe\"");
    PUTS(b, ",\"hostilesNearby\":");
    put_u64_raw(b, (uint64_t)hostiles);
    putc_raw(b, '}');
}

/* Channel c's members among the new list, nearest first (count <= 3). */
static int sample_members(roster_cand_t *cand, int k, int c, int out[ROSTER_SAMPLE_MAX])
{
    int n = 0;
    for (int i = 0; i < k && n < ROSTER_SAMPLE_MAX; i++)
        if (cand[i].mask & (1u << c)) out[n++] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && cand[out[j]].d2 < cand[out[j - 1]].d2; j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

static void put_sample(buf_t *b, const zent_t *ents, roster_cand_t *cand, int k, int c)
{
    int m[ROSTER_SAMPLE_MAX];
    int n = sample_members(cand, k, c, m);
    PUTS(b, "\"sample\":[");
    for (int i = 0; i < n; i++) {
        if (i) putc_raw(b, ',');
        put_str(b, ents[cand[m[i]].slot].name);
    }
    putc_raw(b, ']');
}

/* lastSpeaker of every channel: the pid of the most recent speaker among
 * its members while count <= ROSTER_SAMPLE_MAX, else 0. One pass over
 * the list for all channels (the first of equal speech counters wins). */
static void channel_speakers(const zent_t *ents, const roster_cand_t *cand, int k,
                             const uint32_t *count, int64_t *pid, const char **name)
{
    uint8_t small = 0;
    uint32_t best[ROSTER_CHANNELS] = {0};
    for (int c = 0; c < ROSTER_CHANNELS; c++) {
        pid[c] = 0;
        name[c] = NULL;
        small |= (uint8_t)((count[c] <= ROSTER_SAMPLE_MAX) << c);
    }
    if (!small) return;
    for (int i = 0; i < k; i++) {
        uint8_t m = cand[i].mask & small;
        if (!m) continue;
        const zent_t *e = &ents[cand[i].slot];
        for (int c = 0; c < ROSTER_CHANNELS; c++) {
            if ((m & (1u << c)) && e->spoke_seq > best[c]) {
                best[c] = e->spoke_seq;
                pid[c] = e->pid;
                name[c] = e->name;
            }
        }
    }
}

static void fill_entry(roster_entry_t *ne, int64_t pid, roster_cand_t *c)
{
    ne->pid = pid;
    ne->slot = c->slot;
    ne->range_t = c->range_t;
    ne->bearing_t = (int16_t)cand_bearing(c);
    ne->elev_t = (int16_t)cand_elev(c);
    ne->ux = c->ux;
    ne->uz = c->uz;
    ne->mask = c->mask;
}

/* ---- the update ---- */

/* Appends the `added` object of diff d (built once, copied per channel). */
static void put_added(buf_t *out, roster_scratch_t *s, roster_diff_t *d, const zent_t *ents)
{
    if (!d->add_len) {
        roster_cand_t *c = &s->cand[d->new_i];
        d->add_off = (uint32_t)s->frag.len;
        put_entity(&s->frag, &ents[c->slot], c);
        d->add_len = (uint32_t)(s->frag.len - d->add_off);
    }
    put_frag(out, s->frag.data + d->add_off, d->add_len);
}

/* Appends the `updated` object of diff d: only the fields that moved. */
static void put_updated(buf_t *out, roster_scratch_t *s, roster_diff_t *d)
{
    if (!d->upd_len) {
        buf_t *f = &s->frag;
        const roster_entry_t *ne = &s->next[d->new_i];
        d->upd_off = (uint32_t)f->len;
        PUTS(f, "{\"id\":");
        put_id_raw(f, ne->pid); /* formatting beats a cache miss on the entity */
        if (d->upd & UPD_BEARING) {
            PUTS(f, ",\"bearing\":");
            put_tenths_raw(f, ne->bearing_t);
        }
        if (d->upd & UPD_ELEV) {
            PUTS(f, ",\"elevation\":");
            put_tenths_raw(f, ne->elev_t);
        }
        if (d->upd & UPD_RANGE) {
            PUTS(f, ",\"range\":");
            put_tenths_raw(f, ne->range_t);
        }
        putc_raw(f, '}');
        d->upd_len = (uint32_t)(f->len - d->upd_off);
    }
    put_frag(out, s->frag.data + d->upd_off, d->upd_len);
}

/* Opens a list member: the key on first use, else a comma. */
static void list_item(buf_t *out, int *first, size_t body, const char *key, size_t keylen)
{
    if (*first) {
        if (out->len != body) putc_raw(out, ',');
        put_frag(out, key, keylen);
        *first = 0;
    } else {
        putc_raw(out, ',');
    }
}

static void ensure_scratch(roster_scratch_t *s, size_t n_near, size_t n_slots)
{
    if (n_near > s->near_cap) {
        s->near_cap = n_near + n_near / 2 + 16;
        s->near = wod_realloc(s->near, s->near_cap * sizeof(*s->near));
    }
    if (n_near > s->tmp_cap) {
        s->tmp_cap = s->near_cap;
        s->tmp = wod_realloc(s->tmp, s->tmp_cap * sizeof(*s->tmp));
    }
    if (n_slots > s->mark_cap) {
        size_t cap = n_slots + n_slots / 2 + 16;
        s->mark = wod_realloc(s->mark, cap * sizeof(*s->mark));
        memset(s->mark + s->mark_cap, 0, (cap - s->mark_cap) * sizeof(*s->mark));
        s->mark_cap = cap;
    }
}

/* Step 1 for one candidate: exact counts, histogram, and the candidate
 * itself (branch-free: written always, kept only if in range). */
#define R2_TOUCH ((float)(5.0 * 5.0))
#define R2_SAY   ((float)(20.0 * 20.0))
#define R2_SEE   ((float)(150.0 * 150.0))
#define R2_CFH   ((float)(ROSTER_QUERY_RANGE * ROSTER_QUERY_RANGE))

static int roster_update_near(roster_t *r, roster_scratch_t *s, const zent_t *ents,
                              const int64_t *pids, const near_set_t *ns, const geo_src_t *src,
                              int hostiles, int full, uint64_t ts, buf_t *out);

/* Step 1 from a grid_query's hits: counts and candidates. */
static void near_from_hits(roster_scratch_t *s, size_t n_slots, int32_t viewer,
                           const grid_hit_t *hits, size_t n_hits, near_set_t *ns, geo_src_t *src)
{
    ensure_scratch(s, n_hits, n_slots);
    memset(ns, 0, sizeof(*ns));
    roster_near_t *near = s->near;
    size_t nc = 0;
    for (size_t i = 0; i < n_hits; i++) {
        float d2 = hits[i].d2;
        if (hits[i].id == viewer || d2 > R2_CFH) continue;
        ns->count[RCH_CFH]++;
        ns->count[RCH_SHOUT] += d2 <= R2_SEE;
        ns->count[RCH_SAY] += d2 <= R2_SAY;
        ns->count[RCH_TOUCH] += d2 <= R2_TOUCH;
        near[nc++] = (roster_near_t){(int32_t)i, d2};
    }
    ns->n = nc;
    *src = (geo_src_t){hits, NULL, 0, 0, 0};
}

int roster_update(roster_t *r, roster_scratch_t *s, const zent_t *ents, size_t n_slots,
                  int32_t viewer, const grid_hit_t *hits, size_t n_hits, int hostiles, int full,
                  uint64_t ts, buf_t *out)
{
    wod_assert(r->max == s->max);
    near_set_t ns;
    geo_src_t src;
    near_from_hits(s, n_slots, viewer, hits, n_hits, &ns, &src);
    return roster_update_near(r, s, ents, NULL, &ns, &src, hostiles, full, ts, out);
}

#ifdef __SSE2__
_Static_assert(sizeof(grid_item_t) == 16 && offsetof(grid_item_t, id) == 0 &&
                   offsetof(grid_item_t, x) == 4 && offsetof(grid_item_t, z) == 12,
               "roster_update_grid loads grid items as 4 floats");

static inline uint32_t hsum_u32(__m128i v)
{
    uint32_t a[4];
    _mm_storeu_si128((__m128i *)a, v);
    return a[0] + a[1] + a[2] + a[3];
}
#endif

/* Step 1 from the grid's packed view around (x, y, z): one pass over the
 * nearby items counts and collects the candidates. */
static void near_from_grid(roster_scratch_t *s, size_t n_slots, int32_t viewer, const grid_t *g,
                           double x, double y, double z, near_set_t *ns_out, geo_src_t *src)
{
    wod_assert(g->packed_valid);
    const double range = ROSTER_QUERY_RANGE;
    int z0, z1;
    grid_rows(g, z, range, &z0, &z1);
    uint32_t span[64][2];
    wod_assert(z1 - z0 < 64);
    size_t total = 0;
    for (int cz = z0; cz <= z1; cz++) {
        grid_row_span(g, x, z, range, cz, &span[cz - z0][0], &span[cz - z0][1]);
        total += span[cz - z0][1] - span[cz - z0][0];
    }
    ensure_scratch(s, total + 4, n_slots);

    /* The same float arithmetic as grid_query (grid_query's radius is the
     * widest channel's), so the set, the order and every d2 match.
     * Candidates are appended branch-free: always written, kept if in. */
    near_set_t ns;
    memset(&ns, 0, sizeof(ns));
    float fx = (float)x, fy = (float)y, fz = (float)z;
    const grid_item_t *items = g->packed;
    roster_near_t *near = s->near;
    size_t nc = 0;
    uint32_t c_cfh = 0, c_see = 0, c_say = 0, c_touch = 0;
#ifdef __SSE2__
    const __m128 vfx = _mm_set1_ps(fx), vfy = _mm_set1_ps(fy), vfz = _mm_set1_ps(fz);
    const __m128 vcfh = _mm_set1_ps(R2_CFH), vsee = _mm_set1_ps(R2_SEE);
    const __m128 vsay = _mm_set1_ps(R2_SAY), vtouch = _mm_set1_ps(R2_TOUCH);
    const __m128i vviewer = _mm_set1_epi32(viewer), ones = _mm_set1_epi32(-1);
    const __m128i lane = _mm_setr_epi32(0, 1, 2, 3);
    __m128i acc_cfh = _mm_setzero_si128(), acc_see = acc_cfh, acc_say = acc_cfh,
            acc_touch = acc_cfh;
#endif
    for (int row = 0; row <= z1 - z0; row++) {
        /* the loop above filled every row of z0..z1 */
        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
        uint32_t i = span[row][0], end = span[row][1];
#ifdef __SSE2__
        /* four at a time; a row's last group may read up to 3 items past
         * its end (the next cells', or grid_pack's padding), masked off */
        for (; i < end; i += 4) {
            const float *p = (const float *)(const void *)&items[i]; /* loadu may alias */
            __m128 a0 = _mm_loadu_ps(p), a1 = _mm_loadu_ps(p + 4);
            __m128 a2 = _mm_loadu_ps(p + 8), a3 = _mm_loadu_ps(p + 12);
            _MM_TRANSPOSE4_PS(a0, a1, a2, a3); /* ids (as bits), xs, ys, zs */
            __m128 dx = _mm_sub_ps(a1, vfx), dy = _mm_sub_ps(a2, vfy), dz = _mm_sub_ps(a3, vfz);
            __m128 d2 =
                _mm_add_ps(_mm_add_ps(_mm_mul_ps(dx, dx), _mm_mul_ps(dy, dy)), _mm_mul_ps(dz, dz));
            __m128i not_me = _mm_xor_si128(_mm_cmpeq_epi32(_mm_castps_si128(a0), vviewer), ones);
            __m128i valid = _mm_cmplt_epi32(lane, _mm_set1_epi32((int32_t)(end - i)));
            __m128i in = _mm_and_si128(_mm_castps_si128(_mm_cmple_ps(d2, vcfh)),
                                       _mm_and_si128(not_me, valid));
            acc_cfh = _mm_sub_epi32(acc_cfh, in);
            acc_see =
                _mm_sub_epi32(acc_see, _mm_and_si128(in, _mm_castps_si128(_mm_cmple_ps(d2, vsee))));
            acc_say =
                _mm_sub_epi32(acc_say, _mm_and_si128(in, _mm_castps_si128(_mm_cmple_ps(d2, vsay))));
            acc_touch = _mm_sub_epi32(
                acc_touch, _mm_and_si128(in, _mm_castps_si128(_mm_cmple_ps(d2, vtouch))));
            int mask = _mm_movemask_ps(_mm_castsi128_ps(in));
            if (!mask) continue;
            float d2v[4];
            _mm_storeu_ps(d2v, d2);
            for (int l = 0; l < 4; l++) {
                near[nc] = (roster_near_t){(int32_t)(i + (uint32_t)l), d2v[l]};
                nc += (size_t)((mask >> l) & 1);
            }
        }
#endif
        for (; i < end; i++) {
            const grid_item_t *it = &items[i];
            float dx = it->x - fx, dy = it->y - fy, dz = it->z - fz;
            float d2 = dx * dx + dy * dy + dz * dz;
            int in = (d2 <= R2_CFH) & (it->id != viewer);
            near[nc] = (roster_near_t){(int32_t)i, d2};
            nc += (size_t)in;
            c_cfh += (uint32_t)in;
            c_see += (uint32_t)(in & (d2 <= R2_SEE));
            c_say += (uint32_t)(in & (d2 <= R2_SAY));
            c_touch += (uint32_t)(in & (d2 <= R2_TOUCH));
        }
    }
#ifdef __SSE2__
    c_cfh += hsum_u32(acc_cfh);
    c_see += hsum_u32(acc_see);
    c_say += hsum_u32(acc_say);
    c_touch += hsum_u32(acc_touch);
#endif
    ns.n = nc;
    ns.count[RCH_CFH] = c_cfh;
    ns.count[RCH_SHOUT] = c_see;
    ns.count[RCH_SAY] = c_say;
    ns.count[RCH_TOUCH] = c_touch;
    *ns_out = ns;
    *src = (geo_src_t){NULL, items, fx, fy, fz};
}

int roster_update_grid(roster_t *r, roster_scratch_t *s, const zent_t *ents, const int64_t *pids,
                       size_t n_slots, int32_t viewer, const grid_t *g, double x, double y,
                       double z, int hostiles, int full, uint64_t ts, buf_t *out)
{
    wod_assert(r->max == s->max);
    /* the last sent state is read after the selection: start loading it */
    for (size_t off = 0; off < (size_t)r->n * sizeof(*r->e); off += 64)
        __builtin_prefetch((const char *)r->e + off);
    near_set_t ns;
    geo_src_t src;
    near_from_grid(s, n_slots, viewer, g, x, y, z, &ns, &src);
    return roster_update_near(r, s, ents, pids, &ns, &src, hostiles, full, ts, out);
}

/* What the selection stage found for one viewer: s->cand[0..k) are the
 * nearest `k` (nearest first on a full roster), with channel masks and
 * geometry; counts are exact; lastSpeaker per channel. */
typedef struct view_s {
    int k;
    uint32_t count[ROSTER_CHANNELS];
    int64_t speaker[ROSTER_CHANNELS];
    const char *speaker_name[ROSTER_CHANNELS];
} view_t;

/* Step 2: the nearest `max` of the entities within the widest channel,
 * with channel masks and geometry, into s->cand. */
static void select_view(int max, roster_scratch_t *s, const zent_t *ents, const near_set_t *ns,
                        const geo_src_t *src, int full, int compact, view_t *v)
{
    float r2[ROSTER_CHANNELS];
    for (int c = 0; c < ROSTER_CHANNELS; c++)
        r2[c] = (float)(roster_channel_range[c] * roster_channel_range[c]);

    memcpy(v->count, ns->count, sizeof(v->count));
    v->count[RCH_EMOTE] = v->count[RCH_SEE] = v->count[RCH_HEAR] = v->count[RCH_SHOUT];
    size_t nc = ns->n;
    roster_near_t *near = s->near;

    int k = nc > (size_t)max ? max : (int)nc;
    if (nc > (size_t)k) take_nearest(near, nc, (size_t)k, s->tmp);
    if (full && k > 1) qsort(near, (size_t)k, sizeof(*near), near_cmp);
    roster_cand_t *cand = s->cand;
    for (int i = 0; i < k; i++) {
        roster_cand_t *c = &cand[i];
        if (src->hits) {
            const grid_hit_t *h = &src->hits[near[i].ref];
            c->slot = h->id;
            c->dx = h->dx;
            c->dy = h->dy;
            c->dz = h->dz;
            if (compact) { /* as the grid stores it: the same quantum either way */
                c->px = (float)ents[h->id].x;
                c->py = (float)ents[h->id].y;
                c->pz = (float)ents[h->id].z;
            }
        } else {
            const grid_item_t *it = &src->items[near[i].ref];
            c->slot = it->id;
            c->dx = it->x - src->fx;
            c->dy = it->y - src->fy;
            c->dz = it->z - src->fz;
            if (compact) {
                c->px = it->x;
                c->py = it->y;
                c->pz = it->z;
            }
        }
        c->d2 = near[i].d2;
        c->bearing_t = c->elev_t = NOT_COMPUTED;
        uint8_t m = 1u << RCH_CFH;
        if (c->d2 <= r2[RCH_SEE]) {
            m |= (1u << RCH_SHOUT) | (1u << RCH_EMOTE) | (1u << RCH_SEE) | (1u << RCH_HEAR);
            if (c->d2 <= r2[RCH_SAY])
                m |= (uint8_t)((1u << RCH_SAY) | ((c->d2 <= r2[RCH_TOUCH]) << RCH_TOUCH));
        }
        c->mask = m;
    }
    if (!compact) cand_geometry(cand, k); /* compact clients compute their own */
    v->k = k;
    channel_speakers(ents, cand, k, v->count, v->speaker, v->speaker_name);
}

/* Writes a complete proximity_roster payload for the selected view. */
static void write_full_roster(buf_t *out, const zent_t *ents, roster_cand_t *cand, const view_t *v,
                              int hostiles, uint64_t ts)
{
    PUTS(out, "{\"channels\":{");
    size_t same_off = 0, same_len = 0;
    for (int c = 0; c < ROSTER_CHANNELS; c++) {
        if (c) putc_raw(out, ',');
        put_frag(out, chan_key[c].s, chan_key[c].n);
        if (c > RCH_SHOUT && c <= RCH_HEAR) { /* same range as shout: same body */
            append_self(out, same_off, same_len);
            continue;
        }
        size_t body = out->len;
        PUTS(out, "{\"count\":");
        put_u64_raw(out, v->count[c]);
        PUTS(out, ",\"entities\":[");
        int first = 1;
        for (int i = 0; i < v->k; i++) {
            if (!(cand[i].mask & (1u << c))) continue;
            if (!first) putc_raw(out, ',');
            first = 0;
            put_entity(out, &ents[cand[i].slot], &cand[i]);
        }
        putc_raw(out, ']');
        if (v->count[c] <= ROSTER_SAMPLE_MAX) {
            putc_raw(out, ',');
            put_sample(out, ents, cand, v->k, c);
            if (v->speaker[c]) {
                PUTS(out, ",\"lastSpeaker\":");
                put_str(out, v->speaker_name[c]);
            }
        }
        putc_raw(out, '}');
        if (c == RCH_SHOUT) {
            same_off = body;
            same_len = out->len - body;
        }
    }
    PUTS(out, "},");
    put_danger(out, hostiles);
    PUTS(out, ",\"timestamp\":");
    put_u64_raw(out, ts);
    putc_raw(out, '}');
}

/* Step 3: matches the selected view against the last sent state by
 * entity slot (+ pid: slots are reused). Fills s->next with the state
 * the client will hold and s->diff with every entity added, removed or
 * noticeably moved; returns how many diffs, and in *memb_changed the
 * channels whose membership changed. */
static int diff_view(const roster_t *r, roster_scratch_t *s, const zent_t *ents,
                     const int64_t *pids, const view_t *v, uint8_t *memb_changed)
{
    roster_cand_t *cand = s->cand;
    roster_entry_t *next = s->next;
    if (++s->stamp == 0) {
        memset(s->mark, 0, s->mark_cap * sizeof(*s->mark));
        s->stamp = 1;
    }
    const roster_entry_t *old = r->e;
    for (int o = 0; o < r->n; o++) {
        s->mark[old[o].slot].stamp = s->stamp;
        s->mark[old[o].slot].idx = o;
    }
    roster_diff_t *diff = s->diff;
    int nd = 0;
    uint8_t changed = 0;
    const float cos_eps = (float)cos(ROSTER_BEARING_EPS_DEG * M_PI / 180.0);
    for (int i = 0; i < v->k; i++) {
        roster_cand_t *c = &cand[i];
        roster_mark_t *m = &s->mark[c->slot];
        roster_entry_t *ne = &next[i];
        int64_t pid = pids ? pids[c->slot] : ents[c->slot].pid;
        if (m->stamp != s->stamp || old[m->idx].pid != pid) {
            fill_entry(ne, pid, c);
            diff[nd++] = (roster_diff_t){i, -1, 0, c->mask, 0, 0, 0, 0, 0};
            changed |= c->mask;
            continue;
        }
        const roster_entry_t *oe = &old[m->idx];
        m->stamp = 0; /* matched: not removed */
        *ne = *oe;
        ne->slot = c->slot;
        ne->mask = c->mask;
        uint8_t upd = 0;
        int force = (c->mask & ~oe->mask) && (c->mask & oe->mask);
        int32_t dr = abs(c->range_t - oe->range_t);
        /* 5 % of the range in tenths of a foot, in integers: range_t >= 0 */
        int32_t eps = oe->range_t / ROSTER_RANGE_EPS_DIV;
        if (eps < (int32_t)(ROSTER_RANGE_EPS_FT * 10)) eps = (int32_t)(ROSTER_RANGE_EPS_FT * 10);
        if (dr >= eps || (force && dr)) {
            upd |= UPD_RANGE;
            ne->range_t = c->range_t;
        }
        float ux = c->ux, uz = c->uz;
        float dot = ux * oe->ux + uz * oe->uz;
        /* bitwise, not short-circuit: these branches are unpredictable */
        int moved_dir = ((ux != 0) | (uz != 0) | (oe->ux != 0) | (oe->uz != 0)) & (dot < cos_eps);
        if (moved_dir || (force && dot < 0.99999f)) {
            int bt = cand_bearing(c);
            if (moved_dir || bt != oe->bearing_t) {
                upd |= UPD_BEARING;
                ne->bearing_t = (int16_t)bt;
                ne->ux = ux;
                ne->uz = uz;
            }
        }
        if (c->dy != 0 || oe->elev_t != 0) {
            int et = cand_elev(c);
            int de = abs(et - oe->elev_t);
            if (de >= ROSTER_ELEVATION_EPS_DEG * 10 || (force && de)) {
                upd |= UPD_ELEV;
                ne->elev_t = (int16_t)et;
            }
        }
        if (upd || c->mask != oe->mask) {
            diff[nd++] = (roster_diff_t){i, m->idx, oe->mask, c->mask, upd, 0, 0, 0, 0};
            changed |= (uint8_t)(c->mask ^ oe->mask);
        }
    }
    for (int o = 0; o < r->n; o++) {
        const roster_mark_t *m = &s->mark[old[o].slot];
        if (m->stamp != s->stamp || m->idx != o) continue;
        diff[nd++] = (roster_diff_t){-1, o, old[o].mask, 0, 0, 0, 0, 0, 0};
        changed |= old[o].mask;
    }
    *memb_changed = changed;
    return nd;
}

/* Whether the client could notice anything: a diff, a count, a speaker
 * or dangerState. */
static int view_changed(const roster_t *r, const view_t *v, int nd, int hostiles)
{
    int any = nd > 0 || hostiles != r->hostiles;
    for (int c = 0; c < ROSTER_CHANNELS && !any; c++)
        any = v->count[c] != r->count[c] || v->speaker[c] != r->speaker[c];
    return any;
}

/* Step 4: the proximity_roster_delta payload of s->diff[0..nd) against
 * the last state; a channel with nothing to say is rolled back. */
static void write_roster_delta(buf_t *out, const roster_t *r, roster_scratch_t *s,
                               const zent_t *ents, const view_t *v, int nd, uint8_t memb_changed,
                               int hostiles, uint64_t ts)
{
    roster_diff_t *diff = s->diff;
    const roster_entry_t *old = r->e;
    buf_reset(&s->frag);
    putc_raw(out, '{');
    size_t channels_at = out->len;
    PUTS(out, "\"channels\":{");
    size_t channels_body = out->len;
    size_t same_off = 0, same_len = 0;
    for (int c = 0; c < ROSTER_CHANNELS; c++) {
        uint8_t bit = (uint8_t)(1u << c);
        if (c > RCH_SHOUT && c <= RCH_HEAR) { /* same range as shout: same body */
            if (same_len) {
                putc_raw(out, ',');
                put_frag(out, chan_key[c].s, chan_key[c].n);
                append_self(out, same_off, same_len);
            }
            continue;
        }
        size_t at = out->len;
        if (at != channels_body) putc_raw(out, ',');
        put_frag(out, chan_key[c].s, chan_key[c].n);
        putc_raw(out, '{');
        size_t body = out->len;
        int first = 1;
        for (int d = 0; d < nd; d++) {
            if (!(diff[d].new_mask & bit) || (diff[d].old_mask & bit)) continue;
            list_item(out, &first, body, "\"added\":[", 9);
            put_added(out, s, &diff[d], ents);
        }
        if (!first) putc_raw(out, ']');
        first = 1;
        for (int d = 0; d < nd; d++) {
            if (!(diff[d].old_mask & bit) || (diff[d].new_mask & bit)) continue;
            list_item(out, &first, body, "\"removed\":[", 11);
            put_id_raw(out, old[diff[d].old_i].pid);
        }
        if (!first) putc_raw(out, ']');
        first = 1;
        for (int d = 0; d < nd; d++) {
            if (!diff[d].upd || !(diff[d].old_mask & bit) || !(diff[d].new_mask & bit)) continue;
            list_item(out, &first, body, "\"updated\":[", 11);
            put_updated(out, s, &diff[d]);
        }
        if (!first) putc_raw(out, ']');
        if (v->count[c] != r->count[c]) {
            if (out->len != body) putc_raw(out, ',');
            PUTS(out, "\"count\":");
            put_u64_raw(out, v->count[c]);
        }
        int small = v->count[c] <= ROSTER_SAMPLE_MAX, was_small = r->count[c] <= ROSTER_SAMPLE_MAX;
        if (small && ((memb_changed & bit) || !was_small)) {
            if (out->len != body) putc_raw(out, ',');
            put_sample(out, ents, s->cand, v->k, c);
        } else if (!small && was_small) {
            if (out->len != body) putc_raw(out, ',');
            PUTS(out, "\"sample\":[]"); /* arrays are never null (the original clients) */
        }
        if (v->speaker[c] != r->speaker[c]) {
            if (out->len != body) putc_raw(out, ',');
            PUTS(out, "\"lastSpeaker\":");
            if (v->speaker[c])
                put_str(out, v->speaker_name[c]);
            else
                PUTS(out, "null");
        }
        if (out->len == body) {
            out->len = at; /* nothing for this channel */
        } else {
            putc_raw(out, '}');
            if (c == RCH_SHOUT) {
                same_off = body - 1;
                same_len = out->len - same_off;
            }
        }
    }
    if (out->len == channels_body)
        out->len = channels_at;
    else
        putc_raw(out, '}');
    if (hostiles != r->hostiles) {
        if (out->len != channels_at) putc_raw(out, ',');
        put_danger(out, hostiles);
    }
    if (out->len != channels_at) putc_raw(out, ',');
    PUTS(out, "\"timestamp\":");
    put_u64_raw(out, ts);
    putc_raw(out, '}');
}

/* The selected view becomes what the client was last told (s->next is
 * swapped in as the roster's entries). */
static void commit_view(roster_t *r, roster_scratch_t *s, const view_t *v, int hostiles)
{
    roster_entry_t *next = s->next;
    s->next = r->e;
    r->e = next;
    r->n = v->k;
    memcpy(r->count, v->count, sizeof(v->count));
    memcpy(r->speaker, v->speaker, sizeof(v->speaker));
    r->hostiles = hostiles;
    r->has_state = 1;
}

/* Steps 2-4 of an update, from the entities within the widest channel:
 * select, then write the full roster, or diff and write the delta. */
static int roster_update_near(roster_t *r, roster_scratch_t *s, const zent_t *ents,
                              const int64_t *pids, const near_set_t *ns, const geo_src_t *src,
                              int hostiles, int full, uint64_t ts, buf_t *out)
{
    view_t v;
    select_view(r->max, s, ents, ns, src, full, 0, &v);
    int ret = 1;
    if (full) {
        write_full_roster(out, ents, s->cand, &v, hostiles, ts);
        for (int i = 0; i < v.k; i++)
            fill_entry(&s->next[i], pids ? pids[s->cand[i].slot] : ents[s->cand[i].slot].pid,
                       &s->cand[i]);
    } else {
        uint8_t memb_changed;
        int nd = diff_view(r, s, ents, pids, &v, &memb_changed);
        if (view_changed(r, &v, nd, hostiles))
            write_roster_delta(out, r, s, ents, &v, nd, memb_changed, hostiles, ts);
        else
            ret = 0;
    }
    if (ret) out->data[out->len] = '\0';
    commit_view(r, s, &v, hostiles);
    return ret;
}

/* ---- compact encoding (src/proto/compact.h) ---- */

#define SID_NONE UINT32_MAX

enum { CK_MATCHED, CK_KNOWN, CK_NEW }; /* in view before; in the table; neither */

static const int group_channel[COMPACT_GROUPS] = {RCH_TOUCH, RCH_SAY, RCH_SHOUT, RCH_CFH};

static inline void put_byte(buf_t *b, uint8_t v)
{
    putc_raw(b, (char)v);
}

static inline void put_varint(buf_t *b, uint64_t v)
{
    uint8_t *p = (uint8_t *)room(b, 10);
    b->len += compact_put_varint(p, v);
}

static inline void put_zz(buf_t *b, int64_t v)
{
    put_varint(b, compact_zigzag(v));
}

/* Tenths of a foot; from the float the grid holds, so every path agrees. */
#define QUANT_BIAS (1 << 24) /* positions are > -1.6 million ft: truncation is floor */

static inline int32_t quantise(float v)
{
    return (int32_t)((double)v * (1.0 / COMPACT_QUANTUM_FT) + (0.5 + QUANT_BIAS)) - QUANT_BIAS;
}

static inline uint32_t pid_hash(int64_t pid)
{
    return (uint32_t)(((uint64_t)pid * 0x9E3779B97F4A7C15ull) >> 32);
}

static void hash_insert(roster_compact_t *r, uint32_t sid)
{
    uint32_t m = r->hash_cap - 1, h = pid_hash(r->sid_pid[sid]) & m;
    while (r->hash[h])
        h = (h + 1) & m;
    r->hash[h] = sid + 1;
}

static uint32_t ids_find(const roster_compact_t *r, int64_t pid)
{
    uint32_t m = r->hash_cap - 1;
    for (uint32_t h = pid_hash(pid) & m, e; (e = r->hash[h]); h = (h + 1) & m)
        if (r->sid_pid[e - 1] == pid) return e - 1;
    return SID_NONE;
}

/* Linear probing delete: later members of the run move back into the gap
 * unless their home lies cyclically in (gap, their place]. */
static void hash_delete(roster_compact_t *r, uint32_t sid)
{
    uint32_t m = r->hash_cap - 1, i = pid_hash(r->sid_pid[sid]) & m;
    while (r->hash[i] != sid + 1)
        i = (i + 1) & m;
    for (uint32_t j = (i + 1) & m; r->hash[j]; j = (j + 1) & m) {
        uint32_t home = pid_hash(r->sid_pid[r->hash[j] - 1]) & m;
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        r->hash[i] = r->hash[j];
        i = j;
    }
    r->hash[i] = 0;
}

static void ids_resize(roster_compact_t *r, uint32_t cap)
{
    r->sid_pid = wod_realloc(r->sid_pid, cap * sizeof(*r->sid_pid));
    r->sid_busy = wod_realloc(r->sid_busy, cap);
    memset(r->sid_busy + r->ids_cap, 0, cap - r->ids_cap);
    r->ids_cap = cap;
    free(r->hash);
    r->hash_cap = cap * 2;
    r->hash = wod_calloc(r->hash_cap, sizeof(*r->hash));
    for (uint32_t sid = 0; sid < r->ids_n; sid++)
        hash_insert(r, sid);
}

/* A small id for pid: a fresh one while the table can grow, else the
 * next (round robin) that the frame being written does not list. */
static uint32_t ids_alloc(roster_compact_t *r, int64_t pid)
{
    uint32_t sid;
    if (r->ids_n == r->ids_cap && r->ids_cap < r->ids_max)
        ids_resize(r, r->ids_cap * 2 < r->ids_max ? r->ids_cap * 2 : r->ids_max);
    if (r->ids_n < r->ids_cap) {
        sid = r->ids_n++;
    } else {
        do {
            sid = r->hand;
            r->hand = r->hand + 1 == r->ids_cap ? 0 : r->hand + 1;
        } while (r->sid_busy[sid]);
        hash_delete(r, sid);
    }
    r->sid_pid[sid] = pid;
    r->sid_busy[sid] = 1;
    hash_insert(r, sid);
    return sid;
}

void roster_compact_init(roster_compact_t *r, int max, int bytes_per_s, double rate_hz)
{
    wod_assert(max >= 1 && 2 * max < COMPACT_SID_LIMIT);
    memset(r, 0, sizeof(*r));
    r->max = max;
    r->e = wod_malloc((size_t)max * sizeof(*r->e));
    r->ids_max = ROSTER_COMPACT_IDS > 2 * max ? ROSTER_COMPACT_IDS : (uint32_t)(2 * max);
    ids_resize(r, 64 < r->ids_max ? 64 : r->ids_max);
    if (!(rate_hz > 0)) rate_hz = 1;
    r->per_update = (int32_t)(bytes_per_s / rate_hz);
    r->credit_max = bytes_per_s;
}

void roster_compact_free(roster_compact_t *r)
{
    free(r->e);
    free(r->sid_pid);
    free(r->sid_busy);
    free(r->hash);
    memset(r, 0, sizeof(*r));
}

/* A full frame: the client forgets every id, so does the table. */
static void ids_reset(roster_compact_t *r)
{
    r->ids_n = 0;
    r->hand = 0;
    memset(r->hash, 0, r->hash_cap * sizeof(*r->hash));
    memset(r->sid_busy, 0, r->ids_cap);
    r->n = 0;
}

static void put_def(buf_t *out, uint32_t sid, const zent_t *e)
{
    uint8_t flags = e->kind == ZENT_NPC ? (e->wildlife ? CDEF_WILDLIFE : CDEF_NPC) : CDEF_PLAYER;
    if (e->kind == ZENT_NPC || e->machine) flags |= CDEF_MACHINE;
    size_t n = strlen(e->name);
    if (n > 255) n = 255; /* names are far shorter (character names <= 20) */
    put_byte(out, CREC_DEF);
    put_varint(out, sid);
    put_zz(out, e->pid);
    put_byte(out, flags);
    put_byte(out, (uint8_t)n);
    put_frag(out, e->name, n);
}

static void put_move(buf_t *out, const roster_centry_t *oe, const int32_t q[3], uint8_t mask)
{
    uint8_t f = 0;
    for (int a = 0; a < 3; a++)
        f |= (uint8_t)((q[a] != oe->q[a]) << a);
    if (mask != oe->mask) f |= CMOVE_MASK;
    put_byte(out, (uint8_t)(CREC_MOVE | f));
    put_varint(out, oe->sid);
    for (int a = 0; a < 3; a++)
        if (f & (1u << a)) put_zz(out, (int64_t)q[a] - oe->q[a]);
    if (f & CMOVE_MASK) put_byte(out, mask);
}

#define FAR_BINS 32

/* The bin of a far move's priority, its squared displacement (tenths^2)
 * per squared distance (ft^2), to a factor of two: the difference of the
 * float exponents, no division. Bin 0 is the most urgent. */
static inline int far_bin(float err2, float d2)
{
    uint32_t a, b;
    memcpy(&a, &err2, sizeof(a));
    memcpy(&b, &d2, sizeof(b));
    int e = (int)(a >> 23) - (int)(b >> 23) + FAR_BINS / 2;
    return FAR_BINS - 1 - (e < 0 ? 0 : e > FAR_BINS - 1 ? FAR_BINS - 1 : e);
}

/* Orders far[0..n) by bin, most urgent first, minor moves (bin FAR_BINS)
 * last (a counting sort: no comparisons). tmp holds n. */
static void order_far(roster_far_t *far, int n, roster_far_t *tmp)
{
    int start[FAR_BINS + 2] = {0}; /* bin FAR_BINS: minor moves */
    for (int i = 0; i < n; i++)
        start[far[i].bin + 1]++;
    for (int b = 0; b <= FAR_BINS; b++)
        start[b + 1] += start[b];
    for (int i = 0; i < n; i++)
        tmp[start[far[i].bin]++] = far[i];
    memcpy(far, tmp, (size_t)n * sizeof(*far));
}

/* Steps 2-4 for a compact client. */
static int compact_update_near(roster_compact_t *r, roster_scratch_t *s, const zent_t *ents,
                               const int64_t *pids, const near_set_t *ns, const geo_src_t *src,
                               const float self[3], int hostiles, int full, uint64_t ts, buf_t *out)
{
    view_t v;
    select_view(r->max, s, ents, ns, src, full, 1, &v);
    if (full) ids_reset(r);
    if (++s->stamp == 0) {
        memset(s->mark, 0, s->mark_cap * sizeof(*s->mark));
        s->stamp = 1;
    }
    const roster_centry_t *old = r->e;
    for (int o = 0; o < r->n; o++) {
        s->mark[old[o].slot].stamp = s->stamp;
        s->mark[old[o].slot].idx = o;
    }
    /* match: who was in view, who is in the table (their ids are kept
     * from eviction before any new id is handed out) */
    roster_cand_t *cand = s->cand;
    roster_centry_t *next = s->cnext;
    for (int i = 0; i < v.k; i++) {
        roster_cand_t *c = &cand[i];
        roster_mark_t *m = &s->mark[c->slot];
        roster_centry_t *ne = &next[i];
        int64_t pid = pids ? pids[c->slot] : ents[c->slot].pid;
        if (m->stamp == s->stamp && old[m->idx].pid == pid) {
            *ne = old[m->idx];
            ne->slot = c->slot;
            m->stamp = 0; /* matched: not removed */
            s->ckind[i] = CK_MATCHED;
        } else {
            ne->pid = pid;
            ne->slot = c->slot;
            ne->mask = c->mask;
            ne->q[0] = quantise(c->px);
            ne->q[1] = quantise(c->py);
            ne->q[2] = quantise(c->pz);
            ne->sid = ids_find(r, pid);
            s->ckind[i] = ne->sid == SID_NONE ? CK_NEW : CK_KNOWN;
        }
        if (s->ckind[i] == CK_KNOWN) r->sid_busy[ne->sid] = 1; /* matched ones already are */
    }

    size_t start = out->len;
    put_byte(out, full ? COMPACT_FULL : COMPACT_DELTA);
    put_varint(out, full ? ts : ts > r->ts ? ts - r->ts : 0);
    size_t header = out->len;
    /* removals first: a removed entity's id may be redefined below */
    for (int o = 0; o < r->n; o++) {
        const roster_mark_t *m = &s->mark[old[o].slot];
        if (m->stamp != s->stamp || m->idx != o) continue;
        put_byte(out, CREC_REMOVE);
        put_varint(out, old[o].sid);
        r->sid_busy[old[o].sid] = 0;
    }
    for (int i = 0; i < v.k; i++) {
        if (s->ckind[i] == CK_MATCHED) continue;
        roster_centry_t *ne = &next[i];
        if (s->ckind[i] == CK_NEW) {
            ne->sid = ids_alloc(r, ne->pid);
            put_def(out, ne->sid, &ents[ne->slot]);
        }
        put_byte(out, CREC_ADD);
        put_varint(out, ne->sid);
        put_byte(out, ne->mask);
        for (int a = 0; a < 3; a++)
            put_zz(out, ne->q[a]);
    }
    /* moves: near ones and channel changes now, far ones by budget */
    const float near2 = (float)(ROSTER_COMPACT_NEAR_FT * ROSTER_COMPACT_NEAR_FT);
    int n_far = 0, n_major = 0;
    for (int i = 0; i < v.k; i++) {
        if (s->ckind[i] != CK_MATCHED) continue;
        const roster_cand_t *c = &cand[i];
        roster_centry_t *ne = &next[i];
        int32_t q[3] = {quantise(c->px), quantise(c->py), quantise(c->pz)};
        int moved = (q[0] != ne->q[0]) | (q[1] != ne->q[1]) | (q[2] != ne->q[2]);
        if (!moved && c->mask == ne->mask) continue;
        if (c->d2 > near2 && c->mask == ne->mask) {
            float e0 = (float)(q[0] - ne->q[0]), e1 = (float)(q[1] - ne->q[1]);
            float e2 = (float)(q[2] - ne->q[2]);
            float err2 = e0 * e0 + e1 * e1 + e2 * e2;
            /* under ROSTER_COMPACT_FAR_ERR of the distance: only when idle */
            int minor =
                err2 < c->d2 * (float)(100 * ROSTER_COMPACT_FAR_ERR * ROSTER_COMPACT_FAR_ERR);
            s->cfar[n_far++] = (roster_far_t){minor ? FAR_BINS : far_bin(err2, c->d2), i};
            n_major += !minor;
            continue;
        }
        put_move(out, ne, q, c->mask);
        memcpy(ne->q, q, sizeof(q));
        ne->mask = c->mask;
    }
    uint32_t count[COMPACT_GROUPS];
    uint8_t which = 0;
    for (int g = 0; g < COMPACT_GROUPS; g++) {
        count[g] = v.count[group_channel[g]];
        which |= (uint8_t)((full || count[g] != r->count[g]) << g);
    }
    if (which) {
        put_byte(out, CREC_COUNTS);
        put_byte(out, which);
        for (int g = 0; g < COMPACT_GROUPS; g++)
            if (which & (1u << g)) put_varint(out, count[g]);
    }
    /* a speaker is one of the listed (count <= ROSTER_SAMPLE_MAX) */
    uint32_t speaker[COMPACT_GROUPS];
    which = 0;
    for (int g = 0; g < COMPACT_GROUPS; g++) {
        int64_t pid = v.speaker[group_channel[g]];
        speaker[g] = 0;
        for (int i = 0; pid && i < v.k; i++)
            if (next[i].pid == pid) speaker[g] = next[i].sid + 1;
        which |=
            (uint8_t)((full || speaker[g] != r->speaker_sid[g] || pid != r->speaker_pid[g]) << g);
        r->speaker_pid[g] = pid;
    }
    if (which) {
        put_byte(out, CREC_SPEAKERS);
        put_byte(out, which);
        for (int g = 0; g < COMPACT_GROUPS; g++)
            if (which & (1u << g)) put_varint(out, speaker[g]);
    }
    if (full || hostiles != r->hostiles) {
        put_byte(out, CREC_DANGER);
        put_varint(out, (uint64_t)(hostiles > 0 ? hostiles : 0));
    }
    int32_t me[3] = {quantise(self[0]), quantise(self[1]), quantise(self[2])};
    if (full || memcmp(me, r->self, sizeof(me)) != 0) {
        put_byte(out, CREC_SELF);
        for (int a = 0; a < 3; a++)
            put_zz(out, me[a]);
    }
    /* far moves: this update's share of the budget, plus what was saved */
    if (full) {
        r->credit = 0; /* an entry or a resync: rare, not held against the far ones */
    } else {
        r->credit += r->per_update;
        if (r->credit > r->credit_max) r->credit = r->credit_max;
        r->credit -= (int32_t)(out->len - start);
    }
    int sent = 0;
    if (n_far && r->credit > 0) {
        /* the most displaced for their distance first; the minor ones
         * only in a frame with nothing but far moves, so a view at rest
         * converges while a busy one spends nothing on them */
        int with_minor = out->len == header;
        int sorted = (with_minor ? n_far : n_major) * 8 > r->credit; /* not all fit */
        if (sorted) order_far(s->cfar, n_far, s->cfar + s->max);
        for (int f = 0; f < n_far && r->credit > 0; f++) {
            if (s->cfar[f].bin == FAR_BINS && !with_minor) {
                if (sorted) break; /* the minor ones are last */
                continue;
            }
            int i = s->cfar[f].i;
            const roster_cand_t *c = &cand[i];
            roster_centry_t *ne = &next[i];
            int32_t q[3] = {quantise(c->px), quantise(c->py), quantise(c->pz)};
            size_t at = out->len;
            put_move(out, ne, q, ne->mask);
            memcpy(ne->q, q, sizeof(q));
            r->credit -= (int32_t)(out->len - at);
            sent++;
        }
    }
    if (r->credit < -r->credit_max) r->credit = -r->credit_max;
    r->pending = n_far - sent;

    int ret = 1;
    if (!full && out->len == header) {
        out->len = start; /* nothing to say */
        ret = 0;
    } else {
        out->data[out->len] = '\0'; /* buf_t's convention; not part of the frame */
        r->ts = ts;
    }
    s->cnext = r->e;
    r->e = next;
    r->n = v.k;
    memcpy(r->count, count, sizeof(count));
    memcpy(r->speaker_sid, speaker, sizeof(speaker));
    memcpy(r->self, me, sizeof(me));
    r->hostiles = hostiles;
    r->has_state = 1;
    return ret;
}

int roster_compact_update(roster_compact_t *r, roster_scratch_t *s, const zent_t *ents,
                          size_t n_slots, int32_t viewer, const grid_hit_t *hits, size_t n_hits,
                          double x, double y, double z, int hostiles, int full, uint64_t ts,
                          buf_t *out)
{
    wod_assert(r->max == s->max);
    near_set_t ns;
    geo_src_t src;
    near_from_hits(s, n_slots, viewer, hits, n_hits, &ns, &src);
    const float self[3] = {(float)x, (float)y, (float)z};
    return compact_update_near(r, s, ents, NULL, &ns, &src, self, hostiles, full, ts, out);
}

int roster_compact_update_grid(roster_compact_t *r, roster_scratch_t *s, const zent_t *ents,
                               const int64_t *pids, size_t n_slots, int32_t viewer, const grid_t *g,
                               double x, double y, double z, int hostiles, int full, uint64_t ts,
                               buf_t *out)
{
    wod_assert(r->max == s->max);
    /* the last sent view is read after the selection: start loading it */
    for (size_t off = 0; off < (size_t)r->n * sizeof(*r->e); off += 64)
        __builtin_prefetch((const char *)r->e + off);
    near_set_t ns;
    geo_src_t src;
    near_from_grid(s, n_slots, viewer, g, x, y, z, &ns, &src);
    const float self[3] = {(float)x, (float)y, (float)z};
    return compact_update_near(r, s, ents, pids, &ns, &src, self, hostiles, full, ts, out);
}
