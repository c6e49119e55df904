/*
 * A student's carriers (a card, a bracelet, a key fob: the identifier its reader sends), as the
 * school admin issues, blocks and replaces them (docs/moskvenok.md, "Cards"). The school admin of
 * the student's current school, or the region admin, writes; whoever may see the student reads.
 * An identifier is anyone's once issued, blocked ones too (a blocked card's use is told apart
 * from an unknown one at the turnstile and the buffet), so issuing it again is a conflict.
 * Issuing makes the student's meal account. Every change is in the school's audit log.
 * Load: the school admin's pace, a few indexed statements a request.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/passage.h"
#include "node.h"
#include "school/school.h"

#define ADMINS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN)

bool passage_card_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == ':' || c == '-'))
            return false;
    }
    return true;
}

static bool kind_valid(const char *k)
{
    return strcmp(k, "card") == 0 || strcmp(k, "bracelet") == 0 || strcmp(k, "fob") == 0;
}

/* The columns card_json reads, of `cards k`. */
#define CARD_COLUMNS                                                                               \
    "k.id, k.card, k.kind, k.student_id, k.institution_id, k.issued_at, k.blocked_at, "            \
    "k.blocked_reason, k.replaced_by"

/* Columns i.. of CARD_COLUMNS as a carrier: {"id", "card", "kind", "student_id",
 * "institution_id", "issued_at", "blocked", "blocked_at", "blocked_reason", "replaced_by"}. A
 * new reference. */
static json_t *card_json(sqlite3_stmt *st, int i)
{
    bool blocked = sqlite3_column_type(st, i + 6) != SQLITE_NULL;
    json_t *o =
        json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:b}", "id", (json_int_t)sqlite3_column_int64(st, i),
                  "card", db_col_text(st, i + 1), "kind", db_col_text(st, i + 2), "student_id",
                  (json_int_t)sqlite3_column_int64(st, i + 3), "institution_id",
                  (json_int_t)sqlite3_column_int64(st, i + 4), "issued_at",
                  (json_int_t)sqlite3_column_int64(st, i + 5), "blocked", blocked);
    json_object_set_new(o, "blocked_at",
                        blocked ? json_integer(sqlite3_column_int64(st, i + 6)) : json_null());
    json_object_set_new(o, "blocked_reason",
                        sqlite3_column_type(st, i + 7) == SQLITE_NULL
                            ? json_null()
                            : json_string(db_col_text(st, i + 7)));
    json_object_set_new(o, "replaced_by",
                        sqlite3_column_type(st, i + 8) == SQLITE_NULL
                            ? json_null()
                            : json_integer(sqlite3_column_int64(st, i + 8)));
    return o;
}

static json_t *card_row(sqlite3_stmt *st)
{
    return card_json(st, 0);
}

/* Carrier `id` as card_json makes it, or NULL (no such carrier, or a storage failure). */
static json_t *card_get(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_query(db, "SELECT " CARD_COLUMNS " FROM cards k WHERE k.id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    json_t *o = NULL;
    int rc;
    while (db_next(st, &rc)) /* by primary key: one row at most */
        o = card_json(st, 0);
    if (rc != SQLITE_DONE) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A carrier as its changes need it. */
struct card_ref {
    int64_t id, student, institution;
    bool blocked;
    char kind[16];
};

/* Finds carrier `id` and checks that the caller may change it: the region admin, or the school
 * admin of the student's current school (of the school that issued it, when the student studies
 * nowhere now). 0 to go on; -1 once answered (404 no such carrier, 403, 500). */
static int card_write_or_respond(struct req *r, int64_t id, struct card_ref *out)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT student_id, institution_id, blocked_at IS NOT NULL, kind "
                                "FROM cards WHERE id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    *out = (struct card_ref){0};
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        out->id = id;
        out->student = sqlite3_column_int64(st, 0);
        out->institution = sqlite3_column_int64(st, 1);
        out->blocked = sqlite3_column_int(st, 2) != 0;
        snprintf(out->kind, sizeof(out->kind), "%s", db_col_text(st, 3));
    }
    if (rc != SQLITE_DONE) {
        reply_db_error(r);
        return -1;
    }
    if (out->id == 0) {
        reply_error(r, 404, "not_found", "no such card");
        return -1;
    }
    int64_t now = mosk_student_school(r->db, out->student);
    if (now < 0) {
        reply_db_error(r);
        return -1;
    }
    if (now > 0)
        out->institution = now;
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, out->institution))
        return 0;
    reply_error(r, 403, "forbidden", "cards are changed by the admin of the student's school");
    return -1;
}

/* Inserts a carrier for `student` issued at `school`. Its id, 0 when the identifier is taken
 * (answered 409), -1 on a storage failure (answered 500). */
static int64_t card_insert_or_respond(struct req *r, int64_t student, int64_t school,
                                      const char *card, const char *kind)
{
    int rc = db_run(r->db,
                    "INSERT INTO cards (card, student_id, kind, institution_id, issued_by) "
                    "VALUES (:c, :s, :k, :i, nullif(:by, 0))",
                    DB_ARGS(DB_TEXT(":c", card), DB_INT(":s", student), DB_TEXT(":k", kind),
                            DB_INT(":i", school), DB_INT(":by", r->caller.account_id)));
    if (rc == SQLITE_DONE)
        return db_last_id(r->db);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        reply_field_error(r, 409, "card_taken", "card", "this identifier is already issued");
        return 0;
    }
    reply_db_error(r);
    return -1;
}

