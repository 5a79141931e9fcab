/* npcdef.c - see npcdef.h. */
#include "npcdef.h"

#include <stdio.h>
#include <string.h>

void npcdef_add_waypoint(npcdef_t *v, int n, const char *tag, double x, double z)
{
    for (int i = 0; i < n; i++) {
        npcdef_t *d = &v[i];
        if (strcmp(d->tag, tag) != 0 || d->n_patrol == NPCDEF_PATROL_MAX) continue;
        d->patrol[d->n_patrol][0] = x;
        d->patrol[d->n_patrol][1] = z;
        d->n_patrol++;
    }
}

void npcdef_add_line(npcdef_t *v, int n, const char *def_id, const char *line)
{
    for (int i = 0; i < n; i++) {
        npcdef_t *d = &v[i];
        if (strcmp(d->def_id, def_id) != 0 || d->n_lines == NPCDEF_LINES_MAX) continue;
        snprintf(d->lines[d->n_lines++], sizeof(d->lines[0]), "%s", line);
    }
}
