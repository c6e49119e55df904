/*
 * Unit tests of federation/report.c without a network: the small-cell suppression of a region's
 * statistics report (report_suppress, no database: the threshold k, cells of none, the
 * complement beside a published total, the total itself), report_build on a scratch database
 * (an empty month, a query that fails, «Москвёнок»'s passage and meals by day and grade with
 * their small cells suppressed), report_push's read of the outbox failing; and the hub's check
 * of a received report (report_verify, no database): a region's own signed report is accepted
 * with its sequence and month, with well-formed passage and meals sections too; a body of
 * another shape, a report changed after signing, signed by another key or with a malformed
 * signature, one that is not a report, another region's, and one whose passage or meals
 * section is malformed (each way, named in the message) are each refused with their verdict
 * and a message, leaving nothing to free.
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
    /* A query fails (its table is gone), the usage's or the last, the meals': an error, never
     * a report without it. */
    assert_int_equal(db_exec(db, "DROP TABLE audit_log"), SQLITE_OK);
    err[0] = '\0';
    assert_null(report_build(db, &cfg, "2026-11", err, sizeof(err)));
    assert_non_null(strstr(err, "database"));
    db_failure_clear();
    assert_int_equal(db_exec(db, "CREATE TABLE audit_log (at, account_id, action); "
                                 "DROP TABLE ledger"),
                     SQLITE_OK);
    err[0] = '\0';
    assert_null(report_build(db, &cfg, "2026-11", err, sizeof(err)));
    assert_non_null(strstr(err, "database"));
    db_failure_clear();
    scratch_db_remove(db, path);
}

/* Two schools: grade 5 (students 1-4) and grade 1 (5, 6) at the first, grade 5 (7, 8) at the
 * second; student 9 in the first's grade 5 until 10 November, then in its grade 1; student 10
 * in no class. Cards, terminals, a buffet item and a breakfast complex at 95 roubles. */
static const char volumes_world[] =
    "INSERT INTO municipalities (id, name) VALUES (1, 'Центральный');"
    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) VALUES "
    " (1, 1, 'school', 'Средняя школа № 1', 'Школа № 1'),"
    " (2, 1, 'school', 'Гимназия № 2', 'Гимназия № 2');"
    "INSERT INTO academic_years (id, name, starts_on, ends_on) VALUES "
    " (1, '2026/2027', '2026-09-01', '2027-08-31');"
    "INSERT INTO classes (id, institution_id, year_id, grade, letter) VALUES "
    " (1, 1, 1, 5, 'А'), (2, 1, 1, 1, 'А'), (3, 2, 1, 5, 'Б');"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) "
    "INSERT INTO persons (id, last_name, first_name) SELECT i, 'Ученик', 'Имя' FROM n;"
    "INSERT INTO enrollments (student_id, class_id, enrolled_on, left_on) VALUES "
    " (1, 1, '2026-09-01', NULL), (2, 1, '2026-09-01', NULL), (3, 1, '2026-09-01', NULL),"
    " (4, 1, '2026-09-01', NULL), (5, 2, '2026-09-01', NULL), (6, 2, '2026-09-01', NULL),"
    " (7, 3, '2026-09-01', NULL), (8, 3, '2026-09-01', NULL),"
    " (9, 1, '2026-09-01', '2026-11-10'), (9, 2, '2026-11-10', NULL),"
    " (10, 1, '2026-09-01', '2026-10-01');"
    "INSERT INTO device_tokens (id, name, scopes, institution_id, token_hash) VALUES "
    " (1, 'Вход', 'passage meals', 1, x'01'), (2, 'Вход', 'passage meals', 2, x'02');"
    "INSERT INTO cards (id, card, student_id, institution_id) SELECT id, printf('CARD%04d', id), "
    " id, CASE WHEN id IN (7, 8) THEN 2 ELSE 1 END FROM persons;"
    "INSERT INTO buffet_items (id, institution_id, name, category, price) VALUES "
    " (1, 1, 'Булочка', 'bakery', 1000), (2, 2, 'Булочка', 'bakery', 1000);"
    "INSERT INTO meal_complexes (id, institution_id, day, kind, price) VALUES "
    " (1, 1, '2026-11-09', 'breakfast', 9500), (2, 1, '2026-11-10', 'breakfast', 9500);";

/* 9 November: students 1, 2, 3 in and out, 7 (the other school) and 9 (grade 5 still) in,
 * 5 (grade 1) only out; 10 November: 5, 6 and 9 (now grade 1) in; student 10 (no class) and
 * days of other months are not counted. */
