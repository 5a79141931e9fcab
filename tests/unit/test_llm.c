/* test_llm.c - the LLM client's parsers: URLs, HTTP responses
 * (Content-Length, chunked, to EOF, malformed) and chat-completions
 * replies (SAY:, NONE, truncation at a character boundary). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/httpc.h"
#include "zone/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_url(void **state)
{
    (void)state;
    httpc_url_t u;
    assert_int_equal(httpc_parse_url("http://127.0.0.1:1234/v1/chat/completions", &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.port, "1234");
    assert_string_equal(u.path, "/v1/chat/completions");
    assert_int_equal(httpc_parse_url("http://llm.local", &u), 0);
    assert_string_equal(u.port, "80");
    assert_string_equal(u.path, "/");
    assert_int_equal(httpc_parse_url("https://api.example.com/v1", &u), -1);
    assert_int_equal(httpc_parse_url("http://:80/", &u), -1);
    assert_int_equal(httpc_parse_url("http://h:99999/", &u), -1);
    assert_int_equal(httpc_parse_url("http://h:x/", &u), -1);
}

static int parse(const char *raw, int *status, char **body, size_t *len)
{
    return httpc_parse_response(raw, strlen(raw), status, body, len);
}

static void test_response(void **state)
{
    (void)state;
    int st;
    char *b;
    size_t n;
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello-extra", &st, &b, &n),
                     0);
    assert_int_equal(st, 200);
    assert_int_equal(n, 5);
    assert_string_equal(b, "hello");
    free(b);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n"
                           "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n",
                           &st, &b, &n),
                     0);
    assert_string_equal(b, "wikipedia");
    free(b);
    assert_int_equal(parse("HTTP/1.0 500 Oops\r\nX: y\r\n\r\nto the end", &st, &b, &n), 0);
    assert_int_equal(st, 500);
    assert_string_equal(b, "to the end");
    free(b);
    assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", &st, &b, &n), 0);
    assert_int_equal(n, 0);
    assert_string_equal(b, "");
    free(b);
    /* malformed */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", &st, &b, &n), -1);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2", &st, &b, &n), -1);
    assert_int_equal(parse("SMTP 220 hi\r\n\r\n", &st, &b, &n), -1);
    assert_int_equal(parse("HTTP/1.1 2x0 OK\r\n\r\n", &st, &b, &n), -1);
    assert_int_equal(
        parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", &st, &b, &n), -1);
    assert_int_equal(
        parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab\r\n", &st, &b, &n), -1);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", &st, &b, &n),
                     -1);
}

static int reply(const char *content_json, char *out, size_t cap)
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"choices\":[{\"message\":{\"content\":%s}}]}", content_json);
    return llm_parse_reply(body, strlen(body), out, cap);
}

static void test_reply(void **state)
{
    (void)state;
    char out[LLM_REPLY_MAX + 1];
    assert_int_equal(reply("\"SAY: Welcome, friend.\"", out, sizeof(out)), 1);
    assert_string_equal(out, "Welcome, friend.");
    assert_int_equal(reply("\"  Plain words  \\n\"", out, sizeof(out)), 1);
    assert_string_equal(out, "Plain words");
    assert_int_equal(reply("\"NONE\"", out, sizeof(out)), 0);
    assert_int_equal(reply("\"none.\"", out, sizeof(out)), 0);
    assert_int_equal(reply("\"   \"", out, sizeof(out)), 0);
    assert_int_equal(reply("\"None of your business.\"", out, sizeof(out)), 1);
    /* cut at a character boundary: "é" is 2 bytes */
    char small[6];
    assert_int_equal(reply("\"abcd\\u00e9f\"", small, sizeof(small)), 1);
    assert_string_equal(small, "abcd");
    assert_int_equal(reply("42", out, sizeof(out)), -1);
    assert_int_equal(llm_parse_reply("{\"choices\":[]}", 14, out, sizeof(out)), -1);
    assert_int_equal(llm_parse_reply("not json", 8, out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
