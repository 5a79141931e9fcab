/* sio.c - Engine.IO v4 / Socket.IO v5 text packet codec.
 *
 * The parser walks the frame left to right exactly once: EIO type digit,
 * then (for messages) the Socket.IO type digit, optional namespace ending
 * in ',', optional ack id digits, and the JSON payload, which must be the
 * rest of the frame. Each Socket.IO type then gets the payload shape the
 * protocol requires, so callers can trust what a successful parse returns.
 * Encoders only append; payload JSON handed to them is trusted and copied. */
#include "sio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sio_type_names[] = {
    "CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK",
};

static void packet_reset(sio_packet_t *p)
{
    p->eio = EIO_NOOP;
    p->sio = SIO_CONNECT;
    p->nsp[0] = '/';
    p->nsp[1] = '\0';
    p->ack_id = -1;
    p->data = NULL;
    p->raw = NULL;
    p->raw_len = 0;
}

static int fail(sio_packet_t *p, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(sio_packet_t *p, char *err, size_t errlen, const char *fmt, ...)
{
    sio_packet_clear(p);
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Checks the payload against what the protocol allows for the packet type. */
static const char *payload_error(const sio_packet_t *p)
{
    const json_t *d = p->data;
    switch (p->sio) {
    case SIO_CONNECT:
        if (p->ack_id >= 0) return "ack id not allowed on CONNECT";
        if (d && !json_is_object(d)) return "CONNECT payload must be an object";
        return NULL;
    case SIO_DISCONNECT:
        if (p->ack_id >= 0) return "ack id not allowed on DISCONNECT";
        if (d) return "DISCONNECT takes no payload";
        return NULL;
    case SIO_CONNECT_ERROR:
        if (p->ack_id >= 0) return "ack id not allowed on CONNECT_ERROR";
        if (!d || !(json_is_object(d) || json_is_string(d)))
            return "CONNECT_ERROR payload must be an object or a string";
        return NULL;
    case SIO_EVENT:
        if (!d || !json_is_array(d) || json_array_size(d) == 0)
            return "EVENT payload must be a non-empty array";
        return NULL;
    case SIO_ACK:
        if (p->ack_id < 0) return "ACK without ack id";
        if (!d || !json_is_array(d)) return "ACK payload must be an array";
        return NULL;
    default:
        return "binary attachments are not supported";
    }
}

/* Parses the Socket.IO packet carried by an Engine.IO message (s = after the '4'). */
static int parse_sio(const char *s, size_t len, sio_packet_t *out, char *err, size_t errlen)
{
    size_t i = 0;

    if (len == 0) return fail(out, err, errlen, "empty Socket.IO packet");
    if (s[0] < '0' || s[0] > '6')
        return fail(out, err, errlen, "unknown Socket.IO packet type 0x%02x",
                    (unsigned)(unsigned char)s[0]);
    out->sio = (sio_type_t)(s[0] - '0');
    if (out->sio == SIO_BINARY_EVENT || out->sio == SIO_BINARY_ACK)
        return fail(out, err, errlen, "binary attachments are not supported");
    i = 1;

    /* Namespace: starts with '/', runs to ',' or the end of the frame. */
    if (i < len && s[i] == '/') {
        size_t start = i;
        while (i < len && s[i] != ',')
            i++;
        size_t n = i - start;
        if (n > SIO_NSP_MAX) return fail(out, err, errlen, "namespace too long");
        for (size_t k = start; k < i; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c < 0x20 || c == 0x7f)
                return fail(out, err, errlen, "control character in namespace");
        }
        memcpy(out->nsp, s + start, n);
        out->nsp[n] = '\0';
        if (i < len) i++; /* the ',' */
    }

    /* Ack id: decimal digits right after the namespace part. */
    if (i < len && s[i] >= '0' && s[i] <= '9') {
        int64_t id = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            id = id * 10 + (s[i] - '0');
            if (id > SIO_ACK_ID_MAX) return fail(out, err, errlen, "bad ack id: out of range");
            i++;
        }
        out->ack_id = id;
    }

    if (i < len) {
        json_error_t jerr;
        out->raw = s + i;
        out->raw_len = len - i;
        out->data = json_loadb(s + i, len - i, JSON_DECODE_ANY, &jerr);
        if (!out->data)
            return fail(out, err, errlen, "invalid JSON in %s packet: %s", sio_type_names[out->sio],
                        jerr.text);
    }

    const char *why = payload_error(out);
    if (why) return fail(out, err, errlen, "%s", why);
    return 0;
}

