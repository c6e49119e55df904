/*
 * School structure routes: students' profiles and the administration of municipalities,
 * institutions, academic years, subjects, classes, groups, staff, teaching assignments,
 * enrollments and guardians. Every route asks authz.c before it touches a record; every
 * change writes an audit entry with the institution it concerns.
 *
 * Load: administrative writes are rare (a school's start of year); reads of classes and
 * profiles are frequent and are indexed point or range queries.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

/* Audits a change of `kind/id` at `institution` with `detail` (stolen); 0 or answered 500. */
static int audit_or_respond(struct req *r, int64_t institution, const char *action,
                            const char *kind, int64_t id, json_t *detail)
{
    char object[64];
    snprintf(object, sizeof(object), "%s/%lld", kind, (long long)id);
    if (audit(r, institution, action, object, detail) != 0) {
        reply_db_error(r);
        return -1;
    }
    return 0;
}

/* Maps a failed insert or update to 409 for constraint violations, 500 otherwise. */
static int reply_write_error(struct req *r, const char *what)
{
    int code = sqlite3_extended_errcode(db_handle(r->db));
    if ((code & 0xff) == SQLITE_CONSTRAINT) {
        if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
            return reply_error(r, 400, "bad_request", "%s refers to a record that does not exist",
                               what);
        return reply_error(r, 409, "conflict", "%s already exists or conflicts with another", what);
    }
    return reply_db_error(r);
}

/* The institution of a class, or -1 (missing) / -2 (error). */
static int64_t class_institution(struct req *r, int64_t class_id)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT institution_id FROM classes WHERE id = :id");
    if (st == NULL)
        return -2;
    db_bind_int(st, ":id", class_id);
    int rc = db_step(st);
    int64_t inst = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? -1 : -2;
    sqlite3_reset(st);
    return inst;
}

/* 1 when the person works at the institution. */
static int is_staff(struct req *r, int64_t person, int64_t inst)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT 1 FROM staff WHERE person_id = :p AND "
                                      "institution_id = :i");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":p", person);
    db_bind_int(st, ":i", inst);
    int rc = db_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---- municipalities ---------------------------------------------------------------------- */

static json_t *municipality_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     db_col_text(st, 1), "okato", db_col_text(st, 2));
}

/* GET /api/v1/municipalities: every municipality, for any user. */
static int school_municipalities(struct req *r)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT id, name, okato FROM municipalities ORDER BY name");
    return st ? reply_rows(r, st, municipality_row) : reply_db_error(r);
}

/* POST /api/v1/municipalities {name, okato?} (region admin). */
static int school_municipality_create(struct req *r)
{
    const char *name, *okato = "";
    if (body_unpack_or_respond(r, "{s:s,s?s}", "name", &name, "okato", &okato) != 0)
        return r->status;
    if (!school_text_ok(name, 1, 200) || !school_text_ok(okato, 0, 20))
        return reply_error(r, 400, "bad_request", "name must be 1-200 characters, okato 0-20");
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO municipalities (name, okato) VALUES (:n, :o)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":n", name);
    db_bind_text(st, ":o", okato);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "municipality");
    int64_t id = db_last_id(r->db);
    if (audit_or_respond(r, 0, "municipality.create", "municipality", id,
                         json_pack("{s:s}", "name", name)) != 0)
        return r->status;
    return reply_json(
        r, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name, "okato", okato));
}

/* ---- institutions ------------------------------------------------------------------------ */

#define INSTITUTION_COLUMNS                                                                        \
    "i.id, i.municipality_id, m.name, i.kind, i.name, i.short_name, i.address, "                   \
    "(SELECT count(*) FROM classes c WHERE c.institution_id = i.id), "                             \
    "(SELECT count(*) FROM enrollments e JOIN classes c ON c.id = e.class_id "                     \
    " WHERE c.institution_id = i.id AND e.left_on IS NULL)"

static json_t *institution_row(sqlite3_stmt *st)
{
    return json_pack(
        "{s:I,s:{s:I,s:s},s:s,s:s,s:s,s:s,s:I,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0),
        "municipality", "id", (json_int_t)sqlite3_column_int64(st, 1), "name", db_col_text(st, 2),
        "kind", db_col_text(st, 3), "name", db_col_text(st, 4), "short_name", db_col_text(st, 5),
        "address", db_col_text(st, 6), "classes", (json_int_t)sqlite3_column_int64(st, 7),
        "students", (json_int_t)sqlite3_column_int64(st, 8));
}

/* GET /api/v1/institutions: every institution with its counts, for any user. */
static int school_institutions(struct req *r)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT " INSTITUTION_COLUMNS " FROM institutions i "
                                      "JOIN municipalities m ON m.id = i.municipality_id "
                                      "ORDER BY m.name, i.short_name");
    return st ? reply_rows(r, st, institution_row) : reply_db_error(r);
}

