/*
 * Prometheus metrics: requests and latency histograms per route, database and thread
 * figures. Counters are atomics updated by worker threads without locks; GET /metrics renders
 * the text exposition format (version 0.0.4).
 */
#ifndef MES_METRICS_H
#define MES_METRICS_H

#include <stddef.h>

struct metrics;
struct node;

/* Allocates counters for `nroutes` routes plus one slot for unmatched requests. */
struct metrics *metrics_create(int nroutes);
void metrics_destroy(struct metrics *m);

/* Records one request: route index (-1 when no route matched), status, seconds taken. */
void metrics_observe(struct metrics *m, int route_index, int status, double seconds);

/* Renders all metrics of the node; returns a malloc'd NUL-terminated text (caller frees) or
 * NULL when out of memory. */
char *metrics_render(struct node *n, size_t *len);

/* A subsystem's metrics hook (struct subsystem) appends its lines with this, printf-style, in
 * the text exposition format ("# HELP", "# TYPE", then the samples). */
struct metrics_text;
void metrics_put(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
