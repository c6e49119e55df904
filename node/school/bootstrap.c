/*
 * `mesnode init`: the region's subjects, the current academic year and the first region
 * administrator (a person of the school structure with an account of accounts/).
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "accounts/auth.h"
#include "node.h"
#include "school/school.h"

int school_bootstrap(struct node *n, const char *login, const char *password, char *err,
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
    int64_t admins = 0;
    if (db_int(db, &admins, "SELECT count(*) FROM role_grants WHERE role = 'admin'", NULL) !=
        SQLITE_ROW)
        goto dberr;
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
    char object[48];
    snprintf(object, sizeof(object), "account/%lld", (long long)account);
    if (db_run(db,
               "INSERT INTO audit_log (account_id, action, object) "
               "VALUES (NULL, 'admin.bootstrap', :o)",
               DB_ARGS(DB_TEXT(":o", object))) != SQLITE_DONE ||
        db_commit(db) != SQLITE_OK)
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
