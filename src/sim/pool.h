/* pool.h - a tiny fork-join thread pool for the CPU-bound part of a zone
 * tick (roster computation).
 *
 * zpool_run() splits [0, n) into chunks that the caller's thread and the
 * pool's threads take from a shared counter, and returns when all are
 * done: the tick stays synchronous, nothing else runs concurrently with
 * the sim, and no loop callbacks happen on pool threads. The job must
 * only read shared state and write state owned by its items/worker. */
#ifndef WOD_SIM_POOL_H
#define WOD_SIM_POOL_H

#include <stddef.h>

typedef struct zpool_s zpool_t;

/* worker is 0 (the caller) .. threads-1; [begin, end) is one chunk. */
typedef void (*zpool_fn)(void *ctx, int worker, size_t begin, size_t end);

/* threads >= 1 counts the caller: 1 starts no thread. Returns NULL only
 * if threads could not be started (the caller then runs inline). */
zpool_t *zpool_new(int threads);
void zpool_free(zpool_t *p);
int zpool_threads(const zpool_t *p);
/* Runs fn over [0, n) in chunks of `chunk` items and waits for it. */
void zpool_run(zpool_t *p, zpool_fn fn, void *ctx, size_t n, size_t chunk);

#endif
