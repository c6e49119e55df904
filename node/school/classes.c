/*
 * Classes and who is in them: classes of an institution (with their class teacher), their
 * students and groups, teaching assignments (a teacher, a class, a subject, maybe a group) and
 * enrollments of students. A school's admins change them, audited; the class's profile is read
 * by those authz.c lets see it. Load: writes at the start of a year; reads are indexed.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

/* ---- classes and groups ------------------------------------------------------------------- */

#define CLASS_COLUMNS                                                                              \
    "c.id, c.grade, c.letter, c.year_id, c.institution_id, t.id, t.last_name, t.first_name, "      \
    "(SELECT count(*) FROM enrollments e WHERE e.class_id = c.id AND e.left_on IS NULL), "         \
    "t.middle_name"

/* A class row of CLASS_COLUMNS (the class teacher's middle name comes last). */
static json_t *class_row(sqlite3_stmt *st)
{
    json_t *o = ref_class(st, 0);
    json_object_set_new(o, "grade", json_integer(sqlite3_column_int(st, 1)));
    json_object_set_new(o, "letter", json_string(db_col_text(st, 2)));
    json_object_set_new(o, "year_id", json_integer(sqlite3_column_int64(st, 3)));
    json_object_set_new(o, "institution_id", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(o, "students", json_integer(sqlite3_column_int64(st, 8)));
    json_t *teacher = json_null();
    if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
        const char *middle = db_col_text(st, 9);
        teacher = json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 5), "name",
                            json_sprintf("%s %s%s%s", db_col_text(st, 6), db_col_text(st, 7),
                                         middle[0] ? " " : "", middle));
    }
    json_object_set_new(o, "class_teacher", teacher);
    return o;
}

/* GET /api/v1/institutions/{id}/classes: for those who may read the institution. */
static int school_classes(struct req *r)
{
    int64_t inst = r->params[0];
    if (authz_institution_or_respond(r, inst, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " CLASS_COLUMNS " FROM classes c "
                                "LEFT JOIN persons t ON t.id = c.class_teacher_id "
                                "WHERE c.institution_id = :id ORDER BY c.grade, c.letter",
                                DB_ARGS(DB_INT(":id", inst)));
    if (st == NULL)
        return reply_db_error(r);
    return reply_rows(r, st, class_row);
}

static json_t *person_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     ref_person_name(st, 1));
}

static json_t *group_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     db_col_text(st, 1), "students", (json_int_t)sqlite3_column_int64(st, 2));
}

static json_t *assignment_row(sqlite3_stmt *st)
{
    json_t *o = json_pack(
        "{s:I,s:{s:I,s:o},s:{s:I,s:s}}", "id", (json_int_t)sqlite3_column_int64(st, 0), "teacher",
        "id", (json_int_t)sqlite3_column_int64(st, 1), "name", ref_person_name(st, 2), "subject",
        "id", (json_int_t)sqlite3_column_int64(st, 5), "name", db_col_text(st, 6));
    if (sqlite3_column_type(st, 7) != SQLITE_NULL)
        json_object_set_new(o, "group_id", json_integer(sqlite3_column_int64(st, 7)));
    return o;
}

static const char class_students_sql[] =
    "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM enrollments e "
    "JOIN persons p ON p.id = e.student_id WHERE e.class_id = :id AND e.left_on IS NULL "
    "ORDER BY p.last_name, p.first_name, p.id";