/* The body of an issue or a replacement, {"card", "kind"?}, checked. 0, or -1 once answered. */
static int card_body_or_respond(struct req *r, const char **card, const char **kind)
{
    *kind = NULL;
    if (body_unpack_or_respond(r, "{s:s,s?s}", "card", card, "kind", kind) != 0)
        return -1;
    if (!passage_card_valid(*card)) {
        reply_field_error(r, 400, "bad_card", "card",
                          "card: 4 to 64 characters of 0-9, A-Z, a-z, ':' and '-'");
        return -1;
    }
    if (*kind != NULL && !kind_valid(*kind)) {
        reply_field_error(r, 400, "bad_card_kind", "kind", "kind: card, bracelet or fob");
        return -1;
    }
    return 0;
}

/* POST /api/v1/students/{id}/cards {"card", "kind"?}: issues a carrier to the student at their
 * current school and makes their meal account. 201 the carrier. */
static int cards_issue(struct req *r)
{
    int64_t student = r->params[0];
    const char *card, *kind;
    if (card_body_or_respond(r, &card, &kind) != 0)
        return r->status;
    if (authz_student_or_respond(r, student, AUTHZ_WRITE) != 0)
        return r->status;
    int64_t school = mosk_student_school(r->db, student);
    if (school <= 0) /* authz found the current enrolment: none now is a failure */
        return reply_db_error(r);
    int64_t id = card_insert_or_respond(r, student, school, card, kind ? kind : "card");
    if (id <= 0)
        return r->status;
    if (mosk_account_ensure(r->db, student) != 0)
        return reply_db_error(r);
    if (school_audit_or_respond(r, school, "card.issue", "card", id,
                                json_pack("{s:I,s:s}", "student_id", (json_int_t)student, "kind",
                                          kind ? kind : "card")) != 0)
        return r->status;
    json_t *o = card_get(r->db, id);
    return o ? reply_json(r, 201, o) : reply_db_error(r);
}

/* GET /api/v1/students/{id}/cards: the student's carriers, those in use first, newest first;
 * for whoever may see the student. */
static int cards_of_student(struct req *r)
{
    if (authz_student_or_respond(r, r->params[0], AUTHZ_READ) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " CARD_COLUMNS " FROM cards k WHERE k.student_id = :s "
                                "ORDER BY k.blocked_at IS NOT NULL, k.id DESC",
                                DB_ARGS(DB_INT(":s", r->params[0])));
    return reply_rows(r, st, card_row);
}

/* POST /api/v1/cards/{id}/block {"reason": "lost"|"other"}: the carrier opens and pays no more.
 * 409 card_blocked when it is blocked already. 200 the carrier. */
