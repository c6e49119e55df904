/*
 * Passage (docs/moskvenok.md, "Passage"): turnstiles post what they saw, in batches, and the
 * node applies each event once whatever the order and however often a batch is repeated; a
 * student's carrier at their own school opens the turnstile, anything else is answered "deny"
 * and logged for the school. The family hears of each entry and exit of the day («Артём вошёл
 * в школу в 08:12»). What the school reads: a student's log, a class's presence against the
 * journal's attendance (the class teacher's flags), and a school's day.
 *
 * Load: the morning rush, every student of a region entering within the hour, in batches of
 * up to 1000 events from each turnstile: the body is parsed once, each event is a handful of
 * prepared statements on indexes (its key claimed, the carrier looked up, one row stored, the
 * family's notifications, the answer kept for a repeat), and the whole batch is one request on
 * the writer, committed with whatever else the writer's batch holds.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "certificates/declension.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/passage.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

#define ADMINS                 (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)
#define PASSAGE_MAX_EVENTS     1000
#define PASSAGE_MAX_RANGE_DAYS 92

void passage_hhmm(time_t t, char out[8])
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 8, "%H:%M", &tm);
}

const char *passage_flag(int present_lessons, int absent_lessons, bool entered,
                         bool turnstiles_used)
{
    if (absent_lessons > 0 && entered)
        return "absent_with_entry";
    if (present_lessons > 0 && !entered && turnstiles_used)
        return "present_no_entry";
    return NULL;
}

/* ---- the turnstiles' batches ----------------------------------------------------------------
 */

/* Whether `s` is 1 to `max` printable ASCII characters. */
static bool printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

const char *passage_event_parse(json_t *e, time_t now, struct passage_event *out)
{
    if (!json_is_object(e))
        return "";
    *out = (struct passage_event){0};
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v)
    {
        if (strcmp(k, "key") != 0 && strcmp(k, "seq") != 0 && strcmp(k, "card") != 0 &&
            strcmp(k, "direction") != 0 && strcmp(k, "at") != 0 && strcmp(k, "turnstile") != 0)
            return k;
    }
    v = json_object_get(e, "key");
    if (!json_is_string(v) || !mosk_key_valid(json_string_value(v)))
        return "key";
    out->key = json_string_value(v);
    v = json_object_get(e, "seq");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return "seq";
    out->seq = json_integer_value(v);
    /* Any identifier a reader may send (a garbled read is an unknown card, denied and logged,
     * never a refused batch that would hold the terminal's queue). */
    v = json_object_get(e, "card");
    if (!json_is_string(v) || !printable(json_string_value(v), 64))
        return "card";
    out->card = json_string_value(v);
    v = json_object_get(e, "direction");
    const char *d = json_string_value(v);
    if (d == NULL || (strcmp(d, "in") != 0 && strcmp(d, "out") != 0))
        return "direction";
    out->in = d[0] == 'i';
    v = json_object_get(e, "at");
    if (!json_is_string(v) || mosk_parse_time(json_string_value(v), &out->at) != 0 ||
        out->at > now + PASSAGE_FUTURE_SECONDS)
        return "at";
    v = json_object_get(e, "turnstile");
    if (v != NULL) {
        if (!json_is_string(v) || !school_text_ok(json_string_value(v), 1, 64))
            return "turnstile";
        out->turnstile = json_string_value(v);
    }
    return NULL;
}

/* Tells the student's family (the student and each guardian) of an entry or exit: kind
 * passage_in or passage_out, data {"name": the first name, "gender": "m", "f" or "" (the
 * catalog's вошёл/вошла), "time": "HH:MM", "school", "at"}. 0, or -1 on a failure. */
static int passage_notify(struct db *db, int64_t student, bool in, time_t at, const char *school)
{
    sqlite3_stmt *st =
        db_query(db, "SELECT last_name, first_name, middle_name FROM persons WHERE id = :s",
                 DB_ARGS(DB_INT(":s", student)));
    json_t *data = NULL;
    char hhmm[8];
    passage_hhmm(at, hhmm);
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        enum declension_gender g =
            declension_gender(db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2));
        json_decref(data);
        data = json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", db_col_text(st, 1), "gender",
                         g == DECLENSION_MALE     ? "m"
                         : g == DECLENSION_FEMALE ? "f"
                                                  : "",
                         "time", hhmm, "school", school, "at", (json_int_t)at);
    }
    if (rc != SQLITE_DONE || data == NULL) {
        json_decref(data);
        return -1;
    }
    int n = notify_family(db, student, in ? "passage_in" : "passage_out", data);
    json_decref(data);
    return n;
}

