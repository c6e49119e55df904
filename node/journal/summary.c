/*
 * The class teacher's summary of their class for a period, across all subjects: each current
 * student's weighted average and number of marks per subject, the period and final marks set,
 * and their attendance (absences in all, of which justified, illness, lateness); each subject's
 * average over the whole class. Read now and then by a class teacher or the school's admin: a
 * few queries over the class's lessons of the year (lessons_journal by class) aggregated by
 * SQLite, put together in memory (a class is a few dozen students and subjects).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

/* A student of the summary: the answer's objects (borrowed from it). */
struct summary_student {
    int64_t id;
    json_t *obj, *subjects;
};

/* A subject of the summary and the class's weighted average in it. */
struct summary_subject {
    int64_t id;
    json_t *obj;
    struct average avg;
};

struct summary {
    int64_t class_id, period_id, year_id;
    json_t *out;
    struct summary_student *st;
    size_t nst;
    struct summary_subject *sub;
    size_t nsub;
};

static struct summary_student *summary_student(struct summary *s, int64_t id)
{
    for (size_t i = 0; i < s->nst; i++)
        if (s->st[i].id == id)
            return &s->st[i];
    return NULL;
}

static struct summary_subject *summary_subject(struct summary *s, int64_t id)
{
    for (size_t i = 0; i < s->nsub; i++)
        if (s->sub[i].id == id)
            return &s->sub[i];
    return NULL;
}

/* The entry of subject `subject` in a student's "subjects", made when missing. */
static json_t *summary_cell(struct summary_student *st, int64_t subject)
{
    size_t i;
    json_t *c;
    json_array_foreach(st->subjects, i, c)
    {
        if (json_integer_value(json_object_get(c, "subject_id")) == subject)
            return c;
    }
    c = json_pack("{s:I,s:n,s:i}", "subject_id", (json_int_t)subject, "average", "marks", 0);
    json_array_append_new(st->subjects, c);
    return c;
}

/* The class and period into s->out; 0, or -1 after answering 404 (the period is not of the
 * class's year) or 500. */
static int summary_head_or_respond(struct req *r, struct summary *s)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.grade, c.letter, p.id, p.name, p.starts_on, "
                                "p.ends_on, p.year_id FROM classes c JOIN periods p ON "
                                "p.year_id = c.year_id WHERE c.id = :c AND p.id = :p",
                                DB_ARGS(DB_INT(":c", s->class_id), DB_INT(":p", s->period_id)));
    int rc;
    if (!db_next(st, &rc)) {
        if (rc == SQLITE_DONE)
            reply_field_error(r, 404, "not_found", "period",
                              "period %lld is not in the class's year", (long long)s->period_id);
        else
            reply_db_error(r);
        return -1;
    }
    s->year_id = sqlite3_column_int64(st, 7);
    s->out =
        json_pack("{s:o,s:{s:I,s:s,s:s,s:s},s:[],s:[]}", "class", ref_class(st, 0), "period", "id",
                  (json_int_t)sqlite3_column_int64(st, 3), "name", db_col_text(st, 4), "starts_on",
                  db_col_text(st, 5), "ends_on", db_col_text(st, 6), "subjects", "students");
    sqlite3_reset(st);
    if (s->out == NULL) {
        reply_error(r, 500, "internal", "out of memory");
        return -1;
    }
    return 0;
}

/* The subjects with lessons of the class in the period, by name. SQLITE_DONE, SQLITE_NOMEM or
 * the failure's code. */
