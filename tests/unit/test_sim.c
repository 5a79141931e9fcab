/* test_sim.c - the zone simulation end to end through its public API:
 * movement math, position checks, chat ranges, borders, shouts into a
 * neighbouring zone, roster deltas, update-rate coalescing, NPCs. Output
 * is captured from hooks.send and parsed with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/sim.h"
#include "game/npcdef.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- capture ---- */

typedef struct {
    uint64_t ref;
    char type[40];
    char *payload;
} cap_t;

static cap_t *caps;
static size_t n_caps, caps_cap;

typedef struct {
    uint64_t ref;
    character_t st;
    char to[ZONE_ID_MAX + 1];
} crossed_t;

static crossed_t crossed[16];
static size_t n_crossed;

static zsim_t *shout_target; /* the sim shouts are forwarded to */
static int n_shouts_out;
static char last_shout_zone[ZONE_ID_MAX + 1];

static void on_send(void *ud, uint64_t ref, const char *type, const char *payload, size_t len)
{
    (void)ud;
    if (n_caps == caps_cap) {
        caps_cap = caps_cap ? caps_cap * 2 : 64;
        caps = realloc(caps, caps_cap * sizeof(*caps));
    }
    cap_t *c = &caps[n_caps++];
    c->ref = ref;
    snprintf(c->type, sizeof(c->type), "%s", type);
    c->payload = malloc(len + 1);
    memcpy(c->payload, payload, len);
    c->payload[len] = '\0';
    json_error_t err;
    json_t *j = json_loadb(payload, len, 0, &err);
    if (!j) fail_msg("%s payload is not JSON (%s): %.*s", type, err.text, (int)len, payload);
    json_decref(j);
}

static void on_crossed(void *ud, uint64_t ref, const character_t *st, const char *to)
{
    (void)ud;
    crossed_t *c = &crossed[n_crossed++ % 16];
    c->ref = ref;
    c->st = *st;
    snprintf(c->to, sizeof(c->to), "%s", to);
}

static int border_open = 1; /* what on_can_cross answers */
static int n_can_cross;

static int on_can_cross(void *ud, const char *to)
{
    (void)ud;
    (void)to;
    n_can_cross++;
    return border_open;
}

static void on_shout(void *ud, const char *to, const msg_shout_t *s)
{
    (void)ud;
    n_shouts_out++;
    snprintf(last_shout_zone, sizeof(last_shout_zone), "%s", to);
    if (shout_target && strcmp(zsim_def(shout_target)->id, to) == 0)
        zsim_remote_shout(shout_target, s);
}

static void clear_caps(void)
{
    for (size_t i = 0; i < n_caps; i++)
        free(caps[i].payload);
    n_caps = 0;
}

static size_t count_msgs(uint64_t ref, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < n_caps; i++)
        n += caps[i].ref == ref && strcmp(caps[i].type, type) == 0;
    return n;
}

/* Last message of `type` to `ref`, parsed (caller decrefs), or NULL. */
static json_t *last_msg(uint64_t ref, const char *type)
{
    for (size_t i = n_caps; i-- > 0;)
        if (caps[i].ref == ref && strcmp(caps[i].type, type) == 0)
            return json_loads(caps[i].payload, 0, NULL);
    return NULL;
}

/* Replays what `ref` was told (proximity_roster, then its deltas in order)
 * and returns the range it last heard for entity `id` on `channel`, or -1
 * if the entity is not on that channel in the client's view. */
static double view_range(uint64_t ref, const char *channel, const char *id)
{
    double range = -1;
    for (size_t i = 0; i < n_caps; i++) {
        if (caps[i].ref != ref) continue;
        int full = strcmp(caps[i].type, "proximity_roster") == 0;
        if (!full && strcmp(caps[i].type, "proximity_roster_delta") != 0) continue;
        json_t *m = json_loads(caps[i].payload, 0, NULL);
        json_t *ch = json_object_get(json_object_get(m, "channels"), channel);
        if (full) range = -1;
        const char *lists[] = {"entities", "added", "updated"};
        for (int l = 0; l < 3 && ch; l++) {
            json_t *arr = json_object_get(ch, lists[l]);
            for (size_t k = 0; k < json_array_size(arr); k++) {
                json_t *e = json_array_get(arr, k);
                if (strcmp(json_string_value(json_object_get(e, "id")), id) != 0) continue;
                json_t *r = json_object_get(e, "range");
                if (r) range = json_number_value(r);
            }
        }
        json_t *gone = json_object_get(ch, "removed");
        for (size_t k = 0; k < json_array_size(gone); k++) {
            json_t *e = json_array_get(gone, k);
            const char *gid = json_is_string(e) ? json_string_value(e)
                                                : json_string_value(json_object_get(e, "id"));
            if (gid && strcmp(gid, id) == 0) range = -1;
        }
        json_decref(m);
    }
    return range;
}

static json_t *kept; /* a message parsed by last_msg_keep, decref'd by the test */

static json_t *last_msg_keep(uint64_t ref, const char *type)
{
    json_decref(kept);
    kept = last_msg(ref, type);
    return kept;
}

/* ---- world ---- */

static zonedef_t world[3];

static void zone(zonedef_t *z, const char *id, const char *name, double ox, double oz, double sx,
                 double sy, double sz, double spx, double spz)
{
    memset(z, 0, sizeof(*z));
    snprintf(z->id, sizeof(z->id), "%s", id);
    snprintf(z->name, sizeof(z->name), "%s", name);
    snprintf(z->description, sizeof(z->description), "%s, for tests", name);
    snprintf(z->rating, sizeof(z->rating), "T");
    snprintf(z->weather, sizeof(z->weather), "clear");
    snprintf(z->time_of_day, sizeof(z->time_of_day), "night");
    snprintf(z->lighting, sizeof(z->lighting), "dim");
    z->origin_x = ox;
    z->origin_z = oz;
    z->size_x = sx;
    z->size_y = sy;
    z->size_z = sz;
    z->spawn_x = spx;
    z->spawn_z = spz;
}

static int setup(void **state)
{
    (void)state;
    zone(&world[0], "zone-crossroads", "The Crossroads", 0, 0, 200, 50, 200, 100, 100);
    zone(&world[1], "zone-forest", "The Forest", 0, 200, 400, 80, 400, 200, 200);
    zone(&world[2], "zone-city", "The City", 200, 0, 1000, 200, 1000, 500, 500);
    clear_caps();
    n_crossed = 0;
    border_open = 1;
    n_can_cross = 0;
    n_shouts_out = 0;
    shout_target = NULL;
    return 0;
}

