/*
 * Activation: the codes (activation.h), the letters a class's students and guardians get, and
 * activating an account with its code. Letters are made on the writer (a few keyed hashes per
 * person, a class at a time: a hundred rows); activation checks the code and hashes the chosen
 * password (argon2id) in its route's prepare step, outside the write lock, and on the writer
 * only records, as login does.
 */
#include "accounts/activation.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "accounts/throttle.h"
#include "node.h"
#include "refs.h"

const char activation_alphabet[] = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
#define ALPHABET_SIZE ((uint32_t)(sizeof(activation_alphabet) - 1))
_Static_assert(sizeof(activation_alphabet) - 1 == 30, "30 symbols: 12 of them hold 58 bits");

void activation_code_new(char out[ACTIVATION_CODE_CHARS])
{
    int n = 0;
    for (int i = 0; i < ACTIVATION_CODE_LEN; i++) {
        if (i > 0 && i % 4 == 0)
            out[n++] = '-';
        out[n++] = activation_alphabet[randombytes_uniform(ALPHABET_SIZE)];
    }
    out[n] = '\0';
}

int activation_code_normalize(const char *typed, char out[ACTIVATION_CODE_LEN + 1])
{
    int n = 0;
    for (const char *p = typed; *p; p++) {
        char c = *p;
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c == '\0' || strchr(activation_alphabet, c) == NULL || n == ACTIVATION_CODE_LEN)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == ACTIVATION_CODE_LEN ? 0 : -1;
}

void activation_code_hash(const unsigned char key[ACTIVATION_KEY_BYTES], int64_t account_id,
                          const char *normalized, unsigned char out[32])
{
    unsigned char id[8];
    for (int i = 0; i < 8; i++)
        id[i] = (unsigned char)((uint64_t)account_id >> (56 - 8 * i));
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, ACTIVATION_KEY_BYTES, 32);
    crypto_generichash_update(&st, id, sizeof(id));
    crypto_generichash_update(&st, (const unsigned char *)normalized, strlen(normalized));
    crypto_generichash_final(&st, out, 32);
}

int64_t activation_expiry(const struct mes_config *cfg, int64_t now)
{
    return now + (int64_t)cfg->auth.activation_days * 86400;
}

bool activation_live(int64_t expires_at, int64_t now)
{
    return now < expires_at;
}

int activation_key(struct db *db, bool create, unsigned char key[ACTIVATION_KEY_BYTES])
{
    sqlite3_stmt *st = db_query(db, "SELECT value FROM node_secrets WHERE name = :n",
                                DB_ARGS(DB_TEXT(":n", "activation_code")));
    bool found = false;
    int rc;
    while (db_next(st, &rc))
        if (sqlite3_column_bytes(st, 0) == ACTIVATION_KEY_BYTES) {
            memcpy(key, sqlite3_column_blob(st, 0), ACTIVATION_KEY_BYTES);
            found = true;
        }
    if (rc != SQLITE_DONE)
        return -1;
    if (found || !create)
        return found ? 1 : 0;
    randombytes_buf(key, ACTIVATION_KEY_BYTES);
    if (db_run(db, "INSERT OR REPLACE INTO node_secrets (name, value) VALUES (:n, :v)",
               DB_ARGS(DB_TEXT(":n", "activation_code"),
                       DB_BLOB(":v", key, ACTIVATION_KEY_BYTES))) != SQLITE_DONE)
        return -1;
    return 1;
}

int activation_issue(struct req *r, const unsigned char key[ACTIVATION_KEY_BYTES],
                     int64_t account_id, char code[ACTIVATION_CODE_CHARS], int64_t *expires)
{
    char norm[ACTIVATION_CODE_LEN + 1];
    unsigned char hash[32];
    activation_code_new(code);
    int ok = activation_code_normalize(code, norm);
    assert(ok == 0); /* a code we made is always well-formed */
    (void)ok;
    activation_code_hash(key, account_id, norm, hash);
    int64_t now = time(NULL);
    *expires = activation_expiry(&r->node->cfg, now);
    return db_run(r->db,
                  "INSERT OR REPLACE INTO activation_codes (account_id, code_hash, created_at, "
                  "expires_at, created_by) VALUES (:a, :h, :now, :exp, nullif(:by, 0))",
                  DB_ARGS(DB_INT(":a", account_id), DB_BLOB(":h", hash, 32), DB_INT(":now", now),
                          DB_INT(":exp", *expires), DB_INT(":by", r->caller.account_id))) ==
                   SQLITE_DONE
               ? 0
               : -1;
}

