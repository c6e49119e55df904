/*
 * Journal reads: the teacher's grid (class × subject × period), the student's diary for a date
 * range, and a student's marks by subject with weighted averages. These are the node's hottest
 * reads (every parent opens the diary each day): each is a handful of indexed range queries
 * assembled in memory, no query per row.
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

static json_t *mark_row(sqlite3_stmt *st, int i)
{
    return json_pack("{s:I,s:I,s:s,s:{s:s,s:s},s:i,s:s,s:b}", "id",
                     (json_int_t)sqlite3_column_int64(st, i), "lesson_id",
                     (json_int_t)sqlite3_column_int64(st, i + 1), "value", db_col_text(st, i + 2),
                     "control_form", "code", db_col_text(st, i + 3), "name", db_col_text(st, i + 4),
                     "weight", sqlite3_column_int(st, i + 5), "comment", db_col_text(st, i + 6),
                     "exam", sqlite3_column_int(st, i + 7));
}

/* A lesson's library items as a JSON array (a column of the lesson queries, l = lessons). */
#define LESSON_ITEMS                                                                               \
    "(SELECT json_group_array(json_object('id', i.id, 'title', i.title, 'type', i.type)) FROM "    \
    "lesson_items li JOIN library_items i ON i.id = li.item_id WHERE li.lesson_id = l.id)"

static json_t *average_json(const struct average *a)
{
    double v = average_value(a);
    return v < 0 ? json_null() : json_real(v);
}

/* A student entry of the grid, found by id (the class is a few dozen students). */
struct grid_student {
    int64_t id;
    json_t *marks, *attendance;
    struct average avg;
};

static struct grid_student *grid_find(struct grid_student *s, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].id == id)
            return &s[i];
    return NULL;
}

