/*
 * The node's own Russian CSV template (docs/roster.md): not yet read.
 */
#include <stdlib.h>

#include "roster/model.h"

int roster_read_template(struct roster_model *m, struct db *db, const char *name, char *data,
                         size_t len, struct roster_report *rep, const struct roster_options *opt)
{
    (void)m, (void)db, (void)len, (void)opt;
    free(data);
    roster_error(rep, name, 0, "unreadable", name, NULL);
    return -1;
}
