/*
 * Login throttle (contract in throttle.h; design in docs/security.md, "Login throttling").
 *
 * Expected load: one throttle_begin and one throttle_end per login attempt, each a few keyed
 * BLAKE2b hashes and a probe of at most THROTTLE_PROBE slots under one mutex; the argon2id
 * check between them costs a thousand times more.
 *
 * The table: THROTTLE_SLOTS slots of {key, failures, time of the last failure}. A key is a
 * keyed BLAKE2b-128 of the counter's kind and what it counts (a login folded to lower case, a
 * client, a cookie's nonce), under a random per-process key, so that nobody can aim keys at
 * one neighbourhood of the table. A counter's failures decay by one per failure window since
 * its last failure; a slot whose count has decayed to zero is free. A new counter takes a free
 * slot among its probes or else evicts the one with the fewest failures (the oldest among
 * equals): a flood of new keys, each with one failure, evicts its own kind and leaves the
 * counters that slow someone down.
 *
 * Delays: a counter with n failures and a free budget of f owes nothing while n < f, and
 * otherwise delay_s * 2^(n - f), at most max_delay_s, counted from its last failure.
 */
#include "accounts/throttle.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_PROBE 16
#define COOKIE_VERSION 1
#define NONCE_BYTES    16
#define COOKIE_HEAD    (1 + NONCE_BYTES + 8) /* version, nonce, expiry (big-endian seconds) */
#define COOKIE_BYTES   (COOKIE_HEAD + 32)    /* and the MAC */
#define CLIENT_BYTES   64

_Static_assert((THROTTLE_SLOTS & (THROTTLE_SLOTS - 1)) == 0, "THROTTLE_SLOTS: a power of two");
_Static_assert(DEVICE_COOKIE_CHARS >=
                   sodium_base64_ENCODED_LEN(COOKIE_BYTES,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "DEVICE_COOKIE_CHARS too small");

struct slot {
    unsigned char key[16];
    uint32_t failures; /* as of last_ms; 0: the slot is free */
    int64_t last_ms;
};

struct throttle {
    pthread_mutex_t lock;
    unsigned char *cookie_key; /* sodium_malloc: the MAC key of device cookies */
    unsigned char *table_key;  /* sodium_malloc: the key of the slots' hashes */
    uint32_t client_free, login_free, address_free, device_free, device_lockout;
    int64_t delay_ms, max_delay_ms, window_ms, cookie_ttl_s;
    struct slot slots[THROTTLE_SLOTS];
};

struct throttle *throttle_create(const struct mes_config *cfg,
                                 const unsigned char key[THROTTLE_KEY_BYTES])
{
    struct throttle *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->cookie_key = sodium_malloc(THROTTLE_KEY_BYTES);
    t->table_key = sodium_malloc(crypto_generichash_KEYBYTES);
    if (t->cookie_key == NULL || t->table_key == NULL || pthread_mutex_init(&t->lock, NULL) != 0) {
        sodium_free(t->cookie_key);
        sodium_free(t->table_key);
        free(t);
        return NULL;
    }
    if (key != NULL)
        memcpy(t->cookie_key, key, THROTTLE_KEY_BYTES);
    else
        randombytes_buf(t->cookie_key, THROTTLE_KEY_BYTES);
    randombytes_buf(t->table_key, crypto_generichash_KEYBYTES);
    t->client_free = (uint32_t)cfg->auth.client_free_failures;
    t->login_free = (uint32_t)cfg->auth.login_free_failures;
    t->address_free = (uint32_t)cfg->auth.address_free_failures;
    t->device_free = (uint32_t)cfg->auth.device_free_failures;
    t->device_lockout = (uint32_t)cfg->auth.device_lockout_failures;
    t->delay_ms = (int64_t)cfg->auth.delay_s * 1000;
    t->max_delay_ms = (int64_t)cfg->auth.max_delay_s * 1000;
    t->window_ms = (int64_t)cfg->auth.failure_window_s * 1000;
    t->cookie_ttl_s = (int64_t)cfg->auth.device_cookie_days * 86400;
    return t;
}

void throttle_destroy(struct throttle *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    sodium_free(t->cookie_key);
    sodium_free(t->table_key);
    free(t);
}

/* ---- keys ---------------------------------------------------------------------------------- */

/* Feeds `login` folded to lower case (logins compare without case, as accounts.login does). */
static void update_folded(crypto_generichash_state *st, const char *login)
{
    unsigned char buf[64];
    size_t n = 0;
    for (const char *p = login; *p; p++) {
        buf[n++] = (unsigned char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        if (n == sizeof(buf)) {
            crypto_generichash_update(st, buf, n);
            n = 0;
        }
    }
    crypto_generichash_update(st, buf, n);
}

/* The client an address stands for: an IPv4 address (also when written IPv4-mapped), the /64 of
 * an IPv6 address (one subscriber holds a whole /64), or the text itself when it is neither.
 * Returns the length written into `out`. */
static size_t client_of(const char *address, unsigned char out[CLIENT_BYTES])
{
    unsigned char a6[16];
    if (inet_pton(AF_INET, address, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, address, a6) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, sizeof(mapped)) == 0) {
            memcpy(out, a6 + 12, 4);
            return 4;
        }
        out[0] = 6;
        memcpy(out + 1, a6, 8);
        return 9;
    }
    size_t n = strnlen(address, CLIENT_BYTES - 1);
    out[0] = 't';
    memcpy(out + 1, address, n);
    return n + 1;
}

