/* tail.h - the `bus-tail` operator command (see tail.c). */
#ifndef WOD_TOOLS_BUS_TAIL_H
#define WOD_TOOLS_BUS_TAIL_H

#include "../core/config.h"
#include "../game/zonedef.h"

/* Prints bus records until SIGINT. No channels: every zone's input and
 * gateway:output. Returns the process exit code. */
int bus_tail_main(const config_t *cfg, const zonedef_t *zones, int n_zones, int argc, char **argv);

#endif
