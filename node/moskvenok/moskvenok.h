/*
 * «Москвёнок»: passage and meals (docs/moskvenok.md). What its parts share: carriers as a
 * terminal reads them, the meal account and its ledger, and the exactly-once bookkeeping of
 * what terminals send. Schema: moskvenok.sql; passage (passage.c), the menu and free meals
 * (meals.c), buffet sales and refunds (sales.c), cards (cards.c), top-ups and the
 * reconciliation (money.c) build on it.
 */
#ifndef MES_MOSKVENOK_H
#define MES_MOSKVENOK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "http.h"

struct mes_config;

/* A carrier as a terminal reads it. */
struct mosk_card {
    int64_t id;
    int64_t student_id;
    int64_t school_id; /* the student's school now (an enrolment not ended), 0: none */
    bool blocked;
};

/* Finds a carrier by its identifier: 1 found (blocked or not), 0 unknown, -1 on a storage
 * failure. */
int mosk_card_find(struct db *db, const char *card, struct mosk_card *out);

/* The student's school now (their enrolment not ended): its id, 0 when none, -1 on a storage
 * failure. */
int64_t mosk_student_school(struct db *db, int64_t student);

/* The kinds of set meals (complexes). */
enum mosk_complex {
    MOSK_BREAKFAST = 1u << 0,
    MOSK_LUNCH = 1u << 1,
    MOSK_SNACK = 1u << 2,
};
/* The bit of a kind's name ("lunch"), 0 when unknown; and the name of one bit. */
unsigned mosk_complex_bit(const char *kind);
const char *mosk_complex_name(unsigned bit);

/* The bits of a space-separated list of kinds ("breakfast lunch", as the configuration's
 * loader checked it). */
unsigned mosk_kinds_mask(const char *list);

/* Whether `benefit` is one of the region's benefit categories (meals.benefit_categories). */
bool mosk_benefit_listed(const struct mes_config *cfg, const char *benefit);

/* The region's rules themselves: the complexes a student of `grade` (0: not in a class) with
 * `benefit` ("" for none) eats free. *by_grade those of meals.free_complexes when the grade is
 * within meals.free_grade_from..to, *by_benefit those of meals.benefit_complexes when the
 * benefit is a listed category (either may be NULL). Returns their union. */
unsigned mosk_free_mask(const struct mes_config *cfg, int grade, const char *benefit,
                        unsigned *by_grade, unsigned *by_benefit);

/* The complexes the student eats free by the region's rules (config meals.*): those of
 * meals.free_complexes when their class's grade is within meals.free_grade_from..to, and those
 * of meals.benefit_complexes when their account names one of meals.benefit_categories. *mask
 * of enum mosk_complex bits. 0, or -1 on a storage failure. */
int mosk_free_complexes(struct db *db, const struct mes_config *cfg, int64_t student,
                        unsigned *mask);

/* Makes sure the student has a meal account (balance 0). 0, or -1 on a storage failure. */
int mosk_account_ensure(struct db *db, int64_t student);

/* The outcomes of mosk_ledger_post. */
enum mosk_post {
    MOSK_POSTED = 0,       /* the ledger row is in and the balance changed */
    MOSK_INSUFFICIENT = 1, /* a debit would take the balance below -meals.overdraft_kopecks */
    MOSK_FAILED = -1,      /* storage */
};

/* Moves `amount` kopecks (+ in, - out) on the student's account (made if missing) as one
 * ledger row of `kind` ("topup", "sale", "refund") naming `ref`, at `at` (its day in the
 * node's time zone). A debit that would take the balance below the region's overdraft is
 * refused and changes nothing. The family is told once when the balance falls below
 * meals.low_balance_kopecks (again only after it rose above). *balance: the balance after
 * (or, refused, as it is). */
enum mosk_post mosk_ledger_post(struct db *db, const struct mes_config *cfg, int64_t student,
                                int64_t institution, const char *kind, int64_t amount, int64_t ref,
                                time_t at, int64_t *balance);

/* Whether `key` is a terminal event's key: 1 to 64 printable ASCII characters. */
bool mosk_key_valid(const char *key);

/* The outcomes of mosk_event_claim. */
enum mosk_claim {
    MOSK_NEW = 1,       /* first seen: apply it (then mosk_event_reply, unless answered) */
    MOSK_DUPLICATE = 0, /* held already: *reply is what was answered the first time */
    MOSK_SEQ_TAKEN = 2, /* another key holds this sequence number: refused */
    MOSK_CLAIM_FAILED = -1,
};

/* Records that terminal `device` sent the event `key` with sequence number `seq` (>= 1), with
 * `answer` (JSON text) as its answer when it is known before the event is applied (a
 * turnstile's allow or deny), else NULL and mosk_event_reply once it is. On MOSK_DUPLICATE,
 * *reply is the stored answer (malloc'ed, the caller frees it). */
enum mosk_claim mosk_event_claim(struct db *db, int64_t device, const char *key, int64_t seq,
                                 const char *answer, char **reply);

/* Stores the answer to a claimed event (JSON text), repeated for its duplicates. 0 or -1. */
int mosk_event_reply(struct db *db, int64_t device, const char *key, const char *reply);

