/* Lookup in the table of compiled-in files (see assets.h). */
#include "assets.h"

#include <string.h>

const struct asset *asset_find(const char *path)
{
    for (const struct asset *a = assets; a->path != NULL; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}
