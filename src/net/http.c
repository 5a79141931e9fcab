/* http.c - see http.h. */
#include "http.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <stdio.h>
#include <string.h>

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
    snprintf(msg, sizeof(msg), "%s", line);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (level & LLL_ERR)
        log_error("lws", "%s", msg);
    else
        log_debug("lws", "%s", msg);
}

void http_lws_logging(void)
{
    lws_set_log_level(LLL_ERR, lws_log_to_ours);
}
