/*
 * «Москвёнок»'s money (docs/moskvenok.md): top-ups from the payment provider, a student's meal
 * account and its history for the family, and a school's daily reconciliation.
 *
 * Top-ups. The provider POSTs a notification {"payment_id", "account", "amount", "paid_at"}
 * signed with HMAC-SHA-256 under meals.payment_secret over TIMESTAMP "." BODY (the raw bytes:
 * the route keeps them, http.h raw_body). The route is public; its prepare step, on the worker
 * and before anything is read, checks the signature (constant time), then the timestamp's
 * age, then the body, so that an unsigned caller learns nothing of accounts. On the writer a
 * payment id seen before is a replay (the same content hash: "duplicate") or a conflict (409);
 * a new one is one `topups` row and one ledger row of kind 'topup' (mosk_ledger_post), and the
 * family is told (`meals_topup`). Every refusal changes nothing.
 *
 * The account number parents pay to is the student's id with a Luhn digit
 * (mosk_account_number). The account and the history are read by the student, their parents,
 * the school admin and canteen operator of the student's school, and the region admin.
 *
 * The reconciliation of a school's day lists each student enrolled there that day or with a
 * ledger row at the school that day: the opening balance, top-ups, sales, refunds and closing
 * balance, taken from the ledger's stored balances, and checks that each row adds up (see
 * recon_student). Load: a page view or a CSV download at a time; per student a few index
 * range reads of their own ledger rows.
 */
#include "moskvenok/money.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "log.h"
#include "moskvenok/moskvenok.h"
#include "node.h"
#include "notify/notify.h"
#include "refs.h"
#include "school/school.h"

/* The largest top-up accepted, in kopecks (1,000,000 rubles). */
#define TOPUP_MAX 100000000LL
/* The longest history asked at once, in days. */
#define HISTORY_DAYS 92

/* ---- signatures ---------------------------------------------------------------------------- */

static void hmac(const char *secret, const char *timestamp, const void *body, size_t len,
                 unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof(st));
}

