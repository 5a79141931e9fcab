/* http.c - the zone server's own small HTTP listener on ZONE_HTTP_PORT:
 * /health (type "zone") and /metrics, for load balancers and Prometheus.
 * A separate lws context on the process loop; the zone role has no
 * client connections. */
#include "http.h"
#include "../core/alloc.h"
#include "../core/log.h"
#include "../net/http.h"

#include <string.h>

struct zs_http_s {
    struct lws_context *lws;
    zs_t *zs;
};

typedef struct pss_s {
    http_reply_t http;
} pss_t;

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    pss_t *pss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        zs_http_t *h = lws_context_user(lws_get_context(wsi));
        const char *path = in;
        buf_t *body = wod_calloc(1, sizeof(buf_t));
        int status = 200;
        const char *type = "application/json";
        if (!h->zs) {
            status = 503;
            buf_puts(body, "{\"error\":\"starting\"}");
        } else if (strcmp(path, "/health") == 0) {
            zs_health_json(h->zs, body);
        } else if (strcmp(path, "/metrics") == 0) {
            type = "text/plain; version=0.0.4";
            zs_metrics(h->zs, body);
        } else {
            status = 404;
            buf_puts(body, "{\"error\":\"not found\"}");
        }
        http_reply_start(wsi, &pss->http, status, type, body);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? http_reply_write(wsi, &pss->http) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        http_header_overflow_take(); /* logged at debug, not counted here */
        if (pss) http_reply_clear(&pss->http);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (pss) http_reply_clear(&pss->http);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1; /* no WebSockets here */
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[] = {
    {"zone-http", callback, sizeof(pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int zs_http_start(uv_loop_t *loop, const config_t *cfg, zs_http_t **out)
{
    *out = NULL;
    if (cfg->zone_http_port == 0) return 0;
    zs_http_t *h = wod_calloc(1, sizeof(*h));
    http_lws_logging();
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[] = {loop};
    info.port = cfg->zone_http_port;
    info.iface = cfg->bind_address;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = loops;
    info.user = h;
    info.max_http_header_data = HTTP_MAX_HEADER_BYTES; /* internal: no 431 */
    int err = http_listen_start(&info, "zone", "ZONE_HTTP_PORT", &h->lws);
    if (err) {
        free(h);
        return err;
    }
    log_info("zone", "health and metrics on %s:%d", cfg->bind_address, cfg->zone_http_port);
    *out = h;
    return 0;
}

void zs_http_attach(zs_http_t *h, zs_t *zs)
{
    if (h) h->zs = zs;
}

void zs_http_stop(zs_http_t *h)
{
    if (h) lws_context_destroy(h->lws);
}

void zs_http_free(zs_http_t *h)
{
    if (!h) return;
    lws_context_destroy(h->lws);
    free(h);
}