static int roster_threads = 1;

/* A small cast as the store would load it: the merchant beside the
 * crossroads spawn, a hostile dog in a corner, one in another zone. */
static npcdef_t cast[3];

static void make_cast(void)
{
    memset(cast, 0, sizeof(cast));
    npcdef_t *m = &cast[0];
    snprintf(m->tag, sizeof(m->tag), "npc.merchant.old");
    snprintf(m->zone_id, sizeof(m->zone_id), "zone-crossroads");
    snprintf(m->name, sizeof(m->name), "Old Merchant");
    snprintf(m->description, sizeof(m->description), "A stooped trader.");
    m->level = 5;
    m->max_hp = 150;
    m->x = 102;
    m->z = 98;
    m->n_lines = 2;
    snprintf(m->lines[0], sizeof(m->lines[0]), "Lamp oil, rope?");
    snprintf(m->lines[1], sizeof(m->lines[1]), "Mind the dog.");
    npcdef_t *d = &cast[1];
    snprintf(d->tag, sizeof(d->tag), "mob.rabid_dog");
    snprintf(d->zone_id, sizeof(d->zone_id), "zone-crossroads");
    snprintf(d->name, sizeof(d->name), "Rabid Dog");
    d->is_mob = d->wildlife = d->hostile = 1;
    d->level = 7;
    d->strength = 12;
    d->max_hp = 140;
    d->aggro_radius = 30;
    d->leash = 70;
    d->speed = 12;
    d->x = 30;
    d->z = 30;
    cast[2] = *d;
    snprintf(cast[2].tag, sizeof(cast[2].tag), "mob.elsewhere");
    snprintf(cast[2].zone_id, sizeof(cast[2].zone_id), "zone-forest");
}

static zsim_t *new_sim(int zone_index, int npcs)
{
    zsim_config_t cfg = {.tick_rate = 20,
                         .roster_max_entities = 64,
                         .disable_npcs = !npcs,
                         .roster_threads = roster_threads,
                         .mob_respawn_ms = 2000,
                         .rng_seed = 1};
    zsim_hooks_t hooks = {.ud = NULL,
                          .send = on_send,
                          .crossed = on_crossed,
                          .can_cross = on_can_cross,
                          .shout_out = on_shout};
    zsim_t *sim = zsim_new(&world[zone_index], world, 3, &cfg, &hooks);
    make_cast();
    assert_int_equal(zsim_add_npcs(sim, cast, 3), npcs && zone_index == 0 ? 2 : 0);
    return sim;
}

static character_t make_char(int64_t id, const char *name, const char *zone_id, double x, double z)
{
    character_t c;
    character_init(&c, id, name, "A test character.", zone_id, x, 0, z);
    c.id = id;
    return c;
}

static void enter(zsim_t *sim, uint64_t ref, const char *name, double x, double z, double rate)
{
    character_t c = make_char((int64_t)ref, name, zsim_def(sim)->id, x, z);
    assert_int_equal(zsim_player_enter(sim, ref, &c, rate, 1), 0);
}

static void move_heading(zsim_t *sim, uint64_t ref, double heading, int has_speed,
                         move_speed_t speed)
{
    msg_move_t m = {
        .method = MOVE_HEADING, .has_speed = has_speed, .speed = speed, .heading = heading};
    assert_int_equal(zsim_player_move(sim, ref, &m), 0);
}

static int chat(zsim_t *sim, uint64_t ref, chat_channel_t ch, const char *text)
{
    msg_chat_t m;
    memset(&m, 0, sizeof(m));
    m.channel = ch;
    snprintf(m.message, sizeof(m.message), "%s", text);
    return zsim_player_chat(sim, ref, &m);
}

static double base_speed(void)
{
    character_t c = make_char(1, "Probe", "zone-crossroads", 0, 0);
    character_derived_t d;
    character_derive(&c, &d);
    return d.base_speed;
}

/* ---- tests ---- */

static void test_heading_run_east(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    move_heading(sim, 1, 90, 1, SPEED_RUN);
    zsim_tick(sim, 0);
    const character_t *c = zsim_player(sim, 1);
    assert_non_null(c);
    assert_true(fabs(c->x - (100 + 3.5 * base_speed() / 20.0)) < 1e-9);
    assert_true(fabs(c->z - 100) < 1e-9);
    /* heading without speed walks; north is +z */
    move_heading(sim, 1, 0, 0, SPEED_STOP);
    double z0 = c->z;
    zsim_tick(sim, 0);
    assert_true(fabs(c->z - (z0 + base_speed() / 20.0)) < 1e-9);
    /* stop stops */
    move_heading(sim, 1, 0, 1, SPEED_STOP);
    z0 = c->z;
    zsim_tick(sim, 0);
    assert_true(c->z == z0);
    zsim_free(sim);
}

static void test_clamped_to_bounds(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0); /* crossroads: nothing lies west of it */
    enter(sim, 1, "Alice", 3, 100, 0);
    move_heading(sim, 1, 270, 1, SPEED_RUN);
    for (int i = 0; i < 40; i++)
        zsim_tick(sim, 0);
    const character_t *c = zsim_player(sim, 1);
    assert_non_null(c);
    assert_true(c->x == 0);
    assert_true(fabs(c->z - 100) < 1e-9);
    assert_int_equal(n_crossed, 0);
    zsim_free(sim);
}

