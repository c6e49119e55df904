/*
 * The journal grid and averages: the teacher's grid (class x subject x period: lessons with
 * homework and items, students with marks, attendance, weighted averages, period and final
 * marks), a student's
 * marks by subject with averages, attendance and period marks, and "what do I need" (the marks
 * that would lift an average to a target). Hot reads, kept in the read cache: a few indexed
 * range queries assembled in memory.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "cache/cache.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

static json_t *mark_row(sqlite3_stmt *st, int i)
{
    return json_pack("{s:I,s:I,s:s,s:{s:s,s:s},s:i,s:s,s:b}", "id",
                     (json_int_t)sqlite3_column_int64(st, i), "lesson_id",
                     (json_int_t)sqlite3_column_int64(st, i + 1), "value", db_col_text(st, i + 2),
                     "control_form", "code", db_col_text(st, i + 3), "name", db_col_text(st, i + 4),
                     "weight", sqlite3_column_int(st, i + 5), "comment", db_col_text(st, i + 6),
                     "exam", sqlite3_column_int(st, i + 7));
}

static json_t *average_json(const struct average *a)
{
    double v = average_value(a);
    return v < 0 ? json_null() : json_real(v);
}

/* A student entry of the grid, found by id (the class is a few dozen students). */
struct grid_student {
    int64_t id;
    json_t *marks, *attendance, *periods; /* borrowed: owned by the answer's "students" */
    struct average avg;
};

/* The grid being built: what it is of, and its students in the order of the answer. */
struct grid {
    int64_t class_id, subject_id, period_id, year_id;
    json_t *out;      /* the answer */
    json_t *students; /* borrowed from out */
    struct grid_student *s;
    size_t n, cap;
};

static struct grid_student *grid_find(const struct grid *g, int64_t id)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->s[i].id == id)
            return &g->s[i];
    return NULL;
}

/* The grid's class, subject and period into g->out. 0; -1 after answering 404 (the period or
 * subject does not fit the class) or 500. */
static int grid_head_or_respond(struct req *r, struct grid *g)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.grade, c.letter, s.id, s.name, p.id, p.name, "
                                "p.starts_on, p.ends_on, p.year_id, NOT EXISTS (SELECT 1 FROM "
                                "periods q WHERE q.year_id = p.year_id AND q.number > p.number) "
                                "FROM classes c, subjects s, periods p WHERE c.id = :c AND "
                                "s.id = :s AND p.id = :p AND p.year_id = c.year_id",
                                DB_ARGS(DB_INT(":c", g->class_id), DB_INT(":s", g->subject_id),
                                        DB_INT(":p", g->period_id)));
    int rc;
    if (!db_next(st, &rc)) {
        if (rc == SQLITE_DONE)
            reply_error(r, 404, "not_found", "no such subject or period for this class");
        else
            reply_db_error(r);
        return -1;
    }
    g->year_id = sqlite3_column_int64(st, 9);
    g->out = json_pack("{s:o,s:o,s:{s:I,s:s,s:s,s:s,s:b},s:[],s:[]}", "class", ref_class(st, 0),
                       "subject", ref_named(st, 3), "period", "id",
                       (json_int_t)sqlite3_column_int64(st, 5), "name", db_col_text(st, 6),
                       "starts_on", db_col_text(st, 7), "ends_on", db_col_text(st, 8), "last",
                       sqlite3_column_int(st, 10), "lessons", "students");
    sqlite3_reset(st);
    if (g->out == NULL)
        return reply_error(r, 500, "internal", "out of memory"), -1;
    g->students = json_object_get(g->out, "students");
    return 0;
}

/* The lessons of the grid with their homework (files, items) and library items. SQLITE_DONE or
 * the failure's code. */