/* GET /api/v1/journal?class=ID&subject=ID&period=ID */
static int views_journal(struct req *r)
{
    int64_t class_id, subject_id, period_id;
    if (req_query_id_or_respond(r, "class", &class_id) != 0 ||
        req_query_id_or_respond(r, "subject", &subject_id) != 0 ||
        req_query_id_or_respond(r, "period", &period_id) != 0)
        return r->status;
    if (authz_journal_or_respond(r, class_id, subject_id) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_class(r, &key, class_id);
    if (cache_reply(r, &key))
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "SELECT c.id, c.grade, c.letter, s.id, s.name, p.id, "
                                      "p.name, p.starts_on, p.ends_on FROM classes c, subjects s, "
                                      "periods p WHERE c.id = :c AND s.id = :s AND p.id = :p AND "
                                      "p.year_id = c.year_id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":s", subject_id);
    db_bind_int(st, ":p", period_id);
    if (db_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return reply_error(r, 404, "not_found", "no such subject or period for this class");
    }
    json_t *out = json_pack("{s:o,s:o,s:{s:I,s:s,s:s,s:s}}", "class", ref_class(st, 0), "subject",
                            ref_named(st, 3), "period", "id",
                            (json_int_t)sqlite3_column_int64(st, 5), "name", db_col_text(st, 6),
                            "starts_on", db_col_text(st, 7), "ends_on", db_col_text(st, 8));
    sqlite3_reset(st);
    json_t *lessons = json_array(), *students = json_array();
    json_object_set_new(out, "lessons", lessons);
    json_object_set_new(out, "students", students);

    st = db_stmt(r->db, "SELECT l.id, l.date, l.number, l.topic, l.cancelled, l.group_id, "
                        "(SELECT json_group_array(json_object('id', h.id, 'text', h.text, "
                        "'due_date', h.due_date, 'files', json((SELECT json_group_array("
                        "json_object('id', f.id, 'name', f.name, 'type', f.type)) FROM "
                        "homework_files f WHERE f.homework_id = h.id AND f.student_id IS "
                        "NULL)), 'items', json((SELECT json_group_array(json_object('id', "
                        "i.id, 'title', i.title, 'type', i.type)) FROM homework_items hi JOIN "
                        "library_items i ON i.id = hi.item_id WHERE hi.homework_id = h.id)))) "
                        "FROM homework h WHERE h.lesson_id = l.id), " LESSON_ITEMS " "
                        "FROM lessons l WHERE l.class_id = :c AND l.subject_id = :s AND "
                        "l.period_id = :p ORDER BY l.date, l.number");
    if (st == NULL)
        goto dberr;
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":s", subject_id);
    db_bind_int(st, ":p", period_id);
    while (db_step(st) == SQLITE_ROW) {
        json_t *hw = json_loads(db_col_text(st, 6), 0, NULL);
        json_t *items = json_loads(db_col_text(st, 7), 0, NULL);
        json_t *l = json_pack("{s:I,s:s,s:i,s:s,s:b,s:o,s:o}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "date", db_col_text(st, 1),
                              "number", sqlite3_column_int(st, 2), "topic", db_col_text(st, 3),
                              "cancelled", sqlite3_column_int(st, 4), "homework",
                              hw ? hw : json_array(), "items", items ? items : json_array());
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            json_object_set_new(l, "group_id", json_integer(sqlite3_column_int64(st, 5)));
        json_array_append_new(lessons, l);
    }
    sqlite3_reset(st);

    st = db_stmt(r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM enrollments e "
                        "JOIN persons p ON p.id = e.student_id WHERE e.class_id = :c AND "
                        "e.left_on IS NULL ORDER BY p.last_name, p.first_name, p.id");
    if (st == NULL)
        goto dberr;
    db_bind_int(st, ":c", class_id);
    size_t cap = 64, n = 0;
    struct grid_student *gs = calloc(cap, sizeof(*gs));
    if (gs == NULL)
        goto dberr;
    while (db_step(st) == SQLITE_ROW) {
        if (n == cap) {
            struct grid_student *more = realloc(gs, 2 * cap * sizeof(*gs));
            if (more == NULL)
                break;
            gs = more;
            memset(gs + cap, 0, cap * sizeof(*gs));
            cap *= 2;
        }
        gs[n].id = sqlite3_column_int64(st, 0);
        gs[n].marks = json_array();
        gs[n].attendance = json_array();
        json_array_append_new(students, json_pack("{s:I,s:o,s:o,s:o}", "id", (json_int_t)gs[n].id,
                                                  "name", ref_person_name(st, 1), "marks",
                                                  gs[n].marks, "attendance", gs[n].attendance));
        n++;
    }
    sqlite3_reset(st);

    st = db_stmt(r->db, "SELECT m.id, m.lesson_id, m.value, f.code, f.name, m.weight, m.comment, "
                        "m.exam, m.student_id FROM lessons l JOIN marks m ON m.lesson_id = l.id "
                        "JOIN control_forms f ON f.id = m.control_form_id WHERE l.class_id = :c "
                        "AND l.subject_id = :s AND l.period_id = :p ORDER BY l.date, l.number, "
                        "m.id");
    if (st == NULL) {
        free(gs);
        goto dberr;
    }
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":s", subject_id);
    db_bind_int(st, ":p", period_id);
    while (db_step(st) == SQLITE_ROW) {
        struct grid_student *g = grid_find(gs, n, sqlite3_column_int64(st, 8));
        if (g == NULL)
            continue; /* a student who has left the class */
        json_array_append_new(g->marks, mark_row(st, 0));
        average_add(&g->avg, db_col_text(st, 2), sqlite3_column_int(st, 5));
    }
    sqlite3_reset(st);

    st = db_stmt(r->db, "SELECT a.lesson_id, a.student_id, a.status, a.justified FROM lessons l "
                        "JOIN attendance a ON a.lesson_id = l.id WHERE l.class_id = :c AND "
                        "l.subject_id = :s AND l.period_id = :p");
    if (st == NULL) {
        free(gs);
        goto dberr;
    }
    db_bind_int(st, ":c", class_id);
    db_bind_int(st, ":s", subject_id);
    db_bind_int(st, ":p", period_id);
    while (db_step(st) == SQLITE_ROW) {
        struct grid_student *g = grid_find(gs, n, sqlite3_column_int64(st, 1));
        if (g)
            json_array_append_new(g->attendance, json_pack("{s:I,s:s,s:b}", "lesson_id",
                                                           (json_int_t)sqlite3_column_int64(st, 0),
                                                           "status", db_col_text(st, 2),
                                                           "justified", sqlite3_column_int(st, 3)));
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++)
        json_object_set_new(json_array_get(students, i), "average", average_json(&gs[i].avg));
    free(gs);
    return cache_reply_json(r, &key, 200, out);
dberr:
    json_decref(out);
    return reply_db_error(r);
}

/* Reads a YYYY-MM-DD query parameter into `out` (10 chars + NUL); 1 when present. */
static int query_date_or_respond(struct req *r, const char *name, char out[16])
{
    int n = req_query(r, name, out, 16);
    if (n < 0)
        return 0;
    if (!school_date_ok(out)) {
        reply_error(r, 400, "bad_request", "%s must be a date YYYY-MM-DD", name);
        return -1;
    }
    return 1;
}

