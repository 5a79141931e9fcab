/* announce.c - the admin announcement record (see announce.h). */
#include "announce.h"
#include "../core/clock.h"

#include <jansson.h>
#include <string.h>

char *bus_announcement(env_rec_t *r, const char *zone, const char *message)
{
    json_t *ev = json_pack("{s:s, s:s, s:s, s:I}", "eventType", "announcement", "message", message,
                           "zoneId", zone, "timestamp", (json_int_t)clock_wall_ms());
    char *payload = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    memset(r, 0, sizeof(*r));
    r->kind = ENV_BROADCAST;
    r->type = "event";
    r->type_len = 5;
    r->payload = payload;
    r->payload_len = strlen(payload);
    return payload;
}