static int grid_lessons(struct req *r, struct grid *g)
{
    json_t *lessons = json_object_get(g->out, "lessons");
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT l.id, l.date, l.number, l.topic, l.cancelled, l.group_id, "
                 "(SELECT json_group_array(json_object('id', h.id, 'text', h.text, "
                 "'due_date', h.due_date, 'files', json((SELECT json_group_array("
                 "json_object('id', f.id, 'name', f.name, 'type', f.type)) FROM "
                 "homework_files f WHERE f.homework_id = h.id AND f.student_id IS "
                 "NULL)), 'items', json((SELECT json_group_array(json_object('id', "
                 "i.id, 'title', i.title, 'type', i.type)) FROM homework_items hi JOIN "
                 "library_items i ON i.id = hi.item_id WHERE hi.homework_id = h.id)))) "
                 "FROM homework h WHERE h.lesson_id = l.id), " JOURNAL_LESSON_ITEMS " "
                 "FROM lessons l WHERE l.class_id = :c AND l.subject_id = :s AND "
                 "l.period_id = :p ORDER BY l.date, l.number",
                 DB_ARGS(DB_INT(":c", g->class_id), DB_INT(":s", g->subject_id),
                         DB_INT(":p", g->period_id)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *hw = json_loads(db_col_text(st, 6), 0, NULL);
        json_t *items = json_loads(db_col_text(st, 7), 0, NULL);
        json_t *l = json_pack("{s:I,s:s,s:i,s:s,s:b,s:o,s:o}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "date", db_col_text(st, 1),
                              "number", sqlite3_column_int(st, 2), "topic", db_col_text(st, 3),
                              "cancelled", sqlite3_column_int(st, 4), "homework",
                              hw ? hw : json_array(), "items", items ? items : json_array());
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            json_object_set_new(l, "group_id", json_integer(sqlite3_column_int64(st, 5)));
        json_array_append_new(lessons, l);
    }
    return rc;
}

/* Adds a student to the grid (and to the answer's "students"). 0, or -1 out of memory. */
static int grid_add_student(struct grid *g, sqlite3_stmt *st)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        struct grid_student *more = realloc(g->s, cap * sizeof(*more));
        if (more == NULL)
            return -1;
        g->s = more;
        g->cap = cap;
    }
    struct grid_student *s = &g->s[g->n];
    *s = (struct grid_student){.id = sqlite3_column_int64(st, 0)};
    s->marks = json_array();
    s->attendance = json_array();
    s->periods = json_array();
    json_t *o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:n,s:n}", "id", (json_int_t)s->id, "name",
                          ref_person_name(st, 1), "marks", s->marks, "attendance", s->attendance,
                          "period_marks", s->periods, "period_mark", "final_mark");
    if (o == NULL || json_array_append_new(g->students, o) != 0)
        return -1;
    g->n++;
    return 0;
}

/* The class's current students, by name. SQLITE_DONE, SQLITE_NOMEM or the failure's code. */
static int grid_students(struct req *r, struct grid *g)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM "
                                "enrollments e JOIN persons p ON p.id = e.student_id WHERE "
                                "e.class_id = :c AND e.left_on IS NULL ORDER BY p.last_name, "
                                "p.first_name, p.id",
                                DB_ARGS(DB_INT(":c", g->class_id)));
    int rc;
    while (db_next(st, &rc))
        if (grid_add_student(g, st) != 0) {
            sqlite3_reset(st);
            return SQLITE_NOMEM;
        }
    return rc;
}

/* Every mark of the grid's lessons onto its student, and into the student's average (marks of
 * students who have left the class are not shown). SQLITE_DONE or the failure's code. */
static int grid_marks(struct req *r, struct grid *g)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT m.id, m.lesson_id, m.value, f.code, f.name, m.weight, m.comment, "
                 "m.exam, m.student_id FROM lessons l JOIN marks m ON m.lesson_id = l.id "
                 "JOIN control_forms f ON f.id = m.control_form_id WHERE l.class_id = :c "
                 "AND l.subject_id = :s AND l.period_id = :p ORDER BY l.date, l.number, m.id",
                 DB_ARGS(DB_INT(":c", g->class_id), DB_INT(":s", g->subject_id),
                         DB_INT(":p", g->period_id)));
    int rc;
    while (db_next(st, &rc)) {
        struct grid_student *s = grid_find(g, sqlite3_column_int64(st, 8));
        if (s == NULL)
            continue;
        json_array_append_new(s->marks, mark_row(st, 0));
        average_add(&s->avg, db_col_text(st, 2), sqlite3_column_int(st, 5));
    }
    return rc;
}

/* The attendance entries of the grid's lessons onto their students. SQLITE_DONE or the
 * failure's code. */
