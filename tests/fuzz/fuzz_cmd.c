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