void money_sign(const char *secret, const char *timestamp, const void *body, size_t len,
                char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac(secret, timestamp, body, len, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
    sodium_memzero(mac, sizeof(mac));
}

enum money_sig money_signature_check(const char *secret, const char *timestamp,
                                     const char *signature, const void *body, size_t len,
                                     time_t now)
{
    if (timestamp == NULL || signature == NULL)
        return MONEY_SIG_BAD;
    size_t tl = strlen(timestamp);
    if (tl == 0 || tl > 12 || strspn(timestamp, "0123456789") != tl)
        return MONEY_SIG_BAD;
    unsigned char given[crypto_auth_hmacsha256_BYTES];
    size_t got = 0;
    const char *end = NULL;
    if (strlen(signature) != 2 * sizeof(given) ||
        sodium_hex2bin(given, sizeof(given), signature, strlen(signature), NULL, &got, &end) != 0 ||
        got != sizeof(given) || *end != '\0')
        return MONEY_SIG_BAD;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac(secret, timestamp, body, len, mac);
    int same = crypto_verify_32(mac, given);
    sodium_memzero(mac, sizeof(mac));
    if (same != 0)
        return MONEY_SIG_BAD;
    long long ts = strtoll(timestamp, NULL, 10);
    long long skew = (long long)now - ts;
    return skew > MONEY_SKEW || skew < -MONEY_SKEW ? MONEY_SIG_STALE : MONEY_SIG_OK;
}

/* ---- days ---------------------------------------------------------------------------------- */

time_t money_day_start(const char *day, int next)
{
    int y = 0, m = 0, d = 0;
    if (sscanf(day, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return (time_t)-1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d + next, .tm_isdst = -1};
    return mktime(&tm);
}

/* ---- top-ups ------------------------------------------------------------------------------- */

/* What the prepare step found in a notification, for the handler on the writer. */
struct topup {
    char payment_id[65];
    char account[16];
    int64_t amount;
    time_t paid_at;
    unsigned char hash[crypto_generichash_BYTES];
};

/* The body's fields, each checked: 0, or -1 after answering 400 naming the field. */
static int topup_fields_or_respond(struct req *r, struct topup *t)
{
    if (r->body == NULL) {
        reply_error(r, 400, "bad_request", "a JSON object body is required");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v)
    {
        if (strcmp(key, "payment_id") != 0 && strcmp(key, "account") != 0 &&
            strcmp(key, "amount") != 0 && strcmp(key, "paid_at") != 0) {
            reply_field_error(r, 400, "bad_request", key, "unknown field");
            return -1;
        }
    }
    const char *id = json_string_value(json_object_get(r->body, "payment_id"));
    if (id == NULL || !mosk_key_valid(id)) {
        reply_field_error(r, 400, "bad_request", "payment_id",
                          "payment_id: 1-64 printable ASCII characters");
        return -1;
    }
    const char *account = json_string_value(json_object_get(r->body, "account"));
    if (account == NULL || strlen(account) != 10 || strspn(account, "0123456789") != 10) {
        reply_field_error(r, 400, "bad_request", "account", "account: the 10-digit account number");
        return -1;
    }
    json_t *amount = json_object_get(r->body, "amount");
    if (!json_is_integer(amount) || json_integer_value(amount) <= 0 ||
        json_integer_value(amount) > TOPUP_MAX) {
        reply_field_error(r, 400, "bad_request", "amount", "amount: kopecks, 1 to %lld", TOPUP_MAX);
        return -1;
    }
    const char *paid = json_string_value(json_object_get(r->body, "paid_at"));
    if (paid == NULL || mosk_parse_time(paid, &t->paid_at) != 0) {
        reply_field_error(r, 400, "bad_request", "paid_at", "paid_at: an RFC 3339 time");
        return -1;
    }
    snprintf(t->payment_id, sizeof(t->payment_id), "%s", id);
    snprintf(t->account, sizeof(t->account), "%s", account);
    t->amount = json_integer_value(amount);
    return 0;
}

/* POST /api/v1/meals/topups, before the writer: the configuration, the signature, the
 * timestamp, the body; nothing of the database is read. */
static int topups_prepare(struct req *r)
{
    const struct mes_config *cfg = &r->node->cfg;
    if (cfg->meals.payment_secret[0] == '\0')
        return reply_error(r, 503, "payments_off",
                           "top-ups are off here: meals.payment_secret is not configured");
    enum money_sig sig = money_signature_check(
        cfg->meals.payment_secret, req_header(r, "X-Payment-Timestamp"),
        req_header(r, "X-Payment-Signature"), r->raw != NULL ? r->raw : "", r->raw_len, time(NULL));
    if (sig == MONEY_SIG_BAD) {
        log_info("top-up refused from %s: a missing or wrong signature", req_remote_addr(r));
        return reply_error(r, 401, "bad_signature",
                           "X-Payment-Signature is not HMAC-SHA-256 of X-Payment-Timestamp "
                           "\".\" body under the payment secret");
    }
    if (sig == MONEY_SIG_STALE)
        return reply_error(r, 401, "stale",
                           "X-Payment-Timestamp is more than %d seconds from the node's clock",
                           MONEY_SKEW);
    struct topup *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    r->prep = t;
    r->prep_free = free;
    if (topup_fields_or_respond(r, t) != 0)
        return r->status;
    /* The content, whatever its white space and order of keys: a replay and the same
     * notification sent again with a new timestamp are one payment. */
    char *canonical = json_dumps(r->body, JSON_COMPACT | JSON_SORT_KEYS);
    if (canonical == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    crypto_generichash(t->hash, sizeof(t->hash), (const unsigned char *)canonical,
                       strlen(canonical), NULL, 0);
    free(canonical);
    return 0;
}

/* Whether the student holds a meal account or attends a school now: 1, 0, or -1. */
static int account_holder(struct db *db, int64_t student)
{
    return db_exists(db,
                     "SELECT 1 FROM meal_accounts WHERE student_id = :s UNION ALL "
                     "SELECT 1 FROM enrollments WHERE student_id = :s AND left_on IS NULL",
                     DB_ARGS(DB_INT(":s", student)));
}

/* POST /api/v1/meals/topups on the writer: applied once per payment id. */
static int topups_apply(struct req *r)
{
    const struct topup *t = r->prep;
    sqlite3_stmt *st = db_query(r->db, "SELECT content_hash FROM topups WHERE payment_id = :p",
                                DB_ARGS(DB_TEXT(":p", t->payment_id)));
    int rc, seen = 0, same = 0;
    while (db_next(st, &rc)) {
        seen = 1;
        same = sqlite3_column_bytes(st, 0) == (int)sizeof(t->hash) &&
               memcmp(sqlite3_column_blob(st, 0), t->hash, sizeof(t->hash)) == 0;
    }
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    if (seen && same)
        return reply_json(r, 200, json_pack("{s:b,s:b}", "applied", 0, "duplicate", 1));
    if (seen)
        return reply_field_error(r, 409, "payment_conflict", "payment_id",
                                 "payment %s was notified before with other content",
                                 t->payment_id);
    int64_t student = 0;
    int holder = mosk_account_parse(t->account, &student) == 0 ? account_holder(r->db, student) : 0;
    if (holder < 0)
        return reply_db_error(r);
    if (holder == 0)
        return reply_field_error(r, 404, "unknown_account", "account", "no such meal account");
    int64_t school = mosk_student_school(r->db, student);
    if (school < 0)
        return reply_db_error(r);
    time_t now = time(NULL);
    if (db_run(r->db,
               "INSERT INTO topups (payment_id, student_id, amount, paid_at, received_at, "
               "content_hash) VALUES (:p, :s, :a, :paid, :now, :h)",
               DB_ARGS(DB_TEXT(":p", t->payment_id), DB_INT(":s", student), DB_INT(":a", t->amount),
                       DB_INT(":paid", (int64_t)t->paid_at), DB_INT(":now", (int64_t)now),
                       DB_BLOB(":h", t->hash, (int)sizeof(t->hash)))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db), balance = 0;
    /* The money is on the account when it arrives: the ledger row is dated now (paid_at stays
     * in the top-up's row), so a day's reconciliation counts what reached the accounts. */
    if (mosk_ledger_post(r->db, &r->node->cfg, student, school, "topup", t->amount, id, now,
                         &balance) != MOSK_POSTED)
        return reply_db_error(r);
    json_t *data =
        json_pack("{s:I,s:I}", "amount", (json_int_t)t->amount, "balance", (json_int_t)balance);
    int told = data != NULL ? notify_family(r->db, student, "meals_topup", data) : -1;
    json_decref(data);
    if (told != 0)
        return reply_db_error(r);
    return reply_json(r, 200,
                      json_pack("{s:b,s:I,s:I}", "applied", 1, "balance", (json_int_t)balance,
                                "topup", (json_int_t)id));
}

/* ---- the account and its history ----------------------------------------------------------- */

/* GET /api/v1/students/{id}/meals/account */
static int money_account(struct req *r)
{
    int64_t student = r->params[0], school = 0;
    if (mosk_student_or_respond(r, student, MOSK_WHO_READERS, &school, NULL) != 0)
        return r->status;
    const struct mes_config *cfg = &r->node->cfg;
    char number[16], today[16];
    if (mosk_account_number(student, number) != 0)
        number[0] = '\0';
    mosk_local_day(time(NULL), today);
    json_t *o = json_pack("{s:I,s:s?,s:n,s:b,s:n,s:I,s:I,s:I,s:s?}", "balance", (json_int_t)0,
                          "account_number", number[0] ? number : NULL, "daily_limit", "blocked", 0,
                          "benefit", "spent_today", (json_int_t)0, "low_balance_threshold",
                          (json_int_t)cfg->meals.low_balance_kopecks, "overdraft",
                          (json_int_t)cfg->meals.overdraft_kopecks, "payment_url",
                          cfg->meals.payment_url[0] ? cfg->meals.payment_url : NULL);
    if (o == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT balance, daily_limit, blocked_at IS NOT NULL, benefit "
                                "FROM meal_accounts WHERE student_id = :s",
                                DB_ARGS(DB_INT(":s", student)));
    int rc;
    while (db_next(st, &rc)) {
        json_object_set_new(o, "balance", json_integer(sqlite3_column_int64(st, 0)));
        if (sqlite3_column_type(st, 1) != SQLITE_NULL)
            json_object_set_new(o, "daily_limit", json_integer(sqlite3_column_int64(st, 1)));
        json_object_set_new(o, "blocked", json_boolean(sqlite3_column_int(st, 2)));
        const char *benefit = db_col_text(st, 3);
        if (benefit[0] != '\0')
            json_object_set_new(o, "benefit", json_string(benefit));
    }
    if (rc != SQLITE_DONE) {
        json_decref(o);
        return reply_db_error(r);
    }
    /* What counts against the daily limit: today's approved sales not refunded. */
    int64_t spent = 0;
    if (db_int(r->db, &spent,
               "SELECT coalesce(sum(total), 0) FROM sales WHERE student_id = :s AND day = :d "
               "AND status = 'approved' AND refunded_at IS NULL",
               DB_ARGS(DB_INT(":s", student), DB_TEXT(":d", today))) != SQLITE_ROW) {
        json_decref(o);
        return reply_db_error(r);
    }
    json_object_set_new(o, "spent_today", json_integer(spent));
    return reply_json(r, 200, o);
}

static json_t *history_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:I,s:I}", "at", (json_int_t)sqlite3_column_int64(st, 0),
                     "day", db_col_text(st, 1), "kind", db_col_text(st, 2), "amount",
                     (json_int_t)sqlite3_column_int64(st, 3), "balance",
                     (json_int_t)sqlite3_column_int64(st, 4), "ref",
                     (json_int_t)sqlite3_column_int64(st, 5));
}

/* GET /api/v1/students/{id}/meals/history?from=&to=: the ledger's rows of those days (the
 * node's), newest first. */
static int money_history(struct req *r)
{
    int64_t student = r->params[0], school = 0;
    char from[16], to[16];
    if (mosk_query_range_or_respond(r, 30, HISTORY_DAYS, from, to) != 0)
        return r->status;
    if (mosk_student_or_respond(r, student, MOSK_WHO_READERS, &school, NULL) != 0)
        return r->status;
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT at, day, kind, amount, balance, ref FROM ledger "
                 "WHERE student_id = :s AND at >= :t0 AND at < :t1 "
                 "ORDER BY at DESC, id DESC",
                 DB_ARGS(DB_INT(":s", student), DB_INT(":t0", (int64_t)money_day_start(from, 0)),
                         DB_INT(":t1", (int64_t)money_day_start(to, 1))));
    return reply_rows(r, st, history_row);
}

