/* httpc.c - see httpc.h. */
#include "httpc.h"
#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct httpc_req_s {
    uv_getaddrinfo_t gai;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    uv_timer_t timer;
    buf_t out, in;
    httpc_done_fn done;
    void *ud;
    int finished;
    int refs; /* open handles + a pending resolution; freed at 0 */
    int tcp_open;
} httpc_req_t;

int httpc_parse_url(const char *url, httpc_url_t *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(url, "http://", 7) != 0) return -1;
    const char *h = url + 7, *end = h + strcspn(h, ":/");
    size_t hl = (size_t)(end - h);
    if (hl == 0 || hl >= sizeof(out->host)) return -1;
    memcpy(out->host, h, hl);
    (void)snprintf(out->port, sizeof(out->port), "80");
    if (*end == ':') {
        const char *p = end + 1;
        size_t pl = strspn(p, "0123456789");
        long port = pl ? strtol(p, NULL, 10) : 0; /* digits only, fewer than port's size */
        if (pl == 0 || pl >= sizeof(out->port) || port < 1 || port > 65535) return -1;
        memcpy(out->port, p, pl);
        out->port[pl] = '\0';
        end = p + pl;
    }
    if (*end && *end != '/') return -1;
    if (snprintf(out->path, sizeof(out->path), "%s", *end ? end : "/") >= (int)sizeof(out->path))
        return -1;
    return 0;
}

static void release(httpc_req_t *r)
{
    if (--r->refs > 0) return;
    buf_free(&r->out);
    buf_free(&r->in);
    free(r);
}

static void on_closed(uv_handle_t *h)
{
    release(h->data);
}

static void finish(httpc_req_t *r, int status, const char *body, size_t len)
{
    if (r->finished) return;
    r->finished = 1;
    r->done(r->ud, status, body, len);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_closed);
    if (r->tcp_open)
        uv_close((uv_handle_t *)&r->tcp, on_closed);
    else
        uv_cancel((uv_req_t *)&r->gai); /* still resolving: its callback releases */
}

static void on_timeout(uv_timer_t *t)
{
    finish(t->data, -1, NULL, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    httpc_req_t *r = h->data;
    (void)suggested;
    buf_reserve(&r->in, 16384);
    b->base = r->in.data + r->in.len;
    b->len = r->in.cap - r->in.len - 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    httpc_req_t *r = s->data;
    (void)b;
    if (nread > 0) {
        r->in.len += (size_t)nread;
        if (r->in.len > HTTPC_MAX_RESPONSE) finish(r, -1, NULL, 0);
        return;
    }
    if (nread == 0) return;
    if (nread != UV_EOF) {
        finish(r, -1, NULL, 0);
        return;
    }
    int status;
    char *body = NULL;
    size_t blen = 0;
    if (httpc_parse_response(r->in.data, r->in.len, &status, &body, &blen) < 0)
        finish(r, -1, NULL, 0);
    else
        finish(r, status, body, blen);
    free(body);
}

static void on_written(uv_write_t *w, int status)
{
    if (status < 0) finish(w->data, -1, NULL, 0);
}

static void on_connect(uv_connect_t *c, int status)
{
    httpc_req_t *r = c->data;
    if (r->finished) return;
    if (status < 0) {
        finish(r, -1, NULL, 0);
        return;
    }
    uv_buf_t b = uv_buf_init(r->out.data, (unsigned)r->out.len);
    r->wr.data = r;
    if (uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, on_written) < 0 ||
        uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read) < 0)
        finish(r, -1, NULL, 0);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai)
{
    httpc_req_t *r = g->data;
    if (!r->finished && status == 0 && ai) {
        uv_tcp_init(g->loop, &r->tcp);
        r->tcp.data = r;
        r->tcp_open = 1;
        r->refs++;
        r->conn.data = r;
        if (uv_tcp_connect(&r->conn, &r->tcp, ai->ai_addr, on_connect) < 0) finish(r, -1, NULL, 0);
    } else {
        finish(r, -1, NULL, 0);
    }
    uv_freeaddrinfo(ai);
    release(r); /* the resolution's reference */
}

