/*
 * The library's side of exchanges with other machines: an item as JSON for an offline package
 * (package.c) or the hub's channel (federation/channel.c), and a channel's items applied to a
 * region's library. Formats in docs/federation.md.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files/files.h"
#include "library/library.h"
#include "node.h"
#include "school/school.h"

/* Appends item `id`'s files to the exported `files`, and their blobs to `blobs` and `blob_ids`
 * once each (library_item_export). 0, or -1 on a database error. */
static int export_files(struct db *db, int64_t id, json_t *files, json_t *blobs, json_t *blob_ids)
{
    sqlite3_stmt *st =
        db_query(db,
                 "SELECT f.name, f.type, lower(hex(b.hash)), b.size, b.id FROM library_files "
                 "f JOIN blobs b ON b.id = f.blob_id WHERE f.item_id = :id ORDER BY f.name",
                 DB_ARGS(DB_INT(":id", id)));
    int rc;
    while (db_next(st, &rc)) {
        const char *hex = db_col_text(st, 2);
        json_int_t size = sqlite3_column_int64(st, 3);
        json_array_append_new(files,
                              json_pack("{s:s,s:s,s:s,s:I}", "name", db_col_text(st, 0), "type",
                                        db_col_text(st, 1), "hash", hex, "size", size));
        if (json_object_get(blobs, hex) == NULL) {
            json_object_set_new(blobs, hex, json_pack("{s:s,s:I}", "hash", hex, "size", size));
            json_object_set_new(blob_ids, hex, json_integer(sqlite3_column_int64(st, 4)));
        }
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Appends test `id`'s questions to the exported `questions`, with their keys when with_keys;
 * without them, a matching question's right-hand items come shuffled as "matches". 0, or -1
 * on a database error. */
static int export_questions(struct db *db, int64_t id, bool with_keys, json_t *questions)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT kind, prompt, options, points, answer FROM "
                                "library_questions WHERE item_id = :id ORDER BY position",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *opts = json_loads(db_col_text(st, 2), 0, NULL);
        json_t *q =
            json_pack("{s:s,s:s,s:o,s:i}", "kind", db_col_text(st, 0), "prompt", db_col_text(st, 1),
                      "options", opts ? opts : json_array(), "points", sqlite3_column_int(st, 3));
        if (q != NULL && with_keys)
            json_object_set_new(q, "answer", json_loads(db_col_text(st, 4), 0, NULL));
        else if (q != NULL && strcmp(db_col_text(st, 0), "matching") == 0)
            json_object_set_new(q, "matches", library_matching_shuffle(db_col_text(st, 4)));
        json_array_append_new(questions, q);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int library_item_export(struct db *db, int64_t id, bool with_keys, json_t *items, json_t *blobs,
                        json_t *blob_ids)
{
    sqlite3_stmt *st = db_query(
        db,
        "SELECT i.uid, i.type, i.title, i.description, i.body, s.name, i.grade_min, "
        "i.grade_max, i.authors, i.licence, i.language, i.origin, i.version, "
        "(SELECT lower(hex(hash)) FROM blobs WHERE id = i.cover_blob_id), s.code "
        "FROM library_items i LEFT JOIN subjects s ON s.id = i.subject_id WHERE i.id = :id",
        DB_ARGS(DB_INT(":id", id)));
    int rc;
    if (!db_next(st, &rc))
        return -1; /* no such item, or a database error */
    json_t *files = json_array();
    json_t *it = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s?,s:s?,s:{s:i,s:i},s:s,s:s,s:s,s:s,s:i,s:s?,s:o}", "uid",
        db_col_text(st, 0), "type", db_col_text(st, 1), "title", db_col_text(st, 2), "description",
        db_col_text(st, 3), "body", db_col_text(st, 4), "subject",
        (const char *)sqlite3_column_text(st, 5), "subject_code",
        (const char *)sqlite3_column_text(st, 14), "grades", "min", sqlite3_column_int(st, 6),
        "max", sqlite3_column_int(st, 7), "authors", db_col_text(st, 8), "licence",
        db_col_text(st, 9), "language", db_col_text(st, 10), "origin", db_col_text(st, 11),
        "version", sqlite3_column_int(st, 12), "cover", (const char *)sqlite3_column_text(st, 13),
        "files", files);
    bool is_test = strcmp(db_col_text(st, 1), "test") == 0;
    sqlite3_reset(st);
    if (it == NULL)
        return -1;
    json_array_append_new(items, it);
    if (export_files(db, id, files, blobs, blob_ids) != 0)
        return -1;
    if (!is_test)
        return 0;
    json_t *questions = json_array();
    json_object_set_new(it, "questions", questions);
    return export_questions(db, id, with_keys, questions);
}

