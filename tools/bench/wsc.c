/* wsc.c - minimal WebSocket client on libuv (see wsc.h). */
#include "wsc.h"
#include "core/alloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WSC_READ_BUF (256 * 1024) /* one shared read buffer: the loop is single-threaded */
#define WSC_SEND_MAX 4096         /* longest frame payload wsc_send() takes */

enum { OP_CONT = 0x0, OP_TEXT = 0x1, OP_BIN = 0x2, OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xA };

typedef struct {
    uv_write_t req;
    size_t len;
    char data[]; /* the bytes uv_try_write could not send at once */
} wsc_wreq_t;

static char read_buf[WSC_READ_BUF];
static uint32_t mask_state = 0x9E3779B9u;
static uint64_t total_in;

uint64_t wsc_total_bytes_in(void)
{
    return total_in;
}

static void on_handle_closed(uv_handle_t *h)
{
    wsc_t *c = (wsc_t *)h->data;
    int was_open = c->open;
    c->active = 0;
    c->open = 0;
    free(c->hs);
    c->hs = NULL;
    if (c->cbs->on_closed) c->cbs->on_closed(c, was_open, c->why[0] ? c->why : "closed");
}

void wsc_abort(wsc_t *c, const char *why)
{
    if (!c->active || c->closing) return;
    c->closing = 1;
    if (why && !c->why[0]) snprintf(c->why, sizeof(c->why), "%s", why);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
    wsc_wreq_t *w = (wsc_wreq_t *)req;
    wsc_t *c = (wsc_t *)req->data;
    free(w);
    if (status < 0 && status != UV_ECANCELED) wsc_abort(c, "write failed");
}

/* Writes bytes now, queueing what the socket does not take at once. */
static int write_raw(wsc_t *c, const char *data, size_t len)
{
    if (!c->active || c->closing) return -1;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len) return 0;
    if (n < 0 && n != UV_EAGAIN) {
        wsc_abort(c, "write failed");
        return -1;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    wsc_wreq_t *w = wod_malloc(sizeof(*w) + len - done);
    w->len = len - done;
    memcpy(w->data, data + done, w->len);
    w->req.data = c;
    b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        free(w);
        wsc_abort(c, "write failed");
        return -1;
    }
    return 0;
}

