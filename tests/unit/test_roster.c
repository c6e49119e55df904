/*
 * Unit tests of the roster import (node/roster/): the CSV reader (quotes, doubled quotes, line
 * breaks inside quotes, CRLF, a byte order mark, Windows-1251, the separator sniffed), the
 * OneRoster reader's errors with file and line, and the apply on a scratch database: import
 * twice changes nothing, a move keeps the marks, leavers, delta files, tobedeleted and
 * --skip-invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "roster/roster.h"
#include "scratch_db.h"

static char *text_copy(const char *s)
{
    char *p = strdup(s);
    assert_non_null(p);
    return p;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

static void test_csv_quotes_newlines_crlf(void **state)
{
    (void)state;
    struct roster_csv c;
    const char *text = "a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"two\r\nlines\"\r\n\r\n1,,3";
    assert_int_equal(roster_csv_open(&c, text_copy(text), strlen(text), 0), 0);
    assert_int_equal(c.sep, ',');
    long line;
    const char *code;
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_int_equal(line, 1);
    assert_int_equal(c.nfields, 3);
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_int_equal(line, 2);
    assert_string_equal(c.fields[0], "x, y");
    assert_string_equal(c.fields[1], "he said \"hi\"");
    assert_string_equal(c.fields[2], "two\r\nlines");
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_int_equal(line, 5); /* after the quoted line break and the empty line */
    assert_int_equal(c.nfields, 3);
    assert_string_equal(c.fields[1], "");
    assert_string_equal(c.fields[2], "3");
    assert_int_equal(roster_csv_next(&c, &line, &code), 0);
    roster_csv_close(&c);
}

static void test_csv_bad_quotes(void **state)
{
    (void)state;
    struct roster_csv c;
    const char *text = "a,b\n\"x\"y,z\nq,\"open\n";
    assert_int_equal(roster_csv_open(&c, text_copy(text), strlen(text), ','), 0);
    long line;
    const char *code = NULL;
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_int_equal(roster_csv_next(&c, &line, &code), -1);
    assert_string_equal(code, "bad_quote");
    assert_int_equal(line, 2);
    assert_int_equal(roster_csv_next(&c, &line, &code), -1); /* the unclosed quote */
    assert_int_equal(line, 3);
    assert_int_equal(roster_csv_next(&c, &line, &code), 0);
    roster_csv_close(&c);
}

static void test_csv_bom_and_semicolons(void **state)
{
    (void)state;
    struct roster_csv c;
    const char *text = "\xef\xbb\xbfШкола;Класс;ФИО\nШкола № 1;5А;\"Иванов; Иван\"\n";
    assert_int_equal(roster_csv_open(&c, text_copy(text), strlen(text), 0), 0);
    assert_int_equal(c.encoding, ROSTER_UTF8_BOM);
    assert_int_equal(c.sep, ';');
    long line;
    const char *code;
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_string_equal(c.fields[0], "Школа");
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_string_equal(c.fields[2], "Иванов; Иван");
    roster_csv_close(&c);
}

static void test_csv_windows_1251(void **state)
{
    (void)state;
    struct roster_csv c;
    /* «Иванов,5А» in Windows-1251 */
    const char text[] = "\xc8\xe2\xe0\xed\xee\xe2,5\xc0\n";
    assert_int_equal(roster_csv_open(&c, text_copy(text), strlen(text), 0), 0);
    assert_int_equal(c.encoding, ROSTER_CP1251);
    long line;
    const char *code;
    assert_int_equal(roster_csv_next(&c, &line, &code), 1);
    assert_string_equal(c.fields[0], "Иванов");
    assert_string_equal(c.fields[1], "5А");
    roster_csv_close(&c);
    /* a NUL inside is no text at all */
    char *bin = malloc(4);
    memcpy(bin, "a\0b\n", 4);
    assert_int_equal(roster_csv_open(&c, bin, 4, 0), -1);
}

/* ---- OneRoster sets -------------------------------------------------------------------------- */

#define MANIFEST                                                                                   \
    "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\n"            \
    "file.academicSessions,bulk\nfile.courses,bulk\nfile.classes,bulk\nfile.users,bulk\n"          \
    "file.enrollments,bulk\nfile.demographics,bulk\n"
#define ORGS                                                                                       \
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"                     \
    "d1,,,Район,district,,\ns1,,,МБОУ СОШ № 1,school,Школа № 1,d1\n"