static void test_position_move_checked(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    /* no speed named: walk; at least 2 s count, x 1.5, + 2 ft = 20 ft */
    double walk = base_speed();
    msg_move_t m = {.method = MOVE_POSITION, .x = 100 + 1.5 * walk * 2 + 2.5, .y = 0, .z = 100};
    assert_int_equal(zsim_player_move(sim, 1, &m), -1);
    json_t *e = last_msg(1, "error");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "MOVE_REJECTED");
    assert_string_equal(json_string_value(json_object_get(e, "severity")), "warning");
    json_t *pos = json_object_get(e, "position");
    assert_true(json_number_value(json_object_get(pos, "x")) == 100);
    assert_true(json_number_value(json_object_get(pos, "z")) == 100);
    json_decref(e);
    assert_true(zsim_player(sim, 1)->x == 100);

    /* the original clients: 10 ft north (their z-10) at walk, every 2 s, applied at once */
    m.x = 100;
    m.z = 90;
    m.has_speed = 1;
    m.speed = SPEED_WALK;
    for (int step = 1; step <= 3; step++) {
        for (int i = 0; i < 40; i++)
            zsim_tick(sim, 0);
        m.z = 100 - 10 * step;
        assert_int_equal(zsim_player_move(sim, 1, &m), 0);
        assert_true(zsim_player(sim, 1)->z == m.z);
    }
    /* 3 s later, at run: 1.5 x 3 s of running is fine */
    double run = 3.5 * base_speed();
    for (int i = 0; i < 60; i++)
        zsim_tick(sim, 0);
    m.speed = SPEED_RUN;
    m.z = 70;
    m.x = 100 + run * 4.4;
    assert_int_equal(zsim_player_move(sim, 1, &m), 0);
    /* the budget banked: 2 s on entry + 9 s since, less 3 x 10 ft at walk and
     * 4.4 s of running at 1.5 x: what is left is under 7.5 s of running */
    double left = 2 + 9 - 3 * 10 / (1.5 * walk) - 4.4 / 1.5;
    m.x += run * 7.5;
    assert_true(1.5 * run * left + 2 < run * 7.5);
    assert_int_equal(zsim_player_move(sim, 1, &m), -1);
    /* at walk, what run allowed is refused */
    m.speed = SPEED_WALK;
    m.x = zsim_player(sim, 1)->x + 1.5 * walk * left + 3;
    assert_int_equal(zsim_player_move(sim, 1, &m), -1);
    /* many small steps at once cover no more than one long one would:
     * 200 steps of 5 ft west in one tick, of which only the budget is taken */
    double x0 = zsim_player(sim, 1)->x;
    int taken = 0;
    for (int i = 0; i < 200; i++) {
        m.x = zsim_player(sim, 1)->x - 5;
        taken += zsim_player_move(sim, 1, &m) == 0;
    }
    assert_true(taken > 0);
    assert_true(x0 - zsim_player(sim, 1)->x <= 1.5 * walk * left + 2 + 1e-6);
    zsim_free(sim);
}

/* method "position": walk there, re-aimed each tick, snap on arrival,
 * then movement_complete target_reached with the position. */
static void test_walk_to_point(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    enter(sim, 2, "Bobby", 120, 100, 0);
    enter(sim, 3, "Carol", 140, 100, 0);
    assert_int_equal(zsim_player_set_client(sim, 2, MSG_CLIENT_POSITIONS), 0); /* graphical */
    msg_move_t m = {.method = MOVE_FOLLOW, .has_speed = 1, .speed = SPEED_JOG, .x = 130, .z = 60};
    assert_int_equal(zsim_player_move(sim, 1, &m), 0);
    clear_caps();
    double d = hypot(30, 40), step = 2.0 * base_speed() / 20.0;
    int ticks = 0;
    while (count_msgs(1, "event") == 0 && ticks < 200) {
        zsim_tick(sim, 0);
        ticks++;
        if (count_msgs(1, "event") == 0) { /* on the way: on the straight line */
            const character_t *c = zsim_player(sim, 1);
            assert_true(fabs((c->x - 100) * 40 + (c->z - 100) * 30) < 1e-6);
        }
    }
    assert_true(ticks >= (int)floor(d / step) - 1 && ticks <= (int)ceil(d / step) + 1);
    const character_t *c = zsim_player(sim, 1);
    assert_true(c->x == 130 && c->z == 60);
    json_t *ev = last_msg(1, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "eventType")), "movement_complete");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "target_reached");
    json_t *pos = json_object_get(ev, "position");
    assert_true(json_number_value(json_object_get(pos, "x")) == 130);
    assert_true(json_number_value(json_object_get(pos, "z")) == 60);
    json_decref(ev);
    /* Bobby (within see range) got Alice's absolute positions as state_update */
    json_t *su = last_msg(2, "state_update");
    assert_non_null(su);
    json_t *upd = json_object_get(json_object_get(su, "entities"), "updated");
    int saw = 0;
    for (size_t i = 0; i < json_array_size(upd); i++) {
        json_t *u = json_array_get(upd, i);
        const char *id = json_string_value(json_object_get(u, "id"));
        assert_non_null(id);
        if (strcmp(id, "char-1") != 0) continue;
        saw = 1;
        assert_string_equal(json_string_value(json_object_get(u, "name")), "Alice");
        assert_string_equal(json_string_value(json_object_get(u, "type")), "player");
        assert_non_null(json_object_get(json_object_get(u, "position"), "x"));
    }
    assert_true(saw);
    json_decref(su);
    assert_int_equal(count_msgs(3, "state_update"), 0); /* a text client: rosters only */
    /* standing still: nothing more */
    clear_caps();
    for (int i = 0; i < 10; i++)
        zsim_tick(sim, 0);
    assert_int_equal(count_msgs(1, "event") + count_msgs(2, "state_update"), 0);

    /* a new move ends the old one: reason command */
    m.x = 10;
    m.z = 10;
    assert_int_equal(zsim_player_move(sim, 1, &m), 0);
    zsim_tick(sim, 0);
    move_heading(sim, 1, 90, 1, SPEED_WALK);
    ev = last_msg(1, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "command");
    json_decref(ev);
    /* a heading move for a distance ends with distance_reached */
    msg_move_t h = {.method = MOVE_COMPASS, .heading = 0, .distance_ft = 12};
    assert_int_equal(zsim_player_move(sim, 1, &h), 0);
    double z0 = zsim_player(sim, 1)->z;
    clear_caps();
    for (int i = 0; i < 100 && count_msgs(1, "event") == 0; i++)
        zsim_tick(sim, 0);
    ev = last_msg(1, "event");
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "distance_reached");
    json_decref(ev);
    assert_true(fabs(zsim_player(sim, 1)->z - (z0 + 12)) < 1e-9);
    zsim_free(sim);
}

/* A move with a target entity approaches it to the range; a target that
 * leaves ends the move with target_lost. */
