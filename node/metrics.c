/* Prometheus metrics (see metrics.h). */
#include "metrics.h"

#include <civetweb.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http.h"
#include "node.h"
#include "subsystem.h"
#include "writer.h"

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS ((int)(sizeof(buckets) / sizeof(buckets[0])))

struct route_counters {
    atomic_llong by_class[6]; /* index status/100: 1xx..5xx, 0 = other */
    atomic_llong bucket[NBUCKETS + 1];
    atomic_llong micros_total; /* sum of latencies in microseconds */
};

struct metrics {
    int nroutes;
    struct route_counters *c; /* nroutes + 1; the last is "unmatched" */
};

struct metrics *metrics_create(int nroutes)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->nroutes = nroutes;
    m->c = calloc((size_t)nroutes + 1, sizeof(*m->c));
    if (m->c == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void metrics_destroy(struct metrics *m)
{
    if (m == NULL)
        return;
    free(m->c);
    free(m);
}

void metrics_observe(struct metrics *m, int route_index, int status, double seconds)
{
    if (m == NULL)
        return;
    struct route_counters *c =
        &m->c[route_index >= 0 && route_index < m->nroutes ? route_index : m->nroutes];
    int cls = status / 100;
    atomic_fetch_add_explicit(&c->by_class[cls >= 1 && cls <= 5 ? cls : 0], 1,
                              memory_order_relaxed);
    int b = 0;
    while (b < NBUCKETS && seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&c->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->micros_total, (long long)(seconds * 1e6), memory_order_relaxed);
}

/* A growing text buffer; on allocation failure it stops growing and reports at the end. */
struct text {
    char *p;
    size_t len, cap;
    int failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *p = realloc(t->p, cap);
        if (p == NULL) {
            t->failed = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

/* What a subsystem's metrics hook appends to (metrics_put). */
struct metrics_text {
    struct text *t;
};

void metrics_put(struct metrics_text *m, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0) {
        m->t->failed = 1;
        return;
    }
    put(m->t, "%s", line);
    free(line);
}

static long long file_size(const char *path, const char *suffix)
{
    char p[PATH_MAX + 8];
    snprintf(p, sizeof(p), "%s%s", path, suffix);
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static void route_labels(int i, int nroutes, const char **method, const char **name)
{
    if (i == nroutes) {
        *method = "any";
        *name = "unmatched";
        return;
    }
    const struct route *rt = http_route_at(i);
    *method = rt->method;
    *name = rt->name;
}

/* Requests answered, by route and status class. */
static void render_requests(struct text *t, const struct metrics *m)
{
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    put(t, "# HELP mes_http_requests_total HTTP requests answered, by route and status class.\n"
           "# TYPE mes_http_requests_total counter\n");
    for (int i = 0; i <= m->nroutes; i++) {
        const char *method, *name;
        route_labels(i, m->nroutes, &method, &name);
        for (int c = 0; c < 6; c++) {
            long long v = atomic_load(&m->c[i].by_class[c]);
            if (v > 0 || c == 2)
                put(t, "mes_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %lld\n",
                    name, method, classes[c], v);
        }
    }
}

/* The latency histogram, by route. */
static void render_durations(struct text *t, const struct metrics *m)
{
    put(t, "# HELP mes_http_request_duration_seconds Time from request to reply, by route.\n"
           "# TYPE mes_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= m->nroutes; i++) {
        const char *method, *name;
        route_labels(i, m->nroutes, &method, &name);
        long long cum = 0;
        for (int b = 0; b <= NBUCKETS; b++) {
            cum += atomic_load(&m->c[i].bucket[b]);
            if (b < NBUCKETS)
                put(t,
                    "mes_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                    "le=\"%g\"} %lld\n",
                    name, method, buckets[b], cum);
            else
                put(t,
                    "mes_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                    "le=\"+Inf\"} %lld\n",
                    name, method, cum);
        }
        put(t, "mes_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n", name,
            method, (double)atomic_load(&m->c[i].micros_total) / 1e6);
        put(t, "mes_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %lld\n", name,
            method, cum);
    }
}

/* Threads, storage, the writer and the read cache. */
static void render_storage(struct text *t, struct node *n)
{
    struct db_stats ds;
    db_stats_get(&ds);
    put(t,
        "# HELP mes_http_threads Worker threads configured (one per keep-alive connection).\n"
        "# TYPE mes_http_threads gauge\nmes_http_threads %d\n"
        "# HELP mes_http_worker_stack_bytes Stack of the worker thread that answered this.\n"
        "# TYPE mes_http_worker_stack_bytes gauge\nmes_http_worker_stack_bytes %zu\n"
        "# HELP mes_http_active_requests Requests being handled now.\n"
        "# TYPE mes_http_active_requests gauge\nmes_http_active_requests %d\n"
        "# HELP mes_db_connections Open database connections (one per worker thread).\n"
        "# TYPE mes_db_connections gauge\nmes_db_connections %d\n"
        "# HELP mes_db_statements_prepared_total Statements prepared (once per connection).\n"
        "# TYPE mes_db_statements_prepared_total counter\nmes_db_statements_prepared_total %lld\n"
        "# HELP mes_db_commits_total Transactions committed.\n"
        "# TYPE mes_db_commits_total counter\nmes_db_commits_total %lld\n"
        "# HELP mes_db_rollbacks_total Transactions rolled back.\n"
        "# TYPE mes_db_rollbacks_total counter\nmes_db_rollbacks_total %lld\n"
        "# HELP mes_db_busy_total Statements that found the database busy.\n"
        "# TYPE mes_db_busy_total counter\nmes_db_busy_total %lld\n"
        "# HELP mes_db_file_bytes Size of the database file.\n"
        "# TYPE mes_db_file_bytes gauge\nmes_db_file_bytes %lld\n"
        "# HELP mes_db_wal_bytes Size of the write-ahead log.\n"
        "# TYPE mes_db_wal_bytes gauge\nmes_db_wal_bytes %lld\n"
        "# HELP mes_sqlite_memory_bytes Memory held by SQLite.\n"
        "# TYPE mes_sqlite_memory_bytes gauge\nmes_sqlite_memory_bytes %lld\n",
        n->cfg.http.threads, http_thread_stack_bytes(), atomic_load(&n->active_requests),
        atomic_load(&n->db_connections), ds.statements_prepared, ds.commits, ds.rollbacks, ds.busy,
        file_size(n->db_path, ""), file_size(n->db_path, "-wal"), (long long)sqlite3_memory_used());
    long long batches, grouped, queued;
    writer_stats(n->writer, &batches, &grouped, &queued);
    put(t,
        "# HELP mes_writer_batches_total Group-commit transactions (one fsync each).\n"
        "# TYPE mes_writer_batches_total counter\nmes_writer_batches_total %lld\n"
        "# HELP mes_writer_requests_total Write requests committed through the writer.\n"
        "# TYPE mes_writer_requests_total counter\nmes_writer_requests_total %lld\n"
        "# HELP mes_writer_queued Write requests waiting for the writer (both lanes).\n"
        "# TYPE mes_writer_queued gauge\nmes_writer_queued %lld\n",
        batches, grouped, queued);
}

/* Every subsystem's own figures (the read cache, the federation). */
static void render_subsystems(struct text *t, struct node *n)
{
    struct metrics_text mt = {t};
    for (int i = 0; subsystems[i] != NULL; i++)
        if (subsystems[i]->metrics != NULL)
            subsystems[i]->metrics(n, &mt);
}

char *metrics_render(struct node *n, size_t *len)
{
    struct text t = {.cap = 16384};
    t.p = malloc(t.cap);
    if (t.p == NULL)
        return NULL;
    t.p[0] = '\0';
    render_requests(&t, n->metrics);
    render_durations(&t, n->metrics);
    render_storage(&t, n);
    render_subsystems(&t, n);
    if (t.failed) {
        free(t.p);
        return NULL;
    }
    *len = t.len;
    return t.p;
}
