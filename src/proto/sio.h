/* sio.h - Engine.IO v4 / Socket.IO v5 packet codec (text frames over WebSocket).
 *
 * A pure codec: it turns one WebSocket text frame into a typed packet and
 * builds the frames we send. No I/O and no session state; the gateway's
 * Socket.IO framing owns the handshake, ping timers and namespace rules.
 *
 * Wire format of one text frame (docs/PROTOCOL.md, "Transports"):
 *
 *   <eio type>[<data>]                    eio type '0'..'6'
 *   4<sio type>[<nsp>,][<ack id>][<json>] Socket.IO packet inside an EIO message
 *
 * Known limits: only text frames; binary packets (Socket.IO types 5 and 6)
 * are refused with "binary attachments are not supported". Long-polling
 * payloads (packets joined by 0x1e) are not parsed here. */
#ifndef WOD_SIO_H
#define WOD_SIO_H

#include "../core/buf.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SIO_NSP_MAX    63                 /* longest namespace we accept, in bytes */
#define SIO_ACK_ID_MAX 9007199254740991LL /* 2^53 - 1: the largest id a JS client can send */

typedef enum {
    EIO_OPEN = 0,
    EIO_CLOSE,
    EIO_PING,
    EIO_PONG,
    EIO_MESSAGE,
    EIO_UPGRADE,
    EIO_NOOP
} eio_type_t;

typedef enum {
    SIO_CONNECT = 0,
    SIO_DISCONNECT,
    SIO_EVENT,
    SIO_ACK,
    SIO_CONNECT_ERROR,
    SIO_BINARY_EVENT,
    SIO_BINARY_ACK
} sio_type_t;

typedef struct sio_packet_s {
    eio_type_t eio;            /* Engine.IO packet type */
    sio_type_t sio;            /* Socket.IO packet type; valid when eio == EIO_MESSAGE */
    char nsp[SIO_NSP_MAX + 1]; /* namespace, "/" when absent */
    int64_t ack_id;            /* -1 when absent; always set on SIO_ACK */
    json_t *data;              /* owned; parsed payload or NULL (event/ack: array; connect:
                                  object; connect error: object or string) */
    const char *raw;           /* borrowed, points into the parsed input, not NUL-terminated:
                                  the data after the EIO type (ping/pong probe, ...) or,
                                  for EIO_MESSAGE, the JSON payload text; NULL when empty */
    size_t raw_len;            /* bytes at raw */
} sio_packet_t;

/* Parses one WebSocket text frame into *out (which needs no prior init).
 * Returns 0, or -1 with a one-line reason in err (truncated to errlen; err
 * may be NULL) and *out left cleared. On success the caller owns out->data
 * and releases it with sio_packet_clear(). Safe on any byte sequence. */
int sio_parse(const char *buf, size_t len, sio_packet_t *out, char *err, size_t errlen);

/* Releases the payload and resets *p to an empty packet. Idempotent. */
void sio_packet_clear(sio_packet_t *p);

/* For SIO_EVENT: *name = first array element (a string), *payload = second
 * element or NULL. Both borrowed from p->data. Returns -1 if p is not an
 * event or its array has no string name. */
int sio_event_args(const sio_packet_t *p, const char **name, json_t **payload);

/* Encoders: each appends one complete text frame to b. Strings are JSON-escaped. */

/* 0{"sid":..,"upgrades":[],"pingInterval":..,"pingTimeout":..,"maxPayload":..} */
void sio_encode_open(buf_t *b, const char *sid, int ping_interval_ms, int ping_timeout_ms,
                     int max_payload);
/* 40{"sid":"..."} - namespace "/" connected. */
void sio_encode_connect(buf_t *b, const char *sid);
/* 44{"message":"..."} - connection to namespace "/" refused. */
void sio_encode_connect_error(buf_t *b, const char *message);
/* 44<nsp>,{"message":"..."} - connection to namespace nsp refused. The reply
 * must name the namespace the client asked for, or its socket for that
 * namespace never hears the refusal; nsp "/" (or NULL) gives the form above. */
void sio_encode_connect_error_nsp(buf_t *b, const char *nsp, const char *message);
/* 42["type",<payload>]: payload_json is copied verbatim (not re-parsed), so it
 * must be one valid JSON value; NULL or len 0 gives 42["type"]. */
void sio_encode_event(buf_t *b, const char *type, const char *payload_json, size_t len);
/* The same with a type of type_len bytes (not NUL-terminated). */
void sio_encode_event_n(buf_t *b, const char *type, size_t type_len, const char *payload_json,
                        size_t len);
/* 43<id><args>: args_array_json is a JSON array copied verbatim; NULL or
 * len 0 gives 43<id>[]. */
void sio_encode_ack(buf_t *b, int64_t id, const char *args_array_json, size_t len);
/* 41 - server-side disconnect from namespace "/". */
void sio_encode_disconnect(buf_t *b);
/* 2 - Engine.IO ping (the server pings in v4). */
void sio_encode_ping(buf_t *b);
/* 3[probe] - Engine.IO pong, echoing a ping's data (e.g. "probe"). */
void sio_encode_pong(buf_t *b, const char *probe, size_t len);
/* 1 - Engine.IO close. */
void sio_encode_close(buf_t *b);
/* 6 - Engine.IO noop. */
void sio_encode_noop(buf_t *b);

#endif
