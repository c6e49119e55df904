/*
 * Storage layer (see db.h). Expected load: one connection per CivetWeb worker thread, each
 * running a few thousand short transactions per second; the statement cache makes a repeated
 * query cost one hash probe and a sqlite3_reset.
 */
#include "db.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "library/library.h"
#include "log.h"

/* Migrations in order: version N is the N-th entry. Each file is commented SQL beside its
 * subsystem's code. Never edit a released entry: append a new file instead. */
static const char *const migrations[] = {
    "node/school/school.sql",             /* 1 */
    "node/accounts/accounts.sql",         /* 2 */
    "node/journal/journal.sql",           /* 3 */
    "node/notify/notify.sql",             /* 4 */
    "node/messages/messages.sql",         /* 5 */
    "node/certificates/certificates.sql", /* 6 */
    "node/cache/cache.sql",               /* 7 */
    "node/files/files.sql",               /* 8 */
    "node/journal/homework_files.sql",    /* 9 */
    "node/journal/medical_notes.sql",     /* 10 */
    "node/library/library.sql",           /* 11 */
    "node/library/revisions.sql",         /* 12 */
    "node/library/rank.sql",              /* 13 */
    "federation/channel.sql",             /* 14 */
    "federation/hub.sql",                 /* 15 */
    "federation/reports.sql",             /* 16 */
    "federation/contributions.sql",       /* 17 */
    "federation/rotation.sql",            /* 18 */
    "node/library/exchange.sql",          /* 19 */
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define STMT_SLOTS 512 /* power of two; more distinct queries than this is a design smell */

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct db {
    sqlite3 *h;
    struct stmt_slot slots[STMT_SLOTS];
    int nstmts;
};

static atomic_llong stat_prepared, stat_commits, stat_rollbacks, stat_busy;

struct db *db_open(const char *path, const struct mes_config *cfg, char *err, size_t errlen)
{
    library_tokenizer_init(); /* the library's full-text index needs it on every connection */
    struct db *db = calloc(1, sizeof(*db));
    if (db == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(
        path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, cfg->storage.busy_timeout_ms);
    char pragmas[512];
    int n = snprintf(pragmas, sizeof(pragmas),
                     "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=%s;"
                     "PRAGMA foreign_keys=ON;"
                     "PRAGMA mmap_size=%lld;"
                     "PRAGMA temp_store=MEMORY;",
                     cfg->storage.synchronous == SYNC_FULL ? "FULL" : "NORMAL",
                     cfg->storage.mmap_bytes);
    if (n < 0 || (size_t)n >= sizeof(pragmas)) {
        snprintf(err, errlen, "pragmas too long");
        goto fail;
    }
    char *msg = NULL;
    if (sqlite3_exec(db->h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "pragma failed");
        sqlite3_free(msg);
        goto fail;
    }
    return db;
fail:
    db_close(db);
    return NULL;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < STMT_SLOTS; i++)
        if (db->slots[i].st)
            sqlite3_finalize(db->slots[i].st);
    sqlite3_close(db->h);
    free(db);
}

sqlite3 *db_handle(struct db *db)
{
    return db->h;
}

static int pragma_int(struct db *db, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_schema_version(struct db *db)
{
    return pragma_int(db, "PRAGMA user_version");
}

int db_latest_version(void)
{
    return NMIGRATIONS;
}

int db_migrate(struct db *db, int target, char *err, size_t errlen)
{
    if (target <= 0 || target > NMIGRATIONS)
        target = NMIGRATIONS;
    int appid = pragma_int(db, "PRAGMA application_id");
    int version = db_schema_version(db);
    if (appid != 0 && appid != DB_APPLICATION_ID) {
        snprintf(err, errlen, "database belongs to another application (application_id %d)", appid);
        return -1;
    }
    if (appid == 0 && version != 0) {
        snprintf(err, errlen, "database has user_version %d but no application_id", version);
        return -1;
    }
    if (version > NMIGRATIONS) {
        snprintf(err, errlen, "database schema %d is newer than this mesnode (%d): upgrade it",
                 version, NMIGRATIONS);
        return -1;
    }
    for (int v = version + 1; v <= target; v++) {
        const struct asset *a = asset_find(migrations[v - 1]);
        if (a == NULL) {
            snprintf(err, errlen, "migration %d: %s not compiled in", v, migrations[v - 1]);
            return -1;
        }
        char tail[96];
        snprintf(tail, sizeof(tail), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
                 DB_APPLICATION_ID, v);
        char *msg = NULL;
        if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db->h, (const char *)a->data, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db->h, tail, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db->h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %d (%s): %s", v, migrations[v - 1],
                     msg ? msg : sqlite3_errmsg(db->h));
            sqlite3_free(msg);
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_info("database migrated to version %d (%s)", v, migrations[v - 1]);
    }
    return 0;
}

static unsigned slot_of(const char *sql)
{
    uintptr_t p = (uintptr_t)sql;
    p ^= p >> 17;
    p *= 0x9E3779B97F4A7C15ull;
    return (unsigned)(p >> 40) & (STMT_SLOTS - 1);
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
    unsigned i = slot_of(sql);
    for (int probes = 0; probes < STMT_SLOTS; probes++, i = (i + 1) & (STMT_SLOTS - 1)) {
        struct stmt_slot *s = &db->slots[i];
        if (s->sql == sql) {
            sqlite3_reset(s->st);
            sqlite3_clear_bindings(s->st);
            return s->st;
        }
        if (s->sql == NULL) {
            assert(db->nstmts < STMT_SLOTS * 3 / 4);
            if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL) !=
                SQLITE_OK) {
                log_error("prepare failed: %s\n  in: %s", sqlite3_errmsg(db->h), sql);
                s->st = NULL;
                return NULL;
            }
            s->sql = sql;
            db->nstmts++;
            atomic_fetch_add(&stat_prepared, 1);
            return s->st;
        }
    }
    return NULL;
}

