/*
 * The messages subsystem's registration (subsystem.h): parent-teacher and teacher-student
 * threads and their pages.
 */
#include "subsystem.h"

extern const struct route messages_routes[]; /* messages.c */

const struct subsystem messages_subsystem = {
    .name = "messages",
    .routes = (const struct route *const[]){messages_routes, NULL},
    .migrations = (const struct migration[]){{5, "node/messages/messages.sql"}, {0}},
    .pages =
        (const struct page[]){
            {"/messages", "web_page_messages"},
            {"/messages/{id}", "web_page_thread"},
            {0},
        },
    .scripts = (const char *const[]){"messages.js", NULL},
};
