/*
 * Statistics reports (see report.h): computed from the journal, school, library and audit
 * tables with a handful of GROUP BY queries over one month, suppressed, signed, queued, pushed;
 * and received at the hub.
 */
#include "federation/report.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "db.h"
#include "federation/auth.h"
#include "federation/sync.h"
#include "files/files.h"
#include "http.h"
#include "lib/input.h"
#include "log.h"
#include "node.h"
#include "writer.h"

/* ---- suppression ---- */

bool report_suppress(struct report_cell *cells, size_t n, long total, long k)
{
    size_t hidden = 0;
    for (size_t i = 0; i < n; i++)
        if ((cells[i].suppressed = cells[i].persons < k))
            hidden++;
    if (total == REPORT_NO_TOTAL)
        return false;
    if (hidden == 1) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!cells[i].suppressed && (best == n || cells[i].persons < cells[best].persons))
                best = i;
        if (best < n)
            cells[best].suppressed = true;
    }
    return total < k;
}

/* Replaces a suppressed cell's values by nulls, but for the keys in `keep`, and marks it. */
static void blank(json_t *obj, const char *const *keep)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, v)
    {
        bool kept = false;
        for (const char *const *k = keep; *k; k++)
            kept |= strcmp(key, *k) == 0;
        if (!kept)
            json_object_set_new(obj, key, json_null());
    }
    json_object_set_new(obj, "suppressed", json_true());
}

/* The persons a cell counts: its integer under `key`. */
static long persons(json_t *cell, const char *key)
{
    return (long)json_integer_value(json_object_get(cell, key));
}

/* ---- the queries ---- */

static int month_range(const char *month, char from[11], char to[11])
{
    int y, m;
    char extra;
    if (month == NULL || strlen(month) != 7 || sscanf(month, "%4d-%2d%c", &y, &m, &extra) != 2 ||
        y < 2000 || y > 2100 || m < 1 || m > 12)
        return -1;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int last = days[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    snprintf(from, 11, "%04d-%02d-01", y, m);
    snprintf(to, 11, "%04d-%02d-%02d", y, m, last);
    return 0;
}

/* Runs `sql` bound to :from and :to and hands each row to `row`. -1 on a database error. */
static int each_row(struct db *db, const char *sql, const char *from, const char *to,
                    void (*row)(sqlite3_stmt *, void *), void *ctx)
{
    sqlite3_stmt *st = db_query(db, sql, DB_ARGS(DB_TEXT(":from", from), DB_TEXT(":to", to)));
    int rc;
    while (db_next(st, &rc))
        row(st, ctx);
    return rc == SQLITE_DONE ? 0 : -1;
}

struct marks_ctx {
    json_t *cells; /* "subject/grade" -> cell object */
    json_t *order; /* keys in order */
};

static json_t *marks_cell(struct marks_ctx *m, const char *subject, int grade)
{
    char key[96];
    snprintf(key, sizeof(key), "%s/%d", subject, grade);
    json_t *c = json_object_get(m->cells, key);
    if (c == NULL) {
        c = json_pack("{s:s,s:i,s:I,s:I,s:n,s:{}}", "subject", subject, "grade", grade, "students",
                      (json_int_t)0, "marks", (json_int_t)0, "weighted_average", "distribution");
        json_object_set_new(m->cells, key, c);
        json_array_append_new(m->order, json_string(key));
    }
    return c;
}

static void marks_totals(sqlite3_stmt *st, void *ctx)
{
    json_t *c = marks_cell(ctx, db_col_text(st, 0), sqlite3_column_int(st, 1));
    json_object_set_new(c, "students", json_integer(sqlite3_column_int64(st, 2)));
    json_object_set_new(c, "marks", json_integer(sqlite3_column_int64(st, 3)));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        json_object_set_new(
            c, "weighted_average",
            json_real((double)(int)(sqlite3_column_double(st, 4) * 100 + 0.5) / 100));
}

static void marks_values(sqlite3_stmt *st, void *ctx)
{
    json_t *c = marks_cell(ctx, db_col_text(st, 0), sqlite3_column_int(st, 1));
    json_object_set_new(json_object_get(c, "distribution"), db_col_text(st, 2),
                        json_pack("{s:I,s:I}", "marks", (json_int_t)sqlite3_column_int64(st, 3),
                                  "students", (json_int_t)sqlite3_column_int64(st, 4)));
}

static void grade_rows(sqlite3_stmt *st, void *ctx)
{
    json_t *rows = ctx;
    char key[8];
    snprintf(key, sizeof(key), "%d", sqlite3_column_int(st, 0));
    json_t *r = json_object_get(rows, key);
    if (r == NULL) {
        r = json_pack("{s:i,s:I,s:I,s:I}", "grade", sqlite3_column_int(st, 0), "students",
                      (json_int_t)0, "student_lessons", (json_int_t)0, "absences", (json_int_t)0);
        json_object_set_new(rows, key, r);
    }
    /* Columns: grade, what, n */
    json_object_set_new(r, db_col_text(st, 1), json_integer(sqlite3_column_int64(st, 2)));
}

static void usage_rows(sqlite3_stmt *st, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:I,s:I}", "day", db_col_text(st, 0), "role",
                                         db_col_text(st, 1), "accounts",
                                         (json_int_t)sqlite3_column_int64(st, 2), "logins",
                                         (json_int_t)sqlite3_column_int64(st, 3)));
}

