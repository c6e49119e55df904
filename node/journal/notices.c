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
                     (json_int_t)sqlite3_column_int64(st, 1), "name", school_person_name(st, 2),
                     "from", db_col_text(st, 5), "to", db_col_text(st, 6), "reason",
                     db_col_text(st, 7), "created_at", (json_int_t)sqlite3_column_int64(st, 8),
                     "by", "id", (json_int_t)sqlite3_column_int64(st, 9), "name",
                     school_person_name(st, 10), "kind", db_col_text(st, 13));
}

#define NOTICE_COLUMNS                                                                             \
    "n.id, p.id, p.last_name, p.first_name, p.middle_name, n.from_date, n.to_date, n.reason, "     \
    "n.created_at, b.id, b.last_name, b.first_name, b.middle_name, n.kind"

/* GET /api/v1/students/{id}/absence-notices: for those who may see the student. */
static int notices_of_student(struct req *r)
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
static int notices_of_class(struct req *r)
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

const struct route notices_routes[] = {
    {"POST", "/api/v1/students/{id}/absence-notices", notices_create, ACCESS_USER, ROLE_PARENT,
     true, "absence_notice_create"},
    {"POST", "/api/v1/students/{id}/medical-notes", notices_medical_create, ACCESS_USER, ROLE_MEDIC,
     true, "medical_note_create"},
    {"GET", "/api/v1/students/{id}/absence-notices", notices_of_student, ACCESS_USER, ROLES_ANY,
     false, "absence_notices_student"},
    {"GET", "/api/v1/classes/{id}/absence-notices", notices_of_class, ACCESS_USER, ROLES_ANY, false,
     "absence_notices_class"},
    {0},
};
