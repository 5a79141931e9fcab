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
    char database_replica_urls[2048];                         /* DATABASE_REPLICA_URLS */
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
    int npcs;              /* NPCS: 0 spawns no NPCs (quiet test worlds) */
    int roster_threads;    /* ROSTER_THREADS: threads computing rosters per tick */
    char admin_token[129]; /* ADMIN_TOKEN: "" = admin console disabled */
    /* Login abuse limits (docs/OPERATIONS.md, "Limits and abuse"); 0 turns a rate off. */
    int auth_hash_threads;        /* AUTH_HASH_THREADS: argon2id threads (~64 MiB each) */
    int auth_hash_queue;          /* AUTH_HASH_QUEUE: password jobs waiting beyond those */
    int auth_lockout_failures;    /* AUTH_LOCKOUT_FAILURES: failures before an account locks */
    int auth_lockout_base_ms;     /* AUTH_LOCKOUT_BASE_MS: first lock, doubling per failure */
    int auth_lockout_max_ms;      /* AUTH_LOCKOUT_MAX_MS: longest lock */
    int auth_login_fails_per_min; /* AUTH_LOGIN_FAILS_PER_IP_MINUTE */
    int auth_token_fails_per_min; /* AUTH_TOKEN_FAILS_PER_IP_MINUTE */
    int auth_guest_per_min;       /* AUTH_GUEST_PER_IP_MINUTE: accounts created per address */
    int auth_guest_per_hour;      /* AUTH_GUEST_PER_IP_HOUR */
    int auth_max_fails_per_conn;  /* AUTH_MAX_FAILS_PER_CONN: then the connection is closed */
    int auth_throttle_entries;    /* AUTH_THROTTLE_ENTRIES: addresses + accounts remembered */
    /* Connections that have not authenticated (gateway, see docs/OPERATIONS.md) */
    int http_header_timeout_ms; /* HTTP_HEADER_TIMEOUT_MS: accept to complete request */
    int handshake_timeout_ms;   /* HANDSHAKE_TIMEOUT_MS: upgrade to `handshake` */
    int auth_timeout_ms;        /* AUTH_TIMEOUT_MS: `handshake` to successful `auth` */
    int max_conns_per_ip;       /* MAX_CONNS_PER_IP, 0 = no cap */
    int limits_exempt_loopback; /* LIMITS_EXEMPT_LOOPBACK: per-address cap skips loopback */
    int max_unauth_conns;       /* MAX_UNAUTH_CONNS */

    int send_queue_bytes; /* GATEWAY_SEND_QUEUE_BYTES: a client's unsent output before it is cut */
    int send_stall_ms;    /* GATEWAY_SEND_STALL_MS: no write progress this long cuts it too */

    /* NPCs and their AI (docs/GAME.md) */
    int mob_respawn_ms;     /* MOB_RESPAWN_MS: default delay before a killed mob respawns */
    int rng_seed;           /* RNG_SEED: seeds each zone's game RNG (with the zone id) */
    int respawn_delay_ms;   /* RESPAWN_DELAY_MS: a dead player rises after this */
    char llm_base_url[256]; /* LLM_BASE_URL: OpenAI-compatible http:// endpoint; "" = off */
    char llm_model[128];    /* LLM_MODEL */
    char llm_api_key[256];  /* LLM_API_KEY: sent as a Bearer token if set */
    int llm_timeout_ms;     /* LLM_TIMEOUT_MS: a request gives up after this */
    int llm_cooldown_ms;    /* LLM_NPC_COOLDOWN_MS: one request per NPC per this */
    int llm_max_per_minute; /* LLM_MAX_PER_MINUTE: requests per zone server */
} config_t;

/* Fills `cfg` from .env (at env_path, may be NULL) and the environment.
 * Returns 0, or -1 with a one-line reason in err. */
int config_load(config_t *cfg, const char *env_path, char *err, size_t errlen);

/* Is `zone_id` in ASSIGNED_ZONES (or is the list empty)? */
int config_assigns_zone(const config_t *cfg, const char *zone_id);

#endif
