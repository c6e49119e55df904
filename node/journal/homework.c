/*
 * Homework, from its creation to its hand-ins: the lesson's teacher gives homework (the class
 * is notified); the student's list of homework due in a range, with progress and files; the
 * student marks a homework done and may hand in an answer and files;
 * the teacher of the lesson sees every hand-in of the class and answers with feedback (a mark,
 * when deserved, goes through the marks route). Students see only their own. The teacher may
 * attach files (material) to the homework, which the lesson's students and their parents read.
 * A hand-in the teacher has seen (the hand-ins page marks what it shows; feedback does too)
 * can no longer be withdrawn or lose files; until then the student may withdraw it whole.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "cache/cache.h"
#include "files/files.h"
#include "journal/journal.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

int64_t homework_lesson_or_respond(struct req *r, int64_t homework)
{
    int64_t l = 0;
    int rc = db_int(r->db, &l, "SELECT lesson_id FROM homework WHERE id = :id",
                    DB_ARGS(DB_INT(":id", homework)));
    if (rc == SQLITE_DONE)
        reply_error(r, 404, "not_found", "no such homework");
    else if (rc != SQLITE_ROW)
        reply_db_error(r);
    return rc == SQLITE_ROW ? l : 0;
}

/* Whether `person` is a student of the lesson (its class and group) or, with `parents`, a
 * parent of one: 1 yes, 0 no, -1 database error. */
static int lesson_audience(struct req *r, int64_t lesson, int64_t person, bool parents)
{
    return db_exists(
        r->db,
        "SELECT 1 FROM lessons l JOIN enrollments e ON e.class_id = l.class_id AND "
        "e.left_on IS NULL WHERE l.id = :l AND (e.student_id = :me OR (:parents AND "
        "e.student_id IN (SELECT student_id FROM guardians WHERE guardian_id = "
        ":me))) AND (l.group_id IS NULL OR EXISTS (SELECT 1 FROM group_members m "
        "WHERE m.group_id = l.group_id AND m.student_id = e.student_id)) LIMIT 1",
        DB_ARGS(DB_INT(":l", lesson), DB_INT(":me", person), DB_INT(":parents", parents)));
}

/* The homework's lesson when the caller is one of the students it was set to; 0 after
 * answering otherwise (404 no such homework, 403 not theirs). */
static int64_t student_homework_lesson_or_respond(struct req *r, int64_t hw)
{
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0)
        return 0;
    int in = lesson_audience(r, lesson, r->caller.person_id, false);
    if (in == 1)
        return lesson;
    if (in < 0)
        reply_db_error(r);
    else
        reply_error(r, 403, "forbidden", "only the students of the lesson hand it in");
    return 0;
}
/* PUT /api/v1/homework/{id}/submission {done?, text?}: by the student the homework is for. The
 * answer may change after the teacher has seen it, but not be emptied (409 "seen"). */
static int homework_submit(struct req *r)
{
    int64_t hw = r->params[0];
    int done = -1;
    const char *text = NULL;
    if (body_unpack_or_respond(r, "{s?b,s?s}", "done", &done, "text", &text) != 0)
        return r->status;
    if (done == -1 && text == NULL)
        return reply_field_error(r, 400, "bad_request", "done", "give done and/or text");
    if (text && !school_text_ok(text, 0, 20000))
        return reply_field_error(r, 400, "bad_request", "text", "text up to 20000 characters");
    if (student_homework_lesson_or_respond(r, hw) == 0)
        return r->status;
    if (text && text[0] == '\0') {
        /* Emptying the answer takes it back: not once the teacher has seen it. */
        int seen = db_exists(r->db,
                             "SELECT 1 FROM homework_submissions WHERE homework_id = :h AND "
                             "student_id = :me AND seen_at IS NOT NULL AND text <> ''",
                             DB_ARGS(DB_INT(":h", hw), DB_INT(":me", r->caller.person_id)));
        if (seen != 0)
            return seen < 0 ? reply_db_error(r)
                            : reply_field_error(r, 409, "seen", "text",
                                                "the teacher has seen the answer");
    }
    if (db_run(r->db,
               "INSERT INTO homework_submissions (homework_id, student_id, done, text) "
               "VALUES (:h, :me, max(:d, 0), coalesce(:t, '')) ON CONFLICT DO UPDATE "
               "SET done = CASE WHEN :d < 0 THEN done ELSE :d END, text = coalesce(:t, "
               "text), updated_at = unixepoch()",
               DB_ARGS(DB_INT(":h", hw), DB_INT(":me", r->caller.person_id), DB_INT(":d", done),
                       DB_TEXT(":t", text))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:I,s:b}", "homework_id", (json_int_t)hw, "ok", 1));
}

static json_t *submission_row(sqlite3_stmt *st)
{
    json_t *files = json_loads(db_col_text(st, 8), 0, NULL);
    json_t *marks = json_loads(db_col_text(st, 12), 0, NULL);
    json_t *o =
        json_pack("{s:{s:I,s:o},s:b,s:s,s:I,s:s,s:o,s:o}", "student", "id",
                  (json_int_t)sqlite3_column_int64(st, 0), "name", ref_person_name(st, 1), "done",
                  sqlite3_column_int(st, 4), "text", db_col_text(st, 5), "updated_at",
                  (json_int_t)sqlite3_column_int64(st, 6), "feedback", db_col_text(st, 7), "files",
                  files ? files : json_array(), "marks", marks ? marks : json_array());
    for (int i = 9; i <= 10; i++)
        json_object_set_new(o, i == 9 ? "feedback_at" : "seen_at",
                            sqlite3_column_type(st, i) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int64(st, i)));
    json_object_set_new(o, "new", json_boolean(sqlite3_column_int(st, 11)));
    return o;
}

