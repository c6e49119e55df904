/*
 * Messages: private two-person threads about a student (parent with teacher, teacher with
 * student), their messages, and what each side has read. Who may pair with whom is decided in
 * authz.c; only the two participants ever read a thread. Schema: messages.sql.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

/* Loads a thread the caller takes part in; answers 404 otherwise (a thread of others is not
 * admitted to exist). Fills the participant's side (0: a, 1: b) and the student. */
static int thread_or_respond(struct req *r, int64_t id, int *side, int64_t *other, int64_t *student)
{
    sqlite3_stmt *st = db_query(r->db, "SELECT a_id, b_id, student_id FROM threads WHERE id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    int64_t a = 0, b = 0;
    *student = 0;
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        a = sqlite3_column_int64(st, 0);
        b = sqlite3_column_int64(st, 1);
        *student = sqlite3_column_int64(st, 2);
    }
    if (rc != SQLITE_DONE)
        return reply_db_error(r), -1;
    int64_t me = r->caller.person_id;
    if (me == 0 || (me != a && me != b))
        return reply_error(r, 404, "not_found", "no such thread"), -1;
    *side = me == a ? 0 : 1;
    *other = me == a ? b : a;
    return 0;
}

/* Appends a message, moves the thread's clock and the author's read mark, notifies the other
 * side. Returns the message id or -1. */
static int64_t add_message(struct req *r, int64_t thread, int side, int64_t other, int64_t student,
                           const char *text)
{
    if (db_run(r->db,
               "INSERT INTO messages (thread_id, author_id, text) "
               "VALUES (:t, :a, :x)",
               DB_ARGS(DB_INT(":t", thread), DB_INT(":a", r->caller.person_id),
                       DB_TEXT(":x", text))) != SQLITE_DONE)
        return -1;
    int64_t id = db_last_id(r->db);
    if (db_run(r->db,
               side == 0 ? "UPDATE threads SET last_at = unixepoch(), a_read = :m "
                           "WHERE id = :t"
                         : "UPDATE threads SET last_at = unixepoch(), b_read = :m "
                           "WHERE id = :t",
               DB_ARGS(DB_INT(":m", id), DB_INT(":t", thread))) != SQLITE_DONE)
        return -1;
    json_t *note =
        json_pack("{s:I,s:I}", "thread_id", (json_int_t)thread, "message_id", (json_int_t)id);
    int rc = notify_person(r->db, other, student, "message", note);
    json_decref(note);
    return rc == 0 ? id : -1;
}

/* POST /api/v1/threads {student_id, with_id, title, text} */
static int messages_thread_create(struct req *r)
{
    json_int_t student, with;
    const char *title, *text;
    if (body_unpack_or_respond(r, "{s:I,s:I,s:s,s:s}", "student_id", &student, "with_id", &with,
                               "title", &title, "text", &text) != 0)
        return r->status;
    if (!school_text_ok(title, 1, 200))
        return reply_field_error(r, 400, "bad_request", "title", "title 1-200 characters");
    if (!school_text_ok(text, 1, 10000))
        return reply_field_error(r, 400, "bad_request", "text", "text 1-10000 characters");
    const char *kind = authz_message_pair_or_respond(r, student, with);
    if (kind == NULL)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO threads (kind, student_id, a_id, b_id, title) "
               "VALUES (:k, :s, :a, :b, :t)",
               DB_ARGS(DB_TEXT(":k", kind), DB_INT(":s", student),
                       DB_INT(":a", r->caller.person_id), DB_INT(":b", with),
                       DB_TEXT(":t", title))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    if (add_message(r, id, 0, with, student, text) < 0)
        return reply_db_error(r);
    return reply_json(
        r, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "kind", kind, "title", title));
}

