/*
 * «Москвёнок»'s menu (docs/moskvenok.md, "The menu"): a school's buffet goods, the day's
 * complexes (breakfast, lunch, the after-school snack), who eats free and why, and the
 * kitchen's order for a school day. Schema: meals.sql (buffet_items, meal_complexes), the
 * benefit of meal_accounts (moskvenok.sql), and menu.sql (the index that lets a complex be
 * removed without a pass over every sale line).
 *
 * Who may do what: the school's menu and goods are read by the region admin, the school's
 * staff (anyone holding a role at it, the canteen operator included), and its students and
 * their parents; they are written by the school's canteen operator, its admin and the region
 * admin, and every write is audited. A student's entitlement is read by the family and the
 * school's staff; the benefit is given by the school's admin. The kitchen's order is the
 * canteen operator's and the school admin's.
 *
 * Load: a school edits its menu a few times a week; the kitchen's order reads the school's
 * current enrolments once (a thousand rows) and its sales of the last ten days with sales
 * (through sales_by_school_day).
 */
#include "moskvenok/meals.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "assets.h"
#include "moskvenok/moskvenok.h"
#include "node.h"
#include "school/school.h"

#define KINDS      3 /* breakfast, lunch, snack: enum mosk_complex's bits 0..2 */
#define MAX_DISHES 20

static const char *const categories[] = {"hot",   "bakery", "dairy",  "drinks",
                                         "fruit", "sweets", "snacks", NULL};

/* ---- the free rules --------------------------------------------------------------------- */

/* The kinds of `mask` as a JSON array of names, in the order breakfast, lunch, snack. */
static json_t *kinds_json(unsigned mask)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < KINDS; i++)
        if (mask & (1u << i))
            json_array_append_new(a, json_string(mosk_complex_name(1u << i)));
    return a;
}

/* ---- days ---------------------------------------------------------------------------------- */

int meals_next_school_day(struct db *db, int64_t institution, const char *today, char out[16])
{
    char limit[16];
    if (mosk_day_add(today, 28, limit) != 0 || mosk_day_add(today, 1, out) != 0)
        return -1;
    char *first = NULL;
    int rc =
        db_text(db, &first,
                "SELECT min(l.date) FROM classes c JOIN lessons l ON l.class_id = c.id "
                "WHERE c.institution_id = :i AND l.date > :t AND l.date <= :lim AND "
                "l.cancelled = 0",
                DB_ARGS(DB_INT(":i", institution), DB_TEXT(":t", today), DB_TEXT(":lim", limit)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    bool found = first != NULL && school_date_ok(first);
    if (found)
        snprintf(out, 16, "%s", first);
    free(first);
    if (found)
        return 0;
    for (int i = 1; i <= 14; i++) {
        char d[16];
        if (mosk_day_add(today, i, d) != 0)
            return -1;
        if (mosk_weekday(d) >= 6)
            continue;
        int off =
            db_exists(db, "SELECT 1 FROM holidays WHERE date = :d", DB_ARGS(DB_TEXT(":d", d)));
        if (off < 0)
            return -1;
        if (off == 0) {
            memcpy(out, d, 16);
            return 0;
        }
    }
    return 0; /* the day after today, set above */
}

/* Today in the node's time zone. */
static void meals_today(char out[16])
{
    mosk_local_day(time(NULL), out);
}

/* ---- who may see and change a school's menu ---------------------------------------------------
 */

/* Whether the caller holds a staff role scoped to `inst` (a teacher, the medic, the canteen
 * operator, its admin); a student's or a parent's grant never makes one staff. */
static bool works_at(const struct req *r, int64_t inst)
{
    for (int i = 0; i < r->caller.ngrants; i++)
        if (r->caller.grants[i].institution_id == inst &&
            !(r->caller.grants[i].role & (ROLE_STUDENT | ROLE_PARENT)))
            return true;
    return false;
}

/* 0 when the school exists; -1 once answered (404, or 500). */
static int school_or_respond(struct req *r, int64_t inst)
{
    int e =
        db_exists(r->db, "SELECT 1 FROM institutions WHERE id = :i", DB_ARGS(DB_INT(":i", inst)));
    if (e == 1)
        return 0;
    if (e < 0)
        reply_db_error(r);
    else
        reply_error(r, 404, "not_found", "no such institution");
    return -1;
}

/* The school's menu and goods are read by the region admin, the school's staff, its students
 * and the parents of its students. 0 to go on; -1 once answered (404 no such school, 403). */
static int meals_reader_or_respond(struct req *r, int64_t inst)
{
    if (school_or_respond(r, inst) != 0)
        return -1;
    if (caller_is_admin(r) || works_at(r, inst))
        return 0;
    if (r->caller.person_id != 0 && caller_has(r, ROLE_STUDENT, inst)) {
        int e = db_exists(r->db,
                          "SELECT 1 FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE "
                          "e.student_id = :p AND e.left_on IS NULL AND c.institution_id = :i",
                          DB_ARGS(DB_INT(":p", r->caller.person_id), DB_INT(":i", inst)));
        if (e < 0) {
            reply_db_error(r);
            return -1;
        }
        if (e > 0)
            return 0;
    }
    if (r->caller.person_id != 0 && caller_has(r, ROLE_PARENT, inst)) {
        int e = db_exists(r->db,
                          "SELECT 1 FROM guardians g JOIN enrollments e ON e.student_id = "
                          "g.student_id AND e.left_on IS NULL JOIN classes c ON c.id = e.class_id "
                          "WHERE g.guardian_id = :p AND c.institution_id = :i",
                          DB_ARGS(DB_INT(":p", r->caller.person_id), DB_INT(":i", inst)));
        if (e < 0) {
            reply_db_error(r);
            return -1;
        }
        if (e > 0)
            return 0;
    }
    reply_error(r, 403, "forbidden", "the menu is the school's, its students' and their parents'");
    return -1;
}

/* The school's menu and goods are written by its canteen operator, its admin and the region
 * admin; the kitchen's order is theirs too. 0 to go on; -1 once answered (404, 403). */
static int meals_writer_or_respond(struct req *r, int64_t inst)
{
    if (school_or_respond(r, inst) != 0)
        return -1;
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, inst) ||
        caller_has(r, ROLE_CANTEEN, inst))
        return 0;
    reply_error(r, 403, "forbidden", "only the school's canteen operator and admin do this");
    return -1;
}

/* ---- checking input ---------------------------------------------------------------------------
 */

/* The request's body object, or NULL after answering 400. */
static json_t *body_or_respond(struct req *r)
{
    if (r->body == NULL || !json_is_object(r->body))
        reply_error(r, 400, "bad_request", "a JSON object body is required");
    return r->body;
}