/* The homework and its lesson as the hand-ins page heads them: a new object or NULL (none, or
 * a storage failure: db_failure tells). */
static json_t *submissions_head(struct req *r, int64_t hw)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT h.id, h.text, h.due_date, l.id, l.date, l.number, "
                                "c.id, c.grade, c.letter, s.id, s.name FROM homework h JOIN "
                                "lessons l ON l.id = h.lesson_id JOIN classes c ON c.id = "
                                "l.class_id JOIN subjects s ON s.id = l.subject_id WHERE "
                                "h.id = :h",
                                DB_ARGS(DB_INT(":h", hw)));
    int rc;
    if (!db_next(st, &rc))
        return NULL;
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:{s:I,s:s,s:i,s:o,s:o}}", "id", (json_int_t)sqlite3_column_int64(st, 0),
        "text", db_col_text(st, 1), "due_date", db_col_text(st, 2), "lesson", "id",
        (json_int_t)sqlite3_column_int64(st, 3), "date", db_col_text(st, 4), "number",
        sqlite3_column_int(st, 5), "class", ref_class(st, 6), "subject", ref_named(st, 9));
    sqlite3_reset(st);
    return o;
}

static json_t *missing_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     ref_person_name(st, 1));
}

/* GET /api/v1/homework/{id}/submissions: for a teacher who may write the lesson. The homework
 * with its lesson, every hand-in (answer, files, feedback, when the teacher saw it, "new" when
 * unseen or changed since, the student's marks on the lesson) and the lesson's students who
 * handed nothing in ("missing"). Reading marks nothing seen: the page posts .../seen for what
 * it shows. */
static int homework_submissions(struct req *r)
{
    int64_t hw = r->params[0];
    struct lesson_ref l;
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0)
        return r->status;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, &l) != 0)
        return r->status;
    json_t *head = submissions_head(r, hw);
    if (head == NULL)
        return reply_db_error(r);
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, s.done, s.text, s.updated_at, "
        "s.feedback, (SELECT json_group_array(json_object('id', f.id, 'name', f.name, 'type', "
        "f.type)) FROM homework_files f WHERE f.homework_id = s.homework_id AND f.student_id = "
        "s.student_id), s.feedback_at, s.seen_at, s.seen_at IS NULL OR s.updated_at > "
        "s.seen_at, (SELECT json_group_array(json_object('id', m.id, 'value', m.value, "
        "'control_form', json_object('code', cf.code, 'name', cf.name), 'weight', m.weight)) "
        "FROM marks m JOIN control_forms cf ON cf.id = m.control_form_id WHERE m.lesson_id = "
        ":l AND m.student_id = s.student_id) FROM homework_submissions s JOIN persons p ON "
        "p.id = s.student_id WHERE s.homework_id = :h ORDER BY p.last_name, p.first_name",
        DB_ARGS(DB_INT(":h", hw), DB_INT(":l", lesson)));
    json_t *items = json_array(), *missing = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, submission_row(st));
    if (rc == SQLITE_DONE) {
        st =
            db_query(r->db,
                     "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM enrollments e "
                     "JOIN persons p ON p.id = e.student_id WHERE e.class_id = :c AND "
                     "e.left_on IS NULL AND (:g = 0 OR EXISTS (SELECT 1 FROM group_members m "
                     "WHERE m.group_id = :g AND m.student_id = e.student_id)) AND NOT EXISTS "
                     "(SELECT 1 FROM homework_submissions s WHERE s.homework_id = :h AND "
                     "s.student_id = e.student_id) ORDER BY p.last_name, p.first_name",
                     DB_ARGS(DB_INT(":c", l.class_id), DB_INT(":g", l.group_id), DB_INT(":h", hw)));
        while (db_next(st, &rc))
            json_array_append_new(missing, missing_row(st));
    }
    if (rc != SQLITE_DONE) {
        json_decref(head);
        json_decref(items);
        json_decref(missing);
        return reply_db_error(r);
    }
    return reply_json(
        r, 200, json_pack("{s:o,s:o,s:o}", "homework", head, "items", items, "missing", missing));
}

