/*
 * Persons: creating a person with an optional account and roles (the password hashed by the
 * route's prepare step, before the writer), a person's record, staff of an institution, guardians
 * of a student, a student's profile and who teaches them. Every change is audited with the
 * institution it concerns.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

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
    return role &
           (ROLE_SCHOOL_ADMIN | ROLE_TEACHER | ROLE_CLASS_TEACHER | ROLE_MEDIC | ROLE_CANTEEN);
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
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
                                "p.birth_date, a.id, a.login FROM persons p LEFT JOIN "
                                "accounts a ON a.person_id = p.id WHERE p.id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    if (!db_next(st, &rc))
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such person")
                                 : reply_db_error(r);
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
        st = db_query(r->db,
                      "SELECT role, institution_id FROM role_grants WHERE account_id = :a "
                      "ORDER BY role, institution_id",
                      DB_ARGS(DB_INT(":a", account)));
        json_t *roles = json_object_get(json_object_get(o, "account"), "roles");
        while (db_next(st, &rc)) {
            json_t *g = json_pack("{s:s}", "role", db_col_text(st, 0));
            if (sqlite3_column_type(st, 1) != SQLITE_NULL)
                json_object_set_new(g, "institution_id", json_integer(sqlite3_column_int64(st, 1)));
            json_array_append_new(roles, g);
        }
        if (rc != SQLITE_DONE) {
            json_decref(o);
            return reply_db_error(r);
        }
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
        return school_reply_write_error(r, "person");
    if (np->account) {
        /* Without a login the account gets a made one (accounts_add_inactive) and waits for
         * its activation. */
        char made[ACCOUNT_LOGIN_MAX + 1];
        int64_t acc = np->login ? accounts_add(r->db, id, np->login, np->hash)
                                : accounts_add_inactive(r->db, id, np->last, made);
        if (acc < 0 && np->login == NULL)
            return reply_db_error(r);
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
                return school_reply_write_error(r, "role");
        }
    }
    json_t *detail = json_pack("{s:s,s:s}", "last_name", np->last, "first_name", np->first);
    if (np->login)
        json_object_set_new(detail, "login", json_string(np->login));
    else if (np->account)
        json_object_set_new(detail, "login_made", json_true());
    if (np->roles)
        json_object_set(detail, "roles", np->roles);
    if (school_audit_or_respond(r, audit_inst, "person.create", "person", id, detail) != 0)
        return r->status;
    return reply_person(r, 201, id);
}

/* What the prepare step of POST /api/v1/persons found, for its handler (r->prep). */
struct person_prep {
    struct new_person np;
    char *hash; /* sodium_malloc'ed argon2id string, or NULL without a password */
};

static void person_prep_free(void *p)
{
    struct person_prep *pp = p;
    sodium_free(pp->hash); /* wipes it */
    free(pp);
}

/* POST /api/v1/persons, before the write: validates the body (400 answered here) and hashes
 * the password with argon2id on the worker thread, outside any transaction, so the slow hash
 * never holds the writer. Leaves a struct person_prep in r->prep; 0, or the status answered. */
