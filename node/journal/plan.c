/*
 * The calendar-thematic plan (КТП): topics of a class and subject, entered as JSON or imported
 * from CSV, and handed to the lessons in order. The CSV parser reads outside input: bounded,
 * never allocates, and is fuzzed (tests/fuzz/fuzz_plan.c).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

#define MAX_FIELDS 3

struct csv {
    const char *p, *end;
    char sep;
    int line;
};

/* Reads one field into buf (NUL-terminated, truncation refused). Returns 1 when a field was
 * read and the record goes on, 0 at the end of the record, -1 on an error. */
static int csv_field(struct csv *c, char *buf, size_t size, char *err, size_t errlen)
{
    size_t n = 0;
    int quoted = c->p < c->end && *c->p == '"';
    if (quoted)
        c->p++;
    for (;;) {
        if (c->p >= c->end) {
            if (quoted) {
                snprintf(err, errlen, "line %d: unterminated quoted field", c->line);
                return -1;
            }
            break;
        }
        char ch = *c->p;
        if (quoted && ch == '"') {
            if (c->p + 1 < c->end && c->p[1] == '"') {
                c->p += 2;
                ch = '"';
            } else {
                c->p++;
                quoted = 0;
                continue;
            }
        } else if (!quoted && (ch == c->sep || ch == '\n' || ch == '\r')) {
            break;
        } else {
            if (ch == '\n')
                c->line++;
            c->p++;
        }
        if (ch == '\0') {
            snprintf(err, errlen, "line %d: NUL byte", c->line);
            return -1;
        }
        if (n + 1 >= size) {
            snprintf(err, errlen, "line %d: field longer than %zu bytes", c->line, size - 1);
            return -1;
        }
        buf[n++] = ch;
    }
    buf[n] = '\0';
    if (c->p < c->end && *c->p == c->sep) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Skips the end of a record (\r\n or \n). */
static void csv_eol(struct csv *c)
{
    if (c->p < c->end && *c->p == '\r')
        c->p++;
    if (c->p < c->end && *c->p == '\n') {
        c->p++;
        c->line++;
    }
}

/* A topic's title: 1-500 characters, not only spaces. */
static bool title_ok(const char *s)
{
    return school_text_ok(s, 1, 500) && s[strspn(s, " \t")] != '\0';
}

static int parse_hours(const char *s)
{
    while (*s == ' ')
        s++;
    char *end;
    long v = strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    return s[0] >= '0' && s[0] <= '9' && *end == '\0' && v >= 1 && v <= 50 ? (int)v : -1;
}

int plan_parse_csv(const char *text, size_t len, struct plan_topic *out, int max, char *err,
                   size_t errlen)
{
    struct csv c = {.p = text, .end = text + len, .sep = ';', .line = 1};
    /* A UTF-8 byte order mark, as spreadsheet programs write it. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.p += 3;
    for (const char *q = c.p; q < c.end && *q != '\n'; q++)
        if (*q == ';' || *q == '\t' || *q == ',') {
            c.sep = *q;
            break;
        }
    int n = 0;
    char fields[MAX_FIELDS][sizeof(out->title)];
    while (c.p < c.end) {
        int line = c.line, nf = 0, more = 1;
        while (more) {
            if (nf == MAX_FIELDS) {
                snprintf(err, errlen, "line %d: more than 3 fields", line);
                return -1;
            }
            more = csv_field(&c, fields[nf], sizeof(fields[nf]), err, errlen);
            if (more < 0)
                return -1;
            nf++;
        }
        csv_eol(&c);
        if (nf == 1 && fields[0][0] == '\0')
            continue; /* an empty line */
        if (nf < 2) {
            snprintf(err, errlen, "line %d: expected title and hours", line);
            return -1;
        }
        const char *title = fields[nf == 3 ? 1 : 0];
        int hours = parse_hours(fields[nf - 1]);
        if (hours < 0) {
            if (n == 0 && line == 1)
                continue; /* a header line */
            snprintf(err, errlen, "line %d: hours must be a whole number 1-50", line);
            return -1;
        }
        if (!title_ok(title)) {
            snprintf(err, errlen, "line %d: the title must have 1-500 characters", line);
            return -1;
        }
        if (n == max) {
            snprintf(err, errlen, "line %d: more than %d topics", line, max);
            return -1;
        }
        snprintf(out[n].title, sizeof(out[n].title), "%s", title);
        out[n].hours = hours;
        n++;
    }
    if (n == 0) {
        snprintf(err, errlen, "line %d: no topics", c.line);
        return -1;
    }
    return n;
}

