/*
 * Unit tests of the login's two steps (node/accounts/accounts.c): the route's prepare checks
 * the password outside any transaction; the handler, in the write transaction, records the
 * session. When the account's password changes between the two, the login fails (401, its
 * audit line kept, no session); the throttle's attempt is ended either way. The statuses,
 * cookies and throttling seen from outside are tested by tests/api/test_auth.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <civetweb.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/throttle.h"
#include "config/config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "node.h"
#include "scratch_db.h"

static struct mes_config cfg;

static const struct route *login_route(void)
{
    for (int i = 0; i < http_route_count(); i++)
        if (strcmp(http_route_at(i)->name, "auth_login") == 0)
            return http_route_at(i);
    fail_msg("no auth_login route");
    return NULL;
}

/* Runs the login of "anna" with `password` up to its handler: the prepare, then `between`
 * (SQL run between the two, or NULL), then the handler in a write transaction, committed as
 * the writer would. Returns the status. */
static int login(struct node *n, struct db *db, const char *password, const char *between)
{
    const struct route *rt = login_route();
    assert_non_null(rt->prepare);
    assert_false(rt->self_tx);
    assert_true(rt->writes);
    struct mg_request_info ri = {.request_method = "POST", .local_uri = "/api/v1/auth/login"};
    struct req r = {.node = n, .ri = &ri, .db = db, .route = rt};
    snprintf(r.remote_addr, sizeof(r.remote_addr), "192.0.2.1");
    r.body = json_pack("{s:s,s:s}", "login", "anna", "password", password);
    int status = rt->prepare(&r);
    assert_int_equal(status, 0);
    if (between != NULL)
        assert_int_equal(db_exec(db, between), SQLITE_OK);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    http_run_handler(&r);
    if (r.status < 400 || r.keep_on_error)
        assert_int_equal(db_commit(db), SQLITE_OK);
    else
        db_rollback(db);
    status = r.status;
    json_decref(r.out_json);
    json_decref(r.body);
    if (r.prep_free != NULL)
        r.prep_free(r.prep);
    return status;
}

static void test_password_changed_between_steps(void **state)
{
    (void)state;
    char path[64], hash[crypto_pwhash_STRBYTES];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(auth_hash_password(&cfg, "right", hash), 0);
    assert_int_equal(
        db_run(db, "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'А', 'Б')", NULL),
        SQLITE_DONE);
    assert_int_equal(db_run(db,
                            "INSERT INTO accounts (id, person_id, login, password_hash) "
                            "VALUES (1, 1, 'anna', :h)",
                            DB_ARGS(DB_TEXT(":h", hash))),
                     SQLITE_DONE);
    struct node n = {.cfg = cfg};
    n.throttle = throttle_create(&cfg, NULL);
    assert_non_null(n.throttle);

    /* Unchanged: the session is recorded. */
    assert_int_equal(login(&n, db, "right", NULL), 200);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'login'"),
                     1);
    /* The password changes after it was checked: no session, the failure audited. */
    assert_int_equal(login(&n, db, "right", "UPDATE accounts SET password_hash = 'other'"), 401);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(
        scratch_scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'login_failed'"), 1);
    /* Disabled in between: the same. */
    assert_int_equal(
        db_run(db, "UPDATE accounts SET password_hash = :h", DB_ARGS(DB_TEXT(":h", hash))),
        SQLITE_DONE);
    assert_int_equal(login(&n, db, "right", "UPDATE accounts SET disabled = 1"), 401);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM sessions"), 1);
    /* Every attempt was ended: two failures stand, within the free budget. */
    assert_true(throttle_used(n.throttle, 0) > 0);
    throttle_destroy(n.throttle);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    if (sodium_init() < 0)
        return 1;
    config_defaults(&cfg);
    cfg.auth.argon2_opslimit = 1;
    cfg.auth.argon2_memlimit_kib = 8;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_changed_between_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
