/*
 * Unit tests of authentication mechanics: argon2id passwords, random tokens and their
 * hashes. The login throttle has its own, test_throttle.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "accounts/auth.h"
#include "config/config.h"

static struct mes_config cfg;

static void test_password_round_trip(void **state)
{
    (void)state;
    char hash[crypto_pwhash_STRBYTES];
    assert_int_equal(auth_hash_password(&cfg, "correct horse", hash), 0);
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_true(auth_verify_password(hash, "correct horse"));
    assert_false(auth_verify_password(hash, "correct hors"));
    assert_false(auth_verify_password(hash, ""));
    char again[crypto_pwhash_STRBYTES];
    assert_int_equal(auth_hash_password(&cfg, "correct horse", again), 0);
    assert_string_not_equal(hash, again); /* salted */
}

static void test_missing_hash_never_verifies(void **state)
{
    (void)state;
    assert_false(auth_verify_password(NULL, "anything"));
    assert_false(auth_verify_password("", "anything"));
}

static void test_tokens(void **state)
{
    (void)state;
    char a[TOKEN_CHARS], b[TOKEN_CHARS];
    unsigned char ha[32], hb[32], check[32];
    auth_new_token(a, ha);
    auth_new_token(b, hb);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    assert_memory_not_equal(ha, hb, 32);
    auth_token_hash(a, check);
    assert_memory_equal(ha, check, 32);
    auth_token_hash(a, check); /* deterministic */
    assert_memory_equal(ha, check, 32);
    auth_token_hash(b, check);
    assert_memory_not_equal(ha, check, 32);
    assert_int_equal(strlen(b), 43);
    for (const char *p = a; *p; p++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_round_trip),
        cmocka_unit_test(test_missing_hash_never_verifies),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
