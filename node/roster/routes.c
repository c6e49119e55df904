/*
 * The import from the browser (/admin/import): an upload answers with a preview (the dry
 * run's report: what would change per kind and every error with its file, line, code and
 * parameters) and an id; applying that id re-checks against the database as it is then and
 * imports, through the writer. The region admin imports OneRoster sets (a zip) and the
 * Russian template; a school admin only the template, for their own school, and only their
 * own uploads. Both routes run the whole import on the writer: a school's file is a matter of
 * milliseconds; a region's goes through `mesnode import` (docs/roster.md).
 */
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "files/files.h"
#include "node.h"
#include "roster/roster.h"

/* The school a school admin administers (the first such grant); 0 for none. */
static int64_t admin_school(const struct req *r)
{
    for (int i = 0; i < r->caller.ngrants; i++)
        if (r->caller.grants[i].role == ROLE_SCHOOL_ADMIN && r->caller.grants[i].institution_id)
            return r->caller.grants[i].institution_id;
    return 0;
}

static bool region_admin(const struct req *r)
{
    return (r->caller.roles & ROLE_ADMIN) != 0;
}

/* POST /api/v1/roster/uploads: the raw body is a zip (a OneRoster set) or a CSV (the
 * template). 201 {id, format, valid, report}. */
static int roster_upload(struct req *r)
{
    size_t len = 0;
    unsigned char *bytes = upload_bytes(r->upload, &len);
    if (bytes == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    bool zip = len >= 4 && memcmp(bytes, "PK\x03\x04", 4) == 0;
    const char *format = zip ? "oneroster" : "csv";
    int64_t school = region_admin(r) ? 0 : admin_school(r);
    if (!region_admin(r) && (zip || school == 0)) {
        free(bytes);
        return reply_error(r, 403, "forbidden",
                           "a school admin imports the CSV template of their own school only");
    }
    if (len == 0) {
        free(bytes);
        return reply_error(r, 400, "empty", "the file is empty");
    }
    /* Waiting uploads do not pile up: a new one replaces the sender's earlier one, and any left
     * unapplied for a day is dropped. */
    int rc = db_run(r->db,
                    "DELETE FROM roster_uploads WHERE applied_at IS NULL AND (account_id = :a "
                    "OR created_at < unixepoch() - 86400)",
                    DB_ARGS(DB_INT(":a", r->caller.account_id)));
    if (rc != SQLITE_DONE) {
        free(bytes);
        return reply_db_error(r);
    }
    rc = db_run(r->db,
                "INSERT INTO roster_uploads (account_id, institution_id, format, size, zstd, "
                "data) VALUES (:a, nullif(:i, 0), :f, :s, :z, :d)",
                DB_ARGS(DB_INT(":a", r->caller.account_id), DB_INT(":i", school),
                        DB_TEXT(":f", format), DB_INT(":s", (int64_t)r->upload->size),
                        DB_INT(":z", r->upload->zstd),
                        DB_BLOB(":d", r->upload->data, (int)r->upload->len)));
    if (rc != SQLITE_DONE) {
        free(bytes);
        return reply_db_error(r);
    }
    int64_t id = db_last_id(r->db);
    struct roster_options opt = {.dry_run = true, .cfg = &r->node->cfg, .only_institution = school};
    struct roster_report rep = {0};
    char name[201];
    if (req_query(r, "name", name, sizeof(name)) > 0 && !strpbrk(name, "/\\")) {
        json_t *utf8 = json_string(name); /* jansson takes only valid UTF-8 */
        if (utf8 != NULL)
            opt.file_name = name;
        json_decref(utf8);
    }
    rc = roster_import_upload(r->db, format, bytes, len, &opt, &rep);
    free(bytes);
    if (rc < 0) {
        roster_report_free(&rep);
        return reply_db_error(r);
    }
    json_t *out = json_pack("{s:I,s:s,s:b,s:o}", "id", (json_int_t)id, "format", format, "valid",
                            rep.errors_total == 0, "report", roster_report_json(&rep));
    roster_report_free(&rep);
    return reply_json(r, 201, out);
}

/* POST /api/v1/roster/uploads/{id}/apply {skip_invalid?}: imports an upload. 200 {id,
 * report}; 422 invalid (with the report: nothing imported) when it has errors and
 * skip_invalid is not set; 409 already_applied. */
static int roster_upload_apply(struct req *r)
{
    int skip = 0;
    if (r->body != NULL && body_unpack_or_respond(r, "{s?b}", "skip_invalid", &skip) != 0)
        return 400;
    int64_t id = r->params[0];
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT account_id, coalesce(institution_id, 0), format, size, zstd, data, "
                 "applied_at IS NOT NULL FROM roster_uploads WHERE id = :id",
                 DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return reply_db_error(r);
    int rc = db_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such upload")
                                 : reply_db_error(r);
    }
    int64_t account = sqlite3_column_int64(st, 0), school = sqlite3_column_int64(st, 1);
    char format[16];
    snprintf(format, sizeof(format), "%s", db_col_text(st, 2));
    struct upload u = {.size = (size_t)sqlite3_column_int64(st, 3),
                       .zstd = sqlite3_column_int(st, 4) != 0};
    bool applied = sqlite3_column_int(st, 6) != 0;
    /* a school admin sees only their own uploads: anything else is not there */
    if (!region_admin(r) && (account != r->caller.account_id || school != admin_school(r))) {
        sqlite3_reset(st);
        return reply_error(r, 404, "not_found", "no such upload");
    }
    if (applied) {
        sqlite3_reset(st);
        return reply_error(r, 409, "already_applied", "this upload was imported already");
    }
    u.len = (size_t)sqlite3_column_bytes(st, 5);
    u.data = malloc(u.len ? u.len : 1);
    if (u.data != NULL)
        memcpy(u.data, sqlite3_column_blob(st, 5), u.len);
    sqlite3_reset(st);
    size_t len = 0;
    unsigned char *bytes = u.data ? upload_bytes(&u, &len) : NULL;
    free(u.data);
    if (bytes == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    struct roster_options opt = {
        .skip_invalid = skip != 0, .cfg = &r->node->cfg, .only_institution = school};
    struct roster_report rep = {0};
    rc = roster_import_upload(r->db, format, bytes, len, &opt, &rep);
    free(bytes);
    if (rc < 0) {
        roster_report_free(&rep);
        return reply_db_error(r);
    }
    if (rc == 1 && !opt.skip_invalid) {
        json_t *out = json_pack("{s:{s:s,s:s},s:o}", "error", "code", "invalid", "message",
                                "the files have errors: nothing was imported", "report",
                                roster_report_json(&rep));
        roster_report_free(&rep);
        return reply_json(r, 422, out); /* the error status rolls the import back */
    }
    json_t *report = roster_report_json(&rep);
    json_t *detail = json_pack("{s:I,s:O}", "errors", (json_int_t)rep.errors_total, "counts",
                               json_object_get(report, "counts"));
    roster_report_free(&rep);
    char object[48];
    snprintf(object, sizeof(object), "roster_upload/%lld", (long long)id);
    if (db_run(r->db,
               "UPDATE roster_uploads SET applied_at = unixepoch(), data = x'' WHERE id = :id",
               DB_ARGS(DB_INT(":id", id))) != SQLITE_DONE ||
        audit(r, school, "roster.import", object, detail) != 0) {
        json_decref(report);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:I,s:o}", "id", (json_int_t)id, "report", report));
}

const struct route roster_routes[] = {
    {.method = "POST",
     .path = "/api/v1/roster/uploads",
     .handler = roster_upload,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN,
     .writes = true,
     .name = "roster_upload",
     .upload = true},
    {.method = "POST",
     .path = "/api/v1/roster/uploads/{id}/apply",
     .handler = roster_upload_apply,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN,
     .writes = true,
     .name = "roster_upload_apply"},
    {0},
};
