/*
 * Unit tests of the authorization rules (authz.c) against a small world: two schools, three
 * classes, teachers, a class teacher, a medic, students and a parent. Each caller is built the
 * way a session would be (auth_load_caller) and asked about records it may or may not touch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "log.h"

static struct mes_config cfg;
static struct db *db;
static char path[64];

/* Persons: 1 admin, 2 school admin of school 1, 3 teacher of 5A (school 1), 4 class teacher
 * of 5A, 5 medic of school 1, 6 student in 5A, 7 student in 6A (school 1), 8 student in 7A
 * (school 2), 9 parent of 6, 10 teacher in school 2. Accounts have the persons' ids. */
static const char world[] =
    "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) VALUES "
    "  (1, 1, 'school', 'Школа 1', 'Ш1'), (2, 1, 'school', 'Школа 2', 'Ш2');"
    "INSERT INTO academic_years (id, name, starts_on, ends_on) VALUES "
    "  (1, '2026/2027', '2026-09-01', '2027-08-31');"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) "
    "  INSERT INTO persons (id, last_name, first_name) SELECT i, 'П' || i, 'И' FROM n;"
    "INSERT INTO classes (id, institution_id, year_id, grade, letter, class_teacher_id) VALUES "
    "  (1, 1, 1, 5, 'А', 4), (2, 1, 1, 6, 'А', NULL), (3, 2, 1, 7, 'А', NULL);"
    "INSERT INTO teaching_assignments (teacher_id, class_id, subject_id) VALUES "
    "  (3, 1, 4), (10, 3, 4);"
    "INSERT INTO enrollments (student_id, class_id, enrolled_on) VALUES "
    "  (6, 1, '2026-09-01'), (7, 2, '2026-09-01'), (8, 3, '2026-09-01');"
    "INSERT INTO guardians (guardian_id, student_id, relation) VALUES (9, 6, 'mother');"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) "
    "  INSERT INTO accounts (id, person_id, login) SELECT i, i, 'u' || i FROM n;"
    "INSERT INTO role_grants (account_id, role, institution_id) VALUES "
    "  (1, 'admin', NULL), (2, 'school_admin', 1), (3, 'teacher', 1), (4, 'teacher', 1), "
    "  (4, 'class_teacher', 1), (5, 'medic', 1), (6, 'student', NULL), (7, 'student', NULL), "
    "  (8, 'student', NULL), (9, 'parent', NULL), (10, 'teacher', 2);";

