/* libFuzzer target: the client message decoder (native /ws frames), and
 * the pong built from whatever timestamp a ping carried. */
#include "proto/msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msg_t m;
    const char *code;
    char err[200];
    if (msg_decode_native((const char *)data, size, &m, &code, err, sizeof(err)) == 0 &&
        m.type == MSG_PING) {
        char p[96];
        int n = msg_pong_payload(p, sizeof(p), m.u.ping.timestamp, 1);
        if (n < 0 || (size_t)n != strlen(p)) abort();
    }
    return 0;
}
