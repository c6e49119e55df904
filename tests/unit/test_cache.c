/*
 * Unit tests of the read cache's watch table (node/cache/watch.c): the triggers it writes, that
 * installing them on a migrated database makes every row's triggers and changes nothing the
 * second time, and that a change bumps the counters of the scopes the row selects (a row's
 * class, old and new, or the shared scope once). That every table a cached view reads is
 * watched is tested against the running node: tests/api/test_cache_watch.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cache/cache.h"
#include "subsystem.h"
#include "config/config.h"
#include "db.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;

/* How many times `needle` occurs in `s`. */
static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_trigger_text(void **state)
{
    (void)state;
    const struct cache_watch by_row = {"groups", "ROW.class_id", NULL};
    const struct cache_watch by_lesson = {"marks", "class_id",
                                          "FROM lessons WHERE id = ROW.lesson_id"};
    const struct cache_watch shared = {"persons", "0", NULL};
    char name[64], sql[1024];
    assert_int_equal(
        cache_watch_trigger(&by_row, CACHE_INSERT, name, sizeof(name), sql, sizeof(sql)), 0);
    assert_string_equal(name, "groups_cache_ins");
    assert_string_equal(sql, "CREATE TRIGGER groups_cache_ins AFTER INSERT ON groups BEGIN\n"
                             "    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, "
                             "1 WHERE true\n"
                             "        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;\n"
                             "END");
    /* An update bumps the old row's scopes, then the new row's. */
    assert_int_equal(
        cache_watch_trigger(&by_lesson, CACHE_UPDATE, name, sizeof(name), sql, sizeof(sql)), 0);
    assert_string_equal(name, "marks_cache_upd");
    assert_int_equal(count(sql, "INSERT INTO change_counters"), 2);
    assert_non_null(strstr(sql, "WHERE id = OLD.lesson_id"));
    assert_true(strstr(sql, "OLD.lesson_id") < strstr(sql, "NEW.lesson_id"));
    assert_int_equal(count(sql, "ROW."), 0);
    assert_int_equal(
        cache_watch_trigger(&by_lesson, CACHE_DELETE, name, sizeof(name), sql, sizeof(sql)), 0);
    assert_int_equal(count(sql, "OLD.lesson_id"), 1);
    assert_int_equal(count(sql, "NEW."), 0);
    /* A scope that does not depend on the row: one bump for an update. */
    assert_int_equal(
        cache_watch_trigger(&shared, CACHE_UPDATE, name, sizeof(name), sql, sizeof(sql)), 0);
    assert_int_equal(count(sql, "INSERT INTO change_counters"), 1);
    assert_non_null(strstr(sql, "SELECT 0, 1 WHERE true"));
    /* Too small a buffer is refused, never cut. */
    assert_int_equal(cache_watch_trigger(&shared, CACHE_UPDATE, name, sizeof(name), sql, 40), -1);
    assert_int_equal(cache_watch_trigger(&shared, CACHE_UPDATE, name, 8, sql, sizeof(sql)), -1);
}

static int64_t gen(struct db *db, int64_t scope)
{
    int64_t g = 0;
    int rc = db_int(db, &g, "SELECT gen FROM change_counters WHERE scope = :s",
                    DB_ARGS(DB_INT(":s", scope)));
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    return g;
}

static void test_install_and_effect(void **state)
{
    (void)state;
    char path[64], err[256];
    struct db *db = scratch_db(&cfg, path);
    int rows = 0;
    for (int i = 0; subsystems[i] != NULL; i++)
        for (const struct cache_watch *w = subsystems[i]->cache_watches; w && w->table; w++)
            rows++;
    assert_true(rows >= 20); /* the school's, the journal's, the library's and the files' */
    /* Migration 21 dropped the hand-written triggers; installing makes three per row. */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = "
                                        "'trigger' AND name = 'marks_cache_ins'"),
                     0);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(cache_watch_install_all(db, &cfg, err, sizeof(err)), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    int64_t made = 0;
    for (int i = 0; subsystems[i] != NULL; i++)
        for (const struct cache_watch *w = subsystems[i]->cache_watches; w && w->table; w++)
            for (int e = CACHE_INSERT; e <= CACHE_DELETE; e++) {
                char name[128], sql[2048];
                assert_int_equal(cache_watch_trigger(w, (enum cache_event)e, name, sizeof(name),
                                                     sql, sizeof(sql)),
                                 0);
                made += db_exists(db,
                                  "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND "
                                  "name = :n AND sql = :s",
                                  DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":s", sql)));
            }
    assert_int_equal(made, 3 * rows);
    /* A second start changes no schema. */
    int64_t version = scratch_scalar(db, "PRAGMA schema_version");
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(cache_watch_install_all(db, &cfg, err, sizeof(err)), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(scratch_scalar(db, "PRAGMA schema_version"), version);

    /* The effect: a group's class, old and new; the shared scope once per change. */
    assert_int_equal(db_exec(db, "PRAGMA foreign_keys = OFF"), SQLITE_OK);
    int64_t shared = gen(db, 0);
    assert_int_equal(db_exec(db, "INSERT INTO groups (id, class_id, name) VALUES (1, 7, 'a')"),
                     SQLITE_OK);
    assert_int_equal(gen(db, 7), 1);
    assert_int_equal(db_exec(db, "UPDATE groups SET class_id = 8 WHERE id = 1"), SQLITE_OK);
    assert_int_equal(gen(db, 7), 2);
    assert_int_equal(gen(db, 8), 1);
    assert_int_equal(db_exec(db, "DELETE FROM groups WHERE id = 1"), SQLITE_OK);
    assert_int_equal(gen(db, 8), 2);
    assert_int_equal(gen(db, 0), shared);
    assert_int_equal(
        db_exec(db, "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'А', 'Б')"),
        SQLITE_OK);
    assert_int_equal(db_exec(db, "UPDATE persons SET first_name = 'В' WHERE id = 1"), SQLITE_OK);
    assert_int_equal(gen(db, 0), shared + 2);
    scratch_db_remove(db, path);
}

/* A trigger of the same name that reads otherwise is replaced. */
static void test_install_replaces(void **state)
{
    (void)state;
    char path[64], err[256];
    struct db *db = scratch_db(&cfg, path);
    const struct cache_watch one[] = {{"persons", "0", NULL}, {0}};
    assert_int_equal(db_exec(db, "CREATE TRIGGER persons_cache_ins AFTER INSERT ON persons "
                                 "BEGIN SELECT 1; END"),
                     SQLITE_OK);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(cache_watch_install(db, one, err, sizeof(err)), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                        "'persons_cache_ins' AND sql LIKE '%change_counters%'"),
                     1);
    /* A table that does not exist: an error with its trigger's name. */
    const struct cache_watch bad[] = {{"no_such_table", "0", NULL}, {0}};
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(cache_watch_install(db, bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no_such_table_cache_ins"));
    db_rollback(db);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger_text),
        cmocka_unit_test(test_install_and_effect),
        cmocka_unit_test(test_install_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