#define SESSIONS                                                                                   \
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n"  \
    "y1,,,2026/2027,schoolYear,2026-09-01,2027-08-31,,2027\n"
#define COURSES                                                                                    \
    "sourcedId,status,dateLastModified,schoolYearSourcedId,title,orgSourcedId,subjectCodes\n"      \
    "m1,,,y1,Математика,s1,math\n"
#define CLASSES                                                                                    \
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"          \
    "schoolSourcedId,termSourcedIds,subjectCodes\n"                                                \
    "c5a,,,5А,05,,5А,homeroom,s1,y1,\nc5b,,,5Б,05,,5Б,homeroom,s1,y1,\n"                       \
    "c5am,,,5А Математика,05,m1,5А,scheduled,s1,y1,math\n"
#define USERS_HEAD                                                                                 \
    "sourcedId,status,dateLastModified,orgSourcedIds,role,givenName,familyName,middleName,"        \
    "email,phone,agentSourcedIds\n"
#define USERS                                                                                      \
    USERS_HEAD "t1,,,s1,teacher,Ольга,Учителева,Ивановна,,,\n"               \
               "st1,,,s1,student,Артём,Иванов,Сергеевич,,,g1\n"                \
               "st2,,,s1,student,Мария,Петрова,,,,\n"                                  \
               "g1,,,s1,parent,Елена,Иванова,Викторовна,e@example.ru,+79280000000,st1\n"
#define ENROL_HEAD                                                                                 \
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"         \
    "primary,beginDate,endDate\n"
#define ENROLS                                                                                     \
    ENROL_HEAD "e1,,,c5a,s1,st1,student,false,2026-09-01,\ne2,,,c5a,s1,st2,student,false,,\n"      \
               "e3,,,c5am,s1,t1,teacher,false,,\ne4,,,c5a,s1,t1,teacher,true,,\n"
#define DEMO                                                                                       \
    "sourcedId,status,dateLastModified,birthDate,sex\nst1,,,2015-03-04,male\ng1,,,,female\n"

struct set {
    const char *manifest, *orgs, *sessions, *courses, *classes, *users, *enrols, *demo;
};

static const struct set base = {MANIFEST, ORGS, SESSIONS, COURSES, CLASSES, USERS, ENROLS, DEMO};

static struct mes_config cfg;

/* Imports `s` into `db` (one write transaction, committed unless refused); the report. */
static int import(struct db *db, const struct set *s, bool skip, struct roster_report *rep)
{
    const char *names[] = {"manifest.csv", "orgs.csv",  "academicSessions.csv", "courses.csv",
                           "classes.csv",  "users.csv", "enrollments.csv",      "demographics.csv"};
    const char *texts[] = {s->manifest, s->orgs,  s->sessions, s->courses,
                           s->classes,  s->users, s->enrols,   s->demo};
    char *data[8];
    size_t lens[8];
    const char *nm[8];
    int n = 0;
    for (int i = 0; i < 8; i++)
        if (texts[i] != NULL) {
            nm[n] = names[i];
            data[n] = text_copy(texts[i]);
            lens[n] = strlen(texts[i]);
            n++;
        }
    struct roster_options opt = {.skip_invalid = skip, .cfg = &cfg, .today = "2026-10-01"};
    memset(rep, 0, sizeof(*rep));
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    struct roster_model *m = roster_model_new();
    assert_int_equal(roster_load(m, db), 0);
    assert_int_equal(roster_read_oneroster_mem(m, n, nm, data, lens, rep, &opt), 0);
    int rc = roster_apply(m, db, rep, &opt);
    roster_model_free(m);
    assert_true(rc >= 0);
    if (rc == 0)
        assert_int_equal(db_commit(db), SQLITE_OK);
    else
        assert_int_equal(db_rollback(db), SQLITE_OK);
    return rc;
}

static bool has_error(const struct roster_report *rep, const char *file, long line,
                      const char *code)
{
    for (size_t i = 0; i < rep->nerrors; i++)
        if (strcmp(rep->errors[i].file, file) == 0 && rep->errors[i].line == line &&
            strcmp(rep->errors[i].code, code) == 0)
            return true;
    return false;
}

static bool nothing_changed(const struct roster_report *rep)
{
    for (int k = 0; k < RK_COUNT; k++)
        if (rep->counts[k].added || rep->counts[k].updated || rep->counts[k].moved ||
            rep->counts[k].left)
            return false;
    return true;
}

