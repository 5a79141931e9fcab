/* store_pg.c - PostgreSQL store (libpq). */
#include "store.h"
#include "../core/log.h"

store_t *store_pg_open(const char *url)
{
    (void)url;
    log_error("store", "PostgreSQL store is not available in this build yet");
    return NULL;
}
