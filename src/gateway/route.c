/* route.c - client input on its way to zones: one envelope frame per zone,
 * filled while the loop handles client frames and published once before
 * it sleeps (gw_route_flush from the uv_prepare in server.c).
 *
 * The session, account jobs and recovery all put records here; this file
 * calls nothing above it (docs/ARCHITECTURE.md "Gateway layout"). */
#include "gw.h"
#include "../bus/envelope.h"
#include "../core/alloc.h"
#include "../core/log.h"

#include <stdio.h>
#include <string.h>
#include <uthash.h>

static buf_t *zone_frame(gw_t *gw, const char *zone)
{
    gw_zone_batch_t *b = NULL;
    HASH_FIND_STR(gw->batches, zone, b);
    if (!b) {
        b = wod_calloc(1, sizeof(*b));
        snprintf(b->zone, sizeof(b->zone), "%s", zone);
        buf_init(&b->frame);
        HASH_ADD_STR(gw->batches, zone, b);
    }
    if (!b->records) env_begin(&b->frame);
    b->records++;
    return &b->frame;
}

void gw_route_record(gw_conn_t *c, env_rec_t *r)
{
    snprintf(r->client.gateway, sizeof(r->client.gateway), "%s", c->gw->cfg.server_id);
    r->client.conn = c->id;
    r->character_id = c->character_id;
    env_put(zone_frame(c->gw, c->zone), r);
    c->gw->routed++;
}

void gw_route_flush(gw_t *gw)
{
    gw_zone_batch_t *b, *tmp;
    HASH_ITER(hh, gw->batches, b, tmp)
    {
        if (!b->records) continue;
        char ch[96];
        snprintf(ch, sizeof(ch), "zone:%s:input", b->zone);
        if (gw->bus && bus_publish(gw->bus, ch, b->frame.data, b->frame.len) < 0)
            log_warn("gateway", "bus down: dropped %d records for %s", b->records, b->zone);
        b->records = 0;
    }
}

void gw_route_resync(gw_t *gw)
{
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_RESYNC;
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (!c || c->state != ST_IN_WORLD) continue;
        gw_zone_batch_t *b = NULL;
        HASH_FIND_STR(gw->batches, c->zone, b);
        if (b && b->resync) continue; /* one per zone */
        env_put(zone_frame(gw, c->zone), &r);
        HASH_FIND_STR(gw->batches, c->zone, b);
        b->resync = 1;
    }
    gw_zone_batch_t *b, *tmp;
    HASH_ITER(hh, gw->batches, b, tmp) b->resync = 0;
}

void gw_route_free(gw_t *gw)
{
    gw_zone_batch_t *b, *tmp;
    HASH_ITER(hh, gw->batches, b, tmp)
    {
        HASH_DEL(gw->batches, b);
        buf_free(&b->frame);
        free(b);
    }
}