static void test_follow_target(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(2, 0);
    enter(sim, 1, "Alice", 500, 500, 0);
    enter(sim, 2, "Bobby", 500, 600, 0);
    move_heading(sim, 2, 90, 1, SPEED_WALK); /* Bobby walks away east */
    msg_move_t m = {.method = MOVE_FOLLOW, .has_speed = 1, .speed = SPEED_RUN, .range_ft = 5};
    snprintf(m.target_id, sizeof(m.target_id), "char-2");
    assert_int_equal(zsim_player_move(sim, 1, &m), 0);
    clear_caps();
    for (int i = 0; i < 400 && count_msgs(1, "event") == 0; i++)
        zsim_tick(sim, 0);
    json_t *ev = last_msg(1, "event");
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "target_reached");
    json_decref(ev);
    const character_t *a = zsim_player(sim, 1), *b = zsim_player(sim, 2);
    double gap = hypot(a->x - b->x, a->z - b->z);
    /* stopped at the range (the target may take its own step after ours), not on top */
    assert_true(gap <= 5 + base_speed() / 20.0 + 1e-6 && gap > 4);
    assert_true(b->x > 510); /* it was a chase */
    /* follow again, the target leaves the zone: target_lost */
    m.range_ft = 1;
    move_heading(sim, 2, 90, 1, SPEED_RUN);
    assert_int_equal(zsim_player_move(sim, 1, &m), 0);
    clear_caps();
    assert_int_equal(zsim_player_leave(sim, 2, NULL), 0);
    zsim_tick(sim, 0);
    ev = last_msg(1, "event");
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "target_lost");
    json_decref(ev);
    /* an unknown target is refused at once */
    snprintf(m.target_id, sizeof(m.target_id), "npc-42");
    assert_int_equal(zsim_player_move(sim, 1, &m), -1);
    ev = last_msg(1, "error");
    assert_string_equal(json_string_value(json_object_get(ev, "code")), "TARGET_NOT_FOUND");
    json_decref(ev);
    zsim_free(sim);
}

static void test_say_range(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    enter(sim, 2, "Bobby", 110, 100, 0);
    enter(sim, 3, "Carol", 130, 100, 0);
    clear_caps();
    assert_int_equal(chat(sim, 1, CHAT_SAY, "hello there"), 0);
    json_t *m = last_msg(2, "chat");
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "channel")), "say");
    /* the reference's fields */
    assert_string_equal(json_string_value(json_object_get(m, "sender")), "Alice");
    assert_string_equal(json_string_value(json_object_get(m, "message")), "hello there");
    assert_string_equal(json_string_value(json_object_get(m, "senderId")), "char-1");
    assert_string_equal(json_string_value(json_object_get(m, "senderName")), "Alice");
    assert_string_equal(json_string_value(json_object_get(m, "senderType")), "player");
    assert_string_equal(json_string_value(json_object_get(m, "content")), "hello there");
    assert_true(json_number_value(json_object_get(m, "distance")) == 10);
    assert_non_null(json_object_get(m, "timestamp"));
    json_decref(m);
    assert_int_equal(count_msgs(3, "chat"), 0); /* 30 ft: out of say */
    assert_int_equal(count_msgs(1, "chat"), 1); /* the sender hears itself */
    /* emote reaches 150 */
    assert_int_equal(chat(sim, 1, CHAT_EMOTE, "waves"), 0);
    assert_int_equal(count_msgs(3, "chat"), 1);
    /* whisper is not zone chat */
    assert_int_equal(chat(sim, 1, CHAT_WHISPER, "psst"), -1);
    json_t *e = last_msg(1, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "INVALID_CHANNEL");
    json_decref(e);
    zsim_free(sim);
}

static void test_shout_range(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(2, 0); /* the city, 1000 ft */
    enter(sim, 1, "Alice", 500, 500, 0);
    enter(sim, 2, "Bobby", 600, 500, 0);
    enter(sim, 3, "Carol", 700, 500, 0);
    clear_caps();
    assert_int_equal(chat(sim, 1, CHAT_SHOUT, "HEY"), 0);
    json_t *m = last_msg(2, "chat");
    assert_non_null(m);
    assert_true(json_number_value(json_object_get(m, "distance")) == 100);
    json_decref(m);
    assert_int_equal(count_msgs(3, "chat"), 0);
    assert_int_equal(n_shouts_out, 0); /* 500 ft from every border */
    zsim_free(sim);
}

static void test_shout_into_neighbour(void **state)
{
    (void)state;
    zsim_t *city = new_sim(2, 0), *cross = new_sim(0, 0);
    shout_target = cross;
    enter(city, 1, "Alice", 50, 100, 0);   /* world (250, 100) */
    enter(cross, 2, "Bobby", 150, 100, 0); /* world (150, 100): 100 ft away */
    enter(cross, 3, "Carol", 20, 100, 0);  /* world (20, 100): 230 ft away */
    clear_caps();
    assert_int_equal(chat(city, 1, CHAT_SHOUT, "over the wall"), 0);
    assert_int_equal(n_shouts_out, 1);
    assert_string_equal(last_shout_zone, "zone-crossroads");
    json_t *m = last_msg(2, "chat");
    assert_non_null(m);
    assert_true(json_number_value(json_object_get(m, "distance")) == 100);
    assert_string_equal(json_string_value(json_object_get(m, "senderId")), "char-1");
    json_decref(m);
    assert_int_equal(count_msgs(3, "chat"), 0);
    /* a say does not cross */
    assert_int_equal(chat(city, 1, CHAT_SAY, "quiet"), 0);
    assert_int_equal(n_shouts_out, 1);
    zsim_free(city);
    zsim_free(cross);
}