static int reply_institution(struct req *r, int status, int64_t id)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT " INSTITUTION_COLUMNS " FROM institutions i "
                                      "JOIN municipalities m ON m.id = i.municipality_id "
                                      "WHERE i.id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    int rc = db_step(st);
    json_t *o = rc == SQLITE_ROW ? institution_row(st) : NULL;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "no such institution");
    return o ? reply_json(r, status, o) : reply_db_error(r);
}

/* GET /api/v1/institutions/{id}: one institution with its counts of classes and students. */
static int school_institution_get(struct req *r)
{
    return reply_institution(r, 200, r->params[0]);
}

/* POST /api/v1/institutions {municipality_id, kind, name, short_name, address?}. */
static int school_institution_create(struct req *r)
{
    json_int_t mun;
    const char *kind, *name, *short_name, *address = "";
    if (body_unpack_or_respond(r, "{s:I,s:s,s:s,s:s,s?s}", "municipality_id", &mun, "kind", &kind,
                               "name", &name, "short_name", &short_name, "address", &address) != 0)
        return r->status;
    if (strcmp(kind, "school") != 0 && strcmp(kind, "college") != 0)
        return reply_error(r, 400, "bad_request", "kind must be school or college");
    if (!school_text_ok(name, 1, 300) || !school_text_ok(short_name, 1, 100) ||
        !school_text_ok(address, 0, 300))
        return reply_error(r, 400, "bad_request",
                           "name 1-300, short_name 1-100, address 0-300 characters");
    int e = db_exists(r->db, "SELECT 1 FROM municipalities WHERE id = :id",
                      DB_ARGS(DB_INT(":id", mun)));
    if (e < 0)
        return reply_db_error(r);
    if (e == 0)
        return reply_error(r, 400, "bad_request", "no municipality %lld", (long long)mun);
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO institutions (municipality_id, kind, name, "
                                      "short_name, address) VALUES (:m, :k, :n, :s, :a)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":m", mun);
    db_bind_text(st, ":k", kind);
    db_bind_text(st, ":n", name);
    db_bind_text(st, ":s", short_name);
    db_bind_text(st, ":a", address);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "institution");
    int64_t id = db_last_id(r->db);
    if (audit_or_respond(r, id, "institution.create", "institution", id,
                         json_pack("{s:s}", "name", name)) != 0)
        return r->status;
    return reply_institution(r, 201, id);
}

/* PATCH /api/v1/institutions/{id} {name?, short_name?, address?}: the region admin or
 * that school's admin. */
static int school_institution_patch(struct req *r)
{
    int64_t id = r->params[0];
    const char *name = NULL, *short_name = NULL, *address = NULL;
    if (body_unpack_or_respond(r, "{s?s,s?s,s?s}", "name", &name, "short_name", &short_name,
                               "address", &address) != 0)
        return r->status;
    if ((name && !school_text_ok(name, 1, 300)) ||
        (short_name && !school_text_ok(short_name, 1, 100)) ||
        (address && !school_text_ok(address, 0, 300)))
        return reply_error(r, 400, "bad_request",
                           "name 1-300, short_name 1-100, address 0-300 characters");
    if (authz_institution_or_respond(r, id, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "UPDATE institutions SET name = coalesce(:n, name), "
                                      "short_name = coalesce(:s, short_name), "
                                      "address = coalesce(:a, address) WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":n", name);
    db_bind_text(st, ":s", short_name);
    db_bind_text(st, ":a", address);
    db_bind_int(st, ":id", id);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "institution");
    if (audit_or_respond(r, id, "institution.update", "institution", id, json_deep_copy(r->body)))
        return r->status;
    return reply_institution(r, 200, id);
}

/* ---- academic years and subjects ---------------------------------------------------------- */

static int school_years(struct req *r)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT y.id, y.name, y.starts_on, y.ends_on, p.id, "
                                      "p.number, p.name, p.starts_on, p.ends_on "
                                      "FROM academic_years y LEFT JOIN periods p "
                                      "ON p.year_id = y.id ORDER BY y.starts_on, p.number");
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array(), *year = NULL;
    int64_t last = 0;
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) != last) {
            last = sqlite3_column_int64(st, 0);
            year = json_pack("{s:I,s:s,s:s,s:s,s:[]}", "id", (json_int_t)last, "name",
                             db_col_text(st, 1), "starts_on", db_col_text(st, 2), "ends_on",
                             db_col_text(st, 3), "periods");
            json_array_append_new(items, year);
        }
        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            json_array_append_new(
                json_object_get(year, "periods"),
                json_pack("{s:I,s:i,s:s,s:s,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 4),
                          "number", sqlite3_column_int(st, 5), "name", db_col_text(st, 6),
                          "starts_on", db_col_text(st, 7), "ends_on", db_col_text(st, 8)));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/academic-years {first_year}: a year with the region's periods; 409 if it exists. */
