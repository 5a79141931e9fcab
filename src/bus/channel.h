/* channel.h - the one place bus channel names are built and read.
 *
 *   zone:{id}:input       gateways and zones -> the zone's owner
 *   zone:{id}:broadcast   admin announcements -> every gateway with players there
 *   gateway:{id}:output   zone servers -> one gateway
 *   gateway:output        a gateway -> every gateway (world chat, whispers, admin kicks)
 */
#ifndef WOD_BUS_CHANNEL_H
#define WOD_BUS_CHANNEL_H

#include <stddef.h>

#define BUS_CHANNEL_MAX      128              /* a buffer for any channel name */
#define BUS_CHANNEL_GATEWAYS "gateway:output" /* every gateway */

typedef enum { BUS_ZONE_INPUT, BUS_ZONE_BROADCAST } bus_zone_channel_t;

/* Each writes the channel name into out (cap bytes): its length, or -1 if
 * it does not fit (out is then ""). */
int bus_channel_zone(char *out, size_t cap, bus_zone_channel_t kind, const char *zone);
int bus_channel_gateway(char *out, size_t cap, const char *gateway);

/* The zone id of a "zone:{id}:input" / "zone:{id}:broadcast" channel into
 * zone (cap bytes): 0, or -1 if channel is not of that kind, the id is
 * empty or does not fit. Safe on any string (tests/fuzz/fuzz_admin.c). */
int bus_channel_zone_of(const char *channel, bus_zone_channel_t kind, char *zone, size_t cap);

#endif
