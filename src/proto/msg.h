/* msg.h - client protocol messages as typed structs.
 *
 * Untrusted client input is validated here, once, at the edge: the
 * decoder turns a message type and its JSON payload into one of these
 * structs or an error code + reason. Nothing past the gateway sees raw
 * client JSON. Shapes follow docs/PROTOCOL.md. */
#ifndef WOD_MSG_H
#define WOD_MSG_H

#include "../core/buf.h"
#include "../game/character.h"

#include <jansson.h>
#include <stdint.h>

#define MSG_MAX_FRAME_BYTES (64 * 1024) /* a bigger client frame closes the connection */
#define MSG_CHAT_MAX        500         /* characters of chat content */
#define MSG_TOKEN_MAX       128
#define MSG_USERNAME_MAX    32
#define MSG_PASSWORD_MAX    128
#define MSG_REASON_MAX      127
#define MSG_MOVE_MAX_FT     100000.0 /* move range/distance bound */

typedef enum {
    MSG_HANDSHAKE = 1,
    MSG_AUTH,
    MSG_CHARACTER_CREATE,
    MSG_CHARACTER_SELECT,
    MSG_MOVE,
    MSG_CHAT,
    MSG_INTERACT,
    MSG_COMBAT_ACTION,
    MSG_PING,
    MSG_DISCONNECT,
    MSG_PROXIMITY_REFRESH, /* ask for a full proximity_roster again */
    MSG_COMMAND,
} msg_type_t;

typedef enum { CLIENT_TEXT, CLIENT_2D, CLIENT_3D, CLIENT_VR } client_kind_t;

typedef struct {
    char protocol_version[16];
    client_kind_t client_type;
    char client_version[32];
    double max_update_rate; /* capabilities.maxUpdateRate, 0 = unspecified */
    int is_machine;         /* capabilities.isMachine: shown in others' rosters */
    int graphics;           /* capabilities.graphics */
    int communication;      /* capabilities.communication: chat arrives as `communication` */
    int compact;            /* capabilities.encoding "compact": binary rosters (compact.h) */
} msg_handshake_t;

/* What a client's handshake asked of the simulation (a bit set carried to
 * zones in ENTER records): */
#define MSG_CLIENT_MACHINE 1u /* isMachine: others' rosters say so */
#define MSG_CLIENT_POSITIONS                                                                       \
    2u /* graphical (clientType 2d/3d/vr or graphics): state_update positions */
#define MSG_CLIENT_COMPACT                                                                         \
    4u /* rosters and positions in the compact encoding (native /ws only: the gateway decides) */

/* The MSG_CLIENT_* bits of a handshake. */
unsigned msg_client_flags(const msg_handshake_t *h);

typedef enum { AUTH_GUEST, AUTH_CREDENTIALS, AUTH_TOKEN } auth_method_t;

typedef struct {
    auth_method_t method;
    char guest_name[CHAR_NAME_MAX + 1];
    char username[MSG_USERNAME_MAX + 1];
    char password[MSG_PASSWORD_MAX + 1];
    char token[MSG_TOKEN_MAX + 1];
    int register_account; /* credentials with "register": true (our extension) */
} msg_auth_t;

typedef struct {
    char name[CHAR_NAME_MAX + 1];
    char description[CHAR_DESC_MAX + 1];
} msg_character_create_t;

typedef struct {
    int64_t character_id;
} msg_character_select_t;

typedef enum { MOVE_HEADING, MOVE_COMPASS, MOVE_POSITION, MOVE_FOLLOW } move_method_t;
typedef enum { SPEED_STOP = 0, SPEED_WALK, SPEED_JOG, SPEED_RUN } move_speed_t;

/* MOVE_POSITION is the original clients' step without `method`: applied
 * at once when the legs can do it. MOVE_FOLLOW walks to target_id, or to
 * (x, y, z) when target_id is empty (`method: "position"`). */
typedef struct {
    move_method_t method;
    int has_speed;
    move_speed_t speed;
    double heading;     /* degrees 0..360; compass already converted; -1 = keep (a stop) */
    double x, y, z;     /* MOVE_POSITION / point MOVE_FOLLOW target, zone-local */
    char target_id[64]; /* MOVE_FOLLOW: the entity to approach ("char-N", "npc-N") */
    double range_ft;    /* MOVE_FOLLOW: stop within this range (0 = arrival tolerance) */
    double distance_ft; /* MOVE_HEADING/COMPASS: stop after this distance; 0 = until stopped */
} msg_move_t;