enum passage_outcome passage_apply(struct db *db, int64_t device, int64_t school,
                                   const struct passage_event *ev, size_t n, const char *today,
                                   struct passage_batch *b)
{
    *b = (struct passage_batch){.results = json_array()};
    if (b->results == NULL)
        return PASSAGE_FAILED;
    char *school_name = NULL; /* read when the first family is told */
    enum passage_outcome out = PASSAGE_FAILED;
    for (size_t i = 0; i < n; i++) {
        const struct passage_event *e = &ev[i];
        /* The answer depends on the carrier alone, so it is known before the key is claimed
         * and stored with the claim: one statement for the key and its answer. */
        struct mosk_card card;
        int found = mosk_card_find(db, e->card, &card);
        if (found < 0)
            goto done;
        const char *reason = found == 0                 ? "unknown_card"
                             : card.blocked             ? "card_blocked"
                             : card.school_id != school ? "other_school"
                                                        : NULL;
        json_t *res =
            reason ? json_pack("{s:s,s:s,s:s}", "key", e->key, "decision", "deny", "reason", reason)
                   : json_pack("{s:s,s:s}", "key", e->key, "decision", "allow");
        char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
        char *first = NULL;
        enum mosk_claim c =
            text ? mosk_event_claim(db, device, e->key, e->seq, text, &first) : MOSK_CLAIM_FAILED;
        free(text);
        if (c != MOSK_NEW)
            json_decref(res);
        if (c == MOSK_CLAIM_FAILED)
            goto done;
        if (c == MOSK_SEQ_TAKEN) {
            b->seq_taken = i;
            out = PASSAGE_SEQ_TAKEN;
            goto done;
        }
        if (c == MOSK_DUPLICATE) {
            res = json_loads(first, 0, NULL);
            free(first);
            if (!json_is_object(res)) {
                json_decref(res);
                goto done;
            }
            json_object_set_new(res, "duplicate", json_true());
            json_array_append_new(b->results, res);
            b->duplicates++;
            continue;
        }
        json_array_append_new(b->results, res);
        char day[16];
        mosk_local_day(e->at, day);
        if (reason != NULL) {
            if (db_run(db,
                       "INSERT INTO passage_denials (institution_id, device_id, card, card_id, "
                       "reason, direction, at, day, turnstile) VALUES (:i, :d, :c, "
                       "nullif(:k, 0), :r, :dir, :at, :day, :t)",
                       DB_ARGS(DB_INT(":i", school), DB_INT(":d", device), DB_TEXT(":c", e->card),
                               DB_INT(":k", found ? card.id : 0), DB_TEXT(":r", reason),
                               DB_TEXT(":dir", e->in ? "in" : "out"), DB_INT(":at", e->at),
                               DB_TEXT(":day", day), DB_TEXT(":t", e->turnstile))) != SQLITE_DONE)
                goto done;
            b->denied++;
        } else {
            if (db_run(db,
                       "INSERT INTO passage_events (student_id, card_id, institution_id, "
                       "device_id, direction, at, day, turnstile) VALUES (:s, :k, :i, :d, "
                       ":dir, :at, :day, :t)",
                       DB_ARGS(DB_INT(":s", card.student_id), DB_INT(":k", card.id),
                               DB_INT(":i", school), DB_INT(":d", device),
                               DB_TEXT(":dir", e->in ? "in" : "out"), DB_INT(":at", e->at),
                               DB_TEXT(":day", day), DB_TEXT(":t", e->turnstile))) != SQLITE_DONE)
                goto done;
            /* An earlier day's event (a terminal's late upload) is kept, not told. */
            if (strcmp(day, today) == 0) {
                if (school_name == NULL &&
                    db_text(db, &school_name, "SELECT short_name FROM institutions WHERE id = :i",
                            DB_ARGS(DB_INT(":i", school))) != SQLITE_ROW)
                    goto done;
                if (passage_notify(db, card.student_id, e->in, e->at, school_name) != 0)
                    goto done;
            }
        }
        b->applied++;
    }
    out = PASSAGE_DONE;
done:
    free(school_name);
    return out;
}

/* A turnstile's batch, read and checked on the worker thread before the writer's turn
 * (route.prepare): the writer's thread only applies it. The events' strings point into r->body. */
struct passage_prep {
    size_t n;
    char today[16]; /* the node's day when the batch arrived */
    struct passage_event ev[];
};

