/*
 * Messages: private two-person threads about a student (parent with teacher, teacher with
 * student), their messages, and what each side has read. Who may pair with whom is decided in
 * authz.c; only the two participants ever read a thread. Schema: messages.sql.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/authz.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

/* Loads a thread the caller takes part in; answers 404 otherwise (a thread of others is not
 * admitted to exist). Fills the participant's side (0: a, 1: b) and the student. */
static int thread_or_respond(struct req *r, int64_t id, int *side, int64_t *other, int64_t *student)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT a_id, b_id, student_id FROM threads WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r), -1;
    db_bind_int(st, ":id", id);
    int rc = db_step(st);
    int64_t a = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t b = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    *student = rc == SQLITE_ROW ? sqlite3_column_int64(st, 2) : 0;
    sqlite3_reset(st);
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
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO messages (thread_id, author_id, text) "
                                      "VALUES (:t, :a, :x)");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":t", thread);
    db_bind_int(st, ":a", r->caller.person_id);
    db_bind_text(st, ":x", text);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return -1;
    int64_t id = db_last_id(r->db);
    st = db_stmt(r->db, side == 0 ? "UPDATE threads SET last_at = unixepoch(), a_read = :m "
                                    "WHERE id = :t"
                                  : "UPDATE threads SET last_at = unixepoch(), b_read = :m "
                                    "WHERE id = :t");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":m", id);
    db_bind_int(st, ":t", thread);
    if (db_exec_stmt(st) != SQLITE_DONE)
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
    if (!school_text_ok(title, 1, 200) || !school_text_ok(text, 1, 10000))
        return reply_error(r, 400, "bad_request", "title 1-200, text 1-10000 characters");
    const char *kind = authz_message_pair_or_respond(r, student, with);
    if (kind == NULL)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO threads (kind, student_id, a_id, b_id, title) "
                                      "VALUES (:k, :s, :a, :b, :t)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":k", kind);
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":a", r->caller.person_id);
    db_bind_int(st, ":b", with);
    db_bind_text(st, ":t", title);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    if (add_message(r, id, 0, with, student, text) < 0)
        return reply_db_error(r);
    return reply_json(
        r, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "kind", kind, "title", title));
}

/* GET /api/v1/threads: the caller's threads, latest first, with unread counts. */
static int messages_threads(struct req *r)
{
    sqlite3_stmt *st = db_stmt(
        r->db, "SELECT t.id, t.kind, t.title, t.last_at, s.id, s.last_name, s.first_name, "
               "s.middle_name, o.id, o.last_name, o.first_name, o.middle_name, "
               "(SELECT count(*) FROM messages m WHERE m.thread_id = t.id AND m.id > CASE WHEN "
               "t.a_id = :me THEN t.a_read ELSE t.b_read END) "
               "FROM threads t JOIN persons s ON s.id = t.student_id "
               "JOIN persons o ON o.id = CASE WHEN t.a_id = :me THEN t.b_id ELSE t.a_id END "
               "WHERE t.a_id = :me OR t.b_id = :me ORDER BY t.last_at DESC, t.id DESC LIMIT 200");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":me", r->caller.person_id);
    json_t *items = json_array();
    while (db_step(st) == SQLITE_ROW)
        json_array_append_new(
            items,
            json_pack("{s:I,s:s,s:s,s:I,s:{s:I,s:o},s:{s:I,s:o},s:i}", "id",
                      (json_int_t)sqlite3_column_int64(st, 0), "kind", db_col_text(st, 1), "title",
                      db_col_text(st, 2), "last_at", (json_int_t)sqlite3_column_int64(st, 3),
                      "student", "id", (json_int_t)sqlite3_column_int64(st, 4), "name",
                      ref_person_name(st, 5), "with", "id", (json_int_t)sqlite3_column_int64(st, 8),
                      "name", ref_person_name(st, 9), "unread", sqlite3_column_int(st, 12)));
    sqlite3_reset(st);
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* GET /api/v1/threads/{id}: the messages, for the two participants only. */
static int messages_thread_get(struct req *r)
{
    int side;
    int64_t other, student;
    if (thread_or_respond(r, r->params[0], &side, &other, &student) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "SELECT m.id, m.text, m.created_at, p.id, p.last_name, "
                                      "p.first_name, p.middle_name FROM messages m JOIN persons "
                                      "p ON p.id = m.author_id WHERE m.thread_id = :t ORDER BY "
                                      "m.id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":t", r->params[0]);
    json_t *list = json_array();
    while (db_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:I,s:s,s:I,s:{s:I,s:o}}", "id",
                                              (json_int_t)sqlite3_column_int64(st, 0), "text",
                                              db_col_text(st, 1), "created_at",
                                              (json_int_t)sqlite3_column_int64(st, 2), "author",
                                              "id", (json_int_t)sqlite3_column_int64(st, 3), "name",
                                              ref_person_name(st, 4)));
    sqlite3_reset(st);
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
    sqlite3_stmt *st =
        db_stmt(r->db, side == 0 ? "UPDATE threads SET a_read = (SELECT coalesce(max(id), 0) "
                                   "FROM messages WHERE thread_id = :t) WHERE id = :t"
                                 : "UPDATE threads SET b_read = (SELECT coalesce(max(id), 0) "
                                   "FROM messages WHERE thread_id = :t) WHERE id = :t");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":t", r->params[0]);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* POST /api/v1/threads/{id}/messages {text} */
static int messages_post(struct req *r)
{
    const char *text;
    if (body_unpack_or_respond(r, "{s:s}", "text", &text) != 0)
        return r->status;
    if (!school_text_ok(text, 1, 10000))
        return reply_error(r, 400, "bad_request", "text 1-10000 characters");
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
    {.method = "POST",
     .path = "/api/v1/threads/{id}/messages",
     .handler = messages_post,
     .access = ACCESS_USER,
     .allow = PEOPLE,
     .writes = true,
     .name = "message_create"},
    {0},
};
