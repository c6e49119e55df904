/*
 * Unit tests of `mesnode terminal`'s own logic (node/moskvenok/terminal.h): the queue's journal
 * survives a restart and a torn write, held_seq and answered batches drop what the node holds,
 * keys and seq numbers, refusals, the journal rewritten when mostly dead, one process at a
 * time; the event and item arguments, times with their offset, the top-up signature against
 * vectors computed with `openssl dgst -sha256 -hmac`, percentiles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moskvenok/moskvenok.h"
#include "moskvenok/terminal.h"

static char dir[64];
static char err[700];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mes-terminal-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static void rm(const char *name)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    unlink(p);
}

static int teardown(void **state)
{
    (void)state;
    const char *const names[] = {"t/journal", "t/journal.new", "t/lock", "t/refused"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        rm(names[i]);
    char p[128];
    snprintf(p, sizeof(p), "%s/t", dir);
    rmdir(p);
    rmdir(dir);
    return 0;
}

/* The state directory of a test: DIR/t (made by the first open). */
static const char *state_dir(void)
{
    static char p[128];
    snprintf(p, sizeof(p), "%s/t", dir);
    return p;
}

static char *journal_text(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/t/journal", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int journal_lines(void)
{
    int n = 0;
    for (const char *p = journal_text(); *p; p++)
        n += *p == '\n';
    return n;
}

static void open_turnstile(struct term_state *s)
{
    if (term_state_open(s, state_dir(), "turnstile", err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static int64_t add_event(struct term_state *s, const char *card)
{
    json_t *ev = json_pack("{s:s,s:s,s:s}", "card", card, "direction", "in", "at",
                           "2026-12-05T08:12:00+03:00");
    int64_t seq = 0;
    assert_int_equal(term_state_add(s, ev, &seq), 0);
    json_decref(ev);
    return seq;
}

static void test_queue_numbering_and_restart(void **state)
{
    (void)state;
    struct term_state s;
    open_turnstile(&s);
    /* A new terminal: a random id t + 8 hex digits, nothing queued, seq from 1. */
    assert_int_equal(strlen(s.id), 9);
    assert_int_equal(s.id[0], 't');
    assert_int_equal(strspn(s.id + 1, "0123456789abcdef"), 8);
    char id[16];
    snprintf(id, sizeof(id), "%s", s.id);
    assert_int_equal(s.n, 0);
    assert_int_equal(add_event(&s, "A"), 1);
    assert_int_equal(add_event(&s, "B"), 2);
    assert_int_equal(add_event(&s, "04:A2:3B:4C"), 3);
    assert_int_equal(term_state_sync(&s), 0);
    /* Each queued item is what will be uploaded: its key (ID-SEQ) and seq first. */
    char want[200];
    snprintf(want, sizeof(want),
             "{\"key\":\"%s-3\",\"seq\":3,\"card\":\"04:A2:3B:4C\",\"direction\":\"in\","
             "\"at\":\"2026-12-05T08:12:00+03:00\"}",
             id);
    assert_string_equal(term_state_find(&s, 3)->json, want);
    term_state_close(&s);
    /* A restart finds the same terminal and queue, and numbers on. */
    open_turnstile(&s);
    assert_string_equal(s.id, id);
    assert_string_equal(s.kind, "turnstile");
    assert_int_equal(s.n, 3);
    assert_int_equal(s.items[0].seq, 1);
    assert_int_equal(s.items[2].seq, 3);
    assert_string_equal(s.items[2].json, want);
    assert_int_equal(s.held, 0);
    assert_int_equal(add_event(&s, "C"), 4);
    term_state_close(&s);
    /* The other kind, or no terminal at all, is refused. */
    assert_int_equal(term_state_open(&s, state_dir(), "buffet", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "holds a turnstile, not a buffet"));
    char none[128];
    snprintf(none, sizeof(none), "%s/none", dir);
    assert_int_equal(term_state_open(&s, none, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "holds no terminal"));
    struct stat st;
    assert_int_equal(stat(none, &st), -1); /* looking made nothing */
    /* Without a kind an existing state opens as it is. */
    assert_int_equal(term_state_open(&s, state_dir(), NULL, err, sizeof(err)), 0);
    assert_int_equal(s.n, 4);
    term_state_close(&s);
}

static void test_held_and_answered_drop(void **state)
{
    (void)state;
    struct term_state s;
    open_turnstile(&s);
    for (int i = 0; i < 6; i++)
        add_event(&s, "A");
    assert_int_equal(term_state_sync(&s), 0);
    /* The node holds 1..2: those go. */
    assert_int_equal(term_state_held(&s, 2), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.items[0].seq, 3);
    /* A held_seq lower than what is known changes nothing. */
    assert_int_equal(term_state_held(&s, 1), 0);
    assert_int_equal(s.held, 2);
    assert_int_equal(s.n, 4);
    /* A batch of 5 and 6 answered while 3 is missing on the node (held stays 2). */
    int64_t batch[] = {6, 5};
    assert_int_equal(term_state_answered(&s, 2, batch, 2), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.items[0].seq, 3);
    assert_int_equal(s.items[1].seq, 4);
    term_state_close(&s);
    open_turnstile(&s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.held, 2);
    assert_int_equal(s.items[1].seq, 4);
    assert_int_equal(s.next_seq, 7); /* never reuses a number, answered or not */
    /* held_seq beyond what was queued here (another upload filled it) drops all. */
    assert_int_equal(term_state_held(&s, 9), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(add_event(&s, "B"), 10);
    term_state_close(&s);
    open_turnstile(&s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].seq, 10);
    term_state_close(&s);
}

static void test_torn_last_line(void **state)
{
    (void)state;
    struct term_state s;
    open_turnstile(&s);
    add_event(&s, "A");
    add_event(&s, "B");
    term_state_sync(&s);
    term_state_close(&s);
    /* A crash in the middle of the third append. */
    char p[128];
    snprintf(p, sizeof(p), "%s/t/journal", dir);
    FILE *f = fopen(p, "a");
    fputs("Q 3 {\"key\":\"t-3\",\"se", f);
    fclose(f);
    open_turnstile(&s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.next_seq, 3);
    /* Cut off on disk too: what follows is appended after whole lines. */
    assert_int_equal(add_event(&s, "C"), 3);
    term_state_sync(&s);
    term_state_close(&s);
    open_turnstile(&s);
    assert_int_equal(s.n, 3);
    assert_non_null(strstr(term_state_find(&s, 3)->json, "\"card\":\"C\""));
    term_state_close(&s);
    assert_null(strstr(journal_text(), "\"se\n"));
}

static void test_broken_journal_is_refused(void **state)
{
    (void)state;
    struct term_state s;
    open_turnstile(&s);
    add_event(&s, "A");
    term_state_close(&s);
    char p[128];
    snprintf(p, sizeof(p), "%s/t/journal", dir);
    FILE *f = fopen(p, "a");
    fputs("Z what\n", f);
    fclose(f);
    assert_int_equal(term_state_open(&s, state_dir(), "turnstile", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "journal:3: not a journal record"));
    f = fopen(p, "w");
    fputs("hello\n", f);
    fclose(f);
    assert_int_equal(term_state_open(&s, state_dir(), "turnstile", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "journal:1: not a terminal's journal"));
    f = fopen(p, "w");
    fputs("mesnode-terminal 1 turnstile t00000001\nA 1 x\n", f);
    fclose(f);
    assert_int_equal(term_state_open(&s, state_dir(), "turnstile", err, sizeof(err)), -1);
    f = fopen(p, "w");
    fputs("mesnode-terminal 1 turnstile t00000001\nQ 0 {}\n", f);
    fclose(f);
    assert_int_equal(term_state_open(&s, state_dir(), "turnstile", err, sizeof(err)), -1);
}

static void test_refuse_replace_and_one_process(void **state)
{
    (void)state;
    struct term_state s, other;
    open_turnstile(&s);
    add_event(&s, "A");
    add_event(&s, "BROKEN");
    add_event(&s, "C");
    term_state_sync(&s);
    /* Another opener (even in this process) is refused while this one holds the state. */
    assert_int_equal(term_state_open(&other, state_dir(), "turnstile", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "in use by another process"));
    /* A refused item leaves the queue for DIR/refused, with why. */
    assert_int_equal(term_state_refuse(&s, 2, "400 bad_request events[1].card"), 0);
    assert_int_equal(s.n, 2);
    assert_null(term_state_find(&s, 2));
    assert_int_equal(term_state_refuse(&s, 2, "again"), 0); /* gone already: nothing */
    /* A replaced item (a sale that got no answer turns offline) keeps its seq. */
    assert_int_equal(term_state_replace(&s, 3, "{\"key\":\"k-3\",\"seq\":3,\"offline\":true}"), 0);
    term_state_sync(&s);
    term_state_close(&s);
    open_turnstile(&s);
    assert_int_equal(s.n, 2);
    assert_null(term_state_find(&s, 2));
    assert_string_equal(term_state_find(&s, 3)->json,
                        "{\"key\":\"k-3\",\"seq\":3,\"offline\":true}");
    assert_int_equal(s.next_seq, 4);
    term_state_close(&s);
    char p[128], line[512];
    snprintf(p, sizeof(p), "%s/t/refused", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "\"card\":\"BROKEN\""));
    assert_non_null(strstr(line, "\t400 bad_request events[1].card\n"));
}

static void test_numbers_never_given_twice(void **state)
{
    (void)state;
    struct term_state s;
    open_turnstile(&s);
    for (int i = 0; i < 4; i++)
        add_event(&s, "A");
    term_state_sync(&s);
    /* 2 refused as malformed: a gap, held_seq stays 1; 3 and 4 answered above it. */
    assert_int_equal(term_state_refuse(&s, 2, "400 bad_request events[1].card"), 0);
    int64_t answered[] = {1, 3, 4};
    assert_int_equal(term_state_answered(&s, 1, answered, 3), 0);
    assert_int_equal(s.n, 0);
    /* The queue is empty: the journal was rewritten, and still knows the numbers given. */
    assert_null(strstr(journal_text(), "Q "));
    term_state_close(&s);
    open_turnstile(&s);
    assert_int_equal(s.held, 1);
    assert_int_equal(s.next_seq, 5);
    assert_int_equal(add_event(&s, "B"), 5);
    term_state_close(&s);
}

static void test_journal_rewritten_when_dead(void **state)
{
    (void)state;
    struct term_state s;
    open_turnstile(&s);
    for (int i = 0; i < 300; i++)
        add_event(&s, "A");
    term_state_sync(&s);
    assert_int_equal(journal_lines(), 301);
    /* 100 held of 300: not yet worth a rewrite. */
    assert_int_equal(term_state_held(&s, 100), 0);
    assert_int_equal(journal_lines(), 302);
    /* 200 dead of 300 records: rewritten as the header, the held seq and the 100 left. */
    assert_int_equal(term_state_held(&s, 200), 0);
    assert_int_equal(journal_lines(), 103);
    assert_non_null(strstr(journal_text(), "\nN 301\nH 200\nQ 201 "));
    /* Everything held: the header, the next and the held seq. */
    assert_int_equal(term_state_held(&s, 300), 0);
    assert_int_equal(journal_lines(), 3);
    assert_int_equal(add_event(&s, "B"), 301);
    term_state_sync(&s);
    term_state_close(&s);
    open_turnstile(&s);
    assert_int_equal(s.held, 300);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].seq, 301);
    term_state_close(&s);
}

static void test_event_arguments(void **state)
{
    (void)state;
    char card[65], d[4], at[40];
    assert_int_equal(term_parse_event("04A23B4C:in", card, d, at), 0);
    assert_string_equal(card, "04A23B4C");
    assert_string_equal(d, "in");
    assert_string_equal(at, "");
    /* A card may hold colons; the last one before the time separates the direction. */
    assert_int_equal(term_parse_event("04:A2:3B:4C:out@2026-12-05T08:12:00+03:00", card, d, at), 0);
    assert_string_equal(card, "04:A2:3B:4C");
    assert_string_equal(d, "out");
    assert_string_equal(at, "2026-12-05T08:12:00+03:00");
    assert_int_equal(term_parse_event("X:in@2026-12-05T05:12:00.5Z", card, d, at), 0);
    static const char *const bad[] = {
        "",
        "04A23B4C",
        ":in",
        "A:",
        "A:inn",
        "A:IN",
        "A:in@",
        "A:in@tomorrow",
        "A:in@2026-12-05T08:12:00", /* no offset */
        "A:sideways@2026-12-05T08:12:00Z",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:in", /* 65 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (term_parse_event(bad[i], card, d, at) != -1)
            fail_msg("'%s' parsed", bad[i]);
    int64_t id, q;
    assert_int_equal(term_parse_item("17", &id, &q), 0);
    assert_int_equal(id, 17);
    assert_int_equal(q, 1);
    assert_int_equal(term_parse_item("17x3", &id, &q), 0);
    assert_int_equal(q, 3);
    assert_int_equal(term_parse_item("5x1000", &id, &q), 0);
    static const char *const bad_items[] = {"",        "x",   "0",  "-3",   "17x", "17x0",
                                            "17x1001", "1 7", "+5", "5x+2", "a",   "17x3x"};
    for (size_t i = 0; i < sizeof(bad_items) / sizeof(bad_items[0]); i++)
        if (term_parse_item(bad_items[i], &id, &q) != -1)
            fail_msg("'%s' parsed", bad_items[i]);
}

static void test_time_with_offset(void **state)
{
    (void)state;
    char out[32];
    time_t t = 1796447520; /* 2026-12-05T05:12:00Z */
    setenv("TZ", "MSK-3", 1);
    tzset();
    term_format_time(t, out);
    assert_string_equal(out, "2026-12-05T08:12:00+03:00");
    time_t back = 0;
    assert_int_equal(mosk_parse_time(out, &back), 0);
    assert_int_equal(back, t);
    setenv("TZ", "UTC0", 1);
    tzset();
    term_format_time(t, out);
    assert_string_equal(out, "2026-12-05T05:12:00+00:00");
    setenv("TZ", "NST+3:30", 1); /* half-hour zones west of Greenwich */
    tzset();
    term_format_time(t, out);
    assert_string_equal(out, "2026-12-05T01:42:00-03:30");
    assert_int_equal(mosk_parse_time(out, &back), 0);
    assert_int_equal(back, t);
}

static void test_signature_vectors(void **state)
{
    (void)state;
    /* printf '%s' '1796447520.BODY' | openssl dgst -sha256 -hmac 'SECRET' */
    const char *body = "{\"payment_id\":\"pay-1\",\"account\":\"0000000083\",\"amount\":50000,"
                       "\"paid_at\":\"2026-12-05T08:12:00+03:00\"}";
    const char *secret = "demo-payment-secret-0123456789abcdef";
    char hex[65];
    term_sign((const unsigned char *)secret, strlen(secret), "1796447520", body, strlen(body), hex);
    assert_string_equal(hex, "0a6adc3d3a0ffa22959468b84f5206e3de5bb03acdcdbf0cd81663b475238b5e");
    /* A key longer than SHA-256's 64-byte block is hashed first (RFC 2104), as openssl does. */
    const char *longer = "demo-payment-secret-0123456789abcdef-this-key-is-longer-than-the-64-"
                         "byte-block-of-sha256!";
    term_sign((const unsigned char *)longer, strlen(longer), "1796447520", body, strlen(body), hex);
    assert_string_equal(hex, "35922f1d7d034334ec54208787997fef1ae54d58c7c34a8c2031fe34df4c174e");
    /* One byte anywhere changes it. */
    term_sign((const unsigned char *)secret, strlen(secret), "1796447521", body, strlen(body), hex);
    assert_string_not_equal(hex,
                            "0a6adc3d3a0ffa22959468b84f5206e3de5bb03acdcdbf0cd81663b475238b5e");
}

static void test_percentiles_and_fields(void **state)
{
    (void)state;
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = i + 1; /* 1..100 */
    assert_true(term_percentile(v, 100, 50) == 50);
    assert_true(term_percentile(v, 100, 99) == 99);
    assert_true(term_percentile(v, 100, 100) == 100);
    assert_true(term_percentile(v, 100, 0) == 1);
    double w[] = {2.5, 7, 40};
    assert_true(term_percentile(w, 3, 50) == 7);
    assert_true(term_percentile(w, 3, 99) == 40);
    assert_true(term_percentile(w, 0, 50) == 0);
    assert_int_equal(term_field_index("events[12].card"), 12);
    assert_int_equal(term_field_index("sales[0].seq"), 0);
    assert_int_equal(term_field_index("sales[3]"), 3);
    assert_int_equal(term_field_index("events"), -1);
    assert_int_equal(term_field_index("events[].card"), -1);
    assert_int_equal(term_field_index("events[-1].card"), -1);
    assert_int_equal(term_field_index("items[2].id"), -1);
    assert_int_equal(term_field_index(NULL), -1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_numbering_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_and_answered_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_last_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_journal_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_replace_and_one_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_never_given_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_rewritten_when_dead, setup, teardown),
        cmocka_unit_test(test_event_arguments),
        cmocka_unit_test(test_time_with_offset),
        cmocka_unit_test(test_signature_vectors),
        cmocka_unit_test(test_percentiles_and_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
