/* fuzz_envelope.c - libFuzzer driver for the bus envelope decoder.
 *
 * Bus frames come from other processes through Redis, so the decoder
 * must refuse anything malformed without reading outside the frame. The
 * driver decodes arbitrary bytes as one frame; every record that decodes
 * is encoded again and must decode to the same bytes (the codec is its
 * own oracle). The codec source is included rather than linked so it
 * gets the fuzzer's coverage instrumentation (as fuzz_sio.c does). */
#include "../../src/bus/envelope.c"
#include "../../src/core/alloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A heap copy of exactly `size` bytes so ASan catches any overread. */
    char *frame = malloc(size ? size : 1);
    if (!frame) return 0;
    if (size) memcpy(frame, data, size);

    env_reader_t r;
    if (env_reader_init(&r, frame, size) == 0) {
        env_rec_t rec;
        buf_t once, twice;
        buf_init(&once);
        buf_init(&twice);
        int rc, n = 0;
        while ((rc = env_next(&r, &rec)) == 1) {
            wod_assert(rec.kind > 0 && rec.kind < ENV_KIND_MAX);
            if (rec.kind == ENV_DELIVER) wod_assert(rec.msg_class < ENV_MSG_CLASS_MAX);
            if (rec.type) wod_assert(rec.type >= frame && rec.type + rec.type_len <= frame + size);
            if (rec.payload)
                wod_assert(rec.payload >= frame && rec.payload + rec.payload_len <= frame + size);
            /* Re-encode, decode, re-encode: both encodings must match. */
            env_begin(&once);
            env_put(&once, &rec);
            env_reader_t r2;
            env_rec_t rec2;
            wod_assert(env_reader_init(&r2, once.data, once.len) == 0);
            wod_assert(env_next(&r2, &rec2) == 1);
            wod_assert(env_next(&r2, &rec2) == 0);
            env_reader_init(&r2, once.data, once.len);
            env_next(&r2, &rec2);
            env_begin(&twice);
            env_put(&twice, &rec2);
            wod_assert(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
            n++;
        }
        wod_assert(rc == 0 || rc == -1);
        if (rc == 0) wod_assert(env_next(&r, &rec) == 0); /* the end is sticky */
        (void)env_kind_name(rec.kind);
        buf_free(&once);
        buf_free(&twice);
    }
    free(frame);
    return 0;
}