/* POST /api/v1/passage/events {"events": [...]}: a turnstile's batch (a device token of scope
 * passage, bound to its school). A malformed event refuses the whole batch (400, field
 * events[i].FIELD), a seq another key holds too (409 seq_taken); nothing is applied then. */
static int passage_events_prepare(struct req *r)
{
    json_t *events;
    if (body_unpack_or_respond(r, "{s:o}", "events", &events) != 0)
        return r->status;
    size_t n = json_is_array(events) ? json_array_size(events) : 0;
    if (n < 1 || n > PASSAGE_MAX_EVENTS)
        return reply_field_error(r, 400, "bad_request", "events", "events: 1 to %d events",
                                 PASSAGE_MAX_EVENTS);
    if (r->caller.device_institution_id <= 0)
        return reply_error(r, 403, "forbidden", "a turnstile's token is bound to one school");
    struct passage_prep *p = calloc(1, sizeof(*p) + n * sizeof(p->ev[0]));
    if (p == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        const char *bad = passage_event_parse(json_array_get(events, i), now, &p->ev[i]);
        if (bad != NULL) {
            free(p);
            char field[96];
            snprintf(field, sizeof(field), "events[%zu]%s%.64s", i, bad[0] ? "." : "", bad);
            return reply_field_error(r, 400, "bad_request", field,
                                     "%s: missing, malformed or not a field of an event", field);
        }
    }
    p->n = n;
    mosk_local_day(now, p->today);
    r->prep = p;
    r->prep_free = free;
    return 0;
}

static int passage_events_post(struct req *r)
{
    const struct passage_prep *p = r->prep;
    struct passage_batch b;
    enum passage_outcome o = passage_apply(
        r->db, r->caller.device_id, r->caller.device_institution_id, p->ev, p->n, p->today, &b);
    if (o != PASSAGE_DONE) {
        json_decref(b.results);
        if (o == PASSAGE_SEQ_TAKEN) {
            char field[48];
            snprintf(field, sizeof(field), "events[%zu].seq", b.seq_taken);
            return reply_field_error(r, 409, "seq_taken", field,
                                     "%s: this sequence number is held under another key", field);
        }
        return reply_db_error(r);
    }
    int64_t held = 0, last = 0;
    if (mosk_terminal_update(r->db, r->caller.device_id, &held, &last) != 0) {
        json_decref(b.results);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:i,s:i,s:i,s:o,s:I,s:I}", "applied", b.applied, "duplicates",
                                b.duplicates, "denied", b.denied, "results", b.results, "held_seq",
                                (json_int_t)held, "last_seq", (json_int_t)last));
}

/* ---- what the school and the family read ------------------------------------------------- */

/* Who reads a student's passage: the student, their parents, the class teacher of their class,
 * the admin of their school, the region admin. 0 to go on; -1 once answered (404, 403, 500). */
static int passage_reader_or_respond(struct req *r, int64_t student)
{
    int a = authz_student(r, student, AUTHZ_WRITE); /* 1: the region's or the school's admin */
    if (a == 1 || (a == 0 && r->caller.person_id != 0 && r->caller.person_id == student))
        return 0;
    int g = a == 0 ? authz_guardian(r, r->caller.person_id, student) : 0;
    int64_t inst = 0;
    int rc = a == 0 && g == 0
                 ? db_int(r->db, &inst,
                          "SELECT c.institution_id FROM enrollments e JOIN classes c ON c.id = "
                          "e.class_id WHERE e.student_id = :s AND e.left_on IS NULL AND "
                          "c.class_teacher_id = :me",
                          DB_ARGS(DB_INT(":s", student), DB_INT(":me", r->caller.person_id)))
                 : SQLITE_DONE;
    if (a == -1)
        reply_error(r, 404, "not_found", "no such student");
    else if (a < -1 || g < 0 || (rc != SQLITE_ROW && rc != SQLITE_DONE))
        reply_db_error(r);
    else if (g == 1 || (rc == SQLITE_ROW && caller_has(r, ROLE_CLASS_TEACHER, inst)))
        return 0;
    else
        reply_error(r, 403, "forbidden",
                    "a student's passage is for the student, the parents, the class teacher and "
                    "the school's admin");
    return -1;
}

static json_t *passage_row(sqlite3_stmt *st)
{
    char hhmm[8];
    passage_hhmm((time_t)sqlite3_column_int64(st, 0), hhmm);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s}", "at", (json_int_t)sqlite3_column_int64(st, 0),
                          "time", hhmm, "day", db_col_text(st, 1), "direction", db_col_text(st, 2));
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        json_object_set_new(o, "turnstile", json_string(db_col_text(st, 3)));
    return o;
}

