/*
 * The read cache (see cache.h): slots of finished answers keyed by route, URL and the change
 * counters the answer was built under.
 *
 * With MES_CACHE_AUDIT=1 in the environment the cache also checks its own invariant as it
 * runs: every statement of a cached view, from cache_key_begin to the answer it keeps, is
 * noted (SQLite's statement trace), and before the answer is kept the tables those statements
 * read (found by preparing each again, under an authorizer, on a connection of its own) are
 * logged, with an error for each one on which no trigger of every kind (insert, update,
 * delete) bumps a change counter. For tests and for whoever adds a cached view; it costs a
 * connection and a few prepares per cached answer, so it stays off in production.
 */
#include "cache/cache.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "http.h"
#include "log.h"
#include "node.h"

enum { NLOCKS = 64, MIN_SLOTS = 1024, AVG_ENTRY = 8192 };

struct slot {
    char *key; /* key text, then the body, in one allocation */
    size_t klen, blen;
};

struct view_cache {
    struct slot *slots;
    size_t nslots; /* a power of two */
    size_t budget;
    atomic_size_t used, entries, hand;
    atomic_llong hits, misses;
    pthread_mutex_t locks[NLOCKS];
    bool audit; /* MES_CACHE_AUDIT=1: check what each cached view reads (above) */
};

struct view_cache *view_cache_create(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    struct view_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->nslots = MIN_SLOTS;
    while (c->nslots < bytes / AVG_ENTRY)
        c->nslots *= 2;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    c->budget = bytes;
    const char *audit = getenv("MES_CACHE_AUDIT");
    c->audit = audit != NULL && strcmp(audit, "1") == 0;
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void view_cache_destroy(struct view_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        free(c->slots[i].key);
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    free(c->slots);
    free(c);
}

void view_cache_stats(struct view_cache *c, long long *hits, long long *misses, size_t *bytes,
                      size_t *entries)
{
    *hits = c ? atomic_load(&c->hits) : 0;
    *misses = c ? atomic_load(&c->misses) : 0;
    *bytes = c ? atomic_load(&c->used) : 0;
    *entries = c ? atomic_load(&c->entries) : 0;
}

/* FNV-1a of the route-and-URL part: every version of one answer shares a slot. */
static size_t slot_of(const struct view_cache *c, const struct cache_key *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < k->base; i++)
        h = (h ^ (unsigned char)k->text[i]) * 1099511628211ULL;
    return (size_t)(h & (c->nslots - 1));
}

/* Empties slot i; its lock is held. */
static void slot_clear(struct view_cache *c, size_t i)
{
    struct slot *s = &c->slots[i];
    if (s->key == NULL)
        return;
    atomic_fetch_sub(&c->used, s->klen + s->blen);
    atomic_fetch_sub(&c->entries, 1);
    free(s->key);
    *s = (struct slot){0};
}

static void key_add(struct cache_key *k, const char *fmt, long long a, long long b)
{
    if (!k->ok)
        return;
    int n = snprintf(k->text + k->len, sizeof(k->text) - k->len, fmt, a, b);
    if (n < 0 || (size_t)n >= sizeof(k->text) - k->len)
        k->ok = false;
    else
        k->len += (size_t)n;
}

static long long counter(struct req *r, int64_t scope, bool *ok)
{
    int64_t gen = 0;
    int rc = db_int(r->db, &gen, "SELECT gen FROM change_counters WHERE scope = :s",
                    DB_ARGS(DB_INT(":s", scope)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        *ok = false;
    return (long long)gen;
}

/* ---- the audit (MES_CACHE_AUDIT, see the file comment) ------------------------------------- */

enum { AUDIT_STATEMENTS = 64, AUDIT_TABLES = 64 };

/* The statements (copies of their SQL) this thread ran since its cached view began. */
static _Thread_local struct {
    bool on;
    bool overflow;
    int n;
    char *sql[AUDIT_STATEMENTS];
} noted;

/* Stops noting and forgets what was noted. */
static void noted_clear(void)
{
    for (int i = 0; i < noted.n; i++)
        free(noted.sql[i]);
    noted.n = 0;
    noted.overflow = false;
    noted.on = false;
}

static int audit_trace(unsigned type, void *ctx, void *p, void *x)
{
    (void)type, (void)ctx, (void)x;
    const char *sql = sqlite3_sql(p);
    if (!noted.on || sql == NULL)
        return 0;
    for (int i = 0; i < noted.n; i++)
        if (strcmp(noted.sql[i], sql) == 0)
            return 0;
    if (noted.n == AUDIT_STATEMENTS || (noted.sql[noted.n] = strdup(sql)) == NULL)
        noted.overflow = true;
    else
        noted.n++;
    return 0;
}

/* The tables read while preparing, collected by the authorizer. */
struct audit_tables {
    int n;
    bool overflow;
    char name[AUDIT_TABLES][64];
};

static int audit_authorize(void *ctx, int action, const char *a, const char *b, const char *c,
                           const char *d)
{
    (void)b, (void)c, (void)d;
    struct audit_tables *t = ctx;
    if (action != SQLITE_READ || a == NULL || strncmp(a, "sqlite_", 7) == 0 ||
        strcmp(a, "change_counters") == 0)
        return SQLITE_OK;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->name[i], a) == 0)
            return SQLITE_OK;
    if (t->n == AUDIT_TABLES || strlen(a) >= sizeof(t->name[0]))
        t->overflow = true;
    else
        snprintf(t->name[t->n++], sizeof(t->name[0]), "%s", a);
    return SQLITE_OK;
}

