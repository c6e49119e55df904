/*
 * The federation's schedule inside `mesnode serve` (a region with federation.enabled): every
 * federation.sync_interval_s, queue last month's report if it is not queued yet, pull the
 * library channel, push the reports whose backoff has passed; and the status that /metrics
 * and GET /api/v1/federation/status show.
 */
#include "federation/sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "federation/contrib.h"
#include "federation/report.h"
#include "log.h"
#include "node.h"

struct fed_runtime {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct fed_status status;
};

/* The month before the current one, as YYYY-MM (local time). */
static void previous_month(char out[8])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon; /* tm_mon is 0-based: the previous month */
    if (m == 0) {
        m = 12;
        y--;
    }
    struct tm first = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1};
    strftime(out, 8, "%Y-%m", &first);
}

/* Reads the channel version held and the outbox depth into `st`. */
static void read_state(struct db *db, struct fed_status *st)
{
    sqlite3_stmt *s =
        db_query(db,
                 "SELECT coalesce((SELECT version FROM channel_state), 0), (SELECT "
                 "count(*) FROM fed_outbox WHERE sent_at IS NULL AND refused_at IS NULL)",
                 NULL);
    int rc;
    if (db_next(s, &rc)) {
        st->channel_version = sqlite3_column_int64(s, 0);
        st->outbox_depth = sqlite3_column_int64(s, 1);
        sqlite3_reset(s);
    } /* else the failure is logged (db_step) and the status keeps the values read before */
}

/* Queues last month's report unless one for that month is queued already. false on a failure
 * (logged, its message in err). */
static bool queue_last_month(struct node *n, struct db *db, char *err, size_t errlen)
{
    char month[8];
    previous_month(month);
    int have =
        db_exists(db, "SELECT 1 FROM fed_outbox WHERE period = :p", DB_ARGS(DB_TEXT(":p", month)));
    int64_t seq;
    if (have == 1 ||
        (have == 0 && report_queue(db, n->writer, &n->cfg, n->key, month, &seq, err, errlen) == 0))
        return true;
    if (have < 0)
        snprintf(err, errlen, "database: %s", db_errmsg(db));
    log_error("federation: report of %s: %s", month, err);
    return false;
}

/* One cycle. */
static void cycle(struct node *n, struct fed_runtime *rt, struct db *db)
{
    char err[1024] = "";
    bool ok = queue_last_month(n, db, err, sizeof(err));
    struct sync_result res;
    if (fed_pull_channel(n, db, &res, err, sizeof(err)) != 0) {
        log_error("federation: pull: %s", err);
        ok = false;
    } else if (!res.channel.already) {
        log_info("federation: library channel version %lld: %ld items new or changed, %ld removed",
                 (long long)res.channel.version, res.channel.changed, res.channel.removed);
    }
    long sent = 0;
    char perr[1024] = "";
    if (report_push(n, db, 1, &sent, perr, sizeof(perr)) != 0) {
        log_error("federation: push: %s", perr);
        snprintf(err, sizeof(err), "%s", perr);
        ok = false;
    }
    long csent = 0, decided = 0;
    if (contrib_sync(n, db, &csent, &decided, perr, sizeof(perr)) != 0) {
        log_error("federation: contributions: %s", perr);
        snprintf(err, sizeof(err), "%s", perr);
        ok = false;
    }
    pthread_mutex_lock(&rt->lock);
    rt->status.last_sync_at = (long long)time(NULL);
    if (ok)
        rt->status.last_ok_at = rt->status.last_sync_at;
    else
        rt->status.errors++;
    /* The message, cut to the status's room. */
    size_t cut = ok ? 0 : strnlen(err, sizeof(rt->status.last_error) - 1);
    while (cut > 0 && ((unsigned char)err[cut] & 0xC0) == 0x80) /* not inside a character */
        cut--;
    memcpy(rt->status.last_error, err, cut);
    rt->status.last_error[cut] = '\0';
    rt->status.reports_sent += sent;
    read_state(db, &rt->status);
    pthread_mutex_unlock(&rt->lock);
}

static void *loop(void *arg)
{
    struct node *n = arg;
    struct fed_runtime *rt = n->fed;
    char err[512];
    struct db *db = db_open(n->db_path, &n->cfg, err, sizeof(err));
    if (db == NULL) {
        log_error("federation: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&rt->lock);
    while (!rt->stop) {
        pthread_mutex_unlock(&rt->lock);
        cycle(n, rt, db);
        pthread_mutex_lock(&rt->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += n->cfg.federation.sync_interval_s;
        while (!rt->stop && pthread_cond_timedwait(&rt->wake, &rt->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&rt->lock);
    db_close(db);
    return NULL;
}

int fed_start(struct node *n)
{
    if (!n->cfg.federation.enabled || n->cfg.mode != NODE_REGION)
        return 0;
    struct fed_runtime *rt = calloc(1, sizeof(*rt));
    if (rt == NULL || pthread_mutex_init(&rt->lock, NULL) != 0 ||
        pthread_cond_init(&rt->wake, NULL) != 0) {
        free(rt);
        return -1;
    }
    n->fed = rt;
    if (pthread_create(&rt->thread, NULL, loop, n) != 0) {
        n->fed = NULL;
        free(rt);
        return -1;
    }
    log_info("federation: syncing with %s every %d s", n->cfg.federation.hub_url,
             n->cfg.federation.sync_interval_s);
    return 0;
}

void fed_stop(struct node *n)
{
    struct fed_runtime *rt = n->fed;
    if (rt == NULL)
        return;
    pthread_mutex_lock(&rt->lock);
    rt->stop = true;
    pthread_cond_signal(&rt->wake);
    pthread_mutex_unlock(&rt->lock);
    pthread_join(rt->thread, NULL);
    pthread_mutex_destroy(&rt->lock);
    pthread_cond_destroy(&rt->wake);
    free(rt);
    n->fed = NULL;
}

bool fed_status_get(struct node *n, struct fed_status *out)
{
    struct fed_runtime *rt = n->fed;
    if (rt == NULL)
        return false;
    pthread_mutex_lock(&rt->lock);
    *out = rt->status;
    pthread_mutex_unlock(&rt->lock);
    return true;
}
