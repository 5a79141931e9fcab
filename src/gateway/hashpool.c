/* hashpool.c - see hashpool.h.
 *
 * Jobs go into a FIFO under a mutex; a thread takes one, runs it, and
 * moves it to the finished list, then wakes the loop with a uv_async_t
 * (coalescing wakeups is fine: on_async drains the whole list). */
#include "hashpool.h"
#include "../core/alloc.h"

#include <errno.h>

typedef struct pjob_s {
    struct pjob_s *next;
    hashpool_work_fn work;
    hashpool_done_fn done;
    void *arg;
} pjob_t;

struct hashpool_s {
    uv_async_t async; /* finished jobs are ready; its close frees the pool */
    uv_mutex_t mu;
    uv_cond_t cv;
    uv_thread_t *threads;
    int n_threads;
    int cap;   /* threads + queue_cap */
    int depth; /* accepted, done not called yet (loop thread only) */
    pjob_t *wait_head, *wait_tail;
    pjob_t *done_head, *done_tail;
    int stopping;
};

static void push(pjob_t **head, pjob_t **tail, pjob_t *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void thread_main(void *arg)
{
    hashpool_t *p = arg;
    uv_mutex_lock(&p->mu);
    for (;;) {
        while (!p->wait_head && !p->stopping)
            uv_cond_wait(&p->cv, &p->mu);
        if (p->stopping) break;
        pjob_t *j = p->wait_head;
        p->wait_head = j->next;
        if (!p->wait_head) p->wait_tail = NULL;
        uv_mutex_unlock(&p->mu);
        j->work(j->arg);
        uv_mutex_lock(&p->mu);
        push(&p->done_head, &p->done_tail, j);
        uv_async_send(&p->async);
    }
    uv_mutex_unlock(&p->mu);
}

static void finish(hashpool_t *p, pjob_t *list, int status)
{
    for (pjob_t *j = list, *n; j; j = n) {
        n = j->next;
        p->depth--;
        j->done(j->arg, status);
        free(j);
    }
}

static void on_async(uv_async_t *a)
{
    hashpool_t *p = container_of(a, hashpool_t, async);
    uv_mutex_lock(&p->mu);
    pjob_t *list = p->done_head;
    p->done_head = p->done_tail = NULL;
    uv_mutex_unlock(&p->mu);
    finish(p, list, 0);
}

int hashpool_new(hashpool_t **out, uv_loop_t *loop, int threads, int queue_cap)
{
    hashpool_t *p = wod_calloc(1, sizeof(*p));
    p->n_threads = threads;
    p->cap = threads + queue_cap;
    p->threads = wod_calloc((size_t)threads, sizeof(uv_thread_t));
    int rc = uv_async_init(loop, &p->async, on_async);
    if (rc < 0) {
        free(p->threads);
        free(p);
        return rc;
    }
    uv_mutex_init(&p->mu);
    uv_cond_init(&p->cv);
    for (int i = 0; i < threads; i++) {
        rc = uv_thread_create(&p->threads[i], thread_main, p);
        if (rc < 0) {
            p->n_threads = i;
            hashpool_close(p);
            return rc;
        }
    }
    *out = p;
    return 0;
}

int hashpool_submit(hashpool_t *p, hashpool_work_fn work, hashpool_done_fn done, void *arg)
{
    if (p->depth >= p->cap) return -EBUSY;
    pjob_t *j = wod_malloc(sizeof(*j));
    j->work = work;
    j->done = done;
    j->arg = arg;
    uv_mutex_lock(&p->mu);
    push(&p->wait_head, &p->wait_tail, j);
    uv_cond_signal(&p->cv);
    uv_mutex_unlock(&p->mu);
    p->depth++;
    return 0;
}

int hashpool_depth(const hashpool_t *p)
{
    return p->depth;
}

static void pool_closed(uv_handle_t *h)
{
    hashpool_t *p = container_of((uv_async_t *)h, hashpool_t, async);
    uv_cond_destroy(&p->cv);
    uv_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

void hashpool_close(hashpool_t *p)
{
    uv_mutex_lock(&p->mu);
    p->stopping = 1;
    uv_cond_broadcast(&p->cv);
    uv_mutex_unlock(&p->mu);
    /* At most one job per thread is still running: a short wait. */
    for (int i = 0; i < p->n_threads; i++)
        uv_thread_join(&p->threads[i]);
    pjob_t *ran = p->done_head, *queued = p->wait_head;
    p->done_head = p->done_tail = p->wait_head = p->wait_tail = NULL;
    finish(p, ran, 0);
    finish(p, queued, UV_ECANCELED);
    uv_close((uv_handle_t *)&p->async, pool_closed);
}