static void test_import_twice_changes_nothing(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    struct roster_report rep;
    assert_int_equal(import(db, &base, false, &rep), 0);
    assert_int_equal(rep.counts[RK_STUDENTS].added, 2);
    assert_int_equal(rep.counts[RK_GUARDIANS].added, 1);
    assert_int_equal(rep.counts[RK_STAFF].added, 1);
    assert_int_equal(rep.counts[RK_CLASSES].added, 2);
    assert_int_equal(rep.counts[RK_ENROLMENTS].added, 2);
    assert_int_equal(rep.counts[RK_ASSIGNMENTS].added, 1);
    assert_int_equal(rep.counts[RK_GUARDIAN_LINKS].added, 1);
    assert_int_equal(rep.counts[RK_ACCOUNTS].added, 4);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM guardians WHERE relation = 'mother'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM classes WHERE class_teacher_id IS "
                                        "NOT NULL AND letter = 'А' AND grade = 5"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM roster_contacts WHERE phone = "
                                        "'+79280000000' AND email = 'e@example.ru'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM enrollments WHERE enrolled_on = "
                                        "'2026-09-01'"),
                     1);
    /* the year got the region's periods */
    assert_true(scratch_scalar(db, "SELECT count(*) FROM periods") > 0);
    roster_report_free(&rep);
    assert_int_equal(import(db, &base, false, &rep), 0);
    assert_true(nothing_changed(&rep));
    roster_report_free(&rep);
    scratch_db_remove(db, path);
}

static void test_errors_have_file_and_line(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    struct set s = base;
    s.orgs = ORGS "s2,,,Школа без района,school,,d9\n";
    s.users = USERS "st9,,,s1,student,Без,Фамилии\n"       /* a short row */
                    "st1,,,s1,student,Дважды,Иванов,,,,\n" /* a duplicate id */
                    "g2,,,s1,parent,Кто,То,,,,nobody\n";   /* an agent who is no user */
    s.enrols = ENROL_HEAD "e1,,,c5a,s1,st1,student,false,2026-13-01,\n"
                          "e2,,,c9z,s1,st2,student,false,,\n"
                          "e3,,,c5a,s2,t1,teacher,false,,\n";
    struct roster_report rep;
    assert_int_equal(import(db, &s, false, &rep), 1);
    assert_true(has_error(&rep, "orgs.csv", 4, "unknown_org"));
    assert_true(has_error(&rep, "users.csv", 6, "row_width"));
    assert_true(has_error(&rep, "users.csv", 7, "duplicate_id"));
    assert_true(has_error(&rep, "users.csv", 8, "agent_not_user"));
    assert_true(has_error(&rep, "enrollments.csv", 2, "bad_date"));
    assert_true(has_error(&rep, "enrollments.csv", 3, "unknown_class"));
    assert_true(has_error(&rep, "enrollments.csv", 4, "depends_on_invalid"));
    char msg[400] = "";
    for (size_t i = 0; i < rep.nerrors; i++)
        if (strcmp(rep.errors[i].code, "unknown_org") == 0)
            roster_error_message(&rep.errors[i], msg, sizeof(msg));
    assert_string_equal(msg, "s2: organisation d9 is not in orgs.csv nor imported before");
    /* nothing was imported */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM persons"), 0);
    json_t *j = roster_report_json(&rep);
    assert_true(json_array_size(json_object_get(j, "errors")) == rep.nerrors);
    json_decref(j);
    roster_report_free(&rep);
    /* with skip_invalid the rest goes in */
    assert_int_equal(import(db, &s, true, &rep), 0);
    assert_int_equal(rep.counts[RK_STUDENTS].added, 2);
    assert_int_equal(rep.counts[RK_ENROLMENTS].added, 0); /* both students' rows were bad */
    assert_int_equal(rep.counts[RK_SCHOOLS].added, 1);
    roster_report_free(&rep);
    scratch_db_remove(db, path);
}