static int school_year_create(struct req *r)
{
    json_int_t first;
    if (body_unpack_or_respond(r, "{s:I}", "first_year", &first) != 0)
        return r->status;
    if (first < 2000 || first > 2100)
        return reply_error(r, 400, "bad_request", "first_year must be 2000-2100");
    char err[256];
    int64_t id = school_create_year(r->db, &r->node->cfg, (int)first, err, sizeof(err));
    if (id < 0)
        return reply_db_error(r);
    if (id == 0)
        return reply_error(r, 409, "conflict", "the year %lld/%lld exists", (long long)first,
                           (long long)first + 1);
    if (audit_or_respond(r, 0, "year.create", "year", id, NULL) != 0)
        return r->status;
    return reply_json(r, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

static json_t *subject_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0), "code",
                     db_col_text(st, 1), "name", db_col_text(st, 2), "regional",
                     sqlite3_column_int(st, 3));
}

/* GET /api/v1/subjects: the federal and regional subjects. */
static int school_subjects(struct req *r)
{
    sqlite3_stmt *st =
        db_stmt(r->db, "SELECT id, code, name, regional FROM subjects ORDER BY regional, id");
    return st ? reply_rows(r, st, subject_row) : reply_db_error(r);
}

/* POST /api/v1/subjects {code, name}: a regional subject; 409 on a taken code. */
static int school_subject_create(struct req *r)
{
    const char *code, *name;
    if (body_unpack_or_respond(r, "{s:s,s:s}", "code", &code, "name", &name) != 0)
        return r->status;
    bool ok = school_text_ok(code, 1, 32) && school_text_ok(name, 1, 120);
    for (const char *p = code; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok)
        return reply_error(r, 400, "bad_request",
                           "code: 1-32 of a-z 0-9 _; name: 1-120 characters");
    sqlite3_stmt *st =
        db_stmt(r->db, "INSERT INTO subjects (code, name, regional) VALUES (:c, :n, 1)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":c", code);
    db_bind_text(st, ":n", name);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "subject");
    int64_t id = db_last_id(r->db);
    if (audit_or_respond(r, 0, "subject.create", "subject", id, json_pack("{s:s}", "code", code)))
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)id, "code", code, "name",
                                name, "regional", 1));
}

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
    sqlite3_stmt *st = db_stmt(r->db, "SELECT " CLASS_COLUMNS " FROM classes c "
                                      "LEFT JOIN persons t ON t.id = c.class_teacher_id "
                                      "WHERE c.institution_id = :id ORDER BY c.grade, c.letter");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", inst);
    return reply_rows(r, st, class_row);
}

