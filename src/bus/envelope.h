/* envelope.h - the binary frame format carried on the bus.
 *
 * A frame is a 2-byte header ('W', version) followed by records until the
 * end. Every record starts with a u8 kind; integers are little-endian,
 * strings are u16 length + bytes, blobs u32 length + bytes. One frame
 * batches many records: a zone server sends one frame per gateway per
 * tick, a gateway one frame per zone per loop iteration. The format is
 * specified in docs/PROTOCOL.md ("Bus envelope"); `wod-server bus-tail`
 * prints frames as text. */
#ifndef WOD_ENVELOPE_H
#define WOD_ENVELOPE_H

#include "../core/buf.h"
#include "../game/character.h"
#include "../proto/msg.h"

#include <stddef.h>
#include <stdint.h>

#define ENV_MAGIC   'W'
#define ENV_VERSION 2 /* 2: DELIVER carries a message class byte */
#define ENV_GW_MAX  63

typedef enum {
    /* gateway -> zone:{id}:input */
    ENV_ENTER = 1, /* a player enters the world (or a zone, on transfer) */
    ENV_LEAVE,     /* a player leaves (logout, disconnect) */
    ENV_MOVE,
    ENV_CHAT,
    ENV_INTERACT,
    ENV_COMBAT,
    /* zone -> zone:{id}:input */
    ENV_SHOUT, /* a shout reaching over a border */
    /* zone -> gateway:{id}:output */
    ENV_DELIVER, /* one protocol message for one client, forwarded verbatim */
    ENV_ROUTE,   /* the client's character is now in another zone */
    ENV_KICK,    /* close the client with an error */
    /* gateway -> gateway:output (every gateway) */
    ENV_BROADCAST, /* to every client in the world (world chat) */
    ENV_WHISPER,   /* to the client playing a named character */
    /* gateway -> zone:{id}:input */
    ENV_RESYNC, /* character 0: send every player full rosters (bus traffic lost);
                 * else that player's (its gateway dropped deltas) */
    /* admin console (src/gateway/admin.c) */
    ENV_ADMIN_QUERY,    /* gateway -> zone:{id}:input: send me the zone's entities */
    ENV_ADMIN_SNAPSHOT, /* zone -> gateway:{id}:output: the answer (zone, JSON) */
    ENV_ADMIN_KICK,     /* gateway -> gateway:output: close the named character's client */
    /* zone -> gateway:{id}:output */
    ENV_EPOCH,   /* the records after it, up to the next EPOCH, come from the owner
                  * of a zone at this fencing epoch; older epochs are dropped */
    ENV_UNKNOWN, /* input named a player this zone does not host: re-enter it */
    /* gateway -> zone:{id}:input */
    ENV_COMMAND, /* a slash command line, raw (the zone parses it: src/sim/cmd.c) */
    ENV_KIND_MAX
} env_kind_t;

/* Why a player enters a zone. */
typedef enum {
    ENV_ENTRY_TRANSFER = 0, /* walked over a border (state_update + roster) */
    ENV_ENTRY_LOGIN = 1,    /* character_select/create (world_entry + roster) */
    ENV_ENTRY_RECOVER = 2,  /* its zone moved to a new server (event + roster) */
} env_entry_t;

/* What a gateway must know of a DELIVER message to queue it, without
 * reading its type (docs/PROTOCOL.md "Bus envelope"). Set by the writer
 * from the type (env_msg_class); the gateway only switches on it. */
typedef enum {
    ENV_MSG_OTHER = 0,     /* high lane, never dropped */
    ENV_MSG_ROSTER_DELTA,  /* proximity_roster_delta: low lane, dropped for a backed-up client */
    ENV_MSG_ROSTER,        /* proximity_roster: a full roster, ends such a drop */
    ENV_MSG_CHAT,          /* chat: sent as `communication` to clients that asked */
    ENV_MSG_COMPACT_DELTA, /* roster_compact_delta: as ROSTER_DELTA, a binary frame */
    ENV_MSG_COMPACT,       /* roster_compact: as ROSTER, a binary frame (docs/PROTOCOL.md) */
    ENV_MSG_CLASS_MAX
} env_msg_class_t;

/* The class of a message type (len bytes, not NUL-terminated). */
env_msg_class_t env_msg_class(const char *type, size_t len);

/* Where a client lives: which gateway, which connection on it. */
typedef struct env_client_s {
    char gateway[ENV_GW_MAX + 1];
    uint64_t conn; /* gateway connection id {slot, generation} */
} env_client_t;

/* One decoded record. Pointers (type, payload) point into the frame. */
typedef struct env_rec_s {
    env_kind_t kind;
    env_client_t client;  /* ENTER..COMBAT, COMMAND, KICK(conn only), DELIVER(conn), ROUTE(conn),
                           * ADMIN_QUERY (gateway only), UNKNOWN (conn) */
    int64_t character_id; /* LEAVE..COMBAT, COMMAND, ROUTE, UNKNOWN */
    union {
        struct {
            character_t ch;
            double max_update_rate;
            int entry;             /* env_entry_t */
            unsigned client_flags; /* MSG_CLIENT_* of the client's handshake */
        } enter;
        msg_move_t move;
        msg_chat_t chat;
        msg_interact_t interact;
        msg_combat_t combat;
        msg_shout_t shout;
        msg_command_t command;
        struct {
            char zone[ZONE_ID_MAX + 1];
        } route; /* ROUTE; UNKNOWN: the zone that does not know the player */
        struct {
            char zone[ZONE_ID_MAX + 1];
            uint64_t epoch;
        } fence; /* EPOCH */
        struct {
            char code[32];
            char message[128];
        } kick;
        struct {
            char target[CHAR_NAME_MAX + 1]; /* WHISPER, ADMIN_KICK */
        } whisper;
    } u;
    const char *type; /* DELIVER, BROADCAST, WHISPER, not NUL-terminated */
    size_t type_len;
    env_msg_class_t msg_class; /* DELIVER (decoded; the writer derives it from type) */
    const char *payload;       /* JSON bytes (ADMIN_KICK: the reason text) */
    size_t payload_len;
} env_rec_t;

/* Starts a frame in an empty buffer. */
void env_begin(buf_t *b);
/* Appends one record. Fields not used by rec->kind are ignored. */
void env_put(buf_t *b, const env_rec_t *rec);
/* Appends an EPOCH record: what follows comes from zone's owner at epoch. */
void env_put_epoch(buf_t *b, const char *zone, uint64_t epoch);
/* Fast path for DELIVER: no env_rec_t needed. */
void env_put_deliver(buf_t *b, uint64_t conn, const char *type, const char *payload, size_t len);

typedef struct env_reader_s {
    const uint8_t *p, *end;
} env_reader_t;

/* Checks the header. Returns 0 or -1 (not a frame). */
int env_reader_init(env_reader_t *r, const char *data, size_t len);
/* Decodes the next record: 1 = got one, 0 = end of frame, -1 = malformed
 * (the rest of the frame is unusable). Sets kind, client, character_id,
 * type, payload, msg_class (zero when the kind has none) and the union
 * member of that kind; other union members keep whatever they held. */
int env_next(env_reader_t *r, env_rec_t *rec);

const char *env_kind_name(env_kind_t k);

#endif
