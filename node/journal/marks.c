/*
 * Journal writes: marks (create, change, delete, each kept in mark_history), attendance,
 * homework and period marks. Only a teacher who may write the lesson (authz.c) writes here.
 * Expected load: the busiest writes of the node (a teacher fills a class in a minute), each a
 * few indexed statements in one short transaction.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

/* 1 when the student is in the lesson's class (and group, for a group lesson). */
static int student_in_lesson(struct req *r, const struct lesson_ref *l, int64_t student)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT 1 FROM enrollments e WHERE e.student_id = :s AND "
                                      "e.class_id = :c AND e.left_on IS NULL AND (:g = 0 OR "
                                      "EXISTS (SELECT 1 FROM group_members m WHERE "
                                      "m.group_id = :g AND m.student_id = :s))");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":c", l->class_id);
    db_bind_int(st, ":g", l->group_id);
    int rc = db_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* What a notification says about a lesson: {"lesson_id", "subject", "date"} plus extras. NULL
 * on a database error. */
static json_t *lesson_note(struct req *r, int64_t lesson)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT s.name, l.date FROM lessons l JOIN subjects s ON "
                                      "s.id = l.subject_id WHERE l.id = :l");
    if (st == NULL)
        return NULL;
    db_bind_int(st, ":l", lesson);
    json_t *o = NULL;
    if (db_step(st) == SQLITE_ROW)
        o = json_pack("{s:I,s:s,s:s}", "lesson_id", (json_int_t)lesson, "subject",
                      db_col_text(st, 0), "date", db_col_text(st, 1));
    sqlite3_reset(st);
    return o;
}

/* Notifies the student's family of an event in a lesson; `extra` fields are stolen. */
static int notify_lesson(struct req *r, int64_t student, int64_t lesson, const char *kind,
                         json_t *extra)
{
    json_t *note = lesson_note(r, lesson);
    if (note == NULL) {
        json_decref(extra);
        return -1;
    }
    json_object_update(note, extra);
    json_decref(extra);
    int rc = notify_family(r->db, student, kind, note);
    json_decref(note);
    return rc;
}

/* The mark as JSON (for answers and history), or NULL when it does not exist. */
static json_t *mark_json(struct req *r, int64_t id)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT m.id, m.lesson_id, m.student_id, m.value, f.code, "
                                      "f.name, m.weight, m.comment, m.exam, m.created_at, "
                                      "m.updated_at FROM marks m JOIN control_forms f ON f.id = "
                                      "m.control_form_id WHERE m.id = :id");
    if (st == NULL)
        return NULL;
    db_bind_int(st, ":id", id);
    json_t *o = NULL;
    if (db_step(st) == SQLITE_ROW)
        o = json_pack("{s:I,s:I,s:I,s:s,s:{s:s,s:s},s:i,s:s,s:b,s:I,s:I}", "id",
                      (json_int_t)sqlite3_column_int64(st, 0), "lesson_id",
                      (json_int_t)sqlite3_column_int64(st, 1), "student_id",
                      (json_int_t)sqlite3_column_int64(st, 2), "value", db_col_text(st, 3),
                      "control_form", "code", db_col_text(st, 4), "name", db_col_text(st, 5),
                      "weight", sqlite3_column_int(st, 6), "comment", db_col_text(st, 7), "exam",
                      sqlite3_column_int(st, 8), "created_at",
                      (json_int_t)sqlite3_column_int64(st, 9), "updated_at",
                      (json_int_t)sqlite3_column_int64(st, 10));
    sqlite3_reset(st);
    return o;
}