/* GET /api/v1/students/{id}/passage?from=&to=: the student's entries and exits of from..to
 * (by default the week up to today; at most PASSAGE_MAX_RANGE_DAYS days), in time order. */
static int passage_of_student(struct req *r)
{
    int64_t student = r->params[0];
    char from[16], to[16];
    if (mosk_query_range_or_respond(r, 7, PASSAGE_MAX_RANGE_DAYS, from, to) != 0)
        return r->status;
    if (passage_reader_or_respond(r, student) != 0)
        return r->status;
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT at, day, direction, turnstile FROM passage_events WHERE "
                 "student_id = :s AND day BETWEEN :f AND :t ORDER BY day, at, id",
                 DB_ARGS(DB_INT(":s", student), DB_TEXT(":f", from), DB_TEXT(":t", to)));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, passage_row(st));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:I,s:s,s:s,s:o}", "student_id", (json_int_t)student, "from",
                                from, "to", to, "items", items));
}

/* {"at", "time"} of an instant in column i, or null when the column is NULL. */
static json_t *moment(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    char hhmm[8];
    passage_hhmm((time_t)sqlite3_column_int64(st, i), hhmm);
    return json_pack("{s:I,s:s}", "at", (json_int_t)sqlite3_column_int64(st, i), "time", hhmm);
}

/* The latest day up to :t with passage at school :i: an entry or an exit (event_days), or a
 * denial too (passage_days). */
static const char *const event_days[] = {
    "SELECT day FROM passage_events WHERE institution_id = :i AND day <= :t ORDER BY day DESC "
    "LIMIT 1",
    NULL};
static const char *const passage_days[] = {
    "SELECT day FROM passage_events WHERE institution_id = :i AND day <= :t ORDER BY day DESC "
    "LIMIT 1",
    "SELECT day FROM passage_denials WHERE institution_id = :i AND day <= :t ORDER BY day DESC "
    "LIMIT 1",
    NULL};

/* GET /api/v1/classes/{id}/presence?date=: for the class teacher of the class, the school's
 * admin and the region admin, each current student's day (by default today; `latest`: the
 * latest day up to today with entries or exits at the school): in school now (the day's last
 * event is an entry; today only), the first entry and the last exit, the lessons that took
 * place (today: those begun by the bells) where the journal marks them present (no entry, or
 * late) or absent (absent, ill), and the flag of passage_flag. */
