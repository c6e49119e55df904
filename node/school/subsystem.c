/*
 * The school subsystem's registration (subsystem.h): institutions, classes and persons; the
 * region's subjects seeded from the configuration at every start.
 */
#include "school/school.h"
#include "subsystem.h"

extern const struct route school_routes[]; /* school.c */

const struct subsystem school_subsystem = {
    .name = "school",
    .routes = (const struct route *const[]){school_routes, NULL},
    .migrations = (const struct migration[]){{1, "node/school/school.sql"}, {0}},
    .storage_init = school_seed_subjects,
};
