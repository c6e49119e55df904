/*
 * Storage layer (see db.h). Expected load: one connection per CivetWeb worker thread, each
 * running a few thousand short transactions per second; the statement cache makes a repeated
 * query cost one hash probe and a sqlite3_reset.
 */
#include "db.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "assets.h"
#include "log.h"
#include "subsystem.h"

#define STMT_SLOTS 512 /* power of two; more distinct queries than this is a design smell */

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

/* The blob store (db.h): opened on first use. */
struct store {
    sqlite3 *h;
    char *path, *main_path;
    sqlite3_stmt *put, *get, *drop;
    bool writing;      /* a write transaction is open on it */
    bool reading;      /* a read transaction (store_read_end) */
    bool staging;      /* a write transaction of a stage's (db_stage_put), apart from the
                          database's transactions */
    size_t read;       /* bytes got in it */
    size_t written;    /* bytes put in it */
    int64_t *released; /* blob rows this transaction deleted */
    size_t nreleased, capreleased;
};

struct db {
    sqlite3 *h;
    struct stmt_slot slots[STMT_SLOTS];
    int nstmts;
    const struct mes_config *cfg;
    struct store store;
    const char *role; /* db_set_role; NULL: "worker" */
};

static atomic_llong stat_prepared, stat_commits, stat_rollbacks, stat_busy;

/* The calling thread's first storage failure since db_failure_clear (db.h). */
static _Thread_local int thread_failure;

/* Waiting for a lock another connection holds: polls every millisecond up to the busy timeout.
 * SQLite's own handler sleeps up to 100 ms between tries, so that a writer that takes the lock
 * in a quick succession of short transactions (a command's staged import in another process)
 * would keep it from the node's writer for as long as it runs; each of those leaves the lock
 * free for a few milliseconds between its transactions, which a poll every millisecond finds. */
static int busy_wait(void *arg, int count)
{
    const struct db *db = arg;
    if ((long long)count >= (long long)db->cfg->storage.busy_timeout_ms)
        return 0;
    usleep(1000);
    return 1;
}

/* Waits for locks as busy_wait does, or (wait false) not at all. */
static void busy_set(struct db *db, bool wait)
{
    sqlite3_busy_handler(db->h, wait ? busy_wait : NULL, db);
}

