/*
 * Unit tests of «Москвёнок»'s cards and passage (node/moskvenok/cards.c, passage.c): which
 * identifiers may be issued, which events are well formed (and which field is named when one is
 * not), the flags of presence, the time of day in the node's zone, and a batch applied on a
 * scratch database: allowed and denied cards, each key once, a repeated key answered with its
 * first answer, a seq held by another key, the family told of today's events only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "log.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/passage.h"
#include "notify/notify.h"
#include "scratch_db.h"

static struct mes_config cfg;

static void test_card_identifiers(void **state)
{
    (void)state;
    assert_true(passage_card_valid("A1B2"));
    assert_true(passage_card_valid("04:A2:19:FF"));
    assert_true(passage_card_valid("card-0001-x"));
    char longest[65];
    memset(longest, '7', 64);
    longest[64] = '\0';
    assert_true(passage_card_valid(longest));
    longest[63] = '\0';
    assert_true(passage_card_valid(longest));
    memset(longest, '7', 64);
    char too_long[66];
    snprintf(too_long, sizeof(too_long), "%s7", longest);
    assert_false(passage_card_valid(too_long));
    assert_false(passage_card_valid("abc"));
    assert_false(passage_card_valid(""));
    assert_false(passage_card_valid("AB CD"));
    assert_false(passage_card_valid("AB_CD"));
    assert_false(passage_card_valid("ABCD\n"));
    assert_false(passage_card_valid("ЖЖЖЖ"));
    assert_false(passage_card_valid("12/34"));
}

/* The field passage_event_parse names for `e` (stolen), NULL when it is good. */
static const char *parse(json_t *e, struct passage_event *out)
{
    static char bad[64];
    time_t now = 1796500000; /* 2026-12-05 */
    const char *f = passage_event_parse(e, now, out);
    if (f != NULL)
        snprintf(bad, sizeof(bad), "%s", f);
    json_decref(e);
    return f ? bad : NULL;
}

static void test_event_parse(void **state)
{
    (void)state;
    struct passage_event ev;
    json_t *good = json_pack("{s:s,s:i,s:s,s:s,s:s}", "key", "t1-7", "seq", 7, "card", "04:A2",
                             "direction", "out", "at", "2026-12-05T14:05:00+03:00");
    assert_null(passage_event_parse(good, 1796500000, &ev));
    assert_string_equal(ev.key, "t1-7");
    assert_int_equal(ev.seq, 7);
    assert_string_equal(ev.card, "04:A2");
    assert_false(ev.in);
    assert_int_equal(ev.at, 1796468700); /* 11:05 UTC */
    assert_null(ev.turnstile);
    json_object_set_new(good, "turnstile", json_string("Вход 1"));
    json_object_set_new(good, "direction", json_string("in"));
    assert_null(passage_event_parse(good, 1796500000, &ev));
    assert_string_equal(ev.turnstile, "Вход 1");
    assert_true(ev.in);
    json_decref(good);

#define EVENT(...) json_pack(__VA_ARGS__)
    const char *at = "2026-12-05T08:00:00Z";
    assert_string_equal(parse(json_string("x"), &ev), "");
    assert_string_equal(
        parse(EVENT("{s:i,s:s,s:s,s:s}", "seq", 1, "card", "A", "direction", "in", "at", at), &ev),
        "key");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "a b", "seq", 1, "card", "A",
                                    "direction", "in", "at", at),
                              &ev),
                        "key");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 0, "card", "A",
                                    "direction", "in", "at", at),
                              &ev),
                        "seq");
    assert_string_equal(parse(EVENT("{s:s,s:s,s:s,s:s,s:s}", "key", "k", "seq", "1", "card", "A",
                                    "direction", "in", "at", at),
                              &ev),
                        "seq");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "",
                                    "direction", "in", "at", at),
                              &ev),
                        "card");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "A\tB",
                                    "direction", "in", "at", at),
                              &ev),
                        "card");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "A",
                                    "direction", "IN", "at", at),
                              &ev),
                        "direction");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "A",
                                    "direction", "in", "at", "2026-12-05 08:00"),
                              &ev),
                        "at");
    /* A day and a bit ahead of the clock is a broken clock; a little ahead is not. */
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "A",
                                    "direction", "in", "at", "2026-12-07T08:00:00Z"),
                              &ev),
                        "at");
    assert_null(parse(EVENT("{s:s,s:i,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "A", "direction",
                            "in", "at", "2026-12-06T08:00:00Z"),
                      &ev));
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s,s:s}", "key", "k", "seq", 1, "card", "A",
                                    "direction", "in", "at", at, "turnstile", ""),
                              &ev),
                        "turnstile");
    assert_string_equal(parse(EVENT("{s:s,s:i,s:s,s:s,s:s,s:i}", "key", "k", "seq", 1, "card", "A",
                                    "direction", "in", "at", at, "gate", 2),
                              &ev),
                        "gate");