/* Refuses a member of `o` not named in `names` (NULL-ended): 400 naming it, prefixed by
 * `prefix` ("complexes[0]."). 0, or -1 once answered. */
static int only_fields_or_respond(struct req *r, json_t *o, const char *const *names,
                                  const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        const char *const *n = names;
        while (*n && strcmp(*n, key) != 0)
            n++;
        if (*n == NULL) {
            char field[160];
            snprintf(field, sizeof(field), "%s%s", prefix, key);
            reply_field_error(r, 400, "bad_request", field, "unknown field %s", field);
            return -1;
        }
    }
    return 0;
}

/* `s` without the white space around it, into out. False when it does not fit. */
static bool trim_copy(const char *s, char *out, size_t size)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= size)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* `v` as a text of 1..max characters once trimmed, into out. False when it is not one. */
static bool text_value(json_t *v, size_t max, char *out, size_t size)
{
    return json_is_string(v) && trim_copy(json_string_value(v), out, size) &&
           school_text_ok(out, 1, max);
}

/* `v` as a price in kopecks, min..MEALS_MAX_PRICE. */
static bool price_value(json_t *v, int64_t min, int64_t *out)
{
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return *out >= min && *out <= MEALS_MAX_PRICE;
}

static bool category_known(const char *c)
{
    for (const char *const *p = categories; *p; p++)
        if (strcmp(*p, c) == 0)
            return true;
    return false;
}

/* ---- buffet items ------------------------------------------------------------------------------
 */

#define ITEM_COLUMNS "id, name, category, price, active, institution_id"
/* The categories in the order the pages list them. */
#define ITEM_ORDER                                                                                 \
    "instr('hot bakery dairy drinks fruit sweets snacks', category), name COLLATE NOCASE, id"

static json_t *item_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     db_col_text(st, 1), "category", db_col_text(st, 2), "price",
                     (json_int_t)sqlite3_column_int64(st, 3), "active",
                     sqlite3_column_int(st, 4) != 0);
}

/* The school's buffet items (only those on sale unless `all`), or NULL on a storage failure. */
static json_t *items_json(struct db *db, int64_t inst, bool all)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT " ITEM_COLUMNS " FROM buffet_items WHERE "
                                "institution_id = :i AND (active = 1 OR :all) ORDER BY " ITEM_ORDER,
                                DB_ARGS(DB_INT(":i", inst), DB_INT(":all", all)));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, item_row(st));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return NULL;
    }
    return items;
}

