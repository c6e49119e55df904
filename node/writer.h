/*
 * Group commit: one writer thread runs the handlers of every write request that arrives while
 * it commits, in one transaction (each request in its own savepoint), and answers all of them
 * after a single fsync. With synchronous=FULL this keeps "answered 2xx means on disk" while
 * paying one fsync per batch instead of one per request (PRODUCT.md section 8).
 */
#ifndef MES_WRITER_H
#define MES_WRITER_H

#include <stddef.h>

struct node;
struct req;
struct writer;

/* Opens the writer's own database connection and starts its thread. NULL with err. */
struct writer *writer_start(struct node *n, char *err, size_t errlen);
/* Finishes the queued work and stops the thread. */
void writer_stop(struct writer *w);

/* Runs r->route->handler on the writer thread inside the next group transaction and returns
 * once that transaction has committed or failed (then r holds a 503). A handler's error
 * status rolls back its own savepoint only. Called by worker threads; r stays valid (on the
 * caller's stack) until this returns. */
void writer_run(struct writer *w, struct req *r);

/* Figures for /metrics. */
void writer_stats(struct writer *w, long long *batches, long long *requests);

#endif
