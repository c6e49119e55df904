/*
 * Marks: a teacher gives, changes and deletes marks (each change kept in mark_history, the
 * family notified), the school's admin reads a mark's trail, a teacher sets period and final
 * marks; the region's control forms and their weights. Only a teacher who may write the lesson
 * (authz.c) writes here, and only on a lesson that has taken place (not cancelled, not dated
 * after today). Expected load: the busiest writes of the node (a teacher fills a class
 * in a minute), each a few indexed statements in one short transaction.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

/* The mark as JSON (for answers and history), or NULL when it does not exist or on a storage
 * failure. */
static json_t *mark_json(struct req *r, int64_t id)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT m.id, m.lesson_id, m.student_id, m.value, f.code, f.name, "
                                "m.weight, m.comment, m.exam, m.created_at, m.updated_at FROM "
                                "marks m JOIN control_forms f ON f.id = m.control_form_id WHERE "
                                "m.id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    if (!db_next(st, &rc))
        return NULL;
    json_t *o =
        json_pack("{s:I,s:I,s:I,s:s,s:{s:s,s:s},s:i,s:s,s:b,s:I,s:I}", "id",
                  (json_int_t)sqlite3_column_int64(st, 0), "lesson_id",
                  (json_int_t)sqlite3_column_int64(st, 1), "student_id",
                  (json_int_t)sqlite3_column_int64(st, 2), "value", db_col_text(st, 3),
                  "control_form", "code", db_col_text(st, 4), "name", db_col_text(st, 5), "weight",
                  sqlite3_column_int(st, 6), "comment", db_col_text(st, 7), "exam",
                  sqlite3_column_int(st, 8), "created_at", (json_int_t)sqlite3_column_int64(st, 9),
                  "updated_at", (json_int_t)sqlite3_column_int64(st, 10));
    sqlite3_reset(st);
    return o;
}