/* Item `id` (its school into *inst), or NULL: 404 answered, or 500. */
static json_t *item_or_respond(struct req *r, int64_t id, int64_t *inst)
{
    sqlite3_stmt *st = db_query(r->db, "SELECT " ITEM_COLUMNS " FROM buffet_items WHERE id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    json_t *item = NULL;
    int rc;
    while (db_next(st, &rc)) {
        json_decref(item);
        item = item_row(st);
        *inst = sqlite3_column_int64(st, 5);
    }
    if (rc != SQLITE_DONE) {
        json_decref(item);
        reply_db_error(r);
        return NULL;
    }
    if (item == NULL)
        reply_error(r, 404, "not_found", "no such buffet item");
    return item;
}

/* GET /api/v1/institutions/{id}/buffet/items[?all=1]: the school's goods on sale (all: those
 * taken off sale too). */
static int meals_items_list(struct req *r)
{
    int64_t inst = r->params[0];
    char all[8] = "";
    if (req_query(r, "all", all, sizeof(all)) < -1 ||
        (all[0] && strcmp(all, "1") != 0 && strcmp(all, "0") != 0))
        return reply_field_error(r, 400, "bad_request", "all", "all: 1 or 0");
    if (meals_reader_or_respond(r, inst) != 0)
        return r->status;
    json_t *items = items_json(r->db, inst, strcmp(all, "1") == 0);
    if (items == NULL)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/institutions/{id}/buffet/items {name, category, price}: a new item on sale. */
static int meals_item_create(struct req *r)
{
    int64_t inst = r->params[0];
    static const char *const fields[] = {"name", "category", "price", NULL};
    json_t *b = body_or_respond(r);
    if (b == NULL || only_fields_or_respond(r, b, fields, "") != 0)
        return r->status;
    char name[512];
    int64_t price;
    json_t *cat = json_object_get(b, "category");
    if (!text_value(json_object_get(b, "name"), 100, name, sizeof(name)))
        return reply_field_error(r, 400, "bad_request", "name", "name: 1-100 characters");
    if (!json_is_string(cat) || !category_known(json_string_value(cat)))
        return reply_field_error(r, 400, "bad_request", "category",
                                 "category: hot, bakery, dairy, drinks, fruit, sweets or snacks");
    if (!price_value(json_object_get(b, "price"), 1, &price))
        return reply_field_error(r, 400, "bad_request", "price", "price: whole kopecks, 1 to %d",
                                 MEALS_MAX_PRICE);
    if (meals_writer_or_respond(r, inst) != 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO buffet_items (institution_id, name, category, price) VALUES (:i, :n, "
               ":c, :p)",
               DB_ARGS(DB_INT(":i", inst), DB_TEXT(":n", name),
                       DB_TEXT(":c", json_string_value(cat)), DB_INT(":p", price))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    json_t *item = item_or_respond(r, id, &inst);
    if (item == NULL)
        return r->status;
    if (school_audit_or_respond(r, inst, "buffet.item_create", "buffet_item", id,
                                json_deep_copy(item)) != 0) {
        json_decref(item);
        return r->status;
    }
    return reply_json(r, 201, item);
}

/* PUT /api/v1/buffet/items/{id} {name?, category?, price?, active?}: changes an item; what is
 * not given stays. Sales already made keep the price they were sold at. */
static int meals_item_update(struct req *r)
{
    int64_t id = r->params[0], inst = 0;
    static const char *const fields[] = {"name", "category", "price", "active", NULL};
    json_t *b = body_or_respond(r);
    if (b == NULL || only_fields_or_respond(r, b, fields, "") != 0)
        return r->status;
    if (json_object_size(b) == 0)
        return reply_error(r, 400, "bad_request", "nothing to change");
    char name[512] = "";
    int64_t price = -1;
    json_t *v;
    const char *category = NULL;
    int active = -1;
    if ((v = json_object_get(b, "name")) != NULL && !text_value(v, 100, name, sizeof(name)))
        return reply_field_error(r, 400, "bad_request", "name", "name: 1-100 characters");
    if ((v = json_object_get(b, "category")) != NULL) {
        if (!json_is_string(v) || !category_known(json_string_value(v)))
            return reply_field_error(r, 400, "bad_request", "category",
                                     "category: hot, bakery, dairy, drinks, fruit, sweets or "
                                     "snacks");
        category = json_string_value(v);
    }
    if ((v = json_object_get(b, "price")) != NULL && !price_value(v, 1, &price))
        return reply_field_error(r, 400, "bad_request", "price", "price: whole kopecks, 1 to %d",
                                 MEALS_MAX_PRICE);
    if ((v = json_object_get(b, "active")) != NULL) {
        if (!json_is_boolean(v))
            return reply_field_error(r, 400, "bad_request", "active", "active: true or false");
        active = json_is_true(v);
    }
    json_t *before = item_or_respond(r, id, &inst);
    if (before == NULL)
        return r->status;
    json_decref(before);
    if (meals_writer_or_respond(r, inst) != 0)
        return r->status;
    if (db_run(r->db,
               "UPDATE buffet_items SET name = coalesce(nullif(:n, ''), name), category = "
               "coalesce(:c, category), price = CASE WHEN :p >= 0 THEN :p ELSE price END, active "
               "= CASE WHEN :a >= 0 THEN :a ELSE active END WHERE id = :id",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":c", category), DB_INT(":p", price),
                       DB_INT(":a", active), DB_INT(":id", id))) != SQLITE_DONE)
        return reply_db_error(r);
    json_t *item = item_or_respond(r, id, &inst);
    if (item == NULL)
        return r->status;
    if (school_audit_or_respond(r, inst, "buffet.item_update", "buffet_item", id,
                                json_deep_copy(b)) != 0) {
        json_decref(item);
        return r->status;
    }
    return reply_json(r, 200, item);
}

/* DELETE /api/v1/buffet/items/{id}: takes the item off sale (it stays: sales name it). */
static int meals_item_remove(struct req *r)
{
    int64_t id = r->params[0], inst = 0;
    json_t *before = item_or_respond(r, id, &inst);
    if (before == NULL)
        return r->status;
    json_decref(before);
    if (meals_writer_or_respond(r, inst) != 0)
        return r->status;
    if (db_run(r->db, "UPDATE buffet_items SET active = 0 WHERE id = :id",
               DB_ARGS(DB_INT(":id", id))) != SQLITE_DONE)
        return reply_db_error(r);
    json_t *item = item_or_respond(r, id, &inst);
    if (item == NULL)
        return r->status;
    if (school_audit_or_respond(r, inst, "buffet.item_remove", "buffet_item", id, NULL) != 0) {
        json_decref(item);
        return r->status;
    }
    return reply_json(r, 200, item);
}

/* ---- the day's complexes -------------------------------------------------------------------- */

/* One complex of a request, checked. `dishes` is its dishes as compact JSON (malloc'ed). */
struct complex_in {
    unsigned bit;
    int64_t price;
    char *dishes;
};

static void complexes_free(struct complex_in *c, int n)
{
    for (int i = 0; i < n; i++)
        free(c[i].dishes);
}

/* The complexes of a request (`list`, the body's array) into c[0..KINDS), their number into
 * *n. 0, or -1 after answering 400 naming the field ("complexes[1].price"). */
static int complexes_parse_or_respond(struct req *r, json_t *list, struct complex_in c[KINDS],
                                      int *n)
{
    static const char *const fields[] = {"kind", "price", "dishes", NULL};
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) > KINDS) {
        reply_field_error(r, 400, "bad_request", "complexes", "complexes: a list of at most %d",
                          KINDS);
        return -1;
    }
    unsigned seen = 0;
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        char prefix[48], field[64];
        snprintf(prefix, sizeof(prefix), "complexes[%zu].", i);
        if (!json_is_object(o)) {
            snprintf(field, sizeof(field), "complexes[%zu]", i);
            reply_field_error(r, 400, "bad_request", field, "%s: an object", field);
            goto fail;
        }
        if (only_fields_or_respond(r, o, fields, prefix) != 0)
            goto fail;
        json_t *kind = json_object_get(o, "kind"), *dishes = json_object_get(o, "dishes");
        unsigned bit = json_is_string(kind) ? mosk_complex_bit(json_string_value(kind)) : 0;
        if (bit == 0 || (seen & bit)) {
            snprintf(field, sizeof(field), "%skind", prefix);
            reply_field_error(r, 400, "bad_request", field,
                              "%s: breakfast, lunch or snack, each at most once", field);
            goto fail;
        }
        seen |= bit;
        int64_t price;
        if (!price_value(json_object_get(o, "price"), 0, &price)) {
            snprintf(field, sizeof(field), "%sprice", prefix);
            reply_field_error(r, 400, "bad_request", field, "%s: whole kopecks, 0 to %d", field,
                              MEALS_MAX_PRICE);
            goto fail;
        }
        snprintf(field, sizeof(field), "%sdishes", prefix);
        if (!json_is_array(dishes) || json_array_size(dishes) < 1 ||
            json_array_size(dishes) > MAX_DISHES) {
            reply_field_error(r, 400, "bad_request", field, "%s: 1 to %d dishes", field,
                              MAX_DISHES);
            goto fail;
        }
        json_t *clean = json_array();
        size_t j;
        json_t *d;
        json_array_foreach(dishes, j, d)
        {
            char dish[1024];
            if (!text_value(d, 200, dish, sizeof(dish))) {
                json_decref(clean);
                reply_field_error(r, 400, "bad_request", field, "%s: each dish 1-200 characters",
                                  field);
                goto fail;
            }
            json_array_append_new(clean, json_string(dish));
        }
        char *text = json_dumps(clean, JSON_COMPACT);
        json_decref(clean);
        if (text == NULL) {
            reply_error(r, 503, "unavailable", "out of memory");
            goto fail;
        }
        c[*n] = (struct complex_in){.bit = bit, .price = price, .dishes = text};
        (*n)++;
    }
    return 0;
fail:
    complexes_free(c, *n);
    *n = 0;
    return -1;
}

/* The kinds in the pages' order, as SQL. */
#define KIND_ORDER "CASE kind WHEN 'breakfast' THEN 1 WHEN 'lunch' THEN 2 ELSE 3 END"

