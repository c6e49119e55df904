/*
 * Timetable and journal: bell schedules, weekly timetables, dated lessons, marks with control
 * forms and weights, attendance, homework; the teacher's journal grid and the student's diary.
 * Schema: journal.sql beside this file. One file per entity, each with its routes: timetable.c
 * (bells, timetables, lessons), marks.c (marks, period marks, control forms), attendance.c,
 * notices.c (absence notices and medical notes), homework.c (homework from its creation to the
 * hand-ins and the student's list), diary.c (the student's diary), grid.c (the journal grid and
 * averages), plan.c (calendar-thematic plans), day.c (the teacher's day), summary.c (the class
 * teacher's summary of a class); journal.c holds the logic they share.
 */
#ifndef MES_JOURNAL_H
#define MES_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <time.h>

#include "config/config.h"
#include "db.h"

struct req;

/* Control forms follow the configuration at every start (idempotent). 0 or -1 with err. */
int journal_seed_forms(struct db *db, const struct mes_config *cfg, char *err, size_t errlen);

/* Creates the dated lessons of `class_id` for `period_id` from its weekly timetable, skipping
 * the year's days off (made from the configuration's holidays when the year has no list yet:
 * school_seed_holidays) and slots that already have a lesson. Returns the number of
 * lessons created, or -1 (see db_errmsg). Runs in the caller's transaction. */
int journal_generate_lessons(struct db *db, const struct mes_config *cfg, int64_t class_id,
                             int64_t period_id);

/* True when `value` is a mark of the configured scale ("2".."5") or, when allowed, "pass" or
 * "fail". */
bool journal_mark_valid(const struct mes_config *cfg, const char *value);

/* Weighted average accumulator: Σ(mark·weight) / Σ(weight) over numeric marks. */
struct average {
    double sum;
    long weights;
};
void average_add(struct average *a, const char *value, int weight);
/* The average rounded to two decimals, or a negative number when there are no marks. */
double average_value(const struct average *a);

/* One topic of a calendar-thematic plan. */
struct plan_topic {
    char title[512];
    int hours;
};
#define PLAN_MAX_TOPICS 1000

/* Parses a plan from CSV text (UTF-8; separator ';', ',' or tab, found on the first line;
 * fields "title;hours" or "number;title;hours"; a header line is skipped; fields may be
 * quoted with ""-escapes). Returns the number of topics written to `out` (at most `max`), or
 * -1 with "line N: reason" in err. Allocates nothing. */
int plan_parse_csv(const char *text, size_t len, struct plan_topic *out, int max, char *err,
                   size_t errlen);

/* Gives the lessons of a class and subject (the class's whole year, in date order, cancelled
 * ones skipped) the topics of its plan, each topic `hours` lessons; lessons whose topic the
 * teacher wrote keep it but still count. Returns lessons changed or -1. */
int plan_apply(struct db *db, int64_t class_id, int64_t subject_id);

/* The lesson of homework `homework` (homework.c); answers 404 (none) or 500 itself and
 * returns 0. */
int64_t homework_lesson_or_respond(struct req *r, int64_t homework);

/* ---- Shared by the journal's route files (journal.c) ---- */

/* A lesson's library items as a JSON array: a column of the lesson queries (l = lessons). */
#define JOURNAL_LESSON_ITEMS                                                                       \
    "(SELECT json_group_array(json_object('id', i.id, 'title', i.title, 'type', i.type)) FROM "    \
    "lesson_items li JOIN library_items i ON i.id = li.item_id WHERE li.lesson_id = l.id)"

/* Whether `student` is enrolled in class `class_id` and, for a group lesson (group_id > 0), in
 * the group: 1 yes, 0 no, -1 on a storage failure. */
int journal_student_in_lesson(struct db *db, int64_t class_id, int64_t group_id, int64_t student);

/* What a notification says about a lesson: {"lesson_id", "subject", "date"}, a new reference,
 * or NULL when there is no such lesson or on a storage failure. */
json_t *journal_lesson_note(struct db *db, int64_t lesson);

/* Notifies the student's family of an event in a lesson (the lesson's note with `extra`'s
 * fields; `extra` is stolen, may be NULL). 0, or -1 on a failure. */
int journal_notify_lesson(struct db *db, int64_t student, int64_t lesson, const char *kind,
                          json_t *extra);

/* Reads the YYYY-MM-DD query parameter `name` into `out`: 1 when present, 0 when absent, -1
 * after answering 400 for a malformed one. */
int journal_query_date_or_respond(struct req *r, const char *name, char out[16]);

/* The statement that justifies a student's absences when a notice is filed (notices.c), for the
 * test of its query plan: binds :s (the student), :f and :t (the notice's dates). */
extern const char notices_justify_sql[];

/* A YYYY-MM-DD date as the time of its UTC midnight; -1 when malformed. */
time_t journal_day(const char *s);

/* Today's date in the node's local time zone (as the diary's "this week"), "YYYY-MM-DD". */
void journal_today(char out[16]);

/* Whether lesson `lesson` is dated after today (journal_today): no marks or attendance may be
 * put on it yet. 1 yes, 0 no (or no such lesson), -1 on a storage failure. */
int journal_lesson_future(struct db *db, int64_t lesson);

#endif