static const char volumes_passage[] =
    "INSERT INTO passage_events (student_id, card_id, institution_id, device_id, direction, at, "
    "day) VALUES (1, 1, 1, 1, 'in', 1, '2026-11-09'), (1, 1, 1, 1, 'out', 2, '2026-11-09'),"
    " (2, 2, 1, 1, 'in', 1, '2026-11-09'), (2, 2, 1, 1, 'out', 2, '2026-11-09'),"
    " (3, 3, 1, 1, 'in', 1, '2026-11-09'), (3, 3, 1, 1, 'out', 2, '2026-11-09'),"
    " (7, 7, 2, 2, 'in', 1, '2026-11-09'), (9, 9, 1, 1, 'in', 1, '2026-11-09'),"
    " (5, 5, 1, 1, 'out', 2, '2026-11-09'),"
    " (5, 5, 1, 1, 'in', 3, '2026-11-10'), (6, 6, 1, 1, 'in', 3, '2026-11-10'),"
    " (9, 9, 1, 1, 'in', 3, '2026-11-10'), (10, 10, 1, 1, 'in', 3, '2026-11-10'),"
    " (1, 1, 1, 1, 'in', 0, '2026-10-31'), (1, 1, 1, 1, 'in', 4, '2026-12-01');";

/* 8 November: top-ups of students 1, 2, 3 (1 twice). 9 November: paid sales of 1 (two), 2
 * and 7, a free breakfast of 3, a declined sale of 4. 10 November: free breakfasts of 5, 6
 * and 9. 12 November: student 2's sale refunded. The ledger's sales are not top-ups. */
static const char volumes_meals[] =
    "INSERT INTO sales (id, student_id, card_id, institution_id, device_id, key, at, day, "
    "status, total, free_value) VALUES (1, 1, 1, 1, 1, 'a', 1, '2026-11-09', 'approved', 5000, 0),"
    " (2, 1, 1, 1, 1, 'b', 1, '2026-11-09', 'approved', 3000, 0),"
    " (3, 2, 2, 1, 1, 'c', 1, '2026-11-09', 'approved', 4000, 0),"
    " (4, 7, 7, 2, 2, 'd', 1, '2026-11-09', 'approved', 2000, 0),"
    " (5, 3, 3, 1, 1, 'e', 1, '2026-11-09', 'approved', 0, 9500),"
    " (6, 4, 4, 1, 1, 'f', 1, '2026-11-09', 'declined', 0, 0),"
    " (7, 5, 5, 1, 1, 'g', 1, '2026-11-10', 'approved', 0, 9500),"
    " (8, 6, 6, 1, 1, 'h', 1, '2026-11-10', 'approved', 0, 9500),"
    " (9, 9, 9, 1, 1, 'i', 1, '2026-11-10', 'approved', 0, 9500);"
    "INSERT INTO sale_lines (sale_id, item_id, complex_id, name, category, quantity, price, "
    "free) VALUES (1, 1, NULL, 'Булочка', 'bakery', 5, 1000, 0),"
    " (2, 1, NULL, 'Булочка', 'bakery', 3, 1000, 0), (3, 1, NULL, 'Булочка', 'bakery', 4, 1000, 0),"
    " (4, 2, NULL, 'Булочка', 'bakery', 2, 1000, 0),"
    " (5, NULL, 1, 'Завтрак', 'breakfast', 1, 9500, 1),"
    " (6, 1, NULL, 'Булочка', 'bakery', 1, 1000, 0),"
    " (7, NULL, 2, 'Завтрак', 'breakfast', 1, 9500, 1),"
    " (8, NULL, 2, 'Завтрак', 'breakfast', 1, 9500, 1),"
    " (9, NULL, 2, 'Завтрак', 'breakfast', 1, 9500, 1);"
    "INSERT INTO ledger (student_id, institution_id, day, at, kind, amount, ref, balance) VALUES "
    " (1, 1, '2026-11-08', 1, 'topup', 10000, 1, 10000),"
    " (1, 1, '2026-11-08', 2, 'topup', 5000, 2, 15000),"
    " (2, 1, '2026-11-08', 1, 'topup', 10000, 3, 10000),"
    " (3, 1, '2026-11-08', 1, 'topup', 10000, 4, 10000),"
    " (1, 1, '2026-11-09', 3, 'sale', -5000, 1, 10000),"
    " (2, 1, '2026-11-12', 5, 'refund', 4000, 3, 10000);";

