/* http.h - zone server /health and /metrics listener (ZONE_HTTP_PORT). */
#ifndef WOD_ZONE_HTTP_H
#define WOD_ZONE_HTTP_H

#include "server.h"

typedef struct zs_http_s zs_http_t;

/* NULL when ZONE_HTTP_PORT is 0 or the port cannot be bound (logged). */
zs_http_t *zs_http_start(uv_loop_t *loop, const config_t *cfg, zs_t *zs);
/* Two-step teardown on the foreign loop, as for the gateway. */
void zs_http_stop(zs_http_t *h);
void zs_http_free(zs_http_t *h);

#endif