static void one_row(sqlite3_stmt *st, void *ctx)
{
    json_t *o = ctx;
    for (int i = 0; i < sqlite3_column_count(st); i++)
        json_object_set_new(o, sqlite3_column_name(st, i),
                            json_integer(sqlite3_column_int64(st, i)));
}

static const char *const sql_coverage =
    "SELECT (SELECT count(*) FROM institutions) AS schools, (SELECT count(*) FROM classes c "
    "WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.class_id = c.id AND e.enrolled_on <= "
    ":to AND (e.left_on IS NULL OR e.left_on >= :from))) AS classes, (SELECT count(DISTINCT "
    "student_id) FROM enrollments WHERE enrolled_on <= :to AND (left_on IS NULL OR left_on >= "
    ":from)) AS students, (SELECT count(DISTINCT teacher_id) FROM teaching_assignments) AS "
    "teachers";
static const char *const sql_marks_totals =
    "SELECT s.code, c.grade, count(DISTINCT m.student_id), count(*), sum(CASE WHEN m.value "
    "GLOB '[0-9]*' THEN m.weight * CAST(m.value AS REAL) END) / sum(CASE WHEN m.value GLOB "
    "'[0-9]*' THEN m.weight END) FROM lessons l JOIN marks m ON m.lesson_id = l.id JOIN "
    "classes c ON c.id = l.class_id JOIN subjects s ON s.id = l.subject_id WHERE l.date "
    "BETWEEN :from AND :to GROUP BY s.code, c.grade ORDER BY s.code, c.grade";
static const char *const sql_marks_values =
    "SELECT s.code, c.grade, m.value, count(*), count(DISTINCT m.student_id) FROM lessons l "
    "JOIN marks m ON m.lesson_id = l.id JOIN classes c ON c.id = l.class_id JOIN subjects s "
    "ON s.id = l.subject_id WHERE l.date BETWEEN :from AND :to GROUP BY s.code, c.grade, "
    "m.value";
static const char *const sql_grades =
    "SELECT c.grade, 'students', count(DISTINCT e.student_id) FROM enrollments e JOIN classes "
    "c ON c.id = e.class_id WHERE e.enrolled_on <= :to AND (e.left_on IS NULL OR e.left_on >= "
    ":from) GROUP BY c.grade "
    "UNION ALL SELECT c.grade, 'student_lessons', count(*) FROM lessons l JOIN classes c ON "
    "c.id = l.class_id JOIN enrollments e ON e.class_id = l.class_id AND e.enrolled_on <= "
    "l.date AND (e.left_on IS NULL OR e.left_on > l.date) WHERE l.date BETWEEN :from AND :to "
    "AND NOT l.cancelled GROUP BY c.grade "
    "UNION ALL SELECT c.grade, 'absences', count(*) FROM lessons l JOIN attendance a ON "
    "a.lesson_id = l.id JOIN classes c ON c.id = l.class_id WHERE l.date BETWEEN :from AND "
    ":to AND a.status IN ('absent', 'ill') GROUP BY c.grade";
static const char *const sql_homework =
    "SELECT count(*) AS assigned, (SELECT count(*) FROM homework h2 JOIN lessons l2 ON l2.id "
    "= h2.lesson_id JOIN homework_submissions s ON s.homework_id = h2.id WHERE l2.date BETWEEN "
    ":from AND :to AND s.done) AS done, (SELECT count(DISTINCT s.student_id) FROM homework h2 "
    "JOIN lessons l2 ON l2.id = h2.lesson_id JOIN homework_submissions s ON s.homework_id = "
    "h2.id WHERE l2.date BETWEEN :from AND :to AND s.done) AS students FROM homework h JOIN "
    "lessons l ON l.id = h.lesson_id WHERE l.date BETWEEN :from AND :to";
static const char *const sql_library =
    "SELECT (SELECT count(*) FROM library_items WHERE status = 'approved') AS items, (SELECT "
    "count(*) FROM lesson_items WHERE date(added_at, 'unixepoch') BETWEEN :from AND :to) + "
    "(SELECT count(*) FROM homework_items WHERE date(added_at, 'unixepoch') BETWEEN :from AND "
    ":to) AS uses, (SELECT count(*) FROM library_attempts WHERE date(created_at, 'unixepoch') "
    "BETWEEN :from AND :to) AS attempts, (SELECT count(DISTINCT person_id) FROM "
    "library_attempts WHERE date(created_at, 'unixepoch') BETWEEN :from AND :to) AS "
    "attempt_persons";
static const char *const sql_usage =
    "SELECT date(a.at, 'unixepoch') AS day, g.role, count(DISTINCT a.account_id), count(*) "
    "FROM audit_log a JOIN role_grants g ON g.account_id = a.account_id WHERE a.action = "
    "'login' AND date(a.at, 'unixepoch') BETWEEN :from AND :to GROUP BY day, g.role ORDER BY "
    "day, g.role";

/* «Москвёнок»'s volumes by day and grade. A student's grade on a day is their class's that day
 * (an enrollment ends the day before its left_on); a student in no class that day is not
 * counted. Each query goes school by school (institutions, a small table) through the
 * per-school-day indexes, so that it reads the month's rows and no others; CROSS JOIN keeps
 * that order of the loops. GRADE_OF_T joins the grade of the row `t` (student_id, day). */