static int passage_presence(struct req *r)
{
    int64_t cls = r->params[0];
    char date[16], today[16];
    bool latest = false;
    time_t now = time(NULL);
    mosk_local_day(now, today);
    if (mosk_query_view_day_or_respond(r, "date", "latest", date, &latest) != 0)
        return r->status;
    if (authz_homeroom_or_respond(r, cls) != 0)
        return r->status;
    int64_t inst = 0;
    json_t *class_ref = NULL;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, grade, letter, institution_id FROM classes WHERE "
                                "id = :c",
                                DB_ARGS(DB_INT(":c", cls)));
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        json_decref(class_ref);
        class_ref = ref_class(st, 0);
        inst = sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_DONE || class_ref == NULL ||
        (latest && mosk_latest_day(r->db, inst, event_days, date) != 0)) {
        json_decref(class_ref);
        return reply_db_error(r);
    }
    bool is_today = strcmp(date, today) == 0;
    int used =
        db_exists(r->db, "SELECT 1 FROM passage_events WHERE institution_id = :i AND day = :d",
                  DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", date)));
    if (used < 0) {
        json_decref(class_ref);
        return reply_db_error(r);
    }
    char hhmm[8];
    passage_hhmm(now, hhmm);
    st = db_query(
        r->db,
        "WITH ls AS (SELECT l.id, l.group_id FROM lessons l WHERE l.class_id = :c AND "
        "l.date = :d AND l.cancelled = 0 AND (:d < :today OR NOT EXISTS (SELECT 1 FROM bells b "
        "WHERE b.institution_id = :i AND b.number = l.number AND b.starts_at > :now))), "
        "att AS (SELECT e.student_id AS sid, (SELECT a.status FROM attendance a WHERE "
        "a.lesson_id = ls.id AND a.student_id = e.student_id) AS status FROM enrollments e "
        "JOIN ls ON ls.group_id IS NULL OR EXISTS (SELECT 1 FROM group_members gm WHERE "
        "gm.group_id = ls.group_id AND gm.student_id = e.student_id) WHERE e.class_id = :c AND "
        "e.left_on IS NULL) "
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
        "(SELECT count(*) FROM att WHERE sid = p.id AND (status IS NULL OR status = 'late')), "
        "(SELECT count(*) FROM att WHERE sid = p.id AND status IN ('absent', 'ill')), "
        "(SELECT count(*) FROM att WHERE sid = p.id AND status = 'late'), "
        "(SELECT min(at) FROM passage_events x WHERE x.student_id = p.id AND x.day = :d AND "
        "x.direction = 'in'), "
        "(SELECT max(at) FROM passage_events x WHERE x.student_id = p.id AND x.day = :d AND "
        "x.direction = 'out'), "
        "(SELECT direction FROM passage_events x WHERE x.student_id = p.id AND x.day = :d "
        "ORDER BY x.at DESC, x.id DESC LIMIT 1) "
        "FROM enrollments e JOIN persons p ON p.id = e.student_id WHERE e.class_id = :c AND "
        "e.left_on IS NULL ORDER BY p.last_name, p.first_name, p.id",
        DB_ARGS(DB_INT(":c", cls), DB_TEXT(":d", date), DB_TEXT(":today", today),
                DB_INT(":i", inst), DB_TEXT(":now", hhmm)));
    json_t *students = json_array();
    int in_school = 0, entered_n = 0, flags = 0;
    while (db_next(st, &rc)) {
        int present = sqlite3_column_int(st, 4), absent = sqlite3_column_int(st, 5);
        bool entered = sqlite3_column_type(st, 7) != SQLITE_NULL;
        bool in = is_today && strcmp(db_col_text(st, 9), "in") == 0;
        const char *flag = passage_flag(present, absent, entered, used == 1);
        in_school += in;
        entered_n += entered;
        flags += flag != NULL;
        json_t *o = json_pack("{s:{s:I,s:o},s:b,s:o,s:o,s:{s:i,s:i,s:i}}", "student", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "name",
                              ref_person_name(st, 1), "in_school", in, "first_in", moment(st, 7),
                              "last_out", moment(st, 8), "lessons", "present", present, "absent",
                              absent, "late", sqlite3_column_int(st, 6));
        json_object_set_new(o, "flag", flag ? json_string(flag) : json_null());
        json_array_append_new(students, o);
    }
    if (rc != SQLITE_DONE) {
        json_decref(class_ref);
        json_decref(students);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:o,s:s,s:b,s:b,s:{s:I,s:i,s:i,s:i},s:o}", "class", class_ref,
                                "date", date, "today", is_today, "turnstiles", used == 1, "counts",
                                "students", (json_int_t)json_array_size(students), "in_school",
                                in_school, "entered", entered_n, "flags", flags, "students",
                                students));
}

#define DENIALS_SHOWN 200

/* GET /api/v1/institutions/{id}/passage?date=: a school's day (by default today; `latest`: the
 * latest day up to today with passage or denials there) for its admin and the region admin:
 * entries and exits, students who entered, who is in now (today), the same per class, and the
 * day's denials (the latest DENIALS_SHOWN, with their count). A denied carrier is named by its
 * student only when blocked and the student's own school is this one. */
