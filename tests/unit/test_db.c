/*
 * Unit tests of the storage layer: migrations keep rows across an upgrade, foreign or newer
 * databases are refused, pragmas are set, and statements are prepared once per connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;
static char path[64];
static char err[512];
static char plans[64]; /* MES_QUERY_PLANS, set in main before any statement is prepared */

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/mes-test-db-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[80];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    return 0;
}

static void test_upgrade_keeps_rows(void **state)
{
    (void)state;
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(db);
    assert_int_equal(db_migrate(db, 1, err, sizeof(err)), 0);
    assert_int_equal(db_schema_version(db), 1);
    assert_int_equal(scratch_scalar(db, "PRAGMA user_version"), 1);
    /* Only version 1 is there: a later subsystem's table is not. */
    assert_int_equal(
        scratch_scalar(
            db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'accounts'"),
        0);
    assert_int_equal(db_exec(db, "INSERT INTO municipalities (name) VALUES ('Район');"
                                 "INSERT INTO institutions (municipality_id, kind, name, "
                                 "short_name) VALUES (1, 'school', 'Школа', 'Школа');"
                                 "INSERT INTO persons (last_name, first_name) "
                                 "VALUES ('Иванов', 'Иван');"),
                     SQLITE_OK);
    db_close(db);

    db = db_open(path, &cfg, err, sizeof(err));
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), 0);
    assert_int_equal(db_schema_version(db), db_latest_version());
    assert_true(db_latest_version() > 1);
    assert_int_equal(scratch_scalar(db, "PRAGMA user_version"), db_latest_version());
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM municipalities WHERE name = 'Район'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM institutions"), 1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM persons WHERE last_name = 'Иванов'"),
                     1);
    assert_int_equal(scratch_scalar(db, "PRAGMA application_id"), DB_APPLICATION_ID);
    /* The new tables work with the old rows. */
    assert_int_equal(db_exec(db, "INSERT INTO accounts (person_id, login) VALUES (1, 'ivanov')"),
                     SQLITE_OK);
    /* Running again changes nothing. */
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM accounts"), 1);
    db_close(db);
}

static void test_pragmas(void **state)
{
    (void)state;
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(db);
    assert_int_equal(scratch_scalar(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(scratch_scalar(db, "PRAGMA synchronous"), 2); /* FULL */
    sqlite3_stmt *st = db_stmt(db, "PRAGMA journal_mode");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(db_col_text(st, 0), "wal");
    sqlite3_reset(st);
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), 0);
    /* Foreign keys are enforced. */
    assert_int_not_equal(db_exec(db, "INSERT INTO accounts (person_id, login) VALUES (42, 'x')"),
                         SQLITE_OK);
    db_close(db);
}

static void test_exists_and_bindings(void **state)
{
    (void)state;
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), 0);
    assert_int_equal(db_exec(db, "INSERT INTO persons (id, last_name, first_name) "
                                 "VALUES (7, 'Петров', 'Пётр')"),
                     SQLITE_OK);
    assert_int_equal(
        db_exists(db, "SELECT 1 FROM persons WHERE id = :id", DB_ARGS(DB_INT(":id", 7))), 1);
    assert_int_equal(
        db_exists(db, "SELECT 1 FROM persons WHERE id = :id", DB_ARGS(DB_INT(":id", 8))), 0);
    sqlite3_stmt *st = db_stmt(db, "UPDATE persons SET middle_name = :m WHERE id = :id");
    assert_int_equal(db_bind_text(st, ":m", "Петрович"), SQLITE_OK);
    assert_int_equal(db_bind_int(st, ":id", 7), SQLITE_OK);
    assert_int_equal(db_exec_stmt(st), SQLITE_DONE);
    assert_int_equal(db_changes(db), 1);
    st = db_stmt(db, "SELECT middle_name FROM persons WHERE id = :id");
    db_bind_int(st, ":id", 7);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(db_col_text(st, 0), "Петрович");
    sqlite3_reset(st);
    db_close(db);
}

static void test_foreign_database_refused(void **state)
{
    (void)state;
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_int_equal(db_exec(db, "PRAGMA application_id = 1234; CREATE TABLE t (x);"), SQLITE_OK);
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "another application"));
    db_close(db);
}

static void test_newer_database_refused(void **state)
{
    (void)state;
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), 0);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", db_latest_version() + 1);
    assert_int_equal(db_exec(db, sql), SQLITE_OK);
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "newer"));
    db_close(db);
}

