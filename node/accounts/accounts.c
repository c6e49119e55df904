/*
 * Accounts routes: login, logout, who am I, device tokens, the audit log (with its filters).
 * Login checks the password (argon2id: tens of milliseconds) in its route's prepare step,
 * before and outside the write transaction, and records the outcome on the writer.
 */
#include <assert.h>
#include <civetweb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "accounts/throttle.h"
#include "node.h"
#include "refs.h"

/* The caller's login and name: {"id", "person_id", "login", "name"}. NULL on a database error
 * or when the account is gone. */
static json_t *me_base(struct req *r)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT a.login, p.last_name, p.first_name, "
                                "p.middle_name FROM accounts a JOIN persons p "
                                "ON p.id = a.person_id WHERE a.id = :a",
                                DB_ARGS(DB_INT(":a", r->caller.account_id)));
    json_t *me = NULL;
    int rc;
    while (db_next(st, &rc))
        if (me == NULL)
            me = json_pack("{s:I,s:I,s:s,s:o}", "id", (json_int_t)r->caller.account_id, "person_id",
                           (json_int_t)r->caller.person_id, "login", db_col_text(st, 0), "name",
                           ref_person_name(st, 1));
    if (rc != SQLITE_DONE) {
        json_decref(me);
        return NULL;
    }
    return me;
}

/* Adds "roles" and "grants" (and "csrf_token" for a cookie caller) from r->caller. */
static void me_roles(struct req *r, json_t *me)
{
    json_t *roles = json_array(), *grants = json_array();
    json_object_set_new(me, "roles", roles);
    json_object_set_new(me, "grants", grants);
    for (int i = 0; i < ROLES_COUNT; i++)
        if (r->caller.roles & (1u << i))
            json_array_append_new(roles, json_string(role_name(1u << i)));
    for (int i = 0; i < r->caller.ngrants; i++) {
        const struct grant *g = &r->caller.grants[i];
        json_t *o = json_pack("{s:s}", "role", role_name(g->role));
        if (g->institution_id)
            json_object_set_new(o, "institution_id", json_integer(g->institution_id));
        json_array_append_new(grants, o);
    }
    if (r->caller.via_cookie)
        json_object_set_new(me, "csrf_token", json_string(r->caller.csrf));
}

/* A parent's "children", each with the class and school they attend. 0, or -1 on a database
 * error. The me_* helpers below each add one part of the /me object the same way. */
static int me_children(struct req *r, json_t *me)
{
    json_t *children = json_array();
    json_object_set_new(me, "children", children);
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT p.id, p.last_name, p.first_name, p.middle_name, c.id, c.grade, "
                 "c.letter, i.id, i.short_name FROM guardians g "
                 "JOIN persons p ON p.id = g.student_id "
                 "LEFT JOIN enrollments e ON e.student_id = p.id AND e.left_on IS NULL "
                 "LEFT JOIN classes c ON c.id = e.class_id "
                 "LEFT JOIN institutions i ON i.id = c.institution_id "
                 "WHERE g.guardian_id = :g ORDER BY p.birth_date, p.id",
                 DB_ARGS(DB_INT(":g", r->caller.person_id)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *child = json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                                  "name", ref_person_name(st, 1));
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            json_object_set_new(child, "class", ref_class(st, 4));
            json_object_set_new(child, "institution", ref_named(st, 7));
        }
        json_array_append_new(children, child);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A student's "student": {id, class?, institution?} of the current enrollment (the first). */
