/*
 * The registry of subsystems: what a subsystem gives the core, as one structure, instead of
 * edits to the core's files. The core (http, db, node, writer, metrics) knows no subsystem: it
 * walks the list (node/subsystems.c) for the routes, the schema migrations, the web shell's
 * pages and scripts, and the hooks through which the request path and the database reach the
 * subsystems that implement them (the caller's session, uploads, node signatures, the
 * full-text tokenizer). docs/architecture.md, "How to add a subsystem", is the recipe.
 */
#ifndef MES_SUBSYSTEM_H
#define MES_SUBSYSTEM_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct db;
struct mes_config;
struct node;
struct metrics_text;
struct cache_watch; /* cache/cache.h */

/* One schema file and the version it brings the database to. Versions are global: the
 * subsystems' entries together number 1, 2, 3... with no gap and no duplicate (checked at
 * start), and a released entry never changes: a change is a new file with the next version. */
struct migration {
    int version;
    const char *file; /* the asset's path, as "node/journal/journal.sql" */
};

/* A page of the web shell: a path that answers index.html (the shell then shows the page its
 * script registered for it) and the route's name. */
struct page {
    const char *path; /* "/journal", "/diary/{id}" */
    const char *name; /* "web_page_journal" */
};

struct subsystem {
    const char *name;
    const struct route *const *routes;       /* its route tables, NULL-ended */
    const struct migration *migrations;      /* ends with a zeroed entry; NULL: none */
    const struct cache_watch *cache_watches; /* its tables that cached views read, and the
                                                scopes a change bumps (cache/cache.h, "The
                                                watch table"); zero-ended; NULL: none */
    const struct page *pages;                /* ends with a zeroed entry; NULL: none */
    const char *const *scripts; /* its pages' scripts in node/web/static/ ("journal.js"), which
                                   add themselves to the shell's pages; NULL-ended */

    /* Hooks, each NULL when the subsystem needs none. */
    /* Once per process, before the first database connection opens (e.g. SQLite extensions
     * every connection needs). */
    void (*connection_init)(void);
    /* At every start, after the migrations, in one transaction on `db` (seeding from the
     * configuration). 0, or -1 with err. */
    int (*storage_init)(struct db *db, const struct mes_config *cfg, char *err, size_t errlen);
    /* node_start, before the HTTP server starts (in list order); 0, or -1 with err. */
    int (*start)(struct node *n, char *err, size_t errlen);
    /* node_stop, after the HTTP server and the writer stopped (in reverse order). */
    void (*stop)(struct node *n);
    /* `serve` only, once the node listens: background work (the federation's schedule);
     * 0, or -1 (logged). */
    int (*serve_start)(struct node *n);
    void (*serve_stop)(struct node *n);
    /* Appends its figures to GET /metrics (metrics_put, metrics.h). */
    void (*metrics)(struct node *n, struct metrics_text *t);

    /* The request path's hooks: at most one subsystem provides each (checked at start). */
    /* Fills r->caller from the request's session or token: 0, or -1 after answering. */
    int (*resolve_caller)(struct req *r);
    /* Whether a cookie caller's write carries the session's CSRF token. */
    bool (*csrf_ok)(struct req *r);
    /* Reads an upload route's body into r->upload: 0, or -1 after answering. */
    int (*upload_read)(struct req *r);
    void (*upload_free)(struct upload *u);
    /* Checks a node-signed route's signature (http_node_check_fn). */
    http_node_check_fn node_check;
    /* Answers a page's path (the web shell's index.html). */
    handler_fn page_handler;
};

/* Every subsystem, in order (node/subsystems.c): routes are matched in this order, migrations
 * are numbered across it, scripts load in it. NULL-ended. */
extern const struct subsystem *const subsystems[];

/* The ordered schema files of `list`: files[v - 1] is version v's. Returns how many (the
 * latest version), or -1 with err naming a gap, a duplicate version or more than `cap`. */
int registry_migrations(const struct subsystem *const *list, const char **files, int cap, char *err,
                        size_t errlen);

/* The registry of `subsystems`, assembled once: the migrations and the request path's hooks.
 * registry_check says whether it is sound: 0, or -1 with err (a migration gap or duplicate, a
 * hook two subsystems provide). */
int registry_check(char *err, size_t errlen);
/* The latest schema version and version v's file (NULL outside 1..latest). */
int registry_latest_version(void);
const char *registry_migration(int version);
/* The one subsystem that provides the request path's hooks, or NULL; see struct subsystem. */
const struct subsystem *registry_hooks(void);
/* Runs every connection_init once per process. */
void registry_connection_init(void);

#endif
