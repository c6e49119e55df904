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

int library_item_export(struct db *db, int64_t id, bool with_keys, json_t *items, json_t *blobs,
                        json_t *blob_ids)
{
    sqlite3_stmt *st = db_stmt(
        db, "SELECT i.uid, i.type, i.title, i.description, i.body, s.name, i.grade_min, "
            "i.grade_max, i.authors, i.licence, i.language, i.origin, i.version, "
            "(SELECT lower(hex(hash)) FROM blobs WHERE id = i.cover_blob_id), s.code "
            "FROM library_items i LEFT JOIN subjects s ON s.id = i.subject_id WHERE i.id = :id");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":id", id);
    if (db_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return -1;
    }
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
    st = db_stmt(db, "SELECT f.name, f.type, lower(hex(b.hash)), b.size, b.id FROM library_files "
                     "f JOIN blobs b ON b.id = f.blob_id WHERE f.item_id = :id ORDER BY f.name");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":id", id);
    while (db_step(st) == SQLITE_ROW) {
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
    sqlite3_reset(st);
    if (!is_test)
        return 0;
    json_t *questions = json_array();
    json_object_set_new(it, "questions", questions);
    st = db_stmt(db, "SELECT kind, prompt, options, points, answer FROM library_questions "
                     "WHERE item_id = :id ORDER BY position");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":id", id);
    while (db_step(st) == SQLITE_ROW) {
        json_t *opts = json_loads(db_col_text(st, 2), 0, NULL);
        json_t *q =
            json_pack("{s:s,s:s,s:o,s:i}", "kind", db_col_text(st, 0), "prompt", db_col_text(st, 1),
                      "options", opts ? opts : json_array(), "points", sqlite3_column_int(st, 3));
        if (q != NULL && with_keys)
            json_object_set_new(q, "answer", json_loads(db_col_text(st, 4), 0, NULL));
        json_array_append_new(questions, q);
    }
    sqlite3_reset(st);
    return 0;
}

/* ---- applying the hub's channel ---- */

static bool one_of(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

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
 * there first); -1 when the hash is malformed. */
static int present_blob(struct db *db, const char *hex, int64_t *id)
{
    unsigned char hash[32];
    size_t got = 0;
    if (hex == NULL || strlen(hex) != 64 ||
        sodium_hex2bin(hash, sizeof(hash), hex, 64, NULL, &got, NULL) != 0 || got != 32)
        return -1;
    *id = blob_id(db, hash);
    return 0;
}

/* How an exchanged item is written. */
struct item_write {
    const char *uid_as; /* the uid to write it under, or NULL for the item's own */
    const char *origin, *status;
    const char *authors_suffix; /* appended to the authors */
    const unsigned char *doc;   /* the hub's document hash to record (32 bytes), or NULL */
    bool fresh;                 /* no item has this uid yet: nothing to replace */
};

/* Validates one exchanged item and writes it as `how` says (insert, or update by uid of an item
 * of the same origin) with its files and questions. The item's id, or 0 with err. With
 * `absent` (may be NULL), a blob the item names that the store lacks is no error: 0 with
 * *absent set and nothing written, for the caller to try again once it is stored. */
