/*
 * Unit tests of the blob store beside the database (db.h): a body is visible with its row
 * once both commit and goes with a rollback; bodies that outlived their transaction (an import
 * that committed steps, then failed) are collected; a row id used again replaces what was
 * left; a released row's body leaves after the commit; a changed body is refused on reading;
 * reads inside a transaction share one of the store, which ends with it; a stage's bodies
 * (an import's, stored before the write lock) survive collection until the stage ends, which
 * drops those no row took, and a crashed stage's are collected once the next one begins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files/files.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;
static char path[64];

static int64_t bodies(struct db *db)
{
    size_t len = 0;
    int rc = 0;
    int64_t n = 0;
    for (int64_t id = 1; id <= 64; id++) {
        void *b = db_store_get(db, id, &len, &rc);
        n += b != NULL;
        free(b);
    }
    return n;
}

/* Blob `id` reads back as exactly `want` (len bytes), checked. */
static void assert_body(struct db *db, int64_t id, const void *want, size_t len)
{
    unsigned char hash[32];
    size_t size = 0;
    int why = 0;
    unsigned char *got = blob_load(db, id, hash, &size, &why, NULL);
    assert_non_null(got);
    assert_int_equal(size, len);
    assert_memory_equal(got, want, len);
    free(got);
}

static void test_bodies_follow_their_rows(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    unsigned char body[5000];
    randombytes_buf(body, sizeof(body)); /* incompressible: stored as it is */
    /* Rolled back: neither row nor body. */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    int64_t id = blob_put_data(db, body, sizeof(body));
    assert_true(id > 0);
    assert_int_equal(db_rollback(db), SQLITE_OK);
    assert_int_equal(blob_id(db, (unsigned char[32]){0}), 0);
    assert_int_equal(bodies(db), 0);
    /* Committed: read back whole, checked. */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    id = blob_put_data(db, body, sizeof(body));
    assert_true(id > 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_body(db, id, body, sizeof(body));
    /* The same bytes again: one row, one body. */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(blob_put_data(db, body, sizeof(body)), id);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(bodies(db), 1);
    /* Released: the body leaves with the row. */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(blob_release(db, id), 0);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(bodies(db), 0);
    unsigned char hash[32];
    size_t size = 0;
    int why = 0;
    assert_null(blob_load(db, id, hash, &size, &why, NULL));
    assert_int_equal(why, 404);
    scratch_db_remove(db, path);
}

static void test_left_bodies_are_collected_and_replaced(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    /* A body larger than a step of the store, so committed on its own as an import's steps
     * are; then the transaction is rolled back: the body stays until collected. */
    size_t big = 17 << 20;
    unsigned char *left = calloc(1, big);
    assert_non_null(left);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(db_store_put(db, 7, left, big), SQLITE_OK);
    assert_int_equal(db_rollback(db), SQLITE_OK);
    free(left);
    assert_int_equal(bodies(db), 1);
    char err[256];
    assert_int_equal(db_store_collect(db, err, sizeof(err)), 1);
    assert_int_equal(bodies(db), 0);
    /* A body left under the id the next row takes: replaced by that row's own. */
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(db_store_put(db, 1, "stale body", 10), SQLITE_OK);
    assert_int_equal(db_commit(db), SQLITE_OK);
    unsigned char body[3000];
    randombytes_buf(body, sizeof(body));
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    int64_t id = blob_put_data(db, body, sizeof(body));
    assert_int_equal(id, 1);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_body(db, id, body, sizeof(body));
    /* A body changed in the store is refused. */
    body[100] ^= 1;
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(db_store_put(db, id, body, sizeof(body)), SQLITE_OK);
    assert_int_equal(db_commit(db), SQLITE_OK);
    unsigned char hash[32];
    size_t size = 0;
    int why = 0;
    assert_null(blob_load(db, id, hash, &size, &why, NULL));
    assert_int_equal(why, 500);
    scratch_db_remove(db, path);
}

/* Whether another connection could write the store now (no read transaction holds it). */
static bool store_writable(const char *main_path)
{
    char p[96];
    snprintf(p, sizeof(p), "%s.blobs.db", main_path);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    int rc = sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(h);
    assert_true(rc == SQLITE_OK || rc == SQLITE_BUSY);
    return rc == SQLITE_OK;
}

static void test_reads_share_a_transaction_ended_with_theirs(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    unsigned char a[2000], b[2000];
    randombytes_buf(a, sizeof(a));
    randombytes_buf(b, sizeof(b));
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    int64_t ia = blob_put_data(db, a, sizeof(a)), ib = blob_put_data(db, b, sizeof(b));
    assert_int_equal(db_commit(db), SQLITE_OK);
    /* Outside a transaction: each read is its own, and holds nothing after it. */
    assert_body(db, ia, a, sizeof(a));
    assert_true(store_writable(path));
    /* Inside one: the reads share a read transaction of the store, held until it ends. */
    for (int end = 0; end < 2; end++) {
        assert_int_equal(db_begin_read(db), SQLITE_OK);
        assert_body(db, ia, a, sizeof(a));
        assert_false(store_writable(path));
        assert_body(db, ib, b, sizeof(b));
        assert_int_equal(end ? db_rollback(db) : db_commit(db), SQLITE_OK);
        assert_true(store_writable(path));
    }
    scratch_db_remove(db, path);
}

/* Bodies in the store, staged or not: straight from its file. */
static int64_t store_count(const char *main_path, const char *sql)
{
    char p[96];
    snprintf(p, sizeof(p), "%s.blobs.db", main_path);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static void test_staged_bodies_wait_for_their_rows(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    char err[256];
    unsigned char a[3000], b[3000], c[3000];
    randombytes_buf(a, sizeof(a));
    randombytes_buf(b, sizeof(b));
    randombytes_buf(c, sizeof(c));
    struct db_stage sg;
    assert_int_equal(db_stage_begin(db, &sg, err, sizeof(err)), 0);
    /* One stage at a time: another connection (another process alike) is refused. */
    struct db *other = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(other);
    struct db_stage sg2;
    assert_int_equal(db_stage_begin(other, &sg2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "another import"));
    bool zstd;
    int64_t ia = blob_stage(db, &sg, a, sizeof(a), NULL, &zstd),
            ib = blob_stage(db, &sg, b, sizeof(b), NULL, &zstd);
    assert_true(ia > 0 && ib > ia);
    assert_int_equal(db_stage_flush(db), SQLITE_OK);
    /* A writer meanwhile takes ids below the stage's and stores its body as ever. */
    assert_int_equal(db_begin_write(other), SQLITE_OK);
    int64_t ic = blob_put_data(other, c, sizeof(c));
    assert_int_equal(db_commit(other), SQLITE_OK);
    assert_true(ic > 0 && ic < ia);
    /* No row names the staged bodies yet: the collector leaves them. */
    assert_int_equal(db_store_collect(other, err, sizeof(err)), 0);
    assert_int_equal(store_count(path, "SELECT count(*) FROM bodies"), 3);
    /* A's row goes in under its staged id; the stage ends dropping B, which no row took. */
    unsigned char ha[32];
    crypto_generichash(ha, sizeof(ha), a, sizeof(a), NULL, 0);
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(blob_insert_staged(db, ia, ha, sizeof(a), zstd), 1);
    assert_int_equal(db_commit(db), SQLITE_OK);
    assert_int_equal(db_stage_end(db, &sg, &ib, 1), SQLITE_OK);
    assert_int_equal(store_count(path, "SELECT count(*) FROM bodies"), 2);
    assert_int_equal(store_count(path, "SELECT count(*) FROM staged"), 0);
    assert_int_equal(blob_id(db, ha), ia);
    assert_body(db, ia, a, sizeof(a));
    assert_body(db, ic, c, sizeof(c));
    /* The same hash staged again: its row is not inserted twice. */
    assert_int_equal(db_stage_begin(other, &sg2, err, sizeof(err)), 0);
    int64_t again = blob_stage(other, &sg2, a, sizeof(a), NULL, &zstd);
    assert_true(again > ia);
    assert_int_equal(db_stage_flush(other), SQLITE_OK);
    assert_int_equal(db_begin_write(other), SQLITE_OK);
    assert_int_equal(blob_insert_staged(other, again, ha, sizeof(a), zstd), 0);
    assert_int_equal(db_commit(other), SQLITE_OK);
    /* A stage that crashed: its lock goes with the process, its marks stay, and its body too
     * until the next stage begins and a collection runs. */
    close(sg2.fd);
    assert_int_equal(db_store_collect(db, err, sizeof(err)), 0);
    assert_int_equal(db_stage_begin(db, &sg, err, sizeof(err)), 0);
    assert_int_equal(store_count(path, "SELECT count(*) FROM staged"), 0);
    assert_int_equal(db_store_collect(db, err, sizeof(err)), 1);
    assert_int_equal(db_stage_end(db, &sg, NULL, 0), SQLITE_OK);
    assert_int_equal(store_count(path, "SELECT count(*) FROM bodies"), 2);
    db_close(other);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies_follow_their_rows),
        cmocka_unit_test(test_left_bodies_are_collected_and_replaced),
        cmocka_unit_test(test_reads_share_a_transaction_ended_with_theirs),
        cmocka_unit_test(test_staged_bodies_wait_for_their_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
