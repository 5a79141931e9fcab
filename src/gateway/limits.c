/* limits.c - what a connection may hold before it authenticates.
 *
 * Every accepted socket gets a gw_sock_t, hung on its wsi as lws opaque
 * user data from SERVER_NEW_CLIENT_INSTANTIATED to WSI_DESTROY. Its timer
 * is the deadline of the stage it is in:
 *
 *   REQUEST    accepted (or a keep-alive response sent), no complete HTTP
 *              request yet: HTTP_HEADER_TIMEOUT_MS, then 408 and close
 *   HANDSHAKE  WebSocket open, no `handshake`: HANDSHAKE_TIMEOUT_MS
 *   AUTH       handshaken, not authenticated: AUTH_TIMEOUT_MS
 *   TRUSTED    authenticated: no deadline, no longer "unauthenticated"
 *
 * WebSocket stages close with 1008 and the reason. server.c reports each
 * step; the session's state is read after each frame received and before
 * each write (auth_success always writes), so no hook in session.c.
 *
 * Admission (LWS_CALLBACK_FILTER_NETWORK_CONNECTION, before lws allocates
 * anything): at most MAX_CONNS_PER_IP sockets per source address (loopback
 * exempt with LIMITS_EXEMPT_LOOPBACK=1, so a local proxy, the tests and
 * wod-bench are not capped) and MAX_UNAUTH_CONNS unauthenticated sockets
 * in all; a refused socket gets 429 or 503 and is closed.
 *
 * Why this matters with lws 4.1.6: each socket holds one of its HTTP
 * header tables ("ah") from accept until its request is complete, and
 * when the pool is used up lws stops accepting altogether - a few hundred
 * silent sockets used to lock every client out. The pool is sized above
 * the sockets admitted before their request (MAX_HTTP_PENDING, and
 * MAX_UNAUTH_CONNS), so our 503 answers first, and the header deadline
 * returns tables quickly. */
#include "gw.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../net/http.h"
#include "../net/tcpinfo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One line per kind of refusal or timeout at most this often. */
#define LOG_EVERY_MS 10000
/* After our close, lws gets this long to send it before the socket is cut. */
#define CLOSE_BACKSTOP_MS 3000
/* Auth deadline passed while its auth job runs: look again this much later. */
#define BUSY_RECHECK_MS 1000
/* Sockets before or in their HTTP request, each holding one lws header
 * table of HTTP_HEADER_TABLE_BYTES: bounds that memory (~35 MB). */
#define MAX_HTTP_PENDING 2048

typedef enum {
    SOCK_REQUEST,   /* waiting for a complete HTTP request */
    SOCK_SERVING,   /* request in, being answered or upgraded */
    SOCK_HANDSHAKE, /* WebSocket open, waiting for `handshake` */
    SOCK_AUTH,      /* waiting for a successful `auth` */
    SOCK_TRUSTED,   /* authenticated */
    SOCK_CLOSING    /* we closed it; the timer is the backstop */
} sock_stage_t;

/* Sockets open from one source address. */
typedef struct peer_s {
    char addr[INET6_ADDRSTRLEN];
    int conns;
    UT_hash_handle hh;
} peer_t;

typedef struct gw_sock_s {
    uv_timer_t timer; /* deadline of the current stage */
    gw_t *gw;
    struct lws *wsi; /* NULL once lws destroyed it */
    peer_t *peer;    /* NULL: exempt from the per-address cap */
    sock_stage_t stage;
    int unauth;       /* counted in n_unauth */
    int http;         /* counted in n_http (holds a header table) */
    int served;       /* has answered a request (now a keep-alive) */
    uint64_t rx_base; /* bytes received when the last request ended */
    uint64_t conn_id; /* the WebSocket connection, once open */
} gw_sock_t;

/* Rate-limited log line for events a client can cause at will. */
typedef struct log_gate_s {
    double last_ms;
    unsigned long long quiet; /* events since the last line */
} log_gate_t;

enum { TIMEOUT_REQUEST, TIMEOUT_HANDSHAKE, TIMEOUT_AUTH, TIMEOUT_KINDS };
enum { REFUSED_PER_IP, REFUSED_UNAUTH, REFUSED_HTTP, REFUSED_KINDS };
static const char *const timeout_names[] = {"http_header", "handshake", "auth"};
static const char *const refused_names[] = {"per_ip", "unauth", "http_pending"};