/* POST /api/v1/homework/{id}/submissions/seen {students?: [id, ...]}: the teacher has seen the
 * hand-ins of these students (all of the homework's when absent). Answers how many. */
static int homework_seen(struct req *r)
{
    int64_t hw = r->params[0];
    json_t *students = NULL;
    if (body_unpack_or_respond(r, "{s?o}", "students", &students) != 0)
        return r->status;
    if (students && !json_is_array(students))
        return reply_field_error(r, 400, "bad_request", "students", "students: an array of ids");
    size_t i;
    json_t *v;
    json_array_foreach(students, i, v) if (!json_is_integer(v)) return reply_field_error(
        r, 400, "bad_request", "students", "students: an array of ids");
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0 || authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, NULL) != 0)
        return r->status;
    char *ids = students ? json_dumps(students, JSON_COMPACT) : NULL;
    int rc = db_run(r->db,
                    "UPDATE homework_submissions SET seen_at = max(unixepoch(), updated_at) "
                    "WHERE homework_id = :h AND (:ids IS NULL OR student_id IN (SELECT value "
                    "FROM json_each(:ids)))",
                    DB_ARGS(DB_INT(":h", hw), DB_TEXT(":ids", ids)));
    free(ids);
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:I}", "seen", (json_int_t)db_changes(r->db)));
}

/* DELETE /api/v1/homework/{id}/submission: the student withdraws their hand-in (answer, done
 * and files) while the teacher has not seen it: 409 "seen" after. */
