/* bus.c - what both bus implementations share (see bus.h). */
#include "bus.h"

void bus_stats_prometheus(const bus_t *b, const char *role, buf_t *out)
{
    const bus_stats_t *st = &b->stats;
    buf_printf(out,
               "# HELP wod_bus_messages_total Bus frames published and received.\n"
               "# TYPE wod_bus_messages_total counter\n"
               "wod_bus_messages_total{role=\"%s\",dir=\"out\"} %llu\n"
               "wod_bus_messages_total{role=\"%s\",dir=\"in\"} %llu\n"
               "# TYPE wod_bus_bytes_total counter\n"
               "wod_bus_bytes_total{role=\"%s\",dir=\"out\"} %llu\n"
               "wod_bus_bytes_total{role=\"%s\",dir=\"in\"} %llu\n",
               role, st->published, role, st->received, role, st->bytes_out, role, st->bytes_in);
}
