/*
 * «Москвёнок»'s cards and passage (docs/moskvenok.md): the checks and the batch logic behind
 * the routes of cards.c and passage.c, apart from HTTP so that unit tests and benchmarks call
 * them on a database of their own. Schema: passage.sql (events and denials), moskvenok.sql
 * (cards, terminals' events).
 */
#ifndef MES_PASSAGE_H
#define MES_PASSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db.h"

/* Whether `s` may be issued as a carrier's identifier: 4 to 64 of [0-9A-Za-z:-]. */
bool passage_card_valid(const char *s);

/* A turnstile's event as posted, checked. Strings are borrowed from the request's body. */
struct passage_event {
    const char *key;
    int64_t seq;
    const char *card;
    bool in; /* direction "in" (else "out") */
    time_t at;
    const char *turnstile; /* NULL when not given */
};

/* The furthest an event's time may lie ahead of the node's clock (a terminal's clock runs a
 * little fast; a day ahead is a broken clock). */
#define PASSAGE_FUTURE_SECONDS 86400

/* Checks one element of "events" into *out: NULL when it is a good event, else the name of
 * the field that is wrong ("key", "seq", "card", "direction", "at", "turnstile"), or of a field
 * it should not have, or "" when it is not an object. `now` bounds `at` (above). */
const char *passage_event_parse(json_t *e, time_t now, struct passage_event *out);

/* What one batch did. */
struct passage_batch {
    json_t *results;  /* one {"key", "decision", "reason"?, "duplicate"?} per event, in order */
    int applied;      /* events new to the node: allowed and denied, each stored once */
    int duplicates;   /* keys held already: answered as the first time, nothing applied */
    int denied;       /* new events answered "deny" */
    size_t seq_taken; /* on PASSAGE_SEQ_TAKEN: the index of the event whose seq another key holds */
};

enum passage_outcome {
    PASSAGE_DONE = 0,
    PASSAGE_SEQ_TAKEN = 1, /* refuse the whole batch (the caller rolls back) */
    PASSAGE_FAILED = -1,   /* storage or memory */
};

/* Applies `n` checked events of terminal `device`, bound to school `school`, in the caller's
 * write transaction: each key once (a repeated one answered with its first answer, marked
 * "duplicate"); a carrier of a student of `school` is allowed and the event stored under the
 * student (their family notified when it is of today, the node's day `today`), any other card
 * denied and stored as a denial. Fills *b (b->results a new array the caller frees, also on
 * failure). On PASSAGE_SEQ_TAKEN or PASSAGE_FAILED the caller must roll back what was done. */
enum passage_outcome passage_apply(struct db *db, int64_t device, int64_t school,
                                   const struct passage_event *ev, size_t n, const char *today,
                                   struct passage_batch *b);

/* "HH:MM" of `t` in the node's time zone. */
void passage_hhmm(time_t t, char out[8]);

/* What the presence of a student on a day says against the journal: "present_no_entry" (marked
 * present at a lesson that took place, no entry while the school's turnstiles recorded
 * entries that day), "absent_with_entry" (marked absent or ill at a lesson, yet entered), or
 * NULL. */
const char *passage_flag(int present_lessons, int absent_lessons, bool entered,
                         bool turnstiles_used);

#endif
