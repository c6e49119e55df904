/*
 * The read cache's registration (subsystem.h): its change counters and triggers, the cache
 * made at start (http.cache_mb) and its figures in /metrics.
 */
#include <stdio.h>

#include "cache/cache.h"
#include "metrics.h"
#include "node.h"
#include "subsystem.h"

static int cache_start(struct node *n, char *err, size_t errlen)
{
    n->cache = view_cache_create((size_t)n->cfg.http.cache_mb << 20);
    if (n->cfg.http.cache_mb && n->cache == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void cache_stop(struct node *n)
{
    view_cache_destroy(n->cache);
    n->cache = NULL;
}

static void cache_metrics(struct node *n, struct metrics_text *t)
{
    long long hits, misses;
    size_t bytes, entries;
    view_cache_stats(n->cache, &hits, &misses, &bytes, &entries);
    metrics_put(t,
                "# HELP mes_cache_hits_total Reads answered from the read cache.\n"
                "# TYPE mes_cache_hits_total counter\nmes_cache_hits_total %lld\n"
                "# HELP mes_cache_misses_total Cacheable reads built from the database.\n"
                "# TYPE mes_cache_misses_total counter\nmes_cache_misses_total %lld\n"
                "# HELP mes_cache_bytes Memory held by cached answers.\n"
                "# TYPE mes_cache_bytes gauge\nmes_cache_bytes %zu\n"
                "# HELP mes_cache_entries Answers in the read cache.\n"
                "# TYPE mes_cache_entries gauge\nmes_cache_entries %zu\n",
                hits, misses, bytes, entries);
}

const struct subsystem cache_subsystem = {
    .name = "cache",
    .migrations =
        (const struct migration[]){
            {7, "node/cache/cache.sql"},
            {21, "node/cache/cache_watch.sql"},
            {0},
        },
    .storage_init = cache_watch_install_all,
    .start = cache_start,
    .stop = cache_stop,
    .metrics = cache_metrics,
};
