/*
 * Unit tests of a region's sync of its library contributions (federation/contrib.c,
 * contrib_sync) on a scratch database and without a hub: with nothing queued and nothing
 * waiting for a verdict it contacts nobody and succeeds; when its reads fail midway it is an
 * error, never a sync that quietly did nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config/config.h"
#include "federation/contrib.h"
#include "node.h"
#include "scratch_db.h"

static struct node n; /* no hub configured: reaching for it would fail the sync */

static void nothing_to_do_succeeds(void **state)
{
    (void)state;
    config_defaults(&n.cfg);
    char path[64], err[256] = "x";
    struct db *db = scratch_db(&n.cfg, path);
    long sent = -1, decided = -1;
    assert_int_equal(contrib_sync(&n, db, &sent, &decided, err, sizeof(err)), 0);
    assert_int_equal(sent, 0);
    assert_int_equal(decided, 0);
    assert_string_equal(err, "");
    scratch_db_remove(db, path);
}

static void a_failing_read_is_an_error(void **state)
{
    (void)state;
    config_defaults(&n.cfg);
    char path[64], err[256];
    struct db *db = scratch_db(&n.cfg, path);
    long sent, decided;
    assert_int_equal(contrib_sync(&n, db, &sent, &decided, err, sizeof(err)), 0);
    /* The table goes: the prepared reads fail when stepped, not as an empty queue. */
    assert_int_equal(db_exec(db, "DROP TABLE fed_contributions"), SQLITE_OK);
    assert_int_equal(contrib_sync(&n, db, &sent, &decided, err, sizeof(err)), -1);
    assert_int_equal(sent, 0);
    assert_non_null(strstr(err, "database"));
    db_failure_clear();
    scratch_db_remove(db, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_to_do_succeeds),
        cmocka_unit_test(a_failing_read_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