/* ---- the reconciliation -------------------------------------------------------------------- */

/* One student's day. Amounts in kopecks; sales and refunds as positive sums. */
struct recon {
    int64_t opening, topups, sales, refunds, closing;
    int64_t free_count, free_value, declined_count, declined_value;
    int64_t account, ledger_last; /* the account's balance; the ledger's last stored balance */
};

/* The ledger's balance at `t` (the student's rows dated before it), from its stored balances:
 * the balance after the last row entered (highest id) among those dated before `t`, less the
 * rows dated at or after `t` that were entered before it (a terminal's late upload dates a
 * row earlier than rows entered before it). Only index ranges of the student's rows are read:
 * the ids of the rows before `t`, and the rows since. 0, or -1 on a storage failure. */
static int balance_at(struct db *db, int64_t student, time_t t, int64_t *out)
{
    int64_t last = 0, stored = 0, later = 0;
    *out = 0;
    if (db_int(db, &last,
               "SELECT coalesce(max(id), 0) FROM ledger WHERE student_id = :s AND at < :t",
               DB_ARGS(DB_INT(":s", student), DB_INT(":t", (int64_t)t))) != SQLITE_ROW)
        return -1;
    if (last == 0)
        return 0;
    if (db_int(db, &stored, "SELECT balance FROM ledger WHERE id = :id",
               DB_ARGS(DB_INT(":id", last))) != SQLITE_ROW ||
        db_int(db, &later,
               "SELECT coalesce(sum(amount), 0) FROM ledger WHERE student_id = :s AND at >= :t "
               "AND id < :id",
               DB_ARGS(DB_INT(":s", student), DB_INT(":t", (int64_t)t), DB_INT(":id", last))) !=
            SQLITE_ROW)
        return -1;
    *out = stored - later;
    return 0;
}

