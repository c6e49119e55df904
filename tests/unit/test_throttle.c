/*
 * Unit tests of the login throttle (node/accounts/throttle.c) with an injected clock: delays
 * grow from each counter's free budget to the cap; a browser holding a device cookie of its
 * login is judged by its own failures only, never by others'; forged, expired, foreign and
 * locked-out cookies are not trusted; a botnet is slowed per login and a sprayer per address;
 * memory stays bounded under a flood of distinct keys, and the counters that slow someone
 * survive it; concurrent attempts cannot overrun a budget; the cookie key lives in the
 * database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts/throttle.h"
#include "config/config.h"
#include "scratch_db.h"

#define T0  1800000000000LL /* the injected clock's start, in ms */
#define SEC 1000LL

static struct mes_config cfg;

/* Small budgets and a one-second first delay, as the API tests configure them. */
static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg);
    cfg.auth.client_free_failures = 3;
    cfg.auth.login_free_failures = 10;
    cfg.auth.address_free_failures = 50;
    cfg.auth.device_free_failures = 3;
    cfg.auth.device_lockout_failures = 6;
    cfg.auth.delay_s = 1;
    cfg.auth.max_delay_s = 8;
    cfg.auth.failure_window_s = 3600;
    cfg.auth.device_cookie_days = 30;
    return 0;
}

/* One login attempt: the wait in ms it was refused with, or 0 when it was admitted and then
 * ended as `ok` says. */
static int64_t try_login(struct throttle *t, const char *login, const char *address,
                         const char *cookie, int64_t now, bool ok)
{
    struct throttle_attempt a;
    int64_t w = throttle_begin(t, &a, login, address, cookie, now);
    if (w == 0)
        throttle_end(t, &a, ok ? THROTTLE_SUCCEEDED : THROTTLE_FAILED);
    return w;
}

/* Whether an attempt at `now` would be judged as coming from a trusted device; leaves nothing
 * charged. */
static bool trusted(struct throttle *t, const char *login, const char *cookie, int64_t now)
{
    struct throttle_attempt a;
    if (throttle_begin(t, &a, login, "203.0.113.200", cookie, now) == 0)
        throttle_end(t, &a, THROTTLE_ABANDONED);
    return a.trusted;
}

static void test_delays_grow_to_the_cap(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    assert_non_null(t);
    int64_t now = T0;
    for (int i = 0; i < cfg.auth.client_free_failures; i++)
        assert_int_equal(try_login(t, "ivanov", "10.0.0.1", NULL, now, false), 0);
    /* Then 1 s, 2 s, 4 s, 8 s and 8 s again after each further failure, from that failure. */
    static const int64_t delays[] = {1, 2, 4, 8, 8};
    for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        assert_int_equal(try_login(t, "ivanov", "10.0.0.1", NULL, now, false), delays[i] * SEC);
        assert_int_equal(try_login(t, "IVANOV", "10.0.0.1", NULL, now + 300, false),
                         delays[i] * SEC - 300); /* any letter case; counted down */
        now += delays[i] * SEC;
        assert_int_equal(try_login(t, "ivanov", "10.0.0.1", NULL, now, false), 0);
    }
    /* The right password is refused as well while the delay lasts: no guess is checked. */
    assert_int_equal(try_login(t, "ivanov", "10.0.0.1", NULL, now, true), 8 * SEC);
    /* The counter is this login's from this client: the same login from elsewhere and other
     * logins from here go on (their own counters are below their budgets). */
    assert_int_equal(try_login(t, "ivanov", "10.0.0.2", NULL, now, false), 0);
    assert_int_equal(try_login(t, "petrov", "10.0.0.1", NULL, now, false), 0);
    throttle_destroy(t);
}