/* ---- password rules ------------------------------------------------------------------------ */

const char *accounts_password_problem(const struct mes_config *cfg, const char *login,
                                      const char *password)
{
    size_t bytes = strlen(password);
    if (bytes > PASSWORD_MAX_BYTES)
        return "password_too_long";
    size_t chars = 0;
    bool letter = false, digit = false;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if ((*p & 0xc0) != 0x80)
            chars++;
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p >= 0xc0)
            letter = true; /* a non-ASCII character counts as a letter (Cyrillic) */
    }
    if (chars < (size_t)cfg->auth.password_min_length)
        return "password_too_short";
    if (login != NULL && strcasecmp(login, password) == 0)
        return "password_is_login";
    if (cfg->auth.password_letters_and_digits && !(letter && digit))
        return "password_needs_letters_and_digits";
    return NULL;
}

int accounts_password_or_respond(struct req *r, const char *login, const char *password)
{
    const char *problem = accounts_password_problem(&r->node->cfg, login, password);
    if (problem == NULL)
        return 0;
    reply_json(r, 400,
               json_pack("{s:{s:s,s:s,s:s,s:i}}", "error", "code", problem, "message",
                         "the password breaks the rules (auth.password_* in the configuration)",
                         "field", "password", "min_length", r->node->cfg.auth.password_min_length));
    return -1;
}

/* ---- sessions ------------------------------------------------------------------------------ */

int accounts_session_open(struct req *r, int64_t account_id, char token[TOKEN_CHARS],
                          char csrf[TOKEN_CHARS], int64_t *expires)
{
    unsigned char thash[32], chash[32];
    auth_new_token(token, thash);
    auth_new_token(csrf, chash);
    int64_t now = time(NULL);
    const struct mes_config *cfg = &r->node->cfg;
    *expires = now + (int64_t)cfg->auth.session_ttl_hours * 3600;
    if (db_run(r->db,
               "INSERT INTO sessions (token_hash, account_id, csrf, created_at, expires_at, "
               "address) VALUES (:h, :a, :c, :now, :exp, :addr)",
               DB_ARGS(DB_BLOB(":h", thash, 32), DB_INT(":a", account_id), DB_TEXT(":c", csrf),
                       DB_INT(":now", now), DB_INT(":exp", *expires),
                       DB_TEXT(":addr", req_remote_addr(r)))) != SQLITE_DONE)
        return -1;
    reply_header(r, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                 SESSION_COOKIE, token, cfg->auth.session_ttl_hours * 3600,
                 cfg->auth.cookie_secure ? "; Secure" : "");
    return 0;
}

int accounts_sessions_end(struct req *r, int64_t account_id, const unsigned char *keep)
{
    static const unsigned char none[32] = {0};
    if (db_run(r->db, "DELETE FROM sessions WHERE account_id = :a AND token_hash <> :k",
               DB_ARGS(DB_INT(":a", account_id), DB_BLOB(":k", keep ? keep : none, 32))) !=
        SQLITE_DONE)
        return -1;
    return db_changes(r->db);
}

/* ---- letters ------------------------------------------------------------------------------- */

struct class_info {
    int64_t id, institution_id, class_teacher;
    json_t *ref, *institution; /* new references, or NULL on a database error */
};

/* Reads the class and checks that the caller may make its letters: the region admin, the
 * school admin of its school, its own class teacher. 0, or -1 after answering 404/403. */
static int letters_class_or_respond(struct req *r, int64_t class_id, struct class_info *c)
{
    memset(c, 0, sizeof(*c));
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.grade, c.letter, i.id, i.short_name, "
                                "coalesce(c.class_teacher_id, 0) FROM classes c JOIN "
                                "institutions i ON i.id = c.institution_id WHERE c.id = :c",
                                DB_ARGS(DB_INT(":c", class_id)));
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        c->id = class_id;
        c->ref = ref_class(st, 0);
        c->institution = ref_named(st, 3);
        c->institution_id = sqlite3_column_int64(st, 3);
        c->class_teacher = sqlite3_column_int64(st, 5);
    }
    if (rc != SQLITE_DONE || c->id == 0) {
        json_decref(c->ref);
        json_decref(c->institution);
        return rc != SQLITE_DONE ? (reply_db_error(r), -1)
                                 : (reply_error(r, 404, "not_found", "no such class"), -1);
    }
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, c->institution_id) ||
        (r->caller.person_id != 0 && c->class_teacher == r->caller.person_id &&
         caller_has(r, ROLE_CLASS_TEACHER, c->institution_id)))
        return 0;
    json_decref(c->ref);
    json_decref(c->institution);
    reply_error(r, 403, "forbidden",
                "letters of a class are for its class teacher, its school's admin and the "
                "region admin");
    return -1;
}

