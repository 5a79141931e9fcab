/* hashpool.h - a small bounded thread pool for password hashing.
 *
 * argon2id costs ~64 MiB and ~150 ms per call. Run on libuv's shared
 * worker pool, a burst of logins with passwords queued every guest
 * login, token login, character job and save behind it and multiplied
 * the memory by the pool size. Here hashing gets its own `threads`
 * threads (peak memory ~64 MiB each) and a queue of at most `queue_cap`
 * waiting jobs; a job beyond that is refused at once (-EBUSY) so the
 * caller can answer BUSY instead of holding a connection in a queue. */
#ifndef WOD_HASHPOOL_H
#define WOD_HASHPOOL_H

#include <uv.h>

typedef struct hashpool_s hashpool_t;

/* Runs on a hashing thread. */
typedef void (*hashpool_work_fn)(void *arg);
/* Runs on the loop thread after work; status 0, or UV_ECANCELED when the
 * pool closed before the work started (work did not run). */
typedef void (*hashpool_done_fn)(void *arg, int status);

/* Starts `threads` threads; 0 or a negative libuv error. */
int hashpool_new(hashpool_t **out, uv_loop_t *loop, int threads, int queue_cap);
/* Queues work; 0, or -EBUSY when threads + queue_cap jobs are already in
 * (neither callback is then called). */
int hashpool_submit(hashpool_t *p, hashpool_work_fn work, hashpool_done_fn done, void *arg);
/* Jobs accepted and not yet done (running + waiting). */
int hashpool_depth(const hashpool_t *p);
/* Stops the threads (waiting for the jobs they run), calls every
 * outstanding done, and frees the pool once its handle has closed. */
void hashpool_close(hashpool_t *p);

#endif
