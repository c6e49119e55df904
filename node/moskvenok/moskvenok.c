/*
 * What «Москвёнок»'s parts share (moskvenok.h): carriers, the meal account and its ledger, and
 * the exactly-once bookkeeping of terminals' events. Everything here runs inside the caller's
 * write transaction (the writer's), so a look-up and the write after it cannot interleave
 * with another request's: two terminals selling to one card are serialized there.
 */
#include "moskvenok/moskvenok.h"

#include <ctype.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "config/config.h"
#include "roles.h"
#include "school/school.h"
#include "notify/notify.h"

/* The student's school now, as a column of the card's row: one statement per look-up on the
 * terminals' hot path. */
#define SCHOOL_OF(student)                                                                         \
    "(SELECT c.institution_id FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE "       \
    "e.student_id = " student " AND e.left_on IS NULL ORDER BY e.id DESC LIMIT 1)"

int64_t mosk_student_school(struct db *db, int64_t student)
{
    int64_t school = 0;
    int rc = db_int(db, &school, "SELECT " SCHOOL_OF(":s"), DB_ARGS(DB_INT(":s", student)));
    return rc == SQLITE_ROW ? school : -1;
}

int mosk_card_find(struct db *db, const char *card, struct mosk_card *out)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT id, student_id, blocked_at IS NOT NULL, "
                                "coalesce(" SCHOOL_OF("cards.student_id") ", 0) FROM cards "
                                                                          "WHERE card = :c",
                                DB_ARGS(DB_TEXT(":c", card)));
    int rc, found = 0;
    while (db_next(st, &rc)) {
        out->id = sqlite3_column_int64(st, 0);
        out->student_id = sqlite3_column_int64(st, 1);
        out->blocked = sqlite3_column_int(st, 2) != 0;
        out->school_id = sqlite3_column_int64(st, 3);
        found = 1;
    }
    return rc != SQLITE_DONE ? -1 : found;
}

static const char *const complex_names[] = {"breakfast", "lunch", "snack"};

unsigned mosk_complex_bit(const char *kind)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(kind, complex_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *mosk_complex_name(unsigned bit)
{
    for (unsigned i = 0; i < 3; i++)
        if (bit == 1u << i)
            return complex_names[i];
    return NULL;
}

unsigned mosk_kinds_mask(const char *list)
{
    unsigned mask = 0;
    char word[16];
    for (const char *p = list; *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n > 0 && n < sizeof(word)) {
            memcpy(word, p, n);
            word[n] = '\0';
            mask |= mosk_complex_bit(word);
        }
        p += n;
    }
    return mask;
}

bool mosk_benefit_listed(const struct mes_config *cfg, const char *benefit)
{
    for (int i = 0; benefit[0] != '\0' && i < cfg->meals.nbenefit_categories; i++)
        if (strcmp(benefit, cfg->meals.benefit_categories[i]) == 0)
            return true;
    return false;
}

unsigned mosk_free_mask(const struct mes_config *cfg, int grade, const char *benefit,
                        unsigned *by_grade, unsigned *by_benefit)
{
    unsigned g = 0, b = 0;
    if (grade > 0 && grade >= cfg->meals.free_grade_from && grade <= cfg->meals.free_grade_to)
        g = mosk_kinds_mask(cfg->meals.free_complexes);
    if (mosk_benefit_listed(cfg, benefit))
        b = mosk_kinds_mask(cfg->meals.benefit_complexes);
    if (by_grade)
        *by_grade = g;
    if (by_benefit)
        *by_benefit = b;
    return g | b;
}

