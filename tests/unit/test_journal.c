/*
 * Unit tests of journal logic: mark values on the region's scale, weighted averages, and
 * generating dated lessons from a weekly timetable around weekends and holidays.
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
#include <unistd.h>

#include <civetweb.h>

#include "cache/cache.h"
#include "http.h"
#include "journal/journal.h"
#include "log.h"
#include "node.h"
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
    assert_int_equal(csv("А;1\n  ;2\n"), -1); /* a title of spaces only */
    assert_string_equal(err, "line 2: the title must have 1-500 characters");
    assert_int_equal(csv(""), -1);
    assert_int_equal(csv("А;1\nБ;1\nВ;1\nГ;1\nД;1\nЕ;1\nЖ;1\nЗ;1\nИ;1\n"), -1);
    assert_non_null(strstr(err, "more than 8"));
}

/* A class 5A of school 1 with two students, a teacher, the first term and two history lessons
 * (subject 4) with a mark each; the second lesson has homework. Person 1 is the region admin. */
static const char grid_world[] =
    "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) VALUES "
    "  (1, 1, 'school', 'Школа 1', 'Ш1');"
    "INSERT INTO academic_years (id, name, starts_on, ends_on) VALUES "
    "  (1, '2026/2027', '2026-09-01', '2027-08-31');"
    "INSERT INTO periods (id, year_id, number, name, starts_on, ends_on) VALUES "
    "  (1, 1, 1, '1 четверть', '2026-09-01', '2026-10-31');"
    "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'Админ', 'А'), "
    "  (2, 'Учитель', 'У'), (3, 'Иванов', 'И'), (4, 'Петров', 'П');"
    "INSERT INTO classes (id, institution_id, year_id, grade, letter) VALUES (1, 1, 1, 5, 'А');"
    "INSERT INTO enrollments (student_id, class_id, enrolled_on) VALUES "
    "  (3, 1, '2026-09-01'), (4, 1, '2026-09-01');"
    "INSERT INTO control_forms (id, code, name, weight) VALUES (1, 'oral', 'Устный', 1);"
    "INSERT INTO lessons (id, class_id, subject_id, teacher_id, period_id, date, number) VALUES "
    "  (1, 1, 4, 2, 1, '2026-09-02', 1), (2, 1, 4, 2, 1, '2026-09-03', 1);"
    "INSERT INTO marks (lesson_id, student_id, value, control_form_id, weight, created_by) "
    "  VALUES (1, 3, '5', 1, 1, 2), (2, 4, '4', 1, 1, 2);"
    "INSERT INTO homework (lesson_id, text, due_date, created_by) VALUES "
    "  (2, 'Параграф 3', '2026-09-05', 2);";

/* Stands in for json_object with ten arguments (a homework in the grid's lesson query): fails
 * the step that computes it, as a storage failure in the middle of a loop would. */
static void failing_json_object(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_error(ctx, "injected failure", -1);
}

static const struct route *route_named(const char *name)
{
    for (int i = 0; i < http_route_count(); i++)
        if (strcmp(http_route_at(i)->name, name) == 0)
            return http_route_at(i);
    fail_msg("no route %s", name);
    return NULL;
}

static size_t cache_bytes(struct view_cache *c)
{
    long long hits, misses;
    size_t bytes, entries;
    view_cache_stats(c, &hits, &misses, &bytes, &entries);
    return bytes;
}

/* The grid handler itself answers 500 (not a shorter grid with 200) when a step fails after
 * rows were read, and the read cache keeps nothing; without the failure it answers the whole
 * grid and caches it. */
static void test_grid_step_failure_answers_500(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, grid_world), SQLITE_OK);
    static struct node node;
    node.cfg = cfg;
    node.cache = view_cache_create(1 << 20);
    assert_non_null(node.cache);
    struct mg_request_info ri = {.request_method = "GET",
                                 .local_uri = "/api/v1/journal",
                                 .query_string = "class=1&subject=4&period=1"};
    const struct route *rt = route_named("journal");
    struct req r = {.node = &node, .ri = &ri, .route = rt, .db = db};
    r.caller = (struct caller){.account_id = 1, .person_id = 1, .roles = ROLE_ADMIN, .ngrants = 1};
    r.caller.grants[0] = (struct grant){.role = ROLE_ADMIN, .institution_id = 0};
    sqlite3 *h = db_handle(db);
    assert_int_equal(sqlite3_create_function(h, "json_object", 10, SQLITE_UTF8, NULL,
                                             failing_json_object, NULL, NULL),
                     SQLITE_OK);
    db_failure_clear();
    assert_int_equal(db_begin_read(db), SQLITE_OK);
    assert_int_equal(rt->handler(&r), 500);
    assert_int_equal(r.status, 500);
    db_rollback(db);
    assert_int_equal(cache_bytes(node.cache), 0);
    json_decref(r.out_json);
    /* Without the failure (a connection of its own): the whole grid, and it is cached. */
    char err[256];
    struct db *db2 = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(db2);
    db_failure_clear();
    struct req ok = r;
    ok.db = db2;
    ok.out_json = NULL;
    ok.out_data = NULL;
    ok.status = 0;
    assert_int_equal(db_begin_read(db2), SQLITE_OK);
    assert_int_equal(rt->handler(&ok), 200);
    db_rollback(db2);
    db_close(db2);
    assert_int_equal(db_failure(), 0);
    assert_true(cache_bytes(node.cache) > 0);
    json_t *grid = json_loadb(ok.out_data, ok.out_len, 0, NULL);
    assert_non_null(grid);
    assert_int_equal(json_array_size(json_object_get(grid, "lessons")), 2);
    assert_int_equal(json_array_size(json_object_get(grid, "students")), 2);
    json_decref(grid);
    if (ok.out_owned)
        free((void *)ok.out_data);
    view_cache_destroy(node.cache);
    scratch_db_remove(db, path);
}