static int me_student(struct req *r, json_t *me)
{
    json_t *student = json_pack("{s:I}", "id", (json_int_t)r->caller.person_id);
    json_object_set_new(me, "student", student);
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.grade, c.letter, i.id, i.short_name "
                                "FROM enrollments e JOIN classes c ON c.id = e.class_id "
                                "JOIN institutions i ON i.id = c.institution_id "
                                "WHERE e.student_id = :s AND e.left_on IS NULL",
                                DB_ARGS(DB_INT(":s", r->caller.person_id)));
    bool found = false;
    int rc;
    while (db_next(st, &rc)) {
        if (found)
            continue;
        found = true;
        json_object_set_new(student, "class", ref_class(st, 0));
        json_object_set_new(student, "institution", ref_named(st, 3));
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A teacher's "assignments": class, subject and group of each teaching assignment. */
static int me_assignments(struct req *r, json_t *me)
{
    json_t *list = json_array();
    json_object_set_new(me, "assignments", list);
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.grade, c.letter, s.id, s.name, g.id, g.name "
                                "FROM teaching_assignments t JOIN classes c ON c.id = t.class_id "
                                "JOIN subjects s ON s.id = t.subject_id "
                                "LEFT JOIN groups g ON g.id = t.group_id "
                                "WHERE t.teacher_id = :t ORDER BY c.grade, c.letter, s.name",
                                DB_ARGS(DB_INT(":t", r->caller.person_id)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *a = json_pack("{s:o,s:{s:I,s:s}}", "class", ref_class(st, 0), "subject", "id",
                              (json_int_t)sqlite3_column_int64(st, 3), "name", db_col_text(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            json_object_set_new(a, "group",
                                json_pack("{s:I,s:s}", "id",
                                          (json_int_t)sqlite3_column_int64(st, 5), "name",
                                          db_col_text(st, 6)));
        json_array_append_new(list, a);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A class teacher's "classes". */
static int me_classes(struct req *r, json_t *me)
{
    json_t *list = json_array();
    json_object_set_new(me, "classes", list);
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.grade, c.letter FROM classes c "
                                "WHERE c.class_teacher_id = :t ORDER BY c.grade, c.letter",
                                DB_ARGS(DB_INT(":t", r->caller.person_id)));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(list, ref_class(st, 0));
    return rc == SQLITE_DONE ? 0 : -1;
}

/* "institutions": the ones the caller's grants name, for the shell's header. */
static int me_institutions(struct req *r, json_t *me)
{
    json_t *insts = json_array();
    json_object_set_new(me, "institutions", insts);
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT DISTINCT i.id, i.short_name FROM role_grants g "
                                "JOIN institutions i ON i.id = g.institution_id "
                                "WHERE g.account_id = :a ORDER BY i.id",
                                DB_ARGS(DB_INT(":a", r->caller.account_id)));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(insts, ref_named(st, 0));
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Builds the /me object for the caller; NULL on a database error. */
static json_t *me_object(struct req *r)
{
    json_t *me = me_base(r);
    if (me == NULL)
        return NULL;
    me_roles(r, me);
    if (((r->caller.roles & ROLE_PARENT) && me_children(r, me) != 0) ||
        ((r->caller.roles & ROLE_STUDENT) && me_student(r, me) != 0) ||
        ((r->caller.roles & ROLE_TEACHER) && me_assignments(r, me) != 0) ||
        ((r->caller.roles & ROLE_CLASS_TEACHER) && me_classes(r, me) != 0) ||
        me_institutions(r, me) != 0) {
        json_decref(me);
        return NULL;
    }
    return me;
}

static int accounts_me(struct req *r)
{
    json_t *me = me_object(r);
    return me ? reply_json(r, 200, me) : reply_db_error(r);
}

/* ---- login ----------------------------------------------------------------------------------
 *
 * In two steps, so that argon2id never holds the write lock. accounts_login_check (the route's
 * prepare, on the worker, no transaction) asks the throttle, reads the account and checks the
 * password; what it found waits in a struct login_check (r->prep). accounts_login (on the
 * writer) ends the throttle's attempt and records: the session, or the failure's audit line.
 * When the account's hash or disabled flag changed in between, the password was judged
 * against a hash that is no longer the account's: the login fails (401). */

struct login_check {
    struct throttle *throttle;
    struct throttle_attempt attempt;
    bool ended; /* throttle_end was called */
    bool ok;    /* the password matched an enabled account */
    int64_t account, person;
    int64_t now_ms; /* the wall clock when the attempt began */
    char login[65];
    char hash[crypto_pwhash_STRBYTES]; /* the hash the password was checked against */
};

/* r->prep_free of the login: an attempt the handler never judged (the writer was busy, the
 * server failed) gives its charge back. Wipes and frees the check. */
static void login_check_free(void *p)
{
    struct login_check *c = p;
    if (!c->ended)
        throttle_end(c->throttle, &c->attempt, THROTTLE_ABANDONED);
    sodium_memzero(c, sizeof(*c));
    free(c);
}

/* Reads the account of c->login into c (no row: account 0). SQLite's final code. */
static int login_read_account(struct req *r, struct login_check *c, bool *disabled)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, person_id, password_hash, disabled "
                                "FROM accounts WHERE login = :l",
                                DB_ARGS(DB_TEXT(":l", c->login)));
    int rc;
    while (db_next(st, &rc)) {
        c->account = sqlite3_column_int64(st, 0);
        c->person = sqlite3_column_int64(st, 1);
        snprintf(c->hash, sizeof(c->hash), "%s", db_col_text(st, 2));
        *disabled = sqlite3_column_int(st, 3) != 0;
    }
    return rc;
}

/* The prepare of POST /api/v1/auth/login: validates the body, asks the throttle (429 with
 * Retry-After), reads the account and checks the password. 0 to go on to accounts_login, or
 * the status of the reply it made. */
static int accounts_login_check(struct req *r)
{
    const char *login, *password;
    if (body_unpack_or_respond(r, "{s:s,s:s}", "login", &login, "password", &password) != 0)
        return r->status;
    if (strlen(login) == 0 || strlen(login) > 64 || strlen(password) > 256)
        return reply_error(r, 400, "bad_request",
                           "login must be 1-64 and password at most "
                           "256 characters");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* The browser's device cookie, when it has one (throttle.h): too long is none at all. */
    char device[DEVICE_COOKIE_CHARS];
    const char *cookies = req_header(r, "Cookie");
    bool has_device =
        cookies != NULL && mg_get_cookie(cookies, DEVICE_COOKIE, device, sizeof(device)) > 0;
    struct login_check *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    c->throttle = r->node->throttle;
    c->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    snprintf(c->login, sizeof(c->login), "%s", login);
    int64_t wait_ms = throttle_begin(c->throttle, &c->attempt, login, req_remote_addr(r),
                                     has_device ? device : NULL, c->now_ms);
    if (wait_ms > 0) {
        free(c);
        int wait = (int)((wait_ms + 999) / 1000);
        reply_header(r, "Retry-After", "%d", wait);
        return reply_error(r, 429, "throttled", "too many failed logins; retry in %d s", wait);
    }
    r->prep = c;
    r->prep_free = login_check_free;
    bool disabled = false;
    if (login_read_account(r, c, &disabled) != SQLITE_DONE)
        return reply_db_error(r); /* login_check_free abandons the attempt */
    c->ok = auth_verify_password(c->account ? c->hash : NULL, password) && !disabled;
    return 0;
}

/* Whether the account still has the hash the password was checked against and is enabled:
 * 1 yes, 0 no (changed in between), -1 on a database error. */
static int login_still_valid(struct req *r, const struct login_check *c)
{
    return db_exists(r->db,
                     "SELECT 1 FROM accounts WHERE id = :a AND password_hash = :h "
                     "AND disabled = 0",
                     DB_ARGS(DB_INT(":a", c->account), DB_TEXT(":h", c->hash)));
}

/* Records a new session of c's account, drops its expired ones and audits the login. Fills
 * token and csrf; *expires is the session's end. 0, or -1 on a database error. */
static int login_record_session(struct req *r, const struct login_check *c, char token[TOKEN_CHARS],
                                char csrf[TOKEN_CHARS], int64_t *expires)
{
    unsigned char thash[32], chash[32];
    auth_new_token(token, thash);
    auth_new_token(csrf, chash);
    int64_t now = c->now_ms / 1000;
    *expires = now + (int64_t)r->node->cfg.auth.session_ttl_hours * 3600;
    if (db_run(r->db,
               "INSERT INTO sessions (token_hash, account_id, csrf, created_at, "
               "expires_at, address) VALUES (:h, :a, :c, :now, :exp, :addr)",
               DB_ARGS(DB_BLOB(":h", thash, 32), DB_INT(":a", c->account), DB_TEXT(":c", csrf),
                       DB_INT(":now", now), DB_INT(":exp", *expires),
                       DB_TEXT(":addr", req_remote_addr(r)))) != SQLITE_DONE)
        return -1;
    /* Expired sessions of this account go now; there is no other sweeper to forget. */
    if (db_run(r->db, "DELETE FROM sessions WHERE account_id = :a AND expires_at <= :now",
               DB_ARGS(DB_INT(":a", c->account), DB_INT(":now", now))) != SQLITE_DONE)
        return -1;
    r->caller.account_id = c->account;
    r->caller.person_id = c->person;
    return audit(r, 0, "login", "", NULL);
}

/* POST /api/v1/auth/login {"login", "password"} -> {"token", "csrf_token", "expires_at",
 * "user"}; sets the session cookie and a new device cookie. Runs on the writer after
 * accounts_login_check (see "login" above); a failure is 401 with its audit line kept. */
static int accounts_login(struct req *r)
{
    struct login_check *c = r->prep;
    assert(c != NULL); /* the route's prepare made it */
    struct node *n = r->node;
    bool ok = c->ok;
    if (ok) {
        int still = login_still_valid(r, c);
        if (still < 0)
            return reply_db_error(r); /* the attempt is abandoned */
        ok = still == 1;
    }
    throttle_end(c->throttle, &c->attempt, ok ? THROTTLE_SUCCEEDED : THROTTLE_FAILED);
    c->ended = true;
    if (!ok) {
        if (audit(r, 0, "login_failed", "", json_pack("{s:s}", "login", c->login)) != 0)
            return reply_db_error(r);
        r->keep_on_error = true; /* the audit line stays */
        return reply_error(r, 401, "invalid_credentials", "wrong login or password");
    }
    char token[TOKEN_CHARS], csrf[TOKEN_CHARS];
    int64_t expires;
    if (login_record_session(r, c, token, csrf, &expires) != 0)
        return reply_db_error(r);
    /* The user object as the new session will see it. */
    struct req probe = *r;
    probe.out_json = NULL;
    if (auth_load_caller(&probe, c->account, c->person) != 0)
        return reply_db_error(r);
    json_t *user = me_object(&probe);
    if (user == NULL)
        return reply_db_error(r);
    reply_header(r, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                 SESSION_COOKIE, token, n->cfg.auth.session_ttl_hours * 3600,
                 n->cfg.auth.cookie_secure ? "; Secure" : "");
    /* A new device cookie at every login: this browser is trusted for this login from now on,
     * whatever others try (docs/security.md, "Login throttling"). */
    char device[DEVICE_COOKIE_CHARS];
    throttle_device_cookie(c->throttle, c->login, c->now_ms, device);
    reply_header(r, "Set-Cookie", "%s=%s; Path=%s; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                 DEVICE_COOKIE, device, DEVICE_COOKIE_PATH, n->cfg.auth.device_cookie_days * 86400,
                 n->cfg.auth.cookie_secure ? "; Secure" : "");
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:I,s:o}", "token", token, "csrf_token", csrf,
                                "expires_at", (json_int_t)expires, "user", user));
}

