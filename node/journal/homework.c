/*
 * Homework hand-ins: the student marks a homework done and may hand in an answer; the teacher
 * of the lesson sees every hand-in of the class and answers with feedback (a mark, when
 * deserved, goes through the marks route). Students see only their own.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

/* The lesson of a homework; answers 404 (none) or 500 itself and returns 0. */
static int64_t homework_lesson_or_respond(struct req *r, int64_t homework)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT lesson_id FROM homework WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r), 0;
    db_bind_int(st, ":id", homework);
    int rc = sqlite3_step(st);
    int64_t l = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (l == 0) {
        if (rc == SQLITE_DONE)
            reply_error(r, 404, "not_found", "no such homework");
        else
            reply_db_error(r);
    }
    return l;
}

/* PUT /api/v1/homework/{id}/submission {done?, text?}: by the student the homework is for. */
static int homework_submit(struct req *r)
{
    int64_t hw = r->params[0];
    int done = -1;
    const char *text = NULL;
    if (body_unpack_or_respond(r, "{s?b,s?s}", "done", &done, "text", &text) != 0)
        return r->status;
    if ((done == -1 && text == NULL) || (text && !school_text_ok(text, 0, 20000)))
        return reply_error(r, 400, "bad_request", "give done and/or text (up to 20000)");
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0)
        return r->status;
    /* The caller must be a student of the lesson's class (and group). */
    sqlite3_stmt *st = db_stmt(r->db, "SELECT 1 FROM lessons l JOIN enrollments e ON "
                                      "e.class_id = l.class_id AND e.left_on IS NULL WHERE "
                                      "l.id = :l AND e.student_id = :me AND (l.group_id IS NULL "
                                      "OR EXISTS (SELECT 1 FROM group_members m WHERE "
                                      "m.group_id = l.group_id AND m.student_id = :me))");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":l", lesson);
    db_bind_int(st, ":me", r->caller.person_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return reply_error(r, 403, "forbidden", "only the students of the lesson hand it in");
    st = db_stmt(r->db, "INSERT INTO homework_submissions (homework_id, student_id, done, text) "
                        "VALUES (:h, :me, max(:d, 0), coalesce(:t, '')) ON CONFLICT DO UPDATE "
                        "SET done = CASE WHEN :d < 0 THEN done ELSE :d END, text = coalesce(:t, "
                        "text), updated_at = unixepoch()");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":h", hw);
    db_bind_int(st, ":me", r->caller.person_id);
    db_bind_int(st, ":d", done);
    db_bind_text(st, ":t", text);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:I,s:b}", "homework_id", (json_int_t)hw, "ok", 1));
}

static json_t *submission_row(sqlite3_stmt *st)
{
    return json_pack("{s:{s:I,s:o},s:b,s:s,s:I,s:s}", "student", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "name", school_person_name(st, 1),
                     "done", sqlite3_column_int(st, 4), "text", db_col_text(st, 5), "updated_at",
                     (json_int_t)sqlite3_column_int64(st, 6), "feedback", db_col_text(st, 7));
}

/* GET /api/v1/homework/{id}/submissions: for a teacher who may write the lesson. */
static int homework_submissions(struct req *r)
{
    int64_t hw = r->params[0];
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0)
        return r->status;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, NULL) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
                                      "s.done, s.text, s.updated_at, s.feedback FROM "
                                      "homework_submissions s JOIN persons p ON p.id = "
                                      "s.student_id WHERE s.homework_id = :h ORDER BY "
                                      "p.last_name, p.first_name");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":h", hw);
    return reply_rows(r, st, submission_row);
}

/* PUT /api/v1/homework/{id}/submissions/{student} {feedback}: the teacher answers. */
static int homework_feedback(struct req *r)
{
    int64_t hw = r->params[0], student = r->params[1];
    const char *feedback;
    if (body_unpack_or_respond(r, "{s:s}", "feedback", &feedback) != 0)
        return r->status;
    if (!school_text_ok(feedback, 1, 5000))
        return reply_error(r, 400, "bad_request", "feedback must be 1-5000 characters");
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0)
        return r->status;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, NULL) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "UPDATE homework_submissions SET feedback = :f, "
                                      "feedback_by = :me, feedback_at = unixepoch() WHERE "
                                      "homework_id = :h AND student_id = :s");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":f", feedback);
    db_bind_int(st, ":me", r->caller.person_id);
    db_bind_int(st, ":h", hw);
    db_bind_int(st, ":s", student);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) == 0)
        return reply_error(r, 404, "not_found", "the student has not handed anything in");
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

const struct route homework_routes[] = {
    {"PUT", "/api/v1/homework/{id}/submission", homework_submit, ACCESS_USER, ROLE_STUDENT, true,
     "homework_submit"},
    {"GET", "/api/v1/homework/{id}/submissions", homework_submissions, ACCESS_USER, ROLE_TEACHER,
     false, "homework_submissions"},
    {"PUT", "/api/v1/homework/{id}/submissions/{student}", homework_feedback, ACCESS_USER,
     ROLE_TEACHER, true, "homework_feedback"},
    {0},
};