/* A growing list of ids. */
struct id_list {
    int64_t *v;
    size_t n, cap;
};

static int ids_push(struct id_list *l, int64_t id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        int64_t *more = realloc(l->v, cap * sizeof(*more));
        if (more == NULL)
            return -1;
        l->v = more;
        l->cap = cap;
    }
    l->v[l->n++] = id;
    return 0;
}

/* The plan's topics expanded to one topic id per hour, in order, into `hours`. SQLITE_DONE,
 * SQLITE_NOMEM or the failure's code. */
static int plan_hours(struct db *db, int64_t class_id, int64_t subject_id, struct id_list *hours)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT id, hours FROM plan_topics WHERE class_id = :c AND "
                                "subject_id = :s ORDER BY number",
                                DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id)));
    int rc;
    while (db_next(st, &rc))
        for (int i = 0; i < sqlite3_column_int(st, 1); i++)
            if (ids_push(hours, sqlite3_column_int64(st, 0)) != 0) {
                sqlite3_reset(st);
                return SQLITE_NOMEM;
            }
    return rc;
}

/* The class's lessons of the subject that take place into `lessons`, with the group of each
 * (0: the whole class) at the same index of `groups`: by group, then in date order. Each group
 * goes through the plan on its own. SQLITE_DONE, SQLITE_NOMEM or the failure's code. */
static int plan_lessons(struct db *db, int64_t class_id, int64_t subject_id,
                        struct id_list *lessons, struct id_list *groups)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT id, coalesce(group_id, 0) AS g FROM lessons WHERE "
                                "class_id = :c AND subject_id = :s AND cancelled = 0 ORDER BY "
                                "g, date, number",
                                DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id)));
    int rc;
    while (db_next(st, &rc))
        if (ids_push(lessons, sqlite3_column_int64(st, 0)) != 0 ||
            ids_push(groups, sqlite3_column_int64(st, 1)) != 0) {
            sqlite3_reset(st);
            return SQLITE_NOMEM;
        }
    return rc;
}

int plan_apply(struct db *db, int64_t class_id, int64_t subject_id)
{
    struct id_list hours = {0}, lessons = {0}, groups = {0};
    int changed = -1;
    if (plan_hours(db, class_id, subject_id, &hours) != SQLITE_DONE ||
        plan_lessons(db, class_id, subject_id, &lessons, &groups) != SQLITE_DONE)
        goto out;
    changed = 0;
    size_t hour = 0;
    for (size_t i = 0; i < lessons.n; i++, hour++) {
        if (i > 0 && groups.v[i] != groups.v[i - 1])
            hour = 0; /* the next group starts the plan again */
        /* Every lesson takes its hour of the plan; a topic the teacher wrote stays, and so does
         * one past the plan's end that the plan did not give (:t 0 is past the end). Only rows
         * that change are written. */
        if (db_run(db,
                   "UPDATE lessons SET plan_topic_id = nullif(:t, 0), topic = CASE WHEN "
                   "topic_manual OR (:t = 0 AND plan_topic_id IS NULL) THEN topic ELSE "
                   "coalesce((SELECT title FROM plan_topics WHERE id = :t), '') END WHERE id = "
                   ":id AND (plan_topic_id IS NOT nullif(:t, 0) OR (topic_manual = 0 AND :t <> 0 "
                   "AND topic IS NOT (SELECT title FROM plan_topics WHERE id = :t)))",
                   DB_ARGS(DB_INT(":t", hour < hours.n ? hours.v[hour] : 0),
                           DB_INT(":id", lessons.v[i]))) != SQLITE_DONE) {
            changed = -1;
            goto out;
        }
        changed += db_changes(db);
    }
    /* Cancelled lessons give their planned topic back (the next lessons took it over). */
    if (db_run(db,
               "UPDATE lessons SET plan_topic_id = NULL, topic = CASE WHEN topic_manual THEN "
               "topic ELSE '' END WHERE class_id = :c AND subject_id = :s AND cancelled <> 0 AND "
               "plan_topic_id IS NOT NULL",
               DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id))) != SQLITE_DONE) {
        changed = -1;
        goto out;
    }
    changed += db_changes(db);
