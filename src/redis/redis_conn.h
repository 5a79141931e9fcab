/* redis_conn.h - one self-healing hiredis async connection on the libuv loop.
 *
 * Shared by bus_redis.c (a subscriber and a publisher connection) and
 * registry_redis.c (a command connection) so URL parsing, AUTH/SELECT,
 * the readiness check, the connect timeout and the reconnect backoff
 * live in one place.
 *
 * Life cycle: redis_conn_start() connects at once; when the server
 * answers PING after AUTH/SELECT the connection is "ready" and on_event
 * (c, 1) runs. When the connection drops (server restart, network error,
 * Redis killing a slow subscriber over its output buffer limit) on_event
 * (c, 0) runs if it was ready, and a new attempt follows after a backoff
 * that doubles from REDIS_CONN_BACKOFF_MIN_MS to REDIS_CONN_BACKOFF_MAX_MS
 * and resets once a connection is ready again.
 *
 * redis_conn_close() tears down outside any hiredis callback (it defers
 * to the loop), lets hiredis run every pending callback with a NULL reply
 * and its disconnect callback, closes the timer, and only then calls
 * on_closed: the owner frees its memory there and nowhere earlier. */
#ifndef WOD_REDIS_CONN_H
#define WOD_REDIS_CONN_H

#include <hiredis/async.h>
#include <stdint.h>
#include <uv.h>

#define REDIS_CONN_BACKOFF_MIN_MS 100
#define REDIS_CONN_BACKOFF_MAX_MS 5000
#define REDIS_CONN_TIMEOUT_MS     5000                       /* connect + AUTH/SELECT/PING */
#define REDIS_CONN_MAX_OUTPUT     ((size_t)64 * 1024 * 1024) /* unsent bytes before refusing */

/* A parsed redis://[[user]:password@]host[:port][/db] URL. */
typedef struct redis_url_s {
    char host[256];
    int port; /* default 6379 */
    int db;   /* default 0 */
    char user[64];
    char password[128]; /* empty = no AUTH */
} redis_url_t;

/* Returns 0, or -1 when the URL is not a redis:// URL we understand. */
int redis_url_parse(const char *url, redis_url_t *out);

typedef struct redis_conn_s redis_conn_t;

/* The connection became ready (up=1) or was lost after being ready (up=0). */
typedef void (*redis_conn_event_cb)(redis_conn_t *c, int up);
/* Teardown finished: no callback will touch c again; the owner may free it. */
typedef void (*redis_conn_closed_cb)(redis_conn_t *c);

struct redis_conn_s {
    uv_loop_t *loop;
    redis_url_t url;
    char name[32];         /* for logs: "bus-sub", "registry", ... */
    redisAsyncContext *ac; /* live context (connecting or ready), else NULL */
    uv_timer_t timer;      /* reconnect backoff, connect timeout, deferred close */
    uint64_t backoff_ms;   /* delay before the next attempt */
    unsigned failures;     /* attempts since the last ready connection */
    int ready;             /* PING answered on the current context */
    int closing;           /* redis_conn_close() called */
    int drain_tries;       /* close waits (a little) for queued commands and replies */
    redis_conn_event_cb on_event;
    redis_conn_closed_cb on_closed;
    void *owner;             /* for the owner's callbacks */
    const redis_url_t *alts; /* other addresses to try in turn (cluster seeds) */
    int nalts, alt_i;
};

/* Initialises c (embedded in its owner) and starts connecting. `name` is
 * copied. Never fails: a refused connection is retried with backoff. */
void redis_conn_start(redis_conn_t *c, uv_loop_t *loop, const redis_url_t *url, const char *name,
                      redis_conn_event_cb on_event, void *owner);

/* Every failed attempt moves on to the next of urls[n] (borrowed, must
 * outlive c): a cluster's seed nodes, where any one will do. */
void redis_conn_set_alternates(redis_conn_t *c, const redis_url_t *urls, int n);

/* The context to send commands on, or NULL while waiting to reconnect or
 * closing. Commands sent before the connection is ready are queued behind
 * AUTH/SELECT and fail with a NULL reply if the attempt fails. */
redisAsyncContext *redis_conn_ctx(redis_conn_t *c);

/* Is the unsent output over REDIS_CONN_MAX_OUTPUT (Redis not keeping up)? */
int redis_conn_congested(redis_conn_t *c);

/* Starts the teardown described above; on_closed runs later on the loop. */
void redis_conn_close(redis_conn_t *c, redis_conn_closed_cb on_closed);

#endif
