/*
 * Operational routes: GET /healthz (the node answers and its database reads) and GET /metrics
 * (Prometheus text format). Both are public and cheap: health checkers and scrapers call them
 * every few seconds. In production nginx exposes /metrics only to the monitoring network.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "db.h"
#include "http.h"
#include "metrics.h"
#include "node.h"

static int system_healthz(struct req *r)
{
    /* Reads the database header: the file is there, readable and ours. */
    int64_t version = 0;
    if (db_int(r->db, &version, "PRAGMA user_version", NULL) != SQLITE_ROW)
        return reply_error(r, 503, "unavailable", "database does not answer");
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:I}", "status", "ok", "version", MES_VERSION, "schema",
                                (json_int_t)version));
}

static int system_metrics(struct req *r)
{
    size_t len = 0;
    char *text = metrics_render(r->node, &len);
    if (text == NULL)
        return reply_error(r, 500, "internal", "out of memory");
    return reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, true);
}

const struct route system_routes[] = {
    {.method = "GET",
     .path = "/healthz",
     .handler = system_healthz,
     .access = ACCESS_PUBLIC,
     .name = "healthz"},
    {.method = "GET",
     .path = "/metrics",
     .handler = system_metrics,
     .access = ACCESS_PUBLIC,
     .name = "metrics",
     .self_tx = true},
    {0},
};
