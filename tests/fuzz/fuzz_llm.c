/* libFuzzer target: extracting an NPC's line from a chat-completions reply. */
#include "zone/llm.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[LLM_REPLY_MAX + 1];
    if (llm_parse_reply((const char *)data, size, out, sizeof(out)) == 1 &&
        strlen(out) > LLM_REPLY_MAX)
        abort();
    return 0;
}
