/*
 * The Ministry's view at the hub (PRODUCT.md section 4, "Ministry reports"): cross-region
 * tables, CSV and SVG charts computed only from the reports the regions sent (fed_reports),
 * each region's latest report of a month (coverage, marks, «Москвёнок»'s passage and meals
 * volumes), and every region's freshness. Suppressed cells stay out of every sum and average:
 * the hub never sees what a region withheld.
 */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "federation/report.h"
#include "http.h"
#include "lib/input.h"
#include "log.h"
#include "node.h"

#define READERS (ROLE_MINISTRY | ROLE_ADMIN)

/* The month asked for (?period=YYYY-MM), or the latest month any region reported. 0, or -1
 * after answering. */
static int period_or_respond(struct req *r, char month[8])
{
    if (r->node->cfg.mode != NODE_HUB)
        return reply_error(r, 404, "not_found", "the Ministry's reports are at the hub"), -1;
    char p[16] = "";
    req_query(r, "period", p, sizeof(p));
    if (p[0] != '\0') {
        int y, m;
        char extra;
        if (strlen(p) != 7 || sscanf(p, "%4d-%2d%c", &y, &m, &extra) != 2 || m < 1 || m > 12)
            return reply_error(r, 400, "bad_request", "period is a month, YYYY-MM"), -1;
        memcpy(month, p, 8); /* 7 characters and the NUL, checked above */
        return 0;
    }
    char *latest = NULL; /* "" when no region reported yet */
    if (db_text(r->db, &latest, "SELECT max(period) FROM fed_reports", NULL) != SQLITE_ROW)
        return reply_db_error(r), -1;
    snprintf(month, 8, "%s", latest);
    free(latest);
    return 0;
}

/* Each region's latest report of `month`, parsed, in region order: [{"region", "received_at",
 * "report"}]. NULL on a database error (or out of memory). */
static json_t *latest_reports(struct req *r, const char *month)
{
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT f.region, f.received_at, f.body, coalesce(g.name, '') FROM fed_reports f LEFT JOIN "
        "fed_regions g ON g.code = f.region WHERE f.period = :p AND f.sequence = (SELECT "
        "max(sequence) FROM fed_reports WHERE region = f.region AND period = :p) ORDER BY f.region",
        DB_ARGS(DB_TEXT(":p", month)));
    json_t *out = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *rep =
            input_json_loadb(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), 0,
                             INPUT_JSON_DEPTH_DOCUMENTS, NULL);
        if (rep == NULL) { /* verified when received; never expected */
            log_error("ministry: region %s's report of %s is not JSON: left out",
                      db_col_text(st, 0), month);
            continue;
        }
        const char *name = db_col_text(st, 3);
        if (name[0] == '\0')
            name = json_string_value(json_object_get(rep, "region_name"));
        json_array_append_new(out,
                              json_pack("{s:s,s:s,s:I,s:o}", "region", db_col_text(st, 0), "name",
                                        name ? name : "", "received_at",
                                        (json_int_t)sqlite3_column_int64(st, 1), "report", rep));
    }
    if (rc != SQLITE_DONE || out == NULL) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* A number at a path of objects, or NAN when absent or suppressed (null). */
static double num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b != NULL)
        v = json_object_get(v, b);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The marks-weighted average over a report's published cells (optionally of one subject). */
static double marks_average(json_t *rep, const char *subject, double *marks_out)
{
    double sum = 0, marks = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(rep, "marks"), i, c)
    {
        const char *s = json_string_value(json_object_get(c, "subject"));
        double avg = num(c, "weighted_average", NULL), n = num(c, "marks", NULL);
        if ((subject && (s == NULL || strcmp(s, subject) != 0)) || isnan(avg) || isnan(n))
            continue;
        sum += avg * n;
        marks += n;
    }
    if (marks_out)
        *marks_out = marks;
    return marks > 0 ? sum / marks : NAN;
}

static double logins(json_t *rep)
{
    double total = 0;
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(rep, "usage"), i, u)
    {
        double n = num(u, "logins", NULL);
        if (!isnan(n))
            total += n;
    }
    return total;
}

static json_t *jnum(double v, int decimals)
{
    if (isnan(v))
        return json_null();
    double f = pow(10, decimals);
    return decimals ? json_real(round(v * f) / f) : json_integer((json_int_t)v);
}

