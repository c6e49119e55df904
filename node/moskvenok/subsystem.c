/*
 * The «Москвёнок» subsystem's registration (subsystem.h): carriers, passage, meals and money
 * (docs/moskvenok.md).
 */
#include "subsystem.h"

extern const struct route sales_routes[]; /* sales.c */

const struct subsystem moskvenok_subsystem = {
    .name = "moskvenok",
    .routes = (const struct route *const[]){sales_routes, NULL},
    .migrations = (const struct migration[]){{32, "node/moskvenok/moskvenok.sql"},
                                             {33, "node/moskvenok/meals.sql"},
                                             {0}},
    .pages = (const struct page[]){{"/students/{id}/meals", "web_page_meals"},
                                   {"/canteen", "web_page_canteen"},
                                   {0}},
    .scripts = (const char *const[]){"meals.js", "canteen.js", NULL},
};
