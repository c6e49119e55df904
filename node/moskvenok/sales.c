/*
 * «Москвёнок»'s buffet (docs/moskvenok.md): a terminal's sale to a card, the family's controls
 * over it (a stop list, a daily limit, a blocked account), the family's purchases, and the
 * canteen's day of sales with its refunds.
 *
 * A sale is decided and debited in one request on the writer: every look-up and the ledger row
 * after it run in the same transaction, so two terminals selling to one card at the same
 * moment are serialized and can never take the balance below the region's overdraft. Each
 * (terminal, key) is applied once (mosk_event_claim): a key seen again answers the first
 * answer, stored as JSON (mosk_event_reply). The decision, in order, and the first reason
 * that applies declines the sale:
 *
 *   unknown_card        the carrier is not registered
 *   card_blocked        it is blocked (lost, replaced)
 *   other_school        the student does not study at the terminal's school
 *   unknown_item        an item is not this school's or is off sale; a complex is not of this
 *                       school's menu for the sale's day
 *   account_blocked     a parent or the school stopped the account
 *   stop_list           a buffet item, or its category, is on the parent's stop list
 *                       (complexes are never stopped)
 *   daily_limit         the day's approved, unrefunded sales plus this one exceed the limit
 *   insufficient_funds  the balance would fall below -meals.overdraft_kopecks
 *
 * The price: a complex the student eats free by the region's rules (mosk_free_complexes) costs
 * nothing, once per kind a day (the second lunch of the day is paid); one unit of a line is
 * then free and the rest paid, as two sale lines. An approved sale is a `sales` row, its lines
 * and one ledger row 'sale' (none when it costs nothing); a declined one is stored too, with its
 * reason and lines, its total and free value 0 and no ledger row. An offline sale (the terminal
 * sold while cut off and uploads later, with its time) follows the same rules at upload; one
 * that cannot be paid is stored declined and shown to the canteen as handed out unpaid.
 *
 * Reading a sale and applying it (sales_parse, sales_apply) are in sales.h for the unit tests.
 *
 * Load: a sale is some twenty indexed point queries; a batch of up to 500 runs as one write
 * request. Family and canteen reads go by sales(student_id, day) and sales(institution_id, day):
 * a page of the canteen's day, its totals and its summary each read that day's sales of the
 * school (a few thousand at a big school) and no other, and the latest day with sales is one
 * step down that index.
 */
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/sales.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

#define SALE_BATCH_MAX     500      /* sales of one upload */
#define STOPLIST_ITEMS_MAX 500      /* items on one stop list */
#define LIMIT_MAX          10000000 /* kopecks: 100 000 rubles a day */
#define RANGE_DAYS_MAX     92       /* days of the family's purchases at once */
#define REASON_MAX         500      /* characters of a refund's reason */

/* The buffet's categories (meals.sql, buffet_items.category). */
static const char *const categories[] = {"hot",   "bakery", "dairy", "drinks",
                                         "fruit", "sweets", "snacks"};
#define NCATEGORIES (sizeof(categories) / sizeof(categories[0]))

static bool category_known(const char *c)
{
    for (size_t i = 0; i < NCATEGORIES; i++)
        if (strcmp(c, categories[i]) == 0)
            return true;
    return false;
}

/* ---- a sale as the terminal sent it ------------------------------------------------------ */

/* Whether `s` is a carrier's identifier: 1 to SALE_CARD_MAX bytes, no control characters. */
static bool card_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SALE_CARD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* A positive integer that a JSON number holds exactly (up to 2^53). */
static bool positive_id(json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > 9007199254740992LL)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* Names the field `prefix`.`name` (`name` alone, or `prefix` alone when `name` is "") in
 * `field` and the reason in *why. Returns -1. */
static int bad(const char *prefix, const char *name, const char *reason, char *field, size_t size,
               const char **why)
{
    snprintf(field, size, "%s%s%s", prefix, prefix[0] && name[0] ? "." : "", name);
    *why = reason;
    return -1;
}

/* One line of a sale, `o`, into *l; `prefix` names it ("items[2]"). 0, or -1 as sales_parse. */
static int line_parse(json_t *o, const char *prefix, struct sale_line_in *l, char *field,
                      size_t size, const char **why)
{
    if (!json_is_object(o))
        return bad(prefix, "", "a line is {\"id\" or \"complex\", \"quantity\"}", field, size, why);
    const char *k;
    json_t *v;
    bool has_id = false, has_quantity = false;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "id") == 0 || strcmp(k, "complex") == 0) {
            if (has_id)
                return bad(prefix, k, "give either id (a buffet item) or complex", field, size,
                           why);
            if (!positive_id(v, &l->id))
                return bad(prefix, k, "a positive integer", field, size, why);
            l->complex = k[0] == 'c';
            has_id = true;
        } else if (strcmp(k, "quantity") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > SALE_QUANTITY_MAX)
                return bad(prefix, k, "an integer of 1-100", field, size, why);
            l->quantity = json_integer_value(v);
            has_quantity = true;
        } else {
            return bad(prefix, k, "unknown field", field, size, why);
        }
    }
    if (!has_id)
        return bad(prefix, "id", "a buffet item's id, or complex: a complex's id", field, size,
                   why);
    if (!has_quantity)
        return bad(prefix, "quantity", "required: an integer of 1-100", field, size, why);
    return 0;
}

int sales_parse(json_t *o, const char *prefix, struct sale_in *s, char *field, size_t size,
                const char **why)
{
    memset(s, 0, sizeof(*s));
    if (!json_is_object(o))
        return bad(prefix, "", "a sale is an object", field, size, why);
    const char *k;
    json_t *v, *items = NULL, *at = NULL;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "key") == 0) {
            if (!json_is_string(v) || !mosk_key_valid(json_string_value(v)))
                return bad(prefix, k, "1-64 printable ASCII characters", field, size, why);
            s->key = json_string_value(v);
        } else if (strcmp(k, "seq") == 0) {
            if (!positive_id(v, &s->seq))
                return bad(prefix, k, "the terminal's sequence number, 1, 2, 3...", field, size,
                           why);
        } else if (strcmp(k, "card") == 0) {
            if (!json_is_string(v) || !card_valid(json_string_value(v)))
                return bad(prefix, k, "the carrier's identifier, 1-128 bytes", field, size, why);
            s->card = json_string_value(v);
        } else if (strcmp(k, "items") == 0) {
            items = v;
        } else if (strcmp(k, "at") == 0) {
            at = v;
        } else if (strcmp(k, "offline") == 0) {
            if (!json_is_boolean(v))
                return bad(prefix, k, "true or false", field, size, why);
            s->offline = json_is_true(v);
        } else {
            return bad(prefix, k, "unknown field", field, size, why);
        }
    }
    if (s->key == NULL)
        return bad(prefix, "key", "required", field, size, why);
    if (s->seq == 0)
        return bad(prefix, "seq", "required", field, size, why);
    if (s->card == NULL)
        return bad(prefix, "card", "required", field, size, why);
    if (!json_is_array(items) || json_array_size(items) < 1 ||
        json_array_size(items) > SALE_LINES_MAX)
        return bad(prefix, "items", "1-50 lines", field, size, why);
    for (size_t i = 0; i < json_array_size(items); i++) {
        char line[64];
        snprintf(line, sizeof(line), "%s%sitems[%zu]", prefix, prefix[0] ? "." : "", i);
        if (line_parse(json_array_get(items, i), line, &s->lines[i], field, size, why) != 0)
            return -1;
    }
    s->nlines = (int)json_array_size(items);
    s->at = time(NULL);
    if (at != NULL && (!json_is_string(at) || mosk_parse_time(json_string_value(at), &s->at) != 0))
        return bad(prefix, "at", "an RFC 3339 time", field, size, why);
    return 0;
}

