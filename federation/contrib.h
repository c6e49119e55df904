/*
 * Contributions to the shared library (contrib.c): routes in contrib_routes (http.h); a
 * region's side of the sync here.
 */
#ifndef MES_FED_CONTRIB_H
#define MES_FED_CONTRIB_H

#include <stddef.h>

struct node;
struct db;

/* A region's sync of its contributions: sends the queued ones (each a bundle signed by the
 * region), then takes the hub's verdicts on those sent. Counts in *sent and *decided.
 * 0, or -1 with err (the rest wait for the next sync). */
int contrib_sync(struct node *n, struct db *db, long *sent, long *decided, char *err,
                 size_t errlen);

#endif
