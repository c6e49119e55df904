/*
 * The library's ranking function "mes_rank" for FTS5 (rank of library_fts, set by
 * library_rank.sql): BM25 without document-length normalisation (b = 0), with a weight per
 * column. FTS5's own bm25() reads every matching row's column sizes from the index's docsize
 * table, one b-tree seek per match: on a million items a common word matches tens of thousands
 * and those seeks were most of a search's time. Without the length term a match's score comes
 * from its phrase instances alone, which FTS5 has already decoded in memory; the library's
 * columns are short and weighted (title 10, description 4, authors 2, text 1), so length
 * normalisation changed little in the order.
 *
 *   score = sum over phrases p of idf(p) * tf(p) * (k1 + 1) / (tf(p) + k1),  k1 = 1.2
 *   tf(p) = sum of the column weights of p's instances in the row
 *   idf(p) = ln((N - n(p) + 0.5) / (n(p) + 0.5)), at least 1e-6 (N rows, n(p) rows with p)
 *
 * The result is negated, as bm25()'s, so that ORDER BY rank puts the best first.
 */
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "library/library.h"

enum { MAX_COLUMNS = 16 };
#define K1 1.2

struct rank_query {
    int phrases;
    double idf[]; /* per phrase, computed once per query */
};

static int count_row(const Fts5ExtensionApi *api, Fts5Context *fts, void *user)
{
    (void)api;
    (void)fts;
    ++*(sqlite3_int64 *)user;
    return SQLITE_OK;
}

/* The query's IDF per phrase, cached for the statement's life (xSetAuxdata). */
static struct rank_query *query_data(const Fts5ExtensionApi *api, Fts5Context *fts, int *rc)
{
    struct rank_query *q = api->xGetAuxdata(fts, 0);
    if (q != NULL)
        return q;
    int phrases = api->xPhraseCount(fts);
    sqlite3_int64 rows = 0;
    if ((*rc = api->xRowCount(fts, &rows)) != SQLITE_OK)
        return NULL;
    q = sqlite3_malloc64(sizeof(*q) + (size_t)phrases * sizeof(double));
    if (q == NULL) {
        *rc = SQLITE_NOMEM;
        return NULL;
    }
    q->phrases = phrases;
    for (int i = 0; i < phrases; i++) {
        sqlite3_int64 hits = 0;
        if ((*rc = api->xQueryPhrase(fts, i, &hits, count_row)) != SQLITE_OK) {
            sqlite3_free(q);
            return NULL;
        }
        double idf = log(((double)rows - (double)hits + 0.5) / ((double)hits + 0.5));
        q->idf[i] = idf > 1e-6 ? idf : 1e-6;
    }
    if ((*rc = api->xSetAuxdata(fts, q, sqlite3_free)) != SQLITE_OK)
        return NULL; /* xSetAuxdata freed it */
    return q;
}

static void mes_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                     sqlite3_value **val)
{
    int rc = SQLITE_OK;
    struct rank_query *q = query_data(api, fts, &rc);
    if (q == NULL) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    double weight[MAX_COLUMNS];
    int columns = api->xColumnCount(fts);
    for (int c = 0; c < MAX_COLUMNS; c++)
        weight[c] = c < nval ? sqlite3_value_double(val[c]) : 1.0;
    double tf_stack[16],
        *tf = q->phrases <= 16 ? tf_stack : sqlite3_malloc64((size_t)q->phrases * sizeof(double));
    if (tf == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    memset(tf, 0, (size_t)q->phrases * sizeof(double));
    int inst = 0;
    rc = api->xInstCount(fts, &inst);
    for (int i = 0; rc == SQLITE_OK && i < inst; i++) {
        int phrase, column, offset;
        rc = api->xInst(fts, i, &phrase, &column, &offset);
        if (rc == SQLITE_OK && phrase >= 0 && phrase < q->phrases && column >= 0 &&
            column < columns)
            tf[phrase] += column < MAX_COLUMNS ? weight[column] : 1.0;
    }
    double score = 0;
    for (int p = 0; p < q->phrases; p++)
        score += q->idf[p] * tf[p] * (K1 + 1) / (tf[p] + K1);
    if (tf != tf_stack)
        sqlite3_free(tf);
    if (rc != SQLITE_OK)
        sqlite3_result_error_code(ctx, rc);
    else
        sqlite3_result_double(ctx, -score);
}

int library_rank_register(fts5_api *api)
{
    return api->xCreateFunction(api, "mes_rank", NULL, mes_rank, NULL);
}
