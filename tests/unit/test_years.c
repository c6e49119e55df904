/*
 * Unit tests of an academic year's calendar (node/school/years.c): where a configured day off
 * falls in a year, the checks of a period's corrected dates, a year's list of days off made once
 * from the configuration (at creation or at the next start), and lesson generation reading that
 * list rather than the configuration once the region admin changed it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "journal/journal.h"
#include "log.h"
#include "school/school.h"
#include "scratch_db.h"

static struct mes_config cfg;

static void test_holiday_date(void **state)
{
    (void)state;
    char d[11];
    assert_true(school_holiday_date(11, 4, "2026-09-01", "2027-08-31", d));
    assert_string_equal(d, "2026-11-04");
    assert_true(school_holiday_date(2, 23, "2026-09-01", "2027-08-31", d));
    assert_string_equal(d, "2027-02-23");
    /* A year that ends in June has no August day off; 29 February only in a leap year. */
    assert_false(school_holiday_date(8, 15, "2026-09-01", "2027-06-30", d));
    assert_false(school_holiday_date(2, 29, "2026-09-01", "2027-08-31", d));
    assert_true(school_holiday_date(2, 29, "2027-09-01", "2028-08-31", d));
    assert_string_equal(d, "2028-02-29");
    /* A year from January: the day in its one calendar year. */
    assert_true(school_holiday_date(3, 8, "2027-01-10", "2027-12-20", d));
    assert_string_equal(d, "2027-03-08");
    assert_false(school_holiday_date(1, 1, "2027-01-10", "2027-12-20", d));
}

static void test_period_check(void **state)
{
    (void)state;
    const char *ys = "2026-09-01", *ye = "2027-08-31";
    assert_null(school_period_check(ys, ye, NULL, "2026-11-05", "2026-09-01", "2026-10-26"));
    assert_null(
        school_period_check(ys, ye, "2026-10-26", "2027-01-09", "2026-10-27", "2027-01-08"));
    assert_null(school_period_check(ys, ye, NULL, NULL, "2027-08-31", "2027-08-31"));
    assert_string_equal(school_period_check(ys, ye, NULL, NULL, "2026-10-02", "2026-10-01"),
                        "period_order");
    assert_string_equal(school_period_check(ys, ye, NULL, NULL, "2026-08-31", "2026-10-01"),
                        "period_outside_year");
    assert_string_equal(school_period_check(ys, ye, NULL, NULL, "2026-09-01", "2027-09-01"),
                        "period_outside_year");
    assert_string_equal(school_period_check(ys, ye, "2026-10-26", NULL, "2026-10-26", "2026-12-01"),
                        "period_overlap");
    assert_string_equal(school_period_check(ys, ye, NULL, "2026-11-05", "2026-09-01", "2026-11-05"),
                        "period_overlap");
}

static void test_year_days_off_drive_lesson_generation(void **state)
{
    (void)state;
    char path[64], err[256];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    int64_t year = school_create_year(db, &cfg, 2026, err, sizeof(err));
    assert_true(year > 0);
    /* The configuration's five federal days, once. */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM holidays"), 5);
    assert_int_equal(school_seed_holidays(db, &cfg, year), 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM holidays"), 5);
    /* The region admin drops 23 February and adds 2 March (a Tuesday and a Tuesday). */
    assert_int_equal(db_exec(db, "DELETE FROM holidays WHERE date = '2027-02-23';"
                                 "INSERT INTO holidays (year_id, date) "
                                 "SELECT id, '2027-03-02' FROM academic_years;"),
                     SQLITE_OK);
    assert_int_equal(school_seed_holidays(db, &cfg, year), 0); /* a made list stays */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM holidays"), 5);
    assert_int_equal(
        db_exec(db, "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
                    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) "
                    "VALUES (1, 1, 'school', 'Ш', 'Ш');"
                    "INSERT INTO periods (id, year_id, number, name, starts_on, ends_on) "
                    "SELECT 70, id, 9, 'p', '2027-02-22', '2027-03-07' FROM academic_years;"
                    "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'Т', 'Т');"
                    "INSERT INTO classes (id, institution_id, year_id, grade, letter) "
                    "SELECT 1, 1, id, 5, 'А' FROM academic_years;"
                    "INSERT INTO timetable (class_id, weekday, number, subject_id, teacher_id) "
                    "VALUES (1, 2, 1, 4, 1);"),
        SQLITE_OK);
    /* Tuesdays 23.02 (no longer off) and 02.03 (now off): one lesson, on 23 February. */
    assert_int_equal(journal_generate_lessons(db, &cfg, 1, 70), 1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM lessons WHERE date = '2027-02-23'"),
                     1);
    assert_int_equal(db_commit(db), SQLITE_OK);
    scratch_db_remove(db, path);
}

static void test_years_made_elsewhere_get_their_list_at_start(void **state)
{
    (void)state;
    char path[64], err[256];
    struct db *db = scratch_db(&cfg, path);
    /* A year made without its list (as an import would), then the start's seeding. */
    assert_int_equal(db_exec(db, "INSERT INTO academic_years (id, name, starts_on, ends_on) "
                                 "VALUES (5, '2027/2028', '2027-09-01', '2028-06-30')"),
                     SQLITE_OK);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(school_storage_init(db, &cfg, err, sizeof(err)), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM holidays WHERE year_id = 5"), 5);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM holiday_years"), 1);
    /* An emptied list stays empty at the next start. */
    assert_int_equal(db_exec(db, "DELETE FROM holidays"), SQLITE_OK);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(school_storage_init(db, &cfg, err, sizeof(err)), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM holidays"), 0);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_holiday_date),
        cmocka_unit_test(test_period_check),
        cmocka_unit_test(test_year_days_off_drive_lesson_generation),
        cmocka_unit_test(test_years_made_elsewhere_get_their_list_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
