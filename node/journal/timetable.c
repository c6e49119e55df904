/*
 * Timetable routes: a school's bell schedule, a class's weekly timetable, generating the dated
 * lessons of a period, and changing one lesson (topic by its teacher; cancellation and
 * replacement by the school's admin). Administrative and rare, except the topic.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

static bool hhmm_ok(const char *s)
{
    return strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' &&
           s[1] <= '9' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' &&
           (s[0] < '2' || s[1] <= '3');
}

/* PUT /api/v1/institutions/{id}/bells {"bells": [{number, starts_at, ends_at}]}: replaces
 * the school's bell schedule. */
static int timetable_bells_put(struct req *r)
{
    int64_t inst = r->params[0];
    json_t *bells;
    if (body_unpack_or_respond(r, "{s:o}", "bells", &bells) != 0)
        return r->status;
    if (!json_is_array(bells) || json_array_size(bells) > 13)
        return reply_error(r, 400, "bad_request", "bells must be an array of at most 13");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    if (db_run(r->db, "DELETE FROM bells WHERE institution_id = :i", DB_ARGS(DB_INT(":i", inst))) !=
        SQLITE_DONE)
        return reply_db_error(r);
    size_t i;
    json_t *b;
    json_array_foreach(bells, i, b)
    {
        json_int_t number;
        const char *from, *to;
        json_error_t e;
        if (json_unpack_ex(b, &e, JSON_STRICT, "{s:I,s:s,s:s}", "number", &number, "starts_at",
                           &from, "ends_at", &to) != 0)
            return reply_error(r, 400, "bad_request", "bells[%zu]: %s", i, e.text);
        if (number < 0 || number > 12 || !hhmm_ok(from) || !hhmm_ok(to) || strcmp(from, to) >= 0)
            return reply_error(r, 400, "bad_request",
                               "bells[%zu]: number 0-12, times HH:MM, start before end", i);
        if (db_run(r->db,
                   "INSERT INTO bells (institution_id, number, starts_at, ends_at) "
                   "VALUES (:i, :n, :f, :t)",
                   DB_ARGS(DB_INT(":i", inst), DB_INT(":n", number), DB_TEXT(":f", from),
                           DB_TEXT(":t", to))) != SQLITE_DONE)
            return db_failure()
                       ? reply_db_error(r)
                       : reply_error(r, 409, "conflict", "bells[%zu]: number %lld given twice", i,
                                     (long long)number);
    }
    char object[48];
    snprintf(object, sizeof(object), "institution/%lld", (long long)inst);
    if (audit(r, inst, "bells.set", object, json_deep_copy(bells)) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:O}", "bells", bells));
}

