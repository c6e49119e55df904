/*
 * Unit tests of the buffet's sales (node/moskvenok/sales.c): reading a terminal's sale and
 * naming the field at fault, and the decision on a scratch database: the reasons in their
 * order, free complexes once per kind a day (one unit free, the rest paid, as two lines), the
 * daily limit, the overdraft's edge, and a key applied once (a duplicate answers the first
 * answer; a sequence number under another key is refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/sales.h"
#include "scratch_db.h"

static struct mes_config cfg;

/* ---- reading a sale ------------------------------------------------------------------------ */

/* sales_parse of `text` under `prefix`: 0, or -1 with the field at fault in `field`. */
static char field[96];
static struct sale_in sale;
static json_t *doc;

static int parse(const char *prefix, const char *text)
{
    json_decref(doc);
    doc = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(doc);
    const char *why = NULL;
    field[0] = '\0';
    int rc = sales_parse(doc, prefix, &sale, field, sizeof(field), &why);
    if (rc != 0)
        assert_true(why != NULL && why[0] != '\0');
    return rc;
}

static void refused(const char *prefix, const char *text, const char *at)
{
    assert_int_equal(parse(prefix, text), -1);
    assert_string_equal(field, at);
}

static void test_parse(void **state)
{
    (void)state;
    time_t before = time(NULL);
    assert_int_equal(parse("",
                           "{\"key\": \"k-1\", \"seq\": 7, \"card\": \"04A1B2\", \"items\": "
                           "[{\"id\": 3, \"quantity\": 2}, {\"complex\": 9, \"quantity\": 1}]}"),
                     0);
    assert_string_equal(sale.key, "k-1");
    assert_string_equal(sale.card, "04A1B2");
    assert_int_equal(sale.seq, 7);
    assert_int_equal(sale.nlines, 2);
    assert_false(sale.lines[0].complex);
    assert_int_equal(sale.lines[0].id, 3);
    assert_int_equal(sale.lines[0].quantity, 2);
    assert_true(sale.lines[1].complex);
    assert_int_equal(sale.lines[1].id, 9);
    assert_false(sale.offline);
    assert_true(sale.at >= before && sale.at <= time(NULL)); /* now, when not given */
    assert_int_equal(parse("", "{\"key\": \"k\", \"seq\": 1, \"card\": \"c\", \"items\": [{\"id\": "
                               "1, \"quantity\": 1}], \"at\": \"2026-12-05T08:12:00+03:00\", "
                               "\"offline\": true}"),
                     0);
    assert_int_equal(sale.at, 1796447520); /* 2026-12-05 05:12:00 UTC */
    assert_true(sale.offline);

    const char *good = "\"key\": \"k\", \"seq\": 1, \"card\": \"c\"";
    char text[512];
#define WITH(rest) (snprintf(text, sizeof(text), "{%s, %s}", good, rest), text)
    refused("", "[]", "");
    refused("sales[2]", "5", "sales[2]");
    refused("", "{\"seq\": 1, \"card\": \"c\", \"items\": [{\"id\": 1, \"quantity\": 1}]}", "key");
    refused("", "{\"key\": \"k\", \"card\": \"c\", \"items\": [{\"id\": 1, \"quantity\": 1}]}",
            "seq");
    refused("", "{\"key\": \"k\", \"seq\": 1, \"items\": [{\"id\": 1, \"quantity\": 1}]}", "card");
    refused("", "{\"key\": \"\", \"seq\": 1, \"card\": \"c\", \"items\": []}", "key");
    refused("", "{\"key\": \"a b\", \"seq\": 1, \"card\": \"c\", \"items\": []}", "key");
    refused("", "{\"key\": \"k\", \"seq\": 0, \"card\": \"c\", \"items\": []}", "seq");
    refused("", "{\"key\": \"k\", \"seq\": 1.5, \"card\": \"c\", \"items\": []}", "seq");
    refused("", "{\"key\": \"k\", \"seq\": 1, \"card\": \"a\\u0001b\", \"items\": []}", "card");
    refused("", WITH("\"items\": []"), "items");
    refused("", WITH("\"items\": {}"), "items");
    refused("", WITH("\"items\": [3]"), "items[0]");
    refused("sales[1]", WITH("\"items\": [{\"id\": 1, \"quantity\": 1}, {\"quantity\": 1}]"),
            "sales[1].items[1].id");
    refused("", WITH("\"items\": [{\"id\": 1}]"), "items[0].quantity");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 0}]"), "items[0].quantity");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 101}]"), "items[0].quantity");
    refused("", WITH("\"items\": [{\"id\": -1, \"quantity\": 1}]"), "items[0].id");
    refused("", WITH("\"items\": [{\"id\": 1, \"complex\": 2, \"quantity\": 1}]"),
            "items[0].complex");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 1, \"price\": 1}]"), "items[0].price");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 1}], \"at\": \"2026-12-05\""), "at");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 1}], \"at\": 1796447520"), "at");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 1}], \"offline\": 1"), "offline");
    refused("", WITH("\"items\": [{\"id\": 1, \"quantity\": 1}], \"total\": 0"), "total");
    /* 51 lines are too many. */
    char many[2048] = "\"items\": [";
    for (int i = 0; i < 51; i++)
        strcat(many, i ? ", {\"id\": 1, \"quantity\": 1}" : "{\"id\": 1, \"quantity\": 1}");
    strcat(many, "]");
    snprintf(text, sizeof(text), "{%s, ", good);
    char big[2600];
    snprintf(big, sizeof(big), "%s%s}", text, many);
    refused("", big, "items");
