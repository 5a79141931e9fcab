/* Unit tests for .env parsing and configuration (src/core/dotenv.c, config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/dotenv.h"

typedef struct {
    char keys[8][32], vals[8][64];
    int n;
} kv_t;

static void collect(void *ud, const char *k, const char *v)
{
    kv_t *kv = ud;
    snprintf(kv->keys[kv->n], 32, "%s", k);
    snprintf(kv->vals[kv->n], 64, "%s", v);
    kv->n++;
}

static void test_dotenv_forms(void **state)
{
    (void)state;
    const char *text = "# comment\n\nA=1\nexport B = two words # trailing\nC=\"q \\\"x\\\" \\n\"\n"
                       "D='lit # not comment'\r\nE=\n";
    kv_t kv = {0};
    int line = 0;
    assert_int_equal(dotenv_parse(text, strlen(text), collect, &kv, &line), 0);
    assert_int_equal(kv.n, 5);
    assert_string_equal(kv.keys[0], "A");
    assert_string_equal(kv.vals[0], "1");
    assert_string_equal(kv.vals[1], "two words");
    assert_string_equal(kv.vals[2], "q \"x\" \n");
    assert_string_equal(kv.vals[3], "lit # not comment");
    assert_string_equal(kv.vals[4], "");
}

static void test_dotenv_errors(void **state)
{
    (void)state;
    kv_t kv = {0};
    int line = 0;
    const char *a = "A=1\nnot an assignment\n";
    assert_int_equal(dotenv_parse(a, strlen(a), collect, &kv, &line), -1);
    assert_int_equal(line, 2);
    const char *b = "X=\"unterminated\n";
    assert_int_equal(dotenv_parse(b, strlen(b), collect, &kv, &line), -1);
    const char *c = "1X=2\n";
    assert_int_equal(dotenv_parse(c, strlen(c), collect, &kv, &line), -1);
}

static void test_config_defaults_and_errors(void **state)
{
    (void)state;
    config_t cfg;
    char err[256];
    unsetenv("GATEWAY_PORT");
    unsetenv("TICK_RATE");
    unsetenv("ASSIGNED_ZONES");
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.gateway_port, 3100);
    assert_int_equal(cfg.tick_rate, 20);
    assert_int_equal(cfg.n_assigned_zones, 0);
    assert_true(config_assigns_zone(&cfg, "zone-forest"));
    setenv("ASSIGNED_ZONES", " zone-forest, zone-city ,", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.n_assigned_zones, 2);
    assert_string_equal(cfg.assigned_zones[1], "zone-city");
    assert_false(config_assigns_zone(&cfg, "zone-crossroads"));
    setenv("TICK_RATE", "0", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TICK_RATE"));
    unsetenv("TICK_RATE");
    setenv("DATABASE_URL", "mysql://x", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "DATABASE_URL"));
    unsetenv("DATABASE_URL");
    unsetenv("ASSIGNED_ZONES");
    /* ADMIN_TOKEN: empty disables the console; a short one is refused */
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_string_equal(cfg.admin_token, "");
    setenv("ADMIN_TOKEN", "short", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ADMIN_TOKEN"));
    setenv("ADMIN_TOKEN", "0123456789abcdef", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_string_equal(cfg.admin_token, "0123456789abcdef");
    unsetenv("ADMIN_TOKEN");
}

static void test_config_edge_limits(void **state)
{
    (void)state;
    config_t cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.http_header_timeout_ms, 5000);
    assert_int_equal(cfg.handshake_timeout_ms, 10000);
    assert_int_equal(cfg.auth_timeout_ms, 30000);
    assert_int_equal(cfg.max_conns_per_ip, 64);
    assert_int_equal(cfg.limits_exempt_loopback, 1);
    assert_int_equal(cfg.max_unauth_conns, 8192);
    setenv("MAX_CONNS_PER_IP", "0", 1); /* 0 = no cap */
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.max_conns_per_ip, 0);
    unsetenv("MAX_CONNS_PER_IP");
    setenv("HANDSHAKE_TIMEOUT_MS", "5", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HANDSHAKE_TIMEOUT_MS"));
    unsetenv("HANDSHAKE_TIMEOUT_MS");
    setenv("MAX_UNAUTH_CONNS", "0", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "MAX_UNAUTH_CONNS"));
    unsetenv("MAX_UNAUTH_CONNS");
    setenv("BIND_ADDRESS", "::1", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    setenv("BIND_ADDRESS", "localhost", 1); /* a name, not an address */
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "BIND_ADDRESS"));
    unsetenv("BIND_ADDRESS");
}

static void test_npc_settings(void **state)
{
    (void)state;
    config_t cfg;
    char err[256];
    unsetenv("MOB_RESPAWN_MS");
    unsetenv("RNG_SEED");
    unsetenv("LLM_BASE_URL");
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.mob_respawn_ms, 120000);
    assert_int_equal(cfg.rng_seed, 1);
    assert_string_equal(cfg.llm_base_url, ""); /* LLM NPCs off */
    assert_int_equal(cfg.llm_timeout_ms, 8000);
    assert_int_equal(cfg.llm_cooldown_ms, 10000);
    assert_int_equal(cfg.llm_max_per_minute, 30);
    setenv("MOB_RESPAWN_MS", "5", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "MOB_RESPAWN_MS"));
    unsetenv("MOB_RESPAWN_MS");
    setenv("LLM_BASE_URL", "https://api.example.com/v1", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "LLM_BASE_URL"));
    setenv("LLM_BASE_URL", "http://127.0.0.1:1234/v1", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    unsetenv("LLM_BASE_URL");
}

static void test_env_file_loses_to_real_env(void **state)
{
    (void)state;
    char path[] = "/tmp/wod-test-envXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("SERVER_ID=from-file\nZONE_HTTP_PORT=4000\n", f);
    fclose(f);
    setenv("SERVER_ID", "from-env", 1);
    unsetenv("ZONE_HTTP_PORT");
    config_t cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
    assert_string_equal(cfg.server_id, "from-env");
    assert_int_equal(cfg.zone_http_port, 4000);
    unlink(path);
    unsetenv("SERVER_ID");
    unsetenv("ZONE_HTTP_PORT");
}

static void test_config_auth_limits(void **state)
{
    (void)state;
    config_t cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.auth_hash_threads, 2);
    assert_int_equal(cfg.auth_hash_queue, 32);
    assert_int_equal(cfg.auth_lockout_failures, 5);
    assert_int_equal(cfg.auth_guest_per_min, 60);
    setenv("AUTH_HASH_THREADS", "0", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AUTH_HASH_THREADS"));
    unsetenv("AUTH_HASH_THREADS");
    setenv("AUTH_LOCKOUT_BASE_MS", "5000", 1);
    setenv("AUTH_LOCKOUT_MAX_MS", "1000", 1);
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AUTH_LOCKOUT_MAX_MS"));
    unsetenv("AUTH_LOCKOUT_BASE_MS");
    unsetenv("AUTH_LOCKOUT_MAX_MS");
    setenv("AUTH_GUEST_PER_IP_MINUTE", "0", 1); /* 0 = no limit */
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.auth_guest_per_min, 0);
    unsetenv("AUTH_GUEST_PER_IP_MINUTE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotenv_forms),
        cmocka_unit_test(test_dotenv_errors),
        cmocka_unit_test(test_config_defaults_and_errors),
        cmocka_unit_test(test_config_edge_limits),
        cmocka_unit_test(test_npc_settings),
        cmocka_unit_test(test_env_file_loses_to_real_env),
        cmocka_unit_test(test_config_auth_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
