/* main.c - wod-bench: thousands of bot players in one process against a
 * wod-server gateway (or anything speaking the same /ws protocol).
 *
 *   wod-bench --url ws://127.0.0.1:3100/ws --clients 2000 --ramp 10 \
 *             --duration 20 --move-hz 2 --chat-hz 0.2 --json
 *
 * Timeline: bots connect evenly over --ramp seconds; once the ramp is over
 * and every bot has entered the world and walked to its spread point (at
 * most SETTLE_MAX_S more), the measured window of --duration seconds
 * opens; then every bot closes. Rates
 * and latency percentiles cover the measured window only. A progress line
 * goes to stderr each second, the result table to stdout and, with
 * --json, a last stdout line with the summary (docs/PERFORMANCE.md).
 *
 * The bots log in as guests, so a server must run with its per-address
 * account-creation limit lifted (AUTH_GUEST_PER_IP_MINUTE=0 and
 * AUTH_GUEST_PER_IP_HOUR=0, as scripts/bench.sh does) or with --sources
 * spreading the bots over enough addresses; otherwise bots past the limit
 * get auth_error RATE_LIMITED and count as failed.
 *
 * The summary also gives bytes received per bot per second (on the wire,
 * frame headers included), this process's CPU per 1,000 bots, and, with
 * --shout-hz / --travel, shout latency and border crossings.
 *
 * Limits: a single loop thread; when this process runs out of CPU the
 * latencies it reports include its own queueing (bench_cpu_pct in the
 * summary says how busy it was). */
#include "bench.h"
#include "bot.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define RAMP_TICK_MS       2    /* how often the ramp timer connects the bots due */
#define RAMP_MAX_PER_TICK  500  /* connects started per ramp tick at most */
#define DRAIN_MAX_MS       5000 /* time allowed for the closing handshakes */
#define DEFAULT_PER_SOURCE 25000
#define FD_RESERVE         64 /* descriptors kept for the loop and stdio */
#define SETTLE_MAX_S       60 /* longest wait after the ramp for bots to enter and spread */
#define SETTLE_POLL_MS     100

static bench_t g;
static bot_t *bots;
static uv_timer_t ramp_timer, progress_timer, end_timer;
static uv_signal_t sigint_h, sigterm_h;
static int next_bot;              /* next bot to connect */
static uint64_t end_at_us;        /* end of the measured window */
static uint64_t drain_started_us; /* when the close-down began, 0 before */
static int is_tty;

/* Snapshot of the counters at the start and the end of the measured window. */
typedef struct {
    uint64_t at_us, sent, recv, bytes, chats_sent, chats_heard, rosters, errors;
    uint64_t shouts_sent, shouts_heard, crossings, cross_failed;
    double cpu_s;
} snap_t;
static snap_t win_start, win_end, last_sec;
static uint64_t final_connected, final_failed, final_entered;

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static snap_t snapshot(void)
{
    snap_t s = {.at_us = bench_now_us(),
                .sent = g.st.msgs_sent,
                .recv = g.st.msgs_recv,
                .bytes = wsc_total_bytes_in(),
                .chats_sent = g.st.chats_sent,
                .chats_heard = g.st.chats_heard,
                .rosters = g.st.rosters,
                .errors = g.st.server_errors,
                .shouts_sent = g.st.shouts_sent,
                .shouts_heard = g.st.shouts_heard,
                .crossings = g.st.crossings,
                .cross_failed = g.st.cross_failed,
                .cpu_s = cpu_seconds()};
    return s;
}

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: wod-bench [options]\n"
               "  --url URL          ws://host:port/path of the server (ws://127.0.0.1:3100/ws)\n"
               "  --clients N        bot players (100)\n"
               "  --ramp S           seconds over which bots connect (5)\n"
               "  --duration S       measured seconds after the ramp (10)\n"
               "  --move-hz F        position moves per bot per second once spread (1)\n"
               "  --chat-hz F        say messages per bot per second (0.1)\n"
               "  --ping-hz F        pings per bot per second (0.2)\n"
               "  --shout-hz F       shout messages per bot per second (0); their latency is\n"
               "                     reported apart (shouts carry into adjacent zones)\n"
               "  --travel S         every S seconds on average a bot walks over a border of the\n"
               "                     seed world (zone-crossroads <-> zone-forest / zone-city)\n"
               "                     and roams on the other side (0 = never)\n"
               "  --spread FT        bots walk to a random point of an FT x FT square around\n"
               "                     the spawn, then roam inside it (150; 0 = stay in a crowd)\n"
               "  --step FT          length of one roaming move (2)\n"
               "  --update-rate HZ   capabilities.maxUpdateRate the bots announce (2, a text\n"
               "                     client's; 20 = every tick)\n"
               "  --encoding E       json (default) or compact: the bots ask for the compact\n"
               "                     roster encoding and decode every frame\n"
               "  --zone ID          informational: bots spawn where the server puts them\n"
               "  --sources N        spread connections over N source addresses 127.0.0.1..N\n"
               "                     (default: one per 25000 clients)\n"
               "  --auth-only        stop after guest auth: idle authenticated connections\n"
               "                     (no character, no moves, no chat; pings still go)\n"
               "  --json             print a JSON summary as the last stdout line\n"
               "  --quiet            no progress line\n");
}

