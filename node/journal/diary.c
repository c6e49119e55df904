/*
 * The student's diary: the lessons of a date range (at most 31 days, this week by default) with
 * their bells, teacher, room, topic, attendance, homework (with the student's progress and
 * files), library items and the student's marks. The node's hottest read (every parent opens
 * it each day): a handful of indexed range queries joined in memory, no query per lesson, the
 * answer kept in the read cache.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "cache/cache.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

/* JSON objects of the answer by id (borrowed), to hang homework, files and marks on: sorted
 * by id once filled, then found by bsearch. */
struct diary_ref {
    int64_t id;
    json_t *obj;
};
struct diary_refs {
    struct diary_ref *v;
    size_t n, cap;
};

/* The diary being built. */
struct diary {
    int64_t student;
    char from[16], to[16];
    json_t *out;
    struct diary_refs lessons, homework;
};

static int refs_add(struct diary_refs *refs, int64_t id, json_t *obj)
{
    if (refs->n == refs->cap) {
        size_t cap = refs->cap ? 2 * refs->cap : 64;
        struct diary_ref *more = realloc(refs->v, cap * sizeof(*more));
        if (more == NULL)
            return -1;
        refs->v = more;
        refs->cap = cap;
    }
    refs->v[refs->n++] = (struct diary_ref){id, obj};
    return 0;
}

static int ref_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct diary_ref *)a)->id, y = ((const struct diary_ref *)b)->id;
    return (x > y) - (x < y);
}

static void refs_sort(struct diary_refs *refs)
{
    if (refs->n > 1)
        qsort(refs->v, refs->n, sizeof(*refs->v), ref_cmp);
}

/* The object of `id`, or NULL. */
static json_t *refs_find(const struct diary_refs *refs, int64_t id)
{
    if (refs->n == 0)
        return NULL;
    struct diary_ref key = {id, NULL};
    const struct diary_ref *f = bsearch(&key, refs->v, refs->n, sizeof(*refs->v), ref_cmp);
    return f ? f->obj : NULL;
}

/* The date range of the request into d->from and d->to: the query's, or this week (Monday to
 * Sunday) for what it leaves out. 0; -1 after answering 400. */
static int diary_range_or_respond(struct req *r, struct diary *d)
{
    int hf = journal_query_date_or_respond(r, "from", d->from);
    int ht = hf < 0 ? -1 : journal_query_date_or_respond(r, "to", d->to);
    if (hf < 0 || ht < 0)
        return -1;
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
            strftime(d->from, sizeof(d->from), "%Y-%m-%d", &a);
        if (!ht)
            strftime(d->to, sizeof(d->to), "%Y-%m-%d", &b);
    }
    double days = difftime(journal_day(d->to), journal_day(d->from)) / 86400;
    if (days < 0 || days > 31) {
        reply_error(r, 400, "bad_request", "from..to must span 0-31 days");
        return -1;
    }
    return 0;
}

/* One lesson of the diary as JSON (homework and marks empty, filled by the later steps). */
static json_t *diary_lesson(sqlite3_stmt *st)
{
    json_t *l = json_pack("{s:I,s:i,s:s,s:s,s:o,s:{s:I,s:o},s:s,s:s,s:b,s:[],s:[]}", "id",
                          (json_int_t)sqlite3_column_int64(st, 0), "number",
                          sqlite3_column_int(st, 2), "starts_at", db_col_text(st, 3), "ends_at",
                          db_col_text(st, 4), "subject", ref_named(st, 5), "teacher", "id",
                          (json_int_t)sqlite3_column_int64(st, 7), "name", ref_person_name(st, 8),
                          "room", db_col_text(st, 11), "topic", db_col_text(st, 12), "cancelled",
                          sqlite3_column_int(st, 13), "homework", "marks");
    if (l == NULL)
        return NULL;
    json_t *items = json_loads(db_col_text(st, 16), 0, NULL);
    json_object_set_new(l, "items", items ? items : json_array());
    if (sqlite3_column_type(st, 14) != SQLITE_NULL)
        json_object_set_new(l, "attendance",
                            json_pack("{s:s,s:b}", "status", db_col_text(st, 14), "justified",
                                      sqlite3_column_int(st, 15)));
    return l;
}

/* The student's lessons of the range, grouped by day, into d->out's "days" and d->lessons.
 * SQLITE_DONE, SQLITE_NOMEM or the failure's code. */