typedef enum {
    CHAT_SAY,
    CHAT_SHOUT,
    CHAT_EMOTE,
    CHAT_CFH,
    CHAT_WHISPER,
    CHAT_PARTY,
    CHAT_WORLD,
} chat_channel_t;

typedef struct {
    chat_channel_t channel;
    char message[MSG_CHAT_MAX * 4 + 1]; /* UTF-8, at most MSG_CHAT_MAX characters */
    char target[CHAR_NAME_MAX + 1];     /* whisper target name */
} msg_chat_t;

typedef enum { ACT_TALK, ACT_TRADE, ACT_ATTACK, ACT_USE, ACT_EXAMINE } interact_action_t;

typedef struct {
    char target_id[64];
    interact_action_t action;
} msg_interact_t;

typedef struct {
    char ability_id[64];
    char target_id[64];
} msg_combat_t;

/* A slash command line as typed ("/attack Rabid Dog"). The zone parses
 * it (src/sim/cmd.c); the decoder only bounds its size. */
#define MSG_COMMAND_MAX 500 /* characters; longer lines get a command_response error */
typedef struct {
    char text[MSG_COMMAND_MAX * 4 + 1]; /* UTF-8; byte-bounded here, counted by the zone */
} msg_command_t;

typedef struct {
    double timestamp;
} msg_ping_t;

typedef struct {
    char reason[MSG_REASON_MAX + 1];
} msg_disconnect_t;

typedef struct msg_s {
    msg_type_t type;
    double timestamp; /* payload.timestamp or 0 */
    union {
        msg_handshake_t handshake;
        msg_auth_t auth;
        msg_character_create_t create;
        msg_character_select_t select;
        msg_move_t move;
        msg_chat_t chat;
        msg_interact_t interact;
        msg_combat_t combat;
        msg_ping_t ping;
        msg_disconnect_t disconnect;
        msg_command_t command;
    } u;
} msg_t;

/* Decoder error codes, sent to the client as error.code. */
#define MSG_ERR_PARSE   "INVALID_JSON"
#define MSG_ERR_TYPE    "UNKNOWN_TYPE"
#define MSG_ERR_PAYLOAD "INVALID_PAYLOAD"
#define MSG_ERR_NAME    "INVALID_NAME" /* also: a name with a control character */

/* Decodes `payload` (may be NULL) of message `type`. Returns 0, or -1
 * with *code set to one of MSG_ERR_* and a reason in err. */
int msg_decode(const char *type, json_t *payload, msg_t *out, const char **code, char *err,
               size_t errlen);

/* Decodes one native /ws frame: {"type": ..., "payload": {...}}. */
int msg_decode_native(const char *data, size_t len, msg_t *out, const char **code, char *err,
                      size_t errlen);

/* Writes the payload of the pong answering a ping with client_ts into
 * out (cap bytes). Returns its length, or -1 if it does not fit. 64
 * bytes always suffice: the timestamps are at most 24 and 20 digits. */
int msg_pong_payload(char *out, size_t cap, double client_ts, uint64_t server_ms);

/* The payload of an `error` message (docs/PROTOCOL.md "Errors"): appends
 * {"code","message","severity" to b, without the closing brace, so that a
 * caller can add fields (MOVE_REJECTED's position); msg_error_json closes it. */
void msg_error_fields(buf_t *b, const char *code, const char *message, const char *severity);
/* The complete payload: {"code","message","severity"}. */
void msg_error_json(buf_t *b, const char *code, const char *message, const char *severity);

/* Name of a chat channel as the protocol spells it. */
const char *msg_chat_channel_name(chat_channel_t c);

/* A shout that reaches over a border, in world coordinates. */
typedef struct msg_shout_s {
    int64_t sender_id;
    char sender_name[CHAR_NAME_MAX + 1];
    char sender_type[16];   /* "player" or "npc" */
    chat_channel_t channel; /* CHAT_SHOUT (others may follow) */
    double wx, wy, wz;      /* sender's world position */
    char content[MSG_CHAT_MAX * 4 + 1];
} msg_shout_t;

#endif
