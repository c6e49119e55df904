/*
 * The triggers of what the read cache watches (see cache.h, "The watch table"): each subsystem
 * registers the tables of its own that cached views read (struct subsystem's cache_watches),
 * each with the change counters a change of one of its rows bumps. The triggers are SQL built
 * here from those tables' constant strings (a trigger cannot take bound parameters); nothing of
 * a request ever reaches them.
 *
 * Load: cache_watch_install runs once per start, inside the start's write transaction; it reads
 * each trigger's stored text and rewrites only those that differ, so a start that changes
 * nothing changes no schema.
 */
#include "cache/cache.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "subsystem.h"

/* Appends to out (of `size`, holding *len bytes) what fmt makes; false when it does not fit. */
__attribute__((format(printf, 4, 5))) static bool put(char *out, size_t size, size_t *len,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *len)
        return false;
    *len += (size_t)n;
    return true;
}

/* Appends one bump: the scope(s) `w` selects for row `row` ("OLD" or "NEW"). */
static bool put_bump(char *out, size_t size, size_t *len, const struct cache_watch *w,
                     const char *row)
{
    char part[512];
    size_t plen = 0;
    if (!put(part, sizeof(part), &plen, "SELECT %s, 1 %s", w->scope,
             w->from ? w->from : "WHERE true"))
        return false;
    /* ROW stands for the row: OLD or NEW (both three letters, so in place). */
    for (char *p = strstr(part, "ROW."); p != NULL; p = strstr(p + 4, "ROW."))
        memcpy(p, row, 3);
    return put(out, size, len,
               "\n    INSERT INTO change_counters (scope, gen) %s"
               "\n        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;",
               part);
}

/* Whether the scope depends on the row (else one bump serves an UPDATE's old and new row). */
static bool row_dependent(const struct cache_watch *w)
{
    return strstr(w->scope, "ROW.") != NULL || (w->from && strstr(w->from, "ROW.") != NULL);
}

int cache_watch_trigger(const struct cache_watch *w, enum cache_event e, char *name,
                        size_t namesize, char *out, size_t size)
{
    static const char *const suffix[] = {"ins", "upd", "del"};
    static const char *const event[] = {"INSERT", "UPDATE", "DELETE"};
    int n = snprintf(name, namesize, "%s_cache_%s", w->table, suffix[e]);
    if (n < 0 || (size_t)n >= namesize)
        return -1;
    size_t len = 0;
    bool ok = put(out, size, &len, "CREATE TRIGGER %s AFTER %s ON ", name, event[e]) &&
              put(out, size, &len, "%s BEGIN", w->table);
    if (e == CACHE_UPDATE && row_dependent(w))
        ok = ok && put_bump(out, size, &len, w, "OLD") && put_bump(out, size, &len, w, "NEW");
    else
        ok = ok && put_bump(out, size, &len, w, e == CACHE_INSERT ? "NEW" : "OLD");
    ok = ok && put(out, size, &len, "\nEND");
    return ok ? 0 : -1;
}

/* Makes trigger `name` read `sql`, unless it already does. 0, or -1 with err. */
static int install_one(struct db *db, const char *name, const char *sql, char *err, size_t errlen)
{
    char *stored = NULL;
    int rc = db_text(db, &stored,
                     "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND "
                     "name = :n",
                     DB_ARGS(DB_TEXT(":n", name)));
    bool same = rc == SQLITE_ROW && strcmp(stored, sql) == 0;
    free(stored);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(err, errlen, "cache trigger %s: %s", name, db_errmsg(db));
        return -1;
    }
    if (same)
        return 0;
    char drop[160];
    snprintf(drop, sizeof(drop), "DROP TRIGGER IF EXISTS %s", name);
    if (db_exec(db, drop) != SQLITE_OK || db_exec(db, sql) != SQLITE_OK) {
        snprintf(err, errlen, "cache trigger %s: %s", name, db_errmsg(db));
        return -1;
    }
    return 0;
}

int cache_watch_install(struct db *db, const struct cache_watch *list, char *err, size_t errlen)
{
    for (const struct cache_watch *w = list; w->table != NULL; w++) {
        for (int e = CACHE_INSERT; e <= CACHE_DELETE; e++) {
            char name[128], sql[2048];
            if (cache_watch_trigger(w, (enum cache_event)e, name, sizeof(name), sql, sizeof(sql)) !=
                0) {
                snprintf(err, errlen, "cache trigger of %s: too long", w->table);
                return -1;
            }
            if (install_one(db, name, sql, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

int cache_watch_install_all(struct db *db, const struct mes_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    for (int i = 0; subsystems[i] != NULL; i++)
        if (subsystems[i]->cache_watches != NULL &&
            cache_watch_install(db, subsystems[i]->cache_watches, err, errlen) != 0)
            return -1;
    return 0;
}