/* One person a letter may go to. */
struct addressee {
    int64_t person, student, account;
    bool parent, active, disabled;
    char last[128], first[128], middle[128], relation[16];
    char login[ACCOUNT_LOGIN_MAX + 1];
    json_t *student_name;
};

/* The class's current students, each followed by their guardians, once each; *n of them in a
 * malloc'ed array (the caller frees it and the student names). 0, or -1 on a database error. */
static int letters_people(struct req *r, int64_t class_id, struct addressee **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT x.pid, p.last_name, p.first_name, p.middle_name, x.k, x.sid, x.relation, "
        "s.last_name, s.first_name, s.middle_name, coalesce(a.id, 0), coalesce(a.login, ''), "
        "a.password_hash IS NOT NULL, coalesce(a.disabled, 0) FROM ("
        " SELECT e.student_id AS pid, 0 AS k, e.student_id AS sid, '' AS relation "
        " FROM enrollments e WHERE e.class_id = :c AND e.left_on IS NULL"
        " UNION ALL SELECT g.guardian_id, 1, g.student_id, g.relation FROM guardians g "
        " JOIN enrollments e ON e.student_id = g.student_id AND e.left_on IS NULL "
        " WHERE e.class_id = :c) x "
        "JOIN persons p ON p.id = x.pid JOIN persons s ON s.id = x.sid "
        "LEFT JOIN accounts a ON a.person_id = x.pid "
        "ORDER BY s.last_name, s.first_name, s.id, x.k, p.id",
        DB_ARGS(DB_INT(":c", class_id)));
    int rc;
    while (db_next(st, &rc)) {
        int64_t pid = sqlite3_column_int64(st, 0);
        bool seen = false;
        for (size_t i = 0; i < *n && !seen; i++)
            seen = (*out)[i].person == pid;
        if (seen)
            continue; /* a guardian of two children of the class gets one letter */
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            struct addressee *m = realloc(*out, cap * sizeof(**out));
            if (m == NULL) {
                sqlite3_reset(st);
                return -1;
            }
            *out = m;
        }
        struct addressee *a = &(*out)[(*n)++];
        memset(a, 0, sizeof(*a));
        a->person = pid;
        snprintf(a->last, sizeof(a->last), "%s", db_col_text(st, 1));
        snprintf(a->first, sizeof(a->first), "%s", db_col_text(st, 2));
        snprintf(a->middle, sizeof(a->middle), "%s", db_col_text(st, 3));
        a->parent = sqlite3_column_int(st, 4) == 1;
        a->student = sqlite3_column_int64(st, 5);
        snprintf(a->relation, sizeof(a->relation), "%s", db_col_text(st, 6));
        a->student_name = ref_person_name(st, 7);
        a->account = sqlite3_column_int64(st, 10);
        snprintf(a->login, sizeof(a->login), "%s", db_col_text(st, 11));
        a->active = sqlite3_column_int(st, 12) != 0;
        a->disabled = sqlite3_column_int(st, 13) != 0;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

static void letters_people_free(struct addressee *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(list[i].student_name);
    free(list);
}

/* Gives the account `role` (region-wide) unless it holds it. 0 or -1. */
static int grant_missing(struct db *db, int64_t account, const char *role)
{
    return db_run(
               db,
               "INSERT INTO role_grants (account_id, role, institution_id) SELECT :a, :r, NULL "
               "WHERE NOT EXISTS (SELECT 1 FROM role_grants WHERE account_id = :a AND role = :r)",
               DB_ARGS(DB_INT(":a", account), DB_TEXT(":r", role))) == SQLITE_DONE
               ? 0
               : -1;
}

/* GET /api/v1/classes/{id}/letters: who would get a letter, without codes: {"class",
 * "institution", "items": [{person_id, name, role, student?, login, state}]}. */
