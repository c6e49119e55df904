/*
 * The certificates subsystem's registration (subsystem.h): certificates of study, the
 * printable page of one and a student's list with the request form.
 */
#include "subsystem.h"

extern const struct route certificates_routes[]; /* certificates.c */

const struct subsystem certificates_subsystem = {
    .name = "certificates",
    .routes = (const struct route *const[]){certificates_routes, NULL},
    .migrations = (const struct migration[]){{6, "node/certificates/certificates.sql"}, {0}},
    .pages = (const struct page[]){{"/certificates/{id}", "web_page_certificate"},
                                   {"/students/{id}/certificates", "web_page_certificates"},
                                   {0}},
    .scripts = (const char *const[]){"certificates.js", NULL},
};