out:
    free(hours.v);
    free(lessons.v);
    free(groups.v);
    return changed;
}

/* GET /api/v1/plans?class=ID&subject=ID: the topics, each with the dates of the lessons it
 * falls on (a group's lessons too), and how many lessons of the subject the class has in the
 * year (taking place) and how many of them have a topic their teacher wrote. */
static int plan_get(struct req *r)
{
    int64_t class_id, subject_id;
    if (req_query_id_or_respond(r, "class", &class_id) != 0 ||
        req_query_id_or_respond(r, "subject", &subject_id) != 0)
        return r->status;
    if (authz_journal_or_respond(r, class_id, subject_id) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, number, title, hours FROM plan_topics WHERE "
                                "class_id = :c AND subject_id = :s ORDER BY number",
                                DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *topics = json_array(), *by_id = json_object();
    int rc;
    while (db_next(st, &rc)) {
        json_t *t = json_pack("{s:i,s:s,s:i,s:i,s:[]}", "number", sqlite3_column_int(st, 1),
                              "title", db_col_text(st, 2), "hours", sqlite3_column_int(st, 3),
                              "lessons", 0, "dates");
        char key[24];
        snprintf(key, sizeof(key), "%lld", (long long)sqlite3_column_int64(st, 0));
        json_object_set(by_id, key, t);
        json_array_append_new(topics, t);
    }
    /* The lessons of the class and subject (lessons_journal), in date order, onto their topic. */
    json_int_t total = 0, manual = 0;
    if (rc == SQLITE_DONE) {
        st = db_query(r->db,
                      "SELECT plan_topic_id, date, topic_manual FROM lessons WHERE class_id = "
                      ":c AND subject_id = :s AND cancelled = 0 ORDER BY date, number",
                      DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id)));
        while (db_next(st, &rc)) {
            total++;
            manual += sqlite3_column_int(st, 2) != 0;
            char key[24];
            snprintf(key, sizeof(key), "%lld", (long long)sqlite3_column_int64(st, 0));
            json_t *t =
                sqlite3_column_type(st, 0) == SQLITE_NULL ? NULL : json_object_get(by_id, key);
            if (t == NULL)
                continue;
            json_object_set_new(
                t, "lessons", json_integer(json_integer_value(json_object_get(t, "lessons")) + 1));
            json_array_append_new(json_object_get(t, "dates"), json_string(db_col_text(st, 1)));
        }
    }
    json_decref(by_id);
    if (rc != SQLITE_DONE) {
        json_decref(topics);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:o,s:I,s:I}", "topics", topics, "lessons_total", total,
                                "lessons_manual", manual));
}

/* Adds `key`: `value` to the error answer just made (which line of a CSV, which topic). */
static void error_detail(struct req *r, const char *key, json_int_t value)
{
    json_t *err = json_object_get(r->out_json, "error");
    if (err)
        json_object_set_new(err, key, json_integer(value));
}

/* PUT /api/v1/plans?class=ID&subject=ID {"topics": [{title, hours}]} or {"csv": "..."}:
 * replaces the plan and gives its topics to the lessons. Topics are written in place by their
 * number (a plan that keeps its length deletes no row, so no lesson has to be searched for a
 * topic that goes), and those past the new end are deleted. */