/* A student's day at school `inst`, from `t0` to `t1` (the day `day`): the opening and
 * closing balances from the ledger's stored balances (balance_at), the day's rows summed by
 * kind, and the student's sales at the school that day (free meals among the approved ones;
 * offline sales declined at upload: handed out, not paid, worth their lines not given free).
 * The opening plus the movements equals the closing exactly when the stored balances
 * between the two agree with the rows' amounts. 0, or -1 on a storage failure. */
static int recon_student(struct db *db, int64_t student, int64_t inst, const char *day, time_t t0,
                         time_t t1, struct recon *o)
{
    memset(o, 0, sizeof(*o));
    if (balance_at(db, student, t0, &o->opening) != 0 ||
        balance_at(db, student, t1, &o->closing) != 0)
        return -1;
    sqlite3_stmt *st = db_query(
        db,
        "SELECT kind, coalesce(sum(amount), 0) FROM ledger WHERE "
        "student_id = :s AND at >= :t0 AND at < :t1 GROUP BY kind",
        DB_ARGS(DB_INT(":s", student), DB_INT(":t0", (int64_t)t0), DB_INT(":t1", (int64_t)t1)));
    int rc;
    while (db_next(st, &rc)) {
        const char *kind = db_col_text(st, 0);
        int64_t sum = sqlite3_column_int64(st, 1);
        if (strcmp(kind, "topup") == 0)
            o->topups += sum;
        else if (strcmp(kind, "sale") == 0)
            o->sales -= sum;
        else if (strcmp(kind, "refund") == 0)
            o->refunds += sum;
    }
    if (rc != SQLITE_DONE)
        return -1;
    /* By the student's index (the school's would read every sale of its day per student). */
    st = db_query(db,
                  "SELECT s.status, s.offline, s.free_value, "
                  "(SELECT coalesce(sum(quantity), 0) FROM sale_lines WHERE sale_id = s.id AND "
                  "free = 1), "
                  "(SELECT coalesce(sum(quantity * price), 0) FROM sale_lines WHERE sale_id = "
                  "s.id AND free = 0) "
                  "FROM sales s WHERE s.student_id = :s AND s.day = :d AND +s.institution_id = :i",
                  DB_ARGS(DB_INT(":s", student), DB_TEXT(":d", day), DB_INT(":i", inst)));
    while (db_next(st, &rc)) {
        bool approved = strcmp(db_col_text(st, 0), "approved") == 0;
        if (approved) {
            o->free_value += sqlite3_column_int64(st, 2);
            o->free_count += sqlite3_column_int64(st, 3);
        } else if (sqlite3_column_int(st, 1)) {
            o->declined_count++;
            o->declined_value += sqlite3_column_int64(st, 4);
        }
    }
    if (rc != SQLITE_DONE)
        return -1;
    int64_t last = 0;
    rc = db_int(db, &o->account, "SELECT balance FROM meal_accounts WHERE student_id = :s",
                DB_ARGS(DB_INT(":s", student)));
    if ((rc != SQLITE_ROW && rc != SQLITE_DONE) ||
        db_int(db, &last, "SELECT coalesce(max(id), 0) FROM ledger WHERE student_id = :s",
               DB_ARGS(DB_INT(":s", student))) != SQLITE_ROW)
        return -1;
    if (last != 0 && db_int(db, &o->ledger_last, "SELECT balance FROM ledger WHERE id = :id",
                            DB_ARGS(DB_INT(":id", last))) != SQLITE_ROW)
        return -1;
    return db_failure() == 0 ? 0 : -1;
}

