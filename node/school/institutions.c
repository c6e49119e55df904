/*
 * Institutions and what the region sets up around them: municipalities, institutions (schools),
 * academic years with their periods, and subjects. Region admins create them, a school's admin
 * changes their school; everyone signed in reads them. Every change is audited.
 * Load: rare administrative writes; reads are small indexed lists.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

/* ---- municipalities ---------------------------------------------------------------------- */

static json_t *municipality_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     db_col_text(st, 1), "okato", db_col_text(st, 2));
}

/* GET /api/v1/municipalities: every municipality, for any user. */
static int school_municipalities(struct req *r)
{
    sqlite3_stmt *st =
        db_query(r->db, "SELECT id, name, okato FROM municipalities ORDER BY name", NULL);
    return st ? reply_rows(r, st, municipality_row) : reply_db_error(r);
}

/* POST /api/v1/municipalities {name, okato?} (region admin). */
static int school_municipality_create(struct req *r)
{
    const char *name, *okato = "";
    if (body_unpack_or_respond(r, "{s:s,s?s}", "name", &name, "okato", &okato) != 0)
        return r->status;
    if (!school_text_ok(name, 1, 200))
        return reply_field_error(r, 400, "bad_request", "name", "name must be 1-200 characters");
    if (!school_text_ok(okato, 0, 20))
        return reply_field_error(r, 400, "bad_request", "okato", "okato must be 0-20 characters");
    if (db_run(r->db, "INSERT INTO municipalities (name, okato) VALUES (:n, :o)",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":o", okato))) != SQLITE_DONE)
        return school_reply_write_error(r, "municipality");
    int64_t id = db_last_id(r->db);
    if (school_audit_or_respond(r, 0, "municipality.create", "municipality", id,
                                json_pack("{s:s}", "name", name)) != 0)
        return r->status;
    return reply_json(
        r, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name, "okato", okato));
}

/* PATCH /api/v1/municipalities/{id} {name?, okato?} (region admin): a rename; 409 when
 * another municipality has the name. */
static int school_municipality_patch(struct req *r)
{
    const char *name = NULL, *okato = NULL;
    if (body_unpack_or_respond(r, "{s?s,s?s}", "name", &name, "okato", &okato) != 0)
        return r->status;
    if (name && !school_text_ok(name, 1, 200))
        return reply_field_error(r, 400, "bad_request", "name", "name must be 1-200 characters");
    if (okato && !school_text_ok(okato, 0, 20))
        return reply_field_error(r, 400, "bad_request", "okato", "okato must be 0-20 characters");
    int e = db_exists(r->db, "SELECT 1 FROM municipalities WHERE id = :id",
                      DB_ARGS(DB_INT(":id", r->params[0])));
    if (e < 0)
        return reply_db_error(r);
    if (e == 0)
        return reply_error(r, 404, "not_found", "no such municipality");
    if (db_run(r->db,
               "UPDATE municipalities SET name = coalesce(:n, name), okato = coalesce(:o, okato) "
               "WHERE id = :id",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":o", okato), DB_INT(":id", r->params[0]))) !=
        SQLITE_DONE)
        return school_reply_write_error(r, "municipality");
    if (school_audit_or_respond(r, 0, "municipality.update", "municipality", r->params[0],
                                json_deep_copy(r->body)) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db, "SELECT id, name, okato FROM municipalities WHERE id = :id",
                                DB_ARGS(DB_INT(":id", r->params[0])));
    json_t *o = NULL;
    int rc;
    while (db_next(st, &rc))
        if (o == NULL)
            o = municipality_row(st);
    if (rc != SQLITE_DONE || o == NULL) {
        json_decref(o);
        return reply_db_error(r);
    }
    return reply_json(r, 200, o);
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
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " INSTITUTION_COLUMNS " FROM institutions i "
                                "JOIN municipalities m ON m.id = i.municipality_id "
                                "ORDER BY m.name, i.short_name",
                                NULL);
    return st ? reply_rows(r, st, institution_row) : reply_db_error(r);
}

static int reply_institution(struct req *r, int status, int64_t id)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " INSTITUTION_COLUMNS " FROM institutions i "
                                "JOIN municipalities m ON m.id = i.municipality_id "
                                "WHERE i.id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r);
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
    if (!school_text_ok(name, 1, 300))
        return reply_field_error(r, 400, "bad_request", "name", "name 1-300 characters");
    if (!school_text_ok(short_name, 1, 100))
        return reply_field_error(r, 400, "bad_request", "short_name",
                                 "short_name 1-100 characters");
    if (!school_text_ok(address, 0, 300))
        return reply_field_error(r, 400, "bad_request", "address", "address 0-300 characters");
    int e = db_exists(r->db, "SELECT 1 FROM municipalities WHERE id = :id",
                      DB_ARGS(DB_INT(":id", mun)));
    if (e < 0)
        return reply_db_error(r);
    if (e == 0)
        return reply_error(r, 400, "bad_request", "no municipality %lld", (long long)mun);
    if (db_run(r->db,
               "INSERT INTO institutions (municipality_id, kind, name, "
               "short_name, address) VALUES (:m, :k, :n, :s, :a)",
               DB_ARGS(DB_INT(":m", mun), DB_TEXT(":k", kind), DB_TEXT(":n", name),
                       DB_TEXT(":s", short_name), DB_TEXT(":a", address))) != SQLITE_DONE)
        return school_reply_write_error(r, "institution");
    int64_t id = db_last_id(r->db);
    if (school_audit_or_respond(r, id, "institution.create", "institution", id,
                                json_pack("{s:s}", "name", name)) != 0)
        return r->status;
    return reply_institution(r, 201, id);
}

