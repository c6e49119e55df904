/*
 * Managing accounts: one's own password and sessions; resets, disabling and enabling by the
 * school's people in charge; removing a guardian link; finding accounts. Every change is
 * audited with the institution it concerns.
 *
 * Who may act on an account (account_target_or_respond):
 *   region admin     any account but their own
 *   school admin     people of their school (staff, students enrolled, their guardians), never
 *                    an account holding a region-wide role (admin, methodologist, operator,
 *                    ministry) or a school admin's role
 *   class teacher    resets only: the students of their own class and those students'
 *                    guardians, when these hold no role but student or parent
 * Nobody resets or disables their own account here (the password change is for that).
 *
 * Expected load: a handful of point reads per request; the search scans one school's people
 * (about a thousand) or, for the region admin without a school, the accounts in pages.
 */
#include <assert.h>
#include <civetweb.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/activation.h"
#include "accounts/auth.h"
#include "accounts/authz.h"
#include "accounts/throttle.h"
#include "node.h"
#include "refs.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

/* ---- one's own password ---------------------------------------------------------------------
 *
 * As login: the prepare step (worker) asks the throttle, checks the current password and hashes
 * the new one; the handler (writer) stores it, unless the hash changed in between, and ends the
 * account's other sessions. */

struct password_change {
    struct throttle *throttle;
    struct throttle_attempt attempt;
    bool ended, ok;
    char old[crypto_pwhash_STRBYTES], hash[crypto_pwhash_STRBYTES];
};

static void password_change_free(void *p)
{
    struct password_change *c = p;
    if (!c->ended)
        throttle_end(c->throttle, &c->attempt, THROTTLE_ABANDONED);
    sodium_memzero(c, sizeof(*c));
    free(c);
}

static int password_check(struct req *r)
{
    const char *current, *password;
    if (body_unpack_or_respond(r, "{s:s,s:s}", "current", &current, "password", &password) != 0)
        return r->status;
    if (strlen(current) > PASSWORD_MAX_BYTES)
        return reply_field_error(r, 400, "bad_request", "current",
                                 "current must be at most 256 bytes");
    char *login = NULL, *old = NULL;
    if (db_text(r->db, &login, "SELECT login FROM accounts WHERE id = :a",
                DB_ARGS(DB_INT(":a", r->caller.account_id))) != SQLITE_ROW ||
        db_text(r->db, &old, "SELECT coalesce(password_hash, '') FROM accounts WHERE id = :a",
                DB_ARGS(DB_INT(":a", r->caller.account_id))) != SQLITE_ROW) {
        free(login);
        free(old);
        return reply_db_error(r);
    }
    int bad = accounts_password_or_respond(r, login, password);
    struct password_change *c = bad ? NULL : calloc(1, sizeof(*c));
    if (bad || c == NULL) {
        free(login);
        free(old);
        return bad ? r->status : reply_error(r, 503, "unavailable", "out of memory");
    }
    c->throttle = r->node->throttle;
    snprintf(c->old, sizeof(c->old), "%s", old);
    free(old);
    int64_t wait_ms = throttle_begin(c->throttle, &c->attempt, login, req_remote_addr(r), NULL,
                                     (int64_t)time(NULL) * 1000);
    free(login);
    if (wait_ms > 0) {
        free(c);
        int wait = (int)((wait_ms + 999) / 1000);
        reply_header(r, "Retry-After", "%d", wait);
        return reply_error(r, 429, "throttled", "too many failed attempts; retry in %d s", wait);
    }
    r->prep = c;
    r->prep_free = password_change_free;
    c->ok = auth_verify_password(c->old[0] ? c->old : NULL, current);
    if (c->ok && auth_hash_password(&r->node->cfg, password, c->hash) != 0)
        return reply_error(r, 503, "unavailable", "out of memory");
    return 0;
}