/* One row of the thread list as JSON. */
static json_t *thread_json(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:{s:I,s:o},s:{s:I,s:o},s:i}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "kind", db_col_text(st, 1), "title",
                     db_col_text(st, 2), "last_at", (json_int_t)sqlite3_column_int64(st, 3),
                     "student", "id", (json_int_t)sqlite3_column_int64(st, 4), "name",
                     ref_person_name(st, 5), "with", "id", (json_int_t)sqlite3_column_int64(st, 8),
                     "name", ref_person_name(st, 9), "unread", sqlite3_column_int(st, 12));
}

/* GET /api/v1/threads?limit=N&before=ID: the caller's threads, latest first, with unread
 * counts, a page at a time: at most `limit` (1-200, 200 by default) threads that come after
 * thread `before` (the last of the previous page), and "more" when further ones follow. */
static int messages_threads(struct req *r)
{
    char buf[24];
    int64_t limit = 200, before = 0;
    if (req_query(r, "limit", buf, sizeof(buf)) > 0)
        limit = strtoll(buf, NULL, 10);
    if (req_query(r, "before", buf, sizeof(buf)) > 0 && (before = strtoll(buf, NULL, 10)) < 1)
        return reply_field_error(r, 400, "bad_request", "before", "before must be a thread id");
    if (limit < 1 || limit > 200)
        return reply_field_error(r, 400, "bad_request", "limit", "limit must be 1-200");
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT t.id, t.kind, t.title, t.last_at, s.id, s.last_name, s.first_name, "
                 "s.middle_name, o.id, o.last_name, o.first_name, o.middle_name, "
                 "(SELECT count(*) FROM messages m WHERE m.thread_id = t.id AND m.id > CASE WHEN "
                 "t.a_id = :me THEN t.a_read ELSE t.b_read END) "
                 "FROM threads t JOIN persons s ON s.id = t.student_id "
                 "JOIN persons o ON o.id = CASE WHEN t.a_id = :me THEN t.b_id ELSE t.a_id END "
                 "WHERE (t.a_id = :me OR t.b_id = :me) AND (:before = 0 OR (t.last_at, t.id) < "
                 "(SELECT p.last_at, p.id FROM threads p WHERE p.id = :before AND "
                 "(p.a_id = :me OR p.b_id = :me))) "
                 "ORDER BY t.last_at DESC, t.id DESC LIMIT :limit + 1",
                 DB_ARGS(DB_INT(":me", r->caller.person_id), DB_INT(":before", before),
                         DB_INT(":limit", limit)));
    json_t *items = json_array();
    bool more = false;
    int rc;
    while (db_next(st, &rc)) {
        if ((int64_t)json_array_size(items) == limit)
            more = true; /* the one row asked beyond the page */
        else
            json_array_append_new(items, thread_json(st));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o,s:b}", "items", items, "more", more));
}

/* GET /api/v1/threads/{id}: the messages, for the two participants only. */
static int messages_thread_get(struct req *r)
{
    int side;
    int64_t other, student;
    if (thread_or_respond(r, r->params[0], &side, &other, &student) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT m.id, m.text, m.created_at, p.id, p.last_name, "
                                "p.first_name, p.middle_name FROM messages m JOIN persons "
                                "p ON p.id = m.author_id WHERE m.thread_id = :t ORDER BY "
                                "m.id",
                                DB_ARGS(DB_INT(":t", r->params[0])));
    json_t *list = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(list, json_pack("{s:I,s:s,s:I,s:{s:I,s:o}}", "id",
                                              (json_int_t)sqlite3_column_int64(st, 0), "text",
                                              db_col_text(st, 1), "created_at",
                                              (json_int_t)sqlite3_column_int64(st, 2), "author",
                                              "id", (json_int_t)sqlite3_column_int64(st, 3), "name",
                                              ref_person_name(st, 4)));
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:I,s:o}", "id", (json_int_t)r->params[0], "messages", list));
}

