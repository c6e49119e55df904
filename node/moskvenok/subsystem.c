/*
 * The «Москвёнок» subsystem's registration (subsystem.h): carriers, passage, meals and money
 * (docs/moskvenok.md).
 */
#include "subsystem.h"

extern const struct route meals_routes[]; /* meals.c: the menu, free meals, the kitchen's order */

const struct subsystem moskvenok_subsystem = {
    .name = "moskvenok",
    .routes = (const struct route *const[]){meals_routes, NULL},
    .migrations = (const struct migration[]){{32, "node/moskvenok/moskvenok.sql"},
                                             {33, "node/moskvenok/meals.sql"},
                                             /* Stand-ins until passage's and sales' are
                                                merged: they change nothing. */
                                             {34, "node/moskvenok/menu_gap.sql"},
                                             {35, "node/moskvenok/menu_gap.sql"},
                                             {36, "node/moskvenok/menu.sql"},
                                             {0}},
    .pages = (const struct page[]){{"/canteen/menu", "web_page_canteen_menu"},
                                   {"/canteen/order", "web_page_kitchen_order"},
                                   {"/school/benefits", "web_page_school_benefits"},
                                   {"/students/{id}/menu", "web_page_student_menu"},
                                   {0}},
    .scripts = (const char *const[]){"menu.js", NULL},
};