#undef WITH
    json_decref(doc);
    doc = NULL;
}

static int seq_no; /* the scratch terminal's last sequence number */

/* ---- deciding -------------------------------------------------------------------------------- */

/* School 1 (terminal 1) with a 2nd-grader (student 1, breakfast free by the default rules) and
 * a 5th-grader (student 2), school 2 (terminal 2) with student 3; goods of school 1: a bun
 * (bakery, 45 ₽), chocolate (sweets, 80 ₽), a pie off sale; a cake of school 2; today's
 * breakfast (90 ₽) and lunch (150 ₽) at school 1 and tomorrow's breakfast. 200 ₽ on each
 * account. */
static struct db *world(char path[64])
{
    struct db *db = scratch_db(&cfg, path);
    seq_no = 0;
    char today[16], tomorrow[16], sql[4096];
    mosk_local_day(time(NULL), today);
    mosk_local_day(time(NULL) + 86400, tomorrow);
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
        "INSERT INTO institutions (id, municipality_id, kind, name, short_name) VALUES "
        "(1, 1, 'school', 'Ш1', 'Ш1'), (2, 1, 'school', 'Ш2', 'Ш2');"
        "INSERT INTO academic_years (id, name, starts_on, ends_on) "
        "VALUES (1, '2026/2027', '2026-09-01', '2027-08-31');"
        "INSERT INTO classes (id, institution_id, year_id, grade, letter) VALUES "
        "(1, 1, 1, 2, 'А'), (2, 1, 1, 5, 'А'), (3, 2, 1, 5, 'А');"
        "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'А', 'А'), (2, 'Б', 'Б'), "
        "(3, 'В', 'В');"
        "INSERT INTO enrollments (student_id, class_id, enrolled_on) VALUES (1, 1, '2026-09-01'), "
        "(2, 2, '2026-09-01'), (3, 3, '2026-09-01');"
        "INSERT INTO device_tokens (id, name, scopes, institution_id, token_hash) VALUES "
        "(1, 'К1', 'meals', 1, x'01'), (2, 'К2', 'meals', 2, x'02');"
        "INSERT INTO cards (card, student_id, institution_id, blocked_at) VALUES "
        "('SMALL', 1, 1, NULL), ('BIG', 2, 1, NULL), ('OTHER', 3, 2, NULL), ('LOST', 2, 1, 1);"
        "INSERT INTO buffet_items (id, institution_id, name, category, price, active) VALUES "
        "(1, 1, 'Булочка', 'bakery', 4500, 1), (2, 1, 'Шоколад', 'sweets', 8000, 1), "
        "(3, 1, 'Пирожок', 'bakery', 4000, 0), (4, 2, 'Кекс', 'bakery', 5000, 1);"
        "INSERT INTO meal_complexes (id, institution_id, day, kind, price, dishes) VALUES "
        "(1, 1, '%s', 'breakfast', 9000, '[\"Каша\", \"Чай\"]'), (2, 1, '%s', 'lunch', 15000, "
        "'[]'), (3, 1, '%s', 'breakfast', 9000, '[]');"
        "INSERT INTO meal_accounts (student_id, balance) VALUES (1, 20000), (2, 20000), "
        "(3, 20000);",
        today, today, tomorrow);
    assert_int_equal(db_exec(db, sql), SQLITE_OK);
    return db;
}

/* Sells `items` (JSON lines) to `card` at terminal `device` (its school: the same number)
 * under a new key; the answer (a new reference). */
static json_t *sell_as(struct db *db, int64_t device, const char *card, const char *items)
{
    char text[512];
    seq_no++;
    snprintf(text, sizeof(text), "{\"key\": \"s%d\", \"seq\": %d, \"card\": \"%s\", \"items\": %s}",
             seq_no, seq_no, card, items);
    assert_int_equal(parse("", text), 0);
    json_t *out = NULL;
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(sales_apply(db, &cfg, device, device, &sale, &out), SALES_APPLIED);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_non_null(out);
    return out;
}

