/*
 * «Москвёнок» in the demo and in `mesnode gen`'s synthetic regions (demo.h).
 *
 * Every student of a generated school gets a card and a meal account with an opening balance,
 * every generated school a small buffet, a turnstile's device token (scope passage) and a buffet
 * terminal's (scope meals). The tokens and the cards are written beside the database for the
 * benchmark and `mesnode terminal rush` (docs/moskvenok.md, "Synthetic regions").
 *
 * The demo's «Школа № 1» is the showcase: the same cards, accounts and buffet, the complexes of
 * this week and the next, and the last school day before today as its terminals sent it: each
 * student who came entered in the morning and left after lessons, and bought breakfast, lunch
 * or something at the buffet. Those go through passage_apply and sales_apply, the code behind
 * the terminals' routes, so the day is what the node itself would have recorded; being of an
 * earlier day, it notifies nobody. Its cards are issued and its balances topped up the evening
 * before that day, so that each purchase is paid from money already there.
 *
 * Load: set-based INSERT ... SELECT over the region's enrolments (about 456,000 students in the
 * Dagestan region: a few seconds), two tokens a school.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/auth.h"
#include "db.h"
#include "demo/demo.h"
#include "moskvenok/meals.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/passage.h"
#include "moskvenok/sales.h"

/* A card's identifier: 8 hex digits as a reader shows a 4-byte UID, made from the student's
 * id by a bijection of 32-bit numbers (Knuth's multiplicative hash), so that every student's
 * differs. An opening balance of 1,000 to 5,000 ₽ in steps of 100 ₽. */
#define CARD_OF(id)    "printf('%08X', (" id " * 2654435761) % 4294967296)"
#define OPENING_OF(id) "(100000 + ((" id " * 7919) % 41) * 10000)"

/* The students of the schools :lo to :hi: sid, school. */
#define STUDENTS                                                                                   \
    "(SELECT e.student_id AS sid, c.institution_id AS school FROM enrollments e JOIN classes c "   \
    "ON c.id = e.class_id WHERE e.left_on IS NULL AND c.institution_id BETWEEN :lo AND :hi)"

static const struct {
    const char *name, *category;
    int price;
} buffet[] = {
    {"Чай с сахаром", "drinks", 1000},
    {"Булочка с маком", "bakery", 3500},
    {"Йогурт питьевой", "dairy", 4500},
    {"Яблоко", "fruit", 2000},
    {"Сырник", "hot", 5500},
};

/* Cards, meal accounts with their opening top-up, and a buffet for the schools lo to hi. The
 * cards are issued and the opening top-up made the evening before the day of `now`, in the
 * node's time zone. */
static int cards_and_accounts(struct db *db, int64_t lo, int64_t hi, time_t now)
{
    time_t evening = now - 86400;
    struct tm tm;
    localtime_r(&evening, &tm);
    tm.tm_hour = 19;
    tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    evening = mktime(&tm);
    char day[16];
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    if (db_run(db,
               "INSERT INTO cards (card, student_id, kind, institution_id, issued_at) "
               "SELECT " CARD_OF("sid") ", sid, 'card', school, :at FROM " STUDENTS,
               DB_ARGS(DB_INT(":lo", lo), DB_INT(":hi", hi), DB_INT(":at", evening))) !=
        SQLITE_DONE)
        return -1;
    if (db_run(db,
               "INSERT INTO meal_accounts (student_id, balance) "
               "SELECT sid, " OPENING_OF("sid") " FROM " STUDENTS,
               DB_ARGS(DB_INT(":lo", lo), DB_INT(":hi", hi))) != SQLITE_DONE)
        return -1;
    /* The ledger says where each balance came from (the reconciliation adds it up); ref 0: a
     * generated opening balance, no payment behind it. */
    if (db_run(db,
               "INSERT INTO ledger (student_id, institution_id, day, at, kind, amount, ref, "
               "balance) SELECT sid, school, :day, :at, 'topup', " OPENING_OF(
                   "sid") ", 0, " OPENING_OF("sid") " FROM " STUDENTS,
               DB_ARGS(DB_INT(":lo", lo), DB_INT(":hi", hi), DB_TEXT(":day", day),
                       DB_INT(":at", evening))) != SQLITE_DONE)
        return -1;
    for (size_t i = 0; i < sizeof(buffet) / sizeof(buffet[0]); i++)
        if (db_run(db,
                   "INSERT INTO buffet_items (institution_id, name, category, price) SELECT id, "
                   ":n, :c, :p FROM institutions WHERE id BETWEEN :lo AND :hi ORDER BY id",
                   DB_ARGS(DB_TEXT(":n", buffet[i].name), DB_TEXT(":c", buffet[i].category),
                           DB_INT(":p", buffet[i].price), DB_INT(":lo", lo), DB_INT(":hi", hi))) !=
            SQLITE_DONE)
            return -1;
    return 0;
}

