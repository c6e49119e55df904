/*
 * «Москвёнок»'s money (money.c): the payment provider's signed top-up notifications, a
 * student's meal account and its history, and a school's daily reconciliation. What is
 * declared here is the logic the unit tests reach (tests/unit/test_moskvenok_money.c).
 */
#ifndef MES_MOSKVENOK_MONEY_H
#define MES_MOSKVENOK_MONEY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* How far a notification's timestamp may be from the node's clock, in seconds. */
#define MONEY_SKEW 300

/* The outcomes of money_signature_check. */
enum money_sig {
    MONEY_SIG_OK = 0,
    MONEY_SIG_BAD = 1,   /* missing, malformed or not matching: 401 bad_signature */
    MONEY_SIG_STALE = 2, /* a good signature over a timestamp more than MONEY_SKEW s from now */
};

/* The signature of a notification: the lower-case hex (64 digits and a NUL) of
 * HMAC-SHA-256 under `secret` of TIMESTAMP "." BODY. */
void money_sign(const char *secret, const char *timestamp, const void *body, size_t len,
                char out[65]);

/* Checks X-Payment-Timestamp (`timestamp`: unix seconds, 1-12 digits) and X-Payment-Signature
 * (`signature`: 64 hex digits) over the body's bytes as sent, at `now`. The signature is
 * compared in constant time, and before the timestamp's age, so that only a notification
 * signed with the secret learns it is stale. NULL headers are MONEY_SIG_BAD. */
enum money_sig money_signature_check(const char *secret, const char *timestamp,
                                     const char *signature, const void *body, size_t len,
                                     time_t now);

/* The node's local midnight starting day `day` ("YYYY-MM-DD", checked by the caller) as unix
 * time, and with `next` the midnight after it (the day's end). */
time_t money_day_start(const char *day, int next);

#endif