static bool recon_adds_up(const struct recon *x)
{
    return x->opening + x->topups - x->sales + x->refunds == x->closing;
}

static void recon_add(struct recon *sum, const struct recon *x)
{
    sum->opening += x->opening;
    sum->topups += x->topups;
    sum->sales += x->sales;
    sum->refunds += x->refunds;
    sum->closing += x->closing;
    sum->free_count += x->free_count;
    sum->free_value += x->free_value;
    sum->declined_count += x->declined_count;
    sum->declined_value += x->declined_value;
}

static json_t *recon_json(const struct recon *x)
{
    return json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "opening", (json_int_t)x->opening, "topups",
        (json_int_t)x->topups, "sales", (json_int_t)x->sales, "refunds", (json_int_t)x->refunds,
        "closing", (json_int_t)x->closing, "free_count", (json_int_t)x->free_count, "free_value",
        (json_int_t)x->free_value, "declined_offline_count", (json_int_t)x->declined_count,
        "declined_offline_value", (json_int_t)x->declined_value, "adds_up", recon_adds_up(x));
}

/* A problem the check found: a row (or the totals, student 0) that does not add up, or an
 * account whose balance is not its ledger's last. */
static json_t *recon_problem(int64_t student, const char *problem, int64_t expected, int64_t actual)
{
    json_t *p = json_pack("{s:s,s:I,s:I}", "problem", problem, "expected", (json_int_t)expected,
                          "actual", (json_int_t)actual);
    json_object_set_new(p, "student", student ? json_integer(student) : json_null());
    return p;
}