static int summary_subjects(struct req *r, struct summary *s)
{
    json_t *list = json_object_get(s->out, "subjects");
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT s.id, s.name FROM subjects s WHERE s.id IN (SELECT "
                                "l.subject_id FROM lessons l WHERE l.class_id = :c AND "
                                "l.period_id = :p) ORDER BY s.name, s.id",
                                DB_ARGS(DB_INT(":c", s->class_id), DB_INT(":p", s->period_id)));
    int rc;
    size_t cap = 0;
    while (db_next(st, &rc)) {
        if (s->nsub == cap) {
            cap = cap ? 2 * cap : 32;
            struct summary_subject *more = realloc(s->sub, cap * sizeof(*more));
            if (more == NULL) {
                sqlite3_reset(st);
                return SQLITE_NOMEM;
            }
            s->sub = more;
        }
        json_t *o = ref_named(st, 0);
        json_object_set_new(o, "average", json_null());
        json_array_append_new(list, o);
        s->sub[s->nsub++] = (struct summary_subject){.id = sqlite3_column_int64(st, 0), .obj = o};
    }
    return rc;
}

/* The class's current students, by name, each with no marks and no absences yet. SQLITE_DONE,
 * SQLITE_NOMEM or the failure's code. */
static int summary_students(struct req *r, struct summary *s)
{
    json_t *list = json_object_get(s->out, "students");
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM "
                                "enrollments e JOIN persons p ON p.id = e.student_id WHERE "
                                "e.class_id = :c AND e.left_on IS NULL ORDER BY p.last_name, "
                                "p.first_name, p.id",
                                DB_ARGS(DB_INT(":c", s->class_id)));
    int rc;
    size_t cap = 0;
    while (db_next(st, &rc)) {
        if (s->nst == cap) {
            cap = cap ? 2 * cap : 64;
            struct summary_student *more = realloc(s->st, cap * sizeof(*more));
            if (more == NULL) {
                sqlite3_reset(st);
                return SQLITE_NOMEM;
            }
            s->st = more;
        }
        json_t *subjects = json_array();
        json_t *o =
            json_pack("{s:I,s:o,s:o,s:{s:i,s:i,s:i,s:i,s:i,s:i}}", "id",
                      (json_int_t)sqlite3_column_int64(st, 0), "name", ref_person_name(st, 1),
                      "subjects", subjects, "attendance", "total", 0, "absent", 0, "ill", 0, "late",
                      0, "justified", 0, "unjustified", 0);
        if (o == NULL || json_array_append_new(list, o) != 0) {
            sqlite3_reset(st);
            return SQLITE_NOMEM;
        }
        s->st[s->nst++] = (struct summary_student){
            .id = sqlite3_column_int64(st, 0), .obj = o, .subjects = subjects};
    }
    return rc;
}

/* Weighted averages per student and subject (numeric marks only, as average_add counts them),
 * and per subject over the class. SQLITE_DONE or the failure's code. */
static int summary_marks(struct req *r, struct summary *s)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT m.student_id, l.subject_id, total(CASE WHEN m.value GLOB '[0-9]*' THEN "
        "CAST(m.value AS REAL) * m.weight END), total(CASE WHEN m.value GLOB '[0-9]*' THEN "
        "m.weight END), count(*) FROM lessons l JOIN marks m ON m.lesson_id = l.id WHERE "
        "l.class_id = :c AND l.period_id = :p GROUP BY m.student_id, l.subject_id",
        DB_ARGS(DB_INT(":c", s->class_id), DB_INT(":p", s->period_id)));
    int rc;
    while (db_next(st, &rc)) {
        struct summary_student *stu = summary_student(s, sqlite3_column_int64(st, 0));
        struct summary_subject *sub = summary_subject(s, sqlite3_column_int64(st, 1));
        if (stu == NULL || sub == NULL)
            continue; /* a student who has left the class */
        struct average a = {.sum = sqlite3_column_double(st, 2),
                            .weights = (long)sqlite3_column_int64(st, 3)};
        sub->avg.sum += a.sum;
        sub->avg.weights += a.weights;
        json_t *cell = summary_cell(stu, sub->id);
        double v = average_value(&a);
        json_object_set_new(cell, "average", v < 0 ? json_null() : json_real(v));
        json_object_set_new(cell, "marks", json_integer(sqlite3_column_int64(st, 4)));
    }
    for (size_t i = 0; rc == SQLITE_DONE && i < s->nsub; i++) {
        double v = average_value(&s->sub[i].avg);
        json_object_set_new(s->sub[i].obj, "average", v < 0 ? json_null() : json_real(v));
    }
    return rc;
}