struct gw_limits_s {
    peer_t *peers;
    uint32_t n_socks;  /* accepted sockets open */
    uint32_t n_unauth; /* ... of which not authenticated */
    uint32_t n_http;   /* ... of which not past their HTTP request */
    unsigned long long timeouts[TIMEOUT_KINDS], refused[REFUSED_KINDS];
    unsigned long long headers_too_large[2]; /* [0] dropped by lws, [1] answered 431 */
    log_gate_t timeout_log[TIMEOUT_KINDS], refused_log[REFUSED_KINDS], header_log;
};

static int gate_open(log_gate_t *g, unsigned long long *more)
{
    double now = clock_mono_ms();
    if (g->last_ms && now - g->last_ms < LOG_EVERY_MS) {
        g->quiet++;
        return 0;
    }
    *more = g->quiet;
    g->quiet = 0;
    g->last_ms = now;
    return 1;
}

void gw_limits_init(gw_t *gw)
{
    gw->limits = wod_calloc(1, sizeof(gw_limits_t));
}

void gw_limits_free(gw_t *gw)
{
    peer_t *p, *tmp;
    HASH_ITER(hh, gw->limits->peers, p, tmp)
    {
        /* uthash frees its table with the last element; the analyzer loses track (false positive)
         */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(gw->limits->peers, p);
        free(p);
    }
    free(gw->limits);
}

int gw_limits_ah_pool(const config_t *cfg)
{
    int pending =
        cfg->max_unauth_conns < MAX_HTTP_PENDING ? cfg->max_unauth_conns : MAX_HTTP_PENDING;
    return pending + 64;
}

/* The source address of fd as text; 1 if it is loopback. -1 on error. */
static int peer_addr(int fd, char *out, size_t n)
{
    struct sockaddr_storage ss = {0}; /* the analyzer does not know getpeername fills it */
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    if (ss.ss_family == AF_INET) {
        struct in_addr *a = &((struct sockaddr_in *)&ss)->sin_addr;
        (void)inet_ntop(AF_INET, a, out, (socklen_t)n);
        return (ntohl(a->s_addr) >> 24) == 127;
    }
    if (ss.ss_family == AF_INET6) {
        struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        (void)inet_ntop(AF_INET6, a, out, (socklen_t)n);
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    (void)snprintf(out, n, "?");
    return 0;
}

static peer_t *peer_of(gw_t *gw, int fd, int create, char *addr, size_t n)
{
    int loopback = peer_addr(fd, addr, n);
    if (loopback < 0 || gw->cfg.max_conns_per_ip == 0 ||
        (loopback && gw->cfg.limits_exempt_loopback))
        return NULL;
    peer_t *p = NULL;
    HASH_FIND_STR(gw->limits->peers, addr, p);
    if (!p && create) {
        p = wod_calloc(1, sizeof(*p));
        (void)snprintf(p->addr, sizeof(p->addr), "%s", addr);
        HASH_ADD_STR(gw->limits->peers, addr, p);
    }
    return p;
}

int gw_limits_admit(gw_t *gw, int fd)
{
    gw_limits_t *L = gw->limits;
    char addr[INET6_ADDRSTRLEN] = "?";
    peer_t *p = peer_of(gw, fd, 0, addr, sizeof(addr));
    int kind;
    if (p && p->conns >= gw->cfg.max_conns_per_ip) {
        kind = REFUSED_PER_IP;
        http_raw_reply(fd, 429, "Too Many Requests",
                       "{\"error\":\"too many connections from your address\"}");
    } else if (L->n_unauth >= (uint32_t)gw->cfg.max_unauth_conns || L->n_http >= MAX_HTTP_PENDING) {
        kind = L->n_http >= MAX_HTTP_PENDING ? REFUSED_HTTP : REFUSED_UNAUTH;
        http_raw_reply(fd, 503, "Service Unavailable",
                       "{\"error\":\"server busy: too many connections logging in\"}");
    } else {
        return 0;
    }
    L->refused[kind]++;
    unsigned long long more;
    if (gate_open(&L->refused_log[kind], &more)) {
        if (kind == REFUSED_PER_IP)
            log_warn("gateway",
                     "refused a connection from %s: MAX_CONNS_PER_IP=%d reached (%llu "
                     "more refusals of this kind since the last line)",
                     addr, gw->cfg.max_conns_per_ip, more);
        else if (kind == REFUSED_HTTP)
            log_warn("gateway",
                     "refused a connection from %s: %d sockets before their HTTP "
                     "request (%llu more refusals of this kind since the last line)",
                     addr, MAX_HTTP_PENDING, more);
        else
            log_warn("gateway",
                     "refused a connection from %s: MAX_UNAUTH_CONNS=%d reached (%llu "
                     "more refusals of this kind since the last line)",
                     addr, gw->cfg.max_unauth_conns, more);
    }
    return -1;
}

static void sock_closed(uv_handle_t *h)
{
    free(container_of((uv_timer_t *)h, gw_sock_t, timer));
}

static void on_deadline(uv_timer_t *t);

static void arm(gw_sock_t *s, sock_stage_t stage, int ms)
{
    s->stage = stage;
    uv_timer_start(&s->timer, on_deadline, (uint64_t)ms, 0);
}

static void trust(gw_sock_t *s)
{
    uv_timer_stop(&s->timer);
    s->stage = SOCK_TRUSTED;
    if (s->unauth) {
        s->unauth = 0;
        s->gw->limits->n_unauth--;
    }
}

static void timed_out(gw_sock_t *s, int kind)
{
    gw_limits_t *L = s->gw->limits;
    L->timeouts[kind]++;
    unsigned long long more;
    if (gate_open(&L->timeout_log[kind], &more))
        log_info("gateway", "closed a connection: no %s in time (%llu more since the last line)",
                 kind == TIMEOUT_REQUEST     ? "complete HTTP request"
                 : kind == TIMEOUT_HANDSHAKE ? "handshake"
                                             : "auth",
                 more);
}

static void on_deadline(uv_timer_t *t)
{
    gw_sock_t *s = container_of(t, gw_sock_t, timer);
    gw_t *gw = s->gw;
    if (!s->wsi) return;
    gw_conn_t *c = s->conn_id ? gw_conn_find(gw, s->conn_id) : NULL;
    switch (s->stage) {
    case SOCK_REQUEST:
        timed_out(s, TIMEOUT_REQUEST);
        /* A keep-alive connection gone quiet is closed silently, as usual. */
        if (!s->served)
            http_raw_reply(lws_get_socket_fd(s->wsi), 408, "Request Timeout",
                           "{\"error\":\"request header timeout\"}");
        s->stage = SOCK_CLOSING;
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    case SOCK_HANDSHAKE:
    case SOCK_AUTH:
        if (c && c->state >= ST_AUTHED) {
            trust(s);
            return;
        }
        if (c && c->busy && s->stage == SOCK_AUTH) {
            /* its auth job is running: it is not the client's delay */
            uv_timer_start(&s->timer, on_deadline, BUSY_RECHECK_MS, 0);
            return;
        }
        if (c) {
            int hs = c->state == ST_NEW;
            timed_out(s, hs ? TIMEOUT_HANDSHAKE : TIMEOUT_AUTH);
            gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                          hs ? "handshake timeout" : "auth timeout");
        }
        arm(s, SOCK_CLOSING, CLOSE_BACKSTOP_MS);
        return;
    case SOCK_CLOSING:
        /* the client never let the close out (does not read): cut it */
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    default:
        return;
    }
}