/* PATCH /api/v1/institutions/{id} {name?, short_name?, address?, municipality_id?}: the region
 * admin or that school's admin; moving it to another municipality, the region admin only. */
static int school_institution_patch(struct req *r)
{
    int64_t id = r->params[0];
    const char *name = NULL, *short_name = NULL, *address = NULL;
    json_int_t mun = 0;
    if (body_unpack_or_respond(r, "{s?s,s?s,s?s,s?I}", "name", &name, "short_name", &short_name,
                               "address", &address, "municipality_id", &mun) != 0)
        return r->status;
    if (json_object_get(r->body, "municipality_id") && mun < 1)
        return reply_error(r, 400, "bad_request", "municipality_id must be positive");
    if (name && !school_text_ok(name, 1, 300))
        return reply_field_error(r, 400, "bad_request", "name", "name 1-300 characters");
    if (short_name && !school_text_ok(short_name, 1, 100))
        return reply_field_error(r, 400, "bad_request", "short_name",
                                 "short_name 1-100 characters");
    if (address && !school_text_ok(address, 0, 300))
        return reply_field_error(r, 400, "bad_request", "address", "address 0-300 characters");
    if (authz_institution_or_respond(r, id, AUTHZ_WRITE) != 0)
        return r->status;
    if (mun) {
        if (!caller_is_admin(r))
            return reply_error(r, 403, "forbidden",
                               "only the region admin moves a school to another municipality");
        int e = db_exists(r->db, "SELECT 1 FROM municipalities WHERE id = :id",
                          DB_ARGS(DB_INT(":id", mun)));
        if (e < 0)
            return reply_db_error(r);
        if (e == 0)
            return reply_error(r, 400, "bad_request", "no municipality %lld", (long long)mun);
    }
    if (db_run(r->db,
               "UPDATE institutions SET name = coalesce(:n, name), "
               "short_name = coalesce(:s, short_name), "
               "address = coalesce(:a, address), "
               "municipality_id = coalesce(nullif(:m, 0), municipality_id) WHERE id = :id",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":s", short_name), DB_TEXT(":a", address),
                       DB_INT(":m", mun), DB_INT(":id", id))) != SQLITE_DONE)
        return school_reply_write_error(r, "institution");
    if (school_audit_or_respond(r, id, "institution.update", "institution", id,
                                json_deep_copy(r->body)))
        return r->status;
    return reply_institution(r, 200, id);
}

/* ---- academic years and subjects ---------------------------------------------------------- */

static int school_years(struct req *r)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT y.id, y.name, y.starts_on, y.ends_on, p.id, "
                                "p.number, p.name, p.starts_on, p.ends_on "
                                "FROM academic_years y LEFT JOIN periods p "
                                "ON p.year_id = y.id ORDER BY y.starts_on, p.number",
                                NULL);
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array(), *year = NULL;
    int64_t last = 0;
    int rc;
    while (db_next(st, &rc)) {
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
        return reply_field_error(r, 400, "bad_request", "first_year",
                                 "first_year must be 2000-2100");
    char err[256];
    int64_t id = school_create_year(r->db, &r->node->cfg, (int)first, err, sizeof(err));
    if (id < 0)
        return reply_db_error(r);
    if (id == 0)
        return reply_error(r, 409, "conflict", "the year %lld/%lld exists", (long long)first,
                           (long long)first + 1);
    if (school_audit_or_respond(r, 0, "year.create", "year", id, NULL) != 0)
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
    sqlite3_stmt *st = db_query(
        r->db, "SELECT id, code, name, regional FROM subjects ORDER BY regional, id", NULL);
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
    if (db_run(r->db, "INSERT INTO subjects (code, name, regional) VALUES (:c, :n, 1)",
               DB_ARGS(DB_TEXT(":c", code), DB_TEXT(":n", name))) != SQLITE_DONE)
        return school_reply_write_error(r, "subject");
    int64_t id = db_last_id(r->db);
    if (school_audit_or_respond(r, 0, "subject.create", "subject", id,
                                json_pack("{s:s}", "code", code)))
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)id, "code", code, "name",
                                name, "regional", 1));
}

const struct route institutions_routes[] = {
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
    {.method = "PATCH",
     .path = "/api/v1/municipalities/{id}",
     .handler = school_municipality_patch,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "municipality_update"},
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
    {0},
};
