/*
 * Unit tests of «Москвёнок»'s money: the meal account number (the student's id and a Luhn
 * digit, moskvenok.c), the payment provider's signature and its time window (money.c, against
 * a vector computed with openssl), the node's day boundaries, and the low-balance notice a
 * debit sends once (mosk_ledger_post on a scratch database).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "moskvenok/money.h"
#include "moskvenok/moskvenok.h"
#include "notify/notify.h"
#include "scratch_db.h"

static struct mes_config cfg;

static void test_account_number(void **state)
{
    (void)state;
    char out[16];
    /* Check digits from an independent Luhn implementation (123456789 -> 7 is the classic). */
    static const struct {
        int64_t id;
        const char *number;
    } known[] = {{1, "0000000018"},
                 {8, "0000000083"},
                 {42, "0000000422"},
                 {123456789, "1234567897"},
                 {999999999, "9999999999"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(mosk_account_number(known[i].id, out), 0);
        assert_string_equal(out, known[i].number);
        int64_t back = 0;
        assert_int_equal(mosk_account_parse(known[i].number, &back), 0);
        assert_int_equal(back, known[i].id);
    }
    /* Ids that do not fit in 9 digits have no number. */
    assert_int_equal(mosk_account_number(0, out), -1);
    assert_int_equal(mosk_account_number(-5, out), -1);
    assert_int_equal(mosk_account_number(1000000000, out), -1);
}

static void test_account_parse_refuses_mistypes(void **state)
{
    (void)state;
    char number[16];
    int64_t got = 0;
    for (int64_t id = 1; id < 5000; id += 7) {
        assert_int_equal(mosk_account_number(id, number), 0);
        assert_int_equal(mosk_account_parse(number, &got), 0);
        assert_int_equal(got, id);
        /* Every single wrong digit is caught. */
        for (int pos = 0; pos < 10; pos++) {
            char typo[16];
            memcpy(typo, number, sizeof(typo));
            typo[pos] = (char)('0' + (typo[pos] - '0' + 1 + id % 9) % 10);
            int64_t other = -1;
            assert_int_equal(mosk_account_parse(typo, &other), -1);
            assert_int_equal(other, -1);
        }
        /* And every swap of two neighbouring different digits but 0/9 and 9/0. */
        for (int pos = 0; pos < 9; pos++) {
            char a = number[pos], b = number[pos + 1];
            if (a == b || (a == '0' && b == '9') || (a == '9' && b == '0'))
                continue;
            char swapped[16];
            memcpy(swapped, number, sizeof(swapped));
            swapped[pos] = b;
            swapped[pos + 1] = a;
            assert_int_equal(mosk_account_parse(swapped, &got), -1);
        }
    }
    const char *bad[] = {"",           "000000083",  "00000000830", "00000000 3",
                         "000000008a", "-000000083", "0000000000",  "+000000083"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mosk_account_parse(bad[i], &got), -1);
}

/* The vector: printf '1796450400.' | cat - body.json | openssl dgst -sha256 -hmac SECRET */
#define SECRET "test-payment-secret-0123456789-abcdefghij"
#define STAMP  "1796450400"
#define BODY                                                                                       \
    "{\"payment_id\":\"p-1\",\"account\":\"0000000083\",\"amount\":50000,\"paid_at\":\"2026-12-"   \
    "05T08:00:00+03:00\"}"
#define SIG "2efc8f1dedf3b4aa5f355532c5d18df36f3bc739c05c3c9b8b91b8842bbebfe6"

