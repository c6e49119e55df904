/*
 * The read cache (see cache.h): slots of finished answers keyed by route, URL and the change
 * counters the answer was built under.
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
    sqlite3_stmt *st = db_stmt(r->db, "SELECT gen FROM change_counters WHERE scope = :s");
    if (st == NULL) {
        *ok = false;
        return 0;
    }
    db_bind_int(st, ":s", scope);
    int rc = db_step(st);
    long long gen = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        *ok = false;
    sqlite3_reset(st);
    return gen;
}

void cache_key_begin(struct req *r, struct cache_key *k)
{
    const char *uri = r->ri->local_uri ? r->ri->local_uri : "";
    const char *q = r->ri->query_string;
    int n = snprintf(k->text, sizeof(k->text), "%s %s?%s", r->route->name, uri, q ? q : "");
    k->ok = r->node->cache != NULL && n > 0 && (size_t)n < sizeof(k->text);
    k->len = k->base = k->ok ? (size_t)n : 0;
    if (k->ok)
        key_add(k, "|%lld:%lld", 0, counter(r, 0, &k->ok));
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
    sqlite3_stmt *st = db_stmt(r->db, "SELECT e.class_id, coalesce(c.gen, 0) FROM enrollments e "
                                      "LEFT JOIN change_counters c ON c.scope = e.class_id "
                                      "WHERE e.student_id = :s AND e.left_on IS NULL "
                                      "ORDER BY e.class_id");
    if (st == NULL) {
        k->ok = false;
        return;
    }
    db_bind_int(st, ":s", student_id);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        key_add(k, "|%lld:%lld", sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    if (rc != SQLITE_DONE)
        k->ok = false;
    sqlite3_reset(st);
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
    if (c == NULL || !k->ok || status != 200 || db_failure() != 0)
        return reply_json(r, status, obj);
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
