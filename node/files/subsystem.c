/*
 * The file store's registration (subsystem.h): its schema, and the reading of upload routes'
 * bodies for the dispatcher.
 */
#include "files/files.h"
#include "cache/cache.h"
#include "subsystem.h"

const struct subsystem files_subsystem = {
    .name = "files",
    .migrations = (const struct migration[]){{8, "node/files/files.sql"}, {0}},
    /* A file's size and name beside homework in the diary: bodies are written once and deleted
     * when nothing names them, so only a change while a homework file names it bumps. */
    .cache_watches =
        (const struct cache_watch[]){
            {"blobs", "l.class_id",
             "FROM homework_files f JOIN homework h ON h.id = f.homework_id "
             "JOIN lessons l ON l.id = h.lesson_id WHERE f.blob_id = ROW.id"},
            {0},
        },
    .upload_read = upload_read_or_respond,
    .upload_free = upload_free,
};