static int homework_withdraw(struct req *r)
{
    int64_t hw = r->params[0], me = r->caller.person_id;
    if (student_homework_lesson_or_respond(r, hw) == 0)
        return r->status;
    int64_t seen = 0;
    int rc = db_int(r->db, &seen,
                    "SELECT seen_at IS NOT NULL FROM homework_submissions WHERE homework_id = "
                    ":h AND student_id = :me",
                    DB_ARGS(DB_INT(":h", hw), DB_INT(":me", me)));
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "nothing handed in");
    if (rc != SQLITE_ROW)
        return reply_db_error(r);
    if (seen)
        return reply_error(r, 409, "seen", "the teacher has seen the hand-in");
    /* The files' blobs are released one by one: a hand-in holds a few files. */
    for (;;) {
        sqlite3_stmt *st = db_query(r->db,
                                    "SELECT id, blob_id FROM homework_files WHERE homework_id = "
                                    ":h AND student_id = :me LIMIT 1",
                                    DB_ARGS(DB_INT(":h", hw), DB_INT(":me", me)));
        if (!db_next(st, &rc))
            break;
        int64_t file = sqlite3_column_int64(st, 0), blob = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
        if (db_run(r->db, "DELETE FROM homework_files WHERE id = :id",
                   DB_ARGS(DB_INT(":id", file))) != SQLITE_DONE ||
            blob_release(r->db, blob) != 0)
            return reply_db_error(r);
    }
    if (rc != SQLITE_DONE ||
        db_run(r->db,
               "DELETE FROM homework_submissions WHERE homework_id = :h AND student_id = :me",
               DB_ARGS(DB_INT(":h", hw), DB_INT(":me", me))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* PUT /api/v1/homework/{id}/submissions/{student} {feedback}: the teacher answers (the
 * hand-in is seen from then on). */
static int homework_feedback(struct req *r)
{
    int64_t hw = r->params[0], student = r->params[1];
    const char *feedback;
    if (body_unpack_or_respond(r, "{s:s}", "feedback", &feedback) != 0)
        return r->status;
    if (!school_text_ok(feedback, 1, 5000))
        return reply_field_error(r, 400, "bad_request", "feedback",
                                 "feedback must be 1-5000 characters");
    int64_t lesson = homework_lesson_or_respond(r, hw);
    if (lesson == 0)
        return r->status;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, NULL) != 0)
        return r->status;
    if (db_run(r->db,
               "UPDATE homework_submissions SET feedback = :f, feedback_by = :me, "
               "feedback_at = unixepoch(), seen_at = max(unixepoch(), updated_at) WHERE "
               "homework_id = :h AND student_id = :s",
               DB_ARGS(DB_TEXT(":f", feedback), DB_INT(":me", r->caller.person_id),
                       DB_INT(":h", hw), DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) == 0)
        return reply_error(r, 404, "not_found", "the student has not handed anything in");
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* Adds r->upload as a file of homework `hw`: the teacher's material (student 0) or a hand-in. */
static int file_add(struct req *r, int64_t hw, int64_t student)
{
    char name[256];
    if (req_query(r, "name", name, sizeof(name)) < 0 || !file_name_ok(name))
        return reply_error(r, 400, "bad_request",
                           "query parameter 'name' must be a file name of 1-200 bytes");
    int64_t blob = blob_store_or_respond(r);
    if (blob == 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO homework_files (homework_id, student_id, name, "
               "type, blob_id, uploaded_by) VALUES (:h, nullif(:s, 0), "
               ":n, :t, :b, :me)",
               DB_ARGS(DB_INT(":h", hw), DB_INT(":s", student), DB_TEXT(":n", name),
                       DB_TEXT(":t", r->upload->type), DB_INT(":b", blob),
                       DB_INT(":me", r->caller.person_id))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)db_last_id(r->db), "name",
                                name, "type", r->upload->type, "size",
                                (json_int_t)r->upload->size));
}

/* POST /api/v1/homework/{id}/files?name=NAME (body: the file): material by the lesson's
 * teacher. */
static int homework_file_add(struct req *r)
{
    int64_t lesson = homework_lesson_or_respond(r, r->params[0]);
    if (lesson == 0 || authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, NULL) != 0)
        return r->status;
    return file_add(r, r->params[0], 0);
}

/* POST /api/v1/homework/{id}/submission/files?name=NAME (body: the file): a student hands in
 * a file; the hand-in is created when it is the first thing handed in. */
static int homework_submission_file_add(struct req *r)
{
    int64_t hw = r->params[0], me = r->caller.person_id;
    if (student_homework_lesson_or_respond(r, hw) == 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO homework_submissions (homework_id, student_id) "
               "VALUES (:h, :me) ON CONFLICT DO UPDATE SET updated_at = "
               "unixepoch()",
               DB_ARGS(DB_INT(":h", hw), DB_INT(":me", me))) != SQLITE_DONE)
        return reply_db_error(r);
    return file_add(r, hw, me);
}

/* A homework file with what authorization needs; 0 after answering 404/500. */
struct hw_file {
    int64_t id, homework, lesson, student, blob, uploaded_by;
    char name[256], type[128];
};

static int file_or_respond(struct req *r, int64_t id, struct hw_file *f)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT f.homework_id, h.lesson_id, coalesce(f.student_id, "
                                "0), f.blob_id, f.uploaded_by, f.name, f.type FROM "
                                "homework_files f JOIN homework h ON h.id = f.homework_id "
                                "WHERE f.id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r), 0;
    int rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *f = (struct hw_file){.id = id,
                              .homework = sqlite3_column_int64(st, 0),
                              .lesson = sqlite3_column_int64(st, 1),
                              .student = sqlite3_column_int64(st, 2),
                              .blob = sqlite3_column_int64(st, 3),
                              .uploaded_by = sqlite3_column_int64(st, 4)};
        snprintf(f->name, sizeof(f->name), "%s", db_col_text(st, 5));
        snprintf(f->type, sizeof(f->type), "%s", db_col_text(st, 6));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such file")
                                 : reply_db_error(r),
               0;
    return 1;
}

