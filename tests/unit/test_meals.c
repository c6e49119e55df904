/*
 * Unit tests of «Москвёнок»'s menu (node/moskvenok/meals.c): the free rules split by their
 * reason and their agreement with mosk_free_complexes (what the buffet charges by), the menu's
 * calendar days, the school day after today (lessons first, then weekdays that are no day off),
 * and the kitchen's order as CSV for a spreadsheet.
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

#include "log.h"
#include "moskvenok/meals.h"
#include "moskvenok/moskvenok.h"
#include "scratch_db.h"

static struct mes_config cfg;

static void test_free_mask_by_grade_and_benefit(void **state)
{
    (void)state;
    struct mes_config c = cfg;
    snprintf(c.meals.benefit_categories[0], sizeof(c.meals.benefit_categories[0]), "ОВЗ");
    snprintf(c.meals.benefit_categories[1], sizeof(c.meals.benefit_categories[1]),
             "многодетная семья");
    c.meals.nbenefit_categories = 2;
    unsigned g, b;
    /* The defaults: breakfast for grades 1-4, breakfast and lunch by a benefit. */
    assert_int_equal(mosk_free_mask(&c, 1, "", &g, &b), MOSK_BREAKFAST);
    assert_int_equal(g, MOSK_BREAKFAST);
    assert_int_equal(b, 0);
    assert_int_equal(mosk_free_mask(&c, 4, "", NULL, NULL), MOSK_BREAKFAST);
    assert_int_equal(mosk_free_mask(&c, 5, "", &g, &b), 0);
    assert_int_equal(mosk_free_mask(&c, 0, "", NULL, NULL), 0); /* in no class */
    assert_int_equal(mosk_free_mask(&c, 9, "ОВЗ", &g, &b), MOSK_BREAKFAST | MOSK_LUNCH);
    assert_int_equal(g, 0);
    assert_int_equal(b, MOSK_BREAKFAST | MOSK_LUNCH);
    assert_int_equal(mosk_free_mask(&c, 2, "многодетная семья", &g, &b),
                     MOSK_BREAKFAST | MOSK_LUNCH);
    assert_int_equal(g, MOSK_BREAKFAST);
    /* A category the region does not list (any more) gives nothing; nor does a near name. */
    assert_int_equal(mosk_free_mask(&c, 9, "сирота", &g, &b), 0);
    assert_int_equal(mosk_free_mask(&c, 9, "овз", NULL, NULL), 0);
    assert_false(mosk_benefit_listed(&c, ""));
    assert_true(mosk_benefit_listed(&c, "ОВЗ"));
    /* Nobody by grade (0 and 0), a snack by grade 5-11, lists with extra spaces. */
    c.meals.free_grade_from = c.meals.free_grade_to = 0;
    assert_int_equal(mosk_free_mask(&c, 1, "", NULL, NULL), 0);
    c.meals.free_grade_from = 5;
    c.meals.free_grade_to = 11;
    snprintf(c.meals.free_complexes, sizeof(c.meals.free_complexes), "  snack  lunch ");
    assert_int_equal(mosk_free_mask(&c, 11, "", NULL, NULL), MOSK_SNACK | MOSK_LUNCH);
    assert_int_equal(mosk_free_mask(&c, 4, "", NULL, NULL), 0);
    snprintf(c.meals.benefit_complexes, sizeof(c.meals.benefit_complexes), "%s", "");
    assert_int_equal(mosk_free_mask(&c, 1, "ОВЗ", &g, &b), 0);
    assert_int_equal(b, 0);
}

/* meals_free_mask gives what mosk_free_complexes gives (the rules the buffet charges by), for
 * students of several grades, with and without a benefit. */
