/* libFuzzer target: the .env parser. */
#include "core/dotenv.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void sink(void *ud, const char *key, const char *value)
{
    size_t *n = ud;
    *n += strlen(key) + strlen(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    int line = 0;
    dotenv_parse((const char *)data, size, sink, &n, &line);
    return 0;
}