static int letters_preview(struct req *r)
{
    struct class_info c;
    if (letters_class_or_respond(r, r->params[0], &c) != 0)
        return r->status;
    struct addressee *list;
    size_t n;
    if (letters_people(r, c.id, &list, &n) != 0) {
        json_decref(c.ref);
        json_decref(c.institution);
        return reply_db_error(r);
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct addressee *a = &list[i];
        json_t *o = json_pack("{s:I,s:s,s:s,s:s}", "person_id", (json_int_t)a->person, "role",
                              a->parent ? "parent" : "student", "login", a->login, "state",
                              a->account == 0 ? "none"
                              : a->disabled   ? "disabled"
                              : a->active     ? "active"
                                              : "inactive");
        char name[400];
        snprintf(name, sizeof(name), "%s %s%s%s", a->last, a->first, a->middle[0] ? " " : "",
                 a->middle);
        json_object_set_new(o, "name", json_string(name));
        if (a->account)
            json_object_set_new(o, "account_id", json_integer(a->account));
        if (a->parent)
            json_object_set_new(
                o, "student",
                json_pack("{s:I,s:O}", "id", (json_int_t)a->student, "name", a->student_name));
        json_array_append_new(items, o);
    }
    letters_people_free(list, n);
    return reply_json(
        r, 200,
        json_pack("{s:o,s:o,s:o}", "class", c.ref, "institution", c.institution, "items", items));
}

/* POST /api/v1/classes/{id}/letters {"all"?: bool}: new codes for the class's students and
 * guardians whose accounts are not activated (with "all", for everyone but disabled accounts),
 * making the accounts of those who have none. The codes are in this answer only:
 * {"class", "institution", "url", "items": [{person_id, name, role, student?, relation?, login,
 * code, expires_at}]}. Audited as letters.create. */
static int letters_create(struct req *r)
{
    int all = 0;
    if (r->body != NULL && body_unpack_or_respond(r, "{s?b}", "all", &all) != 0)
        return r->status;
    struct class_info c;
    if (letters_class_or_respond(r, r->params[0], &c) != 0)
        return r->status;
    json_t *cls = c.ref, *inst = c.institution;
    unsigned char key[ACTIVATION_KEY_BYTES];
    struct addressee *list = NULL;
    size_t n = 0;
    json_t *items = json_array();
    if (activation_key(r->db, true, key) != 1 || letters_people(r, c.id, &list, &n) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        struct addressee *a = &list[i];
        if (a->disabled || (a->active && !all))
            continue;
        if (a->account == 0 &&
            (a->account = accounts_add_inactive(r->db, a->person, a->last, a->login)) < 0)
            goto fail;
        if (grant_missing(r->db, a->account, a->parent ? "parent" : "student") != 0)
            goto fail;
        char code[ACTIVATION_CODE_CHARS], name[400];
        int64_t expires;
        if (activation_issue(r, key, a->account, code, &expires) != 0)
            goto fail;
        snprintf(name, sizeof(name), "%s %s%s%s", a->last, a->first, a->middle[0] ? " " : "",
                 a->middle);
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I}", "person_id", (json_int_t)a->person,
                              "name", name, "role", a->parent ? "parent" : "student", "login",
                              a->login, "code", code, "expires_at", (json_int_t)expires);
        if (a->parent)
            json_object_set_new(o, "student",
                                json_pack("{s:I,s:O,s:s}", "id", (json_int_t)a->student, "name",
                                          a->student_name, "relation", a->relation));
        json_array_append_new(items, o);
        sodium_memzero(code, sizeof(code));
    }
    sodium_memzero(key, sizeof(key));
    letters_people_free(list, n);
    char object[32], url[PROXY_URL_TEXT + 16];
    snprintf(object, sizeof(object), "class/%lld", (long long)c.id);
    if (audit(r, c.institution_id, "letters.create", object,
              json_pack("{s:I,s:b}", "count", (json_int_t)json_array_size(items), "all", all)) !=
        0) {
        json_decref(items);
        json_decref(cls);
        json_decref(inst);
        return reply_db_error(r);
    }
    snprintf(url, sizeof(url), "%s/activate", r->node->public_url);
    return reply_json(r, 200,
                      json_pack("{s:o,s:o,s:s,s:i,s:o}", "class", cls, "institution", inst, "url",
                                url, "days", r->node->cfg.auth.activation_days, "items", items));
fail:
    sodium_memzero(key, sizeof(key));
    letters_people_free(list, n);
    json_decref(items);
    json_decref(cls);
    json_decref(inst);
    return reply_db_error(r);
}

