/*
 * Storage: SQLite in WAL mode, one connection per worker thread, statements prepared once per
 * connection and reused (db_stmt), versioned migrations from the subsystems' schema files.
 *
 * A `struct db` belongs to exactly one thread at a time. All SQL strings passed to db_stmt
 * must be string literals (or otherwise live for the whole process): the cache is keyed by the
 * pointer.
 */
#ifndef MES_DB_H
#define MES_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

#define DB_APPLICATION_ID 0x4d455331 /* "MES1" */

struct db;

/* Opens (creating if absent) the database at `path` with the node's pragmas. Returns NULL
 * with a message in `err` on failure. Does not migrate. Free with db_close. */
struct db *db_open(const char *path, const struct mes_config *cfg, char *err, size_t errlen);
void db_close(struct db *db);
sqlite3 *db_handle(struct db *db);

/* Applies pending migrations up to `target` (0 = latest), each in its own transaction that
 * also sets PRAGMA user_version. Refuses a database of another application or of a newer
 * version. Returns 0 or -1 with `err`. */
int db_migrate(struct db *db, int target, char *err, size_t errlen);
int db_schema_version(struct db *db);
int db_latest_version(void);

/* Names what the connection is for in the query plans that tests collect: "writer" for the
 * writer thread's (writer.c marks it); unmarked connections are "worker". `role` must live as
 * long as the connection (a literal). With MES_QUERY_PLANS=FILE in the environment, the first
 * prepare of each statement on a connection appends one JSON line {"role", "sql", "plan": [{"id",
 * "parent", "detail"}...]} (EXPLAIN QUERY PLAN's rows) to FILE; docs/testing.md says how the
 * API tests check them. Unset (as deployed), nothing is written and nothing is explained. */
void db_set_role(struct db *db, const char *role);

/* Returns the cached prepared statement for `sql`, reset and with bindings cleared, or NULL
 * (logged) when it does not prepare. Never finalize it. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* Named bindings (":name"). Return SQLITE_OK or an error code; binding a name the statement
 * lacks is a bug and asserts. */
int db_bind_int(sqlite3_stmt *st, const char *name, int64_t v);
int db_bind_text(sqlite3_stmt *st, const char *name, const char *s); /* NULL binds NULL */
int db_bind_null(sqlite3_stmt *st, const char *name);
int db_bind_blob(sqlite3_stmt *st, const char *name, const void *p, int n);

/* ---- The statement layer ------------------------------------------------------------------
 *
 * Every query runs through these, in the manner of fossil's db.c: a query is prepared (cached),
 * bound by name from a list of arguments and stepped in one call, and each one-shot helper
 * reports the final result code. The arguments are a list ending with a zeroed entry:
 *
 *     int64_t n;
 *     int rc = db_int(db, &n, "SELECT count(*) FROM marks WHERE lesson_id = :l",
 *                     DB_ARGS(DB_INT(":l", lesson_id)));
 *
 * A row loop asks db_next for each row and gets the final code when there is none:
 *
 *     sqlite3_stmt *st = db_query(db, "SELECT ...", DB_ARGS(...));
 *     int rc;
 *     while (db_next(st, &rc)) { ... }
 *     if (rc != SQLITE_DONE) return reply_db_error(r);
 *
 * A storage failure is sticky. Every step that fails with anything but a row, the end or a
 * constraint (a constraint is an answer the caller checks for: 409, a duplicate) is logged with
 * its SQL and remembered as the calling thread's failure until db_failure_clear; so is a query
 * that does not prepare or bind. The dispatcher and the writer clear it before a handler runs
 * and, when it is set afterwards, roll the handler's work back and answer 500 whatever the
 * handler replied; the read cache keeps nothing then. A loop cut short by an error can never
 * become a short answer with 200, even where a handler forgot to look. (A `struct db` is used
 * by one thread at a time, so the thread's failure is its connection's.) */

struct db_arg {
    const char *name; /* ":name"; NULL ends the list */
    char type;        /* 'i' integer, 't' text (NULL binds NULL), 'b' blob, 'n' NULL */
    int64_t i;
    const char *s;
    const void *p;
    int n;
};
/* Entries of a DB_ARGS list (brace initializers: used inside DB_ARGS only). */
#define DB_INT(n_, v_)                                                                             \
    {                                                                                              \
        .name = (n_), .type = 'i', .i = (v_)                                                       \
    }
