/*
 * Unit tests of authentication mechanics: argon2id passwords, random tokens and their
 * hashes, and the login throttle's windows and counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

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

static void test_throttle_per_login(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg);
    assert_non_null(t);
    int64_t now = 1000000;
    for (int i = 0; i < cfg.auth.max_failures_per_login; i++) {
        assert_int_equal(throttle_wait(t, "ivanov", "10.0.0.1", now), 0);
        throttle_failure(t, "ivanov", "10.0.0.1", now);
    }
    assert_true(throttle_wait(t, "ivanov", "10.0.0.1", now) > 0);
    assert_true(throttle_wait(t, "IVANOV", "10.0.0.2", now) > 0); /* case-insensitive */
    assert_int_equal(throttle_wait(t, "petrov", "10.0.0.1", now), 0);
    /* The window passes: allowed again. */
    assert_int_equal(throttle_wait(t, "ivanov", "10.0.0.1", now + cfg.auth.failure_window_s), 0);
    throttle_destroy(t);
}

static void test_throttle_success_resets_login_not_address(void **state)
{
    (void)state;
    struct mes_config c = cfg;
    c.auth.max_failures_per_login = 3;
    c.auth.max_failures_per_address = 5;
    struct throttle *t = throttle_create(&c);
    assert_non_null(t);
    /* throttle_success looks the login up at the wall clock: stamp failures with it too. */
    int64_t now = time(NULL);
    throttle_failure(t, "a", "192.0.2.7", now);
    throttle_failure(t, "a", "192.0.2.7", now);
    throttle_success(t, "A"); /* any letter case */
    /* Without the reset these would make four failures of "a", over its limit of three. */
    throttle_failure(t, "a", "192.0.2.7", now);
    throttle_failure(t, "a", "192.0.2.7", now);
    assert_int_equal(throttle_wait(t, "a", "192.0.2.8", now), 0);
    /* The address kept all four failures: a fifth, for another login, locks it. */
    assert_int_equal(throttle_wait(t, "c", "192.0.2.7", now), 0);
    throttle_failure(t, "b", "192.0.2.7", now);
    int wait = throttle_wait(t, "c", "192.0.2.7", now + 10);
    assert_int_equal(wait, c.auth.failure_window_s - 10);
    /* ... only that address. */
    assert_int_equal(throttle_wait(t, "c", "192.0.2.9", now + 10), 0);
    throttle_destroy(t);
}

static void test_throttle_window(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg);
    int64_t now = 2000000;
    int w = cfg.auth.failure_window_s;
    for (int i = 0; i < cfg.auth.max_failures_per_login; i++)
        throttle_failure(t, "sidorov", "10.1.1.1", now + i);
    /* Counted from the first failure of the window. */
    assert_int_equal(throttle_wait(t, "sidorov", "10.1.1.2", now + 4), w - 4);
    assert_int_equal(throttle_wait(t, "sidorov", "10.1.1.2", now + w - 1), 1);
    assert_int_equal(throttle_wait(t, "sidorov", "10.1.1.2", now + w), 0);
    /* The new window counts from zero: one failure does not lock again. */
    throttle_failure(t, "sidorov", "10.1.1.1", now + w);
    assert_int_equal(throttle_wait(t, "sidorov", "10.1.1.2", now + w + 1), 0);
    /* One below the limit is allowed. */
    for (int i = 1; i < cfg.auth.max_failures_per_login - 1; i++)
        throttle_failure(t, "sidorov", "10.1.1.1", now + w + 1);
    assert_int_equal(throttle_wait(t, "sidorov", "10.1.1.2", now + w + 1), 0);
    throttle_failure(t, "sidorov", "10.1.1.1", now + w + 1);
    assert_true(throttle_wait(t, "sidorov", "10.1.1.2", now + w + 1) > 0);
    throttle_destroy(t);
}

static void test_throttle_bounded_under_flood(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg);
    char login[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(login, sizeof(login), "user%d", i);
        throttle_failure(t, login, "198.51.100.1", 1000);
    }
    /* The table is fixed-size: the flood neither crashes nor grows it, and the address that
     * sent it stays throttled. */
    assert_true(throttle_wait(t, "someone", "198.51.100.1", 1000) > 0);
    throttle_destroy(t);
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
        cmocka_unit_test(test_throttle_per_login),
        cmocka_unit_test(test_throttle_success_resets_login_not_address),
        cmocka_unit_test(test_throttle_window),
        cmocka_unit_test(test_throttle_bounded_under_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
