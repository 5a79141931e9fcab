/* channel.c - see channel.h. */
#include "channel.h"
#include "../core/str.h"

#include <string.h>

static const char *const zone_suffix[] = {":input", ":broadcast"};

int bus_channel_zone(char *out, size_t cap, bus_zone_channel_t kind, const char *zone)
{
    return str_fmt(out, cap, "zone:%s%s", zone, zone_suffix[kind]);
}

int bus_channel_gateway(char *out, size_t cap, const char *gateway)
{
    return str_fmt(out, cap, "gateway:%s:output", gateway);
}

int bus_channel_zone_of(const char *channel, bus_zone_channel_t kind, char *zone, size_t cap)
{
    const char *suffix = zone_suffix[kind];
    size_t n = strlen(channel), sl = strlen(suffix);
    if (strncmp(channel, "zone:", 5) != 0 || n <= 5 + sl || strcmp(channel + n - sl, suffix) != 0)
        return -1;
    return str_fmt(zone, cap, "%.*s", (int)(n - 5 - sl), channel + 5) < 0 ? -1 : 0;
}