/* POST /api/v1/account/password {"current", "password"} -> {"ok", "sessions_ended"}. */
static int password_change(struct req *r)
{
    struct password_change *c = r->prep;
    assert(c != NULL);
    if (!c->ok) {
        throttle_end(c->throttle, &c->attempt, THROTTLE_FAILED);
        c->ended = true;
        return reply_field_error(r, 403, "wrong_password", "current",
                                 "the current password is wrong");
    }
    if (db_run(r->db,
               "UPDATE accounts SET password_hash = :h WHERE id = :a AND password_hash = :old",
               DB_ARGS(DB_TEXT(":h", c->hash), DB_INT(":a", r->caller.account_id),
                       DB_TEXT(":old", c->old))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) != 1)
        return reply_error(r, 409, "conflict", "the password changed meanwhile; try again");
    int ended = accounts_sessions_end(r, r->caller.account_id, r->caller.session_hash);
    if (ended < 0 ||
        audit(r, 0, "account.password", "", json_pack("{s:i}", "sessions_ended", ended)) != 0)
        return reply_db_error(r);
    throttle_end(c->throttle, &c->attempt, THROTTLE_SUCCEEDED);
    c->ended = true;
    return reply_json(r, 200, json_pack("{s:b,s:i}", "ok", 1, "sessions_ended", ended));
}

/* ---- one's own sessions -------------------------------------------------------------------- */

/* A session's public id: the first 16 bytes of its token's hash, in hex (32 characters). */
static void session_id(const unsigned char *hash, char out[33])
{
    sodium_bin2hex(out, 33, hash, 16);
}

/* GET /api/v1/account/sessions -> {"items": [{id, created_at, expires_at, address, current}]}. */
static int sessions_list(struct req *r)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT token_hash, created_at, expires_at, address FROM sessions "
                 "WHERE account_id = :a AND expires_at > :now "
                 "ORDER BY created_at DESC",
                 DB_ARGS(DB_INT(":a", r->caller.account_id), DB_INT(":now", time(NULL))));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        if (sqlite3_column_bytes(st, 0) != 32)
            continue;
        const unsigned char *h = sqlite3_column_blob(st, 0);
        char id[33];
        session_id(h, id);
        json_array_append_new(
            items, json_pack("{s:s,s:I,s:I,s:s,s:b}", "id", id, "created_at",
                             (json_int_t)sqlite3_column_int64(st, 1), "expires_at",
                             (json_int_t)sqlite3_column_int64(st, 2), "address", db_col_text(st, 3),
                             "current", memcmp(h, r->caller.session_hash, 32) == 0));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/account/sessions/end {"id"}: ends one of one's sessions. */
static int sessions_end_one(struct req *r)
{
    const char *id;
    if (body_unpack_or_respond(r, "{s:s}", "id", &id) != 0)
        return r->status;
    unsigned char prefix[16];
    size_t len = 0;
    if (strlen(id) != 32 || sodium_hex2bin(prefix, sizeof(prefix), id, 32, NULL, &len, NULL) != 0 ||
        len != 16)
        return reply_error(r, 400, "bad_request", "id must be a session's id (32 hex digits)");
    if (db_run(
            r->db, "DELETE FROM sessions WHERE account_id = :a AND substr(token_hash, 1, 16) = :p",
            DB_ARGS(DB_INT(":a", r->caller.account_id), DB_BLOB(":p", prefix, 16))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) == 0)
        return reply_error(r, 404, "not_found", "no such session of yours");
    if (audit(r, 0, "account.session_end", "", NULL) != 0)
        return reply_db_error(r);
    return reply_json(r, 200,
                      json_pack("{s:b,s:b}", "ok", 1, "current",
                                memcmp(prefix, r->caller.session_hash, 16) == 0));
}

