/* main.c - role dispatch: `wod-server all|gateway|zone`.
 *
 *   all      gateway + every zone in one process, in-process bus, SQLite
 *   gateway  client connections and HTTP API, Redis bus
 *   zone     game logic for ASSIGNED_ZONES, Redis bus
 *
 * Configuration comes from the environment and ./.env (docs in
 * .env.example). SIGINT/SIGTERM stop gracefully: clients are told,
 * characters saved, zone claims released, exit code 0. */
#include "tools/announce.h"
#include "tools/bus_tail.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "net/http.h"
#include "store/store.h"
#include "zone/http.h"
#include "zone/server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#define SHUTDOWN_GRACE_MS 300  /* lets goodbye frames and LEAVE records go out */
#define SHUTDOWN_LIMIT_MS 5000 /* exit even if a handle refuses to close */

typedef enum { ROLE_ALL, ROLE_GATEWAY, ROLE_ZONE, ROLE_BUS_TAIL, ROLE_ANNOUNCE } role_t;

typedef struct app_s {
    uv_loop_t *loop;
    config_t cfg;
    role_t role;
    store_t *store;
    registry_t *registry;
    bus_hub_t *hub;
    bus_t *gw_bus, *zs_bus;
    gw_t *gw;
    zs_t *zs;
    zs_http_t *zs_http;
    uv_signal_t sigint, sigterm;
    uv_timer_t grace;
    int stopping;
} app_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: wod-server [all|gateway|zone]\n"
               "  all      gateway + all zones in one process (default; SQLite, no services)\n"
               "  gateway  client connections + HTTP API over Redis (REDIS_URL)\n"
               "  zone     game logic for ASSIGNED_ZONES over Redis\n"
               "  bus-tail [CHANNEL...]  print bus traffic on REDIS_URL as text\n"
               "  announce ZONE TEXT     an admin announcement to ZONE's players over REDIS_URL\n"
               "Configuration: environment variables and ./.env; see .env.example.\n");
}

