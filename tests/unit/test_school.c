/*
 * Unit tests of the school's routes run in-process on a scratch database: person creation goes
 * through the writer like every write (a prepare step that validates and hashes the password on
 * the worker, then a handler that only inserts inside the writer's transaction).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>
#include <sodium.h>

#include "accounts/auth.h"
#include "http.h"
#include "log.h"
#include "node.h"
#include "scratch_db.h"

static struct mes_config cfg;

static const struct route *route_named(const char *name)
{
    for (int i = 0; i < http_route_count(); i++)
        if (strcmp(http_route_at(i)->name, name) == 0)
            return http_route_at(i);
    fail_msg("no route %s", name);
    return NULL;
}

/* The route writes through the writer (no transaction of its own) with a prepare step; the
 * prepare refuses a bad body with 400 before any transaction, hashes the password otherwise,
 * and the handler then creates the person, the account and its role in one write transaction. */
static void test_person_create_through_writer(void **state)
{
    (void)state;
    const struct route *rt = route_named("person_create");
    assert_true(rt->writes);
    assert_false(rt->self_tx);
    assert_non_null(rt->prepare);

    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, "INSERT INTO persons (id, last_name, first_name) VALUES "
                                 "(1, 'Админ', 'А'); INSERT INTO accounts (id, person_id, login) "
                                 "VALUES (1, 1, 'admin');"),
                     SQLITE_OK);
    static struct node node;
    node.cfg = cfg;
    struct mg_request_info ri = {.request_method = "POST", .local_uri = "/api/v1/persons"};
    struct req bad = {.node = &node, .ri = &ri, .route = rt, .db = db};
    bad.body = json_pack("{s:s,s:s}", "last_name", "", "first_name", "Анна");
    assert_int_equal(rt->prepare(&bad), 400);
    json_decref(bad.body);
    json_decref(bad.out_json);

    struct req r = {.node = &node, .ri = &ri, .route = rt, .db = db};
    r.caller = (struct caller){.account_id = 1, .person_id = 1, .roles = ROLE_ADMIN, .ngrants = 1};
    r.caller.grants[0] = (struct grant){.role = ROLE_ADMIN, .institution_id = 0};
    r.body = json_pack("{s:s,s:s,s:{s:s,s:s,s:[{s:s}]}}", "last_name", "Смирнова", "first_name",
                       "Анна", "account", "login", "smirnova", "password", "correct horse", "roles",
                       "role", "parent");
    assert_int_equal(rt->prepare(&r), 0);
    assert_non_null(r.prep);
    assert_non_null(r.prep_free);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM persons"), 1); /* nothing yet */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    db_failure_clear();
    assert_int_equal(rt->handler(&r), 201);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(db_failure(), 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM persons"), 2);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM role_grants g JOIN accounts a ON "
                                        "a.id = g.account_id WHERE a.login = 'smirnova' AND "
                                        "g.role = 'parent'"),
                     1);
    sqlite3_stmt *st = db_stmt(db, "SELECT password_hash FROM accounts WHERE login = 'smirnova'");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(auth_verify_password(db_col_text(st, 0), "correct horse"));
    sqlite3_reset(st);
    r.prep_free(r.prep);
    json_decref(r.body);
    json_decref(r.out_json);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    if (sodium_init() < 0)
        return 1;
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_person_create_through_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
