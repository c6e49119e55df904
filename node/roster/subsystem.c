/*
 * The roster subsystem's registration (subsystem.h): the import's ids and contacts
 * (migration 23), its upload and apply routes and the page /admin/import.
 */
#include "roster/roster.h"
#include "subsystem.h"

const struct subsystem roster_subsystem = {
    .name = "roster",
    .migrations =
        (const struct migration[]){
            {22, "node/roster/placeholder22.sql"}, /* the accounts branch's: drop at merge */
            {23, "node/roster/roster.sql"},
            {0},
        },
};