static int param_index(sqlite3_stmt *st, const char *name)
{
    int i = sqlite3_bind_parameter_index(st, name);
    assert(i > 0 && "binding a parameter the statement does not have");
    return i;
}

int db_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    return sqlite3_bind_int64(st, param_index(st, name), v);
}

int db_bind_text(sqlite3_stmt *st, const char *name, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(st, param_index(st, name));
    return sqlite3_bind_text(st, param_index(st, name), s, -1, SQLITE_TRANSIENT);
}

int db_bind_null(sqlite3_stmt *st, const char *name)
{
    return sqlite3_bind_null(st, param_index(st, name));
}

int db_bind_blob(sqlite3_stmt *st, const char *name, const void *p, int n)
{
    return sqlite3_bind_blob(st, param_index(st, name), p, n, SQLITE_TRANSIENT);
}

int db_exec_stmt(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_BUSY)
        atomic_fetch_add(&stat_busy, 1);
    sqlite3_reset(st);
    return rc;
}

int db_exec(struct db *db, const char *sql)
{
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL);
}

static int exec_counted(struct db *db, const char *sql)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_BUSY || rc == SQLITE_BUSY_SNAPSHOT)
        atomic_fetch_add(&stat_busy, 1);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int db_begin_read(struct db *db)
{
    return exec_counted(db, "BEGIN DEFERRED");
}

int db_begin_write(struct db *db)
{
    return exec_counted(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
    int rc = exec_counted(db, "COMMIT");
    if (rc == SQLITE_OK)
        atomic_fetch_add(&stat_commits, 1);
    return rc;
}

int db_rollback(struct db *db)
{
    if (sqlite3_get_autocommit(db->h))
        return SQLITE_OK;
    atomic_fetch_add(&stat_rollbacks, 1);
    return exec_counted(db, "ROLLBACK");
}

int db_exists(struct db *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st == NULL)
        return -1;
    db_bind_int(st, ":id", id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

const char *db_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

void db_cache_mib(struct db *db, int mib)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size=%d", -1024 * mib);
    sqlite3_exec(db->h, sql, NULL, NULL, NULL); /* only a hint: a failure changes nothing */
}

int64_t db_last_id(struct db *db)
{
    return sqlite3_last_insert_rowid(db->h);
}

int db_changes(struct db *db)
{
    return sqlite3_changes(db->h);
}

const char *db_errmsg(struct db *db)
{
    return sqlite3_errmsg(db->h);
}

void db_stats_get(struct db_stats *out)
{
    out->statements_prepared = atomic_load(&stat_prepared);
    out->commits = atomic_load(&stat_commits);
    out->rollbacks = atomic_load(&stat_rollbacks);
    out->busy = atomic_load(&stat_busy);
}