/* sales_parse, answering 400 bad_request with the field on bad input. 0, or -1 once answered. */
static int sale_parse_or_respond(struct req *r, json_t *o, const char *prefix, struct sale_in *s)
{
    char field[96];
    const char *why = "";
    if (sales_parse(o, prefix, s, field, sizeof(field), &why) == 0)
        return 0;
    reply_field_error(r, 400, "bad_request", field, "%s: %s", field, why);
    return -1;
}

/* ---- the decision ---------------------------------------------------------------------- */

/* A line as the menu prices it. */
struct line {
    const struct sale_line_in *in;
    bool valid;         /* this school's, on sale (an item), of the sale's day (a complex) */
    char category[16];  /* an item's category, or a complex's kind */
    unsigned bit;       /* a complex's kind (enum mosk_complex), 0 for an item */
    int64_t price;      /* one unit's */
    int64_t free_units; /* given free by the region's rules */
};

/* Prices line `l` from the menu for a sale at `school` on `day`. 0, or -1 on a storage
 * failure. */
static int line_resolve(struct db *db, int64_t school, const char *day, struct line *l)
{
    sqlite3_stmt *st =
        l->in->complex
            ? db_query(db,
                       "SELECT institution_id, kind, price, day = :d FROM meal_complexes WHERE "
                       "id = :id",
                       DB_ARGS(DB_INT(":id", l->in->id), DB_TEXT(":d", day)))
            : db_query(db,
                       "SELECT institution_id, category, price, active FROM buffet_items WHERE "
                       "id = :id",
                       DB_ARGS(DB_INT(":id", l->in->id)));
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        snprintf(l->category, sizeof(l->category), "%s", db_col_text(st, 1));
        l->price = sqlite3_column_int64(st, 2);
        l->valid = sqlite3_column_int64(st, 0) == school && sqlite3_column_int(st, 3) != 0;
        l->bit = l->in->complex ? mosk_complex_bit(l->category) : 0;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The stored lines of sale `sale`: the valid lines, a line with free units split in two. 0 or
 * -1. */
static int lines_store(struct db *db, int64_t sale, const struct line *lines, int n)
{
    for (int i = 0; i < n; i++) {
        if (!lines[i].valid)
            continue;
        int64_t parts[2][2] = {{lines[i].free_units, 1},
                               {lines[i].in->quantity - lines[i].free_units, 0}};
        for (int p = 0; p < 2; p++) {
            if (parts[p][0] <= 0)
                continue;
            const struct db_arg *args =
                DB_ARGS(DB_INT(":sale", sale), DB_INT(":id", lines[i].in->id),
                        DB_INT(":q", parts[p][0]), DB_INT(":f", parts[p][1]));
            int rc =
                lines[i].in->complex
                    ? db_run(db,
                             "INSERT INTO sale_lines (sale_id, complex_id, name, category, "
                             "quantity, price, free) SELECT :sale, id, CASE WHEN "
                             "json_valid(dishes) AND json_array_length(dishes) > 0 THEN (SELECT "
                             "group_concat(value, ', ') FROM json_each(dishes)) ELSE kind END, "
                             "kind, :q, price, :f FROM meal_complexes WHERE id = :id",
                             args)
                    : db_run(db,
                             "INSERT INTO sale_lines (sale_id, item_id, name, category, "
                             "quantity, price, free) SELECT :sale, id, name, category, :q, "
                             "price, :f FROM buffet_items WHERE id = :id",
                             args);
            if (rc != SQLITE_DONE)
                return -1;
        }
    }
    return 0;
}

/* The student's account as a sale reads it. */
struct account {
    int64_t balance;
    int64_t daily_limit; /* -1: none */
    bool blocked;
};

static int account_read(struct db *db, int64_t student, struct account *a)
{
    if (mosk_account_ensure(db, student) != 0)
        return -1;
    sqlite3_stmt *st = db_query(db,
                                "SELECT balance, coalesce(daily_limit, -1), blocked_at IS NOT "
                                "NULL FROM meal_accounts WHERE student_id = :s",
                                DB_ARGS(DB_INT(":s", student)));
    int rc;
    while (db_next(st, &rc)) {
        a->balance = sqlite3_column_int64(st, 0);
        a->daily_limit = sqlite3_column_int64(st, 1);
        a->blocked = sqlite3_column_int(st, 2) != 0;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Whether a valid buffet line of the sale is on the student's stop list, by item or by
 * category: 1 yes, 0 no, -1 on a storage failure. */
static int stopped(struct db *db, int64_t student, const struct line *lines, int n)
{
    for (int i = 0; i < n; i++) {
        if (!lines[i].valid || lines[i].in->complex)
            continue;
        int e = db_exists(db, "SELECT 1 FROM meal_stoplist WHERE student_id = :s AND item_id = :i",
                          DB_ARGS(DB_INT(":s", student), DB_INT(":i", lines[i].in->id)));
        if (e == 0)
            e = db_exists(db, "SELECT 1 FROM meal_stoplist WHERE student_id = :s AND category = :c",
                          DB_ARGS(DB_INT(":s", student), DB_TEXT(":c", lines[i].category)));
        if (e != 0)
            return e;
    }
    return 0;
}

/* Gives each complex line the student eats free one free unit, once per kind a day: the kinds
 * of `mask` not yet given free on `day` by an approved, unrefunded sale. 0 or -1. */
static int free_units(struct db *db, int64_t student, const char *day, unsigned mask,
                      struct line *lines, int n)
{
    /* Only complexes are given free: a sale of buffet items (nearly every sale of a rush) or of
     * kinds the student pays for asks nothing of the day's sales. */
    unsigned asked = 0;
    for (int i = 0; i < n; i++)
        if (lines[i].valid)
            asked |= lines[i].bit;
    if ((mask & asked) == 0)
        return 0;
    unsigned used = 0;
    sqlite3_stmt *st = db_query(db,
                                "SELECT DISTINCT l.category FROM sales s JOIN sale_lines l ON "
                                "l.sale_id = s.id WHERE s.student_id = :s AND s.day = :d AND "
                                "s.status = 'approved' AND s.refunded_at IS NULL AND l.free = 1 "
                                "AND l.complex_id IS NOT NULL",
                                DB_ARGS(DB_INT(":s", student), DB_TEXT(":d", day)));
    int rc;
    while (db_next(st, &rc))
        used |= mosk_complex_bit(db_col_text(st, 0));
    if (rc != SQLITE_DONE)
        return -1;
    for (int i = 0; i < n; i++)
        if (lines[i].valid && (lines[i].bit & mask & ~used)) {
            lines[i].free_units = 1;
            used |= lines[i].bit;
        }
    return 0;
}

enum sales_apply sales_apply(struct db *db, const struct mes_config *cfg, int64_t device,
                             int64_t school, const struct sale_in *s, json_t **result)
{
    *result = NULL;
    char *stored = NULL;
    switch (mosk_event_claim(db, device, s->key, s->seq, NULL, &stored)) {
    case MOSK_NEW:
        break;
    case MOSK_DUPLICATE:
        *result = json_loads(stored, 0, NULL);
        free(stored);
        if (!json_is_object(*result)) {
            json_decref(*result);
            *result = NULL;
            return SALES_FAILED;
        }
        json_object_set_new(*result, "duplicate", json_true());
        return SALES_DUPLICATE;
    case MOSK_SEQ_TAKEN:
        return SALES_SEQ_TAKEN;
    default:
        return SALES_FAILED;
    }

    char day[16];
    mosk_local_day(s->at, day);
    struct line lines[SALE_LINES_MAX];
    memset(lines, 0, sizeof(lines));
    for (int i = 0; i < s->nlines; i++) {
        lines[i].in = &s->lines[i];
        if (line_resolve(db, school, day, &lines[i]) != 0)
            return SALES_FAILED;
    }

    const char *reason = NULL;
    struct mosk_card card = {0};
    int found = mosk_card_find(db, s->card, &card);
    if (found < 0)
        return SALES_FAILED;
    if (found == 0)
        reason = "unknown_card";
    else if (card.blocked)
        reason = "card_blocked";
    else if (card.school_id != school)
        reason = "other_school";
    /* The student's account is shown and priced only past the card's checks. */
    bool ours = reason == NULL;
    for (int i = 0; reason == NULL && i < s->nlines; i++)
        if (!lines[i].valid)
            reason = "unknown_item";
    struct account acc = {0, -1, false};
    if (ours && account_read(db, card.student_id, &acc) != 0)
        return SALES_FAILED;
    if (reason == NULL && acc.blocked)
        reason = "account_blocked";
    if (reason == NULL) {
        int e = stopped(db, card.student_id, lines, s->nlines);
        if (e < 0)
            return SALES_FAILED;
        if (e)
            reason = "stop_list";
    }
    if (ours) {
        unsigned mask = 0;
        if (mosk_free_complexes(db, cfg, card.student_id, &mask) != 0 ||
            free_units(db, card.student_id, day, mask, lines, s->nlines) != 0)
            return SALES_FAILED;
    }
    int64_t total = 0, free_value = 0;
    for (int i = 0; i < s->nlines; i++)
        if (lines[i].valid) {
            total += (lines[i].in->quantity - lines[i].free_units) * lines[i].price;
            free_value += lines[i].free_units * lines[i].price;
        }
    if (reason == NULL && acc.daily_limit >= 0) {
        int64_t spent = 0;
        if (db_int(db, &spent,
                   "SELECT coalesce(sum(total), 0) FROM sales WHERE student_id = :s AND day = :d "
                   "AND status = 'approved' AND refunded_at IS NULL",
                   DB_ARGS(DB_INT(":s", card.student_id), DB_TEXT(":d", day))) != SQLITE_ROW)
            return SALES_FAILED;
        if (spent + total > acc.daily_limit)
            reason = "daily_limit";
    }
    if (reason == NULL && acc.balance - total < -cfg->meals.overdraft_kopecks)
        reason = "insufficient_funds";

    bool approved = reason == NULL;
    if (db_run(db,
               "INSERT INTO sales (student_id, card_id, institution_id, device_id, key, at, day, "
               "status, reason, total, free_value, offline) VALUES (nullif(:s, 0), nullif(:c, "
               "0), :i, :dev, :k, :at, :d, :st, :r, :t, :f, :o)",
               DB_ARGS(DB_INT(":s", card.student_id), DB_INT(":c", card.id), DB_INT(":i", school),
                       DB_INT(":dev", device), DB_TEXT(":k", s->key), DB_INT(":at", s->at),
                       DB_TEXT(":d", day), DB_TEXT(":st", approved ? "approved" : "declined"),
                       DB_TEXT(":r", reason), DB_INT(":t", approved ? total : 0),
                       DB_INT(":f", approved ? free_value : 0), DB_INT(":o", s->offline))) !=
        SQLITE_DONE)
        return SALES_FAILED;
    int64_t sale = db_last_id(db);
    if (lines_store(db, sale, lines, s->nlines) != 0)
        return SALES_FAILED;
    int64_t balance = acc.balance;
    if (approved && total > 0) {
        enum mosk_post p = mosk_ledger_post(db, cfg, card.student_id, school, "sale", -total, sale,
                                            s->at, &balance);
        if (p == MOSK_FAILED)
            return SALES_FAILED;
        if (p == MOSK_INSUFFICIENT) { /* the check above read the same row: never expected */
            approved = false;
            reason = "insufficient_funds";
            if (db_run(db,
                       "UPDATE sales SET status = 'declined', reason = :r, total = 0, "
                       "free_value = 0 WHERE id = :id",
                       DB_ARGS(DB_TEXT(":r", reason), DB_INT(":id", sale))) != SQLITE_DONE)
                return SALES_FAILED;
        }
    }
    json_t *o = json_pack("{s:s,s:b,s:o,s:o,s:I,s:I,s:I}", "key", s->key, "approved", approved,
                          "reason", reason ? json_string(reason) : json_null(), "balance",
                          ours ? json_integer(balance) : json_null(), "sale", (json_int_t)sale,
                          "total", (json_int_t)(approved ? total : 0), "free",
                          (json_int_t)(approved ? free_value : 0));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    int rc = text ? mosk_event_reply(db, device, s->key, text) : -1;
    free(text);
    if (rc != 0) {
        json_decref(o);
        return SALES_FAILED;
    }
    *result = o;
    return SALES_APPLIED;
}

/* The terminal's held and last sequence numbers put into `o` after a request. 0 or -1. */
static int terminal_seqs(struct req *r, json_t *o)
{
    int64_t held = 0, last = 0;
    if (mosk_terminal_update(r->db, r->caller.device_id, &held, &last) != 0)
        return -1;
    json_object_set_new(o, "held_seq", json_integer(held));
    json_object_set_new(o, "last_seq", json_integer(last));
    return 0;
}

/* A terminal's school: 0 to go on, -1 after answering 403 (a token made before tokens were
 * bound to schools). */
static int terminal_school_or_respond(struct req *r)
{
    if (r->caller.device_institution_id > 0)
        return 0;
    reply_error(r, 403, "device_school_needed", "this terminal's token is bound to no school");
    return -1;
}

/* POST /api/v1/meals/sales: one sale, decided at once (see the top of this file). */
static int sales_post(struct req *r)
{
    struct sale_in s;
    if (r->body == NULL)
        return reply_error(r, 400, "bad_request", "a JSON object body is required");
    if (sale_parse_or_respond(r, r->body, "", &s) != 0 || terminal_school_or_respond(r) != 0)
        return r->status;
    json_t *o = NULL;
    switch (sales_apply(r->db, &r->node->cfg, r->caller.device_id, r->caller.device_institution_id,
                        &s, &o)) {
    case SALES_SEQ_TAKEN:
        return reply_field_error(r, 409, "seq_taken", "seq", "seq %lld is held under another key",
                                 (long long)s.seq);
    case SALES_FAILED:
        return reply_db_error(r);
    default:
        break;
    }
    if (terminal_seqs(r, o) != 0) {
        json_decref(o);
        return reply_db_error(r);
    }
    return reply_json(r, 200, o);
}

/* POST /api/v1/meals/sales/batch {"sales": [...]}: an offline terminal's queue, each sale as
 * POST /api/v1/meals/sales takes it, in the order given. A malformed sale, or a sequence
 * number held under another key, refuses the whole batch and nothing is applied. */
static int sales_batch(struct req *r)
{
    json_t *list = NULL;
    if (body_unpack_or_respond(r, "{s:o}", "sales", &list) != 0)
        return r->status;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (n < 1 || n > SALE_BATCH_MAX)
        return reply_field_error(r, 400, "bad_request", "sales", "sales: 1-500 sales");
    if (terminal_school_or_respond(r) != 0)
        return r->status;
    struct sale_in *in = calloc(n, sizeof(*in));
    if (in == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    for (size_t i = 0; i < n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "sales[%zu]", i);
        if (sale_parse_or_respond(r, json_array_get(list, i), prefix, &in[i]) != 0) {
            free(in);
            return r->status;
        }
    }
    json_t *results = json_array();
    int applied = 0, duplicates = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = NULL;
        enum sales_apply a = sales_apply(r->db, &r->node->cfg, r->caller.device_id,
                                         r->caller.device_institution_id, &in[i], &o);
        if (a == SALES_SEQ_TAKEN || a == SALES_FAILED) {
            json_decref(results);
            int64_t seq = in[i].seq;
            free(in);
            if (a == SALES_FAILED)
                return reply_db_error(r);
            char field[48];
            snprintf(field, sizeof(field), "sales[%zu].seq", i);
            return reply_field_error(r, 409, "seq_taken", field,
                                     "%s: seq %lld is held under another key", field,
                                     (long long)seq);
        }
        if (a == SALES_DUPLICATE)
            duplicates++;
        else
            applied++;
        json_array_append_new(results, o);
    }
    free(in);
    json_t *out = json_pack("{s:o,s:i,s:i}", "results", results, "applied", applied, "duplicates",
                            duplicates);
    if (out == NULL || terminal_seqs(r, out) != 0) {
        json_decref(out);
        return reply_db_error(r);
    }
    return reply_json(r, 200, out);
}

/* ---- who may see and change a student's meals ------------------------------------------ */

/* Today in the node's time zone. */
static void today(char out[16])
{
    mosk_local_day(time(NULL), out);
}

/* ---- the lines of listed sales --------------------------------------------------------- */

/* A sale line as the pages show it. */
static json_t *line_json(sqlite3_stmt *st, int i)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "kind",
                     sqlite3_column_type(st, i) == SQLITE_NULL ? "item" : "complex", "name",
                     db_col_text(st, i + 1), "category", db_col_text(st, i + 2), "quantity",
                     (json_int_t)sqlite3_column_int64(st, i + 3), "price",
                     (json_int_t)sqlite3_column_int64(st, i + 4), "free",
                     sqlite3_column_int(st, i + 5) != 0);
}

