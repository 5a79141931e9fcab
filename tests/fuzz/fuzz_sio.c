/* fuzz_sio.c - libFuzzer driver for the Engine.IO / Socket.IO packet parser.
 *
 * Feeds arbitrary bytes to sio_parse() as one WebSocket text frame and, on
 * success, walks the event arguments and re-encodes what it can, so both
 * the parser and the packet it returns are exercised. The codec source is
 * included rather than linked: the wod library is built without fuzzer
 * instrumentation, and coverage feedback is what makes the fuzzer useful. */
#include "../../src/proto/sio.c"
#include "../../src/core/alloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sio_packet_t p;
    char err[128];
    /* A heap copy of exactly `size` bytes so ASan catches any read past the frame. */
    char *frame = malloc(size ? size : 1);
    if (!frame) return 0;
    if (size) memcpy(frame, data, size);

    if (sio_parse(frame, size, &p, err, sizeof err) == 0) {
        if (p.raw) wod_assert(p.raw >= frame && p.raw + p.raw_len <= frame + size);
        wod_assert(strlen(p.nsp) <= SIO_NSP_MAX && p.nsp[0] == '/');
        if (p.eio == EIO_MESSAGE) {
            const char *name;
            json_t *payload;
            buf_t b;
            buf_init(&b);
            if (sio_event_args(&p, &name, &payload) == 0) {
                char *js = payload ? json_dumps(payload, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
                sio_encode_event(&b, name, js, js ? strlen(js) : 0);
                free(js);
                /* What we encode must parse back as the same event. */
                sio_packet_t q;
                const char *name2;
                json_t *payload2;
                wod_assert(sio_parse(b.data, b.len, &q, err, sizeof err) == 0);
                wod_assert(sio_event_args(&q, &name2, &payload2) == 0);
                wod_assert(strcmp(name, name2) == 0);
                wod_assert((payload == NULL) == (payload2 == NULL));
                if (payload) wod_assert(json_equal(payload, payload2));
                sio_packet_clear(&q);
            }
            if (p.sio == SIO_ACK) wod_assert(p.ack_id >= 0 && json_is_array(p.data));
            buf_free(&b);
        }
    } else {
        wod_assert(p.data == NULL && err[0] != '\0');
    }
    sio_packet_clear(&p);
    free(frame);
    return 0;
}