/* POST /api/v1/threads/{id}/read: the caller has read everything in the thread. */
static int messages_read(struct req *r)
{
    int side;
    int64_t other, student;
    if (thread_or_respond(r, r->params[0], &side, &other, &student) != 0)
        return r->status;
    if (db_run(r->db,
               side == 0 ? "UPDATE threads SET a_read = (SELECT coalesce(max(id), 0) "
                           "FROM messages WHERE thread_id = :t) WHERE id = :t"
                         : "UPDATE threads SET b_read = (SELECT coalesce(max(id), 0) "
                           "FROM messages WHERE thread_id = :t) WHERE id = :t",
               DB_ARGS(DB_INT(":t", r->params[0]))) != SQLITE_DONE ||
        notify_read_about(r->db, r->caller.person_id, "message", "thread_id", r->params[0]) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* GET /api/v1/unread: the caller's unread messages (over all their threads) and unread
 * notifications, for the counts in the navigation: {"messages": N, "notifications": M}. Two
 * indexed reads: the caller's threads by threads_of_a/threads_of_b, each thread's newer
 * messages by messages_of_thread; the notifications by their partial unread index. */
static int messages_unread(struct req *r)
{
    int64_t messages = 0, notifications = 0;
    if (db_int(r->db, &messages,
               "SELECT coalesce(sum((SELECT count(*) FROM messages m WHERE m.thread_id = t.id "
               "AND m.id > CASE WHEN t.a_id = :me THEN t.a_read ELSE t.b_read END)), 0) "
               "FROM threads t WHERE t.a_id = :me OR t.b_id = :me",
               DB_ARGS(DB_INT(":me", r->caller.person_id))) != SQLITE_ROW ||
        notify_unread(r->db, r->caller.person_id, &notifications) != 0)
        return reply_db_error(r);
    return reply_json(r, 200,
                      json_pack("{s:I,s:I}", "messages", (json_int_t)messages, "notifications",
                                (json_int_t)notifications));
}

/* POST /api/v1/threads/{id}/messages {text} */
static int messages_post(struct req *r)
{
    const char *text;
    if (body_unpack_or_respond(r, "{s:s}", "text", &text) != 0)
        return r->status;
    if (!school_text_ok(text, 1, 10000))
        return reply_field_error(r, 400, "bad_request", "text", "text 1-10000 characters");
    int side;
    int64_t other, student;
    if (thread_or_respond(r, r->params[0], &side, &other, &student) != 0)
        return r->status;
    int64_t id = add_message(r, r->params[0], side, other, student, text);
    if (id < 0)
        return reply_db_error(r);
    return reply_json(r, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "text", text));
}

#define PEOPLE (ROLE_TEACHER | ROLE_CLASS_TEACHER | ROLE_PARENT | ROLE_STUDENT)

const struct route messages_routes[] = {
    {.method = "GET",
     .path = "/api/v1/threads",
     .handler = messages_threads,
     .access = ACCESS_USER,
     .allow = PEOPLE,
     .name = "thread_list"},
    {.method = "POST",
     .path = "/api/v1/threads",
     .handler = messages_thread_create,
     .access = ACCESS_USER,
     .allow = PEOPLE,
     .writes = true,
     .name = "thread_create"},
    {.method = "GET",
     .path = "/api/v1/threads/{id}",
     .handler = messages_thread_get,
     .access = ACCESS_USER,
     .allow = PEOPLE,
     .name = "thread_get"},
    {.method = "POST",
     .path = "/api/v1/threads/{id}/read",
     .handler = messages_read,
     .access = ACCESS_USER,
     .allow = PEOPLE,
     .writes = true,
     .name = "thread_read"},
    {.method = "GET",
     .path = "/api/v1/unread",
     .handler = messages_unread,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "unread_counts"},
    {.method = "POST",
     .path = "/api/v1/threads/{id}/messages",
     .handler = messages_post,
     .access = ACCESS_USER,
     .allow = PEOPLE,
     .writes = true,
     .name = "message_create"},
    {0},
};
