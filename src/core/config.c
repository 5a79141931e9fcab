/* config.c - see config.h. */
#include "config.h"
#include "dotenv.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v ? v : def;
}

static int get_int(const char *name, int def, int min, int max, int *out, char *err, size_t n)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    int x;
    if (str_to_int(v, &x) < 0 || x < min || x > max) {
        snprintf(err, n, "%s=\"%s\" is invalid: expected an integer from %d to %d", name, v, min,
                 max);
        return -1;
    }
    *out = x;
    return 0;
}

static int get_str(const char *name, const char *def, char *out, size_t outlen, char *err, size_t n)
{
    const char *v = env_or(name, def);
    if (strlen(v) >= outlen) {
        snprintf(err, n, "%s is too long (max %zu characters)", name, outlen - 1);
        return -1;
    }
    snprintf(out, outlen, "%s", v);
    return 0;
}

static int valid_id(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= 'a' && *s <= 'z') ||
              (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int parse_zones(config_t *cfg, const char *v, char *err, size_t n)
{
    cfg->n_assigned_zones = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && e[-1] == ' ')
            e--;
        size_t len = (size_t)(e - s);
        if (cfg->n_assigned_zones == CONFIG_MAX_ZONES || len > CONFIG_ID_MAX) {
            snprintf(err, n, "ASSIGNED_ZONES: too many zones or a zone id too long");
            return -1;
        }
        char *dst = cfg->assigned_zones[cfg->n_assigned_zones++];
        memcpy(dst, s, len);
        dst[len] = '\0';
        if (!valid_id(dst)) {
            snprintf(err, n, "ASSIGNED_ZONES: \"%s\" is not a valid zone id", dst);
            return -1;
        }
    }
    return 0;
}

static int load_auth_limits(config_t *cfg, char *err, size_t n)
{
    if (get_int("AUTH_HASH_THREADS", 2, 1, 16, &cfg->auth_hash_threads, err, n) < 0 ||
        get_int("AUTH_HASH_QUEUE", 32, 0, 10000, &cfg->auth_hash_queue, err, n) < 0 ||
        get_int("AUTH_LOCKOUT_FAILURES", 5, 0, 1000, &cfg->auth_lockout_failures, err, n) < 0 ||
        get_int("AUTH_LOCKOUT_BASE_MS", 1000, 1, 3600000, &cfg->auth_lockout_base_ms, err, n) < 0 ||
        get_int("AUTH_LOCKOUT_MAX_MS", 300000, 1, 86400000, &cfg->auth_lockout_max_ms, err, n) <
            0 ||
        get_int("AUTH_LOGIN_FAILS_PER_IP_MINUTE", 30, 0, 1000000, &cfg->auth_login_fails_per_min,
                err, n) < 0 ||
        get_int("AUTH_TOKEN_FAILS_PER_IP_MINUTE", 30, 0, 1000000, &cfg->auth_token_fails_per_min,
                err, n) < 0 ||
        get_int("AUTH_GUEST_PER_IP_MINUTE", 60, 0, 1000000, &cfg->auth_guest_per_min, err, n) < 0 ||
        get_int("AUTH_GUEST_PER_IP_HOUR", 600, 0, 10000000, &cfg->auth_guest_per_hour, err, n) <
            0 ||
        get_int("AUTH_MAX_FAILS_PER_CONN", 10, 1, 1000000, &cfg->auth_max_fails_per_conn, err, n) <
            0 ||
        get_int("AUTH_THROTTLE_ENTRIES", 100000, 16, 10000000, &cfg->auth_throttle_entries, err,
                n) < 0)
        return -1;
    if (cfg->auth_lockout_max_ms < cfg->auth_lockout_base_ms) {
        snprintf(err, n, "AUTH_LOCKOUT_MAX_MS must be at least AUTH_LOCKOUT_BASE_MS");
        return -1;
    }
    return 0;
}

