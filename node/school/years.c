/*
 * An academic year's calendar after it was made: correcting a period's dates and the year's
 * days off (holidays.sql). A year's days off start as the region's configuration and are the
 * region admin's to change from then on; lesson generation (journal_generate_lessons) reads
 * them from here. Everyone signed in reads them; only the region admin changes them, and
 * every change is audited.
 * Load: a few administrative writes a year; lists of a dozen rows.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "node.h"
#include "school/school.h"

bool school_holiday_date(int month, int day, const char *starts_on, const char *ends_on,
                         char out[11])
{
    int first = 0, last = 0;
    if (sscanf(starts_on, "%4d", &first) != 1 || sscanf(ends_on, "%4d", &last) != 1)
        return false;
    for (int y = first; y <= last; y++) {
        char d[16];
        snprintf(d, sizeof(d), "%04d-%02d-%02d", y, month, day);
        if (school_date_ok(d) && strcmp(d, starts_on) >= 0 && strcmp(d, ends_on) <= 0) {
            memcpy(out, d, 11);
            return true;
        }
    }
    return false;
}

int school_seed_holidays(struct db *db, const struct mes_config *cfg, int64_t year_id)
{
    char *starts = NULL, *ends = NULL;
    int e = db_exists(db, "SELECT 1 FROM holiday_years WHERE year_id = :y",
                      DB_ARGS(DB_INT(":y", year_id)));
    if (e != 0)
        return e < 0 ? -1 : 0;
    int rc = -1;
    if (db_text(db, &starts, "SELECT starts_on FROM academic_years WHERE id = :y",
                DB_ARGS(DB_INT(":y", year_id))) != SQLITE_ROW ||
        db_text(db, &ends, "SELECT ends_on FROM academic_years WHERE id = :y",
                DB_ARGS(DB_INT(":y", year_id))) != SQLITE_ROW)
        goto out;
    for (int i = 0; i < cfg->school_year.nholidays; i++) {
        char date[11];
        if (!school_holiday_date(cfg->school_year.holidays[i].month,
                                 cfg->school_year.holidays[i].day, starts, ends, date))
            continue;
        if (db_run(db,
                   "INSERT INTO holidays (year_id, date) VALUES (:y, :d) "
                   "ON CONFLICT (year_id, date) DO NOTHING",
                   DB_ARGS(DB_INT(":y", year_id), DB_TEXT(":d", date))) != SQLITE_DONE)
            goto out;
    }
    if (db_run(db, "INSERT INTO holiday_years (year_id) VALUES (:y)",
               DB_ARGS(DB_INT(":y", year_id))) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    free(starts);
    free(ends);
    return rc;
}

int school_storage_init(struct db *db, const struct mes_config *cfg, char *err, size_t errlen)
{
    if (school_seed_subjects(db, cfg, err, errlen) != 0)
        return -1;
    /* The years made since the last start by something that does not make their list. */
    sqlite3_stmt *st = db_query(db,
                                "SELECT id FROM academic_years WHERE id NOT IN "
                                "(SELECT year_id FROM holiday_years) ORDER BY id",
                                NULL);
    int64_t years[64];
    int n = 0, rc;
    while (db_next(st, &rc))
        if (n < (int)(sizeof(years) / sizeof(years[0])))
            years[n++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE)
        goto fail;
    for (int i = 0; i < n; i++)
        if (school_seed_holidays(db, cfg, years[i]) != 0)
            goto fail;
    return 0;
fail:
    snprintf(err, errlen, "seeding days off: %s", db_errmsg(db));
    return -1;
}

const char *school_period_check(const char *year_start, const char *year_end, const char *prev_end,
                                const char *next_start, const char *starts, const char *ends)
{
    if (strcmp(starts, ends) > 0)
        return "period_order";
    if (strcmp(starts, year_start) < 0 || strcmp(ends, year_end) > 0)
        return "period_outside_year";
    if ((prev_end && strcmp(starts, prev_end) <= 0) ||
        (next_start && strcmp(ends, next_start) >= 0))
        return "period_overlap";
    return NULL;
}

/* ---- periods --------------------------------------------------------------------------- */

/* The period's year and neighbours, as school_period_check wants them. */
struct period_frame {
    int64_t year_id;
    char name[256], starts[11], ends[11];
    char year_start[11], year_end[11], prev_end[11], next_start[11];
    bool has_prev, has_next;
};

