/* framing_ws.c - the native framing on /ws: one JSON object per text frame,
 * {"type", "payload", "timestamp"} (docs/PROTOCOL.md "Envelope"). No
 * greeting and no heartbeat of its own: clients send `ping` messages. */
#include "framing.h"
#include "gw.h"
#include "../core/clock.h"

#include <string.h>

static int ws_accepts(struct lws *wsi, const char *uri)
{
    (void)wsi;
    return strcmp(uri, "/ws") == 0 || strcmp(uri, "/ws/") == 0;
}

static void ws_open(gw_conn_t *c)
{
    (void)c;
}

static void ws_on_frame(gw_conn_t *c, const char *data, size_t len)
{
    msg_t m; /* ~2 KiB: on the stack, not a malloc per frame */
    const char *code;
    char err[200];
    if (msg_decode_native(data, len, &m, &code, err, sizeof(err)) < 0) {
        gw_session_bad_frame(c, code, err);
        return;
    }
    c->bad_frames = 0;
    gw_session_on_msg(c, &m);
}

static int ws_encode(gw_conn_t *c, buf_t *out, const char *type, size_t type_len,
                     const char *payload, size_t len)
{
    (void)c;
    buf_puts(out, "{\"type\":");
    buf_json_strn(out, type, type_len);
    buf_puts(out, ",\"payload\":");
    buf_append(out, payload, len);
    buf_printf(out, ",\"timestamp\":%llu}", (unsigned long long)clock_wall_ms());
    return 0;
}

static void ws_close(gw_conn_t *c, int code)
{
    (void)c;
    (void)code;
}

const gw_framing_t gw_framing_ws = {
    .name = "ws",
    .binary_frames = 1,
    .accepts = ws_accepts,
    .open = ws_open,
    .on_frame = ws_on_frame,
    .encode = ws_encode,
    .close = ws_close,
};