json_t *ministry_row(json_t *rep, json_t *region, json_t *name, json_t *received_at)
{
    json_t *cov = json_object_get(rep, "coverage");
    return json_pack("{s:O,s:O,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:O}", "region", region, "name",
                     name, "schools", jnum(num(cov, "schools", NULL), 0), "classes",
                     jnum(num(cov, "classes", NULL), 0), "students",
                     jnum(num(cov, "students", NULL), 0), "teachers",
                     jnum(num(cov, "teachers", NULL), 0), "average_mark",
                     jnum(marks_average(rep, NULL, NULL), 2), "attendance_rate",
                     jnum(num(json_object_get(rep, "attendance"), "total", "rate"), 4),
                     "homework_assigned", jnum(num(rep, "homework", "assigned"), 0), "library_uses",
                     jnum(num(rep, "library", "uses"), 0), "logins", jnum(logins(rep), 0),
                     "received_at", received_at);
}

/* One row per region of the month's summary. */
static json_t *summary_rows(json_t *reports)
{
    json_t *rows = json_array(), *x;
    size_t i;
    json_array_foreach(reports, i, x) json_array_append_new(
        rows, ministry_row(json_object_get(x, "report"), json_object_get(x, "region"),
                           json_object_get(x, "name"), json_object_get(x, "received_at")));
    return rows;
}

/* Answers rows as CSV (RFC 4180, UTF-8 with a BOM for spreadsheets), columns in `cols`. */
static int reply_csv(struct req *r, json_t *rows, const char *const *cols, const char *file)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        json_decref(rows);
        return reply_error(r, 503, "unavailable", "out of memory");
    }
    fputs("\xEF\xBB\xBF", f);
    for (const char *const *c = cols; *c; c++)
        fprintf(f, "%s%s", c == cols ? "" : ",", *c);
    fputs("\r\n", f);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (const char *const *c = cols; *c; c++) {
            json_t *v = json_object_get(row, *c);
            if (c != cols)
                fputc(',', f);
            if (json_is_string(v)) {
                fputc('"', f);
                for (const char *p = json_string_value(v); *p; p++) {
                    if (*p == '"')
                        fputc('"', f);
                    fputc(*p, f);
                }
                fputc('"', f);
            } else if (json_is_integer(v)) {
                fprintf(f, "%lld", (long long)json_integer_value(v));
            } else if (json_is_real(v)) {
                fprintf(f, "%g", json_real_value(v));
            }
        }
        fputs("\r\n", f);
    }
    fclose(f);
    json_decref(rows);
    reply_header(r, "Content-Disposition", "attachment; filename=\"%s\"", file);
    return reply_raw(r, 200, "text/csv; charset=utf-8", buf, len, true);
}

/* GET /api/v1/ministry/summary?period=YYYY-MM[&format=csv]: one row per region. */
static int ministry_summary(struct req *r)
{
    char month[8], format[8] = "";
    if (period_or_respond(r, month) != 0)
        return r->status;
    req_query(r, "format", format, sizeof(format));
    json_t *reports = latest_reports(r, month);
    if (reports == NULL)
        return reply_db_error(r);
    json_t *rows = summary_rows(reports);
    json_decref(reports);
    if (strcmp(format, "csv") == 0) {
        static const char *const cols[] = {"region",
                                           "name",
                                           "schools",
                                           "classes",
                                           "students",
                                           "teachers",
                                           "average_mark",
                                           "attendance_rate",
                                           "homework_assigned",
                                           "library_uses",
                                           "logins",
                                           NULL};
        char file[48];
        snprintf(file, sizeof(file), "mes-summary-%s.csv", month);
        return reply_csv(r, rows, cols, file);
    }
    return reply_json(r, 200, json_pack("{s:s,s:o}", "period", month, "regions", rows));
}

/* The name of the subject `code` in the hub's own list (the federal subjects every node seeds,
 * and any the hub added), as a JSON string; a code the hub does not know (a region's own
 * subject) names itself. NULL on a database error. */