/* Appends to `o` under `key` the rows of `sql` (one :id parameter) made by `row`. */
static int add_list(struct req *r, json_t *o, const char *key, const char *sql, int64_t id,
                    json_t *(*row)(sqlite3_stmt *))
{
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (st == NULL)
        return -1;
    db_bind_int(st, ":id", id);
    json_t *list = json_array();
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        json_array_append_new(list, row(st));
    sqlite3_reset(st);
    json_object_set_new(o, key, list);
    return rc == SQLITE_DONE ? 0 : -1;
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

static json_t *guardian_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:o,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     ref_person_name(st, 1), "relation", db_col_text(st, 4));
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
    sqlite3_stmt *st = db_stmt(r->db, "SELECT " CLASS_COLUMNS " FROM classes c "
                                      "LEFT JOIN persons t ON t.id = c.class_teacher_id "
                                      "WHERE c.id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    int rc = db_step(st);
    json_t *o = rc == SQLITE_ROW ? class_row(st) : NULL;
    sqlite3_reset(st);
    if (o == NULL)
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such class")
                                 : reply_db_error(r);
    if (add_list(r, o, "student_list", class_students_sql, id, person_row) != 0 ||
        add_list(r, o, "groups",
                 "SELECT g.id, g.name, (SELECT count(*) FROM group_members m WHERE m.group_id "
                 "= g.id) FROM groups g WHERE g.class_id = :id ORDER BY g.name",
                 id, group_row) != 0 ||
        add_list(r, o, "assignments",
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
    sqlite3_stmt *st = db_stmt(r->db, class_students_sql);
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", r->params[0]);
    return reply_rows(r, st, person_row);
}

/* Checks that a class teacher candidate works at the institution; answers 400 itself. */
static int class_teacher_ok_or_respond(struct req *r, int64_t teacher, int64_t inst)
{
    int s = is_staff(r, teacher, inst);
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
    if (grade < 1 || grade > 11 || !letter_ok(letter))
        return reply_error(r, 400, "bad_request", "grade must be 1-11 and letter 1-2 characters");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    int e = db_exists(r->db, "SELECT 1 FROM academic_years WHERE id = :id",
                      DB_ARGS(DB_INT(":id", year)));
    if (e <= 0)
        return e < 0 ? reply_db_error(r)
                     : reply_error(r, 400, "bad_request", "no academic year %lld", (long long)year);
    if (teacher && class_teacher_ok_or_respond(r, teacher, inst) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO classes (institution_id, year_id, grade, "
                                      "letter, class_teacher_id) VALUES (:i, :y, :g, :l, :t)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":i", inst);
    db_bind_int(st, ":y", year);
    db_bind_int(st, ":g", grade);
    db_bind_text(st, ":l", letter);
    if (teacher)
        db_bind_int(st, ":t", teacher);
    else
        db_bind_null(st, ":t");
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "class");
    int64_t id = db_last_id(r->db);
    if (audit_or_respond(r, inst, "class.create", "class", id, json_deep_copy(r->body)) != 0)
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
    int64_t inst = class_institution(r, id);
    if (teacher && json_is_integer(teacher) &&
        class_teacher_ok_or_respond(r, json_integer_value(teacher), inst) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "UPDATE classes SET letter = coalesce(:l, letter), "
                                      "class_teacher_id = CASE WHEN :set THEN :t ELSE "
                                      "class_teacher_id END WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":l", letter);
    db_bind_int(st, ":set", teacher != NULL);
    if (teacher && json_is_integer(teacher))
        db_bind_int(st, ":t", json_integer_value(teacher));
    else
        db_bind_null(st, ":t");
    db_bind_int(st, ":id", id);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "class");
    if (audit_or_respond(r, inst, "class.update", "class", id, json_deep_copy(r->body)) != 0)
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
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO groups (class_id, name) VALUES (:c, :n)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":c", class_id);
    db_bind_text(st, ":n", name);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "group");
    int64_t id = db_last_id(r->db);
    json_array_foreach(students, i, v)
    {
        st = db_stmt(r->db, "INSERT INTO group_members (group_id, student_id) SELECT :g, "
                            "student_id FROM enrollments WHERE student_id = :s AND class_id = :c "
                            "AND left_on IS NULL");
        if (st == NULL)
            return reply_db_error(r);
        db_bind_int(st, ":g", id);
        db_bind_int(st, ":s", json_integer_value(v));
        db_bind_int(st, ":c", class_id);
        if (db_exec_stmt(st) != SQLITE_DONE)
            return reply_write_error(r, "group member");
        if (db_changes(r->db) != 1)
            return reply_error(r, 400, "bad_request", "student %lld is not in this class",
                               (long long)json_integer_value(v));
    }
    if (audit_or_respond(r, class_institution(r, class_id), "group.create", "group", id,
                         json_deep_copy(r->body)) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:s,s:I,s:O}", "id", (json_int_t)id, "name", name, "class_id",
                                (json_int_t)class_id, "student_ids", students));
}

/* ---- persons and accounts ----------------------------------------------------------------- */

static bool login_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Roles that belong to one institution; the others are region-wide. */
static bool role_scoped(uint32_t role)
{
    return role & (ROLE_SCHOOL_ADMIN | ROLE_TEACHER | ROLE_CLASS_TEACHER | ROLE_MEDIC);
}

/* The first institution the caller administers (0 for a region admin). */
static int64_t caller_school(const struct req *r)
{
    for (int i = 0; i < r->caller.ngrants; i++)
        if (r->caller.grants[i].role == ROLE_SCHOOL_ADMIN)
            return r->caller.grants[i].institution_id;
    return 0;
}

#define MAX_NEW_ROLES 16 /* well under MAX_GRANTS, so every grant reaches the caller */

/* Checks the shape of a new account's roles without the database: known names, an
 * institution_id exactly for the school-scoped roles, no repeats, at most MAX_NEW_ROLES.
 * Answers 400 itself. */
static int roles_shape_ok_or_respond(struct req *r, json_t *roles)
{
    if (!json_is_array(roles) || json_array_size(roles) > MAX_NEW_ROLES)
        return reply_error(r, 400, "bad_request", "account.roles must be an array of at most %d",
                           MAX_NEW_ROLES),
               -1;
    size_t i;
    json_t *g;
    json_array_foreach(roles, i, g)
    {
        const char *name;
        json_int_t inst = 0;
        json_error_t e;
        if (json_unpack_ex(g, &e, JSON_STRICT, "{s:s,s?I}", "role", &name, "institution_id",
                           &inst) != 0)
            return reply_error(r, 400, "bad_request", "account.roles[%zu]: %s", i, e.text), -1;
        uint32_t role = role_from_name(name);
        if (role == 0)
            return reply_error(r, 400, "bad_request", "account.roles[%zu]: unknown role '%s'", i,
                               name),
                   -1;
        if (inst < 0 || role_scoped(role) != (inst != 0))
            return reply_error(r, 400, "bad_request", "account.roles[%zu]: %s %s an institution_id",
                               i, name, role_scoped(role) ? "needs" : "takes no"),
                   -1;
        for (size_t j = 0; j < i; j++) {
            json_t *o = json_array_get(roles, j);
            json_t *oi = json_object_get(o, "institution_id");
            if (strcmp(json_string_value(json_object_get(o, "role")), name) == 0 &&
                (oi ? json_integer_value(oi) : 0) == inst)
                return reply_error(r, 400, "bad_request", "account.roles[%zu] repeats [%zu]", i, j),
                       -1;
        }
    }
    return 0;
}