int mosk_free_complexes(struct db *db, const struct mes_config *cfg, int64_t student,
                        unsigned *mask)
{
    *mask = 0;
    sqlite3_stmt *st =
        db_query(db,
                 "SELECT (SELECT c.grade FROM enrollments e JOIN classes c ON c.id = e.class_id "
                 "WHERE e.student_id = :s AND e.left_on IS NULL ORDER BY e.id DESC LIMIT 1), "
                 "(SELECT benefit FROM meal_accounts WHERE student_id = :s)",
                 DB_ARGS(DB_INT(":s", student)));
    int rc;
    while (db_next(st, &rc)) {
        int grade = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 0);
        *mask = mosk_free_mask(cfg, grade, db_col_text(st, 1), NULL, NULL);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int mosk_account_ensure(struct db *db, int64_t student)
{
    return db_run(db, "INSERT OR IGNORE INTO meal_accounts (student_id) VALUES (:s)",
                  DB_ARGS(DB_INT(":s", student))) == SQLITE_DONE
               ? 0
               : -1;
}

enum mosk_post mosk_ledger_post(struct db *db, const struct mes_config *cfg, int64_t student,
                                int64_t institution, const char *kind, int64_t amount, int64_t ref,
                                time_t at, int64_t *balance)
{
    if (mosk_account_ensure(db, student) != 0)
        return MOSK_FAILED;
    int64_t before = 0, notified = 0;
    sqlite3_stmt *st = db_query(db,
                                "SELECT balance, low_notified FROM meal_accounts WHERE "
                                "student_id = :s",
                                DB_ARGS(DB_INT(":s", student)));
    int rc;
    while (db_next(st, &rc)) {
        before = sqlite3_column_int64(st, 0);
        notified = sqlite3_column_int64(st, 1);
    }
    if (rc != SQLITE_DONE)
        return MOSK_FAILED;
    *balance = before;
    int64_t after = before + amount;
    if (amount < 0 && after < -cfg->meals.overdraft_kopecks)
        return MOSK_INSUFFICIENT;
    char day[16];
    mosk_local_day(at, day);
    int64_t low = cfg->meals.low_balance_kopecks;
    bool tell = amount < 0 && after < low && !notified;
    int64_t now_notified = tell ? 1 : after >= low ? 0 : notified;
    if (db_run(db,
               "INSERT INTO ledger (student_id, institution_id, day, at, kind, amount, ref, "
               "balance) VALUES (:s, nullif(:i, 0), :d, :at, :k, :a, :ref, :b)",
               DB_ARGS(DB_INT(":s", student), DB_INT(":i", institution), DB_TEXT(":d", day),
                       DB_INT(":at", (int64_t)at), DB_TEXT(":k", kind), DB_INT(":a", amount),
                       DB_INT(":ref", ref), DB_INT(":b", after))) != SQLITE_DONE ||
        db_run(db, "UPDATE meal_accounts SET balance = :b, low_notified = :n WHERE student_id = :s",
               DB_ARGS(DB_INT(":b", after), DB_INT(":n", now_notified), DB_INT(":s", student))) !=
            SQLITE_DONE)
        return MOSK_FAILED;
    if (tell) {
        json_t *data =
            json_pack("{s:I,s:I}", "balance", (json_int_t)after, "threshold", (json_int_t)low);
        int n = data != NULL ? notify_family(db, student, "meals_low_balance", data) : -1;
        json_decref(data);
        if (n != 0)
            return MOSK_FAILED;
    }
    *balance = after;
    return MOSK_POSTED;
}

bool mosk_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e)
            return false;
    return true;
}

enum mosk_claim mosk_event_claim(struct db *db, int64_t device, const char *key, int64_t seq,
                                 const char *answer, char **reply)
{
    *reply = NULL;
    /* The insert first: a new key (nearly every one) costs one statement. The key's conflict
     * is the upsert's, checked before the sequence number's: a duplicate does nothing here,
     * another key holding the number fails the insert. */
    int rc = db_run(db,
                    "INSERT INTO terminal_events (device_id, key, seq, reply) VALUES (:d, :k, :q, "
                    "coalesce(:a, '{}')) ON CONFLICT (device_id, key) DO NOTHING",
                    DB_ARGS(DB_INT(":d", device), DB_TEXT(":k", key), DB_INT(":q", seq),
                            DB_TEXT(":a", answer)));
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return MOSK_SEQ_TAKEN;
    if (rc != SQLITE_DONE)
        return MOSK_CLAIM_FAILED;
    if (sqlite3_changes(db_handle(db)) == 1)
        return MOSK_NEW;
    sqlite3_stmt *st = db_query(db,
                                "SELECT reply FROM terminal_events WHERE device_id = :d AND "
                                "key = :k",
                                DB_ARGS(DB_INT(":d", device), DB_TEXT(":k", key)));
    while (db_next(st, &rc))
        if (*reply == NULL)
            *reply = strdup(db_col_text(st, 0));
    if (rc != SQLITE_DONE || *reply == NULL) {
        free(*reply);
        *reply = NULL;
        return MOSK_CLAIM_FAILED;
    }
    return MOSK_DUPLICATE;
}

