/*
 * Unit tests of the checks of untrusted input (lib/input.c): the JSON depth scan and its
 * loader, UTF-8 validation, the request path's percent-decoding, and the printable copy used
 * in error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/input.h"

static bool depth_ok(const char *text, int max, size_t *where)
{
    return input_json_depth_ok(text, strlen(text), max, where);
}

static void test_json_depth_counts_brackets(void **state)
{
    (void)state;
    size_t at = 999;
    assert_true(depth_ok("42", 0, NULL));
    assert_true(depth_ok("\"a\"", 0, NULL));
    assert_false(depth_ok("{}", 0, &at));
    assert_int_equal(at, 0);
    assert_true(depth_ok("{}", 1, NULL));
    assert_true(depth_ok("[{}, {}, [], 1]", 2, NULL));
    assert_false(depth_ok("[{}, {\"a\": [1]}]", 2, &at));
    assert_int_equal(at, 11); /* the third level opens at the second '[' */
    assert_true(depth_ok("[{}, {\"a\": [1]}]", 3, NULL));
    /* Closers without openers never make room for more depth. */
    assert_false(depth_ok("]]]]]][[[", 2, &at));
    assert_int_equal(at, 8);
    /* The bodies: 1,000 '[' and 1,000 '{"a":'. */
    char *deep = malloc(5 * 1000 + 1);
    assert_non_null(deep);
    memset(deep, '[', 1000);
    deep[1000] = '\0';
    assert_false(depth_ok(deep, 32, &at));
    assert_int_equal(at, 32);
    for (int i = 0; i < 1000; i++)
        memcpy(deep + 5 * i, "{\"a\":", 5);
    deep[5000] = '\0';
    assert_false(depth_ok(deep, 32, &at));
    assert_int_equal(at, 5 * 32);
    free(deep);
}

static void test_json_depth_skips_strings(void **state)
{
    (void)state;
    size_t at = 0;
    /* Brackets inside strings do not count, nor an escaped quote inside one. */
    assert_true(depth_ok("[\"[[[[{{{{\"]", 1, NULL));
    assert_true(depth_ok("[\"\\\"[[[[\"]", 1, NULL));
    assert_true(depth_ok("{\"{[\": \"]}\\\\\"}", 1, NULL));
    /* An escaped backslash ends the escape: the quote after it closes the string, and the
     * brackets after that count. */
    assert_false(depth_ok("[\"\\\\\", [[]]]", 2, &at));
    assert_int_equal(at, 8);
    /* A string left open hides the rest: the parser refuses such a text anyway. */
    assert_true(depth_ok("[\"[[[[[[", 1, NULL));
    /* A backslash as the last byte does not read past the end. */
    assert_true(input_json_depth_ok("[\"\\", 3, 1, NULL));
}

static void test_json_loadb_refuses_before_parsing(void **state)
{
    (void)state;
    json_error_t err;
    const char *text = "{\"a\":\n [[[1]]]}";
    json_t *v = input_json_loadb(text, strlen(text), 0, 3, &err);
    assert_null(v);
    assert_int_equal(json_error_code(&err), json_error_stack_overflow);
    assert_string_equal(err.text, "nested deeper than 3 levels");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 4);
    assert_int_equal(err.position, 9);
    assert_null(input_json_loadb(text, strlen(text), 0, 3, NULL)); /* err is optional */
    v = input_json_loadb(text, strlen(text), 0, 4, &err);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_array_get(
                         json_array_get(json_array_get(json_object_get(v, "a"), 0), 0), 0)),
                     1);
    json_decref(v);
    /* Other errors are jansson's own. */
    assert_null(input_json_loadb("{\"a\":", 5, 0, 4, &err));
    assert_int_not_equal(json_error_code(&err), json_error_stack_overflow);
    /* Duplicate keys are refused when asked, as by json_loadb. */
    assert_null(input_json_loadb("{\"a\":1,\"a\":2}", 13, JSON_REJECT_DUPLICATES, 4, &err));
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"ascii /path", true},
        {"Школа № 1", true},
        {"\xDF\xBF", true},             /* U+07FF */
        {"\xE0\xA0\x80", true},         /* U+0800 */
        {"\xED\x9F\xBF", true},         /* U+D7FF, just below the surrogates */
        {"\xEE\x80\x80", true},         /* U+E000, just above */
        {"\xEF\xBF\xBF", true},         /* U+FFFF */
        {"\xF0\x90\x80\x80", true},     /* U+10000 */
        {"\xF4\x8F\xBF\xBF", true},     /* U+10FFFF */
        {"\xC0\xAF", false},            /* overlong '/' */
        {"\xC1\xBF", false},            /* overlong */
        {"\xE0\x80\xAF", false},        /* overlong '/' in three bytes */
        {"\xE0\x9F\xBF", false},        /* overlong U+07FF */
        {"\xF0\x80\x80\xAF", false},    /* overlong '/' in four bytes */
        {"\xF0\x8F\xBF\xBF", false},    /* overlong U+FFFF */
        {"\xED\xA0\x80", false},        /* U+D800, a surrogate */
        {"\xED\xBF\xBF", false},        /* U+DFFF */
        {"\xF4\x90\x80\x80", false},    /* U+110000 */
        {"\xF5\x80\x80\x80", false},    /* no such lead byte */
        {"\xFF", false},                /* nor this */
        {"\x80", false},                /* a lone continuation byte */
        {"a\xD0", false},               /* cut short at the end */
        {"\xE2\x82", false},            /* cut short */
        {"\xE2\x82x", false},           /* interrupted */
        {"\xF0\x9F\x98", false},        /* cut short */
        {"\xD0\xB0\xD0\xB1\xD0", false} /* "аб" and half a character */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (input_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
    assert_true(input_utf8_valid("a\0b", 3)); /* NUL is UTF-8; paths refuse it themselves */
}