/* Whether this caller may grant the (well-formed) roles: region-wide roles other than parent
 * and student only by the region admin; school-scoped roles by whoever may write to that
 * institution (authz.c). Answers 400 (no such institution) or 403 itself. `audit_inst`
 * receives the first institution named. */
static int roles_allowed_or_respond(struct req *r, json_t *roles, int64_t *audit_inst)
{
    size_t i;
    json_t *g;
    json_array_foreach(roles, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "role"));
        json_t *ij = json_object_get(g, "institution_id");
        int64_t inst = ij ? json_integer_value(ij) : 0;
        uint32_t role = role_from_name(name);
        if (inst) {
            int e = db_exists(r->db, "SELECT 1 FROM institutions WHERE id = :id",
                              DB_ARGS(DB_INT(":id", inst)));
            if (e <= 0)
                return e < 0 ? reply_db_error(r)
                             : reply_error(r, 400, "bad_request",
                                           "account.roles[%zu]: no institution %lld", i,
                                           (long long)inst),
                       -1;
            if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
                return -1;
            if (*audit_inst == 0)
                *audit_inst = inst;
        } else if (!(role & (ROLE_PARENT | ROLE_STUDENT)) && !caller_is_admin(r)) {
            return reply_error(r, 403, "forbidden", "only a region admin grants the role %s", name),
                   -1;
        }
    }
    return 0;
}

static int reply_person(struct req *r, int status, int64_t id)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
                                      "p.birth_date, a.id, a.login FROM persons p LEFT JOIN "
                                      "accounts a ON a.person_id = p.id WHERE p.id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    if (db_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return reply_error(r, 404, "not_found", "no such person");
    }
    json_t *o = json_pack(
        "{s:I,s:o,s:s,s:s,s:s,s:o}", "id", (json_int_t)id, "name", ref_person_name(st, 1),
        "last_name", db_col_text(st, 1), "first_name", db_col_text(st, 2), "middle_name",
        db_col_text(st, 3), "birth_date",
        sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() : json_string(db_col_text(st, 4)));
    int64_t account = sqlite3_column_int64(st, 5);
    if (account)
        json_object_set_new(o, "account",
                            json_pack("{s:I,s:s,s:[]}", "id", (json_int_t)account, "login",
                                      db_col_text(st, 6), "roles"));
    sqlite3_reset(st);
    if (account) {
        st = db_stmt(r->db, "SELECT role, institution_id FROM role_grants WHERE account_id = :a "
                            "ORDER BY role, institution_id");
        if (st == NULL) {
            json_decref(o);
            return reply_db_error(r);
        }
        db_bind_int(st, ":a", account);
        json_t *roles = json_object_get(json_object_get(o, "account"), "roles");
        while (db_step(st) == SQLITE_ROW) {
            json_t *g = json_pack("{s:s}", "role", db_col_text(st, 0));
            if (sqlite3_column_type(st, 1) != SQLITE_NULL)
                json_object_set_new(g, "institution_id", json_integer(sqlite3_column_int64(st, 1)));
            json_array_append_new(roles, g);
        }
        sqlite3_reset(st);
    }
    return reply_json(r, status, o);
}

/* A validated POST /api/v1/persons body. */
struct new_person {
    const char *last, *first, *middle, *birth;
    json_t *account, *roles; /* borrowed from r->body; NULL without an account */
    const char *login;
    const char *hash; /* argon2id of the password, NULL when none was given */
};

