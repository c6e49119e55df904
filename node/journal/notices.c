/*
 * Absence notices: a parent files a notice for a date range, the school's medic a medical note;
 * absences already marked in the range become justified (and later ones are when marked, in
 * attendance.c), the class teacher is notified. The student's and the class's notices are
 * listed for those who may see them.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

/* 1 when the caller is a medic of a school the student is enrolled in, 0 not, -1 error. */
static int is_medic_of(struct req *r, int64_t student)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.institution_id FROM enrollments e JOIN classes c ON "
                                "c.id = e.class_id WHERE e.student_id = :s AND e.left_on IS NULL",
                                DB_ARGS(DB_INT(":s", student)));
    int rc, yes = 0;
    while (db_next(st, &rc))
        yes |= caller_has(r, ROLE_MEDIC, sqlite3_column_int64(st, 0));
    return rc == SQLITE_DONE ? yes : -1;
}

/* Justifies the student's absences (absent, ill) in the lessons of from..to: through the
 * student's attendance (attendance_by_student) and each entry's lesson by its key, never a scan
 * of the region's lessons by date (the unit test checks the plan). */
const char notices_justify_sql[] =
    "UPDATE attendance SET justified = 1 WHERE student_id = :s AND status IN ('absent', 'ill') "
    "AND EXISTS (SELECT 1 FROM lessons l WHERE l.id = attendance.lesson_id AND l.date BETWEEN "
    ":f AND :t)";

/* Tells the student's class teacher (if any) of notice `id`. 0, or -1 on a storage failure. */
static int notice_tell_class_teacher(struct req *r, int64_t student, int64_t id, const char *kind,
                                     const char *from, const char *to, const char *reason)
{
    int64_t teacher = 0;
    int rc = db_int(r->db, &teacher,
                    "SELECT c.class_teacher_id FROM enrollments e JOIN classes c ON c.id = "
                    "e.class_id WHERE e.student_id = :s AND e.left_on IS NULL AND "
                    "c.class_teacher_id IS NOT NULL",
                    DB_ARGS(DB_INT(":s", student)));
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 0 : -1;
    json_t *note = json_pack("{s:I,s:s,s:s,s:s,s:s}", "notice_id", (json_int_t)id, "from", from,
                             "to", to, "reason", reason, "kind", kind);
    rc = notify_person(r->db, teacher, student, "absence_notice", note);
    json_decref(note);
    return rc;
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
    if (!school_date_ok(from))
        return reply_field_error(r, 400, "bad_date", "from", "from: a date YYYY-MM-DD");
    if (!school_date_ok(to))
        return reply_field_error(r, 400, "bad_date", "to", "to: a date YYYY-MM-DD");
    if (strcmp(from, to) > 0)
        return reply_field_error(r, 400, "bad_range", "to", "to must not be before from");
    if (!school_text_ok(reason, 1, 1000))
        return reply_field_error(r, 400, "bad_request", "reason", "reason 1-1000 characters");
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
    if (db_run(r->db,
               "INSERT INTO absence_notices (student_id, from_date, to_date, reason, created_by, "
               "kind) VALUES (:s, :f, :t, :r, :by, :k)",
               DB_ARGS(DB_INT(":s", student), DB_TEXT(":f", from), DB_TEXT(":t", to),
                       DB_TEXT(":r", reason), DB_INT(":by", r->caller.person_id),
                       DB_TEXT(":k", kind))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    if (db_run(r->db, notices_justify_sql,
               DB_ARGS(DB_INT(":s", student), DB_TEXT(":f", from), DB_TEXT(":t", to))) !=
        SQLITE_DONE)
        return reply_db_error(r);
    int justified = db_changes(r->db);
    if (notice_tell_class_teacher(r, student, id, kind, from, to, reason) != 0)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:i}", "id", (json_int_t)id, "student_id",
                                (json_int_t)student, "kind", kind, "from", from, "to", to, "reason",
                                reason, "justified", justified));
}

static int notices_create(struct req *r)
{
    return notice_create(r, "parent");
}

static int notices_medical_create(struct req *r)
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
static int notices_of_student(struct req *r)
{
    if (authz_student_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " NOTICE_COLUMNS " FROM absence_notices n JOIN persons p "
                                "ON p.id = n.student_id JOIN persons b ON b.id = n.created_by "
                                "WHERE n.student_id = :s ORDER BY n.from_date DESC, n.id DESC "
                                "LIMIT 200",
                                DB_ARGS(DB_INT(":s", r->params[0])));
    if (st == NULL)
        return reply_db_error(r);
    return reply_rows(r, st, notice_row);
}

/* GET /api/v1/classes/{id}/absence-notices: the class teacher, the class's teachers and the
 * school's admins see the notices of the class's students. */
static int notices_of_class(struct req *r)
{
    if (authz_class_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " NOTICE_COLUMNS " FROM enrollments e JOIN "
                                "absence_notices n ON n.student_id = e.student_id JOIN persons p "
                                "ON p.id = n.student_id JOIN persons b ON b.id = n.created_by "
                                "WHERE e.class_id = :c AND e.left_on IS NULL ORDER BY "
                                "n.from_date DESC, n.id DESC LIMIT 500",
                                DB_ARGS(DB_INT(":c", r->params[0])));
    if (st == NULL)
        return reply_db_error(r);
    return reply_rows(r, st, notice_row);
}

const struct route notices_routes[] = {
    {.method = "POST",
     .path = "/api/v1/students/{id}/absence-notices",
     .handler = notices_create,
     .access = ACCESS_USER,
     .allow = ROLE_PARENT,
     .writes = true,
     .name = "absence_notice_create"},
    {.method = "POST",
     .path = "/api/v1/students/{id}/medical-notes",
     .handler = notices_medical_create,
     .access = ACCESS_USER,
     .allow = ROLE_MEDIC,
     .writes = true,
     .name = "medical_note_create"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/absence-notices",
     .handler = notices_of_student,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "absence_notices_student"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/absence-notices",
     .handler = notices_of_class,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "absence_notices_class"},
    {0},
};
