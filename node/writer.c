/*
 * The group-commit writer (see writer.h). Workers queue a job and sleep on a semaphore of
 * their own; the writer takes every queued job (up to a batch limit), runs them in one
 * BEGIN IMMEDIATE … COMMIT with a savepoint each. Load: every write of the node passes here;
 * a batch costs one fsync however many requests it holds.
 *
 * Each worker waits on a semaphore of its own, so a batch's commit wakes exactly its own
 * workers, not every thread waiting for a later batch.
 *
 * Two lanes. A bulk request (route.bulk: a terminal's upload of a hundred events) costs as
 * much as a hundred interactive ones; were both in one batch, a buffet's sale would wait for
 * every upload queued before it. So bulk jobs run in batches of their own, at most WRITER_BULK_MAX
 * at once, and while both lanes wait the batches alternate: an interactive request waits at most
 * for one bulk batch and then commits with its own kind, and uploads are never starved by a
 * stream of interactive writes.
 */
#include "writer.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "node.h"

#define BATCH_MAX 512
/* The writer's page cache. SQLite's default (2 MiB) holds the upper pages of a few indexes: a
 * morning's passage inserts into the indexes of events, keys and notifications at random
 * places of a region's gigabytes, and each batch read its pages from the file again (half the
 * reads of a rush went, bench/moskvenok.sh). Only the writer writes, so what it caches stays
 * valid from one batch to the next. */
#define WRITER_CACHE_MIB 64

/* The writer checkpoints the WAL itself, between batches, instead of SQLite's automatic
 * checkpoint inside a commit (every 1,000 pages), which made the jobs waiting for the next
 * batch wait for it too (5-10 ms of copying and syncing the database file, once 78 ms). It
 * checkpoints once CHECKPOINT_IDLE frames wait and no job does, and at CHECKPOINT_MAX frames
 * whatever waits: SQLite's own limit. Passive, in the writer's thread: it never waits for a
 * reader, and no second connection copies and syncs beside the commits. */
#define CHECKPOINT_IDLE 256
#define CHECKPOINT_MAX  1000

/* A request (r), or a call (fn, ctx; its result in `result`). */
struct job {
    struct req *r;
    bool bulk; /* r->route->bulk */
    writer_fn fn;
    void *ctx;
    int result;
    sem_t done; /* posted once the job's batch has committed */
    struct job *next;
};

struct writer {
    struct db *db;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t submitted;
    struct job *head, *tail;   /* interactive jobs, in order of arrival */
    struct job *bhead, *btail; /* bulk jobs */
    bool last_bulk;            /* the last batch was a bulk one */
    bool stopping;
    long long batches, requests;
    long long queued; /* jobs waiting in both lanes */
    int wal_frames;   /* in the WAL after the last commit (on_wal); the writer's thread only */
    int wal_copied;   /* of them, copied into the database by the last checkpoint */
};

/* After each commit of the writer's connection (sqlite3_wal_hook, which also turns SQLite's
 * automatic checkpoint off for it). */
static int on_wal(void *arg, sqlite3 *h, const char *name, int frames)
{
    (void)h;
    (void)name;
    struct writer *w = arg;
    if (frames < w->wal_frames) /* the WAL started over */
        w->wal_copied = 0;
    w->wal_frames = frames;
    return SQLITE_OK;
}

/* A passive checkpoint when enough frames wait: CHECKPOINT_IDLE with no job queued, else
 * CHECKPOINT_MAX. */
static void checkpoint(struct writer *w, bool idle)
{
    if (w->wal_frames - w->wal_copied < (idle ? CHECKPOINT_IDLE : CHECKPOINT_MAX))
        return;
    int log = 0, copied = 0;
    if (sqlite3_wal_checkpoint_v2(db_handle(w->db), NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                  &copied) == SQLITE_OK)
        w->wal_copied = copied;
    else
        w->wal_copied = w->wal_frames; /* busy (another process): the next batches' turn */
}

/* A savepoint's statement (SAVEPOINT, ROLLBACK TO, RELEASE), prepared once from the statement
 * cache: every job of a batch runs three of them. SQLITE_OK or an error code. */
