/*
 * Unit tests of the configuration loader (config/config.c): the defaults, every shipped region
 * file, partial files keeping the defaults, and that every kind of mistake is refused with the
 * file, the right line and the dotted key in the message. Run from the repository root (the
 * region files are opened as regions/NAME.yaml). Needs only config.c, libyaml, libsodium and
 * cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

static struct mes_config cfg;
static char err[1024];

static int load(const char *text)
{
    memset(err, 'x', sizeof(err));
    return config_load_string("t.yaml", text, strlen(text), &cfg, err, sizeof(err));
}

/* Asserts `text` is refused with a message starting "t.yaml:LINE: KEY" and, if `words` is
 * given, containing them. */
static void refused(const char *text, int line, const char *key, const char *words)
{
    if (load(text) != -1)
        fail_msg("accepted, expected a refusal at %d %s:\n%s", line, key, text);
    char want[256];
    int n = snprintf(want, sizeof(want), "t.yaml:%d: %s", line, key);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", want, err);
    if (words != NULL && strstr(err, words) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", words, err);
}

/* A minisign-shaped public key: base64 of `b0 b1` and `rest` random bytes. */
static void make_key(char *out, size_t size, unsigned char b0, unsigned char b1, size_t rest)
{
    unsigned char raw[64] = {b0, b1};
    assert_true(rest + 2 <= sizeof(raw));
    randombytes_buf(raw + 2, rest);
    sodium_bin2base64(out, size, raw, rest + 2, sodium_base64_VARIANT_ORIGINAL);
}

static void test_defaults(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_string_equal(cfg.path, "");
    assert_int_equal(cfg.mode, NODE_REGION);
    assert_string_equal(cfg.region.name, "Демонстрационный регион");
    assert_string_equal(cfg.region.code, "00");
    assert_string_equal(cfg.region.timezone, "Europe/Moscow");
    assert_int_equal(cfg.region.nlanguages, 1);
    assert_string_equal(cfg.region.languages[0], "ru");
    assert_int_equal(cfg.school_year.system, PERIODS_QUARTERS);
    assert_int_equal(cfg.school_year.nperiods, 4);
    assert_int_equal(cfg.school_year.periods[0].start_month, 9);
    assert_int_equal(cfg.school_year.periods[0].start_day, 1);
    assert_int_equal(cfg.school_year.periods[3].end_month, 5);
    assert_int_equal(cfg.school_year.periods[3].end_day, 26);
    assert_int_equal(cfg.grading.min, 2);
    assert_int_equal(cfg.grading.max, 5);
    assert_true(cfg.grading.pass_fail);
    assert_int_equal(cfg.nsubjects, 0);
    assert_string_equal(cfg.http.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.http.threads, 32);
    assert_int_equal(cfg.http.request_timeout_ms, 5000);
    assert_int_equal(cfg.http.keep_alive_timeout_ms, 2000);
    assert_int_equal(cfg.http.max_body_bytes, 1048576);
    assert_string_equal(cfg.http.access_log, "");
    assert_string_equal(cfg.http.public_url, "");
    assert_int_equal(cfg.http.ntrusted_proxies, 0);
    assert_int_equal(cfg.http.max_json_depth, 32);
    assert_int_equal(cfg.http.thread_stack_kib, 1024);
    assert_string_equal(cfg.storage.data_dir, "/var/lib/mesnode");
    assert_int_equal(cfg.storage.busy_timeout_ms, 5000);
    assert_int_equal(cfg.storage.synchronous, SYNC_FULL);
    assert_int_equal(cfg.storage.mmap_bytes, 0);
    assert_int_equal(cfg.http.cache_mb, 64);
    assert_int_equal(cfg.auth.session_ttl_hours, 12);
    assert_int_equal(cfg.auth.client_free_failures, 5);
    assert_int_equal(cfg.auth.login_free_failures, 10);
    assert_int_equal(cfg.auth.address_free_failures, 50);
    assert_int_equal(cfg.auth.device_free_failures, 5);
    assert_int_equal(cfg.auth.device_lockout_failures, 10);
    assert_int_equal(cfg.auth.delay_s, 30);
    assert_int_equal(cfg.auth.max_delay_s, 900);
    assert_int_equal(cfg.auth.failure_window_s, 900);
    assert_int_equal(cfg.auth.device_cookie_days, 180);
    assert_int_equal(cfg.auth.argon2_opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal(cfg.auth.argon2_memlimit_kib, crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024);
    assert_false(cfg.auth.cookie_secure);
    assert_false(cfg.federation.enabled);
    assert_string_equal(cfg.federation.hub_url, "");
    assert_int_equal(cfg.federation.sync_interval_s, 300);
    assert_int_equal(cfg.federation.k_suppression, 5);
    assert_string_equal(config_period_system_name(PERIODS_TRIMESTERS), "trimesters");
    assert_string_equal(config_period_system_name((enum period_system)7), "?");
}

static void test_region_files_load(void **state)
{
    (void)state;
    static const struct {
        const char *file, *code, *tz;
        enum node_mode mode;
        enum period_system system;
    } files[] = {
        {"regions/moscow-hub.yaml", "77", "Europe/Moscow", NODE_HUB, PERIODS_TRIMESTERS},
        {"regions/dagestan.yaml", "05", "Europe/Moscow", NODE_REGION, PERIODS_QUARTERS},
        {"regions/tyumen.yaml", "72", "Asia/Yekaterinburg", NODE_REGION, PERIODS_QUARTERS},
        {"regions/tatarstan.yaml", "16", "Europe/Moscow", NODE_REGION, PERIODS_QUARTERS},
        {"regions/kaluga-oblast.yaml", "40", "Europe/Moscow", NODE_REGION, PERIODS_QUARTERS},
        {"regions/moscow-oblast.yaml", "50", "Europe/Moscow", NODE_REGION, PERIODS_QUARTERS},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (config_load(files[i].file, &cfg, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        assert_string_equal(cfg.path, files[i].file);
        assert_string_equal(cfg.region.code, files[i].code);
        assert_string_equal(cfg.region.timezone, files[i].tz);
        assert_int_equal(cfg.mode, files[i].mode);
        assert_int_equal(cfg.school_year.system, files[i].system);
        assert_int_equal(cfg.school_year.nperiods, files[i].system == PERIODS_TRIMESTERS ? 3 : 4);
        assert_string_equal(cfg.http.listen, "127.0.0.1:8080");
        assert_string_equal(cfg.storage.data_dir, "/var/lib/mesnode");
        assert_false(cfg.federation.enabled);
        assert_string_equal(cfg.federation.hub_url, "https://hub.mes.example");
        assert_string_equal(cfg.federation.ca_file, "");
        assert_string_equal(cfg.federation.hub_public_key, "");
        assert_true(cfg.auth.cookie_secure);
    }
    /* Every file shipped in regions/ is one of the above. */
    glob_t g;
    assert_int_equal(glob("regions/*.yaml", 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, sizeof(files) / sizeof(files[0]));
    for (size_t i = 0; i < g.gl_pathc; i++) {
        bool listed = false;
        for (size_t j = 0; j < sizeof(files) / sizeof(files[0]); j++)
            listed = listed || strcmp(g.gl_pathv[i], files[j].file) == 0;
        if (!listed)
            fail_msg("%s is shipped but not tested here", g.gl_pathv[i]);
    }
    globfree(&g);
    assert_int_equal(config_load("regions/dagestan.yaml", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.region.name, "Республика Дагестан");
    assert_int_equal(cfg.http.threads, 64);
    bool avar = false, lit = false;
    for (int i = 0; i < cfg.nsubjects; i++) {
        avar = avar || strcmp(cfg.subjects[i].name, "Родной язык (аварский)") == 0;
        lit = lit || strcmp(cfg.subjects[i].name, "Родная литература") == 0;
    }
    assert_true(avar && lit);
    assert_int_equal(config_load("regions/tatarstan.yaml", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.nsubjects, 2);
    assert_string_equal(cfg.subjects[0].name, "Татарский язык");
    assert_string_equal(cfg.subjects[1].name, "Татарская литература");
    assert_int_equal(config_load("regions/moscow-hub.yaml", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.region.name, "Москва");
    assert_string_equal(cfg.school_year.periods[0].name, "1 триместр");
}

static void test_partial_file_keeps_defaults(void **state)
{
    (void)state;
    assert_int_equal(load("http:\n  threads: 7\n"), 0);
    assert_string_equal(cfg.path, "t.yaml");
    assert_int_equal(cfg.http.threads, 7);
    assert_int_equal(cfg.http.request_timeout_ms, 5000);
    assert_string_equal(cfg.http.listen, "127.0.0.1:8080");
    assert_string_equal(cfg.storage.data_dir, "/var/lib/mesnode");
    assert_string_equal(cfg.region.code, "00");
    assert_int_equal(cfg.school_year.nperiods, 4);
    assert_int_equal(cfg.grading.nforms, 8);
    assert_int_equal(cfg.federation.k_suppression, 5);

    /* A loaded file leaves nothing of an earlier load behind. */
    assert_int_equal(load("region:\n  code: \"05\"\n  languages: [ru, av]\n"), 0);
    assert_int_equal(load("mode: region\n"), 0);
    assert_string_equal(cfg.region.code, "00");
    assert_int_equal(cfg.region.nlanguages, 1);

    /* Every kind of value, as an operator writes them. */
    assert_int_equal(load("mode: hub\n"
                          "region: {name: \"Тестовая\", code: \"99\", timezone: Asia/Yekaterinburg,"
                          " languages: [ru, tt]}\n"
                          "grading: {min: 1, max: 10, pass_fail: no}\n"
                          "http: {listen: \"[::1]:0\", max_body_bytes: 2048, access_log: \"off\"}\n"
                          "storage: {synchronous: normal, mmap_bytes: 0}\n"
                          "auth: {cookie_secure: yes, argon2_memlimit_kib: 8}\n"
                          "subjects:\n  - {code: tatar_lang, name: \"Татарский язык\"}\n"),
                     0);
    assert_int_equal(cfg.mode, NODE_HUB);
    assert_string_equal(cfg.region.timezone, "Asia/Yekaterinburg");
    assert_string_equal(cfg.region.languages[1], "tt");
    assert_int_equal(cfg.grading.max, 10);
    assert_false(cfg.grading.pass_fail);
    assert_string_equal(cfg.http.listen, "[::1]:0");
    assert_string_equal(cfg.http.access_log, "off");
    assert_int_equal(cfg.storage.synchronous, SYNC_NORMAL);
    assert_true(cfg.auth.cookie_secure);
    assert_int_equal(cfg.nsubjects, 1);
    assert_string_equal(cfg.subjects[0].code, "tatar_lang");
}

static void test_period_systems(void **state)
{
    (void)state;
    assert_int_equal(load("school_year:\n  period_system: trimesters\n"), 0);
    assert_int_equal(cfg.school_year.nperiods, 3);
    assert_int_equal(cfg.school_year.periods[1].start_month, 12);
    assert_string_equal(cfg.school_year.periods[2].name, "3 триместр");
    assert_int_equal(load("school_year:\n  period_system: semesters\n"), 0);
    assert_int_equal(cfg.school_year.nperiods, 2);
    assert_string_equal(cfg.school_year.periods[0].name, "1 полугодие");
    assert_int_equal(load("school_year:\n  period_system: semesters\n  periods:\n"
                          "    - {name: a, start: \"09-01\", end: \"12-25\"}\n"
                          "    - {name: b, start: 01-10, end: \"05-31\"}\n"),
                     0);
    assert_string_equal(cfg.school_year.periods[1].name, "b");
    assert_int_equal(cfg.school_year.periods[1].start_day, 10);
    assert_int_equal(cfg.school_year.periods[1].end_day, 31);
    /* The order of the keys does not matter: periods given before the system stay. */
    assert_int_equal(load("school_year:\n  periods:\n"
                          "    - {name: a, start: \"09-01\", end: \"12-25\"}\n"
                          "    - {name: b, start: \"01-10\", end: \"05-31\"}\n"
                          "  period_system: semesters\n"),
                     0);
    assert_int_equal(cfg.school_year.nperiods, 2);
    assert_string_equal(cfg.school_year.periods[0].name, "a");
    /* Holidays and control forms replace the defaults. */
    assert_int_equal(load("grading:\n  control_forms:\n"
                          "    - {code: oral, name: \"Устно\", weight: 1}\n"
                          "    - {code: kr, name: \"Контрольная\", weight: 5}\n"
                          "school_year:\n  holidays: [\"11-04\", \"09-15\"]\n"),
                     0);
    assert_int_equal(cfg.grading.nforms, 2);
    assert_int_equal(cfg.grading.forms[1].weight, 5);
    assert_int_equal(cfg.school_year.nholidays, 2);
    assert_int_equal(cfg.school_year.holidays[1].month, 9);
    assert_int_equal(cfg.school_year.holidays[1].day, 15);
}

/* Each class of mistake: the line and the dotted key of the culprit, and a word of why. */
static void test_errors_name_line_and_key(void **state)
{
    (void)state;
    /* types and ranges */
    refused("http:\n  threads: abc\n", 2, "http.threads",
            "expected an integer between 1 and 1024, got \"abc\"");
    refused("http:\n  threads: 0\n", 2, "http.threads", "between 1 and 1024");
    refused("http:\n  threads: 5000\n", 2, "http.threads", "got \"5000\"");
    refused("http:\n  threads: \"8\"\n", 2, "http.threads", "without quotes");
    refused("http:\n  threads: 8.5\n", 2, "http.threads", NULL);
    refused("http:\n  threads: 99999999999999999999999\n", 2, "http.threads", NULL);
    refused("storage:\n  mmap_bytes: -1\n", 2, "storage.mmap_bytes", NULL);
    refused("http:\n  threads: [1, 2]\n", 2, "http.threads", "got a list");
    refused("http:\n  threads:\n    a: 1\n", 3, "http.threads", "got a mapping");
    refused("http: 8080\n", 1, "http", "expected a mapping");
    refused("http:\n", 1, "http", "got nothing");
    refused("region:\n  name: [a]\n", 2, "region.name", "expected a text");
    refused("region:\n  languages: ru\n", 2, "region.languages", "expected a list");
    refused("auth:\n  cookie_secure: maybe\n", 2, "auth.cookie_secure", "true or false");
    refused("auth:\n  cookie_secure: \"true\"\n", 2, "auth.cookie_secure", "without quotes");
    refused("auth:\n  session_ttl_hours: lots\n", 2, "auth.session_ttl_hours", NULL);
    refused("federation:\n  k_suppression: 1\n", 2, "federation.k_suppression",
            "between 2 and 1000");
    /* enums */
    refused("mode: island\n", 1, "mode", "expected one of region | hub, got \"island\"");
    refused("storage:\n  synchronous: sometimes\n", 2, "storage.synchronous", "normal | full");
    refused("school_year:\n  period_system: modules\n", 2, "school_year.period_system",
            "quarters | trimesters | semesters");
    /* unknown and duplicate keys, at every level */
    refused("htttp:\n  threads: 4\n", 1, "htttp", "unknown key (known: mode, region");
    refused("http:\n  thread: 4\n", 2, "http.thread", "unknown key");
    refused("\n\nsubjects:\n  - {code: a, name: b, hours: 2}\n", 4, "subjects[0].hours",
            "unknown key (known: code, name)");
    refused("school_year:\n  periods:\n    - {name: a, begin: \"09-01\"}\n", 3,
            "school_year.periods[0].begin", "unknown key");
    refused("Mode: hub\n", 1, "unknown key \"Mode\"", NULL);
    refused("http:\n  threads: 4\n  threads: 5\n", 3, "http.threads",
            "duplicate key (first given on line 2)");
    refused("mode: region\nhttp: {}\nmode: hub\n", 3, "mode", "duplicate key");
    refused("subjects:\n  - {code: a, name: b, code: c}\n", 2, "subjects[0].code", "duplicate");
    /* strings */
    refused("region:\n  name: \"a\\nb\"\n", 2, "region.name", "control characters");
    refused("federation:\n  hub_url: ~\n", 2, "federation.hub_url", "YAML null");
    refused("federation:\n  hub_url: ftp://hub\n", 2, "federation.hub_url", "https://");
    /* region */
    refused("region:\n  name: x\n  code: \"5\"\n", 3, "region.code", "two-digit");
    refused("region:\n  code: \"AB\"\n", 2, "region.code", "two-digit");
    refused("region:\n  name: \"\"\n", 2, "region.name", "empty");
    refused("region:\n  timezone: Moscow\n", 2, "region.timezone", "IANA");
    refused("region:\n  languages: [ru, RU]\n", 2, "region.languages[1]",
            "\"RU\" is not a language code");
    refused("region:\n  languages:\n    - ru\n    - russian\n", 4, "region.languages[1]",
            "not a language code");
    refused("region:\n  languages: [ru, ru]\n", 2, "region.languages[1]", "listed twice");
    refused("region:\n  languages: []\n", 2, "region.languages", "at least one");
    refused("region:\n  languages: [aa, bb, cc, dd, ee, ff, gg, hh, ii]\n", 2, "region.languages",
            "at most 8");
    /* grading */
    refused("grading:\n  min: 5\n  max: 2\n", 2, "grading.min", "below grading.max");
    refused("grading:\n  max: 2\n", 2, "grading.max", "below grading.max");
    refused("grading:\n  control_forms:\n    - {code: a, name: b, weight: 11}\n", 3,
            "grading.control_forms[0].weight", NULL);
    refused("grading:\n  control_forms:\n    - {code: a, name: b}\n", 3, "grading.control_forms[0]",
            "needs code, name and weight");
    /* subjects */
    refused("subjects:\n  - {code: Bad-Code, name: x}\n", 2, "subjects[0]", "lowercase");
    refused("subjects:\n  - {code: a, name: x}\n  - {code: a, name: y}\n", 3, "subjects[1]",
            "listed twice");
    refused("subjects:\n  - {code: a}\n", 2, "subjects[0]", "needs code and name");
    refused("subjects:\n  - native_avar\n", 2, "subjects[0]", "expected a mapping");
    /* http and storage */
    refused("http:\n  listen: 8080\n", 2, "http.listen", "IPV4:PORT");
    refused("http:\n  listen: \"0.0.0.0:8443s\"\n", 2, "http.listen", "nginx terminates TLS");
    refused("http:\n  listen: \"127.0.0.1:8080,127.0.0.1:8081\"\n", 2, "http.listen", NULL);
    refused("http:\n  listen: \"localhost:8080\"\n", 2, "http.listen", NULL);
    refused("http:\n  listen: \"127.0.0.1:70000\"\n", 2, "http.listen", NULL);
    refused("storage:\n  data_dir: \"\"\n", 2, "storage.data_dir", "empty");
}

static void test_dates_and_periods(void **state)
{
    (void)state;
    refused("school_year:\n  periods:\n    - {name: a, start: \"13-01\", end: \"10-01\"}\n", 3,
            "school_year.periods[0].start", "expected a date MM-DD");
    refused("school_year:\n  periods:\n    - {name: a, start: \"9-1\", end: \"10-01\"}\n", 3,
            "school_year.periods[0].start", "got \"9-1\"");
    refused("school_year:\n  periods:\n    - {name: a, start: \"09-31\", end: \"10-01\"}\n", 3,
            "school_year.periods[0].start", NULL);
    refused("school_year:\n  periods:\n    - {name: a, start: \"09-01\", end: \"02-29\"}\n", 3,
            "school_year.periods[0].end", "not in every school year");
    refused("school_year:\n  holidays: [\"02-30\"]\n", 2, "school_year.holidays[0]", NULL);
    refused("school_year:\n  holidays: [\"11-04\", \"11-04\"]\n", 2, "school_year.holidays[1]",
            "listed twice");
    /* a period ending before it starts (the year starts in September) */
    refused("school_year:\n  period_system: semesters\n  periods:\n"
            "    - {name: a, start: \"01-10\", end: \"12-25\"}\n"
            "    - {name: b, start: \"01-10\", end: \"05-31\"}\n",
            4, "school_year.periods[0]", "ends (12-25) before it starts (01-10)");
    /* overlapping periods */
    refused("school_year:\n  period_system: semesters\n  periods:\n"
            "    - {name: a, start: \"09-01\", end: \"12-30\"}\n"
            "    - {name: b, start: \"12-01\", end: \"05-30\"}\n",
            5, "school_year.periods[1]", "must not overlap");
    /* periods out of order */
    refused("school_year:\n  period_system: semesters\n  periods:\n"
            "    - {name: b, start: \"01-10\", end: \"05-31\"}\n"
            "    - {name: a, start: \"09-01\", end: \"12-25\"}\n",
            5, "school_year.periods[1]", "in order");
    /* a count that does not fit the system */
    refused("school_year:\n  period_system: semesters\n  periods:\n"
            "    - {name: a, start: \"09-01\", end: \"12-30\"}\n",
            4, "school_year.periods", "semesters need 2 periods, 1 given");
    refused("school_year:\n  periods:\n"
            "    - {name: a, start: \"09-01\", end: \"12-30\"}\n"
            "    - {name: b, start: \"01-10\", end: \"05-30\"}\n",
            3, "school_year.periods", "quarters need 4 periods, 2 given");
    refused("school_year:\n  periods:\n    - {name: a, start: \"09-01\"}\n", 3,
            "school_year.periods[0]", "needs name, start and end");
    refused("school_year:\n  periods: []\n", 2, "school_year.periods", "at least one");
}

static void test_federation(void **state)
{
    (void)state;
    char key[128], text[512];
    make_key(key, sizeof(key), 'E', 'd', 40);
    int n = snprintf(text, sizeof(text),
                     "federation:\n  enabled: true\n"
                     "  hub_url: \"https://hub.mes.example/federation/v1\"\n"
                     "  hub_public_key: \"%s\"\n",
                     key);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    assert_int_equal(load(text), 0);
    assert_true(cfg.federation.enabled);
    assert_string_equal(cfg.federation.hub_public_key, key);

    refused("federation:\n  hub_public_key: \"RWnotakey\"\n", 2, "federation.hub_public_key",
            "not a minisign public key");
    make_key(key, sizeof(key), 'E', 'e', 40); /* "RW..." too, but not "Ed" */
    assert_int_equal(strncmp(key, "RW", 2), 0);
    n = snprintf(text, sizeof(text), "\nfederation:\n  hub_public_key: \"%s\"\n", key);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    refused(text, 3, "federation.hub_public_key", "minisign");
    make_key(key, sizeof(key), 'E', 'd', 39); /* 41 bytes */
    n = snprintf(text, sizeof(text), "federation:\n  hub_public_key: \"%s\"\n", key);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    refused(text, 2, "federation.hub_public_key", "42 bytes");

    refused("federation:\n  enabled: true\n", 2, "federation.enabled", "hub_url is empty");
    refused("federation:\n  hub_url: \"https://hub.mes.example/federation/v1\"\n"
            "  enabled: true\n",
            3, "federation.enabled", "hub_public_key is empty");
    refused("mode: hub\nfederation:\n  enabled: true\n", 3, "federation.enabled", NULL);
}

/* hub_url is the hub's base address: the form with the API's path, as earlier region files
 * shipped it, and trailing slashes come out the same, so "/federation/v1" is never doubled. */
static void test_hub_url_is_a_base_address(void **state)
{
    (void)state;
    static const struct {
        const char *given, *used;
    } cases[] = {
        {"https://hub.mes.example", "https://hub.mes.example"},
        {"https://hub.mes.example/", "https://hub.mes.example"},
        {"https://hub.mes.example/federation/v1", "https://hub.mes.example"},
        {"https://hub.mes.example/federation/v1/", "https://hub.mes.example"},
        {"https://hub.mes.example//federation/v1//", "https://hub.mes.example"},
        {"http://127.0.0.1:8080/federation/v1", "http://127.0.0.1:8080"},
        /* A hub served under a prefix keeps it. */
        {"https://gw.example/mes/", "https://gw.example/mes"},
        {"https://gw.example/mes/federation/v1", "https://gw.example/mes"},
        /* Only the path is looked at: a host named like the API stays. */
        {"https://federation/v1", "https://federation/v1"},
        {"http://federation", "http://federation"},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = snprintf(text, sizeof(text), "federation:\n  hub_url: \"%s\"\n", cases[i].given);
        assert_true(n > 0 && (size_t)n < sizeof(text));
        if (load(text) != 0)
            fail_msg("%s: %s", cases[i].given, err);
        assert_string_equal(cfg.federation.hub_url, cases[i].used);
    }
    refused("federation:\n  hub_url: \"https://hub.mes.example/?x=1\"\n", 2, "federation.hub_url",
            "without a query or fragment");
    refused("\nfederation:\n  hub_url: \"https://hub.mes.example#top\"\n", 3, "federation.hub_url",
            "without a query or fragment");
}

/* federation.ca_file: a readable file holding PEM certificates, else refused at load. */
static void test_ca_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mes-test-ca-XXXXXX", path[128], text[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a private CA\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", f);
    assert_int_equal(fclose(f), 0);
    int n = snprintf(text, sizeof(text), "federation:\n  ca_file: \"%s\"\n", path);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    assert_int_equal(load(text), 0);
    assert_string_equal(cfg.federation.ca_file, path);

    /* Not PEM. */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a certificate\n", f);
    assert_int_equal(fclose(f), 0);
    refused(text, 2, "federation.ca_file", "no PEM certificate");
    /* Missing. */
    assert_int_equal(unlink(path), 0);
    refused(text, 2, "federation.ca_file", "No such file or directory");
    /* A directory, and a FIFO (refused, not waited on). */
    n = snprintf(text, sizeof(text), "mode: region\nfederation:\n  ca_file: \"%s\"\n", dir);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    refused(text, 3, "federation.ca_file", "not a regular file");
    assert_int_equal(mkfifo(path, 0600), 0);
    n = snprintf(text, sizeof(text), "federation:\n  ca_file: \"%s\"\n", path);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    refused(text, 2, "federation.ca_file", "not a regular file");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* The login throttle's keys (docs/security.md), the names of the old hard lock still read. */
static void test_login_throttle(void **state)
{
    (void)state;
    assert_int_equal(load("auth:\n  client_free_failures: 3\n  login_free_failures: 20\n"
                          "  address_free_failures: 200\n  device_free_failures: 4\n"
                          "  device_lockout_failures: 8\n  delay_s: 2\n  max_delay_s: 60\n"
                          "  failure_window_s: 3600\n  device_cookie_days: 30\n"),
                     0);
    assert_int_equal(cfg.auth.client_free_failures, 3);
    assert_int_equal(cfg.auth.login_free_failures, 20);
    assert_int_equal(cfg.auth.address_free_failures, 200);
    assert_int_equal(cfg.auth.device_free_failures, 4);
    assert_int_equal(cfg.auth.device_lockout_failures, 8);
    assert_int_equal(cfg.auth.delay_s, 2);
    assert_int_equal(cfg.auth.max_delay_s, 60);
    assert_int_equal(cfg.auth.failure_window_s, 3600);
    assert_int_equal(cfg.auth.device_cookie_days, 30);
    /* The old names set the per-login and per-address budgets. */
    assert_int_equal(load("auth:\n  max_failures_per_login: 7\n"
                          "  max_failures_per_address: 70\n"),
                     0);
    assert_int_equal(cfg.auth.login_free_failures, 7);
    assert_int_equal(cfg.auth.address_free_failures, 70);
    assert_int_equal(cfg.auth.client_free_failures, 5);

    refused("auth:\n  delay_s: 0\n", 2, "auth.delay_s", "between 1 and 86400");
    refused("auth:\n  client_free_failures: 0\n", 2, "auth.client_free_failures", NULL);
    refused("auth:\n  device_cookie_days: 5000\n", 2, "auth.device_cookie_days", "3650");
    refused("auth:\n  max_delay_s: 10\n  delay_s: 20\n", 3, "auth.delay_s",
            "must not exceed auth.max_delay_s");
    refused("auth:\n  max_delay_s: 10\n", 1, "auth.delay_s", "(30 s)");
}

/* Accounts for everyone: the activation codes' lifetime and the password rules. */
static void test_account_keys(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_int_equal(cfg.auth.activation_days, 30);
    assert_int_equal(cfg.auth.password_min_length, 8);
    assert_true(cfg.auth.password_letters_and_digits);
    assert_int_equal(load("auth:\n  activation_days: 14\n  password_min_length: 10\n"
                          "  password_letters_and_digits: false\n"),
                     0);
    assert_int_equal(cfg.auth.activation_days, 14);
    assert_int_equal(cfg.auth.password_min_length, 10);
    assert_false(cfg.auth.password_letters_and_digits);
    refused("auth:\n  activation_days: 0\n", 2, "auth.activation_days", "between 1 and 365");
    refused("auth:\n  activation_days: 400\n", 2, "auth.activation_days", NULL);
    refused("auth:\n  password_min_length: 5\n", 2, "auth.password_min_length",
            "between 6 and 128");
    refused("auth:\n  password_min_length: 129\n", 2, "auth.password_min_length", NULL);
    refused("auth:\n  password_letters_and_digits: maybe\n", 2, "auth.password_letters_and_digits",
            NULL);
}

/* http.public_url and http.trusted_proxies (the rules themselves: tests/unit/test_proxy.c). */
static void test_proxy_keys(void **state)
{
    (void)state;
    assert_int_equal(load("http:\n  public_url: \"https://mes.example.region/\"\n"
                          "  trusted_proxies: [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\",\n"
                          "                    \"2001:db8::/32\"]\n"),
                     0);
    assert_string_equal(cfg.http.public_url, "https://mes.example.region/");
    assert_int_equal(cfg.http.ntrusted_proxies, 4);
    assert_string_equal(cfg.http.trusted_proxies[1], "10.0.0.0/8");
    assert_string_equal(cfg.http.trusted_proxies[3], "2001:db8::/32");
    assert_int_equal(load("http:\n  trusted_proxies: []\n  public_url: \"\"\n"), 0);
    assert_int_equal(cfg.http.ntrusted_proxies, 0);

    refused("http:\n  public_url: \"https://mes.example.region/mes\"\n", 2, "http.public_url",
            "without a path");
    refused("http:\n  public_url: \"mes.example.region\"\n", 2, "http.public_url",
            "\"mes.example.region\"");
    refused("http:\n  threads: 4\n\n  public_url: \"https://a.example?x=1\"\n", 4,
            "http.public_url", NULL);
    refused("http:\n  public_url: \"https://a.example:99999\"\n", 2, "http.public_url", NULL);
    refused("http:\n  public_url: [\"https://a.example\"]\n", 2, "http.public_url",
            "expected a text");
    refused("http:\n  trusted_proxies:\n    - \"127.0.0.1\"\n    - \"10.0.0.1/8\"\n", 4,
            "http.trusted_proxies[1]", "nothing set past its prefix");
    refused("http:\n  trusted_proxies: [\"nginx.local\"]\n", 2, "http.trusted_proxies[0]",
            "\"nginx.local\"");
    refused("http:\n  trusted_proxies: [\"10.0.0.0/33\"]\n", 2, "http.trusted_proxies[0]", NULL);
    refused("http:\n  trusted_proxies: [\"127.0.0.1\", \"127.0.0.1\"]\n", 2,
            "http.trusted_proxies[1]", "listed twice");
    refused("http:\n  trusted_proxies: \"127.0.0.1\"\n", 2, "http.trusted_proxies",
            "expected a list of trusted proxies");
    char text[4096] = "http:\n  trusted_proxies:\n";
    for (int i = 0; i <= CFG_MAX_PROXIES; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "    - \"10.0.%d.0/24\"\n", i);
    refused(text, 3 + CFG_MAX_PROXIES, "http.trusted_proxies", "at most 32 trusted proxies");
}

/* The meals section («Москвёнок»): defaults, a full section, and each refusal. */
static void test_meals_keys(void **state)
{
    (void)state;
    assert_int_equal(load("region:\n  name: x\n"), 0);
    assert_int_equal(cfg.meals.overdraft_kopecks, 0);
    assert_int_equal(cfg.meals.low_balance_kopecks, 10000);
    assert_int_equal(cfg.meals.free_grade_from, 1);
    assert_int_equal(cfg.meals.free_grade_to, 4);
    assert_string_equal(cfg.meals.free_complexes, "breakfast");
    assert_int_equal(cfg.meals.nbenefit_categories, 0);
    assert_string_equal(cfg.meals.payment_secret, "");
    assert_int_equal(load("meals:\n  overdraft_kopecks: 5000\n  free_grade_from: 0\n"
                          "  free_grade_to: 0\n  free_complexes: \"breakfast lunch\"\n"
                          "  benefit_categories: [\"многодетная семья\", \"ОВЗ\"]\n"
                          "  payment_secret: \"0123456789abcdef0123456789abcdef\"\n"
                          "  payment_url: \"https://pay.example/mes\"\n"),
                     0);
    assert_int_equal(cfg.meals.overdraft_kopecks, 5000);
    assert_int_equal(cfg.meals.nbenefit_categories, 2);
    assert_string_equal(cfg.meals.benefit_categories[1], "ОВЗ");
    assert_string_equal(cfg.meals.payment_url, "https://pay.example/mes");

    refused("meals:\n  free_grade_from: 5\n  free_grade_to: 4\n", 2, "meals.free_grade_from",
            "1 <= from <= to <= 11");
    refused("meals:\n  free_grade_from: 0\n", 2, "meals.free_grade_from", "both 0");
    refused("meals:\n  free_complexes: \"breakfast dinner\"\n", 2, "meals.free_complexes",
            "\"breakfast dinner\"");
    refused("meals:\n  benefit_complexes: \"lunch lunch\"\n", 2, "meals.benefit_complexes",
            "each once");
    refused("meals:\n  payment_secret: \"short\"\n", 2, "meals.payment_secret", "at least 32");
    refused("meals:\n  payment_url: \"pay.example\"\n", 2, "meals.payment_url", NULL);
    refused("meals:\n  benefit_categories: [\"ОВЗ\", \"ОВЗ\"]\n", 2, "meals.benefit_categories[1]",
            "listed twice");
    refused("meals:\n  overdraft_kopecks: -1\n", 2, "meals.overdraft_kopecks", NULL);
    refused("meals:\n  tips: 1\n", 2, "meals.tips", NULL);
}

static void test_too_long_strings_refused(void **state)
{
    (void)state;
    char text[1024] = "region:\n  code: \"";
    strcat(text, "12345678\"\n"); /* 8 bytes, the field holds 7 */
    refused(text, 2, "region.code", "too long (8 bytes, at most 7)");

    memset(text, 0, sizeof(text));
    strcpy(text, "mode: region\nregion:\n  name: \"");
    for (int i = 0; i < 64; i++)
        strcat(text, "Я"); /* 128 bytes, the field holds 127 */
    strcat(text, "\"\n");
    refused(text, 3, "region.name", "too long (128 bytes, at most 127)");
    /* the quoted value is cut on a character boundary and marked */
    assert_non_null(strstr(err, "...\""));

    memset(text, 0, sizeof(text));
    strcpy(text, "subjects:\n  - {code: a, name: \"");
    for (int i = 0; i < 127; i++)
        strcat(text, "z");
    strcat(text, "\"}\n");
    assert_int_equal(load(text), 0);
    assert_int_equal(strlen(cfg.subjects[0].name), 127);
}

static void test_syntax_and_shape(void **state)
{
    (void)state;
    refused("a: b: c\n", 1, "YAML syntax", "mapping values are not allowed");
    refused("region:\n  name: x\n code: 5\n", 3, "YAML syntax",
            "block mapping that starts on line 1");
    refused("region:\n  name: \"unclosed\n", 3, "YAML syntax", NULL);
    refused("", 1, "the file is empty", NULL);
    refused("# only a comment\n", 1, "the file is empty", NULL);
    refused("- 1\n- 2\n", 1, "the document must be a mapping", "got a list");
    refused("just words\n", 1, "the document must be a mapping", NULL);
    refused("mode: region\n---\nmode: hub\n", 2, "a second YAML document", NULL);
    refused("region: &r\n  name: x\nhttp: *r\n", 3, "YAML aliases", NULL);
    refused("mode: region\nregion:\n  name: \"\xff\xfe\"\n", 3, "not UTF-8", NULL);
    refused("? [a, b]\n: c\n", 1, "a key must be a plain word", NULL);
}

/* The keys that bound hostile input, and nesting that would make the loader itself slow. */
static void test_hostile_input_bounds(void **state)
{
    (void)state;
    assert_int_equal(load("http:\n  max_json_depth: 8\n  thread_stack_kib: 4096\n"), 0);
    assert_int_equal(cfg.http.max_json_depth, 8);
    assert_int_equal(cfg.http.thread_stack_kib, 4096);
    refused("http:\n  max_json_depth: 0\n", 2, "http.max_json_depth", "between 1 and 1024");
    refused("http:\n  max_json_depth: 2048\n", 2, "http.max_json_depth", "got \"2048\"");
    refused("http:\n  thread_stack_kib: 100\n", 2, "http.thread_stack_kib",
            "between 256 and 65536");
    refused("http:\n  thread_stack_kib: 1048576\n", 2, "http.thread_stack_kib", NULL);

    /* Nesting: the document's mapping and 15 under it (16 levels) pass the first pass, and are
     * then refused for what they are; 17 do not. 20,000 levels of flow mappings took libyaml
     * 16 s before the bound: refused at once. */
    char text[64 + 20000 * 5];
    int depth[] = {15, 16, 20000};
    for (int d = 0; d < 3; d++) {
        size_t o = 0;
        o += (size_t)snprintf(text + o, sizeof(text) - o, "http: ");
        for (int i = 0; i < depth[d]; i++)
            o += (size_t)snprintf(text + o, sizeof(text) - o, "{a: ");
        text[o++] = '1';
        for (int i = 0; i < depth[d]; i++)
            text[o++] = '}';
        text[o++] = '\n';
        text[o] = '\0';
        if (depth[d] < 16)
            refused(text, 1, "http.a", "unknown key");
        else
            refused(text, 1, "mappings and lists nested deeper than 16 levels", NULL);
    }
    /* Block style counts the same way. */
    size_t o = 0;
    for (int i = 0; i < 17; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%*sa:\n", i * 2, "");
    refused(text, 17, "mappings and lists nested deeper than 16 levels", NULL);
}

static void test_file_errors(void **state)
{
    (void)state;
    assert_int_equal(config_load("/nonexistent/node.yaml", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/node.yaml"));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(config_load("regions", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "regions: not a regular file"));

    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "# a node\nmode: region\n\nhttp:\n  listen: \"127.0.0.1:8080\"\n"
                               "  threads: abc\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -1);
    char want[128];
    int n = snprintf(want, sizeof(want), "%s:6: http.threads: expected an integer", path);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", want, err);
    unlink(path);
}

static void test_messages_are_bounded_and_clean(void **state)
{
    (void)state;
    /* a value with an escape sequence is shown escaped */
    refused("mode: \"\\e[31mred\"\n", 1, "mode", "\\x1b[31mred");
    /* a small buffer still gets a NUL-terminated start of the message */
    char small[16];
    const char *text = "http:\n  threads: abc\n";
    assert_int_equal(config_load_string("t.yaml", text, strlen(text), &cfg, small, sizeof(small)),
                     -1);
    assert_true(memchr(small, '\0', sizeof(small)) != NULL);
    assert_int_equal(strncmp(small, "t.yaml:2: ", 10), 0);
    /* text that is not NUL-terminated is read only within its length */
    char buf[] = {'m', 'o', 'd', 'e', ':', ' ', 'h', 'u', 'b', 'X'};
    assert_int_equal(config_load_string("t.yaml", buf, 9, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.mode, NODE_HUB);
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
        cmocka_unit_test(test_errors_name_line_and_key),
        cmocka_unit_test(test_dates_and_periods),
        cmocka_unit_test(test_federation),
        cmocka_unit_test(test_hub_url_is_a_base_address),
        cmocka_unit_test(test_ca_file),
        cmocka_unit_test(test_login_throttle),
        cmocka_unit_test(test_account_keys),
        cmocka_unit_test(test_proxy_keys),
        cmocka_unit_test(test_meals_keys),
        cmocka_unit_test(test_too_long_strings_refused),
        cmocka_unit_test(test_syntax_and_shape),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_hostile_input_bounds),
        cmocka_unit_test(test_messages_are_bounded_and_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
