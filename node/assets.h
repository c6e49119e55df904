/*
 * Files compiled into the binary by tools/mkassets.c: SQL schemas (node/SUBSYSTEM/NAME.sql),
 * the web interface (node/web/static/) and message catalogs (node/web/i18n/).
 * The table is immutable and lives for the whole process.
 */
#ifndef MES_ASSETS_H
#define MES_ASSETS_H

#include <stddef.h>

struct asset {
    const char *path;          /* repository path, e.g. "node/web/static/app.js" */
    const unsigned char *data; /* NUL-terminated bytes */
    long size;                 /* bytes, without the terminator */
};

extern const struct asset assets[]; /* ends with an entry whose path is NULL */

/* Returns the asset at `path` or NULL. Linear scan: call at start-up, not per request. */
const struct asset *asset_find(const char *path);

#endif
