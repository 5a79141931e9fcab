/* batch.c - see batch.h. */
#include "batch.h"
#include "../core/alloc.h"
#include "../core/log.h"
#include "../core/str.h"

#include <stdlib.h>

bus_batch_t *bus_batch_get(bus_batch_t **table, const char *dest, size_t size)
{
    bus_batch_t *b = NULL;
    wod_assert(size >= sizeof(*b));
    HASH_FIND_STR(*table, dest, b);
    if (!b) {
        b = wod_calloc(1, size);
        if (str_fmt(b->dest, sizeof(b->dest), "%s", dest) < 0)
            log_warn("bus", "destination name cut: %.40s...", dest); /* ids are short */
        buf_init(&b->frame);
        HASH_ADD_STR(*table, dest, b);
    }
    if (!b->records) env_begin(&b->frame);
    b->records++;
    return b;
}

void bus_batch_flush(bus_batch_t *table, bus_t *bus,
                     int (*channel)(char *out, size_t cap, const char *dest), const char *who)
{
    bus_batch_t *b, *tmp;
    HASH_ITER(hh, table, b, tmp)
    {
        if (!b->records) continue;
        char ch[BUS_CHANNEL_MAX];
        int rc = channel(ch, sizeof(ch), b->dest);
        if (rc >= 0 && bus) rc = bus_publish(bus, ch, b->frame.data, b->frame.len);
        if (rc < 0)
            log_warn(who, "%s: dropped %d records for %s", bus_why(rc), b->records, b->dest);
        b->records = 0;
    }
}

void bus_batch_free_all(bus_batch_t **table)
{
    bus_batch_t *b, *tmp;
    HASH_ITER(hh, *table, b, tmp)
    {
        /* uthash frees its table with the last element; the analyzer loses track (false positive)
         */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        HASH_DEL(*table, b);
        buf_free(&b->frame);
        free(b);
    }
}

int bus_publish_record(bus_t *bus, const char *channel, const env_rec_t *r)
{
    buf_t b;
    buf_init(&b);
    env_begin(&b);
    env_put(&b, r);
    int rc = bus_publish(bus, channel, b.data, b.len);
    buf_free(&b);
    return rc;
}