static int reply_class(struct req *r, int status, int64_t id)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " CLASS_COLUMNS " FROM classes c "
                                "LEFT JOIN persons t ON t.id = c.class_teacher_id "
                                "WHERE c.id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r);
    int rc = db_step(st);
    json_t *o = rc == SQLITE_ROW ? class_row(st) : NULL;
    sqlite3_reset(st);
    if (o == NULL)
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such class")
                                 : reply_db_error(r);
    if (school_add_list(r, o, "student_list", class_students_sql, id, person_row) != 0 ||
        school_add_list(
            r, o, "groups",
            "SELECT g.id, g.name, (SELECT count(*) FROM group_members m WHERE m.group_id "
            "= g.id) FROM groups g WHERE g.class_id = :id ORDER BY g.name",
            id, group_row) != 0 ||
        school_add_list(
            r, o, "assignments",
            "SELECT a.id, p.id, p.last_name, p.first_name, p.middle_name, s.id, s.name, "
            "a.group_id FROM teaching_assignments a JOIN persons p ON p.id = a.teacher_id "
            "JOIN subjects s ON s.id = a.subject_id WHERE a.class_id = :id "
            "ORDER BY s.name, a.id",
            id, assignment_row) != 0) {
        json_decref(o);
        return reply_db_error(r);
    }
    return reply_json(r, status, o);
}

/* GET /api/v1/classes/{id}: the class with its students, groups, assignments and class
 * teacher. */
static int school_class_get(struct req *r)
{
    if (authz_class_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    return reply_class(r, 200, r->params[0]);
}

/* GET /api/v1/classes/{id}/students: the students currently in the class. */
static int school_class_students(struct req *r)
{
    if (authz_class_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db, class_students_sql, DB_ARGS(DB_INT(":id", r->params[0])));
    if (st == NULL)
        return reply_db_error(r);
    return reply_rows(r, st, person_row);
}

/* Checks that a class teacher candidate works at the institution; answers 400 itself. */
static int class_teacher_ok_or_respond(struct req *r, int64_t teacher, int64_t inst)
{
    int s = school_is_staff(r, teacher, inst);
    if (s < 0)
        return reply_db_error(r), -1;
    if (s == 0) {
        reply_error(r, 400, "bad_request", "person %lld is not on the staff of this institution",
                    (long long)teacher);
        return -1;
    }
    return 0;
}

static bool letter_ok(const char *letter)
{
    return school_text_ok(letter, 1, 2);
}

/* POST /api/v1/institutions/{id}/classes {year_id, grade, letter, class_teacher_id?}. */
static int school_class_create(struct req *r)
{
    int64_t inst = r->params[0];
    json_int_t year, grade, teacher = 0;
    const char *letter;
    if (body_unpack_or_respond(r, "{s:I,s:I,s:s,s?I}", "year_id", &year, "grade", &grade, "letter",
                               &letter, "class_teacher_id", &teacher) != 0)
        return r->status;
    if (grade < 1 || grade > 11)
        return reply_field_error(r, 400, "bad_request", "grade", "grade must be 1-11");
    if (!letter_ok(letter))
        return reply_field_error(r, 400, "bad_request", "letter", "letter: 1-2 characters");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    int e = db_exists(r->db, "SELECT 1 FROM academic_years WHERE id = :id",
                      DB_ARGS(DB_INT(":id", year)));
    if (e <= 0)
        return e < 0 ? reply_db_error(r)
                     : reply_error(r, 400, "bad_request", "no academic year %lld", (long long)year);
    if (teacher && class_teacher_ok_or_respond(r, teacher, inst) != 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO classes (institution_id, year_id, grade, letter, class_teacher_id) "
               "VALUES (:i, :y, :g, :l, nullif(:t, 0))",
               DB_ARGS(DB_INT(":i", inst), DB_INT(":y", year), DB_INT(":g", grade),
                       DB_TEXT(":l", letter), DB_INT(":t", teacher))) != SQLITE_DONE)
        return school_reply_write_error(r, "class");
    int64_t id = db_last_id(r->db);
    if (school_audit_or_respond(r, inst, "class.create", "class", id, json_deep_copy(r->body)) != 0)
        return r->status;
    return reply_class(r, 201, id);
}