#define DB_TEXT(n_, v_)                                                                            \
    {                                                                                              \
        .name = (n_), .type = 't', .s = (v_)                                                       \
    }
#define DB_BLOB(n_, p_, l_)                                                                        \
    {                                                                                              \
        .name = (n_), .type = 'b', .p = (p_), .n = (l_)                                            \
    }
#define DB_NULL(n_)                                                                                \
    {                                                                                              \
        .name = (n_), .type = 'n'                                                                  \
    }
#define DB_ARGS(...) ((const struct db_arg[]){__VA_ARGS__, {.name = NULL}})

/* Binds `args` (may be NULL) to `st`. SQLITE_OK, or the first failing code (recorded as a
 * failure). */
int db_bind_args(sqlite3_stmt *st, const struct db_arg *args);

/* db_stmt, then binds `args` (may be NULL). NULL when it does not prepare or bind (recorded). */
sqlite3_stmt *db_query(struct db *db, const char *sql, const struct db_arg *args);

/* sqlite3_step, recording a failure (above). Returns SQLite's code. */
int db_step(sqlite3_stmt *st);

/* The row loop: true while `st` has a row. When it has none, resets `st` and sets *rc to
 * SQLITE_DONE after the last row, or to the error that ended the loop (recorded). A NULL `st`
 * (db_query failed) gives false with *rc SQLITE_ERROR. */
bool db_next(sqlite3_stmt *st, int *rc);

/* Runs `st` to completion (no rows expected) and resets it. SQLITE_DONE on success. */
int db_exec_stmt(sqlite3_stmt *st);

/* Runs `sql` with `args` to completion (an INSERT, UPDATE, DELETE). SQLITE_DONE, or the code:
 * SQLITE_CONSTRAINT (any extended form) is for the caller to answer, anything else is a
 * recorded failure. */
int db_run(struct db *db, const char *sql, const struct db_arg *args);

/* The first column of the first row as an integer into *out. SQLITE_ROW when there is a row,
 * SQLITE_DONE when there is none (*out untouched), or the failure's code. */
int db_int(struct db *db, int64_t *out, const char *sql, const struct db_arg *args);

/* The first column of the first row as text: *out malloc'ed (NULL column: ""), freed by the
 * caller. SQLITE_ROW, SQLITE_DONE (no row, *out NULL) or the failure's code (*out NULL). */
int db_text(struct db *db, char **out, const char *sql, const struct db_arg *args);

/* Whether `sql` with `args` returns a row: 1 yes, 0 no, -1 on a failure. */
int db_exists(struct db *db, const char *sql, const struct db_arg *args);

/* The calling thread's storage failure since db_failure_clear: 0 for none, else the first
 * failing code. */
int db_failure(void);
void db_failure_clear(void);

/* Runs a literal SQL script (no bindings, any number of statements). SQLITE_OK or code. */
int db_exec(struct db *db, const char *sql);

/* Transactions: db_begin_read for a consistent snapshot, db_begin_write takes the write lock
 * up front (BEGIN IMMEDIATE). db_commit/db_rollback end either. Return SQLITE_OK or code. */
