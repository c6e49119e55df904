/*
 * Unit tests of the configuration loader: defaults, the shipped region files, and that every
 * kind of mistake is refused with the file, the line and the key in the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "config/config.h"

static struct mes_config cfg;
static char err[1024];

static int load(const char *text)
{
    memset(err, 0, sizeof(err));
    return config_load_string("t.yaml", text, strlen(text), &cfg, err, sizeof(err));
}

/* Asserts `text` is refused with "t.yaml:LINE: KEY" at the start of the message. */
static void refused(const char *text, int line, const char *key)
{
    assert_int_equal(load(text), -1);
    char want[256];
    snprintf(want, sizeof(want), "t.yaml:%d: %s", line, key);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", want, err);
}

static void test_defaults(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_int_equal(cfg.mode, NODE_REGION);
    assert_string_equal(cfg.region.languages[0], "ru");
    assert_int_equal(cfg.school_year.nperiods, 4);
    assert_int_equal(cfg.grading.min, 2);
    assert_int_equal(cfg.grading.max, 5);
    assert_string_equal(cfg.http.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.storage.synchronous, SYNC_FULL);
    assert_int_equal(cfg.federation.k_suppression, 5);
    assert_int_equal(cfg.auth.max_failures_per_login, 5);
}

static void test_region_files_load(void **state)
{
    (void)state;
    static const char *const files[] = {"regions/moscow-hub.yaml",    "regions/dagestan.yaml",
                                        "regions/tyumen.yaml",        "regions/tatarstan.yaml",
                                        "regions/kaluga-oblast.yaml", "regions/moscow-oblast.yaml"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (config_load(files[i], &cfg, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        assert_int_equal(strlen(cfg.region.code), 2);
    }
    assert_int_equal(config_load("regions/dagestan.yaml", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.region.code, "05");
    assert_true(cfg.nsubjects > 0);
    assert_int_equal(config_load("regions/moscow-hub.yaml", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.mode, NODE_HUB);
}

static void test_partial_file_keeps_defaults(void **state)
{
    (void)state;
    assert_int_equal(load("http:\n  threads: 7\n"), 0);
    assert_int_equal(cfg.http.threads, 7);
    assert_int_equal(cfg.http.request_timeout_ms, 5000);
    assert_string_equal(cfg.storage.data_dir, "/var/lib/mesnode");
}

static void test_period_systems(void **state)
{
    (void)state;
    assert_int_equal(load("school_year:\n  period_system: trimesters\n"), 0);
    assert_int_equal(cfg.school_year.nperiods, 3);
    assert_int_equal(load("school_year:\n  period_system: semesters\n"), 0);
    assert_int_equal(cfg.school_year.nperiods, 2);
    assert_int_equal(load("school_year:\n  period_system: semesters\n  periods:\n"
                          "    - {name: a, start: \"09-01\", end: \"12-25\"}\n"
                          "    - {name: b, start: \"01-10\", end: \"05-31\"}\n"),
                     0);
    assert_string_equal(cfg.school_year.periods[1].name, "b");
    assert_int_equal(cfg.school_year.periods[1].end_day, 31);
}

static void test_errors_name_file_line_key(void **state)
{
    (void)state;
    refused("http:\n  threads: abc\n", 2, "http.threads");
    refused("http:\n  threads: 0\n", 2, "http.threads");
    refused("http:\n  threads: 5000\n", 2, "http.threads");
    refused("region:\n  name: x\n  code: \"5\"\n", 3, "region.code");
    refused("mode: island\n", 1, "mode");
    refused("htttp:\n  threads: 4\n", 1, "htttp");
    refused("http:\n  thread: 4\n", 2, "http.thread");
    refused("http:\n  threads: 4\n  threads: 5\n", 3, "http.threads");
    refused("http: 8080\n", 1, "http");
    refused("region:\n  languages: ru\n", 2, "region.languages");
    refused("region:\n  languages: [RU]\n", 2, "region.languages");
    refused("auth:\n  cookie_secure: maybe\n", 2, "auth.cookie_secure");
    refused("storage:\n  synchronous: sometimes\n", 2, "storage.synchronous");
    refused("grading:\n  min: 5\n  max: 2\n", 2, "grading.min");
    refused("school_year:\n  periods:\n    - {name: a, start: \"13-01\", end: \"10-01\"}\n", 3,
            "school_year.periods[0].start");
    refused("school_year:\n  period_system: semesters\n  periods:\n"
            "    - {name: a, start: \"09-01\", end: \"12-30\"}\n"
            "    - {name: b, start: \"12-01\", end: \"05-30\"}\n",
            5, "school_year.periods[1]");
    refused("school_year:\n  period_system: semesters\n  periods:\n"
            "    - {name: a, start: \"09-01\", end: \"12-30\"}\n",
            4, "school_year.periods");
    refused("subjects:\n  - {code: Bad-Code, name: x}\n", 2, "subjects[0]");
    refused("federation:\n  hub_public_key: \"RWnotakey\"\n", 2, "federation.hub_public_key");
    refused("federation:\n  enabled: true\n", 2, "federation.enabled");
    refused("federation:\n  k_suppression: 1\n", 2, "federation.k_suppression");
}

static void test_too_long_string_refused(void **state)
{
    (void)state;
    char text[512] = "region:\n  code: \"";
    for (int i = 0; i < 20; i++)
        strcat(text, "1");
    strcat(text, "\"\n");
    refused(text, 2, "region.code");
    assert_non_null(strstr(err, "too long"));
}

static void test_syntax_and_shape(void **state)
{
    (void)state;
    refused("a: b: c\n", 1, "YAML syntax");
    assert_int_equal(load(""), -1);
    assert_non_null(strstr(err, "empty"));
    refused("- 1\n- 2\n", 1, "the document must be a mapping");
}

static void test_valid_hub_key_accepted(void **state)
{
    (void)state;
    unsigned char raw[42] = {'E', 'd'};
    randombytes_buf(raw + 2, 40);
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    char text[256];
    snprintf(text, sizeof(text),
             "federation:\n  enabled: true\n  hub_url: \"https://hub.example/federation/v1\"\n"
             "  hub_public_key: \"%s\"\n",
             b64);
    assert_int_equal(load(text), 0);
    assert_true(cfg.federation.enabled);
    assert_string_equal(cfg.federation.hub_public_key, b64);
}

static void test_forms_and_holidays(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_true(cfg.grading.nforms >= 5);
    assert_string_equal(cfg.grading.forms[0].code, "oral");
    assert_int_equal(cfg.school_year.nholidays, 5);
    assert_int_equal(load("grading:\n  control_forms:\n"
                          "    - {code: oral, name: \"Устно\", weight: 1}\n"
                          "    - {code: kr, name: \"Контрольная\", weight: 5}\n"
                          "school_year:\n  holidays: [\"11-04\", \"01-07\"]\n"),
                     0);
    assert_int_equal(cfg.grading.nforms, 2);
    assert_int_equal(cfg.grading.forms[1].weight, 5);
    assert_int_equal(cfg.school_year.nholidays, 2);
    assert_int_equal(cfg.school_year.holidays[1].month, 1);
    refused("grading:\n  control_forms:\n    - {code: a, name: b, weight: 11}\n", 3,
            "grading.control_forms[0].weight");
    refused("grading:\n  control_forms:\n    - {code: a, name: b}\n", 3,
            "grading.control_forms[0]");
    refused("school_year:\n  holidays: [\"02-30\"]\n", 2, "school_year.holidays");
}

static void test_missing_file(void **state)
{
    (void)state;
    assert_int_equal(config_load("/nonexistent/node.yaml", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/node.yaml"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_region_files_load),
        cmocka_unit_test(test_partial_file_keeps_defaults),
        cmocka_unit_test(test_period_systems),
        cmocka_unit_test(test_errors_name_file_line_key),
        cmocka_unit_test(test_too_long_string_refused),
        cmocka_unit_test(test_syntax_and_shape),
        cmocka_unit_test(test_valid_hub_key_accepted),
        cmocka_unit_test(test_forms_and_holidays),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