static int parse_url(const char *url, bench_opts_t *o)
{
    const char *p = url;
    if (strncmp(p, "ws://", 5) == 0) {
        p += 5;
    } else if (strstr(p, "://")) {
        return -1; /* wss:// and the rest are not supported */
    }
    const char *host_end = p + strcspn(p, ":/");
    size_t hl = (size_t)(host_end - p);
    if (!hl || hl >= sizeof(o->host)) return -1;
    memcpy(o->host, p, hl);
    o->host[hl] = 0;
    o->port = 80;
    p = host_end;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (port <= 0 || port > 65535) return -1;
        o->port = (int)port;
        p = end;
    }
    snprintf(o->path, sizeof(o->path), "%s", *p == '/' ? p : "/");
    return 0;
}

static int parse_num(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "wod-bench: bad %s '%s' (expected %g..%g)\n", name, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, bench_opts_t *o)
{
    enum {
        O_URL = 1,
        O_CLIENTS,
        O_RAMP,
        O_DURATION,
        O_MOVE,
        O_CHAT,
        O_PING,
        O_SHOUT,
        O_TRAVEL,
        O_SPREAD,
        O_STEP,
        O_RATE,
        O_ZONE,
        O_SOURCES,
        O_JSON,
        O_ENCODING,
        O_QUIET,
        O_AUTH_ONLY,
        O_HELP
    };
    static const struct option lo[] = {
        {"url", required_argument, 0, O_URL},
        {"clients", required_argument, 0, O_CLIENTS},
        {"ramp", required_argument, 0, O_RAMP},
        {"duration", required_argument, 0, O_DURATION},
        {"move-hz", required_argument, 0, O_MOVE},
        {"chat-hz", required_argument, 0, O_CHAT},
        {"ping-hz", required_argument, 0, O_PING},
        {"shout-hz", required_argument, 0, O_SHOUT},
        {"travel", required_argument, 0, O_TRAVEL},
        {"spread", required_argument, 0, O_SPREAD},
        {"step", required_argument, 0, O_STEP},
        {"update-rate", required_argument, 0, O_RATE},
        {"zone", required_argument, 0, O_ZONE},
        {"sources", required_argument, 0, O_SOURCES},
        {"json", no_argument, 0, O_JSON},
        {"quiet", no_argument, 0, O_QUIET},
        {"auth-only", no_argument, 0, O_AUTH_ONLY},
        {"encoding", required_argument, 0, O_ENCODING},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    const char *url = "ws://127.0.0.1:3100/ws";
    double clients = 100, sources = 0;
    o->ramp_s = 5;
    o->duration_s = 10;
    o->move_hz = 1;
    o->chat_hz = 0.1;
    o->ping_hz = 0.2;
    o->spread_ft = 150;
    o->step_ft = 2;
    o->update_rate = 2;
    o->zone = "zone-crossroads";
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_URL:
            url = optarg;
            break;
        case O_CLIENTS:
            rc |= parse_num("--clients", optarg, 1, 1000000, &clients);
            break;
        case O_RAMP:
            rc |= parse_num("--ramp", optarg, 0, 3600, &o->ramp_s);
            break;
        case O_DURATION:
            rc |= parse_num("--duration", optarg, 0, 86400, &o->duration_s);
            break;
        case O_MOVE:
            rc |= parse_num("--move-hz", optarg, 0, 100, &o->move_hz);
            break;
        case O_CHAT:
            rc |= parse_num("--chat-hz", optarg, 0, 100, &o->chat_hz);
            break;
        case O_PING:
            rc |= parse_num("--ping-hz", optarg, 0, 100, &o->ping_hz);
            break;
        case O_SHOUT:
            rc |= parse_num("--shout-hz", optarg, 0, 100, &o->shout_hz);
            break;
        case O_TRAVEL:
            rc |= parse_num("--travel", optarg, 0, 86400, &o->travel_s);
            break;
        case O_SPREAD:
            rc |= parse_num("--spread", optarg, 0, 100000, &o->spread_ft);
            break;
        case O_STEP:
            rc |= parse_num("--step", optarg, 0.1, 20, &o->step_ft);
            break;
        case O_RATE:
            rc |= parse_num("--update-rate", optarg, 0, 1000, &o->update_rate);
            break;
        case O_ZONE:
            o->zone = optarg;
            break;
        case O_SOURCES:
            rc |= parse_num("--sources", optarg, 1, BENCH_MAX_SOURCES, &sources);
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_ENCODING:
            if (strcmp(optarg, "compact") == 0) {
                o->compact = 1;
            } else if (strcmp(optarg, "json") != 0) {
                fprintf(stderr, "wod-bench: --encoding must be json or compact\n");
                rc = -1;
            }
            break;
        case O_QUIET:
            o->quiet = 1;
            break;
        case O_AUTH_ONLY:
            o->auth_only = 1;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wod-bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (rc) return -1;
    if (parse_url(url, o) < 0) {
        fprintf(stderr, "wod-bench: bad --url '%s' (expected ws://host:port/path)\n", url);
        return -1;
    }
    o->clients = (int)clients;
    o->per_source = DEFAULT_PER_SOURCE;
    o->n_sources = sources > 0 ? (int)sources : (o->clients + o->per_source - 1) / o->per_source;
    if (o->n_sources > BENCH_MAX_SOURCES) o->n_sources = BENCH_MAX_SOURCES;
    return 0;
}

/* Raises RLIMIT_NOFILE to what the run needs, or as far as allowed. */
static void raise_fd_limit(int clients)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)clients + FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    if (rl.rlim_cur >= want) return;
    if (rl.rlim_max < want) {
        struct rlimit up = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) return;
    }
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        fprintf(stderr,
                "wod-bench: RLIMIT_NOFILE hard limit is %llu and may not be raised here; "
                "at most ~%llu clients can connect from this process\n",
                (unsigned long long)rl.rlim_max,
                (unsigned long long)(rl.rlim_max > FD_RESERVE ? rl.rlim_max - FD_RESERVE : 0));
}

