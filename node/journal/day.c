/*
 * The teacher's day: the lessons of one date that the logged-in teacher gives (their own, and
 * those they replace another teacher in), and their own lessons given to a replacement, in
 * bell order, with the bell times, class, subject, room, topic, cancellation, the homework set
 * and how many marks and attendance entries are in. Read by every teacher each morning: the
 * own lessons through lessons_by_teacher, the replaced ones through the teacher's schools'
 * classes (lessons_slot: a replacement is always on the school's staff, timetable.c), and the
 * nearest earlier and later dates with a lesson for the page's arrows.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

/* How far the arrows look, either way, for a day on which the teacher replaces someone (their
 * own lessons are found at any distance through their index): a bounded range of each class. */
#define DAY_WINDOW_BACK  "'-31 days'"
#define DAY_WINDOW_AHEAD "'+31 days'"

/* The ids of the lessons the teacher `:me` is concerned with on `:d`: their own (teacher_id),
 * and those of the classes of their schools they replace someone in. */
#define DAY_LESSON_IDS                                                                             \
    "SELECT id FROM lessons WHERE teacher_id = :me AND date = :d UNION SELECT l2.id FROM staff "   \
    "st JOIN classes c2 ON c2.institution_id = st.institution_id JOIN lessons l2 ON "              \
    "l2.class_id = c2.id AND l2.date = :d WHERE st.person_id = :me AND l2.replacement_id = :me"

/* One lesson of the day as JSON; "role" says whose it is for the teacher: "own", "replacing"
 * (another teacher's, given to them) or "replaced" (theirs, given to someone else). */
static json_t *day_lesson(sqlite3_stmt *st, int64_t me)
{
    int64_t teacher = sqlite3_column_int64(st, 15);
    bool has_repl = sqlite3_column_type(st, 19) != SQLITE_NULL;
    int64_t repl = has_repl ? sqlite3_column_int64(st, 19) : 0;
    const char *role = teacher == me ? (has_repl && repl != me ? "replaced" : "own") : "replacing";
    json_t *hw = json_loads(db_col_text(st, 25), 0, NULL);
    json_t *l = json_pack(
        "{s:I,s:i,s:o,s:o,s:o,s:o,s:s,s:s,s:b,s:I,s:s,s:{s:I,s:o},s:o,s:o,s:i,s:i}", "id",
        (json_int_t)sqlite3_column_int64(st, 0), "number", sqlite3_column_int(st, 1), "starts_at",
        sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null() : json_string(db_col_text(st, 2)),
        "ends_at",
        sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null() : json_string(db_col_text(st, 3)),
        "class", ref_class(st, 4), "subject", ref_named(st, 7), "room", db_col_text(st, 11),
        "topic", db_col_text(st, 12), "cancelled", sqlite3_column_int(st, 13), "period_id",
        (json_int_t)sqlite3_column_int64(st, 14), "role", role, "teacher", "id",
        (json_int_t)teacher, "name", ref_person_name(st, 16), "replacement",
        has_repl ? json_pack("{s:I,s:o}", "id", (json_int_t)repl, "name", ref_person_name(st, 20))
                 : json_null(),
        "homework", hw ? hw : json_array(), "marks", sqlite3_column_int(st, 23), "attendance",
        sqlite3_column_int(st, 24));
    if (l && sqlite3_column_type(st, 9) != SQLITE_NULL)
        json_object_set_new(l, "group", ref_named(st, 9));
    return l;
}

/* The nearest date before (`later` false) or after `date` with a lesson of the teacher, or
 * JSON null. NULL on a storage failure. */
static json_t *day_neighbour(struct req *r, const char *date, bool later)
{
    static const char *const sql[2] = {
        "SELECT max(d) FROM (SELECT max(date) AS d FROM lessons WHERE teacher_id = :me AND "
        "date < :d UNION ALL SELECT max(l.date) FROM staff st JOIN classes c ON c.institution_id "
        "= st.institution_id JOIN lessons l ON l.class_id = c.id AND l.date < :d AND l.date >= "
        "date(:d, " DAY_WINDOW_BACK ") WHERE st.person_id = :me AND l.replacement_id = :me)",
        "SELECT min(d) FROM (SELECT min(date) AS d FROM lessons WHERE teacher_id = :me AND "
        "date > :d UNION ALL SELECT min(l.date) FROM staff st JOIN classes c ON c.institution_id "
        "= st.institution_id JOIN lessons l ON l.class_id = c.id AND l.date > :d AND l.date <= "
        "date(:d, " DAY_WINDOW_AHEAD ") WHERE st.person_id = :me AND l.replacement_id = "
        ":me)",
    };
    char *text = NULL;
    int rc = db_text(r->db, &text, sql[later],
                     DB_ARGS(DB_INT(":me", r->caller.person_id), DB_TEXT(":d", date)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return NULL;
    json_t *out = text && text[0] ? json_string(text) : json_null();
    free(text);
    return out;
}

/* GET /api/v1/teachers/me/lessons?date=YYYY-MM-DD (today by default, the node's local date). */
static int day_lessons(struct req *r)
{
    char date[16];
    int has = journal_query_date_or_respond(r, "date", date);
    if (has < 0)
        return r->status;
    if (has == 0) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    }
    int64_t me = r->caller.person_id;
    if (me == 0)
        return reply_error(r, 403, "forbidden", "the account is not a person's");
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT l.id, l.number, b.starts_at, b.ends_at, c.id, c.grade, c.letter, s.id, s.name, "
        "g.id, g.name, l.room, l.topic, l.cancelled, l.period_id, t.id, t.last_name, "
        "t.first_name, t.middle_name, x.id, x.last_name, x.first_name, x.middle_name, "
        "(SELECT count(*) FROM marks m WHERE m.lesson_id = l.id), (SELECT count(*) FROM "
        "attendance a WHERE a.lesson_id = l.id), (SELECT json_group_array(json_object('id', "
        "h.id, 'text', h.text, 'due_date', h.due_date)) FROM homework h WHERE h.lesson_id = "
        "l.id) FROM lessons l JOIN classes c ON c.id = l.class_id JOIN subjects s ON s.id = "
        "l.subject_id JOIN persons t ON t.id = l.teacher_id LEFT JOIN persons x ON x.id = "
        "l.replacement_id LEFT JOIN groups g ON g.id = l.group_id LEFT JOIN bells b ON "
        "b.institution_id = c.institution_id AND b.number = l.number WHERE l.id IN "
        "(" DAY_LESSON_IDS ") ORDER BY l.number, c.grade, c.letter, g.name",
        DB_ARGS(DB_INT(":me", me), DB_TEXT(":d", date)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *lessons = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(lessons, day_lesson(st, me));
    if (rc != SQLITE_DONE) {
        json_decref(lessons);
        return reply_db_error(r);
    }
    json_t *prev = day_neighbour(r, date, false);
    json_t *next = prev ? day_neighbour(r, date, true) : NULL;
    if (prev == NULL || next == NULL) {
        json_decref(lessons);
        json_decref(prev);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:s,s:o,s:o,s:o}", "date", date, "previous", prev, "next", next,
                                "lessons", lessons));
}

const struct route day_routes[] = {
    {.method = "GET",
     .path = "/api/v1/teachers/me/lessons",
     .handler = day_lessons,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER | ROLE_CLASS_TEACHER,
     .name = "teacher_day"},
    {0},
};