static json_t *subject_name(struct req *r, const char *code)
{
    char *name = NULL;
    int rc = db_text(r->db, &name, "SELECT name FROM subjects WHERE code = :c",
                     DB_ARGS(DB_TEXT(":c", code)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return NULL;
    json_t *out = json_string(name && name[0] ? name : code);
    free(name);
    return out;
}

/* GET /api/v1/ministry/subjects?period=YYYY-MM[&format=csv]: each region's marks-weighted
 * average per subject, over the cells it published, with the region's and the subject's
 * names beside their codes. */
static int ministry_subjects(struct req *r)
{
    char month[8], format[8] = "";
    if (period_or_respond(r, month) != 0)
        return r->status;
    req_query(r, "format", format, sizeof(format));
    json_t *reports = latest_reports(r, month);
    if (reports == NULL)
        return reply_db_error(r);
    json_t *rows = json_array(), *x, *c;
    size_t i, j;
    json_array_foreach(reports, i, x)
    {
        json_t *rep = json_object_get(x, "report"), *seen = json_object();
        json_array_foreach(json_object_get(rep, "marks"), j, c)
        {
            const char *s = json_string_value(json_object_get(c, "subject"));
            if (s == NULL || json_object_get(seen, s))
                continue;
            json_object_set_new(seen, s, json_true());
            double marks = 0, avg = marks_average(rep, s, &marks);
            json_t *name = subject_name(r, s);
            if (name == NULL) {
                json_decref(seen);
                json_decref(rows);
                json_decref(reports);
                return reply_db_error(r);
            }
            json_array_append_new(rows, json_pack("{s:O,s:O,s:s,s:o,s:o,s:o}", "region",
                                                  json_object_get(x, "region"), "region_name",
                                                  json_object_get(x, "name"), "subject", s,
                                                  "subject_name", name, "average_mark",
                                                  jnum(avg, 2), "marks", jnum(marks, 0)));
        }
        json_decref(seen);
    }
    json_decref(reports);
    if (strcmp(format, "csv") == 0) {
        static const char *const cols[] = {"region",       "region_name", "subject", "subject_name",
                                           "average_mark", "marks",       NULL};
        char file[48];
        snprintf(file, sizeof(file), "mes-subjects-%s.csv", month);
        return reply_csv(r, rows, cols, file);
    }
    return reply_json(r, 200, json_pack("{s:s,s:o}", "period", month, "rows", rows));
}

/* GET /api/v1/ministry/regions: every enrolled region and when it last reported. */
static int ministry_regions(struct req *r)
{
    if (r->node->cfg.mode != NODE_HUB)
        return reply_error(r, 404, "not_found", "the Ministry's reports are at the hub");
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT g.code, g.name, g.enrolled_at, (SELECT max(received_at) FROM fed_reports WHERE "
        "region = g.code), (SELECT max(sequence) FROM fed_reports WHERE region = g.code), (SELECT "
        "max(period) FROM fed_reports WHERE region = g.code) FROM fed_regions g ORDER BY g.code",
        NULL);
    json_t *items = json_array();
    time_t now = time(NULL);
    int rc;
    while (db_next(st, &rc)) {
        bool reported = sqlite3_column_type(st, 3) != SQLITE_NULL;
        int64_t last = sqlite3_column_int64(st, 3);
        json_array_append_new(
            items,
            json_pack(
                "{s:s,s:s,s:I,s:o,s:o,s:o,s:o}", "region", db_col_text(st, 0), "name",
                db_col_text(st, 1), "enrolled_at", (json_int_t)sqlite3_column_int64(st, 2),
                "last_report_at", reported ? json_integer(last) : json_null(), "last_sequence",
                reported ? json_integer(sqlite3_column_int64(st, 4)) : json_null(), "last_period",
                reported ? json_string(db_col_text(st, 5)) : json_null(), "days_since_report",
                reported ? json_integer((json_int_t)((now - last) / 86400)) : json_null()));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* ---- «Москвёнок»'s volumes ---- */

/* The volumes of a day or a month, summed over the published cells of the reports' "passage"
 * and "meals" sections (docs/federation.md, "Reports"): the key of each figure, and where it
 * comes from (the section, the cell of a row, NULL for the row itself, and its count). */
static const struct {
    const char *key, *section, *cell, *count;
} volume[] = {
    {"students_entered", "passage", NULL, "students"},
    {"entries", "passage", NULL, "entries"},
    {"exits", "passage", NULL, "exits"},
    {"sales", "meals", "sales", "count"},
    {"sales_kopecks", "meals", "sales", "kopecks"},
    {"free_meals", "meals", "free", "count"},
    {"free_kopecks", "meals", "free", "kopecks"},
    {"topups", "meals", "topups", "count"},
    {"topups_kopecks", "meals", "topups", "kopecks"},
    {"refunds", "meals", "refunds", "count"},
    {"refunds_kopecks", "meals", "refunds", "kopecks"},
};
#define VOLUMES (sizeof(volume) / sizeof(volume[0]))

/* One report's volumes by day of its month (1 to 31): whether the report has a row of the day,
 * and each figure's sum with whether any published cell gave it. */
struct volumes {
    bool day[32];
    bool has[32][VOLUMES];
    json_int_t sum[32][VOLUMES];
};

/* The day of the month of `day` ("YYYY-MM-DD") when it is in `month`, else 0. */
static int month_day(const char *day, const char *month)
{
    if (day == NULL || strlen(day) != 10 || strncmp(day, month, 7) != 0 || day[7] != '-' ||
        strspn(day + 8, "0123456789") != 2)
        return 0;
    int d = (day[8] - '0') * 10 + (day[9] - '0');
    return d >= 1 && d <= 31 ? d : 0;
}

/* a + b for counts (never below 0), held at the largest integer rather than overflowing. */
static json_int_t add_counts(json_int_t a, json_int_t b)
{
    return a > LLONG_MAX - b ? LLONG_MAX : a + b;
}

/* The volumes of `rep`, a report of `month`, into *out; whatever the report's shape, rows of
 * other days, absent, suppressed and ill-typed values are left out. */
static void volumes_of(json_t *rep, const char *month, struct volumes *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t f = 0; f < VOLUMES; f++) {
        json_t *row;
        size_t i;
        json_array_foreach(json_object_get(rep, volume[f].section), i, row)
        {
            int d = month_day(json_string_value(json_object_get(row, "day")), month);
            json_t *cell = volume[f].cell ? json_object_get(row, volume[f].cell) : row;
            json_t *v = json_object_get(cell, volume[f].count);
            if (d == 0)
                continue;
            out->day[d] = true;
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                continue;
            out->has[d][f] = true;
            out->sum[d][f] = add_counts(out->sum[d][f], json_integer_value(v));
        }
    }
}

/* A region's row of the month (`x`: one of latest_reports) into `rows`: the days with passage,
 * the students who entered on such a day on average, and the month's sums of the other
 * figures; null where no published cell gave one. */
static void month_row(json_t *rows, json_t *x, const struct volumes *v)
{
    json_int_t sum[VOLUMES] = {0}, days = 0;
    bool has[VOLUMES] = {false};
    for (int d = 1; d <= 31; d++) {
        days += v->has[d][0];
        for (size_t f = 0; f < VOLUMES; f++)
            if (v->has[d][f]) {
                has[f] = true;
                sum[f] = add_counts(sum[f], v->sum[d][f]);
            }
    }
    json_t *row =
        json_pack("{s:O,s:O,s:I,s:o}", "region", json_object_get(x, "region"), "name",
                  json_object_get(x, "name"), "passage_days", days, "students_entered_per_day",
                  jnum(days ? (double)sum[0] / (double)days : NAN, 1));
    for (size_t f = 1; row && f < VOLUMES; f++)
        json_object_set_new(row, volume[f].key, has[f] ? json_integer(sum[f]) : json_null());
    json_array_append_new(rows, row);
}

/* A region's rows of each day of `month` its report has a row of into `rows`: each figure
 * summed over the day's published cells (its grades), null where none gave it. */
static void day_rows(json_t *rows, json_t *x, const struct volumes *v, const char *month)
{
    for (int d = 1; d <= 31; d++) {
        if (!v->day[d])
            continue;
        char day[16];
        snprintf(day, sizeof(day), "%.7s-%02d", month, d % 100);
        json_t *row = json_pack("{s:O,s:O,s:s}", "region", json_object_get(x, "region"),
                                "region_name", json_object_get(x, "name"), "day", day);
        for (size_t f = 0; row && f < VOLUMES; f++)
            json_object_set_new(row, volume[f].key,
                                v->has[d][f] ? json_integer(v->sum[d][f]) : json_null());
        json_array_append_new(rows, row);
    }
}

/* GET /api/v1/ministry/volumes?period=YYYY-MM[&format=csv] (`by_day` false): one row per region
 * of «Москвёнок»'s volumes in the month (month_row); GET /api/v1/ministry/volumes/days (true):
 * a row per region and day (day_rows). From each region's latest report of the month. */
static int volumes_reply(struct req *r, bool by_day)
{
    char month[8], format[8] = "";
    if (period_or_respond(r, month) != 0)
        return r->status;
    req_query(r, "format", format, sizeof(format));
    json_t *reports = latest_reports(r, month), *x;
    if (reports == NULL)
        return reply_db_error(r);
    struct volumes *v = malloc(sizeof(*v)); /* 3 KiB: not on a worker's stack */
    json_t *rows = json_array();
    size_t i;
    if (v == NULL || rows == NULL) {
        free(v);
        json_decref(rows);
        json_decref(reports);
        return reply_error(r, 503, "unavailable", "out of memory");
    }
    json_array_foreach(reports, i, x)
    {
        volumes_of(json_object_get(x, "report"), month, v);
        if (by_day)
            day_rows(rows, x, v, month);
        else
            month_row(rows, x, v);
    }
    free(v);
    json_decref(reports);
    if (strcmp(format, "csv") == 0) {
        static const char *const month_cols[] = {"region",
                                                 "name",
                                                 "passage_days",
                                                 "students_entered_per_day",
                                                 "entries",
                                                 "exits",
                                                 "sales",
                                                 "sales_kopecks",
                                                 "free_meals",
                                                 "free_kopecks",
                                                 "topups",
                                                 "topups_kopecks",
                                                 "refunds",
                                                 "refunds_kopecks",
                                                 NULL};
        static const char *const day_cols[] = {
            "region", "region_name",    "day",           "students_entered", "entries",
            "exits",  "sales",          "sales_kopecks", "free_meals",       "free_kopecks",
            "topups", "topups_kopecks", "refunds",       "refunds_kopecks",  NULL};
        char file[48];
        snprintf(file, sizeof(file), "mes-volumes%s-%s.csv", by_day ? "-days" : "", month);
        return reply_csv(r, rows, by_day ? day_cols : month_cols, file);
    }
    return reply_json(r, 200,
                      json_pack("{s:s,s:o}", "period", month, by_day ? "rows" : "regions", rows));
}

static int ministry_volumes(struct req *r)
{
    return volumes_reply(r, false);
}

static int ministry_volume_days(struct req *r)
{
    return volumes_reply(r, true);
}

/* ---- charts ---- */

/* Text as XML character data or attribute value. */
static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

/* A horizontal bar chart: one bar per label, scaled to the largest value (or to `max` > 0). */
static void bar_chart(FILE *f, const char *title, json_t *labels, const double *values, size_t n,
                      double max, int decimals)
{
    int row = 28, left = 220, width = 420, height = 50 + (int)n * row;
    for (size_t i = 0; max <= 0 && i < n; i++)
        if (!isnan(values[i]) && values[i] > max)
            max = values[i];
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" font-family="
            "\"sans-serif\" font-size=\"13\"><text x=\"10\" y=\"22\" font-size=\"15\" "
            "font-weight=\"bold\">",
            left + width + 90, height);
    xml_text(f, title);
    fputs("</text>", f);
    for (size_t i = 0; i < n; i++) {
        int y = 40 + (int)i * row;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 8, y + 15);
        xml_text(f, json_string_value(json_array_get(labels, i)));
        fputs("</text>", f);
        if (isnan(values[i])) {
            fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#888\">—</text>", left + 4, y + 15);
            continue;
        }
        int w = max > 0 ? (int)(values[i] / max * width) : 0;
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"#2f6fd0\"/>"
                "<text x=\"%d\" y=\"%d\">%.*f</text>",
                left, y, w, left + w + 6, y + 15, decimals, values[i]);
    }
    fputs("</svg>\n", f);
}