void gw_limits_attach(gw_t *gw, struct lws *wsi)
{
    gw_limits_t *L = gw->limits;
    char addr[INET6_ADDRSTRLEN];
    gw_sock_t *s = wod_calloc(1, sizeof(*s));
    s->gw = gw;
    s->wsi = wsi;
    s->peer = peer_of(gw, lws_get_socket_fd(wsi), 1, addr, sizeof(addr));
    if (s->peer) s->peer->conns++;
    s->unauth = 1;
    L->n_unauth++;
    s->http = 1;
    L->n_http++;
    L->n_socks++;
    uv_timer_init(gw->loop, &s->timer);
    arm(s, SOCK_REQUEST, gw->cfg.http_header_timeout_ms);
    lws_set_opaque_user_data(wsi, s);
}

static gw_sock_t *sock_of(struct lws *wsi)
{
    return lws_get_opaque_user_data(wsi);
}

static void too_large(gw_sock_t *s, int answered)
{
    gw_limits_t *L = s->gw->limits;
    L->headers_too_large[answered]++;
    unsigned long long more;
    if (gate_open(&L->header_log, &more))
        log_info("gateway",
                 "%s a request with headers over %d bytes (%llu more since the last line)",
                 answered ? "refused (431)" : "lws dropped",
                 answered ? HTTP_MAX_HEADER_BYTES : HTTP_HEADER_TABLE_BYTES, more);
}

int gw_limits_request(struct lws *wsi)
{
    gw_sock_t *s = sock_of(wsi);
    if (!s || s->stage != SOCK_REQUEST) return 0;
    uv_timer_stop(&s->timer);
    s->stage = SOCK_SERVING;
    /* What arrived since the last request ended: its request line and
     * headers, and of a POST (the admin API) up to Content-Length bytes of
     * body, which are not headers. The kernel counts the bytes: lws 4.1.6
     * cannot list the headers it stored. */
    int fd = lws_get_socket_fd(wsi);
    long long got = (long long)(tcpinfo_bytes_received(fd) - s->rx_base);
    char cl[24];
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        long long body = strtoll(cl, NULL, 10);
        if (body > 0) got -= body < got ? body : got;
    }
    if (got <= HTTP_MAX_HEADER_BYTES) return 0;
    too_large(s, 1);
    http_raw_reply(fd, 431, "Request Header Fields Too Large",
                   "{\"error\":\"request headers too large\"}");
    s->stage = SOCK_CLOSING;
    return -1;
}