#undef EVENT
}

static void test_flags(void **state)
{
    (void)state;
    assert_null(passage_flag(0, 0, false, true));
    assert_null(passage_flag(5, 0, true, true));
    assert_string_equal(passage_flag(5, 0, false, true), "present_no_entry");
    /* Turnstiles that recorded nothing that day tell nothing of who did not enter. */
    assert_null(passage_flag(5, 0, false, false));
    assert_string_equal(passage_flag(4, 1, true, true), "absent_with_entry");
    assert_string_equal(passage_flag(0, 6, true, false), "absent_with_entry");
    assert_null(passage_flag(0, 6, false, true));
}

static void test_time_of_day(void **state)
{
    (void)state;
    char out[8];
    time_t t;
    assert_int_equal(mosk_parse_time("2026-12-07T05:12:30Z", &t), 0);
    passage_hhmm(t, out);
    assert_string_equal(out, "08:12"); /* Moscow */
}

/* A school with Артём and Мария (their mother Елена), a gymnasium with Пётр; turnstiles of
 * both; Артём's card, Мария's blocked one, Пётр's. */
static const char world[] =
    "INSERT INTO municipalities (id, name) VALUES (1, 'Центральный');"
    "INSERT INTO institutions (id, municipality_id, kind, name, short_name) VALUES "
    " (1, 1, 'school', 'Средняя школа № 1', 'Школа № 1'),"
    " (2, 1, 'school', 'Гимназия № 2', 'Гимназия № 2');"
    "INSERT INTO academic_years (id, name, starts_on, ends_on) VALUES "
    " (1, '2026/2027', '2026-09-01', '2027-08-31');"
    "INSERT INTO classes (id, institution_id, year_id, grade, letter) VALUES "
    " (1, 1, 1, 5, 'А'), (2, 2, 1, 6, 'А');"
    "INSERT INTO persons (id, last_name, first_name, middle_name) VALUES "
    " (1, 'Иванов', 'Артём', 'Сергеевич'), (2, 'Иванова', 'Мария', 'Сергеевна'),"
    " (3, 'Иванова', 'Елена', 'Викторовна'), (4, 'Петров', 'Пётр', 'Петрович');"
    "INSERT INTO enrollments (student_id, class_id, enrolled_on) VALUES "
    " (1, 1, '2026-09-01'), (2, 1, '2026-09-01'), (4, 2, '2026-09-01');"
    "INSERT INTO guardians (guardian_id, student_id) VALUES (3, 1), (3, 2);"
    "INSERT INTO device_tokens (id, name, scopes, institution_id, token_hash) VALUES "
    " (1, 'Вход', 'passage', 1, x'01'), (2, 'Вход', 'passage', 2, x'02');"
    "INSERT INTO cards (id, card, student_id, institution_id, blocked_at, blocked_reason) "
    "VALUES (1, 'AAAA1111', 1, 1, NULL, NULL), (2, 'BBBB2222', 2, 1, 1, 'lost'),"
    " (3, 'CCCC3333', 4, 2, NULL, NULL);";

static struct passage_event event(const char *key, int64_t seq, const char *card, bool in,
                                  const char *at)
{
    struct passage_event e = {.key = key, .seq = seq, .card = card, .in = in};
    assert_int_equal(mosk_parse_time(at, &e.at), 0);
    return e;
}

/* The decision and reason of result i, "allow", "deny:REASON", with "+dup" for a duplicate. */
static const char *outcome(const struct passage_batch *b, size_t i)
{
    static char out[64];
    json_t *r = json_array_get(b->results, i);
    const char *reason = json_string_value(json_object_get(r, "reason"));
    snprintf(out, sizeof(out), "%s%s%s%s", json_string_value(json_object_get(r, "decision")),
             reason ? ":" : "", reason ? reason : "",
             json_is_true(json_object_get(r, "duplicate")) ? "+dup" : "");
    return out;
}