static int setup(void **state)
{
    (void)state;
    char err[256];
    snprintf(path, sizeof(path), "/tmp/mes-test-authz-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    db = db_open(path, &cfg, err, sizeof(err));
    if (db == NULL || db_migrate(db, 0, err, sizeof(err)) != 0 || db_exec(db, world) != SQLITE_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_close(db);
    char p[80];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    return 0;
}

/* The decision for `who` (account = person id) on student `student`: 1, 0 or -1. */
static int student(int64_t who, int64_t student_id, enum authz_op op)
{
    struct req r = {.db = db};
    assert_int_equal(auth_load_caller(&r, who, who), 0);
    return authz_student(&r, student_id, op);
}

/* The status an *_or_respond check answers (0 when allowed). */
static int class_status(int64_t who, int64_t class_id, enum authz_op op)
{
    struct req r = {.db = db};
    assert_int_equal(auth_load_caller(&r, who, who), 0);
    int rc = authz_class_or_respond(&r, class_id, op);
    json_decref(r.out_json);
    return rc == 0 ? 0 : r.status;
}

static int institution_status(int64_t who, int64_t inst, enum authz_op op)
{
    struct req r = {.db = db};
    assert_int_equal(auth_load_caller(&r, who, who), 0);
    int rc = authz_institution_or_respond(&r, inst, op);
    json_decref(r.out_json);
    return rc == 0 ? 0 : r.status;
}

static void test_students(void **state)
{
    (void)state;
    assert_int_equal(student(1, 8, AUTHZ_WRITE), 1); /* region admin */
    assert_int_equal(student(2, 7, AUTHZ_WRITE), 1); /* school admin, own school */
    assert_int_equal(student(2, 8, AUTHZ_READ), 0);  /* ... not another school */
    assert_int_equal(student(3, 6, AUTHZ_READ), 1);  /* teacher of 5A */
    assert_int_equal(student(3, 7, AUTHZ_READ), 0);  /* not of 6A */
    assert_int_equal(student(3, 6, AUTHZ_WRITE), 0); /* teachers do not edit profiles */
    assert_int_equal(student(4, 6, AUTHZ_READ), 1);  /* class teacher of 5A */
    assert_int_equal(student(5, 7, AUTHZ_READ), 1);  /* medic of school 1 */
    assert_int_equal(student(5, 8, AUTHZ_READ), 0);  /* not of school 2 */
    assert_int_equal(student(6, 6, AUTHZ_READ), 1);  /* self */
    assert_int_equal(student(6, 7, AUTHZ_READ), 0);  /* a classmate of another class */
    assert_int_equal(student(9, 6, AUTHZ_READ), 1);  /* parent, own child */
    assert_int_equal(student(9, 7, AUTHZ_READ), 0);  /* another family's child */
    assert_int_equal(student(9, 6, AUTHZ_WRITE), 0);
    assert_int_equal(student(10, 6, AUTHZ_READ), 0); /* teacher of another school */
    assert_int_equal(student(10, 8, AUTHZ_READ), 1);
    assert_int_equal(student(1, 99, AUTHZ_READ), -1); /* no such student */
}

static void test_classes_and_institutions(void **state)
{
    (void)state;
    assert_int_equal(class_status(2, 1, AUTHZ_WRITE), 0);
    assert_int_equal(class_status(2, 3, AUTHZ_WRITE), 403);
    assert_int_equal(class_status(2, 3, AUTHZ_READ), 403);
    assert_int_equal(class_status(3, 1, AUTHZ_READ), 0);
    assert_int_equal(class_status(3, 2, AUTHZ_READ), 403);
    assert_int_equal(class_status(3, 1, AUTHZ_WRITE), 403);
    assert_int_equal(class_status(4, 1, AUTHZ_READ), 0);
    assert_int_equal(class_status(9, 1, AUTHZ_READ), 403);
    assert_int_equal(class_status(1, 77, AUTHZ_READ), 404);
    assert_int_equal(institution_status(2, 1, AUTHZ_WRITE), 0);
    assert_int_equal(institution_status(2, 2, AUTHZ_WRITE), 403);
    assert_int_equal(institution_status(3, 1, AUTHZ_READ), 0);
    assert_int_equal(institution_status(3, 1, AUTHZ_WRITE), 403);
    assert_int_equal(institution_status(9, 1, AUTHZ_READ), 403); /* parents: region-wide grant */
    assert_int_equal(institution_status(1, 2, AUTHZ_WRITE), 0);
    assert_int_equal(institution_status(1, 9, AUTHZ_READ), 404);
}

static void test_grants(void **state)
{
    (void)state;
    struct req r = {.db = db};
    assert_int_equal(auth_load_caller(&r, 4, 4), 0);
    assert_true(caller_has(&r, ROLE_CLASS_TEACHER, 1));
    assert_false(caller_has(&r, ROLE_CLASS_TEACHER, 2));
    assert_false(caller_is_admin(&r));
    assert_int_equal(r.caller.roles, ROLE_TEACHER | ROLE_CLASS_TEACHER);
    assert_int_equal(auth_load_caller(&r, 1, 1), 0);
    assert_true(caller_is_admin(&r));
    assert_true(caller_has(&r, ROLE_ADMIN, 2));
}

int main(void)
{
    log_set_quiet(1);
    if (sodium_init() < 0)
        return 1;
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_students),
        cmocka_unit_test(test_classes_and_institutions),
        cmocka_unit_test(test_grants),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
