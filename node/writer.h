/*
 * Group commit: one writer thread runs the handlers of every write request that arrives while
 * it commits, in one transaction (each request in its own savepoint), and answers all of them
 * after a single fsync. With synchronous=FULL this keeps "answered 2xx means on disk" while
 * paying one fsync per batch instead of one per request (PRODUCT.md section 8).
 */
#ifndef MES_WRITER_H
#define MES_WRITER_H

#include <stddef.h>

struct db;
struct node;
struct req;
struct writer;

/* A write that is not an HTTP request (writer_call): runs on `db` inside a write transaction
 * and returns 0 to keep its work, anything else to have it rolled back. */
typedef int (*writer_fn)(struct db *db, void *ctx);

/* Opens the writer's own database connection and starts its thread. NULL with err. */
struct writer *writer_start(struct node *n, char *err, size_t errlen);
/* Finishes the queued work and stops the thread. */
void writer_stop(struct writer *w);

/* Runs r->route->handler on the writer thread inside the next group transaction and returns
 * once that transaction has committed or failed (then r holds a 503). A handler's error
 * status rolls back its own savepoint only. Called by worker threads; r stays valid (on the
 * caller's stack) until this returns. */
void writer_run(struct writer *w, struct req *r);

/* Runs fn(db, ctx) as a job of the writer's next batch, in a savepoint of its own, and returns
 * once that batch has committed: fn's result, or -1 when fn failed on storage (db_failure) or
 * the batch did not begin or commit (its work is then rolled back). A non-zero result rolls
 * back fn's savepoint only. For work outside a request that must not hold the write lock on a
 * connection of its own (the federation's imports in serve): its slow parts are done before,
 * and each call is short, since the batch's requests wait for it.
 *
 * With `w` NULL (a CLI command: the serving node's writer, if any, is in another process)
 * it runs fn on `db` in a write transaction of its own (BEGIN IMMEDIATE ... COMMIT), waiting
 * for the write lock up to the busy timeout; a serving node's writer then waits at most as
 * long as fn takes. `db` is unused when `w` is set. Called from any thread but the writer's. */
int writer_call(struct writer *w, struct db *db, writer_fn fn, void *ctx);

/* Bulk jobs in one batch. A passage upload of 100 events is 6 to 10 ms of the writer's work:
 * two of them are as long as an interactive write may wait, and half as many commits as one
 * (bench/moskvenok.sh: at one, a rush of 10,000 events/s with 2,000 sales/s beside it fell to
 * 5,600 events/s). */
#define WRITER_BULK_MAX 2

/* writer_call for work as large as a terminal's upload: run in the bulk lane, in batches apart
 * from the interactive writes (writer.c). */
int writer_call_bulk(struct writer *w, struct db *db, writer_fn fn, void *ctx);

/* Figures for /metrics: batches committed, requests and calls they held, and those waiting now
 * in both lanes. */
void writer_stats(struct writer *w, long long *batches, long long *requests, long long *queued);

#endif