/* The complexes of a school's day as JSON, or NULL on a storage failure. */
static json_t *complexes_json(struct db *db, int64_t inst, const char *day)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT id, kind, price, dishes FROM meal_complexes WHERE "
                                "institution_id = :i AND day = :d ORDER BY " KIND_ORDER,
                                DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day)));
    json_t *list = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *dishes = json_loads(db_col_text(st, 3), 0, NULL);
        if (!json_is_array(dishes)) {
            json_decref(dishes);
            dishes = json_array();
        }
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                            "kind", db_col_text(st, 1), "price",
                            (json_int_t)sqlite3_column_int64(st, 2), "dishes", dishes));
    }
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* The menu of a school's day: {date, complexes, items (on sale)}. NULL on a storage failure. */
static json_t *menu_json(struct db *db, int64_t inst, const char *day)
{
    json_t *complexes = complexes_json(db, inst, day);
    json_t *items = complexes ? items_json(db, inst, false) : NULL;
    if (items == NULL) {
        json_decref(complexes);
        return NULL;
    }
    return json_pack("{s:s,s:I,s:o,s:o}", "date", day, "institution_id", (json_int_t)inst,
                     "complexes", complexes, "items", items);
}

/* Makes the complexes of a school's day those of c[0..n): a kind already there keeps its id
 * and takes the new price and dishes, a new kind is added, and a kind no longer given is
 * removed unless something was sold of it. 0 done; 1 when a complex to remove was sold (its
 * kind into *sold, nothing changed); -1 on a storage failure. */
static int menu_replace(struct db *db, int64_t inst, const char *day, const struct complex_in *c,
                        int n, const char **sold)
{
    int64_t ids[KINDS] = {0};
    sqlite3_stmt *st = db_query(db,
                                "SELECT id, kind FROM meal_complexes WHERE institution_id = :i "
                                "AND day = :d",
                                DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day)));
    int rc;
    while (db_next(st, &rc)) {
        unsigned bit = mosk_complex_bit(db_col_text(st, 1));
        for (unsigned k = 0; k < KINDS; k++)
            if (bit == 1u << k)
                ids[k] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE)
        return -1;
    unsigned given = 0;
    for (int i = 0; i < n; i++)
        given |= c[i].bit;
    /* First whether every complex to remove may go: nothing is changed when one may not. */
    for (unsigned k = 0; k < KINDS; k++) {
        if (ids[k] == 0 || (given & (1u << k)))
            continue;
        int e = db_exists(db, "SELECT 1 FROM sale_lines WHERE complex_id = :c",
                          DB_ARGS(DB_INT(":c", ids[k])));
        if (e < 0)
            return -1;
        if (e) {
            *sold = mosk_complex_name(1u << k);
            return 1;
        }
    }
    for (unsigned k = 0; k < KINDS; k++)
        if (ids[k] != 0 && !(given & (1u << k)) &&
            db_run(db, "DELETE FROM meal_complexes WHERE id = :c", DB_ARGS(DB_INT(":c", ids[k]))) !=
                SQLITE_DONE)
            return -1;
    for (int i = 0; i < n; i++) {
        unsigned k = 0;
        while (c[i].bit != 1u << k)
            k++;
        rc =
            ids[k] != 0
                ? db_run(db, "UPDATE meal_complexes SET price = :p, dishes = :dishes WHERE id = :c",
                         DB_ARGS(DB_INT(":p", c[i].price), DB_TEXT(":dishes", c[i].dishes),
                                 DB_INT(":c", ids[k])))
                : db_run(db,
                         "INSERT INTO meal_complexes (institution_id, day, kind, price, dishes) "
                         "VALUES (:i, :d, :k, :p, :dishes)",
                         DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", day),
                                 DB_TEXT(":k", mosk_complex_name(c[i].bit)),
                                 DB_INT(":p", c[i].price), DB_TEXT(":dishes", c[i].dishes)));
        if (rc != SQLITE_DONE)
            return -1;
    }
    return 0;
}

/* 409 complex_sold: the complex of `kind` on `day` was sold, so it may be changed, not removed;
 * the error names the request's `field`, the date and the kind. */
static int reply_sold(struct req *r, const char *field, const char *day, const char *kind)
{
    return reply_json(r, 409,
                      json_pack("{s:{s:s,s:o,s:s,s:s,s:s}}", "error", "code", "complex_sold",
                                "message",
                                json_sprintf("the %s of %s was sold: it may be changed, not "
                                             "removed",
                                             kind, day),
                                "field", field, "date", day, "kind", kind));
}

/* GET /api/v1/institutions/{id}/menu?date=YYYY-MM-DD (default today; `next`: the school day
 * from today on, today when it is one): the day's complexes and the goods on sale. */
static int meals_menu_get(struct req *r)
{
    int64_t inst = r->params[0];
    char day[16], yesterday[16];
    bool next = false;
    if (mosk_query_view_day_or_respond(r, "date", "next", day, &next) != 0)
        return r->status;
    if (meals_reader_or_respond(r, inst) != 0)
        return r->status;
    if (next && (mosk_day_add(day, -1, yesterday) != 0 ||
                 meals_next_school_day(r->db, inst, yesterday, day) != 0))
        return reply_db_error(r);
    json_t *menu = menu_json(r->db, inst, day);
    return menu ? reply_json(r, 200, menu) : reply_db_error(r);
}

/* PUT /api/v1/institutions/{id}/menu {date, complexes: [{kind, price, dishes}]}: replaces the
 * day's complexes (menu_replace). */
static int meals_menu_put(struct req *r)
{
    int64_t inst = r->params[0];
    static const char *const fields[] = {"date", "complexes", NULL};
    json_t *b = body_or_respond(r);
    if (b == NULL || only_fields_or_respond(r, b, fields, "") != 0)
        return r->status;
    json_t *date = json_object_get(b, "date");
    if (!json_is_string(date) || !school_date_ok(json_string_value(date)))
        return reply_field_error(r, 400, "bad_date", "date", "date: a date YYYY-MM-DD");
    const char *day = json_string_value(date);
    struct complex_in c[KINDS];
    int n = 0;
    if (complexes_parse_or_respond(r, json_object_get(b, "complexes"), c, &n) != 0)
        return r->status;
    if (meals_writer_or_respond(r, inst) != 0) {
        complexes_free(c, n);
        return r->status;
    }
    const char *sold = NULL;
    int rc = menu_replace(r->db, inst, day, c, n, &sold);
    complexes_free(c, n);
    if (rc < 0)
        return reply_db_error(r);
    if (rc > 0)
        return reply_sold(r, "complexes", day, sold);
    json_t *detail =
        json_pack("{s:s,s:O}", "date", day, "complexes", json_object_get(b, "complexes"));
    if (school_audit_or_respond(r, inst, "menu.update", "institution", inst, detail) != 0)
        return r->status;
    json_t *menu = menu_json(r->db, inst, day);
    return menu ? reply_json(r, 200, menu) : reply_db_error(r);
}

#define MAX_COPY_DAYS 31

/* POST /api/v1/institutions/{id}/menu/copy {from, to, days?}: the complexes of `days` days
 * (1 by default; 5 copies a school week) from `from` on are copied to as many days from `to`
 * on, each day as PUT .../menu would make it; a day without complexes leaves its target as it
 * is. The two ranges may not overlap. */