/* POST /api/v1/account/logout-everywhere: ends every session of the account, this one too. */
static int sessions_end_all(struct req *r)
{
    int ended = accounts_sessions_end(r, r->caller.account_id, NULL);
    if (ended < 0 ||
        audit(r, 0, "account.logout_everywhere", "", json_pack("{s:i}", "sessions_ended", ended)))
        return reply_db_error(r);
    reply_header(r, "Set-Cookie", "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                 SESSION_COOKIE);
    return reply_json(r, 200, json_pack("{s:b,s:i}", "ok", 1, "sessions_ended", ended));
}

/* ---- acting on another's account ----------------------------------------------------------- */

struct target {
    int64_t account, person, institution; /* institution: for the audit log (0: region) */
    bool disabled, staff, privileged;
    char login[ACCOUNT_LOGIN_MAX + 1];
};

/* The class teacher's reach: the account's person is a student of a class the caller leads, or
 * a guardian of one. Sets t->institution. 1 yes, 0 no, -1 database error. */
static int led_by_caller(struct req *r, struct target *t)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT c.institution_id FROM classes c JOIN enrollments e "
                 "ON e.class_id = c.id AND e.left_on IS NULL "
                 "WHERE c.class_teacher_id = :me AND (e.student_id = :p OR "
                 "e.student_id IN (SELECT student_id FROM guardians "
                 "WHERE guardian_id = :p))",
                 DB_ARGS(DB_INT(":me", r->caller.person_id), DB_INT(":p", t->person)));
    int found = 0, rc;
    while (db_next(st, &rc))
        if (!found && caller_has(r, ROLE_CLASS_TEACHER, sqlite3_column_int64(st, 0))) {
            found = 1;
            t->institution = sqlite3_column_int64(st, 0);
        }
    return rc == SQLITE_DONE ? found : -1;
}

/* Reads account `id` and checks that the caller may reset it (`reset`) or disable and enable
 * it: the rules at the top. 0, or -1 after answering 400/403/404. */
static int account_target_or_respond(struct req *r, int64_t id, bool reset, struct target *t)
{
    memset(t, 0, sizeof(*t));
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT a.person_id, a.login, a.disabled, rg.role, "
                                "coalesce(rg.institution_id, 0) FROM accounts a LEFT JOIN "
                                "role_grants rg ON rg.account_id = a.id WHERE a.id = :a",
                                DB_ARGS(DB_INT(":a", id)));
    int rc;
    while (db_next(st, &rc)) {
        t->account = id;
        t->person = sqlite3_column_int64(st, 0);
        snprintf(t->login, sizeof(t->login), "%s", db_col_text(st, 1));
        t->disabled = sqlite3_column_int(st, 2) != 0;
        uint32_t role = role_from_name(db_col_text(st, 3));
        int64_t inst = sqlite3_column_int64(st, 4);
        if (role != 0 && !(role & (ROLE_STUDENT | ROLE_PARENT)))
            t->staff = true;
        if ((role & ROLE_SCHOOL_ADMIN) ||
            (role != 0 && inst == 0 && !(role & (ROLE_STUDENT | ROLE_PARENT))))
            t->privileged = true;
    }
    if (rc != SQLITE_DONE)
        return reply_db_error(r), -1;
    if (t->account == 0)
        return reply_error(r, 404, "not_found", "no such account"), -1;
    if (id == r->caller.account_id)
        return reply_error(r, 400, "own_account",
                           "change your own password on your account's page instead"),
               -1;
    if (caller_is_admin(r))
        return 0;
    if (t->privileged)
        return reply_error(r, 403, "forbidden",
                           "only the region admin acts on the accounts of admins and region staff"),
               -1;
    if (r->caller.roles & ROLE_SCHOOL_ADMIN) {
        int64_t inst = authz_admin_school_of(r, t->person);
        if (inst < 0)
            return reply_db_error(r), -1;
        if (inst > 0) {
            t->institution = inst;
            return 0;
        }
    }
    if (reset && !t->staff && (r->caller.roles & ROLE_CLASS_TEACHER)) {
        int led = led_by_caller(r, t);
        if (led < 0)
            return reply_db_error(r), -1;
        if (led == 1)
            return 0;
    }
    return reply_error(r, 403, "forbidden", "this account is not yours to change"), -1;
}

/* POST /api/v1/accounts/{id}/reset: the password cleared, the sessions ended and a new code:
 * {"account_id", "login", "name", "code", "expires_at", "url"}; the code is shown this once. */
