/*
 * Creating accounts outside a request: `mesnode init` (the first administrator) and the
 * shared insert helpers used by the demo and the admin API.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "accounts/auth.h"
#include "node.h"
#include "school/school.h"

int64_t accounts_add(struct db *db, int64_t person_id, const char *login, const char *password_hash)
{
    sqlite3_stmt *st = db_stmt(db, "INSERT INTO accounts (person_id, login, password_hash) "
                                   "VALUES (:p, :l, :h)");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":p", person_id);
    db_bind_text(st, ":l", login);
    db_bind_text(st, ":h", password_hash);
    return db_exec_stmt(st) == SQLITE_DONE ? db_last_id(db) : -1;
}

int accounts_grant(struct db *db, int64_t account_id, uint32_t role, int64_t institution_id)
{
    sqlite3_stmt *st = db_stmt(db, "INSERT INTO role_grants (account_id, role, institution_id) "
                                   "VALUES (:a, :r, :i)");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":a", account_id);
    db_bind_text(st, ":r", role_name(role));
    if (institution_id)
        db_bind_int(st, ":i", institution_id);
    return db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
}

int accounts_bootstrap(struct node *n, const char *login, const char *password, char *err,
                       size_t errlen)
{
    char hash[crypto_pwhash_STRBYTES];
    if (auth_hash_password(&n->cfg, password, hash) != 0) {
        snprintf(err, errlen, "hashing the password failed (out of memory?)");
        return -1;
    }
    struct db *db = db_open(n->db_path, &n->cfg, err, errlen);
    if (db == NULL)
        return -1;
    int rc = -1;
    if (db_begin_write(db) != SQLITE_OK)
        goto dberr;
    sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM role_grants WHERE role = 'admin'");
    if (st == NULL || db_step(st) != SQLITE_ROW)
        goto dberr;
    int admins = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (admins > 0) {
        snprintf(err, errlen, "%s already has an administrator", n->db_path);
        goto out;
    }
    if (school_seed_subjects(db, &n->cfg, err, errlen) != 0 ||
        school_ensure_year(db, &n->cfg, time(NULL), err, errlen) < 0)
        goto out;
    int64_t person = school_add_person(db, "Администратор", n->cfg.region.name, "", NULL);
    int64_t account = person > 0 ? accounts_add(db, person, login, hash) : -1;
    if (account < 0 || accounts_grant(db, account, ROLE_ADMIN, 0) != 0)
        goto dberr;
    st = db_stmt(db, "INSERT INTO audit_log (account_id, action, object) "
                     "VALUES (NULL, 'admin.bootstrap', :o)");
    if (st == NULL)
        goto dberr;
    char object[48];
    snprintf(object, sizeof(object), "account/%lld", (long long)account);
    db_bind_text(st, ":o", object);
    if (db_exec_stmt(st) != SQLITE_DONE || db_commit(db) != SQLITE_OK)
        goto dberr;
    rc = 0;
    goto out;
dberr:
    snprintf(err, errlen, "%s", db_errmsg(db));
out:
    db_rollback(db);
    db_close(db);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}
