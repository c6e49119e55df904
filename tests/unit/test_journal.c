/*
 * Unit tests of journal logic: mark values on the region's scale, weighted averages, and
 * generating dated lessons from a weekly timetable around weekends and holidays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal/journal.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;

static void test_mark_values(void **state)
{
    (void)state;
    assert_true(journal_mark_valid(&cfg, "2"));
    assert_true(journal_mark_valid(&cfg, "5"));
    assert_false(journal_mark_valid(&cfg, "1"));
    assert_false(journal_mark_valid(&cfg, "6"));
    assert_false(journal_mark_valid(&cfg, "4+"));
    assert_false(journal_mark_valid(&cfg, ""));
    assert_false(journal_mark_valid(&cfg, "-3"));
    assert_true(journal_mark_valid(&cfg, "pass"));
    struct mes_config ten = cfg;
    ten.grading.min = 1;
    ten.grading.max = 10;
    ten.grading.pass_fail = false;
    assert_true(journal_mark_valid(&ten, "10"));
    assert_true(journal_mark_valid(&ten, "1"));
    assert_false(journal_mark_valid(&ten, "pass"));
}

static void test_weighted_average(void **state)
{
    (void)state;
    struct average a = {0};
    assert_true(average_value(&a) < 0);
    average_add(&a, "5", 3); /* control work */
    average_add(&a, "3", 1); /* oral */
    average_add(&a, "pass", 2);
    /* (5*3 + 3*1) / (3 + 1) = 4.5 */
    assert_float_equal(average_value(&a), 4.5, 1e-9);
    average_add(&a, "4", 2);
    /* (15 + 3 + 8) / 6 = 4.333... -> 4.33 */
    assert_float_equal(average_value(&a), 4.33, 1e-9);
}

static void test_generate_lessons(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    /* A period from Monday 2027-02-22 to Sunday 2027-03-14, with 02-23 and 03-08 holidays;
     * lessons on Mondays (two) and Tuesdays (one). */
    assert_int_equal(
        db_exec(db, "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
                    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) "
                    "VALUES (1, 1, 'school', 'Ш', 'Ш');"
                    "INSERT INTO academic_years (id, name, starts_on, ends_on) "
                    "VALUES (1, '2026/2027', '2026-09-01', '2027-08-31');"
                    "INSERT INTO periods (id, year_id, number, name, starts_on, ends_on) "
                    "VALUES (7, 1, 3, 'p', '2027-02-22', '2027-03-14');"
                    "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'Т', 'Т');"
                    "INSERT INTO classes (id, institution_id, year_id, grade, letter) "
                    "VALUES (1, 1, 1, 5, 'А');"
                    "INSERT INTO timetable (class_id, weekday, number, subject_id, teacher_id) "
                    "VALUES (1, 1, 1, 4, 1), (1, 1, 2, 4, 1), (1, 2, 1, 1, 1);"),
        SQLITE_OK);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    /* Mondays 22.02, 01.03, 08.03 (holiday), Tuesdays 23.02 (holiday), 02.03, 09.03:
     * 2 Mondays x 2 + 2 Tuesdays x 1 = 6 lessons. */
    assert_int_equal(journal_generate_lessons(db, &cfg, 1, 7), 6);
    assert_int_equal(journal_generate_lessons(db, &cfg, 1, 7), 0); /* idempotent */
    assert_int_equal(db_commit(db), SQLITE_OK);
    sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM lessons WHERE date IN ('2027-02-23', "
                                   "'2027-03-08') OR strftime('%w', date) IN ('0', '6')");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_reset(st);
    scratch_db_remove(db, path);
}

static struct plan_topic topics[8];
static char err[160];

static int csv(const char *text)
{
    return plan_parse_csv(text, strlen(text), topics, 8, err, sizeof(err));
}

static void test_plan_csv(void **state)
{
    (void)state;
    assert_int_equal(csv("№;Тема;Часы\n1;Натуральные числа;2\n2;Дроби;3\n"), 2);
    assert_string_equal(topics[0].title, "Натуральные числа");
    assert_int_equal(topics[1].hours, 3);
    /* Two columns, commas, CRLF, a byte order mark, quotes with a separator and "" inside. */
    assert_int_equal(csv("\xEF\xBB\xBF\"Дроби, \"\"обыкновенные\"\"\",4\r\nУравнения,1\r\n"), 2);
    assert_string_equal(topics[0].title, "Дроби, \"обыкновенные\"");
    assert_int_equal(topics[0].hours, 4);
    assert_int_equal(csv("Тема\tЧасы\nГеометрия\t5\n\nИтог\t1"), 2);
    /* Errors name the line. */
    assert_int_equal(csv("Тема;Часы\nА;2\nБ;много\n"), -1);
    assert_string_equal(err, "line 3: hours must be a whole number 1-50");
    assert_int_equal(csv("А;0\n"), -1);
    assert_int_equal(csv("А;2;3;4\n"), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_int_equal(csv("\"А;2\n"), -1);
    assert_non_null(strstr(err, "unterminated"));
    assert_int_equal(csv(";2\n"), -1);
    assert_int_equal(csv(""), -1);
    assert_int_equal(csv("А;1\nБ;1\nВ;1\nГ;1\nД;1\nЕ;1\nЖ;1\nЗ;1\nИ;1\n"), -1);
    assert_non_null(strstr(err, "more than 8"));
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mark_values),
        cmocka_unit_test(test_weighted_average),
        cmocka_unit_test(test_generate_lessons),
        cmocka_unit_test(test_plan_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
