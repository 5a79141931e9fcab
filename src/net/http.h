/* http.h - small helpers for answering HTTP GETs from a libwebsockets
 * callback: the response is kept until the connection is writable, then
 * headers and body go out together. Shared by the gateway's API and the
 * zone server's /health + /metrics listener. */
#ifndef WOD_HTTP_H
#define WOD_HTTP_H

#include "../core/buf.h"

#include <libwebsockets.h>

/* Embedded in an lws per-session struct (zeroed by lws). */
typedef struct http_reply_s {
    buf_t *body; /* owned until sent */
    int status;
    const char *content_type;  /* static string */
    const char *cache_control; /* static string; NULL = "no-store" */
    const char *etag;          /* static string or NULL */
} http_reply_t;

/* Takes the body (a heap buf_t), asks lws for a writable callback. */
void http_reply_start(struct lws *wsi, http_reply_t *r, int status, const char *content_type,
                      buf_t *body);
/* Call from LWS_CALLBACK_HTTP_WRITEABLE; returns what the callback returns. */
int http_reply_write(struct lws *wsi, http_reply_t *r);
/* Routes libwebsockets' own log lines into ours: its errors as errors,
 * everything else at debug. Call before creating a context. */
void http_lws_logging(void);
/* Call from LWS_CALLBACK_CLOSED_HTTP / WSI_DESTROY. */
void http_reply_clear(http_reply_t *r);

#endif
