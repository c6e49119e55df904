/*
 * Unit tests' scratch databases: a migrated database in a fresh temporary file, removed with
 * every file beside it (the log, the shared memory, the blob store and its journal).
 */
#ifndef MES_TEST_SCRATCH_DB_H
#define MES_TEST_SCRATCH_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"

/* Opens and migrates a database at a new path under /tmp (written to `path`). */
static inline struct db *scratch_db(const struct mes_config *cfg, char path[64])
{
    char err[256];
    snprintf(path, 64, "/tmp/mes-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct db *db = db_open(path, cfg, err, sizeof(err));
    assert_non_null(db);
    assert_int_equal(db_migrate(db, 0, err, sizeof(err)), 0);
    return db;
}

static inline void scratch_db_remove(struct db *db, const char *path)
{
    static const char *const suffixes[] = {
        "", "-wal", "-shm", ".blobs.db", ".blobs.db-journal", ".stage.lock"};
    db_close(db);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[96];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

/* The one integer a query returns. */
static inline int64_t scratch_scalar(struct db *db, const char *sql)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    assert_non_null(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

#endif