static void test_cross_north_border(void **state)
{
    (void)state;
    zsim_t *cross = new_sim(0, 0), *forest = new_sim(1, 0);
    enter(cross, 1, "Alice", 100, 195, 0);
    enter(cross, 2, "Bobby", 100, 185, 0);
    move_heading(cross, 1, 0, 1, SPEED_RUN);
    for (int i = 0; i < 40 && n_crossed == 0; i++)
        zsim_tick(cross, 0);
    assert_int_equal(n_crossed, 1);
    assert_int_equal(crossed[0].ref, 1);
    assert_string_equal(crossed[0].to, "zone-forest");
    assert_string_equal(crossed[0].st.zone_id, "zone-forest");
    assert_true(fabs(crossed[0].st.x - 100) < 1e-9);
    assert_true(crossed[0].st.z >= 0 && crossed[0].st.z < 5);
    assert_null(zsim_player(cross, 1));
    assert_int_equal(zsim_player_count(cross), 1);
    /* Bobby sees Alice leave */
    zsim_tick(cross, 0);
    json_t *d = last_msg(2, "proximity_roster_delta");
    assert_non_null(d);
    json_t *removed =
        json_object_get(json_object_get(json_object_get(d, "channels"), "cfh"), "removed");
    assert_true(json_is_array(removed));
    assert_string_equal(json_string_value(json_array_get(removed, 0)), "char-1");
    json_decref(d);
    /* the host hands her to the forest: state_update with the zone, then a full roster */
    clear_caps();
    assert_int_equal(zsim_player_enter(forest, 1, &crossed[0].st, 0, 0), 0);
    assert_int_equal(n_caps, 2);
    assert_string_equal(caps[0].type, "state_update");
    assert_string_equal(caps[1].type, "proximity_roster");
    json_t *su = last_msg(1, "state_update");
    assert_string_equal(json_string_value(json_object_get(json_object_get(su, "zone"), "id")),
                        "zone-forest");
    assert_non_null(json_object_get(su, "character"));
    json_decref(su);
    assert_true(fabs(zsim_player(forest, 1)->z - crossed[0].st.z) < 1e-9);
    zsim_free(cross);
    zsim_free(forest);
}

/* While the host cannot hand her over (bus congested or down) a walker
 * stays in her zone at the border, then crosses once it can. */
static void test_cross_held_at_border(void **state)
{
    (void)state;
    zsim_t *cross = new_sim(0, 0);
    enter(cross, 1, "Alice", 100, 195, 0);
    move_heading(cross, 1, 0, 1, SPEED_RUN);
    border_open = 0;
    for (int i = 0; i < 40; i++)
        zsim_tick(cross, 0);
    assert_int_equal(n_crossed, 0);
    assert_true(n_can_cross > 0);
    assert_non_null(zsim_player(cross, 1));
    assert_true(fabs(zsim_player(cross, 1)->z - 200) < 1e-9); /* on the border, clamped */
    border_open = 1;
    for (int i = 0; i < 40 && n_crossed == 0; i++)
        zsim_tick(cross, 0);
    assert_int_equal(n_crossed, 1);
    assert_string_equal(crossed[0].to, "zone-forest");
    assert_null(zsim_player(cross, 1));
    zsim_free(cross);
}

static void test_world_entry_and_roster(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 1);
    enter(sim, 1, "Alice", 80, 100, 0);
    enter(sim, 2, "Bobby", 80, 110, 0); /* the merchant stands near spawn, > 20 ft away */
    assert_string_equal(caps[n_caps - 2].type, "world_entry");
    assert_string_equal(caps[n_caps - 1].type, "proximity_roster");
    json_t *we = last_msg(2, "world_entry");
    assert_string_equal(json_string_value(json_object_get(we, "characterId")), "2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(we, "zone"), "id")),
                        "zone-crossroads");
    assert_non_null(json_object_get(we, "character"));
    json_t *ents = json_object_get(we, "entities");
    int saw_alice = 0, saw_merchant = 0;
    for (size_t i = 0; i < json_array_size(ents); i++) {
        json_t *e = json_array_get(ents, i);
        const char *id = json_string_value(json_object_get(e, "id"));
        if (strcmp(id, "char-1") == 0) saw_alice = 1;
        if (strcmp(id, "npc-1") == 0) {
            saw_merchant = 1;
            assert_true(json_is_true(json_object_get(e, "interactive")));
            assert_true(json_is_true(json_object_get(e, "isAlive")));
            assert_string_equal(json_string_value(json_object_get(e, "type")), "npc");
        }
        assert_non_null(json_object_get(e, "position"));
    }
    assert_true(saw_alice && saw_merchant);
    json_t *exits = json_object_get(we, "exits");
    assert_int_equal(json_array_size(exits), 2);
    int north = 0, east = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_array_get(exits, i);
        const char *dir = json_string_value(json_object_get(x, "direction"));
        const char *name = json_string_value(json_object_get(x, "name"));
        if (!strcmp(dir, "north") && !strcmp(name, "The Forest")) north = 1;
        if (!strcmp(dir, "east") && !strcmp(name, "The City")) east = 1;
    }
    assert_true(north && east);
    json_decref(we);

    /* Bobby's full roster: Alice 10 ft due south (bearing 180) */
    json_t *r = last_msg(2, "proximity_roster");
    json_t *say = json_object_get(json_object_get(r, "channels"), "say");
    assert_int_equal(json_integer_value(json_object_get(say, "count")), 1);
    json_t *a = json_array_get(json_object_get(say, "entities"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "id")), "char-1");
    assert_string_equal(json_string_value(json_object_get(a, "type")), "player");
    assert_true(json_number_value(json_object_get(a, "bearing")) == 180);
    assert_true(json_number_value(json_object_get(a, "range")) == 10);
    assert_true(json_number_value(json_object_get(a, "elevation")) == 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(say, "sample"), 0)),
                        "Alice");
    json_t *touch = json_object_get(json_object_get(r, "channels"), "touch");
    assert_int_equal(json_integer_value(json_object_get(touch, "count")), 0);
    assert_true(json_is_false(json_object_get(r, "dangerState")));
    json_t *danger = json_object_get(r, "danger");
    assert_string_equal(json_string_value(json_object_get(danger, "level")), "safe");
    assert_int_equal(json_integer_value(json_object_get(danger, "hostilesNearby")), 0);
    assert_true(json_is_true(json_object_get(a, "isAlive")));
    assert_true(json_is_false(json_object_get(a, "isMachine")));
    /* world_entry.character: the reference's shape */
    json_t *ch = json_object_get(last_msg_keep(2, "world_entry"), "character");
    assert_string_equal(json_string_value(json_object_get(ch, "currentSpeed")), "stop");
    assert_true(json_is_true(json_object_get(ch, "isAlive")));
    assert_int_equal(json_integer_value(json_object_get(ch, "abilityPoints")), 0);
    const char *arrays[] = {"unlockedFeats", "unlockedAbilities", "activeLoadout", "passiveLoadout",
                            "specialLoadout"};
    for (size_t i = 0; i < 5; i++) {
        assert_true(json_is_array(json_object_get(ch, arrays[i])));
        assert_int_equal(json_array_size(json_object_get(ch, arrays[i])), 0);
    }
    json_decref(kept);
    kept = NULL;
    json_decref(r);

    /* Alice saw Bobby (a bot: isMachine) arrive as a delta with her next tick */
    assert_int_equal(zsim_player_set_client(sim, 2, MSG_CLIENT_MACHINE), 0);
    assert_int_equal(zsim_player_set_client(sim, 99, MSG_CLIENT_MACHINE), -1);
    clear_caps();
    zsim_tick(sim, 0);
    json_t *d = last_msg(1, "proximity_roster_delta");
    assert_non_null(d);
    json_t *added =
        json_object_get(json_object_get(json_object_get(d, "channels"), "say"), "added");
    assert_string_equal(json_string_value(json_object_get(json_array_get(added, 0), "id")),
                        "char-2");
    assert_true(json_is_true(json_object_get(json_array_get(added, 0), "isMachine")));
    assert_true(json_number_value(json_object_get(json_array_get(added, 0), "bearing")) == 0);
    json_decref(d);
    zsim_free(sim);
}