static int timetable_bells_get(struct req *r)
{
    int64_t inst = r->params[0];
    if (authz_institution_or_respond(r, inst, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT number, starts_at, ends_at FROM bells "
                                "WHERE institution_id = :i ORDER BY number",
                                DB_ARGS(DB_INT(":i", inst)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *list = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(list, json_pack("{s:i,s:s,s:s}", "number", sqlite3_column_int(st, 0),
                                              "starts_at", db_col_text(st, 1), "ends_at",
                                              db_col_text(st, 2)));
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "bells", list));
}

/* PUT /api/v1/classes/{id}/timetable {"entries": [{weekday, number, subject_id, teacher_id,
 * room?, group_id?}]}: replaces the class's weekly timetable. Teachers must be on the
 * school's staff, groups must be the class's. Lessons already generated stay as they are. */
static int timetable_put(struct req *r)
{
    int64_t class_id = r->params[0];
    json_t *entries;
    if (body_unpack_or_respond(r, "{s:o}", "entries", &entries) != 0)
        return r->status;
    if (!json_is_array(entries) || json_array_size(entries) > 6 * 13 * 4)
        return reply_error(r, 400, "bad_request", "entries must be an array");
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    if (db_run(r->db, "DELETE FROM timetable WHERE class_id = :c",
               DB_ARGS(DB_INT(":c", class_id))) != SQLITE_DONE)
        return reply_db_error(r);
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        json_int_t weekday, number, subject, teacher, group = 0;
        const char *room = "";
        json_error_t err;
        if (json_unpack_ex(e, &err, JSON_STRICT, "{s:I,s:I,s:I,s:I,s?s,s?I}", "weekday", &weekday,
                           "number", &number, "subject_id", &subject, "teacher_id", &teacher,
                           "room", &room, "group_id", &group) != 0)
            return reply_error(r, 400, "bad_request", "entries[%zu]: %s", i, err.text);
        if (weekday < 1 || weekday > 6 || number < 0 || number > 12 || !school_text_ok(room, 0, 20))
            return reply_error(r, 400, "bad_request",
                               "entries[%zu]: weekday 1-6, number 0-12, room up to 20", i);
        /* The teacher works at the class's school; the group is the class's. */
        sqlite3_stmt *st =
            db_query(r->db,
                     "SELECT (SELECT count(*) FROM staff s JOIN classes c ON "
                     "c.institution_id = s.institution_id WHERE c.id = :c AND "
                     "s.person_id = :t), (:g = 0 OR EXISTS (SELECT 1 FROM groups WHERE "
                     "id = :g AND class_id = :c)), EXISTS (SELECT 1 FROM subjects "
                     "WHERE id = :s)",
                     DB_ARGS(DB_INT(":c", class_id), DB_INT(":t", teacher), DB_INT(":g", group),
                             DB_INT(":s", subject)));
        int rc, ok = 0;
        if (db_next(st, &rc)) {
            ok = sqlite3_column_int(st, 0) > 0 && sqlite3_column_int(st, 1) &&
                 sqlite3_column_int(st, 2);
            sqlite3_reset(st);
            rc = SQLITE_ROW;
        }
        if (rc != SQLITE_ROW)
            return reply_db_error(r);
        if (!ok)
            return reply_error(r, 400, "bad_request",
                               "entries[%zu]: the teacher is not on the school's staff, or the "
                               "group or subject does not exist here",
                               i);
        rc = db_run(r->db,
                    "INSERT INTO timetable (class_id, group_id, weekday, number, subject_id, "
                    "teacher_id, room) VALUES (:c, nullif(:g, 0), :w, :n, :s, :t, :r)",
                    DB_ARGS(DB_INT(":c", class_id), DB_INT(":g", group), DB_INT(":w", weekday),
                            DB_INT(":n", number), DB_INT(":s", subject), DB_INT(":t", teacher),
                            DB_TEXT(":r", room)));
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            return reply_error(r, 409, "conflict", "entries[%zu]: the slot is taken twice", i);
        if (rc != SQLITE_DONE)
            return reply_db_error(r);
    }
    char object[48];
    snprintf(object, sizeof(object), "class/%lld", (long long)class_id);
    if (audit(r, school_class_institution(r, class_id), "timetable.set", object,
              json_pack("{s:I}", "entries", (json_int_t)json_array_size(entries))) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:I}", "entries", (json_int_t)json_array_size(entries)));
}

static int timetable_get(struct req *r)
{
    int64_t class_id = r->params[0];
    if (authz_class_or_respond(r, class_id, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT t.id, t.weekday, t.number, s.id, s.name, p.id, p.last_name, "
                 "p.first_name, p.middle_name, t.room, t.group_id FROM timetable t "
                 "JOIN subjects s ON s.id = t.subject_id JOIN persons p ON p.id = t.teacher_id "
                 "WHERE t.class_id = :c ORDER BY t.weekday, t.number, t.group_id",
                 DB_ARGS(DB_INT(":c", class_id)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *list = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *e = json_pack(
            "{s:I,s:i,s:i,s:o,s:{s:I,s:o},s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
            "weekday", sqlite3_column_int(st, 1), "number", sqlite3_column_int(st, 2), "subject",
            ref_named(st, 3), "teacher", "id", (json_int_t)sqlite3_column_int64(st, 5), "name",
            ref_person_name(st, 6), "room", db_col_text(st, 9));
        if (sqlite3_column_type(st, 10) != SQLITE_NULL)
            json_object_set_new(e, "group_id", json_integer(sqlite3_column_int64(st, 10)));
        json_array_append_new(list, e);
    }
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "entries", list));
}

/* Gives the class's lessons their plan's topics again (plan_apply) after lessons came or a
 * cancellation changed: for `subject`, or for every subject with a plan when 0. 0, or -1 on a
 * storage failure. */