/* Puts the lines of the rows of `st` (sale id, then line_json's columns) into the "lines" of
 * the sales of `index` (sale id as text -> the sale's object). SQLITE_DONE or the failure. */
static int lines_into(sqlite3_stmt *st, json_t *index)
{
    int rc;
    while (db_next(st, &rc)) {
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
        json_t *sale = json_object_get(index, id);
        if (sale != NULL)
            json_array_append_new(json_object_get(sale, "lines"), line_json(st, 1));
    }
    return rc;
}

/* The refund of a sale (columns i..i+1: refunded_at, refund_reason), or null. */
static json_t *refund_json(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    return json_pack("{s:I,s:s}", "at", (json_int_t)sqlite3_column_int64(st, i), "reason",
                     db_col_text(st, i + 1));
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_string(db_col_text(st, i));
}

/* Lists a sale `o` (with its "lines") in `items` and indexes it by `id` in `index`. */
static void sale_listed(json_t *items, json_t *index, int64_t id, json_t *o)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)id);
    json_object_set(index, key, o);
    json_array_append_new(items, o);
}

/* ---- the family ------------------------------------------------------------------------ */

/* GET /api/v1/students/{id}/meals/purchases?from=&to=: the student's sales, approved and
 * declined, newest first, with their lines and refunds; the last 30 days by default, at most
 * 92 at once. */
