/* libFuzzer target: the HTTP response parser of the LLM client. */
#include "net/httpc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int status;
    char *body = NULL;
    size_t len = 0;
    if (httpc_parse_response((const char *)data, size, &status, &body, &len) == 0) {
        if (body[len] != '\0') abort();
        free(body);
    }
    return 0;
}
