/*
 * The writer's cost of a passage event (bench/moskvenok.sh): the CPU time of the thread that
 * runs passage_apply, the code behind POST /api/v1/passage/events, on a generated region, in
 * the batches the writer would commit (one school's turnstile, BATCH events a transaction).
 * Measured with CLOCK_THREAD_CPUTIME_ID, so that a machine shared with other work gives the same
 * figure: it is the writer thread's budget per event, whatever the HTTP in front of it. Two
 * passes over distinct cards: events of an earlier day (stored, no one told) and of today (the
 * family told as well). Each batch is rolled back, so the region is left as it was and nothing
 * is written to disk: the figure is the work, not the fsync.
 *
 * Usage: passage_cost DBFILE [EVENTS] [BATCH] [CACHE_MIB]
 * Prints "past_us=N today_us=N" per event (and a line for people).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "db.h"
#include "log.h"
#include "moskvenok/moskvenok.h"
#include "moskvenok/passage.h"

static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct school {
    int64_t id, device;
    char **cards;
    size_t n;
};

static void die(const char *what, struct db *db)
{
    fprintf(stderr, "passage_cost: %s: %s\n", what, db ? db_errmsg(db) : "");
    exit(1);
}

/* The schools with a passage device and their students' cards in use, in order of id. */
static struct school *schools_load(struct db *db, size_t *count)
{
    sqlite3_stmt *st = db_stmt(db, "SELECT d.institution_id, d.id, c.card FROM device_tokens d "
                                   "JOIN cards c ON c.institution_id = d.institution_id "
                                   "WHERE d.scopes = 'passage' AND d.revoked_at IS NULL AND "
                                   "c.blocked_at IS NULL ORDER BY d.institution_id, c.id");
    if (st == NULL)
        die("query", db);
    struct school *s = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (n == 0 || s[n - 1].id != id) {
            s = realloc(s, (n + 1) * sizeof(*s));
            s[n++] = (struct school){.id = id, .device = sqlite3_column_int64(st, 1)};
        }
        struct school *c = &s[n - 1];
        c->cards = realloc(c->cards, (c->n + 1) * sizeof(char *));
        c->cards[c->n++] = strdup((const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    *count = n;
    return s;
}

/* Applies `events` events of `day_at` (a time of the day to post) in batches, each rolled back.
 * The thread's CPU seconds. Cards and keys are taken from *next on, so passes never repeat. */
static double pass(struct db *db, struct school *s, size_t ns, long events, int batch,
                   time_t day_at, const char *today, long *next)
{
    struct passage_event *ev = calloc((size_t)batch, sizeof(*ev));
    char(*keys)[40] = calloc((size_t)batch, 40);
    double spent = 0;
    for (long done = 0; done < events; done += batch) {
        /* The next school with cards enough for a batch, round the region. */
        long k = *next;
        struct school *sc = &s[(size_t)(k / batch) % ns];
        int n = (int)(events - done < batch ? events - done : batch);
        for (int i = 0; i < n; i++) {
            snprintf(keys[i], sizeof(keys[i]), "bench-%ld", k + i);
            ev[i] = (struct passage_event){.key = keys[i],
                                           .seq = 100000000 + k + i,
                                           .card = sc->cards[(size_t)(k + i) % sc->n],
                                           .in = true,
                                           .at = day_at + i};
        }
        *next = k + batch;
        double t0 = thread_seconds();
        if (db_begin_write(db) != SQLITE_OK)
            die("begin", db);
        struct passage_batch b;
        if (passage_apply(db, sc->device, sc->id, ev, (size_t)n, today, &b) != PASSAGE_DONE)
            die("passage_apply", db);
        json_decref(b.results);
        db_rollback(db);
        spent += thread_seconds() - t0;
    }
    free(keys);
    free(ev);
    return spent;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: passage_cost DBFILE [EVENTS] [BATCH] [CACHE_MIB]\n");
        return 2;
    }
    long events = argc > 2 ? atol(argv[2]) : 20000;
    int batch = argc > 3 ? atoi(argv[3]) : 200;
    int cache = argc > 4 ? atoi(argv[4]) : 0;
    if (events < 1 || batch < 1 || batch > 1000 || cache < 0)
        return 2;
    log_set_quiet(1);
    struct mes_config cfg;
    config_defaults(&cfg);
    char err[512];
    struct db *db = db_open(argv[1], &cfg, err, sizeof(err));
    if (db == NULL) {
        fprintf(stderr, "passage_cost: %s\n", err);
        return 1;
    }
    if (cache > 0)
        db_cache_mib(db, cache);
    size_t ns;
    struct school *s = schools_load(db, &ns);
    if (ns == 0) {
        fprintf(stderr, "passage_cost: no school with a turnstile and cards (mesnode gen)\n");
        return 1;
    }
    time_t now = time(NULL);
    char today[16];
    mosk_local_day(now, today);
    long next = 0;
    /* A first pass warms the page cache, as a serving node's would be. */
    pass(db, s, ns, events, batch, now - 7 * 86400, today, &next);
    double past = pass(db, s, ns, events, batch, now - 7 * 86400, today, &next);
    double now_s = pass(db, s, ns, events, batch, now - 60, today, &next);
    printf("past_us=%.1f today_us=%.1f\n", 1e6 * past / (double)events,
           1e6 * now_s / (double)events);
    printf("events of an earlier day: %.1f us each (%.0f/s of one thread); of today, the family "
           "told: %.1f us (%.0f/s)\n",
           1e6 * past / (double)events, (double)events / past, 1e6 * now_s / (double)events,
           (double)events / now_s);
    db_close(db);
    return 0;
}
