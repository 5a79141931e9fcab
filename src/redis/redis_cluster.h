/* redis_cluster.h - a small Redis Cluster client on top of redis_conn.c.
 *
 * hiredis 0.14 (Debian) has no cluster support and Debian ships no C
 * cluster client, so this is ours: just what the bus and the registry
 * need, nothing more.
 *
 * - REDIS_URL=redis+cluster://[[user]:password@]host:port[,host:port...]
 *   names seed nodes; the slot map (CLUSTER SLOTS) is read from the first
 *   seed that answers (the control connection moves on to the next seed
 *   whenever one is down).
 * - one command connection per master, and for sharded pub/sub one
 *   subscriber connection per master; commands are routed by the CRC16
 *   hash slot of their key ({...} hash tags honoured).
 * - MOVED and ASK are followed (at most REDIS_CLUSTER_MAX_REDIRECTS times
 *   per command, logged), CLUSTERDOWN / TRYAGAIN / a master that is not
 *   connected are retried with a growing delay within the same bound;
 *   after that the command fails (callback with NULL), never loops.
 * - the slot map is read again after a redirect, a lost connection, a
 *   `sunsubscribe` push (a slot moved), and every REDIS_CLUSTER_REFRESH_MS
 *   while the cluster is not fully up (a failover in progress).
 *
 * "Up" (on_state(1)) means: a complete slot map, every master's command
 * connection ready and, with sharded subscriptions, every channel
 * confirmed on the master that owns its slot now. Any loss reports
 * on_state(0); the owner resynchronises on the next on_state(1), exactly
 * as after a single Redis restart. */
#ifndef WOD_REDIS_CLUSTER_H
#define WOD_REDIS_CLUSTER_H

#include "redis_conn.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_CLUSTER_SLOTS         16384
#define REDIS_CLUSTER_MAX_SEEDS     16
#define REDIS_CLUSTER_MAX_REDIRECTS 6
#define REDIS_CLUSTER_REFRESH_MS    200 /* re-read the slot map this often while not up */
#define REDIS_CLUSTER_RETRY_MS      50  /* first retry delay, doubled per attempt */

/* CRC16-CCITT (XModem) as Redis Cluster uses it: crc16("123456789") = 0x31C3. */
uint16_t redis_crc16(const char *buf, size_t len);
/* The hash slot of a key: CRC16 of the first non-empty {...} tag, else of
 * the whole key, modulo 16384. */
unsigned redis_key_slot(const char *key, size_t len);

/* Does the URL name a cluster (redis+cluster://)? */
int redis_url_is_cluster(const char *url);

typedef struct redis_cluster_url_s {
    redis_url_t seeds[REDIS_CLUSTER_MAX_SEEDS]; /* each with the URL's credentials */
    int nseeds;
} redis_cluster_url_t;

/* Parses redis+cluster://[[user]:password@]host:port[,host:port...].
 * Returns 0, or -1 (not such a URL, a bad seed, too many seeds, a /db:
 * clusters have only db 0). */
int redis_cluster_url_parse(const char *url, redis_cluster_url_t *out);

/* A slot range and the master serving it, from CLUSTER SLOTS. */
typedef struct redis_slot_range_s {
    unsigned first, last;
    char host[256];
    int port;
} redis_slot_range_t;

/* Parses a CLUSTER SLOTS reply into out[max]; an empty host (the node
 * does not know its own address) becomes `asked_host`, the node we asked.
 * Returns the number of ranges, or -1 on a malformed reply. */
int redis_cluster_parse_slots(const redisReply *r, const char *asked_host, redis_slot_range_t *out,
                              int max);

/* "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381". */
typedef struct redis_redirect_s {
    int ask; /* 1 = ASK (one command, after ASKING), 0 = MOVED */
    unsigned slot;
    char host[256];
    int port;
} redis_redirect_t;

/* Returns 0 when err is a well-formed MOVED/ASK error, else -1. */
int redis_redirect_parse(const char *err, redis_redirect_t *out);

typedef struct redis_cluster_s redis_cluster_t;

typedef void (*redis_cluster_state_cb)(redis_cluster_t *cl, int up);
/* A sharded pub/sub message (smessage). */
typedef void (*redis_cluster_msg_cb)(redis_cluster_t *cl, const char *channel, size_t chlen,
                                     const char *data, size_t len);
typedef void (*redis_cluster_closed_cb)(redis_cluster_t *cl);

/* Starts connecting to the seeds. `name` is for logs. on_msg non-NULL
 * enables sharded subscriptions (one subscriber connection per master).
 * Never fails: unreachable seeds are retried with backoff. */
redis_cluster_t *redis_cluster_new(uv_loop_t *loop, const redis_cluster_url_t *url,
                                   const char *name, redis_cluster_state_cb on_state,
                                   redis_cluster_msg_cb on_msg, void *owner);
void *redis_cluster_owner(const redis_cluster_t *cl);
int redis_cluster_up(const redis_cluster_t *cl);

/* Commands call back like hiredis (redisCallbackFn) but with ac NULL;
 * the reply is NULL when the command failed (connection lost, redirects
 * or retries exhausted, closing), and borrowed for the call.
 *
 * Sends argv to the master of `key`'s slot, following redirects. Returns
 * 0 (cb runs exactly once, later) or -ENOTCONN when no slot map is known
 * yet (cb never runs). argv is copied. */
int redis_cluster_command(redis_cluster_t *cl, const char *key, redisCallbackFn *cb, void *priv,
                          int argc, const char **argv, const size_t *argvlen);

/* Number of masters in the current slot map; commands to master i go to
 * that node only (no redirects): for SCAN, which is per node. Returns 0
 * or -ENOTCONN (cb never runs). */
int redis_cluster_masters(const redis_cluster_t *cl);
int redis_cluster_command_master(redis_cluster_t *cl, int i, redisCallbackFn *cb, void *priv,
                                 int argc, const char **argv, const size_t *argvlen);

/* Would SPUBLISH on channel be taken now? 0, -ENOTCONN or -ENOBUFS. */
int redis_cluster_ready(redis_cluster_t *cl, const char *channel, size_t chlen);

/* SPUBLISH channel data on the channel's master: fire and forget, like
 * PUBLISH (a MOVED answer refreshes the slot map; pub/sub is lossy and
 * on_state tells the owner to resync). 0, -ENOTCONN or -ENOBUFS. */
int redis_cluster_spublish(redis_cluster_t *cl, const char *channel, size_t chlen, const char *data,
                           size_t len);

/* Sharded subscriptions, kept across failovers and slot moves. */
int redis_cluster_ssubscribe(redis_cluster_t *cl, const char *channel);
int redis_cluster_sunsubscribe(redis_cluster_t *cl, const char *channel);

/* Fails every command in flight (cb with NULL) now, then closes every
 * connection; on_closed runs later, after which cl is freed. */
void redis_cluster_close(redis_cluster_t *cl, redis_cluster_closed_cb on_closed);

#endif