/* A chart's bars, as many as there are: labels (strings) and values (NAN: none). */
struct bars {
    json_t *labels;
    double *values;
    size_t n, cap;
};

/* Appends a bar labelled `label` (a new reference, stolen). 0, or -1 when out of memory. */
static int bars_add(struct bars *b, json_t *label, double value)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        double *values = realloc(b->values, cap * sizeof(*values));
        if (values == NULL) {
            json_decref(label);
            return -1;
        }
        b->values = values;
        b->cap = cap;
    }
    if (json_array_append_new(b->labels, label) != 0)
        return -1;
    b->values[b->n++] = value;
    return 0;
}

/* One bar per region for `month` into *b: students (which 0), the average mark (1) or the
 * attendance in percent (2). 0, or -1 after answering. */
static int region_bars_or_respond(struct req *r, int which, const char *month, struct bars *b)
{
    json_t *reports = latest_reports(r, month), *x;
    if (reports == NULL)
        return reply_db_error(r), -1;
    size_t i;
    json_array_foreach(reports, i, x)
    {
        json_t *rep = json_object_get(x, "report");
        double v = which == 0   ? num(json_object_get(rep, "coverage"), "students", NULL)
                   : which == 1 ? marks_average(rep, NULL, NULL)
                                : 100 * num(json_object_get(rep, "attendance"), "total", "rate");
        if (bars_add(b, json_incref(json_object_get(x, "name")), v) != 0) {
            json_decref(reports);
            return reply_error(r, 503, "unavailable", "out of memory"), -1;
        }
    }
    json_decref(reports);
    return 0;
}

