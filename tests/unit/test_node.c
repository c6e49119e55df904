/*
 * Unit tests of node.c's guard on who may write a data directory (node_check_owner): its owner
 * may, a directory not made yet may be, anyone else is told which user to run the command as,
 * by name or, for a uid without one, by number. Refusals of another owner's directory need
 * root (to give a scratch directory away, as CI runs the tests); without root, "/" (root's)
 * stands in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"

static char dir[64], err[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mes-test-owner-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/file", dir);
    unlink(sub);
    snprintf(sub, sizeof(sub), "%s/absent", dir);
    rmdir(sub);
    return rmdir(dir);
}

static void assert_contains(const char *text, const char *words)
{
    if (strstr(text, words) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", words, text);
}

static void test_the_owner_and_a_new_directory_may_write(void **state)
{
    (void)state;
    err[0] = '\0';
    assert_int_equal(node_check_owner(dir, "the data directory", "serve", err, sizeof(err)), 0);
    char absent[128];
    snprintf(absent, sizeof(absent), "%s/absent", dir);
    assert_int_equal(node_check_owner(absent, "the data directory", "init", err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void test_not_a_directory_is_refused(void **state)
{
    (void)state;
    char file[128];
    snprintf(file, sizeof(file), "%s/file", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(node_check_owner(file, "the data directory", "sync", err, sizeof(err)), -1);
    assert_contains(err, "is not a directory");
}

static void test_another_owner_is_refused_and_named(void **state)
{
    (void)state;
    struct passwd *me = getpwuid(geteuid());
    assert_non_null(me);
    char self[64];
    snprintf(self, sizeof(self), "not to %s who runs this", me->pw_name);
    if (geteuid() != 0) {
        /* "/" is root's: this user may not write it. */
        assert_int_equal(node_check_owner("/", "the data directory", "publish", err, sizeof(err)),
                         -1);
        assert_contains(err, "the data directory / belongs to user root");
        assert_contains(err, self);
        assert_contains(err, "sudo -u root mesnode publish ...");
        skip(); /* giving a directory away needs root */
    }
    /* Root on a directory of the service user (nobody here): refused, the user named. */
    struct passwd *nobody = getpwnam("nobody");
    assert_non_null(nobody);
    char want[128];
    assert_int_equal(chown(dir, nobody->pw_uid, nobody->pw_gid), 0);
    assert_int_equal(node_check_owner(dir, "the data directory", "rotate-key", err, sizeof(err)),
                     -1);
    snprintf(want, sizeof(want), "the data directory %s belongs to user nobody, not to root", dir);
    assert_contains(err, want);
    assert_contains(err, "sudo -u nobody mesnode rotate-key ...");
    /* A uid without a name: named by number, as sudo takes it. */
    uid_t unnamed = 54321;
    while (getpwuid(unnamed) != NULL)
        unnamed++;
    assert_int_equal(chown(dir, unnamed, 0), 0);
    assert_int_equal(node_check_owner(dir, "the data directory", "bundle import", err, sizeof(err)),
                     -1);
    snprintf(want, sizeof(want), "belongs to uid %u (no user name)", (unsigned)unnamed);
    assert_contains(err, want);
    snprintf(want, sizeof(want), "sudo -u '#%u' mesnode bundle import ...", (unsigned)unnamed);
    assert_contains(err, want);
    /* A message cut to a small buffer stays a string. */
    char small[16];
    assert_int_equal(node_check_owner(dir, "the data directory", "sync", small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(chown(dir, 0, 0), 0);
    assert_int_equal(node_check_owner(dir, "the data directory", "serve", err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_owner_and_a_new_directory_may_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_a_directory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_owner_is_refused_and_named, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
