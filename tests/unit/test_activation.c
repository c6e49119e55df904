/*
 * Unit tests of activation codes and the password rules (accounts/activation.c): the codes'
 * format and alphabet, reading them back as people type them, the keyed hash bound to the
 * account, expiry, the node's code key, and each password rule with the configuration's keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "accounts/activation.h"
#include "config/config.h"
#include "scratch_db.h"

static void test_code_format(void **state)
{
    (void)state;
    char seen[ACTIVATION_CODE_CHARS] = "";
    for (int i = 0; i < 500; i++) {
        char code[ACTIVATION_CODE_CHARS], norm[ACTIVATION_CODE_LEN + 1];
        activation_code_new(code);
        assert_int_equal(strlen(code), 14);
        for (int k = 0; k < 14; k++) {
            if (k == 4 || k == 9)
                assert_int_equal(code[k], '-');
            else
                assert_non_null(strchr(activation_alphabet, code[k]));
        }
        assert_int_equal(activation_code_normalize(code, norm), 0);
        assert_int_equal(strlen(norm), 12);
        assert_string_not_equal(code, seen); /* 58 bits: never twice */
        memcpy(seen, code, sizeof(seen));
    }
    /* No look-alikes: 0 O 1 I L U are not symbols. */
    for (const char *p = "0O1ILU"; *p; p++)
        assert_null(strchr(activation_alphabet, *p));
    assert_int_equal(strlen(activation_alphabet), 30);
}

static void test_code_as_typed(void **state)
{
    (void)state;
    char norm[ACTIVATION_CODE_LEN + 1];
    assert_int_equal(activation_code_normalize("k7qm-2xpd-9htr", norm), 0);
    assert_string_equal(norm, "K7QM2XPD9HTR");
    assert_int_equal(activation_code_normalize(" K7QM 2XPD 9HTR ", norm), 0);
    assert_string_equal(norm, "K7QM2XPD9HTR");
    assert_int_equal(activation_code_normalize("K7QM2XPD9HTR", norm), 0);
    assert_int_equal(activation_code_normalize("K7QM-2XPD-9HT", norm), -1);   /* short */
    assert_int_equal(activation_code_normalize("K7QM-2XPD-9HTRA", norm), -1); /* long */
    assert_int_equal(activation_code_normalize("K7QM-2XPD-9HT0", norm), -1);  /* not a symbol */
    assert_int_equal(activation_code_normalize("K7QM-2XPD-9HT\xd0\x90", norm), -1);
    assert_int_equal(activation_code_normalize("", norm), -1);
}

static void test_code_hash(void **state)
{
    (void)state;
    unsigned char k1[ACTIVATION_KEY_BYTES], k2[ACTIVATION_KEY_BYTES], a[32], b[32];
    memset(k1, 1, sizeof(k1));
    memset(k2, 2, sizeof(k2));
    activation_code_hash(k1, 7, "K7QM2XPD9HTR", a);
    activation_code_hash(k1, 7, "K7QM2XPD9HTR", b);
    assert_memory_equal(a, b, 32);
    activation_code_hash(k1, 8, "K7QM2XPD9HTR", b); /* another account's */
    assert_memory_not_equal(a, b, 32);
    activation_code_hash(k2, 7, "K7QM2XPD9HTR", b); /* another node's key */
    assert_memory_not_equal(a, b, 32);
    activation_code_hash(k1, 7, "K7QM2XPD9HTS", b);
    assert_memory_not_equal(a, b, 32);
}

static void test_expiry(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    int64_t now = 1800000000;
    int64_t end = activation_expiry(&cfg, now);
    assert_int_equal(end, now + 30 * 86400);
    assert_true(activation_live(end, now));
    assert_true(activation_live(end, end - 1));
    assert_false(activation_live(end, end));
    assert_false(activation_live(end, end + 86400));
    cfg.auth.activation_days = 1;
    assert_int_equal(activation_expiry(&cfg, now), now + 86400);
}

static void test_key(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    unsigned char k1[ACTIVATION_KEY_BYTES], k2[ACTIVATION_KEY_BYTES];
    assert_int_equal(activation_key(db, false, k1), 0); /* none yet, none made */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(activation_key(db, true, k1), 1);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(activation_key(db, false, k2), 1);
    assert_memory_equal(k1, k2, sizeof(k1));
    assert_int_equal(activation_key(db, true, k2), 1); /* found, not replaced */
    assert_memory_equal(k1, k2, sizeof(k1));
    scratch_db_remove(db, path);
}

static void test_password_rules(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    assert_null(accounts_password_problem(&cfg, "ivanov12", "Roditel2026"));
    assert_null(accounts_password_problem(&cfg, "ivanov12", "пароль2026")); /* Cyrillic letters */
    assert_string_equal(accounts_password_problem(&cfg, "x", "abc123"), "password_too_short");
    /* Length counts characters: 7 Cyrillic letters and a digit are 8. */
    assert_null(accounts_password_problem(&cfg, "x", "пароль71"));
    assert_string_equal(accounts_password_problem(&cfg, "x", "пароль7"), "password_too_short");
    assert_string_equal(accounts_password_problem(&cfg, "Ivanov1234", "ivanov1234"),
                        "password_is_login");
    assert_string_equal(accounts_password_problem(&cfg, "x", "abcdefghij"),
                        "password_needs_letters_and_digits");
    assert_string_equal(accounts_password_problem(&cfg, "x", "1234567890"),
                        "password_needs_letters_and_digits");
    char longest[PASSWORD_MAX_BYTES + 2];
    memset(longest, 'a', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    longest[0] = '1';
    assert_string_equal(accounts_password_problem(&cfg, "x", longest), "password_too_long");
    longest[PASSWORD_MAX_BYTES] = '\0';
    assert_null(accounts_password_problem(&cfg, "x", longest));
    /* The configuration's keys. */
    cfg.auth.password_min_length = 12;
    assert_string_equal(accounts_password_problem(&cfg, "x", "Roditel2026"), "password_too_short");
    cfg.auth.password_min_length = 6;
    cfg.auth.password_letters_and_digits = false;
    assert_null(accounts_password_problem(&cfg, "x", "abcdef"));
    assert_null(accounts_password_problem(&cfg, "x", "123456"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_format), cmocka_unit_test(test_code_as_typed),
        cmocka_unit_test(test_code_hash),   cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_key),         cmocka_unit_test(test_password_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