static int diary_lessons(struct req *r, struct diary *d)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT l.id, l.date, l.number, b.starts_at, b.ends_at, s.id, s.name, t.id, t.last_name, "
        "t.first_name, t.middle_name, l.room, l.topic, l.cancelled, a.status, "
        "a.justified, " JOURNAL_LESSON_ITEMS " FROM enrollments e JOIN classes c ON c.id = "
        "e.class_id JOIN lessons l ON l.class_id = e.class_id AND l.date BETWEEN :from AND :to "
        "JOIN subjects s ON s.id = l.subject_id "
        "JOIN persons t ON t.id = coalesce(l.replacement_id, l.teacher_id) "
        "LEFT JOIN bells b ON b.institution_id = c.institution_id AND b.number = l.number "
        "LEFT JOIN attendance a ON a.lesson_id = l.id AND a.student_id = :s "
        "WHERE e.student_id = :s AND e.left_on IS NULL AND (l.group_id IS NULL OR EXISTS "
        "(SELECT 1 FROM group_members gm WHERE gm.group_id = l.group_id AND gm.student_id = :s)) "
        "ORDER BY l.date, l.number",
        DB_ARGS(DB_INT(":s", d->student), DB_TEXT(":from", d->from), DB_TEXT(":to", d->to)));
    json_t *days = json_object_get(d->out, "days"), *day = NULL;
    char current[16] = "";
    int rc;
    while (db_next(st, &rc)) {
        const char *date = db_col_text(st, 1);
        if (strcmp(date, current) != 0) {
            snprintf(current, sizeof(current), "%s", date);
            day = json_pack("{s:s,s:[]}", "date", date, "lessons");
            json_array_append_new(days, day);
        }
        json_t *l = diary_lesson(st);
        if (l == NULL || refs_add(&d->lessons, sqlite3_column_int64(st, 0), l) != 0) {
            json_decref(l);
            sqlite3_reset(st);
            return SQLITE_NOMEM;
        }
        json_array_append_new(json_object_get(day, "lessons"), l);
    }
    refs_sort(&d->lessons);
    return rc;
}

/* The homework given at the lessons, with the student's progress, onto their lessons and into
 * d->homework. SQLITE_DONE, SQLITE_NOMEM or the failure's code. */
static int diary_homework(struct req *r, struct diary *d)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT h.lesson_id, h.id, h.text, h.due_date, coalesce(hs.done, 0), "
        "coalesce(hs.text, ''), coalesce(hs.feedback, ''), (SELECT "
        "json_group_array(json_object('id', i.id, 'title', i.title, 'type', "
        "i.type)) FROM homework_items hi JOIN library_items i ON i.id = "
        "hi.item_id WHERE hi.homework_id = h.id), hs.student_id IS NOT NULL, hs.seen_at IS "
        "NOT NULL FROM enrollments e "
        "JOIN lessons l ON l.class_id = e.class_id AND l.date BETWEEN :from AND "
        ":to JOIN homework h ON h.lesson_id = l.id LEFT JOIN "
        "homework_submissions hs ON hs.homework_id = h.id AND hs.student_id = :s "
        "WHERE e.student_id = :s AND e.left_on IS NULL ORDER BY h.id",
        DB_ARGS(DB_INT(":s", d->student), DB_TEXT(":from", d->from), DB_TEXT(":to", d->to)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *lesson = refs_find(&d->lessons, sqlite3_column_int64(st, 0));
        if (lesson == NULL)
            continue; /* a lesson of another group */
        json_t *items = json_loads(db_col_text(st, 7), 0, NULL);
        json_t *h = json_pack("{s:I,s:s,s:s,s:b,s:s,s:s,s:[],s:o,s:b,s:b}", "id",
                              (json_int_t)sqlite3_column_int64(st, 1), "text", db_col_text(st, 2),
                              "due_date", db_col_text(st, 3), "done", sqlite3_column_int(st, 4),
                              "answer", db_col_text(st, 5), "feedback", db_col_text(st, 6), "files",
                              "items", items ? items : json_array(), "handed_in",
                              sqlite3_column_int(st, 8), "seen", sqlite3_column_int(st, 9));
        if (h == NULL || refs_add(&d->homework, sqlite3_column_int64(st, 1), h) != 0) {
            json_decref(h);
            sqlite3_reset(st);
            return SQLITE_NOMEM;
        }
        json_array_append_new(json_object_get(lesson, "homework"), h);
    }
    return rc; /* the rows came by id: d->homework is sorted */
}

