/* envelope.c - see envelope.h and docs/PROTOCOL.md "Bus envelope". */
#include "envelope.h"

#include <string.h>

static void put_str(buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (n > 0xffff) n = 0xffff;
    buf_put_u16(b, (uint16_t)n);
    buf_append(b, s, n);
}

static void put_f64(buf_t *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    buf_put_u64(b, u);
}

static void put_client(buf_t *b, const env_client_t *c)
{
    put_str(b, c->gateway);
    buf_put_u64(b, c->conn);
}

static void put_character(buf_t *b, const character_t *c)
{
    buf_put_u64(b, (uint64_t)c->id);
    buf_put_u64(b, (uint64_t)c->account_id);
    put_str(b, c->name);
    put_str(b, c->description);
    buf_put_u32(b, (uint32_t)c->level);
    buf_put_u64(b, (uint64_t)c->experience);
    put_str(b, c->zone_id);
    put_f64(b, c->x);
    put_f64(b, c->y);
    put_f64(b, c->z);
    put_f64(b, c->heading);
    const int v[] = {c->strength, c->vitality, c->dexterity, c->agility, c->intelligence,
                     c->wisdom,   c->hp,       c->stamina,   c->mana};
    for (int i = 0; i < 9; i++)
        buf_put_u32(b, (uint32_t)v[i]);
    buf_put_u64(b, (uint64_t)c->last_played);
    buf_put_u8(b, (uint8_t)(c->is_alive != 0));
    int n = c->n_items < 0 ? 0 : c->n_items > CHAR_INV_MAX ? CHAR_INV_MAX : c->n_items;
    buf_put_u8(b, (uint8_t)n);
    for (int i = 0; i < n; i++) {
        put_str(b, c->items[i].item_id);
        buf_put_u32(b, (uint32_t)c->items[i].quantity);
        buf_put_u8(b, (uint8_t)(c->items[i].equipped != 0));
    }
}

void env_begin(buf_t *b)
{
    buf_reset(b);
    buf_put_u8(b, ENV_MAGIC);
    buf_put_u8(b, ENV_VERSION);
}

void env_put_epoch(buf_t *b, const char *zone, uint64_t epoch)
{
    buf_put_u8(b, ENV_EPOCH);
    put_str(b, zone);
    buf_put_u64(b, epoch);
}

env_msg_class_t env_msg_class(const char *type, size_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(type, lit, len) == 0)
    if (IS("proximity_roster_delta")) return ENV_MSG_ROSTER_DELTA;
    if (IS("proximity_roster")) return ENV_MSG_ROSTER;
    if (IS("chat")) return ENV_MSG_CHAT;
    if (IS("roster_compact_delta")) return ENV_MSG_COMPACT_DELTA;
    if (IS("roster_compact")) return ENV_MSG_COMPACT;
    return ENV_MSG_OTHER;
#undef IS
}

static void put_deliver(buf_t *b, uint64_t conn, const char *type, size_t type_len,
                        const char *payload, size_t len)
{
    buf_put_u8(b, ENV_DELIVER);
    buf_put_u64(b, conn);
    buf_put_u8(b, (uint8_t)env_msg_class(type, type_len));
    buf_put_u16(b, (uint16_t)type_len);
    buf_append(b, type, type_len);
    buf_put_blob(b, payload, len);
}

void env_put_deliver(buf_t *b, uint64_t conn, const char *type, const char *payload, size_t len)
{
    put_deliver(b, conn, type, strlen(type), payload, len);
}

