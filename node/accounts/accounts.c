/*
 * Accounts routes: login, logout, who am I, device tokens, the audit log.
 * Login is the one route that manages its own transactions: argon2id takes tens of
 * milliseconds and must not hold the database's write lock.
 */
#include <civetweb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "accounts/throttle.h"
#include "node.h"
#include "refs.h"

/* Builds the /me object for the caller; NULL on a database error. */
static json_t *me_object(struct req *r)
{
    sqlite3_stmt *st = db_stmt(r->db, "SELECT a.login, p.last_name, p.first_name, "
                                      "p.middle_name FROM accounts a JOIN persons p "
                                      "ON p.id = a.person_id WHERE a.id = :a");
    if (st == NULL || (db_bind_int(st, ":a", r->caller.account_id), db_step(st)) != SQLITE_ROW)
        return NULL;
    json_t *roles = json_array(), *grants = json_array();
    json_t *me =
        json_pack("{s:I,s:I,s:s,s:o,s:o,s:o}", "id", (json_int_t)r->caller.account_id, "person_id",
                  (json_int_t)r->caller.person_id, "login", db_col_text(st, 0), "name",
                  ref_person_name(st, 1), "roles", roles, "grants", grants);
    sqlite3_reset(st);
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
    int rc = SQLITE_DONE;
    if (r->caller.roles & ROLE_PARENT) {
        json_t *children = json_array();
        json_object_set_new(me, "children", children);
        st = db_stmt(r->db, "SELECT p.id, p.last_name, p.first_name, p.middle_name, c.id, c.grade, "
                            "c.letter, i.id, i.short_name FROM guardians g "
                            "JOIN persons p ON p.id = g.student_id "
                            "LEFT JOIN enrollments e ON e.student_id = p.id AND e.left_on IS NULL "
                            "LEFT JOIN classes c ON c.id = e.class_id "
                            "LEFT JOIN institutions i ON i.id = c.institution_id "
                            "WHERE g.guardian_id = :g ORDER BY p.birth_date, p.id");
        if (st == NULL)
            goto fail;
        db_bind_int(st, ":g", r->caller.person_id);
        while ((rc = db_step(st)) == SQLITE_ROW) {
            json_t *child = json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                                      "name", ref_person_name(st, 1));
            if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
                json_object_set_new(child, "class", ref_class(st, 4));
                json_object_set_new(child, "institution", ref_named(st, 7));
            }
            json_array_append_new(children, child);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    if (r->caller.roles & ROLE_STUDENT) {
        st = db_stmt(r->db, "SELECT c.id, c.grade, c.letter, i.id, i.short_name "
                            "FROM enrollments e JOIN classes c ON c.id = e.class_id "
                            "JOIN institutions i ON i.id = c.institution_id "
                            "WHERE e.student_id = :s AND e.left_on IS NULL");
        if (st == NULL)
            goto fail;
        db_bind_int(st, ":s", r->caller.person_id);
        json_t *student = json_pack("{s:I}", "id", (json_int_t)r->caller.person_id);
        if ((rc = db_step(st)) == SQLITE_ROW) {
            json_object_set_new(student, "class", ref_class(st, 0));
            json_object_set_new(student, "institution", ref_named(st, 3));
        }
        sqlite3_reset(st);
        json_object_set_new(me, "student", student);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            goto fail;
    }
    if (r->caller.roles & ROLE_TEACHER) {
        json_t *list = json_array();
        json_object_set_new(me, "assignments", list);
        st = db_stmt(r->db, "SELECT c.id, c.grade, c.letter, s.id, s.name, g.id, g.name "
                            "FROM teaching_assignments t JOIN classes c ON c.id = t.class_id "
                            "JOIN subjects s ON s.id = t.subject_id "
                            "LEFT JOIN groups g ON g.id = t.group_id "
                            "WHERE t.teacher_id = :t ORDER BY c.grade, c.letter, s.name");
        if (st == NULL)
            goto fail;
        db_bind_int(st, ":t", r->caller.person_id);
        while ((rc = db_step(st)) == SQLITE_ROW) {
            json_t *a =
                json_pack("{s:o,s:{s:I,s:s}}", "class", ref_class(st, 0), "subject", "id",
                          (json_int_t)sqlite3_column_int64(st, 3), "name", db_col_text(st, 4));
            if (sqlite3_column_type(st, 5) != SQLITE_NULL)
                json_object_set_new(a, "group",
                                    json_pack("{s:I,s:s}", "id",
                                              (json_int_t)sqlite3_column_int64(st, 5), "name",
                                              db_col_text(st, 6)));
            json_array_append_new(list, a);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    if (r->caller.roles & ROLE_CLASS_TEACHER) {
        json_t *list = json_array();
        json_object_set_new(me, "classes", list);
        st = db_stmt(r->db, "SELECT c.id, c.grade, c.letter FROM classes c "
                            "WHERE c.class_teacher_id = :t ORDER BY c.grade, c.letter");
        if (st == NULL)
            goto fail;
        db_bind_int(st, ":t", r->caller.person_id);
        while ((rc = db_step(st)) == SQLITE_ROW)
            json_array_append_new(list, ref_class(st, 0));
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    /* Institutions the caller's grants name, for the shell's header. */
    json_t *insts = json_array();
    json_object_set_new(me, "institutions", insts);
    st = db_stmt(r->db, "SELECT DISTINCT i.id, i.short_name FROM role_grants g "
                        "JOIN institutions i ON i.id = g.institution_id "
                        "WHERE g.account_id = :a ORDER BY i.id");
    if (st == NULL)
        goto fail;
    db_bind_int(st, ":a", r->caller.account_id);
    while ((rc = db_step(st)) == SQLITE_ROW)
        json_array_append_new(insts, ref_named(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail;
    return me;
fail:
    json_decref(me);
    return NULL;
}

static int accounts_me(struct req *r)
{
    json_t *me = me_object(r);
    return me ? reply_json(r, 200, me) : reply_db_error(r);
}

/* POST /api/v1/auth/login {"login", "password"} -> {"token", "csrf_token", "expires_at",
 * "user"}; sets the session cookie and a new device cookie. The throttle (throttle.h) judges
 * the attempt before the password is looked at: 429 with Retry-After. Runs its own
 * transactions (see the file comment). */
static int accounts_login(struct req *r)
{
    const char *login, *password;
    if (body_unpack_or_respond(r, "{s:s,s:s}", "login", &login, "password", &password) != 0)
        return r->status;
    if (strlen(login) == 0 || strlen(login) > 64 || strlen(password) > 256)
        return reply_error(r, 400, "bad_request",
                           "login must be 1-64 and password at most "
                           "256 characters");
    struct node *n = r->node;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, now = ts.tv_sec;
    /* The browser's device cookie, when it has one (throttle.h): too long is none at all. */
    char device[DEVICE_COOKIE_CHARS];
    const char *cookies = req_header(r, "Cookie");
    bool has_device =
        cookies != NULL && mg_get_cookie(cookies, DEVICE_COOKIE, device, sizeof(device)) > 0;
    struct throttle_attempt attempt;
    int64_t wait_ms = throttle_begin(n->throttle, &attempt, login, req_remote_addr(r),
                                     has_device ? device : NULL, now_ms);
    if (wait_ms > 0) {
        int wait = (int)((wait_ms + 999) / 1000);
        reply_header(r, "Retry-After", "%d", wait);
        return reply_error(r, 429, "throttled", "too many failed logins; retry in %d s", wait);
    }
    sqlite3_stmt *st = db_stmt(r->db, "SELECT id, person_id, password_hash, disabled "
                                      "FROM accounts WHERE login = :l");
    if (st == NULL) {
        throttle_end(n->throttle, &attempt, THROTTLE_ABANDONED);
        return reply_db_error(r);
    }
    db_bind_text(st, ":l", login);
    int64_t account = 0, person = 0;
    char hash[crypto_pwhash_STRBYTES] = "";
    int disabled = 0;
    int rc = db_step(st);
    if (rc == SQLITE_ROW) {
        account = sqlite3_column_int64(st, 0);
        person = sqlite3_column_int64(st, 1);
        snprintf(hash, sizeof(hash), "%s", db_col_text(st, 2));
        disabled = sqlite3_column_int(st, 3);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        throttle_end(n->throttle, &attempt, THROTTLE_ABANDONED);
        return reply_db_error(r);
    }
    bool ok = auth_verify_password(account ? hash : NULL, password) && !disabled;
    throttle_end(n->throttle, &attempt, ok ? THROTTLE_SUCCEEDED : THROTTLE_FAILED);

    if (db_begin_write(r->db) != SQLITE_OK)
        return reply_error(r, 503, "unavailable", "storage busy, retry");
    if (!ok) {
        if (audit(r, 0, "login_failed", "", json_pack("{s:s}", "login", login)) != 0 ||
            db_commit(r->db) != SQLITE_OK)
            return reply_db_error(r);
        return reply_error(r, 401, "invalid_credentials", "wrong login or password");
    }
    char token[TOKEN_CHARS], csrf[TOKEN_CHARS];
    unsigned char thash[32], chash[32];
    auth_new_token(token, thash);
    auth_new_token(csrf, chash);
    int64_t expires = now + (int64_t)n->cfg.auth.session_ttl_hours * 3600;
    st = db_stmt(r->db, "INSERT INTO sessions (token_hash, account_id, csrf, created_at, "
                        "expires_at, address) VALUES (:h, :a, :c, :now, :exp, :addr)");
    if (st == NULL)
        goto fail;
    db_bind_blob(st, ":h", thash, 32);
    db_bind_int(st, ":a", account);
    db_bind_text(st, ":c", csrf);
    db_bind_int(st, ":now", now);
    db_bind_int(st, ":exp", expires);
    db_bind_text(st, ":addr", req_remote_addr(r));
    if (db_exec_stmt(st) != SQLITE_DONE)
        goto fail;
    /* Expired sessions of this account go now; there is no other sweeper to forget. */
    st = db_stmt(r->db, "DELETE FROM sessions WHERE account_id = :a AND expires_at <= :now");
    if (st == NULL)
        goto fail;
    db_bind_int(st, ":a", account);
    db_bind_int(st, ":now", now);
    if (db_exec_stmt(st) != SQLITE_DONE)
        goto fail;
    r->caller.account_id = account;
    r->caller.person_id = person;
    if (audit(r, 0, "login", "", NULL) != 0)
        goto fail;
    if (db_commit(r->db) != SQLITE_OK)
        goto fail;
    /* The user object as the new session will see it. */
    struct req probe = *r;
    probe.out_json = NULL;
    if (auth_load_caller(&probe, account, person) != 0)
        return reply_db_error(r);
    json_t *user = me_object(&probe);
    if (user == NULL)
        return reply_db_error(r);
    reply_header(r, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                 SESSION_COOKIE, token, n->cfg.auth.session_ttl_hours * 3600,
                 n->cfg.auth.cookie_secure ? "; Secure" : "");
    /* A new device cookie at every login: this browser is trusted for this login from now on,
     * whatever others try (docs/security.md, "Login throttling"). */
    throttle_device_cookie(n->throttle, login, now_ms, device);
    reply_header(r, "Set-Cookie", "%s=%s; Path=%s; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                 DEVICE_COOKIE, device, DEVICE_COOKIE_PATH, n->cfg.auth.device_cookie_days * 86400,
                 n->cfg.auth.cookie_secure ? "; Secure" : "");
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:I,s:o}", "token", token, "csrf_token", csrf,
                                "expires_at", (json_int_t)expires, "user", user));
fail:
    db_rollback(r->db);
    return reply_db_error(r);
}

static int accounts_logout(struct req *r)
{
    sqlite3_stmt *st = db_stmt(r->db, "DELETE FROM sessions WHERE token_hash = :h");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_blob(st, ":h", r->caller.session_hash, 32);
    if (db_exec_stmt(st) != SQLITE_DONE || audit(r, 0, "logout", "", NULL) != 0)
        return reply_db_error(r);
    reply_header(r, "Set-Cookie", "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                 SESSION_COOKIE);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
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
        return reply_error(r, 400, "bad_request", "name must be 1-200 characters");
    if (!json_is_array(scopes) || json_array_size(scopes) == 0)
        return reply_error(r, 400, "bad_request", "scopes must be a non-empty array");
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
    char token[TOKEN_CHARS];
    unsigned char hash[32];
    auth_new_token(token, hash);
    sqlite3_stmt *st = db_stmt(r->db, "INSERT INTO device_tokens (name, scopes, institution_id, "
                                      "token_hash, created_by) VALUES (:n, :s, :i, :h, :by)");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_text(st, ":n", name);
    db_bind_text(st, ":s", text);
    if (inst)
        db_bind_int(st, ":i", inst);
    db_bind_blob(st, ":h", hash, 32);
    db_bind_int(st, ":by", r->caller.account_id);
    if (db_exec_stmt(st) != SQLITE_DONE)
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
    sqlite3_stmt *st = db_stmt(r->db, "SELECT coalesce(institution_id, 0) FROM device_tokens "
                                      "WHERE id = :id AND revoked_at IS NULL");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", r->params[0]);
    int rc = db_step(st);
    int64_t inst = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return reply_error(r, 404, "not_found", "no such active device token");
    if (!caller_is_admin(r) && !(inst && caller_has(r, ROLE_SCHOOL_ADMIN, inst)))
        return reply_error(r, 403, "forbidden", "this device is not yours to revoke");
    st = db_stmt(r->db, "UPDATE device_tokens SET revoked_at = unixepoch() WHERE id = :id");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":id", r->params[0]);
    char object[32];
    snprintf(object, sizeof(object), "device/%lld", (long long)r->params[0]);
    if (db_exec_stmt(st) != SQLITE_DONE || audit(r, inst, "device.revoke", object, NULL) != 0)
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

/* GET /api/v1/audit?limit=N&before=ID: newest first. Region admins see everything; school
 * admins only entries about their institutions. */
static int accounts_audit(struct req *r)
{
    char buf[24];
    int64_t limit = 100, before = INT64_MAX;
    if (req_query(r, "limit", buf, sizeof(buf)) > 0)
        limit = strtoll(buf, NULL, 10);
    if (req_query(r, "before", buf, sizeof(buf)) > 0)
        before = strtoll(buf, NULL, 10);
    if (limit < 1 || limit > 1000 || before < 1)
        return reply_error(r, 400, "bad_request", "limit must be 1-1000, before positive");
    sqlite3_stmt *st = db_stmt(
        r->db, "SELECT l.id, l.at, l.account_id, a.login, l.institution_id, l.action, l.object, "
               "l.detail, l.address FROM audit_log l LEFT JOIN accounts a ON a.id = l.account_id "
               "WHERE l.id < :before AND (:all OR l.institution_id IN (SELECT institution_id "
               "FROM role_grants WHERE account_id = :me AND role = 'school_admin')) "
               "ORDER BY l.id DESC LIMIT :limit");
    if (st == NULL)
        return reply_db_error(r);
    db_bind_int(st, ":before", before);
    db_bind_int(st, ":all", caller_is_admin(r));
    db_bind_int(st, ":me", r->caller.account_id);
    db_bind_int(st, ":limit", limit);
    json_t *items = json_array();
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        int64_t inst = sqlite3_column_int64(st, 4);
        json_t *detail = json_loads(db_col_text(st, 7), 0, NULL);
        json_t *e =
            json_pack("{s:I,s:I,s:s,s:s,s:o,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                      "at", (json_int_t)sqlite3_column_int64(st, 1), "action", db_col_text(st, 5),
                      "object", db_col_text(st, 6), "detail", detail ? detail : json_object(),
                      "address", db_col_text(st, 8));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            json_object_set_new(e, "account",
                                json_pack("{s:I,s:s}", "id",
                                          (json_int_t)sqlite3_column_int64(st, 2), "login",
                                          db_col_text(st, 3)));
        if (inst)
            json_object_set_new(e, "institution_id", json_integer(inst));
        json_array_append_new(items, e);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

const struct route auth_routes[] = {
    {.method = "POST",
     .path = "/api/v1/auth/login",
     .handler = accounts_login,
     .access = ACCESS_PUBLIC,
     .writes = true,
     .name = "auth_login",
     .self_tx = true},
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