/* The teachers' material and the student's own hand-in files onto their homework.
 * SQLITE_DONE or the failure's code. */
static int diary_files(struct req *r, struct diary *d)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT f.homework_id, f.id, f.name, f.type, b.size, f.student_id IS NOT "
        "NULL FROM enrollments e JOIN lessons l ON l.class_id = e.class_id AND "
        "l.date BETWEEN :from AND :to JOIN homework h ON h.lesson_id = l.id "
        "JOIN homework_files f ON f.homework_id = h.id AND (f.student_id IS NULL "
        "OR f.student_id = :s) JOIN blobs b ON b.id = f.blob_id WHERE "
        "e.student_id = :s AND e.left_on IS NULL ORDER BY f.id",
        DB_ARGS(DB_INT(":s", d->student), DB_TEXT(":from", d->from), DB_TEXT(":to", d->to)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *h = refs_find(&d->homework, sqlite3_column_int64(st, 0));
        if (h)
            json_array_append_new(json_object_get(h, "files"),
                                  json_pack("{s:I,s:s,s:s,s:I,s:b}", "id",
                                            (json_int_t)sqlite3_column_int64(st, 1), "name",
                                            db_col_text(st, 2), "type", db_col_text(st, 3), "size",
                                            (json_int_t)sqlite3_column_int64(st, 4), "handed_in",
                                            sqlite3_column_int(st, 5)));
    }
    return rc;
}

/* The student's marks of the range onto their lessons. SQLITE_DONE or the failure's code. */
static int diary_marks(struct req *r, struct diary *d)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT m.lesson_id, m.id, m.value, f.name, m.weight, m.comment, m.exam "
        "FROM marks m JOIN lessons l ON l.id = m.lesson_id JOIN control_forms f "
        "ON f.id = m.control_form_id WHERE m.student_id = :s AND l.date BETWEEN "
        ":from AND :to ORDER BY m.id",
        DB_ARGS(DB_INT(":s", d->student), DB_TEXT(":from", d->from), DB_TEXT(":to", d->to)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *lesson = refs_find(&d->lessons, sqlite3_column_int64(st, 0));
        if (lesson)
            json_array_append_new(json_object_get(lesson, "marks"),
                                  json_pack("{s:I,s:s,s:s,s:i,s:s,s:b}", "id",
                                            (json_int_t)sqlite3_column_int64(st, 1), "value",
                                            db_col_text(st, 2), "control_form", db_col_text(st, 3),
                                            "weight", sqlite3_column_int(st, 4), "comment",
                                            db_col_text(st, 5), "exam", sqlite3_column_int(st, 6)));
    }
    return rc;
}

/* GET /api/v1/students/{id}/diary?from=YYYY-MM-DD&to=YYYY-MM-DD (default: this week). Four
 * range queries (lessons, homework, files, marks of the days) joined here: no query per lesson.
 * Any step that fails answers 500 and nothing is cached. */
static int diary_get(struct req *r)
{
    struct diary d = {.student = r->params[0]};
    if (diary_range_or_respond(r, &d) != 0)
        return r->status;
    if (authz_student_or_respond(r, d.student, AUTHZ_READ) != 0)
        return r->status;
    struct cache_key key;
    cache_key_begin(r, &key);
    cache_key_student(r, &key, d.student);
    char range[40];
    snprintf(range, sizeof(range), "%s..%s", d.from, d.to);
    cache_key_text(&key, range);
    if (cache_reply(r, &key))
        return r->status;
    d.out = json_pack("{s:I,s:s,s:s,s:[]}", "student_id", (json_int_t)d.student, "from", d.from,
                      "to", d.to, "days");
    bool ok = d.out != NULL && diary_lessons(r, &d) == SQLITE_DONE &&
              diary_homework(r, &d) == SQLITE_DONE && diary_files(r, &d) == SQLITE_DONE &&
              diary_marks(r, &d) == SQLITE_DONE;
    free(d.lessons.v);
    free(d.homework.v);
    if (!ok) {
        json_decref(d.out);
        return reply_db_error(r);
    }
    return cache_reply_json(r, &key, 200, d.out);
}

const struct route diary_routes[] = {
    {.method = "GET",
     .path = "/api/v1/students/{id}/diary",
     .handler = diary_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "diary"},
    {0},
};