static void test_signature(void **state)
{
    (void)state;
    const time_t at = 1796450400;
    char made[65];
    money_sign(SECRET, STAMP, BODY, strlen(BODY), made);
    assert_string_equal(made, SIG);
    assert_int_equal(money_signature_check(SECRET, STAMP, SIG, BODY, strlen(BODY), at),
                     MONEY_SIG_OK);
    /* Upper-case hex is the same bytes. */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(SIG[i] >= 'a' && SIG[i] <= 'f' ? SIG[i] - 32 : SIG[i]);
    assert_int_equal(money_signature_check(SECRET, STAMP, upper, BODY, strlen(BODY), at),
                     MONEY_SIG_OK);
    /* Another secret, a changed byte of the body, of the timestamp, of the signature. */
    assert_int_equal(money_signature_check(SECRET "x", STAMP, SIG, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    char body[] = BODY;
    body[strlen(body) - 3] ^= 1;
    assert_int_equal(money_signature_check(SECRET, STAMP, SIG, body, strlen(body), at),
                     MONEY_SIG_BAD);
    assert_int_equal(money_signature_check(SECRET, "1796450401", SIG, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    char sig[] = SIG;
    sig[10] = sig[10] == '0' ? '1' : '0';
    assert_int_equal(money_signature_check(SECRET, STAMP, sig, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    /* The body signed without the timestamp, or the timestamp without the dot. */
    money_sign(SECRET, "", BODY, strlen(BODY), made);
    assert_int_equal(money_signature_check(SECRET, STAMP, made, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    /* Malformed or missing headers. */
    assert_int_equal(money_signature_check(SECRET, NULL, SIG, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    assert_int_equal(money_signature_check(SECRET, STAMP, NULL, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    assert_int_equal(money_signature_check(SECRET, STAMP, "", BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    char cut[65];
    snprintf(cut, sizeof(cut), "%.62s", SIG);
    assert_int_equal(money_signature_check(SECRET, STAMP, cut, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    char longer[80];
    snprintf(longer, sizeof(longer), "%s00", SIG);
    assert_int_equal(money_signature_check(SECRET, STAMP, longer, BODY, strlen(BODY), at),
                     MONEY_SIG_BAD);
    const char *stamps[] = {"",    "-1796450400",  "1796450400.0", " 1796450400",
                            "1e9", "9999999999999"};
    for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
        money_sign(SECRET, stamps[i], BODY, strlen(BODY), made);
        assert_int_equal(money_signature_check(SECRET, stamps[i], made, BODY, strlen(BODY), at),
                         MONEY_SIG_BAD);
    }
}

static void test_signature_window(void **state)
{
    (void)state;
    const time_t at = 1796450400;
    const char *body = BODY;
    size_t n = strlen(body);
    assert_int_equal(money_signature_check(SECRET, STAMP, SIG, body, n, at + 300), MONEY_SIG_OK);
    assert_int_equal(money_signature_check(SECRET, STAMP, SIG, body, n, at - 300), MONEY_SIG_OK);
    assert_int_equal(money_signature_check(SECRET, STAMP, SIG, body, n, at + 301), MONEY_SIG_STALE);
    assert_int_equal(money_signature_check(SECRET, STAMP, SIG, body, n, at - 301), MONEY_SIG_STALE);
    /* A forged notification learns nothing of the window: bad before stale. */
    assert_int_equal(money_signature_check(SECRET "x", STAMP, SIG, body, n, at + 3600),
                     MONEY_SIG_BAD);
}

static void test_day_start(void **state)
{
    (void)state;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "Europe/Moscow", 1);
    tzset();
    /* 2026-12-05 00:00 in Moscow (UTC+3) is 2026-12-04 21:00 UTC. */
    assert_int_equal(money_day_start("2026-12-05", 0), 1796418000);
    assert_int_equal(money_day_start("2026-12-05", 1), 1796418000 + 86400);
    assert_int_equal(money_day_start("2026-12-31", 1), money_day_start("2027-01-01", 0));
    char day[16];
    mosk_local_day(1796418000, day);
    assert_string_equal(day, "2026-12-05");
    mosk_local_day(1796417999, day);
    assert_string_equal(day, "2026-12-04");
    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

/* The low-balance notice: once when a debit takes the balance below the threshold, not again
 * at the next debit, and again only after the balance rose above it. */
static void test_low_balance_notice_once(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, "INSERT INTO persons (id, last_name, first_name) VALUES "
                                 "(1, 'Иванов', 'Артём'), (2, 'Иванова', 'Елена');"
                                 "INSERT INTO guardians (guardian_id, student_id) VALUES (2, 1);"),
                     SQLITE_OK);
    /* The family's row, one for Артём and his mother, and what his mother has unread. */
    const char *count = "SELECT count(*) FROM notifications WHERE kind = 'meals_low_balance' AND "
                        "student_id = 1 AND family = 1";
    int64_t balance = 0;
    time_t now = time(NULL);
    int64_t low = cfg.meals.low_balance_kopecks;
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(mosk_ledger_post(db, &cfg, 1, 0, "topup", low + 5000, 1, now, &balance),
                     MOSK_POSTED);
    assert_int_equal(scratch_scalar(db, count), 0);
    assert_int_equal(mosk_ledger_post(db, &cfg, 1, 0, "sale", -6000, 1, now, &balance),
                     MOSK_POSTED);
    assert_int_equal(balance, low - 1000);
    assert_int_equal(scratch_scalar(db, count), 1);
    assert_int_equal(mosk_ledger_post(db, &cfg, 1, 0, "sale", -1000, 2, now, &balance),
                     MOSK_POSTED);
    assert_int_equal(scratch_scalar(db, count), 1);
    /* A top-up that leaves it below says nothing; one above resets; the next fall tells. */
    assert_int_equal(mosk_ledger_post(db, &cfg, 1, 0, "topup", 500, 2, now, &balance), MOSK_POSTED);
    assert_int_equal(scratch_scalar(db, count), 1);
    assert_int_equal(mosk_ledger_post(db, &cfg, 1, 0, "topup", 10000, 3, now, &balance),
                     MOSK_POSTED);
    assert_int_equal(mosk_ledger_post(db, &cfg, 1, 0, "sale", -10000, 3, now, &balance),
                     MOSK_POSTED);
    assert_int_equal(scratch_scalar(db, count), 2);
    int64_t unread = 0;
    assert_int_equal(notify_unread(db, 2, &unread), 0);
    assert_int_equal(unread, 2);
    /* The ledger adds up to the account. */
    assert_int_equal(scratch_scalar(db, "SELECT sum(amount) FROM ledger WHERE student_id = 1"),
                     scratch_scalar(db, "SELECT balance FROM meal_accounts WHERE student_id = 1"));
    assert_int_equal(db_commit(db), SQLITE_OK);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_number),
        cmocka_unit_test(test_account_parse_refuses_mistypes),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_signature_window),
        cmocka_unit_test(test_day_start),
        cmocka_unit_test(test_low_balance_notice_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