/* A section of `rep` as compact JSON with sorted keys (to free). */
static char *section(json_t *rep, const char *name)
{
    char *text = json_dumps(json_object_get(rep, name), JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    return text;
}

#define HIDDEN_CELL "{\"count\":null,\"kopecks\":null,\"students\":null,\"suppressed\":true}"

static void volumes_by_day_and_grade_with_small_cells_suppressed(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    cfg.federation.k_suppression = 3;
    snprintf(cfg.region.code, sizeof(cfg.region.code), "05");
    char path[64], err[256] = "";
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, volumes_world), SQLITE_OK);
    assert_int_equal(db_exec(db, volumes_passage), SQLITE_OK);
    assert_int_equal(db_exec(db, volumes_meals), SQLITE_OK);
    json_t *rep = report_build(db, &cfg, "2026-11", err, sizeof(err));
    assert_non_null(rep);
    char *passage = section(rep, "passage"), *meals = section(rep, "meals");
    /* Grade 1 on the 9th: one exit, nobody entered: suppressed; grade 5 on the 9th: five
     * entered (two schools), three left; grade 1 on the 10th: three. */
    assert_string_equal(
        passage,
        "[{\"day\":\"2026-11-09\",\"entries\":null,\"exits\":null,\"grade\":1,\"students\":"
        "null,\"suppressed\":true},"
        "{\"day\":\"2026-11-09\",\"entries\":5,\"exits\":3,\"grade\":5,\"students\":5},"
        "{\"day\":\"2026-11-10\",\"entries\":3,\"exits\":0,\"grade\":1,\"students\":3}]");
    /* Each meals cell stands alone: three students or its money goes too. */
    assert_string_equal(
        meals,
        "[{\"day\":\"2026-11-08\",\"free\":" HIDDEN_CELL ",\"grade\":5,\"refunds\":" HIDDEN_CELL
        ",\"sales\":" HIDDEN_CELL ",\"topups\":{\"count\":4,\"kopecks\":35000,\"students\":3}},"
        "{\"day\":\"2026-11-09\",\"free\":" HIDDEN_CELL ",\"grade\":5,\"refunds\":" HIDDEN_CELL
        ",\"sales\":{\"count\":4,\"kopecks\":14000,\"students\":3},\"topups\":" HIDDEN_CELL "},"
        "{\"day\":\"2026-11-10\",\"free\":{\"count\":3,\"kopecks\":28500,\"students\":3},"
        "\"grade\":1,\"refunds\":" HIDDEN_CELL ",\"sales\":" HIDDEN_CELL ",\"topups\":" HIDDEN_CELL
        "},"
        "{\"day\":\"2026-11-12\",\"free\":" HIDDEN_CELL ",\"grade\":5,\"refunds\":" HIDDEN_CELL
        ",\"sales\":" HIDDEN_CELL ",\"topups\":" HIDDEN_CELL "}]");
    free(passage);
    free(meals);
    /* What the region builds, the hub takes. */
    json_object_set_new(rep, "sequence", json_integer(1));
    char *text = json_dumps(rep, JSON_COMPACT | JSON_SORT_KEYS), why[256] = "";
    int64_t seq = 0;
    char month[8];
    assert_int_equal(report_check(text, strlen(text), "05", &seq, month, why, sizeof(why)), 0);
    free(text);
    json_decref(rep);
    /* An empty month: both sections are there, with no rows. */
    rep = report_build(db, &cfg, "2026-08", err, sizeof(err));
    assert_non_null(rep);
    assert_true(json_is_array(json_object_get(rep, "passage")));
    assert_int_equal(json_array_size(json_object_get(rep, "passage")), 0);
    assert_int_equal(json_array_size(json_object_get(rep, "meals")), 0);
    json_decref(rep);
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

/* A report of region 05 for November with k 3 and the sections given (JSON, or NULL: none),
 * signed by the region's key, as the body a region posts (to free). */
static char *volumes_body(const char *region, const char *head, const char *passage,
                          const char *meals)
{
    char text[4096];
    int n = snprintf(text, sizeof(text),
                     "{\"format\":\"mes-report-1\",\"region\":\"%s\",\"sequence\":8,%s%s%s%s%s}",
                     region, head ? head : "\"period\":{\"month\":\"2026-11\"},\"k\":3",
                     passage ? ",\"passage\":" : "", passage ? passage : "",
                     meals ? ",\"meals\":" : "", meals ? meals : "");
    assert_true(n > 0 && (size_t)n < sizeof(text));
    return body_of(text, sk, NULL);
}