/* ---- reporting ------------------------------------------------------------ */

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static void progress(void)
{
    snap_t now = snapshot();
    double dt = (double)(now.at_us - last_sec.at_us) / 1e6;
    if (dt <= 0) dt = 1;
    double t = (double)(now.at_us - g.start_us) / 1e6;
    char p99[32] = "-";
    if (g.st.chat_sec.count)
        snprintf(p99, sizeof(p99), "%.1f ms", ms(hist_percentile(&g.st.chat_sec, 99)));
    if (!g.opt.quiet)
        fprintf(stderr,
                "%s[%6.1fs] connected %llu/%d failed %llu | out %.0f/s in %.0f/s | chat p99 %s "
                "(n=%llu)%s",
                is_tty ? "\r" : "", t, (unsigned long long)g.st.in_world, g.opt.clients,
                (unsigned long long)g.st.failed, (double)(now.sent - last_sec.sent) / dt,
                (double)(now.recv - last_sec.recv) / dt, p99,
                (unsigned long long)g.st.chat_sec.count, is_tty ? "\033[K" : "\n");
    hist_reset(&g.st.chat_sec);
    last_sec = now;
}

static void json_hist(FILE *f, const char *key, const hist_t *h)
{
    fprintf(f, "\"%s\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"samples\":%llu}", key,
            ms(hist_percentile(h, 50)), ms(hist_percentile(h, 90)), ms(hist_percentile(h, 99)),
            ms(hist_percentile(h, 100)), (unsigned long long)h->count);
}

static void table_hist(const char *label, const hist_t *h)
{
    if (!h->count) {
        printf("  %-22s %9s %9s %9s %9s %10s\n", label, "-", "-", "-", "-", "0");
        return;
    }
    printf("  %-22s %9.2f %9.2f %9.2f %9.2f %10llu\n", label, ms(hist_percentile(h, 50)),
           ms(hist_percentile(h, 90)), ms(hist_percentile(h, 99)), ms(hist_percentile(h, 100)),
           (unsigned long long)h->count);
}