/* After a batch: advances the terminal's held sequence over every number now held without a
 * gap, notes when it was seen, and gives *held (every number up to it is held) and *last
 * (the highest held). 0, or -1 on a storage failure. */
int mosk_terminal_update(struct db *db, int64_t device, int64_t *held, int64_t *last);

/* Parses an RFC 3339 time ("2026-12-05T08:12:00+03:00", "...Z", fractions allowed). 0, or -1
 * when it is not one. */
int mosk_parse_time(const char *s, time_t *out);

/* The day of `t` in the node's time zone, "YYYY-MM-DD". */
void mosk_local_day(time_t t, char out[16]);

/* The meal account number parents pay to: the student's id as 9 digits (leading zeros) and a
 * Luhn check digit, 10 digits in all ("0000000422" for student 42). 0, or -1 when the id does
 * not fit in 9 digits (or is not positive). */
int mosk_account_number(int64_t student, char out[16]);

/* The student of an account number: exactly 10 digits whose last is the Luhn check digit of
 * the first 9, naming an id above 0. 0 with *student set, or -1 (malformed, a wrong check
 * digit: a mistyped number). */
int mosk_account_parse(const char *s, int64_t *student);

/* Who a route lets at a student's meals (mosk_student_or_respond). */
enum mosk_who {
    MOSK_WHO_SELF = 1u << 0,         /* the student */
    MOSK_WHO_PARENTS = 1u << 1,      /* their parents and guardians */
    MOSK_WHO_SCHOOL_ADMIN = 1u << 2, /* the admin of the student's school */
    MOSK_WHO_CANTEEN = 1u << 3,      /* the canteen operator of the student's school */
    MOSK_WHO_ADMIN = 1u << 4,        /* the region admin */
};
/* Who reads a student's meal account, its history, purchases, stop list and limit. */
#define MOSK_WHO_READERS                                                                           \
    (MOSK_WHO_SELF | MOSK_WHO_PARENTS | MOSK_WHO_SCHOOL_ADMIN | MOSK_WHO_CANTEEN | MOSK_WHO_ADMIN)

/* Checks the caller against `who` (enum mosk_who bits) for student `student` and gives the
 * student's school now in *school. 0 to go on; -1 once answered (404 no such student or none
 * enrolled now, 403 not theirs). *guardian (may be NULL): the caller is a parent of the
 * student. */
int mosk_student_or_respond(struct req *r, int64_t student, unsigned who, int64_t *school,
                            bool *guardian);

/* Calendar arithmetic of dates YYYY-MM-DD. The days since 1970-01-01 of `day`, -1 when it is
 * not a date; the date `n` days after `day` (n may be negative) into out, 0 or -1 when `day` is
 * not a date; its weekday, 1 Monday .. 7 Sunday, 0 when it is not a date. */
long mosk_day_number(const char *day);
int mosk_day_add(const char *day, long n, char out[16]);
int mosk_weekday(const char *day);

/* Reads the date query parameter `name` (YYYY-MM-DD) into out, or `fallback` when it is
 * absent (NULL: it is required). 0, or -1 after answering 400 bad_date naming it. */
int mosk_query_day_or_respond(struct req *r, const char *name, const char *fallback, char out[16]);

/* Reads the date query parameter `name` of a school's day view: a date YYYY-MM-DD, today when
 * it is absent, or the word `word` ("latest" or "next"): then *chosen is set and out holds today,
 * for the caller to move once it has checked who asks (mosk_latest_day, meals_next_school_day).
 * 0, or -1 after answering 400 bad_date naming it. */
int mosk_query_view_day_or_respond(struct req *r, const char *name, const char *word, char out[16],
                                   bool *chosen);

/* A search's query parameter `q` (a student's name or a card, at most 100 characters): into q
 * ("" when absent), with its two LIKE patterns for "last first middle" (db_like_pattern: as
 * typed, and with each word's first letter capitalised). 0, or -1 after answering 400 naming
 * q. */
#define MOSK_SEARCH_MAX 260
int mosk_query_search_or_respond(struct req *r, char q[MOSK_SEARCH_MAX],
                                 char like1[2 * MOSK_SEARCH_MAX], char like2[2 * MOSK_SEARCH_MAX]);

/* The latest day up to `day` (YYYY-MM-DD, today) on which one of `queries` finds the school's
 * data: each a NULL-terminated list's SELECT of one day with :i the school and :t `day`, through
 * an index (`... WHERE institution_id = :i AND day <= :t ORDER BY day DESC LIMIT 1`). `day`
 * becomes it; it stays when none finds any. 0, or -1 on a storage failure. */
int mosk_latest_day(struct db *db, int64_t inst, const char *const *queries, char day[16]);

/* Reads the days ?from=&to= of a list: by default the `days` days up to today (the node's);
 * `from` alone: the `days` days from it; `to` alone: the `days` days up to it. At most `max`
 * days. 0, or -1 after answering 400: bad_date (field from or to), bad_range (to before from,
 * field to), range_too_long (field to). */
int mosk_query_range_or_respond(struct req *r, int days, int max, char from[16], char to[16]);

#endif
