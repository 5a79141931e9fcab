/* store.c - store selection and the async wrapper (see store.h). */
#include "store.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <string.h>

typedef struct store_job_s {
    uv_work_t req;
    store_t *store;
    store_work_fn work;
    store_done_fn done;
    void *arg;
} store_job_t;

static int pending; /* loop thread only */

int store_open(const char *url, store_t **out)
{
    store_t *s = NULL;
    if (strncmp(url, "sqlite:", 7) == 0)
        s = store_sqlite_open(url + 7);
    else
        s = store_pg_open(url);
    if (!s) return STORE_ERR;
    if (store_migrate(s) != STORE_OK) {
        log_error("store", "migrations failed for %s", s->kind);
        store_close(s);
        return STORE_ERR;
    }
    *out = s;
    return STORE_OK;
}

static void job_work(uv_work_t *req)
{
    store_job_t *j = container_of(req, store_job_t, req);
    j->work(j->store, j->arg);
}

static void job_after(uv_work_t *req, int status)
{
    (void)status;
    store_job_t *j = container_of(req, store_job_t, req);
    pending--;
    if (j->done) j->done(j->arg);
    free(j);
}

int store_async(store_t *s, uv_loop_t *loop, store_work_fn work, store_done_fn done, void *arg)
{
    store_job_t *j = wod_calloc(1, sizeof(*j));
    j->store = s;
    j->work = work;
    j->done = done;
    j->arg = arg;
    int rc = uv_queue_work(loop, &j->req, job_work, job_after);
    if (rc < 0) {
        free(j);
        return rc;
    }
    pending++;
    return 0;
}

int store_pending(void)
{
    return pending;
}
