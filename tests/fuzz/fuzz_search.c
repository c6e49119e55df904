/*
 * libFuzzer target for library search input: any bytes a person types become an FTS5 query
 * that SQLite accepts (never a syntax error, never an injected operator), and any bytes,
 * valid UTF-8 or not, go through the stemming tokenizer (node/library/stem.c) as documents
 * and as queries without crashing or reading out of bounds.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "library/library.h"

static sqlite3 *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (db == NULL) {
        library_tokenizer_init();
        if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'mes_stem');"
                         "INSERT INTO t VALUES ('Решение линейных уравнений');",
                         NULL, NULL, NULL) != SQLITE_OK)
            __builtin_trap();
    }
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *q = library_fts_query(text);
    if (q == NULL)
        __builtin_trap();
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL) !=
        SQLITE_OK)
        __builtin_trap();
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    /* A query with words must run; one without is never sent (the route browses instead). */
    if (q[0] != '\0' && sqlite3_step(st) != SQLITE_ROW)
        __builtin_trap();
    sqlite3_finalize(st);
    /* The raw bytes as a document: index it and take it out again. */
    if (sqlite3_prepare_v2(db, "INSERT INTO t (rowid, x) VALUES (2, ?1)", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_blob(st, 1, data, (int)size, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
        sqlite3_exec(db, "DELETE FROM t WHERE rowid = 2", NULL, NULL, NULL);
    }
    free(q);
    free(text);
    return 0;
}
