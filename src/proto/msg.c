/* msg.c - see msg.h. One function per message type: each checks the
 * payload's fields and types and fills the typed struct. */
#include "msg.h"
#include "../core/str.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char **code;
    char *err;
    size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *code, const char *fmt, const char *a)
{
    *c->code = code;
    snprintf(c->err, c->errlen, fmt, a);
    return -1;
}

/* Copies a required (or optional, when out is pre-zeroed) string field. */
static int get_str(ctx_t *c, json_t *obj, const char *key, int required, char *out, size_t cap)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v)) {
        if (required) return fail(c, MSG_ERR_PAYLOAD, "missing field '%s'", key);
        return 0;
    }
    if (!json_is_string(v)) return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be a string", key);
    if (json_string_length(v) >= cap)
        return fail(c, MSG_ERR_PAYLOAD, "field '%s' is too long", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(c, MSG_ERR_PAYLOAD, "field '%s' contains a NUL character", key);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int get_num(ctx_t *c, json_t *obj, const char *key, int required, double *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v)) {
        if (required) return fail(c, MSG_ERR_PAYLOAD, "missing field '%s'", key);
        return 1;
    }
    if (!json_is_number(v)) return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be a number", key);
    double d = json_number_value(v);
    if (!isfinite(d)) return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be finite", key);
    *out = d;
    return 0;
}

/* Length of the control character at s (C0 except tab and newline, DEL,
 * or a UTF-8 encoded C1), 0 if s does not start with one. Such bytes can
 * drive a terminal or log viewer (ESC sequences, BEL, CR overwrites), so
 * they never get past the edge: see docs/PROTOCOL.md, "Text fields". */
static size_t control_len(const unsigned char *s)
{
    if ((s[0] < 0x20 && s[0] != '\n' && s[0] != '\t') || s[0] == 0x7f) return 1;
    if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) return 2;
    return 0;
}