/* A device token of `school` whose plain token is in t->token (and nowhere else): its id, or -1. */
static int64_t device(struct db *db, int64_t school, int k, struct demo_token *t)
{
    static const char *const names[] = {"Турникет, главный вход", "Буфет"};
    static const char *const scopes[] = {"passage", "meals"};
    unsigned char hash[32];
    auth_new_token(t->token, hash);
    t->school = school;
    t->scope = scopes[k];
    if (db_run(db,
               "INSERT INTO device_tokens (name, scopes, institution_id, token_hash) "
               "VALUES (:n, :s, :i, :h)",
               DB_ARGS(DB_TEXT(":n", names[k]), DB_TEXT(":s", scopes[k]), DB_INT(":i", school),
                       DB_BLOB(":h", hash, 32))) != SQLITE_DONE)
        return -1;
    return sqlite3_last_insert_rowid(db_handle(db));
}

int demo_moskvenok(struct db *db, long long first_school, time_t now, struct demo_tokens *out)
{
    memset(out, 0, sizeof(*out));
    if (cards_and_accounts(db, first_school, INT64_MAX, now) != 0)
        return -1;
    /* Two terminals a school. */
    int64_t schools = 0;
    if (db_int(db, &schools, "SELECT count(*) FROM institutions WHERE id >= :first",
               DB_ARGS(DB_INT(":first", first_school))) != SQLITE_ROW)
        return -1;
    out->items = calloc((size_t)schools * 2 + 1, sizeof(*out->items));
    if (out->items == NULL)
        return -1;
    sqlite3_stmt *st = db_query(db, "SELECT id FROM institutions WHERE id >= :first ORDER BY id",
                                DB_ARGS(DB_INT(":first", first_school)));
    int64_t *ids = calloc((size_t)schools + 1, sizeof(*ids));
    size_t n = 0;
    int rc;
    while (db_next(st, &rc))
        if (ids != NULL && n < (size_t)schools)
            ids[n++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE || ids == NULL) {
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            if (device(db, ids[i], k, &out->items[out->n++]) < 0) {
                free(ids);
                return -1;
            }
    free(ids);
    return 0;
}

/* ---- the showcase school ------------------------------------------------------------------ */

/* A week of the showcase's complexes, Monday to Friday: the dishes of breakfast, lunch and the
 * after-school snack, and their prices in kopecks. */
static const char *const week[5][3] = {
    {"[\"Каша овсяная молочная\",\"Бутерброд с сыром\",\"Чай с сахаром\"]",
     "[\"Салат из свёклы\",\"Борщ со сметаной\",\"Котлета куриная\",\"Гречка отварная\","
     "\"Компот из сухофруктов\"]",
     "[\"Булочка с повидлом\",\"Молоко\"]"},
    {"[\"Омлет натуральный\",\"Хлеб с маслом\",\"Какао с молоком\"]",
     "[\"Салат из капусты\",\"Суп куриный с вермишелью\",\"Тефтели в соусе\",\"Рис отварной\","
     "\"Кисель\"]",
     "[\"Сырники со сметаной\",\"Чай\"]"},
    {"[\"Каша рисовая молочная\",\"Батон с маслом\",\"Чай с лимоном\"]",
     "[\"Винегрет\",\"Щи из свежей капусты\",\"Рыба запечённая\",\"Картофельное пюре\","
     "\"Сок яблочный\"]",
     "[\"Запеканка творожная\",\"Кефир\"]"},
    {"[\"Запеканка творожная со сгущённым молоком\",\"Какао с молоком\"]",
     "[\"Салат из моркови\",\"Рассольник\",\"Плов с курицей\",\"Компот из яблок\"]",
     "[\"Пирожок с капустой\",\"Чай\"]"},
    {"[\"Каша пшённая молочная\",\"Бутерброд с маслом\",\"Чай с сахаром\"]",
     "[\"Огурец свежий\",\"Суп гороховый\",\"Гуляш из говядины\",\"Макароны отварные\","
     "\"Компот из сухофруктов\"]",
     "[\"Кекс\",\"Ряженка\"]"},
};
static const char *const kinds[3] = {"breakfast", "lunch", "snack"};
static const int prices[3] = {9500, 14500, 6000};

/* The complexes of every Monday to Friday from `from` to `to`. */
static int complexes(struct db *db, int64_t school, const char *from, const char *to)
{
    char day[16];
    snprintf(day, sizeof(day), "%s", from);
    for (int guard = 0; strcmp(day, to) <= 0 && guard < 60; guard++) {
        int wd = mosk_weekday(day);
        for (int k = 0; wd >= 1 && wd <= 5 && k < 3; k++)
            if (db_run(db,
                       "INSERT INTO meal_complexes (institution_id, day, kind, price, dishes) "
                       "VALUES (:s, :d, :k, :p, :m)",
                       DB_ARGS(DB_INT(":s", school), DB_TEXT(":d", day), DB_TEXT(":k", kinds[k]),
                               DB_INT(":p", prices[k]), DB_TEXT(":m", week[wd - 1][k]))) !=
                SQLITE_DONE)
                return -1;
        if (mosk_day_add(day, 1, day) != 0)
            return -1;
    }
    return 0;
}

/* `day` (YYYY-MM-DD) at hh:mm in the node's time zone. */
static time_t at_time(const char *day, int minutes)
{
    struct tm tm = {0};
    if (sscanf(day, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = minutes / 60;
    tm.tm_min = minutes % 60;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

/* A student who came to school on the showcase's day. */
struct pupil {
    char card[SALE_CARD_MAX];
    int grade;
};

/* The students of `school` with a card who were not ill on `day`, by id (*out, to free): their
 * count, or -1. */
static long pupils(struct db *db, int64_t school, const char *day, struct pupil **out)
{
    *out = NULL;
    sqlite3_stmt *st = db_query(
        db,
        "SELECT k.card, c.grade FROM cards k JOIN enrollments e ON e.student_id = k.student_id "
        "AND e.left_on IS NULL JOIN classes c ON c.id = e.class_id AND c.institution_id = :s "
        "WHERE k.institution_id = :s AND k.blocked_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
        "attendance a JOIN lessons l ON l.id = a.lesson_id WHERE a.student_id = k.student_id "
        "AND l.date = :d AND a.status = 'ill') ORDER BY k.student_id",
        DB_ARGS(DB_INT(":s", school), DB_TEXT(":d", day)));
    long n = 0, cap = 0;
    int rc;
    while (db_next(st, &rc)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 128;
            struct pupil *p = realloc(*out, (size_t)cap * sizeof(**out));
            if (p == NULL) {
                sqlite3_reset(st);
                rc = SQLITE_NOMEM;
                break;
            }
            *out = p;
        }
        snprintf((*out)[n].card, sizeof((*out)[n].card), "%s", db_col_text(st, 0));
        (*out)[n++].grade = sqlite3_column_int(st, 1);
    }
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return n;
}

/* The morning and the afternoon of `day` at the turnstile: each pupil enters between 07:40 and
 * 08:25 and leaves between 13:10 and 15:40. */
static int passage_day(struct db *db, int64_t turnstile, int64_t school, const char *day,
                       const char *today, const struct pupil *p, long n)
{
    struct passage_event *ev = calloc((size_t)n * 2 + 1, sizeof(*ev));
    char(*keys)[32] = calloc((size_t)n * 2 + 1, sizeof(*keys));
    int rc = -1;
    if (ev == NULL || keys == NULL)
        goto out;
    for (long i = 0; i < n * 2; i++) {
        long who = i % n;
        bool in = i < n;
        snprintf(keys[i], sizeof(keys[i]), "demo-%s-%ld", in ? "in" : "out", who);
        ev[i] = (struct passage_event){
            .key = keys[i],
            .seq = i + 1,
            .card = p[who].card,
            .in = in,
            .at = at_time(day, in ? 7 * 60 + 40 + (int)(who * 37 % 46)
                                  : 13 * 60 + 10 + (int)(who * 53 % 151)),
        };
    }
    struct passage_batch b = {0};
    enum passage_outcome o = passage_apply(db, turnstile, school, ev, (size_t)n * 2, today, &b);
    json_decref(b.results);
    int64_t held, last;
    if (o == PASSAGE_DONE && mosk_terminal_update(db, turnstile, &held, &last) == 0)
        rc = 0;
out:
    free(ev);
    free(keys);
    return rc;
}

/* The buffet's day: breakfast after the first lesson for those who eat it free and every third
 * other pupil, lunch for every other pupil, and a bun or an apple with tea for every fourth. */
static int sales_day(struct db *db, const struct mes_config *cfg, int64_t till, int64_t school,
                     const char *day, const struct pupil *p, long n)
{
    int64_t complex[3] = {0}, items[5] = {0};
    for (int k = 0; k < 3; k++)
        if (db_int(db, &complex[k],
                   "SELECT id FROM meal_complexes WHERE institution_id = :s AND day = :d AND "
                   "kind = :k",
                   DB_ARGS(DB_INT(":s", school), DB_TEXT(":d", day), DB_TEXT(":k", kinds[k]))) !=
            SQLITE_ROW)
            return -1;
    for (int k = 0; k < 5; k++)
        if (db_int(db, &items[k],
                   "SELECT id FROM buffet_items WHERE institution_id = :s ORDER BY id LIMIT 1 "
                   "OFFSET :k",
                   DB_ARGS(DB_INT(":s", school), DB_INT(":k", k))) != SQLITE_ROW)
            return -1;
    int64_t seq = 0;
    for (long i = 0; i < n; i++) {
        bool free_breakfast =
            p[i].grade >= cfg->meals.free_grade_from && p[i].grade <= cfg->meals.free_grade_to;
        for (int what = 0; what < 3; what++) {
            struct sale_in s = {.card = p[i].card, .nlines = 1};
            if (what == 0 && (free_breakfast || i % 3 == 0)) {
                s.lines[0] =
                    (struct sale_line_in){.id = complex[0], .complex = true, .quantity = 1};
                s.at = at_time(day, 9 * 60 + 15 + (int)(i % 12));
            } else if (what == 1 && i % 2 == 0) {
                s.lines[0] =
                    (struct sale_line_in){.id = complex[1], .complex = true, .quantity = 1};
                s.at = at_time(day, 12 * 60 + 10 + (int)(i % 15));
            } else if (what == 2 && i % 4 == 1) {
                s.lines[0] = (struct sale_line_in){.id = items[1 + (i / 4) % 4], .quantity = 1};
                s.lines[1] = (struct sale_line_in){.id = items[0], .quantity = 1};
                s.nlines = 2;
                s.at = at_time(day, 10 * 60 + 10 + (int)(i % 10));
            } else {
                continue;
            }
            char key[32];
            snprintf(key, sizeof(key), "demo-sale-%lld", (long long)++seq);
            s.key = key;
            s.seq = seq;
            json_t *result = NULL;
            enum sales_apply o = sales_apply(db, cfg, till, school, &s, &result);
            json_decref(result);
            if (o != SALES_APPLIED)
                return -1;
        }
    }
    int64_t held, last;
    return mosk_terminal_update(db, till, &held, &last);
}

int demo_moskvenok_showcase(struct db *db, const struct mes_config *cfg, int64_t school, time_t now)
{
    char today[16], monday[16], last_friday[16], day[16] = "";
    mosk_local_day(now, today);
    /* The last school day before today: the last with a lesson that took place. */
    sqlite3_stmt *st = db_query(db,
                                "SELECT max(l.date) FROM lessons l JOIN classes c ON c.id = "
                                "l.class_id WHERE c.institution_id = :s AND l.date < :t AND "
                                "l.cancelled = 0",
                                DB_ARGS(DB_INT(":s", school), DB_TEXT(":t", today)));
    int rc;
    while (db_next(st, &rc))
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            snprintf(day, sizeof(day), "%s", db_col_text(st, 0));
    /* The cards and the money the evening before that day (before today when there is none),
     * so that its purchases are paid from a balance already there. */
    if (rc != SQLITE_DONE ||
        cards_and_accounts(db, school, school, day[0] != '\0' ? at_time(day, 12 * 60) : now) != 0)
        return -1;
    /* The complexes from that day (or this week's Monday) to next week's Friday. */
    int wd = mosk_weekday(today);
    if (mosk_day_add(today, 1 - wd, monday) != 0 || mosk_day_add(monday, 11, last_friday) != 0 ||
        complexes(db, school, day[0] != '\0' && strcmp(day, monday) < 0 ? day : monday,
                  last_friday) != 0)
        return -1;
    struct demo_token t[2];
    int64_t turnstile = device(db, school, 0, &t[0]), till = device(db, school, 1, &t[1]);
    sodium_memzero(t, sizeof(t)); /* nobody holds these; a school admin makes the real ones */
    if (turnstile < 0 || till < 0)
        return -1;
    if (day[0] == '\0') /* the school year has just begun */
        return 0;
    struct pupil *p;
    long n = pupils(db, school, day, &p);
    if (n < 0)
        return -1;
    rc = n == 0 ? 0
         : passage_day(db, turnstile, school, day, today, p, n) != 0 ||
                 sales_day(db, cfg, till, school, day, p, n) != 0
             ? -1
             : 0;
    free(p);
    return rc;
}

/* Opens `dir`/`name` for writing anew, readable by its owner only. */
static FILE *open_private(const char *dir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return fd < 0 ? NULL : fdopen(fd, "w");
}

int demo_moskvenok_files(struct db *db, const char *data_dir, long long first_school,
                         const struct demo_tokens *tokens, char *err, size_t errlen)
{
    char path[4200];
    FILE *f = open_private(data_dir, DEMO_TOKENS_FILE, path, sizeof(path));
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# «Москвёнок» device tokens of the generated schools (mesnode gen): "
               "school id, scope, token\n");
    for (size_t i = 0; i < tokens->n; i++)
        fprintf(f, "%lld\t%s\t%s\n", (long long)tokens->items[i].school, tokens->items[i].scope,
                tokens->items[i].token);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    f = open_private(data_dir, DEMO_CARDS_FILE, path, sizeof(path));
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# «Москвёнок» cards of the generated schools' students (mesnode gen): card, "
               "school id\n");
    sqlite3_stmt *st = db_query(db,
                                "SELECT card, institution_id FROM cards WHERE institution_id >= "
                                ":first ORDER BY institution_id, id",
                                DB_ARGS(DB_INT(":first", first_school)));
    int rc;
    while (db_next(st, &rc))
        fprintf(f, "%s\t%lld\n", db_col_text(st, 0), (long long)sqlite3_column_int64(st, 1));
    if (fclose(f) != 0 || rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", path,
                 rc != SQLITE_DONE ? "reading the cards failed" : strerror(errno));
        return -1;
    }
    return 0;
}