/* Records a change of a mark: old and new are stolen (either may be NULL). */
static int history(struct req *r, int64_t mark, int64_t lesson, int64_t student, const char *action,
                   json_t *old, json_t *new)
{
    char *o = old ? json_dumps(old, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *n = new ? json_dumps(new, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(old);
    json_decref(new);
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO mark_history (mark_id, lesson_id, student_id, "
                                      "action, old, new, by_person) VALUES (:m, :l, :s, :a, :o, "
                                      ":n, :by)");
    int rc = -1;
    if (st != NULL) {
        db_bind_int(st, ":m", mark);
        db_bind_int(st, ":l", lesson);
        db_bind_int(st, ":s", student);
        db_bind_text(st, ":a", action);
        db_bind_text(st, ":o", o);
        db_bind_text(st, ":n", n);
        db_bind_int(st, ":by", r->caller.person_id);
        rc = db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
    }
    free(o);
    free(n);
    return rc;
}

/* Control form id and default weight by code; 0 when unknown. */
static int64_t form_by_code(struct req *r, const char *code, int *weight)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT id, weight FROM control_forms WHERE code = :c");
    if (st == NULL)
        return -1;
    db_bind_text(st, ":c", code);
    int64_t id = 0;
    if (db_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        *weight = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return id;
}

/* POST /api/v1/lessons/{id}/marks {student_id, value, control_form, weight?, comment?, exam?} */
static int marks_create(struct req *r)
{
    int64_t lesson = r->params[0];
    json_int_t student, weight = 0;
    const char *value, *form, *comment = "";
    int exam = 0;
    if (body_unpack_or_respond(r, "{s:I,s:s,s:s,s?I,s?s,s?b}", "student_id", &student, "value",
                               &value, "control_form", &form, "weight", &weight, "comment",
                               &comment, "exam", &exam) != 0)
        return r->status;
    if (!journal_mark_valid(&r->node->cfg, value))
        return reply_error(r, 400, "bad_request", "value '%s' is not a mark of the scale %d-%d%s",
                           value, r->node->cfg.grading.min, r->node->cfg.grading.max,
                           r->node->cfg.grading.pass_fail ? " or pass/fail" : "");
    if (weight < 0 || weight > 10 || !school_text_ok(comment, 0, 1000))
        return reply_error(r, 400, "bad_request", "weight 1-10; comment up to 1000 characters");
    struct lesson_ref l;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, &l) != 0)
        return r->status;
    if (l.cancelled)
        return reply_error(r, 409, "conflict", "the lesson is cancelled");
    int in = student_in_lesson(r, &l, student);
    if (in <= 0)
        return in < 0 ? reply_db_error(r)
                      : reply_error(r, 400, "bad_request", "student %lld is not in this lesson",
                                    (long long)student);
    int default_weight = 0;
    int64_t form_id = form_by_code(r, form, &default_weight);
    if (form_id <= 0)
        return form_id < 0 ? reply_db_error(r)
                           : reply_error(r, 400, "bad_request", "unknown control_form '%s'", form);
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO marks (lesson_id, student_id, value, "
                                      "control_form_id, weight, comment, exam, created_by) "
                                      "VALUES (:l, :s, :v, :f, :w, :c, :e, :by)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":l", lesson);
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":v", value);
    db_bind_int(st, ":f", form_id);
    db_bind_int(st, ":w", weight ? weight : default_weight);
    db_bind_text(st, ":c", comment);
    db_bind_int(st, ":e", exam);
    db_bind_int(st, ":by", r->caller.person_id);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    json_t *mark = mark_json(r, id);
    if (mark == NULL || history(r, id, lesson, student, "create", NULL, json_incref(mark)) != 0 ||
        notify_lesson(r, student, lesson, "mark",
                      json_pack("{s:I,s:s,s:s,s:O}", "mark_id", (json_int_t)id, "value", value,
                                "comment", comment, "weight", json_object_get(mark, "weight"))) !=
            0) {
        json_decref(mark);
        return reply_db_error(r);
    }
    return reply_json(r, 201, mark);
}

/* The lesson of a mark, after checking the caller may write it. */
static int mark_lesson_or_respond(struct req *r, int64_t mark, struct lesson_ref *l,
                                  int64_t *student)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT lesson_id, student_id FROM marks WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r), -1;
    db_bind_int(st, ":id", mark);
    int rc = db_step(st);
    int64_t lesson = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (student)
        *student = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (lesson == 0)
        return reply_error(r, 404, "not_found", "no such mark"), -1;
    return authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, l);
}

