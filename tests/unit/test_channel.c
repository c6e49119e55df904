/*
 * Unit tests of a region's checks of a channel manifest (channel_check): an older version than
 * the one held is refused, and a failure to read the version held is an error, never taken for
 * "nothing held" (which would let any older version in).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "federation/channel.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;
static char path[64];

/* An SQL function that always fails: a read that fails as a damaged page would. */
static void fail_always(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_error(ctx, "injected failure", -1);
}

/* channel_check of a manifest of `version`: 0 or -1, with its message in err. */
static int check(struct db *db, long long version, char *err, size_t errlen)
{
    char raw[256];
    snprintf(raw, sizeof(raw),
             "{\"format\":\"mes-library-1\",\"kind\":\"channel\",\"channel\":\"library\","
             "\"version\":%lld,\"previous\":%lld,\"expires\":%lld,\"items\":[]}",
             version, version - 1, (long long)time(NULL) + 3600);
    json_t *m = json_loads(raw, 0, NULL);
    assert_non_null(m);
    struct channel_import res = {0};
    unsigned char hash[32];
    int rc = channel_check(db, m, raw, strlen(raw), &res, hash, err, errlen);
    json_decref(m);
    return rc;
}

static void test_the_version_held_is_read_or_the_check_fails(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    char err[256];
    assert_int_equal(db_run(db,
                            "INSERT INTO channel_state (id, version, manifest_hash, expires_at, "
                            "imported_at) VALUES (1, 5, zeroblob(32), 0, 0)",
                            NULL),
                     SQLITE_DONE);
    assert_int_equal(check(db, 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "older than the version 5 held"));
    assert_int_equal(check(db, 6, err, sizeof(err)), 0);
    /* Reading the version held fails midway: refused as a database error. */
    assert_int_equal(sqlite3_create_function(db_handle(db), "fail_always", 0, SQLITE_UTF8, NULL,
                                             fail_always, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(db_exec(db, "CREATE TEMP VIEW channel_state AS SELECT version + "
                                 "fail_always() AS version, manifest_hash FROM main.channel_state"),
                     SQLITE_OK);
    err[0] = '\0';
    assert_int_equal(check(db, 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "database"));
    db_failure_clear();
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_version_held_is_read_or_the_check_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
