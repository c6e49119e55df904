/*
 * Journal logic shared by its routes, the demo and the generator: control forms, lesson
 * generation from the weekly timetable, mark values and weighted averages, and the helpers the
 * route files share (who is in a lesson, a lesson's notification, date parameters).
 */
#include "journal/journal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "notify/notify.h"
#include "school/school.h"

int journal_seed_forms(struct db *db, const struct mes_config *cfg, char *err, size_t errlen)
{
    for (int i = 0; i < cfg->grading.nforms; i++) {
        const struct cfg_control_form *f = &cfg->grading.forms[i];
        if (db_run(db,
                   "INSERT INTO control_forms (code, name, weight) VALUES (:c, :n, :w) ON "
                   "CONFLICT (code) DO UPDATE SET name = excluded.name, weight = excluded.weight",
                   DB_ARGS(DB_TEXT(":c", f->code), DB_TEXT(":n", f->name),
                           DB_INT(":w", f->weight))) != SQLITE_DONE) {
            snprintf(err, errlen, "seeding control forms: %s", db_errmsg(db));
            return -1;
        }
    }
    return 0;
}

time_t journal_day(const char *s)
{
    struct tm tm = {0};
    if (sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

void journal_today(char out[16])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

int journal_lesson_future(struct db *db, int64_t lesson)
{
    char today[16];
    journal_today(today);
    return db_exists(db, "SELECT 1 FROM lessons WHERE id = :l AND date > :today",
                     DB_ARGS(DB_INT(":l", lesson), DB_TEXT(":today", today)));
}

int journal_generate_lessons(struct db *db, const struct mes_config *cfg, int64_t class_id,
                             int64_t period_id)
{
    sqlite3_stmt *st =
        db_query(db, "SELECT starts_on, ends_on, year_id FROM periods WHERE id = :id",
                 DB_ARGS(DB_INT(":id", period_id)));
    int rc;
    if (!db_next(st, &rc))
        return -1;
    time_t from = journal_day(db_col_text(st, 0)), to = journal_day(db_col_text(st, 1));
    int64_t year = sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    /* The year's days off, made from the configuration if it has no list yet. */
    if (from < 0 || to < 0 || school_seed_holidays(db, cfg, year) != 0)
        return -1;
    int created = 0;
    for (time_t day = from; day <= to; day += 86400) {
        struct tm tm;
        gmtime_r(&day, &tm);
        int weekday = tm.tm_wday == 0 ? 7 : tm.tm_wday; /* Monday = 1 */
        if (weekday == 7)
            continue;
        char date[16];
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        int off = db_exists(db, "SELECT 1 FROM holidays WHERE year_id = :y AND date = :d",
                            DB_ARGS(DB_INT(":y", year), DB_TEXT(":d", date)));
        if (off < 0)
            return -1;
        if (off)
            continue;
        if (db_run(db,
                   "INSERT INTO lessons (class_id, group_id, subject_id, teacher_id, period_id, "
                   "date, number, room) SELECT class_id, group_id, subject_id, teacher_id, :p, "
                   ":d, number, room FROM timetable WHERE class_id = :c AND weekday = :w ON "
                   "CONFLICT DO NOTHING",
                   DB_ARGS(DB_INT(":p", period_id), DB_TEXT(":d", date), DB_INT(":c", class_id),
                           DB_INT(":w", weekday))) != SQLITE_DONE)
            return -1;
        created += db_changes(db);
    }
    return created;
}

bool journal_mark_valid(const struct mes_config *cfg, const char *value)
{
    if (cfg->grading.pass_fail && (strcmp(value, "pass") == 0 || strcmp(value, "fail") == 0))
        return true;
    char *end;
    long v = strtol(value, &end, 10);
    return value[0] >= '0' && value[0] <= '9' && *end == '\0' && strlen(value) <= 3 &&
           v >= cfg->grading.min && v <= cfg->grading.max;
}

void average_add(struct average *a, const char *value, int weight)
{
    if (value[0] < '0' || value[0] > '9')
        return; /* pass/fail marks do not enter the average */
    a->sum += strtod(value, NULL) * weight;
    a->weights += weight;
}

double average_value(const struct average *a)
{
    if (a->weights == 0)
        return -1;
    return round(a->sum / (double)a->weights * 100.0) / 100.0;
}

int journal_student_in_lesson(struct db *db, int64_t class_id, int64_t group_id, int64_t student)
{
    return db_exists(
        db,
        "SELECT 1 FROM enrollments e WHERE e.student_id = :s AND e.class_id = :c AND "
        "e.left_on IS NULL AND (:g = 0 OR EXISTS (SELECT 1 FROM group_members m "
        "WHERE m.group_id = :g AND m.student_id = :s))",
        DB_ARGS(DB_INT(":s", student), DB_INT(":c", class_id), DB_INT(":g", group_id)));
}

json_t *journal_lesson_note(struct db *db, int64_t lesson)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT s.name, l.date FROM lessons l JOIN subjects s ON "
                                "s.id = l.subject_id WHERE l.id = :l",
                                DB_ARGS(DB_INT(":l", lesson)));
    int rc;
    if (!db_next(st, &rc))
        return NULL;
    json_t *o = json_pack("{s:I,s:s,s:s}", "lesson_id", (json_int_t)lesson, "subject",
                          db_col_text(st, 0), "date", db_col_text(st, 1));
    sqlite3_reset(st);
    return o;
}

int journal_notify_lesson(struct db *db, int64_t student, int64_t lesson, const char *kind,
                          json_t *extra)
{
    json_t *note = journal_lesson_note(db, lesson);
    if (note == NULL) {
        json_decref(extra);
        return -1;
    }
    if (extra)
        json_object_update(note, extra);
    json_decref(extra);
    int rc = notify_family(db, student, kind, note);
    json_decref(note);
    return rc;
}

int journal_query_date_or_respond(struct req *r, const char *name, char out[16])
{
    int n = req_query(r, name, out, 16);
    if (n == -1)
        return 0;
    if (n < 0 || !school_date_ok(out)) {
        reply_error(r, 400, "bad_request", "%s must be a date YYYY-MM-DD", name);
        return -1;
    }
    return 1;
}
