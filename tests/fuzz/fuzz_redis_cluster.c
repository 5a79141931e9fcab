/* libFuzzer target: what a Redis Cluster node (or REDIS_URL) hands the
 * cluster client: MOVED/ASK errors, CLUSTER SLOTS replies (RESP bytes
 * through hiredis's reader, as on the wire) and cluster URLs. */
#include "redis/redis_cluster.h"

#include <hiredis/read.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* hiredis 0.14's reader has no cap on an aggregate's declared length
 * (maxelements came in 1.0): "*1111111111" callocs 8 GB before one
 * element arrives. That is hiredis's allocator, not our parser, and a
 * CLUSTER SLOTS reply never declares more than 16384 ranges, so larger
 * headers are skipped rather than reported as out-of-memory. */
static int declares_huge_aggregate(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '*') continue;
        size_t n = 0, j = i + 1;
        while (j < size && data[j] >= '0' && data[j] <= '9' && n <= 1000000)
            n = n * 10 + (size_t)(data[j++] - '0');
        if (n > 65536) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    redis_redirect_t rd;
    redis_redirect_parse(s, &rd);
    redis_cluster_url_t u;
    redis_cluster_url_parse(s, &u);
    redis_key_slot(s, size);
    free(s);

    if (declares_huge_aggregate(data, size)) return 0;
    redisReader *r = redisReaderCreate();
    if (redisReaderFeed(r, (const char *)data, size) == REDIS_OK) {
        void *reply = NULL;
        if (redisReaderGetReply(r, &reply) == REDIS_OK && reply) {
            static redis_slot_range_t rg[64];
            redis_cluster_parse_slots(reply, "seed", rg, 64);
            freeReplyObject(reply);
        }
    }
    redisReaderFree(r);
    return 0;
}
