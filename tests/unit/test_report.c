/*
 * Unit tests of federation/report.c without a network: the small-cell suppression of a region's
 * statistics report (report_suppress, no database: the threshold k, cells of none, the
 * complement beside a published total, the total itself), report_build on a scratch database
 * (an empty month, a query that fails), report_push's read of the outbox failing; and the hub's
 * check of a received report (report_verify, no database): a region's own signed report is accepted
 * with its sequence and month; a body of another shape, a report changed after signing, signed by
 * another key or with a malformed signature, one that is not a report, and another region's are
 * each refused with their verdict and a message, leaving nothing to free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "federation/report.h"
#include "node.h"
#include "scratch_db.h"

/* ---- small-cell suppression ---- */

/* Runs report_suppress over `persons` (n cells) and writes which went into `out` as a string
 * of '.' (shown) and 'x' (suppressed); returns whether the total went. */
static bool suppress(const long *persons, size_t n, long total, long k, char *out)
{
    struct report_cell cells[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) /* set either way before: the call decides every cell */
        cells[i] = (struct report_cell){.persons = persons[i], .suppressed = (i % 2) == 0};
    bool total_hidden = report_suppress(n ? cells : NULL, n, total, k);
    for (size_t i = 0; i < n; i++)
        out[i] = cells[i].suppressed ? 'x' : '.';
    out[n] = '\0';
    return total_hidden;
}

static void suppresses_below_the_threshold(void **state)
{
    (void)state;
    char got[17];
    /* k persons are shown, k - 1 are not; a cell of none goes too. */
    long row[] = {5, 4, 6, 0, 1000};
    assert_false(suppress(row, 5, REPORT_NO_TOTAL, 5, got));
    assert_string_equal(got, ".x.x.");
    /* Without a total, a single gap has no complement. */
    long one_gap[] = {9, 2, 7};
    assert_false(suppress(one_gap, 3, REPORT_NO_TOTAL, 5, got));
    assert_string_equal(got, ".x.");
    /* k = 1: only the cells of none go. */
    long tiny[] = {0, 1, 2};
    assert_false(suppress(tiny, 3, REPORT_NO_TOTAL, 1, got));
    assert_string_equal(got, "x..");
    /* The threshold as configured, large. */
    long big[] = {999, 1000, 1001};
    assert_false(suppress(big, 3, REPORT_NO_TOTAL, 1000, got));
    assert_string_equal(got, "x..");
}

static void a_single_gap_beside_a_total_takes_its_complement(void **state)
{
    (void)state;
    char got[17];
    /* The smallest other cell goes with it, wherever it is. */
    long row[] = {40, 12, 3, 30, 9};
    assert_false(suppress(row, 5, 94, 5, got));
    assert_string_equal(got, "..x.x");
    /* Of equal ones, the first. */
    long equal[] = {8, 3, 8, 8};
    assert_false(suppress(equal, 4, 27, 5, got));
    assert_string_equal(got, "xx..");
    /* Exactly k is shown, so k - 1 is the single gap. */
    long edge[] = {5, 4, 5};
    assert_false(suppress(edge, 3, 14, 5, got));
    assert_string_equal(got, "xx.");
    /* Two gaps already: neither is the total minus the rest, nothing more goes. */
    long two[] = {40, 1, 2, 30};
    assert_false(suppress(two, 4, 73, 5, got));
    assert_string_equal(got, ".xx.");
    /* No gap: nothing goes. */
    long none[] = {5, 6, 7};
    assert_false(suppress(none, 3, 18, 5, got));
    assert_string_equal(got, "...");
    /* A distribution's total counts distinct persons, not the sum: the same rule. */
    long values[] = {20, 2, 15};
    assert_false(suppress(values, 3, 25, 5, got));
    assert_string_equal(got, ".xx");
}

