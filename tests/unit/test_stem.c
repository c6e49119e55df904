/*
 * Unit tests of the library's full-text tokenizer (node/library/stem.c): Russian word forms
 * meet at one stem, English too, letters are folded to lower case, «й» and «ё» survive, and
 * the tokenizer is there on every new connection; the ranking function orders by weighted
 * column matches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>

#include "library/library.h"

static sqlite3 *db;

static int setup(void **state)
{
    (void)state;
    library_tokenizer_init();
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return -1;
    return sqlite3_exec(db,
                        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'mes_stem');"
                        "INSERT INTO t (rowid, x) VALUES (1, 'Решение линейных уравнений'),"
                        "(2, 'Квадратное уравнение и теорема Виета'),"
                        "(3, 'Сложение обыкновенных ДРОБЕЙ'), (4, 'Running experiments in labs'),"
                        "(5, 'Мой край: озёра и реки'), (6, 'Строение клетки');",
                        NULL, NULL, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return sqlite3_close(db);
}

/* The rowids that `sql` (with ?1 the query) returns, as "1,2". */
static const char *rows(const char *sql, const char *query)
{
    static char out[64];
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return "error";
    sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n + 8 < sizeof(out))
        n +=
            (size_t)snprintf(out + n, sizeof(out) - n, n ? ",%d" : "%d", sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* The rowids matching `query`, in rowid order. */
static const char *match(const char *query)
{
    return rows("SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid", query);
}

static void test_russian_forms(void **state)
{
    (void)state;
    assert_string_equal(match("уравнение"), "1,2");
    assert_string_equal(match("уравнения"), "1,2");
    assert_string_equal(match("уравнений"), "1,2");
    assert_string_equal(match("уравнениями"), "1,2");
    assert_string_equal(match("дробь"), "3");
    assert_string_equal(match("дробями"), "3"); /* upper case in the text */
    assert_string_equal(match("клетку"), "6");
    assert_string_equal(match("линейное уравнение"), "1");
    assert_string_equal(match("теорема"), "2");
    assert_string_equal(match("квазар"), "");
}

static void test_english_and_letters(void **state)
{
    (void)state;
    assert_string_equal(match("run"), "4");
    assert_string_equal(match("experiment"), "4");
    assert_string_equal(match("lab"), "4");
    assert_string_equal(match("мой"), "5"); /* «й» is not stripped to «и» */
    assert_string_equal(match("озеро"), "5");
}

static void test_every_connection(void **state)
{
    (void)state;
    sqlite3 *other;
    assert_int_equal(sqlite3_open(":memory:", &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "CREATE VIRTUAL TABLE u USING fts5(x, tokenize = "
                                  "'mes_stem')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
}

/* The rowids matching `query` in mes_rank order over a (title, body) table weighted 10 and 1. */
static const char *ranked(const char *query)
{
    return rows("SELECT rowid FROM r WHERE r MATCH ?1 ORDER BY rank", query);
}

static void test_rank(void **state)
{
    (void)state;
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE r USING fts5(title, body, tokenize = 'mes_stem');"
                     "INSERT INTO r (r, rank) VALUES ('rank', 'mes_rank(10.0, 1.0)');"
                     "INSERT INTO r (rowid, title, body) VALUES"
                     "(1, 'Сборник задач', 'уравнения и неравенства'),"
                     "(2, 'Уравнения', 'задачи'),"
                     "(3, 'Сборник', 'уравнение, уравнения, уравнений'),"
                     "(4, 'Дроби', 'дроби и уравнения'), (5, 'Логарифмы', 'логарифм'),"
                     "(6, 'Степени', 'степень'), (7, 'Корни', 'корень');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    /* A title match first; three mentions in the text before one; ties by rowid. */
    assert_string_equal(ranked("уравнение"), "2,3,1,4");
    assert_string_equal(ranked("задача"), "1,2");
    /* Two words: rows with both, ordered by the weighted sum, where the rarer word counts more:
     * «задача» (2 of 7 rows) in row 1's title beats «уравнение» (4 of 7) in row 2's. */
    assert_string_equal(ranked("уравнения задачи"), "1,2");
    /* Weights come from the arguments: with the text weighted over the title, the order flips. */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO r (r, rank) VALUES ('rank', 'mes_rank(1.0, 10.0)')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_string_equal(ranked("уравнение"), "3,1,4,2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_russian_forms),
        cmocka_unit_test(test_english_and_letters),
        cmocka_unit_test(test_every_connection),
        cmocka_unit_test(test_rank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