static void test_idle_player_gets_nothing(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    enter(sim, 2, "Bobby", 105, 100, 0);
    zsim_tick(sim, 0); /* Alice learns of Bobby */
    clear_caps();
    for (int i = 0; i < 100; i++)
        zsim_tick(sim, 0);
    assert_int_equal(n_caps, 0);
    /* Bobby turns on the spot: still nothing a roster shows */
    move_heading(sim, 2, 45, 1, SPEED_STOP);
    zsim_tick(sim, 0);
    assert_int_equal(n_caps, 0);
    /* Bobby walks: Alice gets deltas */
    move_heading(sim, 2, 90, 1, SPEED_RUN);
    for (int i = 0; i < 20; i++)
        zsim_tick(sim, 0);
    assert_true(count_msgs(1, "proximity_roster_delta") > 0);
    zsim_free(sim);
}

static void test_leaving_player_removed(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    enter(sim, 2, "Bobby", 103, 100, 0);
    zsim_tick(sim, 0);
    clear_caps();
    character_t out;
    assert_int_equal(zsim_player_leave(sim, 2, &out), 0);
    assert_int_equal(out.id, 2);
    assert_int_equal(zsim_player_leave(sim, 2, NULL), -1);
    zsim_tick(sim, 0);
    json_t *d = last_msg(1, "proximity_roster_delta");
    assert_non_null(d);
    json_t *touch = json_object_get(json_object_get(d, "channels"), "touch");
    assert_string_equal(json_string_value(json_array_get(json_object_get(touch, "removed"), 0)),
                        "char-2");
    assert_int_equal(json_integer_value(json_object_get(touch, "count")), 0);
    assert_int_equal(json_array_size(json_object_get(touch, "sample")), 0);
    json_decref(d);
    zsim_free(sim);
}

static void test_update_rate_coalescing(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(2, 0);
    enter(sim, 1, "Alice", 500, 500, 2); /* 2 Hz client */
    enter(sim, 2, "Bobby", 500, 500, 0); /* full rate */
    enter(sim, 3, "Carol", 500, 510, 0);
    zsim_tick(sim, 0);
    zsim_tick(sim, 0);
    clear_caps();
    move_heading(sim, 3, 90, 1, SPEED_RUN); /* ~19 ft/s past both */
    for (int i = 0; i < 37; i++)            /* 1.85 s: stops between two 2 Hz sends */
        zsim_tick(sim, 0);
    size_t slow = count_msgs(1, "proximity_roster_delta");
    size_t fast = count_msgs(2, "proximity_roster_delta");
    assert_true(slow >= 3 && slow <= 5);
    assert_true(fast > 10);
    /* the slow client's coalesced view matches the fast one's in the end */
    move_heading(sim, 3, 0, 1, SPEED_STOP);
    for (int i = 0; i < 20; i++)
        zsim_tick(sim, 0);
    double r_slow = view_range(1, "see", "char-3");
    double r_fast = view_range(2, "see", "char-3");
    assert_true(r_fast > 0);
    assert_true(fabs(r_slow - r_fast) < 0.01);
    zsim_free(sim);
}

static void test_cfh_danger_and_combat(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 1);
    enter(sim, 1, "Alice", 100, 100, 0);
    /* a call for help outside danger is heard, as the original's was */
    assert_int_equal(chat(sim, 1, CHAT_CFH, "help!"), 0);
    assert_int_equal(count_msgs(1, "chat"), 1);
    assert_int_equal(count_msgs(1, "error"), 0);
    json_t *e;
    /* find a hostile NPC in Alice's world_entry and put Bobby next to it */
    json_t *we = last_msg(1, "world_entry");
    json_t *ents = json_object_get(we, "entities");
    double hx = -1, hz = -1;
    char hid[32] = "";
    for (size_t i = 0; i < json_array_size(ents); i++) {
        json_t *x = json_array_get(ents, i);
        if (!json_is_true(json_object_get(x, "hostile"))) continue;
        json_t *pos = json_object_get(x, "position");
        hx = json_number_value(json_object_get(pos, "x"));
        hz = json_number_value(json_object_get(pos, "z"));
        snprintf(hid, sizeof(hid), "%s", json_string_value(json_object_get(x, "id")));
        break;
    }
    json_decref(we);
    assert_true(hx >= 0 && hid[0]);
    assert_true(hypot(hx - 100, hz - 100) > 45); /* spawn is safe */
    enter(sim, 2, "Bobby", hx, hz + 3 <= 200 ? hz + 3 : hz - 3, 0);
    json_t *r = last_msg(2, "proximity_roster");
    assert_false(json_is_true(json_object_get(r, "dangerState"))); /* near, not yet noticed */
    json_t *danger = json_object_get(r, "danger");
    assert_string_equal(json_string_value(json_object_get(danger, "level")), "safe");
    json_decref(r);
    zsim_tick(sim, 0); /* it notices Bobby within its aggro radius */
    r = last_msg(2, "proximity_roster_delta");
    assert_true(json_is_true(json_object_get(r, "dangerState")));
    danger = json_object_get(r, "danger");
    assert_string_equal(json_string_value(json_object_get(danger, "level")), "danger");
    assert_true(json_integer_value(json_object_get(danger, "hostilesNearby")) >= 1);
    json_decref(r);
    clear_caps();
    assert_int_equal(chat(sim, 2, CHAT_CFH, "help!"), 0);
    json_t *m = last_msg(1, "chat"); /* Alice is within 250 ft */
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "channel")), "cfh");
    json_decref(m);

    /* attack it (docs/GAME.md): combat_action, then a hit or a miss of basic_attack */
    msg_combat_t c;
    memset(&c, 0, sizeof(c));
    snprintf(c.ability_id, sizeof(c.ability_id), "basic_attack");
    snprintf(c.target_id, sizeof(c.target_id), "%s", hid);
    assert_int_equal(zsim_player_combat(sim, 2, &c), 0);
    json_t *ev = last_msg(2, "event");
    assert_non_null(ev);
    const char *et = json_string_value(json_object_get(ev, "eventType"));
    assert_true(strcmp(et, "combat_hit") == 0 || strcmp(et, "combat_miss") == 0);
    assert_string_equal(json_string_value(json_object_get(ev, "abilityId")), "basic_attack");
    json_decref(ev);
    /* Alice is too far to hit it */
    assert_int_equal(zsim_player_combat(sim, 1, &c), -1);
    e = last_msg(1, "event");
    assert_string_equal(json_string_value(json_object_get(e, "eventType")), "combat_error");
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "out_of_range");
    json_decref(e);
    /* examine the merchant from spawn */
    msg_interact_t in = {.action = ACT_EXAMINE};
    snprintf(in.target_id, sizeof(in.target_id), "npc-1");
    assert_int_equal(zsim_player_interact(sim, 1, &in), 0);
    ev = last_msg(1, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "eventType")), "examine");
    assert_non_null(json_object_get(ev, "narrative"));
    json_decref(ev);
    in.action = ACT_TALK;
    assert_int_equal(zsim_player_interact(sim, 1, &in), 0);
    ev = last_msg(1, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "eventType")), "dialogue");
    assert_string_equal(json_string_value(json_object_get(ev, "line")), "Lamp oil, rope?");
    json_decref(ev);
    /* the merchant is friendly: no attacking him */
    snprintf(c.target_id, sizeof(c.target_id), "npc-1");
    assert_int_equal(zsim_player_combat(sim, 1, &c), -1);
    e = last_msg(1, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "INVALID_TARGET");
    json_decref(e);
    /* the dog cannot talk */
    snprintf(in.target_id, sizeof(in.target_id), "%s", hid);
    assert_int_equal(zsim_player_interact(sim, 2, &in), -1);
    e = last_msg(2, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "CANNOT_TALK");
    json_decref(e);
    snprintf(in.target_id, sizeof(in.target_id), "npc-99");
    assert_int_equal(zsim_player_interact(sim, 1, &in), -1);
    zsim_free(sim);
}

