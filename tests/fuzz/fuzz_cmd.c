/* fuzz_cmd.c - libFuzzer driver for slash commands: arbitrary bytes as a
 * command line, parsed (cmd_parse) and run by a player in a real zone
 * simulation with NPCs, so every handler meets hostile input. The sim is
 * made once; a command must never crash it, and every line must be
 * answered with exactly one command_response. The command source is
 * included rather than linked so it gets the fuzzer's coverage
 * instrumentation (as fuzz_sio.c does). */
#include "../../src/sim/cmd.c"
#include "../../src/sim/cmd_parse.c"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int responses;

static void on_send(void *ud, uint64_t ref, const char *type, const char *payload, size_t len)
{
    (void)ud;
    (void)ref;
    (void)payload;
    (void)len;
    responses += strcmp(type, "command_response") == 0;
}

static zsim_t *make_sim(void)
{
    static zonedef_t z;
    memset(&z, 0, sizeof(z));
    snprintf(z.id, sizeof(z.id), "zone-fuzz");
    snprintf(z.name, sizeof(z.name), "Fuzz");
    z.size_x = z.size_z = 200;
    z.size_y = 50;
    z.spawn_x = z.spawn_z = 100;
    zsim_config_t cfg = {.tick_rate = 20, .roster_max_entities = 16, .rng_seed = 1};
    zsim_hooks_t hooks = {.send = on_send};
    zsim_t *sim = zsim_new(&z, &z, 1, &cfg, &hooks);
    /* a merchant, a passive rat and a hostile dog near the spawn point */
    static npcdef_t cast[3];
    const char *names[] = {"Old Merchant", "Rat", "Rabid Dog"};
    for (int i = 0; i < 3; i++) {
        npcdef_t *d = &cast[i];
        snprintf(d->tag, sizeof(d->tag), "fuzz.%d", i);
        snprintf(d->zone_id, sizeof(d->zone_id), "%s", z.id);
        snprintf(d->name, sizeof(d->name), "%s", names[i]);
        d->is_mob = i > 0;
        d->wildlife = i > 0;
        d->hostile = i == 2;
        d->level = 2 + i;
        d->strength = d->vitality = d->dexterity = d->agility = 8 + i;
        d->max_hp = 40 + 40 * i;
        d->aggro_radius = 30;
        d->leash = 60;
        d->speed = 10;
        d->wander = 4;
        d->x = 95 + 8 * i;
        d->z = 105;
        d->n_lines = i == 0;
        snprintf(d->lines[0], sizeof(d->lines[0]), "Lamp oil?");
    }
    zsim_add_npcs(sim, cast, 3);
    character_t c;
    character_init(&c, 1, "Fuzzer", "", z.id, 100, 0, 100);
    c.id = 1;
    zsim_player_enter(sim, 1, &c, 0, 1);
    return sim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zsim_t *sim;
    if (!sim) sim = make_sim();
    char *line = malloc(size + 1);
    if (!line) return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    static cmd_parsed_t c;
    const char *err;
    cmd_parse(line, &c, &err);
    responses = 0;
    zsim_player_command(sim, 1, line);
    if (responses != 1) abort();
    zsim_tick(sim, 0); /* let any fight or move it started run */
    free(line);
    return 0;
}
