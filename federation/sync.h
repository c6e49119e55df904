/*
 * A region's exchange with the hub over HTTP (docs/federation.md, "Pulling the channel"): it
 * pulls the channel's signature and manifest, checks them before anything else is fetched,
 * fetches only the blobs it lacks (resuming interrupted transfers from DATA_DIR/incoming),
 * checks each, and switches its library to the new version in one transaction. libcurl does
 * the HTTP; every request is signed with the region's key (auth.h).
 */
#ifndef MES_FED_SYNC_H
#define MES_FED_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "federation/channel.h"

struct node;

struct sync_result {
    struct channel_import channel; /* what the pull did */
    long fetched;                  /* blobs fetched */
    long long fetched_bytes;       /* bytes received for them (resumed parts not counted) */
};

/* One pull of the library channel for node `n` (a region with federation.hub_url and
 * federation.hub_public_key set, its key loaded) on database `db`. 0, or -1 with err; on
 * failure the library is unchanged and completed downloads stay for the next attempt. */
int fed_pull_channel(struct node *n, struct db *db, struct sync_result *res, char *err,
                     size_t errlen);

/* The schedule inside `mesnode serve` (schedule.c): started for a region whose
 * federation.enabled is true, a thread that every federation.sync_interval_s queues last
 * month's report if it is not queued yet, pulls the channel and pushes due reports. */
struct fed_status {
    long long last_sync_at, last_ok_at; /* unix seconds; 0: never */
    long errors;                        /* cycles that failed */
    long reports_sent;
    long long channel_version;
    long outbox_depth;
    char last_error[256];
};
int fed_start(struct node *n); /* 0 (also when nothing is to run), -1 on failure */
void fed_stop(struct node *n);
/* The status of the schedule; false when none runs. */
bool fed_status_get(struct node *n, struct fed_status *out);

/* A signed POST of a body of media type `type` (NULL: JSON) to the hub. The HTTP status (with
 * the hub's message in err when it is 300 or more), or -1 with err when the transfer failed;
 * a 2xx answer's body into *answer (malloc'ed) when `answer` is not NULL. */
long fed_hub_post(struct node *n, const char *uri, const char *type, const char *body, size_t len,
                  char **answer, char *err, size_t errlen);
/* A signed GET whose answer must be 200, at most `max` bytes (malloc'ed, NUL-ended); NULL
 * with err. */
char *fed_hub_get(struct node *n, const char *uri, size_t max, char *err, size_t errlen);

#endif