static int grid_attendance(struct req *r, struct grid *g)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT a.lesson_id, a.student_id, a.status, a.justified FROM lessons l "
                 "JOIN attendance a ON a.lesson_id = l.id WHERE l.class_id = :c AND "
                 "l.subject_id = :s AND l.period_id = :p",
                 DB_ARGS(DB_INT(":c", g->class_id), DB_INT(":s", g->subject_id),
                         DB_INT(":p", g->period_id)));
    int rc;
    while (db_next(st, &rc)) {
        struct grid_student *s = grid_find(g, sqlite3_column_int64(st, 1));
        if (s)
            json_array_append_new(s->attendance, json_pack("{s:I,s:s,s:b}", "lesson_id",
                                                           (json_int_t)sqlite3_column_int64(st, 0),
                                                           "status", db_col_text(st, 2),
                                                           "justified", sqlite3_column_int(st, 3)));
    }
    return rc;
}

/* The period and final marks of the grid's subject and year onto its students: every period
 * mark of the year in "period_marks" (the final mark is suggested from them), this period's in
 * "period_mark", the year's final mark in "final_mark". SQLITE_DONE or the failure's code. */
static int grid_period_marks(struct req *r, struct grid *g)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT pm.student_id, pm.period_id, pm.value FROM enrollments e "
        "JOIN period_marks pm ON pm.student_id = e.student_id AND "
        "pm.subject_id = :s AND pm.year_id = :y WHERE e.class_id = :c "
        "AND e.left_on IS NULL ORDER BY pm.period_id",
        DB_ARGS(DB_INT(":c", g->class_id), DB_INT(":s", g->subject_id), DB_INT(":y", g->year_id)));
    int rc;
    while (db_next(st, &rc)) {
        struct grid_student *s = grid_find(g, sqlite3_column_int64(st, 0));
        if (s == NULL)
            continue;
        json_t *o = json_array_get(g->students, (size_t)(s - g->s));
        const char *value = db_col_text(st, 2);
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            json_object_set_new(o, "final_mark", json_string(value));
            continue;
        }
        int64_t period = sqlite3_column_int64(st, 1);
        json_array_append_new(
            s->periods, json_pack("{s:I,s:s}", "period_id", (json_int_t)period, "value", value));
        if (period == g->period_id)
            json_object_set_new(o, "period_mark", json_string(value));
    }
    return rc;
}

/* GET /api/v1/journal?class=ID&subject=ID&period=ID: the grid, built in steps (heading,
 * lessons, students, marks, attendance, period marks, averages); any step that fails answers
 * 500 and nothing is cached. */
static int grid_journal(struct req *r)
{
    struct grid g = {0};
    if (req_query_id_or_respond(r, "class", &g.class_id) != 0 ||
        req_query_id_or_respond(r, "subject", &g.subject_id) != 0 ||
        req_query_id_or_respond(r, "period", &g.period_id) != 0)
        return r->status;
    if (authz_journal_or_respond(r, g.class_id, g.subject_id) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_class(r, &key, g.class_id);
    if (cache_reply(r, &key))
        return r->status;
    if (grid_head_or_respond(r, &g) != 0)
        return r->status;
    if (grid_lessons(r, &g) != SQLITE_DONE || grid_students(r, &g) != SQLITE_DONE ||
        grid_marks(r, &g) != SQLITE_DONE || grid_attendance(r, &g) != SQLITE_DONE ||
        grid_period_marks(r, &g) != SQLITE_DONE) {
        free(g.s);
        json_decref(g.out);
        return reply_db_error(r);
    }
    for (size_t i = 0; i < g.n; i++)
        json_object_set_new(json_array_get(g.students, i), "average", average_json(&g.s[i].avg));
    free(g.s);
    return cache_reply_json(r, &key, 200, g.out);
}

/* The subject entry of `id` in a student's marks, or NULL. */
static json_t *subject_find(json_t *subjects, int64_t id)
{
    size_t i;
    json_t *sub;
    json_array_foreach(subjects, i, sub)
    {
        if (json_integer_value(json_object_get(json_object_get(sub, "subject"), "id")) == id)
            return sub;
    }
    return NULL;
}

/* The student's marks of the period by subject (every subject with a lesson in the period),
 * each with its weighted average, appended to `subjects`: the current class's lessons, and
 * those of a class the student left (a transfer) while they were in it, so that marks follow
 * the student. SQLITE_DONE or the failure's code. */
static int student_marks_subjects(struct req *r, int64_t student, int64_t period, json_t *subjects)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT s.id, s.name, m.id, m.lesson_id, m.value, f.code, f.name, m.weight, "
                 "m.comment, m.exam, l.date FROM enrollments e "
                 "JOIN lessons l ON l.class_id = e.class_id AND l.period_id = :p "
                 "JOIN subjects s ON s.id = l.subject_id "
                 "LEFT JOIN marks m ON m.lesson_id = l.id AND m.student_id = :s "
                 "LEFT JOIN control_forms f ON f.id = m.control_form_id "
                 "WHERE e.student_id = :s AND (e.left_on IS NULL OR (l.date >= e.enrolled_on "
                 "AND l.date < e.left_on)) AND (l.group_id IS NULL OR m.id IS NOT NULL OR "
                 "EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = l.group_id AND "
                 "gm.student_id = :s)) ORDER BY s.name, l.date, l.number, m.id",
                 DB_ARGS(DB_INT(":s", student), DB_INT(":p", period)));
    json_t *cur = NULL;
    struct average avg = {0};
    int64_t cur_id = 0;
    int rc;
    while (db_next(st, &rc)) {
        if (sqlite3_column_int64(st, 0) != cur_id) {
            if (cur)
                json_object_set_new(cur, "average", average_json(&avg));
            avg = (struct average){0};
            cur_id = sqlite3_column_int64(st, 0);
            cur = json_pack("{s:o,s:[]}", "subject", ref_named(st, 0), "marks");
            json_array_append_new(subjects, cur);
        }
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            continue; /* a lesson without a mark for this student */
        json_t *m = mark_row(st, 2);
        json_object_set_new(m, "date", json_string(db_col_text(st, 10)));
        json_array_append_new(json_object_get(cur, "marks"), m);
        average_add(&avg, db_col_text(st, 4), sqlite3_column_int(st, 7));
    }
    if (cur)
        json_object_set_new(cur, "average", average_json(&avg));
    return rc;
}