int httpc_post(uv_loop_t *loop, const httpc_url_t *u, const char *headers, const char *body,
               size_t len, int timeout_ms, httpc_done_fn done, void *ud)
{
    httpc_req_t *r = wod_calloc(1, sizeof(*r));
    r->done = done;
    r->ud = ud;
    buf_init(&r->out);
    buf_init(&r->in);
    buf_printf(&r->out,
               "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
               u->path, u->host, u->port, len, headers);
    buf_append(&r->out, body, len);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r->gai.data = r;
    if (uv_getaddrinfo(loop, &r->gai, on_resolved, u->host, u->port, &hints) < 0) {
        log_warn("httpc", "cannot resolve %s", u->host);
        buf_free(&r->out);
        buf_free(&r->in);
        free(r);
        return -1;
    }
    r->refs = 2; /* the resolution and the timer */
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timeout, (uint64_t)(timeout_ms > 0 ? timeout_ms : 1), 0);
    return 0;
}

/* ---- response parsing (untrusted) */

static const char *find_crlf(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\r' && p[1] == '\n') return p;
    return NULL;
}

/* Case-insensitive header name match at the start of a line. */
static int header_is(const char *line, const char *eol, const char *name)
{
    size_t n = strlen(name);
    if ((size_t)(eol - line) <= n || line[n] != ':') return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)line[i]) != name[i]) return 0;
    return 1;
}

static int dechunk(const char *p, const char *end, buf_t *out)
{
    for (;;) {
        const char *eol = find_crlf(p, end);
        if (!eol) return -1;
        size_t size = 0;
        const char *q = p;
        for (; q < eol && isxdigit((unsigned char)*q); q++) {
            if (size > (size_t)HTTPC_MAX_RESPONSE) return -1;
            size = size * 16 +
                   (size_t)(isdigit((unsigned char)*q) ? *q - '0' : (tolower(*q) - 'a' + 10));
        }
        if (q == p) return -1;
        p = eol + 2;
        if (size == 0) return 0; /* trailers ignored */
        if ((size_t)(end - p) < size + 2) return -1;
        buf_append(out, p, size);
        p += size;
        if (p[0] != '\r' || p[1] != '\n') return -1;
        p += 2;
    }
}

int httpc_parse_response(const char *raw, size_t len, int *status, char **body, size_t *body_len)
{
    const char *p = raw, *end = raw + len;
    const char *eol = find_crlf(p, end);
    if (!eol || eol - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return -1;
    if (!isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
        !isdigit((unsigned char)p[11]))
        return -1;
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    long clen = -1;
    int chunked = 0;
    for (p = eol + 2;; p = eol + 2) {
        eol = find_crlf(p, end);
        if (!eol) return -1;
        if (eol == p) break; /* end of headers */
        if (header_is(p, eol, "content-length")) {
            const char *v = p + 15;
            while (v < eol && *v == ' ')
                v++;
            if (v == eol) return -1;
            clen = 0;
            for (; v < eol && isdigit((unsigned char)*v); v++) {
                clen = clen * 10 + (*v - '0');
                if (clen > (long)HTTPC_MAX_RESPONSE) return -1;
            }
        } else if (header_is(p, eol, "transfer-encoding")) {
            for (const char *v = p; v + 7 <= eol; v++)
                if (strncasecmp(v, "chunked", 7) == 0) chunked = 1;
        }
    }
    p = eol + 2;
    buf_t b;
    buf_init(&b);
    if (chunked) {
        if (dechunk(p, end, &b) < 0) {
            buf_free(&b);
            return -1;
        }
    } else if (clen >= 0) {
        if ((size_t)(end - p) < (size_t)clen) {
            buf_free(&b);
            return -1;
        }
        buf_append(&b, p, (size_t)clen);
    } else {
        buf_append(&b, p, (size_t)(end - p));
    }
    buf_append(&b, "", 0); /* allocated and NUL-terminated even when empty */
    *body_len = b.len;
    *body = b.data; /* owned by the caller now */
    return 0;
}