/* PATCH /api/v1/classes/{id} {letter?, class_teacher_id? (null removes)}. */
static int school_class_patch(struct req *r)
{
    int64_t id = r->params[0];
    const char *letter = NULL;
    json_t *teacher = NULL;
    if (body_unpack_or_respond(r, "{s?s,s?o}", "letter", &letter, "class_teacher_id", &teacher))
        return r->status;
    if ((letter && !letter_ok(letter)) ||
        (teacher && !json_is_null(teacher) &&
         !(json_is_integer(teacher) && json_integer_value(teacher) > 0)))
        return reply_error(r, 400, "bad_request",
                           "letter 1-2 characters; class_teacher_id a person id or null");
    if (authz_class_or_respond(r, id, AUTHZ_WRITE) != 0)
        return r->status;
    int64_t inst = school_class_institution(r, id);
    if (teacher && json_is_integer(teacher) &&
        class_teacher_ok_or_respond(r, json_integer_value(teacher), inst) != 0)
        return r->status;
    int64_t t = teacher && json_is_integer(teacher) ? json_integer_value(teacher) : 0;
    if (db_run(r->db,
               "UPDATE classes SET letter = coalesce(:l, letter), class_teacher_id = CASE WHEN "
               ":set THEN nullif(:t, 0) ELSE class_teacher_id END WHERE id = :id",
               DB_ARGS(DB_TEXT(":l", letter), DB_INT(":set", teacher != NULL), DB_INT(":t", t),
                       DB_INT(":id", id))) != SQLITE_DONE)
        return school_reply_write_error(r, "class");
    if (school_audit_or_respond(r, inst, "class.update", "class", id, json_deep_copy(r->body)) != 0)
        return r->status;
    return reply_class(r, 200, id);
}

#define MAX_GROUP 100 /* students in one group: more than any class holds */

/* POST /api/v1/classes/{id}/groups {name, student_ids}: a group of students of the class. */
static int school_group_create(struct req *r)
{
    int64_t class_id = r->params[0];
    const char *name;
    json_t *students;
    if (body_unpack_or_respond(r, "{s:s,s:o}", "name", &name, "student_ids", &students) != 0)
        return r->status;
    if (!school_text_ok(name, 1, 100) || !json_is_array(students) ||
        json_array_size(students) > MAX_GROUP)
        return reply_error(r, 400, "bad_request",
                           "name 1-100 characters; student_ids an array of at most %d ids",
                           MAX_GROUP);
    size_t i, j;
    json_t *v;
    json_array_foreach(students, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return reply_error(r, 400, "bad_request", "student_ids[%zu] is not an id", i);
        for (j = 0; j < i; j++)
            if (json_integer_value(json_array_get(students, j)) == json_integer_value(v))
                return reply_error(r, 400, "bad_request", "student_ids[%zu] repeats [%zu]", i, j);
    }
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    if (db_run(r->db, "INSERT INTO groups (class_id, name) VALUES (:c, :n)",
               DB_ARGS(DB_INT(":c", class_id), DB_TEXT(":n", name))) != SQLITE_DONE)
        return school_reply_write_error(r, "group");
    int64_t id = db_last_id(r->db);
    json_array_foreach(students, i, v)
    {
        if (db_run(r->db,
                   "INSERT INTO group_members (group_id, student_id) SELECT :g, "
                   "student_id FROM enrollments WHERE student_id = :s AND class_id = :c "
                   "AND left_on IS NULL",
                   DB_ARGS(DB_INT(":g", id), DB_INT(":s", json_integer_value(v)),
                           DB_INT(":c", class_id))) != SQLITE_DONE)
            return school_reply_write_error(r, "group member");
        if (db_changes(r->db) != 1)
            return reply_error(r, 400, "bad_request", "student %lld is not in this class",
                               (long long)json_integer_value(v));
    }
    if (school_audit_or_respond(r, school_class_institution(r, class_id), "group.create", "group",
                                id, json_deep_copy(r->body)) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:s,s:I,s:O}", "id", (json_int_t)id, "name", name, "class_id",
                                (json_int_t)class_id, "student_ids", students));
}