/* Attendance of the period per subject onto `subjects` (absences, lateness, illness, and how
 * many of the absences are not justified), and the totals into *out (a new object).
 * SQLITE_DONE or the failure's code. */
static int student_marks_attendance(struct req *r, int64_t student, int64_t period,
                                    json_t *subjects, json_t **out)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT l.subject_id, sum(a.status = 'absent'), sum(a.status = 'late'), "
                 "sum(a.status = 'ill'), sum(a.status <> 'late' AND NOT a.justified) FROM "
                 "attendance a JOIN lessons l ON l.id = a.lesson_id WHERE a.student_id = "
                 ":s AND l.period_id = :p GROUP BY l.subject_id",
                 DB_ARGS(DB_INT(":s", student), DB_INT(":p", period)));
    json_int_t total[4] = {0};
    int rc;
    while (db_next(st, &rc)) {
        json_int_t c[4];
        for (int k = 0; k < 4; k++)
            total[k] += c[k] = sqlite3_column_int64(st, k + 1);
        json_t *sub = subject_find(subjects, sqlite3_column_int64(st, 0));
        if (sub)
            json_object_set_new(sub, "attendance",
                                json_pack("{s:I,s:I,s:I,s:I}", "absent", c[0], "late", c[1], "ill",
                                          c[2], "unjustified", c[3]));
    }
    *out = json_pack("{s:I,s:I,s:I,s:I}", "absent", total[0], "late", total[1], "ill", total[2],
                     "unjustified", total[3]);
    return rc;
}

/* The period and final marks the teachers set onto `subjects`. SQLITE_DONE or the code. */
static int student_marks_period(struct req *r, int64_t student, int64_t period, json_t *subjects)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT pm.subject_id, pm.value, pm.period_id FROM period_marks pm "
                 "JOIN periods p ON p.year_id = pm.year_id AND p.id = :p WHERE "
                 "pm.student_id = :s AND (pm.period_id = :p OR pm.period_id IS NULL)",
                 DB_ARGS(DB_INT(":s", student), DB_INT(":p", period)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *sub = subject_find(subjects, sqlite3_column_int64(st, 0));
        if (sub)
            json_object_set_new(
                sub, sqlite3_column_type(st, 2) == SQLITE_NULL ? "final_mark" : "period_mark",
                json_string(db_col_text(st, 1)));
    }
    return rc;
}

/* GET /api/v1/students/{id}/marks?period=ID: marks by subject with weighted averages,
 * attendance and period marks. */
