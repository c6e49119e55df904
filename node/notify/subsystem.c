/*
 * The notifications subsystem's registration (subsystem.h): the feed and its page.
 */
#include "subsystem.h"

extern const struct route notify_routes[]; /* notify.c */

const struct subsystem notify_subsystem = {
    .name = "notify",
    .routes = (const struct route *const[]){notify_routes, NULL},
    .migrations = (const struct migration[]){{4, "node/notify/notify.sql"},
                                             {31, "node/notify/open_kinds.sql"},
                                             {37, "node/notify/family.sql"},
                                             {0}},
    .pages = (const struct page[]){{"/notifications", "web_page_notifications"}, {0}},
    .scripts = (const char *const[]){"notify.js", NULL},
};
