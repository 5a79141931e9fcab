/* npc.c - see npc.h. */
#include "npc.h"

#include <string.h>

void npc_init(znpc_t *n, int index, const npcdef_t *def)
{
    memset(n, 0, sizeof(*n));
    n->index = index;
    n->ent = -1;
    n->target_slot = -1;
    n->def = def;
    n->home_x = def->x;
    n->home_y = def->y;
    n->home_z = def->z;
    n->max_hp = def->max_hp > 0 ? def->max_hp : 1;
    npc_respawn(n);
}

int npc_damage(znpc_t *n, int damage, double now_ms)
{
    if (!n->alive) return 0;
    n->hp -= damage;
    if (n->hp > 0) return 0;
    n->hp = 0;
    n->alive = 0;
    n->state = AI_DEAD;
    n->target_pid = 0;
    n->target_slot = -1;
    n->respawn_at_ms = now_ms + n->respawn_ms;
    return 1;
}

int npc_respawn_due(const znpc_t *n, double now_ms)
{
    return !n->alive && now_ms >= n->respawn_at_ms;
}

void npc_respawn(znpc_t *n)
{
    n->alive = 1;
    n->hp = n->max_hp;
    n->x = n->home_x;
    n->y = n->home_y;
    n->z = n->home_z;
    n->state = AI_IDLE;
    n->state_until_ms = 0;
    n->waypoint = 0;
    n->target_pid = 0;
    n->target_slot = -1;
    n->next_strike_ms = 0;
    n->heal_carry = 0;
}

int npc_attack_rating(const znpc_t *n)
{
    return 10 + 2 * n->def->strength;
}

const char *npc_next_line(znpc_t *n)
{
    if (n->def->wildlife || n->def->n_lines <= 0) return NULL;
    const char *line = n->def->lines[n->next_line % n->def->n_lines];
    n->next_line = (n->next_line + 1) % n->def->n_lines;
    return line;
}