/* One bar per month that any region reported, every month, into *b: the logins of each
 * region's latest report of the month, summed. 0, or -1 after answering. */
static int usage_bars_or_respond(struct req *r, struct bars *b)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT period, region, body FROM fed_reports f WHERE sequence = "
                                "(SELECT max(sequence) FROM fed_reports WHERE region = f.region "
                                "AND period = f.period) ORDER BY period",
                                NULL);
    int rc;
    while (db_next(st, &rc)) {
        const char *p = db_col_text(st, 0);
        if ((b->n == 0 || strcmp(json_string_value(json_array_get(b->labels, b->n - 1)), p) != 0) &&
            bars_add(b, json_string(p), 0) != 0) {
            sqlite3_reset(st);
            return reply_error(r, 503, "unavailable", "out of memory"), -1;
        }
        json_t *rep =
            input_json_loadb(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), 0,
                             INPUT_JSON_DEPTH_DOCUMENTS, NULL);
        b->values[b->n - 1] += logins(rep);
        json_decref(rep);
    }
    if (rc != SQLITE_DONE)
        return reply_db_error(r), -1;
    return 0;
}

/* GET /api/v1/ministry/charts/NAME.svg?period=: coverage (students), performance (average
 * mark), attendance (rate) per region for a month; usage (logins per month over all months,
 * every region summed) over time. */