/* Starts noting the statements of this thread's cached view. */
static void audit_begin(struct req *r)
{
    if (!r->node->cache->audit)
        return;
    sqlite3_trace_v2(db_handle(r->db), SQLITE_TRACE_STMT, audit_trace, NULL);
    noted_clear();
    noted.on = true;
}

/* The table whose rows `table` holds: for a virtual table over external content (FTS5's
 * content = 'X', kept by triggers on X) and for its shadow tables (named after it, "X_idx"),
 * that content table; else `table` itself. Into out; 0, or -1 on an error. */
static int audit_source(struct db *db, const char *table, char *out, size_t size)
{
    char *sql = NULL;
    int rc = db_text(db, &sql,
                     "SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                     "sql LIKE 'CREATE VIRTUAL TABLE%' AND (name = :t OR "
                     "substr(:t, 1, length(name) + 1) = name || '_') "
                     "ORDER BY length(name) DESC LIMIT 1",
                     DB_ARGS(DB_TEXT(":t", table)));
    snprintf(out, size, "%s", table);
    for (const char *p = sql; p != NULL && (p = strstr(p, "content")) != NULL; p++) {
        const char *q = p + 7;
        q += strspn(q, " ");
        if (*q != '=')
            continue;
        q++;
        q += strspn(q, " ");
        if (*q != '\'' && *q != '"')
            continue;
        size_t n = strcspn(q + 1, "'\"");
        snprintf(out, size, "%.*s", (int)n, q + 1);
        break;
    }
    free(sql);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Whether a trigger of each kind (insert, update, delete) on `table`, or on the table it
 * holds the rows of (audit_source), bumps a change counter: 1, 0, or -1 on an error. */
static int audit_watched(struct db *db, const char *table)
{
    char source[128];
    if (audit_source(db, table, source, sizeof(source)) != 0)
        return -1;
    int64_t kinds = 0;
    int rc = db_int(db, &kinds,
                    "SELECT (sum(sql LIKE '% AFTER INSERT ON %') > 0) + "
                    "(sum(sql LIKE '% AFTER UPDATE %') > 0) + "
                    "(sum(sql LIKE '% AFTER DELETE ON %') > 0) "
                    "FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t "
                    "AND sql LIKE '%change_counters%'",
                    DB_ARGS(DB_TEXT(":t", source)));
    return rc == SQLITE_ROW ? kinds == 3 : -1;
}

/* Checks what the view just built read (see the file comment) and stops noting. */
static void audit_end(struct req *r)
{
    if (!noted.on)
        return;
    noted.on = false; /* the audit's own statements are not noted */
    const char *route = r->route ? r->route->name : "?";
    char err[256];
    struct db *db =
        db_open(sqlite3_db_filename(db_handle(r->db), "main"), &r->node->cfg, err, sizeof(err));
    if (db == NULL) {
        log_error("cache audit: %s: %s", route, err);
        noted_clear();
        return;
    }
    struct audit_tables t = {0};
    sqlite3_set_authorizer(db_handle(db), audit_authorize, &t);
    for (int i = 0; i < noted.n; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db_handle(db), noted.sql[i], -1, &st, NULL) != SQLITE_OK)
            log_error("cache audit: %s: %s in: %s", route, db_errmsg(db), noted.sql[i]);
        sqlite3_finalize(st);
    }
    sqlite3_set_authorizer(db_handle(db), NULL, NULL);
    if (noted.overflow || t.overflow)
        log_error("cache audit: %s runs more statements or reads more tables than it notes", route);
    char list[1024] = "";
    for (int i = 0; i < t.n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof(list) - len, "%s%s", len ? " " : "", t.name[i]);
        int w = audit_watched(db, t.name[i]);
        if (w != 1)
            log_error("cache audit: %s reads %s, on which %s", route, t.name[i],
                      w < 0 ? "the triggers could not be read"
                            : "no trigger of every kind bumps a change counter");
    }
    log_error("cache audit: %s read: %s", route, list);
    db_close(db);
    noted_clear();
}

