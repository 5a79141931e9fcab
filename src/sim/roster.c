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
        memcpy(p, "\"char-", 6);
        n = 6 + fmt_u64(p + 6, (uint64_t)pid);
    } else {
        memcpy(p, "\"npc-", 5);
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

int roster_update(roster_t *r, roster_scratch_t *s, const zent_t *ents, size_t n_slots,
                  int32_t viewer, const grid_hit_t *hits, size_t n_hits, int hostiles, int full,
                  uint64_t ts, buf_t *out)
{
    wod_assert(r->max == s->max);
    ensure_scratch(s, n_hits, n_slots);
    near_set_t ns;
    memset(&ns, 0, sizeof(ns));
    roster_near_t *near = s->near;
    size_t nc = 0;
    for (size_t i = 0; i < n_hits; i++) {
        float d2 = hits[i].d2;
        if (hits[i].id == viewer || d2 > R2_CFH) continue;
        ns.count[RCH_CFH]++;
        ns.count[RCH_SHOUT] += d2 <= R2_SEE;
        ns.count[RCH_SAY] += d2 <= R2_SAY;
        ns.count[RCH_TOUCH] += d2 <= R2_TOUCH;
        near[nc++] = (roster_near_t){(int32_t)i, d2};
    }
    ns.n = nc;
    geo_src_t src = {hits, NULL, 0, 0, 0};
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

int roster_update_grid(roster_t *r, roster_scratch_t *s, const zent_t *ents, const int64_t *pids,
                       size_t n_slots, int32_t viewer, const grid_t *g, double x, double y,
                       double z, int hostiles, int full, uint64_t ts, buf_t *out)
{
    wod_assert(r->max == s->max);
    wod_assert(g->packed_valid);
    /* the last sent state is read after the selection: start loading it */
    for (size_t off = 0; off < (size_t)r->n * sizeof(*r->e); off += 64)
        __builtin_prefetch((const char *)r->e + off);
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
    geo_src_t src = {NULL, items, fx, fy, fz};
    return roster_update_near(r, s, ents, pids, &ns, &src, hostiles, full, ts, out);
}

/* Steps 2-4 of an update, from the entities within the widest channel. */
static int roster_update_near(roster_t *r, roster_scratch_t *s, const zent_t *ents,
                              const int64_t *pids, const near_set_t *ns, const geo_src_t *src,
                              int hostiles, int full, uint64_t ts, buf_t *out)
{
    float r2[ROSTER_CHANNELS];
    for (int c = 0; c < ROSTER_CHANNELS; c++)
        r2[c] = (float)(roster_channel_range[c] * roster_channel_range[c]);

    uint32_t count[ROSTER_CHANNELS];
    memcpy(count, ns->count, sizeof(count));
    count[RCH_EMOTE] = count[RCH_SEE] = count[RCH_HEAR] = count[RCH_SHOUT];
    size_t nc = ns->n;
    roster_near_t *near = s->near;

    /* 2. the nearest `max`, with geometry */
    int k = nc > (size_t)r->max ? r->max : (int)nc;
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
        } else {
            const grid_item_t *it = &src->items[near[i].ref];
            c->slot = it->id;
            c->dx = it->x - src->fx;
            c->dy = it->y - src->fy;
            c->dz = it->z - src->fz;
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
    cand_geometry(cand, k);

    int64_t speaker[ROSTER_CHANNELS];
    const char *speaker_name[ROSTER_CHANNELS];
    channel_speakers(ents, cand, k, count, speaker, speaker_name);

    roster_entry_t *next = s->next;
    int ret = 1;

    if (full) {
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
            put_u64_raw(out, count[c]);
            PUTS(out, ",\"entities\":[");
            int first = 1;
            for (int i = 0; i < k; i++) {
                if (!(cand[i].mask & (1u << c))) continue;
                if (!first) putc_raw(out, ',');
                first = 0;
                put_entity(out, &ents[cand[i].slot], &cand[i]);
            }
            putc_raw(out, ']');
            if (count[c] <= ROSTER_SAMPLE_MAX) {
                putc_raw(out, ',');
                put_sample(out, ents, cand, k, c);
                if (speaker[c]) {
                    PUTS(out, ",\"lastSpeaker\":");
                    put_str(out, speaker_name[c]);
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
        for (int i = 0; i < k; i++)
            fill_entry(&next[i], pids ? pids[cand[i].slot] : ents[cand[i].slot].pid, &cand[i]);
        goto commit;
    }

    /* 3. match against the last state by entity slot (+ pid: slots are reused) */
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
    uint8_t memb_changed = 0;
    const float cos_eps = (float)cos(ROSTER_BEARING_EPS_DEG * M_PI / 180.0);
    for (int i = 0; i < k; i++) {
        roster_cand_t *c = &cand[i];
        roster_mark_t *m = &s->mark[c->slot];
        roster_entry_t *ne = &next[i];
        int64_t pid = pids ? pids[c->slot] : ents[c->slot].pid;
        if (m->stamp != s->stamp || old[m->idx].pid != pid) {
            fill_entry(ne, pid, c);
            diff[nd++] = (roster_diff_t){i, -1, 0, c->mask, 0, 0, 0, 0, 0};
            memb_changed |= c->mask;
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
            memb_changed |= (uint8_t)(c->mask ^ oe->mask);
        }
    }
    for (int o = 0; o < r->n; o++) {
        const roster_mark_t *m = &s->mark[old[o].slot];
        if (m->stamp != s->stamp || m->idx != o) continue;
        diff[nd++] = (roster_diff_t){-1, o, old[o].mask, 0, 0, 0, 0, 0, 0};
        memb_changed |= old[o].mask;
    }

    int any = nd > 0 || hostiles != r->hostiles;
    for (int c = 0; c < ROSTER_CHANNELS && !any; c++)
        any = count[c] != r->count[c] || speaker[c] != r->speaker[c];
    if (!any) {
        ret = 0;
        goto commit;
    }

    /* 4. the delta; a channel with nothing to say is rolled back */
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
        if (count[c] != r->count[c]) {
            if (out->len != body) putc_raw(out, ',');
            PUTS(out, "\"count\":");
            put_u64_raw(out, count[c]);
        }
        int small = count[c] <= ROSTER_SAMPLE_MAX, was_small = r->count[c] <= ROSTER_SAMPLE_MAX;
        if (small && ((memb_changed & bit) || !was_small)) {
            if (out->len != body) putc_raw(out, ',');
            put_sample(out, ents, cand, k, c);
        } else if (!small && was_small) {
            if (out->len != body) putc_raw(out, ',');
            PUTS(out, "\"sample\":[]"); /* arrays are never null (the original clients) */
        }
        if (speaker[c] != r->speaker[c]) {
            if (out->len != body) putc_raw(out, ',');
            PUTS(out, "\"lastSpeaker\":");
            if (speaker[c])
                put_str(out, speaker_name[c]);
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

commit:
    if (ret) out->data[out->len] = '\0';
    s->next = r->e;
    r->e = next;
    r->n = k;
    memcpy(r->count, count, sizeof(count));
    memcpy(r->speaker, speaker, sizeof(speaker));
    r->hostiles = hostiles;
    r->has_state = 1;
    return ret;
}
