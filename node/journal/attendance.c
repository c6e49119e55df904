/*
 * Attendance: a teacher of the lesson marks a student absent, late or ill (or present again);
 * an absence inside one of the student's absence notices (notices.c) is justified at once, and
 * the family is notified. Not on a lesson dated after today, nor on a cancelled one. Load: as
 * marks, a few indexed statements per entry.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"

/* PUT /api/v1/lessons/{id}/attendance {student_id, status: absent|late|ill|null,
 * justified?}: null clears the entry (the student was present). */
static int attendance_set(struct req *r)
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
        return reply_field_error(r, 400, "bad_request", "status",
                                 "status must be absent, late, ill or null");
    struct lesson_ref l;
    if (authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, &l) != 0)
        return r->status;
    /* Nobody is absent from a lesson that has not taken place (or will not): clearing an entry
     * stays possible. */
    if (s != NULL && l.cancelled)
        return reply_error(r, 409, "lesson_cancelled", "the lesson is cancelled");
    int future = s != NULL ? journal_lesson_future(r->db, lesson) : 0;
    if (future != 0)
        return future < 0
                   ? reply_db_error(r)
                   : reply_error(r, 409, "future_lesson", "the lesson has not taken place yet");
    int in = journal_student_in_lesson(r->db, l.class_id, l.group_id, student);
    if (in <= 0)
        return in < 0 ? reply_db_error(r)
                      : reply_field_error(r, 400, "bad_request", "student_id",
                                          "student %lld is not in this lesson", (long long)student);
    if (s == NULL) {
        if (db_run(r->db, "DELETE FROM attendance WHERE lesson_id = :l AND student_id = :s",
                   DB_ARGS(DB_INT(":l", lesson), DB_INT(":s", student))) != SQLITE_DONE)
            return reply_db_error(r);
    } else {
        int64_t j = 0;
        if (db_run(r->db,
                   "INSERT INTO attendance (lesson_id, student_id, status, justified, set_by) "
                   "VALUES (:l, :s, :st, :j OR EXISTS (SELECT 1 FROM absence_notices n JOIN "
                   "lessons l ON l.id = :l WHERE n.student_id = :s AND l.date BETWEEN "
                   "n.from_date AND n.to_date), :by) ON CONFLICT DO UPDATE SET status = "
                   "excluded.status, justified = excluded.justified, set_by = excluded.set_by",
                   DB_ARGS(DB_INT(":l", lesson), DB_INT(":s", student), DB_TEXT(":st", s),
                           DB_INT(":j", justified), DB_INT(":by", r->caller.person_id))) !=
                SQLITE_DONE ||
            journal_notify_lesson(r->db, student, lesson, "absence",
                                  json_pack("{s:s}", "status", s)) != 0)
            return reply_db_error(r);
        /* a notice may have justified it */
        if (db_int(r->db, &j,
                   "SELECT justified FROM attendance WHERE lesson_id = :l AND student_id = :s",
                   DB_ARGS(DB_INT(":l", lesson), DB_INT(":s", student))) != SQLITE_ROW)
            return reply_db_error(r);
        justified = (int)j;
    }
    return reply_json(r, 200,
                      json_pack("{s:I,s:I,s:O,s:b}", "lesson_id", (json_int_t)lesson, "student_id",
                                (json_int_t)student, "status", status, "justified", justified));
}

const struct route attendance_routes[] = {
    {.method = "PUT",
     .path = "/api/v1/lessons/{id}/attendance",
     .handler = attendance_set,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "attendance_set"},
    {0},
};
