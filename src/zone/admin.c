/* admin.c - the zone server's side of the admin console's live map: an
 * ADMIN_QUERY record on zone:{id}:input is answered with one
 * ADMIN_SNAPSHOT record (every entity with its position, JSON) on the
 * asking gateway's output channel (server.c sends it). See
 * docs/OPERATIONS.md "Admin console". */
#include "zs.h"
#include "../core/clock.h"

typedef struct admin_walk_s {
    zs_t *zs;
    buf_t *b;
    int n;
} admin_walk_t;

static void put_entity(void *ud, const zsim_entity_view_t *e)
{
    admin_walk_t *w = ud;
    buf_t *b = w->b;
    if (w->n++) buf_putc(b, ',');
    buf_puts(b, "{\"id\":");
    buf_json_str(b, e->id);
    buf_puts(b, ",\"name\":");
    buf_json_str(b, e->name ? e->name : "");
    buf_puts(b, e->is_player ? ",\"type\":\"player\"" : ",\"type\":\"npc\"");
    buf_puts(b, e->hostile ? ",\"hostile\":true" : ",\"hostile\":false");
    buf_puts(b, ",\"position\":{\"x\":");
    buf_json_num(b, e->x);
    buf_puts(b, ",\"y\":");
    buf_json_num(b, e->y);
    buf_puts(b, ",\"z\":");
    buf_json_num(b, e->z);
    buf_puts(b, "},\"heading\":");
    buf_json_num(b, e->heading);
    if (e->is_player) {
        zs_player_t *p;
        HASH_FIND(hh_ref, w->zs->by_ref, &e->ref, sizeof(e->ref), p);
        if (p) {
            buf_puts(b, ",\"gateway\":");
            buf_json_str(b, p->client.gateway);
        }
    }
    buf_putc(b, '}');
}

void zs__admin_snapshot(zs_t *zs, zs_zone_t *z, buf_t *b)
{
    const zonedef_t *d = zsim_def(z->sim);
    buf_puts(b, "{\"zoneId\":");
    buf_json_str(b, z->id);
    buf_puts(b, ",\"name\":");
    buf_json_str(b, d->name);
    buf_puts(b, ",\"serverId\":");
    buf_json_str(b, zs->cfg.server_id);
    buf_printf(b, ",\"timestamp\":%llu,\"size\":{\"x\":", (unsigned long long)clock_wall_ms());
    buf_json_num(b, d->size_x);
    buf_puts(b, ",\"z\":");
    buf_json_num(b, d->size_z);
    buf_puts(b, "},\"entities\":[");
    admin_walk_t w = {zs, b, 0};
    zsim_each_entity(z->sim, put_entity, &w);
    buf_puts(b, "]}");
}
