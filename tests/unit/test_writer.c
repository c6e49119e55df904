/*
 * Unit tests of writer_call (writer.h): a function run as a job of the writer's batch keeps its
 * work when it returns 0, has it rolled back when it returns anything else or fails on storage
 * (the caller hears -1 then, not a success); without a writer it runs in a transaction of its
 * own on the caller's connection, with the same outcomes and no transaction left open. Bulk
 * calls wait in a lane of their own: an interactive call queued behind four of them runs after
 * the first bulk batch (WRITER_BULK_MAX calls), not after all four.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "node.h"
#include "scratch_db.h"
#include "writer.h"

static struct node n;
static char path[64];

/* A counter row of scope `*ctx`, then what the test asks the job to answer. */
struct job {
    int64_t scope;
    int answer;
    bool fail; /* a statement that does not prepare: a storage failure */
};

static int count_up(struct db *db, void *ctx)
{
    struct job *j = ctx;
    if (db_run(db,
               "INSERT INTO change_counters (scope, gen) VALUES (:s, 1) ON CONFLICT (scope) DO "
               "UPDATE SET gen = gen + 1",
               DB_ARGS(DB_INT(":s", j->scope))) != SQLITE_DONE)
        return -1;
    if (j->fail)
        db_run(db, "SELECT no_such_column FROM change_counters", NULL);
    return j->answer;
}

static int64_t gen_of(struct db *db, int64_t scope)
{
    int64_t v = 0;
    int rc = db_int(db, &v, "SELECT gen FROM change_counters WHERE scope = :s",
                    DB_ARGS(DB_INT(":s", scope)));
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    return rc == SQLITE_ROW ? v : 0;
}

/* The outcomes, through `w` or (w NULL) on `db`. */
static void outcomes(struct writer *w, struct db *db, struct db *reader, int64_t scope)
{
    struct job kept = {scope, 0, false}, refused = {scope, 7, false}, failed = {scope, 0, true};
    assert_int_equal(writer_call(w, db, count_up, &kept), 0);
    assert_int_equal(gen_of(reader, scope), 1);
    assert_int_equal(writer_call(w, db, count_up, &refused), 7);
    assert_int_equal(gen_of(reader, scope), 1);
    assert_int_equal(writer_call(w, db, count_up, &failed), -1);
    assert_int_equal(gen_of(reader, scope), 1);
    assert_int_equal(writer_call(w, db, count_up, &kept), 0);
    assert_int_equal(gen_of(reader, scope), 2);
    assert_int_equal(db_failure(), 0); /* the caller's thread carries no failure of the job's */
}

static void test_calls_keep_or_roll_back(void **state)
{
    (void)state;
    struct db *db = scratch_db(&n.cfg, path);
    snprintf(n.db_path, sizeof(n.db_path), "%s", path);
    char err[256];
    struct writer *w = writer_start(&n, err, sizeof(err));
    assert_non_null(w);
    outcomes(w, NULL, db, 1001);
    long long batches, requests, queued;
    writer_stats(w, &batches, &requests, &queued);
    assert_int_equal(requests, 4);
    assert_int_equal(queued, 0);
    writer_stop(w);
    /* Without a writer: a transaction of its own, none left open afterwards. */
    outcomes(NULL, db, db, 1002);
    assert_true(sqlite3_get_autocommit(db_handle(db)));
    scratch_db_remove(db, path);
}

/* ---- the lanes ---------------------------------------------------------------------------- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_bool holding; /* the writer runs hold() */
static atomic_int ran;      /* calls run so far, in the writer's order */

/* Holds the writer until the test opens the gate. */
static int hold(struct db *db, void *ctx)
{
    (void)db;
    (void)ctx;
    atomic_store(&holding, true);
    pthread_mutex_lock(&gate_lock);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    return 0;
}

/* Notes its place in the writer's order in *ctx. */
static int note(struct db *db, void *ctx)
{
    (void)db;
    *(int *)ctx = atomic_fetch_add(&ran, 1);
    return 0;
}

struct caller {
    pthread_t t;
    struct writer *w;
    writer_fn fn;
    bool bulk;
    int place;
};

static void *call_in_thread(void *arg)
{
    struct caller *c = arg;
    void *ctx = c->fn == note ? (void *)&c->place : NULL;
    if (c->bulk)
        writer_call_bulk(c->w, NULL, c->fn, ctx);
    else
        writer_call(c->w, NULL, c->fn, ctx);
    return NULL;
}

static void test_interactive_calls_pass_queued_bulk_ones(void **state)
{
    (void)state;
    struct db *db = scratch_db(&n.cfg, path);
    snprintf(n.db_path, sizeof(n.db_path), "%s", path);
    char err[256];
    struct writer *w = writer_start(&n, err, sizeof(err));
    assert_non_null(w);
    /* The writer held by one call; four bulk calls, then one interactive, queue behind it. */
    struct caller c[6] = {{.w = w, .fn = hold}};
    for (int i = 1; i < 6; i++)
        c[i] = (struct caller){.w = w, .fn = note, .bulk = i < 5, .place = -1};
    long long batches, requests, queued;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_create(&c[i].t, NULL, call_in_thread, &c[i]), 0);
        /* Each queued before the next; the first is running (the writer holds it). */
        for (int k = 0; k < 2000; k++) {
            writer_stats(w, &batches, &requests, &queued);
            if (queued == i && atomic_load(&holding))
                break;
            usleep(5000);
        }
        assert_int_equal(queued, i);
    }
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    for (int i = 0; i < 6; i++)
        pthread_join(c[i].t, NULL);
    /* A bulk batch, the interactive call, then the other bulk calls. */
    assert_true(WRITER_BULK_MAX < 4);
    for (int i = 1; i < 5; i++)
        assert_int_equal(c[i].place, i <= WRITER_BULK_MAX ? i - 1 : i);
    assert_int_equal(c[5].place, WRITER_BULK_MAX);
    writer_stats(w, &batches, &requests, &queued);
    assert_int_equal(requests, 6);
    assert_int_equal(queued, 0);
    assert_int_equal(batches, 2 + (4 + WRITER_BULK_MAX - 1) / WRITER_BULK_MAX);
    writer_stop(w);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&n.cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls_keep_or_roll_back),
        cmocka_unit_test(test_interactive_calls_pass_queued_bulk_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
