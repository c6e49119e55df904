/*
 * Notifications (see notify.h). Writes are one INSERT … SELECT per event inside the journal's
 * transaction; the feed is one indexed range read per page.
 */
#include "notify/notify.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "school/school.h"

/* Runs one INSERT of notifications with :id, :k and :d (the data as JSON). 0, or -1 on a
 * failure (out of memory or the database). */
static int insert(struct db *db, const char *sql, int64_t id, const char *kind, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    int rc = -1;
    if (text != NULL)
        rc =
            db_run(db, sql, DB_ARGS(DB_INT(":id", id), DB_TEXT(":k", kind), DB_TEXT(":d", text))) ==
                    SQLITE_DONE
                ? 0
                : -1;
    free(text);
    return rc;
}

int notify_family(struct db *db, int64_t student_id, const char *kind, json_t *data)
{
    return insert(db,
                  "INSERT INTO notifications (person_id, kind, student_id, data) "
                  "SELECT :id, :k, :id, :d UNION ALL "
                  "SELECT guardian_id, :k, :id, :d FROM guardians WHERE student_id = :id",
                  student_id, kind, data);
}

int notify_class(struct db *db, int64_t class_id, const char *kind, json_t *data)
{
    return insert(db,
                  "INSERT INTO notifications (person_id, kind, student_id, data) "
                  "SELECT e.student_id, :k, e.student_id, :d FROM enrollments e "
                  "WHERE e.class_id = :id AND e.left_on IS NULL UNION ALL "
                  "SELECT g.guardian_id, :k, e.student_id, :d FROM enrollments e JOIN guardians "
                  "g ON g.student_id = e.student_id WHERE e.class_id = :id AND e.left_on IS NULL",
                  class_id, kind, data);
}

int notify_person(struct db *db, int64_t person_id, int64_t student_id, const char *kind,
                  json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    int rc = -1;
    if (text != NULL)
        rc = db_run(db,
                    "INSERT INTO notifications (person_id, kind, student_id, "
                    "data) VALUES (:p, :k, nullif(:s, 0), :d)",
                    DB_ARGS(DB_INT(":p", person_id), DB_TEXT(":k", kind), DB_INT(":s", student_id),
                            DB_TEXT(":d", text))) == SQLITE_DONE
                 ? 0
                 : -1;
    free(text);
    return rc;
}

int notify_unread(struct db *db, int64_t person_id, int64_t *n)
{
    /* Through the partial index notifications_unread. */
    return db_int(db, n,
                  "SELECT count(*) FROM notifications WHERE person_id = :me AND read_at IS NULL",
                  DB_ARGS(DB_INT(":me", person_id))) == SQLITE_ROW
               ? 0
               : -1;
}

int notify_read_about(struct db *db, int64_t person_id, const char *kind, const char *key,
                      int64_t value)
{
    char path[64];
    int n = snprintf(path, sizeof(path), "$.%s", key);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    return db_run(db,
                  "UPDATE notifications SET read_at = unixepoch() WHERE person_id = :me AND "
                  "read_at IS NULL AND kind = :k AND json_extract(data, :path) = :v",
                  DB_ARGS(DB_INT(":me", person_id), DB_TEXT(":k", kind), DB_TEXT(":path", path),
                          DB_INT(":v", value))) == SQLITE_DONE
               ? 0
               : -1;
}