static int accounts_logout(struct req *r)
{
    if (db_run(r->db, "DELETE FROM sessions WHERE token_hash = :h",
               DB_ARGS(DB_BLOB(":h", r->caller.session_hash, 32))) != SQLITE_DONE ||
        audit(r, 0, "logout", "", NULL) != 0)
        return reply_db_error(r);
    reply_header(r, "Set-Cookie", "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                 SESSION_COOKIE);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* Reads an optional positive integer query parameter into *out: 0 absent, 1 read, or -1
 * after answering 400. */
static int query_int_or_respond(struct req *r, const char *name, int64_t *out)
{
    char buf[32];
    int n = req_query(r, name, buf, sizeof(buf));
    if (n == -1)
        return 0;
    if (n < 0)
        buf[0] = '\0'; /* too long: refused below */
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    if (n < 1 || n > 18 || *end != '\0' || buf[0] < '0' || buf[0] > '9' || v < 1) {
        reply_error(r, 400, "bad_request", "%s must be a positive integer", name);
        return -1;
    }
    *out = v;
    return 1;
}

/* POST /api/v1/devices {"name", "scopes": [...], "institution_id"?} -> {"id", "token"}.
 * The token is shown once; only its hash is kept. */
static int accounts_device_create(struct req *r)
{
    const char *name;
    json_t *scopes;
    json_int_t inst = 0;
    if (body_unpack_or_respond(r, "{s:s,s:o,s?I}", "name", &name, "scopes", &scopes,
                               "institution_id", &inst) != 0)
        return r->status;
    if (strlen(name) == 0 || strlen(name) > 200)
        return reply_field_error(r, 400, "bad_request", "name", "name must be 1-200 characters");
    if (!json_is_array(scopes) || json_array_size(scopes) == 0)
        return reply_field_error(r, 400, "bad_request", "scopes",
                                 "scopes must be a non-empty array");
    char text[64] = "";
    size_t i;
    json_t *v;
    uint32_t seen = 0;
    json_array_foreach(scopes, i, v)
    {
        uint32_t s = json_is_string(v) ? scope_from_name(json_string_value(v)) : 0;
        if (s == 0)
            return reply_error(r, 400, "bad_request", "unknown scope at index %zu", i);
        if (!(seen & s))
            snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", text[0] ? " " : "",
                     scope_name(s));
        seen |= s;
    }
    if (inst != 0) {
        if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
            return r->status;
    } else if (!caller_is_admin(r)) {
        return reply_error(r, 403, "forbidden",
                           "only a region admin creates region-wide "
                           "device tokens");
    }
    /* A turnstile or a buffet terminal serves one school: what it posts is checked against
     * that school (docs/moskvenok.md). */
    if (inst == 0 && (seen & (SCOPE_PASSAGE | SCOPE_MEALS)))
        return reply_field_error(r, 400, "device_school_needed", "institution_id",
                                 "passage and meals tokens are bound to one school: give "
                                 "institution_id");
    char token[TOKEN_CHARS];
    unsigned char hash[32];
    auth_new_token(token, hash);
    if (db_run(r->db,
               "INSERT INTO device_tokens (name, scopes, institution_id, "
               "token_hash, created_by) VALUES (:n, :s, nullif(:i, 0), :h, :by)",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":s", text), DB_INT(":i", inst),
                       DB_BLOB(":h", hash, 32), DB_INT(":by", r->caller.account_id))) !=
        SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    char object[32];
    snprintf(object, sizeof(object), "device/%lld", (long long)id);
    if (audit(r, inst, "device.create", object,
              json_pack("{s:s,s:s}", "name", name, "scopes", text)) != 0)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:I,s:s,s:s,s:O}", "id", (json_int_t)id, "name", name, "token",
                                token, "scopes", scopes));
}