/* ---- activation ---------------------------------------------------------------------------- *
 *
 * In two steps, as login: activation_check (the route's prepare, on the worker) asks the login
 * throttle, reads the account and its code, compares the code's hash (constant time) and
 * hashes the chosen password; activation_record (on the writer) uses the code up, sets the
 * password, ends the account's other sessions and opens one for this browser, or records the
 * failure. A code used or replaced in between fails the activation. */

enum activation_result { ACT_OK, ACT_WRONG, ACT_EXPIRED, ACT_DISABLED };

struct activation_check {
    struct throttle *throttle;
    struct throttle_attempt attempt;
    bool ended;
    enum activation_result result;
    int64_t account, now_ms;
    unsigned char code_hash[32];
    char login[ACCOUNT_LOGIN_MAX + 1];
    char hash[crypto_pwhash_STRBYTES]; /* the new password's */
};

static void activation_check_free(void *p)
{
    struct activation_check *c = p;
    if (!c->ended)
        throttle_end(c->throttle, &c->attempt, THROTTLE_ABANDONED);
    sodium_memzero(c, sizeof(*c));
    free(c);
}

/* Reads the account of c->login and its code; compares it with `norm`. SQLite's final code. */
static int activation_compare(struct req *r, struct activation_check *c, const char *norm)
{
    unsigned char key[ACTIVATION_KEY_BYTES] = {0}, stored[32] = {0}, given[32];
    int64_t expires = 0;
    bool disabled = false, has_code = false;
    int k = activation_key(r->db, false, key);
    if (k < 0)
        return SQLITE_ERROR;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT a.id, a.disabled, c.code_hash, c.expires_at FROM accounts "
                                "a LEFT JOIN activation_codes c ON c.account_id = a.id "
                                "WHERE a.login = :l",
                                DB_ARGS(DB_TEXT(":l", c->login)));
    int rc;
    while (db_next(st, &rc)) {
        c->account = sqlite3_column_int64(st, 0);
        disabled = sqlite3_column_int(st, 1) != 0;
        if (sqlite3_column_bytes(st, 2) == 32) {
            memcpy(stored, sqlite3_column_blob(st, 2), 32);
            has_code = true;
        }
        expires = sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_DONE)
        return rc;
    activation_code_hash(key, c->account, norm, given);
    bool match = sodium_memcmp(given, stored, 32) == 0 && has_code && k == 1;
    sodium_memzero(key, sizeof(key));
    memcpy(c->code_hash, stored, 32);
    c->result = !match                                        ? ACT_WRONG
                : !activation_live(expires, c->now_ms / 1000) ? ACT_EXPIRED
                : disabled                                    ? ACT_DISABLED
                                                              : ACT_OK;
    return SQLITE_DONE;
}

/* The prepare of POST /api/v1/auth/activate {"login", "code", "password"}. */
static int activation_check(struct req *r)
{
    const char *login, *code, *password;
    if (body_unpack_or_respond(r, "{s:s,s:s,s:s}", "login", &login, "code", &code, "password",
                               &password) != 0)
        return r->status;
    if (strlen(login) == 0 || strlen(login) > ACCOUNT_LOGIN_MAX)
        return reply_field_error(r, 400, "bad_request", "login", "login must be 1-64 characters");
    char norm[ACTIVATION_CODE_LEN + 1];
    if (strlen(code) > 64 || activation_code_normalize(code, norm) != 0)
        return reply_field_error(r, 400, "bad_code", "code",
                                 "a code is 12 letters and digits, as printed in the letter");
    if (accounts_password_or_respond(r, login, password) != 0)
        return r->status;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct activation_check *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    c->throttle = r->node->throttle;
    c->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    snprintf(c->login, sizeof(c->login), "%s", login);
    int64_t wait_ms =
        throttle_begin(c->throttle, &c->attempt, login, req_remote_addr(r), NULL, c->now_ms);
    if (wait_ms > 0) {
        free(c);
        int wait = (int)((wait_ms + 999) / 1000);
        reply_header(r, "Retry-After", "%d", wait);
        return reply_error(r, 429, "throttled", "too many failed attempts; retry in %d s", wait);
    }
    r->prep = c;
    r->prep_free = activation_check_free;
    if (activation_compare(r, c, norm) != SQLITE_DONE)
        return reply_db_error(r);
    if (c->result == ACT_OK && auth_hash_password(&r->node->cfg, password, c->hash) != 0)
        return reply_error(r, 503, "unavailable", "out of memory");
    return 0;
}