#define GRADE_OF_T                                                                                 \
    " CROSS JOIN enrollments e ON e.student_id = t.student_id AND e.enrolled_on <= t.day AND "     \
    "(e.left_on IS NULL OR e.left_on > t.day) CROSS JOIN classes c ON c.id = e.class_id "
static const char *const sql_passage =
    "SELECT t.day, c.grade, count(DISTINCT CASE WHEN t.direction = 'in' THEN t.student_id END), "
    "sum(t.direction = 'in'), sum(t.direction = 'out') FROM institutions i CROSS JOIN "
    "passage_events t ON t.institution_id = i.id AND t.day BETWEEN :from AND :to" GRADE_OF_T
    "GROUP BY t.day, c.grade ORDER BY t.day, c.grade";
/* Columns: day, grade, what (a key of the row: sales, free, topups, refunds), students, count,
 * kopecks. Sales: approved ones that debited money, on the day sold; free: the complexes given
 * free by the region's rules in approved sales; top-ups and refunds: the ledger's, on the day
 * the money moved. */
static const char *const sql_meals =
    "SELECT day, grade, what, count(DISTINCT student), sum(n), sum(kopecks) FROM ("
    "SELECT t.day AS day, c.grade AS grade, 'sales' AS what, t.student_id AS student, 1 AS n, "
    "t.total AS kopecks FROM institutions i CROSS JOIN sales t ON t.institution_id = i.id AND "
    "t.day BETWEEN :from AND :to" GRADE_OF_T "WHERE t.status = 'approved' AND t.total > 0 "
    "UNION ALL SELECT t.day, c.grade, 'free', t.student_id, l.quantity, l.quantity * l.price "
    "FROM institutions i CROSS JOIN sales t ON t.institution_id = i.id AND t.day BETWEEN :from "
    "AND :to CROSS JOIN sale_lines l ON l.sale_id = t.id AND l.free = 1" GRADE_OF_T
    "WHERE t.status = 'approved' "
    "UNION ALL SELECT t.day, c.grade, CASE t.kind WHEN 'topup' THEN 'topups' ELSE 'refunds' END, "
    "t.student_id, 1, t.amount FROM institutions i CROSS JOIN ledger t ON t.institution_id = "
    "i.id AND t.day BETWEEN :from AND :to" GRADE_OF_T "WHERE t.kind IN ('topup', 'refund')) "
    "GROUP BY day, grade, what ORDER BY day, grade, what";

static void passage_rows(sqlite3_stmt *st, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:s,s:i,s:I,s:I,s:I}", "day", db_col_text(st, 0),
                                         "grade", sqlite3_column_int(st, 1), "students",
                                         (json_int_t)sqlite3_column_int64(st, 2), "entries",
                                         (json_int_t)sqlite3_column_int64(st, 3), "exits",
                                         (json_int_t)sqlite3_column_int64(st, 4)));
}

/* The cells of a day and grade's meals, each {students, count, kopecks}. */
static const char *const meals_cells[] = {"sales", "free", "topups", "refunds", NULL};