/* Records a change of a mark: old and new are stolen (either may be NULL). 0 or -1. */
static int history(struct req *r, int64_t mark, int64_t lesson, int64_t student, const char *action,
                   json_t *old, json_t *new)
{
    char *o = old ? json_dumps(old, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *n = new ? json_dumps(new, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(old);
    json_decref(new);
    int rc = db_run(r->db,
                    "INSERT INTO mark_history (mark_id, lesson_id, student_id, action, old, new, "
                    "by_person) VALUES (:m, :l, :s, :a, :o, :n, :by)",
                    DB_ARGS(DB_INT(":m", mark), DB_INT(":l", lesson), DB_INT(":s", student),
                            DB_TEXT(":a", action), DB_TEXT(":o", o), DB_TEXT(":n", n),
                            DB_INT(":by", r->caller.person_id)));
    free(o);
    free(n);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Control form id and default weight by code; 0 when unknown, -1 on a storage failure. */
static int64_t form_by_code(struct req *r, const char *code, int *weight)
{
    sqlite3_stmt *st = db_query(r->db, "SELECT id, weight FROM control_forms WHERE code = :c",
                                DB_ARGS(DB_TEXT(":c", code)));
    int rc;
    if (!db_next(st, &rc))
        return rc == SQLITE_DONE ? 0 : -1;
    int64_t id = sqlite3_column_int64(st, 0);
    *weight = sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    return id;
}

/* Whether marks may be put on lesson `l` now: not on a cancelled lesson, nor on one dated after
 * today (journal_today). 0; -1 after answering 409 (lesson_cancelled, future_lesson) or 500. */
static int lesson_writable_or_respond(struct req *r, const struct lesson_ref *l)
{
    if (l->cancelled) {
        reply_error(r, 409, "lesson_cancelled", "the lesson is cancelled");
        return -1;
    }
    int future = journal_lesson_future(r->db, l->id);
    if (future < 0)
        reply_db_error(r);
    else if (future > 0)
        reply_error(r, 409, "future_lesson", "the lesson has not taken place yet");
    return future != 0 ? -1 : 0;
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
        return reply_field_error(r, 400, "bad_request", "value",
                                 "value '%s' is not a mark of the scale %d-%d%s", value,
                                 r->node->cfg.grading.min, r->node->cfg.grading.max,
                                 r->node->cfg.grading.pass_fail ? " or pass/fail" : "");
    if (weight < 0 || weight > 10)
        return reply_field_error(r, 400, "bad_request", "weight", "weight 1-10");
    if (!school_text_ok(comment, 0, 1000))
        return reply_field_error(r, 400, "bad_request", "comment", "comment up to 1000 characters");
    struct lesson_ref l;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, &l) != 0)
        return r->status;
    if (lesson_writable_or_respond(r, &l) != 0)
        return r->status;
    int in = journal_student_in_lesson(r->db, l.class_id, l.group_id, student);
    if (in <= 0)
        return in < 0 ? reply_db_error(r)
                      : reply_field_error(r, 400, "bad_request", "student_id",
                                          "student %lld is not in this lesson", (long long)student);
    int default_weight = 0;
    int64_t form_id = form_by_code(r, form, &default_weight);
    if (form_id <= 0)
        return form_id < 0 ? reply_db_error(r)
                           : reply_field_error(r, 400, "bad_request", "control_form",
                                               "unknown control_form '%s'", form);
    if (db_run(r->db,
               "INSERT INTO marks (lesson_id, student_id, value, control_form_id, weight, "
               "comment, exam, created_by) VALUES (:l, :s, :v, :f, :w, :c, :e, :by)",
               DB_ARGS(DB_INT(":l", lesson), DB_INT(":s", student), DB_TEXT(":v", value),
                       DB_INT(":f", form_id), DB_INT(":w", weight ? weight : default_weight),
                       DB_TEXT(":c", comment), DB_INT(":e", exam),
                       DB_INT(":by", r->caller.person_id))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    json_t *mark = mark_json(r, id);
    if (mark == NULL || history(r, id, lesson, student, "create", NULL, json_incref(mark)) != 0 ||
        journal_notify_lesson(r->db, student, lesson, "mark",
                              json_pack("{s:I,s:s,s:s,s:O}", "mark_id", (json_int_t)id, "value",
                                        value, "comment", comment, "weight",
                                        json_object_get(mark, "weight"))) != 0) {
        json_decref(mark);
        return reply_db_error(r);
    }
    return reply_json(r, 201, mark);
}

/* The lesson of a mark, after checking the caller may write it. 0; -1 after answering 404,
 * 403 or 500. */
static int mark_lesson_or_respond(struct req *r, int64_t mark, struct lesson_ref *l,
                                  int64_t *student)
{
    sqlite3_stmt *st = db_query(r->db, "SELECT lesson_id, student_id FROM marks WHERE id = :id",
                                DB_ARGS(DB_INT(":id", mark)));
    int rc;
    if (!db_next(st, &rc)) {
        if (rc == SQLITE_DONE)
            return reply_error(r, 404, "not_found", "no such mark"), -1;
        return reply_db_error(r), -1;
    }
    int64_t lesson = sqlite3_column_int64(st, 0);
    if (student)
        *student = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
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
    if (value && !journal_mark_valid(&r->node->cfg, value))
        return reply_field_error(r, 400, "bad_request", "value", "value '%s' is not on the scale",
                                 value);
    if (weight < 0 || weight > 10)
        return reply_field_error(r, 400, "bad_request", "weight", "weight 1-10");
    if (comment && !school_text_ok(comment, 0, 1000))
        return reply_field_error(r, 400, "bad_request", "comment", "comment up to 1000 characters");
    struct lesson_ref l;
    int64_t student;
    if (mark_lesson_or_respond(r, id, &l, &student) != 0)
        return r->status;
    /* A mark is changed as it is put: not on a future lesson (deleting one stays possible). */
    int future = journal_lesson_future(r->db, l.id);
    if (future != 0)
        return future < 0
                   ? reply_db_error(r)
                   : reply_error(r, 409, "future_lesson", "the lesson has not taken place yet");
    int64_t form_id = 0;
    int default_weight = 0;
    if (form && (form_id = form_by_code(r, form, &default_weight)) <= 0)
        return form_id < 0 ? reply_db_error(r)
                           : reply_field_error(r, 400, "bad_request", "control_form",
                                               "unknown control_form '%s'", form);
    json_t *old = mark_json(r, id);
    if (old == NULL)
        return reply_db_error(r);
    /* A new control form brings its weight unless one is given. */
    int64_t new_weight = weight ? weight : form_id ? default_weight : 0;
    if (db_run(r->db,
               "UPDATE marks SET value = coalesce(:v, value), control_form_id = "
               "coalesce(nullif(:f, 0), control_form_id), weight = coalesce(nullif(:w, 0), "
               "weight), comment = coalesce(:c, comment), exam = CASE WHEN :e < 0 THEN exam "
               "ELSE :e END, updated_at = unixepoch() WHERE id = :id",
               DB_ARGS(DB_TEXT(":v", value), DB_INT(":f", form_id), DB_INT(":w", new_weight),
                       DB_TEXT(":c", comment), DB_INT(":e", exam), DB_INT(":id", id))) !=
        SQLITE_DONE) {
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
    if (journal_notify_lesson(r->db, student, l.id, "mark_changed", change) !=
        0) { /* takes `change` */
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
    if (old == NULL)
        return reply_db_error(r);
    if (db_run(r->db, "DELETE FROM marks WHERE id = :id", DB_ARGS(DB_INT(":id", id))) !=
        SQLITE_DONE) {
        json_decref(old);
        return reply_db_error(r);
    }
    if (history(r, id, l.id, student, "delete", old, NULL) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* GET /api/v1/marks/{id}/history: the audit trail of one mark, for the school's admin. */
static int marks_history(struct req *r)
{
    int64_t id = r->params[0];
    int64_t inst = 0;
    int rc = db_int(r->db, &inst,
                    "SELECT c.institution_id FROM mark_history h JOIN lessons l ON l.id = "
                    "h.lesson_id JOIN classes c ON c.id = l.class_id WHERE h.mark_id = :id "
                    "LIMIT 1",
                    DB_ARGS(DB_INT(":id", id)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    if (inst == 0)
        return reply_error(r, 404, "not_found", "no such mark");
    if (!caller_is_admin(r) && !caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return reply_error(r, 403, "forbidden", "the trail is for the school's admin");
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT h.action, h.old, h.new, h.at, p.id, p.last_name, "
                                "p.first_name, p.middle_name FROM mark_history h JOIN persons p "
                                "ON p.id = h.by_person WHERE h.mark_id = :id ORDER BY h.id",
                                DB_ARGS(DB_INT(":id", id)));
    json_t *items = json_array();
    while (db_next(st, &rc)) {
        json_t *old = json_loads(db_col_text(st, 1), 0, NULL);
        json_t *new = json_loads(db_col_text(st, 2), 0, NULL);
        json_array_append_new(items, json_pack("{s:s,s:o,s:o,s:I,s:{s:I,s:o}}", "action",
                                               db_col_text(st, 0), "old", old ? old : json_null(),
                                               "new", new ? new : json_null(), "at",
                                               (json_int_t)sqlite3_column_int64(st, 3), "by", "id",
                                               (json_int_t)sqlite3_column_int64(st, 4), "name",
                                               ref_person_name(st, 5)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* The current class of a student, or 0 (none) / -1 (error). */
static int64_t student_class(struct req *r, int64_t student)
{
    int64_t c = 0;
    int rc = db_int(r->db, &c,
                    "SELECT class_id FROM enrollments WHERE student_id = :s AND left_on IS NULL",
                    DB_ARGS(DB_INT(":s", student)));
    return rc == SQLITE_ROW ? c : rc == SQLITE_DONE ? 0 : -1;
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
    if (!(json_is_null(period) || json_is_integer(period)))
        return reply_field_error(r, 400, "bad_request", "period_id",
                                 "period_id an id or null (the final mark)");
    if (!(json_is_null(value) ||
          (json_is_string(value) && journal_mark_valid(&r->node->cfg, json_string_value(value)))))
        return reply_field_error(r, 400, "bad_request", "value",
                                 "value a mark of the scale or null");
    int64_t class_id = student_class(r, student);
    if (class_id <= 0)
        return class_id < 0 ? reply_db_error(r)
                            : reply_error(r, 404, "not_found", "no such student in a class");
    if (authz_teaching_or_respond(r, class_id, subject, false) != 0)
        return r->status;
    /* The period (when given) must be of the class's year. */
    int64_t p = json_is_integer(period) ? json_integer_value(period) : 0, year = 0;
    int rc = db_int(r->db, &year,
                    "SELECT c.year_id FROM classes c WHERE c.id = :c AND (:p = 0 OR EXISTS "
                    "(SELECT 1 FROM periods p WHERE p.id = :p AND p.year_id = c.year_id))",
                    DB_ARGS(DB_INT(":c", class_id), DB_INT(":p", p)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    if (year == 0)
        return reply_field_error(r, 400, "bad_request", "period_id",
                                 "the period is not in the class's year");
    rc = json_is_null(value)
             ? db_run(r->db,
                      "DELETE FROM period_marks WHERE student_id = :s AND subject_id = :sub AND "
                      "year_id = :y AND coalesce(period_id, 0) = :p",
                      DB_ARGS(DB_INT(":s", student), DB_INT(":sub", subject), DB_INT(":y", year),
                              DB_INT(":p", p)))
             : db_run(r->db,
                      "INSERT INTO period_marks (student_id, subject_id, year_id, period_id, "
                      "value, set_by) VALUES (:s, :sub, :y, nullif(:p, 0), :v, :by) ON CONFLICT "
                      "DO UPDATE SET value = excluded.value, set_by = excluded.set_by, set_at = "
                      "unixepoch()",
                      DB_ARGS(DB_INT(":s", student), DB_INT(":sub", subject), DB_INT(":y", year),
                              DB_INT(":p", p), DB_TEXT(":v", json_string_value(value)),
                              DB_INT(":by", r->caller.person_id)));
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    char object[48];
    snprintf(object, sizeof(object), "person/%lld", (long long)student);
    if (audit(r, 0, "period_mark.set", object, json_deep_copy(r->body)) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_deep_copy(r->body));
}

/* GET /api/v1/control-forms: the region's control forms and their default weights. */
static int marks_forms(struct req *r)
{
    sqlite3_stmt *st =
        db_query(r->db, "SELECT code, name, weight FROM control_forms ORDER BY weight, id", NULL);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items,
                              json_pack("{s:s,s:s,s:i}", "code", db_col_text(st, 0), "name",
                                        db_col_text(st, 1), "weight", sqlite3_column_int(st, 2)));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    const struct mes_config *cfg = &r->node->cfg;
    return reply_json(r, 200,
                      json_pack("{s:o,s:{s:i,s:i,s:b}}", "items", items, "scale", "min",
                                cfg->grading.min, "max", cfg->grading.max, "pass_fail",
                                cfg->grading.pass_fail));
}

const struct route marks_routes[] = {
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
    {0},
};