int config_load(config_t *cfg, const char *env_path, char *err, size_t n)
{
    memset(cfg, 0, sizeof(*cfg));
    if (env_path) {
        int line = 0;
        if (dotenv_load(env_path, &line) < 0) {
            snprintf(err, n, "%s: line %d is not KEY=value", env_path, line);
            return -1;
        }
    }
    if (get_str("SERVER_ID", "server-1", cfg->server_id, sizeof(cfg->server_id), err, n) < 0)
        return -1;
    if (!valid_id(cfg->server_id)) {
        snprintf(err, n, "SERVER_ID=\"%s\" is invalid: use letters, digits, '-', '_', '.'",
                 cfg->server_id);
        return -1;
    }
    if (get_str("BIND_ADDRESS", "0.0.0.0", cfg->bind_address, sizeof(cfg->bind_address), err, n) <
        0)
        return -1;
    unsigned char ip[16];
    if (inet_pton(AF_INET, cfg->bind_address, ip) != 1 &&
        inet_pton(AF_INET6, cfg->bind_address, ip) != 1) {
        snprintf(err, n, "BIND_ADDRESS=\"%s\" is invalid: expected an IPv4 or IPv6 address",
                 cfg->bind_address);
        return -1;
    }
    if (get_int("GATEWAY_PORT", 3100, 1, 65535, &cfg->gateway_port, err, n) < 0) return -1;
    if (get_int("ZONE_HTTP_PORT", 3200, 0, 65535, &cfg->zone_http_port, err, n) < 0) return -1;
    if (get_str("REDIS_URL", "redis://localhost:6379", cfg->redis_url, sizeof(cfg->redis_url), err,
                n) < 0)
        return -1;
    if (strncmp(cfg->redis_url, "redis://", 8) != 0 &&
        strncmp(cfg->redis_url, "redis+cluster://", 16) != 0) {
        snprintf(err, n,
                 "REDIS_URL=\"%s\" is invalid: expected redis://host:port or "
                 "redis+cluster://host:port[,host:port...]",
                 cfg->redis_url);
        return -1;
    }
    if (get_str("DATABASE_URL", "sqlite:data/wod.db", cfg->database_url, sizeof(cfg->database_url),
                err, n) < 0)
        return -1;
    if (strncmp(cfg->database_url, "sqlite:", 7) != 0 &&
        strncmp(cfg->database_url, "postgres://", 11) != 0 &&
        strncmp(cfg->database_url, "postgresql://", 13) != 0) {
        snprintf(err, n, "DATABASE_URL=\"%s\" is invalid: expected sqlite:PATH or postgres://...",
                 cfg->database_url);
        return -1;
    }
    if (get_str("DATABASE_REPLICA_URLS", "", cfg->database_replica_urls,
                sizeof(cfg->database_replica_urls), err, n) < 0)
        return -1;
    if (cfg->database_replica_urls[0] && strncmp(cfg->database_url, "sqlite:", 7) == 0) {
        snprintf(err, n, "DATABASE_REPLICA_URLS needs a postgres:// DATABASE_URL");
        return -1;
    }
    if (get_int("TICK_RATE", 20, 1, 200, &cfg->tick_rate, err, n) < 0) return -1;
    if (parse_zones(cfg, env_or("ASSIGNED_ZONES", ""), err, n) < 0) return -1;
    if (get_int("ZONE_STANDBY", 0, 0, 1, &cfg->zone_standby, err, n) < 0) return -1;
    if (get_int("ROSTER_MAX_ENTITIES", 64, 1, 1000, &cfg->roster_max_entities, err, n) < 0)
        return -1;
    if (get_int("MAX_CHARACTERS", 5, 1, 100, &cfg->max_characters, err, n) < 0) return -1;
    if (get_int("TOKEN_TTL_HOURS", 720, 1, 87600, &cfg->token_ttl_hours, err, n) < 0) return -1;
    if (get_int("SAVE_INTERVAL_MS", 3000, 100, 600000, &cfg->save_interval_ms, err, n) < 0)
        return -1;
    if (get_int("NPCS", 1, 0, 1, &cfg->npcs, err, n) < 0) return -1;
    if (get_int("ROSTER_THREADS", 1, 1, 64, &cfg->roster_threads, err, n) < 0) return -1;
    if (load_auth_limits(cfg, err, n) < 0) return -1;
    if (get_int("HTTP_HEADER_TIMEOUT_MS", 5000, 100, 600000, &cfg->http_header_timeout_ms, err, n) <
            0 ||
        get_int("HANDSHAKE_TIMEOUT_MS", 10000, 100, 600000, &cfg->handshake_timeout_ms, err, n) <
            0 ||
        get_int("AUTH_TIMEOUT_MS", 30000, 100, 3600000, &cfg->auth_timeout_ms, err, n) < 0 ||
        get_int("MAX_CONNS_PER_IP", 64, 0, 1000000, &cfg->max_conns_per_ip, err, n) < 0 ||
        get_int("LIMITS_EXEMPT_LOOPBACK", 1, 0, 1, &cfg->limits_exempt_loopback, err, n) < 0 ||
        get_int("MAX_UNAUTH_CONNS", 8192, 1, 60000, &cfg->max_unauth_conns, err, n) < 0)
        return -1;
    if (get_int("GATEWAY_SEND_QUEUE_BYTES", 512 * 1024, 16 * 1024, 256 * 1024 * 1024,
                &cfg->send_queue_bytes, err, n) < 0)
        return -1;
    if (get_int("GATEWAY_SEND_STALL_MS", 15000, 1000, 3600 * 1000, &cfg->send_stall_ms, err, n) < 0)
        return -1;
    if (get_int("MOB_RESPAWN_MS", 120000, 100, 86400000, &cfg->mob_respawn_ms, err, n) < 0)
        return -1;
    if (get_int("RNG_SEED", 1, 0, 2147483647, &cfg->rng_seed, err, n) < 0) return -1;
    if (get_int("RESPAWN_DELAY_MS", 10000, 0, 3600000, &cfg->respawn_delay_ms, err, n) < 0)
        return -1;
    if (get_str("LLM_BASE_URL", "", cfg->llm_base_url, sizeof(cfg->llm_base_url), err, n) < 0 ||
        get_str("LLM_MODEL", "local-model", cfg->llm_model, sizeof(cfg->llm_model), err, n) < 0 ||
        get_str("LLM_API_KEY", "", cfg->llm_api_key, sizeof(cfg->llm_api_key), err, n) < 0)
        return -1;
    if (cfg->llm_base_url[0] && strncmp(cfg->llm_base_url, "http://", 7) != 0) {
        snprintf(err, n, "LLM_BASE_URL=\"%s\" is invalid: expected http://host[:port]/path",
                 cfg->llm_base_url);
        return -1;
    }
    if (get_int("LLM_TIMEOUT_MS", 8000, 100, 120000, &cfg->llm_timeout_ms, err, n) < 0 ||
        get_int("LLM_NPC_COOLDOWN_MS", 10000, 0, 3600000, &cfg->llm_cooldown_ms, err, n) < 0 ||
        get_int("LLM_MAX_PER_MINUTE", 30, 1, 6000, &cfg->llm_max_per_minute, err, n) < 0)
        return -1;
    if (get_str("ADMIN_TOKEN", "", cfg->admin_token, sizeof(cfg->admin_token), err, n) < 0)
        return -1;
    /* A short token would make the admin console guessable. */
    if (cfg->admin_token[0] && strlen(cfg->admin_token) < 16) {
        snprintf(err, n, "ADMIN_TOKEN is invalid: use at least 16 characters (or leave it empty)");
        return -1;
    }
    log_level_t lvl;
    const char *ls = env_or("LOG_LEVEL", "info");
    if (log_level_parse(ls, &lvl) < 0) {
        snprintf(err, n, "LOG_LEVEL=\"%s\" is invalid: expected debug, info, warn or error", ls);
        return -1;
    }
    cfg->log_level = (int)lvl;
    const char *lf = env_or("LOG_FORMAT", "text");
    if (strcmp(lf, "text") != 0 && strcmp(lf, "json") != 0) {
        snprintf(err, n, "LOG_FORMAT=\"%s\" is invalid: expected text or json", lf);
        return -1;
    }
    cfg->log_json = strcmp(lf, "json") == 0;
    return 0;
}

int config_assigns_zone(const config_t *cfg, const char *zone_id)
{
    if (cfg->n_assigned_zones == 0) return 1;
    for (int i = 0; i < cfg->n_assigned_zones; i++)
        if (strcmp(cfg->assigned_zones[i], zone_id) == 0) return 1;
    return 0;
}