/* GET /api/v1/homework-files/{id}: material, for the lesson's students, their parents and
 * whoever reads the lesson; a hand-in, for its student, their parents and the teachers who
 * may write the lesson. */
static int homework_file_get(struct req *r)
{
    struct hw_file f;
    if (!file_or_respond(r, r->params[0], &f))
        return r->status;
    int ok = f.student == 0 ? lesson_audience(r, f.lesson, r->caller.person_id, true)
             : r->caller.person_id == f.student ? 1
                                                : authz_guardian(r, r->caller.person_id, f.student);
    if (ok < 0)
        return reply_db_error(r);
    if (ok == 0 &&
        authz_lesson_or_respond(r, f.lesson, f.student ? AUTHZ_WRITE : AUTHZ_READ, NULL) != 0)
        return r->status;
    return reply_blob(r, f.blob, f.name, f.type);
}

/* DELETE /api/v1/homework-files/{id}: by whoever uploaded it, or material by a teacher who
 * may write the lesson. */
static int homework_file_delete(struct req *r)
{
    struct hw_file f;
    if (!file_or_respond(r, r->params[0], &f))
        return r->status;
    if (r->caller.person_id != f.uploaded_by &&
        (f.student != 0 || authz_lesson_or_respond(r, f.lesson, AUTHZ_WRITE, NULL) != 0))
        return r->status ? r->status
                         : reply_error(r, 403, "forbidden", "only its author removes a hand-in");
    if (f.student != 0) {
        int seen = db_exists(r->db,
                             "SELECT 1 FROM homework_submissions WHERE homework_id = :h AND "
                             "student_id = :s AND seen_at IS NOT NULL",
                             DB_ARGS(DB_INT(":h", f.homework), DB_INT(":s", f.student)));
        if (seen != 0)
            return seen < 0 ? reply_db_error(r)
                            : reply_error(r, 409, "seen", "the teacher has seen the hand-in");
    }
    if (db_run(r->db, "DELETE FROM homework_files WHERE id = :id", DB_ARGS(DB_INT(":id", f.id))) !=
            SQLITE_DONE ||
        blob_release(r->db, f.blob) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* POST /api/v1/lessons/{id}/homework {text, due_date} */
static int homework_create(struct req *r)
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
    if (db_run(r->db,
               "INSERT INTO homework (lesson_id, text, due_date, "
               "created_by) VALUES (:l, :t, :d, :by)",
               DB_ARGS(DB_INT(":l", lesson), DB_TEXT(":t", text), DB_TEXT(":d", due),
                       DB_INT(":by", r->caller.person_id))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t hw = db_last_id(r->db);
    json_t *note = journal_lesson_note(r->db, lesson);
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

static json_t *homework_item(sqlite3_stmt *st)
{
    json_t *files = json_loads(db_col_text(st, 10), 0, NULL);
    return json_pack("{s:I,s:s,s:s,s:{s:I,s:s,s:{s:I,s:s}},s:b,s:s,s:s,s:o,s:b,s:b}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "text", db_col_text(st, 1),
                     "due_date", db_col_text(st, 2), "lesson", "id",
                     (json_int_t)sqlite3_column_int64(st, 3), "date", db_col_text(st, 4), "subject",
                     "id", (json_int_t)sqlite3_column_int64(st, 5), "name", db_col_text(st, 6),
                     "done", sqlite3_column_int(st, 7), "answer", db_col_text(st, 8), "feedback",
                     db_col_text(st, 9), "files", files ? files : json_array(), "handed_in",
                     sqlite3_column_int(st, 11), "seen", sqlite3_column_int(st, 12));
}

/* GET /api/v1/students/{id}/homework?from=YYYY-MM-DD&to=YYYY-MM-DD: the homework due in the
 * range (default: two weeks from today), by due date, with the student's progress. */
static int homework_of_student(struct req *r)
{
    int64_t student = r->params[0];
    char from[16], to[16];
    int hf = journal_query_date_or_respond(r, "from", from);
    int ht = hf < 0 ? -1 : journal_query_date_or_respond(r, "to", to);
    if (hf < 0 || ht < 0)
        return r->status;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    if (!hf)
        strftime(from, sizeof(from), "%Y-%m-%d", &tm);
    if (!ht) {
        time_t end = journal_day(from) + 13 * 86400;
        struct tm e;
        gmtime_r(&end, &e);
        strftime(to, sizeof(to), "%Y-%m-%d", &e);
    }
    double days = difftime(journal_day(to), journal_day(from)) / 86400;
    if (days < 0 || days > 62)
        return reply_error(r, 400, "bad_request", "from..to must span 0-62 days");
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_student(r, &key, student);
    char range[40];
    snprintf(range, sizeof(range), "%s..%s", from, to);
    cache_key_text(&key, range);
    if (cache_reply(r, &key))
        return r->status;
    /* Homework is given at a lesson before it is due: lessons of up to 62 days before. */
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT h.id, h.text, h.due_date, l.id, l.date, s.id, s.name, coalesce(hs.done, 0), "
        "coalesce(hs.text, ''), coalesce(hs.feedback, ''), (SELECT json_group_array("
        "json_object('id', f.id, 'name', f.name, 'type', f.type, 'handed_in', json(CASE WHEN "
        "f.student_id IS NULL THEN 'false' ELSE 'true' END))) FROM homework_files f WHERE "
        "f.homework_id = h.id AND (f.student_id IS NULL OR f.student_id = :s)), "
        "hs.student_id IS NOT NULL, hs.seen_at IS NOT NULL "
        "FROM enrollments e JOIN lessons l ON l.class_id = e.class_id AND l.date BETWEEN "
        "date(:from, '-62 days') AND :to JOIN homework h ON h.lesson_id = l.id AND h.due_date "
        "BETWEEN :from AND :to JOIN subjects s ON s.id = l.subject_id LEFT JOIN "
        "homework_submissions hs ON hs.homework_id = h.id AND hs.student_id = :s "
        "WHERE e.student_id = :s AND e.left_on IS NULL AND (l.group_id IS NULL OR EXISTS "
        "(SELECT 1 FROM group_members gm WHERE gm.group_id = l.group_id AND gm.student_id = :s)) "
        "ORDER BY h.due_date, s.name, h.id",
        DB_ARGS(DB_INT(":s", student), DB_TEXT(":from", from), DB_TEXT(":to", to)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, homework_item(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return cache_reply_json(r, &key, 200,
                            json_pack("{s:I,s:s,s:s,s:o}", "student_id", (json_int_t)student,
                                      "from", from, "to", to, "items", items));
}

const struct route homework_routes[] = {
    {.method = "POST",
     .path = "/api/v1/homework/{id}/files",
     .handler = homework_file_add,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "homework_file_add",
     .upload = true},
    {.method = "POST",
     .path = "/api/v1/homework/{id}/submission/files",
     .handler = homework_submission_file_add,
     .access = ACCESS_USER,
     .allow = ROLE_STUDENT,
     .writes = true,
     .name = "homework_submission_file_add",
     .upload = true},
    {.method = "GET",
     .path = "/api/v1/homework-files/{id}",
     .handler = homework_file_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "homework_file_get"},
    {.method = "DELETE",
     .path = "/api/v1/homework-files/{id}",
     .handler = homework_file_delete,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER | ROLE_STUDENT,
     .writes = true,
     .name = "homework_file_delete"},
    {.method = "PUT",
     .path = "/api/v1/homework/{id}/submission",
     .handler = homework_submit,
     .access = ACCESS_USER,
     .allow = ROLE_STUDENT,
     .writes = true,
     .name = "homework_submit"},
    {.method = "DELETE",
     .path = "/api/v1/homework/{id}/submission",
     .handler = homework_withdraw,
     .access = ACCESS_USER,
     .allow = ROLE_STUDENT,
     .writes = true,
     .name = "homework_withdraw"},
    {.method = "POST",
     .path = "/api/v1/homework/{id}/submissions/seen",
     .handler = homework_seen,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "homework_seen"},
    {.method = "GET",
     .path = "/api/v1/homework/{id}/submissions",
     .handler = homework_submissions,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .name = "homework_submissions"},
    {.method = "PUT",
     .path = "/api/v1/homework/{id}/submissions/{student}",
     .handler = homework_feedback,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "homework_feedback"},
    {.method = "POST",
     .path = "/api/v1/lessons/{id}/homework",
     .handler = homework_create,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "homework_create"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/homework",
     .handler = homework_of_student,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_homework"},
    {0},
};