static void report(void)
{
    const bench_opts_t *o = &g.opt;
    double win = (double)(win_end.at_us - win_start.at_us) / 1e6;
    if (win <= 0) win = 1e-9;
    double sent_s = (double)(win_end.sent - win_start.sent) / win;
    double recv_s = (double)(win_end.recv - win_start.recv) / win;
    double mb_s = (double)(win_end.bytes - win_start.bytes) / win / 1e6;
    double rost_s = (double)(win_end.rosters - win_start.rosters) / win;
    double cpu = (win_end.cpu_s - win_start.cpu_s) / win * 100.0;
    uint64_t chats_sent = win_end.chats_sent - win_start.chats_sent;
    uint64_t chats_heard = win_end.chats_heard - win_start.chats_heard;
    uint64_t errors = win_end.errors - win_start.errors;
    uint64_t shouts_sent = win_end.shouts_sent - win_start.shouts_sent;
    uint64_t shouts_heard = win_end.shouts_heard - win_start.shouts_heard;
    uint64_t crossings = win_end.crossings - win_start.crossings;
    uint64_t cross_failed = win_end.cross_failed - win_start.cross_failed;
    /* bytes per player: wire bytes (frame headers included) per connected bot */
    double bytes_bot_s =
        final_connected ? (double)(win_end.bytes - win_start.bytes) / win / (double)final_connected
                        : 0;
    double cpu_per_1000 = final_connected ? cpu / (double)final_connected * 1000.0 : 0;
    if (!is_tty && !o->quiet) fflush(stderr);
    printf("\nwod-bench: %d clients -> ws://%s:%d%s, ramp %.1f s, settled at %.1f s, measured "
           "%.1f s\n",
           o->clients, o->host, o->port, o->path, o->ramp_s, g.settle_s, win);
    printf("  move %.2f Hz, chat %.2f Hz (say), ping %.2f Hz, spread %.0f ft, step %.1f ft, "
           "maxUpdateRate %g, zone %s, sources %d\n",
           o->move_hz, o->chat_hz, o->ping_hz, o->spread_ft, o->step_ft, o->update_rate, o->zone,
           o->n_sources);
    printf("  %-22s %llu\n", "clients connected", (unsigned long long)final_connected);
    printf("  %-22s %llu\n", "clients failed", (unsigned long long)final_failed);
    printf("  %-22s %.0f\n", "msgs sent/s", sent_s);
    printf("  %-22s %.0f (%.1f MB/s, %.0f rosters/s)\n", "msgs received/s", recv_s, mb_s, rost_s);
    printf("  %-22s %.0f B/s\n", "received per bot", bytes_bot_s);
    printf("  %-22s %llu sent, %llu heard by other bots\n", "chats", (unsigned long long)chats_sent,
           (unsigned long long)chats_heard);
    if (o->shout_hz > 0)
        printf("  %-22s %llu sent, %llu heard by other bots\n", "shouts",
               (unsigned long long)shouts_sent, (unsigned long long)shouts_heard);
    if (o->travel_s > 0)
        printf("  %-22s %llu (%llu border steps without state_update)\n", "border crossings",
               (unsigned long long)crossings, (unsigned long long)cross_failed);
    printf("  %-22s %llu\n", "server errors", (unsigned long long)errors);
    if (o->compact)
        printf("  %-22s %llu records decoded, %llu frames that did not decode\n", "compact",
               (unsigned long long)g.st.compact_recs, (unsigned long long)g.st.compact_bad);
    printf("  %-22s %.0f%% of one core (%.1f%% per 1,000 bots)\n", "bench CPU", cpu, cpu_per_1000);
    printf("  %-22s %9s %9s %9s %9s %10s\n", "latency (ms)", "p50", "p90", "p99", "max", "samples");
    table_hist("chat sent -> heard", &g.st.chat);
    table_hist("move -> own roster", &g.st.move);
    table_hist("ping -> pong", &g.st.ping);
    if (o->shout_hz > 0) table_hist("shout sent -> heard", &g.st.shout);
    if (g.last_error[0]) printf("  last error: %s\n", g.last_error);
    if (o->json) {
        printf("{\"clients_connected\":%llu,\"clients_failed\":%llu,\"msgs_sent_per_s\":%.1f,"
               "\"msgs_recv_per_s\":%.1f,",
               (unsigned long long)final_connected, (unsigned long long)final_failed, sent_s,
               recv_s);
        json_hist(stdout, "latency_ms", &g.st.chat);
        putchar(',');
        json_hist(stdout, "move_roster_ms", &g.st.move);
        putchar(',');
        json_hist(stdout, "ping_ms", &g.st.ping);
        putchar(',');
        json_hist(stdout, "shout_ms", &g.st.shout);
        printf(",\"clients\":%d,\"clients_entered\":%llu,\"settle_s\":%.3f,\"duration_s\":%.3f,"
               "\"msgs_sent\":%llu,"
               "\"msgs_recv\":%llu,\"recv_mb_per_s\":%.3f,\"rosters_per_s\":%.1f,"
               "\"chats_sent\":%llu,\"chats_heard\":%llu,\"server_errors\":%llu,"
               "\"shouts_sent\":%llu,\"shouts_heard\":%llu,\"crossings\":%llu,"
               "\"cross_failed\":%llu,\"update_rate\":%g,\"recv_bytes_per_bot_s\":%.1f,"
               "\"bench_cpu_pct\":%.1f,\"bench_cpu_pct_per_1000_bots\":%.2f,"
               "\"encoding\":\"%s\",\"compact_bad_frames\":%llu}\n",
               o->clients, (unsigned long long)final_entered, g.settle_s, win,
               (unsigned long long)(win_end.sent - win_start.sent),
               (unsigned long long)(win_end.recv - win_start.recv), mb_s, rost_s,
               (unsigned long long)chats_sent, (unsigned long long)chats_heard,
               (unsigned long long)errors, (unsigned long long)shouts_sent,
               (unsigned long long)shouts_heard, (unsigned long long)crossings,
               (unsigned long long)cross_failed, o->update_rate, bytes_bot_s, cpu, cpu_per_1000,
               o->compact ? "compact" : "json", (unsigned long long)g.st.compact_bad);
    }
    fflush(stdout);
}