/* The slot key of a counter: its kind, then the login (folded) and/or the client or nonce. */
static void counter_key(const struct throttle *t, char kind, const char *login,
                        const unsigned char *bytes, size_t nbytes, unsigned char out[16])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, t->table_key, crypto_generichash_KEYBYTES, 16);
    unsigned char k = (unsigned char)kind;
    crypto_generichash_update(&st, &k, 1);
    if (login != NULL) {
        update_folded(&st, login);
        unsigned char nul = 0;
        crypto_generichash_update(&st, &nul, 1);
    }
    if (bytes != NULL)
        crypto_generichash_update(&st, bytes, nbytes);
    crypto_generichash_final(&st, out, 16);
}

/* ---- device cookies ------------------------------------------------------------------------ */

static void cookie_mac(const struct throttle *t, const unsigned char head[COOKIE_HEAD],
                       const char *login, unsigned char mac[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, t->cookie_key, THROTTLE_KEY_BYTES, 32);
    crypto_generichash_update(&st, head, COOKIE_HEAD);
    update_folded(&st, login);
    crypto_generichash_final(&st, mac, 32);
}

void throttle_device_cookie(struct throttle *t, const char *login, int64_t now_ms,
                            char out[DEVICE_COOKIE_CHARS])
{
    unsigned char raw[COOKIE_BYTES];
    raw[0] = COOKIE_VERSION;
    randombytes_buf(raw + 1, NONCE_BYTES);
    uint64_t expiry = (uint64_t)(now_ms / 1000 + t->cookie_ttl_s);
    for (int i = 0; i < 8; i++)
        raw[1 + NONCE_BYTES + i] = (unsigned char)(expiry >> (56 - 8 * i));
    cookie_mac(t, raw, login, raw + COOKIE_HEAD);
    sodium_bin2base64(out, DEVICE_COOKIE_CHARS, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* True when `cookie` is a device cookie this node made for `login` that has not expired; its
 * nonce is then copied into `nonce`. */
static bool cookie_valid(const struct throttle *t, const char *cookie, const char *login,
                         int64_t now_ms, unsigned char nonce[NONCE_BYTES])
{
    unsigned char raw[COOKIE_BYTES], mac[32];
    size_t len = 0;
    if (cookie == NULL || strlen(cookie) >= DEVICE_COOKIE_CHARS ||
        sodium_base642bin(raw, sizeof(raw), cookie, strlen(cookie), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != COOKIE_BYTES || raw[0] != COOKIE_VERSION)
        return false;
    uint64_t expiry = 0;
    for (int i = 0; i < 8; i++)
        expiry = expiry << 8 | raw[1 + NONCE_BYTES + i];
    cookie_mac(t, raw, login, mac);
    if (crypto_verify_32(mac, raw + COOKIE_HEAD) != 0 || expiry <= (uint64_t)(now_ms / 1000))
        return false;
    memcpy(nonce, raw + 1, NONCE_BYTES);
    return true;
}

/* ---- counters ------------------------------------------------------------------------------ */

/* A slot's failures at now_ms: one fewer for each whole window since its last failure. */
static uint32_t decayed(const struct throttle *t, const struct slot *s, int64_t now_ms)
{
    if (s->failures == 0 || now_ms <= s->last_ms)
        return s->failures;
    int64_t k = (now_ms - s->last_ms) / t->window_ms;
    return k >= (int64_t)s->failures ? 0 : s->failures - (uint32_t)k;
}

/* Milliseconds a counter of `n` failures with a free budget `budget` owes after its last. */
static int64_t delay_for(const struct throttle *t, uint32_t n, uint32_t budget)
{
    if (n < budget)
        return 0;
    uint32_t doublings = n - budget;
    if (doublings >= 40 || (t->delay_ms << doublings) > t->max_delay_ms)
        return t->max_delay_ms;
    return t->delay_ms << doublings;
}

static bool charged_by(const struct throttle_attempt *a, uint32_t index)
{
    for (int i = 0; i < a->ncharged; i++)
        if (a->charged[i].slot == index)
            return true;
    return false;
}

/* The slot holding the live counter `key`, or NULL. With `a` (creating), when there is none,
 * claims a free slot among the probes or else evicts the one with the fewest failures, the
 * oldest among equals, never one this attempt has charged; the slot comes back empty. */
static struct slot *slot_for(struct throttle *t, const unsigned char key[16], int64_t now_ms,
                             const struct throttle_attempt *a, uint32_t *index)
{
    uint32_t h;
    memcpy(&h, key, sizeof(h));
    struct slot *victim = NULL;
    uint32_t victim_n = UINT32_MAX, victim_i = 0;
    for (uint32_t p = 0; p < THROTTLE_PROBE; p++) {
        uint32_t i = (h + p) & (THROTTLE_SLOTS - 1);
        struct slot *s = &t->slots[i];
        uint32_t n = decayed(t, s, now_ms);
        if (n > 0 && memcmp(s->key, key, 16) == 0) {
            *index = i;
            return s;
        }
        if (a == NULL || charged_by(a, i))
            continue;
        if (victim == NULL || n < victim_n || (n == victim_n && s->last_ms < victim->last_ms)) {
            victim = s;
            victim_n = n;
            victim_i = i;
        }
    }
    if (victim == NULL)
        return NULL;
    memcpy(victim->key, key, 16);
    victim->failures = 0;
    victim->last_ms = 0;
    *index = victim_i;
    return victim;
}

/* Milliseconds the counter `key` makes an attempt wait at now_ms (0: none). */
static int64_t wait_of(struct throttle *t, const unsigned char key[16], uint32_t budget,
                       int64_t now_ms)
{
    uint32_t i;
    struct slot *s = slot_for(t, key, now_ms, NULL, &i);
    if (s == NULL)
        return 0;
    int64_t d = delay_for(t, decayed(t, s, now_ms), budget);
    int64_t w = d > 0 ? s->last_ms + d - now_ms : 0;
    return w > 0 ? w : 0;
}

/* Counts one failure on the counter `key` for the attempt `a`. */
static void charge(struct throttle *t, struct throttle_attempt *a, const unsigned char key[16],
                   bool reset_on_success)
{
    uint32_t i;
    struct slot *s = slot_for(t, key, a->now_ms, a, &i);
    if (s == NULL)
        return; /* every probe is charged by this attempt: cannot happen with 16 probes */
    struct throttle_charge *c = &a->charged[a->ncharged++];
    c->slot = i;
    memcpy(c->key, key, 16);
    c->raw_failures = s->failures;
    c->raw_last_ms = s->last_ms;
    c->reset_on_success = reset_on_success;
    uint32_t n = decayed(t, s, a->now_ms);
    s->failures = c->failures = n < UINT32_MAX ? n + 1 : n;
    s->last_ms = a->now_ms;
}

int64_t throttle_begin(struct throttle *t, struct throttle_attempt *a, const char *login,
                       const char *address, const char *device_cookie, int64_t now_ms)
{
    memset(a, 0, sizeof(*a));
    a->now_ms = now_ms;
    unsigned char nonce[NONCE_BYTES], client[CLIENT_BYTES];
    unsigned char kd[16] = {0}, kc[16], kl[16], ka[16];
    bool cookie = cookie_valid(t, device_cookie, login, now_ms, nonce);
    if (cookie)
        counter_key(t, 'd', NULL, nonce, sizeof(nonce), kd);
    size_t nclient = client_of(address ? address : "", client);
    counter_key(t, 'c', login, client, nclient, kc);
    counter_key(t, 'l', login, NULL, 0, kl);
    counter_key(t, 'a', NULL, client, nclient, ka);
    int64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    if (cookie) {
        uint32_t i;
        struct slot *d = slot_for(t, kd, now_ms, NULL, &i);
        a->trusted = d == NULL || decayed(t, d, now_ms) < t->device_lockout;
    }
    if (a->trusted) {
        /* Judged by its own failures alone. */
        wait = wait_of(t, kd, t->device_free, now_ms);
        if (wait == 0)
            charge(t, a, kd, true);
    } else {
        int64_t w;
        wait = wait_of(t, kc, t->client_free, now_ms);
        if ((w = wait_of(t, kl, t->login_free, now_ms)) > wait)
            wait = w;
        if ((w = wait_of(t, ka, t->address_free, now_ms)) > wait)
            wait = w;
        if (wait == 0) {
            charge(t, a, kc, true);
            charge(t, a, kl, false);
            charge(t, a, ka, false);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void throttle_end(struct throttle *t, const struct throttle_attempt *a, enum throttle_outcome o)
{
    if (o == THROTTLE_FAILED)
        return;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < a->ncharged; i++) {
        const struct throttle_charge *c = &a->charged[i];
        struct slot *s = &t->slots[c->slot];
        if (memcmp(s->key, c->key, 16) != 0 || s->failures == 0)
            continue; /* evicted or forgotten since */
        if (o == THROTTLE_SUCCEEDED && c->reset_on_success)
            s->failures = 0;
        else if (s->failures == c->failures && s->last_ms == a->now_ms) {
            /* Nothing counted since: as it was before this attempt. */
            s->failures = c->raw_failures;
            s->last_ms = c->raw_last_ms;
        } else {
            s->failures--;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

size_t throttle_used(struct throttle *t, int64_t now_ms)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < THROTTLE_SLOTS; i++)
        n += decayed(t, &t->slots[i], now_ms) > 0;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ---- the key ------------------------------------------------------------------------------- */

int throttle_load_key(struct db *db, unsigned char key[THROTTLE_KEY_BYTES])
{
    if (db_begin_write(db) != SQLITE_OK)
        return -1;
    sqlite3_stmt *st = db_query(db, "SELECT value FROM node_secrets WHERE name = :n",
                                DB_ARGS(DB_TEXT(":n", "device_cookie")));
    bool found = false;
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        found = sqlite3_column_bytes(st, 0) == THROTTLE_KEY_BYTES;
        if (found)
            memcpy(key, sqlite3_column_blob(st, 0), THROTTLE_KEY_BYTES);
    }
    if (rc != SQLITE_DONE)
        goto fail;
    if (!found) {
        /* The first start (or a damaged row): a new key; cookies made before stop counting. */
        randombytes_buf(key, THROTTLE_KEY_BYTES);
        if (db_run(db, "INSERT OR REPLACE INTO node_secrets (name, value) VALUES (:n, :v)",
                   DB_ARGS(DB_TEXT(":n", "device_cookie"),
                           DB_BLOB(":v", key, THROTTLE_KEY_BYTES))) != SQLITE_DONE)
            goto fail;
    }
    if (db_commit(db) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    sodium_memzero(key, THROTTLE_KEY_BYTES);
    db_rollback(db);
    return -1;
}