/* PATCH /api/v1/marks/{id} {value?, control_form?, weight?, comment?, exam?} */
static int marks_update(struct req *r)
{
    int64_t id = r->params[0];
    const char *value = NULL, *form = NULL, *comment = NULL;
    json_int_t weight = 0;
    int exam = -1;
    if (body_unpack_or_respond(r, "{s?s,s?s,s?I,s?s,s?b}", "value", &value, "control_form", &form,
                               "weight", &weight, "comment", &comment, "exam", &exam) != 0)
        return r->status;
    if ((value && !journal_mark_valid(&r->node->cfg, value)) || weight < 0 || weight > 10 ||
        (comment && !school_text_ok(comment, 0, 1000)))
        return reply_error(r, 400, "bad_request",
                           "value on the scale, weight 1-10, comment up "
                           "to 1000 characters");
    struct lesson_ref l;
    int64_t student;
    if (mark_lesson_or_respond(r, id, &l, &student) != 0)
        return r->status;
    int64_t form_id = 0;
    int default_weight = 0;
    if (form && (form_id = form_by_code(r, form, &default_weight)) <= 0)
        return form_id < 0 ? reply_db_error(r)
                           : reply_error(r, 400, "bad_request", "unknown control_form '%s'", form);
    json_t *old = mark_json(r, id);
    sqlite3_stmt *st = db_stmt(r->db, "UPDATE marks SET value = coalesce(:v, value), "
                                      "control_form_id = coalesce(:f, control_form_id), "
                                      "weight = coalesce(:w, weight), comment = coalesce(:c, "
                                      "comment), exam = CASE WHEN :e < 0 THEN exam ELSE :e END, "
                                      "updated_at = unixepoch() WHERE id = :id");
    if (st == NULL || old == NULL) {
        json_decref(old);
        return reply_db_error(r);
    }
    db_bind_text(st, ":v", value);
    if (form_id)
        db_bind_int(st, ":f", form_id);
    else
        db_bind_null(st, ":f");
    /* A new control form brings its weight unless one is given. */
    if (weight || form_id)
        db_bind_int(st, ":w", weight ? weight : default_weight);
    else
        db_bind_null(st, ":w");
    db_bind_text(st, ":c", comment);
    db_bind_int(st, ":e", exam);
    db_bind_int(st, ":id", id);
    if (db_exec_stmt(st) != SQLITE_DONE) {
        json_decref(old);
        return reply_db_error(r);
    }
    json_t *mark = mark_json(r, id);
    json_t *change = mark && old ? json_pack("{s:I,s:O,s:O}", "mark_id", (json_int_t)id, "old",
                                             json_object_get(old, "value"), "value",
                                             json_object_get(mark, "value"))
                                 : NULL;
    if (mark == NULL || history(r, id, l.id, student, "update", old, json_incref(mark)) != 0) {
        json_decref(change);
        json_decref(mark);
        return reply_db_error(r);
    }
    if (notify_lesson(r, student, l.id, "mark_changed", change) != 0) { /* takes `change` */
        json_decref(mark);
        return reply_db_error(r);
    }
    return reply_json(r, 200, mark);
}

