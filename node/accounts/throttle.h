/*
 * Login throttle: slows online password guessing without letting anyone who knows a login keep
 * its owner out. Design, threat model and limits: docs/security.md, "Login throttling".
 *
 * Four kinds of counters of failed logins, each in one fixed table (memory bounded whatever an
 * attacker sends), each with a free budget and then delays that double with every further
 * failure up to a cap, each forgetting one failure per `auth.failure_window_s` of quiet:
 *   - per login and client (the client's address, an IPv6 client by its /64);
 *   - per client, across logins (one address spraying many logins);
 *   - per login, across clients, for clients without a device cookie of that login (a botnet);
 *   - per device cookie: a browser that logged in as this login before carries a signed cookie,
 *     and its attempts are judged by this counter alone, never by the three above, so that
 *     others' failures do not keep it out. A cookie that fails too often loses that trust.
 *
 * An admitted attempt counts as a failure at once (so concurrent attempts cannot overrun a
 * budget); throttle_end takes it back when the password was right.
 *
 * Thread-safe: one mutex over the table, held for microseconds (the argon2id check runs
 * outside it). Times are milliseconds of the wall clock, passed in so that tests choose them.
 */
#ifndef MES_THROTTLE_H
#define MES_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "db.h"

#define DEVICE_COOKIE       "mes_device"
#define DEVICE_COOKIE_PATH  "/api/v1/auth/login" /* the browser sends it to the login only */
#define DEVICE_COOKIE_CHARS 80                   /* base64url of 57 bytes (76), plus NUL */
#define THROTTLE_SLOTS      32768                /* counters the table holds, at most */
#define THROTTLE_KEY_BYTES  32                   /* the MAC key of device cookies */

struct throttle;

/* What throttle_begin charged for one attempt, for throttle_end; the caller keeps it on its
 * stack and does not look inside, except at `trusted`. */
struct throttle_attempt {
    bool trusted; /* carried a valid device cookie of this login that is not locked out */
    int64_t now_ms;
    int ncharged;
    struct throttle_charge {
        uint32_t slot;
        unsigned char key[16];
        uint32_t failures, raw_failures; /* after the charge; before it, as stored */
        int64_t raw_last_ms;
        bool reset_on_success; /* the client's and the device's counters start again */
    } charged[3];
};

enum throttle_outcome {
    THROTTLE_FAILED,    /* wrong password (or unknown or disabled login): the charge stays */
    THROTTLE_SUCCEEDED, /* right password: charges taken back, client and device counters reset */
    THROTTLE_ABANDONED, /* the server failed before judging the password: charges taken back */
};

/* Makes a throttle with the limits of cfg->auth and `key` as the MAC key of device cookies
 * (NULL: a random key, so cookies do not outlive the process; for tests and fuzzers). Returns
 * NULL when out of memory. Free with throttle_destroy, which wipes the keys. */
struct throttle *throttle_create(const struct mes_config *cfg,
                                 const unsigned char key[THROTTLE_KEY_BYTES]);
void throttle_destroy(struct throttle *t);

/* Judges a login attempt for `login` (any letter case) from `address` (req_remote_addr),
 * carrying `device_cookie` (the cookie's value, or NULL). Returns 0 when the attempt may go on,
 * having charged it as a failure (end it with throttle_end), or else the milliseconds until it
 * may (more than 0; nothing charged). Fills `a` either way. */
int64_t throttle_begin(struct throttle *t, struct throttle_attempt *a, const char *login,
                       const char *address, const char *device_cookie, int64_t now_ms);

/* Ends an admitted attempt (see enum throttle_outcome). */
void throttle_end(struct throttle *t, const struct throttle_attempt *a, enum throttle_outcome o);

/* Writes into `out` a new device cookie value for `login`, valid until now_ms plus
 * auth.device_cookie_days. Never fails. */
void throttle_device_cookie(struct throttle *t, const char *login, int64_t now_ms,
                            char out[DEVICE_COOKIE_CHARS]);

/* How many counters hold failures at now_ms (at most THROTTLE_SLOTS); for tests and metrics. */
size_t throttle_used(struct throttle *t, int64_t now_ms);

/* Reads the node's device-cookie key from the database (table node_secrets), making it (32
 * random bytes) on the first call. Runs its own write transaction on `db`. 0, or -1 on a
 * database error (see db_errmsg). */
int throttle_load_key(struct db *db, unsigned char key[THROTTLE_KEY_BYTES]);

#endif