void cache_key_begin(struct req *r, struct cache_key *k)
{
    const char *uri = r->ri->local_uri ? r->ri->local_uri : "";
    const char *q = r->ri->query_string;
    int n = snprintf(k->text, sizeof(k->text), "%s %s?%s", r->route->name, uri, q ? q : "");
    k->ok = r->node->cache != NULL && n > 0 && (size_t)n < sizeof(k->text);
    k->len = k->base = k->ok ? (size_t)n : 0;
    if (k->ok) {
        audit_begin(r);
        key_add(k, "|%lld:%lld", 0, counter(r, 0, &k->ok));
    }
}

void cache_key_class(struct req *r, struct cache_key *k, int64_t class_id)
{
    if (k->ok)
        key_add(k, "|%lld:%lld", (long long)class_id, counter(r, class_id, &k->ok));
}

void cache_key_library(struct req *r, struct cache_key *k)
{
    cache_key_class(r, k, -1);
}

void cache_key_text(struct cache_key *k, const char *text)
{
    size_t n = strlen(text);
    if (!k->ok || n + 2 > sizeof(k->text) - k->len) {
        k->ok = false;
        return;
    }
    k->text[k->len++] = '|';
    memcpy(k->text + k->len, text, n + 1);
    k->len += n;
}

void cache_key_student(struct req *r, struct cache_key *k, int64_t student_id)
{
    if (!k->ok)
        return;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT e.class_id, coalesce(c.gen, 0) FROM enrollments e "
                                "LEFT JOIN change_counters c ON c.scope = e.class_id "
                                "WHERE e.student_id = :s ORDER BY e.class_id",
                                DB_ARGS(DB_INT(":s", student_id)));
    int rc;
    while (db_next(st, &rc))
        key_add(k, "|%lld:%lld", sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    if (rc != SQLITE_DONE)
        k->ok = false;
}

bool cache_reply(struct req *r, const struct cache_key *k)
{
    struct view_cache *c = r->node->cache;
    if (c == NULL || !k->ok)
        return false;
    size_t i = slot_of(c, k);
    char *body = NULL;
    size_t blen = 0;
    pthread_mutex_lock(&c->locks[i % NLOCKS]);
    struct slot *s = &c->slots[i];
    if (s->key != NULL && s->klen == k->len && memcmp(s->key, k->text, k->len) == 0 &&
        (body = malloc(s->blen ? s->blen : 1)) != NULL) {
        memcpy(body, s->key + s->klen, s->blen);
        blen = s->blen;
    }
    pthread_mutex_unlock(&c->locks[i % NLOCKS]);
    if (body == NULL) {
        atomic_fetch_add(&c->misses, 1);
        return false;
    }
    noted_clear(); /* answered from memory: nothing read to audit */
    atomic_fetch_add(&c->hits, 1);
    reply_raw(r, 200, "application/json; charset=utf-8", body, blen, true);
    return true;
}

/* Frees slots round-robin until `need` more bytes fit the budget (or a full turn is done). */
static void make_room(struct view_cache *c, size_t need)
{
    for (size_t turn = 0; turn < c->nslots && atomic_load(&c->used) + need > c->budget; turn++) {
        size_t i = atomic_fetch_add(&c->hand, 1) & (c->nslots - 1);
        pthread_mutex_lock(&c->locks[i % NLOCKS]);
        slot_clear(c, i);
        pthread_mutex_unlock(&c->locks[i % NLOCKS]);
    }
}

int cache_reply_json(struct req *r, const struct cache_key *k, int status, json_t *obj)
{
    struct view_cache *c = r->node->cache;
    /* An answer built after a storage failure may be short: never kept (http_run_handler turns
     * it into a 500). */
    if (c == NULL || !k->ok || status != 200 || db_failure() != 0) {
        noted_clear();
        return reply_json(r, status, obj);
    }
    audit_end(r);
    char *body = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (body == NULL)
        return reply_error(r, 500, "internal", "encoding failed");
    size_t blen = strlen(body), size = k->len + blen;
    if (size <= c->budget / 16) {
        make_room(c, size);
        char *entry = malloc(size);
        if (entry != NULL) {
            memcpy(entry, k->text, k->len);
            memcpy(entry + k->len, body, blen);
            size_t i = slot_of(c, k);
            pthread_mutex_lock(&c->locks[i % NLOCKS]);
            slot_clear(c, i);
            c->slots[i] = (struct slot){.key = entry, .klen = k->len, .blen = blen};
            atomic_fetch_add(&c->used, size);
            atomic_fetch_add(&c->entries, 1);
            pthread_mutex_unlock(&c->locks[i % NLOCKS]);
        }
    }
    return reply_raw(r, status, "application/json; charset=utf-8", body, blen, true);
}