static int marks_delete(struct req *r)
{
    int64_t id = r->params[0];
    struct lesson_ref l;
    int64_t student;
    if (mark_lesson_or_respond(r, id, &l, &student) != 0)
        return r->status;
    json_t *old = mark_json(r, id);
    sqlite3_stmt *st = db_stmt(r->db, "DELETE FROM marks WHERE id = :id");
    if (st == NULL || old == NULL) {
        json_decref(old);
        return reply_db_error(r);
    }
    db_bind_int(st, ":id", id);
    if (db_exec_stmt(st) != SQLITE_DONE || history(r, id, l.id, student, "delete", old, NULL))
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* GET /api/v1/marks/{id}/history: the audit trail of one mark, for the school's admin. */
static int marks_history(struct req *r)
{
    int64_t id = r->params[0];
    sqlite3_stmt *st = db_stmt(r->db, "SELECT h.lesson_id, c.institution_id FROM mark_history h "
                                      "JOIN lessons l ON l.id = h.lesson_id JOIN classes c ON "
                                      "c.id = l.class_id WHERE h.mark_id = :id LIMIT 1");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    int rc = db_step(st);
    int64_t inst = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (inst == 0)
        return reply_error(r, 404, "not_found", "no such mark");
    if (!caller_is_admin(r) && !caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return reply_error(r, 403, "forbidden", "the trail is for the school's admin");
    st = db_stmt(r->db, "SELECT h.action, h.old, h.new, h.at, p.id, p.last_name, p.first_name, "
                        "p.middle_name FROM mark_history h JOIN persons p ON p.id = h.by_person "
                        "WHERE h.mark_id = :id ORDER BY h.id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    json_t *items = json_array();
    while (db_step(st) == SQLITE_ROW) {
        json_t *old = json_loads(db_col_text(st, 1), 0, NULL);
        json_t *new = json_loads(db_col_text(st, 2), 0, NULL);
        json_array_append_new(items, json_pack("{s:s,s:o,s:o,s:I,s:{s:I,s:o}}", "action",
                                               db_col_text(st, 0), "old", old ? old : json_null(),
                                               "new", new ? new : json_null(), "at",
                                               (json_int_t)sqlite3_column_int64(st, 3), "by", "id",
                                               (json_int_t)sqlite3_column_int64(st, 4), "name",
                                               ref_person_name(st, 5)));
    }
    sqlite3_reset(st);
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* PUT /api/v1/lessons/{id}/attendance {student_id, status: absent|late|ill|null,
 * justified?}: null clears the entry (the student was present). */
static int marks_attendance(struct req *r)
{
    int64_t lesson = r->params[0];
    json_int_t student;
    json_t *status;
    int justified = 0;
    if (body_unpack_or_respond(r, "{s:I,s:o,s?b}", "student_id", &student, "status", &status,
                               "justified", &justified) != 0)
        return r->status;
    const char *s = json_string_value(status);
    if (!json_is_null(status) &&
        !(s && (!strcmp(s, "absent") || !strcmp(s, "late") || !strcmp(s, "ill"))))
        return reply_error(r, 400, "bad_request", "status must be absent, late, ill or null");
    struct lesson_ref l;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, &l) != 0)
        return r->status;
    int in = student_in_lesson(r, &l, student);
    if (in <= 0)
        return in < 0 ? reply_db_error(r)
                      : reply_error(r, 400, "bad_request", "student %lld is not in this lesson",
                                    (long long)student);
    sqlite3_stmt *st =
        s ? db_stmt(r->db, "INSERT INTO attendance (lesson_id, student_id, status, justified, "
                           "set_by) VALUES (:l, :s, :st, :j OR EXISTS (SELECT 1 FROM "
                           "absence_notices n JOIN lessons l ON l.id = :l WHERE n.student_id = "
                           ":s AND l.date BETWEEN n.from_date AND n.to_date), :by) ON CONFLICT "
                           "DO UPDATE SET status = excluded.status, justified = "
                           "excluded.justified, set_by = excluded.set_by")
          : db_stmt(r->db, "DELETE FROM attendance WHERE lesson_id = :l AND student_id = :s");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":l", lesson);
    db_bind_int(st, ":s", student);
    if (s) {
        db_bind_text(st, ":st", s);
        db_bind_int(st, ":j", justified);
        db_bind_int(st, ":by", r->caller.person_id);
    }
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    if (s && notify_lesson(r, student, lesson, "absence", json_pack("{s:s}", "status", s)) != 0)
        return reply_db_error(r);
    if (s) { /* a notice may have justified it */
        st = db_stmt(r->db, "SELECT justified FROM attendance WHERE lesson_id = :l AND "
                            "student_id = :s");
        if (st == NULL)
            return reply_db_error(r);
        db_bind_int(st, ":l", lesson);
        db_bind_int(st, ":s", student);
        if (db_step(st) == SQLITE_ROW)
            justified = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    return reply_json(r, 200,
                      json_pack("{s:I,s:I,s:O,s:b}", "lesson_id", (json_int_t)lesson, "student_id",
                                (json_int_t)student, "status", status, "justified", justified));
}

/* POST /api/v1/lessons/{id}/homework {text, due_date} */
static int marks_homework(struct req *r)
{
    int64_t lesson = r->params[0];
    const char *text, *due;
    if (body_unpack_or_respond(r, "{s:s,s:s}", "text", &text, "due_date", &due) != 0)
        return r->status;
    if (!school_text_ok(text, 1, 5000) || !school_date_ok(due))
        return reply_error(r, 400, "bad_request", "text 1-5000 characters; due_date YYYY-MM-DD");
    struct lesson_ref l;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, &l) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO homework (lesson_id, text, due_date, "
                                      "created_by) VALUES (:l, :t, :d, :by)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":l", lesson);
    db_bind_text(st, ":t", text);
    db_bind_text(st, ":d", due);
    db_bind_int(st, ":by", r->caller.person_id);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t hw = db_last_id(r->db);
    json_t *note = lesson_note(r, lesson);
    if (note)
        json_object_update_new(note, json_pack("{s:s,s:s}", "text", text, "due_date", due));
    int rc = note ? notify_class(r->db, l.class_id, "homework", note) : -1;
    json_decref(note);
    if (rc != 0)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s,s:s}", "id", (json_int_t)hw, "lesson_id",
                                (json_int_t)lesson, "text", text, "due_date", due));
}