/* The first event of `event_type` to player `ref` (from `attacker`, if
 * not NULL) among the captured messages, or NULL. */
static json_t *find_event(uint64_t ref, const char *event_type, const char *attacker)
{
    for (size_t i = 0; i < n_caps; i++) {
        if (caps[i].ref != ref || strcmp(caps[i].type, "event") != 0) continue;
        json_t *ev = json_loads(caps[i].payload, 0, NULL);
        const char *et = json_string_value(json_object_get(ev, "eventType"));
        const char *at = json_string_value(json_object_get(ev, "attackerId"));
        if (et && !strcmp(et, event_type) && (!attacker || (at && !strcmp(at, attacker))))
            return ev;
        json_decref(ev);
    }
    return NULL;
}

/* dangerState of the last roster (delta) sent to `ref`: 1, 0, or -1 if none. */
static int last_danger(uint64_t ref)
{
    json_t *r = last_msg(ref, "proximity_roster_delta");
    if (!r) return -1;
    const char *lvl = json_string_value(json_object_get(json_object_get(r, "danger"), "level"));
    int v = lvl ? !strcmp(lvl, "danger") : -1;
    json_decref(r);
    return v;
}

/* The dog bites whoever it is aggroed on: its AI decides, the combat
 * engine rolls the bite by the players' rules (npc_strike ->
 * combat_strike), with the dog's own level and stats. It dies, cannot be
 * targeted while dead, and respawns at home after the delay. */
static void test_npc_strikes_dies_and_respawns(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 1);
    character_t ch = make_char(2, "Bobby", "zone-crossroads", 30, 36); /* 6 ft from the dog */
    ch.strength = ch.vitality = 60;                                    /* outlasts the dog */
    ch.hp = 1000000;                                                   /* capped to max */
    assert_int_equal(zsim_player_enter(sim, 2, &ch, 0, 1), 0);
    int hp0 = zsim_player(sim, 2)->hp;
    json_t *hit = NULL;
    for (int i = 0; i < 400 && !hit; i++) {
        clear_caps();
        zsim_tick(sim, 0);
        hit = find_event(2, "combat_hit", "npc-2");
    }
    assert_non_null(hit);
    assert_string_equal(json_string_value(json_object_get(hit, "targetId")), "char-2");
    assert_string_equal(json_string_value(json_object_get(hit, "abilityId")), "basic_attack");
    assert_non_null(json_object_get(hit, "outcome"));
    int dmg = (int)json_integer_value(json_object_get(hit, "amount"));
    assert_true(dmg > 0);
    assert_int_equal(zsim_player(sim, 2)->hp, hp0 - dmg);
    assert_int_equal(json_integer_value(json_object_get(hit, "targetHp")), hp0 - dmg);
    json_decref(hit);

    msg_combat_t c;
    memset(&c, 0, sizeof(c));
    snprintf(c.ability_id, sizeof(c.ability_id), "basic_attack");
    snprintf(c.target_id, sizeof(c.target_id), "npc-2");
    json_t *death = NULL;
    for (int i = 0; i < 4000 && !death; i++) {
        clear_caps();
        zsim_player_combat(sim, 2, &c); /* refused (combat_error) while the gauge fills */
        zsim_tick(sim, 0);
        death = find_event(2, "combat_death", "char-2");
    }
    assert_non_null(death);
    assert_string_equal(json_string_value(json_object_get(death, "targetId")), "npc-2");
    json_decref(death);
    assert_true(zsim_player(sim, 2)->is_alive);
    assert_int_equal(zsim_player_combat(sim, 2, &c), -1);
    json_t *e = last_msg(2, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "TARGET_DEAD");
    json_decref(e);
    /* Bobby walks off north-east; out of combat (15 s after the last blow)
     * he is out of danger */
    move_heading(sim, 2, 45, 1, SPEED_RUN);
    for (int i = 0; i < 40; i++)
        zsim_tick(sim, 0);
    move_heading(sim, 2, 45, 1, SPEED_STOP);
    /* 2 s later (mob_respawn_ms) it is back at its spawn point */
    msg_interact_t in = {.action = ACT_EXAMINE};
    snprintf(in.target_id, sizeof(in.target_id), "npc-2");
    assert_int_equal(zsim_player_interact(sim, 2, &in), 0);
    int safe = 0;
    for (int i = 0; i < 400 && !safe; i++) {
        clear_caps();
        zsim_tick(sim, 0);
        safe = last_danger(2) == 0;
    }
    assert_true(safe);
    zsim_free(sim);
}