static json_t *sell(struct db *db, const char *card, const char *items)
{
    return sell_as(db, 1, card, items);
}

/* The reason of a declined answer ("" when approved); frees the answer. */
static const char *reason_of(json_t *a)
{
    static char buf[32];
    json_t *r = json_object_get(a, "reason");
    snprintf(buf, sizeof(buf), "%s", json_is_string(r) ? json_string_value(r) : "");
    assert_true(json_is_true(json_object_get(a, "approved")) == (buf[0] == '\0'));
    json_decref(a);
    return buf;
}

static int64_t num(json_t *a, const char *key)
{
    return json_integer_value(json_object_get(a, key));
}

static void test_reasons_in_order(void **state)
{
    (void)state;
    char path[64];
    struct db *db = world(path);
    const char *bun = "[{\"id\": 1, \"quantity\": 1}]";
    assert_string_equal(reason_of(sell(db, "NOPE", "[{\"id\": 4, \"quantity\": 1}]")),
                        "unknown_card");
    assert_string_equal(reason_of(sell(db, "LOST", "[{\"id\": 4, \"quantity\": 1}]")),
                        "card_blocked");
    assert_string_equal(reason_of(sell(db, "OTHER", bun)), "other_school");
    assert_string_equal(reason_of(sell_as(db, 2, "BIG", "[{\"id\": 4, \"quantity\": 1}]")),
                        "other_school");
    /* Another school's item, one off sale, one that does not exist; tomorrow's complex. */
    static const char *const items[] = {
        "[{\"id\": 4, \"quantity\": 1}]", "[{\"id\": 3, \"quantity\": 1}]",
        "[{\"id\": 99, \"quantity\": 1}]", "[{\"complex\": 3, \"quantity\": 1}]",
        "[{\"complex\": 99, \"quantity\": 1}]"};
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        assert_string_equal(reason_of(sell(db, "BIG", items[i])), "unknown_item");
    assert_int_equal(db_exec(db, "UPDATE meal_accounts SET blocked_at = 1 WHERE student_id = 2"),
                     SQLITE_OK);
    assert_string_equal(reason_of(sell(db, "BIG", "[{\"id\": 3, \"quantity\": 1}]")),
                        "unknown_item");
    assert_string_equal(reason_of(sell(db, "BIG", bun)), "account_blocked");
    assert_int_equal(db_exec(db, "UPDATE meal_accounts SET blocked_at = NULL, daily_limit = 1000 "
                                 "WHERE student_id = 2;"
                                 "INSERT INTO meal_stoplist (student_id, category) "
                                 "VALUES (2, 'bakery');"),
                     SQLITE_OK);
    assert_string_equal(reason_of(sell(db, "BIG", bun)), "stop_list");
    assert_string_equal(reason_of(sell(db, "BIG", "[{\"id\": 2, \"quantity\": 1}]")),
                        "daily_limit");
    /* Complexes are never stopped (bakery is): the lunch meets the limit instead. */
    assert_string_equal(reason_of(sell(db, "BIG", "[{\"complex\": 2, \"quantity\": 1}]")),
                        "daily_limit");
    assert_int_equal(db_exec(db, "UPDATE meal_accounts SET daily_limit = NULL WHERE student_id = "
                                 "2; DELETE FROM meal_stoplist;"
                                 "INSERT INTO meal_stoplist (student_id, item_id) VALUES (2, 2);"),
                     SQLITE_OK);
    assert_string_equal(reason_of(sell(db, "BIG", "[{\"id\": 2, \"quantity\": 1}]")), "stop_list");
    assert_string_equal(reason_of(sell(db, "BIG", "[{\"complex\": 2, \"quantity\": 2}]")),
                        "insufficient_funds");
    /* Nothing declined moved money or wrote the ledger; each was stored with its reason. */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM ledger"), 0);
    assert_int_equal(scratch_scalar(db, "SELECT sum(balance) FROM meal_accounts"), 60000);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sales WHERE status = 'declined' "
                                        "AND reason IS NOT NULL AND total = 0"),
                     seq_no);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sales WHERE student_id IS NULL"), 1);
    scratch_db_remove(db, path);
}

