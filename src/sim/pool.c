/* pool.c - see pool.h. */
#include "pool.h"
#include "../core/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct zpool_s {
    int threads; /* including the caller */
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    uint64_t gen; /* job generation; bumped per run (under mu) */
    int finished; /* pool threads done with the current job (under mu) */
    int stopping; /* under mu */
    zpool_fn fn;
    void *ctx;
    size_t n, chunk;
    atomic_size_t next; /* next unclaimed item */
};

typedef struct {
    zpool_t *p;
    int worker;
} targ_t;

static void work(zpool_t *p, int worker)
{
    for (;;) {
        size_t b = atomic_fetch_add(&p->next, p->chunk);
        if (b >= p->n) return;
        size_t e = b + p->chunk < p->n ? b + p->chunk : p->n;
        p->fn(p->ctx, worker, b, e);
    }
}

static void *thread_main(void *arg)
{
    targ_t a = *(targ_t *)arg;
    free(arg);
    zpool_t *p = a.p;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->stopping)
            pthread_cond_wait(&p->start, &p->mu);
        if (p->stopping) break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        work(p, a.worker);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->threads - 1) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

zpool_t *zpool_new(int threads)
{
    zpool_t *p = wod_calloc(1, sizeof(*p));
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    if (p->threads > 1) p->tids = wod_calloc((size_t)p->threads, sizeof(pthread_t));
    for (int i = 1; i < p->threads; i++) {
        targ_t *a = wod_malloc(sizeof(*a));
        a->p = p;
        a->worker = i;
        if (pthread_create(&p->tids[i], NULL, thread_main, a) != 0) {
            free(a);
            p->threads = i; /* run with what started */
            break;
        }
    }
    return p;
}

void zpool_free(zpool_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++)
        pthread_join(p->tids[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->tids);
    free(p);
}

int zpool_threads(const zpool_t *p)
{
    return p->threads;
}

void zpool_run(zpool_t *p, zpool_fn fn, void *ctx, size_t n, size_t chunk)
{
    if (n == 0) return;
    if (chunk == 0) chunk = 1;
    if (p->threads == 1 || n <= chunk) {
        fn(ctx, 0, 0, n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    p->finished = 0;
    p->gen++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    work(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->finished < p->threads - 1)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
