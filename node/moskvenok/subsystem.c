/*
 * The «Москвёнок» subsystem's registration (subsystem.h): carriers, passage, meals and money
 * (docs/moskvenok.md).
 */
#include "subsystem.h"

extern const struct route money_routes[]; /* money.c */

const struct subsystem moskvenok_subsystem = {
    .name = "moskvenok",
    .routes = (const struct route *const[]){money_routes, NULL},
    .migrations = (const struct migration[]){{32, "node/moskvenok/moskvenok.sql"},
                                             {33, "node/moskvenok/meals.sql"},
                                             {34, "node/moskvenok/placeholder34.sql"},
                                             {35, "node/moskvenok/topups.sql"},
                                             {0}},
    .pages = (const struct page[]){{"/students/{id}/account", "web_page_meals_account"},
                                   {"/school/reconciliation", "web_page_reconciliation"},
                                   {0}},
    .scripts = (const char *const[]){"money.js", NULL},
};