/* The current class of a student, or 0 (none) / -1 (error). */
static int64_t student_class(struct req *r, int64_t student)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT class_id FROM enrollments WHERE student_id = :s "
                                      "AND left_on IS NULL");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":s", student);
    int rc = db_step(st);
    int64_t c = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    return c;
}

/* PUT /api/v1/period-marks {student_id, subject_id, period_id (null: the final mark of the
 * year), value (null removes it)}: set by a teacher of the student's class and subject. */
static int marks_period_set(struct req *r)
{
    json_int_t student, subject;
    json_t *period, *value;
    if (body_unpack_or_respond(r, "{s:I,s:I,s:o,s:o}", "student_id", &student, "subject_id",
                               &subject, "period_id", &period, "value", &value) != 0)
        return r->status;
    if (!(json_is_null(period) || json_is_integer(period)) ||
        !(json_is_null(value) ||
          (json_is_string(value) && journal_mark_valid(&r->node->cfg, json_string_value(value)))))
        return reply_error(r, 400, "bad_request",
                           "period_id an id or null (final); value a mark of the scale or null");
    int64_t class_id = student_class(r, student);
    if (class_id <= 0)
        return class_id < 0 ? reply_db_error(r)
                            : reply_error(r, 404, "not_found", "no such student in a class");
    if (authz_teaching_or_respond(r, class_id, subject, false) != 0)
        return r->status;
    /* The period (when given) must be of the class's year. */
    sqlite3_stmt *st = db_stmt(r->db, "SELECT c.year_id FROM classes c WHERE c.id = :c AND "
                                      "(:p = 0 OR EXISTS (SELECT 1 FROM periods p WHERE p.id = "
                                      ":p AND p.year_id = c.year_id))");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":p", json_is_integer(period) ? json_integer_value(period) : 0);
    int rc = db_step(st);
    int64_t year = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (year == 0)
        return reply_error(r, 400, "bad_request", "the period is not in the class's year");
    st = json_is_null(value)
             ? db_stmt(r->db, "DELETE FROM period_marks WHERE student_id = :s AND subject_id = "
                              ":sub AND year_id = :y AND coalesce(period_id, 0) = :p")
             : db_stmt(r->db, "INSERT INTO period_marks (student_id, subject_id, year_id, "
                              "period_id, value, set_by) VALUES (:s, :sub, :y, nullif(:p, 0), "
                              ":v, :by) ON CONFLICT DO UPDATE SET value = excluded.value, "
                              "set_by = excluded.set_by, set_at = unixepoch()");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":sub", subject);
    db_bind_int(st, ":y", year);
    db_bind_int(st, ":p", json_is_integer(period) ? json_integer_value(period) : 0);
    if (!json_is_null(value)) {
        db_bind_text(st, ":v", json_string_value(value));
        db_bind_int(st, ":by", r->caller.person_id);
    }
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    char object[48];
    snprintf(object, sizeof(object), "person/%lld", (long long)student);
    if (audit(r, 0, "period_mark.set", object, json_deep_copy(r->body)) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_deep_copy(r->body));
}

