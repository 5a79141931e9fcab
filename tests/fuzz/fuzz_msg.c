/* libFuzzer target: the client message decoder (native /ws frames). */
#include "proto/msg.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msg_t m;
    const char *code;
    char err[200];
    msg_decode_native((const char *)data, size, &m, &code, err, sizeof(err));
    return 0;
}
