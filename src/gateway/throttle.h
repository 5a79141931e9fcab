/* throttle.h - in-memory rate buckets and login lockouts, keyed by string.
 *
 * One table serves both: a key such as "guest-min:127.0.0.1" names a
 * token bucket, a key such as "acct:alice" names a failure streak with
 * an exponential lockout (Nakama's scheme: after `threshold` consecutive
 * failures the key is locked for `base_ms`, doubling per further failure
 * up to `max_ms`; a success clears it). The caller passes the time, so
 * tests drive a fake clock.
 *
 * Bounded: at most `max_entries` keys; the least recently used key is
 * dropped to make room. Dropping forgets a bucket or a streak early,
 * which only ever lets a client through sooner, never locks one out.
 * Per process: gateways do not share this state (docs/OPERATIONS.md).
 * Loop thread only. */
#ifndef WOD_THROTTLE_H
#define WOD_THROTTLE_H

#include <stddef.h>

#define THROTTLE_KEY_MAX 96 /* longer keys are truncated */

typedef struct throttle_s throttle_t;

/* Exponential lockout policy. */
typedef struct throttle_lockout_s {
    int threshold;  /* consecutive failures before the first lock; 0 = never lock */
    double base_ms; /* first lock */
    double max_ms;  /* cap */
} throttle_lockout_t;

/* Owned by the caller; free with throttle_free. */
throttle_t *throttle_new(size_t max_entries);
void throttle_free(throttle_t *t);
size_t throttle_count(const throttle_t *t);

/* Bucket of `limit` tokens refilled evenly over `window_ms`.
 * Returns 0 if a token is available at `now`, else the ms until one is.
 * limit <= 0 means unlimited (always 0). Does not consume. */
double throttle_bucket_wait(throttle_t *t, const char *key, int limit, double window_ms,
                            double now);
/* Consumes one token (an empty bucket stays empty). */
void throttle_bucket_take(throttle_t *t, const char *key, int limit, double window_ms, double now);

/* Ms the key stays locked at `now`; 0 when not locked. */
double throttle_locked_ms(throttle_t *t, const char *key, double now);
/* Records a failure; returns the length of the lock it starts (0 = none). */
double throttle_fail(throttle_t *t, const char *key, const throttle_lockout_t *p, double now);
/* A success: forgets the key's failures and lock. */
void throttle_success(throttle_t *t, const char *key);

#endif
