/*
 * Unit tests of «Москвёнок»'s base (node/moskvenok/moskvenok.h): RFC 3339 times and the node's
 * day, carriers, the ledger with the region's overdraft and the low-balance notice sent once,
 * terminals' exactly-once events with duplicates, gaps and taken sequence numbers, and who
 * eats free by the region's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "log.h"
#include "moskvenok/moskvenok.h"
#include "notify/notify.h"
#include "scratch_db.h"

static struct mes_config cfg;

/* The unix time of an RFC 3339 text, which must parse. */
static time_t at(const char *s)
{
    time_t t = 0;
    assert_int_equal(mosk_parse_time(s, &t), 0);
    return t;
}

static void test_parse_time(void **state)
{
    (void)state;
    /* 2026-12-05T05:12:00Z is 1796447520. */
    assert_int_equal(at("2026-12-05T05:12:00Z"), 1796447520);
    assert_int_equal(at("2026-12-05T08:12:00+03:00"), 1796447520);
    assert_int_equal(at("2026-12-04T23:42:00-05:30"), 1796447520);
    assert_int_equal(at("2026-12-05t05:12:00z"), 1796447520);
    assert_int_equal(at("2026-12-05 05:12:00Z"), 1796447520);
    assert_int_equal(at("2026-12-05T08:12:00.999+03:00"), 1796447520); /* fractions dropped */
    assert_int_equal(at("2026-12-05T05:12:60Z"), 1796447579);          /* a leap second */
    assert_int_equal(at("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(at("2028-02-29T00:00:00Z"), 1835395200); /* a leap year's day */
    static const char *const bad[] = {
        "",
        "2026-12-05",                /* a date alone */
        "2026-12-05T08:12:00",       /* no offset: whose 08:12? */
        "2026-12-05T08:12Z",         /* no seconds */
        "2026-12-05T08:12:00+0300",  /* the offset without its colon */
        "2026-12-05T08:12:00+03",    /* half an offset */
        "2026-12-05T08:12:00+24:00", /* no such offset */
        "2026-12-05T08:12:00.Z",     /* a point without digits */
        "2026-12-05T24:00:00Z",      /* no hour 24 */
        "2026-12-05T08:60:00Z",      /* no minute 60 */
        "2026-13-05T08:12:00Z",      /* no month 13 */
        "2026-00-05T08:12:00Z",      /* no month 0 */
        "2026-12-00T08:12:00Z",      /* no day 0 */
        "2026-11-31T08:12:00Z",      /* November has 30 days */
        "2027-02-29T08:12:00Z",      /* 2027 is not a leap year */
        "1900-02-29T08:12:00Z",      /* nor was 1900 */
        "1969-12-31T23:59:59Z",      /* before the epoch */
        "2026-12-05T08:12:00Z ",     /* anything after it */
        "2026-12-05T08:12:00Zjunk",
        "2026-1-05T08:12:00Z", /* every field has its digits */
        " 2026-12-05T08:12:00Z",
        "2026-12-05X08:12:00Z",
        "２０２６-12-05T08:12:00Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        time_t t = 42;
        if (mosk_parse_time(bad[i], &t) != -1)
            fail_msg("'%s' parsed", bad[i]);
        assert_int_equal(t, 42); /* untouched */
    }
}

static void test_local_day(void **state)
{
    (void)state;
    char day[16];
    /* 21:30 UTC on the 5th is already the 6th in Moscow (UTC+3), still the 5th in UTC. */
    time_t t = at("2026-12-05T21:30:00Z");
    setenv("TZ", "MSK-3", 1);
    tzset();
    mosk_local_day(t, day);
    assert_string_equal(day, "2026-12-06");
    mosk_local_day(at("2026-12-05T20:59:59Z"), day);
    assert_string_equal(day, "2026-12-05");
    setenv("TZ", "UTC0", 1);
    tzset();
    mosk_local_day(t, day);
    assert_string_equal(day, "2026-12-05");
    /* Offsets in the text do not matter, only the instant and the node's zone. */
    mosk_local_day(at("2026-12-06T00:30:00+03:00"), day);
    assert_string_equal(day, "2026-12-05");
}

/* A small school: two classes (2А, 5А), four students and a parent of the first two. Person
 * ids: 1 the parent, 2 Артём (5А), 3 Маша (2А), 4 Петя (5А), 5 a student who left. Devices
 * 1 and 2 at school 1. */
static struct db *school(char path[64])
{
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(
        db_exec(db,
                "INSERT INTO municipalities (id, name) VALUES (1, 'М');"
                "INSERT INTO institutions (id, municipality_id, kind, name, short_name) "
                "VALUES (1, 1, 'school', 'Ш1', 'Ш1'), (2, 1, 'school', 'Ш2', 'Ш2');"
                "INSERT INTO academic_years (id, name, starts_on, ends_on) "
                "VALUES (1, '2026/2027', '2026-09-01', '2027-08-31');"
                "INSERT INTO persons (id, last_name, first_name) VALUES (1, 'Иванова', 'Елена'), "
                "(2, 'Иванов', 'Артём'), (3, 'Иванова', 'Маша'), (4, 'Петров', 'Петя'), "
                "(5, 'Сидоров', 'Ваня');"
                "INSERT INTO classes (id, institution_id, year_id, grade, letter) "
                "VALUES (1, 1, 1, 5, 'А'), (2, 1, 1, 2, 'А'), (3, 2, 1, 7, 'Б');"
                "INSERT INTO enrollments (student_id, class_id, enrolled_on, left_on) VALUES "
                "(2, 1, '2026-09-01', NULL), (3, 2, '2026-09-01', NULL), "
                "(4, 1, '2026-09-01', NULL), (5, 3, '2026-09-01', '2026-10-01');"
                "INSERT INTO guardians (guardian_id, student_id, relation) VALUES "
                "(1, 2, 'mother'), (1, 3, 'mother');"
                "INSERT INTO device_tokens (id, name, scopes, institution_id, token_hash) "
                "VALUES (1, 't1', 'passage', 1, x'01'), (2, 't2', 'meals', 1, x'02');"
                "INSERT INTO cards (id, card, student_id, institution_id) VALUES "
                "(1, '04:A2:3B:4C', 2, 1), (2, 'LOST-1', 2, 1), (3, 'GONE-5', 5, 2);"
                "UPDATE cards SET blocked_at = 1, blocked_reason = 'lost' WHERE id = 2;"),
        SQLITE_OK);
    return db;
}

static void test_cards(void **state)
{
    (void)state;
    char path[64];
    struct db *db = school(path);
    struct mosk_card c;
    assert_int_equal(mosk_card_find(db, "04:A2:3B:4C", &c), 1);
    assert_int_equal(c.id, 1);
    assert_int_equal(c.student_id, 2);
    assert_int_equal(c.school_id, 1);
    assert_false(c.blocked);
    assert_int_equal(mosk_card_find(db, "LOST-1", &c), 1);
    assert_true(c.blocked);
    assert_int_equal(mosk_card_find(db, "04:a2:3b:4c", &c), 0); /* identifiers are exact */
    assert_int_equal(mosk_card_find(db, "NOBODY", &c), 0);
    /* A student who left their school has none now. */
    assert_int_equal(mosk_card_find(db, "GONE-5", &c), 1);
    assert_int_equal(c.school_id, 0);
    assert_int_equal(mosk_student_school(db, 3), 1);
    assert_int_equal(mosk_student_school(db, 1), 0); /* the parent studies nowhere */
    scratch_db_remove(db, path);
}

/* How many rows a query counts. */
static int64_t count(struct db *db, const char *sql)
{
    return scratch_scalar(db, sql);
}

/* One ledger movement in its own transaction; its outcome and the balance after it. */
static enum mosk_post post(struct db *db, const struct mes_config *c, int64_t student,
                           const char *kind, int64_t amount, int64_t *balance)
{
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    enum mosk_post rc = mosk_ledger_post(db, c, student, 1, kind, amount, 7,
                                         at("2026-12-05T08:12:00+03:00"), balance);
    assert_int_equal(rc == MOSK_FAILED ? db_rollback(db) : db_commit(db), SQLITE_OK);
    return rc;
}

static void test_ledger_overdraft(void **state)
{
    (void)state;
    char path[64];
    struct db *db = school(path);
    setenv("TZ", "MSK-3", 1);
    tzset();
    int64_t b = -1;
    /* No account yet: the first movement makes it. */
    assert_int_equal(count(db, "SELECT count(*) FROM meal_accounts"), 0);
    assert_int_equal(post(db, &cfg, 4, "topup", 30000, &b), MOSK_POSTED);
    assert_int_equal(b, 30000);
    assert_int_equal(count(db, "SELECT balance FROM meal_accounts WHERE student_id = 4"), 30000);
    /* Without an overdraft a debit past zero is refused and changes nothing. */
    assert_int_equal(post(db, &cfg, 4, "sale", -30001, &b), MOSK_INSUFFICIENT);
    assert_int_equal(b, 30000);
    assert_int_equal(count(db, "SELECT count(*) FROM ledger"), 1);
    assert_int_equal(count(db, "SELECT balance FROM meal_accounts WHERE student_id = 4"), 30000);
    assert_int_equal(post(db, &cfg, 4, "sale", -30000, &b), MOSK_POSTED); /* to zero exactly */
    assert_int_equal(b, 0);
    assert_int_equal(post(db, &cfg, 4, "sale", -1, &b), MOSK_INSUFFICIENT);
    /* A region that allows 50 ₽ below zero. */
    struct mes_config over = cfg;
    over.meals.overdraft_kopecks = 5000;
    assert_int_equal(post(db, &over, 4, "sale", -4000, &b), MOSK_POSTED);
    assert_int_equal(b, -4000);
    assert_int_equal(post(db, &over, 4, "sale", -1001, &b), MOSK_INSUFFICIENT);
    assert_int_equal(b, -4000);
    assert_int_equal(post(db, &over, 4, "sale", -1000, &b), MOSK_POSTED);
    assert_int_equal(b, -5000);
    /* A credit is never refused, even below the overdraft's floor. */
    assert_int_equal(post(db, &cfg, 4, "refund", 1000, &b), MOSK_POSTED);
    assert_int_equal(b, -4000);
    /* The ledger: every row, its day in the node's zone, the running balance, and its sum is
     * the balance. */
    assert_int_equal(count(db, "SELECT count(*) FROM ledger WHERE student_id = 4"), 5);
    assert_int_equal(count(db, "SELECT sum(amount) FROM ledger WHERE student_id = 4"), -4000);
    assert_int_equal(count(db, "SELECT balance FROM ledger ORDER BY id DESC LIMIT 1"), -4000);
    assert_int_equal(count(db, "SELECT count(*) FROM ledger WHERE day = '2026-12-05' AND "
                               "institution_id = 1 AND ref = 7 AND at = 1796447520"),
                     5);
    assert_int_equal(count(db, "SELECT count(*) FROM ledger WHERE kind = 'sale' AND amount < 0"),
                     3);
    scratch_db_remove(db, path);
}

static void test_ledger_low_balance_once(void **state)
{
    (void)state;
    char path[64];
    struct db *db = school(path);
    int64_t b;
    const char *told = "SELECT count(*) FROM notifications WHERE kind = 'meals_low_balance'";
    /* Threshold 100 ₽ (the default). A top-up below it tells nobody: only a sale does. */
    assert_int_equal(cfg.meals.low_balance_kopecks, 10000);
    assert_int_equal(post(db, &cfg, 2, "topup", 5000, &b), MOSK_POSTED);
    assert_int_equal(count(db, told), 0);
    assert_int_equal(post(db, &cfg, 2, "topup", 15000, &b), MOSK_POSTED); /* 200 ₽ */
    assert_int_equal(post(db, &cfg, 2, "sale", -9000, &b), MOSK_POSTED);  /* 110 ₽ */
    assert_int_equal(count(db, told), 0);
    assert_int_equal(post(db, &cfg, 2, "sale", -2000, &b), MOSK_POSTED); /* 90 ₽: told */
    /* The family, in one row that the student and their parent both read, with the balance
     * and the threshold. */
    assert_int_equal(count(db, told), 1);
    assert_int_equal(count(db, "SELECT count(*) FROM notifications WHERE kind = "
                               "'meals_low_balance' AND student_id = 2 AND person_id = 2 AND "
                               "family = 1 AND json_extract(data, '$.balance') = 9000 AND "
                               "json_extract(data, '$.threshold') = 10000"),
                     1);
    int64_t unread = 0;
    assert_int_equal(notify_unread(db, 1, &unread), 0); /* the parent */
    assert_int_equal(unread, 1);
    assert_int_equal(notify_unread(db, 2, &unread), 0); /* the student */
    assert_int_equal(unread, 1);
    assert_int_equal(post(db, &cfg, 2, "sale", -1000, &b), MOSK_POSTED); /* 80 ₽: not again */
    assert_int_equal(post(db, &cfg, 2, "sale", -8000, &b), MOSK_POSTED); /* 0 ₽: not again */
    assert_int_equal(count(db, told), 1);
    /* A top-up that stays below the threshold does not re-arm it... */
    assert_int_equal(post(db, &cfg, 2, "topup", 9999, &b), MOSK_POSTED);
    assert_int_equal(post(db, &cfg, 2, "sale", -1, &b), MOSK_POSTED);
    assert_int_equal(count(db, told), 1);
    /* ...one that lifts the balance to it does, and the next fall tells them again. */
    assert_int_equal(post(db, &cfg, 2, "topup", 2, &b), MOSK_POSTED); /* 100 ₽ exactly */
    assert_int_equal(b, 10000);
    assert_int_equal(post(db, &cfg, 2, "sale", -1, &b), MOSK_POSTED);
    assert_int_equal(count(db, told), 2);
    /* A refused debit tells nobody. */
    assert_int_equal(post(db, &cfg, 4, "topup", 20000, &b), MOSK_POSTED);
    assert_int_equal(post(db, &cfg, 4, "sale", -20001, &b), MOSK_INSUFFICIENT);
    assert_int_equal(count(db, "SELECT count(*) FROM notifications WHERE student_id = 4"), 0);
    /* Petya has no parent on record: only he is told. */
    assert_int_equal(post(db, &cfg, 4, "sale", -15000, &b), MOSK_POSTED);
    assert_int_equal(count(db, "SELECT count(*) FROM notifications WHERE student_id = 4"), 1);
    scratch_db_remove(db, path);
}

/* Claims an event in its own transaction, its answer {"key": KEY} stored with the claim (an
 * even seq: a turnstile's way) or after it (an odd one: the buffet's). */
static enum mosk_claim claim(struct db *db, int64_t device, const char *key, int64_t seq,
                             char **reply)
{
    char answer[64];
    snprintf(answer, sizeof(answer), "{\"key\":\"%s\"}", key);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    enum mosk_claim rc = mosk_event_claim(db, device, key, seq, seq % 2 ? NULL : answer, reply);
    if (rc == MOSK_NEW && seq % 2)
        assert_int_equal(mosk_event_reply(db, device, key, answer), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    return rc;
}

static void update(struct db *db, int64_t device, int64_t want_held, int64_t want_last)
{
    int64_t held = -1, last = -1;
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(mosk_terminal_update(db, device, &held, &last), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(held, want_held);
    assert_int_equal(last, want_last);
}

static void test_events_exactly_once(void **state)
{
    (void)state;
    char path[64];
    struct db *db = school(path);
    char *reply = NULL;
    /* A terminal never heard of: nothing held. */
    update(db, 1, 0, 0);
    assert_int_equal(claim(db, 1, "t1-1", 1, &reply), MOSK_NEW);
    assert_null(reply);
    assert_int_equal(claim(db, 1, "t1-2", 2, &reply), MOSK_NEW);
    /* 4 and 5 arrive before 3 (an offline terminal's batches in any order). */
    assert_int_equal(claim(db, 1, "t1-5", 5, &reply), MOSK_NEW);
    assert_int_equal(claim(db, 1, "t1-4", 4, &reply), MOSK_NEW);
    update(db, 1, 2, 5);
    /* A key seen again: not applied, answered as the first time. */
    assert_int_equal(claim(db, 1, "t1-4", 4, &reply), MOSK_DUPLICATE);
    assert_string_equal(reply, "{\"key\":\"t1-4\"}");
    free(reply);
    assert_int_equal(claim(db, 1, "t1-5", 5, &reply), MOSK_DUPLICATE); /* answered after */
    assert_string_equal(reply, "{\"key\":\"t1-5\"}");
    free(reply);
    /* Its seq does not matter to a duplicate: the key decides. */
    assert_int_equal(claim(db, 1, "t1-4", 99, &reply), MOSK_DUPLICATE);
    free(reply);
    /* Another key with a seq already held: refused, nothing recorded. */
    assert_int_equal(claim(db, 1, "other-2", 2, &reply), MOSK_SEQ_TAKEN);
    assert_null(reply);
    assert_int_equal(count(db, "SELECT count(*) FROM terminal_events WHERE key = 'other-2'"), 0);
    /* The gap fills: held runs to the end. */
    assert_int_equal(claim(db, 1, "t1-3", 3, &reply), MOSK_NEW);
    update(db, 1, 5, 5);
    update(db, 1, 5, 5); /* nothing new: the same */
    /* Another device numbers on its own, and may use the same keys. */
    update(db, 2, 0, 0);
    assert_int_equal(claim(db, 2, "t1-3", 3, &reply), MOSK_NEW);
    assert_int_equal(claim(db, 2, "t1-1", 1, &reply), MOSK_NEW);
    update(db, 2, 1, 3);
    assert_int_equal(count(db, "SELECT count(*) FROM terminal_events"), 7);
    assert_int_equal(count(db, "SELECT held_seq * 10 + last_seq FROM terminals WHERE "
                               "device_id = 1"),
                     55);
    scratch_db_remove(db, path);
}

static void test_key_valid(void **state)
{
    (void)state;
    char long_key[66];
    memset(long_key, 'k', 65);
    long_key[65] = '\0';
    assert_false(mosk_key_valid(long_key));
    long_key[64] = '\0';
    assert_true(mosk_key_valid(long_key));
    assert_true(mosk_key_valid("t3fa9c2d1-17"));
    assert_true(mosk_key_valid("~!{}\"\\"));
    assert_false(mosk_key_valid(""));
    assert_false(mosk_key_valid("with space"));
    assert_false(mosk_key_valid("tab\t"));
    assert_false(mosk_key_valid("ключ"));
    assert_false(mosk_key_valid("del\x7f"));
}

static void free_mask(struct db *db, const struct mes_config *c, int64_t student, unsigned want)
{
    unsigned mask = 0xff;
    assert_int_equal(mosk_free_complexes(db, c, student, &mask), 0);
    assert_int_equal(mask, want);
}

static void test_free_complexes(void **state)
{
    (void)state;
    char path[64];
    struct db *db = school(path);
    /* The defaults: breakfast free in grades 1-4. Маша is in 2А, Артём in 5А. */
    free_mask(db, &cfg, 3, MOSK_BREAKFAST);
    free_mask(db, &cfg, 2, 0);
    free_mask(db, &cfg, 1, 0); /* not a student */
    free_mask(db, &cfg, 5, 0); /* left the school */
    struct mes_config c = cfg;
    snprintf(c.meals.free_complexes, sizeof(c.meals.free_complexes), "breakfast  snack");
    c.meals.free_grade_from = 5;
    c.meals.free_grade_to = 11;
    free_mask(db, &c, 2, MOSK_BREAKFAST | MOSK_SNACK);
    free_mask(db, &c, 3, 0);
    c.meals.free_grade_from = c.meals.free_grade_to = 0; /* nobody by grade */
    free_mask(db, &c, 2, 0);
    /* A benefit category the region lists gives benefit_complexes whatever the grade. */
    assert_int_equal(db_exec(db, "INSERT INTO meal_accounts (student_id, benefit) VALUES "
                                 "(2, 'многодетная семья'), (4, 'снятая категория')"),
                     SQLITE_OK);
    c.meals.nbenefit_categories = 2;
    snprintf(c.meals.benefit_categories[0], 96, "ОВЗ");
    snprintf(c.meals.benefit_categories[1], 96, "многодетная семья");
    free_mask(db, &c, 2, MOSK_BREAKFAST | MOSK_LUNCH);
    free_mask(db, &c, 4, 0); /* a category the region does not list (any more) */
    snprintf(c.meals.benefit_complexes, sizeof(c.meals.benefit_complexes), "lunch");
    c.meals.free_grade_from = 5;
    c.meals.free_grade_to = 5;
    free_mask(db, &c, 2, MOSK_BREAKFAST | MOSK_SNACK | MOSK_LUNCH); /* both rules, joined */
    scratch_db_remove(db, path);
}

static void test_complex_names(void **state)
{
    (void)state;
    assert_int_equal(mosk_complex_bit("breakfast"), MOSK_BREAKFAST);
    assert_int_equal(mosk_complex_bit("lunch"), MOSK_LUNCH);
    assert_int_equal(mosk_complex_bit("snack"), MOSK_SNACK);
    assert_int_equal(mosk_complex_bit("dinner"), 0);
    assert_int_equal(mosk_complex_bit(""), 0);
    assert_string_equal(mosk_complex_name(MOSK_LUNCH), "lunch");
    assert_null(mosk_complex_name(MOSK_LUNCH | MOSK_SNACK));
    assert_null(mosk_complex_name(0));
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_local_day),
        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_ledger_overdraft),
        cmocka_unit_test(test_ledger_low_balance_once),
        cmocka_unit_test(test_events_exactly_once),
        cmocka_unit_test(test_key_valid),
        cmocka_unit_test(test_free_complexes),
        cmocka_unit_test(test_complex_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