/* The checks and inserts of a person creation, inside the write transaction. */
static int person_create_tx(struct req *r, const struct new_person *np)
{
    int64_t audit_inst = 0;
    if (np->account && roles_allowed_or_respond(r, np->roles, &audit_inst) != 0)
        return r->status;
    if (audit_inst == 0)
        audit_inst = caller_school(r);
    int64_t id = school_add_person(r->db, np->last, np->first, np->middle, np->birth);
    if (id < 0)
        return reply_write_error(r, "person");
    if (np->account) {
        int64_t acc = accounts_add(r->db, id, np->login, np->hash);
        if (acc < 0) {
            if ((sqlite3_extended_errcode(db_handle(r->db)) & 0xff) == SQLITE_CONSTRAINT)
                return reply_error(r, 409, "conflict", "the login %s is taken", np->login);
            return reply_db_error(r);
        }
        size_t i;
        json_t *g;
        json_array_foreach(np->roles, i, g)
        {
            uint32_t role = role_from_name(json_string_value(json_object_get(g, "role")));
            json_t *inst = json_object_get(g, "institution_id");
            if (accounts_grant(r->db, acc, role, inst ? json_integer_value(inst) : 0) != 0)
                return reply_write_error(r, "role");
        }
    }
    json_t *detail = json_pack("{s:s,s:s}", "last_name", np->last, "first_name", np->first);
    if (np->login)
        json_object_set_new(detail, "login", json_string(np->login));
    if (np->roles)
        json_object_set(detail, "roles", np->roles);
    if (audit_or_respond(r, audit_inst, "person.create", "person", id, detail) != 0)
        return r->status;
    return reply_person(r, 201, id);
}

/* POST /api/v1/persons. Runs its own transaction (route flag self_tx): the password is hashed
 * with argon2id before the write lock is taken, so the slow hash never holds up other
 * writers. */
static int school_person_create(struct req *r)
{
    struct new_person np = {.middle = ""};
    const char *password = NULL;
    if (body_unpack_or_respond(r, "{s:s,s:s,s?s,s?s,s?o}", "last_name", &np.last, "first_name",
                               &np.first, "middle_name", &np.middle, "birth_date", &np.birth,
                               "account", &np.account) != 0)
        return r->status;
    if (!school_text_ok(np.last, 1, 100) || !school_text_ok(np.first, 1, 100) ||
        !school_text_ok(np.middle, 0, 100))
        return reply_error(r, 400, "bad_request",
                           "last and first names must be 1-100 characters, middle 0-100");
    if (np.birth && !school_date_ok(np.birth))
        return reply_error(r, 400, "bad_request", "birth_date must be a date YYYY-MM-DD");
    if (np.account) {
        json_error_t e;
        if (json_unpack_ex(np.account, &e, JSON_STRICT, "{s:s,s?s,s:o}", "login", &np.login,
                           "password", &password, "roles", &np.roles) != 0)
            return reply_error(r, 400, "bad_request", "account: %s", e.text);
        if (!login_ok(np.login))
            return reply_error(r, 400, "bad_request",
                               "login: 1-64 of latin letters, digits, '.', '_', '-'");
        if (password && (strlen(password) < 8 || strlen(password) > 256))
            return reply_error(r, 400, "bad_request", "password must be 8-256 characters");
        if (roles_shape_ok_or_respond(r, np.roles) != 0)
            return r->status;
    }
    char *hash = NULL;
    if (password) {
        hash = sodium_malloc(crypto_pwhash_STRBYTES);
        if (hash == NULL || auth_hash_password(&r->node->cfg, password, hash) != 0) {
            sodium_free(hash);
            return reply_error(r, 503, "unavailable", "out of memory hashing the password");
        }
        np.hash = hash;
    }
    int status;
    if (db_begin_write(r->db) != SQLITE_OK) {
        status = reply_error(r, 503, "unavailable", "storage busy, retry");
    } else {
        status = person_create_tx(r, &np);
        if (status >= 400)
            db_rollback(r->db);
        else if (db_commit(r->db) != SQLITE_OK) {
            db_rollback(r->db);
            status = reply_error(r, 503, "unavailable", "storage busy, retry");
        }
    }
    sodium_free(hash); /* wipes it */
    return status;
}

