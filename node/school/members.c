/*
 * Who is in what, as a school's administrators keep it: the groups of a class with their
 * members (members added and removed one at a time), the enrolments of a class past and
 * present, a student leaving the school (the enrolment closes with left_on; nothing is
 * deleted, so marks and attendance stay with the student), and the teaching assignments of a
 * school. Changes are audited with the school. Load: a page view at a time.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

/* ---- groups -------------------------------------------------------------------------------- */

/* GET /api/v1/classes/{id}/groups: the class's groups, each with its members. */
static int members_groups(struct req *r)
{
    int64_t class_id = r->params[0];
    if (authz_class_or_respond(r, class_id, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT g.id, g.name, p.id, p.last_name, p.first_name, p.middle_name FROM groups g "
        "LEFT JOIN group_members m ON m.group_id = g.id LEFT JOIN persons p ON p.id = "
        "m.student_id WHERE g.class_id = :c ORDER BY g.name, g.id, p.last_name, p.first_name, "
        "p.id",
        DB_ARGS(DB_INT(":c", class_id)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array(), *group = NULL;
    int64_t last = 0;
    int rc;
    while (db_next(st, &rc)) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id != last) {
            group = json_pack("{s:I,s:s,s:[]}", "id", (json_int_t)id, "name", db_col_text(st, 1),
                              "members");
            json_array_append_new(items, group);
            last = id;
        }
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            json_array_append_new(json_object_get(group, "members"),
                                  json_pack("{s:I,s:o}", "id",
                                            (json_int_t)sqlite3_column_int64(st, 2), "name",
                                            ref_person_name(st, 3)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* The class of a group, after checking the caller may change it: 0 with *class_id set, or -1
 * after answering (404 no such group, 403). */
static int group_class_or_respond(struct req *r, int64_t group, int64_t *class_id)
{
    *class_id = 0;
    int rc = db_int(r->db, class_id, "SELECT class_id FROM groups WHERE id = :g",
                    DB_ARGS(DB_INT(":g", group)));
    if (rc != SQLITE_ROW)
        return (rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such group")
                                  : reply_db_error(r)),
               -1;
    return authz_class_or_respond(r, *class_id, AUTHZ_WRITE);
}

/* POST /api/v1/groups/{id}/members {"student_id"}: a student of the group's class joins it. */
static int members_group_add(struct req *r)
{
    int64_t group = r->params[0], class_id;
    json_int_t student;
    if (body_unpack_or_respond(r, "{s:I}", "student_id", &student) != 0)
        return r->status;
    if (group_class_or_respond(r, group, &class_id) != 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO group_members (group_id, student_id) SELECT :g, student_id FROM "
               "enrollments WHERE student_id = :s AND class_id = :c AND left_on IS NULL "
               "ON CONFLICT DO NOTHING",
               DB_ARGS(DB_INT(":g", group), DB_INT(":s", student), DB_INT(":c", class_id))) !=
        SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) != 1) {
        int in =
            db_exists(r->db, "SELECT 1 FROM group_members WHERE group_id = :g AND student_id = :s",
                      DB_ARGS(DB_INT(":g", group), DB_INT(":s", student)));
        if (in < 0)
            return reply_db_error(r);
        return in ? reply_error(r, 409, "already_member", "the student is in the group already")
                  : reply_error(r, 400, "not_in_class", "student %lld is not in this class",
                                (long long)student);
    }
    if (school_audit_or_respond(r, school_class_institution(r, class_id), "group.member_add",
                                "group", group, json_pack("{s:I}", "student_id", student)) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I}", "group_id", (json_int_t)group, "student_id", student));
}

/* DELETE /api/v1/groups/{id}/members/{student}. */
static int members_group_remove(struct req *r)
{
    int64_t group = r->params[0], student = r->params[1], class_id;
    if (group_class_or_respond(r, group, &class_id) != 0)
        return r->status;
    if (db_run(r->db, "DELETE FROM group_members WHERE group_id = :g AND student_id = :s",
               DB_ARGS(DB_INT(":g", group), DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) != 1)
        return reply_error(r, 404, "not_member", "the student is not in the group");
    if (school_audit_or_respond(r, school_class_institution(r, class_id), "group.member_remove",
                                "group", group, json_pack("{s:I}", "student_id", student)) != 0)
        return r->status;
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- enrolments ---------------------------------------------------------------------------- */

/* GET /api/v1/classes/{id}/enrollments: the class's enrolments, current first, then those
 * that ended (left_on), each with the class the student went on to when it was a transfer. */
static int members_enrollments(struct req *r)
{
    int64_t class_id = r->params[0];
    if (authz_class_or_respond(r, class_id, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT e.id, e.enrolled_on, e.left_on, p.id, p.last_name, p.first_name, "
        "p.middle_name, n.id, n.grade, n.letter FROM enrollments e "
        "JOIN persons p ON p.id = e.student_id "
        "LEFT JOIN classes n ON e.left_on IS NOT NULL AND n.id = (SELECT x.class_id FROM "
        "enrollments x WHERE x.student_id = e.student_id AND x.id > e.id AND x.enrolled_on = "
        "e.left_on ORDER BY x.id LIMIT 1) "
        "WHERE e.class_id = :c ORDER BY e.left_on IS NOT NULL, e.left_on DESC, p.last_name, "
        "p.first_name, e.id",
        DB_ARGS(DB_INT(":c", class_id)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *o =
            json_pack("{s:I,s:s,s:o,s:{s:I,s:o}}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                      "enrolled_on", db_col_text(st, 1), "left_on",
                      sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null()
                                                                : json_string(db_col_text(st, 2)),
                      "student", "id", (json_int_t)sqlite3_column_int64(st, 3), "name",
                      ref_person_name(st, 4));
        if (sqlite3_column_type(st, 7) != SQLITE_NULL)
            json_object_set_new(o, "to_class", ref_class(st, 7));
        json_array_append_new(items, o);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/enrollments/{id}/leave {"left_on"}: the student leaves the school. The
 * enrolment ends (never deleted) and the student leaves the class's groups. */
static int members_leave(struct req *r)
{
    int64_t id = r->params[0];
    const char *on;
    if (body_unpack_or_respond(r, "{s:s}", "left_on", &on) != 0)
        return r->status;
    if (!school_date_ok(on))
        return reply_field_error(r, 400, "bad_date", "left_on",
                                 "left_on must be a date YYYY-MM-DD");
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT class_id, student_id, enrolled_on, left_on IS NULL "
                                "FROM enrollments WHERE id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    if (!db_next(st, &rc))
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such enrollment")
                                 : reply_db_error(r);
    int64_t class_id = sqlite3_column_int64(st, 0), student = sqlite3_column_int64(st, 1);
    bool early = strcmp(on, db_col_text(st, 2)) < 0, current = sqlite3_column_int(st, 3);
    sqlite3_reset(st);
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    if (!current)
        return reply_error(r, 409, "already_left", "this enrollment has ended already");
    if (early)
        return reply_error(r, 400, "left_before_enrolled", "left_on is before enrolled_on");
    if (db_run(r->db, "UPDATE enrollments SET left_on = :on WHERE id = :id",
               DB_ARGS(DB_TEXT(":on", on), DB_INT(":id", id))) != SQLITE_DONE ||
        db_run(r->db,
               "DELETE FROM group_members WHERE student_id = :s AND group_id IN "
               "(SELECT id FROM groups WHERE class_id = :c)",
               DB_ARGS(DB_INT(":s", student), DB_INT(":c", class_id))) != SQLITE_DONE)
        return reply_db_error(r);
    if (school_audit_or_respond(r, school_class_institution(r, class_id), "enrollment.leave",
                                "person", student,
                                json_pack("{s:I,s:I,s:s}", "enrollment_id", (json_int_t)id,
                                          "class_id", (json_int_t)class_id, "left_on", on)) != 0)
        return r->status;
    return reply_json(r, 200,
                      json_pack("{s:I,s:I,s:I,s:s}", "id", (json_int_t)id, "student_id",
                                (json_int_t)student, "class_id", (json_int_t)class_id, "left_on",
                                on));
}

/* ---- teaching assignments ------------------------------------------------------------------ */

/* GET /api/v1/institutions/{id}/assignments[?class_id=]: who teaches what to which class or
 * group at the school; for its admins (a teacher finds their own in /api/v1/me). */
static int members_assignments(struct req *r)
{
    int64_t inst = r->params[0], class_id = 0;
    char buf[24];
    if (req_query(r, "class_id", buf, sizeof(buf)) >= 0 &&
        req_query_id_or_respond(r, "class_id", &class_id) != 0)
        return r->status;
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT a.id, p.id, p.last_name, p.first_name, p.middle_name, c.id, c.grade, c.letter, "
        "s.id, s.name, g.id, g.name FROM teaching_assignments a "
        "JOIN classes c ON c.id = a.class_id JOIN persons p ON p.id = a.teacher_id "
        "JOIN subjects s ON s.id = a.subject_id LEFT JOIN groups g ON g.id = a.group_id "
        "WHERE c.institution_id = :i AND (:c = 0 OR c.id = :c) "
        "ORDER BY c.grade, c.letter, s.name, g.name, p.last_name, a.id",
        DB_ARGS(DB_INT(":i", inst), DB_INT(":c", class_id)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *o = json_pack(
            "{s:I,s:{s:I,s:o},s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "teacher",
            "id", (json_int_t)sqlite3_column_int64(st, 1), "name", ref_person_name(st, 2), "class",
            ref_class(st, 5), "subject", ref_named(st, 8));
        if (sqlite3_column_type(st, 10) != SQLITE_NULL)
            json_object_set_new(o, "group", ref_named(st, 10));
        json_array_append_new(items, o);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

const struct route members_routes[] = {
    {.method = "GET",
     .path = "/api/v1/classes/{id}/groups",
     .handler = members_groups,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "group_list"},
    {.method = "POST",
     .path = "/api/v1/groups/{id}/members",
     .handler = members_group_add,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "group_member_add"},
    {.method = "DELETE",
     .path = "/api/v1/groups/{id}/members/{student}",
     .handler = members_group_remove,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "group_member_remove"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/enrollments",
     .handler = members_enrollments,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "enrollment_list"},
    {.method = "POST",
     .path = "/api/v1/enrollments/{id}/leave",
     .handler = members_leave,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "enrollment_leave"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/assignments",
     .handler = members_assignments,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "assignment_list"},
    {0},
};