static void a_total_of_fewer_than_k_goes_too(void **state)
{
    (void)state;
    char got[17];
    /* One small cell: its total is the cell itself. */
    long one[] = {3};
    assert_true(suppress(one, 1, 3, 5, got));
    assert_string_equal(got, "x");
    /* Two small cells summing under k. */
    long two[] = {1, 3};
    assert_true(suppress(two, 2, 4, 5, got));
    assert_string_equal(got, "xx");
    /* Small cells summing to k: the total is shown, the cells are not. */
    long sum_k[] = {2, 3};
    assert_false(suppress(sum_k, 2, 5, 5, got));
    assert_string_equal(got, "xx");
    /* An empty row: a total of none goes; without a total nothing does. */
    assert_true(suppress(NULL, 0, 0, 5, got));
    assert_false(suppress(NULL, 0, REPORT_NO_TOTAL, 5, got));
    /* A row of one cell of k: shown, and its total. */
    long k_one[] = {5};
    assert_false(suppress(k_one, 1, 5, 5, got));
    assert_string_equal(got, ".");
}

/* ---- report_build on a database ---- */

static void an_empty_month_shows_no_small_total(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    cfg.federation.k_suppression = 5;
    char path[64], err[256] = "";
    struct db *db = scratch_db(&cfg, path);
    json_t *rep = report_build(db, &cfg, "2020-01", err, sizeof(err));
    assert_non_null(rep);
    json_t *att = json_object_get(rep, "attendance");
    assert_int_equal(json_array_size(json_object_get(att, "grades")), 0);
    json_t *total = json_object_get(att, "total");
    assert_true(json_is_true(json_object_get(total, "suppressed")));
    assert_true(json_is_null(json_object_get(total, "students")));
    assert_true(json_is_null(json_object_get(total, "absences")));
    assert_true(json_is_true(json_object_get(json_object_get(rep, "homework"), "suppressed")));
    assert_int_equal(json_integer_value(json_object_get(rep, "k")), 5);
    json_decref(rep);
    /* Not a month. */
    assert_null(report_build(db, &cfg, "2020-13", err, sizeof(err)));
    assert_non_null(strstr(err, "YYYY-MM"));
    /* The last query fails (its table is gone): an error, never a report without it. */
    assert_int_equal(db_exec(db, "DROP TABLE audit_log"), SQLITE_OK);
    err[0] = '\0';
    assert_null(report_build(db, &cfg, "2026-11", err, sizeof(err)));
    assert_non_null(strstr(err, "database"));
    db_failure_clear();
    scratch_db_remove(db, path);
}

static void a_failing_outbox_read_is_an_error(void **state)
{
    (void)state;
    static struct node n; /* no hub: nothing is sent */
    config_defaults(&n.cfg);
    char path[64], err[256] = "";
    struct db *db = scratch_db(&n.cfg, path);
    long sent = -1;
    assert_int_equal(report_push(&n, db, 0, &sent, err, sizeof(err)), 0);
    assert_int_equal(sent, 0);
    /* The outbox's table goes: the prepared read fails when stepped, not as an empty outbox. */
    assert_int_equal(db_exec(db, "DROP TABLE fed_outbox"), SQLITE_OK);
    assert_int_equal(report_push(&n, db, 0, &sent, err, sizeof(err)), -1);
    assert_int_equal(sent, 0);
    assert_non_null(strstr(err, "database"));
    db_failure_clear();
    scratch_db_remove(db, path);
}

/* ---- the hub's check of a received report ---- */

static struct ms_public pk, other_pk;
static struct ms_secret *sk, *other_sk;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    sk = ms_secret_generate(&pk);
    other_sk = ms_secret_generate(&other_pk);
    return sk && other_sk ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ms_secret_free(sk);
    ms_secret_free(other_sk);
    return 0;
}

/* The body a region posts: `report` signed by `key` (or with `signature` when not NULL). */
static char *body_of(const char *report, const struct ms_secret *key, const char *signature)
{
    char *sig = signature ? strdup(signature)
                          : ms_sign(key, report, strlen(report), "mes statistics report", "t");
    assert_non_null(sig);
    json_t *b = json_pack("{s:s,s:s}", "report", report, "signature", sig);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    free(sig);
    return text;
}

/* report_verify of `body` as region 05 with the region's key `key`; the verdict. */
static int verify(const char *body, const struct ms_public *key, struct report_received *out,
                  char *err, size_t errlen)
{
    err[0] = '\0';
    return report_verify(body, strlen(body), key, "05", out, err, errlen);
}

static const char report[] = "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":7,"
                             "\"period\":{\"month\":\"2026-11\"},\"marks\":[]}";