/* GET /api/v1/persons/{id}: a person and their account, for those authz.c lets read them. */
static int school_person_get(struct req *r)
{
    if (authz_person_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    return reply_person(r, 200, r->params[0]);
}

/* ---- staff, assignments, enrollments, guardians ------------------------------------------- */

static int school_staff_add(struct req *r)
{
    int64_t inst = r->params[0];
    json_int_t person;
    const char *position;
    if (body_unpack_or_respond(r, "{s:I,s:s}", "person_id", &person, "position", &position))
        return r->status;
    if (!school_text_ok(position, 1, 100))
        return reply_error(r, 400, "bad_request", "position must be 1-100 characters");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO staff (person_id, institution_id, position) "
                                      "VALUES (:p, :i, :pos)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":p", person);
    db_bind_int(st, ":i", inst);
    db_bind_text(st, ":pos", position);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "staff member");
    if (audit_or_respond(r, inst, "staff.add", "person", person, json_deep_copy(r->body)) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s}", "person_id", (json_int_t)person, "institution_id",
                                (json_int_t)inst, "position", position));
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
    int64_t inst = class_institution(r, class_id);
    int s = is_staff(r, teacher, inst);
    if (s <= 0)
        return s < 0 ? reply_db_error(r)
                     : reply_error(r, 400, "bad_request",
                                   "person %lld is not on the staff of this institution",
                                   (long long)teacher);
    if (group) {
        sqlite3_stmt *g = db_stmt(r->db, "SELECT class_id FROM groups WHERE id = :id");
        if (g == NULL)
            return reply_db_error(r);
        db_bind_int(g, ":id", group);
        int rc = db_step(g);
        int64_t gc = rc == SQLITE_ROW ? sqlite3_column_int64(g, 0) : 0;
        sqlite3_reset(g);
        if (gc != class_id)
            return reply_error(r, 400, "bad_request", "group %lld is not a group of this class",
                               (long long)group);
    }
    /* The table's UNIQUE does not catch repeats of a whole-class assignment (NULL group_id
     * values are distinct to SQL), so look first. */
    sqlite3_stmt *st = db_stmt(r->db, "SELECT 1 FROM teaching_assignments WHERE teacher_id = :t "
                                      "AND class_id = :c AND subject_id = :s AND group_id IS :g");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":t", teacher);
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":s", subject);
    if (group)
        db_bind_int(st, ":g", group);
    else
        db_bind_null(st, ":g");
    int rc = db_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return reply_error(r, 409, "conflict", "this teacher already teaches that subject there");
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    st = db_stmt(r->db, "INSERT INTO teaching_assignments (teacher_id, class_id, subject_id, "
                        "group_id) VALUES (:t, :c, :s, :g)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":t", teacher);
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":s", subject);
    if (group)
        db_bind_int(st, ":g", group);
    else
        db_bind_null(st, ":g");
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "assignment");
    int64_t id = db_last_id(r->db);
    if (audit_or_respond(r, inst, "assignment.create", "assignment", id, json_deep_copy(r->body)))
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
    sqlite3_stmt *st = db_stmt(r->db, "SELECT class_id FROM teaching_assignments WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    int rc = db_step(st);
    int64_t class_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (class_id == 0)
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such assignment")
                                 : reply_db_error(r);
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    st = db_stmt(r->db, "DELETE FROM teaching_assignments WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    if (audit_or_respond(r, class_institution(r, class_id), "assignment.delete", "assignment", id,
                         NULL) != 0)
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
        return reply_error(r, 400, "bad_request", "enrolled_on must be a date YYYY-MM-DD");
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    int e =
        db_exists(r->db, "SELECT 1 FROM persons WHERE id = :id", DB_ARGS(DB_INT(":id", student)));
    if (e <= 0)
        return e < 0 ? reply_db_error(r) : reply_error(r, 404, "not_found", "no such person");
    /* A transfer: the school the student leaves must agree too. */
    sqlite3_stmt *st = db_stmt(r->db, "SELECT class_id, enrolled_on FROM enrollments "
                                      "WHERE student_id = :s AND left_on IS NULL");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
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
    if (old) {
        st = db_stmt(r->db, "UPDATE enrollments SET left_on = :on WHERE student_id = :s AND "
                            "left_on IS NULL");
        if (st == NULL)
            return reply_db_error(r);
        db_bind_text(st, ":on", on);
        db_bind_int(st, ":s", student);
        if (db_exec_stmt(st) != SQLITE_DONE)
            return reply_db_error(r);
    }
    st = db_stmt(r->db, "INSERT INTO enrollments (student_id, class_id, enrolled_on) "
                        "VALUES (:s, :c, :on)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":c", class_id);
    db_bind_text(st, ":on", on);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "enrollment");
    int64_t id = db_last_id(r->db);
    json_t *detail = json_deep_copy(r->body);
    if (old)
        json_object_set_new(detail, "from_class_id", json_integer(old));
    if (audit_or_respond(r, class_institution(r, class_id), "enrollment.create", "person", student,
                         detail) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:I,s:s}", "id", (json_int_t)id, "student_id",
                                (json_int_t)student, "class_id", (json_int_t)class_id,
                                "enrolled_on", on));
}

/* POST /api/v1/guardians {guardian_id, student_id, relation}: by whoever may change the
 * student. */
static int school_guardian_create(struct req *r)
{
    json_int_t guardian, student;
    const char *relation;
    if (body_unpack_or_respond(r, "{s:I,s:I,s:s}", "guardian_id", &guardian, "student_id", &student,
                               "relation", &relation) != 0)
        return r->status;
    if (strcmp(relation, "mother") && strcmp(relation, "father") && strcmp(relation, "parent") &&
        strcmp(relation, "guardian"))
        return reply_error(r, 400, "bad_request",
                           "relation must be mother, father, parent or guardian");
    if (guardian == student)
        return reply_error(r, 400, "bad_request", "a student cannot be their own guardian");
    if (authz_student_or_respond(r, student, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO guardians (guardian_id, student_id, relation) "
                                      "VALUES (:g, :s, :r)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":g", guardian);
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":r", relation);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_write_error(r, "guardian");
    sqlite3_stmt *c = db_stmt(r->db, "SELECT c.institution_id FROM enrollments e JOIN classes c "
                                     "ON c.id = e.class_id WHERE e.student_id = :id AND "
                                     "e.left_on IS NULL");
    int64_t inst = 0;
    if (c) {
        db_bind_int(c, ":id", student);
        if (db_step(c) == SQLITE_ROW)
            inst = sqlite3_column_int64(c, 0);
        sqlite3_reset(c);
    }
    if (audit_or_respond(r, inst, "guardian.create", "person", student, json_deep_copy(r->body)))
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s}", "guardian_id", (json_int_t)guardian, "student_id",
                                (json_int_t)student, "relation", relation));
}

