/*
 * Unit tests of a hub channel's change applied in steps (library_hub_begin, offer, end), as a
 * bundle's import does it: an item is written as its document comes when its files are held,
 * later when they are not, never in part; a document of another item is refused. And an
 * item's export that a failing step cuts short is an error, never a short item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files/files.h"
#include "library/library.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;

static char path[64];

static void hex_of(const void *data, size_t len, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, 32, data, len, NULL, 0);
    sodium_bin2hex(hex, 65, h, 32);
}

/* An item's document naming one file with `body`. */
static json_t *doc_with_file(const char *uid, const char *body)
{
    char hex[65];
    hex_of(body, strlen(body), hex);
    return json_pack("{s:s,s:s,s:s,s:{s:i,s:i},s:[{s:s,s:s,s:s}]}", "uid", uid, "type", "textbook",
                     "title", "Учебник", "grades", "min", 5, "max", 6, "files", "name", "a.txt",
                     "type", "text/plain", "hash", hex);
}

/* The manifest entry for a document, and the document's hash. */
static json_t *entry_for(json_t *doc, unsigned char hash[32])
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS), hex[65];
    crypto_generichash(hash, 32, (const unsigned char *)text, strlen(text), NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), hash, 32);
    json_t *e = json_pack("{s:O,s:s}", "uid", json_object_get(doc, "uid"), "doc", hex);
    free(text);
    return e;
}

/* load() for the end: the documents by uid, from a JSON object. */
static json_t *load_from(void *ctx, json_t *entry, char *err, size_t errlen)
{
    json_t *doc = json_object_get(ctx, json_string_value(json_object_get(entry, "uid")));
    if (doc == NULL)
        snprintf(err, errlen, "no document");
    return json_incref(doc);
}