static void test_free_mask_agrees_with_the_ledger_rules(void **state)
{
    (void)state;
    struct mes_config c = cfg;
    snprintf(c.meals.benefit_categories[0], sizeof(c.meals.benefit_categories[0]), "ОВЗ");
    c.meals.nbenefit_categories = 1;
    char path[64];
    struct db *db = scratch_db(&c, path);
    assert_int_equal(
        db_exec(db, "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
                    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) "
                    "VALUES (1, 1, 'school', 'Ш', 'Ш');"
                    "INSERT INTO academic_years (id, name, starts_on, ends_on) "
                    "VALUES (1, '2026/2027', '2026-09-01', '2027-08-31');"
                    "INSERT INTO classes (id, institution_id, year_id, grade, letter) VALUES "
                    "(1, 1, 1, 1, 'А'), (2, 1, 1, 4, 'А'), (3, 1, 1, 5, 'А'), (4, 1, 1, 11, 'А');"
                    "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'А', 'А'), "
                    "(2, 'Б', 'Б'), (3, 'В', 'В'), (4, 'Г', 'Г'), (5, 'Д', 'Д'), (6, 'Е', 'Е');"
                    "INSERT INTO enrollments (student_id, class_id, enrolled_on) VALUES "
                    "(1, 1, '2026-09-01'), (2, 2, '2026-09-01'), (3, 3, '2026-09-01'), "
                    "(4, 4, '2026-09-01'), (5, 3, '2026-09-01');"
                    "INSERT INTO meal_accounts (student_id, benefit) VALUES (2, 'ОВЗ'), "
                    "(3, 'ОВЗ'), (5, 'сирота');"),
        SQLITE_OK);
    static const struct {
        int64_t student;
        int grade;
        const char *benefit;
    } cases[] = {{1, 1, ""},  {2, 4, "ОВЗ"},    {3, 5, "ОВЗ"},
                 {4, 11, ""}, {5, 5, "сирота"}, {6, 0, ""}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned ledger = 99;
        assert_int_equal(mosk_free_complexes(db, &c, cases[i].student, &ledger), 0);
        assert_int_equal(mosk_free_mask(&c, cases[i].grade, cases[i].benefit, NULL, NULL), ledger);
    }
    scratch_db_remove(db, path);
}

static void test_days(void **state)
{
    (void)state;
    char d[16];
    assert_int_equal(mosk_day_add("2026-12-31", 1, d), 0);
    assert_string_equal(d, "2027-01-01");
    assert_int_equal(mosk_day_add("2028-02-28", 1, d), 0);
    assert_string_equal(d, "2028-02-29");
    assert_int_equal(mosk_day_add("2027-03-01", -1, d), 0);
    assert_string_equal(d, "2027-02-28");
    assert_int_equal(mosk_day_add("2026-12-07", 28, d), 0);
    assert_string_equal(d, "2027-01-04");
    assert_int_equal(mosk_day_add("2026-02-30", 1, d), -1);
    assert_int_equal(mosk_day_add("tomorrow", 1, d), -1);
    assert_int_equal(mosk_weekday("2026-12-07"), 1); /* a Monday */
    assert_int_equal(mosk_weekday("2026-12-05"), 6);
    assert_int_equal(mosk_weekday("2026-12-06"), 7);
    assert_int_equal(mosk_weekday("2026-13-01"), 0);
}

/* The school day after today: the first day with a lesson that is not cancelled, within four
 * weeks; without lessons, the first weekday that is no day off. */