/* Reads period `id`'s frame: SQLITE_ROW, SQLITE_DONE (no such period) or a failure's code. */
static int period_frame(struct req *r, int64_t id, struct period_frame *f)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT p.year_id, p.name, p.starts_on, p.ends_on, y.starts_on, y.ends_on, "
                 "(SELECT max(q.ends_on) FROM periods q WHERE q.year_id = p.year_id "
                 " AND q.number < p.number), "
                 "(SELECT min(q.starts_on) FROM periods q WHERE q.year_id = p.year_id "
                 " AND q.number > p.number) "
                 "FROM periods p JOIN academic_years y ON y.id = p.year_id WHERE p.id = :id",
                 DB_ARGS(DB_INT(":id", id)));
    int rc, found = SQLITE_DONE;
    while (db_next(st, &rc)) {
        found = SQLITE_ROW;
        f->year_id = sqlite3_column_int64(st, 0);
        snprintf(f->name, sizeof(f->name), "%s", db_col_text(st, 1));
        snprintf(f->starts, sizeof(f->starts), "%s", db_col_text(st, 2));
        snprintf(f->ends, sizeof(f->ends), "%s", db_col_text(st, 3));
        snprintf(f->year_start, sizeof(f->year_start), "%s", db_col_text(st, 4));
        snprintf(f->year_end, sizeof(f->year_end), "%s", db_col_text(st, 5));
        f->has_prev = sqlite3_column_type(st, 6) != SQLITE_NULL;
        f->has_next = sqlite3_column_type(st, 7) != SQLITE_NULL;
        snprintf(f->prev_end, sizeof(f->prev_end), "%s", db_col_text(st, 6));
        snprintf(f->next_start, sizeof(f->next_start), "%s", db_col_text(st, 7));
    }
    return rc == SQLITE_DONE ? found : rc;
}

/* PATCH /api/v1/periods/{id} {name?, starts_on?, ends_on?} (region admin): the periods stay in
 * order, apart and inside their year (400 with the code of school_period_check otherwise).
 * Lessons already made for the period keep their dates. */
static int school_period_patch(struct req *r)
{
    const char *name = NULL, *starts = NULL, *ends = NULL;
    if (body_unpack_or_respond(r, "{s?s,s?s,s?s}", "name", &name, "starts_on", &starts, "ends_on",
                               &ends) != 0)
        return r->status;
    if (name && !school_text_ok(name, 1, 100))
        return reply_field_error(r, 400, "bad_request", "name", "name 1-100 characters");
    if (starts && !school_date_ok(starts))
        return reply_field_error(r, 400, "bad_request", "starts_on",
                                 "starts_on: a date YYYY-MM-DD");
    if (ends && !school_date_ok(ends))
        return reply_field_error(r, 400, "bad_request", "ends_on", "ends_on: a date YYYY-MM-DD");
    struct period_frame f;
    int rc = period_frame(r, r->params[0], &f);
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "no such period");
    if (rc != SQLITE_ROW)
        return reply_db_error(r);
    const char *s = starts ? starts : f.starts, *e = ends ? ends : f.ends;
    const char *bad = school_period_check(f.year_start, f.year_end, f.has_prev ? f.prev_end : NULL,
                                          f.has_next ? f.next_start : NULL, s, e);
    if (bad) {
        /* The field at fault: the start when it is before the year or inside the period
         * before; else the end. */
        bool start_wrong =
            strcmp(bad, "period_outside_year") == 0
                ? strcmp(s, f.year_start) < 0
                : strcmp(bad, "period_overlap") == 0 && f.has_prev && strcmp(s, f.prev_end) <= 0;
        return reply_field_error(r, 400, bad, start_wrong ? "starts_on" : "ends_on",
                                 "a period runs from %s to %s inside its year (%s to %s), after "
                                 "the one before it and before the one after it",
                                 s, e, f.year_start, f.year_end);
    }
    if (db_run(r->db,
               "UPDATE periods SET name = coalesce(:n, name), starts_on = :s, ends_on = :e "
               "WHERE id = :id",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":s", s), DB_TEXT(":e", e),
                       DB_INT(":id", r->params[0]))) != SQLITE_DONE)
        return school_reply_write_error(r, "period");
    if (school_audit_or_respond(r, 0, "period.update", "period", r->params[0],
                                json_deep_copy(r->body)) != 0)
        return r->status;
    return reply_json(r, 200,
                      json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)r->params[0], "year_id",
                                (json_int_t)f.year_id, "name", name ? name : f.name, "starts_on", s,
                                "ends_on", e));
}

/* ---- days off -------------------------------------------------------------------------- */

/* Year `id`'s dates into ys/ye: SQLITE_ROW, SQLITE_DONE (no such year) or a failure's code. */
static int year_bounds(struct req *r, int64_t id, char ys[11], char ye[11])
{
    sqlite3_stmt *st =
        db_query(r->db, "SELECT starts_on, ends_on FROM academic_years WHERE id = :id",
                 DB_ARGS(DB_INT(":id", id)));
    int rc, found = SQLITE_DONE;
    while (db_next(st, &rc)) {
        found = SQLITE_ROW;
        snprintf(ys, 11, "%s", db_col_text(st, 0));
        snprintf(ye, 11, "%s", db_col_text(st, 1));
    }
    return rc == SQLITE_DONE ? found : rc;
}

static json_t *holiday_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "date",
                     db_col_text(st, 1), "name", db_col_text(st, 2));
}

/* GET /api/v1/academic-years/{id}/holidays -> {"items": [{id, date, name}], "from_config"}:
 * the year's list; while it has none yet (made by an import since the last start), the days
 * the configuration gives it, without ids, and from_config true. */
