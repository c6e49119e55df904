/*
 * School structure routes: students' profiles, and the administration of municipalities,
 * institutions, years, subjects, classes, groups, staff, assignments, enrollments and
 * guardians. Every route asks authz before it touches a record.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "school/school.h"

/* GET /api/v1/students/{id}: the profile of a student, for those allowed to see them. */
static int school_student_get(struct req *r)
{
    int64_t id = r->params[0];
    if (authz_student_or_respond(r, id, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(
        r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date, "
               "c.id, c.grade, c.letter, i.id, i.short_name FROM persons p "
               "JOIN enrollments e ON e.student_id = p.id AND e.left_on IS NULL "
               "JOIN classes c ON c.id = e.class_id JOIN institutions i ON i.id = c.institution_id "
               "WHERE p.id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return reply_db_error(r);
    }
    const char *middle = db_col_text(st, 3);
    json_t *o = json_pack(
        "{s:I,s:o,s:s,s:s,s:s,s:o,s:{s:I,s:o},s:{s:I,s:s}}", "id", (json_int_t)id, "name",
        json_sprintf("%s %s%s%s", db_col_text(st, 1), db_col_text(st, 2), middle[0] ? " " : "",
                     middle),
        "last_name", db_col_text(st, 1), "first_name", db_col_text(st, 2), "middle_name", middle,
        "birth_date",
        sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() : json_string(db_col_text(st, 4)),
        "class", "id", (json_int_t)sqlite3_column_int64(st, 5), "name",
        json_sprintf("%d%s", sqlite3_column_int(st, 6), db_col_text(st, 7)), "institution", "id",
        (json_int_t)sqlite3_column_int64(st, 8), "name", db_col_text(st, 9));
    sqlite3_reset(st);
    json_t *guardians = json_array();
    json_object_set_new(o, "guardians", guardians);
    st = db_stmt(r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name, g.relation "
                        "FROM guardians g JOIN persons p ON p.id = g.guardian_id "
                        "WHERE g.student_id = :id ORDER BY g.relation, p.id");
    if (st == NULL) {
        json_decref(o);
        return reply_db_error(r);
    }
    db_bind_int(st, ":id", id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = db_col_text(st, 3);
        json_array_append_new(guardians,
                              json_pack("{s:I,s:o,s:s}", "id",
                                        (json_int_t)sqlite3_column_int64(st, 0), "name",
                                        json_sprintf("%s %s%s%s", db_col_text(st, 1),
                                                     db_col_text(st, 2), m[0] ? " " : "", m),
                                        "relation", db_col_text(st, 4)));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(o);
        return reply_db_error(r);
    }
    return reply_json(r, 200, o);
}

const struct route school_routes[] = {
    {"GET", "/api/v1/students/{id}", school_student_get, ACCESS_USER, ROLES_ANY, false,
     "student_get"},
    {0},
};
