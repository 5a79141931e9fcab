/* config.h - process configuration from the environment.
 *
 * A `.env` file in the working directory is loaded first; variables
 * already in the real environment win. Every variable is documented in
 * .env.example. Invalid values are rejected with one line naming the
 * variable (the caller exits with code 2). */
#ifndef WOD_CONFIG_H
#define WOD_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_ZONES 64
#define CONFIG_ID_MAX    63

typedef struct config_s {
    char server_id[CONFIG_ID_MAX + 1];                        /* SERVER_ID */
    char bind_address[64];                                    /* BIND_ADDRESS */
    int gateway_port;                                         /* GATEWAY_PORT */
    int zone_http_port;                                       /* ZONE_HTTP_PORT */
    char redis_url[256];                                      /* REDIS_URL */
    char database_url[512];                                   /* DATABASE_URL */
    int tick_rate;                                            /* TICK_RATE, ticks per second */
    char assigned_zones[CONFIG_MAX_ZONES][CONFIG_ID_MAX + 1]; /* ASSIGNED_ZONES */
    int n_assigned_zones;                                     /* 0 = every unclaimed zone */
    int zone_standby;                                         /* ZONE_STANDBY */
    int roster_max_entities;                                  /* ROSTER_MAX_ENTITIES */
    int max_characters;                                       /* MAX_CHARACTERS per account */
    int token_ttl_hours;                                      /* TOKEN_TTL_HOURS */
    int log_level;                                            /* LOG_LEVEL (log_level_t) */
    int log_json;                                             /* LOG_FORMAT=json */
    int save_interval_ms;                                     /* SAVE_INTERVAL_MS */
    int npcs;             /* NPCS: 0 spawns no NPCs (quiet test worlds) */
    int roster_threads;   /* ROSTER_THREADS: threads computing rosters per tick */
    int rng_seed;         /* RNG_SEED: combat/loot randomness; 0 = from the clock */
    int respawn_delay_ms; /* RESPAWN_DELAY_MS: a dead player rises after this */
} config_t;

/* Fills `cfg` from .env (at env_path, may be NULL) and the environment.
 * Returns 0, or -1 with a one-line reason in err. */
int config_load(config_t *cfg, const char *env_path, char *err, size_t errlen);

/* Is `zone_id` in ASSIGNED_ZONES (or is the list empty)? */
int config_assigns_zone(const config_t *cfg, const char *zone_id);

#endif
