/*
 * The library subsystem's registration (subsystem.h): items, search, review, tests and
 * packages; its full-text tokenizer, registered before any connection opens; its pages.
 */
#include "library/library.h"
#include "cache/cache.h"
#include "subsystem.h"

extern const struct route library_routes[]; /* library.c */

const struct subsystem library_subsystem = {
    .name = "library",
    .routes = (const struct route *const[]){library_routes, NULL},
    .migrations =
        (const struct migration[]){
            {11, "node/library/library.sql"},
            {12, "node/library/revisions.sql"},
            {13, "node/library/rank.sql"},
            {19, "node/library/exchange.sql"},
            {28, "node/library/matching.sql"},
            {0},
        },
    /* Library items given with a lesson or its homework, shown in the diary (library.sql made
     * the insert and delete triggers of these two by hand, with the same names and effect). */
    .cache_watches =
        (const struct cache_watch[]){
            {"lesson_items", "class_id", CACHE_BY_LESSON},
            {"homework_items", "l.class_id", CACHE_BY_HOMEWORK},
            {0},
        },
    .connection_init = library_tokenizer_init,
    .pages =
        (const struct page[]){
            {"/library", "web_page_library"},
            {"/library/items/{id}", "web_page_library_item"},
            {"/library/mine", "web_page_library_mine"},
            {"/library/favourites", "web_page_library_favourites"},
            {"/library/review", "web_page_library_review"},
            {0},
        },
    .scripts = (const char *const[]){"library.js", NULL},
};
