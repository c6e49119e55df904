/*
 * Accounts for everyone: activation codes, the password rules, and what the account routes
 * (activation.c, manage.c) share.
 *
 * An activation code is a one-time secret printed on a letter: 12 characters of an alphabet
 * with no look-alikes (digits 2-9 and the capital letters without I, L, O and U: 30 symbols,
 * 58.9 bits), shown in groups of four, "K7QM-2XPD-9HTR". A code is stored only as a keyed
 * BLAKE2b-256 of the account's id and the code (the key: node_secrets "activation_code", made
 * by the first letters), so a copy of the database does not activate anyone; it expires after
 * auth.activation_days and is deleted when used. An account has at most one live code: a new
 * one replaces it (activation_codes' key is the account).
 */
#ifndef MES_ACTIVATION_H
#define MES_ACTIVATION_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "db.h"
#include "http.h"

#define ACTIVATION_CODE_LEN   12                        /* symbols, without the hyphens */
#define ACTIVATION_CODE_CHARS (ACTIVATION_CODE_LEN + 3) /* "XXXX-XXXX-XXXX" and a NUL */
#define ACTIVATION_KEY_BYTES  32
#define PASSWORD_MAX_BYTES    256

/* The alphabet of codes (30 symbols, no 0/O, 1/I/L, U/V). */
extern const char activation_alphabet[];

/* Writes a new random code, grouped ("K7QM-2XPD-9HTR"), into `out`. Never fails. */
void activation_code_new(char out[ACTIVATION_CODE_CHARS]);

/* The code as typed (any letter case, spaces and hyphens anywhere) to its 12 symbols in `out`.
 * 0, or -1 when it is not 12 symbols of the alphabet. */
int activation_code_normalize(const char *typed, char out[ACTIVATION_CODE_LEN + 1]);

/* The stored form of a normalized code of `account_id` under `key`. */
void activation_code_hash(const unsigned char key[ACTIVATION_KEY_BYTES], int64_t account_id,
                          const char *normalized, unsigned char out[32]);

/* When a code made at `now` (Unix seconds) expires: now + auth.activation_days. */
int64_t activation_expiry(const struct mes_config *cfg, int64_t now);

/* Whether a code expiring at `expires_at` is still good at `now`. */
bool activation_live(int64_t expires_at, int64_t now);

/* Reads the node's code key from node_secrets; with `create`, makes it (32 random bytes) when
 * absent, inside the caller's write transaction. 1 found (or made), 0 absent (not created),
 * -1 on a database error. */
int activation_key(struct db *db, bool create, unsigned char key[ACTIVATION_KEY_BYTES]);

/* Makes a new code for `account_id`, replacing its live one, in the caller's write transaction;
 * the code (to show once) into `code` and its end into *expires. 0, or -1 on a database error. */
int activation_issue(struct req *r, const unsigned char key[ACTIVATION_KEY_BYTES],
                     int64_t account_id, char code[ACTIVATION_CODE_CHARS], int64_t *expires);

/* The password rules (auth.password_min_length characters at least, PASSWORD_MAX_BYTES bytes
 * at most, not the login in any letter case, and with auth.password_letters_and_digits at
 * least one letter and one digit). NULL when `password` obeys them, else the error code the
 * API answers: "password_too_short", "password_too_long", "password_is_login",
 * "password_needs_letters_and_digits". Lengths count characters (UTF-8 code points). */
const char *accounts_password_problem(const struct mes_config *cfg, const char *login,
                                      const char *password);

/* Answers 400 with the rule's code (and "min_length") and returns -1 when `password` breaks a
 * rule; 0 when it obeys them. */
int accounts_password_or_respond(struct req *r, const char *login, const char *password);

/* Opens a session of the account for this request's client, like a login: a new token and
 * CSRF token, ending at now + auth.session_ttl_hours; sets the session cookie. Fills `token`,
 * `csrf` and *expires. 0, or -1 on a database error. */
int accounts_session_open(struct req *r, int64_t account_id, char token[44], char csrf[44],
                          int64_t *expires);

/* Ends the sessions of an account, all of them or (keep non-NULL) all but the one whose hash
 * is `keep`. The number ended, or -1 on a database error. */
int accounts_sessions_end(struct req *r, int64_t account_id, const unsigned char *keep);

#endif