/* 1 when the caller is a medic of a school the student is enrolled in, 0 not, -1 error. */
static int is_medic_of(struct req *r, int64_t student)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT c.institution_id FROM enrollments e JOIN classes c "
                                      "ON c.id = e.class_id WHERE e.student_id = :s AND "
                                      "e.left_on IS NULL");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":s", student);
    int rc, yes = 0;
    while ((rc = db_step(st)) == SQLITE_ROW)
        yes |= caller_has(r, ROLE_MEDIC, sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? yes : -1;
}

/* An absence notice of `kind`: "parent" (POST /api/v1/students/{id}/absence-notices, by a
 * parent) or "medical" (POST /api/v1/students/{id}/medical-notes, by the school's medic),
 * {from, to, reason}. Absences already marked in the range become justified, and those marked
 * later are justified when marked. */
static int notice_create(struct req *r, const char *kind)
{
    int64_t student = r->params[0];
    const char *from, *to, *reason;
    if (body_unpack_or_respond(r, "{s:s,s:s,s:s}", "from", &from, "to", &to, "reason", &reason) !=
        0)
        return r->status;
    if (!school_date_ok(from) || !school_date_ok(to) || strcmp(from, to) > 0 ||
        !school_text_ok(reason, 1, 1000))
        return reply_error(r, 400, "bad_request",
                           "from <= to, dates YYYY-MM-DD; reason 1-1000 characters");
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    bool medical = strcmp(kind, "medical") == 0;
    int g = medical ? is_medic_of(r, student) : authz_guardian(r, r->caller.person_id, student);
    if (g <= 0)
        return g < 0 ? reply_db_error(r)
                     : reply_error(r, 403, "forbidden", "%s",
                                   medical ? "only the medic of the student's school writes "
                                             "medical notes"
                                           : "only the student's parents send notices");
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO absence_notices (student_id, from_date, "
                                      "to_date, reason, created_by, kind) VALUES (:s, :f, :t, "
                                      ":r, :by, :k)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":k", kind);
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":f", from);
    db_bind_text(st, ":t", to);
    db_bind_text(st, ":r", reason);
    db_bind_int(st, ":by", r->caller.person_id);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    st = db_stmt(r->db, "UPDATE attendance SET justified = 1 WHERE student_id = :s AND "
                        "status IN ('absent', 'ill') AND lesson_id IN (SELECT id FROM lessons "
                        "WHERE date BETWEEN :f AND :t)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":f", from);
    db_bind_text(st, ":t", to);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    int justified = db_changes(r->db);
    st = db_stmt(r->db, "SELECT c.class_teacher_id FROM enrollments e JOIN classes c ON c.id = "
                        "e.class_id WHERE e.student_id = :s AND e.left_on IS NULL AND "
                        "c.class_teacher_id IS NOT NULL");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    int64_t class_teacher = db_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (class_teacher) {
        json_t *note = json_pack("{s:I,s:s,s:s,s:s,s:s}", "notice_id", (json_int_t)id, "from", from,
                                 "to", to, "reason", reason, "kind", kind);
        int rc = notify_person(r->db, class_teacher, student, "absence_notice", note);
        json_decref(note);
        if (rc != 0)
            return reply_db_error(r);
    }
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:i}", "id", (json_int_t)id, "student_id",
                                (json_int_t)student, "kind", kind, "from", from, "to", to, "reason",
                                reason, "justified", justified));
}

static int marks_notice_create(struct req *r)
{
    return notice_create(r, "parent");
}

static int marks_medical_note_create(struct req *r)
{
    return notice_create(r, "medical");
}

static json_t *notice_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:{s:I,s:o},s:s,s:s,s:s,s:I,s:{s:I,s:o},s:s}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "student", "id",
                     (json_int_t)sqlite3_column_int64(st, 1), "name", ref_person_name(st, 2),
                     "from", db_col_text(st, 5), "to", db_col_text(st, 6), "reason",
                     db_col_text(st, 7), "created_at", (json_int_t)sqlite3_column_int64(st, 8),
                     "by", "id", (json_int_t)sqlite3_column_int64(st, 9), "name",
                     ref_person_name(st, 10), "kind", db_col_text(st, 13));
}