/* ---- students ------------------------------------------------------------------------------ */

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
    if (db_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return reply_db_error(r);
    }
    json_t *o = json_pack(
        "{s:I,s:o,s:s,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)id, "name", ref_person_name(st, 1),
        "last_name", db_col_text(st, 1), "first_name", db_col_text(st, 2), "middle_name",
        db_col_text(st, 3), "birth_date",
        sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() : json_string(db_col_text(st, 4)),
        "class", ref_class(st, 5), "institution", ref_named(st, 8));
    sqlite3_reset(st);
    if (add_list(r, o, "guardians",
                 "SELECT p.id, p.last_name, p.first_name, p.middle_name, g.relation "
                 "FROM guardians g JOIN persons p ON p.id = g.guardian_id "
                 "WHERE g.student_id = :id ORDER BY g.relation, p.id",
                 id, guardian_row) != 0) {
        json_decref(o);
        return reply_db_error(r);
    }
    return reply_json(r, 200, o);
}

/* GET /api/v1/students/{id}/teachers: who teaches the student what, and the class teacher
 * (for parents choosing whom to write to). */
static int school_student_teachers(struct req *r)
{
    int64_t id = r->params[0];
    if (authz_student_or_respond(r, id, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(
        r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
               "group_concat(s.name, ', '), max(c.class_teacher_id = p.id) FROM enrollments e "
               "JOIN classes c ON c.id = e.class_id "
               "JOIN persons p ON p.id IN (SELECT teacher_id FROM teaching_assignments WHERE "
               "class_id = c.id UNION SELECT c.class_teacher_id) "
               "LEFT JOIN teaching_assignments t ON t.class_id = c.id AND t.teacher_id = p.id "
               "LEFT JOIN subjects s ON s.id = t.subject_id "
               "WHERE e.student_id = :id AND e.left_on IS NULL GROUP BY p.id "
               "ORDER BY p.last_name, p.first_name");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", id);
    json_t *items = json_array();
    while (db_step(st) == SQLITE_ROW)
        json_array_append_new(
            items, json_pack("{s:I,s:o,s:s,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                             "name", ref_person_name(st, 1), "subjects", db_col_text(st, 4),
                             "class_teacher", sqlite3_column_int(st, 5)));
    sqlite3_reset(st);
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

const struct route school_routes[] = {
    {.method = "GET",
     .path = "/api/v1/students/{id}/teachers",
     .handler = school_student_teachers,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_teachers"},
    {.method = "GET",
     .path = "/api/v1/municipalities",
     .handler = school_municipalities,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "municipality_list"},
    {.method = "POST",
     .path = "/api/v1/municipalities",
     .handler = school_municipality_create,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "municipality_create"},
    {.method = "GET",
     .path = "/api/v1/institutions",
     .handler = school_institutions,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "institution_list"},
    {.method = "POST",
     .path = "/api/v1/institutions",
     .handler = school_institution_create,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "institution_create"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}",
     .handler = school_institution_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "institution_get"},
    {.method = "PATCH",
     .path = "/api/v1/institutions/{id}",
     .handler = school_institution_patch,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "institution_update"},
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
    {.method = "POST",
     .path = "/api/v1/institutions/{id}/staff",
     .handler = school_staff_add,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "staff_add"},
    {.method = "GET",
     .path = "/api/v1/academic-years",
     .handler = school_years,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "year_list"},
    {.method = "POST",
     .path = "/api/v1/academic-years",
     .handler = school_year_create,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "year_create"},
    {.method = "GET",
     .path = "/api/v1/subjects",
     .handler = school_subjects,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "subject_list"},
    {.method = "POST",
     .path = "/api/v1/subjects",
     .handler = school_subject_create,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "subject_create"},
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
     .path = "/api/v1/persons",
     .handler = school_person_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "person_create",
     .self_tx = true},
    {.method = "GET",
     .path = "/api/v1/persons/{id}",
     .handler = school_person_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "person_get"},
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
    {.method = "POST",
     .path = "/api/v1/guardians",
     .handler = school_guardian_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "guardian_create"},
    {.method = "GET",
     .path = "/api/v1/students/{id}",
     .handler = school_student_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_get"},
    {0},
};