static time_t day_of(const char *s)
{
    struct tm tm = {0};
    sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* GET /api/v1/students/{id}/diary?from=YYYY-MM-DD&to=YYYY-MM-DD (default: this week) */
static int views_diary(struct req *r)
{
    int64_t student = r->params[0];
    char from[16], to[16];
    int hf = query_date_or_respond(r, "from", from);
    int ht = hf < 0 ? -1 : query_date_or_respond(r, "to", to);
    if (hf < 0 || ht < 0)
        return r->status;
    if (!hf || !ht) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        int back = (tm.tm_wday + 6) % 7; /* days since Monday */
        char today[16];
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        time_t monday = day_of(today) - (time_t)back * 86400;
        time_t sunday = monday + 6 * 86400;
        struct tm a, b;
        gmtime_r(&monday, &a);
        gmtime_r(&sunday, &b);
        if (!hf)
            strftime(from, sizeof(from), "%Y-%m-%d", &a);
        if (!ht)
            strftime(to, sizeof(to), "%Y-%m-%d", &b);
    }
    double days = difftime(day_of(to), day_of(from)) / 86400;
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
        "a.justified, " LESSON_ITEMS " FROM enrollments e JOIN classes c ON c.id = e.class_id "
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
            ref_named(st, 5), "teacher", "id", (json_int_t)sqlite3_column_int64(st, 7), "name",
            ref_person_name(st, 8), "room", db_col_text(st, 11), "topic", db_col_text(st, 12),
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

/* GET /api/v1/students/{id}/marks?period=ID: marks by subject with weighted averages. */
static int views_student_marks(struct req *r)
{
    int64_t student = r->params[0], period;
    if (req_query_id_or_respond(r, "period", &period) != 0)
        return r->status;
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_student(r, &key, student);
    if (cache_reply(r, &key))
        return r->status;
    sqlite3_stmt *st = db_stmt(
        r->db, "SELECT s.id, s.name, m.id, m.lesson_id, m.value, f.code, f.name, m.weight, "
               "m.comment, m.exam, l.date FROM enrollments e "
               "JOIN lessons l ON l.class_id = e.class_id AND l.period_id = :p "
               "JOIN subjects s ON s.id = l.subject_id "
               "LEFT JOIN marks m ON m.lesson_id = l.id AND m.student_id = :s "
               "LEFT JOIN control_forms f ON f.id = m.control_form_id "
               "WHERE e.student_id = :s AND e.left_on IS NULL AND (l.group_id IS NULL OR EXISTS "
               "(SELECT 1 FROM group_members gm WHERE gm.group_id = l.group_id AND "
               "gm.student_id = :s)) ORDER BY s.name, l.date, l.number, m.id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":p", period);
    json_t *subjects = json_array(), *cur = NULL;
    struct average avg = {0};
    int64_t cur_id = 0;
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) != cur_id) {
            if (cur)
                json_object_set_new(cur, "average", average_json(&avg));
            avg = (struct average){0};
            cur_id = sqlite3_column_int64(st, 0);
            cur = json_pack("{s:o,s:[]}", "subject", ref_named(st, 0), "marks");
            json_array_append_new(subjects, cur);
        }
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            continue; /* a lesson without a mark for this student */
        json_t *m = mark_row(st, 2);
        json_object_set_new(m, "date", json_string(db_col_text(st, 10)));
        json_array_append_new(json_object_get(cur, "marks"), m);
        average_add(&avg, db_col_text(st, 4), sqlite3_column_int(st, 7));
    }
    sqlite3_reset(st);
    if (cur)
        json_object_set_new(cur, "average", average_json(&avg));
    if (rc != SQLITE_DONE) {
        json_decref(subjects);
        return reply_db_error(r);
    }
    /* Attendance of the period per subject: absences, lateness, illness, and how many of the
     * absences are not justified. */
    st = db_stmt(r->db, "SELECT l.subject_id, sum(a.status = 'absent'), sum(a.status = 'late'), "
                        "sum(a.status = 'ill'), sum(a.status <> 'late' AND NOT a.justified) FROM "
                        "attendance a JOIN lessons l ON l.id = a.lesson_id WHERE a.student_id = "
                        ":s AND l.period_id = :p GROUP BY l.subject_id");
    if (st == NULL) {
        json_decref(subjects);
        return reply_db_error(r);
    }
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":p", period);
    json_int_t total[4] = {0};
    while ((rc = db_step(st)) == SQLITE_ROW) {
        json_int_t c[4];
        for (int k = 0; k < 4; k++)
            total[k] += c[k] = sqlite3_column_int64(st, k + 1);
        size_t i;
        json_t *sub;
        json_array_foreach(subjects, i, sub)
        {
            json_t *sid = json_object_get(json_object_get(sub, "subject"), "id");
            if (json_integer_value(sid) == sqlite3_column_int64(st, 0))
                json_object_set_new(sub, "attendance",
                                    json_pack("{s:I,s:I,s:I,s:I}", "absent", c[0], "late", c[1],
                                              "ill", c[2], "unjustified", c[3]));
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(subjects);
        return reply_db_error(r);
    }
    json_t *attendance = json_pack("{s:I,s:I,s:I,s:I}", "absent", total[0], "late", total[1], "ill",
                                   total[2], "unjustified", total[3]);

    /* Period and final marks set by the teachers. */
    st = db_stmt(r->db, "SELECT pm.subject_id, pm.value, pm.period_id FROM period_marks pm "
                        "JOIN periods p ON p.year_id = pm.year_id AND p.id = :p WHERE "
                        "pm.student_id = :s AND (pm.period_id = :p OR pm.period_id IS NULL)");
    if (st == NULL) {
        json_decref(subjects);
        json_decref(attendance);
        return reply_db_error(r);
    }
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":p", period);
    while (db_step(st) == SQLITE_ROW) {
        size_t i;
        json_t *sub;
        json_array_foreach(subjects, i, sub)
        {
            json_t *sid = json_object_get(json_object_get(sub, "subject"), "id");
            if (json_integer_value(sid) == sqlite3_column_int64(st, 0))
                json_object_set_new(
                    sub, sqlite3_column_type(st, 2) == SQLITE_NULL ? "final_mark" : "period_mark",
                    json_string(db_col_text(st, 1)));
        }
    }
    sqlite3_reset(st);
    return cache_reply_json(r, &key, 200,
                            json_pack("{s:I,s:I,s:o,s:o}", "student_id", (json_int_t)student,
                                      "period_id", (json_int_t)period, "subjects", subjects,
                                      "attendance", attendance));
}

