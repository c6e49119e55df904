/*
 * The «Москвёнок» subsystem's registration (subsystem.h): carriers, passage, meals and money
 * (docs/moskvenok.md).
 */
#include "subsystem.h"

/* Its route tables, one per file. */
extern const struct route cards_routes[];   /* cards.c */
extern const struct route passage_routes[]; /* passage.c */
extern const struct route meals_routes[];   /* meals.c: the menu, free meals, the kitchen's order */
extern const struct route sales_routes[];   /* sales.c */
extern const struct route money_routes[];   /* money.c */

const struct subsystem moskvenok_subsystem = {
    .name = "moskvenok",
    .routes = (const struct route *const[]){cards_routes, passage_routes, meals_routes,
                                            sales_routes, money_routes, NULL},
    .migrations = (const struct migration[]){{32, "node/moskvenok/moskvenok.sql"},
                                             {33, "node/moskvenok/meals.sql"},
                                             {34, "node/moskvenok/passage.sql"},
                                             {35, "node/moskvenok/topups.sql"},
                                             {36, "node/moskvenok/menu.sql"},
                                             {0}},
    .pages = (const struct page[]){{"/students/{id}/passage", "web_page_passage"},
                                   {"/classes/{id}/presence", "web_page_presence"},
                                   {"/school/cards", "web_page_school_cards"},
                                   {"/school/passage", "web_page_school_passage"},
                                   {"/canteen/menu", "web_page_canteen_menu"},
                                   {"/canteen/order", "web_page_kitchen_order"},
                                   {"/school/benefits", "web_page_school_benefits"},
                                   {"/students/{id}/menu", "web_page_student_menu"},
                                   {"/students/{id}/meals", "web_page_meals"},
                                   {"/canteen", "web_page_canteen"},
                                   {"/students/{id}/account", "web_page_meals_account"},
                                   {"/school/reconciliation", "web_page_reconciliation"},
                                   {0}},
    .scripts =
        (const char *const[]){"passage.js", "menu.js", "meals.js", "canteen.js", "money.js", NULL},
};
