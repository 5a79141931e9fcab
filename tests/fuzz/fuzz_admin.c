/* libFuzzer target: what the gateway parses of untrusted text for the web
 * client and the admin console: request paths (static files, the zone of
 * /api/admin/zones/{id}/entities), the Authorization header and bus
 * channel names (zone:{id}:broadcast). */
#include "bus/channel.h"
#include "gateway/gw.h"
#include "gateway/static.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char zone[ZONE_ID_MAX + 1];
    if (gw_admin_zone_path(s, zone, sizeof(zone)) == 0 && strlen(zone) > ZONE_ID_MAX) abort();
    if (bus_channel_zone_of(s, BUS_ZONE_BROADCAST, zone, sizeof(zone)) == 0 && !zone[0]) abort();
    if (bus_channel_zone_of(s, BUS_ZONE_INPUT, zone, sizeof(zone)) == 0 && !zone[0]) abort();
    const char *tok = gw_admin_bearer(s);
    if (*tok && (tok < s || tok > s + size)) abort();
    const web_asset_t *a = web_asset_find(s);
    if (a && !a->content_type) abort();
    free(s);
    return 0;
}