static int account_reset(struct req *r)
{
    struct target t;
    if (account_target_or_respond(r, r->params[0], true, &t) != 0)
        return r->status;
    unsigned char key[ACTIVATION_KEY_BYTES];
    char code[ACTIVATION_CODE_CHARS], object[32], url[PROXY_URL_TEXT + 16], *name = NULL;
    int64_t expires;
    int ended;
    if (activation_key(r->db, true, key) != 1 ||
        db_run(r->db, "UPDATE accounts SET password_hash = NULL WHERE id = :a",
               DB_ARGS(DB_INT(":a", t.account))) != SQLITE_DONE ||
        (ended = accounts_sessions_end(r, t.account, NULL)) < 0 ||
        activation_issue(r, key, t.account, code, &expires) != 0 ||
        db_text(r->db, &name,
                "SELECT last_name || ' ' || first_name || rtrim(' ' || middle_name) FROM persons "
                "WHERE id = :p",
                DB_ARGS(DB_INT(":p", t.person))) != SQLITE_ROW) {
        sodium_memzero(key, sizeof(key));
        free(name);
        return reply_db_error(r);
    }
    sodium_memzero(key, sizeof(key));
    snprintf(object, sizeof(object), "account/%lld", (long long)t.account);
    if (audit(r, t.institution, "account.reset", object,
              json_pack("{s:s,s:i}", "login", t.login, "sessions_ended", ended)) != 0) {
        free(name);
        return reply_db_error(r);
    }
    snprintf(url, sizeof(url), "%s/activate", r->node->public_url);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s}", "account_id", (json_int_t)t.account, "login",
                          t.login, "name", name, "code", code, "expires_at", (json_int_t)expires,
                          "url", url);
    free(name);
    sodium_memzero(code, sizeof(code));
    return reply_json(r, 200, o);
}

/* POST /api/v1/accounts/{id}/disable and /enable. Disabling ends the account's sessions. */
static int account_set_disabled(struct req *r, bool disable)
{
    struct target t;
    if (account_target_or_respond(r, r->params[0], false, &t) != 0)
        return r->status;
    int ended = 0;
    char object[32];
    snprintf(object, sizeof(object), "account/%lld", (long long)t.account);
    if (db_run(r->db, "UPDATE accounts SET disabled = :d WHERE id = :a",
               DB_ARGS(DB_INT(":d", disable), DB_INT(":a", t.account))) != SQLITE_DONE ||
        (disable && (ended = accounts_sessions_end(r, t.account, NULL)) < 0) ||
        audit(r, t.institution, disable ? "account.disable" : "account.enable", object,
              json_pack("{s:s,s:i}", "login", t.login, "sessions_ended", ended)) != 0)
        return reply_db_error(r);
    return reply_json(
        r, 200, json_pack("{s:b,s:b,s:i}", "ok", 1, "disabled", disable, "sessions_ended", ended));
}

static int account_disable(struct req *r)
{
    return account_set_disabled(r, true);
}

static int account_enable(struct req *r)
{
    return account_set_disabled(r, false);
}

/* DELETE /api/v1/students/{id}/guardians/{guardian_id}: removes a guardian link (the region
 * admin, or the school admin of the student's school). */
