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
    if (sqlite3_step(st) != SQLITE_ROW) {
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
    while (sqlite3_step(st) == SQLITE_ROW) {
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
    while (sqlite3_step(st) == SQLITE_ROW) {
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

/* The blob id of a hex hash that must already be in the store (a bundle or a pull put it
 * there); 0 when absent or malformed. */
static int64_t present_blob(struct db *db, const char *hex)
{
    unsigned char hash[32];
    size_t got = 0;
    if (hex == NULL || strlen(hex) != 64 ||
        sodium_hex2bin(hash, sizeof(hash), hex, 64, NULL, &got, NULL) != 0 || got != 32)
        return 0;
    return blob_id(db, hash);
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
 * of the same origin) with its files and questions. The item's id, or 0 with err. */
static int64_t write_item(struct db *db, json_t *it, size_t n, const struct item_write *how,
                          char *err, size_t errlen)
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
    int64_t cover_id = cover ? present_blob(db, cover) : 0;
    if (cover && cover_id == 0) {
        snprintf(err, errlen, "item %s: its cover is not among the blobs", uid);
        return 0;
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
        id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
    }
    if (id == 0) {
        snprintf(err, errlen, "item %s: the uid belongs to one of this region's own items", uid);
        return 0;
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
    size_t i;
    json_t *f, *q;
    json_array_foreach(files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *ftype = json_string_value(json_object_get(f, "type"));
        int64_t blob = present_blob(db, json_string_value(json_object_get(f, "hash")));
        if (name == NULL || !file_name_ok(name) || ftype == NULL || strlen(ftype) > 127 ||
            blob == 0) {
            snprintf(err, errlen, "item %s: file %zu has a bad name or type or an unknown blob",
                     uid, i);
            return 0;
        }
        st = db_stmt(db, "INSERT INTO library_files (item_id, name, type, blob_id) VALUES (:id, "
                         ":n, :t, :b)");
        if (st == NULL)
            goto db_error;
        db_bind_int(st, ":id", id);
        db_bind_text(st, ":n", name);
        db_bind_text(st, ":t", ftype);
        db_bind_int(st, ":b", blob);
        int rc = db_exec_stmt(st);
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            snprintf(err, errlen, "item %s: two files are named %s", uid, name);
            return 0;
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
            return 0;
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
    return id;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
    return 0;
}

/* The full-text index's triggers (library.sql), set aside during a large change and put back,
 * the index then rebuilt once: indexing item by item costs about three times as much per item,
 * so a change of at least BULK_ITEMS items and a third of the library rebuilds. */
static const char *const fts_triggers[] = {"library_items_fts_ins", "library_items_fts_del",
                                           "library_items_fts_upd"};
enum { FTS_TRIGGERS = 3, BULK_ITEMS = 1000 };

/* Drops the triggers, keeping their SQL in sql[] (malloc'ed). 0, or -1 on a database error. */
static int fts_suspend(struct db *db, char *sql[FTS_TRIGGERS])
{
    for (int i = 0; i < FTS_TRIGGERS; i++) {
        sqlite3_stmt *st =
            db_stmt(db, "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = :n");
        if (st == NULL)
            return -1;
        db_bind_text(st, ":n", fts_triggers[i]);
        sql[i] = sqlite3_step(st) == SQLITE_ROW ? strdup(db_col_text(st, 0)) : NULL;
        sqlite3_reset(st);
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP TRIGGER %s", fts_triggers[i]);
        if (sql[i] == NULL || db_exec(db, drop) != SQLITE_OK)
            return -1;
    }
    return 0;
}

/* Puts the triggers back and rebuilds the index from the items; frees sql[]. */
static int fts_resume(struct db *db, char *sql[FTS_TRIGGERS])
{
    int rc = 0;
    for (int i = 0; i < FTS_TRIGGERS; i++) {
        if (rc == 0 && (sql[i] == NULL || db_exec(db, sql[i]) != SQLITE_OK))
            rc = -1;
        free(sql[i]);
        sql[i] = NULL;
    }
    if (rc == 0 &&
        db_exec(db, "INSERT INTO library_fts (library_fts) VALUES ('rebuild')") != SQLITE_OK)
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
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(held, json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int library_hub_apply(struct db *db, json_t *items,
                      json_t *(*load)(void *ctx, json_t *entry, char *err, size_t errlen),
                      void *ctx, long *changed, long *removed, char *err, size_t errlen)
{
    if (!json_is_array(items)) {
        snprintf(err, errlen, "manifest: \"items\" must be a list");
        return -1;
    }
    *changed = *removed = 0;
    size_t n = json_array_size(items);
    json_t *kept = json_object(), *held = json_array();
    /* Per entry: 0 unchanged, 1 new, 2 changed; and its document hash. */
    unsigned char *state = calloc(n ? n : 1, 1), (*docs)[32] = calloc(n ? n : 1, 32);
    char *fts_sql[FTS_TRIGGERS] = {NULL};
    bool bulk = false;
    size_t i, todo = 0;
    json_t *it, *id;
    int rc = -1;
    if (state == NULL || docs == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    sqlite3_stmt *st;
    /* First what changes: an entry names its document by hash, and an item that came from the
     * same document is unchanged. */
    json_array_foreach(items, i, it)
    {
        const char *uid = json_string_value(json_object_get(it, "uid"));
        if (uid != NULL && json_object_get(kept, uid) != NULL) {
            snprintf(err, errlen, "manifest: item %s appears twice", uid);
            goto out;
        }
        const char *doc = json_string_value(json_object_get(it, "doc"));
        size_t got = 0;
        if (uid == NULL || doc == NULL ||
            sodium_hex2bin(docs[i], 32, doc, strlen(doc), NULL, &got, NULL) != 0 || got != 32) {
            snprintf(err, errlen, "manifest: item %zu needs a uid and a 64-digit doc", i);
            goto out;
        }
        st = db_stmt(db, "SELECT hub_doc IS :h AND origin = 'hub', id FROM library_items WHERE "
                         "uid = :u");
        if (st == NULL)
            goto db_error;
        db_bind_text(st, ":u", uid);
        db_bind_blob(st, ":h", docs[i], 32);
        int step = sqlite3_step(st);
        state[i] = step != SQLITE_ROW ? 1 : sqlite3_column_int(st, 0) ? 0 : 2;
        int64_t old = state[i] == 2 ? sqlite3_column_int64(st, 1) : 0;
        sqlite3_reset(st);
        if (old != 0 && hold_blobs(db, old, held) != 0) /* what the item named before */
            goto db_error;
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            goto db_error;
        json_object_set_new(kept, uid, json_true());
        todo += state[i] != 0;
    }
    /* A large change indexes the items' text once at the end. */
    st = db_stmt(db, "SELECT count(*) FROM library_items");
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        goto db_error;
    size_t library = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (todo >= BULK_ITEMS && 3 * todo >= library) {
        if (fts_suspend(db, fts_sql) != 0)
            goto db_error;
        bulk = true;
    }
    json_array_foreach(items, i, it)
    {
        if (state[i] == 0)
            continue;
        const char *uid = json_string_value(json_object_get(it, "uid"));
        json_t *item = load(ctx, it, err, errlen);
        if (item == NULL)
            goto out;
        const char *inner = json_string_value(json_object_get(item, "uid"));
        if (inner == NULL || strcmp(inner, uid) != 0) {
            snprintf(err, errlen, "manifest: item %s's document is another item's", uid);
            json_decref(item);
            goto out;
        }
        struct item_write how = {.origin = "hub",
                                 .status = "approved",
                                 .authors_suffix = "",
                                 .doc = docs[i],
                                 .fresh = state[i] == 1};
        int64_t written = write_item(db, item, i, &how, err, errlen);
        json_decref(item);
        if (written == 0)
            goto out;
        (*changed)++;
    }
    /* The hub's items that left the channel go, unless a lesson or a homework uses them: the
     * journal keeps what a class was given. */
    st = db_stmt(
        db, "SELECT id, uid FROM library_items i WHERE origin = 'hub' AND NOT EXISTS (SELECT 1 "
            "FROM lesson_items WHERE item_id = i.id) AND NOT EXISTS (SELECT 1 FROM homework_items "
            "WHERE item_id = i.id)");
    if (st == NULL)
        goto db_error;
    json_t *gone = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        if (json_object_get(kept, db_col_text(st, 1)) == NULL)
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
        if (hold_blobs(db, json_integer_value(id), held) != 0 || db_exec_stmt(st) != SQLITE_DONE) {
            json_decref(gone);
            goto db_error;
        }
        (*removed)++;
    }
    json_decref(gone);
    json_array_foreach(held, i, id)
    {
        if (blob_release(db, json_integer_value(id)) != 0)
            goto db_error;
    }
    if (bulk && fts_resume(db, fts_sql) != 0)
        goto db_error;
    rc = 0;
    goto out;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
out:
    for (int k = 0; k < FTS_TRIGGERS; k++)
        free(fts_sql[k]); /* on failure: the caller rolls the dropped triggers back */
    json_decref(kept);
    json_decref(held);
    free(state);
    free(docs);
    return rc;
}

int64_t library_contribution_write(struct db *db, json_t *item, const char *uid,
                                   const char *region_name, char *err, size_t errlen)
{
    char suffix[200];
    snprintf(suffix, sizeof(suffix), " (%s)", region_name);
    struct item_write how = {
        .uid_as = uid, .origin = "region", .status = "submitted", .authors_suffix = suffix};
    return write_item(db, item, 0, &how, err, errlen);
}