static int passage_of_school(struct req *r)
{
    int64_t inst = r->params[0];
    char date[16], today[16];
    bool latest = false;
    mosk_local_day(time(NULL), today);
    if (mosk_query_view_day_or_respond(r, "date", "latest", date, &latest) != 0)
        return r->status;
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    if (latest && mosk_latest_day(r->db, inst, passage_days, date) != 0)
        return reply_db_error(r);
    bool is_today = strcmp(date, today) == 0;
    json_t *o = json_pack("{s:I,s:s,s:b}", "institution_id", (json_int_t)inst, "date", date,
                          "today", is_today);
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT coalesce(sum(direction = 'in'), 0), "
                                "coalesce(sum(direction = 'out'), 0), count(DISTINCT "
                                "CASE WHEN direction = 'in' THEN student_id END) FROM "
                                "passage_events WHERE institution_id = :i AND day = :d",
                                DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", date)));
    int rc;
    while (db_next(st, &rc)) {
        json_object_set_new(o, "entries", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "exits", json_integer(sqlite3_column_int64(st, 1)));
        json_object_set_new(o, "entered", json_integer(sqlite3_column_int64(st, 2)));
    }
    if (rc != SQLITE_DONE)
        goto failed;
    st = db_query(
        r->db,
        "WITH s AS (SELECT x.student_id, max(x.direction = 'in') AS entered, (SELECT y.direction "
        "FROM passage_events y WHERE y.student_id = x.student_id AND y.day = :d ORDER BY y.at "
        "DESC, y.id DESC LIMIT 1) AS last FROM passage_events x WHERE x.institution_id = :i AND "
        "x.day = :d GROUP BY x.student_id) "
        "SELECT c.id, c.grade, c.letter, count(*), coalesce(sum(s.entered), 0), "
        "coalesce(sum(s.last = 'in'), 0) FROM classes c JOIN enrollments e ON e.class_id = c.id "
        "AND e.left_on IS NULL LEFT JOIN s ON s.student_id = e.student_id WHERE "
        "c.institution_id = :i GROUP BY c.id ORDER BY c.grade, c.letter",
        DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", date)));
    json_t *classes = json_array();
    json_object_set_new(o, "classes", classes);
    int64_t in_now = 0;
    while (db_next(st, &rc)) {
        int64_t here = is_today ? sqlite3_column_int64(st, 5) : 0;
        in_now += here;
        json_array_append_new(classes,
                              json_pack("{s:o,s:I,s:I,s:I}", "class", ref_class(st, 0), "students",
                                        (json_int_t)sqlite3_column_int64(st, 3), "entered",
                                        (json_int_t)sqlite3_column_int64(st, 4), "in_school",
                                        (json_int_t)here));
    }
    if (rc != SQLITE_DONE)
        goto failed;
    json_object_set_new(o, "in_school", json_integer(in_now));
    int64_t ndenied = 0;
    if (db_int(r->db, &ndenied,
               "SELECT count(*) FROM passage_denials WHERE institution_id = :i AND day = :d",
               DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", date))) != SQLITE_ROW)
        goto failed;
    json_object_set_new(o, "denied", json_integer(ndenied));
    st = db_query(
        r->db,
        "SELECT d.at, d.card, d.reason, d.direction, d.turnstile, p.id, p.last_name, "
        "p.first_name, p.middle_name FROM passage_denials d LEFT JOIN cards k ON k.id = "
        "d.card_id AND d.reason = 'card_blocked' AND EXISTS (SELECT 1 FROM enrollments e JOIN "
        "classes c ON c.id = e.class_id WHERE e.student_id = k.student_id AND e.left_on IS NULL "
        "AND c.institution_id = :i) LEFT JOIN persons p ON p.id = k.student_id WHERE "
        "d.institution_id = :i AND d.day = :d ORDER BY d.at DESC, d.id DESC LIMIT :lim",
        DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", date), DB_INT(":lim", DENIALS_SHOWN)));
    json_t *denials = json_array();
    json_object_set_new(o, "denials", denials);
    while (db_next(st, &rc)) {
        json_t *x = moment(st, 0);
        json_object_set_new(x, "card", json_string(db_col_text(st, 1)));
        json_object_set_new(x, "reason", json_string(db_col_text(st, 2)));
        json_object_set_new(x, "direction", json_string(db_col_text(st, 3)));
        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            json_object_set_new(x, "turnstile", json_string(db_col_text(st, 4)));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            json_object_set_new(x, "student",
                                json_pack("{s:I,s:o}", "id",
                                          (json_int_t)sqlite3_column_int64(st, 5), "name",
                                          ref_person_name(st, 6)));
        json_array_append_new(denials, x);
    }
    if (rc != SQLITE_DONE)
        goto failed;
    return reply_json(r, 200, o);
failed:
    json_decref(o);
    return reply_db_error(r);
}

const struct route passage_routes[] = {
    {.method = "POST",
     .path = "/api/v1/passage/events",
     .handler = passage_events_post,
     .prepare = passage_events_prepare,
     .access = ACCESS_DEVICE,
     .allow = SCOPE_PASSAGE,
     .writes = true,
     .name = "passage_events",
     .bulk = true},
    {.method = "GET",
     .path = "/api/v1/students/{id}/passage",
     .handler = passage_of_student,
     .access = ACCESS_USER,
     .allow = ROLE_STUDENT | ROLE_PARENT | ROLE_CLASS_TEACHER | ADMINS,
     .name = "student_passage"},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/presence",
     .handler = passage_presence,
     .access = ACCESS_USER,
     .allow = ROLE_CLASS_TEACHER | ADMINS,
     .name = "class_presence"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/passage",
     .handler = passage_of_school,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "school_passage"},
    {0},
};