static void test_next_school_day(void **state)
{
    (void)state;
    char path[64], d[16];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(
        db_exec(db, "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
                    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) "
                    "VALUES (1, 1, 'school', 'Ш', 'Ш'), (2, 1, 'school', 'Ш2', 'Ш2');"
                    "INSERT INTO academic_years (id, name, starts_on, ends_on) "
                    "VALUES (1, '2026/2027', '2026-09-01', '2027-08-31');"
                    "INSERT INTO periods (id, year_id, number, name, starts_on, ends_on) "
                    "VALUES (1, 1, 2, 'p', '2026-11-05', '2026-12-28');"
                    "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'Т', 'Т');"
                    "INSERT INTO classes (id, institution_id, year_id, grade, letter) "
                    "VALUES (1, 1, 1, 5, 'А'), (2, 2, 1, 5, 'А');"
                    "INSERT INTO holidays (year_id, date) VALUES (1, '2026-11-04'), "
                    "(1, '2027-01-01'), (1, '2027-01-04');"),
        SQLITE_OK);
    /* No lessons yet: the weekday after (Friday 2026-12-04 -> Monday 12-07). */
    assert_int_equal(meals_next_school_day(db, 1, "2026-12-04", d), 0);
    assert_string_equal(d, "2026-12-07");
    /* ... skipping days off: Thursday 12-31 -> Friday 01-01 off, Monday 01-04 off. */
    assert_int_equal(meals_next_school_day(db, 1, "2026-12-31", d), 0);
    assert_string_equal(d, "2027-01-05");
    assert_int_equal(meals_next_school_day(db, 1, "2026-11-03", d), 0);
    assert_string_equal(d, "2026-11-05");
    /* Lessons on Saturday 12-05 (cancelled) and Tuesday 12-08; another school's on Monday. */
    assert_int_equal(
        db_exec(db, "INSERT INTO lessons (class_id, subject_id, teacher_id, period_id, date, "
                    "number, cancelled) VALUES (1, 1, 1, 1, '2026-12-05', 1, 1), "
                    "(1, 1, 1, 1, '2026-12-08', 1, 0), (1, 1, 1, 1, '2026-12-04', 1, 0), "
                    "(2, 1, 1, 1, '2026-12-07', 1, 0);"),
        SQLITE_OK);
    assert_int_equal(meals_next_school_day(db, 1, "2026-12-04", d), 0);
    assert_string_equal(d, "2026-12-08");
    assert_int_equal(meals_next_school_day(db, 2, "2026-12-04", d), 0);
    assert_string_equal(d, "2026-12-07");
    /* More than four weeks ahead do not count: the weekday rule again. */
    assert_int_equal(meals_next_school_day(db, 1, "2026-11-05", d), 0);
    assert_string_equal(d, "2026-11-06");
    scratch_db_remove(db, path);
}

static const char *heads(const char *key)
{
    static const char *const map[][2] = {
        {"kitchen.csv.class", "Класс"},     {"kitchen.csv.kind", "Комплекс"},
        {"kitchen.csv.enrolled", "Все"},    {"kitchen.csv.expected", "Придут"},
        {"kitchen.csv.free", "Даром"},      {"kitchen.csv.paid", "Платно; оценка"},
        {"kitchen.csv.portions", "Порций"}, {"kitchen.csv.total", "Итого"},
        {"menu.kind.lunch", "Обед"},        {"menu.kind.snack", "Полдник \"сладкий\""},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], key) == 0)
            return map[i][1];
    return key;
}

static void test_order_csv(void **state)
{
    (void)state;
    json_t *order = json_loads(
        "{\"date\": \"2026-12-07\", \"classes\": [{\"class\": {\"id\": 1, \"name\": \"5А\"}, "
        "\"enrolled\": 25, \"expected\": 23, \"complexes\": [{\"kind\": \"lunch\", \"free\": 2, "
        "\"paid_estimate\": 1.3, \"portions\": 4}, {\"kind\": \"snack\", \"free\": 0, "
        "\"paid_estimate\": 0.0, \"portions\": 0}]}], \"totals\": {\"enrolled\": 25, "
        "\"expected\": 23, \"complexes\": [{\"kind\": \"lunch\", \"free\": 2, \"paid_estimate\": "
        "12.5, \"portions\": 4}]}}",
        0, NULL);
    assert_non_null(order);
    char *csv = NULL;
    size_t len = 0;
    assert_int_equal(meals_order_csv(order, heads, &csv, &len), 0);
    assert_int_equal(strlen(csv), len);
    assert_string_equal(csv, "\xEF\xBB\xBF"
                             "Класс;Комплекс;Все;Придут;Даром;\"Платно; оценка\";Порций\r\n"
                             "5А;Обед;25;23;2;1,3;4\r\n"
                             "5А;\"Полдник \"\"сладкий\"\"\";25;23;0;0,0;0\r\n"
                             "Итого;Обед;25;23;2;12,5;4\r\n");
    free(csv);
    json_decref(order);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_mask_by_grade_and_benefit),
        cmocka_unit_test(test_free_mask_agrees_with_the_ledger_rules),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_next_school_day),
        cmocka_unit_test(test_order_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