static int savepoint(struct db *db, const char *sql)
{
    int rc = db_run(db, sql, NULL);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A call's job in the batch's transaction: its savepoint is rolled back unless fn kept it. */
static void run_call(struct writer *w, struct job *j, bool began)
{
    j->result = -1;
    if (!began || savepoint(w->db, "SAVEPOINT call") != SQLITE_OK)
        return;
    db_failure_clear();
    j->result = j->fn(w->db, j->ctx);
    if (db_failure() != 0 && j->result == 0)
        j->result = -1;
    db_failure_clear();
    if (j->result != 0)
        savepoint(w->db, "ROLLBACK TO call");
    savepoint(w->db, "RELEASE call");
}

static void run_batch(struct writer *w, struct job *jobs)
{
    bool began = db_begin_write(w->db) == SQLITE_OK;
    for (struct job *j = jobs; j; j = j->next) {
        if (j->fn != NULL) {
            run_call(w, j, began);
            continue;
        }
        struct req *r = j->r;
        r->db = w->db;
        if (!began) {
            reply_error(r, 503, "unavailable", "storage busy, retry");
            continue;
        }
        if (savepoint(w->db, "SAVEPOINT request") != SQLITE_OK) {
            reply_error(r, 503, "unavailable", "storage failed, retry");
            continue;
        }
        http_run_handler(r);
        if (r->status >= 400 && !r->keep_on_error)
            savepoint(w->db, "ROLLBACK TO request");
        savepoint(w->db, "RELEASE request");
    }
    if (began && db_commit(w->db) != SQLITE_OK) {
        log_error("group commit failed: %s", db_errmsg(w->db));
        db_rollback(w->db);
        for (struct job *j = jobs; j; j = j->next) {
            if (j->fn != NULL)
                j->result = -1;
            else
                reply_error(j->r, 503, "unavailable", "storage failed to commit, retry");
        }
    }
}

/* Wakes the workers of a list of jobs; a job lives on its worker's stack until posted. */
static void post_all(struct job *j)
{
    for (struct job *next; j; j = next) {
        next = j->next;
        sem_post(&j->done);
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->head == NULL && w->bhead == NULL && !w->stopping)
            pthread_cond_wait(&w->submitted, &w->lock);
        if (w->head == NULL && w->bhead == NULL && w->stopping)
            break;
        /* Interactive jobs unless only bulk ones wait, or the last batch was theirs. */
        bool bulk = w->bhead != NULL && (w->head == NULL || !w->last_bulk);
        struct job **head = bulk ? &w->bhead : &w->head, **tail = bulk ? &w->btail : &w->tail;
        int max = bulk ? WRITER_BULK_MAX : BATCH_MAX;
        /* Take up to `max` jobs; later arrivals wait for the next batch. */
        struct job *batch = *head, *last = batch;
        int n = 1;
        while (last->next && n < max) {
            last = last->next;
            n++;
        }
        *head = last->next;
        if (*head == NULL)
            *tail = NULL;
        last->next = NULL;
        w->last_bulk = bulk;
        w->queued -= n;
        pthread_mutex_unlock(&w->lock);

        run_batch(w, batch);

        pthread_mutex_lock(&w->lock);
        w->batches++;
        w->requests += n;
        pthread_mutex_unlock(&w->lock);
        post_all(batch);
        pthread_mutex_lock(&w->lock);
        bool idle = w->head == NULL && w->bhead == NULL;
        pthread_mutex_unlock(&w->lock);
        checkpoint(w, idle);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct writer *writer_start(struct node *n, char *err, size_t errlen)
{
    struct writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->db = db_open(n->db_path, &n->cfg, err, errlen);
    if (w->db == NULL) {
        free(w);
        return NULL;
    }
    db_set_role(w->db, "writer");
    db_cache_mib(w->db, WRITER_CACHE_MIB);
    sqlite3_wal_hook(db_handle(w->db), on_wal, w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->submitted, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        pthread_cond_destroy(&w->submitted);
        pthread_mutex_destroy(&w->lock);
        db_close(w->db);
        free(w);
        return NULL;
    }
    pthread_setname_np(w->thread, "mes-writer"); /* as top -H and perf show it */
    return w;
}

void writer_stop(struct writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->submitted);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->submitted);
    pthread_mutex_destroy(&w->lock);
    db_close(w->db);
    free(w);
}

/* Queues `job` (on the caller's stack) and waits for its batch. */
static void submit(struct writer *w, struct job *job)
{
    sem_init(&job->done, 0, 0);
    pthread_mutex_lock(&w->lock);
    struct job **head = job->bulk ? &w->bhead : &w->head, **tail = job->bulk ? &w->btail : &w->tail;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
    w->queued++;
    pthread_cond_signal(&w->submitted);
    pthread_mutex_unlock(&w->lock);
    while (sem_wait(&job->done) != 0)
        ; /* interrupted by a signal */
    sem_destroy(&job->done);
}

void writer_run(struct writer *w, struct req *r)
{
    struct job job = {.r = r, .bulk = r->route != NULL && r->route->bulk};
    submit(w, &job);
}

/* writer_call without a writer: a short transaction of its own on `db`. */
static int call_alone(struct db *db, writer_fn fn, void *ctx)
{
    if (db_begin_write(db) != SQLITE_OK) {
        log_error("write: %s", db_errmsg(db));
        return -1;
    }
    db_failure_clear();
    int rc = fn(db, ctx);
    if (rc == 0 && db_failure() != 0)
        rc = -1;
    db_failure_clear();
    if (rc == 0 && db_commit(db) != SQLITE_OK) {
        log_error("commit failed: %s", db_errmsg(db));
        rc = -1;
    }
    if (rc != 0)
        db_rollback(db);
    /* The lock stays free a moment, for a serving node's writer waiting for it (db.c polls
     * every millisecond): a caller that calls again at once would otherwise keep it. */
    usleep(2000);
    return rc;
}

static int call(struct writer *w, struct db *db, writer_fn fn, void *ctx, bool bulk)
{
    if (w == NULL)
        return call_alone(db, fn, ctx);
    struct job job = {.fn = fn, .ctx = ctx, .bulk = bulk};
    submit(w, &job);
    return job.result;
}

int writer_call(struct writer *w, struct db *db, writer_fn fn, void *ctx)
{
    return call(w, db, fn, ctx, false);
}

int writer_call_bulk(struct writer *w, struct db *db, writer_fn fn, void *ctx)
{
    return call(w, db, fn, ctx, true);
}

void writer_stats(struct writer *w, long long *batches, long long *requests, long long *queued)
{
    if (w == NULL) {
        *batches = *requests = *queued = 0;
        return;
    }
    pthread_mutex_lock(&w->lock);
    *batches = w->batches;
    *requests = w->requests;
    *queued = w->queued;
    pthread_mutex_unlock(&w->lock);
}