static int timetable_replan(struct req *r, int64_t class_id, int64_t subject)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT DISTINCT subject_id FROM plan_topics WHERE class_id = :c "
                                "AND (:s = 0 OR subject_id = :s)",
                                DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject)));
    int rc;
    /* plan_apply writes lessons only: the plans read here stay as they are. */
    while (db_next(st, &rc))
        if (plan_apply(r->db, class_id, sqlite3_column_int64(st, 0)) < 0) {
            sqlite3_reset(st);
            return -1;
        }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* POST /api/v1/classes/{id}/lessons {"period_id"}: generates the period's lessons, which take
 * their topics from the plans. */
static int timetable_generate(struct req *r)
{
    int64_t class_id = r->params[0];
    json_int_t period;
    if (body_unpack_or_respond(r, "{s:I}", "period_id", &period) != 0)
        return r->status;
    if (authz_class_or_respond(r, class_id, AUTHZ_WRITE) != 0)
        return r->status;
    /* The period must belong to the class's academic year. */
    int in = db_exists(r->db,
                       "SELECT 1 FROM periods p JOIN classes c ON c.year_id = p.year_id WHERE "
                       "p.id = :p AND c.id = :c",
                       DB_ARGS(DB_INT(":p", period), DB_INT(":c", class_id)));
    if (in < 0)
        return reply_db_error(r);
    if (in == 0)
        return reply_error(r, 400, "bad_request", "period %lld is not in the class's year",
                           (long long)period);
    int n = journal_generate_lessons(r->db, &r->node->cfg, class_id, period);
    if (n < 0 || timetable_replan(r, class_id, 0) != 0)
        return reply_db_error(r);
    char object[48];
    snprintf(object, sizeof(object), "class/%lld", (long long)class_id);
    if (audit(r, school_class_institution(r, class_id), "lessons.generate", object,
              json_pack("{s:I,s:i}", "period_id", (json_int_t)period, "created", n)) != 0)
        return reply_db_error(r);
    return reply_json(r, 201, json_pack("{s:i}", "created", n));
}

/* GET /api/v1/classes/{id}/lessons?date=YYYY-MM-DD: the class's lessons of that day, with
 * their teacher and replacement, for the school's admin choosing a replacement. */
static int timetable_day(struct req *r)
{
    int64_t class_id = r->params[0];
    char date[16];
    int has = journal_query_date_or_respond(r, "date", date);
    if (has < 0)
        return r->status;
    if (has == 0)
        return reply_error(r, 400, "bad_date", "date must be a date YYYY-MM-DD");
    if (authz_class_or_respond(r, class_id, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT l.id, l.number, s.id, s.name, t.id, t.last_name, t.first_name, t.middle_name, "
        "x.id, x.last_name, x.first_name, x.middle_name, l.cancelled, g.id, g.name, l.room "
        "FROM lessons l JOIN subjects s ON s.id = l.subject_id "
        "JOIN persons t ON t.id = l.teacher_id LEFT JOIN persons x ON x.id = l.replacement_id "
        "LEFT JOIN groups g ON g.id = l.group_id "
        "WHERE l.class_id = :c AND l.date = :d ORDER BY l.number, g.name",
        DB_ARGS(DB_INT(":c", class_id), DB_TEXT(":d", date)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *list = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *e = json_pack(
            "{s:I,s:s,s:i,s:o,s:{s:I,s:o},s:o,s:b,s:s}", "id",
            (json_int_t)sqlite3_column_int64(st, 0), "date", date, "number",
            sqlite3_column_int(st, 1), "subject", ref_named(st, 2), "teacher", "id",
            (json_int_t)sqlite3_column_int64(st, 4), "name", ref_person_name(st, 5), "replacement",
            sqlite3_column_type(st, 8) == SQLITE_NULL
                ? json_null()
                : json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 8), "name",
                            ref_person_name(st, 9)),
            "cancelled", sqlite3_column_int(st, 12), "room", db_col_text(st, 15));
        if (sqlite3_column_type(st, 13) != SQLITE_NULL)
            json_object_set_new(e, "group", ref_named(st, 13));
        json_array_append_new(list, e);
    }
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", list));
}

/* PATCH /api/v1/lessons/{id} {topic?, cancelled?, replacement_id?}: the topic by a teacher
 * who may write the lesson (a written topic stays whatever the plan says; an empty one gives
 * the lesson back to the plan); cancellation and replacement by the school's admin. */