static int ministry_chart(struct req *r)
{
    static const char *const names[] = {"coverage.svg", "performance.svg", "attendance.svg",
                                        "usage.svg", NULL};
    int which = -1;
    for (int i = 0; names[i]; i++)
        if (r->rest && strcmp(r->rest, names[i]) == 0)
            which = i;
    if (which < 0)
        return reply_error(r, 404, "not_found",
                           "charts: coverage.svg, performance.svg, attendance.svg, usage.svg");
    char month[8];
    if (period_or_respond(r, month) != 0)
        return r->status;
    struct bars b = {.labels = json_array()};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int status;
    if (b.labels == NULL) {
        status = reply_error(r, 503, "unavailable", "out of memory");
        goto out;
    }
    if ((which < 3 ? region_bars_or_respond(r, which, month, &b) : usage_bars_or_respond(r, &b)) !=
        0) {
        status = r->status;
        goto out;
    }
    if ((f = open_memstream(&buf, &len)) == NULL) {
        status = reply_error(r, 503, "unavailable", "out of memory");
        goto out;
    }
    static const char *const titles[] = {"Охват: учащиеся", "Успеваемость: средний балл",
                                         "Посещаемость, %"};
    char title[160];
    if (which < 3)
        snprintf(title, sizeof(title), "%s (%s)", titles[which], month);
    else
        snprintf(title, sizeof(title), "Входы в систему по месяцам, все регионы");
    bar_chart(f, title, b.labels, b.values, b.n, which == 2 ? 100 : 0,
              which == 0 || which == 3 ? 0 : 2);
    fclose(f);
    f = NULL;
    reply_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    status = reply_raw(r, 200, "image/svg+xml", buf, len, true);
    buf = NULL;
out:
    if (f != NULL)
        fclose(f);
    free(buf);
    free(b.values);
    json_decref(b.labels);
    return status;
}

const struct route ministry_routes[] = {
    {.method = "GET",
     .path = "/api/v1/ministry/regions",
     .handler = ministry_regions,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "ministry_regions"},
    {.method = "GET",
     .path = "/api/v1/ministry/summary",
     .handler = ministry_summary,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "ministry_summary"},
    {.method = "GET",
     .path = "/api/v1/ministry/subjects",
     .handler = ministry_subjects,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "ministry_subjects"},
    {.method = "GET",
     .path = "/api/v1/ministry/volumes",
     .handler = ministry_volumes,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "ministry_volumes"},
    {.method = "GET",
     .path = "/api/v1/ministry/volumes/days",
     .handler = ministry_volume_days,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "ministry_volume_days"},
    {.method = "GET",
     .path = "/api/v1/ministry/charts/*",
     .handler = ministry_chart,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "ministry_chart"},
    {0},
};