/* A player the dog has bitten to 0 HP is no target any more: it lets go,
 * the player is out of combat, and its dangerState returns to safe. */
static void test_npc_lets_go_of_a_downed_player(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 1);
    character_t ch = make_char(3, "Carol", "zone-crossroads", 30, 34);
    ch.hp = 20; /* a bite or two */
    assert_int_equal(zsim_player_enter(sim, 3, &ch, 0, 1), 0);
    int was_danger = 0, safe_again = 0, hits = 0;
    for (int i = 0; i < 2000 && !safe_again; i++) {
        clear_caps();
        zsim_tick(sim, 0);
        json_t *ev = find_event(3, "combat_hit", "npc-2");
        hits += ev != NULL;
        json_decref(ev);
        int d = last_danger(3);
        if (d == 1) was_danger = 1;
        if (d == 0 && was_danger) safe_again = 1;
    }
    assert_true(was_danger && safe_again);
    assert_true(hits >= 1);
    assert_int_equal(zsim_player(sim, 3)->hp, 0);
    assert_false(zsim_player(sim, 3)->is_alive);
    zsim_free(sim);
}

static void test_collect_dirty_and_stats(void **state)
{
    (void)state;
    zsim_t *sim = new_sim(0, 0);
    enter(sim, 1, "Alice", 100, 100, 0);
    enter(sim, 2, "Bobby", 50, 50, 0);
    character_t out[4];
    assert_int_equal(zsim_collect_dirty(sim, out, 4), 2); /* entering counts */
    assert_int_equal(zsim_collect_dirty(sim, out, 4), 0);
    move_heading(sim, 1, 90, 1, SPEED_WALK);
    zsim_tick(sim, 0);
    assert_int_equal(zsim_collect_dirty(sim, out, 4), 1);
    assert_int_equal(out[0].id, 1);
    assert_true(out[0].x > 100);
    assert_int_equal(zsim_collect_all(sim, out, 4), 2);
    assert_int_equal(zsim_find_character(sim, 2), 2);
    assert_int_equal(zsim_find_character(sim, 9), 0);
    zsim_tick_stats_t st;
    zsim_tick_stats(sim, &st);
    assert_int_equal(st.ticks, 1);
    assert_true(st.max_ms >= st.p99_ms && st.p99_ms >= st.p50_ms && st.p50_ms >= 0 &&
                st.avg_ms >= 0);
    /* an entering player outside the zone lands on spawn */
    character_t c = make_char(3, "Carol", "zone-crossroads", 900, 900);
    assert_int_equal(zsim_player_enter(sim, 3, &c, 0, 1), 0);
    assert_true(zsim_player(sim, 3)->x == 100 && zsim_player(sim, 3)->z == 100);
    assert_int_equal(zsim_player_enter(sim, 3, &c, 0, 1), -1);
    zsim_free(sim);
}

/* A crowd walking about: per-player delta counts and bytes must not
 * depend on how many threads compute the rosters. */
static void crowd(size_t *msgs, size_t *bytes, int n)
{
    zsim_t *sim = new_sim(2, 1);
    uint32_t r = 7;
    for (int i = 1; i <= n; i++) {
        r = r * 1103515245u + 12345u;
        char name[16];
        snprintf(name, sizeof(name), "Bot%d", i);
        enter(sim, (uint64_t)i, name, 300 + (r >> 16) % 400, 300 + (r >> 8) % 400, i % 3 ? 0 : 5);
        move_heading(sim, (uint64_t)i, (double)((r >> 4) % 360), 1, (move_speed_t)(1 + i % 3));
    }
    clear_caps();
    for (int t = 0; t < 60; t++)
        zsim_tick(sim, 0);
    for (size_t i = 0; i < n_caps; i++) {
        msgs[caps[i].ref]++;
        bytes[caps[i].ref] += strlen(caps[i].payload);
    }
    zsim_free(sim);
}

static void test_threads_same_output(void **state)
{
    (void)state;
    enum { N = 150 };
    static size_t m1[N + 1], b1[N + 1], m2[N + 1], b2[N + 1];
    roster_threads = 1;
    crowd(m1, b1, N);
    roster_threads = 2;
    crowd(m2, b2, N);
    roster_threads = 1;
    size_t total = 0;
    for (int i = 1; i <= N; i++) {
        assert_int_equal(m1[i], m2[i]);
        assert_int_equal(b1[i], b2[i]);
        total += m1[i];
    }
    assert_true(total > (size_t)N * 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_heading_run_east, setup),
        cmocka_unit_test_setup(test_clamped_to_bounds, setup),
        cmocka_unit_test_setup(test_position_move_checked, setup),
        cmocka_unit_test_setup(test_walk_to_point, setup),
        cmocka_unit_test_setup(test_follow_target, setup),
        cmocka_unit_test_setup(test_say_range, setup),
        cmocka_unit_test_setup(test_shout_range, setup),
        cmocka_unit_test_setup(test_shout_into_neighbour, setup),
        cmocka_unit_test_setup(test_cross_north_border, setup),
        cmocka_unit_test_setup(test_cross_held_at_border, setup),
        cmocka_unit_test_setup(test_world_entry_and_roster, setup),
        cmocka_unit_test_setup(test_idle_player_gets_nothing, setup),
        cmocka_unit_test_setup(test_leaving_player_removed, setup),
        cmocka_unit_test_setup(test_update_rate_coalescing, setup),
        cmocka_unit_test_setup(test_cfh_danger_and_combat, setup),
        cmocka_unit_test_setup(test_npc_strikes_dies_and_respawns, setup),
        cmocka_unit_test_setup(test_npc_lets_go_of_a_downed_player, setup),
        cmocka_unit_test_setup(test_collect_dirty_and_stats, setup),
        cmocka_unit_test_setup(test_threads_same_output, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    clear_caps();
    free(caps);
    return rc;
}
