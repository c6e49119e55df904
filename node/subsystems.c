/*
 * The list of subsystems (subsystem.h). Adding a subsystem is one structure in its own folder
 * and one line here: see docs/architecture.md, "How to add a subsystem". The order is the
 * order routes are matched in (no two routes of different subsystems match the same request)
 * and the order the web shell loads the pages' scripts in (its menu follows it).
 */
#include "subsystem.h"

extern const struct subsystem accounts_subsystem;
extern const struct subsystem school_subsystem;
extern const struct subsystem journal_subsystem;
extern const struct subsystem notify_subsystem;
extern const struct subsystem messages_subsystem;
extern const struct subsystem certificates_subsystem;
extern const struct subsystem files_subsystem;
extern const struct subsystem cache_subsystem;
extern const struct subsystem library_subsystem;
extern const struct subsystem moskvenok_subsystem;
extern const struct subsystem federation_subsystem;
extern const struct subsystem admin_subsystem;
extern const struct subsystem roster_subsystem;
extern const struct subsystem demo_subsystem;
extern const struct subsystem web_subsystem;

const struct subsystem *const subsystems[] = {
    &accounts_subsystem, &school_subsystem,       &journal_subsystem,    &notify_subsystem,
    &messages_subsystem, &certificates_subsystem, &files_subsystem,      &cache_subsystem,
    &library_subsystem,  &moskvenok_subsystem,    &federation_subsystem, &admin_subsystem,
    &roster_subsystem,   &demo_subsystem,         &web_subsystem,        NULL,
};
