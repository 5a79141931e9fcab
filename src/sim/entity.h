/* entity.h - what the zone simulation knows about anything in the world
 * (players and NPCs) that rosters, chat and the grid need. Internal to
 * src/sim/.
 *
 * Protocol entity ids (docs/PROTOCOL.md): a player is "char-<characterId>",
 * an NPC is "npc-<n>" (n = 1.. per zone, stable for the zone's lifetime).
 * Inside the sim both are one int64 "pid": > 0 a character id, < 0 an
 * NPC (-n). The same id is used in rosters, world_entry.entities,
 * communication.senderId and interact/combat targetId. */
#ifndef WOD_SIM_ENTITY_H
#define WOD_SIM_ENTITY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ZENT_ID_MAX 32 /* bytes for a formatted id, NUL included */

typedef enum { ZENT_PLAYER = 0, ZENT_NPC = 1 } zent_kind_t;

typedef struct zent_s {
    int64_t pid;             /* public id, see above; 0 = free slot */
    const char *name;        /* borrowed from the owner (player or NPC) */
    const char *description; /* borrowed */
    double x, y, z;          /* zone-local feet */
    uint32_t spoke_seq;      /* sim-wide speech counter at its last chat; 0 = never */
    uint64_t moved_seq;      /* the sim's placement counter at its last move */
    uint8_t kind;            /* zent_kind_t */
    uint8_t hostile;         /* counts towards dangerState */
    uint8_t interactive;     /* can be talked to */
    uint8_t in_grid;         /* present in the spatial grid */
    uint8_t machine;         /* a player whose client said isMachine (NPCs always are) */
    uint8_t wildlife;        /* an animal NPC (roster type "wildlife") */
    void *owner;             /* zplayer_t* or znpc_t* */
    uint8_t idlen;           /* strlen(idstr) */
    char idstr[ZENT_ID_MAX]; /* the protocol id, preformatted (see zent_set_id) */
} zent_t;

/* Writes the protocol id of `pid` into out (>= ZENT_ID_MAX bytes);
 * returns its length. */
static inline size_t zent_id_format(int64_t pid, char *out)
{
    const char *pre = pid > 0 ? "char-" : "npc-";
    uint64_t v = pid > 0 ? (uint64_t)pid : (uint64_t)(-pid);
    size_t n = strlen(pre);
    memcpy(out, pre, n);
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        out[n++] = tmp[--k];
    out[n] = '\0';
    return n;
}

/* Sets pid and its preformatted protocol id. */
static inline void zent_set_id(zent_t *e, int64_t pid)
{
    e->pid = pid;
    e->idlen = (uint8_t)zent_id_format(pid, e->idstr);
}

/* Parses a protocol id into a pid; returns 0, or -1 if malformed. */
static inline int zent_id_parse(const char *s, int64_t *pid)
{
    int neg;
    if (strncmp(s, "char-", 5) == 0) {
        s += 5;
        neg = 0;
    } else if (strncmp(s, "npc-", 4) == 0) {
        s += 4;
        neg = 1;
    } else {
        return -1;
    }
    if (*s < '0' || *s > '9') return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v <= 0) return -1;
    *pid = neg ? -v : v;
    return 0;
}

#endif