static void test_apply_batch(void **state)
{
    (void)state;
    char path[64];
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(db_exec(db, world), SQLITE_OK);
    const char *today = "2026-12-07";
    struct passage_event ev[] = {
        event("k1", 1, "AAAA1111", true, "2026-12-07T08:12:00+03:00"),
        event("k2", 2, "BBBB2222", true, "2026-12-07T08:13:00+03:00"),
        event("k3", 3, "CCCC3333", true, "2026-12-07T08:14:00+03:00"),
        event("k4", 4, "garbled ~", true, "2026-12-07T08:15:00+03:00"),
        event("k5", 5, "AAAA1111", false, "2026-12-06T14:05:00+03:00"),
        event("k1", 1, "AAAA1111", true, "2026-12-07T08:12:00+03:00"),
    };
    ev[2].turnstile = "Вход 2";
    struct passage_batch b;
    assert_int_equal(passage_apply(db, 1, 1, ev, 6, today, &b), PASSAGE_DONE);
    assert_int_equal(b.applied, 5);
    assert_int_equal(b.denied, 3);
    assert_int_equal(b.duplicates, 1);
    assert_string_equal(outcome(&b, 0), "allow");
    assert_string_equal(outcome(&b, 1), "deny:card_blocked");
    assert_string_equal(outcome(&b, 2), "deny:other_school");
    assert_string_equal(outcome(&b, 3), "deny:unknown_card");
    assert_string_equal(outcome(&b, 4), "allow");
    assert_string_equal(outcome(&b, 5), "allow+dup");
    json_decref(b.results);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM passage_events"), 2);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM passage_events WHERE student_id = 1 "
                                        "AND day = '2026-12-06' AND direction = 'out'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM passage_denials"), 3);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM passage_denials WHERE card_id = 3 "
                                        "AND turnstile = 'Вход 2' AND institution_id = 1"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM passage_denials WHERE card_id IS "
                                        "NULL AND card = 'garbled ~'"),
                     1);
    /* Today's entry told Артём and his mother, in one family row; yesterday's exit nobody. */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM notifications"), 1);
    int64_t unread = 0;
    assert_int_equal(notify_unread(db, 3, &unread), 0);
    assert_int_equal(unread, 1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM notifications WHERE kind = "
                                        "'passage_in' AND student_id = 1 AND person_id = 1 "
                                        "AND family = 1 "
                                        "AND json_extract(data, '$.name') = 'Артём' AND "
                                        "json_extract(data, '$.gender') = 'm' AND "
                                        "json_extract(data, '$.time') = '08:12' AND "
                                        "json_extract(data, '$.school') = 'Школа № 1'"),
                     1);

    /* The whole batch again: every key a duplicate with its first answer, nothing more kept. */
    assert_int_equal(passage_apply(db, 1, 1, ev, 5, today, &b), PASSAGE_DONE);
    assert_int_equal(b.applied, 0);
    assert_int_equal(b.duplicates, 5);
    assert_string_equal(outcome(&b, 2), "deny:other_school+dup");
    json_decref(b.results);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM passage_events") +
                         scratch_scalar(db, "SELECT count(*) FROM passage_denials") +
                         scratch_scalar(db, "SELECT count(*) FROM notifications"),
                     2 + 3 + 1);

    /* A new key under a held seq: refused, naming the event. */
    struct passage_event thief[] = {
        event("k6", 6, "AAAA1111", false, "2026-12-07T09:00:00+03:00"),
        event("k7", 3, "AAAA1111", false, "2026-12-07T09:01:00+03:00"),
    };
    assert_int_equal(passage_apply(db, 1, 1, thief, 2, today, &b), PASSAGE_SEQ_TAKEN);
    assert_int_equal(b.seq_taken, 1);
    json_decref(b.results);

    /* The gymnasium's turnstile: Пётр in, Артём denied there. */
    struct passage_event gym[] = {
        event("k1", 1, "CCCC3333", true, "2026-12-07T08:00:00+03:00"),
        event("k2", 2, "AAAA1111", true, "2026-12-07T08:00:00+03:00"),
    };
    assert_int_equal(passage_apply(db, 2, 2, gym, 2, today, &b), PASSAGE_DONE);
    assert_string_equal(outcome(&b, 0), "allow");
    assert_string_equal(outcome(&b, 1), "deny:other_school");
    json_decref(b.results);
    int64_t held = 0, last = 0;
    assert_int_equal(mosk_terminal_update(db, 1, &held, &last), 0);
    assert_int_equal(held, 6);
    assert_int_equal(last, 6);
    scratch_db_remove(db, path);
}

int main(void)
{
    setenv("TZ", "Europe/Moscow", 1);
    tzset();
    log_set_quiet(1);
    config_defaults(&cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card_identifiers),
        cmocka_unit_test(test_event_parse),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_time_of_day),
        cmocka_unit_test(test_apply_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