/* The diary has no cap: a month of 27 days with 25 lessons each (more than the 512 it once
 * stopped at) comes whole, with the mark of the last lesson. */
static void test_diary_has_no_cap(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, grid_world), SQLITE_OK);
    assert_int_equal(
        db_exec(db, "WITH RECURSIVE d(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM d WHERE i < 30),"
                    " n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 25) "
                    "INSERT INTO lessons (class_id, subject_id, teacher_id, period_id, date, "
                    "number) SELECT 1, 4, 2, 1, printf('2026-09-%02d', i), k FROM d, n;"
                    "INSERT INTO marks (lesson_id, student_id, value, control_form_id, weight, "
                    "created_by) SELECT id, 3, '3', 1, 1, 2 FROM lessons WHERE date = "
                    "'2026-09-30' AND number = 25;"),
        SQLITE_OK);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM lessons"), 2 + 27 * 25);
    static struct node node;
    node.cfg = cfg;
    struct mg_request_info ri = {.request_method = "GET",
                                 .local_uri = "/api/v1/students/3/diary",
                                 .query_string = "from=2026-09-01&to=2026-09-30"};
    const struct route *rt = route_named("diary");
    struct req r = {.node = &node, .ri = &ri, .route = rt, .db = db, .params = {3}};
    r.caller = (struct caller){.account_id = 1, .person_id = 1, .roles = ROLE_ADMIN, .ngrants = 1};
    r.caller.grants[0] = (struct grant){.role = ROLE_ADMIN, .institution_id = 0};
    db_failure_clear();
    assert_int_equal(db_begin_read(db), SQLITE_OK);
    assert_int_equal(rt->handler(&r), 200);
    db_rollback(db);
    json_t *days = json_object_get(r.out_json, "days");
    size_t lessons = 0;
    for (size_t i = 0; i < json_array_size(days); i++)
        lessons += json_array_size(json_object_get(json_array_get(days, i), "lessons"));
    assert_int_equal(lessons, 2 + 27 * 25);
    json_t *last_day = json_array_get(days, json_array_size(days) - 1);
    json_t *last_lessons = json_object_get(last_day, "lessons");
    json_t *last = json_array_get(last_lessons, json_array_size(last_lessons) - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "number")), 25);
    assert_int_equal(json_array_size(json_object_get(last, "marks")), 1);
    json_decref(r.out_json);
    scratch_db_remove(db, path);
}

/* Filing an absence notice justifies the student's absences through indexes: the student's
 * attendance entries and each one's lesson by key, never a scan of the region's lessons. And it
 * justifies exactly the absences of the range. */
static void test_notice_justify_uses_indexes(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, grid_world), SQLITE_OK);
    char sql[512];
    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", notices_justify_sql);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    bool by_student = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (strncmp(detail, "SCAN", 4) == 0)
            fail_msg("a scan in the notice's plan: %s", detail);
        by_student |= strstr(detail, "attendance_by_student") != NULL;
    }
    sqlite3_finalize(st);
    assert_true(by_student);
    /* Student 3 absent at both lessons, student 4 ill at the second: a notice of student 3
     * for 3 September justifies only the second lesson's absence of student 3. */
    assert_int_equal(db_exec(db, "INSERT INTO attendance (lesson_id, student_id, status, "
                                 "set_by) VALUES (1, 3, 'absent', 2), (2, 3, 'absent', 2), "
                                 "(2, 4, 'ill', 2)"),
                     SQLITE_OK);
    assert_int_equal(
        db_run(db, notices_justify_sql,
               DB_ARGS(DB_INT(":s", 3), DB_TEXT(":f", "2026-09-03"), DB_TEXT(":t", "2026-09-04"))),
        SQLITE_DONE);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM attendance WHERE justified"), 1);
    assert_int_equal(scratch_scalar(db, "SELECT justified FROM attendance WHERE lesson_id = 2 "
                                        "AND student_id = 3"),
                     1);
    scratch_db_remove(db, path);
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
        cmocka_unit_test(test_grid_step_failure_answers_500),
        cmocka_unit_test(test_diary_has_no_cap),
        cmocka_unit_test(test_notice_justify_uses_indexes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
