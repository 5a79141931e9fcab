/* bench.h - shared state of one wod-bench run: the options, the counters
 * and the latency histograms that bots (bot.c) feed and main.c reports.
 *
 * wod-bench is single-threaded (one libuv loop drives every bot socket and
 * timer), so the counters are plain integers. */
#ifndef WOD_BENCH_BENCH_H
#define WOD_BENCH_BENCH_H
#include "hist.h"

#include <netinet/in.h>
#include <stdint.h>
#include <uv.h>

#define BENCH_MAX_SOURCES 64 /* 127.0.0.x source addresses at most */

typedef struct bench_opts_s {
    char host[256];     /* from --url */
    int port;           /* from --url */
    char path[256];     /* from --url */
    int clients;        /* --clients */
    double ramp_s;      /* --ramp: connects are spread evenly over it */
    double duration_s;  /* --duration: measured time after the ramp */
    double move_hz;     /* --move-hz: moves per bot per second once spread */
    double chat_hz;     /* --chat-hz: say messages per bot per second */
    double ping_hz;     /* --ping-hz: pings per bot per second */
    double shout_hz;    /* --shout-hz: shout messages per bot per second */
    double travel_s;    /* --travel: mean seconds between a bot's border crossings (0 = none) */
    double spread_ft;   /* --spread: side of the square bots spread over */
    double step_ft;     /* --step: length of one roaming position move */
    double update_rate; /* --update-rate: capabilities.maxUpdateRate */
    const char *zone;   /* --zone: informational */
    int json;           /* --json: last stdout line is a JSON summary */
    int auth_only;      /* --auth-only: stop after auth_success (idle connections) */
    int compact;        /* --encoding compact: capabilities.encoding "compact" */
    int quiet;          /* --quiet: no live progress line */
    int per_source;     /* --per-source: connections per source address */
    int n_sources;      /* source addresses in use (1 = let the kernel pick) */
} bench_opts_t;

/* Counters: totals since start; main.c takes differences for rates. */
typedef struct bench_stats_s {
    uint64_t connecting;    /* bots with a connect in progress */
    uint64_t open;          /* bots with an open WebSocket */
    uint64_t in_world;      /* bots that are in the world right now */
    uint64_t entered;       /* bots that ever reached world_entry */
    uint64_t spreading;     /* bots still walking to their spread point */
    uint64_t failed;        /* bots that failed or were disconnected early */
    uint64_t msgs_sent;     /* frames sent */
    uint64_t msgs_recv;     /* whole messages received */
    uint64_t chats_sent;    /* say messages sent */
    uint64_t chats_heard;   /* bench chats heard by a bot other than the sender */
    uint64_t shouts_sent;   /* shout messages sent */
    uint64_t shouts_heard;  /* bench shouts heard by a bot other than the sender */
    uint64_t crossings;     /* border crossings confirmed by state_update */
    uint64_t cross_failed;  /* border steps without a state_update */
    uint64_t rosters;       /* proximity_roster(_delta) received */
    uint64_t server_errors; /* `error` messages received */
    uint64_t compact_bad;   /* compact frames that did not decode */
    uint64_t compact_recs;  /* compact records decoded */
    hist_t chat;            /* chat sent -> heard by another bot, us (measured window) */
    hist_t move;            /* move sent -> next own roster delta, us */
    hist_t ping;            /* ping sent -> pong, us */
    hist_t shout;           /* shout sent -> heard by another bot, us (measured window) */
    hist_t chat_sec;        /* chat latency of the current second (progress line) */
} bench_stats_t;

/* Everything a run shares; one instance, owned by main.c. */
typedef struct bench_s {
    bench_opts_t opt;
    bench_stats_t st;
    uv_loop_t *loop;
    struct sockaddr_in dst;                    /* --url's address */
    struct sockaddr_in src[BENCH_MAX_SOURCES]; /* source addresses */
    char host_hdr[300];                        /* "host:port" for the Host header */
    uint64_t start_us;                         /* monotonic start of the run */
    int measuring;                             /* 1 inside the measured window */
    double settle_s;                           /* when the crowd had formed (s since start) */
    int stopping;                              /* 1 once the run is over: bots stop acting */
    char run_tag[8];      /* random tag that keeps character names unique per run */
    char last_error[200]; /* most recent server `error` payload, for the report */
} bench_t;

/* Monotonic microseconds. */
static inline uint64_t bench_now_us(void)
{
    return uv_hrtime() / 1000;
}

#endif
