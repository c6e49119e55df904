/*
 * Notifications (see notify.h). Writes are one INSERT per event inside the writer's
 * transaction (a family's one row, or a class's one row per student); the feed is two indexed
 * range reads per page, the caller's own rows and their family rows.
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
                  "INSERT INTO notifications (person_id, kind, student_id, data, family) "
                  "VALUES (:id, :k, :id, :d, 1)",
                  student_id, kind, data);
}

int notify_class(struct db *db, int64_t class_id, const char *kind, json_t *data)
{
    return insert(db,
                  "INSERT INTO notifications (person_id, kind, student_id, data, family) "
                  "SELECT e.student_id, :k, e.student_id, :d, 1 FROM enrollments e "
                  "WHERE e.class_id = :id AND e.left_on IS NULL",
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

/* The students whose family rows :me reads: :me (a student reads their own) and the students
 * :me is a guardian of. The start of a WITH clause; its table is mine(s). */
#define MINE                                                                                       \
    "WITH mine(s) AS (SELECT :me UNION SELECT student_id FROM guardians WHERE guardian_id = :me) "

/* Whether :me has read family row n of student mine.s, whose mark row is m. */
#define FAMILY_READ                                                                                \
    "(n.id <= coalesce(m.upto, 0) OR EXISTS (SELECT 1 FROM notification_reads r WHERE "            \
    "r.person_id = :me AND r.notification_id = n.id))"

int notify_unread(struct db *db, int64_t person_id, int64_t *n)
{
    /* Own rows through the partial index notifications_unread; family rows above the reader's
     * mark of each student through notifications_family. */
    return db_int(db, n,
                  MINE "SELECT (SELECT count(*) FROM notifications WHERE person_id = :me AND "
                       "read_at IS NULL AND family = 0) + (SELECT count(*) FROM mine JOIN "
                       "notifications n ON n.student_id = mine.s AND n.family = 1 LEFT JOIN "
                       "notification_marks m ON m.person_id = :me AND m.student_id = mine.s "
                       "WHERE n.id > coalesce(m.upto, 0) AND NOT " FAMILY_READ ")",
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
                  "read_at IS NULL AND family = 0 AND kind = :k AND json_extract(data, :path) = :v",
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
                 /* The newest :limit of the caller's own rows and of their family rows, each
                  * part through its index, then the newest :limit of both. */
                 MINE ", own AS (SELECT n.id, n.kind, n.data, n.created_at, n.read_at IS NOT "
                      "NULL AS seen, n.student_id FROM notifications n WHERE n.person_id = :me "
                      "AND n.family = 0 AND n.id < :before AND (:unread = 0 OR n.read_at IS "
                      "NULL) ORDER BY n.id DESC LIMIT :limit), fam AS (SELECT n.id, n.kind, "
                      "n.data, n.created_at, " FAMILY_READ " AS seen, n.student_id FROM mine "
                      "JOIN notifications n ON n.student_id = mine.s AND n.family = 1 LEFT JOIN "
                      "notification_marks m ON m.person_id = :me AND m.student_id = mine.s "
                      "WHERE n.id < :before AND (:unread = 0 OR NOT " FAMILY_READ ") ORDER BY "
                      "n.id DESC LIMIT :limit) SELECT u.id, u.kind, u.data, u.created_at, "
                      "u.seen, p.id, p.last_name, p.first_name, p.middle_name FROM (SELECT * "
                      "FROM own UNION ALL SELECT * FROM fam) u LEFT JOIN persons p ON p.id = "
                      "u.student_id ORDER BY u.id DESC LIMIT :limit",
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

/* POST /api/v1/notifications/read {"ids": [...]} or {"all": true}: only the caller's own and
 * their family rows. The ids (at most NOTIFY_READ_MAX_IDS) are marked by their primary keys: an
 * own row gets read_at, a family row above the caller's mark a read of its own. "all" moves the
 * caller's mark of each of their students to the newest family row. {"read": N}, the rows that
 * were unread. */
static int notify_read(struct req *r)
{
    json_t *ids = NULL;
    int all = 0;
    if (body_unpack_or_respond(r, "{s?o,s?b}", "ids", &ids, "all", &all) != 0)
        return r->status;
    if ((ids == NULL) == (all == 0) || (ids && !json_is_array(ids)))
        return reply_field_error(r, 400, "bad_request", "ids", "give ids (an array) or all: true");
    const struct db_arg *me = DB_ARGS(DB_INT(":me", r->caller.person_id));
    if (all) {
        int64_t family = 0;
        if (db_int(r->db, &family,
                   MINE "SELECT count(*) FROM mine JOIN notifications n ON n.student_id = mine.s "
                        "AND n.family = 1 LEFT JOIN notification_marks m ON m.person_id = :me AND "
                        "m.student_id = mine.s WHERE n.id > coalesce(m.upto, 0) AND "
                        "NOT " FAMILY_READ,
                   me) != SQLITE_ROW ||
            /* Always, even with nothing unread: the single reads go below, so the mark must
             * cover the rows they named. */
            db_run(r->db,
                   MINE "INSERT INTO notification_marks (person_id, student_id, upto) SELECT :me, "
                        "mine.s, max(n.id) FROM mine JOIN notifications n ON n.student_id = "
                        "mine.s AND n.family = 1 WHERE true GROUP BY mine.s ON CONFLICT "
                        "(person_id, student_id) DO UPDATE SET upto = excluded.upto",
                   me) != SQLITE_DONE ||
            db_run(r->db, "DELETE FROM notification_reads WHERE person_id = :me", me) !=
                SQLITE_DONE ||
            db_run(r->db,
                   "UPDATE notifications SET read_at = unixepoch() WHERE person_id = :me AND "
                   "read_at IS NULL AND family = 0",
                   me) != SQLITE_DONE)
            return reply_db_error(r);
        return reply_json(r, 200,
                          json_pack("{s:I}", "read", (json_int_t)(db_changes(r->db) + family)));
    }
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
    const struct db_arg *args = DB_ARGS(DB_INT(":me", r->caller.person_id), DB_TEXT(":ids", list));
    int own = 0;
    int rc = db_run(r->db,
                    "UPDATE notifications SET read_at = unixepoch() WHERE person_id = :me AND "
                    "read_at IS NULL AND family = 0 AND id IN (SELECT value FROM json_each(:ids))",
                    args);
    if (rc == SQLITE_DONE) {
        own = db_changes(r->db);
        rc = db_run(r->db,
                    MINE "INSERT OR IGNORE INTO notification_reads (person_id, notification_id) "
                         "SELECT :me, n.id FROM json_each(:ids) j JOIN notifications n ON n.id = "
                         "j.value AND n.family = 1 JOIN mine ON mine.s = n.student_id LEFT JOIN "
                         "notification_marks m ON m.person_id = :me AND m.student_id = "
                         "n.student_id WHERE n.id > coalesce(m.upto, 0)",
                    args);
    }
    free(list);
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:i}", "read", own + db_changes(r->db)));
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