static int guardian_delete(struct req *r)
{
    int64_t student = r->params[0], guardian = r->params[1];
    if (authz_student_or_respond(r, student, AUTHZ_WRITE) != 0)
        return r->status;
    int64_t inst = 0;
    int rc = db_int(r->db, &inst,
                    "SELECT c.institution_id FROM enrollments e JOIN classes c ON c.id = "
                    "e.class_id WHERE e.student_id = :s AND e.left_on IS NULL",
                    DB_ARGS(DB_INT(":s", student)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    if (db_run(r->db, "DELETE FROM guardians WHERE guardian_id = :g AND student_id = :s",
               DB_ARGS(DB_INT(":g", guardian), DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) == 0)
        return reply_error(r, 404, "not_found", "no such guardian of this student");
    char object[32];
    snprintf(object, sizeof(object), "person/%lld", (long long)student);
    if (audit(r, inst, "guardian.delete", object,
              json_pack("{s:I,s:I}", "guardian_id", (json_int_t)guardian, "student_id",
                        (json_int_t)student)) != 0)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- finding accounts ---------------------------------------------------------------------- */

/* A query parameter that is a non-negative integer (absent: 0). 0, or -1 after answering. */
static int query_int_or_respond(struct req *r, const char *name, int64_t max, int64_t *out)
{
    char buf[24], *end;
    *out = 0;
    if (req_query(r, name, buf, sizeof(buf)) <= 0)
        return 0;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0' || v < 0 || v > max)
        return reply_error(r, 400, "bad_request", "%s must be an integer from 0 to %lld", name,
                           (long long)max),
               -1;
    *out = v;
    return 0;
}

/* Adds a student's "guardians" or a parent's "children" to o. 0, or -1 on a database error. */
static int search_links(struct req *r, json_t *o, int64_t person, bool student)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 student ? "SELECT p.id, p.last_name, p.first_name, p.middle_name, g.relation, "
                           "coalesce(a.login, '') FROM guardians g JOIN persons p ON p.id = "
                           "g.guardian_id LEFT JOIN accounts a ON a.person_id = p.id "
                           "WHERE g.student_id = :p ORDER BY p.id"
                         : "SELECT p.id, p.last_name, p.first_name, p.middle_name, g.relation, "
                           "coalesce(a.login, '') FROM guardians g JOIN persons p ON p.id = "
                           "g.student_id LEFT JOIN accounts a ON a.person_id = p.id "
                           "WHERE g.guardian_id = :p ORDER BY p.id",
                 DB_ARGS(DB_INT(":p", person)));
    json_t *list = json_array();
    json_object_set_new(o, student ? "guardians" : "children", list);
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(list, json_pack("{s:I,s:o,s:s,s:s}", "id",
                                              (json_int_t)sqlite3_column_int64(st, 0), "name",
                                              ref_person_name(st, 1), "relation",
                                              db_col_text(st, 4), "login", db_col_text(st, 5)));
    return rc == SQLITE_DONE ? 0 : -1;
}

/* GET /api/v1/accounts?q=&institution_id=&class_id=&state=&limit=&offset=: people and their
 * accounts, by name or login (in a school or class a part of either; region-wide, where q is
 * required, the start of the last name or of the login), in pages: {"items": [{person_id, name,
 * account_id?, login, roles, state (none|inactive|active|disabled), class?, institution?,
 * guardians|children}], "next_offset"}. A school admin sees the people of their school only. */
static int accounts_search(struct req *r)
{
    char q[130] = "", state[16] = "", like1[300], like2[300];
    int64_t inst, cls, limit, offset;
    if (query_int_or_respond(r, "institution_id", INT64_MAX, &inst) ||
        query_int_or_respond(r, "class_id", INT64_MAX, &cls) ||
        query_int_or_respond(r, "limit", 200, &limit) ||
        query_int_or_respond(r, "offset", 1000000000, &offset))
        return r->status;
    const char *qs = r->ri->query_string ? r->ri->query_string : "";
    bool has_q = strncmp(qs, "q=", 2) == 0 || strstr(qs, "&q=") != NULL;
    int qn = req_query(r, "q", q, sizeof(q));
    if (qn > 128 || (qn < 0 && has_q)) /* -1 with a q: longer than the buffer */
        return reply_error(r, 400, "bad_request", "q must be at most 128 bytes");
    req_query(r, "state", state, sizeof(state));
    if (state[0] && strcmp(state, "inactive") && strcmp(state, "active") &&
        strcmp(state, "disabled"))
        return reply_error(r, 400, "bad_request", "state must be inactive, active or disabled");
    if (limit == 0)
        limit = 50;
    if (cls) {
        int64_t ci = 0;
        int rc = db_int(r->db, &ci, "SELECT institution_id FROM classes WHERE id = :c",
                        DB_ARGS(DB_INT(":c", cls)));
        if (rc == SQLITE_DONE)
            return reply_error(r, 404, "not_found", "no such class");
        if (rc != SQLITE_ROW)
            return reply_db_error(r);
        if (inst && inst != ci)
            return reply_error(r, 400, "bad_request", "the class is not of that institution");
        inst = ci;
    }
    if (!caller_is_admin(r)) {
        if (inst == 0) { /* a school admin's own school (the first) */
            for (int i = 0; i < r->caller.ngrants && inst == 0; i++)
                if (r->caller.grants[i].role == ROLE_SCHOOL_ADMIN)
                    inst = r->caller.grants[i].institution_id;
        }
        if (inst == 0 || !caller_has(r, ROLE_SCHOOL_ADMIN, inst))
            return reply_error(r, 403, "forbidden", "a school admin finds their school's people");
    } else if (inst && authz_institution_or_respond(r, inst, AUTHZ_READ) != 0) {
        return r->status;
    }
    /* The whole region (a region admin naming no school) holds a million people: there a
     * query is needed, and it finds by the beginning of the last name or of the login, over
     * their indexes; in a school, any part of either. */
    char lo[140], hi[150], qhi[140];
    if (inst == 0 && q[0] == '\0')
        return reply_error(r, 400, "q_required",
                           "name a school or class, or search by last name or login");
    db_like_pattern(q, false, like1, sizeof(like1));
    db_like_pattern(q, true, like2, sizeof(like2));
    /* like2 is "%Q%" with Q's first letter capital: its first word is the last name's start. */
    size_t w = strcspn(like2 + 1, " %");
    snprintf(lo, sizeof(lo), "%.*s", (int)w, like2 + 1);
    snprintf(hi, sizeof(hi), "%s\xf4\x8f\xbf\xbf", lo); /* past every name that starts so */
    snprintf(qhi, sizeof(qhi), "%s\xf4\x8f\xbf\xbf", q);
    sqlite3_stmt *st = db_query(
        r->db,
        "WITH people(pid) AS ("
        " SELECT e.student_id FROM enrollments e WHERE :cls > 0 AND e.class_id = :cls "
        "  AND e.left_on IS NULL"
        " UNION SELECT g.guardian_id FROM guardians g JOIN enrollments e ON e.student_id = "
        "  g.student_id AND e.left_on IS NULL WHERE :cls > 0 AND e.class_id = :cls"
        " UNION SELECT e.student_id FROM classes c JOIN enrollments e ON e.class_id = c.id AND "
        "  e.left_on IS NULL WHERE :cls = 0 AND c.institution_id = :inst"
        " UNION SELECT g.guardian_id FROM classes c JOIN enrollments e ON e.class_id = c.id AND "
        "  e.left_on IS NULL JOIN guardians g ON g.student_id = e.student_id "
        "  WHERE :cls = 0 AND c.institution_id = :inst"
        " UNION SELECT person_id FROM staff WHERE :cls = 0 AND institution_id = :inst"
        " UNION SELECT a.person_id FROM role_grants rg JOIN accounts a ON a.id = rg.account_id "
        "  WHERE :cls = 0 AND rg.institution_id = :inst"
        " UNION SELECT id FROM persons WHERE :inst = 0 AND last_name >= :lo AND last_name < :hi"
        " UNION SELECT person_id FROM accounts WHERE :inst = 0 AND login >= :q AND login < :qhi) "
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, coalesce(a.id, 0), "
        "coalesce(a.login, ''), CASE WHEN a.id IS NULL THEN 'none' WHEN a.disabled THEN "
        "'disabled' WHEN a.password_hash IS NULL THEN 'inactive' ELSE 'active' END AS state, "
        "(SELECT group_concat(role, ' ') FROM role_grants WHERE account_id = a.id), "
        "c.id, c.grade, c.letter, i.id, i.short_name, e.id IS NOT NULL "
        "FROM people JOIN persons p ON p.id = people.pid "
        "LEFT JOIN accounts a ON a.person_id = p.id "
        "LEFT JOIN enrollments e ON e.student_id = p.id AND e.left_on IS NULL "
        "LEFT JOIN classes c ON c.id = e.class_id "
        "LEFT JOIN institutions i ON i.id = coalesce(c.institution_id, (SELECT s.institution_id "
        " FROM staff s WHERE s.person_id = p.id ORDER BY s.institution_id = :inst DESC LIMIT 1)) "
        "WHERE (:q = '' OR (p.last_name || ' ' || p.first_name || ' ' || p.middle_name) LIKE :l1 "
        " ESCAPE '\\' OR (p.last_name || ' ' || p.first_name) LIKE :l2 ESCAPE '\\' OR a.login "
        " LIKE :l1 ESCAPE '\\') "
        "AND (:state = '' OR state = :state OR (:state = 'inactive' AND state = 'none')) "
        "ORDER BY p.last_name, p.first_name, p.id LIMIT :limit OFFSET :offset",
        DB_ARGS(DB_INT(":cls", cls), DB_INT(":inst", inst), DB_TEXT(":q", q), DB_TEXT(":l1", like1),
                DB_TEXT(":l2", like2), DB_TEXT(":lo", lo), DB_TEXT(":hi", hi), DB_TEXT(":qhi", qhi),
                DB_TEXT(":state", state), DB_INT(":limit", limit + 1), DB_INT(":offset", offset)));
    json_t *items = json_array();
    int64_t count = 0;
    int rc;
    while (db_next(st, &rc)) {
        if (++count > limit)
            continue;
        json_t *o = json_pack(
            "{s:I,s:o,s:s,s:s}", "person_id", (json_int_t)sqlite3_column_int64(st, 0), "name",
            ref_person_name(st, 1), "login", db_col_text(st, 5), "state", db_col_text(st, 6));
        if (sqlite3_column_int64(st, 4))
            json_object_set_new(o, "account_id", json_integer(sqlite3_column_int64(st, 4)));
        json_t *roles = json_array();
        char text[256];
        snprintf(text, sizeof(text), "%s", db_col_text(st, 7));
        char *save = NULL;
        for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save))
            json_array_append_new(roles, json_string(w));
        json_object_set_new(o, "roles", roles);
        json_object_set_new(o, "student", json_boolean(sqlite3_column_int(st, 13)));
        if (sqlite3_column_type(st, 8) != SQLITE_NULL)
            json_object_set_new(o, "class", ref_class(st, 8));
        if (sqlite3_column_type(st, 11) != SQLITE_NULL)
            json_object_set_new(o, "institution", ref_named(st, 11));
        json_array_append_new(items, o);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    /* The links, once the row loop is over (its statement is free again). */
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        int64_t person = json_integer_value(json_object_get(o, "person_id"));
        if (search_links(r, o, person, json_is_true(json_object_get(o, "student"))) != 0) {
            json_decref(items);
            return reply_db_error(r);
        }
    }
    json_t *out = json_pack("{s:o}", "items", items);
    json_object_set_new(out, "next_offset",
                        count > limit ? json_integer(offset + limit) : json_null());
    return reply_json(r, 200, out);
}