/* The period marks of the period and the final marks of the year onto the students' cells.
 * SQLITE_DONE or the failure's code. */
static int summary_period_marks(struct req *r, struct summary *s)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT pm.student_id, pm.subject_id, pm.value, pm.period_id IS NULL FROM "
        "enrollments e JOIN period_marks pm ON pm.student_id = e.student_id WHERE "
        "e.class_id = :c AND e.left_on IS NULL AND pm.year_id = :y AND (pm.period_id "
        "= :p OR pm.period_id IS NULL)",
        DB_ARGS(DB_INT(":c", s->class_id), DB_INT(":y", s->year_id), DB_INT(":p", s->period_id)));
    int rc;
    while (db_next(st, &rc)) {
        struct summary_student *stu = summary_student(s, sqlite3_column_int64(st, 0));
        if (stu == NULL)
            continue;
        json_object_set_new(summary_cell(stu, sqlite3_column_int64(st, 1)),
                            sqlite3_column_int(st, 3) ? "final_mark" : "period_mark",
                            json_string(db_col_text(st, 2)));
    }
    return rc;
}

/* Attendance of the period per student. SQLITE_DONE or the failure's code. */
static int summary_attendance(struct req *r, struct summary *s)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT a.student_id, count(*), sum(a.status = 'absent'), sum(a.status = 'ill'), "
        "sum(a.status = 'late'), sum(a.justified <> 0), sum(a.status <> 'late' AND NOT "
        "a.justified) FROM lessons l JOIN attendance a ON a.lesson_id = l.id WHERE l.class_id "
        "= :c AND l.period_id = :p GROUP BY a.student_id",
        DB_ARGS(DB_INT(":c", s->class_id), DB_INT(":p", s->period_id)));
    int rc;
    while (db_next(st, &rc)) {
        struct summary_student *stu = summary_student(s, sqlite3_column_int64(st, 0));
        if (stu == NULL)
            continue;
        json_object_set_new(stu->obj, "attendance",
                            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "total",
                                      (json_int_t)sqlite3_column_int64(st, 1), "absent",
                                      (json_int_t)sqlite3_column_int64(st, 2), "ill",
                                      (json_int_t)sqlite3_column_int64(st, 3), "late",
                                      (json_int_t)sqlite3_column_int64(st, 4), "justified",
                                      (json_int_t)sqlite3_column_int64(st, 5), "unjustified",
                                      (json_int_t)sqlite3_column_int64(st, 6)));
    }
    return rc;
}

/* GET /api/v1/classes/{id}/summary?period=ID */
static int summary_get(struct req *r)
{
    struct summary s = {.class_id = r->params[0]};
    if (req_query_id_or_respond(r, "period", &s.period_id) != 0)
        return r->status;
    if (authz_homeroom_or_respond(r, s.class_id) != 0)
        return r->status;
    if (summary_head_or_respond(r, &s) != 0)
        return r->status;
    int rc = summary_subjects(r, &s);
    if (rc == SQLITE_DONE)
        rc = summary_students(r, &s);
    if (rc == SQLITE_DONE)
        rc = summary_marks(r, &s);
    if (rc == SQLITE_DONE)
        rc = summary_period_marks(r, &s);
    if (rc == SQLITE_DONE)
        rc = summary_attendance(r, &s);
    free(s.st);
    free(s.sub);
    if (rc != SQLITE_DONE) {
        json_decref(s.out);
        return rc == SQLITE_NOMEM ? reply_error(r, 503, "unavailable", "out of memory")
                                  : reply_db_error(r);
    }
    return reply_json(r, 200, s.out);
}

const struct route summary_routes[] = {
    {.method = "GET",
     .path = "/api/v1/classes/{id}/summary",
     .handler = summary_get,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_CLASS_TEACHER,
     .name = "class_summary"},
    {0},
};