static int cards_block(struct req *r)
{
    const char *reason;
    if (body_unpack_or_respond(r, "{s:s}", "reason", &reason) != 0)
        return r->status;
    if (strcmp(reason, "lost") != 0 && strcmp(reason, "other") != 0)
        return reply_field_error(r, 400, "bad_block_reason", "reason", "reason: lost or other");
    struct card_ref c;
    if (card_write_or_respond(r, r->params[0], &c) != 0)
        return r->status;
    if (c.blocked)
        return reply_error(r, 409, "card_blocked", "the card is blocked already");
    if (db_run(r->db,
               "UPDATE cards SET blocked_at = unixepoch(), blocked_reason = :r WHERE id = :id",
               DB_ARGS(DB_TEXT(":r", reason), DB_INT(":id", c.id))) != SQLITE_DONE)
        return reply_db_error(r);
    if (school_audit_or_respond(
            r, c.institution, "card.block", "card", c.id,
            json_pack("{s:I,s:s}", "student_id", (json_int_t)c.student, "reason", reason)) != 0)
        return r->status;
    json_t *o = card_get(r->db, c.id);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* POST /api/v1/cards/{id}/replace {"card", "kind"?}: in one step, blocks the carrier (reason
 * "replaced", replaced_by the new one) and issues the new one (of the old one's kind unless
 * given). 201 the new carrier with the old one as "replaced". */
static int cards_replace(struct req *r)
{
    const char *card, *kind;
    if (card_body_or_respond(r, &card, &kind) != 0)
        return r->status;
    struct card_ref c;
    if (card_write_or_respond(r, r->params[0], &c) != 0)
        return r->status;
    if (c.blocked)
        return reply_error(r, 409, "card_blocked",
                           "the card is blocked already: issue a new one to the student");
    int64_t id = card_insert_or_respond(r, c.student, c.institution, card, kind ? kind : c.kind);
    if (id <= 0)
        return r->status;
    if (db_run(r->db,
               "UPDATE cards SET blocked_at = unixepoch(), blocked_reason = 'replaced', "
               "replaced_by = :new WHERE id = :id",
               DB_ARGS(DB_INT(":new", id), DB_INT(":id", c.id))) != SQLITE_DONE ||
        mosk_account_ensure(r->db, c.student) != 0)
        return reply_db_error(r);
    if (school_audit_or_respond(r, c.institution, "card.replace", "card", c.id,
                                json_pack("{s:I,s:I}", "student_id", (json_int_t)c.student,
                                          "replaced_by", (json_int_t)id)) != 0)
        return r->status;
    json_t *fresh = card_get(r->db, id), *old = card_get(r->db, c.id);
    if (fresh == NULL || old == NULL) {
        json_decref(fresh);
        json_decref(old);
        return reply_db_error(r);
    }
    json_object_set_new(fresh, "replaced", old);
    return reply_json(r, 201, fresh);
}

#define SCHOOL_CARDS_MAX 300

/* GET /api/v1/institutions/{id}/cards?class=&q=: the school's students (of one class, or whose
 * name holds q, or who carry the identifier q) with their carriers, by class and name, at most
 * SCHOOL_CARDS_MAX ("more": true when there are others). For the school's admin and the region
 * admin. */
static int cards_of_school(struct req *r)
{
    int64_t inst = r->params[0], cls = 0;
    char buf[32], q[MOSK_SEARCH_MAX], like1[2 * MOSK_SEARCH_MAX], like2[2 * MOSK_SEARCH_MAX];
    int n = req_query(r, "class", buf, sizeof(buf));
    if (n == -2)
        return reply_field_error(r, 400, "bad_request", "class", "class: a class id");
    if (n > 0) {
        char *end;
        long long v = strtoll(buf, &end, 10);
        if (*end != '\0' || v <= 0)
            return reply_field_error(r, 400, "bad_request", "class", "class: a class id");
        cls = v;
    }
    if (mosk_query_search_or_respond(r, q, like1, like2) != 0 ||
        authz_institution_or_respond(r, inst, AUTHZ_WRITE) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT s.pid, s.last_name, s.first_name, s.middle_name, s.cid, s.grade, s.letter, "
        "k.id IS NOT NULL, " CARD_COLUMNS " FROM (SELECT p.id AS pid, p.last_name, "
        "p.first_name, p.middle_name, c.id AS cid, c.grade, c.letter FROM classes c JOIN "
        "enrollments e ON e.class_id = c.id AND e.left_on IS NULL JOIN persons p ON p.id = "
        "e.student_id WHERE c.institution_id = :i AND (:cls = 0 OR c.id = :cls) AND (:q = '' OR "
        "p.last_name || ' ' || p.first_name || ' ' || p.middle_name LIKE :l1 ESCAPE '\\' OR "
        "p.last_name || ' ' || p.first_name || ' ' || p.middle_name LIKE :l2 ESCAPE '\\' OR "
        "EXISTS (SELECT 1 FROM cards x WHERE x.card = :q AND x.student_id = p.id)) "
        "ORDER BY c.grade, c.letter, p.last_name, p.first_name, p.id LIMIT :lim) s "
        "LEFT JOIN cards k ON k.student_id = s.pid "
        "ORDER BY s.grade, s.letter, s.last_name, s.first_name, s.pid, "
        "k.blocked_at IS NOT NULL, k.id DESC",
        DB_ARGS(DB_INT(":i", inst), DB_INT(":cls", cls), DB_TEXT(":q", q), DB_TEXT(":l1", like1),
                DB_TEXT(":l2", like2), DB_INT(":lim", SCHOOL_CARDS_MAX + 1)));
    json_t *items = json_array();
    json_t *cur = NULL;
    int64_t cur_id = 0;
    int rc;
    while (db_next(st, &rc)) {
        int64_t pid = sqlite3_column_int64(st, 0);
        if (cur == NULL || pid != cur_id) {
            cur = json_pack("{s:{s:I,s:o},s:o,s:[]}", "student", "id", (json_int_t)pid, "name",
                            ref_person_name(st, 1), "class", ref_class(st, 4), "cards");
            json_array_append_new(items, cur);
            cur_id = pid;
        }
        if (sqlite3_column_int(st, 7))
            json_array_append_new(json_object_get(cur, "cards"), card_json(st, 8));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    bool more = json_array_size(items) > SCHOOL_CARDS_MAX;
    if (more)
        json_array_remove(items, SCHOOL_CARDS_MAX);
    return reply_json(r, 200, json_pack("{s:o,s:b}", "items", items, "more", more));
}

const struct route cards_routes[] = {
    {.method = "POST",
     .path = "/api/v1/students/{id}/cards",
     .handler = cards_issue,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "card_issue"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/cards",
     .handler = cards_of_student,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "card_list"},
    {.method = "POST",
     .path = "/api/v1/cards/{id}/block",
     .handler = cards_block,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "card_block"},
    {.method = "POST",
     .path = "/api/v1/cards/{id}/replace",
     .handler = cards_replace,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .writes = true,
     .name = "card_replace"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/cards",
     .handler = cards_of_school,
     .access = ACCESS_USER,
     .allow = ADMINS,
     .name = "school_cards"},
    {0},
};
