/*
 * The school subsystem's registration (subsystem.h): institutions, classes and persons; the
 * region's subjects, and the days off of years that have no list yet, seeded from the
 * configuration at every start.
 */
#include "school/school.h"
#include "cache/cache.h"
#include "subsystem.h"

extern const struct route institutions_routes[]; /* institutions.c */
extern const struct route classes_routes[];      /* classes.c */
extern const struct route persons_routes[];      /* persons.c */
extern const struct route staff_routes[];        /* staff.c */
extern const struct route members_routes[];      /* members.c */
extern const struct route years_routes[];        /* years.c */

const struct subsystem school_subsystem = {
    .name = "school",
    .routes = (const struct route *const[]){institutions_routes, classes_routes, persons_routes,
                                            staff_routes, members_routes, years_routes, NULL},
    .migrations =
        (const struct migration[]){
            {1, "node/school/school.sql"},
            {24, "node/school/holidays.sql"},
            {25, "node/school/admin_indexes.sql"},
            {0},
        },
    /* The tables the journal's cached views read: a class's members by its class, the rest
     * for every view (scope 0). */
    .cache_watches =
        (const struct cache_watch[]){
            {"enrollments", "ROW.class_id", NULL},
            {"groups", "ROW.class_id", NULL},
            {"group_members", "class_id", "FROM groups WHERE id = ROW.group_id"},
            {"institutions", "0", NULL},
            {"academic_years", "0", NULL},
            {"periods", "0", NULL},
            {"subjects", "0", NULL},
            {"persons", "0", NULL},
            {"classes", "0", NULL},
            {0},
        },
    .storage_init = school_storage_init,
    /* One school's administration (school_admin.js), for its admin and the region admin. */
    .pages =
        (const struct page[]){
            {"/admin/schools/{id}/classes", "web_page_school_classes"},
            {"/admin/classes/{id}", "web_page_school_class"},
            {"/admin/schools/{id}/staff", "web_page_school_staff"},
            {"/admin/schools/{id}/assignments", "web_page_school_assignments"},
            {"/admin/schools/{id}/timetable", "web_page_school_timetable"},
            {0},
        },
    .scripts = (const char *const[]){"school_admin.js", NULL},
};