static int meals_purchases(struct req *r)
{
    int64_t student = r->params[0], school = 0;
    char from[16], to[16];
    if (mosk_query_range_or_respond(r, 30, RANGE_DAYS_MAX, from, to) != 0)
        return r->status;
    if (mosk_student_or_respond(r, student, MOSK_WHO_READERS, &school, NULL) != 0)
        return r->status;
    const struct db_arg *args =
        DB_ARGS(DB_INT(":s", student), DB_TEXT(":f", from), DB_TEXT(":t", to));
    json_t *items = json_array(), *index = json_object();
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT s.id, s.at, s.day, s.status, s.reason, s.total, s.free_value, "
                 "s.offline, s.refunded_at, s.refund_reason, i.id, i.short_name FROM sales s "
                 "JOIN institutions i ON i.id = s.institution_id WHERE s.student_id = :s AND "
                 "s.day BETWEEN :f AND :t ORDER BY s.at DESC, s.id DESC",
                 args);
    int rc;
    while (db_next(st, &rc))
        sale_listed(items, index, sqlite3_column_int64(st, 0),
                    json_pack("{s:I,s:I,s:s,s:s,s:o,s:I,s:I,s:b,s:o,s:{s:I,s:s},s:[]}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "at",
                              (json_int_t)sqlite3_column_int64(st, 1), "day", db_col_text(st, 2),
                              "status", db_col_text(st, 3), "reason", text_or_null(st, 4), "total",
                              (json_int_t)sqlite3_column_int64(st, 5), "free",
                              (json_int_t)sqlite3_column_int64(st, 6), "offline",
                              sqlite3_column_int(st, 7) != 0, "refunded", refund_json(st, 8),
                              "institution", "id", (json_int_t)sqlite3_column_int64(st, 10), "name",
                              db_col_text(st, 11), "lines"));
    if (rc == SQLITE_DONE)
        rc = lines_into(db_query(r->db,
                                 "SELECT l.sale_id, l.complex_id, l.name, l.category, "
                                 "l.quantity, l.price, l.free FROM sales s JOIN sale_lines l ON "
                                 "l.sale_id = s.id WHERE s.student_id = :s AND s.day BETWEEN :f "
                                 "AND :t ORDER BY l.sale_id, l.rowid",
                                 args),
                        index);
    json_decref(index);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* The student's stop list {"items": [ids], "categories": [...]}, or NULL on a storage
 * failure. */
