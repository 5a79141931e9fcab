/* cmd.c - slash commands: the parser, the one command table and its
 * handlers (see cmd.h; docs/GAME.md "Commands").
 *
 * Adding a command is one row in `commands` plus one handler. A handler
 * fills a cmd_out_t (message or error, optional data JSON, which a failure
 * writes only to explain itself) and returns 0 (success) or -1; run() wraps it in the
 * command_response. Effects (chat, events, moves) are sent by the handler before the response, as
 * in the reference ("after effects"). */
#include "cmd.h"
#include "sim_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SENSE_RANGE_FT 250.0 /* /sense: the cfh radius */
#define SPEECH_BURST   10    /* speech commands: as the gateway's chat limit */
#define SPEECH_PER_S   2.0
#define FT_PER_M       3.28084

/* Positional words from index `from` joined (a multi-word target name). */
static void join_from(const cmd_parsed_t *c, int from, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = from; i < c->argc; i++) {
        size_t k = strlen(c->argv[i]);
        if (n + k + 2 > cap) break;
        if (i > from) out[n++] = ' ';
        memcpy(out + n, c->argv[i], k);
        n += k;
        out[n] = '\0';
    }
}

/* ---------- the table ---------- */

typedef struct cmd_out_s {
    char message[4096];
    const char *error;
    char errbuf[2560];
    buf_t *data; /* JSON value or empty */
} cmd_out_t;

typedef int (*cmd_fn)(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o);

typedef struct cmd_def_s {
    const char *name;
    const char *aliases[4];
    double cooldown_s; /* per character */
    int needs_alive;   /* the dead cannot do this */
    int speech;        /* counts against the chat rate limit */
    const char *usage;
    const char *help;
    cmd_fn fn;
} cmd_def_t;