int mosk_event_reply(struct db *db, int64_t device, const char *key, const char *reply)
{
    return db_run(db, "UPDATE terminal_events SET reply = :r WHERE device_id = :d AND key = :k",
                  DB_ARGS(DB_TEXT(":r", reply), DB_INT(":d", device), DB_TEXT(":k", key))) ==
                   SQLITE_DONE
               ? 0
               : -1;
}

int mosk_terminal_update(struct db *db, int64_t device, int64_t *held, int64_t *last)
{
    if (db_run(db, "INSERT OR IGNORE INTO terminals (device_id) VALUES (:d)",
               DB_ARGS(DB_INT(":d", device))) != SQLITE_DONE)
        return -1;
    int64_t h = 0;
    if (db_int(db, &h, "SELECT held_seq FROM terminals WHERE device_id = :d",
               DB_ARGS(DB_INT(":d", device))) != SQLITE_ROW)
        return -1;
    /* The held run grows one number at a time over the index on (device_id, seq): a batch
     * moves it by about its own size. */
    for (;;) {
        int e = db_exists(db, "SELECT 1 FROM terminal_events WHERE device_id = :d AND seq = :q",
                          DB_ARGS(DB_INT(":d", device), DB_INT(":q", h + 1)));
        if (e < 0)
            return -1;
        if (e == 0)
            break;
        h++;
    }
    int64_t l = 0;
    if (db_int(db, &l, "SELECT coalesce(max(seq), 0) FROM terminal_events WHERE device_id = :d",
               DB_ARGS(DB_INT(":d", device))) != SQLITE_ROW)
        return -1;
    if (db_run(db,
               "UPDATE terminals SET held_seq = :h, last_seq = :l, last_seen = unixepoch() "
               "WHERE device_id = :d",
               DB_ARGS(DB_INT(":h", h), DB_INT(":l", l), DB_INT(":d", device))) != SQLITE_DONE)
        return -1;
    *held = h;
    *last = l;
    return 0;
}

/* Reads exactly `n` digits at *p into *v, moving *p. 0, or -1. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

int mosk_parse_time(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
    } else {
        return -1;
    }
    if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec > 59 ? 59 : sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t - sign * (oh * 3600 + om * 60);
    return 0;
}

void mosk_local_day(time_t t, char out[16])
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The Luhn check digit of `n` digits: from the rightmost, every other digit (that one first)
 * doubled, its digits summed; the check digit brings the total to a multiple of 10. */