static void test_free_complexes_and_the_overdraft(void **state)
{
    (void)state;
    char path[64];
    struct db *db = world(path);
    assert_int_equal(db_exec(db, "UPDATE meal_accounts SET balance = 50000 WHERE student_id = 1"),
                     SQLITE_OK);
    /* Two breakfasts and a bun for the 2nd-grader: one breakfast free. */
    json_t *a =
        sell(db, "SMALL", "[{\"complex\": 1, \"quantity\": 2}, {\"id\": 1, \"quantity\": 1}]");
    assert_true(json_is_true(json_object_get(a, "approved")));
    assert_int_equal(num(a, "total"), 9000 + 4500);
    assert_int_equal(num(a, "free"), 9000);
    assert_int_equal(num(a, "balance"), 50000 - 13500);
    int64_t id = num(a, "sale");
    json_decref(a);
    char q[160];
    snprintf(q, sizeof(q),
             "SELECT group_concat(quantity || ':' || free || ':' || name, ' ') FROM sale_lines "
             "WHERE sale_id = %lld",
             (long long)id);
    char *lines = NULL;
    assert_int_equal(db_text(db, &lines, q, NULL), SQLITE_ROW);
    assert_string_equal(lines, "1:1:Каша, Чай 1:0:Каша, Чай 1:0:Булочка");
    free(lines);
    /* The day's free breakfast is taken: the next one is paid. */
    a = sell(db, "SMALL", "[{\"complex\": 1, \"quantity\": 1}]");
    assert_int_equal(num(a, "total"), 9000);
    assert_int_equal(num(a, "free"), 0);
    json_decref(a);
    /* The 5th-grader pays for breakfast. */
    a = sell(db, "BIG", "[{\"complex\": 1, \"quantity\": 1}]");
    assert_int_equal(num(a, "total"), 9000);
    json_decref(a);
    /* The overdraft's edge: 110 ₽ left and 50 ₽ allowed below zero pay for 160 ₽, not more.
     */
    cfg.meals.overdraft_kopecks = 5000;
    assert_string_equal(
        reason_of(sell(db, "BIG", "[{\"id\": 2, \"quantity\": 2}, {\"id\": 1, \"quantity\": 1}]")),
        "insufficient_funds");
    a = sell(db, "BIG", "[{\"id\": 2, \"quantity\": 2}]");
    assert_true(json_is_true(json_object_get(a, "approved")));
    assert_int_equal(num(a, "balance"), -5000);
    json_decref(a);
    assert_string_equal(reason_of(sell(db, "BIG", "[{\"id\": 1, \"quantity\": 1}]")),
                        "insufficient_funds");
    assert_int_equal(scratch_scalar(db, "SELECT balance FROM meal_accounts WHERE student_id = 2"),
                     -5000);
    assert_int_equal(scratch_scalar(db, "SELECT balance FROM ledger WHERE student_id = 2 ORDER BY "
                                        "id DESC LIMIT 1"),
                     -5000);
    cfg.meals.overdraft_kopecks = 0;
    scratch_db_remove(db, path);
}

static void test_once_per_key(void **state)
{
    (void)state;
    char path[64];
    struct db *db = world(path);
    json_t *first = sell(db, "BIG", "[{\"id\": 1, \"quantity\": 2}]");
    assert_int_equal(num(first, "balance"), 20000 - 9000);
    /* The same key again, with other goods: the first answer, nothing applied. */
    assert_int_equal(parse("", "{\"key\": \"s1\", \"seq\": 1, \"card\": \"BIG\", \"items\": "
                               "[{\"id\": 2, \"quantity\": 1}]}"),
                     0);
    json_t *again = NULL;
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(sales_apply(db, &cfg, 1, 1, &sale, &again), SALES_DUPLICATE);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_true(json_is_true(json_object_get(again, "duplicate")));
    json_object_del(again, "duplicate");
    assert_true(json_equal(first, again));
    json_decref(again);
    json_decref(first);
    /* Another key under a held sequence number: refused (the caller rolls back). */
    assert_int_equal(parse("", "{\"key\": \"other\", \"seq\": 1, \"card\": \"BIG\", \"items\": "
                               "[{\"id\": 2, \"quantity\": 1}]}"),
                     0);
    json_t *none = NULL;
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(sales_apply(db, &cfg, 1, 1, &sale, &none), SALES_SEQ_TAKEN);
    assert_null(none);
    assert_int_equal(db_rollback(db), SQLITE_OK);
    /* The same key at another terminal is another sale. */
    assert_int_equal(parse("", "{\"key\": \"s1\", \"seq\": 1, \"card\": \"OTHER\", \"items\": "
                               "[{\"id\": 4, \"quantity\": 1}]}"),
                     0);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(sales_apply(db, &cfg, 2, 2, &sale, &none), SALES_APPLIED);
    assert_int_equal(db_commit(db), SQLITE_OK);
    json_decref(none);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM ledger WHERE kind = 'sale'"), 2);
    assert_int_equal(scratch_scalar(db, "SELECT balance FROM meal_accounts WHERE student_id = 2"),
                     11000);
    assert_int_equal(scratch_scalar(db, "SELECT balance FROM meal_accounts WHERE student_id = 3"),
                     15000);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_reasons_in_order),
        cmocka_unit_test(test_free_complexes_and_the_overdraft),
        cmocka_unit_test(test_once_per_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