#define CELL(s, c, k) "{\"students\":" #s ",\"count\":" #c ",\"kopecks\":" #k "}"
#define GONE          "{\"students\":null,\"count\":null,\"kopecks\":null,\"suppressed\":true}"
#define MEALS_ROW(day, grade, sales)                                                               \
    "{\"day\":\"" day "\",\"grade\":" #grade ",\"sales\":" sales ",\"free\":" GONE                 \
    ",\"topups\":" CELL(3, 4, 35000) ",\"refunds\":" GONE "}"

static void accepts_well_formed_volumes(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"[]", "[]"},
        {"[{\"day\":\"2026-11-30\",\"grade\":11,\"students\":3,\"entries\":3,\"exits\":0},"
         "{\"day\":\"2026-11-01\",\"grade\":1,\"students\":null,\"entries\":null,\"exits\":"
         "null,\"suppressed\":true}]",
         "[" MEALS_ROW("2026-11-09", 5, CELL(3, 4, 14000)) "," MEALS_ROW("2026-11-09", 6,
                                                                         GONE) "]"},
        {NULL, "[" MEALS_ROW("2026-11-09", 5, CELL(3, 3, 0)) "]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = volumes_body("05", NULL, cases[i][0], cases[i][1]), err[512];
        struct report_received r;
        assert_int_equal(verify(body, &pk, &r, err, sizeof(err)), REPORT_OK);
        json_decref(r.doc);
        free(body);
    }
}