/* Records a failed activation (kept whatever the status) and answers it. */
static int activation_failed(struct req *r, struct activation_check *c)
{
    throttle_end(c->throttle, &c->attempt, THROTTLE_FAILED);
    c->ended = true;
    r->keep_on_error = true;
    const char *why = c->result == ACT_EXPIRED    ? "code_expired"
                      : c->result == ACT_DISABLED ? "account_disabled"
                                                  : "invalid_code";
    if (audit(r, 0, "account.activate_failed", "",
              json_pack("{s:s,s:s}", "login", c->login, "reason", why)) != 0)
        return reply_db_error(r);
    if (c->result == ACT_EXPIRED)
        return reply_field_error(r, 401, why, "code",
                                 "the code has expired: ask the school for a new one");
    if (c->result == ACT_DISABLED)
        return reply_field_error(r, 403, why, "login", "the account is disabled");
    return reply_field_error(r, 401, why, "code", "wrong login or code");
}

/* POST /api/v1/auth/activate -> {"token", "csrf_token", "expires_at"}, the session cookie. */
static int activation_record(struct req *r)
{
    struct activation_check *c = r->prep;
    assert(c != NULL); /* the route's prepare made it */
    if (c->result != ACT_OK)
        return activation_failed(r, c);
    /* Still the account's live code and the account still enabled? (Used, replaced or disabled
     * since the check: a failure, with nothing written.) */
    int still = db_exists(r->db,
                          "SELECT 1 FROM activation_codes c JOIN accounts a ON a.id = c.account_id "
                          "WHERE c.account_id = :a AND c.code_hash = :h AND c.expires_at > :now "
                          "AND a.disabled = 0",
                          DB_ARGS(DB_INT(":a", c->account), DB_BLOB(":h", c->code_hash, 32),
                                  DB_INT(":now", c->now_ms / 1000)));
    if (still < 0)
        return reply_db_error(r);
    if (still == 0) {
        c->result = ACT_WRONG;
        return activation_failed(r, c);
    }
    char token[TOKEN_CHARS], csrf[TOKEN_CHARS];
    int64_t expires, person = 0;
    if (db_run(r->db, "DELETE FROM activation_codes WHERE account_id = :a",
               DB_ARGS(DB_INT(":a", c->account))) != SQLITE_DONE ||
        db_run(r->db, "UPDATE accounts SET password_hash = :h WHERE id = :a",
               DB_ARGS(DB_TEXT(":h", c->hash), DB_INT(":a", c->account))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_int(r->db, &person, "SELECT person_id FROM accounts WHERE id = :a",
               DB_ARGS(DB_INT(":a", c->account))) != SQLITE_ROW ||
        accounts_sessions_end(r, c->account, NULL) < 0 ||
        accounts_session_open(r, c->account, token, csrf, &expires) != 0)
        return reply_db_error(r);
    r->caller.account_id = c->account;
    r->caller.person_id = person;
    if (audit(r, 0, "account.activate", "", NULL) != 0)
        return reply_db_error(r);
    throttle_end(c->throttle, &c->attempt, THROTTLE_SUCCEEDED);
    c->ended = true;
    char device[DEVICE_COOKIE_CHARS];
    throttle_device_cookie(c->throttle, c->login, c->now_ms, device);
    reply_header(r, "Set-Cookie", "%s=%s; Path=%s; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                 DEVICE_COOKIE, device, DEVICE_COOKIE_PATH,
                 r->node->cfg.auth.device_cookie_days * 86400,
                 r->node->cfg.auth.cookie_secure ? "; Secure" : "");
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:I,s:s}", "token", token, "csrf_token", csrf,
                                "expires_at", (json_int_t)expires, "login", c->login));
}

#define LETTERS_ROLES (ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_CLASS_TEACHER)

const struct route activation_routes[] = {
    {.method = "POST",
     .path = "/api/v1/auth/activate",
     .handler = activation_record,
     .access = ACCESS_PUBLIC,
     .writes = true,
     .name = "auth_activate",
     .prepare = activation_check},
    {.method = "GET",
     .path = "/api/v1/classes/{id}/letters",
     .handler = letters_preview,
     .access = ACCESS_USER,
     .allow = LETTERS_ROLES,
     .name = "letters_preview"},
    {.method = "POST",
     .path = "/api/v1/classes/{id}/letters",
     .handler = letters_create,
     .access = ACCESS_USER,
     .allow = LETTERS_ROLES,
     .writes = true,
     .name = "letters_create"},
    {0},
};