static void test_move_keeps_marks_and_leavers(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    struct roster_report rep;
    assert_int_equal(import(db, &base, false, &rep), 0);
    roster_report_free(&rep);
    int64_t st1 = scratch_scalar(db, "SELECT local_id FROM roster_ids WHERE source_id = 'st1'");
    int64_t t1 = scratch_scalar(db, "SELECT local_id FROM roster_ids WHERE source_id = 't1'");
    assert_int_equal(db_exec(db, "INSERT INTO control_forms (id, code, name, weight) VALUES "
                                 "(900, 'x', 'x', 1)"),
                     0);
    char sql[600];
    snprintf(sql, sizeof(sql),
             "INSERT INTO lessons (id, class_id, subject_id, teacher_id, period_id, date, number) "
             "SELECT 900, class_id, 1, %lld, (SELECT min(id) FROM periods), '2026-09-02', 1 "
             "FROM enrollments WHERE student_id = %lld;"
             "INSERT INTO marks (lesson_id, student_id, value, control_form_id, weight, "
             "created_by) VALUES (900, %lld, '5', 900, 1, %lld)",
             (long long)t1, (long long)st1, (long long)st1, (long long)t1);
    assert_int_equal(db_exec(db, sql), 0);
    /* st1 moves to 5Б; st2 is not in the files any more; g1 is tobedeleted */
    struct set s = base;
    s.users = USERS_HEAD "t1,,,s1,teacher,Ольга,Учителева,Ивановна,,,\n"
                         "st1,,,s1,student,Артём,Иванов,Сергеевич,,,g1\n"
                         "g1,tobedeleted,,s1,parent,Елена,Иванова,Викторовна,e@example.ru,"
                         "+79280000000,st1\n";
    s.enrols = ENROL_HEAD "e1,,,c5b,s1,st1,student,false,2026-09-01,\n"
                          "e3,,,c5am,s1,t1,teacher,false,,\ne4,,,c5a,s1,t1,teacher,true,,\n";
    assert_int_equal(import(db, &s, false, &rep), 0);
    assert_int_equal(rep.counts[RK_ENROLMENTS].moved, 1);
    assert_int_equal(rep.counts[RK_ENROLMENTS].left, 1);
    assert_int_equal(rep.counts[RK_STUDENTS].left, 1);
    assert_int_equal(rep.counts[RK_GUARDIANS].left, 1);
    assert_int_equal(rep.counts[RK_GUARDIAN_LINKS].left, 1);
    roster_report_free(&rep);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM marks WHERE student_id = %lld",
             (long long)st1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM marks"), 1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM enrollments e JOIN classes c ON "
                                        "c.id = e.class_id WHERE e.left_on IS NULL AND c.letter "
                                        "= 'Б'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM enrollments WHERE left_on = "
                                        "'2026-10-01'"),
                     2);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM persons"), 4); /* never deleted */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM guardians"), 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM role_grants WHERE role = 'parent'"),
                     0);
    /* once more: nothing */
    assert_int_equal(import(db, &s, false, &rep), 0);
    assert_true(nothing_changed(&rep));
    roster_report_free(&rep);
    scratch_db_remove(db, path);
}

static void test_delta_applies_only_its_rows(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    struct roster_report rep;
    assert_int_equal(import(db, &base, false, &rep), 0);
    roster_report_free(&rep);
    struct set d = {
        .manifest = "propertyName,value\noneroster.version,1.1\nfile.users,delta\n"
                    "file.enrollments,delta\n",
        .users = USERS_HEAD "st3,active,,s1,student,Новый,Ученик,,,,\n",
        .enrols = ENROL_HEAD "e5,active,,c5b,s1,st3,student,false,,\n"
                             "e2,tobedeleted,,c5a,s1,st2,student,false,,\n"
                             "e3,tobedeleted,,c5am,s1,t1,teacher,false,,\n",
    };
    assert_int_equal(import(db, &d, false, &rep), 0);
    assert_int_equal(rep.counts[RK_STUDENTS].added, 1);
    assert_int_equal(rep.counts[RK_STUDENTS].left, 0); /* a delta: the others stay */
    assert_int_equal(rep.counts[RK_ENROLMENTS].added, 1);
    assert_int_equal(rep.counts[RK_ENROLMENTS].left, 1);
    assert_int_equal(rep.counts[RK_ASSIGNMENTS].left, 1);
    roster_report_free(&rep);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM enrollments WHERE left_on IS NULL"),
                     2);
    scratch_db_remove(db, path);
}

int main(void)
{
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_newlines_crlf),
        cmocka_unit_test(test_csv_bad_quotes),
        cmocka_unit_test(test_csv_bom_and_semicolons),
        cmocka_unit_test(test_csv_windows_1251),
        cmocka_unit_test(test_import_twice_changes_nothing),
        cmocka_unit_test(test_errors_have_file_and_line),
        cmocka_unit_test(test_move_keeps_marks_and_leavers),
        cmocka_unit_test(test_delta_applies_only_its_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
