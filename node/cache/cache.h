/*
 * The read cache: finished answers of the hottest reads (the diary, the journal grid, a
 * student's marks), kept in memory and served again while nothing they were built from has
 * changed.
 *
 * Freshness comes from the database, not from timers: triggers bump a change counter per class,
 * and one shared counter, in the same transaction as every write to what those views read. The
 * triggers are made from the watch tables the subsystems register (struct cache_watch, below), at
 * every start. A view reads the counters of its scopes in its own read transaction, before its
 * data, and the key it stores under carries them; a later write changes a counter and so the key.
 * Authorization is checked on every request before the cache is consulted, and the cached views
 * answer the same bytes to every caller allowed to see them.
 *
 * Entries live in a fixed table of slots chosen by a hash of the route and URL, so a newer
 * version of an answer replaces the older one in place; a byte budget (http.cache_mb) bounds
 * the whole, evicting round-robin when full.
 */
#ifndef MES_CACHE_H
#define MES_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct mes_config;
struct req;
struct view_cache;

/* A cache of `bytes` bytes; NULL when bytes is 0 (caching off) or memory is short. */
struct view_cache *view_cache_create(size_t bytes);
void view_cache_destroy(struct view_cache *c);
/* Figures for /metrics. */
void view_cache_stats(struct view_cache *c, long long *hits, long long *misses, size_t *bytes,
                      size_t *entries);

struct cache_key {
    char text[768]; /* route, URL and query, then "|scope:gen" for each scope read */
    size_t base;    /* length of the route-and-URL part */
    size_t len;
    bool ok; /* false when the key overflowed or a counter could not be read: no caching */
};

/* Starts the key of this request (its route, path and query) with the shared counter. */
void cache_key_begin(struct req *r, struct cache_key *k);
/* Adds the counter of one class. */
void cache_key_class(struct req *r, struct cache_key *k, int64_t class_id);
/* Adds the counter of the library (scope -1: items and their files, library.sql). */
void cache_key_library(struct req *r, struct cache_key *k);
/* Adds a part the answer depends on beyond its URL (the dates a default stands for). */
void cache_key_text(struct cache_key *k, const char *text);
/* Adds the counters of every class the student is or was enrolled in (their marks view
 * shows the lessons of a class they were transferred from). */
void cache_key_student(struct req *r, struct cache_key *k, int64_t student_id);

/* Answers the request from the cache when it holds this exact key; true when it did. */
bool cache_reply(struct req *r, const struct cache_key *k);
/* Answers `obj` (stolen) with `status` and keeps the encoded answer under the key: only a 200
 * built without a storage failure (db_failure) is kept. */
int cache_reply_json(struct req *r, const struct cache_key *k, int status, json_t *obj);

/* ---- The watch table ------------------------------------------------------------------------
 *
 * Every table a cached view reads is one row: a change (insert, update, delete) of one of its
 * rows bumps, in change_counters (cache.sql), the scopes the row selects:
 *
 *     INSERT INTO change_counters (scope, gen) SELECT <scope>, 1 <from>
 *         ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
 *
 * with ROW in `scope` and `from` standing for the row (NEW for an insert, OLD for a delete, both
 * in turn for an update; an update of a table whose scope does not depend on the row bumps
 * once). The triggers are named TABLE_cache_ins, _upd and _del. A subsystem whose views are
 * cached hands in its rows as a list of its own, ending with a zeroed entry. */
struct cache_watch {
    const char *table; /* the table watched */
    const char *scope; /* SQL expression of the scope: "0", "ROW.class_id", "l.class_id" */
    const char *from; /* NULL, or what selects the scope: "FROM lessons WHERE id = ROW.lesson_id" */
};

enum cache_event { CACHE_INSERT, CACHE_UPDATE, CACHE_DELETE };

/* What selects the class of a row that names a lesson, or a homework, for the `from` of a watch. */
#define CACHE_BY_LESSON "FROM lessons WHERE id = ROW.lesson_id"
#define CACHE_BY_HOMEWORK                                                                          \
    "FROM homework h JOIN lessons l ON l.id = h.lesson_id WHERE h.id = ROW.homework_id"

/* Writes the name of w's trigger for event `e` into name and its CREATE TRIGGER statement into
 * out. 0, or -1 when either does not fit. */
int cache_watch_trigger(const struct cache_watch *w, enum cache_event e, char *name,
                        size_t namesize, char *out, size_t size);

/* Makes the three triggers of each row of `list` (ending with a zeroed entry) as
 * cache_watch_trigger writes them, replacing any of the same name that reads otherwise. Runs
 * inside the caller's write transaction. 0, or -1 with a message in err. */
int cache_watch_install(struct db *db, const struct cache_watch *list, char *err, size_t errlen);

/* cache_watch_install for the watches of every subsystem (subsystem.h): the cache subsystem's
 * storage_init, at every start. */
int cache_watch_install_all(struct db *db, const struct mes_config *cfg, char *err, size_t errlen);

#endif