static void refuses_malformed_volumes(void **state)
{
    (void)state;
    static const char *const good_meals = "[" MEALS_ROW("2026-11-09", 5, CELL(3, 4, 14000)) "]";
#define PASSAGE(x) "[{\"day\":\"2026-11-09\",\"grade\":5," x "}]"
#define OK_COUNTS  "\"students\":3,\"entries\":4,\"exits\":2"
    static const struct {
        const char *head, *passage, *meals, *says;
    } cases[] = {
        {NULL, "{}", NULL, "passage: not an array of rows"},
        {NULL, "[5]", NULL, "passage[0]: is not an object"},
        {NULL, "[{\"day\":\"2026-12-01\",\"grade\":5," OK_COUNTS "}]", NULL,
         "passage[0].day: is not a day of the report's month"},
        {NULL, "[{\"day\":\"2026-11-31\",\"grade\":5," OK_COUNTS "}]", NULL,
         "passage[0].day: is not a day"},
        {NULL, "[{\"day\":\"2026-11-9\",\"grade\":5," OK_COUNTS "}]", NULL, "passage[0].day"},
        {NULL, "[{\"grade\":5," OK_COUNTS "}]", NULL, "passage[0].day"},
        {NULL, "[{\"day\":\"2026-11-09\",\"grade\":12," OK_COUNTS "}]", NULL,
         "passage[0].grade: is not a grade from 1 to 11"},
        {NULL, "[{\"day\":\"2026-11-09\",\"grade\":\"5\"," OK_COUNTS "}]", NULL,
         "passage[0].grade"},
        {NULL, PASSAGE(OK_COUNTS) "]", NULL, NULL}, /* not JSON: not a report at all */
        {NULL,
         "[{\"day\":\"2026-11-09\",\"grade\":5," OK_COUNTS
         "},{\"day\":\"2026-11-09\",\"grade\":5," OK_COUNTS "}]",
         NULL, "passage[1].day: and grade come twice"},
        {NULL, PASSAGE("\"students\":2,\"entries\":4,\"exits\":2"), NULL,
         "passage[0].students: counts fewer than k persons"},
        {NULL, PASSAGE("\"students\":3,\"entries\":2,\"exits\":2"), NULL,
         "passage[0].entries: is smaller than the persons"},
        {NULL, PASSAGE("\"students\":3,\"entries\":4,\"exits\":-1"), NULL,
         "passage[0].exits: is not a whole number of 0 or more"},
        {NULL, PASSAGE("\"students\":3,\"entries\":4.0,\"exits\":1"), NULL,
         "passage[0].entries: is not a whole number"},
        {NULL, PASSAGE("\"students\":3,\"entries\":4"), NULL, "passage[0].exits: is missing"},
        {NULL, PASSAGE(OK_COUNTS ",\"school\":\"Школа № 1\""), NULL,
         "passage[0].school: is not a key of the cell"},
        {NULL, PASSAGE("\"students\":null,\"entries\":4,\"exits\":null,\"suppressed\":true"), NULL,
         "passage[0].entries: is shown in a suppressed cell"},
        {NULL, PASSAGE(OK_COUNTS ",\"suppressed\":false"), NULL,
         "passage[0].suppressed: is true or absent"},
        {NULL, PASSAGE("\"students\":null,\"entries\":null,\"exits\":null"), NULL,
         "passage[0].students: is not a whole number"},
        {NULL, NULL, "[{\"day\":\"2026-11-09\",\"grade\":5,\"sales\":" CELL(3, 4, 1) "}]",
         "meals[0].free: is missing"},
        {NULL, NULL, "[" MEALS_ROW("2026-11-09", 5, CELL(2, 4, 14000)) "]",
         "meals[0].sales.students: counts fewer than k persons"},
        {NULL, NULL, "[" MEALS_ROW("2026-11-09", 5, CELL(3, 2, 14000)) "]",
         "meals[0].sales.count: is smaller than the persons"},
        {NULL, NULL, "[" MEALS_ROW("2026-11-09", 5, CELL(3, 4, -5)) "]",
         "meals[0].sales.kopecks: is not a whole number"},
        {NULL, NULL, "[" MEALS_ROW("2026-11-09", 5, "{\"students\":3,\"count\":4}") "]",
         "meals[0].sales.kopecks: is missing"},
        {NULL, NULL,
         "[" MEALS_ROW("2026-11-09", 5,
                       "{\"students\":3,\"count\":4,\"kopecks\":1,\"student_id\":17}") "]",
         "meals[0].sales.student_id: is not a key of the cell"},
        {NULL, NULL,
         "[{\"day\":\"2026-11-09\",\"grade\":5,\"school\":1,\"sales\":" GONE ",\"free\":" GONE
         ",\"topups\":" GONE ",\"refunds\":" GONE "}]",
         "meals[0].school: is not a key of the row"},
        {NULL, NULL, "[" MEALS_ROW("2026-11-09", 5, "[]") "]", "meals[0].sales: is not an object"},
        {NULL, "[]", "null", "meals: not an array of rows"},
        {"\"period\":{\"month\":\"2026-11\"}", "[]", NULL, "passage: the report's k is not"},
        {"\"period\":{\"month\":\"2026-11\"},\"k\":1", NULL, good_meals, "meals: the report's k"},
        {"\"period\":{\"month\":\"2026-13\"},\"k\":3", NULL, good_meals,
         "meals: period.month is not a month"},
    };
#undef PASSAGE
#undef OK_COUNTS
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = volumes_body("05", cases[i].head, cases[i].passage,
                                  cases[i].meals     ? cases[i].meals
                                  : cases[i].passage ? NULL
                                                     : good_meals);
        if (cases[i].says == NULL)
            refused(body, &pk, REPORT_NOT_A_REPORT, "not a report");
        else
            refused(body, &pk, REPORT_BAD_SECTION, cases[i].says);
        free(body);
    }
    /* Another region's report is refused for that, whatever its sections. */
    char *body = volumes_body("06", NULL, "{}", NULL);
    refused(body, &pk, REPORT_FOREIGN, "only its own reports");
    free(body);
    /* report_check alone says the same, with or without room for the reason. */
    const char *text = "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":1,"
                       "\"period\":{\"month\":\"2026-11\"},\"k\":3,\"passage\":5}";
    int64_t seq = 0;
    char month[8], why[128] = "";
    assert_int_equal(report_check(text, strlen(text), "05", &seq, month, NULL, 0), -2);
    assert_int_equal(report_check(text, strlen(text), "05", &seq, month, why, sizeof(why)), -2);
    assert_string_equal(why, "passage: not an array of rows");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suppresses_below_the_threshold),
        cmocka_unit_test(a_single_gap_beside_a_total_takes_its_complement),
        cmocka_unit_test(a_total_of_fewer_than_k_goes_too),
        cmocka_unit_test(an_empty_month_shows_no_small_total),
        cmocka_unit_test(volumes_by_day_and_grade_with_small_cells_suppressed),
        cmocka_unit_test(a_failing_outbox_read_is_an_error),
        cmocka_unit_test(accepts_own_signed_report),
        cmocka_unit_test(refuses_other_shapes),
        cmocka_unit_test(refuses_bad_signatures),
        cmocka_unit_test(refuses_what_is_not_a_report),
        cmocka_unit_test(accepts_well_formed_volumes),
        cmocka_unit_test(refuses_malformed_volumes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
