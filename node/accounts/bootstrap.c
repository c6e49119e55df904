/*
 * Creating accounts outside a request: the shared insert helpers used by `mesnode init`
 * (school/bootstrap.c), the demo and the admin API.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "accounts/auth.h"
#include "node.h"

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
