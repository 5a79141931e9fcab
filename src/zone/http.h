/* http.h - zone server /health and /metrics listener (ZONE_HTTP_PORT). */
#ifndef WOD_ZONE_HTTP_H
#define WOD_ZONE_HTTP_H

#include "server.h"

typedef struct zs_http_s zs_http_t;

/* Starts listening on ZONE_HTTP_PORT, before the zone server exists (a
 * busy port must stop the process before it claims zones). *out is NULL
 * when the port is 0. Returns 0, or an errno if the port cannot be bound
 * (logged; http_listen_exit_code() maps it to the exit code). Requests are
 * answered 503 until zs_http_attach. */
int zs_http_start(uv_loop_t *loop, const config_t *cfg, zs_http_t **out);
void zs_http_attach(zs_http_t *h, zs_t *zs);
/* Two-step teardown on the foreign loop, as for the gateway. */
void zs_http_stop(zs_http_t *h);
void zs_http_free(zs_http_t *h);

#endif