static int persons_create_prepare(struct req *r)
{
    struct new_person np = {.middle = ""};
    const char *password = NULL;
    if (body_unpack_or_respond(r, "{s:s,s:s,s?s,s?s,s?o}", "last_name", &np.last, "first_name",
                               &np.first, "middle_name", &np.middle, "birth_date", &np.birth,
                               "account", &np.account) != 0)
        return r->status;
    if (!school_text_ok(np.last, 1, 100))
        return reply_field_error(r, 400, "bad_request", "last_name", "last_name 1-100 characters");
    if (!school_text_ok(np.first, 1, 100))
        return reply_field_error(r, 400, "bad_request", "first_name",
                                 "first_name 1-100 characters");
    if (!school_text_ok(np.middle, 0, 100))
        return reply_field_error(r, 400, "bad_request", "middle_name",
                                 "middle_name 0-100 characters");
    if (np.birth && !school_date_ok(np.birth))
        return reply_field_error(r, 400, "bad_request", "birth_date",
                                 "birth_date must be a date YYYY-MM-DD");
    if (np.account) {
        json_error_t e;
        if (json_unpack_ex(np.account, &e, JSON_STRICT, "{s?s,s?s,s:o}", "login", &np.login,
                           "password", &password, "roles", &np.roles) != 0)
            return reply_error(r, 400, "bad_request", "account: %s", e.text);
        if (np.login == NULL && password)
            return reply_error(r, 400, "bad_request",
                               "account: a password needs a login (without one, the login is "
                               "made and the account waits for activation)");
        if (np.login && !login_ok(np.login))
            return reply_error(r, 400, "bad_request",
                               "login: 1-64 of latin letters, digits, '.', '_', '-'");
        if (password && (strlen(password) < 8 || strlen(password) > 256))
            return reply_error(r, 400, "bad_request", "password must be 8-256 characters");
        if (roles_shape_ok_or_respond(r, np.roles) != 0)
            return r->status;
    }
    struct person_prep *pp = calloc(1, sizeof(*pp));
    if (pp == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    pp->np = np;
    r->prep = pp;
    r->prep_free = person_prep_free;
    if (password) {
        pp->hash = sodium_malloc(crypto_pwhash_STRBYTES);
        if (pp->hash == NULL || auth_hash_password(&r->node->cfg, password, pp->hash) != 0)
            return reply_error(r, 503, "unavailable", "out of memory hashing the password");
        pp->np.hash = pp->hash;
    }
    return 0;
}

/* POST /api/v1/persons {last_name, first_name, middle_name?, birth_date?, account?: {login?,
 * password?, roles}}: in the write transaction, after persons_create_prepare. An account
 * without a login gets a made one and no password: it waits for activation. */
static int persons_create(struct req *r)
{
    const struct person_prep *pp = r->prep;
    return person_create_tx(r, &pp->np);
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
        return reply_field_error(r, 400, "bad_request", "position",
                                 "position must be 1-100 characters");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO staff (person_id, institution_id, position) "
               "VALUES (:p, :i, :pos)",
               DB_ARGS(DB_INT(":p", person), DB_INT(":i", inst), DB_TEXT(":pos", position))) !=
        SQLITE_DONE)
        return school_reply_write_error(r, "staff member");
    if (school_audit_or_respond(r, inst, "staff.add", "person", person, json_deep_copy(r->body)) !=
        0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s}", "person_id", (json_int_t)person, "institution_id",
                                (json_int_t)inst, "position", position));
}

static json_t *guardian_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:o,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     ref_person_name(st, 1), "relation", db_col_text(st, 4));
}

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
    if (db_run(r->db,
               "INSERT INTO guardians (guardian_id, student_id, relation) "
               "VALUES (:g, :s, :r)",
               DB_ARGS(DB_INT(":g", guardian), DB_INT(":s", student), DB_TEXT(":r", relation))) !=
        SQLITE_DONE)
        return school_reply_write_error(r, "guardian");
    int64_t inst = 0; /* the student's school, or the region's (0) when not enrolled */
    int rc = db_int(r->db, &inst,
                    "SELECT c.institution_id FROM enrollments e JOIN classes c ON c.id = "
                    "e.class_id WHERE e.student_id = :id AND e.left_on IS NULL",
                    DB_ARGS(DB_INT(":id", student)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    if (school_audit_or_respond(r, inst, "guardian.create", "person", student,
                                json_deep_copy(r->body)))
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
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date, "
        "c.id, c.grade, c.letter, i.id, i.short_name FROM persons p "
        "JOIN enrollments e ON e.student_id = p.id AND e.left_on IS NULL "
        "JOIN classes c ON c.id = e.class_id JOIN institutions i ON i.id = c.institution_id "
        "WHERE p.id = :id",
        DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r);
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
    if (school_add_list(r, o, "guardians",
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
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
                 "group_concat(s.name, ', '), max(c.class_teacher_id = p.id) FROM enrollments e "
                 "JOIN classes c ON c.id = e.class_id "
                 "JOIN persons p ON p.id IN (SELECT teacher_id FROM teaching_assignments WHERE "
                 "class_id = c.id UNION SELECT c.class_teacher_id) "
                 "LEFT JOIN teaching_assignments t ON t.class_id = c.id AND t.teacher_id = p.id "
                 "LEFT JOIN subjects s ON s.id = t.subject_id "
                 "WHERE e.student_id = :id AND e.left_on IS NULL GROUP BY p.id "
                 "ORDER BY p.last_name, p.first_name",
                 DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(
            items, json_pack("{s:I,s:o,s:s,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                             "name", ref_person_name(st, 1), "subjects", db_col_text(st, 4),
                             "class_teacher", sqlite3_column_int(st, 5)));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

const struct route persons_routes[] = {
    {.method = "GET",
     .path = "/api/v1/students/{id}/teachers",
     .handler = school_student_teachers,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_teachers"},
    {.method = "POST",
     .path = "/api/v1/institutions/{id}/staff",
     .handler = school_staff_add,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "staff_add"},
    {.method = "POST",
     .path = "/api/v1/persons",
     .handler = persons_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "person_create",
     .prepare = persons_create_prepare},
    {.method = "GET",
     .path = "/api/v1/persons/{id}",
     .handler = school_person_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "person_get"},
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