/* GET /api/v1/notifications?unread=1&before=ID&limit=N: the caller's feed, newest first. */
static int notify_list(struct req *r)
{
    char buf[24];
    int64_t limit = 50, before = INT64_MAX;
    int unread_only = req_query(r, "unread", buf, sizeof(buf)) > 0 && strcmp(buf, "1") == 0;
    if (req_query(r, "limit", buf, sizeof(buf)) > 0)
        limit = strtoll(buf, NULL, 10);
    if (req_query(r, "before", buf, sizeof(buf)) > 0)
        before = strtoll(buf, NULL, 10);
    if (limit < 1 || limit > 200)
        return reply_field_error(r, 400, "bad_request", "limit", "limit 1-200");
    if (before < 1)
        return reply_field_error(r, 400, "bad_request", "before", "before: a positive id");
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT n.id, n.kind, n.data, n.created_at, n.read_at IS NOT NULL, p.id, "
                 "p.last_name, p.first_name, p.middle_name FROM notifications n LEFT JOIN persons "
                 "p ON p.id = n.student_id WHERE n.person_id = :me AND n.id < :before AND "
                 "(:unread = 0 OR n.read_at IS NULL) ORDER BY n.id DESC LIMIT :limit",
                 DB_ARGS(DB_INT(":me", r->caller.person_id), DB_INT(":before", before),
                         DB_INT(":unread", unread_only), DB_INT(":limit", limit)));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *data = json_loads(db_col_text(st, 2), 0, NULL);
        json_t *o =
            json_pack("{s:I,s:s,s:o,s:I,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                      "kind", db_col_text(st, 1), "data", data ? data : json_object(), "created_at",
                      (json_int_t)sqlite3_column_int64(st, 3), "read", sqlite3_column_int(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            json_object_set_new(o, "student",
                                json_pack("{s:I,s:o}", "id",
                                          (json_int_t)sqlite3_column_int64(st, 5), "name",
                                          ref_person_name(st, 6)));
        json_array_append_new(items, o);
    }
    int64_t unread = 0;
    if (rc != SQLITE_DONE || notify_unread(r->db, r->caller.person_id, &unread) != 0) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "unread", (json_int_t)unread));
}

/* The most ids one POST /api/v1/notifications/read names (docs/openapi.yaml): 400 beyond. */
#define NOTIFY_READ_MAX_IDS 200

/* POST /api/v1/notifications/read {"ids": [...]} or {"all": true}: only the caller's own. The
 * ids (at most NOTIFY_READ_MAX_IDS) are marked in one UPDATE, each by its primary key. */
static int notify_read(struct req *r)
{
    json_t *ids = NULL;
    int all = 0;
    if (body_unpack_or_respond(r, "{s?o,s?b}", "ids", &ids, "all", &all) != 0)
        return r->status;
    if ((ids == NULL) == (all == 0) || (ids && !json_is_array(ids)))
        return reply_field_error(r, 400, "bad_request", "ids", "give ids (an array) or all: true");
    int rc;
    if (all) {
        rc = db_run(r->db,
                    "UPDATE notifications SET read_at = unixepoch() WHERE "
                    "person_id = :me AND read_at IS NULL",
                    DB_ARGS(DB_INT(":me", r->caller.person_id)));
    } else {
        if (json_array_size(ids) > NOTIFY_READ_MAX_IDS)
            return reply_field_error(r, 400, "bad_request", "ids", "at most %d ids at a time",
                                     NOTIFY_READ_MAX_IDS);
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            if (!json_is_integer(v))
                return reply_field_error(r, 400, "bad_request", "ids", "ids[%zu] is not an id", i);
        }
        char *list = json_dumps(ids, JSON_COMPACT);
        if (list == NULL)
            return reply_error(r, 503, "unavailable", "out of memory");
        rc = db_run(r->db,
                    "UPDATE notifications SET read_at = unixepoch() WHERE person_id = :me "
                    "AND read_at IS NULL AND id IN (SELECT value FROM json_each(:ids))",
                    DB_ARGS(DB_INT(":me", r->caller.person_id), DB_TEXT(":ids", list)));
        free(list);
    }
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:i}", "read", db_changes(r->db)));
}

const struct route notify_routes[] = {
    {.method = "GET",
     .path = "/api/v1/notifications",
     .handler = notify_list,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "notification_list"},
    {.method = "POST",
     .path = "/api/v1/notifications/read",
     .handler = notify_read,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "notification_read"},
    {0},
};