void env_put(buf_t *b, const env_rec_t *r)
{
    if (r->kind == ENV_DELIVER) {
        put_deliver(b, r->client.conn, r->type, r->type_len, r->payload, r->payload_len);
        return;
    }
    buf_put_u8(b, (uint8_t)r->kind);
    switch (r->kind) {
    case ENV_ENTER:
        put_client(b, &r->client);
        put_character(b, &r->u.enter.ch);
        put_f64(b, r->u.enter.max_update_rate);
        buf_put_u8(b, (uint8_t)r->u.enter.entry);
        buf_put_u8(b, (uint8_t)r->u.enter.client_flags);
        break;
    case ENV_LEAVE:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        break;
    case ENV_MOVE:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        buf_put_u8(b, (uint8_t)r->u.move.method);
        buf_put_u8(b, (uint8_t)r->u.move.has_speed);
        buf_put_u8(b, (uint8_t)r->u.move.speed);
        put_f64(b, r->u.move.heading);
        put_f64(b, r->u.move.x);
        put_f64(b, r->u.move.y);
        put_f64(b, r->u.move.z);
        put_str(b, r->u.move.target_id);
        put_f64(b, r->u.move.range_ft);
        put_f64(b, r->u.move.distance_ft);
        break;
    case ENV_CHAT:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        buf_put_u8(b, (uint8_t)r->u.chat.channel);
        put_str(b, r->u.chat.message);
        put_str(b, r->u.chat.target);
        break;
    case ENV_INTERACT:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        put_str(b, r->u.interact.target_id);
        buf_put_u8(b, (uint8_t)r->u.interact.action);
        break;
    case ENV_COMBAT:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        put_str(b, r->u.combat.ability_id);
        put_str(b, r->u.combat.target_id);
        break;
    case ENV_SHOUT:
        buf_put_u64(b, (uint64_t)r->u.shout.sender_id);
        put_str(b, r->u.shout.sender_name);
        put_str(b, r->u.shout.sender_type);
        buf_put_u8(b, (uint8_t)r->u.shout.channel);
        put_f64(b, r->u.shout.wx);
        put_f64(b, r->u.shout.wy);
        put_f64(b, r->u.shout.wz);
        put_str(b, r->u.shout.content);
        break;
    case ENV_ROUTE:
        buf_put_u64(b, r->client.conn);
        buf_put_u64(b, (uint64_t)r->character_id);
        put_str(b, r->u.route.zone);
        break;
    case ENV_KICK:
        buf_put_u64(b, r->client.conn);
        put_str(b, r->u.kick.code);
        put_str(b, r->u.kick.message);
        break;
    case ENV_RESYNC:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        break;
    case ENV_ADMIN_QUERY:
        put_client(b, &r->client);
        break;
    case ENV_ADMIN_SNAPSHOT:
        put_str(b, r->u.route.zone);
        buf_put_blob(b, r->payload, r->payload_len);
        break;
    case ENV_ADMIN_KICK:
        put_str(b, r->u.whisper.target);
        buf_put_blob(b, r->payload, r->payload_len);
        break;
    case ENV_EPOCH:
        put_str(b, r->u.fence.zone);
        buf_put_u64(b, r->u.fence.epoch);
        break;
    case ENV_UNKNOWN:
        buf_put_u64(b, r->client.conn);
        buf_put_u64(b, (uint64_t)r->character_id);
        put_str(b, r->u.route.zone);
        break;
    case ENV_COMMAND:
        put_client(b, &r->client);
        buf_put_u64(b, (uint64_t)r->character_id);
        put_str(b, r->u.command.text);
        break;
    case ENV_WHISPER:
        put_str(b, r->u.whisper.target);
        /* fall through */
    case ENV_BROADCAST:
        buf_put_u16(b, (uint16_t)r->type_len);
        buf_append(b, r->type, r->type_len);
        buf_put_blob(b, r->payload, r->payload_len);
        break;
    default:
        break;
    }
}

/* ---- decoding: every getter checks bounds and sets r->p = NULL on error */

static int need(env_reader_t *r, size_t n)
{
    if (!r->p || (size_t)(r->end - r->p) < n) {
        r->p = NULL;
        return 0;
    }
    return 1;
}

