/* npcdef.h - one NPC or mob as the store describes it: who it is (the
 * npc_defs row), where it stands (its npc_spawns row), its patrol
 * waypoints and its scripted dialogue lines. Loaded once when a zone
 * server starts; the sim of each zone spawns the rows of its zone. */
#ifndef WOD_NPCDEF_H
#define WOD_NPCDEF_H

#include "character.h"

#define NPCDEF_TAG_MAX    47
#define NPCDEF_NAME_MAX   47
#define NPCDEF_DESC_MAX   255
#define NPCDEF_LINE_MAX   255
#define NPCDEF_LINES_MAX  8 /* dialogue lines kept per NPC */
#define NPCDEF_PATROL_MAX 8 /* waypoints kept per spawn */

typedef struct npcdef_s {
    char tag[NPCDEF_TAG_MAX + 1];    /* unique per spawn, e.g. "mob.rat.3" */
    char def_id[NPCDEF_TAG_MAX + 1]; /* its npc_defs row, e.g. "rat" */
    char zone_id[ZONE_ID_MAX + 1];
    char name[NPCDEF_NAME_MAX + 1];
    char description[NPCDEF_DESC_MAX + 1];
    int is_mob;   /* mob: can be attacked, dies and respawns; npc: cannot be attacked */
    int wildlife; /* an animal: never talks */
    int level;
    int strength, vitality, dexterity, agility, intelligence, wisdom;
    int max_hp;
    int hostile;         /* attacks players that come within aggro_radius */
    double aggro_radius; /* ft */
    double leash;        /* ft from its spawn point before it gives up a chase */
    double speed;        /* ft/s when chasing or fleeing (half that when strolling) */
    double flee_at;      /* flees below this fraction of max_hp; 0 = never */
    double wander;       /* ft around the spawn point it strolls; 0 = stands still */
    int respawn_ms;      /* mobs: delay before respawning; 0 = MOB_RESPAWN_MS */
    double x, y, z;      /* spawn point, zone-local ft */
    int n_patrol;
    double patrol[NPCDEF_PATROL_MAX][2]; /* x, z waypoints walked in a loop */
    int n_lines;
    char lines[NPCDEF_LINES_MAX][NPCDEF_LINE_MAX + 1];
} npcdef_t;

/* The SELECTs both stores run (one row per spawn, then the waypoints and
 * the lines that npcdef_add_* attach to the spawns they belong to). */
#define NPCDEF_SQL_SPAWNS                                                                          \
    "SELECT s.tag, d.id, s.zone_id, COALESCE(s.name, d.name), d.description, d.kind, d.family, "   \
    "COALESCE(s.level, d.level), d.strength, d.vitality, d.dexterity, d.agility, "                 \
    "d.intelligence, d.wisdom, d.max_hp, d.hostile, d.respawn_ms, d.aggro_radius, d.leash, "       \
    "d.speed, d.flee_at, s.wander, s.x, s.y, s.z FROM npc_spawns s JOIN npc_defs d ON d.id = "     \
    "s.def_id ORDER BY s.zone_id, s.tag"
#define NPCDEF_SQL_WAYPOINTS "SELECT tag, x, z FROM npc_waypoints ORDER BY tag, seq"
#define NPCDEF_SQL_LINES     "SELECT def_id, line FROM npc_lines ORDER BY def_id, seq"

/* Appends a waypoint to the spawn `tag` / a line to every spawn of
 * definition `def_id` (beyond the caps: dropped). */
void npcdef_add_waypoint(npcdef_t *v, int n, const char *tag, double x, double z);
void npcdef_add_line(npcdef_t *v, int n, const char *def_id, const char *line);

#endif
