/*
 * The federation's registration (subsystem.h): its routes (the hub's channel, reports,
 * contributions and key rotation, the Ministry's tables), the check of node-signed requests
 * for the dispatcher, the schedule `serve` runs, its figures in /metrics, its pages.
 */
#include "federation/auth.h"
#include "federation/sync.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "subsystem.h"

/* Its route tables, one per file. */
extern const struct route federation_routes[]; /* routes.c */
extern const struct route report_routes[];     /* report.c */
extern const struct route ministry_routes[];   /* ministry.c */
extern const struct route contrib_routes[];    /* contrib.c */
extern const struct route rotation_routes[];   /* rotation.c */

static int fed_serve_start(struct node *n)
{
    if (fed_start(n) == 0)
        return 0;
    log_error("federation: cannot start its schedule");
    return -1;
}

static void fed_metrics(struct node *n, struct metrics_text *t)
{
    struct fed_status fs;
    if (!fed_status_get(n, &fs))
        return;
    metrics_put(t,
                "# HELP mes_federation_channel_version Version of the hub's library channel held.\n"
                "# TYPE mes_federation_channel_version gauge\nmes_federation_channel_version %lld\n"
                "# HELP mes_federation_last_sync_timestamp_seconds When the last sync ran.\n"
                "# TYPE mes_federation_last_sync_timestamp_seconds gauge\n"
                "mes_federation_last_sync_timestamp_seconds %lld\n"
                "# HELP mes_federation_last_success_timestamp_seconds When a sync last succeeded.\n"
                "# TYPE mes_federation_last_success_timestamp_seconds gauge\n"
                "mes_federation_last_success_timestamp_seconds %lld\n"
                "# HELP mes_federation_outbox_reports Reports waiting to be taken by the hub.\n"
                "# TYPE mes_federation_outbox_reports gauge\nmes_federation_outbox_reports %ld\n"
                "# HELP mes_federation_sync_errors_total Syncs that failed.\n"
                "# TYPE mes_federation_sync_errors_total counter\n"
                "mes_federation_sync_errors_total %ld\n"
                "# HELP mes_federation_reports_sent_total Reports the hub took.\n"
                "# TYPE mes_federation_reports_sent_total counter\n"
                "mes_federation_reports_sent_total %ld\n",
                fs.channel_version, fs.last_sync_at, fs.last_ok_at, fs.outbox_depth, fs.errors,
                fs.reports_sent);
}

const struct subsystem federation_subsystem = {
    .name = "federation",
    .routes =
        (const struct route *const[]){
            federation_routes,
            report_routes,
            ministry_routes,
            contrib_routes,
            rotation_routes,
            NULL,
        },
    .migrations =
        (const struct migration[]){
            {14, "federation/channel.sql"},
            {15, "federation/hub.sql"},
            {16, "federation/reports.sql"},
            {17, "federation/contributions.sql"},
            {18, "federation/rotation.sql"},
            {38, "federation/outbox_refused.sql"},
            {0},
        },
    .serve_start = fed_serve_start,
    .serve_stop = fed_stop,
    .metrics = fed_metrics,
    .node_check = fed_node_check,
    .pages =
        (const struct page[]){
            {"/ministry", "web_page_ministry"},
            {"/federation", "web_page_federation"},
            {0},
        },
    .scripts = (const char *const[]){"ministry.js", "federation.js", NULL},
};
