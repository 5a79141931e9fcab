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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotenv_forms),
        cmocka_unit_test(test_dotenv_errors),
        cmocka_unit_test(test_config_defaults_and_errors),
        cmocka_unit_test(test_env_file_loses_to_real_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