static void test_items_written_as_documents_come(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    char err[256] = "";
    json_t *a = doc_with_file("hub-a", "first body"), *b = doc_with_file("hub-b", "second body");
    unsigned char ha[32], hb[32];
    json_t *items = json_pack("[o,o]", entry_for(a, ha), entry_for(b, hb));
    json_t *docs = json_pack("{s:O,s:O}", "hub-a", a, "hub-b", b);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_true(blob_put_data(db, "first body", 10) > 0); /* a's file is held, b's not yet */
    struct hub_change *c = library_hub_begin(db, items, err, sizeof(err));
    assert_non_null(c);
    unsigned char other[32] = {1};
    assert_int_equal(library_hub_offer(c, other, a, err, sizeof(err)), 0); /* not a document */
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_items"), 0);
    assert_int_equal(library_hub_offer(c, ha, a, err, sizeof(err)), 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_items WHERE uid = 'hub-a'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_files"), 1);
    /* b's file is not stored: nothing of b is written now, and no error. */
    assert_int_equal(library_hub_offer(c, hb, b, err, sizeof(err)), 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_items"), 1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_files"), 1);
    assert_true(blob_put_data(db, "second body", 11) > 0);
    long changed = -1, removed = -1;
    assert_int_equal(library_hub_end(c, load_from, docs, &changed, &removed, err, sizeof(err)), 0);
    assert_int_equal(changed, 2);
    assert_int_equal(removed, 0);
    assert_int_equal(scratch_scalar(db,
                                    "SELECT count(*) FROM library_items WHERE origin = 'hub' AND "
                                    "status = 'approved' AND hub_doc IS NOT NULL"),
                     2);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_files"), 2);
    library_hub_free(c);
    assert_int_equal(db_commit(db), SQLITE_OK);

    /* The same documents again: nothing to write, whatever is offered. */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    c = library_hub_begin(db, items, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(library_hub_offer(c, ha, a, err, sizeof(err)), 0);
    assert_int_equal(library_hub_end(c, load_from, docs, &changed, &removed, err, sizeof(err)), 0);
    assert_int_equal(changed, 0);
    library_hub_free(c);
    db_rollback(db);
    json_decref(items);
    json_decref(docs);
    json_decref(a);
    json_decref(b);
    scratch_db_remove(db, path);
}

static void test_a_document_of_another_item_is_refused(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    char err[256] = "";
    json_t *a = doc_with_file("hub-a", "body"), *b = doc_with_file("hub-b", "body");
    unsigned char ha[32], hb[32];
    json_t *items = json_pack("[o]", entry_for(a, ha));
    json_t *eb = entry_for(b, hb);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_true(blob_put_data(db, "body", 4) > 0);
    struct hub_change *c = library_hub_begin(db, items, err, sizeof(err));
    assert_non_null(c);
    /* b's document under a's hash (a reader checked the hash of what it carried; the entry
     * names the document by hash, so another's document cannot pass for it). */
    assert_int_equal(library_hub_offer(c, ha, b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "another item's"));
    library_hub_free(c);
    db_rollback(db);
    /* An entry twice is refused before anything is written. */
    json_array_append(items, json_array_get(items, 0));
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_null(library_hub_begin(db, items, err, sizeof(err)));
    assert_non_null(strstr(err, "appears twice"));
    db_rollback(db);
    json_decref(eb);
    json_decref(items);
    json_decref(a);
    json_decref(b);
    scratch_db_remove(db, path);
}

/* Counts the virtual machine's steps and interrupts the statement at the `stop`-th. */
static int interrupt_at(void *arg)
{
    long *left = arg;
    return --*left == 0;
}

/* An item exported while a step fails somewhere (each possible place in turn, by interrupting
 * the statement after 1, 2, 3 ... instructions): an error, or the whole item with its 40 files
 * and its question, never a short item. */
static void test_an_export_cut_short_is_an_error(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    assert_int_equal(
        db_exec(db, "INSERT INTO library_items (id, uid, type, title, grade_min, grade_max, "
                    "origin, status) VALUES (1, 'hub-t', 'test', 'Тест', 5, 6, 'hub', 'approved');"
                    "INSERT INTO library_questions (item_id, position, kind, prompt, options, "
                    "answer) VALUES (1, 1, 'single', 'p', '[\"a\",\"b\"]', '[1]')"),
        SQLITE_OK);
    for (int i = 0; i < 40; i++) {
        char body[32];
        snprintf(body, sizeof(body), "file %d", i);
        int64_t blob = blob_put_data(db, body, strlen(body));
        assert_true(blob > 0);
        char name[32];
        snprintf(name, sizeof(name), "f%02d.txt", i);
        assert_int_equal(db_run(db,
                                "INSERT INTO library_files (item_id, name, type, blob_id) VALUES "
                                "(1, :n, 'text/plain', :b)",
                                DB_ARGS(DB_TEXT(":n", name), DB_INT(":b", blob))),
                         SQLITE_DONE);
    }
    int failed = 0, quiet = open("/dev/null", O_WRONLY), err = dup(2);
    assert_true(quiet >= 0 && err >= 0);
    for (long stop = 1;; stop++) {
        long left = stop;
        json_t *items = json_array(), *blobs = json_object(), *ids = json_object();
        dup2(quiet, 2); /* each failing step is logged */
        sqlite3_progress_handler(db_handle(db), 1, interrupt_at, &left);
        int rc = library_item_export(db, 1, true, items, blobs, ids);
        sqlite3_progress_handler(db_handle(db), 0, NULL, NULL);
        dup2(err, 2);
        db_failure_clear();
        if (rc == 0) {
            json_t *it = json_array_get(items, 0);
            assert_int_equal(json_array_size(json_object_get(it, "files")), 40);
            assert_int_equal(json_object_size(blobs), 40);
            assert_int_equal(json_array_size(json_object_get(it, "questions")), 1);
        } else {
            failed++;
        }
        json_decref(items);
        json_decref(blobs);
        json_decref(ids);
        if (left > 0) /* not interrupted: every place was tried */
            break;
    }
    close(quiet);
    close(err);
    assert_true(failed > 40); /* the interruptions fell in the loops too */
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_written_as_documents_come),
        cmocka_unit_test(test_a_document_of_another_item_is_refused),
        cmocka_unit_test(test_an_export_cut_short_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
