/*
 * The student's diary: the lessons of a date range (at most 31 days, this week by default) with
 * their bells, teacher, room, topic, attendance, homework (with the student's progress and
 * files), library items and the student's marks. The node's hottest read (every parent opens
 * it each day): a handful of indexed range queries joined in memory, no query per lesson, the
 * answer kept in the read cache.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "cache/cache.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

/* GET /api/v1/students/{id}/diary?from=YYYY-MM-DD&to=YYYY-MM-DD (default: this week) */
static int diary_get(struct req *r)
{
    int64_t student = r->params[0];
    char from[16], to[16];
    int hf = journal_query_date_or_respond(r, "from", from);
    int ht = hf < 0 ? -1 : journal_query_date_or_respond(r, "to", to);
    if (hf < 0 || ht < 0)
        return r->status;
    if (!hf || !ht) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        int back = (tm.tm_wday + 6) % 7; /* days since Monday */
        char today[16];
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        time_t monday = journal_day(today) - (time_t)back * 86400;
        time_t sunday = monday + 6 * 86400;
        struct tm a, b;
        gmtime_r(&monday, &a);
        gmtime_r(&sunday, &b);
        if (!hf)
            strftime(from, sizeof(from), "%Y-%m-%d", &a);
        if (!ht)
            strftime(to, sizeof(to), "%Y-%m-%d", &b);
    }
    double days = difftime(journal_day(to), journal_day(from)) / 86400;
    if (days < 0 || days > 31)
        return reply_error(r, 400, "bad_request", "from..to must span 0-31 days");
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_student(r, &key, student);
    char range[40];
    snprintf(range, sizeof(range), "%s..%s", from, to);
    cache_key_text(&key, range);
    if (cache_reply(r, &key))
        return r->status;
    /* Three range queries (lessons, homework, marks of the days), joined here: no query per
     * lesson and no JSON re-parsed from SQLite. */
    sqlite3_stmt *st = db_stmt(
        r->db,
        "SELECT l.id, l.date, l.number, b.starts_at, b.ends_at, s.id, s.name, t.id, t.last_name, "
        "t.first_name, t.middle_name, l.room, l.topic, l.cancelled, a.status, "
        "a.justified, " JOURNAL_LESSON_ITEMS
        " FROM enrollments e JOIN classes c ON c.id = e.class_id "
        "JOIN lessons l ON l.class_id = e.class_id AND l.date BETWEEN :from AND :to "
        "JOIN subjects s ON s.id = l.subject_id "
        "JOIN persons t ON t.id = coalesce(l.replacement_id, l.teacher_id) "
        "LEFT JOIN bells b ON b.institution_id = c.institution_id AND b.number = l.number "
        "LEFT JOIN attendance a ON a.lesson_id = l.id AND a.student_id = :s "
        "WHERE e.student_id = :s AND e.left_on IS NULL AND (l.group_id IS NULL OR EXISTS "
        "(SELECT 1 FROM group_members gm WHERE gm.group_id = l.group_id AND gm.student_id = :s)) "
        "ORDER BY l.date, l.number");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":from", from);
    db_bind_text(st, ":to", to);
    json_t *out = json_pack("{s:I,s:s,s:s,s:[]}", "student_id", (json_int_t)student, "from", from,
                            "to", to, "days");
    json_t *days_arr = json_object_get(out, "days"), *day = NULL;
    char current[16] = "";
    /* Lessons by id, to hang homework and marks on (a month is a few hundred lessons). */
    enum { MAX_LESSONS = 512 };
    int64_t ids[MAX_LESSONS];
    json_t *objs[MAX_LESSONS];
    int n = 0, rc;
    while ((rc = db_step(st)) == SQLITE_ROW && n < MAX_LESSONS) {
        const char *date = db_col_text(st, 1);
        if (strcmp(date, current) != 0) {
            snprintf(current, sizeof(current), "%s", date);
            day = json_pack("{s:s,s:[]}", "date", date, "lessons");
            json_array_append_new(days_arr, day);
        }
        json_t *l = json_pack(
            "{s:I,s:i,s:s,s:s,s:o,s:{s:I,s:o},s:s,s:s,s:b,s:[],s:[]}", "id",
            (json_int_t)sqlite3_column_int64(st, 0), "number", sqlite3_column_int(st, 2),
            "starts_at", db_col_text(st, 3), "ends_at", db_col_text(st, 4), "subject",
            school_ref(st, 5), "teacher", "id", (json_int_t)sqlite3_column_int64(st, 7), "name",
            school_person_name(st, 8), "room", db_col_text(st, 11), "topic", db_col_text(st, 12),
            "cancelled", sqlite3_column_int(st, 13), "homework", "marks");
        json_t *items = json_loads(db_col_text(st, 16), 0, NULL);
        json_object_set_new(l, "items", items ? items : json_array());
        if (sqlite3_column_type(st, 14) != SQLITE_NULL)
            json_object_set_new(l, "attendance",
                                json_pack("{s:s,s:b}", "status", db_col_text(st, 14), "justified",
                                          sqlite3_column_int(st, 15)));
        ids[n] = sqlite3_column_int64(st, 0);
        objs[n++] = l;
        json_array_append_new(json_object_get(day, "lessons"), l);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        goto dberr;

    st = db_stmt(r->db, "SELECT h.lesson_id, h.id, h.text, h.due_date, coalesce(hs.done, 0), "
                        "coalesce(hs.text, ''), coalesce(hs.feedback, ''), (SELECT "
                        "json_group_array(json_object('id', i.id, 'title', i.title, 'type', "
                        "i.type)) FROM homework_items hi JOIN library_items i ON i.id = "
                        "hi.item_id WHERE hi.homework_id = h.id) FROM enrollments e "
                        "JOIN lessons l ON l.class_id = e.class_id AND l.date BETWEEN :from AND "
                        ":to JOIN homework h ON h.lesson_id = l.id LEFT JOIN "
                        "homework_submissions hs ON hs.homework_id = h.id AND hs.student_id = :s "
                        "WHERE e.student_id = :s AND e.left_on IS NULL ORDER BY h.id");
    if (st == NULL)
        goto dberr;
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":from", from);
    db_bind_text(st, ":to", to);
    /* Homework by id, to hang files on. */
    int64_t hw_ids[MAX_LESSONS];
    json_t *hw_objs[MAX_LESSONS];
    int nhw = 0;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        int64_t lesson = sqlite3_column_int64(st, 0);
        for (int i = 0; i < n; i++)
            if (ids[i] == lesson) {
                json_t *items = json_loads(db_col_text(st, 7), 0, NULL);
                json_t *h =
                    json_pack("{s:I,s:s,s:s,s:b,s:s,s:s,s:[],s:o}", "id",
                              (json_int_t)sqlite3_column_int64(st, 1), "text", db_col_text(st, 2),
                              "due_date", db_col_text(st, 3), "done", sqlite3_column_int(st, 4),
                              "answer", db_col_text(st, 5), "feedback", db_col_text(st, 6), "files",
                              "items", items ? items : json_array());
                json_array_append_new(json_object_get(objs[i], "homework"), h);
                if (nhw < MAX_LESSONS) {
                    hw_ids[nhw] = sqlite3_column_int64(st, 1);
                    hw_objs[nhw++] = h;
                }
            }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto dberr;

    /* The teachers' material and the student's own hand-in files. */
    st = db_stmt(r->db, "SELECT f.homework_id, f.id, f.name, f.type, b.size, f.student_id IS NOT "
                        "NULL FROM enrollments e JOIN lessons l ON l.class_id = e.class_id AND "
                        "l.date BETWEEN :from AND :to JOIN homework h ON h.lesson_id = l.id "
                        "JOIN homework_files f ON f.homework_id = h.id AND (f.student_id IS NULL "
                        "OR f.student_id = :s) JOIN blobs b ON b.id = f.blob_id WHERE "
                        "e.student_id = :s AND e.left_on IS NULL ORDER BY f.id");
    if (st == NULL)
        goto dberr;
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":from", from);
    db_bind_text(st, ":to", to);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        int64_t hw = sqlite3_column_int64(st, 0);
        for (int i = 0; i < nhw; i++)
            if (hw_ids[i] == hw)
                json_array_append_new(json_object_get(hw_objs[i], "files"),
                                      json_pack("{s:I,s:s,s:s,s:I,s:b}", "id",
                                                (json_int_t)sqlite3_column_int64(st, 1), "name",
                                                db_col_text(st, 2), "type", db_col_text(st, 3),
                                                "size", (json_int_t)sqlite3_column_int64(st, 4),
                                                "handed_in", sqlite3_column_int(st, 5)));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto dberr;

    st = db_stmt(r->db, "SELECT m.lesson_id, m.id, m.value, f.name, m.weight, m.comment, m.exam "
                        "FROM marks m JOIN lessons l ON l.id = m.lesson_id JOIN control_forms f "
                        "ON f.id = m.control_form_id WHERE m.student_id = :s AND l.date BETWEEN "
                        ":from AND :to ORDER BY m.id");
    if (st == NULL)
        goto dberr;
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":from", from);
    db_bind_text(st, ":to", to);
    while ((rc = db_step(st)) == SQLITE_ROW) {
        int64_t lesson = sqlite3_column_int64(st, 0);
        for (int i = 0; i < n; i++)
            if (ids[i] == lesson)
                json_array_append_new(
                    json_object_get(objs[i], "marks"),
                    json_pack("{s:I,s:s,s:s,s:i,s:s,s:b}", "id",
                              (json_int_t)sqlite3_column_int64(st, 1), "value", db_col_text(st, 2),
                              "control_form", db_col_text(st, 3), "weight",
                              sqlite3_column_int(st, 4), "comment", db_col_text(st, 5), "exam",
                              sqlite3_column_int(st, 6)));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto dberr;
    return cache_reply_json(r, &key, 200, out);
dberr:
    json_decref(out);
    return reply_db_error(r);
}

const struct route diary_routes[] = {
    {"GET", "/api/v1/students/{id}/diary", diary_get, ACCESS_USER, ROLES_ANY, false, "diary"},
    {0},
};