static int timetable_lesson_patch(struct req *r)
{
    int64_t id = r->params[0];
    const char *topic = NULL;
    int cancelled = -1;
    json_t *replacement = NULL;
    if (body_unpack_or_respond(r, "{s?s,s?b,s?o}", "topic", &topic, "cancelled", &cancelled,
                               "replacement_id", &replacement) != 0)
        return r->status;
    if ((topic && !school_text_ok(topic, 0, 500)) ||
        (replacement && !json_is_null(replacement) && !json_is_integer(replacement)))
        return reply_error(r, 400, "bad_request",
                           "topic up to 500 characters; replacement_id "
                           "a person or null");
    struct lesson_ref l;
    bool admin_change = cancelled != -1 || replacement != NULL;
    if (admin_change) {
        if (authz_lesson_or_respond(r, id, AUTHZ_READ, &l) != 0)
            return r->status;
        if (!caller_is_admin(r) && !caller_has(r, ROLE_SCHOOL_ADMIN, l.institution_id))
            return reply_error(r, 403, "forbidden",
                               "only the school's admin cancels lessons or "
                               "names a replacement");
    }
    if (topic && authz_lesson_or_respond(r, id, AUTHZ_WRITE, &l) != 0)
        return r->status;
    if (!topic && !admin_change)
        return reply_error(r, 400, "bad_request", "nothing to change");
    int64_t repl =
        replacement && json_is_integer(replacement) ? json_integer_value(replacement) : 0;
    if (repl) {
        int staff =
            db_exists(r->db, "SELECT 1 FROM staff WHERE person_id = :p AND institution_id = :i",
                      DB_ARGS(DB_INT(":p", repl), DB_INT(":i", l.institution_id)));
        if (staff < 0)
            return reply_db_error(r);
        if (staff == 0)
            return reply_error(r, 400, "bad_request", "the replacement is not on the staff");
    }
    if (db_run(r->db,
               "UPDATE lessons SET topic = coalesce(:topic, topic), topic_manual = CASE WHEN "
               ":topic IS NULL THEN topic_manual ELSE :topic <> '' END, cancelled = CASE WHEN :c < "
               "0 THEN cancelled ELSE :c END, "
               "replacement_id = CASE WHEN :setr THEN nullif(:r, 0) ELSE replacement_id END "
               "WHERE id = :id",
               DB_ARGS(DB_TEXT(":topic", topic), DB_INT(":c", cancelled),
                       DB_INT(":setr", replacement != NULL), DB_INT(":r", repl),
                       DB_INT(":id", id))) != SQLITE_DONE)
        return reply_db_error(r);
    /* A lesson cancelled or given back: the plan's topics move along; a topic cleared by its
     * teacher is the plan's again. */
    if ((cancelled != -1 || (topic && topic[0] == '\0')) &&
        timetable_replan(r, l.class_id, l.subject_id) != 0)
        return reply_db_error(r);
    if (admin_change) {
        char object[48];
        snprintf(object, sizeof(object), "lesson/%lld", (long long)id);
        if (audit(r, l.institution_id, "lesson.update", object, json_deep_copy(r->body)) != 0)
            return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:I}", "id", (json_int_t)id));
}

const struct route timetable_routes[] = {
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/bells",
     .handler = timetable_bells_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "bells_get"},
    {.method = "PUT",
     .path = "/api/v1/institutions/{id}/bells",
     .handler = timetable_bells_put,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "bells_set"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/timetable",
     .handler = timetable_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "timetable_get"},
    {.method = "PUT",
     .path = "/api/v1/classes/{id}/timetable",
     .handler = timetable_put,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "timetable_set"},
    {.method = "POST",
     .path = "/api/v1/classes/{id}/lessons",
     .handler = timetable_generate,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "lessons_generate"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/lessons",
     .handler = timetable_day,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "lessons_of_day"},
    {.method = "PATCH",
     .path = "/api/v1/lessons/{id}",
     .handler = timetable_lesson_patch,
     .access = ACCESS_USER,
     .allow = ADMINS | ROLE_TEACHER,
     .writes = true,
     .name = "lesson_update"},
    {0},
};