/* ---- applying the hub's channel ---- */

bool library_uid_ok(const char *uid)
{
    size_t n = uid ? strlen(uid) : 0;
    if (n == 0 || n > 64 || uid[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((uid[i] >= '0' && uid[i] <= '9') || (uid[i] >= 'a' && uid[i] <= 'z') ||
              (uid[i] >= 'A' && uid[i] <= 'Z') || strchr("-_.", uid[i])))
            return false;
    return true;
}

/* The blob id of a hex hash in *id, 0 when the store lacks it (a bundle or a pull puts blobs
 * there first). 0; -1 when the hash is malformed, -2 on a database error. */
static int present_blob(struct db *db, const char *hex, int64_t *id)
{
    unsigned char hash[32];
    size_t got = 0;
    if (hex == NULL || strlen(hex) != 64 ||
        sodium_hex2bin(hash, sizeof(hash), hex, 64, NULL, &got, NULL) != 0 || got != 32)
        return -1;
    *id = 0;
    int rc =
        db_int(db, id, "SELECT id FROM blobs WHERE hash = :h", DB_ARGS(DB_BLOB(":h", hash, 32)));
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -2;
}

/* How an exchanged item is written. */
struct item_write {
    const char *uid_as; /* the uid to write it under, or NULL for the item's own */
    const char *origin, *status;
    const char *authors_suffix; /* appended to the authors */
    const unsigned char *doc;   /* the hub's document hash to record (32 bytes), or NULL */
    bool fresh;                 /* no item has this uid yet: nothing to replace */
};

/* An exchanged item read and checked (item_read), ready to be written. Strings point into the
 * item's JSON but for `authors`; free with item_clear. */
struct exchanged {
    const char *uid, *subject, *cover;
    struct library_fields f; /* f.authors: with the suffix, malloc'ed */
    int64_t version;
    json_t *files;
    struct library_question *questions; /* nquestions of them, checked */
    size_t nquestions;
    int64_t cover_id, *blob_of; /* the cover's blob, each file's (item_blobs) */
};

static void item_clear(struct exchanged *x)
{
    for (size_t i = 0; i < x->nquestions; i++)
        library_question_free(&x->questions[i]);
    free(x->questions);
    free((char *)x->f.authors);
    free(x->blob_of);
    *x = (struct exchanged){0};
}

/* Checks every question of an exchanged item into x->questions, as library.c checks an
 * author's. 0, or -1 with err. */
static int item_read_questions(struct exchanged *x, json_t *questions, char *err, size_t errlen)
{
    size_t n = json_array_size(questions), i;
    json_t *q;
    if (n > 0 && (x->questions = calloc(n, sizeof(*x->questions))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_array_foreach(questions, i, q)
    {
        char why[128];
        if (library_question_check(q, &x->questions[i], why, sizeof(why)) != 0) {
            snprintf(err, errlen, "item %s: question %zu: %s", x->uid, i + 1, why);
            return -1;
        }
        x->nquestions = i + 1;
    }
    return 0;
}

/* Reads exchanged item `it` (the n-th of its list) into `x` and checks it whole: its fields as
 * they will be stored (the authors with how's suffix), its uid, version, files list and
 * questions. 0, or -1 with err (x to be cleared either way). */
static int item_read(json_t *it, size_t n, const struct item_write *how, struct exchanged *x,
                     char *err, size_t errlen)
{
    const char *authors = "";
    json_int_t gmin = 0, gmax = 0, version = 1;
    json_t *questions = NULL, *subject = NULL, *cover = NULL;
    *x = (struct exchanged){
        .f = {.description = "", .body = "", .licence = "CC BY 4.0", .language = "ru"}};
    if (json_unpack(it, "{s:s,s:s,s:s,s?s,s?s,s?s,s?s,s?s,s?o,s:{s:I,s:I},s?I,s?o,s:o,s?o}", "uid",
                    &x->uid, "type", &x->f.type, "title", &x->f.title, "description",
                    &x->f.description, "body", &x->f.body, "authors", &authors, "licence",
                    &x->f.licence, "language", &x->f.language, "subject_code", &subject, "grades",
                    "min", &gmin, "max", &gmax, "version", &version, "cover", &cover, "files",
                    &x->files, "questions", &questions) != 0 ||
        (subject && !json_is_null(subject) && !json_is_string(subject)) ||
        (cover && !json_is_null(cover) && !json_is_string(cover)) || version < 1 || gmin == 0 ||
        gmax == 0 || !json_is_array(x->files) ||
        (questions && !json_is_array(questions) && !json_is_null(questions))) {
        snprintf(err, errlen,
                 "item %zu: uid, type, title, grades, version or files are missing or out of "
                 "range",
                 n);
        return -1;
    }
    if (how->uid_as != NULL)
        x->uid = how->uid_as;
    x->version = version;
    x->f.grade_min = gmin;
    x->f.grade_max = gmax;
    x->subject = json_string_value(subject); /* NULL when absent or null */
    x->cover = json_string_value(cover);
    size_t alen = strlen(authors) + strlen(how->authors_suffix) + 1;
    char *all = malloc(alen), why[128];
    if (all == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(all, alen, "%s%s", authors, how->authors_suffix);
    x->f.authors = all;
    if (!library_uid_ok(x->uid)) {
        snprintf(err, errlen, "item %zu: the uid is not 1-64 letters, digits, '-', '_' or '.'", n);
        return -1;
    }
    if (!library_fields_ok(&x->f, why, sizeof(why))) {
        snprintf(err, errlen, "item %s: %s", x->uid, why);
        return -1;
    }
    return item_read_questions(x, questions, err, errlen);
}

/* Finds the blobs the item names: its cover and every file's, which must be well-formed and
 * already stored. 0; or -1 with err, and *absent set (when `absent` is not NULL) if only a
 * stored blob is lacking. */
static int item_blobs(struct db *db, struct exchanged *x, bool *absent, char *err, size_t errlen)
{
    size_t i, nfiles = json_array_size(x->files);
    json_t *f;
    int bad = x->cover ? present_blob(db, x->cover, &x->cover_id) : 0;
    if (bad == -1) {
        snprintf(err, errlen, "item %s: its cover is not a 64-digit hash", x->uid);
        return -1;
    }
    if (nfiles > 0 && (x->blob_of = calloc(nfiles, sizeof(*x->blob_of))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bool lacking = x->cover && x->cover_id == 0;
    json_array_foreach(x->files, i, f)
    {
        if (bad == -2)
            break;
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *ftype = json_string_value(json_object_get(f, "type"));
        if (name == NULL || !file_name_ok(name) || ftype == NULL || strlen(ftype) > 127 ||
            (bad = present_blob(db, json_string_value(json_object_get(f, "hash")),
                                &x->blob_of[i])) == -1) {
            snprintf(err, errlen, "item %s: file %zu has a bad name, type or hash", x->uid, i);
            return -1;
        }
        lacking = lacking || x->blob_of[i] == 0;
    }
    if (bad == -2) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    if (lacking) {
        if (absent != NULL)
            *absent = true;
        snprintf(err, errlen, "item %s: its cover or a file is not among the blobs", x->uid);
        return -1;
    }
    return 0;
}

/* Inserts the item, or updates the item of the same origin and uid in place. Its id; 0 with
 * err when the uid is another origin's, or on a database error. */
static int64_t item_upsert(struct db *db, const struct exchanged *x, const struct item_write *how,
                           char *err, size_t errlen)
{
#define ITEM_INSERT                                                                                \
    "INSERT INTO library_items (uid, type, title, description, body, subject_id, grade_min, "      \
    "grade_max, authors, licence, language, origin, version, status, cover_blob_id, hub_doc) "     \
    "VALUES (:uid, :type, :title, :description, :body, (SELECT id FROM subjects WHERE code = "     \
    ":subject), :gmin, :gmax, :authors, :licence, :language, :origin, :version, :status, "         \
    "nullif(:cover, 0), :doc)"
    const char *sql =
        how->fresh ? ITEM_INSERT
                   : ITEM_INSERT
            " ON CONFLICT (uid) DO UPDATE SET type = excluded.type, title = excluded.title, "
            "description = excluded.description, body = excluded.body, subject_id = "
            "excluded.subject_id, grade_min = excluded.grade_min, grade_max = "
            "excluded.grade_max, authors = excluded.authors, licence = excluded.licence, "
            "language = excluded.language, version = excluded.version, cover_blob_id = "
            "excluded.cover_blob_id, hub_doc = excluded.hub_doc, updated_at = unixepoch() "
            "WHERE origin = :origin";
#undef ITEM_INSERT
    int rc = db_run(
        db, sql,
        DB_ARGS(DB_TEXT(":uid", x->uid), DB_TEXT(":type", x->f.type), DB_TEXT(":title", x->f.title),
                DB_TEXT(":description", x->f.description), DB_TEXT(":body", x->f.body),
                DB_TEXT(":subject", x->subject), DB_INT(":gmin", x->f.grade_min),
                DB_INT(":gmax", x->f.grade_max), DB_TEXT(":authors", x->f.authors),
                DB_TEXT(":licence", x->f.licence), DB_TEXT(":language", x->f.language),
                DB_TEXT(":origin", how->origin), DB_INT(":version", x->version),
                DB_TEXT(":status", how->status), DB_INT(":cover", x->cover_id),
                {.name = ":doc", .type = how->doc ? 'b' : 'n', .p = how->doc, .n = 32}));
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return 0;
    }
    int64_t id = how->fresh ? db_last_id(db) : 0;
    if (!how->fresh) { /* no row when the uid is taken by an item of another origin */
        rc = db_int(db, &id, "SELECT id FROM library_items WHERE uid = :uid AND origin = :origin",
                    DB_ARGS(DB_TEXT(":uid", x->uid), DB_TEXT(":origin", how->origin)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            snprintf(err, errlen, "database: %s", db_errmsg(db));
            return 0;
        }
    }
    if (id == 0)
        snprintf(err, errlen, "item %s: the uid belongs to one of this region's own items", x->uid);
    return id;
}

/* Writes item `id`'s files and questions, the exchanged item's, replacing what it had. 0, or
 * -1 with err. */
static int item_parts(struct db *db, int64_t id, const struct exchanged *x, bool fresh, char *err,
                      size_t errlen)
{
    static const char *const clear[] = {"DELETE FROM library_files WHERE item_id = :id",
                                        "DELETE FROM library_questions WHERE item_id = :id"};
    for (size_t i = 0; i < 2 && !fresh; i++)
        if (db_run(db, clear[i], DB_ARGS(DB_INT(":id", id))) != SQLITE_DONE)
            goto db_error;
    size_t i;
    json_t *f;
    json_array_foreach(x->files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        int rc = db_run(db,
                        "INSERT INTO library_files (item_id, name, type, blob_id) VALUES (:id, "
                        ":n, :t, :b)",
                        DB_ARGS(DB_INT(":id", id), DB_TEXT(":n", name),
                                DB_TEXT(":t", json_string_value(json_object_get(f, "type"))),
                                DB_INT(":b", x->blob_of[i])));
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            snprintf(err, errlen, "item %s: two files are named %s", x->uid, name);
            return -1;
        }
        if (rc != SQLITE_DONE)
            goto db_error;
    }
    for (i = 0; i < x->nquestions; i++) {
        const struct library_question *q = &x->questions[i];
        if (db_run(db,
                   "INSERT INTO library_questions (item_id, position, kind, prompt, options, "
                   "answer, points) VALUES (:id, :pos, :kind, :prompt, :o, :a, :p)",
                   DB_ARGS(DB_INT(":id", id), DB_INT(":pos", (int64_t)i + 1),
                           DB_TEXT(":kind", q->kind), DB_TEXT(":prompt", q->prompt),
                           DB_TEXT(":o", q->options), DB_TEXT(":a", q->answer),
                           DB_INT(":p", q->points))) != SQLITE_DONE)
            goto db_error;
    }
    return 0;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
    return -1;
}

/* Validates one exchanged item (item_read) and writes it as `how` says (insert, or update by
 * uid of an item of the same origin) with its files and questions. The item's id, or 0 with
 * err. With `absent` (may be NULL), a blob the item names that the store lacks is no error: 0
 * with *absent set and nothing written, for the caller to try again once it is stored. */
static int64_t write_item(struct db *db, json_t *it, size_t n, const struct item_write *how,
                          bool *absent, char *err, size_t errlen)
{
    struct exchanged x;
    int64_t id = 0;
    /* Everything is checked and the blobs found first, so that an item is written whole or
     * not at all. */
    if (item_read(it, n, how, &x, err, errlen) == 0 &&
        item_blobs(db, &x, absent, err, errlen) == 0 &&
        (id = item_upsert(db, &x, how, err, errlen)) != 0 &&
        item_parts(db, id, &x, how->fresh, err, errlen) != 0)
        id = 0;
    item_clear(&x);
    return id;
}

/* The triggers on the items and their files (library.sql) that a large change sets aside and
 * puts back, doing once at the end what they would have done row by row: the full-text index
 * rebuilt, the read cache's counters for searches (scope -1) and for the shared tables (scope
 * 0, items' titles and types) bumped. Row by row, they cost about three times what the rows
 * do, so a change of at least BULK_ITEMS items and a third of the library goes in bulk. A
 * trigger not listed here stays in force. */
static const char *const bulk_triggers[] = {"library_items_fts_ins",    "library_items_fts_del",
                                            "library_items_fts_upd",    "library_items_search_ins",
                                            "library_items_search_upd", "library_items_search_del",
                                            "library_files_search_ins", "library_files_search_upd",
                                            "library_files_search_del", "library_items_cache_upd"};
enum { BULK_TRIGGERS = sizeof(bulk_triggers) / sizeof(bulk_triggers[0]), BULK_ITEMS = 1000 };

/* Drops the triggers, keeping their SQL in sql[] (malloc'ed). 0, or -1 on a database error. */
static int bulk_suspend(struct db *db, char *sql[BULK_TRIGGERS])
{
    for (size_t i = 0; i < BULK_TRIGGERS; i++) {
        if (db_text(db, &sql[i],
                    "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = :n",
                    DB_ARGS(DB_TEXT(":n", bulk_triggers[i]))) != SQLITE_ROW)
            return -1;
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP TRIGGER %s", bulk_triggers[i]);
        if (db_exec(db, drop) != SQLITE_OK)
            return -1;
    }
    return 0;
}

/* Puts the triggers back and does their work once; frees sql[]. */
static int bulk_resume(struct db *db, char *sql[BULK_TRIGGERS])
{
    int rc = 0;
    for (size_t i = 0; i < BULK_TRIGGERS; i++) {
        if (rc == 0 && (sql[i] == NULL || db_exec(db, sql[i]) != SQLITE_OK))
            rc = -1;
        free(sql[i]);
        sql[i] = NULL;
    }
    if (rc == 0 &&
        db_exec(db, "INSERT INTO library_fts (library_fts) VALUES ('rebuild'); INSERT INTO "
                    "change_counters (scope, gen) VALUES (-1, 1), (0, 1) ON CONFLICT (scope) DO "
                    "UPDATE SET gen = gen + 1") != SQLITE_OK)
        rc = -1;
    return rc;
}

/* Adds the blobs item `id` names (its files, cover and hub document) to `held`, to be released
 * once the item is rewritten or removed if nothing names them then. 0, or -1 on a database
 * error. */
static int hold_blobs(struct db *db, int64_t id, json_t *held)
{
    sqlite3_stmt *st = db_query(
        db,
        "SELECT blob_id FROM library_files WHERE item_id = :id UNION SELECT cover_blob_id "
        "FROM library_items WHERE id = :id AND cover_blob_id IS NOT NULL UNION SELECT b.id "
        "FROM library_items i JOIN blobs b ON b.hash = i.hub_doc WHERE i.id = :id",
        DB_ARGS(DB_INT(":id", id)));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(held, json_integer(sqlite3_column_int64(st, 0)));
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A channel's change to the library under way (library_hub_begin). */
struct hub_change {
    struct db *db;
    json_t *items; /* the manifest's entries (a reference) */
    json_t *kept;  /* uid -> true: the items the channel lists */
    json_t *held;  /* blob ids of rewritten items, to release if nothing names them */
    size_t n;
    /* Per entry: 0 nothing to do (unchanged, or written already), 1 new, 2 changed; and its
     * document's hash. */
    unsigned char *state, (*docs)[32];
    struct doc_entry *by_doc; /* the entries to write, by document hash */
    size_t pending;
    char *bulk_sql[BULK_TRIGGERS]; /* the triggers set aside (bulk) */
    bool bulk;
    long changed;
    size_t next; /* library_hub_step: the first entry it has not looked at */
};

struct doc_entry {
    unsigned char hash[32];
    size_t entry;
};

static int doc_entry_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Works out what manifest entry i (`it`) changes: state 1 (a new item), 2 (an item from another
 * document: what it named is held) or 0 (unchanged); a changed entry is listed by its
 * document's hash. 0, or -1 with err. */
static int hub_classify(struct hub_change *c, size_t i, json_t *it, char *err, size_t errlen)
{
    const char *uid = json_string_value(json_object_get(it, "uid"));
    if (uid != NULL && json_object_get(c->kept, uid) != NULL) {
        snprintf(err, errlen, "manifest: item %s appears twice", uid);
        return -1;
    }
    const char *doc = json_string_value(json_object_get(it, "doc"));
    size_t got = 0;
    if (uid == NULL || doc == NULL ||
        sodium_hex2bin(c->docs[i], 32, doc, strlen(doc), NULL, &got, NULL) != 0 || got != 32) {
        snprintf(err, errlen, "manifest: item %zu needs a uid and a 64-digit doc", i);
        return -1;
    }
    sqlite3_stmt *st = db_query(c->db,
                                "SELECT hub_doc IS :h AND origin = 'hub', id FROM library_items "
                                "WHERE uid = :u",
                                DB_ARGS(DB_TEXT(":u", uid), DB_BLOB(":h", c->docs[i], 32)));
    int rc;
    int64_t old = 0;
    c->state[i] = 1;
    if (db_next(st, &rc)) {
        c->state[i] = sqlite3_column_int(st, 0) ? 0 : 2;
        old = c->state[i] == 2 ? sqlite3_column_int64(st, 1) : 0;
        sqlite3_reset(st);
    }
    if ((rc != SQLITE_ROW && rc != SQLITE_DONE) ||
        (old != 0 && hold_blobs(c->db, old, c->held) != 0)) { /* what the item named before */
        snprintf(err, errlen, "database: %s", db_errmsg(c->db));
        return -1;
    }
    json_object_set_new(c->kept, uid, json_true());
    if (c->state[i] != 0) {
        memcpy(c->by_doc[c->pending].hash, c->docs[i], 32);
        c->by_doc[c->pending++].entry = i;
    }
    return 0;
}

/* library_hub_begin, setting the full-text index aside for a large change when `bulk_ok`. */
static struct hub_change *hub_begin(struct db *db, json_t *items, bool bulk_ok, char *err,
                                    size_t errlen)
{
    if (!json_is_array(items)) {
        snprintf(err, errlen, "manifest: \"items\" must be a list");
        return NULL;
    }
    struct hub_change *c = calloc(1, sizeof(*c));
    size_t n = json_array_size(items), i;
    if (c == NULL || (c->state = calloc(n ? n : 1, 1)) == NULL ||
        (c->docs = calloc(n ? n : 1, 32)) == NULL ||
        (c->by_doc = calloc(n ? n : 1, sizeof(*c->by_doc))) == NULL) {
        snprintf(err, errlen, "out of memory");
        library_hub_free(c);
        return NULL;
    }
    c->db = db;
    c->items = json_incref(items);
    c->kept = json_object();
    c->held = json_array();
    c->n = n;
    json_t *it;
    /* First what changes: an entry names its document by hash, and an item that came from the
     * same document is unchanged. */
    json_array_foreach(items, i, it)
    {
        if (hub_classify(c, i, it, err, errlen) != 0)
            goto fail;
    }
    qsort(c->by_doc, c->pending, sizeof(*c->by_doc), doc_entry_cmp);
    /* A large change indexes the items' text once at the end. */
    int64_t library = 0;
    if (db_int(db, &library, "SELECT count(*) FROM library_items", NULL) != SQLITE_ROW)
        goto db_error;
    if (bulk_ok && c->pending >= BULK_ITEMS && 3 * c->pending >= (size_t)library) {
        if (bulk_suspend(db, c->bulk_sql) != 0)
            goto db_error;
        c->bulk = true;
    }
    return c;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
fail:
    library_hub_free(c);
    return NULL;
}

struct hub_change *library_hub_begin(struct db *db, json_t *items, char *err, size_t errlen)
{
    return hub_begin(db, items, true, err, errlen);
}

struct hub_change *library_hub_begin_steps(struct db *db, json_t *items, char *err, size_t errlen)
{
    return hub_begin(db, items, false, err, errlen);
}

/* Writes entry i from its document; `absent` as write_item's. 0, or -1 with err. */
static int hub_write(struct hub_change *c, size_t i, json_t *item, bool *absent, char *err,
                     size_t errlen)
{
    const char *uid = json_string_value(json_object_get(json_array_get(c->items, i), "uid"));
    const char *inner = json_string_value(json_object_get(item, "uid"));
    if (inner == NULL || strcmp(inner, uid) != 0) {
        snprintf(err, errlen, "manifest: item %s's document is another item's", uid);
        return -1;
    }
    struct item_write how = {.origin = "hub",
                             .status = "approved",
                             .authors_suffix = "",
                             .doc = c->docs[i],
                             .fresh = c->state[i] == 1};
    if (write_item(c->db, item, i, &how, absent, err, errlen) == 0)
        return -1;
    c->state[i] = 0;
    c->changed++;
    return 0;
}

int library_hub_offer(struct hub_change *c, const unsigned char hash[32], json_t *doc, char *err,
                      size_t errlen)
{
    struct doc_entry *e = bsearch(hash, c->by_doc, c->pending, sizeof(*e), doc_entry_cmp);
    if (e == NULL || c->state[e->entry] == 0)
        return 0;
    bool absent = false;
    if (hub_write(c, e->entry, doc, &absent, err, errlen) != 0 && !absent)
        return -1;
    err[0] = '\0';
    return 0;
}

/* Removes the hub's items that left the channel, unless a lesson or a homework uses them (the
 * journal keeps what a class was given), holding what they named; counts them in *removed. 0,
 * or -1 on a database error. */
static int hub_remove_gone(struct hub_change *c, long *removed)
{
    json_t *gone = json_array(), *id;
    sqlite3_stmt *st = db_query(
        c->db,
        "SELECT id, uid FROM library_items i WHERE origin = 'hub' AND NOT EXISTS (SELECT 1 "
        "FROM lesson_items WHERE item_id = i.id) AND NOT EXISTS (SELECT 1 FROM homework_items "
        "WHERE item_id = i.id)",
        NULL);
    int rc;
    while (db_next(st, &rc))
        if (json_object_get(c->kept, db_col_text(st, 1)) == NULL)
            json_array_append_new(gone, json_integer(sqlite3_column_int64(st, 0)));
    size_t i;
    json_array_foreach(gone, i, id)
    {
        if (rc != SQLITE_DONE)
            break;
        if (hold_blobs(c->db, json_integer_value(id), c->held) != 0 ||
            db_run(c->db, "DELETE FROM library_items WHERE id = :id",
                   DB_ARGS(DB_INT(":id", json_integer_value(id)))) != SQLITE_DONE)
            rc = SQLITE_ERROR;
        else
            (*removed)++;
    }
    json_decref(gone);
    return rc == SQLITE_DONE ? 0 : -1;
}

int library_hub_end(struct hub_change *c,
                    json_t *(*load)(void *ctx, json_t *entry, char *err, size_t errlen), void *ctx,
                    long *changed, long *removed, char *err, size_t errlen)
{
    struct db *db = c->db;
    size_t i;
    json_t *id;
    *changed = *removed = 0;
    for (i = 0; i < c->n; i++) {
        if (c->state[i] == 0)
            continue;
        json_t *item = load(ctx, json_array_get(c->items, i), err, errlen);
        if (item == NULL)
            return -1;
        int rc = hub_write(c, i, item, NULL, err, errlen);
        json_decref(item);
        if (rc != 0)
            return -1;
    }
    if (hub_remove_gone(c, removed) != 0)
        goto db_error;
    json_array_foreach(c->held, i, id)
    {
        if (blob_release(db, json_integer_value(id)) != 0)
            goto db_error;
    }
    if (c->bulk) {
        c->bulk = false;
        if (bulk_resume(db, c->bulk_sql) != 0)
            goto db_error;
    }
    *changed = c->changed;
    return 0;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
    return -1;
}

long library_hub_step(struct hub_change *c, struct db *db,
                      json_t *(*load)(void *ctx, json_t *entry, char *err, size_t errlen),
                      void *ctx, size_t max, char *err, size_t errlen)
{
    c->db = db;
    for (size_t done = 0; c->next < c->n && done < max; c->next++) {
        if (c->state[c->next] == 0)
            continue;
        json_t *item = load(ctx, json_array_get(c->items, c->next), err, errlen);
        if (item == NULL)
            return -1;
        int rc = hub_write(c, c->next, item, NULL, err, errlen);
        json_decref(item);
        if (rc != 0)
            return -1;
        done++;
    }
    long left = 0;
    for (size_t i = c->next; i < c->n; i++)
        left += c->state[i] != 0;
    return left;
}

void library_hub_free(struct hub_change *c)
{
    if (c == NULL)
        return;
    for (size_t k = 0; k < BULK_TRIGGERS; k++)
        free(c->bulk_sql[k]); /* on failure: the caller rolls the dropped triggers back */
    json_decref(c->items);
    json_decref(c->kept);
    json_decref(c->held);
    free(c->state);
    free(c->docs);
    free(c->by_doc);
    free(c);
}

int64_t library_contribution_write(struct db *db, json_t *item, const char *uid,
                                   const char *region_name, char *err, size_t errlen)
{
    char suffix[200];
    snprintf(suffix, sizeof(suffix), " (%s)", region_name);
    struct item_write how = {
        .uid_as = uid, .origin = "region", .status = "submitted", .authors_suffix = suffix};
    return write_item(db, item, 0, &how, NULL, err, errlen);
}