static int64_t write_item(struct db *db, json_t *it, size_t n, const struct item_write *how,
                          bool *absent, char *err, size_t errlen)
{
    const char *uid_as = how->uid_as;
    static const char *const types[] = {"scenario", "test", "textbook", "workbook", "fiction",
                                        "lab",      "app",  "media",    NULL};
    static const char *const kinds[] = {"single", "multiple", "text", NULL};
    const char *uid = NULL, *type = NULL, *title = NULL, *description = "", *body = "",
               *authors = "", *licence = "CC BY 4.0", *language = "ru", *subject = NULL,
               *cover = NULL;
    json_int_t gmin = 0, gmax = 0, version = 1;
    json_t *files = NULL, *questions = NULL, *subject_j = NULL, *cover_j = NULL;
    if (json_unpack(it, "{s:s,s:s,s:s,s?s,s?s,s?s,s?s,s?s,s?o,s:{s:I,s:I},s?I,s?o,s:o,s?o}", "uid",
                    &uid, "type", &type, "title", &title, "description", &description, "body",
                    &body, "authors", &authors, "licence", &licence, "language", &language,
                    "subject_code", &subject_j, "grades", "min", &gmin, "max", &gmax, "version",
                    &version, "cover", &cover_j, "files", &files, "questions", &questions) != 0 ||
        (subject_j && !json_is_null(subject_j) && !json_is_string(subject_j)) ||
        (cover_j && !json_is_null(cover_j) && !json_is_string(cover_j)) ||
        !library_uid_ok(uid_as ? uid_as : uid) || !one_of(type, types) ||
        !school_text_ok(title, 1, 300) || !school_text_ok(description, 0, 5000) ||
        strlen(body) > 200000 || gmin < 1 || gmax > 11 || gmin > gmax || version < 1 ||
        !json_is_array(files) ||
        (questions && !json_is_array(questions) && !json_is_null(questions))) {
        snprintf(err, errlen,
                 "item %zu: uid, type, title, grades, version or files are missing "
                 "or out of range",
                 n);
        return 0;
    }
    if (uid_as != NULL)
        uid = uid_as;
    subject = json_string_value(subject_j); /* NULL when absent or null */
    cover = json_string_value(cover_j);
    /* The blobs first, so that an item is written whole or not at all. */
    size_t i, nfiles = json_array_size(files);
    json_t *f, *q;
    int64_t cover_id = 0, *blob_of = NULL;
    if (cover && present_blob(db, cover, &cover_id) != 0) {
        snprintf(err, errlen, "item %s: its cover is not a 64-digit hash", uid);
        return 0;
    }
    if (nfiles > 0 && (blob_of = malloc(nfiles * sizeof(*blob_of))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    bool lacking = cover && cover_id == 0;
    json_array_foreach(files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *ftype = json_string_value(json_object_get(f, "type"));
        if (name == NULL || !file_name_ok(name) || ftype == NULL || strlen(ftype) > 127 ||
            present_blob(db, json_string_value(json_object_get(f, "hash")), &blob_of[i]) != 0) {
            snprintf(err, errlen, "item %s: file %zu has a bad name, type or hash", uid, i);
            goto fail;
        }
        lacking = lacking || blob_of[i] == 0;
    }
    if (lacking) {
        if (absent != NULL)
            *absent = true;
        snprintf(err, errlen, "item %s: its cover or a file is not among the blobs", uid);
        goto fail;
    }
#define ITEM_INSERT                                                                                \
    "INSERT INTO library_items (uid, type, title, description, body, subject_id, grade_min, "      \
    "grade_max, authors, licence, language, origin, version, status, cover_blob_id, hub_doc) "     \
    "VALUES (:uid, :type, :title, :description, :body, (SELECT id FROM subjects WHERE code = "     \
    ":subject), :gmin, :gmax, :authors || :suffix, :licence, :language, :origin, :version, "       \
    ":status, nullif(:cover, 0), :doc)"
    /* A new item is inserted; an item of the same origin and uid is updated in place. */
    sqlite3_stmt *st = db_stmt(
        db, how->fresh ? ITEM_INSERT
                       : ITEM_INSERT
                " ON CONFLICT (uid) DO UPDATE SET type = excluded.type, title = excluded.title, "
                "description = excluded.description, body = excluded.body, subject_id = "
                "excluded.subject_id, grade_min = excluded.grade_min, grade_max = "
                "excluded.grade_max, authors = excluded.authors, licence = excluded.licence, "
                "language = excluded.language, version = excluded.version, cover_blob_id = "
                "excluded.cover_blob_id, hub_doc = excluded.hub_doc, updated_at = unixepoch() "
                "WHERE origin = :origin");
#undef ITEM_INSERT
    if (st == NULL)
        goto db_error;
    db_bind_text(st, ":uid", uid);
    db_bind_text(st, ":type", type);
    db_bind_text(st, ":title", title);
    db_bind_text(st, ":description", description);
    db_bind_text(st, ":body", body);
    db_bind_text(st, ":subject", subject);
    db_bind_int(st, ":gmin", gmin);
    db_bind_int(st, ":gmax", gmax);
    db_bind_text(st, ":authors", authors);
    db_bind_text(st, ":suffix", how->authors_suffix);
    db_bind_text(st, ":origin", how->origin);
    db_bind_text(st, ":status", how->status);
    db_bind_text(st, ":licence", licence);
    db_bind_text(st, ":language", language);
    db_bind_int(st, ":version", version);
    db_bind_int(st, ":cover", cover_id);
    if (how->doc)
        db_bind_blob(st, ":doc", how->doc, 32);
    if (db_exec_stmt(st) != SQLITE_DONE)
        goto db_error;
    int64_t id = how->fresh ? db_last_id(db) : 0;
    if (!how->fresh) { /* no row when the uid is taken by an item of another origin */
        if ((st = db_stmt(db, "SELECT id FROM library_items WHERE uid = :uid AND origin = "
                              ":origin")) == NULL)
            goto db_error;
        db_bind_text(st, ":uid", uid);
        db_bind_text(st, ":origin", how->origin);
        id = db_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
    }
    if (id == 0) {
        snprintf(err, errlen, "item %s: the uid belongs to one of this region's own items", uid);
        goto fail;
    }
    /* Files and questions: the channel's, replacing what the item had. */
    static const char *const clear[] = {"DELETE FROM library_files WHERE item_id = :id",
                                        "DELETE FROM library_questions WHERE item_id = :id"};
    for (size_t i = 0; i < 2 && !how->fresh; i++) {
        if ((st = db_stmt(db, clear[i])) == NULL)
            goto db_error;
        db_bind_int(st, ":id", id);
        if (db_exec_stmt(st) != SQLITE_DONE)
            goto db_error;
    }
    json_array_foreach(files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *ftype = json_string_value(json_object_get(f, "type"));
        st = db_stmt(db, "INSERT INTO library_files (item_id, name, type, blob_id) VALUES (:id, "
                         ":n, :t, :b)");
        if (st == NULL)
            goto db_error;
        db_bind_int(st, ":id", id);
        db_bind_text(st, ":n", name);
        db_bind_text(st, ":t", ftype);
        db_bind_int(st, ":b", blob_of[i]);
        int rc = db_exec_stmt(st);
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            snprintf(err, errlen, "item %s: two files are named %s", uid, name);
            goto fail;
        }
        if (rc != SQLITE_DONE)
            goto db_error;
    }
    json_array_foreach(questions, i, q)
    {
        const char *kind = json_string_value(json_object_get(q, "kind"));
        const char *prompt = json_string_value(json_object_get(q, "prompt"));
        json_t *opts = json_object_get(q, "options"), *answer = json_object_get(q, "answer");
        json_int_t points = json_integer_value(json_object_get(q, "points"));
        if (!one_of(kind, kinds) || !school_text_ok(prompt, 1, 2000) ||
            (opts && !json_is_array(opts)) || !json_is_array(answer) || points < 1 ||
            points > 100) {
            snprintf(err, errlen, "item %s: question %zu is malformed or has no answer key", uid,
                     i);
            goto fail;
        }
        char *o = opts ? json_dumps(opts, JSON_COMPACT) : strdup("[]");
        char *a = json_dumps(answer, JSON_COMPACT);
        st = db_stmt(db, "INSERT INTO library_questions (item_id, position, kind, prompt, "
                         "options, answer, points) VALUES (:id, :pos, :kind, :prompt, :o, :a, :p)");
        int rc = st == NULL || o == NULL || a == NULL ? SQLITE_ERROR : SQLITE_OK;
        if (rc == SQLITE_OK) {
            db_bind_int(st, ":id", id);
            db_bind_int(st, ":pos", (int64_t)i + 1);
            db_bind_text(st, ":kind", kind);
            db_bind_text(st, ":prompt", prompt);
            db_bind_text(st, ":o", o);
            db_bind_text(st, ":a", a);
            db_bind_int(st, ":p", points);
            rc = db_exec_stmt(st);
        }
        free(o);
        free(a);
        if (rc != SQLITE_DONE)
            goto db_error;
    }
    free(blob_of);
    return id;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
fail:
    free(blob_of);
    return 0;
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
        sqlite3_stmt *st =
            db_stmt(db, "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = :n");
        if (st == NULL)
            return -1;
        db_bind_text(st, ":n", bulk_triggers[i]);
        sql[i] = db_step(st) == SQLITE_ROW ? strdup(db_col_text(st, 0)) : NULL;
        sqlite3_reset(st);
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP TRIGGER %s", bulk_triggers[i]);
        if (sql[i] == NULL || db_exec(db, drop) != SQLITE_OK)
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
    sqlite3_stmt *st = db_stmt(
        db, "SELECT blob_id FROM library_files WHERE item_id = :id UNION SELECT cover_blob_id "
            "FROM library_items WHERE id = :id AND cover_blob_id IS NOT NULL UNION SELECT b.id "
            "FROM library_items i JOIN blobs b ON b.hash = i.hub_doc WHERE i.id = :id");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":id", id);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        json_array_append_new(held, json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_reset(st);
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
    sqlite3_stmt *st;
    /* First what changes: an entry names its document by hash, and an item that came from the
     * same document is unchanged. */
    json_array_foreach(items, i, it)
    {
        const char *uid = json_string_value(json_object_get(it, "uid"));
        if (uid != NULL && json_object_get(c->kept, uid) != NULL) {
            snprintf(err, errlen, "manifest: item %s appears twice", uid);
            goto fail;
        }
        const char *doc = json_string_value(json_object_get(it, "doc"));
        size_t got = 0;
        if (uid == NULL || doc == NULL ||
            sodium_hex2bin(c->docs[i], 32, doc, strlen(doc), NULL, &got, NULL) != 0 || got != 32) {
            snprintf(err, errlen, "manifest: item %zu needs a uid and a 64-digit doc", i);
            goto fail;
        }
        st = db_stmt(db, "SELECT hub_doc IS :h AND origin = 'hub', id FROM library_items WHERE "
                         "uid = :u");
        if (st == NULL)
            goto db_error;
        db_bind_text(st, ":u", uid);
        db_bind_blob(st, ":h", c->docs[i], 32);
        int step = db_step(st);
        c->state[i] = step != SQLITE_ROW ? 1 : sqlite3_column_int(st, 0) ? 0 : 2;
        int64_t old = c->state[i] == 2 ? sqlite3_column_int64(st, 1) : 0;
        sqlite3_reset(st);
        if (old != 0 && hold_blobs(db, old, c->held) != 0) /* what the item named before */
            goto db_error;
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            goto db_error;
        json_object_set_new(c->kept, uid, json_true());
        if (c->state[i] != 0) {
            memcpy(c->by_doc[c->pending].hash, c->docs[i], 32);
            c->by_doc[c->pending++].entry = i;
        }
    }
    qsort(c->by_doc, c->pending, sizeof(*c->by_doc), doc_entry_cmp);
    /* A large change indexes the items' text once at the end. */
    st = db_stmt(db, "SELECT count(*) FROM library_items");
    if (st == NULL || db_step(st) != SQLITE_ROW)
        goto db_error;
    size_t library = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (bulk_ok && c->pending >= BULK_ITEMS && 3 * c->pending >= library) {
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
    /* The hub's items that left the channel go, unless a lesson or a homework uses them: the
     * journal keeps what a class was given. */
    sqlite3_stmt *st = db_stmt(
        db, "SELECT id, uid FROM library_items i WHERE origin = 'hub' AND NOT EXISTS (SELECT 1 "
            "FROM lesson_items WHERE item_id = i.id) AND NOT EXISTS (SELECT 1 FROM homework_items "
            "WHERE item_id = i.id)");
    if (st == NULL)
        goto db_error;
    json_t *gone = json_array();
    while (db_step(st) == SQLITE_ROW)
        if (json_object_get(c->kept, db_col_text(st, 1)) == NULL)
            json_array_append_new(gone, json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_reset(st);
    json_array_foreach(gone, i, id)
    {
        st = db_stmt(db, "DELETE FROM library_items WHERE id = :id");
        if (st == NULL) {
            json_decref(gone);
            goto db_error;
        }
        db_bind_int(st, ":id", json_integer_value(id));
        if (hold_blobs(db, json_integer_value(id), c->held) != 0 ||
            db_exec_stmt(st) != SQLITE_DONE) {
            json_decref(gone);
            goto db_error;
        }
        (*removed)++;
    }
    json_decref(gone);
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

int library_hub_apply(struct db *db, json_t *items,
                      json_t *(*load)(void *ctx, json_t *entry, char *err, size_t errlen),
                      void *ctx, long *changed, long *removed, char *err, size_t errlen)
{
    *changed = *removed = 0;
    struct hub_change *c = library_hub_begin(db, items, err, errlen);
    if (c == NULL)
        return -1;
    int rc = library_hub_end(c, load, ctx, changed, removed, err, errlen);
    library_hub_free(c);
    return rc;
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