static void test_statement_cache(void **state)
{
    (void)state;
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    static const char sql[] = "SELECT :a + 1";
    struct db_stats before, after;
    db_stats_get(&before);
    sqlite3_stmt *a = db_stmt(db, sql);
    db_bind_int(a, ":a", 41);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(a, 0), 42);
    sqlite3_stmt *b = db_stmt(db, sql); /* reset, bindings cleared */
    assert_ptr_equal(a, b);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
    sqlite3_reset(b);
    db_stats_get(&after);
    assert_int_equal(after.statements_prepared - before.statements_prepared, 1);
    assert_null(db_stmt(db, "SELECT * FROM no_such_table"));
    /* Another literal with the same text is another cache entry (keyed by pointer). */
    static const char same_text[] = "SELECT :a + 1";
    sqlite3_stmt *c = db_stmt(db, same_text);
    assert_non_null(c);
    assert_ptr_not_equal(a, c);
    assert_ptr_equal(db_stmt(db, sql), a);
    db_close(db);
}

/* An SQL function that fails on the row where its argument is 5: a step that fails midway, as a
 * damaged page or an I/O error would. */
static void fail_at_five(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_int(argv[0]) == 5) {
        sqlite3_result_error(ctx, "injected failure", -1);
        return;
    }
    sqlite3_result_int(ctx, sqlite3_value_int(argv[0]));
}

