/*
 * The administration pages (subsystem.h): the hub /admin, from which the region admin reaches
 * the region's set-up (municipalities, schools, academic years with their periods and days off,
 * device tokens, the audit log, the import, accounts, the federation's status) and a school
 * admin the sections of each school they administer. The pages are the web shell's (admin.js);
 * the data comes from the APIs of the subsystems that own it (school/, accounts/), which check
 * who may see and change what: this subsystem has no routes and no tables of its own.
 */
#include "subsystem.h"

const struct subsystem admin_subsystem = {
    .name = "admin",
    .pages =
        (const struct page[]){
            {"/admin", "web_page_admin"},
            {"/admin/municipalities", "web_page_admin_municipalities"},
            {"/admin/schools", "web_page_admin_schools"},
            {"/admin/schools/{id}", "web_page_admin_school"},
            {"/admin/years", "web_page_admin_years"},
            {"/admin/devices", "web_page_admin_devices"},
            {"/admin/audit", "web_page_admin_audit"},
            {0},
        },
    .scripts = (const char *const[]){"admin.js", NULL},
};