static int c_look(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_listen(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_sense(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_help(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_stats(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_inventory(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_move(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_stop(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_say(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_shout(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_emote(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_tell(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_attack(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_cast(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_disengage(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_use(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_equip(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_unequip(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);
static int c_who(zsim_t *, zplayer_t *, const cmd_parsed_t *, cmd_out_t *);

/* clang-format off */
static const cmd_def_t commands[] = {
    /* name, aliases, cooldown s, needs alive, speech, usage, help, handler */
    {"look", {"l", "examine"}, 0, 0, 0, "/look [target]",
     "Describes the zone, its exits and who and what is near; or a target and its condition.", c_look},
    {"listen", {"hear"}, 5, 0, 0, "/listen", "What you can hear within 150 ft.", c_listen},
    {"sense", {"detect"}, 10, 0, 0, "/sense", "Hostile creatures within 250 ft.", c_sense},
    {"help", {"h", "?"}, 0, 0, 0, "/help [command]", "Lists every command, or explains one.", c_help},
    {"stats", {"attributes"}, 0, 0, 0, "/stats", "Your level, attributes, derived stats and pools.", c_stats},
    {"inventory", {"inv", "i"}, 0, 0, 0, "/inventory", "What you carry and wield.", c_inventory},
    {"move", {"walk", "go", "run"}, 0, 1, 0,
     "/move <n|ne|e|se|s|sw|w|nw|north..> | heading:0-359 [walk|jog|run] [N|Nm|Nft] | "
     "to:<name|id> [range:melee|short|medium|long|N] | to:x,z | to:x,y,z",
     "Walks a compass direction or heading (optionally for a distance), to someone, or to a point.", c_move},
    {"stop", {"halt"}, 0, 0, 0, "/stop", "Stops moving.", c_stop},
    {"say", {"s"}, 0, 0, 1, "/say <text>", "Speaks to everyone within 20 ft.", c_say},
    {"shout", {"yell", "y"}, 0, 0, 1, "/shout <text>", "Shouts to everyone within 150 ft.", c_shout},
    {"emote", {"me", "em"}, 0, 0, 1, "/emote <action>", "Acts out \"<Name> <action>\" within 150 ft.", c_emote},
    {"tell", {"whisper", "t", "w"}, 0, 0, 1, "/tell <name> <text>", "Whispers to a character online anywhere.", c_tell},
    {"attack", {"atk"}, 0, 1, 0, "/attack <target>",
     "Basic attack on a hostile creature, then auto-attacks every 3 s.", c_attack},
    {"cast", {"ability", "magic"}, 0, 1, 0, "/cast \"<ability>\" [target]",
     "Uses an ability by name or id (healing abilities default to yourself).", c_cast},
    {"disengage", {"dis"}, 0, 0, 0, "/disengage", "Stops auto-attacking.", c_disengage},
    {"use", {"item"}, 0, 1, 0, "/use \"<item>\" [self]", "Uses an item (a potion heals).", c_use},
    {"equip", {"wield"}, 0, 1, 0, "/equip \"<item>\"", "Wields a weapon from your inventory.", c_equip},
    {"unequip", {"unwield"}, 0, 1, 0, "/unequip \"<item>\"|mainhand", "Puts a weapon away.", c_unequip},
    {"who", {"online"}, 0, 0, 0, "/who", "Lists the players in this zone.", c_who},
};
/* clang-format on */

#define N_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))
_Static_assert(N_COMMANDS <= ZSIM_CMD_MAX, "raise ZSIM_CMD_MAX (cooldown slots per player)");

int cmd_count(void)
{
    return N_COMMANDS;
}

const char *cmd_name(int i)
{
    return i >= 0 && i < N_COMMANDS ? commands[i].name : NULL;
}

int cmd_lookup(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) return i;
        for (int k = 0; k < 4 && commands[i].aliases[k]; k++)
            if (strcmp(commands[i].aliases[k], name) == 0) return i;
    }
    return -1;
}

int cmd_suggest(const char *name, const char **out, int max)
{
    int dist[N_COMMANDS];
    for (int i = 0; i < N_COMMANDS; i++) {
        dist[i] = cmd_edit_distance(name, commands[i].name);
        for (int k = 0; k < 4 && commands[i].aliases[k]; k++) {
            int d = cmd_edit_distance(name, commands[i].aliases[k]);
            if (d < dist[i]) dist[i] = d;
        }
    }
    int n = 0;
    for (int d = 0; d <= 3 && n < max; d++) /* nearest first, table order within a distance */
        for (int i = 0; i < N_COMMANDS && n < max; i++)
            if (dist[i] == d) out[n++] = commands[i].name;
    return n;
}

/* ---------- helpers ---------- */

static int fail(cmd_out_t *o, const char *fmt, const char *a)
{
    snprintf(o->errbuf, sizeof(o->errbuf), fmt, a ? a : "");
    o->error = o->errbuf;
    return -1;
}

static const char *compass_of(double dx, double dz)
{
    static const char *const names[] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"};
    double b = atan2(dx, dz) * 180.0 / M_PI; /* 0 = north (+z), 90 = east (+x) */
    if (b < 0) b += 360;
    return names[(int)floor((b + 22.5) / 45.0) % 8];
}

/* A target by protocol id, else by exact (case-insensitive) name; -1. */
static int32_t resolve(zsim_t *sim, const char *words)
{
    if (!words || !words[0]) return -1;
    int32_t s = zsim__target_slot(sim, words);
    return s >= 0 ? s : zsim__find_by_name(sim, words);
}

static const zent_t *me(zsim_t *sim, zplayer_t *p)
{
    return &sim->ents[p->ent];
}

/* hp, max, alive of any entity slot */
static void vitals(zsim_t *sim, int32_t slot, int *hp, int *max, int *alive)
{
    const zent_t *e = &sim->ents[slot];
    if (e->kind == ZENT_PLAYER) {
        const zplayer_t *q = e->owner;
        *hp = q->ch.hp;
        *max = q->d.max_hp;
        *alive = q->ch.is_alive;
    } else {
        const znpc_t *n = e->owner;
        *hp = n->hp;
        *max = n->max_hp;
        *alive = n->alive;
    }
}

static void put_entity(zsim_t *sim, buf_t *b, zplayer_t *p, int32_t slot)
{
    const zent_t *e = &sim->ents[slot], *m = me(sim, p);
    double dx = e->x - m->x, dy = e->y - m->y, dz = e->z - m->z;
    int hp, max, alive;
    vitals(sim, slot, &hp, &max, &alive);
    buf_puts(b, "{\"id\":");
    buf_json_str(b, e->idstr);
    buf_puts(b, ",\"name\":");
    buf_json_str(b, e->name);
    buf_puts(b, e->kind == ZENT_PLAYER ? ",\"type\":\"player\"" : ",\"type\":\"npc\"");
    buf_printf(b, ",\"distance\":%.1f,\"direction\":\"%s\",\"hostile\":%s,\"condition\":\"%s\"}",
               sqrt(dx * dx + dy * dy + dz * dz), compass_of(dx, dz), e->hostile ? "true" : "false",
               zsim__condition(hp, max, alive));
}

/* ---------- handlers ---------- */

static int c_look(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    buf_t *d = o->data;
    const zent_t *m = me(sim, p);
    if (c->text[0]) {
        int32_t s = resolve(sim, c->text);
        if (s < 0 || (s != p->ent && sqrt(pow(sim->ents[s].x - m->x, 2) +
                                          pow(sim->ents[s].z - m->z, 2)) > ZSIM_SEE_RANGE))
            return fail(o, "You see no '%s' here.", c->text);
        const zent_t *e = &sim->ents[s];
        int hp, max, alive;
        vitals(sim, s, &hp, &max, &alive);
        const char *desc =
            e->description && e->description[0] ? e->description : "Nothing remarkable.";
        snprintf(o->message, sizeof(o->message), "%s: %s It looks %s.", e->name, desc,
                 zsim__condition(hp, max, alive));
        put_entity(sim, d, p, s);
        d->len--; /* reopen the object for the details */
        buf_puts(d, ",\"description\":");
        buf_json_str(d, desc);
        buf_printf(d, ",\"health\":{\"current\":%d,\"max\":%d},\"position\":{\"x\":", hp, max);
        buf_json_num(d, e->x);
        buf_puts(d, ",\"y\":");
        buf_json_num(d, e->y);
        buf_puts(d, ",\"z\":");
        buf_json_num(d, e->z);
        buf_puts(d, "}}");
        return 0;
    }
    int n =
        snprintf(o->message, sizeof(o->message), "%s. %s (%s, %s, %s.)", sim->def.name,
                 sim->def.description, sim->def.weather, sim->def.time_of_day, sim->def.lighting);
    buf_puts(d, "{\"zone\":{\"id\":");
    buf_json_str(d, sim->def.id);
    buf_puts(d, ",\"name\":");
    buf_json_str(d, sim->def.name);
    buf_puts(d, ",\"description\":");
    buf_json_str(d, sim->def.description);
    buf_puts(d, "},\"exits\":[");
    for (int i = 0; i < sim->n_adjacent; i++) {
        const zonedef_t *w = &sim->world[sim->adjacent[i]];
        if (i) buf_putc(d, ',');
        buf_puts(d, "{\"direction\":");
        buf_json_str(d, zonedef_direction(&sim->def, w));
        buf_puts(d, ",\"zoneId\":");
        buf_json_str(d, w->id);
        buf_puts(d, ",\"name\":");
        buf_json_str(d, w->name);
        buf_putc(d, '}');
        if (n > 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, "%s%s to the %s",
                          i ? ", " : " Exits: ", w->name, zonedef_direction(&sim->def, w));
    }
    buf_puts(d, "],\"entities\":[");
    sim->ghits.n = 0;
    grid_query(&sim->grid, m->x, m->y, m->z, ZSIM_SEE_RANGE, &sim->ghits);
    int listed = 0;
    for (size_t i = 0; i < sim->ghits.n && listed < 32; i++) {
        int32_t s = sim->ghits.v[i].id;
        if (s == p->ent) continue;
        if (listed) buf_putc(d, ',');
        put_entity(sim, d, p, s);
        const zent_t *e = &sim->ents[s];
        double dx = e->x - m->x, dz = e->z - m->z;
        if (n > 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, "%s%s (%.0f ft %s)",
                          listed ? ", " : ". Near you: ", e->name, sqrt(dx * dx + dz * dz),
                          compass_of(dx, dz));
        listed++;
    }
    buf_puts(d, "]}");
    if (!listed && n > 0 && (size_t)n < sizeof(o->message))
        snprintf(o->message + n, sizeof(o->message) - (size_t)n, " Nobody is near.");
    return 0;
}

static int c_listen(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)c;
    const zent_t *m = me(sim, p);
    buf_t *d = o->data;
    buf_puts(d, "{\"sounds\":[");
    sim->ghits.n = 0;
    grid_query(&sim->grid, m->x, m->y, m->z, roster_channel_range[RCH_HEAR], &sim->ghits);
    int n = snprintf(o->message, sizeof(o->message), "You listen."), k = 0;
    for (size_t i = 0; i < sim->ghits.n && k < 32; i++) {
        int32_t s = sim->ghits.v[i].id;
        if (s == p->ent) continue;
        const zent_t *e = &sim->ents[s];
        double dx = e->x - m->x, dz = e->z - m->z;
        const char *sound = e->kind == ZENT_PLAYER ? "footsteps"
                            : e->hostile           ? "a low growl"
                                                   : "someone moving about";
        if (k) buf_putc(d, ',');
        buf_puts(d, "{\"id\":");
        buf_json_str(d, e->idstr);
        buf_puts(d, ",\"sound\":");
        buf_json_str(d, sound);
        buf_printf(d, ",\"direction\":\"%s\",\"distance\":%.1f}", compass_of(dx, dz),
                   sqrt(dx * dx + dz * dz));
        if (n > 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, " %s %s to the %s.",
                          k ? "And" : "You hear", sound, compass_of(dx, dz));
        k++;
    }
    buf_puts(d, "]}");
    if (!k) snprintf(o->message, sizeof(o->message), "You listen. Only the wind.");
    return 0;
}

static int c_sense(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)c;
    const zent_t *m = me(sim, p);
    buf_t *d = o->data;
    buf_printf(d, "{\"danger\":%s,\"threats\":[", zsim__hostiles_near(sim, m) ? "true" : "false");
    int n = 0, k = 0;
    for (int i = 0; i < sim->n_npcs; i++) {
        const znpc_t *t = &sim->npcs[i];
        /* hostile creatures, and anything that has turned on us */
        if ((!t->def->hostile && t->target_pid != m->pid) || !t->alive) continue;
        double dx = t->x - m->x, dy = t->y - m->y, dz = t->z - m->z;
        double dist = sqrt(dx * dx + dy * dy + dz * dz);
        if (dist > SENSE_RANGE_FT) continue;
        if (k++) buf_putc(d, ',');
        put_entity(sim, d, p, t->ent);
        if (n >= 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, "%s%s, %.0f ft %s",
                          k > 1 ? "; " : "You sense danger: ", t->def->name, dist,
                          compass_of(dx, dz));
    }
    buf_puts(d, "]}");
    if (!k) snprintf(o->message, sizeof(o->message), "You sense no danger nearby.");
    return 0;
}

static int c_help(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)sim;
    (void)p;
    buf_t *d = o->data;
    if (c->argc) {
        const char *t = c->argv[0][0] == '/' ? c->argv[0] + 1 : c->argv[0];
        char low[CMD_NAME_MAX + 1];
        snprintf(low, sizeof(low), "%s", t);
        for (char *q = low; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        int i = cmd_lookup(low);
        if (i < 0) return fail(o, "No help on '%s'. Try /help for the list.", t);
        const cmd_def_t *k = &commands[i];
        snprintf(o->message, sizeof(o->message), "%s - %s", k->usage, k->help);
        buf_puts(d, "{\"command\":");
        buf_json_str(d, k->name);
        buf_puts(d, ",\"usage\":");
        buf_json_str(d, k->usage);
        buf_puts(d, ",\"aliases\":[");
        for (int a = 0; a < 4 && k->aliases[a]; a++) {
            if (a) buf_putc(d, ',');
            buf_json_str(d, k->aliases[a]);
        }
        buf_printf(d, "],\"cooldownMs\":%.0f}", k->cooldown_s * 1000);
        return 0;
    }
    int n = snprintf(o->message, sizeof(o->message), "Commands:");
    buf_puts(d, "{\"commands\":[");
    for (int i = 0; i < N_COMMANDS; i++) {
        const cmd_def_t *k = &commands[i];
        if (i) buf_putc(d, ',');
        buf_puts(d, "{\"name\":");
        buf_json_str(d, k->name);
        buf_puts(d, ",\"usage\":");
        buf_json_str(d, k->usage);
        buf_puts(d, ",\"help\":");
        buf_json_str(d, k->help);
        buf_puts(d, ",\"aliases\":[");
        for (int a = 0; a < 4 && k->aliases[a]; a++) {
            if (a) buf_putc(d, ',');
            buf_json_str(d, k->aliases[a]);
        }
        buf_puts(d, "]}");
        if (n > 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, " /%s", k->name);
    }
    buf_puts(d, "]}");
    return 0;
}

static int c_stats(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)sim;
    (void)c;
    const character_t *ch = &p->ch;
    combat_stats_t st;
    combat_stats_from(&st, ch, p->weapon_bonus);
    snprintf(o->message, sizeof(o->message),
             "%s, level %d%s. STR %d VIT %d DEX %d AGI %d INT %d WIS %d. Health %d/%d, stamina "
             "%d/%d, mana %d/%d. Attack %.0f, defense %.1f.",
             ch->name, ch->level, ch->is_alive ? "" : " (dead)", ch->strength, ch->vitality,
             ch->dexterity, ch->agility, ch->intelligence, ch->wisdom, ch->hp, p->d.max_hp,
             ch->stamina, p->d.max_stamina, ch->mana, p->d.max_mana, st.d.attack_rating,
             st.d.defense_rating);
    buf_t *d = o->data;
    buf_puts(d, "{\"name\":");
    buf_json_str(d, ch->name);
    buf_printf(d,
               ",\"level\":%d,\"experience\":%lld,\"isAlive\":%s,\"coreStats\":{\"strength\":%d,"
               "\"vitality\":%d,\"dexterity\":%d,\"agility\":%d,\"intelligence\":%d,\"wisdom\":%d},"
               "\"health\":{\"current\":%d,\"max\":%d},\"stamina\":{\"current\":%d,\"max\":%d},"
               "\"mana\":{\"current\":%d,\"max\":%d},\"derivedStats\":{\"attackRating\":",
               ch->level, (long long)ch->experience, ch->is_alive ? "true" : "false", ch->strength,
               ch->vitality, ch->dexterity, ch->agility, ch->intelligence, ch->wisdom, ch->hp,
               p->d.max_hp, ch->stamina, p->d.max_stamina, ch->mana, p->d.max_mana);
    buf_json_num(d, st.d.attack_rating);
    buf_puts(d, ",\"defenseRating\":");
    buf_json_num(d, st.d.defense_rating);
    buf_puts(d, ",\"magicAttack\":");
    buf_json_num(d, st.d.magic_attack);
    buf_puts(d, ",\"evasion\":");
    buf_json_num(d, st.d.evasion);
    buf_puts(d, ",\"physicalAccuracy\":");
    buf_json_num(d, st.d.physical_accuracy);
    buf_printf(d, "},\"weaponBonus\":%d,\"atb\":%d,\"inCombat\":%s}", p->weapon_bonus,
               (int)floor(p->fight.atb), p->fight.in_combat ? "true" : "false");
    return 0;
}

static int c_inventory(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)c;
    buf_t *d = o->data;
    int n = snprintf(o->message, sizeof(o->message), "You carry:");
    buf_puts(d, "{\"items\":[");
    for (int i = 0; i < p->ch.n_items; i++) {
        const inv_slot_t *s = &p->ch.items[i];
        const item_def_t *it = gamedata_item(zsim__data(sim), s->item_id);
        const char *nm = it ? it->name : s->item_id;
        if (i) buf_putc(d, ',');
        buf_puts(d, "{\"itemId\":");
        buf_json_str(d, s->item_id);
        buf_puts(d, ",\"name\":");
        buf_json_str(d, nm);
        buf_printf(d, ",\"quantity\":%d,\"equipped\":%s,\"kind\":\"%s\"}", s->quantity,
                   s->equipped ? "true" : "false",
                   !it                           ? "misc"
                   : it->kind == ITEM_WEAPON     ? "weapon"
                   : it->kind == ITEM_CONSUMABLE ? "consumable"
                                                 : "misc");
        if (n > 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, "%s %s x%d%s",
                          i ? "," : "", nm, s->quantity, s->equipped ? " (wielded)" : "");
    }
    buf_printf(d, "],\"slots\":{\"used\":%d,\"max\":%d}}", p->ch.n_items, CHAR_INV_MAX);
    if (!p->ch.n_items) snprintf(o->message, sizeof(o->message), "You carry nothing.");
    return 0;
}

static int compass_heading(const char *w, double *h)
{
    static const char *const shortn[] = {"n", "ne", "e", "se", "s", "sw", "w", "nw"};
    static const char *const longn[] = {"north", "northeast", "east", "southeast",
                                        "south", "southwest", "west", "northwest"};
    for (int i = 0; i < 8; i++)
        if (strcasecmp(w, shortn[i]) == 0 || strcasecmp(w, longn[i]) == 0) {
            *h = i * 45.0;
            return 0;
        }
    return -1;
}

/* "12", "12ft", "4m", "4.5m" -> feet; -1 if not a distance */
static double parse_distance(const char *w)
{
    char *end;
    double v = strtod(w, &end);
    if (end == w || !isfinite(v) || v <= 0) return -1;
    if (!*end || strcasecmp(end, "ft") == 0) return v;
    if (strcasecmp(end, "m") == 0) return v * FT_PER_M;
    return -1;
}

static int c_move(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    msg_move_t m;
    memset(&m, 0, sizeof(m));
    m.method = MOVE_HEADING;
    int have_dir = 0;
    const char *to = cmd_kv(c, "to"), *heading = cmd_kv(c, "heading");
    if (strcmp(c->name, "run") == 0) { /* "/run north" runs */
        m.has_speed = 1;
        m.speed = SPEED_RUN;
    }
    char rest[256] = "";
    size_t rn = 0;
    for (int i = 0; i < c->argc; i++) {
        const char *w = c->argv[i];
        double h, dist;
        if (strcasecmp(w, "walk") == 0 || strcasecmp(w, "jog") == 0 || strcasecmp(w, "run") == 0) {
            m.has_speed = 1;
            m.speed = strcasecmp(w, "walk") == 0  ? SPEED_WALK
                      : strcasecmp(w, "jog") == 0 ? SPEED_JOG
                                                  : SPEED_RUN;
        } else if (!have_dir && !to && !heading && compass_heading(w, &h) == 0) {
            m.method = MOVE_COMPASS;
            m.heading = h;
            have_dir = 1;
        } else if ((dist = parse_distance(w)) > 0) {
            m.distance_ft = dist;
        } else if (to) { /* the rest of a multi-word name: to:Old Merchant */
            rn += (size_t)snprintf(rest + rn, sizeof(rest) - rn, " %s", w);
            if (rn >= sizeof(rest)) rn = sizeof(rest) - 1;
        } else {
            return fail(o, "I don't understand '%s'. Usage: /move <direction> | heading:N | to:...",
                        w);
        }
    }
    if (heading) {
        char *end;
        double h = strtod(heading, &end);
        if (end == heading || *end || !isfinite(h) || h < 0 || h >= 360)
            return fail(o, "heading must be a number from 0 to 359, not '%s'.", heading);
        m.method = MOVE_HEADING;
        m.heading = h;
        have_dir = 1;
    }
    if (to) {
        double v[3];
        int nv = 0;
        const char *q = to;
        char *end;
        while (nv < 3) {
            v[nv] = strtod(q, &end);
            if (end == q || !isfinite(v[nv])) break;
            nv++;
            if (*end != ',') break;
            q = end + 1;
        }
        if ((nv == 2 || nv == 3) && *end == '\0' && !rest[0]) {
            m.method = MOVE_FOLLOW; /* to a point: the `move` method "position" walk */
            m.x = v[0];
            m.y = nv == 3 ? v[1] : p->ch.y;
            m.z = nv == 3 ? v[2] : v[1];
        } else {
            char name[sizeof(rest) + sizeof(c->text)];
            snprintf(name, sizeof(name), "%s%s", to, rest);
            int32_t s = resolve(sim, name);
            if (s < 0) return fail(o, "There is no '%s' here to move to.", name);
            if (s == p->ent) return fail(o, "You are already where you are.%s", "");
            m.method = MOVE_FOLLOW;
            snprintf(m.target_id, sizeof(m.target_id), "%s", sim->ents[s].idstr);
            const char *r = cmd_kv(c, "range");
            m.range_ft = 5;
            if (r) {
                double ft = !strcasecmp(r, "melee")    ? 5
                            : !strcasecmp(r, "short")  ? 20
                            : !strcasecmp(r, "medium") ? 50
                            : !strcasecmp(r, "long")   ? 150
                                                       : parse_distance(r);
                if (ft <= 0 || ft > 1000)
                    return fail(
                        o, "range must be melee, short, medium, long or a distance, not '%s'.", r);
                m.range_ft = ft;
            }
        }
        have_dir = 1;
    }
    if (!have_dir) return fail(o, "Which way? Usage: %s", commands[cmd_lookup("move")].usage);
    if (m.distance_ft > 10000) return fail(o, "That is too far to walk in one go.%s", "");
    if (zsim_player_move(sim, p->ref, &m) < 0) return fail(o, "Failed to start movement.%s", "");
    static const char *const gait[] = {"stop", "walk", "jog", "run"};
    const char *g = gait[m.has_speed ? m.speed : SPEED_WALK];
    if (m.method == MOVE_FOLLOW && m.target_id[0])
        snprintf(o->message, sizeof(o->message), "You %s towards %s.", g,
                 sim->ents[resolve(sim, m.target_id)].name);
    else if (m.method == MOVE_FOLLOW)
        snprintf(o->message, sizeof(o->message), "You %s towards (%.0f, %.0f, %.0f).", g, m.x, m.y,
                 m.z);
    else if (m.distance_ft > 0)
        snprintf(o->message, sizeof(o->message), "You %s %s for %.0f ft.", g,
                 compass_of(sin(m.heading * M_PI / 180), cos(m.heading * M_PI / 180)),
                 m.distance_ft);
    else
        snprintf(o->message, sizeof(o->message), "You %s %s (heading %.0f).", g,
                 compass_of(sin(m.heading * M_PI / 180), cos(m.heading * M_PI / 180)), m.heading);
    buf_printf(o->data, "{\"method\":\"%s\",\"heading\":%.1f,\"distanceFt\":%.1f",
               m.method == MOVE_FOLLOW && m.target_id[0] ? "follow"
               : m.method == MOVE_FOLLOW                 ? "position"
               : m.method == MOVE_COMPASS                ? "compass"
                                                         : "heading",
               m.heading, m.distance_ft);
    if (m.method == MOVE_FOLLOW && m.target_id[0]) {
        buf_puts(o->data, ",\"targetId\":");
        buf_json_str(o->data, m.target_id);
        buf_printf(o->data, ",\"rangeFt\":%.1f", m.range_ft);
    } else if (m.method == MOVE_FOLLOW) {
        buf_printf(o->data, ",\"position\":{\"x\":%.1f,\"y\":%.1f,\"z\":%.1f}", m.x, m.y, m.z);
    }
    buf_putc(o->data, '}');
    return 0;
}

static int c_stop(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)c;
    if (!p->ch.is_alive) {
        snprintf(o->message, sizeof(o->message), "You are not moving.");
        return 0;
    }
    msg_move_t m;
    memset(&m, 0, sizeof(m));
    m.method = MOVE_HEADING;
    m.has_speed = 1;
    m.speed = SPEED_STOP;
    m.heading = p->ch.heading;
    if (zsim_player_move(sim, p->ref, &m) < 0) return fail(o, "You cannot stop now.%s", "");
    snprintf(o->message, sizeof(o->message), "You stop.");
    return 0;
}

static int speak(zsim_t *sim, zplayer_t *p, chat_channel_t ch, const char *text, cmd_out_t *o,
                 const char *verb)
{
    if (!text[0]) return fail(o, "%s what?", verb);
    msg_chat_t m;
    memset(&m, 0, sizeof(m));
    m.channel = ch;
    snprintf(m.message, sizeof(m.message), "%s", text);
    if (zsim_player_chat(sim, p->ref, &m) < 0) return fail(o, "Nobody hears you.%s", "");
    snprintf(o->message, sizeof(o->message), "You %s: \"%s\"", verb, text);
    return 0;
}

static int c_say(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    return speak(sim, p, CHAT_SAY, c->text, o, "say");
}

static int c_shout(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    return speak(sim, p, CHAT_SHOUT, c->text, o, "shout");
}

static int c_emote(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    if (!c->text[0]) return fail(o, "Emote what?%s", "");
    char line[CHAR_NAME_MAX + 2 + sizeof(c->text)];
    snprintf(line, sizeof(line), "%s %s", p->ch.name, c->text);
    msg_chat_t m;
    memset(&m, 0, sizeof(m));
    m.channel = CHAT_EMOTE;
    size_t n = strlen(line);
    if (n >= sizeof(m.message)) { /* cut on a character boundary */
        n = sizeof(m.message) - 1;
        while (n && ((unsigned char)line[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(m.message, line, n);
    m.message[n] = '\0';
    if (zsim_player_chat(sim, p->ref, &m) < 0) return fail(o, "Nobody sees you.%s", "");
    snprintf(o->message, sizeof(o->message), "%s", line);
    return 0;
}

static int c_tell(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    if (c->argc < 2) return fail(o, "Usage: /tell <name> <text>%s", "");
    const char *name = c->argv[0];
    if (strcasecmp(name, p->ch.name) == 0) return fail(o, "You mutter to yourself.%s", "");
    char text[MSG_CHAT_MAX * 4 + 1];
    join_from(c, 1, text, sizeof(text));
    buf_t *b = &sim->gbuf;
    buf_reset(b);
    /* the `chat` shape (docs/PROTOCOL.md): the gateway turns it into
     * `communication` for clients that asked for that */
    buf_puts(b, "{\"channel\":\"whisper\",\"sender\":");
    buf_json_str(b, p->ch.name);
    buf_puts(b, ",\"senderId\":");
    buf_json_str(b, me(sim, p)->idstr);
    buf_puts(b, ",\"message\":");
    buf_json_str(b, text);
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_puts(b, ",\"senderName\":");
    buf_json_str(b, p->ch.name);
    buf_puts(b, ",\"senderType\":\"player\",\"content\":");
    buf_json_str(b, text);
    buf_puts(b, ",\"distance\":0}");
    int32_t s = zsim__find_by_name(sim, name);
    if (s >= 0 && sim->ents[s].kind == ZENT_PLAYER) {
        zsim__send(sim, ((zplayer_t *)sim->ents[s].owner)->ref, "chat", b);
    } else if (s >= 0) {
        return fail(o, "%s does not answer whispers.", sim->ents[s].name);
    } else if (sim->hooks.tell) {
        /* another zone may host them; offline names simply miss (docs/GAME.md) */
        sim->hooks.tell(sim->hooks.ud, name, "chat", b->data, b->len);
    } else {
        return fail(o, "Nobody called '%s' is online.", name);
    }
    snprintf(o->message, sizeof(o->message), "You tell %s: \"%s\"", name, text);
    return 0;
}

static int c_attack(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    if (!c->text[0]) return fail(o, "Attack whom? Usage: /attack <target>%s", "");
    int32_t s = resolve(sim, c->text);
    if (s < 0) return fail(o, "You see no '%s' to attack.", c->text);
    if (s == p->ent) return fail(o, "You cannot attack yourself.%s", "");
    const zent_t *t = &sim->ents[s];
    if (t->kind == ZENT_PLAYER)
        return fail(o, "%s is not your enemy: no fighting players here.", t->name);
    if (!((const znpc_t *)t->owner)->def->is_mob)
        return fail(o, "%s is not hostile; you will not attack them.", t->name);
    const ability_def_t *ab = gamedata_ability(zsim__data(sim), "basic_attack");
    const char *why = NULL;
    if (!ab || zsim__player_ability(sim, p, ab, t->idstr, 1, &why) != COMBAT_OK)
        return fail(o, "%s", why ? why : "You cannot attack.");
    snprintf(o->message, sizeof(o->message), "You attack %s.", t->name);
    buf_puts(o->data, "{\"targetId\":");
    buf_json_str(o->data, t->idstr);
    buf_puts(o->data, ",\"abilityId\":\"basic_attack\",\"autoAttack\":true}");
    return 0;
}

static int c_cast(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    if (!c->argc) return fail(o, "Cast what? Usage: /cast \"<ability>\" [target]%s", "");
    const gamedata_t *g = zsim__data(sim);
    const ability_def_t *ab = gamedata_ability(g, c->argv[0]);
    int first_target = 1;
    if (!ab && c->argc >= 2) { /* an unquoted two-word name: /cast arcane bolt dog */
        char two[128];
        snprintf(two, sizeof(two), "%s %s", c->argv[0], c->argv[1]);
        if ((ab = gamedata_ability(g, two))) first_target = 2;
    }
    if (!ab) return fail(o, "You know no ability called '%s'.", c->argv[0]);
    char target[256];
    join_from(c, first_target, target, sizeof(target));
    const char *tid = NULL;
    if (target[0]) {
        int32_t s = resolve(sim, target);
        if (s < 0) return fail(o, "You see no '%s' here.", target);
        if (ab->target == TARGET_ENEMY && s == p->ent)
            return fail(o, "You cannot attack yourself.%s", "");
        if (ab->target == TARGET_ENEMY && sim->ents[s].kind == ZENT_NPC && !sim->ents[s].hostile)
            return fail(o, "%s is not hostile; you will not attack them.", sim->ents[s].name);
        tid = sim->ents[s].idstr;
    } else if (ab->target == TARGET_ENEMY) {
        return fail(o, "%s needs a target.", ab->name);
    }
    const char *why = NULL;
    int set_auto = strcmp(ab->id, "basic_attack") == 0;
    if (zsim__player_ability(sim, p, ab, tid, set_auto, &why) != COMBAT_OK)
        return fail(o, "%s", why ? why : "You cannot do that now.");
    snprintf(o->message, sizeof(o->message), "You use %s%s%s.", ab->name, tid ? " on " : "",
             tid ? sim->ents[resolve(sim, tid)].name : "");
    buf_puts(o->data, "{\"abilityId\":");
    buf_json_str(o->data, ab->id);
    if (tid) {
        buf_puts(o->data, ",\"targetId\":");
        buf_json_str(o->data, tid);
    }
    buf_putc(o->data, '}');
    return 0;
}

static int c_disengage(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)c;
    if (!zsim__player_disengage(sim, p)) return fail(o, "You are not in combat.%s", "");
    snprintf(o->message, sizeof(o->message), "You stop attacking and keep your guard up.");
    return 0;
}

static int c_use(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    char name[256];
    int n = c->argc;
    if (n > 1 && strcasecmp(c->argv[n - 1], "self") == 0) n--; /* "/use potion self" */
    cmd_parsed_t tmp = *c;
    tmp.argc = n;
    join_from(&tmp, 0, name, sizeof(name));
    if (!name[0]) return fail(o, "Use what? Usage: /use \"<item>\"%s", "");
    const char *why = NULL;
    if (zsim__item_use(sim, p, name, o->data, &why) < 0) return fail(o, "%s", why);
    const item_def_t *it = gamedata_item(zsim__data(sim), name);
    snprintf(o->message, sizeof(o->message), "You use %s.", it ? it->name : name);
    return 0;
}

static int equip(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o, int on)
{
    if (!c->text[0]) return fail(o, on ? "Equip what?%s" : "Unequip what?%s", "");
    const char *why = NULL;
    if (zsim__item_equip(sim, p, c->text, on, &why) < 0) return fail(o, "%s", why);
    snprintf(o->message, sizeof(o->message), on ? "You wield it (attack +%d)." : "You put it away.",
             p->weapon_bonus);
    buf_printf(o->data, "{\"weaponBonus\":%d}", p->weapon_bonus);
    return 0;
}

static int c_equip(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    return equip(sim, p, c, o, 1);
}

static int c_unequip(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    return equip(sim, p, c, o, 0);
}

static int c_who(zsim_t *sim, zplayer_t *p, const cmd_parsed_t *c, cmd_out_t *o)
{
    (void)p;
    (void)c;
    int n = snprintf(o->message, sizeof(o->message), "%zu in %s:", sim->n_players, sim->def.name);
    buf_puts(o->data, "{\"zoneId\":");
    buf_json_str(o->data, sim->def.id);
    buf_puts(o->data, ",\"players\":[");
    for (size_t i = 0; i < sim->n_players && i < 200; i++) {
        const zplayer_t *q = sim->players[i];
        if (i) buf_putc(o->data, ',');
        buf_puts(o->data, "{\"id\":");
        buf_json_str(o->data, sim->ents[q->ent].idstr);
        buf_puts(o->data, ",\"name\":");
        buf_json_str(o->data, q->ch.name);
        buf_printf(o->data, ",\"level\":%d,\"isAlive\":%s}", q->ch.level,
                   q->ch.is_alive ? "true" : "false");
        if (n > 0 && (size_t)n < sizeof(o->message))
            n += snprintf(o->message + n, sizeof(o->message) - (size_t)n, "%s %s", i ? "," : "",
                          q->ch.name);
    }
    buf_puts(o->data, "]}");
    return 0;
}

/* ---------- running a line ---------- */

/* The gateway limits `chat`; speech commands arrive as `command` too, so
 * the same budget (10 in a burst, 2 a second) applies here, per player. */
static int speech_allowed(zsim_t *sim, zplayer_t *p)
{
    if (p->speech_refill_ms == 0) p->speech_tokens = SPEECH_BURST;
    p->speech_tokens += (sim->time_ms - p->speech_refill_ms) / 1000.0 * SPEECH_PER_S;
    if (p->speech_tokens > SPEECH_BURST) p->speech_tokens = SPEECH_BURST;
    p->speech_refill_ms = sim->time_ms;
    if (p->speech_tokens < 1) return 0;
    p->speech_tokens -= 1;
    return 1;
}

/* By ref, not zplayer_t: a /move over a border hands the player to another
 * zone (and frees it here) before the answer goes out. */
static void respond(zsim_t *sim, uint64_t ref, const char *raw, int ok, const cmd_out_t *o)
{
    buf_t *b = &sim->cbuf;
    buf_reset(b);
    buf_printf(b, "{\"success\":%s,\"command\":", ok ? "true" : "false");
    buf_json_str(b, raw);
    if (ok && o->message[0]) {
        buf_puts(b, ",\"message\":");
        buf_json_str(b, o->message);
    }
    if (!ok) {
        buf_puts(b, ",\"error\":");
        buf_json_str(b, o->error ? o->error : "Command failed.");
    }
    if (o->data && o->data->len) {
        buf_puts(b, ",\"data\":");
        buf_append(b, o->data->data, o->data->len);
    }
    buf_puts(b, ",\"timestamp\":");
    roster_put_u64(b, sim->ts);
    buf_putc(b, '}');
    zsim__send(sim, ref, "command_response", b);
}

void zsim__command(zsim_t *sim, zplayer_t *p, const char *text)
{
    static cmd_parsed_t c; /* loop thread only; too big for the stack of a tick */
    cmd_out_t o;
    buf_t data;
    buf_init(&data);
    memset(&o, 0, sizeof(o));
    o.data = &data;
    const char *err = NULL;
    int ok = 0;
    uint64_t ref = p->ref; /* p may be gone after the handler (see respond) */
    if (cmd_parse(text, &c, &err) < 0) {
        o.error = err;
    } else {
        int i = cmd_lookup(c.name);
        if (i < 0) {
            const char *sug[3];
            int n = cmd_suggest(c.name, sug, 3);
            int k = snprintf(o.errbuf, sizeof(o.errbuf), "Unknown command '/%s'.", c.name);
            for (int s = 0; s < n && k > 0 && (size_t)k < sizeof(o.errbuf); s++)
                k += snprintf(o.errbuf + k, sizeof(o.errbuf) - (size_t)k, "%s/%s",
                              s ? ", " : " Did you mean: ", sug[s]);
            if (k > 0 && (size_t)k < sizeof(o.errbuf))
                snprintf(o.errbuf + k, sizeof(o.errbuf) - (size_t)k, "%s",
                         n ? "?" : " Type /help for the list.");
            o.error = o.errbuf;
            buf_puts(&data, "{\"suggestions\":[");
            for (int s = 0; s < n; s++) {
                if (s) buf_putc(&data, ',');
                buf_json_str(&data, sug[s]);
            }
            buf_puts(&data, "]}");
        } else if (sim->time_ms < p->cmd_ready[i]) {
            snprintf(o.errbuf, sizeof(o.errbuf), "/%s is on cooldown for %.1f s more.",
                     commands[i].name, (p->cmd_ready[i] - sim->time_ms) / 1000.0);
            o.error = o.errbuf;
        } else {
            /* the cooldown starts now, even if the command then fails (the reference) */
            if (commands[i].cooldown_s > 0)
                p->cmd_ready[i] = sim->time_ms + commands[i].cooldown_s * 1000.0;
            if (commands[i].needs_alive && !p->ch.is_alive) {
                o.error = "You are dead and cannot do that until you rise again.";
            } else if (commands[i].speech && !speech_allowed(sim, p)) {
                o.error = "You are speaking too fast; say that again in a moment.";
            } else {
                ok = commands[i].fn(sim, p, &c, &o) == 0; /* a failure may explain in data */
            }
        }
    }
    respond(sim, ref, text, ok, &o);
    buf_free(&data);
}
