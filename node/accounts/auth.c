/*
 * Authentication mechanics (see auth.h). auth_resolve runs on every request to a protected
 * route: one point read of the session (or device token) and one of the account's grants,
 * both by primary key or unique index with prepared statements.
 */
#include "auth.h"

#include <civetweb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "node.h"

void auth_token_hash(const char *token, unsigned char hash[32])
{
    crypto_generichash(hash, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

void auth_new_token(char token[TOKEN_CHARS], unsigned char hash[32])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, TOKEN_CHARS, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    auth_token_hash(token, hash);
}

int auth_hash_password(const struct mes_config *cfg, const char *password,
                       char out[crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str(out, password, strlen(password),
                             (unsigned long long)cfg->auth.argon2_opslimit,
                             (size_t)cfg->auth.argon2_memlimit_kib * 1024);
}

bool auth_verify_password(const char *hash, const char *password)
{
    /* A fixed hash of a random password, so an unknown login costs as much as a known one. */
    static const char dummy[crypto_pwhash_STRBYTES] =
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE";
    if (hash == NULL || hash[0] == '\0') {
        if (crypto_pwhash_str_verify(dummy, password, strlen(password)) == 0)
            return false; /* cannot happen: nobody knows the dummy's password */
        return false;
    }
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Extracts the session cookie's value into buf; returns 0 when present. */
static int session_cookie(struct req *r, char *buf, size_t size)
{
    const char *cookie = req_header(r, "Cookie");
    if (cookie == NULL)
        return -1;
    int n = mg_get_cookie(cookie, SESSION_COOKIE, buf, size);
    return n > 0 ? 0 : -1;
}

static int load_grants(struct req *r)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT role, coalesce(institution_id, 0) FROM role_grants "
                                "WHERE account_id = :a ORDER BY role, institution_id",
                                DB_ARGS(DB_INT(":a", r->caller.account_id)));
    int rc;
    while (db_next(st, &rc)) {
        uint32_t role = role_from_name(db_col_text(st, 0));
        if (r->caller.ngrants < MAX_GRANTS) {
            r->caller.grants[r->caller.ngrants].role = role;
            r->caller.grants[r->caller.ngrants].institution_id = sqlite3_column_int64(st, 1);
            r->caller.ngrants++;
        }
        r->caller.roles |= role;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

static int resolve_session(struct req *r, const unsigned char hash[32])
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT s.account_id, a.person_id, s.csrf "
                                "FROM sessions s JOIN accounts a ON a.id = s.account_id "
                                "WHERE s.token_hash = :h AND s.expires_at > :now "
                                "AND a.disabled = 0",
                                DB_ARGS(DB_BLOB(":h", hash, 32), DB_INT(":now", time(NULL))));
    int rc;
    while (db_next(st, &rc)) { /* by the token's hash: one row at most */
        r->caller.account_id = sqlite3_column_int64(st, 0);
        r->caller.person_id = sqlite3_column_int64(st, 1);
        snprintf(r->caller.csrf, sizeof(r->caller.csrf), "%s", db_col_text(st, 2));
        memcpy(r->caller.session_hash, hash, 32);
    }
    if (rc != SQLITE_DONE)
        return -1;
    return r->caller.account_id != 0 ? load_grants(r) : 0;
}

static int resolve_device(struct req *r, const unsigned char hash[32])
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, scopes, coalesce(institution_id, 0) "
                                "FROM device_tokens "
                                "WHERE token_hash = :h AND revoked_at IS NULL",
                                DB_ARGS(DB_BLOB(":h", hash, 32)));
    int rc;
    while (db_next(st, &rc)) { /* by the token's hash: one row at most */
        r->caller.device_id = sqlite3_column_int64(st, 0);
        r->caller.device_institution_id = sqlite3_column_int64(st, 2);
        char scopes[128];
        snprintf(scopes, sizeof(scopes), "%s", db_col_text(st, 1));
        char *save = NULL;
        for (char *w = strtok_r(scopes, " ", &save); w; w = strtok_r(NULL, " ", &save))
            r->caller.scopes |= scope_from_name(w);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int auth_load_caller(struct req *r, int64_t account_id, int64_t person_id)
{
    memset(&r->caller, 0, sizeof(r->caller));
    r->caller.account_id = account_id;
    r->caller.person_id = person_id;
    return load_grants(r);
}

int auth_resolve(struct req *r)
{
    char token[128];
    unsigned char hash[32];
    const char *authz = req_header(r, "Authorization");
    int rc = 0;
    if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0) {
        const char *t = authz + 7;
        while (*t == ' ')
            t++;
        if (strlen(t) >= sizeof(token))
            return 0;
        auth_token_hash(t, hash);
        rc = resolve_session(r, hash);
        if (rc == 0 && r->caller.account_id == 0)
            rc = resolve_device(r, hash);
    } else if (session_cookie(r, token, sizeof(token)) == 0) {
        auth_token_hash(token, hash);
        rc = resolve_session(r, hash);
        r->caller.via_cookie = r->caller.account_id != 0;
    }
    sodium_memzero(token, sizeof(token));
    if (rc != 0) {
        reply_db_error(r);
        return -1;
    }
    return 0;
}

bool auth_csrf_ok(struct req *r)
{
    const char *h = req_header(r, "X-CSRF-Token");
    size_t n = strlen(r->caller.csrf);
    return h != NULL && n > 0 && strlen(h) == n && sodium_memcmp(h, r->caller.csrf, n) == 0;
}

/* ---- audit ---------------------------------------------------------------------------------- */

int audit(struct req *r, int64_t institution_id, const char *action, const char *object,
          json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    int rc =
        db_run(r->db,
               "INSERT INTO audit_log "
               "(account_id, institution_id, action, object, detail, "
               "address) VALUES (nullif(:a, 0), nullif(:i, 0), :act, :o, :d, :addr)",
               DB_ARGS(DB_INT(":a", r->caller.account_id), DB_INT(":i", institution_id),
                       DB_TEXT(":act", action), DB_TEXT(":o", object ? object : ""),
                       DB_TEXT(":d", text ? text : "{}"), DB_TEXT(":addr", req_remote_addr(r))));
    rc = rc == SQLITE_DONE ? 0 : -1;
    free(text);
    return rc;
}
