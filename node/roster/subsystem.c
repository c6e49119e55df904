/*
 * The roster subsystem's registration (subsystem.h): the import's ids, contacts and uploads
 * (migration 23), its upload and apply routes and the page /admin/import (roster.js).
 */
#include "roster/roster.h"
#include "subsystem.h"

extern const struct route roster_routes[]; /* routes.c */

const struct subsystem roster_subsystem = {
    .name = "roster",
    .routes = (const struct route *const[]){roster_routes, NULL},
    .migrations =
        (const struct migration[]){
            {23, "node/roster/roster.sql"},
            {0},
        },
    .pages = (const struct page[]){{"/admin/import", "web_page_roster_import"}, {0}},
    .scripts = (const char *const[]){"roster.js", NULL},
};