/* POST /api/v1/assignments {teacher_id, class_id, subject_id, group_id?}: the teacher
 * must work at the class's school, the group belong to the class. */
static int school_assignment_create(struct req *r)
{
    json_int_t teacher, class_id, subject, group = 0;
    if (body_unpack_or_respond(r, "{s:I,s:I,s:I,s?I}", "teacher_id", &teacher, "class_id",
                               &class_id, "subject_id", &subject, "group_id", &group) != 0)
        return r->status;
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    int64_t inst = school_class_institution(r, class_id);
    int s = school_is_staff(r, teacher, inst);
    if (s <= 0)
        return s < 0 ? reply_db_error(r)
                     : reply_error(r, 400, "bad_request",
                                   "person %lld is not on the staff of this institution",
                                   (long long)teacher);
    if (group) {
        int64_t gc = 0;
        int rc = db_int(r->db, &gc, "SELECT class_id FROM groups WHERE id = :id",
                        DB_ARGS(DB_INT(":id", group)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return reply_db_error(r);
        if (gc != class_id)
            return reply_error(r, 400, "bad_request", "group %lld is not a group of this class",
                               (long long)group);
    }
    /* The table's UNIQUE does not catch repeats of a whole-class assignment (NULL group_id
     * values are distinct to SQL), so look first. */
    int dup = db_exists(r->db,
                        "SELECT 1 FROM teaching_assignments WHERE teacher_id = :t AND class_id = "
                        ":c AND subject_id = :s AND group_id IS nullif(:g, 0)",
                        DB_ARGS(DB_INT(":t", teacher), DB_INT(":c", class_id),
                                DB_INT(":s", subject), DB_INT(":g", group)));
    if (dup < 0)
        return reply_db_error(r);
    if (dup)
        return reply_error(r, 409, "conflict", "this teacher already teaches that subject there");
    if (db_run(r->db,
               "INSERT INTO teaching_assignments (teacher_id, class_id, subject_id, group_id) "
               "VALUES (:t, :c, :s, nullif(:g, 0))",
               DB_ARGS(DB_INT(":t", teacher), DB_INT(":c", class_id), DB_INT(":s", subject),
                       DB_INT(":g", group))) != SQLITE_DONE)
        return school_reply_write_error(r, "assignment");
    int64_t id = db_last_id(r->db);
    if (school_audit_or_respond(r, inst, "assignment.create", "assignment", id,
                                json_deep_copy(r->body)))
        return r->status;
    json_t *o =
        json_pack("{s:I,s:I,s:I,s:I}", "id", (json_int_t)id, "teacher_id", (json_int_t)teacher,
                  "class_id", (json_int_t)class_id, "subject_id", (json_int_t)subject);
    if (group)
        json_object_set_new(o, "group_id", json_integer(group));
    return reply_json(r, 201, o);
}

/* DELETE /api/v1/assignments/{id}. */
static int school_assignment_delete(struct req *r)
{
    int64_t id = r->params[0];
    sqlite3_stmt *st = db_query(r->db, "SELECT class_id FROM teaching_assignments WHERE id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r);
    int rc = db_step(st);
    int64_t class_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (class_id == 0)
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such assignment")
                                 : reply_db_error(r);
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    if (db_run(r->db, "DELETE FROM teaching_assignments WHERE id = :id",
               DB_ARGS(DB_INT(":id", id))) != SQLITE_DONE)
        return reply_db_error(r);
    if (school_audit_or_respond(r, school_class_institution(r, class_id), "assignment.delete",
                                "assignment", id, NULL) != 0)
        return r->status;
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* POST /api/v1/enrollments {student_id, class_id, enrolled_on}. A student in another
 * class is transferred: that enrollment ends on enrolled_on, and the caller must be allowed to
 * change that class too. */
static int school_enrollment_create(struct req *r)
{
    json_int_t student, class_id;
    const char *on;
    if (body_unpack_or_respond(r, "{s:I,s:I,s:s}", "student_id", &student, "class_id", &class_id,
                               "enrolled_on", &on) != 0)
        return r->status;
    if (!school_date_ok(on))
        return reply_field_error(r, 400, "bad_request", "enrolled_on",
                                 "enrolled_on must be a date YYYY-MM-DD");
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    int e =
        db_exists(r->db, "SELECT 1 FROM persons WHERE id = :id", DB_ARGS(DB_INT(":id", student)));
    if (e <= 0)
        return e < 0 ? reply_db_error(r) : reply_error(r, 404, "not_found", "no such person");
    /* A transfer: the school the student leaves must agree too. */
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT class_id, enrolled_on FROM enrollments "
                                "WHERE student_id = :s AND left_on IS NULL",
                                DB_ARGS(DB_INT(":s", student)));
    if (st == NULL)
        return reply_db_error(r);
    int rc = db_step(st);
    int64_t old = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    bool too_early = rc == SQLITE_ROW && strcmp(on, db_col_text(st, 1)) < 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    if (old == class_id)
        return reply_error(r, 409, "conflict", "the student is already in this class");
    if (old && authz_class_or_respond(r, old, AUTHZ_WRITE) != 0)
        return r->status;
    if (too_early)
        return reply_error(r, 400, "bad_request",
                           "enrolled_on is before the start of the current enrollment");
    if (old) { /* the old enrolment ends (kept), and with it the old class's groups */
        if (db_run(r->db,
                   "UPDATE enrollments SET left_on = :on WHERE student_id = :s AND "
                   "left_on IS NULL",
                   DB_ARGS(DB_TEXT(":on", on), DB_INT(":s", student))) != SQLITE_DONE ||
            db_run(r->db,
                   "DELETE FROM group_members WHERE student_id = :s AND group_id IN "
                   "(SELECT id FROM groups WHERE class_id = :c)",
                   DB_ARGS(DB_INT(":s", student), DB_INT(":c", old))) != SQLITE_DONE)
            return reply_db_error(r);
    }
    if (db_run(r->db,
               "INSERT INTO enrollments (student_id, class_id, enrolled_on) "
               "VALUES (:s, :c, :on)",
               DB_ARGS(DB_INT(":s", student), DB_INT(":c", class_id), DB_TEXT(":on", on))) !=
        SQLITE_DONE)
        return school_reply_write_error(r, "enrollment");
    int64_t id = db_last_id(r->db);
    json_t *detail = json_deep_copy(r->body);
    if (old)
        json_object_set_new(detail, "from_class_id", json_integer(old));
    if (school_audit_or_respond(r, school_class_institution(r, class_id), "enrollment.create",
                                "person", student, detail) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:I,s:s}", "id", (json_int_t)id, "student_id",
                                (json_int_t)student, "class_id", (json_int_t)class_id,
                                "enrolled_on", on));
}

/* POST /api/v1/guardians {guardian_id, student_id, relation}: by whoever may change the
 * student. */

const struct route classes_routes[] = {
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/classes",
     .handler = school_classes,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "class_list"},
    {.method = "POST",
     .path = "/api/v1/institutions/{id}/classes",
     .handler = school_class_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "class_create"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}",
     .handler = school_class_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "class_get"},
    {.method = "PATCH",
     .path = "/api/v1/classes/{id}",
     .handler = school_class_patch,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "class_update"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/students",
     .handler = school_class_students,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "class_students"},
    {.method = "POST",
     .path = "/api/v1/classes/{id}/groups",
     .handler = school_group_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "group_create"},
    {.method = "POST",
     .path = "/api/v1/assignments",
     .handler = school_assignment_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "assignment_create"},
    {.method = "DELETE",
     .path = "/api/v1/assignments/{id}",
     .handler = school_assignment_delete,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "assignment_delete"},
    {.method = "POST",
     .path = "/api/v1/enrollments",
     .handler = school_enrollment_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "enrollment_create"},
    {0},
};