static void test_success_resets_the_client_and_counts_nothing(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    int64_t now = T0;
    /* Two typos and a success, four times: never a delay, though without the reset the
     * client's budget of three would be spent in the second round. */
    for (int round = 0; round < 4; round++) {
        assert_int_equal(try_login(t, "sidorov", "10.0.0.3", NULL, now, false), 0);
        assert_int_equal(try_login(t, "sidorov", "10.0.0.3", NULL, now, false), 0);
        assert_int_equal(try_login(t, "sidorov", "10.0.0.3", NULL, now, true), 0);
    }
    /* Successes count for nothing ... */
    for (int i = 0; i < 100; i++)
        assert_int_equal(try_login(t, "sidorov", "10.0.0.3", NULL, now, true), 0);
    /* ... nor do they wipe the login's untrusted failures: eight of its budget of ten are
     * spent, wherever they came from. */
    assert_int_equal(try_login(t, "sidorov", "10.0.0.4", NULL, now, false), 0);
    assert_int_equal(try_login(t, "sidorov", "10.0.0.5", NULL, now, false), 0);
    assert_int_equal(try_login(t, "sidorov", "10.0.0.6", NULL, now, true), SEC);
    /* An attempt the server abandoned (a database error before the password was judged)
     * counts for nothing either. */
    size_t used = throttle_used(t, now);
    struct throttle_attempt a;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(throttle_begin(t, &a, "kozlov", "10.0.0.7", NULL, now), 0);
        throttle_end(t, &a, THROTTLE_ABANDONED);
    }
    assert_int_equal(throttle_used(t, now), used);
    throttle_destroy(t);
}

static void test_device_cookie_holder_ignores_others_failures(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    int64_t now = T0;
    char cookie[DEVICE_COOKIE_CHARS];
    assert_int_equal(try_login(t, "teacher", "10.1.0.1", NULL, now, true), 0);
    throttle_device_cookie(t, "teacher", now, cookie);
    assert_int_equal(strlen(cookie), 76);
    assert_int_equal(strspn(cookie, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"),
                     76);
    /* An attacker guesses from the owner's own address (a shared school network), then a
     * botnet from 200 others, and one address sprays 100 logins: every untrusted counter that
     * concerns the owner is over its budget. */
    for (int i = 0; i < 200; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "198.51.%d.%d", i / 250, i % 250);
        try_login(t, "teacher", "10.1.0.1", NULL, now, false);
        try_login(t, "teacher", addr, NULL, now, false);
        snprintf(addr, sizeof(addr), "guess%d", i);
        try_login(t, addr, "10.1.0.1", NULL, now, false);
    }
    assert_true(try_login(t, "teacher", "10.1.0.1", NULL, now, true) > 0);
    assert_true(try_login(t, "teacher", "192.0.2.1", NULL, now, true) > 0);
    assert_true(try_login(t, "someone", "10.1.0.1", NULL, now, true) > 0);
    /* The owner's browser gets in at once, from there or anywhere, in any letter case. */
    assert_true(trusted(t, "teacher", cookie, now));
    assert_int_equal(try_login(t, "teacher", "10.1.0.1", cookie, now, true), 0);
    assert_int_equal(try_login(t, "Teacher", "192.0.2.1", cookie, now + 1, true), 0);
    /* Its own typos have their own small budget, then their own delays. */
    for (int i = 0; i < cfg.auth.device_free_failures; i++)
        assert_int_equal(try_login(t, "teacher", "10.1.0.1", cookie, now, false), 0);
    assert_int_equal(try_login(t, "teacher", "10.1.0.1", cookie, now, true), 1 * SEC);
    assert_int_equal(try_login(t, "teacher", "10.1.0.1", cookie, now + SEC, true), 0);
    /* ... which a success reset. */
    for (int i = 0; i < cfg.auth.device_free_failures; i++)
        assert_int_equal(try_login(t, "teacher", "10.1.0.1", cookie, now + SEC, false), 0);
    throttle_destroy(t);
}

static void test_device_cookie_failing_often_loses_trust(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    int64_t now = T0;
    char cookie[DEVICE_COOKIE_CHARS], other[DEVICE_COOKIE_CHARS];
    throttle_device_cookie(t, "ivanova", now, cookie);
    throttle_device_cookie(t, "ivanova", now, other); /* the same login in another browser */
    int failures = 0;
    while (trusted(t, "ivanova", cookie, now)) {
        int64_t w = try_login(t, "ivanova", "10.2.0.1", cookie, now, false);
        if (w > 0)
            now += w; /* waits out its growing delays: 1 s, 2 s, 4 s */
        else
            failures++;
        assert_true(failures <= cfg.auth.device_lockout_failures);
    }
    assert_int_equal(failures, cfg.auth.device_lockout_failures);
    /* Locked out, it is judged as any stranger: by this client's counter of the login ... */
    assert_int_equal(try_login(t, "ivanova", "10.2.0.1", cookie, now, false), 0);
    assert_int_equal(try_login(t, "ivanova", "10.2.0.1", cookie, now, false), 0);
    assert_int_equal(try_login(t, "ivanova", "10.2.0.1", cookie, now, false), 0);
    assert_int_equal(try_login(t, "ivanova", "10.2.0.1", cookie, now, true), 1 * SEC);
    /* ... while the other browser's cookie keeps its trust. */
    assert_true(trusted(t, "ivanova", other, now));
    assert_int_equal(try_login(t, "ivanova", "10.2.0.1", other, now, true), 0);
    /* The lock lasts until failures are forgotten: one per failure window of quiet. */
    assert_false(trusted(t, "ivanova", cookie, now + 3599 * SEC));
    assert_true(trusted(t, "ivanova", cookie, now + 3600 * SEC));
    throttle_destroy(t);
}