static json_t *stoplist_json(struct req *r, int64_t student)
{
    json_t *items = json_array(), *cats = json_array();
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT item_id FROM meal_stoplist WHERE student_id = :s AND "
                                "item_id IS NOT NULL ORDER BY item_id",
                                DB_ARGS(DB_INT(":s", student)));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, json_integer(sqlite3_column_int64(st, 0)));
    if (rc == SQLITE_DONE) {
        st = db_query(r->db,
                      "SELECT category FROM meal_stoplist WHERE student_id = :s AND category IS "
                      "NOT NULL ORDER BY category",
                      DB_ARGS(DB_INT(":s", student)));
        while (db_next(st, &rc))
            json_array_append_new(cats, json_string(db_col_text(st, 0)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        json_decref(cats);
        return NULL;
    }
    return json_pack("{s:o,s:o}", "items", items, "categories", cats);
}

/* GET /api/v1/students/{id}/meals/stoplist: what the student may not buy at the buffet. */
static int meals_stoplist_get(struct req *r)
{
    int64_t school = 0;
    if (mosk_student_or_respond(r, r->params[0], MOSK_WHO_READERS, &school, NULL) != 0)
        return r->status;
    json_t *o = stoplist_json(r, r->params[0]);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* PUT /api/v1/students/{id}/meals/stoplist {"items": [ids], "categories": [...]}: a parent
 * replaces the stop list. Items are the student's school's buffet items (on sale or not);
 * categories the buffet's. Repeats count once. */
static int meals_stoplist_put(struct req *r)
{
    int64_t student = r->params[0], school = 0;
    json_t *items = NULL, *cats = NULL;
    if (body_unpack_or_respond(r, "{s:o,s:o}", "items", &items, "categories", &cats) != 0)
        return r->status;
    if (!json_is_array(items) || json_array_size(items) > STOPLIST_ITEMS_MAX)
        return reply_field_error(r, 400, "bad_request", "items",
                                 "items: an array of at most 500 buffet item ids");
    if (!json_is_array(cats) || json_array_size(cats) > 50)
        return reply_field_error(r, 400, "bad_request", "categories",
                                 "categories: an array of the buffet's categories");
    char field[48];
    size_t i;
    json_t *v;
    int64_t id;
    json_array_foreach(items, i, v)
    {
        if (!positive_id(v, &id)) {
            snprintf(field, sizeof(field), "items[%zu]", i);
            return reply_field_error(r, 400, "bad_request", field, "%s: a buffet item's id", field);
        }
    }
    json_array_foreach(cats, i, v)
    {
        if (!json_is_string(v) || !category_known(json_string_value(v))) {
            snprintf(field, sizeof(field), "categories[%zu]", i);
            return reply_field_error(r, 400, "bad_category", field,
                                     "%s: one of hot, bakery, dairy, drinks, fruit, sweets, snacks",
                                     field);
        }
    }
    if (mosk_student_or_respond(r, student, MOSK_WHO_PARENTS, &school, NULL) != 0)
        return r->status;
    json_array_foreach(items, i, v)
    {
        int e =
            db_exists(r->db, "SELECT 1 FROM buffet_items WHERE id = :id AND institution_id = :i",
                      DB_ARGS(DB_INT(":id", json_integer_value(v)), DB_INT(":i", school)));
        if (e < 0)
            return reply_db_error(r);
        if (e == 0) {
            snprintf(field, sizeof(field), "items[%zu]", i);
            return reply_field_error(r, 400, "unknown_item", field,
                                     "%s: not an item of the student's school's buffet", field);
        }
    }
    if (db_run(r->db, "DELETE FROM meal_stoplist WHERE student_id = :s AND item_id IS NOT NULL",
               DB_ARGS(DB_INT(":s", student))) != SQLITE_DONE ||
        db_run(r->db, "DELETE FROM meal_stoplist WHERE student_id = :s AND category IS NOT NULL",
               DB_ARGS(DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    json_array_foreach(items, i, v)
    {
        if (db_run(
                r->db, "INSERT OR IGNORE INTO meal_stoplist (student_id, item_id) VALUES (:s, :i)",
                DB_ARGS(DB_INT(":s", student), DB_INT(":i", json_integer_value(v)))) != SQLITE_DONE)
            return reply_db_error(r);
    }
    json_array_foreach(cats, i, v)
    {
        if (db_run(
                r->db, "INSERT OR IGNORE INTO meal_stoplist (student_id, category) VALUES (:s, :c)",
                DB_ARGS(DB_INT(":s", student), DB_TEXT(":c", json_string_value(v)))) != SQLITE_DONE)
            return reply_db_error(r);
    }
    json_t *o = stoplist_json(r, student);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* {"daily_limit": kopecks | null, "spent_today": kopecks}, or NULL on a storage failure. */
static json_t *limit_json(struct req *r, int64_t student)
{
    char day[16];
    today(day);
    int64_t limit = -1, spent = 0;
    int rc = db_int(r->db, &limit,
                    "SELECT coalesce(daily_limit, -1) FROM meal_accounts WHERE student_id = :s",
                    DB_ARGS(DB_INT(":s", student)));
    if ((rc != SQLITE_ROW && rc != SQLITE_DONE) ||
        db_int(r->db, &spent,
               "SELECT coalesce(sum(total), 0) FROM sales WHERE student_id = :s AND day = :d AND "
               "status = 'approved' AND refunded_at IS NULL",
               DB_ARGS(DB_INT(":s", student), DB_TEXT(":d", day))) != SQLITE_ROW)
        return NULL;
    return json_pack("{s:o,s:I}", "daily_limit", limit < 0 ? json_null() : json_integer(limit),
                     "spent_today", (json_int_t)spent);
}

/* GET /api/v1/students/{id}/meals/limit: the parent's daily limit at the buffet and what was
 * spent today. */
static int meals_limit_get(struct req *r)
{
    int64_t school = 0;
    if (mosk_student_or_respond(r, r->params[0], MOSK_WHO_READERS, &school, NULL) != 0)
        return r->status;
    json_t *o = limit_json(r, r->params[0]);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* PUT /api/v1/students/{id}/meals/limit {"daily_limit": kopecks 0-10000000 | null}: a parent
 * sets (or, null, lifts) the most the buffet may debit in a day. */
static int meals_limit_put(struct req *r)
{
    int64_t student = r->params[0], school = 0;
    json_t *v = NULL;
    if (body_unpack_or_respond(r, "{s:o}", "daily_limit", &v) != 0)
        return r->status;
    if (!json_is_null(v) &&
        (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > LIMIT_MAX))
        return reply_field_error(r, 400, "bad_limit", "daily_limit",
                                 "daily_limit: kopecks 0-10000000, or null for none");
    if (mosk_student_or_respond(r, student, MOSK_WHO_PARENTS, &school, NULL) != 0)
        return r->status;
    if (mosk_account_ensure(r->db, student) != 0 ||
        db_run(r->db, "UPDATE meal_accounts SET daily_limit = nullif(:l, -1) WHERE student_id = :s",
               DB_ARGS(DB_INT(":l", json_is_null(v) ? -1 : json_integer_value(v)),
                       DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    json_t *o = limit_json(r, student);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* {"blocked": bool, "blocked_at": unix time | null}, or NULL on a storage failure. */
static json_t *blocked_json(struct req *r, int64_t student)
{
    int64_t at = 0;
    int rc = db_int(r->db, &at,
                    "SELECT coalesce(blocked_at, 0) FROM meal_accounts WHERE student_id = :s",
                    DB_ARGS(DB_INT(":s", student)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return NULL;
    return json_pack("{s:b,s:o}", "blocked", at != 0, "blocked_at",
                     at != 0 ? json_integer(at) : json_null());
}

/* GET /api/v1/students/{id}/meals/blocked: whether the account is stopped. */
static int meals_blocked_get(struct req *r)
{
    int64_t school = 0;
    if (mosk_student_or_respond(r, r->params[0], MOSK_WHO_READERS, &school, NULL) != 0)
        return r->status;
    json_t *o = blocked_json(r, r->params[0]);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* PUT /api/v1/students/{id}/meals/blocked {"blocked": bool}: a parent or the school's admin
 * stops the account at once (a lost card), or lets it buy again. The school admin's change is
 * audited (the audit log is the staff's). */
static int meals_blocked_put(struct req *r)
{
    int64_t student = r->params[0], school = 0;
    int blocked = 0;
    bool guardian = false;
    if (body_unpack_or_respond(r, "{s:b}", "blocked", &blocked) != 0)
        return r->status;
    if (mosk_student_or_respond(r, student, MOSK_WHO_PARENTS | MOSK_WHO_SCHOOL_ADMIN, &school,
                                &guardian) != 0)
        return r->status;
    if (mosk_account_ensure(r->db, student) != 0 ||
        db_run(r->db,
               "UPDATE meal_accounts SET blocked_at = CASE WHEN :b THEN coalesce(blocked_at, "
               "unixepoch()) END WHERE student_id = :s",
               DB_ARGS(DB_INT(":b", blocked), DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    if (!guardian && school_audit_or_respond(r, school, blocked ? "meals.block" : "meals.unblock",
                                             "student", student, NULL) != 0)
        return r->status;
    json_t *o = blocked_json(r, student);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* ---- the canteen ----------------------------------------------------------------------- */

/* Whether the caller runs the canteen of school `inst`: its canteen operator or admin, or the
 * region admin when `region` (reads). 0 to go on, -1 once answered (404, 403). */
static int canteen_or_respond(struct req *r, int64_t inst, bool region)
{
    int e =
        db_exists(r->db, "SELECT 1 FROM institutions WHERE id = :i", DB_ARGS(DB_INT(":i", inst)));
    if (e < 0)
        return reply_db_error(r), -1;
    if (e == 0)
        return reply_error(r, 404, "not_found", "no such institution"), -1;
    if (caller_has(r, ROLE_CANTEEN, inst) || caller_has(r, ROLE_SCHOOL_ADMIN, inst) ||
        (region && caller_is_admin(r)))
        return 0;
    reply_error(r, 403, "forbidden", "this school's canteen is not yours");
    return -1;
}

/* A page of the canteen's day: SALES_PAGE sales by default, at most SALES_PAGE_MAX. */
#define SALES_PAGE     50
#define SALES_PAGE_MAX 200

/* Reads the optional query parameter `name`, an integer min..max. 0 (absent: *out untouched),
 * or -1 after answering 400 bad_request naming it. */
static int query_int_or_respond(struct req *r, const char *name, int64_t min, int64_t max,
                                int64_t *out)
{
    char buf[24];
    int n = req_query(r, name, buf, sizeof(buf));
    if (n == -1)
        return 0;
    char *end = NULL;
    long long v = n > 0 && n <= 18 && isdigit((unsigned char)buf[0]) ? strtoll(buf, &end, 10) : 0;
    if (end == NULL || *end != '\0' || v < min || v > max) {
        reply_field_error(r, 400, "bad_request", name, "%s: an integer %lld-%lld", name,
                          (long long)min, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* The day's sales of the school (:i, :d) after the cursor (:bat, :b; :b 0 for the first
 * page), newest first: the page's order and its condition, for the sales and for their
 * lines. */
#define PAGE_WHERE                                                                                 \
    "s.institution_id = :i AND s.day = :d AND (:b = 0 OR s.at < :bat OR (s.at = :bat AND s.id < "  \
    ":b)) AND (:q = '' OR EXISTS (SELECT 1 FROM persons f WHERE f.id = s.student_id AND "          \
    "s.reason IS NOT 'other_school' AND (f.last_name || ' ' || f.first_name || ' ' || "            \
    "f.middle_name LIKE :l1 ESCAPE '\\' OR f.last_name || ' ' || f.first_name || ' ' || "          \
    "f.middle_name LIKE :l2 ESCAPE '\\')) OR EXISTS (SELECT 1 FROM cards x WHERE x.id = "          \
    "s.card_id AND x.card = :q)) "
#define PAGE_ORDER "ORDER BY s.at DESC, s.id DESC "

/* The day's summary: per complex kind and per buffet item, the units of approved sales, those
 * given free and what they are worth, what was debited for the others and what of it was
 * refunded; complexes first (breakfast, lunch, snack), then the goods by category and name.
 * Adds the free units to *free_quantity. NULL on a storage failure. */
static json_t *sales_summary(struct db *db, int64_t inst, const char *day, int64_t *free_quantity)
{
    sqlite3_stmt *st = db_query(
        db,
        "SELECT l.complex_id IS NOT NULL AS complex, max(l.category), max(l.item_id), "
        "max(l.name) AS name, sum(l.quantity), sum(CASE WHEN l.free THEN l.quantity ELSE 0 END), "
        "sum(CASE WHEN l.free THEN l.quantity * l.price ELSE 0 END), sum(CASE WHEN l.free THEN 0 "
        "ELSE l.quantity * l.price END), sum(CASE WHEN l.free OR s.refunded_at IS NULL THEN 0 "
        "ELSE l.quantity * l.price END) FROM sales s JOIN sale_lines l ON l.sale_id = s.id WHERE "
        "s.institution_id = :i AND s.day = :d AND s.status = 'approved' GROUP BY complex, "
        "CASE WHEN l.complex_id IS NULL THEN l.item_id ELSE l.category END ORDER BY complex DESC, "
        "instr(' breakfast lunch snack hot bakery dairy drinks fruit sweets snacks ', ' ' || "
        "max(l.category) || ' '), name",
        DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day)));
    json_t *lines = json_array();
    int rc;
    while (db_next(st, &rc)) {
        bool is_complex = sqlite3_column_int(st, 0) != 0;
        *free_quantity += sqlite3_column_int64(st, 5);
        json_array_append_new(
            lines,
            json_pack("{s:s,s:s,s:o,s:s,s:I,s:I,s:I,s:I,s:I}", "kind",
                      is_complex ? "complex" : "item", "category", db_col_text(st, 1), "item_id",
                      is_complex ? json_null() : json_integer(sqlite3_column_int64(st, 2)), "name",
                      db_col_text(st, 3), "quantity", (json_int_t)sqlite3_column_int64(st, 4),
                      "free_quantity", (json_int_t)sqlite3_column_int64(st, 5), "free_value",
                      (json_int_t)sqlite3_column_int64(st, 6), "amount",
                      (json_int_t)sqlite3_column_int64(st, 7), "refunded",
                      (json_int_t)sqlite3_column_int64(st, 8)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(lines);
        return NULL;
    }
    return lines;
}

/* The day's totals over all its sales (not only the page's); NULL on a storage failure. */
static json_t *sales_totals(struct db *db, int64_t inst, const char *day, int64_t free_quantity)
{
    json_t *o = NULL;
    sqlite3_stmt *st = db_query(
        db,
        "SELECT coalesce(sum(s.status = 'approved'), 0), coalesce(sum(s.status = 'declined'), 0), "
        "coalesce(sum(CASE WHEN s.status = 'approved' THEN s.total END), 0), "
        "coalesce(sum(CASE WHEN s.status = 'approved' AND s.refunded_at IS NOT NULL THEN "
        "s.total END), 0), coalesce(sum(s.status = 'approved' AND s.refunded_at IS NOT NULL), 0), "
        "coalesce(sum(s.free_value), 0), coalesce(sum(s.offline AND s.status = 'declined'), 0), "
        "coalesce(sum(CASE WHEN s.offline AND s.status = 'declined' THEN (SELECT "
        "coalesce(sum(l.quantity * l.price), 0) FROM sale_lines l WHERE l.sale_id = s.id AND "
        "l.free = 0) END), 0) FROM sales s WHERE s.institution_id = :i AND s.day = :d",
        DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day)));
    int rc;
    while (db_next(st, &rc)) {
        json_decref(o);
        o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "approved",
                      (json_int_t)sqlite3_column_int64(st, 0), "declined",
                      (json_int_t)sqlite3_column_int64(st, 1), "debited",
                      (json_int_t)sqlite3_column_int64(st, 2), "refunded",
                      (json_int_t)sqlite3_column_int64(st, 3), "refunds",
                      (json_int_t)sqlite3_column_int64(st, 4), "free",
                      (json_int_t)sqlite3_column_int64(st, 5), "free_quantity",
                      (json_int_t)free_quantity, "offline_unpaid",
                      (json_int_t)sqlite3_column_int64(st, 6), "offline_unpaid_value",
                      (json_int_t)sqlite3_column_int64(st, 7));
    }
    if (rc != SQLITE_DONE) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* GET /api/v1/institutions/{id}/meals/sales?date=&limit=&before=: the school's sales of a day
 * (today by default; `latest`: the latest day up to today with sales), a page at a time,
 * newest first, approved and declined, with their lines and refunds; and the whole day's
 * totals and summary per complex and item. A page holds `limit` sales (1-200, 50 by default)
 * that come after sale `before` (the last of the previous page, a sale of that day's list),
 * and "more" when further ones follow. `q` keeps the sales of a student whose full name holds
 * it (a refund asked for by a parent) or of the card it names; the totals and the summary stay
 * the whole day's. A student of another school whose card was tried here is not named, nor
 * found by name. */
static int meals_school_sales(struct req *r)
{
    int64_t inst = r->params[0], limit = SALES_PAGE, before = 0, before_at = 0;
    char day[16], now[16], q[MOSK_SEARCH_MAX], like1[2 * MOSK_SEARCH_MAX],
        like2[2 * MOSK_SEARCH_MAX];
    bool latest = false;
    today(now);
    if (mosk_query_view_day_or_respond(r, "date", "latest", day, &latest) != 0 ||
        query_int_or_respond(r, "limit", 1, SALES_PAGE_MAX, &limit) != 0 ||
        query_int_or_respond(r, "before", 1, INT64_MAX / 2, &before) != 0 ||
        mosk_query_search_or_respond(r, q, like1, like2) != 0 ||
        canteen_or_respond(r, inst, true) != 0)
        return r->status;
    static const char *const with_sales[] = {"SELECT day FROM sales WHERE institution_id = :i AND "
                                             "day <= :t ORDER BY day DESC LIMIT 1",
                                             NULL};
    if (latest && mosk_latest_day(r->db, inst, with_sales, day) != 0)
        return reply_db_error(r);
    if (before != 0) {
        int rc = db_int(r->db, &before_at,
                        "SELECT at FROM sales WHERE id = :b AND institution_id = :i AND day = :d",
                        DB_ARGS(DB_INT(":b", before), DB_INT(":i", inst), DB_TEXT(":d", day)));
        if (rc == SQLITE_DONE)
            return reply_field_error(r, 400, "bad_request", "before",
                                     "before: a sale of this school's list of the day");
        if (rc != SQLITE_ROW)
            return reply_db_error(r);
    }
    const struct db_arg *args = DB_ARGS(
        DB_INT(":i", inst), DB_TEXT(":d", day), DB_INT(":b", before), DB_INT(":bat", before_at),
        DB_INT(":lim", limit), DB_TEXT(":q", q), DB_TEXT(":l1", like1), DB_TEXT(":l2", like2));
    json_t *items = json_array(), *index = json_object();
    bool more = false;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT s.id, s.at, s.status, s.reason, s.total, s.free_value, s.offline, "
        "s.refunded_at, s.refund_reason, (SELECT coalesce(sum(l.quantity * l.price), 0) FROM "
        "sale_lines l WHERE l.sale_id = s.id AND l.free = 0), d.name, p.id, p.last_name, "
        "p.first_name, p.middle_name, (SELECT c.grade || c.letter FROM enrollments e JOIN "
        "classes c ON c.id = e.class_id WHERE e.student_id = p.id AND e.left_on IS NULL), "
        "rp.last_name, rp.first_name, rp.middle_name FROM sales s JOIN device_tokens d ON d.id "
        "= s.device_id LEFT JOIN persons p ON p.id = s.student_id AND s.reason IS NOT "
        "'other_school' LEFT JOIN accounts a ON a.id = s.refunded_by LEFT JOIN persons rp ON "
        "rp.id = a.person_id WHERE " PAGE_WHERE PAGE_ORDER "LIMIT :lim + 1",
        args);
    int rc;
    while (db_next(st, &rc)) {
        if ((int64_t)json_array_size(items) == limit) {
            more = true; /* the one row asked beyond the page */
            continue;
        }
        bool ok = strcmp(db_col_text(st, 2), "approved") == 0, off = sqlite3_column_int(st, 6);
        int64_t total = sqlite3_column_int64(st, 4), value = sqlite3_column_int64(st, 9);
        json_t *refund = refund_json(st, 7);
        if (json_is_object(refund))
            json_object_set_new(
                refund, "by",
                sqlite3_column_type(st, 16) == SQLITE_NULL ? json_null() : ref_person_name(st, 16));
        json_t *student =
            sqlite3_column_type(st, 11) == SQLITE_NULL
                ? json_null()
                : json_pack("{s:I,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 11), "name",
                            ref_person_name(st, 12), "class", text_or_null(st, 15));
        sale_listed(items, index, sqlite3_column_int64(st, 0),
                    json_pack("{s:I,s:I,s:s,s:o,s:I,s:I,s:I,s:b,s:b,s:s,s:o,s:o,s:[]}", "id",
                              (json_int_t)sqlite3_column_int64(st, 0), "at",
                              (json_int_t)sqlite3_column_int64(st, 1), "status", db_col_text(st, 2),
                              "reason", text_or_null(st, 3), "total", (json_int_t)total, "free",
                              (json_int_t)sqlite3_column_int64(st, 5), "value", (json_int_t)value,
                              "offline", off, "unpaid", off && !ok, "terminal", db_col_text(st, 10),
                              "student", student, "refunded", refund, "lines"));
    }
    if (rc == SQLITE_DONE)
        rc = lines_into(db_query(r->db,
                                 "SELECT l.sale_id, l.complex_id, l.name, l.category, "
                                 "l.quantity, l.price, l.free FROM sale_lines l WHERE l.sale_id "
                                 "IN (SELECT s.id FROM sales s WHERE " PAGE_WHERE PAGE_ORDER
                                 "LIMIT :lim) ORDER BY l.sale_id, l.rowid",
                                 args),
                        index);
    json_decref(index);
    int64_t free_quantity = 0;
    json_t *summary = rc == SQLITE_DONE ? sales_summary(r->db, inst, day, &free_quantity) : NULL;
    json_t *totals = summary ? sales_totals(r->db, inst, day, free_quantity) : NULL;
    if (totals == NULL) {
        json_decref(items);
        json_decref(summary);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:s,s:b,s:o,s:b,s:o,s:o}", "date", day, "today",
                                strcmp(day, now) == 0, "items", items, "more", more, "totals",
                                totals, "summary", summary));
}

/* Whether `s` has a character other than white space. */
static bool has_text(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

/* POST /api/v1/meals/sales/{id}/refund {"reason"}: the canteen operator or the admin of the
 * sale's school credits an approved sale's total back, once (ledger 'refund'), audited; the
 * family is told. */
static int meals_refund(struct req *r)
{
    int64_t sale = r->params[0];
    const char *reason = NULL;
    if (body_unpack_or_respond(r, "{s:s}", "reason", &reason) != 0)
        return r->status;
    if (!has_text(reason) || !school_text_ok(reason, 1, REASON_MAX))
        return reply_field_error(r, 400, "bad_refund_reason", "reason", "reason: 1-500 characters");
    int64_t inst = 0, student = 0, total = 0;
    bool found = false, ok = false, done = false;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT institution_id, coalesce(student_id, 0), status = "
                                "'approved', total, refunded_at IS NOT NULL FROM sales WHERE id "
                                "= :id",
                                DB_ARGS(DB_INT(":id", sale)));
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        found = true;
        inst = sqlite3_column_int64(st, 0);
        student = sqlite3_column_int64(st, 1);
        ok = sqlite3_column_int(st, 2) != 0;
        total = sqlite3_column_int64(st, 3);
        done = sqlite3_column_int(st, 4) != 0;
    }
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    if (!found)
        return reply_error(r, 404, "not_found", "no such sale");
    if (!caller_has(r, ROLE_CANTEEN, inst) && !caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return reply_error(r, 403, "forbidden", "sales of another school's canteen");
    if (!ok)
        return reply_error(r, 409, "declined_sale", "a declined sale debited nothing");
    if (done)
        return reply_error(r, 409, "already_refunded", "this sale was refunded already");
    time_t now = time(NULL);
    int64_t balance = 0;
    if (total > 0 && mosk_ledger_post(r->db, &r->node->cfg, student, inst, "refund", total, sale,
                                      now, &balance) != MOSK_POSTED)
        return reply_db_error(r);
    if (total == 0 &&
        db_int(r->db, &balance, "SELECT balance FROM meal_accounts WHERE student_id = :s",
               DB_ARGS(DB_INT(":s", student))) != SQLITE_ROW)
        return reply_db_error(r);
    if (db_run(r->db,
               "UPDATE sales SET refunded_at = :now, refunded_by = :by, refund_reason = :r "
               "WHERE id = :id",
               DB_ARGS(DB_INT(":now", now), DB_INT(":by", r->caller.account_id),
                       DB_TEXT(":r", reason), DB_INT(":id", sale))) != SQLITE_DONE)
        return reply_db_error(r);
    if (school_audit_or_respond(r, inst, "meals.refund", "sale", sale,
                                json_pack("{s:s,s:I,s:I}", "reason", reason, "amount",
                                          (json_int_t)total, "student_id", (json_int_t)student)) !=
        0)
        return r->status;
    json_t *data = json_pack("{s:I,s:I,s:I}", "sale", (json_int_t)sale, "amount", (json_int_t)total,
                             "balance", (json_int_t)balance);
    int n = data ? notify_family(r->db, student, "meals_refund", data) : -1;
    json_decref(data);
    if (n != 0)
        return reply_db_error(r);
    return reply_json(r, 200,
                      json_pack("{s:I,s:I,s:I}", "sale", (json_int_t)sale, "refunded",
                                (json_int_t)total, "balance", (json_int_t)balance));
}

#define READERS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_STUDENT | ROLE_PARENT | ROLE_CANTEEN)

const struct route sales_routes[] = {
    {.method = "POST",
     .path = "/api/v1/meals/sales",
     .handler = sales_post,
     .access = ACCESS_DEVICE,
     .allow = SCOPE_MEALS,
     .writes = true,
     .name = "meals_sale"},
    {.method = "POST",
     .path = "/api/v1/meals/sales/batch",
     .handler = sales_batch,
     .access = ACCESS_DEVICE,
     .allow = SCOPE_MEALS,
     .writes = true,
     .name = "meals_sale_batch",
     .bulk = true},
    {.method = "POST",
     .path = "/api/v1/meals/sales/{id}/refund",
     .handler = meals_refund,
     .access = ACCESS_USER,
     .allow = ROLE_SCHOOL_ADMIN | ROLE_CANTEEN,
     .writes = true,
     .name = "meals_refund"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/meals/sales",
     .handler = meals_school_sales,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_CANTEEN,
     .name = "meals_school_sales"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/purchases",
     .handler = meals_purchases,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "meals_purchases"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/stoplist",
     .handler = meals_stoplist_get,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "meals_stoplist_get"},
    {.method = "PUT",
     .path = "/api/v1/students/{id}/meals/stoplist",
     .handler = meals_stoplist_put,
     .access = ACCESS_USER,
     .allow = ROLE_PARENT,
     .writes = true,
     .name = "meals_stoplist_put"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/limit",
     .handler = meals_limit_get,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "meals_limit_get"},
    {.method = "PUT",
     .path = "/api/v1/students/{id}/meals/limit",
     .handler = meals_limit_put,
     .access = ACCESS_USER,
     .allow = ROLE_PARENT,
     .writes = true,
     .name = "meals_limit_put"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/blocked",
     .handler = meals_blocked_get,
     .access = ACCESS_USER,
     .allow = READERS,
     .name = "meals_blocked_get"},
    {.method = "PUT",
     .path = "/api/v1/students/{id}/meals/blocked",
     .handler = meals_blocked_put,
     .access = ACCESS_USER,
     .allow = ROLE_SCHOOL_ADMIN | ROLE_PARENT,
     .writes = true,
     .name = "meals_blocked_put"},
    {0},
};
