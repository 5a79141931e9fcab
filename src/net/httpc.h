/* httpc.h - a minimal asynchronous HTTP/1.1 POST client on libuv for
 * plain http:// endpoints (a local LLM server, docs/GAME.md). One
 * request per connection (Connection: close); the response is read to
 * EOF, at most HTTPC_MAX_RESPONSE bytes, and parsed by
 * httpc_parse_response. Never blocks the loop: name resolution runs on
 * libuv's pool, everything else is non-blocking I/O with a timeout. */
#ifndef WOD_HTTPC_H
#define WOD_HTTPC_H

#include <stddef.h>
#include <uv.h>

#define HTTPC_MAX_RESPONSE ((size_t)256 * 1024)

typedef struct httpc_url_s {
    char host[256];
    char port[8];
    char path[512]; /* starts with '/' */
} httpc_url_t;

/* status: the HTTP status, or -1 (connect/read failure, timeout, bad
 * response). body is valid only during the call. */
typedef void (*httpc_done_fn)(void *ud, int status, const char *body, size_t len);

/* Parses http://host[:port][/path]; returns 0, or -1 (https, malformed). */
int httpc_parse_url(const char *url, httpc_url_t *out);

/* Starts a POST of `body` to u->path with `headers` (complete lines,
 * each ending in \r\n, or ""). done runs exactly once, on the loop,
 * unless this returns -1 (then never). */
int httpc_post(uv_loop_t *loop, const httpc_url_t *u, const char *headers, const char *body,
               size_t len, int timeout_ms, httpc_done_fn done, void *ud);

/* Parses a complete response (read to EOF): status line, headers, body
 * by Content-Length, chunked transfer coding or to the end. On success
 * returns 0 with *body malloc'd (NUL-terminated, caller frees). Returns
 * -1 on anything malformed. Untrusted input: fuzzed (fuzz_httpc.c). */
int httpc_parse_response(const char *raw, size_t len, int *status, char **body, size_t *body_len);

#endif