/* One masked frame; control frames and bench messages are small. */
static int send_frame(wsc_t *c, uint8_t opcode, const char *data, size_t len)
{
    if (len > WSC_SEND_MAX) return -1;
    char f[14 + WSC_SEND_MAX];
    size_t h = 0;
    f[h++] = (char)(0x80 | opcode);
    if (len < 126) {
        f[h++] = (char)(0x80 | len);
    } else {
        f[h++] = (char)(0x80 | 126);
        f[h++] = (char)(len >> 8);
        f[h++] = (char)(len & 0xff);
    }
    mask_state ^= mask_state << 13;
    mask_state ^= mask_state >> 17;
    mask_state ^= mask_state << 5;
    uint8_t key[4];
    memcpy(key, &mask_state, 4);
    memcpy(f + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        f[h + i] = (char)((uint8_t)data[i] ^ key[i & 3]);
    return write_raw(c, f, h + len);
}

int wsc_send(wsc_t *c, const char *data, size_t len)
{
    if (!c->open || c->closing) return -1;
    return send_frame(c, OP_TEXT, data, len);
}

void wsc_close(wsc_t *c, uint16_t code, const char *why)
{
    if (!c->active || c->closing) return;
    if (c->open) {
        char p[2] = {(char)(code >> 8), (char)(code & 0xff)};
        send_frame(c, OP_CLOSE, p, 2);
    }
    wsc_abort(c, why);
}

/* A whole control frame arrived. */
static void control(wsc_t *c)
{
    if (c->opcode == OP_PING) {
        send_frame(c, OP_PONG, (const char *)c->ctl, c->ctl_len);
    } else if (c->opcode == OP_CLOSE) {
        char why[64] = "closed by the server";
        if (c->ctl_len >= 2)
            snprintf(why, sizeof(why), "closed by the server (%u)",
                     (unsigned)(c->ctl[0] << 8 | c->ctl[1]));
        wsc_close(c, c->ctl_len >= 2 ? (uint16_t)(c->ctl[0] << 8 | c->ctl[1]) : 1000, why);
    }
}

/* Header bytes still needed to know the whole header, given what is in. */
static size_t hdr_need(const wsc_t *c)
{
    if (c->hdr_len < 2) return 2;
    size_t n = 2, l7 = c->hdr[1] & 0x7f;
    if (l7 == 126) n += 2;
    if (l7 == 127) n += 8;
    if (c->hdr[1] & 0x80) n += 4; /* a masked server frame: protocol error, caught below */
    return n;
}

static int header_done(wsc_t *c)
{
    const uint8_t *h = c->hdr;
    if (h[1] & 0x80) {
        wsc_abort(c, "masked frame from the server");
        return -1;
    }
    uint64_t l = h[1] & 0x7f;
    if (l == 126) {
        l = (uint64_t)h[2] << 8 | h[3];
    } else if (l == 127) {
        l = 0;
        for (int i = 0; i < 8; i++)
            l = l << 8 | h[2 + i];
    }
    c->fin = h[0] >> 7;
    c->opcode = h[0] & 0x0f;
    c->left = l;
    c->ctl_len = 0;
    if (c->opcode >= OP_CLOSE && l > WSC_CTL_MAX) {
        wsc_abort(c, "oversized control frame");
        return -1;
    }
    c->in_payload = 1;
    return 0;
}

/* Feeds received frame bytes; data payloads go to on_data without copying. */
static void frames(wsc_t *c, const char *p, size_t len)
{
    while (len && !c->closing) {
        if (!c->in_payload) {
            size_t need = hdr_need(c);
            while (c->hdr_len < need && len) {
                c->hdr[c->hdr_len++] = (uint8_t)*p++;
                len--;
                need = hdr_need(c);
            }
            if (c->hdr_len < need) return;
            c->hdr_len = 0;
            if (header_done(c) < 0) return;
            if (c->left) continue;
        }
        size_t n = c->left < len ? (size_t)c->left : len;
        c->left -= n;
        int end = c->left == 0;
        if (c->opcode >= OP_CLOSE) {
            memcpy(c->ctl + c->ctl_len, p, n);
            c->ctl_len += n;
            if (end) control(c);
        } else {
            int first = !c->in_msg;
            int final = end && c->fin;
            c->in_msg = !final;
            c->cbs->on_data(c, p, n, first, final);
        }
        p += n;
        len -= n;
        if (end) c->in_payload = 0;
    }
}

static void handshake(wsc_t *c, const char *p, size_t len)
{
    size_t take = len < WSC_HS_MAX - c->hs_len ? len : WSC_HS_MAX - c->hs_len;
    memcpy(c->hs + c->hs_len, p, take);
    c->hs_len += take;
    c->hs[c->hs_len] = 0;
    char *end = strstr(c->hs, "\r\n\r\n");
    if (!end) {
        if (c->hs_len >= WSC_HS_MAX) wsc_abort(c, "handshake answer too long");
        return;
    }
    if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
        char why[64];
        snprintf(why, sizeof(why), "handshake refused: %.40s", c->hs);
        char *nl = strchr(why, '\r');
        if (nl) *nl = 0;
        wsc_abort(c, why);
        return;
    }
    size_t used = (size_t)(end + 4 - c->hs) - (c->hs_len - take);
    free(c->hs);
    c->hs = NULL;
    c->open = 1;
    c->cbs->on_open(c);
    if (used < len) frames(c, p + used, len - used);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    wsc_t *c = (wsc_t *)s->data;
    if (n < 0) {
        wsc_abort(c, n == UV_EOF ? "connection closed by the server" : uv_strerror((int)n));
        return;
    }
    c->bytes_in += (uint64_t)n;
    total_in += (uint64_t)n;
    if (c->hs) {
        handshake(c, buf->base, (size_t)n);
    } else {
        frames(c, buf->base, (size_t)n);
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    wsc_t *c = (wsc_t *)req->data;
    if (c->closing) return;
    if (status < 0) {
        char why[96];
        snprintf(why, sizeof(why), "connect failed: %s", uv_strerror(status));
        wsc_abort(c, why);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        wsc_abort(c, "read start failed");
        return;
    }
    c->hs = wod_malloc(WSC_HS_MAX + 1);
    c->hs_len = 0;
    c->hs[0] = 0;
    /* the key is fixed: the bench does not check Sec-WebSocket-Accept */
    char req_text[768];
    int n = snprintf(req_text, sizeof(req_text),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: d29kLWJlbmNoLWtleS0wMQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Origin: http://%s\r\n\r\n",
                     c->path, c->host, c->host);
    write_raw(c, req_text, (size_t)n);
}

int wsc_connect(wsc_t *c, uv_loop_t *loop, const struct sockaddr_in *dst,
                const struct sockaddr_in *src, const char *host, const char *path,
                const wsc_cbs_t *cbs, void *user)
{
    memset(c, 0, sizeof(*c));
    c->cbs = cbs;
    c->user = user;
    c->host = host;
    c->path = path;
    if (strlen(path) + 2 * strlen(host) > 600) return UV_EINVAL;
    int rc = uv_tcp_init_ex(loop, &c->tcp, AF_INET);
    if (rc < 0) return rc;
    c->tcp.data = c;
    c->active = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    if (src) {
        uv_os_fd_t fd;
        /* the port is picked at connect time, per destination, not at bind */
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        }
        rc = uv_tcp_bind(&c->tcp, (const struct sockaddr *)src, 0);
    }
    c->conn_req.data = c;
    if (rc == 0)
        rc = uv_tcp_connect(&c->conn_req, &c->tcp, (const struct sockaddr *)dst, on_connected);
    if (rc < 0) {
        /* no callback: the caller learns of the failure from the return value */
        c->closing = 1;
        c->active = 0;
        uv_close((uv_handle_t *)&c->tcp, NULL);
        return rc;
    }
    return 0;
}
