/* recovery.c - the gateway's side of zone failover.
 *
 * Once a second (with the registry cache) the gateway checks the owner of
 * every zone its players are in. When the owner's heartbeat is gone the
 * players get an `event` zone_recovering and their input is answered with
 * ZONE_UNAVAILABLE instead of vanishing; when a live server hosts the zone
 * again, the gateway re-enters each player there (ENV_ENTRY_RECOVER) on the
 * same socket, and the new owner answers with zone_recovered and a full
 * roster.
 *
 * Fencing: zone records arrive after an EPOCH record naming the sender's
 * claim epoch; the highest epoch seen per zone wins and records of an older
 * one (a deposed owner that resumed after a pause) are dropped. A zone that
 * answers UNKNOWN has lost a player (it decided our gateway was gone): the
 * player is told and re-entered from its session state, never stranded. */
#include "gw.h"
#include "../bus/envelope.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/str.h"

#include <string.h>

struct gw_zone_state_s {
    char zone[ZONE_ID_MAX + 1];
    char owner[64]; /* last live owner seen, "" = none yet */
    int orphaned;
    int seen;       /* this gateway has players there (set per check) */
    uint64_t epoch; /* highest fencing epoch seen from the zone's owners */
    UT_hash_handle hh;
};

static gw_zone_state_t *state_for(gw_t *gw, const char *zone)
{
    gw_zone_state_t *s = NULL;
    HASH_FIND_STR(gw->zone_states, zone, s);
    if (!s) {
        s = wod_calloc(1, sizeof(*s));
        (void)snprintf(s->zone, sizeof(s->zone), "%s", zone);
        HASH_ADD_STR(gw->zone_states, zone, s);
    }
    return s;
}

/* The live owner of `zone`, or NULL: assigned, heartbeat present, and the
 * heartbeat lists the zone (so the owner has loaded and subscribed it). */
static const char *live_owner(gw_t *gw, const char *zone)
{
    const char *o = json_string_value(json_object_get(gw->zones_cache, zone));
    json_t *hb = o ? json_object_get(gw->servers_cache, o) : NULL;
    if (!hb) return NULL;
    size_t i;
    json_t *z;
    json_array_foreach(json_object_get(hb, "zones"), i,
                       z) if (json_is_string(z) &&
                              strcmp(json_string_value(z), zone) == 0) return o;
    return NULL;
}

static void notify(gw_conn_t *c, const char *zone)
{
    char ev[256];
    int n = str_fmt(ev, sizeof(ev),
                    "{\"eventType\":\"zone_recovering\",\"zoneId\":\"%s\",\"timestamp\":%llu,"
                    "\"narrative\":\"The world holds its breath for a moment...\"}",
                    zone, (unsigned long long)clock_wall_ms());
    if (n < 0) return; /* zone ids are short; cannot happen */
    gw_conn_send(c, "event", ev, (size_t)n);
}

void gw_recovery_check(gw_t *gw)
{
    if (gw->role_all) return;
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *c = gw->slots[i];
        if (c && c->state == ST_IN_WORLD) state_for(gw, c->zone)->seen = 1;
    }
    gw_zone_state_t *s, *tmp;
    HASH_ITER(hh, gw->zone_states, s, tmp)
    {
        if (!s->seen) continue;
        s->seen = 0;
        const char *owner = live_owner(gw, s->zone);
        int moved = owner && s->owner[0] && strcmp(owner, s->owner) != 0;
        if (!owner && !s->orphaned && s->owner[0]) {
            s->orphaned = 1;
            log_warn(s->zone, "zone server %s is gone; players wait for a takeover", s->owner);
        } else if (owner && (s->orphaned || moved)) {
            log_info(s->zone, "zone now on %s; re-entering its players", owner);
            s->orphaned = 0;
        } else {
            if (owner) (void)snprintf(s->owner, sizeof(s->owner), "%s", owner);
            continue;
        }
        int recovering = s->orphaned;
        if (owner) (void)snprintf(s->owner, sizeof(s->owner), "%s", owner);
        for (uint32_t i = 0; i < gw->n_slots; i++) {
            gw_conn_t *c = gw->slots[i];
            if (!c || c->state != ST_IN_WORLD || strcmp(c->zone, s->zone) != 0) continue;
            if (recovering) {
                notify(c, s->zone);
                continue;
            }
            env_rec_t r;
            memset(&r, 0, sizeof(r));
            r.kind = ENV_ENTER;
            r.u.enter.ch = c->character;
            r.u.enter.max_update_rate = c->max_update_rate;
            r.u.enter.client_flags = c->client_flags;
            r.u.enter.entry = ENV_ENTRY_RECOVER;
            gw_route_record(c, &r);
        }
    }
}

int gw_recovery_zone_down(gw_t *gw, const char *zone)
{
    gw_zone_state_t *s = NULL;
    HASH_FIND_STR(gw->zone_states, zone, s);
    return s && s->orphaned;
}

int gw_recovery_epoch_ok(gw_t *gw, const char *zone, uint64_t epoch)
{
    gw_zone_state_t *s = state_for(gw, zone);
    if (epoch < s->epoch) {
        if (!gw->stale_epoch_drops)
            log_warn(zone, "dropping records of epoch %llu: the zone is at %llu (fencing)",
                     (unsigned long long)epoch, (unsigned long long)s->epoch);
        return 0;
    }
    s->epoch = epoch;
    return 1;
}

/* Re-entries of one connection are this far apart at least: the zone
 * answers every input of a lost player, the first one is enough. */
#define REENTER_EVERY_MS 2000

void gw_recovery_unknown(gw_t *gw, const env_rec_t *r)
{
    gw_conn_t *c = gw_conn_find(gw, r->client.conn);
    /* Only for the zone we still route the player to (a late answer from a
     * zone the player has left is not news), and not while it is orphaned
     * (the takeover re-enters everyone). */
    if (!c || c->state != ST_IN_WORLD || c->character_id != r->character_id ||
        strcmp(c->zone, r->u.route.zone) != 0 || gw_recovery_zone_down(gw, c->zone))
        return;
    double now = clock_mono_ms();
    if (c->reentered_ms && now - c->reentered_ms < REENTER_EVERY_MS) return;
    c->reentered_ms = now;
    log_warn(gw_conn_subject(c), "zone %s does not know character %lld: re-entering it", c->zone,
             (long long)c->character_id);
    char ev[256];
    int n = str_fmt(ev, sizeof(ev),
                    "{\"eventType\":\"zone_recovering\",\"zoneId\":\"%s\",\"timestamp\":%llu,"
                    "\"narrative\":\"The world lost sight of you for a moment...\"}",
                    c->zone, (unsigned long long)clock_wall_ms());
    if (n >= 0) gw_conn_send(c, "event", ev, (size_t)n); /* zone ids are short: always */
    env_rec_t e;
    memset(&e, 0, sizeof(e));
    e.kind = ENV_ENTER;
    e.u.enter.ch = c->character;
    e.u.enter.max_update_rate = c->max_update_rate;
    e.u.enter.entry = ENV_ENTRY_RECOVER;
    gw_route_record(c, &e);
}

void gw_recovery_free(gw_t *gw)
{
    gw_zone_state_t *s, *tmp;
    HASH_ITER(hh, gw->zone_states, s, tmp)
    {
        /* uthash frees its table with the last element; the analyzer loses track (false positive)
         */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(gw->zone_states, s);
        free(s);
    }
}