static json_t *homework_item(sqlite3_stmt *st)
{
    json_t *files = json_loads(db_col_text(st, 10), 0, NULL);
    return json_pack("{s:I,s:s,s:s,s:{s:I,s:s,s:{s:I,s:s}},s:b,s:s,s:s,s:o}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "text", db_col_text(st, 1),
                     "due_date", db_col_text(st, 2), "lesson", "id",
                     (json_int_t)sqlite3_column_int64(st, 3), "date", db_col_text(st, 4), "subject",
                     "id", (json_int_t)sqlite3_column_int64(st, 5), "name", db_col_text(st, 6),
                     "done", sqlite3_column_int(st, 7), "answer", db_col_text(st, 8), "feedback",
                     db_col_text(st, 9), "files", files ? files : json_array());
}

/* GET /api/v1/students/{id}/homework?from=YYYY-MM-DD&to=YYYY-MM-DD: the homework due in the
 * range (default: two weeks from today), by due date, with the student's progress. */
static int views_homework(struct req *r)
{
    int64_t student = r->params[0];
    char from[16], to[16];
    int hf = query_date_or_respond(r, "from", from);
    int ht = hf < 0 ? -1 : query_date_or_respond(r, "to", to);
    if (hf < 0 || ht < 0)
        return r->status;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    if (!hf)
        strftime(from, sizeof(from), "%Y-%m-%d", &tm);
    if (!ht) {
        time_t end = day_of(from) + 13 * 86400;
        struct tm e;
        gmtime_r(&end, &e);
        strftime(to, sizeof(to), "%Y-%m-%d", &e);
    }
    double days = difftime(day_of(to), day_of(from)) / 86400;
    if (days < 0 || days > 62)
        return reply_error(r, 400, "bad_request", "from..to must span 0-62 days");
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
    /* Homework is given at a lesson before it is due: lessons of up to 62 days before. */
    sqlite3_stmt *st = db_stmt(
        r->db,
        "SELECT h.id, h.text, h.due_date, l.id, l.date, s.id, s.name, coalesce(hs.done, 0), "
        "coalesce(hs.text, ''), coalesce(hs.feedback, ''), (SELECT json_group_array("
        "json_object('id', f.id, 'name', f.name, 'type', f.type, 'handed_in', json(CASE WHEN "
        "f.student_id IS NULL THEN 'false' ELSE 'true' END))) FROM homework_files f WHERE "
        "f.homework_id = h.id AND (f.student_id IS NULL OR f.student_id = :s)) "
        "FROM enrollments e JOIN lessons l ON l.class_id = e.class_id AND l.date BETWEEN "
        "date(:from, '-62 days') AND :to JOIN homework h ON h.lesson_id = l.id AND h.due_date "
        "BETWEEN :from AND :to JOIN subjects s ON s.id = l.subject_id LEFT JOIN "
        "homework_submissions hs ON hs.homework_id = h.id AND hs.student_id = :s "
        "WHERE e.student_id = :s AND e.left_on IS NULL AND (l.group_id IS NULL OR EXISTS "
        "(SELECT 1 FROM group_members gm WHERE gm.group_id = l.group_id AND gm.student_id = :s)) "
        "ORDER BY h.due_date, s.name, h.id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_text(st, ":from", from);
    db_bind_text(st, ":to", to);
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        json_array_append_new(items, homework_item(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return cache_reply_json(r, &key, 200,
                            json_pack("{s:I,s:s,s:s,s:o}", "student_id", (json_int_t)student,
                                      "from", from, "to", to, "items", items));
}

/* GET /api/v1/students/{id}/plan?period=ID&subject=ID&target=4.5[&form=CODE]
 * "What do I need": how many marks of each value, at the weight of the control form (oral by
 * default), would lift the weighted average of the subject in the period to the target. */
static int views_plan(struct req *r)
{
    int64_t student = r->params[0], period, subject;
    char buf[32], form[32] = "oral";
    if (req_query_id_or_respond(r, "period", &period) != 0 ||
        req_query_id_or_respond(r, "subject", &subject) != 0)
        return r->status;
    const struct mes_config *cfg = &r->node->cfg;
    double target = req_query(r, "target", buf, sizeof(buf)) > 0 ? strtod(buf, NULL) : 0;
    if (target < cfg->grading.min || target > cfg->grading.max)
        return reply_error(r, 400, "bad_request", "target must be between %d and %d",
                           cfg->grading.min, cfg->grading.max);
    req_query(r, "form", form, sizeof(form));
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_stmt(r->db, "SELECT weight FROM control_forms WHERE code = :c");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":c", form);
    int weight = db_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (weight == 0)
        return reply_error(r, 400, "bad_request", "unknown control form '%s'", form);
    st = db_stmt(r->db, "SELECT m.value, m.weight FROM marks m JOIN lessons l ON l.id = "
                        "m.lesson_id WHERE m.student_id = :s AND l.subject_id = :sub AND "
                        "l.period_id = :p");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":sub", subject);
    db_bind_int(st, ":p", period);
    struct average avg = {0};
    while (db_step(st) == SQLITE_ROW)
        average_add(&avg, db_col_text(st, 0), sqlite3_column_int(st, 1));
    sqlite3_reset(st);
    /* n marks of value v at weight w reach the target when
     * (S + v*w*n) / (W + w*n) >= target, i.e. n >= (target*W - S) / (w*(v - target)). */
    json_t *options = json_array();
    double current = average_value(&avg);
    for (int v = cfg->grading.max; v >= cfg->grading.min && v > target; v--) {
        double need = (target * (double)avg.weights - avg.sum) / (weight * (v - target));
        long n = need <= 0 ? 0 : (long)need;
        while ((avg.sum + (double)v * weight * n) / ((double)avg.weights + weight * n) <
               target - 1e-9)
            n++;
        if (avg.weights == 0 && n == 0)
            n = 1; /* no marks yet: one is needed */
        json_array_append_new(options, json_pack("{s:o,s:I}", "value", json_sprintf("%d", v),
                                                 "count", (json_int_t)n));
    }
    return reply_json(r, 200,
                      json_pack("{s:o,s:f,s:s,s:i,s:o}", "current",
                                current < 0 ? json_null() : json_real(current), "target", target,
                                "control_form", form, "weight", weight, "options", options));
}

const struct route journal_view_routes[] = {
    {.method = "GET",
     .path = "/api/v1/students/{id}/plan",
     .handler = views_plan,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "marks_plan"},
    {.method = "GET",
     .path = "/api/v1/journal",
     .handler = views_journal,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_TEACHER | ROLE_CLASS_TEACHER,
     .name = "journal"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/diary",
     .handler = views_diary,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "diary"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/homework",
     .handler = views_homework,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_homework"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/marks",
     .handler = views_student_marks,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "student_marks"},
    {0},
};