/* ---- run phases ------------------------------------------------------------ */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void handles_closed(void)
{
    uv_stop(g.loop);
}

static void teardown(void)
{
    uv_timer_stop(&end_timer);
    close_handle((uv_handle_t *)&ramp_timer);
    close_handle((uv_handle_t *)&progress_timer);
    close_handle((uv_handle_t *)&end_timer);
    close_handle((uv_handle_t *)&sigint_h);
    close_handle((uv_handle_t *)&sigterm_h);
    bots_close_handles(bots, g.opt.clients, handles_closed);
}

static void on_end(uv_timer_t *t);

static void on_drain(uv_timer_t *t)
{
    (void)t;
    if (g.st.open && bench_now_us() - drain_started_us < DRAIN_MAX_MS * 1000ull) return;
    teardown();
}

/* End of the measured window (or an interrupt): count, report, close. */
static void finish(void)
{
    if (g.stopping) return;
    win_end = snapshot();
    g.measuring = 0;
    if (!win_start.at_us) win_start = win_end;
    final_connected = g.st.in_world;
    final_entered = g.st.entered;
    final_failed = (uint64_t)g.opt.clients - final_connected;
    if (!g.opt.quiet && is_tty) fputc('\n', stderr);
    report();
    g.stopping = 1;
    uv_timer_stop(&ramp_timer);
    uv_timer_stop(&progress_timer);
    bots_close_all(bots, g.opt.clients);
    drain_started_us = bench_now_us();
    uv_timer_start(&end_timer, on_drain, 20, 20);
}

/* Re-arms the end timer for `at`; libuv's cached loop time can fire a
 * timer up to a millisecond early, so callers allow that much slack. */
static void end_timer_at(uint64_t at, uint64_t now)
{
    uv_timer_start(&end_timer, on_end, at > now ? (at - now + 999) / 1000 : 0, 0);
}

/* 1 while bots are still connecting, entering or spreading out. */
static int settling(void)
{
    return next_bot < g.opt.clients || g.st.connecting || g.st.open > g.st.in_world ||
           g.st.spreading;
}