/* Free text (chat, descriptions, reasons) loses its control characters. */
static void strip_controls(char *s)
{
    unsigned char *r = (unsigned char *)s, *w = r;
    while (*r) {
        size_t n = control_len(r);
        if (n) {
            r += n;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

/* A name (character, guest, account, whisper target) with a control
 * character is refused rather than silently changed. */
static int get_name(ctx_t *c, json_t *obj, const char *key, int required, char *out, size_t cap)
{
    if (get_str(c, obj, key, required, out, cap) < 0) return -1;
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        if (control_len(p))
            return fail(c, MSG_ERR_NAME, "field '%s' contains a control character", key);
    return 0;
}

/* Index of `s` in the NULL-terminated names list, or -1. */
static int lookup(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static int get_enum(ctx_t *c, json_t *obj, const char *key, int required, const char *const *names,
                    int *out)
{
    char tmp[32] = "";
    if (get_str(c, obj, key, required, tmp, sizeof(tmp)) < 0) return -1;
    if (!tmp[0] && !required) return 1;
    int i = lookup(tmp, names);
    if (i < 0) return fail(c, MSG_ERR_PAYLOAD, "field '%s' has an unsupported value", key);
    *out = i;
    return 0;
}

static const char *const client_types[] = {"text", "2d", "3d", "vr", NULL};
static const char *const auth_methods[] = {"guest", "credentials", "token", NULL};
static const char *const speeds[] = {"stop", "walk", "jog", "run", NULL};
static const char *const move_methods[] = {"heading", "compass", "position", NULL};
static const char *const compass[] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW", NULL};
static const char *const channels[] = {"say",     "shout", "emote", "cfh",
                                       "whisper", "party", "world", NULL};
static const char *const actions[] = {"talk", "trade", "attack", "use", "examine", NULL};

int msg_pong_payload(char *out, size_t cap, double client_ts, uint64_t server_ms)
{
    /* %.17g round-trips any double in at most 24 characters (a client may
     * send 1e308); whole numbers below 1e17 print as plain integers. */
    const char *fmt = client_ts == floor(client_ts) && fabs(client_ts) < 1e17
                          ? "{\"clientTimestamp\":%.0f,\"serverTimestamp\":%llu}"
                          : "{\"clientTimestamp\":%.17g,\"serverTimestamp\":%llu}";
    return str_fmt(out, cap, fmt, client_ts, (unsigned long long)server_ms);
}

void msg_error_fields(buf_t *b, const char *code, const char *message, const char *severity)
{
    buf_puts(b, "{\"code\":");
    buf_json_str(b, code);
    buf_puts(b, ",\"message\":");
    buf_json_str(b, message);
    buf_puts(b, ",\"severity\":");
    buf_json_str(b, severity);
}

void msg_error_json(buf_t *b, const char *code, const char *message, const char *severity)
{
    msg_error_fields(b, code, message, severity);
    buf_putc(b, '}');
}

const char *msg_chat_channel_name(chat_channel_t ch)
{
    return channels[ch];
}

static int dec_handshake(ctx_t *c, json_t *p, msg_handshake_t *m)
{
    int kind = CLIENT_TEXT;
    if (get_str(c, p, "protocolVersion", 1, m->protocol_version, sizeof(m->protocol_version)) < 0)
        return -1;
    if (get_enum(c, p, "clientType", 0, client_types, &kind) < 0) return -1;
    m->client_type = (client_kind_t)kind;
    if (get_str(c, p, "clientVersion", 0, m->client_version, sizeof(m->client_version)) < 0)
        return -1;
    strip_controls(m->client_version);
    json_t *caps = json_object_get(p, "capabilities");
    if (caps && !json_is_null(caps)) {
        if (!json_is_object(caps))
            return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be an object", "capabilities");
        double rate = 0;
        if (get_num(c, caps, "maxUpdateRate", 0, &rate) < 0) return -1;
        if (rate < 0) return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be >= 0", "maxUpdateRate");
        m->max_update_rate = rate;
        json_t *mach = json_object_get(caps, "isMachine");
        json_t *comm = json_object_get(caps, "communication");
        json_t *gfx = json_object_get(caps, "graphics");
        if ((mach && !json_is_boolean(mach)) || (comm && !json_is_boolean(comm)) ||
            (gfx && !json_is_boolean(gfx)))
            return fail(c, MSG_ERR_PAYLOAD, "capabilities %s must be booleans",
                        "isMachine/communication/graphics");
        m->is_machine = mach && json_is_true(mach);
        m->communication = comm && json_is_true(comm);
        m->graphics = gfx && json_is_true(gfx);
        /* ours: an encoding this server does not know leaves JSON */
        json_t *enc = json_object_get(caps, "encoding");
        if (enc && !json_is_string(enc))
            return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be a string", "encoding");
        m->compact = enc && strcmp(json_string_value(enc), "compact") == 0;
    }
    return 0;
}

unsigned msg_client_flags(const msg_handshake_t *h)
{
    unsigned f = h->is_machine ? MSG_CLIENT_MACHINE : 0;
    if (h->client_type != CLIENT_TEXT || h->graphics) f |= MSG_CLIENT_POSITIONS;
    if (h->compact) f |= MSG_CLIENT_COMPACT;
    return f;
}

static int dec_auth(ctx_t *c, json_t *p, msg_auth_t *m)
{
    int method;
    if (get_enum(c, p, "method", 1, auth_methods, &method) < 0) return -1;
    m->method = (auth_method_t)method;
    switch (m->method) {
    case AUTH_GUEST:
        return get_name(c, p, "guestName", 0, m->guest_name, sizeof(m->guest_name));
    case AUTH_CREDENTIALS: {
        if (get_name(c, p, "username", 1, m->username, sizeof(m->username)) < 0) return -1;
        if (get_str(c, p, "password", 1, m->password, sizeof(m->password)) < 0) return -1;
        json_t *reg = json_object_get(p, "register");
        if (reg && !json_is_boolean(reg))
            return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be a boolean", "register");
        m->register_account = reg && json_is_true(reg);
        return 0;
    }
    case AUTH_TOKEN:
        return get_str(c, p, "token", 1, m->token, sizeof(m->token));
    }
    return -1;
}

static int dec_create(ctx_t *c, json_t *p, msg_character_create_t *m)
{
    if (get_name(c, p, "name", 1, m->name, sizeof(m->name)) < 0) {
        if (strstr(c->err, "too long")) *c->code = "INVALID_NAME";
        return -1;
    }
    json_t *app = json_object_get(p, "appearance");
    if (app && !json_is_null(app)) {
        if (!json_is_object(app))
            return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be an object", "appearance");
        if (get_str(c, app, "description", 0, m->description, sizeof(m->description)) < 0)
            return -1;
        strip_controls(m->description);
    }
    return 0;
}

static int dec_select(ctx_t *c, json_t *p, msg_character_select_t *m)
{
    json_t *v = json_object_get(p, "characterId");
    if (json_is_integer(v)) {
        m->character_id = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        char *end;
        long long id = strtoll(json_string_value(v), &end, 10);
        if (*end == '\0' && end != json_string_value(v)) {
            m->character_id = id;
            return 0;
        }
    }
    return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be a character id", "characterId");
}

/* A follow range: feet, or the reference's named ranges (GAME-REFERENCE 6). */
static int get_range(ctx_t *c, json_t *p, double *out)
{
    static const char *const names[] = {"melee", "short", "medium", "long", NULL};
    static const double feet[] = {5, 20, 50, 150};
    json_t *v = json_object_get(p, "range");
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        int i = lookup(json_string_value(v), names);
        if (i < 0) return fail(c, MSG_ERR_PAYLOAD, "field '%s' has an unsupported value", "range");
        *out = feet[i];
        return 0;
    }
    if (get_num(c, p, "range", 1, out) < 0) return -1;
    if (*out < 0 || *out > MSG_MOVE_MAX_FT)
        return fail(c, MSG_ERR_PAYLOAD, "field '%s' is out of range", "range");
    return 0;
}

static int get_position(ctx_t *c, json_t *p, msg_move_t *m)
{
    json_t *pos = json_object_get(p, "position");
    if (!json_is_object(pos))
        return fail(c, MSG_ERR_PAYLOAD, "missing object field '%s'", "position");
    if (get_num(c, pos, "x", 1, &m->x) < 0 || get_num(c, pos, "z", 1, &m->z) < 0) return -1;
    m->y = 0;
    return get_num(c, pos, "y", 0, &m->y) < 0 ? -1 : 0;
}

/* `move` with or without `method` (docs/PROTOCOL.md "Movement"): an
 * explicit method wins; without one the fields present decide, in the
 * order targetId, position, heading, compass, speed "stop". */
static int dec_move(ctx_t *c, json_t *p, msg_move_t *m)
{
    int method = -1, speed = SPEED_WALK;
    if (get_enum(c, p, "method", 0, move_methods, &method) < 0) return -1;
    int r = get_enum(c, p, "speed", 0, speeds, &speed);
    if (r < 0) return -1;
    m->has_speed = r == 0;
    m->speed = (move_speed_t)speed;
    if (get_str(c, p, "targetId", 0, m->target_id, sizeof(m->target_id)) < 0) return -1;
    if (method < 0) {
        int has_pos = json_object_get(p, "position") != NULL;
        if (m->target_id[0])
            method = MOVE_FOLLOW;
        else if (has_pos)
            method = MOVE_POSITION;
        else if (json_object_get(p, "heading"))
            /* the same as a stop's branch, but compass comes between them */
            /* NOLINTNEXTLINE(bugprone-branch-clone) */
            method = MOVE_HEADING;
        else if (json_object_get(p, "compass"))
            method = MOVE_COMPASS;
        else if (m->has_speed && m->speed == SPEED_STOP)
            method = MOVE_HEADING; /* a stop: the heading is kept */
        else
            return fail(c, MSG_ERR_PAYLOAD,
                        "move needs a method, position, heading, compass, targetId or "
                        "speed 'stop'%s",
                        "");
    } else if (method == MOVE_POSITION) {
        method = MOVE_FOLLOW; /* method "position" walks there */
    }
    m->method = (move_method_t)method;
    double dist = 0;
    if (get_num(c, p, "distance", 0, &dist) < 0) return -1;
    if (dist < 0 || dist > MSG_MOVE_MAX_FT)
        return fail(c, MSG_ERR_PAYLOAD, "field '%s' is out of range", "distance");
    m->distance_ft = dist;
    int stop = m->has_speed && m->speed == SPEED_STOP;
    if (m->method == MOVE_HEADING) {
        m->heading = -1; /* a stop without heading keeps the current one */
        if (get_num(c, p, "heading", !stop, &m->heading) < 0) return -1;
        if (m->heading != -1 && (m->heading < 0 || m->heading > 360))
            return fail(c, MSG_ERR_PAYLOAD, "field '%s' must be 0..360", "heading");
    } else if (m->method == MOVE_COMPASS) {
        int dir;
        if (get_enum(c, p, "compass", 1, compass, &dir) < 0) return -1;
        m->heading = dir * 45.0;
    } else if (m->method == MOVE_FOLLOW) {
        if (get_range(c, p, &m->range_ft) < 0) return -1;
        if (!m->target_id[0] && get_position(c, p, m) < 0) return -1;
    } else if (get_position(c, p, m) < 0) {
        return -1;
    }
    return 0;
}

static int utf8_chars(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int dec_chat(ctx_t *c, json_t *p, msg_chat_t *m)
{
    int ch;
    if (get_enum(c, p, "channel", 1, channels, &ch) < 0) return -1;
    m->channel = (chat_channel_t)ch;
    if (get_str(c, p, "message", 1, m->message, sizeof(m->message)) < 0) {
        if (strstr(c->err, "too long")) *c->code = "MESSAGE_TOO_LONG";
        return -1;
    }
    strip_controls(m->message);
    if (utf8_chars(m->message) > MSG_CHAT_MAX)
        return fail(c, "MESSAGE_TOO_LONG", "chat messages are limited to %s characters", "500");
    if (!m->message[0]) return fail(c, MSG_ERR_PAYLOAD, "field '%s' is empty", "message");
    if (get_name(c, p, "target", m->channel == CHAT_WHISPER, m->target, sizeof(m->target)) < 0)
        return -1;
    return 0;
}

static int dec_interact(ctx_t *c, json_t *p, msg_interact_t *m)
{
    int a;
    if (get_str(c, p, "targetId", 1, m->target_id, sizeof(m->target_id)) < 0) return -1;
    if (get_enum(c, p, "action", 1, actions, &a) < 0) return -1;
    m->action = (interact_action_t)a;
    return 0;
}

static int dec_combat(ctx_t *c, json_t *p, msg_combat_t *m)
{
    if (get_str(c, p, "abilityId", 1, m->ability_id, sizeof(m->ability_id)) < 0) return -1;
    return get_str(c, p, "targetId", 1, m->target_id, sizeof(m->target_id));
}

/* `command`: payload "/look" or {"command": "/look"} (GAME-REFERENCE.md 3). */
static int dec_command(ctx_t *c, json_t *p, msg_command_t *m)
{
    json_t *v = json_is_string(p) ? p : json_object_get(p, "command");
    if (!v || json_is_null(v)) return fail(c, "EMPTY_COMMAND", "missing field '%s'", "command");
    if (!json_is_string(v))
        return fail(c, "EMPTY_COMMAND", "field '%s' must be a string", "command");
    if (json_string_length(v) >= sizeof(m->text))
        return fail(c, "COMMAND_TOO_LONG", "commands are limited to %s characters", "500");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(c, MSG_ERR_PAYLOAD, "field '%s' contains a NUL character", "command");
    memcpy(m->text, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static const char *const type_names[] = {
    "",         "handshake",     "auth", "character_create", "character_select",  "move",    "chat",
    "interact", "combat_action", "ping", "disconnect",       "proximity_refresh", "command", NULL};

int msg_decode(const char *type, json_t *payload, msg_t *out, const char **code, char *err,
               size_t errlen)
{
    ctx_t c = {code, err, errlen};
    memset(out, 0, sizeof(*out));
    int t = lookup(type, type_names);
    if (t <= 0) return fail(&c, MSG_ERR_TYPE, "unknown message type '%.40s'", type);
    out->type = (msg_type_t)t;
    if (payload && json_is_null(payload)) payload = NULL;
    if (out->type == MSG_COMMAND && payload && json_is_string(payload))
        return dec_command(&c, payload, &out->u.command);
    if (payload && !json_is_object(payload))
        return fail(&c, MSG_ERR_PAYLOAD, "payload of '%s' must be an object", type);
    json_t *empty = NULL;
    if (!payload) payload = empty = json_object();
    double ts = 0;
    int rc = get_num(&c, payload, "timestamp", 0, &ts) < 0 ? -1 : 0;
    out->timestamp = ts;
    if (rc == 0) {
        switch (out->type) {
        case MSG_HANDSHAKE:
            rc = dec_handshake(&c, payload, &out->u.handshake);
            break;
        case MSG_AUTH:
            rc = dec_auth(&c, payload, &out->u.auth);
            break;
        case MSG_CHARACTER_CREATE:
            rc = dec_create(&c, payload, &out->u.create);
            break;
        case MSG_CHARACTER_SELECT:
            rc = dec_select(&c, payload, &out->u.select);
            break;
        case MSG_MOVE:
            rc = dec_move(&c, payload, &out->u.move);
            break;
        case MSG_CHAT:
            rc = dec_chat(&c, payload, &out->u.chat);
            break;
        case MSG_INTERACT:
            rc = dec_interact(&c, payload, &out->u.interact);
            break;
        case MSG_COMBAT_ACTION:
            rc = dec_combat(&c, payload, &out->u.combat);
            break;
        case MSG_PING:
            out->u.ping.timestamp = ts;
            break;
        case MSG_PROXIMITY_REFRESH:
            break;
        case MSG_DISCONNECT:
            rc = get_str(&c, payload, "reason", 0, out->u.disconnect.reason,
                         sizeof(out->u.disconnect.reason));
            strip_controls(out->u.disconnect.reason);
            break;
        case MSG_COMMAND:
            rc = dec_command(&c, payload, &out->u.command);
            break;
        }
    }
    json_decref(empty);
    return rc;
}

int msg_decode_native(const char *data, size_t len, msg_t *out, const char **code, char *err,
                      size_t errlen)
{
    ctx_t c = {code, err, errlen};
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        *code = MSG_ERR_PARSE;
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return -1;
    }
    int rc;
    json_t *type = json_object_get(root, "type");
    if (!json_is_object(root))
        rc = fail(&c, MSG_ERR_PAYLOAD, "a message must be a JSON object%s", "");
    else if (!json_is_string(type))
        rc = fail(&c, MSG_ERR_PAYLOAD, "missing string field '%s'", "type");
    else
        rc = msg_decode(json_string_value(type), json_object_get(root, "payload"), out, code, err,
                        errlen);
    json_decref(root);
    return rc;
}