static int school_holidays(struct req *r)
{
    char ys[11], ye[11];
    int rc = year_bounds(r, r->params[0], ys, ye);
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "no such academic year");
    if (rc != SQLITE_ROW)
        return reply_db_error(r);
    int made = db_exists(r->db, "SELECT 1 FROM holiday_years WHERE year_id = :y",
                         DB_ARGS(DB_INT(":y", r->params[0])));
    if (made < 0)
        return reply_db_error(r);
    json_t *items = json_array();
    if (made) {
        sqlite3_stmt *st = db_query(r->db,
                                    "SELECT id, date, name FROM holidays WHERE year_id = :y "
                                    "ORDER BY date",
                                    DB_ARGS(DB_INT(":y", r->params[0])));
        while (db_next(st, &rc))
            json_array_append_new(items, holiday_row(st));
        if (rc != SQLITE_DONE) {
            json_decref(items);
            return reply_db_error(r);
        }
    } else {
        const struct mes_config *cfg = &r->node->cfg;
        for (int i = 0; i < cfg->school_year.nholidays; i++) {
            char date[11];
            if (school_holiday_date(cfg->school_year.holidays[i].month,
                                    cfg->school_year.holidays[i].day, ys, ye, date))
                json_array_append_new(items, json_pack("{s:s,s:s}", "date", date, "name", ""));
        }
    }
    return reply_json(r, 200, json_pack("{s:o,s:b}", "items", items, "from_config", !made));
}

/* POST /api/v1/academic-years/{id}/holidays {date, name?} (region admin): a day off inside the
 * year (400 holiday_outside_year), once (409). Lessons already made that day stay. */
static int school_holiday_create(struct req *r)
{
    const char *date, *name = "";
    if (body_unpack_or_respond(r, "{s:s,s?s}", "date", &date, "name", &name) != 0)
        return r->status;
    if (!school_date_ok(date))
        return reply_field_error(r, 400, "bad_request", "date", "date: a date YYYY-MM-DD");
    if (!school_text_ok(name, 0, 200))
        return reply_field_error(r, 400, "bad_request", "name", "name 0-200 characters");
    char ys[11], ye[11];
    int rc = year_bounds(r, r->params[0], ys, ye);
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "no such academic year");
    if (rc != SQLITE_ROW)
        return reply_db_error(r);
    if (strcmp(date, ys) < 0 || strcmp(date, ye) > 0)
        return reply_field_error(r, 400, "holiday_outside_year", "date",
                                 "the year runs from %s to %s", ys, ye);
    if (school_seed_holidays(r->db, &r->node->cfg, r->params[0]) != 0)
        return reply_db_error(r);
    if (db_run(r->db, "INSERT INTO holidays (year_id, date, name) VALUES (:y, :d, :n)",
               DB_ARGS(DB_INT(":y", r->params[0]), DB_TEXT(":d", date), DB_TEXT(":n", name))) !=
        SQLITE_DONE)
        return school_reply_write_error(r, "holiday");
    int64_t id = db_last_id(r->db);
    if (school_audit_or_respond(r, 0, "holiday.create", "holiday", id,
                                json_pack("{s:s,s:s}", "date", date, "name", name)) != 0)
        return r->status;
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s,s:s}", "id", (json_int_t)id, "year_id",
                                (json_int_t)r->params[0], "date", date, "name", name));
}

/* DELETE /api/v1/holidays/{id} (region admin): lessons are made on that day from now on. */
static int school_holiday_delete(struct req *r)
{
    char *date = NULL;
    int rc = db_text(r->db, &date, "SELECT date FROM holidays WHERE id = :id",
                     DB_ARGS(DB_INT(":id", r->params[0])));
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "no such holiday");
    if (rc != SQLITE_ROW)
        return reply_db_error(r);
    json_t *detail = json_pack("{s:s}", "date", date);
    free(date);
    if (db_run(r->db, "DELETE FROM holidays WHERE id = :id",
               DB_ARGS(DB_INT(":id", r->params[0]))) != SQLITE_DONE) {
        json_decref(detail);
        return reply_db_error(r);
    }
    if (school_audit_or_respond(r, 0, "holiday.delete", "holiday", r->params[0], detail) != 0)
        return r->status;
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

const struct route years_routes[] = {
    {.method = "PATCH",
     .path = "/api/v1/periods/{id}",
     .handler = school_period_patch,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "period_update"},
    {.method = "GET",
     .path = "/api/v1/academic-years/{id}/holidays",
     .handler = school_holidays,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "holiday_list"},
    {.method = "POST",
     .path = "/api/v1/academic-years/{id}/holidays",
     .handler = school_holiday_create,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "holiday_create"},
    {.method = "DELETE",
     .path = "/api/v1/holidays/{id}",
     .handler = school_holiday_delete,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN,
     .writes = true,
     .name = "holiday_delete"},
    {0},
};