int db_begin_read(struct db *db);
int db_begin_write(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* The blob store: file bodies (files.h) in a database of their own beside this one (mes.db:
 * mes.blobs.db), with a rollback journal, so that a body is written once and not to the
 * write-ahead log and then again into the database. A body is kept under its row's id in
 * `blobs` and put inside the caller's write transaction on this database; db_commit commits
 * the store first, durably (a large import commits it in steps): a crash in between leaves a
 * body that no row names, which db_store_collect deletes, and never a row without its body.
 * A row id used again after a rollback replaces what such a body left; readers check every
 * body against its row's hash.
 *
 * db_store_put stores `len` bytes as row `id`'s; SQLITE_OK or a code. db_store_get returns
 * them (malloc'ed; NULL with *rc SQLITE_DONE when absent, or another code). db_store_collect
 * deletes every body no blob row names and returns how many, or -1 with a message in `err`:
 * call it outside a transaction (it takes the write lock for itself) or holding the write lock
 * (db_begin_write) before writing anything. */
int db_store_put(struct db *db, int64_t id, const void *data, size_t len);
/* Notes that this write transaction deleted blob row `id`: after db_commit its body leaves the
 * store too (under the write lock, unless the id names a row again). 0, or -1 when out of
 * memory (the body then waits for db_store_collect). */
int db_store_released(struct db *db, int64_t id);
void *db_store_get(struct db *db, int64_t id, size_t *len, int *rc);
long db_store_collect(struct db *db, char *err, size_t errlen);
/* db_begin_write, then db_store_collect: a write transaction that starts with only named bodies
 * in the store. 0, or -1 with err and no transaction. */
int db_begin_collected(struct db *db, char *err, size_t errlen);

/* Staging: the bodies of a large import stored before, and outside, the write lock on this
 * database, so that the switch-over that names them is short. A stage reserves ids far above
 * every id in use (other writers' new rows stay below them meanwhile) and puts each body in the
 * store under the next one, marked as staged: db_store_collect leaves marked bodies alone. The
 * caller then inserts the blob rows with those very ids (short write transactions) and ends
 * the stage, which removes the marks and deletes the bodies it names as unused (a row that
 * was not inserted: the import failed, or another writer stored the same hash meanwhile).
 * One stage at a time per database, across processes (a lock file beside it, mes.db.stage.lock,
 * held until db_stage_end); marks a crashed stage left are cleared when the next one begins,
 * and its bodies go at the next collection.
 *
 * db_stage_begin: 0, or -1 with err (another stage is under way, or the store failed).
 * db_stage_put: stores `len` bytes (the store's form: raw or a zstd frame) and returns their
 *   id (never 0), or 0 on a store failure (logged). Commits the store in steps.
 * db_stage_flush: commits, durably, what was put: before a row naming it commits. SQLITE_OK
 *   or the code.
 * db_stage_end: removes the stage's marks and deletes the `ndrop` bodies of `drop`, then
 *   releases the lock. SQLITE_OK or the code (the marks then go when the next stage begins). */
struct db_stage {
    int fd;             /* the lock file, -1 when no stage is held */
    int64_t base, next; /* the ids reserved so far: [base, next) */
};
int db_stage_begin(struct db *db, struct db_stage *sg, char *err, size_t errlen);
int64_t db_stage_put(struct db *db, struct db_stage *sg, const void *data, size_t len);
int db_stage_flush(struct db *db);
int db_stage_end(struct db *db, struct db_stage *sg, const int64_t *drop, size_t ndrop);

/* Column helpers: NULL text comes back as "". */
const char *db_col_text(sqlite3_stmt *st, int i);

/* `q` as a LIKE pattern "%q%" (with ESCAPE '\\': % _ \ escaped) into `out`, cut short to fit
 * `size` (at least 8). With `capital`, the first letter of each word of `q` upper-cased when it
 * is Cyrillic, since SQLite's LIKE folds only ASCII: matched against "Фамилия Имя Отчество",
 * "иванов арт" finds «Иванов Артём». */
void db_like_pattern(const char *q, bool capital, char *out, size_t size);

/* relaxed: this connection's commits stop waiting for the disk (synchronous=NORMAL: in WAL mode
 * a power loss may undo the last ones, never corrupt), for a succession of steps that the
 * next attempt redoes anyway (a staged import's switch-over); false: the configured setting
 * again, before the step whose commit must last. */
void db_sync_relaxed(struct db *db, bool relaxed);

int64_t db_last_id(struct db *db);
/* Sets this connection's page cache to `mib` MiB (a large transaction, such as a channel import
 * of a gigabyte, rereads fewer pages from the write-ahead log). */
void db_cache_mib(struct db *db, int mib);
int db_changes(struct db *db);
const char *db_errmsg(struct db *db);

/* Counters for /metrics, summed over all connections. */
struct db_stats {
    long long statements_prepared;
    long long commits;
    long long rollbacks;
    long long busy;
};
void db_stats_get(struct db_stats *out);

#endif
