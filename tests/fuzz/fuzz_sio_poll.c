/* fuzz_sio_poll.c - libFuzzer driver for the Engine.IO long-polling payload
 * decoder: sio_payload_next() cuts a POST body into packets at 0x1e, then
 * each goes to sio_parse(), as framing_poll.c does. Checks that the packets
 * lie inside the body, hold no separator, and with the separators rebuild
 * it exactly. The codec source is included for coverage (see fuzz_sio.c). */
#include "../../src/proto/sio.c"
#include "../../src/core/alloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A heap copy of exactly `size` bytes so ASan catches any read past the body. */
    char *body = malloc(size ? size : 1);
    if (!body) return 0;
    if (size) memcpy(body, data, size);
    const char *pos = body, *pkt = NULL, *end = body + size;
    size_t n, rebuilt = 0;
    int rc, count = 0;
    while ((rc = sio_payload_next(&pos, end, &pkt, &n)) > 0) {
        wod_assert(pkt >= body && pkt + n <= end && n > 0);
        wod_assert(memchr(pkt, SIO_RECORD_SEP, n) == NULL);
        wod_assert(pkt == body + rebuilt + (count ? 1 : 0));
        rebuilt += n + (count ? 1 : 0);
        count++;
        sio_packet_t p;
        char err[128];
        if (sio_parse(pkt, n, &p, err, sizeof err) == 0) {
            if (p.raw) wod_assert(p.raw >= pkt && p.raw + p.raw_len <= pkt + n);
        }
        sio_packet_clear(&p);
    }
    /* a body that decodes fully is its packets and separators, nothing else */
    if (rc == 0) wod_assert(rebuilt == size && count > 0);
    free(body);
    return 0;
}
