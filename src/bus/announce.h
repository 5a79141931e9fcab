/* announce.h - the admin announcement record, built in one place for the
 * admin console (gateway/admin.c) and `wod-server announce` (tools/announce.c). */
#ifndef WOD_BUS_ANNOUNCE_H
#define WOD_BUS_ANNOUNCE_H

#include "envelope.h"

#define BUS_ANNOUNCE_MAX 500 /* message length in bytes */

/* Fills r as the BROADCAST record announcing message in zone (an
 * `announcement` event, docs/PROTOCOL.md) and returns its JSON payload,
 * which r points into: the caller frees it after publishing. */
char *bus_announcement(env_rec_t *r, const char *zone, const char *message);

#endif
