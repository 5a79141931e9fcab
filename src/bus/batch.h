/* batch.h - one envelope frame per destination, filled record by record
 * and published once: a gateway's input per zone (each loop iteration), a
 * zone server's output per gateway (each tick). DESIGN.md "Batching is the
 * scaling lever". */
#ifndef WOD_BUS_BATCH_H
#define WOD_BUS_BATCH_H

#include "bus.h"
#include "channel.h"
#include "envelope.h"

#include <uthash.h>

#define BUS_BATCH_DEST_MAX 63

typedef struct bus_batch_s {
    char dest[BUS_BATCH_DEST_MAX + 1]; /* a zone or gateway id */
    buf_t frame;                       /* envelope frame; begun when records goes 0 -> 1 */
    int records;                       /* in frame since the last publish */
    UT_hash_handle hh;
} bus_batch_t;

/* The batch for dest in *table, created on first use (size bytes, zeroed,
 * with the bus_batch_t first, so a caller may extend it) and its frame
 * begun if it is empty; counts one more record, which the caller then
 * appends to ->frame. A fresh frame is recognisable by records == 1. */
bus_batch_t *bus_batch_get(bus_batch_t **table, const char *dest, size_t size);

/* Publishes every non-empty batch on the channel `channel` names for its
 * destination, and empties it. A batch the bus refuses (down) is dropped
 * with a warning from `who`: its records are state or chat that the
 * receiver resynchronises after the outage (gw_bus_state, zs_bus_state). */
void bus_batch_flush(bus_batch_t *table, bus_t *bus,
                     int (*channel)(char *out, size_t cap, const char *dest), const char *who);

/* Frees every batch of *table. */
void bus_batch_free_all(bus_batch_t **table);

/* One record on its own frame, published at once (chat, admin commands):
 * 0, or the bus's negative error. */
int bus_publish_record(bus_t *bus, const char *channel, const env_rec_t *r);

#endif
