/*
 * Unit tests of the logins made for imported and generated people (accounts/logins.c):
 * passport transliteration, the id suffix, and the retry around a hand-chosen login.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "accounts/auth.h"
#include "config/config.h"
#include "scratch_db.h"

static void check(const char *name, const char *want)
{
    char out[ACCOUNT_LOGIN_BASE + 1];
    accounts_translit(name, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_translit(void **state)
{
    (void)state;
    check("Иванов", "ivanov");
    check("Щукина", "shchukina");
    check("Юлия", "iuliia");
    check("Ёлкин", "elkin");
    check("Подъячев", "podieiachev"); /* ъ is "ie" in passports */
    check("Соловьёв", "solovev");
    check("Хайруллина", "khairullina");
    check("Цой", "tsoi");
    check("Петров-Водкин", "petrov-vodkin");
    check("Мамедов оглы", "mamedov-ogly");
    check("O'Neil", "oneil");
    check("  -Ким- ", "kim");
    check("日本", "");
}

static void test_translit_cuts_at_a_whole_letter(void **state)
{
    (void)state;
    char out[5];
    assert_int_equal(accounts_translit("Щукина", out, sizeof(out)),
                     4); /* "shch" and no room for "u" */
    assert_string_equal(out, "shch");
    char tiny[3];
    assert_int_equal(accounts_translit("Щука", tiny, sizeof(tiny)), 0);
}

static void test_make_login(void **state)
{
    (void)state;
    char login[ACCOUNT_LOGIN_MAX + 1];
    assert_int_equal(accounts_make_login("Магомедова", 1234, 1, login, sizeof(login)), 0);
    assert_string_equal(login, "magomedova1234");
    assert_int_equal(accounts_make_login("Магомедова", 1234, 3, login, sizeof(login)), 0);
    assert_string_equal(login, "magomedova1234-3");
    assert_int_equal(accounts_make_login("日本", 7, 1, login, sizeof(login)), 0);
    assert_string_equal(login, "user7");
    char small[8];
    assert_int_equal(accounts_make_login("Магомедова", 1234, 1, small, sizeof(small)), -1);
}

static void test_add_inactive_steps_around_a_taken_login(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, "INSERT INTO persons (id, last_name, first_name) VALUES "
                                 "(5, 'Иванов', 'Артём'), (6, 'Кто', 'То')"),
                     0);
    /* An administrator once chose the login the made one would be. */
    assert_true(accounts_add(db, 6, "IVANOV5", "x") > 0);
    char login[ACCOUNT_LOGIN_MAX + 1];
    int64_t acc = accounts_add_inactive(db, 5, "Иванов", login);
    assert_true(acc > 0);
    assert_string_equal(login, "ivanov5-2");
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM accounts WHERE person_id = 5 "
                                        "AND login = 'ivanov5-2' AND password_hash IS NULL"),
                     1);
    /* A second account for the same person is refused, not made under another login. */
    assert_int_equal(accounts_add_inactive(db, 5, "Иванов", login), -1);
    scratch_db_remove(db, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translit),
        cmocka_unit_test(test_translit_cuts_at_a_whole_letter),
        cmocka_unit_test(test_make_login),
        cmocka_unit_test(test_add_inactive_steps_around_a_taken_login),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