static void test_untrusted_cookies(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    struct throttle *elsewhere = throttle_create(&cfg, NULL); /* another node's key */
    int64_t now = T0;
    char cookie[DEVICE_COOKIE_CHARS], forged[DEVICE_COOKIE_CHARS], foreign[DEVICE_COOKIE_CHARS];
    throttle_device_cookie(t, "teacher", now, cookie);
    throttle_device_cookie(elsewhere, "teacher", now, foreign);
    assert_true(trusted(t, "teacher", cookie, now));
    assert_false(trusted(t, "student", cookie, now)); /* another login's cookie */
    assert_false(trusted(t, "teacher", foreign, now));
    /* Expired: valid for device_cookie_days, not a second more. */
    int64_t ttl = (int64_t)cfg.auth.device_cookie_days * 86400 * SEC;
    assert_true(trusted(t, "teacher", cookie, now + ttl - SEC));
    assert_false(trusted(t, "teacher", cookie, now + ttl));
    /* Any changed character (the version, the nonce, the expiry, the MAC). */
    for (size_t i = 0; i < strlen(cookie); i++) {
        memcpy(forged, cookie, sizeof(forged));
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        assert_false(trusted(t, "teacher", forged, now));
    }
    memcpy(forged, cookie, sizeof(forged));
    forged[40] = '\0';
    assert_false(trusted(t, "teacher", forged, now));
    static const char *const junk[] = {"", "x", "====", "not base64!",
                                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_false(trusted(t, "teacher", junk[i], now));
    /* An untrusted cookie gains nothing: judged by the flooded counters like no cookie. */
    for (int i = 0; i < cfg.auth.client_free_failures; i++)
        try_login(t, "teacher", "10.3.0.1", NULL, now, false);
    assert_true(try_login(t, "teacher", "10.3.0.1", forged, now, true) > 0);
    assert_true(try_login(t, "teacher", "10.3.0.1", foreign, now, true) > 0);
    assert_int_equal(try_login(t, "teacher", "10.3.0.1", cookie, now, true), 0);
    throttle_destroy(elsewhere);
    throttle_destroy(t);
}

static void test_botnet_is_slowed_per_login(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    int64_t now = T0;
    char cookie[DEVICE_COOKIE_CHARS], addr[32];
    throttle_device_cookie(t, "director", now, cookie);
    /* Each address of a botnet tries once: each client is far below its budget, yet after
     * the login's budget of 10 untrusted failures every next guess waits, longer each time. */
    int i = 0;
    for (; i < cfg.auth.login_free_failures; i++) {
        snprintf(addr, sizeof(addr), "203.0.113.%d", i);
        assert_int_equal(try_login(t, "director", addr, NULL, now, false), 0);
    }
    int64_t last = 0;
    for (int round = 0; round < 4; round++, i++) {
        snprintf(addr, sizeof(addr), "203.0.113.%d", i);
        int64_t w = try_login(t, "director", addr, NULL, now, false);
        assert_true(w > last);
        last = w;
        now += w;
        assert_int_equal(try_login(t, "director", addr, NULL, now, false), 0);
    }
    assert_int_equal(last, 8 * SEC); /* 1, 2, 4, 8 */
    /* The owner's browser is not slowed; other logins neither. */
    assert_int_equal(try_login(t, "director", "203.0.113.7", cookie, now, true), 0);
    assert_int_equal(try_login(t, "deputy", "203.0.113.7", NULL, now, true), 0);
    throttle_destroy(t);
}

static void test_sprayer_is_slowed_per_address(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    int64_t now = T0;
    char login[32];
    int i = 0;
    /* One guess for each of many logins, from the addresses of one IPv6 /64. */
    for (; i < cfg.auth.address_free_failures; i++) {
        snprintf(login, sizeof(login), "user%d", i);
        char addr[48];
        snprintf(addr, sizeof(addr), "2001:db8:0:7::%x", i + 1);
        assert_int_equal(try_login(t, login, addr, NULL, now, false), 0);
    }
    assert_int_equal(try_login(t, "user999", "2001:db8:0:7:ffff::1", NULL, now, false), SEC);
    /* Another /64, and IPv4 clients, are not concerned. */
    assert_int_equal(try_login(t, "user999", "2001:db8:0:8::1", NULL, now, false), 0);
    assert_int_equal(try_login(t, "user999", "192.0.2.50", NULL, now, false), 0);
    /* An IPv4 address written IPv4-mapped is the same client. */
    for (int k = 0; k < cfg.auth.address_free_failures - 1; k++) {
        snprintf(login, sizeof(login), "v4user%d", k);
        assert_int_equal(try_login(t, login, "192.0.2.50", NULL, now, false), 0);
    }
    assert_int_equal(try_login(t, "v4user-last", "::ffff:192.0.2.50", NULL, now, false), SEC);
    throttle_destroy(t);
}

static void test_failures_are_forgotten_one_per_window(void **state)
{
    (void)state;
    int64_t window = cfg.auth.failure_window_s * SEC;
    /* Three failures, then a fourth just before a quiet window has passed: four count, and the
     * next attempt waits 2 s ... */
    struct throttle *t = throttle_create(&cfg, NULL);
    for (int i = 0; i < 3; i++)
        try_login(t, "orlov", "10.4.0.1", NULL, T0, false);
    assert_int_equal(try_login(t, "orlov", "10.4.0.1", NULL, T0 + window - 1, false), 0);
    assert_int_equal(try_login(t, "orlov", "10.4.0.1", NULL, T0 + window - 1, false), 2 * SEC);
    throttle_destroy(t);
    /* ... and just after it, one of the three is forgotten: three count, 1 s. */
    t = throttle_create(&cfg, NULL);
    for (int i = 0; i < 3; i++)
        try_login(t, "orlov", "10.4.0.1", NULL, T0, false);
    assert_int_equal(try_login(t, "orlov", "10.4.0.1", NULL, T0 + window, false), 0);
    assert_int_equal(try_login(t, "orlov", "10.4.0.1", NULL, T0 + window, false), SEC);
    /* Three counters (the client's, the login's, the address's) hold three failures each;
     * three more quiet windows free their slots. */
    assert_int_equal(throttle_used(t, T0 + window), 3);
    assert_int_equal(throttle_used(t, T0 + 4 * window - 1), 3);
    assert_int_equal(throttle_used(t, T0 + 4 * window), 0);
    throttle_destroy(t);
}

static void test_bounded_under_a_flood(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    int64_t now = T0;
    char cookie[DEVICE_COOKIE_CHARS], login[32], addr[32];
    /* Counters that slow someone down: a locked-out cookie, a guessed login from one client,
     * a botnet's target, a sprayer's address. */
    throttle_device_cookie(t, "stolen", now, cookie);
    for (int i = 0; i < cfg.auth.device_lockout_failures; i++, now += 8 * SEC)
        assert_int_equal(try_login(t, "stolen", "10.6.0.1", cookie, now, false), 0);
    assert_false(trusted(t, "stolen", cookie, now));
    for (int i = 0; i < 5; i++)
        try_login(t, "victim", "10.9.0.1", NULL, now, false);
    for (int i = 0; i < 14; i++) {
        snprintf(addr, sizeof(addr), "10.8.0.%d", i);
        try_login(t, "target", addr, NULL, now, false);
    }
    for (int i = 0; i < 60; i++) {
        snprintf(login, sizeof(login), "sprayed%d", i);
        try_login(t, login, "10.7.0.1", NULL, now, false);
    }
    int64_t victim = try_login(t, "victim", "10.9.0.1", NULL, now, true);
    assert_true(victim > 0);
    assert_true(try_login(t, "target", "10.8.0.99", NULL, now, true) > 0);
    assert_true(try_login(t, "anyone", "10.7.0.1", NULL, now, true) > 0);
    /* A flood of distinct logins from distinct addresses: three new counters each. */
    for (int i = 0; i < 200000; i++) {
        snprintf(login, sizeof(login), "flood%d", i);
        snprintf(addr, sizeof(addr), "100.%d.%d.%d", (i >> 16) & 63, (i >> 8) & 255, i & 255);
        assert_int_equal(try_login(t, login, addr, NULL, now, false), 0);
    }
    /* The table did not grow, and it still holds what slows the attackers. */
    size_t used = throttle_used(t, now);
    assert_true(used <= THROTTLE_SLOTS);
    assert_true(used > THROTTLE_SLOTS * 9 / 10);
    assert_int_equal(try_login(t, "victim", "10.9.0.1", NULL, now, true), victim);
    assert_true(try_login(t, "target", "10.8.0.99", NULL, now, true) > 0);
    assert_true(try_login(t, "anyone", "10.7.0.1", NULL, now, true) > 0);
    assert_false(trusted(t, "stolen", cookie, now));
    throttle_destroy(t);
}

struct racer {
    struct throttle *t;
    int admitted;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct throttle_attempt a;
    for (int i = 0; i < 500; i++)
        if (throttle_begin(r->t, &a, "contested", "10.5.0.1", NULL, T0) == 0)
            r->admitted++; /* ended later, or never: the charge stays as a failure */
    return NULL;
}

static void test_concurrent_attempts_cannot_overrun(void **state)
{
    (void)state;
    struct throttle *t = throttle_create(&cfg, NULL);
    struct racer racers[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        racers[i] = (struct racer){t, 0};
        assert_int_equal(pthread_create(&th[i], NULL, race, &racers[i]), 0);
    }
    int admitted = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        admitted += racers[i].admitted;
    }
    /* Attempts still in flight count: 2,000 at once get exactly the budget. */
    assert_int_equal(admitted, cfg.auth.client_free_failures);
    throttle_destroy(t);
}