static struct db *numbers_db(void)
{
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(db);
    assert_int_equal(sqlite3_create_function(db_handle(db), "fail_at_five", 1, SQLITE_UTF8, NULL,
                                             fail_at_five, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(db_exec(db, "CREATE TABLE n (x INTEGER PRIMARY KEY);"
                                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                                 "WHERE x < 10) INSERT INTO n SELECT x FROM c;"),
                     SQLITE_OK);
    return db;
}

static void test_loop_reports_failure_midway(void **state)
{
    (void)state;
    struct db *db = numbers_db();
    db_failure_clear();
    /* The whole table: ten rows and SQLITE_DONE, no failure. */
    sqlite3_stmt *st =
        db_query(db, "SELECT x FROM n WHERE x >= :from ORDER BY x", DB_ARGS(DB_INT(":from", 1)));
    int rc, rows = 0;
    while (db_next(st, &rc))
        rows++;
    assert_int_equal(rows, 10);
    assert_int_equal(rc, SQLITE_DONE);
    assert_int_equal(db_failure(), 0);
    /* A step fails at the fifth row: four rows came, then the loop ends with the error, and the
     * thread's failure is set for the dispatcher. */
    st = db_query(db, "SELECT fail_at_five(x) FROM n ORDER BY x", NULL);
    rows = 0;
    while (db_next(st, &rc))
        rows++;
    assert_int_equal(rows, 4);
    assert_int_equal(rc, SQLITE_ERROR);
    assert_int_equal(db_failure(), SQLITE_ERROR);
    db_failure_clear();
    assert_int_equal(db_failure(), 0);
    /* One-shot helpers give the same code. */
    int64_t v = -1;
    assert_int_equal(db_int(db, &v, "SELECT sum(fail_at_five(x)) FROM n", NULL), SQLITE_ERROR);
    assert_int_equal(v, -1);
    assert_int_equal(
        db_exists(db, "SELECT 1 FROM n WHERE fail_at_five(x) = :v", DB_ARGS(DB_INT(":v", 7))), -1);
    assert_int_not_equal(db_failure(), 0);
    db_failure_clear();
    /* A query that does not prepare is a failure too, and its loop runs no row. */
    st = db_query(db, "SELECT nothing FROM nowhere", NULL);
    assert_null(st);
    assert_false(db_next(st, &rc));
    assert_int_equal(rc, SQLITE_ERROR);
    assert_int_not_equal(db_failure(), 0);
    db_failure_clear();
    db_close(db);
}

/* The LIKE pattern of a name search: wildcards escaped, each word's Cyrillic first letter
 * capital on request, and what it finds in SQLite (which folds only ASCII). */
static void test_like_pattern(void **state)
{
    (void)state;
    char out[64];
    db_like_pattern("иванов арт", false, out, sizeof(out));
    assert_string_equal(out, "%иванов арт%");
    db_like_pattern("иванов арт", true, out, sizeof(out));
    assert_string_equal(out, "%Иванов Арт%");
    db_like_pattern("ёлкина яна", true, out, sizeof(out));
    assert_string_equal(out, "%Ёлкина Яна%");
    db_like_pattern("Петров ivan", true, out, sizeof(out));
    assert_string_equal(out, "%Петров ivan%");
    db_like_pattern("50%_a\\b", false, out, sizeof(out));
    assert_string_equal(out, "%50\\%\\_a\\\\b%");
    db_like_pattern("абвгдеёжзийклмнопрстуфхцчшщ", false, out, 12); /* cut short, still closed */
    assert_int_equal(out[0], '%');
    assert_int_equal(out[strlen(out) - 1], '%');
    assert_true(strlen(out) < 12);
    struct db *db = numbers_db();
    assert_int_equal(db_run(db, "CREATE TABLE names (n TEXT)", NULL), SQLITE_DONE);
    assert_int_equal(
        db_run(db, "INSERT INTO names VALUES ('Иванов Артём Сергеевич'), ('100% sure')", NULL),
        SQLITE_DONE);
    const char *qs[] = {"иванов артём", "ИВАНОВ", "0% s", "0_ s"};
    const int found[] = {1, 0, 1, 0};
    for (int i = 0; i < 4; i++) {
        db_like_pattern(qs[i], true, out, sizeof(out));
        int64_t n = -1;
        assert_int_equal(db_int(db, &n, "SELECT count(*) FROM names WHERE n LIKE :l ESCAPE '\\'",
                                DB_ARGS(DB_TEXT(":l", out))),
                         SQLITE_ROW);
        assert_int_equal(n, found[i]);
    }
    db_close(db);
}

static void test_one_shot_helpers(void **state)
{
    (void)state;
    struct db *db = numbers_db();
    db_failure_clear();
    int64_t v = -1;
    assert_int_equal(db_int(db, &v, "SELECT x * 10 FROM n WHERE x = :x", DB_ARGS(DB_INT(":x", 4))),
                     SQLITE_ROW);
    assert_int_equal(v, 40);
    assert_int_equal(db_int(db, &v, "SELECT x FROM n WHERE x = :x", DB_ARGS(DB_INT(":x", 99))),
                     SQLITE_DONE);
    assert_int_equal(v, 40); /* untouched when there is no row */
    char *t = NULL;
    assert_int_equal(
        db_text(db, &t, "SELECT :a || '-' || :b", DB_ARGS(DB_TEXT(":a", "урок"), DB_INT(":b", 3))),
        SQLITE_ROW);
    assert_string_equal(t, "урок-3");
    free(t);
    assert_int_equal(db_text(db, &t, "SELECT x FROM n WHERE x > 100", NULL), SQLITE_DONE);
    assert_null(t);
    assert_int_equal(db_exists(db, "SELECT 1 FROM n WHERE x = :x AND :y IS NULL",
                               DB_ARGS(DB_INT(":x", 3), DB_NULL(":y"))),
                     1);
    assert_int_equal(db_exists(db, "SELECT 1 FROM n WHERE x = :x", DB_ARGS(DB_INT(":x", 11))), 0);
    assert_int_equal(db_run(db, "DELETE FROM n WHERE x > :x", DB_ARGS(DB_INT(":x", 8))),
                     SQLITE_DONE);
    assert_int_equal(db_changes(db), 2);
    /* A constraint is the caller's answer, not a storage failure. */
    int rc = db_run(db, "INSERT INTO n (x) VALUES (:x)", DB_ARGS(DB_INT(":x", 1)));
    assert_int_equal(rc & 0xff, SQLITE_CONSTRAINT);
    assert_int_equal(db_failure(), 0);
    db_close(db);
}

/* The records of `plans` whose SQL is `sql`, as a JSON array (freed by the caller). */
static json_t *plan_records(const char *sql)
{
    json_t *out = json_array();
    FILE *f = fopen(plans, "r");
    assert_non_null(f);
    static char line[65536];
    while (fgets(line, sizeof(line), f) != NULL) {
        json_t *r = json_loads(line, 0, NULL);
        assert_non_null(r);
        if (strcmp(json_string_value(json_object_get(r, "sql")), sql) == 0)
            json_array_append(out, r);
        json_decref(r);
    }
    fclose(f);
    return out;
}

/* With MES_QUERY_PLANS set, the first prepare of a statement on each connection writes its
 * plan once, with the connection's role. */
static void test_query_plans_written(void **state)
{
    (void)state;
    static const char *const sql = "SELECT x FROM q WHERE y = :y";
    struct db *w = db_open(path, &cfg, err, sizeof(err)),
              *r = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(w);
    assert_non_null(r);
    assert_int_equal(db_exec(w, "CREATE TABLE q (x INTEGER, y INTEGER);"
                                "CREATE INDEX q_by_x ON q(x);"),
                     SQLITE_OK);
    db_set_role(w, "writer");
    assert_non_null(db_stmt(w, sql));
    assert_non_null(db_stmt(w, sql)); /* cached: no second record */
    assert_non_null(db_stmt(r, sql));
    json_t *recs = plan_records(sql);
    assert_int_equal(json_array_size(recs), 2);
    const char *roles[2] = {"writer", "worker"};
    for (size_t i = 0; i < 2; i++) {
        json_t *rec = json_array_get(recs, i);
        assert_string_equal(json_string_value(json_object_get(rec, "role")), roles[i]);
        json_t *plan = json_object_get(rec, "plan");
        assert_int_equal(json_array_size(plan), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(plan, 0), "detail")),
                            "SCAN q");
    }
    json_decref(recs);
    db_close(r);
    db_close(w);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    snprintf(plans, sizeof(plans), "/tmp/mes-test-plans-XXXXXX");
    int fd = mkstemp(plans);
    if (fd < 0)
        return 1;
    close(fd);
    setenv("MES_QUERY_PLANS", plans, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upgrade_keeps_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exists_and_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_database_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_database_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_reports_failure_midway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_shot_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_like_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_plans_written, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(plans);
    return failed;
}
