/* throttle.c - see throttle.h.
 *
 * uthash keeps insertion order, so moving a key to the tail on every use
 * (delete + add) makes the head the least recently used: eviction is
 * O(1), the classic uthash LRU. */
#include "throttle.h"
#include "../core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <uthash.h>

typedef struct entry_s {
    char key[THROTTLE_KEY_MAX];
    double tokens;       /* bucket: tokens left at `refilled_at` */
    double refilled_at;  /* bucket: last refill, ms; < 0 = bucket not used yet */
    int failures;        /* lockout: consecutive failures */
    double locked_until; /* lockout: ms */
    UT_hash_handle hh;
} entry_t;

struct throttle_s {
    entry_t *table;
    size_t max_entries;
};

throttle_t *throttle_new(size_t max_entries)
{
    throttle_t *t = wod_calloc(1, sizeof(*t));
    t->max_entries = max_entries ? max_entries : 1;
    return t;
}

void throttle_free(throttle_t *t)
{
    if (!t) return;
    entry_t *e, *tmp;
    HASH_ITER(hh, t->table, e, tmp)
    {
        /* uthash frees its table with the last element; the analyzer loses track (false positive)
         */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(t->table, e);
        free(e);
    }
    free(t);
}

size_t throttle_count(const throttle_t *t)
{
    return HASH_COUNT(t->table);
}

/* Finds key (moving it to the most recently used end) or, if `create`,
 * adds it, evicting the least recently used key when full. */
static entry_t *lookup(throttle_t *t, const char *key, int create)
{
    char k[THROTTLE_KEY_MAX];
    (void)snprintf(k, sizeof(k), "%s", key); /* truncation is fine: keys only need to differ */
    entry_t *e;
    HASH_FIND_STR(t->table, k, e);
    if (e) {
        HASH_DEL(t->table, e);
        HASH_ADD_STR(t->table, key, e);
        return e;
    }
    if (!create) return NULL;
    if (HASH_COUNT(t->table) >= t->max_entries) {
        entry_t *oldest = t->table;
        HASH_DEL(t->table, oldest);
        free(oldest);
    }
    e = wod_calloc(1, sizeof(*e));
    memcpy(e->key, k, sizeof(k));
    e->refilled_at = -1;
    /* the eviction above may have freed the table with the last entry; HASH_ADD makes a new one
     * (false positive) */
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
    HASH_ADD_STR(t->table, key, e);
    return e;
}

static void refill(entry_t *e, int limit, double window_ms, double now)
{
    if (e->refilled_at < 0) {
        e->tokens = limit;
    } else if (now > e->refilled_at) {
        e->tokens = fmin((double)limit, e->tokens + (now - e->refilled_at) * limit / window_ms);
    }
    e->refilled_at = now;
}

double throttle_bucket_wait(throttle_t *t, const char *key, int limit, double window_ms, double now)
{
    if (limit <= 0) return 0;
    entry_t *e = lookup(t, key, 0);
    if (!e || e->refilled_at < 0) return 0;
    refill(e, limit, window_ms, now);
    if (e->tokens >= 1) return 0;
    return ceil((1 - e->tokens) * window_ms / limit);
}

void throttle_bucket_take(throttle_t *t, const char *key, int limit, double window_ms, double now)
{
    if (limit <= 0) return;
    entry_t *e = lookup(t, key, 1);
    refill(e, limit, window_ms, now);
    e->tokens = e->tokens >= 1 ? e->tokens - 1 : 0;
}

double throttle_locked_ms(throttle_t *t, const char *key, double now)
{
    entry_t *e = lookup(t, key, 0);
    return e && e->locked_until > now ? e->locked_until - now : 0;
}

double throttle_fail(throttle_t *t, const char *key, const throttle_lockout_t *p, double now)
{
    entry_t *e = lookup(t, key, 1);
    e->failures++;
    if (p->threshold <= 0 || e->failures < p->threshold) return 0;
    int doublings = e->failures - p->threshold;
    double ms =
        doublings >= 30 ? p->max_ms : fmin(p->max_ms, p->base_ms * (double)(1u << doublings));
    e->locked_until = now + ms;
    return ms;
}

void throttle_success(throttle_t *t, const char *key)
{
    entry_t *e = lookup(t, key, 0);
    if (!e) return;
    HASH_DEL(t->table, e);
    free(e);
}
