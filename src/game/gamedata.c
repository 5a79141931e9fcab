/* gamedata.c - see gamedata.h. */
#include "gamedata.h"

#include <stddef.h>
#include <strings.h>

const ability_def_t *gamedata_ability(const gamedata_t *g, const char *s)
{
    if (!g || !s) return NULL;
    for (int i = 0; i < g->n_abilities; i++)
        if (strcasecmp(g->abilities[i].id, s) == 0) return &g->abilities[i];
    for (int i = 0; i < g->n_abilities; i++)
        if (strcasecmp(g->abilities[i].name, s) == 0) return &g->abilities[i];
    return NULL;
}

const item_def_t *gamedata_item(const gamedata_t *g, const char *s)
{
    if (!g || !s) return NULL;
    for (int i = 0; i < g->n_items; i++)
        if (strcasecmp(g->items[i].id, s) == 0) return &g->items[i];
    for (int i = 0; i < g->n_items; i++)
        if (strcasecmp(g->items[i].name, s) == 0) return &g->items[i];
    return NULL;
}

static int lookup(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcasecmp(s, names[i]) == 0) return i;
    return -1;
}

static const char *const stats[] = {"none",    "strength",     "vitality", "dexterity",
                                    "agility", "intelligence", "wisdom",   NULL};
static const char *const damages[] = {"physical", "magic", "fire", "ice",  "lightning",
                                      "poison",   "holy",  "dark", "heal", NULL};
static const char *const kinds[] = {"consumable", "weapon", "misc", NULL};
static const char *const resources[] = {"none", "health", "stamina", "mana", NULL};

int gamedata_stat_parse(const char *s)
{
    return lookup(s, stats);
}
int gamedata_damage_parse(const char *s)
{
    return lookup(s, damages);
}
int gamedata_item_kind_parse(const char *s)
{
    return lookup(s, kinds);
}
int gamedata_resource_parse(const char *s)
{
    return lookup(s, resources);
}
const char *gamedata_resource_name(int r)
{
    return r >= 0 && r <= RES_MANA ? resources[r] : "none";
}
