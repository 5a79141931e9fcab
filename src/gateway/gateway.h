/* gateway.h - the gateway role: every client WebSocket, authentication,
 * routing to zone servers over the bus, and the HTTP API.
 *
 * Clients speak the protocol of docs/PROTOCOL.md on /ws (native JSON
 * frames) or /socket.io/ (Engine.IO v4 + Socket.IO v5). Both framings
 * feed one dispatcher (session.c). */
#ifndef WOD_GATEWAY_H
#define WOD_GATEWAY_H

#include "../bus/bus.h"
#include "../core/config.h"
#include "../game/zonedef.h"
#include "../registry/registry.h"
#include "../store/store.h"

#include <uv.h>

typedef struct gw_s gw_t;

typedef struct gw_options_s {
    const config_t *cfg;
    store_t *store;       /* borrowed */
    registry_t *registry; /* borrowed */
    const zonedef_t *zones;
    int n_zones;
    int role_all; /* `wod-server all`: /health reports type "all", no own heartbeat */
} gw_options_t;

/* Starts listening on cfg->gateway_port. The bus is created by the caller
 * with gw_bus_msg / gw_bus_state as callbacks and `gw` as ud; see
 * gw_attach_bus. Returns 0, or an errno if the port cannot be bound
 * (logged; http_listen_exit_code() maps it to the exit code). */
int gw_new(uv_loop_t *loop, const gw_options_t *opt, gw_t **out);
void gw_attach_bus(gw_t *gw, bus_t *bus);
void gw_bus_msg(void *ud, const char *channel, const char *data, size_t len);
void gw_bus_state(void *ud, int up);

/* Graceful stop, step 1: refuse new connections, tell every client the
 * server is shutting down, take their characters out of the world (their
 * zones save them). */
void gw_begin_shutdown(gw_t *gw);
/* Step 2: close the listener and the gateway's handles (the loop must run
 * afterwards so they finish closing). */
void gw_stop(gw_t *gw);
/* Step 3, after the loop has returned: frees everything. */
void gw_free(gw_t *gw);

#endif