void gw_limits_served(struct lws *wsi)
{
    gw_sock_t *s = sock_of(wsi);
    if (!s || s->stage != SOCK_SERVING) return;
    s->served = 1;
    s->rx_base = tcpinfo_bytes_received(lws_get_socket_fd(wsi));
    arm(s, SOCK_REQUEST, s->gw->cfg.http_header_timeout_ms);
}

void gw_limits_established(struct lws *wsi, const gw_conn_t *c)
{
    gw_sock_t *s = sock_of(wsi);
    if (!s) return;
    s->conn_id = c->id;
    if (s->http) { /* lws has let its header table go */
        s->http = 0;
        s->gw->limits->n_http--;
    }
    arm(s, SOCK_HANDSHAKE, s->gw->cfg.handshake_timeout_ms);
}

void gw_limits_progress(struct lws *wsi, const gw_conn_t *c)
{
    gw_sock_t *s = sock_of(wsi);
    if (!s || (s->stage != SOCK_HANDSHAKE && s->stage != SOCK_AUTH)) return;
    if (c->state >= ST_AUTHED)
        trust(s);
    else if (s->stage == SOCK_HANDSHAKE && c->state == ST_HANDSHAKEN)
        arm(s, SOCK_AUTH, s->gw->cfg.auth_timeout_ms);
}

void gw_limits_closed_http(struct lws *wsi)
{
    gw_sock_t *s = sock_of(wsi);
    /* Taken on every close so that the flag never outlives its request. */
    if (http_header_overflow_take() && s) too_large(s, 0);
}

void gw_limits_detach(struct lws *wsi)
{
    gw_sock_t *s = sock_of(wsi);
    if (!s) return;
    gw_limits_t *L = s->gw->limits;
    lws_set_opaque_user_data(wsi, NULL);
    s->wsi = NULL;
    if (s->peer && --s->peer->conns == 0) {
        HASH_DEL(L->peers, s->peer);
        free(s->peer);
    }
    if (s->unauth) L->n_unauth--;
    if (s->http) L->n_http--;
    L->n_socks--;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, sock_closed);
}

void gw_limits_metrics(gw_t *gw, buf_t *b)
{
    gw_limits_t *L = gw->limits;
    buf_printf(b,
               "# HELP wod_gateway_sockets Accepted TCP connections open (HTTP and WebSocket).\n"
               "# TYPE wod_gateway_sockets gauge\nwod_gateway_sockets %u\n"
               "# HELP wod_gateway_unauth_connections Open connections not authenticated yet.\n"
               "# TYPE wod_gateway_unauth_connections gauge\n"
               "wod_gateway_unauth_connections %u\n"
               "# HELP wod_gateway_connections_refused_total Connections refused at accept "
               "(per_ip: MAX_CONNS_PER_IP, unauth: MAX_UNAUTH_CONNS, http_pending: 2048 "
               "sockets before their HTTP request).\n"
               "# TYPE wod_gateway_connections_refused_total counter\n",
               L->n_socks, L->n_unauth);
    for (int k = 0; k < REFUSED_KINDS; k++)
        buf_printf(b, "wod_gateway_connections_refused_total{reason=\"%s\"} %llu\n",
                   refused_names[k], L->refused[k]);
    buf_puts(b, "# HELP wod_gateway_stage_timeouts_total Connections closed for a missed "
                "deadline before authentication.\n"
                "# TYPE wod_gateway_stage_timeouts_total counter\n");
    for (int k = 0; k < TIMEOUT_KINDS; k++)
        buf_printf(b, "wod_gateway_stage_timeouts_total{stage=\"%s\"} %llu\n", timeout_names[k],
                   L->timeouts[k]);
    buf_printf(b,
               "# HELP wod_gateway_headers_too_large_total Requests with oversized headers "
               "(answered: 431; dropped: over lws's table, closed without an answer).\n"
               "# TYPE wod_gateway_headers_too_large_total counter\n"
               "wod_gateway_headers_too_large_total{result=\"answered\"} %llu\n"
               "wod_gateway_headers_too_large_total{result=\"dropped\"} %llu\n",
               L->headers_too_large[1], L->headers_too_large[0]);
}
