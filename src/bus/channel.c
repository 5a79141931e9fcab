/* channel.c - see channel.h. */
#include "channel.h"
#include "../core/str.h"

#include <stdio.h>
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

int bus_channel_cluster_name(const char *seed, char *out, size_t cap)
{
    /* zone:X:input, zone:X:broadcast, gateway:X:output -> the id tagged. */
    static const char *const shapes[][2] = {
        {"zone:", ":input"}, {"zone:", ":broadcast"}, {"gateway:", ":output"}};
    size_t len = strlen(seed);
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        size_t pl = strlen(shapes[i][0]), sl = strlen(shapes[i][1]);
        if (len <= pl + sl || strncmp(seed, shapes[i][0], pl) != 0 ||
            strcmp(seed + len - sl, shapes[i][1]) != 0)
            continue;
        int n = snprintf(out, cap, "%s{%.*s}%s", shapes[i][0], (int)(len - pl - sl), seed + pl,
                         shapes[i][1]);
        return n < 0 || (size_t)n >= cap ? -1 : 0;
    }
    /* gateway:output (every gateway) and anything else: unchanged. */
    int n = snprintf(out, cap, "%s", seed);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
