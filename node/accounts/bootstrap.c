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
    int rc = db_run(
        db,
        "INSERT INTO accounts (person_id, login, password_hash) "
        "VALUES (:p, :l, :h)",
        DB_ARGS(DB_INT(":p", person_id), DB_TEXT(":l", login), DB_TEXT(":h", password_hash)));
    return rc == SQLITE_DONE ? db_last_id(db) : -1;
}

int accounts_grant(struct db *db, int64_t account_id, uint32_t role, int64_t institution_id)
{
    int rc = db_run(db,
                    "INSERT INTO role_grants (account_id, role, institution_id) "
                    "VALUES (:a, :r, nullif(:i, 0))",
                    DB_ARGS(DB_INT(":a", account_id), DB_TEXT(":r", role_name(role)),
                            DB_INT(":i", institution_id)));
    return rc == SQLITE_DONE ? 0 : -1;
}