static void test_key_is_made_once_and_kept(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    unsigned char k1[THROTTLE_KEY_BYTES], k2[THROTTLE_KEY_BYTES], zero[THROTTLE_KEY_BYTES] = {0};
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM node_secrets"), 0);
    assert_int_equal(throttle_load_key(db, k1), 0);
    assert_memory_not_equal(k1, zero, sizeof(zero));
    assert_int_equal(throttle_load_key(db, k2), 0);
    assert_memory_equal(k1, k2, sizeof(k1));
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM node_secrets"), 1);
    /* Cookies made under the kept key stay valid across a restart. */
    struct throttle *before = throttle_create(&cfg, k1), *after = throttle_create(&cfg, k2);
    char cookie[DEVICE_COOKIE_CHARS];
    throttle_device_cookie(before, "teacher", T0, cookie);
    assert_true(trusted(after, "teacher", cookie, T0 + SEC));
    throttle_destroy(before);
    throttle_destroy(after);
    /* A damaged row is replaced by a new key. */
    assert_int_equal(db_exec(db, "UPDATE node_secrets SET value = x'00'"), SQLITE_OK);
    assert_int_equal(throttle_load_key(db, k2), 0);
    assert_memory_not_equal(k1, k2, sizeof(k1));
    assert_int_equal(scratch_scalar(db, "SELECT length(value) FROM node_secrets"), 32);
    scratch_db_remove(db, path);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_delays_grow_to_the_cap, setup),
        cmocka_unit_test_setup(test_success_resets_the_client_and_counts_nothing, setup),
        cmocka_unit_test_setup(test_device_cookie_holder_ignores_others_failures, setup),
        cmocka_unit_test_setup(test_device_cookie_failing_often_loses_trust, setup),
        cmocka_unit_test_setup(test_untrusted_cookies, setup),
        cmocka_unit_test_setup(test_botnet_is_slowed_per_login, setup),
        cmocka_unit_test_setup(test_sprayer_is_slowed_per_address, setup),
        cmocka_unit_test_setup(test_failures_are_forgotten_one_per_window, setup),
        cmocka_unit_test_setup(test_bounded_under_a_flood, setup),
        cmocka_unit_test_setup(test_concurrent_attempts_cannot_overrun, setup),
        cmocka_unit_test_setup(test_key_is_made_once_and_kept, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
