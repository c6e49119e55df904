/*
 * A school's staff as its administrators see them: the list with each member's position,
 * account and roles at the school; changing a member's roles at the school; recording that a
 * member left (their roles at the school end, their staff row goes, the audit log keeps the
 * record); finding people tied to the school (to enrol a former student again, say). Only the
 * region admin and the school's own admin reach these. Load: a page view at a time.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "accounts/authz.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

/* The roles a school admin hands out at their school. */
static const char *const staff_roles[] = {"teacher", "class_teacher", "school_admin", "medic",
                                          "canteen"};
#define NSTAFF_ROLES (sizeof(staff_roles) / sizeof(staff_roles[0]))

/* GET /api/v1/institutions/{id}/staff: every member with position, login, whether the account
 * can log in, and the roles held at this institution. */
static int staff_list(struct req *r)
{
    int64_t inst = r->params[0];
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT p.id, p.last_name, p.first_name, p.middle_name, s.position, a.login, "
                 "a.password_hash IS NOT NULL AND NOT a.disabled, "
                 "(SELECT group_concat(g.role, ' ') FROM (SELECT role FROM role_grants WHERE "
                 "account_id = a.id AND institution_id = :i ORDER BY role) g) "
                 "FROM staff s JOIN persons p ON p.id = s.person_id "
                 "LEFT JOIN accounts a ON a.person_id = p.id WHERE s.institution_id = :i "
                 "ORDER BY p.last_name, p.first_name, p.id",
                 DB_ARGS(DB_INT(":i", inst)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *roles = json_array();
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", db_col_text(st, 7));
        char *save = NULL;
        for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
            json_array_append_new(roles, json_string(w));
        json_t *o =
            json_pack("{s:I,s:o,s:s,s:o,s:b,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                      "name", ref_person_name(st, 1), "position", db_col_text(st, 4), "login",
                      sqlite3_column_type(st, 5) == SQLITE_NULL ? json_null()
                                                                : json_string(db_col_text(st, 5)),
                      "active", sqlite3_column_int(st, 6), "roles", roles);
        json_array_append_new(items, o);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* Checks that the person is on the institution's staff: 0, or -1 after answering 404. */
static int staff_member_or_respond(struct req *r, int64_t person, int64_t inst)
{
    int s = school_is_staff(r, person, inst);
    if (s < 0)
        return reply_db_error(r), -1;
    if (s == 0)
        return reply_error(r, 404, "not_staff", "person %lld is not on the staff here",
                           (long long)person),
               -1;
    return 0;
}

/* The person's account id, made (inactive, with a made login) when they have none; -1 after
 * answering 500. */
static int64_t staff_account(struct req *r, int64_t person)
{
    int64_t acc = 0;
    int rc = db_int(r->db, &acc, "SELECT id FROM accounts WHERE person_id = :p",
                    DB_ARGS(DB_INT(":p", person)));
    if (rc == SQLITE_ROW)
        return acc;
    char *last = NULL;
    if (rc != SQLITE_DONE || db_text(r->db, &last, "SELECT last_name FROM persons WHERE id = :p",
                                     DB_ARGS(DB_INT(":p", person))) != SQLITE_ROW)
        return reply_db_error(r), -1;
    char login[ACCOUNT_LOGIN_MAX + 1];
    acc = accounts_add_inactive(r->db, person, last, login);
    free(last);
    if (acc < 0)
        return reply_db_error(r), -1;
    return acc;
}

/* PUT /api/v1/institutions/{id}/staff/{person}/roles {"roles": ["teacher", ...]}: the member's
 * roles at this institution become exactly these (of teacher, class_teacher, school_admin,
 * medic). A school admin cannot take school_admin from themselves. */
static int staff_roles_put(struct req *r)
{
    int64_t inst = r->params[0], person = r->params[1];
    json_t *roles;
    if (body_unpack_or_respond(r, "{s:o}", "roles", &roles) != 0)
        return r->status;
    unsigned want = 0;
    size_t i;
    json_t *v;
    if (!json_is_array(roles) || json_array_size(roles) > NSTAFF_ROLES)
        return reply_error(r, 400, "bad_role", "roles must be an array of staff roles");
    json_array_foreach(roles, i, v)
    {
        size_t k = 0;
        while (k < NSTAFF_ROLES &&
               !(json_is_string(v) && !strcmp(json_string_value(v), staff_roles[k])))
            k++;
        if (k == NSTAFF_ROLES || (want & (1u << k)))
            return reply_error(
                r, 400, "bad_role",
                "roles[%zu]: one of teacher, class_teacher, school_admin, medic, canteen, "
                "each once",
                i);
        want |= 1u << k;
    }
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    if (staff_member_or_respond(r, person, inst) != 0)
        return r->status;
    if (person == r->caller.person_id && !caller_is_admin(r) && !(want & (1u << 2)))
        return reply_error(r, 409, "own_admin_role",
                           "a school admin cannot take the role from themselves");
    int64_t acc = staff_account(r, person);
    if (acc < 0)
        return r->status;
    for (size_t k = 0; k < NSTAFF_ROLES; k++) {
        const char *sql = (want & (1u << k))
                              ? "INSERT INTO role_grants (account_id, role, institution_id) "
                                "VALUES (:a, :r, :i) ON CONFLICT DO NOTHING"
                              : "DELETE FROM role_grants WHERE account_id = :a AND role = :r "
                                "AND institution_id = :i";
        if (db_run(r->db, sql,
                   DB_ARGS(DB_INT(":a", acc), DB_TEXT(":r", staff_roles[k]), DB_INT(":i", inst))) !=
            SQLITE_DONE)
            return reply_db_error(r);
    }
    if (school_audit_or_respond(r, inst, "staff.roles", "person", person,
                                json_pack("{s:O}", "roles", roles)) != 0)
        return r->status;
    return reply_json(r, 200,
                      json_pack("{s:I,s:I,s:O}", "person_id", (json_int_t)person, "institution_id",
                                (json_int_t)inst, "roles", roles));
}

/* POST /api/v1/institutions/{id}/staff/{person}/leave {"left_on"}: the member leaves the
 * school: their roles here end, they stop leading its classes and teaching there (the
 * lessons already given keep their teacher), and the staff row goes; the audit log keeps the
 * date and what ended. */
static int staff_leave(struct req *r)
{
    int64_t inst = r->params[0], person = r->params[1];
    const char *on;
    if (body_unpack_or_respond(r, "{s:s}", "left_on", &on) != 0)
        return r->status;
    if (!school_date_ok(on))
        return reply_field_error(r, 400, "bad_date", "left_on",
                                 "left_on must be a date YYYY-MM-DD");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    if (staff_member_or_respond(r, person, inst) != 0)
        return r->status;
    if (person == r->caller.person_id && !caller_is_admin(r))
        return reply_error(r, 409, "own_admin_role",
                           "a school admin cannot record their own leaving");
    char *position = NULL;
    if (db_text(r->db, &position,
                "SELECT position FROM staff WHERE person_id = :p AND institution_id = :i",
                DB_ARGS(DB_INT(":p", person), DB_INT(":i", inst))) != SQLITE_ROW)
        return reply_db_error(r);
    json_t *detail = json_pack("{s:s,s:s}", "left_on", on, "position", position);
    free(position);
    struct {
        const char *key, *sql;
    } steps[] = {
        {"roles", "DELETE FROM role_grants WHERE institution_id = :i AND account_id = "
                  "(SELECT id FROM accounts WHERE person_id = :p)"},
        {"classes_led", "UPDATE classes SET class_teacher_id = NULL WHERE institution_id = :i "
                        "AND class_teacher_id = :p"},
        {"assignments", "DELETE FROM teaching_assignments WHERE teacher_id = :p AND class_id IN "
                        "(SELECT id FROM classes WHERE institution_id = :i)"},
        {NULL, "DELETE FROM staff WHERE person_id = :p AND institution_id = :i"},
    };
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        if (db_run(r->db, steps[k].sql, DB_ARGS(DB_INT(":p", person), DB_INT(":i", inst))) !=
            SQLITE_DONE) {
            json_decref(detail);
            return reply_db_error(r);
        }
        if (steps[k].key)
            json_object_set_new(detail, steps[k].key, json_integer(db_changes(r->db)));
    }
    json_t *out = json_deep_copy(detail);
    if (school_audit_or_respond(r, inst, "staff.leave", "person", person, detail) != 0) {
        json_decref(out);
        return r->status;
    }
    json_object_set_new(out, "person_id", json_integer(person));
    return reply_json(r, 200, out);
}

/* GET /api/v1/institutions/{id}/persons?q=TEXT: up to 20 people tied to the institution
 * (current and former students of its classes, its staff) whose "last first middle" name
 * starts with q (2-100 characters); each with their current class, if any. */
static int staff_person_search(struct req *r)
{
    int64_t inst = r->params[0];
    char q[404];
    int n = req_query(r, "q", q, sizeof(q));
    if (n < 0 || !school_text_ok(q, 2, 100))
        return reply_error(r, 400, "bad_query", "q must be 2-100 characters");
    if (authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date, c.id, c.grade, "
        "c.letter, c.institution_id FROM persons p "
        "LEFT JOIN enrollments e ON e.student_id = p.id AND e.left_on IS NULL "
        "LEFT JOIN classes c ON c.id = e.class_id "
        "WHERE p.id IN (SELECT e2.student_id FROM classes c2 JOIN enrollments e2 ON "
        "e2.class_id = c2.id WHERE c2.institution_id = :i UNION SELECT person_id FROM staff "
        "WHERE institution_id = :i) AND p.last_name || ' ' || p.first_name || ' ' || "
        "p.middle_name LIKE replace(replace(:q, '%', ''), '_', '') || '%' "
        "ORDER BY p.last_name, p.first_name, p.id LIMIT 20",
        DB_ARGS(DB_INT(":i", inst), DB_TEXT(":q", q)));
    if (st == NULL)
        return reply_db_error(r);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *o =
            json_pack("{s:I,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                      ref_person_name(st, 1), "birth_date",
                      sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null()
                                                                : json_string(db_col_text(st, 4)));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
            json_t *c = ref_class(st, 5);
            json_object_set_new(c, "institution_id", json_integer(sqlite3_column_int64(st, 8)));
            json_object_set_new(o, "class", c);
        }
        json_array_append_new(items, o);
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

const struct route staff_routes[] = {
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/staff",
     .handler = staff_list,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "staff_list"},
    {.method = "PUT",
     .path = "/api/v1/institutions/{id}/staff/{person}/roles",
     .handler = staff_roles_put,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "staff_roles_set"},
    {.method = "POST",
     .path = "/api/v1/institutions/{id}/staff/{person}/leave",
     .handler = staff_leave,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "staff_leave"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/persons",
     .handler = staff_person_search,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "institution_person_search"},
    {0},
};