static int luhn_digit(const char *digits, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digits[n - 1 - i] - '0';
        if (i % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return (10 - sum % 10) % 10;
}

int mosk_account_number(int64_t student, char out[16])
{
    if (student <= 0 || student > 999999999) {
        out[0] = '\0';
        return -1;
    }
    snprintf(out, 16, "%09lld", (long long)student);
    out[9] = (char)('0' + luhn_digit(out, 9));
    out[10] = '\0';
    return 0;
}

int mosk_account_parse(const char *s, int64_t *student)
{
    if (strlen(s) != 10 || strspn(s, "0123456789") != 10 || luhn_digit(s, 9) != s[9] - '0')
        return -1;
    int64_t id = 0;
    for (int i = 0; i < 9; i++)
        id = id * 10 + (s[i] - '0');
    if (id == 0)
        return -1;
    *student = id;
    return 0;
}

int mosk_student_or_respond(struct req *r, int64_t student, unsigned who, int64_t *school,
                            bool *guardian)
{
    int64_t inst = mosk_student_school(r->db, student);
    if (inst < 0)
        return reply_db_error(r), -1;
    if (inst == 0)
        return reply_error(r, 404, "not_found", "no such student"), -1;
    *school = inst;
    int g = 0;
    if (r->caller.roles & ROLE_PARENT) {
        g = authz_guardian(r, r->caller.person_id, student);
        if (g < 0)
            return reply_db_error(r), -1;
    }
    if (guardian != NULL)
        *guardian = g == 1;
    if (((who & MOSK_WHO_PARENTS) && g == 1) ||
        ((who & MOSK_WHO_SELF) && (r->caller.roles & ROLE_STUDENT) &&
         r->caller.person_id == student) ||
        ((who & MOSK_WHO_SCHOOL_ADMIN) && caller_has(r, ROLE_SCHOOL_ADMIN, inst)) ||
        ((who & MOSK_WHO_CANTEEN) && caller_has(r, ROLE_CANTEEN, inst)) ||
        ((who & MOSK_WHO_ADMIN) && caller_is_admin(r)))
        return 0;
    reply_error(r, 403, "forbidden", "this student's meals are not yours to %s",
                r->route->writes ? "change" : "see");
    return -1;
}

long mosk_day_number(const char *day)
{
    struct tm tm = {0};
    if (!school_date_ok(day) ||
        sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long)(timegm(&tm) / 86400);
}

int mosk_day_add(const char *day, long n, char out[16])
{
    long d = mosk_day_number(day);
    if (d < 0)
        return -1;
    time_t t = (time_t)(d + n) * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
    return 0;
}

int mosk_weekday(const char *day)
{
    long d = mosk_day_number(day);
    return d < 0 ? 0 : (int)((d + 3) % 7) + 1; /* 1970-01-01 was a Thursday */
}

int mosk_query_range_or_respond(struct req *r, int days, int max, char from[16], char to[16])
{
    char today[16];
    mosk_local_day(time(NULL), today);
    /* Each read once: an absent one comes back empty. */
    if (mosk_query_day_or_respond(r, "from", "", from) != 0 ||
        mosk_query_day_or_respond(r, "to", "", to) != 0)
        return -1;
    bool has_from = from[0] != '\0', has_to = to[0] != '\0';
    if (!has_to && has_from)
        mosk_day_add(from, days - 1, to);
    else if (!has_to)
        memcpy(to, today, 16);
    if (!has_from)
        mosk_day_add(to, 1 - days, from);
    long span = mosk_day_number(to) - mosk_day_number(from) + 1;
    if (span < 1)
        return reply_field_error(r, 400, "bad_range", "to", "to must not be before from"), -1;
    if (span > max)
        return reply_field_error(r, 400, "range_too_long", "to", "at most %d days at once", max),
               -1;
    return 0;
}

int mosk_query_day_or_respond(struct req *r, const char *name, const char *fallback, char out[16])
{
    char buf[32];
    int n = req_query(r, name, buf, sizeof(buf));
    if (n == -1 && fallback != NULL) {
        snprintf(out, 16, "%s", fallback);
        return 0;
    }
    if (n < 0 || !school_date_ok(buf)) {
        reply_field_error(r, 400, "bad_date", name, "%s: a date YYYY-MM-DD", name);
        return -1;
    }
    memcpy(out, buf, 11);
    return 0;
}

int mosk_query_view_day_or_respond(struct req *r, const char *name, const char *word, char out[16],
                                   bool *chosen)
{
    char buf[32];
    *chosen = false;
    mosk_local_day(time(NULL), out);
    int n = req_query(r, name, buf, sizeof(buf));
    if (n == -1)
        return 0;
    if (n >= 0 && strcmp(buf, word) == 0) {
        *chosen = true;
        return 0;
    }
    if (n < 0 || !school_date_ok(buf)) {
        reply_field_error(r, 400, "bad_date", name, "%s: a date YYYY-MM-DD, or %s", name, word);
        return -1;
    }
    memcpy(out, buf, 11);
    return 0;
}

int mosk_query_search_or_respond(struct req *r, char q[MOSK_SEARCH_MAX],
                                 char like1[2 * MOSK_SEARCH_MAX], char like2[2 * MOSK_SEARCH_MAX])
{
    int n = req_query(r, "q", q, MOSK_SEARCH_MAX);
    if (n == -2 || (n > 0 && !school_text_ok(q, 1, 100))) {
        reply_field_error(r, 400, "bad_request", "q", "q: at most 100 characters");
        return -1;
    }
    if (n <= 0) /* absent or empty: no search */
        q[0] = '\0';
    db_like_pattern(q, false, like1, 2 * MOSK_SEARCH_MAX);
    db_like_pattern(q, true, like2, 2 * MOSK_SEARCH_MAX);
    return 0;
}

int mosk_latest_day(struct db *db, int64_t inst, const char *const *queries, char day[16])
{
    char today[16], best[16] = "";
    memcpy(today, day, 16);
    for (; *queries; queries++) {
        char *found = NULL;
        int rc = db_text(db, &found, *queries, DB_ARGS(DB_INT(":i", inst), DB_TEXT(":t", today)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -1;
        if (found && school_date_ok(found) && strcmp(found, best) > 0)
            snprintf(best, sizeof(best), "%s", found);
        free(found);
    }
    if (best[0])
        memcpy(day, best, 16);
    return 0;
}