static int plan_put(struct req *r)
{
    int64_t class_id, subject_id;
    if (req_query_id_or_respond(r, "class", &class_id) != 0 ||
        req_query_id_or_respond(r, "subject", &subject_id) != 0)
        return r->status;
    json_t *topics = NULL;
    const char *csv = NULL;
    if (body_unpack_or_respond(r, "{s?o,s?s}", "topics", &topics, "csv", &csv) != 0)
        return r->status;
    if ((topics == NULL) == (csv == NULL))
        return reply_error(r, 400, "bad_request", "give either topics or csv");
    struct plan_topic *list = malloc(PLAN_MAX_TOPICS * sizeof(*list));
    if (list == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    int n = 0;
    char err[160];
    if (csv) {
        n = plan_parse_csv(csv, strlen(csv), list, PLAN_MAX_TOPICS, err, sizeof(err));
        if (n < 0) {
            free(list);
            int line = 0;
            reply_field_error(r, 400, "bad_csv", "csv", "%s", err);
            if (sscanf(err, "line %d", &line) == 1)
                error_detail(r, "line", line);
            return r->status;
        }
    } else {
        size_t i;
        json_t *t;
        if (!json_is_array(topics) || json_array_size(topics) > PLAN_MAX_TOPICS) {
            free(list);
            return reply_field_error(r, 400, "bad_request", "topics",
                                     "topics must be an array of at most %d", PLAN_MAX_TOPICS);
        }
        json_array_foreach(topics, i, t)
        {
            const char *title;
            json_int_t hours = 1;
            json_error_t e;
            bool shape = json_unpack_ex(t, &e, JSON_STRICT, "{s:s,s?I}", "title", &title, "hours",
                                        &hours) == 0;
            if (!shape || !title_ok(title) || hours < 1 || hours > 50) {
                free(list);
                reply_field_error(r, 400, "bad_request",
                                  shape && title_ok(title) ? "hours" : "title",
                                  "topics[%zu]: a title of 1-500 characters, hours 1-50", i);
                error_detail(r, "index", (json_int_t)i);
                return r->status;
            }
            snprintf(list[n].title, sizeof(list[n].title), "%s", title);
            list[n++].hours = (int)hours;
        }
    }
    if (authz_teaching_or_respond(r, class_id, subject_id, true) != 0) {
        free(list);
        return r->status;
    }
    for (int i = 0; i < n; i++) {
        if (db_run(r->db,
                   "INSERT INTO plan_topics (class_id, subject_id, number, title, hours) VALUES "
                   "(:c, :s, :n, :t, :h) ON CONFLICT (class_id, subject_id, number) DO UPDATE "
                   "SET title = excluded.title, hours = excluded.hours",
                   DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id), DB_INT(":n", i + 1),
                           DB_TEXT(":t", list[i].title), DB_INT(":h", list[i].hours))) !=
            SQLITE_DONE)
            goto dberr;
    }
    free(list);
    /* The topics past the new end: their lessons let go of them, and of the topic they gave,
     * first (by the class's index). */
    if (db_run(r->db,
               "UPDATE lessons SET plan_topic_id = NULL, topic = CASE WHEN topic_manual THEN "
               "topic ELSE '' END WHERE class_id = :c AND subject_id = :s AND plan_topic_id IN "
               "(SELECT id FROM plan_topics WHERE class_id = :c AND "
               "subject_id = :s AND number > :n)",
               DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id), DB_INT(":n", n))) !=
            SQLITE_DONE ||
        db_run(r->db,
               "DELETE FROM plan_topics WHERE class_id = :c AND subject_id = :s AND number > :n",
               DB_ARGS(DB_INT(":c", class_id), DB_INT(":s", subject_id), DB_INT(":n", n))) !=
            SQLITE_DONE)
        return reply_db_error(r);
    int changed = plan_apply(r->db, class_id, subject_id);
    if (changed < 0)
        return reply_db_error(r);
    char object[48];
    snprintf(object, sizeof(object), "class/%lld", (long long)class_id);
    if (audit(r, school_class_institution(r, class_id), "plan.set", object,
              json_pack("{s:I,s:i}", "subject_id", (json_int_t)subject_id, "topics", n)) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:i,s:i}", "topics", n, "lessons", changed));
dberr:
    free(list);
    return reply_db_error(r);
}

const struct route plan_routes[] = {
    {.method = "GET",
     .path = "/api/v1/plans",
     .handler = plan_get,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_TEACHER | ROLE_CLASS_TEACHER,
     .name = "plan_get"},
    {.method = "PUT",
     .path = "/api/v1/plans",
     .handler = plan_put,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_TEACHER,
     .writes = true,
     .name = "plan_set"},
    {0},
};