static void test_path_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(input_path_decode("/api/v1/me", out, sizeof(out)), 10);
    assert_string_equal(out, "/api/v1/me");
    assert_int_equal(input_path_decode("/a%20b%2Fc%41", out, sizeof(out)), 7);
    assert_string_equal(out, "/a b/cA");
    assert_int_equal(input_path_decode("/%d1%88%D0%BA", out, sizeof(out)), 5);
    assert_string_equal(out, "/шк");
    assert_int_equal(input_path_decode("/a/.b/..c/%2e%2e%2e", out, sizeof(out)), 13);
    assert_string_equal(out, "/a/.b/..c/...");
    assert_int_equal(input_path_decode("/a+b", out, sizeof(out)), 4);
    assert_string_equal(out, "/a+b");
    assert_int_equal(input_path_decode("/\xD1\x88", out, sizeof(out)), 3); /* raw UTF-8 */
    /* The paths and their like. */
    static const char *const bad[] = {
        "/api/v1/students/8%00/diary",
        "/static/app.js%00.png",
        "/a%0A",   /* a line feed: would split the access log's line */
        "/a%0d",   /* carriage return */
        "/a%7F",   /* DEL */
        "/a\x01",  /* a raw control byte */
        "/a%1",    /* a cut escape */
        "/a%",     /* a lone percent */
        "/a%zz",   /* not hex */
        "/a%%41",  /* "%%" is no escape */
        "/%C0%AF", /* overlong '/' */
        "/%E0%80%AF",
        "/%ED%A0%80", /* a surrogate */
        "/%F4%90%80%80",
        "/%D1",             /* cut short */
        "/%D1%2F",          /* interrupted */
        "/\xFF",            /* raw invalid byte */
        "/static/%2e%2e/x", /* dot segments, encoded to slip past CivetWeb's removal */
        "/a/%2E",
        "/.%2e/a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (input_path_decode(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted %s", bad[i]);
    /* The output must fit, with its NUL. */
    assert_int_equal(input_path_decode("/abc", out, 5), 4);
    assert_int_equal(input_path_decode("/abcd", out, 5), -1);
}

static void test_text_printable(void **state)
{
    (void)state;
    char out[16];
    assert_string_equal(input_text_printable("ok", 2, out, sizeof(out)), "ok");
    assert_string_equal(input_text_printable("a\xC0\xAF\nb", 5, out, sizeof(out)), "a???b");
    assert_string_equal(input_text_printable("Школа", 10, out, sizeof(out)), "Школа");
    /* Cut at a character boundary, never inside one. */
    assert_string_equal(input_text_printable("ШШШШШШШШ", 16, out, 6), "ШШ");
    assert_true(input_utf8_valid(out, strlen(out)));
    assert_string_equal(input_text_printable("a\0b", 3, out, sizeof(out)), "a?b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_depth_counts_brackets),
        cmocka_unit_test(test_json_depth_skips_strings),
        cmocka_unit_test(test_json_loadb_refuses_before_parsing),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_path_decode),
        cmocka_unit_test(test_text_printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