static void accepts_own_signed_report(void **state)
{
    (void)state;
    char *body = body_of(report, sk, NULL), err[512];
    struct report_received r;
    assert_int_equal(verify(body, &pk, &r, err, sizeof(err)), REPORT_OK);
    assert_int_equal(r.sequence, 7);
    assert_string_equal(r.month, "2026-11");
    assert_int_equal(r.len, strlen(report));
    assert_memory_equal(r.text, report, r.len);
    assert_non_null(strstr(r.signature, "untrusted comment: mes statistics report"));
    json_decref(r.doc);
    free(body);
}

/* The verdict and message for a refused body; checks that nothing is left to free. */
static void refused(const char *body, const struct ms_public *key, int verdict, const char *says)
{
    char err[512];
    struct report_received r;
    memset(&r, 0x55, sizeof(r));
    assert_int_equal(verify(body, key, &r, err, sizeof(err)), verdict);
    assert_null(r.doc);
    assert_null(r.text);
    assert_non_null(strstr(err, says));
}

static void refuses_other_shapes(void **state)
{
    (void)state;
    refused("", &pk, REPORT_BAD_BODY, "the body is");
    refused("[1,2]", &pk, REPORT_BAD_BODY, "the body is");
    refused("{\"report\":\"{}\"}", &pk, REPORT_BAD_BODY, "the body is");
    refused("{\"report\":5,\"signature\":\"x\"}", &pk, REPORT_BAD_BODY, "the body is");
    /* The same key twice: JSON that would let the signed text and the stored one differ. */
    char *body = body_of(report, sk, NULL), twice[8192];
    snprintf(twice, sizeof(twice), "{\"report\":\"{}\",%s", body + 1);
    refused(twice, &pk, REPORT_BAD_BODY, "the body is");
    free(body);
}

static void refuses_bad_signatures(void **state)
{
    (void)state;
    /* Changed after signing: the sequence 7 becomes 8. */
    char *sig = ms_sign(sk, report, strlen(report), "mes statistics report", "t");
    char changed[sizeof(report)];
    memcpy(changed, report, sizeof(report));
    *strchr(changed, '7') = '8';
    char *body = body_of(changed, NULL, sig);
    refused(body, &pk, REPORT_BAD_SIGNATURE, "the report's signature");
    free(body);
    free(sig);
    /* Signed by another key, and a signature that is not one. */
    body = body_of(report, other_sk, NULL);
    refused(body, &pk, REPORT_BAD_SIGNATURE, "the report's signature");
    free(body);
    body = body_of(report, NULL, "untrusted comment: x\nRWQ=\n");
    refused(body, &pk, REPORT_BAD_SIGNATURE, "the report's signature");
    free(body);
}

static void refuses_what_is_not_a_report(void **state)
{
    (void)state;
    static const char *const not_reports[] = {
        "{\"format\":\"mes-report-2\",\"region\":\"05\",\"sequence\":1,\"period\":{\"month\":"
        "\"2026-11\"}}",
        "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":0,\"period\":{\"month\":"
        "\"2026-11\"}}",
        "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":1,\"period\":{\"month\":"
        "\"2026/11\"}}",
        "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":1}",
        "not JSON, but signed",
    };
    for (size_t i = 0; i < sizeof(not_reports) / sizeof(not_reports[0]); i++) {
        char *body = body_of(not_reports[i], sk, NULL);
        refused(body, &pk, REPORT_NOT_A_REPORT, "not a report");
        free(body);
    }
    /* A well-formed report of region 06, signed by the key enrolled for 05. */
    char *body = body_of("{\"format\":\"mes-report-1\",\"region\":\"06\",\"sequence\":1,"
                         "\"period\":{\"month\":\"2026-11\"}}",
                         sk, NULL);
    refused(body, &pk, REPORT_FOREIGN, "only its own reports");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suppresses_below_the_threshold),
        cmocka_unit_test(a_single_gap_beside_a_total_takes_its_complement),
        cmocka_unit_test(a_total_of_fewer_than_k_goes_too),
        cmocka_unit_test(an_empty_month_shows_no_small_total),
        cmocka_unit_test(a_failing_outbox_read_is_an_error),
        cmocka_unit_test(accepts_own_signed_report),
        cmocka_unit_test(refuses_other_shapes),
        cmocka_unit_test(refuses_bad_signatures),
        cmocka_unit_test(refuses_what_is_not_a_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