static void on_end(uv_timer_t *t)
{
    (void)t;
    uint64_t now = bench_now_us();
    if (!g.measuring && !win_start.at_us) {
        uint64_t ramp_end = g.start_us + (uint64_t)(g.opt.ramp_s * 1e6);
        if (now + 1000 < ramp_end) {
            end_timer_at(ramp_end, now);
            return;
        }
        /* the window opens once the crowd has formed (bounded wait) */
        if (settling() && now < ramp_end + SETTLE_MAX_S * 1000000ull) {
            end_timer_at(now + SETTLE_POLL_MS * 1000ull, now);
            return;
        }
        g.settle_s = (double)(now - g.start_us) / 1e6;
        end_at_us = now + (uint64_t)(g.opt.duration_s * 1e6);
        win_start = snapshot();
        g.measuring = 1;
        hist_reset(&g.st.chat);
        hist_reset(&g.st.move);
        hist_reset(&g.st.ping);
        hist_reset(&g.st.shout);
        if (!g.opt.quiet)
            fprintf(stderr, "%swod-bench: crowd formed after %.1f s; measuring %.0f s%s",
                    is_tty ? "\r" : "", g.settle_s, g.opt.duration_s, is_tty ? "\033[K\n" : "\n");
    }
    if (now + 1000 < end_at_us) {
        end_timer_at(end_at_us, now);
        return;
    }
    finish();
}

static void on_ramp(uv_timer_t *t)
{
    (void)t;
    uint64_t now = bench_now_us(), elapsed = now - g.start_us;
    int n = g.opt.clients, started = 0;
    while (next_bot < n && started < RAMP_MAX_PER_TICK) {
        uint64_t due = (uint64_t)(g.opt.ramp_s * 1e6 * (double)next_bot / (double)n);
        if (due > elapsed) break;
        bot_connect(bots, next_bot++);
        started++;
    }
    if (next_bot >= n) uv_timer_stop(&ramp_timer);
}

static void on_progress(uv_timer_t *t)
{
    (void)t;
    progress();
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    if (g.stopping) {
        teardown();
        return;
    }
    fprintf(stderr, "\nwod-bench: interrupted; reporting what was measured\n");
    finish();
}

/* Resolves --url's host (IPv4) and builds the source addresses. */
static int resolve(bench_t *b)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(b->opt.host, NULL, &hints, &ai);
    if (rc != 0 || !ai) {
        fprintf(stderr, "wod-bench: cannot resolve '%s': %s\n", b->opt.host, gai_strerror(rc));
        return -1;
    }
    memcpy(&b->dst, ai->ai_addr, sizeof(b->dst));
    b->dst.sin_port = htons((uint16_t)b->opt.port);
    freeaddrinfo(ai);
    snprintf(b->host_hdr, sizeof(b->host_hdr), "%s:%d", b->opt.host, b->opt.port);
    for (int i = 0; i < b->opt.n_sources; i++) {
        b->src[i].sin_family = AF_INET;
        b->src[i].sin_port = 0;
        b->src[i].sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)((i + 1) & 0xff));
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv, &g.opt) < 0) return 2;
    is_tty = isatty(2);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(g.opt.clients);
    srand((unsigned)(time(NULL) ^ getpid()));
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 4; i++)
        g.run_tag[i] = digits[rand() % (i == 0 ? 26 : 36)];

    g.loop = uv_default_loop();
    if (resolve(&g) < 0) return 2;
    bots = bots_new(&g, g.opt.clients);
    g.start_us = bench_now_us();
    last_sec = snapshot();
    end_at_us = g.start_us + (uint64_t)((g.opt.ramp_s + g.opt.duration_s) * 1e6);

    uv_timer_init(g.loop, &ramp_timer);
    uv_timer_init(g.loop, &progress_timer);
    uv_timer_init(g.loop, &end_timer);
    uv_signal_init(g.loop, &sigint_h);
    uv_signal_init(g.loop, &sigterm_h);
    uv_signal_start(&sigint_h, on_signal, SIGINT);
    uv_signal_start(&sigterm_h, on_signal, SIGTERM);
    uv_timer_start(&ramp_timer, on_ramp, 0, RAMP_TICK_MS);
    uv_timer_start(&progress_timer, on_progress, 1000, 1000);
    uv_timer_start(&end_timer, on_end, (uint64_t)(g.opt.ramp_s * 1000), 0);
    if (!g.opt.quiet)
        fprintf(stderr, "wod-bench: %d clients -> ws://%s:%d%s (ramp %.0f s, duration %.0f s)\n",
                g.opt.clients, g.opt.host, g.opt.port, g.opt.path, g.opt.ramp_s, g.opt.duration_s);

    uv_run(g.loop, UV_RUN_DEFAULT);
    uv_run(g.loop, UV_RUN_NOWAIT); /* the close callbacks of the last handles */
    bots_free(bots, g.opt.clients);
    uv_loop_close(g.loop);
    return final_connected ? 0 : 3;
}