int sio_parse(const char *buf, size_t len, sio_packet_t *out, char *err, size_t errlen)
{
    packet_reset(out);
    if (err && errlen > 0) err[0] = '\0';
    if (!buf || len == 0) return fail(out, err, errlen, "empty packet");
    if (buf[0] < '0' || buf[0] > '6')
        return fail(out, err, errlen, "unknown Engine.IO packet type 0x%02x",
                    (unsigned)(unsigned char)buf[0]);
    out->eio = (eio_type_t)(buf[0] - '0');
    if (out->eio == EIO_MESSAGE) return parse_sio(buf + 1, len - 1, out, err, errlen);
    if (len > 1) {
        out->raw = buf + 1;
        out->raw_len = len - 1;
    }
    return 0;
}

void sio_packet_clear(sio_packet_t *p)
{
    if (!p) return;
    json_decref(p->data);
    packet_reset(p);
}

int sio_event_args(const sio_packet_t *p, const char **name, json_t **payload)
{
    *name = NULL;
    *payload = NULL;
    if (p->eio != EIO_MESSAGE || p->sio != SIO_EVENT || !json_is_array(p->data)) return -1;
    const char *s = json_string_value(json_array_get(p->data, 0));
    if (!s) return -1;
    *name = s;
    *payload = json_array_get(p->data, 1); /* NULL when absent */
    return 0;
}

void sio_encode_open(buf_t *b, const char *sid, int ping_interval_ms, int ping_timeout_ms,
                     int max_payload)
{
    buf_puts(b, "0{\"sid\":");
    buf_json_str(b, sid);
    buf_printf(b, ",\"upgrades\":[],\"pingInterval\":%d,\"pingTimeout\":%d,\"maxPayload\":%d}",
               ping_interval_ms, ping_timeout_ms, max_payload);
}

void sio_encode_connect(buf_t *b, const char *sid)
{
    buf_puts(b, "40{\"sid\":");
    buf_json_str(b, sid);
    buf_putc(b, '}');
}

void sio_encode_connect_error(buf_t *b, const char *message)
{
    sio_encode_connect_error_nsp(b, NULL, message);
}

void sio_encode_connect_error_nsp(buf_t *b, const char *nsp, const char *message)
{
    buf_puts(b, "44");
    /* The namespace is echoed raw, as on the wire: callers pass what
     * sio_parse() accepted (no ',' and no control characters). */
    if (nsp && strcmp(nsp, "/") != 0) {
        buf_puts(b, nsp);
        buf_putc(b, ',');
    }
    buf_puts(b, "{\"message\":");
    buf_json_str(b, message);
    buf_putc(b, '}');
}

void sio_encode_event(buf_t *b, const char *type, const char *payload_json, size_t len)
{
    sio_encode_event_n(b, type, strlen(type), payload_json, len);
}

void sio_encode_event_n(buf_t *b, const char *type, size_t type_len, const char *payload_json,
                        size_t len)
{
    buf_puts(b, "42[");
    buf_json_strn(b, type, type_len);
    if (payload_json && len > 0) {
        buf_putc(b, ',');
        buf_append(b, payload_json, len);
    }
    buf_putc(b, ']');
}

void sio_encode_ack(buf_t *b, int64_t id, const char *args_array_json, size_t len)
{
    buf_printf(b, "43%lld", (long long)id);
    if (args_array_json && len > 0)
        buf_append(b, args_array_json, len);
    else
        buf_puts(b, "[]");
}

void sio_encode_disconnect(buf_t *b)
{
    buf_puts(b, "41");
}

void sio_encode_ping(buf_t *b)
{
    buf_putc(b, '2');
}

void sio_encode_pong(buf_t *b, const char *probe, size_t len)
{
    buf_putc(b, '3');
    if (probe && len > 0) buf_append(b, probe, len);
}

void sio_encode_close(buf_t *b)
{
    buf_putc(b, '1');
}

void sio_encode_noop(buf_t *b)
{
    buf_putc(b, '6');
}
