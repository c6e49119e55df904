/*
 * «Москвёнок» in `mesnode gen`'s synthetic regions (demo.h): every student of a generated
 * school gets a card and a meal account with an opening balance, every generated school a small
 * buffet, a turnstile's device token (scope passage) and a buffet terminal's (scope meals). The
 * tokens and the cards are written beside the database for the benchmark and `mesnode terminal
 * rush` (docs/moskvenok.md, "Synthetic regions"). The demo's own three schools are left to the
 * demo's seeding.
 *
 * Load: set-based INSERT ... SELECT over the region's enrolments (about 456,000 students in the
 * Dagestan region: a few seconds), two tokens a school.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/auth.h"
#include "db.h"
#include "demo/demo.h"

/* A card's identifier: 8 hex digits as a reader shows a 4-byte UID, made from the student's
 * id by a bijection of 32-bit numbers (Knuth's multiplicative hash), so that every student's
 * differs. An opening balance of 1,000 to 5,000 ₽ in steps of 100 ₽. */
#define CARD_OF(id)    "printf('%08X', (" id " * 2654435761) % 4294967296)"
#define OPENING_OF(id) "(100000 + ((" id " * 7919) % 41) * 10000)"

/* The students of the generated schools: sid, school. */
#define STUDENTS                                                                                   \
    "(SELECT e.student_id AS sid, c.institution_id AS school FROM enrollments e JOIN classes c "   \
    "ON c.id = e.class_id WHERE e.left_on IS NULL AND c.institution_id >= :first)"

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

int demo_moskvenok(struct db *db, long long first_school, time_t now, struct demo_tokens *out)
{
    memset(out, 0, sizeof(*out));
    /* The opening top-up: the evening before the region was made, in the node's time zone. */
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
               DB_ARGS(DB_INT(":first", first_school), DB_INT(":at", evening))) != SQLITE_DONE)
        return -1;
    if (db_run(db,
               "INSERT INTO meal_accounts (student_id, balance) "
               "SELECT sid, " OPENING_OF("sid") " FROM " STUDENTS,
               DB_ARGS(DB_INT(":first", first_school))) != SQLITE_DONE)
        return -1;
    /* The ledger says where each balance came from (the reconciliation adds it up); ref 0: a
     * generated opening balance, no payment behind it. */
    if (db_run(db,
               "INSERT INTO ledger (student_id, institution_id, day, at, kind, amount, ref, "
               "balance) SELECT sid, school, :day, :at, 'topup', " OPENING_OF(
                   "sid") ", 0, " OPENING_OF("sid") " FROM " STUDENTS,
               DB_ARGS(DB_INT(":first", first_school), DB_TEXT(":day", day),
                       DB_INT(":at", evening))) != SQLITE_DONE)
        return -1;
    for (size_t i = 0; i < sizeof(buffet) / sizeof(buffet[0]); i++)
        if (db_run(db,
                   "INSERT INTO buffet_items (institution_id, name, category, price) SELECT id, "
                   ":n, :c, :p FROM institutions WHERE id >= :first ORDER BY id",
                   DB_ARGS(DB_TEXT(":n", buffet[i].name), DB_TEXT(":c", buffet[i].category),
                           DB_INT(":p", buffet[i].price), DB_INT(":first", first_school))) !=
            SQLITE_DONE)
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
    static const char *const names[] = {"Турникет, главный вход", "Буфет"};
    static const char *const scopes[] = {"passage", "meals"};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++) {
            struct demo_token *t = &out->items[out->n];
            unsigned char hash[32];
            auth_new_token(t->token, hash);
            t->school = ids[i];
            t->scope = scopes[k];
            if (db_run(db,
                       "INSERT INTO device_tokens (name, scopes, institution_id, token_hash) "
                       "VALUES (:n, :s, :i, :h)",
                       DB_ARGS(DB_TEXT(":n", names[k]), DB_TEXT(":s", scopes[k]),
                               DB_INT(":i", ids[i]), DB_BLOB(":h", hash, 32))) != SQLITE_DONE) {
                free(ids);
                return -1;
            }
            out->n++;
        }
    free(ids);
    return 0;
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