static int meals_menu_copy(struct req *r)
{
    int64_t inst = r->params[0];
    static const char *const fields[] = {"from", "to", "days", NULL};
    json_t *b = body_or_respond(r);
    if (b == NULL || only_fields_or_respond(r, b, fields, "") != 0)
        return r->status;
    json_t *from = json_object_get(b, "from"), *to = json_object_get(b, "to");
    json_t *days_v = json_object_get(b, "days");
    if (!json_is_string(from) || !school_date_ok(json_string_value(from)))
        return reply_field_error(r, 400, "bad_date", "from", "from: a date YYYY-MM-DD");
    if (!json_is_string(to) || !school_date_ok(json_string_value(to)))
        return reply_field_error(r, 400, "bad_date", "to", "to: a date YYYY-MM-DD");
    int64_t days = 1;
    if (days_v != NULL) {
        if (!json_is_integer(days_v) || json_integer_value(days_v) < 1 ||
            json_integer_value(days_v) > MAX_COPY_DAYS)
            return reply_field_error(r, 400, "bad_request", "days", "days: 1 to %d", MAX_COPY_DAYS);
        days = json_integer_value(days_v);
    }
    long f = mosk_day_number(json_string_value(from)), t = mosk_day_number(json_string_value(to));
    if (labs(t - f) < days)
        return reply_field_error(r, 400, "bad_range", "to",
                                 "to: the days copied to may not overlap those copied from");
    if (meals_writer_or_respond(r, inst) != 0)
        return r->status;
    json_t *copied = json_array(), *skipped = json_array();
    for (int i = 0; i < days; i++) {
        char src[16], dst[16];
        mosk_day_add(json_string_value(from), i, src);
        mosk_day_add(json_string_value(to), i, dst);
        struct complex_in c[KINDS];
        int n = 0;
        sqlite3_stmt *st = db_query(r->db,
                                    "SELECT kind, price, dishes FROM meal_complexes WHERE "
                                    "institution_id = :i AND day = :d",
                                    DB_ARGS(DB_INT(":i", inst), DB_TEXT(":d", src)));
        int rc;
        while (db_next(st, &rc))
            if (n < KINDS)
                c[n++] = (struct complex_in){.bit = mosk_complex_bit(db_col_text(st, 0)),
                                             .price = sqlite3_column_int64(st, 1),
                                             .dishes = strdup(db_col_text(st, 2))};
        bool ok = rc == SQLITE_DONE;
        for (int k = 0; k < n; k++)
            ok = ok && c[k].bit != 0 && c[k].dishes != NULL;
        const char *sold = NULL;
        int done = !ok ? -1 : n == 0 ? 0 : menu_replace(r->db, inst, dst, c, n, &sold);
        complexes_free(c, n);
        if (done != 0) {
            json_decref(copied);
            json_decref(skipped);
            return done < 0 ? reply_db_error(r) : reply_sold(r, "to", dst, sold);
        }
        json_array_append_new(n ? copied : skipped, json_string(dst));
    }
    json_t *detail = json_pack("{s:s,s:s,s:I,s:O}", "from", json_string_value(from), "to",
                               json_string_value(to), "days", (json_int_t)days, "copied", copied);
    if (school_audit_or_respond(r, inst, "menu.copy", "institution", inst, detail) != 0) {
        json_decref(copied);
        json_decref(skipped);
        return r->status;
    }
    return reply_json(r, 200, json_pack("{s:o,s:o}", "copied", copied, "skipped", skipped));
}

/* ---- who eats free ----------------------------------------------------------------------------
 */

/* A student's grade (0: in no class), school (0: none) and benefit (""). 0, or -1 on a storage
 * failure. */