const struct route manage_routes[] = {
    {.method = "POST",
     .path = "/api/v1/account/password",
     .handler = password_change,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "account_password",
     .prepare = password_check},
    {.method = "GET",
     .path = "/api/v1/account/sessions",
     .handler = sessions_list,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "account_sessions"},
    {.method = "POST",
     .path = "/api/v1/account/sessions/end",
     .handler = sessions_end_one,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "account_session_end"},
    {.method = "POST",
     .path = "/api/v1/account/logout-everywhere",
     .handler = sessions_end_all,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "account_logout_everywhere"},
    {.method = "GET",
     .path = "/api/v1/accounts",
     .handler = accounts_search,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "accounts_search"},
    {.method = "POST",
     .path = "/api/v1/accounts/{id}/reset",
     .handler = account_reset,
     .access = ACCESS_USER,
     .allow = ADMINS | ROLE_CLASS_TEACHER,
     .writes = true,
     .name = "account_reset"},
    {.method = "POST",
     .path = "/api/v1/accounts/{id}/disable",
     .handler = account_disable,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "account_disable"},
    {.method = "POST",
     .path = "/api/v1/accounts/{id}/enable",
     .handler = account_enable,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "account_enable"},
    {.method = "DELETE",
     .path = "/api/v1/students/{id}/guardians/{guardian_id}",
     .handler = guardian_delete,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "guardian_delete"},
    {0},
};
