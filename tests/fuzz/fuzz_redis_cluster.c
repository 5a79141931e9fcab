/* libFuzzer target: what a Redis Cluster node (or REDIS_URL) hands the
 * cluster client: MOVED/ASK errors, CLUSTER SLOTS replies (RESP bytes
 * through hiredis's reader, as on the wire) and cluster URLs. */
#include "redis/redis_cluster.h"

#include <hiredis/read.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