static void on_grace(uv_timer_t *t)
{
    app_t *app = container_of(t, app_t, grace);
    if (app->zs) zs_shutdown(app->zs);
    if (store_pending() > 0 && app->stopping < 20) {
        /* wait for in-flight saves and auth jobs (at most ~2 s) */
        app->stopping++;
        uv_timer_start(&app->grace, on_grace, 100, 0);
        return;
    }
    if (app->gw) gw_stop(app->gw);
    zs_http_stop(app->zs_http);
    if (app->zs) zs_free(app->zs);
    if (app->gw_bus) bus_close(app->gw_bus);
    if (app->zs_bus) bus_close(app->zs_bus);
    if (app->hub) bus_hub_free(app->hub);
    registry_close(app->registry);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_close((uv_handle_t *)&app->grace, NULL);
    app->zs = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
    app_t *app = s->data;
    if (app->stopping) return;
    app->stopping = 1;
    log_info("main", "%s received: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (app->gw) gw_begin_shutdown(app->gw);
    uv_timer_start(&app->grace, on_grace, SHUTDOWN_GRACE_MS, 0);
}

static void force_exit(uv_timer_t *t)
{
    (void)t;
    log_warn("main", "shutdown took too long; exiting");
    exit(0);
}

/* A listener could not start: release what was made so far (sanitizer
 * builds check for leaks at exit) without running the loop again. */
static int start_failed(app_t *app, zonedef_t *zones, int code)
{
    if (app->registry) registry_close(app->registry);
    free(zones);
    store_close(app->store);
    return code;
}

int main(int argc, char **argv)
{
    app_t app;
    memset(&app, 0, sizeof(app));
    const char *role = argc > 1 ? argv[1] : "all";
    if (!strcmp(role, "-h") || !strcmp(role, "--help") || !strcmp(role, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(role, "all"))
        app.role = ROLE_ALL;
    else if (!strcmp(role, "gateway"))
        app.role = ROLE_GATEWAY;
    else if (!strcmp(role, "zone"))
        app.role = ROLE_ZONE;
    else if (!strcmp(role, "bus-tail"))
        app.role = ROLE_BUS_TAIL;
    else if (!strcmp(role, "announce")) {
        app.role = ROLE_ANNOUNCE;
        if (announce_check_args(argc - 2, argv + 2)) return 2;
    } else {
        fprintf(stderr, "wod-server: unknown role '%s'\n", role);
        usage(stderr);
        return 2;
    }
    char err[256];
    if (config_load(&app.cfg, ".env", err, sizeof(err)) < 0) {
        fprintf(stderr, "wod-server: config error: %s\n", err);
        return 2;
    }
    /* announce answers in one line: no per-retry connection warnings */
    log_setup(app.role == ROLE_ANNOUNCE ? LOG_ERROR : (log_level_t)app.cfg.log_level,
              app.cfg.log_json, app.cfg.server_id);
    signal(SIGPIPE, SIG_IGN);
    if (auth_init() < 0) {
        log_error("main", "libsodium failed to initialise");
        return 1;
    }
    if (store_open_replicas(app.cfg.database_url, app.cfg.database_replica_urls, &app.store) !=
        STORE_OK) {
        log_error("main", "cannot open the database %s", app.cfg.database_url);
        return 1;
    }
    zonedef_t *zones = NULL;
    int n_zones = 0;
    if (store_zones_load(app.store, &zones, &n_zones) != STORE_OK || n_zones == 0) {
        log_error("main", "no zones in the database");
        return 1;
    }
    if (app.role == ROLE_BUS_TAIL || app.role == ROLE_ANNOUNCE) {
        int rc = app.role == ROLE_ANNOUNCE
                     ? announce_main(&app.cfg, zones, n_zones, argc - 2, argv + 2)
                     : bus_tail_main(&app.cfg, zones, n_zones, argc - 2, argv + 2);
        free(zones);
        store_close(app.store);
        return rc;
    }
    app.loop = uv_default_loop();
    /* Listeners first: a port that cannot be bound ends the process before
     * it claims zones or joins the cluster. */
    int lerr = 0;
    if (app.role == ROLE_ZONE) lerr = zs_http_start(app.loop, &app.cfg, &app.zs_http);
    if (lerr) return start_failed(&app, zones, http_listen_exit_code(lerr));
    if (app.role == ROLE_ALL) {
        app.registry = registry_local_new(app.loop, app.cfg.server_id);
    } else {
        app.registry = registry_redis_new(app.loop, app.cfg.redis_url, app.cfg.server_id);
        if (!app.registry) return 1;
    }
    if (app.role != ROLE_ZONE) {
        gw_options_t go = {&app.cfg, app.store, app.registry, zones, n_zones, app.role == ROLE_ALL};
        lerr = gw_new(app.loop, &go, &app.gw);
        if (lerr) return start_failed(&app, zones, http_listen_exit_code(lerr));
        if (app.role == ROLE_ALL) app.hub = bus_hub_new(app.loop);
        app.gw_bus =
            app.hub ? bus_local_new(app.hub, gw_bus_msg, gw_bus_state, app.gw)
                    : bus_redis_new(app.loop, app.cfg.redis_url, gw_bus_msg, gw_bus_state, app.gw);
        gw_attach_bus(app.gw, app.gw_bus);
    }
    if (app.role != ROLE_GATEWAY) {
        static gamedata_t data; /* large: not on the stack */
        if (app.store->ops->gamedata_load(app.store, &data) != STORE_OK) {
            log_error("main", "cannot load abilities and items from the database");
            return 1;
        }
        zs_options_t zo = {&app.cfg, app.store, app.registry, zones, n_zones, app.role == ROLE_ALL,
                           &data};
        app.zs = zs_new(app.loop, &zo);
        app.zs_bus =
            app.hub ? bus_local_new(app.hub, zs_bus_msg, zs_bus_state, app.zs)
                    : bus_redis_new(app.loop, app.cfg.redis_url, zs_bus_msg, zs_bus_state, app.zs);
        zs_attach_bus(app.zs, app.zs_bus);
        zs_http_attach(app.zs_http, app.zs);
    }
    free(zones);
    uv_signal_init(app.loop, &app.sigint);
    uv_signal_init(app.loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    uv_timer_init(app.loop, &app.grace);
    log_info("main", "wod-server %s started (tick %d Hz, %d zones in the world, store %s)", role,
             app.cfg.tick_rate, n_zones, app.store->kind);

    uv_run(app.loop, UV_RUN_DEFAULT);

    /* Handles that outlive the close sequence (libraries' own) get a deadline. */
    uv_timer_t deadline;
    uv_timer_init(app.loop, &deadline);
    uv_timer_start(&deadline, force_exit, SHUTDOWN_LIMIT_MS, 0);
    uv_unref((uv_handle_t *)&deadline);
    uv_run(app.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(app.loop, UV_RUN_NOWAIT);
    if (app.gw) gw_free(app.gw);
    zs_http_free(app.zs_http);
    store_close(app.store);
    uv_loop_close(app.loop);
    log_info("main", "stopped");
    return 0;
}
