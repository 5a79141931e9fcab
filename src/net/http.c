/* http.c - see http.h. */
#include "http.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int header_overflow; /* lws said "Ran out of header data space" */
static int lws_quiet;

void http_reply_start(struct lws *wsi, http_reply_t *r, int status, const char *content_type,
                      buf_t *body)
{
    http_reply_clear(r);
    r->body = body;
    r->status = status;
    r->content_type = content_type;
    r->cache_control = NULL;
    r->etag = NULL;
    lws_callback_on_writable(wsi);
}

int http_reply_write(struct lws *wsi, http_reply_t *r)
{
    if (!r->body) return 0;
    unsigned char hdr[LWS_PRE + 1024];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    buf_t *b = r->body;
    const char *cc = r->cache_control ? r->cache_control : "no-store";
    if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->content_type,
                                    (lws_filepos_t)b->len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)cc,
                                     (int)strlen(cc), &p, end) ||
        (r->etag &&
         lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ETAG, (const unsigned char *)r->etag,
                                      (int)strlen(r->etag), &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    /* lws_write needs LWS_PRE bytes of headroom before the payload. */
    buf_t out;
    buf_init(&out);
    buf_reserve(&out, LWS_PRE + b->len);
    out.len = LWS_PRE;
    buf_append(&out, b->data ? b->data : "", b->len);
    int n = lws_write(wsi, (unsigned char *)out.data + LWS_PRE, b->len, LWS_WRITE_HTTP_FINAL);
    buf_free(&out);
    http_reply_clear(r);
    if (n < 0) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void http_reply_clear(http_reply_t *r)
{
    if (!r->body) return;
    buf_free(r->body);
    free(r->body);
    r->body = NULL;
}

static void lws_log_to_ours(int level, const char *line)
{
    char msg[512];
    (void)snprintf(msg, sizeof(msg), "%s", line);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (strstr(msg, "Ran out of header data space")) {
        /* A client's doing, one line per request: counted by the caller. */
        header_overflow = 1;
        log_debug("lws", "%s", msg);
    } else if ((level & LLL_ERR) && !lws_quiet)
        log_error("lws", "%s", msg);
    else
        log_debug("lws", "%s", msg);
}

void http_lws_logging(void)
{
    lws_set_log_level(LLL_ERR, lws_log_to_ours);
}

int http_header_overflow_take(void)
{
    int was = header_overflow;
    header_overflow = 0;
    return was;
}

void http_raw_reply(int fd, int status, const char *reason, const char *json_body)
{
    char out[512], sink[4096];
    /* Read what the client has sent: a socket closed with unread input is
     * reset, and the reset can overtake the answer. */
    for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
        ;
    int n = snprintf(out, sizeof(out),
                     "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                     "content-length: %zu\r\ncache-control: no-store\r\n"
                     "connection: close\r\n\r\n%s",
                     status, reason, strlen(json_body), json_body);
    if (n < 0 || (size_t)n >= sizeof(out)) return;
    if (send(fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n) shutdown(fd, SHUT_WR);
}

/* Why addr:port cannot be bound: 0 if it can, else an errno. */
static int listen_probe(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof(*v6);
    } else {
        return EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return errno;
    int on = 1, err = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)); /* as lws does */
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) err = errno;
    close(fd);
    return err;
}

int http_listen_start(const struct lws_context_creation_info *info, const char *subject,
                      const char *port_var, struct lws_context **out)
{
    /* Our own bind first: it names the reason (lws only says it failed),
     * and lws 4.1.6 quietly defers a vhost whose address is not on this
     * host instead of failing. */
    int err = listen_probe(info->iface, info->port);
    *out = NULL;
    if (err) {
        log_error(subject, "cannot listen on %s:%d (%s): %s", info->iface, info->port, port_var,
                  err == EINVAL ? "not an IP address (BIND_ADDRESS)" : strerror(err));
        return err;
    }
    struct lws_context_creation_info in = *info;
    /* lws 4.1.6 given an IPv4 iface on an IPv6-capable build binds "::"
     * (every interface, both families): keep it to the address asked. */
    if (!strchr(in.iface, ':')) in.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    lws_quiet = 1; /* it logs three error lines when it cannot bind */
    struct lws_context *ctx = lws_create_context(&in);
    lws_quiet = 0;
    if (ctx && lws_get_vhost_by_name(ctx, "default")) {
        *out = ctx;
        return 0;
    }
    err = EADDRINUSE; /* taken between our bind and lws's */
    log_error(subject, "cannot listen on %s:%d (%s): %s", info->iface, info->port, port_var,
              strerror(err));
    if (ctx) lws_context_destroy(ctx);
    return err;
}

int http_listen_exit_code(int err)
{
    return err == EADDRNOTAVAIL || err == EACCES || err == EINVAL ? 2 : 1;
}
