/* announce.h - the `announce` operator command (see announce.c). */
#ifndef WOD_TOOLS_ANNOUNCE_H
#define WOD_TOOLS_ANNOUNCE_H

#include "../core/config.h"
#include "../game/zonedef.h"

/* Checks `ZONE TEXT` (argv[0..argc)) before anything is opened: 0, or
 * prints one line and returns 2. */
int announce_check_args(int argc, char **argv);

/* Publishes the announcement on REDIS_URL and waits until it comes back
 * on the zone's broadcast channel. Returns the process exit code: 0 sent
 * and acknowledged, 1 no Redis or not acknowledged in time, 2 unknown
 * zone or a bad REDIS_URL. */
int announce_main(const config_t *cfg, const zonedef_t *zones, int n_zones, int argc, char **argv);

#endif
