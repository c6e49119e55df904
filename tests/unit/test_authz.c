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
    assert_int_equal(class_status(1, 3, AUTHZ_WRITE), 0);
    assert_int_equal(class_status(4, 2, AUTHZ_READ), 403); /* class teacher of 5A, not 6A */
    assert_int_equal(class_status(4, 1, AUTHZ_WRITE), 403);
    assert_int_equal(class_status(10, 1, AUTHZ_READ), 403); /* teacher of another school */
    assert_int_equal(class_status(10, 3, AUTHZ_READ), 0);
    assert_int_equal(class_status(5, 1, AUTHZ_READ), 0); /* the school's medic finds students */
    assert_int_equal(class_status(5, 1, AUTHZ_WRITE), 403);
    assert_int_equal(class_status(5, 3, AUTHZ_READ), 403); /* not in another school */
    assert_int_equal(class_status(6, 1, AUTHZ_READ), 403);
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

/* Runs authz_student_or_respond for `r` and returns the status it recorded (0 when allowed),
 * checking the error object's code on a denial. */
static int student_status(struct req *r, int64_t student_id, enum authz_op op)
{
    r->status = 0;
    int rc = authz_student_or_respond(r, student_id, op);
    int status = r->status;
    if (rc == 0) {
        assert_int_equal(status, 0);
        assert_null(r->out_json);
    } else {
        assert_int_equal(rc, -1);
        json_t *e = json_object_get(r->out_json, "error");
        assert_string_equal(json_string_value(json_object_get(e, "code")),
                            status == 404 ? "not_found" : "forbidden");
        json_decref(r->out_json);
        r->out_json = NULL;
    }
    return status;
}

static int student_status_of(int64_t who, int64_t student_id, enum authz_op op)
{
    struct req r = {.db = db};
    assert_int_equal(auth_load_caller(&r, who, who), 0);
    return student_status(&r, student_id, op);
}

static void test_student_or_respond(void **state)
{
    (void)state;
    assert_int_equal(student_status_of(1, 8, AUTHZ_READ), 0);
    assert_int_equal(student_status_of(1, 99, AUTHZ_READ), 404);
    assert_int_equal(student_status_of(2, 6, AUTHZ_WRITE), 0);
    assert_int_equal(student_status_of(2, 8, AUTHZ_READ), 403);
    assert_int_equal(student_status_of(3, 6, AUTHZ_READ), 0);
    assert_int_equal(student_status_of(3, 8, AUTHZ_READ), 403);
    assert_int_equal(student_status_of(4, 7, AUTHZ_READ), 403); /* class teacher, not their class */
    assert_int_equal(student_status_of(5, 6, AUTHZ_READ), 0);
    assert_int_equal(student_status_of(5, 6, AUTHZ_WRITE), 403);
    assert_int_equal(student_status_of(6, 6, AUTHZ_READ), 0);
    assert_int_equal(student_status_of(6, 8, AUTHZ_READ), 403);
    assert_int_equal(student_status_of(6, 6, AUTHZ_WRITE), 403); /* not their own profile either */
    assert_int_equal(student_status_of(9, 6, AUTHZ_READ), 0);
    assert_int_equal(student_status_of(9, 8, AUTHZ_READ), 403);
    /* A person who is not enrolled anywhere is no student: 404 even for the admin. */
    assert_int_equal(student_status_of(1, 9, AUTHZ_READ), 404);
}

static void test_hand_built_callers(void **state)
{
    (void)state;
    /* Grants decide, scoped to institutions; the roles mask alone grants nothing. */
    struct req r = {.db = db};
    r.caller.account_id = 100;
    r.caller.person_id = 100;
    r.caller.roles = ROLE_SCHOOL_ADMIN;
    r.caller.grants[0] = (struct grant){ROLE_SCHOOL_ADMIN, 2};
    r.caller.ngrants = 1;
    assert_int_equal(student_status(&r, 8, AUTHZ_WRITE), 0);
    assert_int_equal(student_status(&r, 6, AUTHZ_READ), 403);

    r.caller.grants[0] = (struct grant){ROLE_MEDIC, 1};
    r.caller.roles = ROLE_MEDIC;
    assert_int_equal(student_status(&r, 7, AUTHZ_READ), 0);
    assert_int_equal(student_status(&r, 8, AUTHZ_READ), 403);

    r.caller.roles = ROLE_ADMIN;
    r.caller.ngrants = 0;
    assert_int_equal(student_status(&r, 8, AUTHZ_READ), 403);
    assert_false(caller_is_admin(&r));
    r.caller.grants[0] = (struct grant){ROLE_ADMIN, 0};
    r.caller.ngrants = 1;
    assert_true(caller_is_admin(&r));
    assert_int_equal(student_status(&r, 8, AUTHZ_READ), 0);

    /* An anonymous caller (no person) sees nobody. */
    struct req anon = {.db = db};
    assert_int_equal(student_status(&anon, 6, AUTHZ_READ), 403);

    /* A teacher grant in the right school is not enough without teaching the class. */
    struct req t = {.db = db};
    t.caller.account_id = t.caller.person_id = 10; /* teaches 7A of school 2 */
    t.caller.roles = ROLE_TEACHER;
    t.caller.grants[0] = (struct grant){ROLE_TEACHER, 1};
    t.caller.ngrants = 1;
    assert_int_equal(student_status(&t, 6, AUTHZ_READ), 403);
    assert_int_equal(student_status(&t, 8, AUTHZ_READ), 403); /* taught, but not granted there */
}

static int person_status(int64_t who, int64_t person_id, enum authz_op op)
{
    struct req r = {.db = db};
    assert_int_equal(auth_load_caller(&r, who, who), 0);
    int rc = authz_person_or_respond(&r, person_id, op);
    json_decref(r.out_json);
    return rc == 0 ? 0 : r.status;
}

static void test_persons(void **state)
{
    (void)state;
    assert_int_equal(person_status(1, 10, AUTHZ_WRITE), 0);  /* region admin */
    assert_int_equal(person_status(2, 3, AUTHZ_WRITE), 0);   /* school admin: their teacher */
    assert_int_equal(person_status(2, 9, AUTHZ_WRITE), 0);   /* ... a parent of their student */
    assert_int_equal(person_status(2, 10, AUTHZ_READ), 403); /* ... not another school's staff */
    assert_int_equal(person_status(2, 8, AUTHZ_READ), 403);
    assert_int_equal(person_status(9, 9, AUTHZ_READ), 0); /* oneself */
    assert_int_equal(person_status(9, 9, AUTHZ_WRITE), 403);
    assert_int_equal(person_status(9, 6, AUTHZ_READ), 0); /* own child, as a student */
    assert_int_equal(person_status(9, 3, AUTHZ_READ), 403);
    assert_int_equal(person_status(3, 6, AUTHZ_READ), 0);   /* a student they teach */
    assert_int_equal(person_status(3, 9, AUTHZ_READ), 403); /* not the student's parent */
    assert_int_equal(person_status(1, 999, AUTHZ_READ), 404);
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
        cmocka_unit_test(test_student_or_respond),
        cmocka_unit_test(test_hand_built_callers),
        cmocka_unit_test(test_persons),
        cmocka_unit_test(test_grants),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
