/* route.c - client input on its way to zones: one envelope frame per zone
 * (bus/batch.h), filled while the loop handles client frames and published
 * once before it sleeps (gw_route_flush from the uv_prepare in server.c).
 *
 * The session, account jobs and recovery all put records here; this file
 * calls nothing above it (docs/ARCHITECTURE.md "Who calls whom"). */
#include "gw.h"
#include "../bus/channel.h"
#include "../bus/envelope.h"

#include <stdio.h>
#include <string.h>

static gw_zone_batch_t *zone_batch(gw_t *gw, const char *zone)
{
    return (gw_zone_batch_t *)bus_batch_get(&gw->batches, zone, sizeof(gw_zone_batch_t));
}

void gw_route_record(gw_conn_t *c, env_rec_t *r)
{
    (void)snprintf(r->client.gateway, sizeof(r->client.gateway), "%s", c->gw->cfg.server_id);
    r->client.conn = c->id;
    r->character_id = c->character_id;
    env_put(&zone_batch(c->gw, c->zone)->b.frame, r);
    c->gw->routed++;
}

static int input_channel(char *out, size_t cap, const char *zone)
{
    return bus_channel_zone(out, cap, BUS_ZONE_INPUT, zone);
}

void gw_route_flush(gw_t *gw)
{
    bus_batch_flush(gw->batches, gw->bus, input_channel, "gateway");
}

void gw_route_resync(gw_t *gw)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_RESYNC;
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        bus_batch_t *found = NULL;
        if (!c || c->state != ST_IN_WORLD) continue;
        HASH_FIND_STR(gw->batches, c->zone, found);
        if (found && ((gw_zone_batch_t *)found)->resync) continue; /* one per zone */
        gw_zone_batch_t *b = zone_batch(gw, c->zone);
        env_put(&b->b.frame, &r);
        b->resync = 1;
    }
    bus_batch_t *b, *tmp;
    HASH_ITER(hh, gw->batches, b, tmp)((gw_zone_batch_t *)b)->resync = 0;
}

void gw_route_free(gw_t *gw)
{
    bus_batch_free_all(&gw->batches);
}
