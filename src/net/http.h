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

/* Request headers we accept; the gateway answers more with 431. */
#define HTTP_MAX_HEADER_BYTES 4096
/* Header bytes lws can hold per request (its max_http_header_data): lws
 * 4.1.6 drops a request with more without an answer (it shuts the socket
 * before telling us), so this sits well above HTTP_MAX_HEADER_BYTES. */
#define HTTP_HEADER_TABLE_BYTES 16384

/* 1 if lws dropped a request for headers over HTTP_HEADER_TABLE_BYTES
 * since the last call (lws only says so in a log line, logged here at
 * debug). Call from LWS_CALLBACK_CLOSED_HTTP to count them. */
int http_header_overflow_take(void);

/* Writes a complete `Connection: close` response with a JSON body straight
 * to a socket lws is about to close, where lws has no way to answer
 * (refused at accept, timed out before a request) or no status line for
 * it (431). Never blocks; a reply the socket cannot take is dropped. */
void http_raw_reply(int fd, int status, const char *reason, const char *json_body);

/* Creates the lws context described by `info` and checks that it listens:
 * lws 4.1.6 returns a context without its vhost when the port cannot be
 * bound. On failure the process must exit without running its loop again.
 * Returns 0, or an errno (EADDRINUSE, EACCES, EADDRNOTAVAIL, EINVAL for a
 * malformed address) after logging one line for `subject` naming the
 * address, the port variable `port_var` and the reason. */
int http_listen_start(const struct lws_context_creation_info *info, const char *subject,
                      const char *port_var, struct lws_context **out);

/* The exit code for a listener that failed with `err`: 2 for a config
 * error (address not on this host, port not permitted), else 1. */
int http_listen_exit_code(int err);

#endif