static int grid_student_marks(struct req *r)
{
    int64_t student = r->params[0], period;
    if (req_query_id_or_respond(r, "period", &period) != 0)
        return r->status;
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_student(r, &key, student);
    if (cache_reply(r, &key))
        return r->status;
    json_t *subjects = json_array(), *attendance = NULL;
    if (student_marks_subjects(r, student, period, subjects) != SQLITE_DONE ||
        student_marks_attendance(r, student, period, subjects, &attendance) != SQLITE_DONE ||
        student_marks_period(r, student, period, subjects) != SQLITE_DONE) {
        json_decref(subjects);
        json_decref(attendance);
        return reply_db_error(r);
    }
    return cache_reply_json(r, &key, 200,
                            json_pack("{s:I,s:I,s:o,s:o}", "student_id", (json_int_t)student,
                                      "period_id", (json_int_t)period, "subjects", subjects,
                                      "attendance", attendance));
}

/* GET /api/v1/students/{id}/plan?period=ID&subject=ID&target=4.5[&form=CODE]
 * "What do I need": how many marks of each value, at the weight of the control form (oral by
 * default), would lift the weighted average of the subject in the period to the target. */
static int grid_plan(struct req *r)
{
    int64_t student = r->params[0], period, subject;
    char buf[32], form[32] = "oral";
    if (req_query_id_or_respond(r, "period", &period) != 0 ||
        req_query_id_or_respond(r, "subject", &subject) != 0)
        return r->status;
    const struct mes_config *cfg = &r->node->cfg;
    char *end = buf;
    double target = req_query(r, "target", buf, sizeof(buf)) > 0 ? strtod(buf, &end) : 0;
    if (*end != '\0' || target < cfg->grading.min || target > cfg->grading.max)
        return reply_field_error(r, 400, "bad_request", "target",
                                 "target must be between %d and %d", cfg->grading.min,
                                 cfg->grading.max);
    if (req_query(r, "form", buf, sizeof(buf)) > 0) /* absent: it would clear `form` */
        snprintf(form, sizeof(form), "%s", buf);
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    int64_t w = 0;
    int rc = db_int(r->db, &w, "SELECT weight FROM control_forms WHERE code = :c",
                    DB_ARGS(DB_TEXT(":c", form)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    int weight = (int)w;
    if (weight == 0)
        return reply_field_error(r, 400, "bad_request", "form", "unknown control form '%s'", form);
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT m.value, m.weight FROM marks m JOIN lessons l ON l.id = "
                 "m.lesson_id WHERE m.student_id = :s AND l.subject_id = :sub AND "
                 "l.period_id = :p",
                 DB_ARGS(DB_INT(":s", student), DB_INT(":sub", subject), DB_INT(":p", period)));
    struct average avg = {0};
    while (db_next(st, &rc))
        average_add(&avg, db_col_text(st, 0), sqlite3_column_int(st, 1));
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    /* n marks of value v at weight w reach the target when
     * (S + v*w*n) / (W + w*n) >= target, i.e. n >= (target*W - S) / (w*(v - target)). */
    json_t *options = json_array();
    double current = average_value(&avg);
    for (int v = cfg->grading.max; v >= cfg->grading.min && v > target; v--) {
        double need = (target * (double)avg.weights - avg.sum) / (weight * (v - target));
        long n = need <= 0 ? 0 : (long)need;
        while ((avg.sum + (double)v * weight * n) / ((double)avg.weights + weight * n) <
               target - 1e-9)
            n++;
        if (avg.weights == 0 && n == 0)
            n = 1; /* no marks yet: one is needed */
        json_array_append_new(options, json_pack("{s:o,s:I}", "value", json_sprintf("%d", v),
                                                 "count", (json_int_t)n));
    }
    return reply_json(r, 200,
                      json_pack("{s:o,s:f,s:s,s:i,s:o}", "current",
                                current < 0 ? json_null() : json_real(current), "target", target,
                                "control_form", form, "weight", weight, "options", options));
}

const struct route grid_routes[] = {
    {.method = "GET",
     .path = "/api/v1/students/{id}/plan",
     .handler = grid_plan,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "marks_plan"},
    {.method = "GET",
     .path = "/api/v1/journal",
     .handler = grid_journal,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_TEACHER | ROLE_CLASS_TEACHER,
     .name = "journal"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/marks",
     .handler = grid_student_marks,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_marks"},
    {0},
};