static int accounts_device_revoke(struct req *r)
{
    int64_t inst = 0;
    int rc = db_int(r->db, &inst,
                    "SELECT coalesce(institution_id, 0) FROM device_tokens "
                    "WHERE id = :id AND revoked_at IS NULL",
                    DB_ARGS(DB_INT(":id", r->params[0])));
    if (rc == SQLITE_DONE)
        return reply_error(r, 404, "not_found", "no such active device token");
    if (rc != SQLITE_ROW)
        return reply_db_error(r);
    if (!caller_is_admin(r) && !(inst && caller_has(r, ROLE_SCHOOL_ADMIN, inst)))
        return reply_error(r, 403, "forbidden", "this device is not yours to revoke");
    char object[32];
    snprintf(object, sizeof(object), "device/%lld", (long long)r->params[0]);
    if (db_run(r->db, "UPDATE device_tokens SET revoked_at = unixepoch() WHERE id = :id",
               DB_ARGS(DB_INT(":id", r->params[0]))) != SQLITE_DONE ||
        audit(r, inst, "device.revoke", object, NULL) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* GET /api/v1/device/me: a device token's own identity (devices check their set-up). */
static int accounts_device_me(struct req *r)
{
    json_t *scopes = json_array();
    for (int i = 0; i < SCOPES_COUNT; i++)
        if (r->caller.scopes & (1u << i))
            json_array_append_new(scopes, json_string(scope_name(1u << i)));
    json_t *o = json_pack("{s:I,s:o}", "id", (json_int_t)r->caller.device_id, "scopes", scopes);
    if (r->caller.device_institution_id)
        json_object_set_new(o, "institution_id", json_integer(r->caller.device_institution_id));
    return reply_json(r, 200, o);
}

/* GET /api/v1/devices?institution_id=N: device tokens, newest first, revoked ones too. The
 * region admin sees every token; a school admin the tokens of the schools they administer
 * (403 for another school's); institution_id narrows to one school. */
static int accounts_devices(struct req *r)
{
    int64_t inst = 0;
    int given = query_int_or_respond(r, "institution_id", &inst);
    if (given < 0)
        return r->status;
    if (given && authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
#define DEVICE_ROWS                                                                                \
    "SELECT d.id, d.name, d.scopes, d.institution_id, i.short_name, d.created_at, "                \
    "d.revoked_at, a.login FROM device_tokens d "                                                  \
    "LEFT JOIN institutions i ON i.id = d.institution_id "                                         \
    "LEFT JOIN accounts a ON a.id = d.created_by "
    /* The region admin's whole list reads every token; one school's, or a school admin's
     * schools', go by the index on the institution. */
    sqlite3_stmt *st =
        caller_is_admin(r) && inst == 0
            ? db_query(r->db, DEVICE_ROWS "ORDER BY d.id DESC", NULL)
            : db_query(r->db,
                       DEVICE_ROWS "WHERE d.institution_id IN (SELECT :inst WHERE :inst <> 0 "
                                   "UNION SELECT institution_id FROM role_grants WHERE :inst = 0 "
                                   "AND account_id = :me AND role = 'school_admin') "
                                   "ORDER BY d.id DESC",
                       DB_ARGS(DB_INT(":inst", inst), DB_INT(":me", r->caller.account_id)));
#undef DEVICE_ROWS
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *scopes = json_array();
        char text[64];
        snprintf(text, sizeof(text), "%s", db_col_text(st, 2));
        char *save = NULL;
        for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save))
            json_array_append_new(scopes, json_string(w));
        json_t *d =
            json_pack("{s:I,s:s,s:o,s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                      "name", db_col_text(st, 1), "scopes", scopes, "created_at",
                      (json_int_t)sqlite3_column_int64(st, 5), "created_by", db_col_text(st, 7));
        json_object_set_new(d, "institution",
                            sqlite3_column_type(st, 3) == SQLITE_NULL
                                ? json_null()
                                : json_pack("{s:I,s:s}", "id",
                                            (json_int_t)sqlite3_column_int64(st, 3), "name",
                                            db_col_text(st, 4)));
        json_object_set_new(d, "revoked_at",
                            sqlite3_column_type(st, 6) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int64(st, 6)));
        json_array_append_new(items, d);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* The audit log's filters, read from the query string. */
struct audit_filter {
    int64_t limit, before, account, inst;
    char login[72], action[72], from[16], to[16]; /* longer values are refused (req_query -2) */
    bool has_login, has_action, has_from, has_to;
};

/* Reads an optional date parameter into out: 0 absent, 1 a date YYYY-MM-DD that exists, or -1
 * after answering 400. */
static int query_date_or_respond(struct req *r, const char *name, char out[16])
{
    int n = req_query(r, name, out, 16);
    if (n == -1)
        return 0;
    struct tm tm = {0};
    int y = 0, m = 0, d = 0;
    char tail;
    bool ok = n == 10 && out[4] == '-' && out[7] == '-' &&
              sscanf(out, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 1970 && y <= 9999;
    if (ok) {
        /* timegm normalises 30 February to 2 March: a date that exists comes back as itself. */
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        time_t t = timegm(&tm);
        struct tm back;
        ok = t != (time_t)-1 && gmtime_r(&t, &back) && back.tm_year == y - 1900 &&
             back.tm_mon == m - 1 && back.tm_mday == d;
    }
    if (!ok) {
        reply_field_error(r, 400, "bad_date", name, "%s must be a date YYYY-MM-DD", name);
        return -1;
    }
    return 1;
}

/* Reads and checks the audit log's query: 0, or -1 after answering 400 (or 403 for another
 * school's log). */
static int audit_filter_or_respond(struct req *r, struct audit_filter *f)
{
    *f = (struct audit_filter){.limit = 100, .before = INT64_MAX};
    int n;
    if (query_int_or_respond(r, "limit", &f->limit) < 0 ||
        query_int_or_respond(r, "before", &f->before) < 0 ||
        query_int_or_respond(r, "account_id", &f->account) < 0 ||
        query_int_or_respond(r, "institution_id", &f->inst) < 0)
        return -1;
    if (f->limit > 1000) {
        reply_error(r, 400, "bad_request", "limit must be 1-1000");
        return -1;
    }
    if ((n = req_query(r, "login", f->login, sizeof(f->login))) != -1) {
        f->has_login = true;
        if (n < 1 || n > 64) {
            reply_field_error(r, 400, "bad_request", "login", "login must be 1-64 characters");
            return -1;
        }
    }
    if ((n = req_query(r, "action", f->action, sizeof(f->action))) != -1) {
        f->has_action = true;
        bool ok = n >= 1 && n <= 64;
        for (const char *p = f->action; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.';
        if (!ok) {
            reply_error(r, 400, "bad_action", "action must be 1-64 of a-z 0-9 _ .");
            return -1;
        }
    }
    if ((n = query_date_or_respond(r, "from", f->from)) < 0)
        return -1;
    f->has_from = n;
    if ((n = query_date_or_respond(r, "to", f->to)) < 0)
        return -1;
    f->has_to = n;
    if (f->has_from && f->has_to && strcmp(f->from, f->to) > 0) {
        reply_field_error(r, 400, "bad_range", "to", "from must not be after to");
        return -1;
    }
    if (f->inst && !caller_is_admin(r) && !caller_has(r, ROLE_SCHOOL_ADMIN, f->inst)) {
        reply_error(r, 403, "forbidden", "not your school's log");
        return -1;
    }
    return 0;
}

static json_t *audit_row(sqlite3_stmt *st)
{
    int64_t inst = sqlite3_column_int64(st, 4);
    json_t *detail = json_loads(db_col_text(st, 7), 0, NULL);
    json_t *e =
        json_pack("{s:I,s:I,s:s,s:s,s:o,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "at",
                  (json_int_t)sqlite3_column_int64(st, 1), "action", db_col_text(st, 5), "object",
                  db_col_text(st, 6), "detail", detail ? detail : json_object(), "address",
                  db_col_text(st, 8));
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        json_object_set_new(e, "account",
                            json_pack("{s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 2),
                                      "login", db_col_text(st, 3)));
    if (inst) {
        json_object_set_new(e, "institution_id", json_integer(inst));
        json_object_set_new(
            e, "institution",
            json_pack("{s:I,s:s}", "id", (json_int_t)inst, "name", db_col_text(st, 9)));
    }
    return e;
}

/* GET /api/v1/audit?limit=N&before=ID&account_id=|login=&action=&from=&to=&institution_id=:
 * newest first; from and to are days (the node's local time), both included. Region admins see
 * everything; school admins only entries about their institutions. "next_before" pages on
 * when the page is full. */
static int accounts_audit(struct req *r)
{
    struct audit_filter f;
    if (audit_filter_or_respond(r, &f) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT l.id, l.at, l.account_id, a.login, l.institution_id, l.action, l.object, "
        "l.detail, l.address, i.short_name FROM audit_log l "
        "LEFT JOIN accounts a ON a.id = l.account_id "
        "LEFT JOIN institutions i ON i.id = l.institution_id "
        "WHERE l.id < :before AND (:all OR l.institution_id IN (SELECT institution_id "
        "FROM role_grants WHERE account_id = :me AND role = 'school_admin')) "
        "AND (:acc = 0 OR l.account_id = :acc) "
        "AND (:login IS NULL OR l.account_id = (SELECT id FROM accounts WHERE login = :login)) "
        "AND (:action IS NULL OR l.action = :action) "
        "AND (:from IS NULL OR l.at >= unixepoch(:from, 'utc')) "
        "AND (:to IS NULL OR l.at < unixepoch(:to, '+1 day', 'utc')) "
        "AND (:inst = 0 OR l.institution_id = :inst) "
        "ORDER BY l.id DESC LIMIT :limit",
        DB_ARGS(DB_INT(":before", f.before), DB_INT(":all", caller_is_admin(r)),
                DB_INT(":me", r->caller.account_id), DB_INT(":acc", f.account),
                DB_TEXT(":login", f.has_login ? f.login : NULL),
                DB_TEXT(":action", f.has_action ? f.action : NULL),
                DB_TEXT(":from", f.has_from ? f.from : NULL),
                DB_TEXT(":to", f.has_to ? f.to : NULL), DB_INT(":inst", f.inst),
                DB_INT(":limit", f.limit)));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, audit_row(st));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    json_t *out = json_pack("{s:o}", "items", items);
    if ((int64_t)json_array_size(items) == f.limit)
        json_object_set(out, "next_before",
                        json_object_get(json_array_get(items, json_array_size(items) - 1), "id"));
    return reply_json(r, 200, out);
}

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

const struct route auth_routes[] = {
    {.method = "POST",
     .path = "/api/v1/auth/login",
     .handler = accounts_login,
     .access = ACCESS_PUBLIC,
     .writes = true,
     .name = "auth_login",
     .prepare = accounts_login_check},
    {.method = "POST",
     .path = "/api/v1/auth/logout",
     .handler = accounts_logout,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "auth_logout"},
    {.method = "GET",
     .path = "/api/v1/me",
     .handler = accounts_me,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "me"},
    {.method = "POST",
     .path = "/api/v1/devices",
     .handler = accounts_device_create,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "device_create"},
    {.method = "GET",
     .path = "/api/v1/devices",
     .handler = accounts_devices,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "device_list"},
    {.method = "DELETE",
     .path = "/api/v1/devices/{id}",
     .handler = accounts_device_revoke,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "device_revoke"},
    {.method = "GET",
     .path = "/api/v1/device/me",
     .handler = accounts_device_me,
     .access = ACCESS_DEVICE,
     .allow = SCOPES_ANY,
     .name = "device_me"},
    {.method = "GET",
     .path = "/api/v1/audit",
     .handler = accounts_audit,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "audit"},
    {0},
};