struct db *db_open(const char *path, const struct mes_config *cfg, char *err, size_t errlen)
{
    registry_connection_init(); /* what every connection needs: the library's tokenizer */
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
    db->cfg = cfg;
    busy_set(db, true);
    /* The store beside it: mes.db -> mes.blobs.db. */
    size_t plen = strlen(path);
    bool dotdb = plen > 3 && strcmp(path + plen - 3, ".db") == 0;
    if ((db->store.path = malloc(plen + 16)) == NULL ||
        (db->store.main_path = strdup(path)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(db->store.path, plen + 16, "%.*s.blobs.db", (int)(dotdb ? plen - 3 : plen), path);
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
    struct store *s = &db->store;
    if (s->writing || s->reading || s->staging)
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->drop);
    sqlite3_close(s->h);
    free(s->released);
    free(s->path);
    free(s->main_path);
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
    return registry_latest_version();
}

int db_migrate(struct db *db, int target, char *err, size_t errlen)
{
    /* The list is the subsystems' migrations in version order, checked for gaps first. */
    if (registry_check(err, errlen) != 0)
        return -1;
    int latest = registry_latest_version();
    if (target <= 0 || target > latest)
        target = latest;
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
    if (version > latest) {
        snprintf(err, errlen, "database schema %d is newer than this mesnode (%d): upgrade it",
                 version, latest);
        return -1;
    }
    for (int v = version + 1; v <= target; v++) {
        const char *file = registry_migration(v);
        const struct asset *a = asset_find(file);
        if (a == NULL) {
            snprintf(err, errlen, "migration %d: %s not compiled in", v, file);
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
            snprintf(err, errlen, "migration %d (%s): %s", v, file,
                     msg ? msg : sqlite3_errmsg(db->h));
            sqlite3_free(msg);
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_info("database migrated to version %d (%s)", v, file);
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

void db_set_role(struct db *db, const char *role)
{
    db->role = role;
}

/* Query plans for the tests (db.h, db_set_role): the file named by MES_QUERY_PLANS, opened once
 * for the process, or NULL when the variable is unset or empty. */
static FILE *plans_file;
static pthread_once_t plans_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t plans_lock = PTHREAD_MUTEX_INITIALIZER;

static void plans_open(void)
{
    const char *path = getenv("MES_QUERY_PLANS");
    if (path == NULL || path[0] == '\0')
        return;
    if ((plans_file = fopen(path, "a")) == NULL)
        log_error("MES_QUERY_PLANS: cannot open %s", path);
}

/* The rows of EXPLAIN QUERY PLAN for `sql` on db's connection, as [{id, parent, detail}], or a
 * one-row plan saying why there is none. The EXPLAIN is prepared apart from the statement
 * cache and never counts as a storage failure. (SQLite 3.40, Debian 12's, has no
 * sqlite3_stmt_explain: the prefix goes before the literal.) */
static json_t *plan_rows(struct db *db, const char *sql)
{
    static const char prefix[] = "EXPLAIN QUERY PLAN ";
    json_t *rows = json_array();
    size_t n = strlen(sql);
    char *eqp = malloc(sizeof(prefix) + n);
    sqlite3_stmt *st = NULL;
    if (rows == NULL || eqp == NULL)
        goto done;
    memcpy(eqp, prefix, sizeof(prefix) - 1);
    memcpy(eqp + sizeof(prefix) - 1, sql, n + 1);
    if (sqlite3_prepare_v2(db->h, eqp, -1, &st, NULL) != SQLITE_OK) {
        json_array_append_new(rows, json_pack("{s:i,s:i,s:s}", "id", 0, "parent", 0, "detail",
                                              sqlite3_errmsg(db->h)));
        goto done;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(rows,
                              json_pack("{s:i,s:i,s:s}", "id", sqlite3_column_int(st, 0), "parent",
                                        sqlite3_column_int(st, 1), "detail", db_col_text(st, 3)));
done:
    sqlite3_finalize(st);
    free(eqp);
    return rows;
}

/* With MES_QUERY_PLANS=FILE, appends one JSON line {"role", "sql", "plan"} for a statement
 * just prepared on this connection; nothing otherwise. */
static void plan_record(struct db *db, const char *sql)
{
    pthread_once(&plans_once, plans_open);
    if (plans_file == NULL)
        return;
    json_t *rec = json_pack("{s:s,s:s,s:o}", "role", db->role ? db->role : "worker", "sql", sql,
                            "plan", plan_rows(db, sql));
    char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    if (line != NULL) {
        pthread_mutex_lock(&plans_lock);
        fprintf(plans_file, "%s\n", line);
        fflush(plans_file);
        pthread_mutex_unlock(&plans_lock);
    }
    free(line);
    json_decref(rec);
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
                if (thread_failure == 0)
                    thread_failure = sqlite3_errcode(db->h);
                s->st = NULL;
                return NULL;
            }
            s->sql = sql;
            db->nstmts++;
            atomic_fetch_add(&stat_prepared, 1);
            plan_record(db, sql);
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

/* ---- the statement layer ---- */

int db_failure(void)
{
    return thread_failure;
}

void db_failure_clear(void)
{
    thread_failure = 0;
}

/* A constraint is an answer for the caller (a duplicate, a missing parent): not a failure. */
static bool is_failure(int rc)
{
    return rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_OK &&
           (rc & 0xff) != SQLITE_CONSTRAINT;
}

static void record(sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_BUSY || rc == SQLITE_BUSY_SNAPSHOT)
        atomic_fetch_add(&stat_busy, 1);
    if (!is_failure(rc))
        return;
    sqlite3 *h = st ? sqlite3_db_handle(st) : NULL;
    log_error("statement failed: %s (%d)\n  in: %s", h ? sqlite3_errmsg(h) : sqlite3_errstr(rc), rc,
              st ? sqlite3_sql(st) : "-");
    if (thread_failure == 0)
        thread_failure = rc;
}

int db_bind_args(sqlite3_stmt *st, const struct db_arg *args)
{
    for (const struct db_arg *a = args; a && a->name; a++) {
        int rc;
        switch (a->type) {
        case 'i':
            rc = db_bind_int(st, a->name, a->i);
            break;
        case 't':
            rc = db_bind_text(st, a->name, a->s);
            break;
        case 'b':
            rc = db_bind_blob(st, a->name, a->p, a->n);
            break;
        default:
            rc = db_bind_null(st, a->name);
            break;
        }
        if (rc != SQLITE_OK) {
            record(st, rc);
            return rc;
        }
    }
    return SQLITE_OK;
}

sqlite3_stmt *db_query(struct db *db, const char *sql, const struct db_arg *args)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st == NULL || db_bind_args(st, args) != SQLITE_OK)
        return NULL;
    return st;
}

int db_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    record(st, rc);
    return rc;
}

bool db_next(sqlite3_stmt *st, int *rc)
{
    if (st == NULL) {
        *rc = SQLITE_ERROR;
        return false;
    }
    *rc = db_step(st);
    if (*rc == SQLITE_ROW)
        return true;
    sqlite3_reset(st);
    return false;
}

int db_exec_stmt(sqlite3_stmt *st)
{
    int rc = db_step(st);
    sqlite3_reset(st);
    return rc;
}

int db_run(struct db *db, const char *sql, const struct db_arg *args)
{
    sqlite3_stmt *st = db_query(db, sql, args);
    return st ? db_exec_stmt(st) : SQLITE_ERROR;
}

int db_int(struct db *db, int64_t *out, const char *sql, const struct db_arg *args)
{
    sqlite3_stmt *st = db_query(db, sql, args);
    if (st == NULL)
        return SQLITE_ERROR;
    int rc = db_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

int db_text(struct db *db, char **out, const char *sql, const struct db_arg *args)
{
    *out = NULL;
    sqlite3_stmt *st = db_query(db, sql, args);
    if (st == NULL)
        return SQLITE_ERROR;
    int rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *out = strdup(db_col_text(st, 0));
        if (*out == NULL) {
            rc = SQLITE_NOMEM;
            record(st, rc);
        }
    }
    sqlite3_reset(st);
    return rc;
}

int db_exists(struct db *db, const char *sql, const struct db_arg *args)
{
    sqlite3_stmt *st = db_query(db, sql, args);
    if (st == NULL)
        return -1;
    int rc = db_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
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

static int store_flush(struct store *s);
static void store_drop_released(struct db *db);
static void store_read_end(struct store *s);

int db_commit(struct db *db)
{
    store_read_end(&db->store);
    /* The bodies first, durably: a row is never committed before the body it names. */
    int rc = store_flush(&db->store);
    if (rc != SQLITE_OK)
        return rc;
    rc = exec_counted(db, "COMMIT");
    if (rc == SQLITE_OK) {
        atomic_fetch_add(&stat_commits, 1);
        store_drop_released(db);
    }
    return rc;
}

int db_rollback(struct db *db)
{
    struct store *s = &db->store;
    s->nreleased = 0;
    store_read_end(s);
    if (s->writing) { /* bodies of batches already committed stay, for db_store_collect */
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
        s->writing = false;
        s->written = 0;
    }
    if (sqlite3_get_autocommit(db->h))
        return SQLITE_OK;
    atomic_fetch_add(&stat_rollbacks, 1);
    return exec_counted(db, "ROLLBACK");
}

/* ---- the blob store ---- */

/* Bytes of bodies put in one store transaction before it is committed: a large import commits
 * the store in steps, so that readers of other bodies wait at most for one step's write. */
enum { STORE_STEP = 16 << 20 };

static sqlite3 *store_open(struct db *db)
{
    struct store *s = &db->store;
    if (s->h != NULL)
        return s->h;
    sqlite3 *h = NULL;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "PRAGMA journal_mode=TRUNCATE; PRAGMA synchronous=%s; "
             "CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
             "CREATE TABLE IF NOT EXISTS staged (id INTEGER PRIMARY KEY);",
             db->cfg->storage.synchronous == SYNC_FULL ? "FULL" : "NORMAL");
    if (sqlite3_open_v2(s->path, &h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        (sqlite3_extended_result_codes(h, 1),
         sqlite3_busy_timeout(h, db->cfg->storage.busy_timeout_ms),
         sqlite3_exec(h, sql, NULL, NULL, NULL)) != SQLITE_OK ||
        sqlite3_prepare_v3(h, "INSERT OR REPLACE INTO bodies (id, data) VALUES (?1, ?2)", -1,
                           SQLITE_PREPARE_PERSISTENT, &s->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(h, "SELECT data FROM bodies WHERE id = ?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &s->get, NULL) != SQLITE_OK) {
        log_error("%s: %s", s->path, h ? sqlite3_errmsg(h) : "cannot open");
        sqlite3_finalize(s->put);
        sqlite3_finalize(s->get);
        s->put = s->get = NULL;
        sqlite3_close(h);
        return NULL;
    }
    return s->h = h;
}

static int store_flush(struct store *s)
{
    if (!s->writing)
        return SQLITE_OK;
    s->writing = false;
    s->written = 0;
    int rc = sqlite3_exec(s->h, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        log_error("%s: %s", s->path, sqlite3_errmsg(s->h));
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

/* Reads inside a transaction of the database share one read transaction of the store, ended
 * with it or after STORE_READ_STEP bytes: a read transaction of its own for each body costs
 * more system calls than a small body's bytes (locks, the journal's and the file's checks),
 * and one held for a whole bundle's build would keep writers of the store waiting. */
enum { STORE_READ_STEP = 64 << 20 };

static void store_read_end(struct store *s)
{
    if (s->reading)
        sqlite3_exec(s->h, "COMMIT", NULL, NULL, NULL);
    s->reading = false;
}

int db_store_put(struct db *db, int64_t id, const void *data, size_t len)
{
    struct store *s = &db->store;
    if (store_open(db) == NULL)
        return SQLITE_CANTOPEN;
    store_read_end(s);
    if (!s->writing) {
        int rc = sqlite3_exec(s->h, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            log_error("%s: %s", s->path, sqlite3_errmsg(s->h));
            return rc;
        }
        s->writing = true;
    }
    sqlite3_bind_int64(s->put, 1, id);
    sqlite3_bind_blob64(s->put, 2, data, len, SQLITE_STATIC);
    int rc = sqlite3_step(s->put);
    sqlite3_reset(s->put);
    sqlite3_clear_bindings(s->put);
    if (rc != SQLITE_DONE) {
        log_error("%s: %s", s->path, sqlite3_errmsg(s->h));
        return rc;
    }
    s->written += len;
    return s->written >= STORE_STEP ? store_flush(s) : SQLITE_OK;
}

void *db_store_get(struct db *db, int64_t id, size_t *len, int *rc)
{
    struct store *s = &db->store;
    *len = 0;
    if (store_open(db) == NULL) {
        *rc = SQLITE_CANTOPEN;
        return NULL;
    }
    if (!s->writing && !s->reading && !sqlite3_get_autocommit(db->h) &&
        sqlite3_exec(s->h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
        s->reading = true;
        s->read = 0;
    }
    sqlite3_bind_int64(s->get, 1, id);
    *rc = sqlite3_step(s->get);
    void *out = NULL;
    if (*rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(s->get, 0);
        if ((out = malloc(*len ? *len : 1)) == NULL)
            *rc = SQLITE_NOMEM;
        else if (*len)
            memcpy(out, sqlite3_column_blob(s->get, 0), *len);
    }
    sqlite3_reset(s->get);
    sqlite3_clear_bindings(s->get);
    if (s->reading && (s->read += *len) >= STORE_READ_STEP)
        store_read_end(s);
    return out;
}

int db_store_released(struct db *db, int64_t id)
{
    struct store *s = &db->store;
    if (s->nreleased == s->capreleased) {
        size_t cap = s->capreleased ? 2 * s->capreleased : 16;
        void *more = realloc(s->released, cap * sizeof(*s->released));
        if (more == NULL)
            return -1; /* the body stays until db_store_collect */
        s->released = more;
        s->capreleased = cap;
    }
    s->released[s->nreleased++] = id;
    return 0;
}

/* After a commit that deleted blob rows: their bodies go, under the write lock again, unless a
 * row of the same id came back meanwhile. Left to db_store_collect when the lock is busy. */
static void store_drop_released(struct db *db)
{
    struct store *s = &db->store;
    size_t n = s->nreleased;
    s->nreleased = 0;
    if (n == 0 || store_open(db) == NULL)
        return;
    busy_set(db, false); /* a writer elsewhere: not worth waiting for */
    int locked = exec_counted(db, "BEGIN IMMEDIATE");
    busy_set(db, true);
    if (locked != SQLITE_OK)
        return;
    if (s->drop == NULL &&
        sqlite3_prepare_v3(s->h, "DELETE FROM bodies WHERE id = ?1", -1, SQLITE_PREPARE_PERSISTENT,
                           &s->drop, NULL) != SQLITE_OK) {
        exec_counted(db, "ROLLBACK");
        return;
    }
    bool ok = sqlite3_exec(s->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < n; i++) {
        sqlite3_stmt *st = db_stmt(db, "SELECT 1 FROM blobs WHERE id = :b");
        if (st == NULL) {
            ok = false;
            break;
        }
        db_bind_int(st, ":b", s->released[i]);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW)
            continue;
        sqlite3_bind_int64(s->drop, 1, s->released[i]);
        ok = rc == SQLITE_DONE && sqlite3_step(s->drop) == SQLITE_DONE;
        sqlite3_reset(s->drop);
    }
    if (sqlite3_exec(s->h, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    exec_counted(db, "ROLLBACK"); /* nothing was written to this database */
}

/* The store's own error, for a message: its connection's, or why there is none. */
static void store_error(struct store *s, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", s->path, s->h ? sqlite3_errmsg(s->h) : "cannot open");
}

long db_store_collect(struct db *db, char *err, size_t errlen)
{
    struct store *s = &db->store;
    /* Outside a transaction it takes the write lock itself, for the collection only. */
    bool own = sqlite3_get_autocommit(db->h);
    if (own && db_begin_write(db) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", s->main_path, sqlite3_errmsg(db->h));
        return -1;
    }
    store_read_end(s);
    long gone = -1;
    sqlite3_stmt *st = NULL;
    if (store_open(db) == NULL || store_flush(s) != SQLITE_OK ||
        sqlite3_prepare_v2(s->h, "ATTACH DATABASE ?1 AS m", -1, &st, NULL) != SQLITE_OK) {
        store_error(s, err, errlen);
        goto out;
    }
    /* The database is attached for the statement only: attached, it would take part in every
     * write transaction of the store. */
    sqlite3_bind_text(st, 1, s->main_path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        rc = sqlite3_exec(s->h,
                          "DELETE FROM bodies WHERE id NOT IN (SELECT id FROM m.blobs) AND id NOT "
                          "IN (SELECT id FROM staged)",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        gone = sqlite3_changes(s->h);
    else
        store_error(s, err, errlen); /* before DETACH replaces the message */
    sqlite3_exec(s->h, "DETACH DATABASE m", NULL, NULL, NULL);
out:
    if (gone < 0)
        log_error("%s", err);
    if (own)
        db_rollback(db); /* nothing was written to the database */
    return gone;
}

int db_begin_collected(struct db *db, char *err, size_t errlen)
{
    if (db_begin_write(db) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", db->store.main_path, sqlite3_errmsg(db->h));
        db_rollback(db);
        return -1;
    }
    if (db_store_collect(db, err, errlen) < 0) {
        db_rollback(db);
        return -1;
    }
    return 0;
}

/* ---- staging ---- */

/* Ids a stage reserves start this far above every id in use: the rows other writers insert
 * meanwhile (max + 1 each) never reach them. */
enum { STAGE_GAP = 1 << 24 };

/* Runs a literal script on the store, logging a failure. SQLITE_OK or the code. */
static int store_exec(struct store *s, const char *sql)
{
    int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        log_error("%s: %s", s->path, sqlite3_errmsg(s->h));
    return rc;
}

/* The largest id of the store's bodies and markers, or -1. */
static int64_t store_max_id(struct store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->h,
                           "SELECT max(coalesce((SELECT max(id) FROM bodies), 0), "
                           "coalesce((SELECT max(id) FROM staged), 0))",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_stage_begin(struct db *db, struct db_stage *sg, char *err, size_t errlen)
{
    struct store *s = &db->store;
    char path[4200];
    sg->fd = -1;
    snprintf(path, sizeof(path), "%s.stage.lock", s->main_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "another import into this node is under way: try again later");
        close(fd);
        return -1;
    }
    /* Holding the lock, no stage is under way: markers left are a crashed one's, and its
     * bodies go at the next collection. */
    int64_t rows = 0;
    if (store_open(db) == NULL || store_exec(s, "DELETE FROM staged") != SQLITE_OK ||
        db_int(db, &rows, "SELECT coalesce(max(id), 0) FROM blobs", NULL) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: %s", s->path, s->h ? sqlite3_errmsg(s->h) : db_errmsg(db));
        close(fd);
        return -1;
    }
    int64_t held = store_max_id(s);
    sg->fd = fd;
    sg->base = sg->next = (held > rows ? held : rows) + STAGE_GAP;
    return 0;
}

/* Commits, durably, what a stage put. SQLITE_OK or the code (rolled back then). */
static int stage_commit(struct store *s)
{
    if (!s->staging)
        return SQLITE_OK;
    s->staging = false;
    s->written = 0;
    int rc = store_exec(s, "COMMIT");
    if (rc != SQLITE_OK)
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int64_t db_stage_put(struct db *db, struct db_stage *sg, const void *data, size_t len)
{
    struct store *s = &db->store;
    int64_t id = sg->next++;
    assert(!s->writing); /* a stage's connection writes no bodies of its own meanwhile */
    store_read_end(s);
    if (!s->staging) {
        if (store_exec(s, "BEGIN IMMEDIATE") != SQLITE_OK)
            return 0;
        s->staging = true;
    }
    sqlite3_stmt *mark = NULL;
    int rc =
        sqlite3_prepare_v2(s->h, "INSERT OR IGNORE INTO staged (id) VALUES (?1)", -1, &mark, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(mark, 1, id);
        rc = sqlite3_step(mark) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(mark);
    if (rc == SQLITE_OK && len > 0) {
        sqlite3_bind_int64(s->put, 1, id);
        sqlite3_bind_blob64(s->put, 2, data, len, SQLITE_STATIC);
        rc = sqlite3_step(s->put) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(s->put);
        sqlite3_clear_bindings(s->put);
    }
    if (rc != SQLITE_OK) {
        log_error("%s: %s", s->path, sqlite3_errmsg(s->h));
        return 0;
    }
    s->written += len;
    if (s->written >= STORE_STEP && stage_commit(s) != SQLITE_OK)
        return 0;
    return id;
}

int db_stage_flush(struct db *db)
{
    return stage_commit(&db->store);
}

int db_stage_end(struct db *db, struct db_stage *sg, const int64_t *drop, size_t ndrop)
{
    struct store *s = &db->store;
    if (sg->fd < 0)
        return 0;
    int rc = stage_commit(s);
    sqlite3_stmt *del = NULL, *unmark = NULL;
    if (rc == SQLITE_OK && s->h != NULL) {
        rc = store_exec(s, "BEGIN IMMEDIATE");
        if (rc == SQLITE_OK &&
            (sqlite3_prepare_v2(s->h, "DELETE FROM bodies WHERE id = ?1", -1, &del, NULL) !=
                 SQLITE_OK ||
             sqlite3_prepare_v2(s->h, "DELETE FROM staged WHERE id BETWEEN ?1 AND ?2", -1, &unmark,
                                NULL) != SQLITE_OK))
            rc = SQLITE_ERROR;
        for (size_t i = 0; rc == SQLITE_OK && i < ndrop; i++) {
            sqlite3_bind_int64(del, 1, drop[i]);
            rc = sqlite3_step(del) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(del);
        }
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(unmark, 1, sg->base);
            sqlite3_bind_int64(unmark, 2, sg->next);
            rc = sqlite3_step(unmark) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        if (rc != SQLITE_OK)
            log_error("%s: %s", s->path, sqlite3_errmsg(s->h));
        sqlite3_finalize(del);
        sqlite3_finalize(unmark);
        if (store_exec(s, rc == SQLITE_OK ? "COMMIT" : "ROLLBACK") != SQLITE_OK && rc == SQLITE_OK)
            rc = SQLITE_ERROR;
    }
    close(sg->fd); /* releases the lock */
    sg->fd = -1;
    return rc;
}

const char *db_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

void db_like_pattern(const char *q, bool capital, char *out, size_t size)
{
    size_t n = 0;
    out[n++] = '%';
    for (const unsigned char *p = (const unsigned char *)q; *p && n + 4 < size; p++) {
        unsigned char c = *p;
        if (capital && (p == (const unsigned char *)q || p[-1] == ' ')) {
            int upper = c == 0xd0 && p[1] >= 0xb0 && p[1] <= 0xbf   ? p[1] - 0x20 /* а..п */
                        : c == 0xd1 && p[1] >= 0x80 && p[1] <= 0x8f ? p[1] + 0x20 /* р..я */
                        : c == 0xd1 && p[1] == 0x91                 ? 0x81        /* ё */
                                                                    : 0;
            if (upper != 0) {
                out[n++] = (char)0xd0;
                out[n++] = (char)upper;
                p++;
                continue;
            }
        }
        if (c == '%' || c == '_' || c == '\\')
            out[n++] = '\\';
        out[n++] = (char)c;
    }
    out[n++] = '%';
    out[n] = '\0';
}

void db_sync_relaxed(struct db *db, bool relaxed)
{
    bool full = !relaxed && db->cfg->storage.synchronous == SYNC_FULL;
    /* Only a setting of this connection: a failure changes nothing but the fsyncs. */
    sqlite3_exec(db->h, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
                 NULL);
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
