/*
 * Authentication: who is calling (session cookie, bearer token or device token), passwords
 * (argon2id), random tokens stored as hashes, CSRF for cookie writes and the audit log. The
 * login throttle is in throttle.h, authorization (may this caller see this record) in authz.h.
 */
#ifndef MES_AUTH_H
#define MES_AUTH_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "http.h"

#define SESSION_COOKIE "mes_session"
#define TOKEN_CHARS    44 /* base64url of 32 random bytes, plus NUL */

/* Fills r->caller from the request's credentials. An absent, unknown, expired or revoked
 * token leaves the caller anonymous (the policy then answers 401). Returns 0, or -1 after
 * answering 500 when the database fails. */
int auth_resolve(struct req *r);

/* Fills r->caller for a known account (grants included), as a session of it would. 0 or -1
 * on a database error. */
int auth_load_caller(struct req *r, int64_t account_id, int64_t person_id);

/* True when the request's X-CSRF-Token header matches the session's token. */
bool auth_csrf_ok(struct req *r);

/* Hashes a password with argon2id at the configured cost into `out`. 0 or -1 (out of
 * memory). Slow on purpose (tens of milliseconds). */
int auth_hash_password(const struct mes_config *cfg, const char *password,
                       char out[crypto_pwhash_STRBYTES]);
/* Constant-work check of a password against a stored hash; a NULL hash still spends the
 * time of one verification and fails. */
bool auth_verify_password(const char *hash, const char *password);

/* A new random token (base64url, NUL-terminated) and its BLAKE2b-256 hash for storage. */
void auth_new_token(char token[TOKEN_CHARS], unsigned char hash[32]);
void auth_token_hash(const char *token, unsigned char hash[32]);

/* Appends to the audit log inside the current transaction: the caller, the institution the
 * change concerns (0: region-wide), an action name ("class.create"), the object ("class/12")
 * and a JSON detail (stolen; may be NULL). Returns 0 or -1 (the caller answers 500). */
int audit(struct req *r, int64_t institution_id, const char *action, const char *object,
          json_t *detail);

/* Account creation shared by `mesnode init`, the demo and the admin API; all run in the
 * caller's transaction and return the new id, or -1 (see db_errmsg). `password_hash` may be
 * NULL (an account that cannot log in yet). */
int64_t accounts_add(struct db *db, int64_t person_id, const char *login,
                     const char *password_hash);
int accounts_grant(struct db *db, int64_t account_id, uint32_t role, int64_t institution_id);

/* Logins made for imported and generated people (accounts/logins.c). */
#define ACCOUNT_LOGIN_MAX  64 /* the longest login (accounts.login) */
#define ACCOUNT_LOGIN_BASE 40 /* the transliterated last name's share of it */

/* Transliterates a name as Russian passports do (ICAO 2013), lowercase; characters other than
 * Cyrillic, latin letters and digits are dropped, spaces and hyphens become one '-'. Writes at
 * most size-1 bytes and a NUL (cutting at a whole letter); returns the length. */
size_t accounts_translit(const char *name, char *out, size_t size);

/* The login for a person: translit(last name) + id, "-N" appended on the Nth attempt (N > 1);
 * "user" + id when the name has no letter to keep. 0, or -1 if it does not fit `size`. */
int accounts_make_login(const char *last_name, int64_t person_id, int attempt, char *out,
                        size_t size);

/* Creates the person's account that cannot log in until activated (no password), with a
 * made login written to `login`; tries another suffix while a hand-chosen login is in the
 * way. The account id, or -1 (see db_errmsg; a person with an account already fails). */
int64_t accounts_add_inactive(struct db *db, int64_t person_id, const char *last_name,
                              char login[ACCOUNT_LOGIN_MAX + 1]);

#endif
