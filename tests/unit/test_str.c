/* Unit tests for bounded formatting (src/core/str.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/str.h"

static void test_fits(void **state)
{
    (void)state;
    char b[8];
    assert_int_equal(str_fmt(b, sizeof(b), "%s", "abc"), 3);
    assert_string_equal(b, "abc");
    /* exactly cap - 1 characters still fit */
    assert_int_equal(str_fmt(b, sizeof(b), "%d", 1234567), 7);
    assert_string_equal(b, "1234567");
}

static void test_truncation_fails(void **state)
{
    (void)state;
    char b[8];
    memset(b, 'x', sizeof(b));
    /* snprintf would return 8 here, past what the buffer holds */
    assert_int_equal(str_fmt(b, sizeof(b), "%d", 12345678), -1);
    assert_string_equal(b, "");
    assert_int_equal(str_fmt(b, sizeof(b), "%.0f", 1e308), -1);
    assert_string_equal(b, "");
    assert_int_equal(str_fmt(b, 0, "x"), -1);
    assert_int_equal(str_fmt(NULL, 4, "x"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_truncation_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