static int student_facts(struct db *db, int64_t student, int *grade, int64_t *school,
                         char benefit[128])
{
    sqlite3_stmt *st =
        db_query(db,
                 "SELECT c.grade, c.institution_id, coalesce((SELECT benefit FROM meal_accounts "
                 "WHERE student_id = :s), '') FROM enrollments e JOIN classes c ON c.id = "
                 "e.class_id WHERE e.student_id = :s AND e.left_on IS NULL ORDER BY e.id DESC "
                 "LIMIT 1",
                 DB_ARGS(DB_INT(":s", student)));
    *grade = 0;
    *school = 0;
    benefit[0] = '\0';
    int rc;
    while (db_next(st, &rc)) {
        *grade = sqlite3_column_int(st, 0);
        *school = sqlite3_column_int64(st, 1);
        snprintf(benefit, 128, "%s", db_col_text(st, 2));
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* {free, reason, benefit, grade, by_grade, by_benefit} of a student. */
static json_t *entitlement_json(const struct mes_config *cfg, int grade, const char *benefit)
{
    unsigned by_grade, by_benefit;
    unsigned all = mosk_free_mask(cfg, grade, benefit, &by_grade, &by_benefit);
    bool listed = mosk_benefit_listed(cfg, benefit);
    const char *reason = by_benefit ? "benefit" : by_grade ? "grade" : NULL;
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "free", kinds_json(all), "reason",
                     reason ? json_string(reason) : json_null(), "benefit",
                     listed ? json_string(benefit) : json_null(), "grade",
                     grade > 0 ? json_integer(grade) : json_null(), "by_grade",
                     kinds_json(by_grade), "by_benefit", kinds_json(by_benefit));
}

/* Who may see a student's entitlement: those who may see the student (the family, the region
 * and school admin, the class's teachers, the medic) and the school's staff (its canteen
 * operator). 0, or -1 once answered. */
static int entitlement_reader_or_respond(struct req *r, int64_t student, int64_t school)
{
    int a = authz_student(r, student, AUTHZ_READ);
    if (a == 1 || (a == 0 && school != 0 && works_at(r, school)))
        return 0;
    if (a == -2)
        reply_db_error(r);
    else if (a == -1)
        reply_error(r, 404, "not_found", "no such student");
    else
        reply_error(r, 403, "forbidden", "the student's meals are the family's and the school's");
    return -1;
}

/* GET /api/v1/students/{id}/meals/entitlement: which complexes the student eats free, and
 * why (their grade, or a benefit category). */
static int meals_entitlement(struct req *r)
{
    int64_t student = r->params[0], school;
    int grade;
    char benefit[128];
    if (student_facts(r->db, student, &grade, &school, benefit) != 0)
        return reply_db_error(r);
    if (entitlement_reader_or_respond(r, student, school) != 0)
        return r->status;
    return reply_json(r, 200, entitlement_json(&r->node->cfg, grade, benefit));
}

/* PUT /api/v1/students/{id}/meals/benefit {benefit}: gives the student one of the region's
 * benefit categories, or takes it ("" ). The school's admin (or the region's). */
static int meals_benefit_set(struct req *r)
{
    int64_t student = r->params[0], school;
    static const char *const fields[] = {"benefit", NULL};
    json_t *b = body_or_respond(r);
    if (b == NULL || only_fields_or_respond(r, b, fields, "") != 0)
        return r->status;
    json_t *v = json_object_get(b, "benefit");
    if (!json_is_string(v))
        return reply_field_error(r, 400, "bad_request", "benefit",
                                 "benefit: a category's name, or \"\"");
    const char *benefit = json_string_value(v);
    if (benefit[0] != '\0' && !mosk_benefit_listed(&r->node->cfg, benefit))
        return reply_field_error(r, 400, "unknown_benefit", "benefit",
                                 "benefit: not one of meals.benefit_categories");
    if (authz_student_or_respond(r, student, AUTHZ_WRITE) != 0)
        return r->status;
    int grade;
    char before[128];
    if (student_facts(r->db, student, &grade, &school, before) != 0 ||
        mosk_account_ensure(r->db, student) != 0 ||
        db_run(r->db, "UPDATE meal_accounts SET benefit = :b WHERE student_id = :s",
               DB_ARGS(DB_TEXT(":b", benefit), DB_INT(":s", student))) != SQLITE_DONE)
        return reply_db_error(r);
    if (strcmp(before, benefit) != 0 &&
        school_audit_or_respond(r, school, "meals.benefit", "student", student,
                                json_pack("{s:s,s:s}", "benefit", benefit, "before", before)) != 0)
        return r->status;
    return reply_json(r, 200, entitlement_json(&r->node->cfg, grade, benefit));
}

/* GET /api/v1/institutions/{id}/meals/benefits[?class=ID]: the school's students with a
 * benefit; with a class, every student of that class with theirs (maybe ""). */
static int meals_benefits_list(struct req *r)
{
    int64_t inst = r->params[0], class_id = 0;
    char buf[32];
    int q = req_query(r, "class", buf, sizeof(buf));
    if (q != -1) {
        char *end;
        class_id = q > 0 ? strtoll(buf, &end, 10) : 0;
        if (q <= 0 || *end != '\0' || class_id <= 0)
            return reply_field_error(r, 400, "bad_request", "class", "class: a class id");
    }
    if (school_or_respond(r, inst) != 0)
        return r->status;
    if (!caller_is_admin(r) && !caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return reply_error(r, 403, "forbidden", "the benefits are the school admin's");
    if (class_id != 0) {
        int64_t of = school_class_institution(r, class_id);
        if (of == -2)
            return reply_db_error(r);
        if (of != inst)
            return reply_error(r, 404, "not_found", "no such class at this school");
    }
    const struct mes_config *cfg = &r->node->cfg;
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT p.id, p.last_name, p.first_name, p.middle_name, c.id, c.grade, c.letter, "
        "coalesce(a.benefit, '') FROM classes c JOIN enrollments e ON e.class_id = c.id AND "
        "e.left_on IS NULL JOIN persons p ON p.id = e.student_id LEFT JOIN meal_accounts a ON "
        "a.student_id = e.student_id WHERE c.institution_id = :i AND (:c = 0 OR c.id = :c) AND "
        "(:c != 0 OR coalesce(a.benefit, '') != '') ORDER BY c.grade, c.letter, p.last_name, "
        "p.first_name, p.id",
        DB_ARGS(DB_INT(":i", inst), DB_INT(":c", class_id)));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        const char *benefit = db_col_text(st, 7);
        unsigned free = mosk_free_mask(cfg, sqlite3_column_int(st, 5), benefit, NULL, NULL);
        json_array_append_new(
            items, json_pack("{s:{s:I,s:o},s:o,s:s,s:b,s:o}", "student", "id",
                             (json_int_t)sqlite3_column_int64(st, 0), "name",
                             ref_person_name(st, 1), "class", ref_class(st, 4), "benefit", benefit,
                             "listed", benefit[0] == '\0' || mosk_benefit_listed(cfg, benefit),
                             "free", kinds_json(free)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    json_t *cats = json_array();
    for (int i = 0; i < cfg->meals.nbenefit_categories; i++)
        json_array_append_new(cats, json_string(cfg->meals.benefit_categories[i]));
    return reply_json(r, 200,
                      json_pack("{s:o,s:o,s:o,s:{s:i,s:i,s:o}}", "categories", cats, "items", items,
                                "benefit_complexes",
                                kinds_json(mosk_kinds_mask(cfg->meals.benefit_complexes)),
                                "free_grades", "from", cfg->meals.free_grade_from, "to",
                                cfg->meals.free_grade_to, "complexes",
                                kinds_json(cfg->meals.free_grade_from > 0
                                               ? mosk_kinds_mask(cfg->meals.free_complexes)
                                               : 0)));
}

/* ---- the kitchen's order ----------------------------------------------------------------------
 */

struct order_class {
    int64_t id;
    int grade;
    char letter[16];
    int enrolled, expected;
    int free[KINDS];
    int64_t paid[KINDS]; /* portions bought over the days with sales */
};

/* One figure of a kind: {kind, free, paid_estimate, portions}. */
static json_t *order_kind(unsigned k, int free, int64_t paid, int days, int64_t *portions)
{
    double mean = days ? (double)paid / days : 0;
    int64_t p = free + (int64_t)ceil(mean - 1e-9);
    if (portions)
        *portions = p;
    return json_pack("{s:s,s:i,s:f,s:I}", "kind", mosk_complex_name(1u << k), "free", free,
                     "paid_estimate", round(mean * 10) / 10, "portions", (json_int_t)p);
}

json_t *meals_order(struct db *db, const struct mes_config *cfg, int64_t institution,
                    const char *date)
{
    struct order_class *rows = NULL;
    size_t n = 0, cap = 0;
    json_t *out = NULL;
    int rc;

    /* The kinds on the day's menu; all of them when it has none yet. */
    unsigned menu = 0;
    sqlite3_stmt *st = db_query(db,
                                "SELECT kind FROM meal_complexes WHERE institution_id = :i AND "
                                "day = :d",
                                DB_ARGS(DB_INT(":i", institution), DB_TEXT(":d", date)));
    while (db_next(st, &rc))
        menu |= mosk_complex_bit(db_col_text(st, 0));
    if (rc != SQLITE_DONE)
        goto done;
    unsigned kinds = menu ? menu : (1u << KINDS) - 1;

    /* Who is enrolled, who is expected, who eats what free. */
    st = db_query(db,
                  "SELECT c.id, c.grade, c.letter, coalesce(a.benefit, ''), EXISTS (SELECT 1 "
                  "FROM absence_notices n WHERE n.student_id = e.student_id AND n.from_date <= "
                  ":d AND n.to_date >= :d) FROM classes c JOIN enrollments e ON e.class_id = c.id "
                  "AND e.left_on IS NULL LEFT JOIN meal_accounts a ON a.student_id = e.student_id "
                  "WHERE c.institution_id = :i ORDER BY c.grade, c.letter, c.id",
                  DB_ARGS(DB_INT(":i", institution), DB_TEXT(":d", date)));
    while (db_next(st, &rc)) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (n == 0 || rows[n - 1].id != id) {
            if (n == cap) {
                size_t more = cap ? cap * 2 : 32;
                struct order_class *p = realloc(rows, more * sizeof(*rows));
                if (p == NULL) {
                    sqlite3_reset(st);
                    goto done;
                }
                rows = p;
                cap = more;
            }
            rows[n] = (struct order_class){.id = id, .grade = sqlite3_column_int(st, 1)};
            snprintf(rows[n].letter, sizeof(rows[n].letter), "%s", db_col_text(st, 2));
            n++;
        }
        struct order_class *c = &rows[n - 1];
        c->enrolled++;
        if (sqlite3_column_int(st, 4))
            continue;
        c->expected++;
        unsigned free = mosk_free_mask(cfg, c->grade, db_col_text(st, 3), NULL, NULL);
        for (unsigned k = 0; k < KINDS; k++)
            if (free & kinds & (1u << k))
                c->free[k]++;
    }
    if (rc != SQLITE_DONE)
        goto done;

    /* The last ten days before the date with sales at the school, and what the classes'
     * students bought and paid for of each kind on them. */
    char first[16] = "", last[16] = "";
    int days = 0;
    st = db_query(db,
                  "SELECT DISTINCT day FROM sales WHERE institution_id = :i AND day < :d "
                  "ORDER BY day DESC LIMIT 10",
                  DB_ARGS(DB_INT(":i", institution), DB_TEXT(":d", date)));
    while (db_next(st, &rc)) {
        if (days == 0)
            snprintf(last, sizeof(last), "%s", db_col_text(st, 0));
        snprintf(first, sizeof(first), "%s", db_col_text(st, 0));
        days++;
    }
    if (rc != SQLITE_DONE)
        goto done;
    if (days > 0) {
        st =
            db_query(db,
                     "SELECT e.class_id, m.kind, sum(l.quantity) FROM sales s JOIN sale_lines l "
                     "ON l.sale_id = s.id JOIN meal_complexes m ON m.id = l.complex_id JOIN "
                     "enrollments e ON e.student_id = s.student_id AND e.left_on IS NULL WHERE "
                     "s.institution_id = :i AND s.day BETWEEN :a AND :b AND s.status = "
                     "'approved' AND s.refunded_at IS NULL AND l.free = 0 GROUP BY e.class_id, "
                     "m.kind",
                     DB_ARGS(DB_INT(":i", institution), DB_TEXT(":a", first), DB_TEXT(":b", last)));
        while (db_next(st, &rc)) {
            int64_t id = sqlite3_column_int64(st, 0);
            unsigned bit = mosk_complex_bit(db_col_text(st, 1));
            for (size_t i = 0; i < n; i++)
                for (unsigned k = 0; rows[i].id == id && k < KINDS; k++)
                    if (bit == 1u << k)
                        rows[i].paid[k] += sqlite3_column_int64(st, 2);
        }
        if (rc != SQLITE_DONE)
            goto done;
    }

    json_t *classes = json_array();
    int enrolled = 0, expected = 0, free_sum[KINDS] = {0};
    int64_t paid_sum[KINDS] = {0}, portions_sum[KINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        struct order_class *c = &rows[i];
        json_t *list = json_array();
        for (unsigned k = 0; k < KINDS; k++) {
            if (!(kinds & (1u << k)))
                continue;
            int64_t portions;
            json_array_append_new(list, order_kind(k, c->free[k], c->paid[k], days, &portions));
            free_sum[k] += c->free[k];
            paid_sum[k] += c->paid[k];
            portions_sum[k] += portions;
        }
        enrolled += c->enrolled;
        expected += c->expected;
        json_array_append_new(
            classes, json_pack("{s:{s:I,s:o},s:i,s:i,s:o}", "class", "id", (json_int_t)c->id,
                               "name", json_sprintf("%d%s", c->grade, c->letter), "enrolled",
                               c->enrolled, "expected", c->expected, "complexes", list));
    }
    json_t *totals = json_array();
    for (unsigned k = 0; k < KINDS; k++) {
        if (!(kinds & (1u << k)))
            continue;
        json_t *o = order_kind(k, free_sum[k], paid_sum[k], days, NULL);
        json_object_set_new(o, "portions", json_integer(portions_sum[k]));
        json_array_append_new(totals, o);
    }
    out = json_pack("{s:s,s:I,s:o,s:b,s:i,s:o,s:{s:i,s:i,s:o}}", "date", date, "institution_id",
                    (json_int_t)institution, "kinds", kinds_json(kinds), "menu", menu != 0,
                    "sales_days", days, "classes", classes, "totals", "enrolled", enrolled,
                    "expected", expected, "complexes", totals);
done:
    free(rows);
    return out;
}

/* Writes `s` as one CSV field (quoted when it holds ';', '"' or a line break). */
static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ";\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* One line of the CSV: the class (or the totals' head), the kind, and the figures. */
static void csv_line(FILE *f, const char *who, const char *kind, json_int_t enrolled,
                     json_int_t expected, const json_t *k)
{
    char paid[32];
    snprintf(paid, sizeof(paid), "%.1f", json_real_value(json_object_get(k, "paid_estimate")));
    char *dot = strchr(paid, '.');
    if (dot)
        *dot = ','; /* the decimal comma a Russian spreadsheet reads */
    csv_field(f, who);
    fputc(';', f);
    csv_field(f, kind);
    fprintf(f, ";%lld;%lld;%lld;%s;%lld\r\n", (long long)enrolled, (long long)expected,
            (long long)json_integer_value(json_object_get(k, "free")), paid,
            (long long)json_integer_value(json_object_get(k, "portions")));
}

int meals_order_csv(const json_t *order, const char *(*text)(const char *key), char **out,
                    size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = open_memstream(out, len);
    if (f == NULL)
        return -1;
    fputs("\xEF\xBB\xBF", f);
    static const char *const heads[] = {
        "kitchen.csv.class", "kitchen.csv.kind", "kitchen.csv.enrolled", "kitchen.csv.expected",
        "kitchen.csv.free",  "kitchen.csv.paid", "kitchen.csv.portions", NULL};
    for (const char *const *h = heads; *h; h++) {
        if (h != heads)
            fputc(';', f);
        csv_field(f, text(*h));
    }
    fputs("\r\n", f);
    size_t i, j;
    json_t *c, *k;
    json_array_foreach(json_object_get(order, "classes"), i, c)
    {
        json_array_foreach(json_object_get(c, "complexes"), j, k)
        {
            char key[48];
            snprintf(key, sizeof(key), "menu.kind.%s",
                     json_string_value(json_object_get(k, "kind")));
            csv_line(f, json_string_value(json_object_get(json_object_get(c, "class"), "name")),
                     text(key), json_integer_value(json_object_get(c, "enrolled")),
                     json_integer_value(json_object_get(c, "expected")), k);
        }
    }
    const json_t *totals = json_object_get(order, "totals");
    json_array_foreach(json_object_get(totals, "complexes"), j, k)
    {
        char key[48];
        snprintf(key, sizeof(key), "menu.kind.%s", json_string_value(json_object_get(k, "kind")));
        csv_line(f, text("kitchen.csv.total"), text(key),
                 json_integer_value(json_object_get(totals, "enrolled")),
                 json_integer_value(json_object_get(totals, "expected")), k);
    }
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* The region's first language's catalog (node/web/i18n/LANG.json, else ru.json), loaded once:
 * the CSV's heads are the interface's words. */
static pthread_mutex_t catalog_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *catalog;

static void catalog_load(const struct mes_config *cfg)
{
    pthread_mutex_lock(&catalog_lock);
    if (catalog == NULL) {
        char path[96];
        const char *lang = cfg->region.nlanguages > 0 ? cfg->region.languages[0] : "ru";
        snprintf(path, sizeof(path), "node/web/i18n/%s.json", lang);
        const struct asset *a = asset_find(path);
        if (a == NULL)
            a = asset_find("node/web/i18n/ru.json");
        catalog = a ? json_loadb((const char *)a->data, (size_t)a->size, 0, NULL) : NULL;
        if (catalog == NULL)
            catalog = json_object();
    }
    pthread_mutex_unlock(&catalog_lock);
}

/* The catalog's text of `key`, or the key itself. */
static const char *catalog_text(const char *key)
{
    const char *s = json_string_value(json_object_get(catalog, key));
    return s ? s : key;
}

/* GET /api/v1/institutions/{id}/meals/order?date=YYYY-MM-DD[&format=csv]: the kitchen's order
 * for the date (default: the school day after today). */
static int meals_order_get(struct req *r)
{
    int64_t inst = r->params[0];
    char format[8] = "", day[16];
    int f = req_query(r, "format", format, sizeof(format));
    if (f < -1 || (f >= 0 && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0))
        return reply_field_error(r, 400, "bad_request", "format", "format: json or csv");
    if (mosk_query_day_or_respond(r, "date", "", day) != 0)
        return r->status;
    if (meals_writer_or_respond(r, inst) != 0)
        return r->status;
    if (day[0] == '\0') {
        char today[16];
        meals_today(today);
        if (meals_next_school_day(r->db, inst, today, day) != 0)
            return reply_db_error(r);
    }
    json_t *order = meals_order(r->db, &r->node->cfg, inst, day);
    if (order == NULL)
        return reply_db_error(r);
    if (strcmp(format, "csv") != 0)
        return reply_json(r, 200, order);
    catalog_load(&r->node->cfg);
    char *csv;
    size_t len;
    int rc = meals_order_csv(order, catalog_text, &csv, &len);
    json_decref(order);
    if (rc != 0)
        return reply_error(r, 503, "unavailable", "out of memory");
    reply_header(r, "Content-Disposition", "attachment; filename=\"kitchen-order-%s.csv\"", day);
    return reply_raw(r, 200, "text/csv; charset=utf-8", csv, len, true);
}

/* The readers of a school's menu: its staff, students and parents, and the region admin. */
#define MENU_READERS                                                                               \
    (ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_TEACHER | ROLE_CLASS_TEACHER | ROLE_STUDENT |           \
     ROLE_PARENT | ROLE_MEDIC | ROLE_CANTEEN)
#define MENU_WRITERS (ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_CANTEEN)

const struct route meals_routes[] = {
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/buffet/items",
     .handler = meals_items_list,
     .access = ACCESS_USER,
     .allow = MENU_READERS,
     .name = "buffet_items_list"},
    {.method = "POST",
     .path = "/api/v1/institutions/{id}/buffet/items",
     .handler = meals_item_create,
     .access = ACCESS_USER,
     .allow = MENU_WRITERS,
     .writes = true,
     .name = "buffet_item_create"},
    {.method = "PUT",
     .path = "/api/v1/buffet/items/{id}",
     .handler = meals_item_update,
     .access = ACCESS_USER,
     .allow = MENU_WRITERS,
     .writes = true,
     .name = "buffet_item_update"},
    {.method = "DELETE",
     .path = "/api/v1/buffet/items/{id}",
     .handler = meals_item_remove,
     .access = ACCESS_USER,
     .allow = MENU_WRITERS,
     .writes = true,
     .name = "buffet_item_remove"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/menu",
     .handler = meals_menu_get,
     .access = ACCESS_USER,
     .allow = MENU_READERS,
     .name = "menu_get"},
    {.method = "PUT",
     .path = "/api/v1/institutions/{id}/menu",
     .handler = meals_menu_put,
     .access = ACCESS_USER,
     .allow = MENU_WRITERS,
     .writes = true,
     .name = "menu_put"},
    {.method = "POST",
     .path = "/api/v1/institutions/{id}/menu/copy",
     .handler = meals_menu_copy,
     .access = ACCESS_USER,
     .allow = MENU_WRITERS,
     .writes = true,
     .name = "menu_copy"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/meals/entitlement",
     .handler = meals_entitlement,
     .access = ACCESS_USER,
     .allow = MENU_READERS,
     .name = "meals_entitlement"},
    {.method = "PUT",
     .path = "/api/v1/students/{id}/meals/benefit",
     .handler = meals_benefit_set,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN,
     .writes = true,
     .name = "meals_benefit_set"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/meals/benefits",
     .handler = meals_benefits_list,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_SCHOOL_ADMIN,
     .name = "meals_benefits_list"},
    {.method = "GET",
     .path = "/api/v1/institutions/{id}/meals/order",
     .handler = meals_order_get,
     .access = ACCESS_USER,
     .allow = MENU_WRITERS,
     .name = "meals_order"},
    {0},
};
