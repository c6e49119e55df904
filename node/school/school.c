/*
 * What the school's route files share (institutions.c, classes.c, persons.c): the audit of a
 * change, the answer to a failed write, a class's institution, whether a person is staff of an
 * institution, and a list of rows put into an answer.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

int school_audit_or_respond(struct req *r, int64_t institution, const char *action,
                            const char *kind, int64_t id, json_t *detail)
{
    char object[64];
    snprintf(object, sizeof(object), "%s/%lld", kind, (long long)id);
    if (audit(r, institution, action, object, detail) != 0) {
        reply_db_error(r);
        return -1;
    }
    return 0;
}

int school_reply_write_error(struct req *r, const char *what)
{
    int code = sqlite3_extended_errcode(db_handle(r->db));
    if ((code & 0xff) == SQLITE_CONSTRAINT) {
        if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
            return reply_error(r, 400, "bad_request", "%s refers to a record that does not exist",
                               what);
        return reply_error(r, 409, "conflict", "%s already exists or conflicts with another", what);
    }
    return reply_db_error(r);
}

int64_t school_class_institution(struct req *r, int64_t class_id)
{
    int64_t inst = 0;
    int rc = db_int(r->db, &inst, "SELECT institution_id FROM classes WHERE id = :id",
                    DB_ARGS(DB_INT(":id", class_id)));
    return rc == SQLITE_ROW ? inst : rc == SQLITE_DONE ? -1 : -2;
}

int school_is_staff(struct req *r, int64_t person, int64_t inst)
{
    return db_exists(r->db, "SELECT 1 FROM staff WHERE person_id = :p AND institution_id = :i",
                     DB_ARGS(DB_INT(":p", person), DB_INT(":i", inst)));
}

int school_add_list(struct req *r, json_t *o, const char *key, const char *sql, int64_t id,
                    json_t *(*row)(sqlite3_stmt *))
{
    sqlite3_stmt *st = db_query(r->db, sql, DB_ARGS(DB_INT(":id", id)));
    if (st == NULL)
        return -1;
    json_t *list = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(list, row(st));
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    json_object_set_new(o, key, list);
    return 0;
}