static uint64_t get_uint(env_reader_t *r, int bytes)
{
    if (!need(r, (size_t)bytes)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    return v;
}

static double get_f64(env_reader_t *r)
{
    uint64_t u = get_uint(r, 8);
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

/* Borrowed string of a u16 length. */
static const char *get_span(env_reader_t *r, size_t *len, int blob)
{
    *len = (size_t)get_uint(r, blob ? 4 : 2);
    if (!need(r, *len)) return NULL;
    const char *s = (const char *)r->p;
    r->p += *len;
    return s;
}

/* Copies a string into a fixed buffer; too long or an embedded NUL is an error. */
static void get_str(env_reader_t *r, char *out, size_t cap)
{
    size_t n;
    const char *s = get_span(r, &n, 0);
    if (!s || n >= cap || memchr(s, 0, n)) {
        r->p = NULL;
        out[0] = '\0';
        return;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static void get_client(env_reader_t *r, env_client_t *c)
{
    get_str(r, c->gateway, sizeof(c->gateway));
    c->conn = get_uint(r, 8);
}

static int get_enum(env_reader_t *r, int max)
{
    int v = (int)get_uint(r, 1);
    if (v > max) r->p = NULL;
    return v;
}

static void get_character(env_reader_t *r, character_t *c)
{
    memset(c, 0, sizeof(*c));
    c->id = (int64_t)get_uint(r, 8);
    c->account_id = (int64_t)get_uint(r, 8);
    get_str(r, c->name, sizeof(c->name));
    get_str(r, c->description, sizeof(c->description));
    c->level = (int)get_uint(r, 4);
    c->experience = (int64_t)get_uint(r, 8);
    get_str(r, c->zone_id, sizeof(c->zone_id));
    c->x = get_f64(r);
    c->y = get_f64(r);
    c->z = get_f64(r);
    c->heading = get_f64(r);
    int *v[] = {&c->strength, &c->vitality, &c->dexterity, &c->agility, &c->intelligence,
                &c->wisdom,   &c->hp,       &c->stamina,   &c->mana};
    for (int i = 0; i < 9; i++)
        *v[i] = (int)(int32_t)get_uint(r, 4);
    c->last_played = (int64_t)get_uint(r, 8);
    c->is_alive = get_enum(r, 1);
    c->n_items = get_enum(r, CHAR_INV_MAX);
    for (int i = 0; i < c->n_items && r->p; i++) {
        get_str(r, c->items[i].item_id, sizeof(c->items[i].item_id));
        c->items[i].quantity = (int)(int32_t)get_uint(r, 4);
        c->items[i].equipped = get_enum(r, 1);
        if (c->items[i].quantity < 1) r->p = NULL; /* an empty stack is never sent */
    }
}

int env_reader_init(env_reader_t *r, const char *data, size_t len)
{
    r->p = (const uint8_t *)data;
    r->end = r->p + len;
    if (len < 2 || r->p[0] != ENV_MAGIC || r->p[1] != ENV_VERSION) return -1;
    r->p += 2;
    return 0;
}

int env_next(env_reader_t *r, env_rec_t *rec)
{
    if (!r->p) return -1;
    if (r->p == r->end) return 0;
    /* Not a memset of the whole record (~2 KiB, mostly the character of
     * ENTER) per record: the common fields are reset here and each kind
     * clears the union member it fills. */
    rec->client.gateway[0] = '\0';
    rec->client.conn = 0;
    rec->character_id = 0;
    rec->type = rec->payload = NULL;
    rec->type_len = rec->payload_len = 0;
    rec->msg_class = ENV_MSG_OTHER;
    int kind = (int)get_uint(r, 1);
    if (kind <= 0 || kind >= ENV_KIND_MAX) {
        r->p = NULL; /* the error sticks: nothing after it can be trusted */
        return -1;
    }
    rec->kind = (env_kind_t)kind;
    switch (rec->kind) {
    case ENV_ENTER: /* every field is set; get_character clears the character */
        get_client(r, &rec->client);
        get_character(r, &rec->u.enter.ch);
        rec->u.enter.max_update_rate = get_f64(r);
        rec->u.enter.entry = get_enum(r, ENV_ENTRY_RECOVER);
        rec->u.enter.client_flags =
            (unsigned)get_enum(r, MSG_CLIENT_MACHINE | MSG_CLIENT_POSITIONS | MSG_CLIENT_COMPACT);
        rec->character_id = rec->u.enter.ch.id;
        break;
    case ENV_LEAVE:
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        break;
    case ENV_MOVE:
        memset(&rec->u.move, 0, sizeof(rec->u.move));
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        rec->u.move.method = (move_method_t)get_enum(r, MOVE_FOLLOW);
        rec->u.move.has_speed = get_enum(r, 1);
        rec->u.move.speed = (move_speed_t)get_enum(r, SPEED_RUN);
        rec->u.move.heading = get_f64(r);
        rec->u.move.x = get_f64(r);
        rec->u.move.y = get_f64(r);
        rec->u.move.z = get_f64(r);
        get_str(r, rec->u.move.target_id, sizeof(rec->u.move.target_id));
        rec->u.move.range_ft = get_f64(r);
        rec->u.move.distance_ft = get_f64(r);
        break;
    case ENV_CHAT:
        memset(&rec->u.chat, 0, sizeof(rec->u.chat));
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        rec->u.chat.channel = (chat_channel_t)get_enum(r, CHAT_WORLD);
        get_str(r, rec->u.chat.message, sizeof(rec->u.chat.message));
        get_str(r, rec->u.chat.target, sizeof(rec->u.chat.target));
        break;
    case ENV_INTERACT:
        memset(&rec->u.interact, 0, sizeof(rec->u.interact));
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        get_str(r, rec->u.interact.target_id, sizeof(rec->u.interact.target_id));
        rec->u.interact.action = (interact_action_t)get_enum(r, ACT_EXAMINE);
        break;
    case ENV_COMBAT:
        memset(&rec->u.combat, 0, sizeof(rec->u.combat));
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        get_str(r, rec->u.combat.ability_id, sizeof(rec->u.combat.ability_id));
        get_str(r, rec->u.combat.target_id, sizeof(rec->u.combat.target_id));
        break;
    case ENV_SHOUT:
        memset(&rec->u.shout, 0, sizeof(rec->u.shout));
        rec->u.shout.sender_id = (int64_t)get_uint(r, 8);
        get_str(r, rec->u.shout.sender_name, sizeof(rec->u.shout.sender_name));
        get_str(r, rec->u.shout.sender_type, sizeof(rec->u.shout.sender_type));
        rec->u.shout.channel = (chat_channel_t)get_enum(r, CHAT_WORLD);
        rec->u.shout.wx = get_f64(r);
        rec->u.shout.wy = get_f64(r);
        rec->u.shout.wz = get_f64(r);
        get_str(r, rec->u.shout.content, sizeof(rec->u.shout.content));
        break;
    case ENV_DELIVER:
        rec->client.conn = get_uint(r, 8);
        rec->msg_class = (env_msg_class_t)get_enum(r, ENV_MSG_CLASS_MAX - 1);
        rec->type = get_span(r, &rec->type_len, 0);
        rec->payload = get_span(r, &rec->payload_len, 1);
        break;
    case ENV_ROUTE:
        rec->client.conn = get_uint(r, 8);
        rec->character_id = (int64_t)get_uint(r, 8);
        get_str(r, rec->u.route.zone, sizeof(rec->u.route.zone));
        break;
    case ENV_KICK:
        rec->client.conn = get_uint(r, 8);
        get_str(r, rec->u.kick.code, sizeof(rec->u.kick.code));
        get_str(r, rec->u.kick.message, sizeof(rec->u.kick.message));
        break;
    case ENV_RESYNC:
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        break;
    case ENV_ADMIN_QUERY:
        get_client(r, &rec->client);
        break;
    case ENV_ADMIN_SNAPSHOT:
        get_str(r, rec->u.route.zone, sizeof(rec->u.route.zone));
        rec->payload = get_span(r, &rec->payload_len, 1);
        break;
    case ENV_ADMIN_KICK:
        get_str(r, rec->u.whisper.target, sizeof(rec->u.whisper.target));
        rec->payload = get_span(r, &rec->payload_len, 1);
        break;
    case ENV_EPOCH:
        get_str(r, rec->u.fence.zone, sizeof(rec->u.fence.zone));
        rec->u.fence.epoch = get_uint(r, 8);
        break;
    case ENV_UNKNOWN:
        rec->client.conn = get_uint(r, 8);
        rec->character_id = (int64_t)get_uint(r, 8);
        get_str(r, rec->u.route.zone, sizeof(rec->u.route.zone));
        break;
    case ENV_COMMAND:
        get_client(r, &rec->client);
        rec->character_id = (int64_t)get_uint(r, 8);
        get_str(r, rec->u.command.text, sizeof(rec->u.command.text));
        break;
    case ENV_WHISPER:
        get_str(r, rec->u.whisper.target, sizeof(rec->u.whisper.target));
        /* fall through */
    case ENV_BROADCAST:
        rec->type = get_span(r, &rec->type_len, 0);
        rec->payload = get_span(r, &rec->payload_len, 1);
        break;
    default:
        r->p = NULL;
        return -1;
    }
    return r->p ? 1 : -1;
}

const char *env_kind_name(env_kind_t k)
{
    static const char *const names[] = {
        "?",           "ENTER",          "LEAVE",      "MOVE",  "CHAT",      "INTERACT", "COMBAT",
        "SHOUT",       "DELIVER",        "ROUTE",      "KICK",  "BROADCAST", "WHISPER",  "RESYNC",
        "ADMIN_QUERY", "ADMIN_SNAPSHOT", "ADMIN_KICK", "EPOCH", "UNKNOWN",   "COMMAND"};
    return (k > 0 && k < ENV_KIND_MAX) ? names[k] : "?";
}