static void meals_rows(sqlite3_stmt *st, void *ctx)
{
    json_t *rows = ctx, *row = json_array_get(rows, json_array_size(rows) - 1);
    const char *day = db_col_text(st, 0);
    int grade = sqlite3_column_int(st, 1);
    if (row == NULL || strcmp(json_string_value(json_object_get(row, "day")), day) != 0 ||
        json_integer_value(json_object_get(row, "grade")) != grade) {
        row = json_pack("{s:s,s:i}", "day", day, "grade", grade);
        for (const char *const *k = meals_cells; row && *k; k++)
            json_object_set_new(row, *k,
                                json_pack("{s:I,s:I,s:I}", "students", (json_int_t)0, "count",
                                          (json_int_t)0, "kopecks", (json_int_t)0));
        if (json_array_append_new(rows, row) != 0)
            return;
    }
    json_t *cell = json_object_get(row, db_col_text(st, 2));
    json_object_set_new(cell, "students", json_integer(sqlite3_column_int64(st, 3)));
    json_object_set_new(cell, "count", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(cell, "kopecks", json_integer(sqlite3_column_int64(st, 5)));
}

/* What the queries found for one month, before suppression. */
struct report_parts {
    json_t *coverage, *homework, *library; /* one object each */
    json_t *grades;                        /* "grade" -> attendance of the grade */
    json_t *usage;                         /* [{day, role, accounts, logins}] */
    struct marks_ctx marks;
    json_t *passage; /* [{day, grade, students, entries, exits}] */
    json_t *meals;   /* [{day, grade, sales, free, topups, refunds}] */
};

static void parts_free(struct report_parts *p)
{
    json_decref(p->coverage);
    json_decref(p->homework);
    json_decref(p->library);
    json_decref(p->grades);
    json_decref(p->usage);
    json_decref(p->marks.cells);
    json_decref(p->marks.order);
    json_decref(p->passage);
    json_decref(p->meals);
}

/* Runs the queries of the month from..to into *p (freed with parts_free, also on failure).
 * 0, or -1 with err. */
static int parts_query(struct db *db, const char *from, const char *to, struct report_parts *p,
                       char *err, size_t errlen)
{
    *p = (struct report_parts){json_object(), json_object(), json_object(),
                               json_object(), json_array(),  {json_object(), json_array()},
                               json_array(),  json_array()};
    if (!p->coverage || !p->homework || !p->library || !p->grades || !p->usage || !p->marks.cells ||
        !p->marks.order || !p->passage || !p->meals) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (each_row(db, sql_coverage, from, to, one_row, p->coverage) != 0 ||
        each_row(db, sql_marks_totals, from, to, marks_totals, &p->marks) != 0 ||
        each_row(db, sql_marks_values, from, to, marks_values, &p->marks) != 0 ||
        each_row(db, sql_grades, from, to, grade_rows, p->grades) != 0 ||
        each_row(db, sql_homework, from, to, one_row, p->homework) != 0 ||
        each_row(db, sql_library, from, to, one_row, p->library) != 0 ||
        each_row(db, sql_usage, from, to, usage_rows, p->usage) != 0 ||
        each_row(db, sql_passage, from, to, passage_rows, p->passage) != 0 ||
        each_row(db, sql_meals, from, to, meals_rows, p->meals) != 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

/* ---- the report ---- */

/* Suppresses one subject and grade's cell `c`: whole when it counts fewer than k students,
 * else each mark value of its distribution given to fewer than k students (with its
 * complement, the cell's counts being its total). -1 when out of memory. */
static int suppress_marks_cell(json_t *c, long k)
{
    json_t *dist = json_object_get(c, "distribution"), *b;
    size_t n = json_object_size(dist), j = 0;
    struct report_cell *cells = calloc(n ? n : 1, sizeof(*cells));
    if (cells == NULL)
        return -1;
    const char *value;
    json_object_foreach(dist, value, b)
    {
        cells[j++].persons = persons(b, "students");
    }
    if (report_suppress(cells, n, persons(c, "students"), k)) {
        static const char *const keep[] = {"subject", "grade", NULL};
        blank(c, keep);
    } else {
        static const char *const none[] = {NULL};
        j = 0;
        json_object_foreach(dist, value, b)
        {
            if (cells[j++].suppressed)
                blank(b, none);
        }
    }
    free(cells);
    return 0;
}

/* The report's "marks": every subject and grade in order, suppressed. NULL when out of memory. */
static json_t *marks_part(struct marks_ctx *mc, long k)
{
    json_t *marks = json_array(), *key;
    size_t i;
    if (marks == NULL)
        return NULL;
    json_array_foreach(mc->order, i, key)
    {
        json_t *c = json_object_get(mc->cells, json_string_value(key));
        if (json_array_append(marks, c) != 0 || suppress_marks_cell(c, k) != 0) {
            json_decref(marks);
            return NULL;
        }
    }
    return marks;
}

/* The share of student-lessons attended, to 4 decimals; null without any. */
static json_t *attendance_rate(json_int_t student_lessons, json_int_t absences)
{
    if (student_lessons <= 0)
        return json_null();
    double rate = 1.0 - (double)absences / (double)student_lessons;
    return json_real((double)(int)(rate * 10000 + 0.5) / 10000);
}

/* The report's "attendance": {"grades": each grade with its rate, "total": the region's}. A
 * grade of fewer than k students is suppressed with its complement; the total when it counts
 * fewer than k. NULL when out of memory. */
static json_t *attendance_part(json_t *grades, long k)
{
    size_t n = json_object_size(grades), j = 0;
    struct report_cell *cells = calloc(n ? n : 1, sizeof(*cells));
    json_t *list = json_array(), *g;
    json_int_t lessons = 0, absences = 0, students = 0;
    const char *gk;
    if (cells == NULL || list == NULL)
        goto oom;
    json_object_foreach(grades, gk, g)
    {
        json_int_t sl = json_integer_value(json_object_get(g, "student_lessons"));
        json_int_t ab = json_integer_value(json_object_get(g, "absences"));
        lessons += sl;
        absences += ab;
        students += json_integer_value(json_object_get(g, "students"));
        json_object_set_new(g, "rate", attendance_rate(sl, ab));
        if (json_array_append(list, g) != 0)
            goto oom;
        cells[j++].persons = persons(g, "students");
    }
    bool total_hidden = report_suppress(cells, n, (long)students, k);
    static const char *const keep[] = {"grade", NULL}, *const none[] = {NULL};
    json_array_foreach(list, j, g)
    {
        if (cells[j].suppressed)
            blank(g, keep);
    }
    json_t *total = json_pack("{s:I,s:I,s:I,s:o}", "students", students, "student_lessons", lessons,
                              "absences", absences, "rate", attendance_rate(lessons, absences));
    if (total != NULL && total_hidden)
        blank(total, none);
    free(cells);
    if (total == NULL) {
        json_decref(list);
        return NULL;
    }
    return json_pack("{s:o,s:o}", "grades", list, "total", total);
oom:
    free(cells);
    json_decref(list);
    return NULL;
}

/* Suppresses the one cell `obj`, but for the keys in `keep`, when the persons under `key` are
 * fewer than k. */
static void suppress_single(json_t *obj, const char *key, long k, const char *const *keep)
{
    struct report_cell c = {.persons = persons(obj, key)};
    report_suppress(&c, 1, REPORT_NO_TOTAL, k);
    if (c.suppressed)
        blank(obj, keep);
}

/* Homework done, library attempts, each day's logins per role, each day and grade's passage
 * (by the students who entered) and each of its meals' cells (by the students it counts, its
 * money with it): fewer than k persons and the counts go. None of these rows has a published
 * total, so no complement goes with them. */
static void suppress_singles(struct report_parts *p, long k)
{
    static const char *const homework[] = {"assigned", NULL},
                             *const library[] = {"items", "uses", NULL},
                             *const usage[] = {"day", "role", NULL},
                             *const day_grade[] = {"day", "grade", NULL}, *const none[] = {NULL};
    suppress_single(p->homework, "students", k, homework);
    suppress_single(p->library, "attempt_persons", k, library);
    size_t i;
    json_t *u;
    json_array_foreach(p->usage, i, u)
    {
        suppress_single(u, "accounts", k, usage);
    }
    json_array_foreach(p->passage, i, u)
    {
        suppress_single(u, "students", k, day_grade);
    }
    json_array_foreach(p->meals, i, u)
    {
        for (const char *const *c = meals_cells; *c; c++)
            suppress_single(json_object_get(u, *c), "students", k, none);
    }
}

json_t *report_build(struct db *db, const struct mes_config *cfg, const char *month, char *err,
                     size_t errlen)
{
    char from[11], to[11];
    if (month_range(month, from, to) != 0) {
        snprintf(err, errlen, "the period is a month, YYYY-MM");
        return NULL;
    }
    long k = cfg->federation.k_suppression;
    struct report_parts p;
    json_t *report = NULL, *marks = NULL, *attendance = NULL;
    if (parts_query(db, from, to, &p, err, errlen) != 0)
        goto out;
    if ((marks = marks_part(&p.marks, k)) == NULL ||
        (attendance = attendance_part(p.grades, k)) == NULL) {
        json_decref(marks);
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    suppress_singles(&p, k);
    report = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:I,s:i,s:O,s:o,s:o,s:O,s:O,s:O,s:O,s:O}",
                       "format", "mes-report-1", "region", cfg->region.code, "region_name",
                       cfg->region.name, "period", "month", month, "from", from, "to", to,
                       "created", (json_int_t)time(NULL), "k", (int)k, "coverage", p.coverage,
                       "marks", marks, "attendance", attendance, "homework", p.homework, "library",
                       p.library, "usage", p.usage, "passage", p.passage, "meals", p.meals);
    if (report == NULL)
        snprintf(err, errlen, "out of memory");
out:
    parts_free(&p);
    return report;
}

/* The write of report_queue: the next sequence number into the report, its text signed (an
 * Ed25519 signature: microseconds) and appended to the outbox. */
struct queued {
    json_t *report;
    const struct mes_config *cfg;
    const struct ms_secret *sk;
    const char *month;
    int64_t sequence;
    char *err;
    size_t errlen;
};

static int queue_write(struct db *db, void *ctx)
{
    struct queued *q = ctx;
    if (db_int(db, &q->sequence, "SELECT coalesce(max(sequence), 0) + 1 FROM fed_outbox", NULL) !=
        SQLITE_ROW)
        return snprintf(q->err, q->errlen, "database: %s", db_errmsg(db)), -1;
    json_object_set_new(q->report, "sequence", json_integer(q->sequence));
    char *text = json_dumps(q->report, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
    char trusted[160];
    snprintf(trusted, sizeof(trusted), "mes report region=%s sequence=%lld period=%s",
             q->cfg->region.code, (long long)q->sequence, q->month);
    char *sig = text ? ms_sign(q->sk, text, strlen(text), "mes statistics report", trusted) : NULL;
    int rc = -1;
    if (sig == NULL)
        snprintf(q->err, q->errlen, "out of memory");
    else if (db_run(db,
                    "INSERT INTO fed_outbox (sequence, period, created_at, body, signature) "
                    "VALUES (:s, :p, unixepoch(), :b, :sig)",
                    DB_ARGS(DB_INT(":s", q->sequence), DB_TEXT(":p", q->month),
                            DB_BLOB(":b", text, (int)strlen(text)), DB_TEXT(":sig", sig))) !=
             SQLITE_DONE)
        snprintf(q->err, q->errlen, "database: %s", db_errmsg(db));
    else
        rc = 0;
    free(text);
    free(sig);
    return rc;
}

int report_queue(struct db *db, struct writer *w, const struct mes_config *cfg,
                 const struct ms_secret *sk, const char *month, int64_t *sequence, char *err,
                 size_t errlen)
{
    /* The month's aggregates in one read snapshot, outside the write lock (a region's month
     * reads millions of marks); then one short write through the writer. */
    if (db_begin_read(db) != SQLITE_OK) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    json_t *report = report_build(db, cfg, month, err, errlen);
    db_rollback(db);
    if (report == NULL)
        return -1;
    err[0] = '\0';
    struct queued q = {
        .report = report, .cfg = cfg, .sk = sk, .month = month, .err = err, .errlen = errlen};
    int rc = writer_call(w, db, queue_write, &q);
    json_decref(report);
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "the write failed (storage busy or failing: logged)");
        return -1;
    }
    *sequence = q.sequence;
    return 0;
}

/* Whether the hub's answer refuses a report for good: 400 (not a report, a bad signature, a
 * malformed section) or 409 (other content under its sequence). Anything else (401 and 403,
 * a region not enrolled yet or a key being rotated; 5xx; no answer) may pass later. */
static bool refused_for_good(long status)
{
    return status == 400 || status == 409;
}

int report_push(struct node *n, struct db *db, int due_only, long *sent, char *err, size_t errlen)
{
    *sent = 0;
    char refusal[512] = ""; /* the first report the hub refused in this push, and why */
    for (;;) {
        sqlite3_stmt *st = db_query(db,
                                    "SELECT sequence, body, signature, attempts FROM fed_outbox "
                                    "WHERE sent_at IS NULL AND refused_at IS NULL AND (:all OR "
                                    "next_attempt <= unixepoch()) ORDER BY sequence LIMIT 1",
                                    DB_ARGS(DB_INT(":all", !due_only)));
        int rc;
        if (!db_next(st, &rc)) {
            if (rc != SQLITE_DONE) {
                snprintf(err, errlen, "database: %s", db_errmsg(db));
                return -1;
            }
            if (refusal[0] == '\0')
                return 0;
            snprintf(err, errlen, "%s", refusal);
            return -1;
        }
        int64_t seq = sqlite3_column_int64(st, 0);
        int attempts = sqlite3_column_int(st, 3);
        json_t *body =
            json_pack("{s:s%,s:s}", "report", (const char *)sqlite3_column_blob(st, 1),
                      (size_t)sqlite3_column_bytes(st, 1), "signature", db_col_text(st, 2));
        sqlite3_reset(st);
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        err[0] = '\0';
        long status = text ? fed_hub_post(n, "/federation/v1/reports", NULL, text, strlen(text),
                                          NULL, err, errlen)
                           : -1;
        free(text);
        bool ok = status == 200 || status == 201;
        if (status > 0 && !ok && err[0] == '\0')
            snprintf(err, errlen, "the hub answered %ld", status);
        if (!ok && refused_for_good(status)) {
            /* Kept with the hub's answer, never sent again: the next report goes on. */
            log_error("federation: report %lld refused by the hub: %s", (long long)seq, err);
            if (refusal[0] == '\0')
                snprintf(refusal, sizeof(refusal), "report %lld refused by the hub: %s",
                         (long long)seq, err);
            if (db_run(db,
                       "UPDATE fed_outbox SET refused_at = unixepoch(), attempts = attempts + 1, "
                       "last_error = :e WHERE sequence = :s",
                       DB_ARGS(DB_INT(":s", seq), DB_TEXT(":e", err))) != SQLITE_DONE) {
                snprintf(err, errlen, "database: %s", db_errmsg(db));
                return -1;
            }
            continue;
        }
        if (!ok) {
            int64_t wait = attempts >= 9 ? 6 * 3600 : (int64_t)60 << attempts;
            db_run(db,
                   "UPDATE fed_outbox SET attempts = attempts + 1, next_attempt = unixepoch() + "
                   ":wait, last_error = :e WHERE sequence = :s",
                   DB_ARGS(DB_INT(":s", seq), DB_INT(":wait", wait > 6 * 3600 ? 6 * 3600 : wait),
                           DB_TEXT(":e", err)));
            /* err says why the push failed; a failure to note it is logged by db_run, and
             * the report is simply tried again sooner. */
            return -1;
        }
        if (db_run(db,
                   "UPDATE fed_outbox SET sent_at = unixepoch(), attempts = attempts + 1, "
                   "last_error = '' WHERE sequence = :s",
                   DB_ARGS(DB_INT(":s", seq))) != SQLITE_DONE) {
            snprintf(err, errlen, "database: %s", db_errmsg(db));
            return -1;
        }
        (*sent)++;
    }
}

/* ---- the hub's side ---- */

/* The shape of a row of cells the hub checks: its counts, the first the persons it counts, the
 * second never fewer than those (each person counted did it once at least), the others whole
 * numbers of 0 or more. */
struct cell_shape {
    const char *const *counts;
    const char *const *fixed; /* the other keys of the cell, checked by the caller; NULL: none */
};

/* Whether `key` is one of `keys` (NULL-terminated; NULL: none). */
static bool key_in(const char *key, const char *const *keys)
{
    for (; keys && *keys; keys++)
        if (strcmp(key, *keys) == 0)
            return true;
    return false;
}

/* Checks a cell against its shape: published, every count as above and the persons at least k;
 * suppressed ("suppressed": true), every count null; no other key. NULL when it is well formed,
 * else what is wrong (with the key it concerns in *key, or NULL). */
static const char *cell_problem(json_t *cell, const struct cell_shape *shape, json_int_t k,
                                const char **key)
{
    *key = NULL;
    if (cell == NULL)
        return "is missing";
    if (!json_is_object(cell))
        return "is not an object";
    json_t *flag = json_object_get(cell, "suppressed"), *v;
    if (flag != NULL && !json_is_true(flag))
        return *key = "suppressed", "is true or absent";
    const char *name;
    json_object_foreach(cell, name, v)
    {
        if (strcmp(name, "suppressed") != 0 && !key_in(name, shape->counts) &&
            !key_in(name, shape->fixed))
            return *key = name, "is not a key of the cell";
    }
    json_int_t persons = 0;
    for (const char *const *c = shape->counts; *c; c++) {
        v = json_object_get(cell, *key = *c);
        if (v == NULL)
            return "is missing";
        if (flag != NULL) {
            if (!json_is_null(v))
                return "is shown in a suppressed cell";
            continue;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return "is not a whole number of 0 or more";
        if (c == shape->counts && (persons = json_integer_value(v)) < k)
            return "counts fewer than k persons: the cell should be suppressed";
        if (c == shape->counts + 1 && json_integer_value(v) < persons)
            return "is smaller than the persons the cell counts";
    }
    *key = NULL;
    return NULL;
}

/* The day `v` of a row when it is a day of the month from..to (YYYY-MM-DD): its day of the
 * month, else 0. */
static int day_of(json_t *v, const char *from, const char *to)
{
    const char *d = json_string_value(v);
    if (d == NULL || strlen(d) != 10 || strncmp(d, from, 8) != 0 ||
        strspn(d + 8, "0123456789") != 2 || strcmp(d, from) < 0 || strcmp(d, to) > 0)
        return 0;
    return (d[8] - '0') * 10 + (d[9] - '0');
}

/* Checks section `name` of the report `rep` of `month`, when the report carries it: an array of
 * rows, each of a day of the month and a grade (1 to 11), each day and grade once; a passage
 * row is one cell (students who entered, entries, exits), a meals row holds the cells of
 * meals_cells (students, count, kopecks). 0, or -1 with what is wrong in why. */
static int section_check(json_t *rep, const char *name, const char *month, char *why, size_t whylen)
{
    static const char *const passage_counts[] = {"students", "entries", "exits", NULL},
                             *const meals_counts[] = {"students", "count", "kopecks", NULL},
                             *const day_grade[] = {"day", "grade", NULL};
    static const struct cell_shape passage = {passage_counts, day_grade},
                                   meal = {meals_counts, NULL};
    json_t *rows = json_object_get(rep, name), *row;
    if (rows == NULL)
        return 0;
    char from[11], to[11];
    json_t *kv = json_object_get(rep, "k");
    json_int_t k = json_integer_value(kv);
    if (month_range(month, from, to) != 0)
        return snprintf(why, whylen, "%s: period.month is not a month", name), -1;
    if (!json_is_integer(kv) || k < 2 || k > 1000)
        return snprintf(why, whylen, "%s: the report's k is not 2 to 1000", name), -1;
    if (!json_is_array(rows))
        return snprintf(why, whylen, "%s: not an array of rows", name), -1;
    bool seen[32][12] = {{false}};
    bool is_passage = strcmp(name, "passage") == 0;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        json_t *g = json_object_get(row, "grade");
        int day = day_of(json_object_get(row, "day"), from, to);
        json_int_t grade = json_is_integer(g) ? json_integer_value(g) : 0;
        const char *problem = NULL, *key = NULL, *cell = NULL;
        if (!json_is_object(row))
            problem = "is not an object";
        else if (day == 0)
            key = "day", problem = "is not a day of the report's month";
        else if (grade < 1 || grade > 11)
            key = "grade", problem = "is not a grade from 1 to 11";
        else if (seen[day][grade])
            key = "day", problem = "and grade come twice";
        else if (is_passage)
            problem = cell_problem(row, &passage, k, &key);
        else {
            const char *k2;
            json_t *v;
            json_object_foreach(row, k2, v)
            {
                if (!key_in(k2, day_grade) && !key_in(k2, meals_cells)) {
                    key = k2, problem = "is not a key of the row";
                    break;
                }
            }
            for (const char *const *c = meals_cells; problem == NULL && *c; c++)
                if ((problem = cell_problem(json_object_get(row, *c), &meal, k, &key)) != NULL)
                    cell = *c;
        }
        if (problem != NULL) {
            snprintf(why, whylen, "%s[%zu]%s%s%s%.64s: %s", name, i, cell ? "." : "",
                     cell ? cell : "", key ? "." : "", key ? key : "", problem);
            return -1;
        }
        seen[day][grade] = true;
    }
    return 0;
}

int report_check(const char *text, size_t len, const char *region, int64_t *sequence, char month[8],
                 char *why, size_t whylen)
{
    json_t *rep =
        input_json_loadb(text, len, JSON_REJECT_DUPLICATES, INPUT_JSON_DEPTH_DOCUMENTS, NULL);
    const char *format = NULL, *from = NULL, *m = NULL;
    json_int_t seq = 0;
    char scratch[8];
    int rc = -1;
    if (why == NULL || whylen == 0)
        why = scratch, whylen = sizeof(scratch);
    if (json_unpack(rep, "{s:s,s:s,s:I,s:{s:s}}", "format", &format, "region", &from, "sequence",
                    &seq, "period", "month", &m) == 0 &&
        strcmp(format, "mes-report-1") == 0 && seq >= 1 && strlen(m) == 7 && m[4] == '-' &&
        strspn(m, "0123456789-") == 7) {
        rc = strcmp(from, region) != 0 ? 1
             : section_check(rep, "passage", m, why, whylen) != 0 ||
                     section_check(rep, "meals", m, why, whylen) != 0
                 ? -2
                 : 0;
        *sequence = seq;
        memcpy(month, m, 8);
    }
    json_decref(rep);
    return rc;
}

int report_verify(const void *body, size_t len, const struct ms_public *pk, const char *region,
                  struct report_received *out, char *err, size_t errlen)
{
    char why[256];
    struct ms_sig *sig = NULL;
    int verdict = REPORT_OK;
    memset(out, 0, sizeof(*out));
    out->doc =
        input_json_loadb(body, len, JSON_REJECT_DUPLICATES, INPUT_JSON_DEPTH_DOCUMENTS, NULL);
    if (json_unpack(out->doc, "{s:s%,s:s}", "report", &out->text, &out->len, "signature",
                    &out->signature) != 0) {
        snprintf(err, errlen, "the body is {\"report\": ..., \"signature\": ...}");
        verdict = REPORT_BAD_BODY;
        goto out;
    }
    /* A parsed signature holds its trusted comment (8 KiB): not on a worker's stack. */
    if ((sig = malloc(sizeof(*sig))) == NULL ||
        ms_verify(pk, out->text, out->len, out->signature, strlen(out->signature), sig, why,
                  sizeof(why)) != 0) {
        snprintf(err, errlen, "the report's signature: %s", sig ? why : "out of memory");
        verdict = REPORT_BAD_SIGNATURE;
        goto out;
    }
    int check =
        report_check(out->text, out->len, region, &out->sequence, out->month, why, sizeof(why));
    if (check == -2) {
        snprintf(err, errlen, "a section of the report is malformed: %s", why);
        verdict = REPORT_BAD_SECTION;
    } else if (check != 0) {
        snprintf(err, errlen, "%s",
                 check > 0 ? "a region sends only its own reports"
                           : "not a report (format, region, sequence, period.month)");
        verdict = check > 0 ? REPORT_FOREIGN : REPORT_NOT_A_REPORT;
    }
out:
    free(sig);
    if (verdict != REPORT_OK) {
        json_decref(out->doc);
        memset(out, 0, sizeof(*out));
    }
    return verdict;
}

/* A received report, verified by reports_verify for reports_receive. */
struct received {
    char code[16];
    struct report_received rep;
    unsigned char hash[32]; /* BLAKE2b-256 of the report's text */
};

static void received_free(void *p)
{
    struct received *got = p;
    if (got != NULL)
        json_decref(got->rep.doc);
    free(got);
}

/* The prepare step of POST /federation/v1/reports, on the worker thread before the writer
 * (the dispatcher has checked the request's signature by an enrolled region): the report's
 * own signature (report_verify) and its hash; the writer only inserts. 0 with r->prep set, or
 * the status of the reply made. */
static int reports_verify(struct req *r)
{
    struct received *got = calloc(1, sizeof(*got));
    if (got == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    r->prep = got;
    r->prep_free = received_free;
    snprintf(got->code, sizeof(got->code), "%s", r->caller.node_code);
    struct ms_public pk;
    fed_caller_key(r, &pk);
    size_t len = 0;
    unsigned char *raw = upload_bytes(r->upload, &len);
    if (raw == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    char why[512];
    int verdict = report_verify(raw, len, &pk, got->code, &got->rep, why, sizeof(why));
    free(raw);
    if (verdict != REPORT_OK)
        return reply_error(r, verdict == REPORT_FOREIGN ? 403 : 400,
                           verdict == REPORT_FOREIGN       ? "forbidden"
                           : verdict == REPORT_BAD_SECTION ? "bad_section"
                                                           : "bad_request",
                           "%s", why);
    crypto_generichash(got->hash, sizeof(got->hash), (const unsigned char *)got->rep.text,
                       got->rep.len, NULL, 0);
    return 0;
}

/* POST /federation/v1/reports {"report": JSON text, "signature": minisig}: an enrolled
 * region's signed report (verified by reports_verify), kept once per (region, sequence): the
 * same again answers 200, other content under a number already taken 409. */
static int reports_receive(struct req *r)
{
    const struct received *got = r->prep;
    const struct report_received *rep = &got->rep;
    int rc =
        db_run(r->db,
               "INSERT INTO fed_reports (region, sequence, period, hash, body, signature) "
               "VALUES (:r, :s, :p, :h, :b, :sig) ON CONFLICT DO NOTHING",
               DB_ARGS(DB_TEXT(":r", got->code), DB_INT(":s", rep->sequence),
                       DB_TEXT(":p", rep->month), DB_BLOB(":h", got->hash, 32),
                       DB_BLOB(":b", rep->text, (int)rep->len), DB_TEXT(":sig", rep->signature)));
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) == 1)
        return reply_json(r, 201,
                          json_pack("{s:s,s:I,s:s}", "region", got->code, "sequence",
                                    (json_int_t)rep->sequence, "status", "accepted"));
    int same = db_exists(r->db,
                         "SELECT 1 FROM fed_reports WHERE region = :r AND sequence = :s AND "
                         "hash = :h",
                         DB_ARGS(DB_TEXT(":r", got->code), DB_INT(":s", rep->sequence),
                                 DB_BLOB(":h", got->hash, 32)));
    if (same < 0)
        return reply_db_error(r);
    return same ? reply_json(r, 200,
                             json_pack("{s:s,s:I,s:s}", "region", got->code, "sequence",
                                       (json_int_t)rep->sequence, "status", "duplicate"))
                : reply_error(r, 409, "conflict",
                              "report %lld of region %s was received with other content",
                              (long long)rep->sequence, got->code);
}

const struct route report_routes[] = {
    {.method = "POST",
     .path = "/federation/v1/reports",
     .handler = reports_receive,
     .access = ACCESS_NODE,
     .writes = true,
     .name = "federation_report",
     .upload = true,
     .signer = SIGNER_REGION,
     .prepare = reports_verify},
    {0},
};