#define NOTICE_COLUMNS                                                                             \
    "n.id, p.id, p.last_name, p.first_name, p.middle_name, n.from_date, n.to_date, n.reason, "     \
    "n.created_at, b.id, b.last_name, b.first_name, b.middle_name, n.kind"

/* GET /api/v1/students/{id}/absence-notices: for those who may see the student. */
static int marks_notices_of_student(struct req *r)
{
    if (authz_student_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "SELECT " NOTICE_COLUMNS " FROM absence_notices n JOIN "
                                      "persons p ON p.id = n.student_id JOIN persons b ON b.id = "
                                      "n.created_by WHERE n.student_id = :s ORDER BY "
                                      "n.from_date DESC, n.id DESC LIMIT 200");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", r->params[0]);
    return reply_rows(r, st, notice_row);
}

/* GET /api/v1/classes/{id}/absence-notices: the class teacher, the class's teachers and the
 * school's admins see the notices of the class's students. */
static int marks_notices_of_class(struct req *r)
{
    if (authz_class_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "SELECT " NOTICE_COLUMNS " FROM enrollments e JOIN "
                                      "absence_notices n ON n.student_id = e.student_id JOIN "
                                      "persons p ON p.id = n.student_id JOIN persons b ON b.id = "
                                      "n.created_by WHERE e.class_id = :c AND e.left_on IS NULL "
                                      "ORDER BY n.from_date DESC, n.id DESC LIMIT 500");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":c", r->params[0]);
    return reply_rows(r, st, notice_row);
}

/* GET /api/v1/control-forms: the region's control forms and their default weights. */
static int marks_forms(struct req *r)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT code, name, weight FROM control_forms ORDER BY "
                                      "weight, id");
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    while (db_step(st) == SQLITE_ROW)
        json_array_append_new(items,
                              json_pack("{s:s,s:s,s:i}", "code", db_col_text(st, 0), "name",
                                        db_col_text(st, 1), "weight", sqlite3_column_int(st, 2)));
    sqlite3_reset(st);
    const struct mes_config *cfg = &r->node->cfg;
    return reply_json(r, 200,
                      json_pack("{s:o,s:{s:i,s:i,s:b}}", "items", items, "scale", "min",
                                cfg->grading.min, "max", cfg->grading.max, "pass_fail",
                                cfg->grading.pass_fail));
}

const struct route marks_routes[] = {
    {.method = "POST",
     .path = "/api/v1/students/{id}/absence-notices",
     .handler = marks_notice_create,
     .access = ACCESS_USER,
     .allow = ROLE_PARENT,
     .writes = true,
     .name = "absence_notice_create"},
    {.method = "POST",
     .path = "/api/v1/students/{id}/medical-notes",
     .handler = marks_medical_note_create,
     .access = ACCESS_USER,
     .allow = ROLE_MEDIC,
     .writes = true,
     .name = "medical_note_create"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/absence-notices",
     .handler = marks_notices_of_student,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "absence_notices_student"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/absence-notices",
     .handler = marks_notices_of_class,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "absence_notices_class"},
    {.method = "PUT",
     .path = "/api/v1/period-marks",
     .handler = marks_period_set,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "period_mark_set"},
    {.method = "GET",
     .path = "/api/v1/control-forms",
     .handler = marks_forms,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "control_forms"},
    {.method = "POST",
     .path = "/api/v1/lessons/{id}/marks",
     .handler = marks_create,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "mark_create"},
    {.method = "PATCH",
     .path = "/api/v1/marks/{id}",
     .handler = marks_update,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "mark_update"},
    {.method = "DELETE",
     .path = "/api/v1/marks/{id}",
     .handler = marks_delete,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "mark_delete"},
    {.method = "GET",
     .path = "/api/v1/marks/{id}/history",
     .handler = marks_history,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN,
     .name = "mark_history"},
    {.method = "PUT",
     .path = "/api/v1/lessons/{id}/attendance",
     .handler = marks_attendance,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "attendance_set"},
    {.method = "POST",
     .path = "/api/v1/lessons/{id}/homework",
     .handler = marks_homework,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "homework_create"},
    {0},
};