/* A CSV field: quoted when it holds the separator, a quote or a line break; a text that a
 * spreadsheet would take for a formula (=, +, -, @ first) is quoted with an apostrophe. */
static void csv_text(FILE *f, const char *s)
{
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    if (!formula && strpbrk(s, ";\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void csv_amounts(FILE *f, const struct recon *x)
{
    fprintf(f, ";%lld;%lld;%lld;%lld;%lld;%lld;%lld;%lld;%lld;%d\r\n", (long long)x->opening,
            (long long)x->topups, (long long)x->sales, (long long)x->refunds, (long long)x->closing,
            (long long)x->free_count, (long long)x->free_value, (long long)x->declined_count,
            (long long)x->declined_value, recon_adds_up(x));
}

/* The CSV form of the answer `o` (its items and totals), as an owned reply. */
static int recon_csv(struct req *r, json_t *o, int64_t inst, const char *day)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    fputs("\xEF\xBB\xBF", f); /* the BOM: Excel then reads UTF-8 */
    fputs("student_id;student;class;account_number;opening;topups;sales;refunds;closing;"
          "free_count;free_value;declined_offline_count;declined_offline_value;adds_up\r\n",
          f);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(o, "items"), i, row)
    {
        json_t *cls = json_object_get(row, "class");
        fprintf(
            f, "%lld;",
            (long long)json_integer_value(json_object_get(json_object_get(row, "student"), "id")));
        csv_text(f, json_string_value(json_object_get(json_object_get(row, "student"), "name")));
        fputc(';', f);
        csv_text(f, cls != NULL && !json_is_null(cls)
                        ? json_string_value(json_object_get(cls, "name"))
                        : "");
        fputc(';', f);
        const char *number = json_string_value(json_object_get(row, "account_number"));
        fputs(number != NULL ? number : "", f);
        struct recon x = {
            .opening = json_integer_value(json_object_get(row, "opening")),
            .topups = json_integer_value(json_object_get(row, "topups")),
            .sales = json_integer_value(json_object_get(row, "sales")),
            .refunds = json_integer_value(json_object_get(row, "refunds")),
            .closing = json_integer_value(json_object_get(row, "closing")),
            .free_count = json_integer_value(json_object_get(row, "free_count")),
            .free_value = json_integer_value(json_object_get(row, "free_value")),
            .declined_count = json_integer_value(json_object_get(row, "declined_offline_count")),
            .declined_value = json_integer_value(json_object_get(row, "declined_offline_value")),
        };
        csv_amounts(f, &x);
    }
    json_t *tot = json_object_get(o, "totals");
    struct recon x = {
        .opening = json_integer_value(json_object_get(tot, "opening")),
        .topups = json_integer_value(json_object_get(tot, "topups")),
        .sales = json_integer_value(json_object_get(tot, "sales")),
        .refunds = json_integer_value(json_object_get(tot, "refunds")),
        .closing = json_integer_value(json_object_get(tot, "closing")),
        .free_count = json_integer_value(json_object_get(tot, "free_count")),
        .free_value = json_integer_value(json_object_get(tot, "free_value")),
        .declined_count = json_integer_value(json_object_get(tot, "declined_offline_count")),
        .declined_value = json_integer_value(json_object_get(tot, "declined_offline_value")),
    };
    fputs("total;;;", f);
    csv_amounts(f, &x);
    if (fclose(f) != 0 || buf == NULL) {
        free(buf);
        return reply_error(r, 503, "unavailable", "out of memory");
    }
    reply_header(r, "Content-Disposition", "attachment; filename=\"reconciliation-%lld-%s.csv\"",
                 (long long)inst, day);
    return reply_raw(r, 200, "text/csv; charset=utf-8", buf, len, true);
}

/* GET /api/v1/institutions/{id}/meals/reconciliation?date=[&format=csv] (the school admin and
 * canteen operator of the school, the region admin): a day, today by default; `latest`, the
 * latest day up to today with a movement of money at the school. */
static int money_reconciliation(struct req *r)
{
    int64_t inst = r->params[0];
    char day[16], today[16], format[8];
    bool latest = false;
    mosk_local_day(time(NULL), today);
    if (mosk_query_view_day_or_respond(r, "date", "latest", day, &latest) != 0)
        return r->status;
    int n = req_query(r, "format", format, sizeof(format));
    bool csv = n > 0 && strcmp(format, "csv") == 0;
    if (n != -1 && !csv && strcmp(format, "json") != 0)
        return reply_field_error(r, 400, "bad_request", "format", "format: json or csv");
    char *name = NULL;
    int rc =
        db_text(r->db, &name,
                "SELECT coalesce(nullif(short_name, ''), name) FROM institutions WHERE id = :i",
                DB_ARGS(DB_INT(":i", inst)));
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such institution")
                                 : reply_db_error(r);
    if (!caller_is_admin(r) && !caller_has(r, ROLE_SCHOOL_ADMIN, inst) &&
        !caller_has(r, ROLE_CANTEEN, inst)) {
        free(name);
        return reply_error(r, 403, "forbidden",
                           "the reconciliation is for the school's admin and canteen operator");
    }
    static const char *const ledger_days[] = {"SELECT day FROM ledger WHERE institution_id = :i "
                                              "AND day <= :t ORDER BY day DESC LIMIT 1",
                                              NULL};
    if (latest && mosk_latest_day(r->db, inst, ledger_days, day) != 0) {
        free(name);
        return reply_db_error(r);
    }
    json_t *o = json_pack("{s:{s:I,s:s},s:s,s:b}", "institution", "id", (json_int_t)inst, "name",
                          name, "date", day, "today", strcmp(day, today) == 0);
    free(name);
    if (o == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    time_t t0 = money_day_start(day, 0), t1 = money_day_start(day, 1);
    /* The school's students that day: enrolled there (an enrolment begun by then and not
     * ended), or with a ledger row at the school. */
    sqlite3_stmt *st = db_query(
        r->db,
        "WITH ids(id) AS (SELECT e.student_id FROM classes c JOIN enrollments e ON e.class_id = "
        "c.id WHERE c.institution_id = :i AND e.enrolled_on <= :d AND (e.left_on IS NULL OR "
        "e.left_on > :d) UNION SELECT student_id FROM ledger WHERE institution_id = :i AND day = "
        ":d) "
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, c.id, c.grade, c.letter FROM ids "
        "JOIN persons p ON p.id = ids.id LEFT JOIN classes c ON c.id = (SELECT e.class_id FROM "
        "enrollments e JOIN classes k ON k.id = e.class_id WHERE e.student_id = p.id AND "
        "k.institution_id = :i AND e.enrolled_on <= :d ORDER BY e.enrolled_on DESC, e.id DESC "
        "LIMIT 1) "
        "ORDER BY c.id IS NULL, c.grade, c.letter, p.last_name, p.first_name, p.id",
        DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day)));
    /* The students are read to the end first; each one's day is read after. */
    json_t *items = json_array();
    int64_t *ids = NULL;
    size_t count = 0, cap = 0;
    bool oom = items == NULL;
    while (db_next(st, &rc)) {
        if (oom)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *grown = realloc(ids, cap * sizeof(*ids));
            if (grown == NULL) {
                oom = true;
                continue;
            }
            ids = grown;
        }
        int64_t id = sqlite3_column_int64(st, 0);
        char number[16];
        json_t *row =
            json_pack("{s:{s:I,s:o},s:o,s:s?}", "student", "id", (json_int_t)id, "name",
                      ref_person_name(st, 1), "class",
                      sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() : ref_class(st, 4),
                      "account_number", mosk_account_number(id, number) == 0 ? number : NULL);
        if (json_array_append_new(items, row) != 0)
            oom = true;
        else
            ids[count++] = id;
    }
    if (rc != SQLITE_DONE || oom) {
        free(ids);
        json_decref(items);
        json_decref(o);
        return rc != SQLITE_DONE ? reply_db_error(r)
                                 : reply_error(r, 503, "unavailable", "out of memory");
    }
    struct recon total = {0};
    json_t *problems = json_array();
    for (size_t i = 0; i < count; i++) {
        struct recon x;
        if (recon_student(r->db, ids[i], inst, day, t0, t1, &x) != 0) {
            free(ids);
            json_decref(items);
            json_decref(problems);
            json_decref(o);
            return reply_db_error(r);
        }
        json_t *sums = recon_json(&x);
        json_object_update(json_array_get(items, i), sums);
        json_decref(sums);
        recon_add(&total, &x);
        if (!recon_adds_up(&x))
            json_array_append_new(
                problems, recon_problem(ids[i], "sum", x.opening + x.topups - x.sales + x.refunds,
                                        x.closing));
        if (x.account != x.ledger_last)
            json_array_append_new(problems,
                                  recon_problem(ids[i], "account", x.ledger_last, x.account));
    }
    free(ids);
    /* The school's free meals and unpaid offline sales count every sale of the day there,
     * those to unknown cards and to students outside the list too. */
    st = db_query(r->db,
                  "SELECT coalesce(sum(CASE WHEN status = 'approved' THEN free_value END), 0), "
                  "coalesce(sum(CASE WHEN status = 'approved' THEN (SELECT coalesce(sum(quantity), "
                  "0) FROM sale_lines WHERE sale_id = s.id AND free = 1) END), 0), "
                  "coalesce(sum(status = 'declined' AND offline = 1), 0), "
                  "coalesce(sum(CASE WHEN status = 'declined' AND offline = 1 THEN (SELECT "
                  "coalesce(sum(quantity * price), 0) FROM sale_lines WHERE sale_id = s.id AND "
                  "free = 0) END), 0) "
                  "FROM sales s WHERE institution_id = :i AND day = :d",
                  DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day)));
    while (db_next(st, &rc)) {
        total.free_value = sqlite3_column_int64(st, 0);
        total.free_count = sqlite3_column_int64(st, 1);
        total.declined_count = sqlite3_column_int64(st, 2);
        total.declined_value = sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        json_decref(problems);
        json_decref(o);
        return reply_db_error(r);
    }
    if (!recon_adds_up(&total))
        json_array_append_new(
            problems,
            recon_problem(0, "sum", total.opening + total.topups - total.sales + total.refunds,
                          total.closing));
    json_t *totals = recon_json(&total);
    json_object_set_new(totals, "students", json_integer((json_int_t)count));
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "totals", totals);
    if (json_array_size(problems) > 0) {
        /* A row that does not add up is a bug in how money moved: say so where it is seen. */
        char *text = json_dumps(problems, JSON_COMPACT);
        log_error("BUG: the meals reconciliation of institution %lld on %s does not add up: %s",
                  (long long)inst, day, text ? text : "(out of memory)");
        free(text);
        json_object_set_new(o, "check", problems);
    } else {
        json_decref(problems);
        json_object_set_new(o, "check", json_true());
    }
    if (csv) {
        int status = recon_csv(r, o, inst, day);
        json_decref(o);
        return status;
    }
    return reply_json(r, 200, o);
}

/* ---- routes -------------------------------------------------------------------------------- */

#define READERS (ROLE_STUDENT | ROLE_PARENT | ROLE_SCHOOL_ADMIN | ROLE_CANTEEN | ROLE_ADMIN)

const struct route money_routes[] = {
    {.method = "POST",
     .path = "/api/v1/meals/topups",
     .handler = topups_apply,
     .prepare = topups_prepare,
     .access = ACCESS_PUBLIC,
     .writes = true,
     .raw_body = true,
     .name = "meals_topup"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/account",
     .handler = money_account,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "meals_account"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/history",
     .handler = money_history,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "meals_history"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/meals/reconciliation",
     .handler = money_reconciliation,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_CANTEEN,
     .name = "meals_reconciliation"},
    {0},
};
