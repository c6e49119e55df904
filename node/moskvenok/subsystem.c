/*
 * The «Москвёнок» subsystem's registration (subsystem.h): carriers, passage, meals and money
 * (docs/moskvenok.md).
 */
#include "subsystem.h"

const struct subsystem moskvenok_subsystem = {
    .name = "moskvenok",
    .migrations = (const struct migration[]){{32, "node/moskvenok/moskvenok.sql"},
                                             {33, "node/moskvenok/meals.sql"},
                                             {0}},
};
