/*
 * The file store's registration (subsystem.h): its schema, and the reading of upload routes'
 * bodies for the dispatcher.
 */
#include "files/files.h"
#include "subsystem.h"

const struct subsystem files_subsystem = {
    .name = "files",
    .migrations = (const struct migration[]){{8, "node/files/files.sql"}, {0}},
    .upload_read = upload_read_or_respond,
    .upload_free = upload_free,
};
