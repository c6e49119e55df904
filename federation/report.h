/*
 * Statistics for the Ministry (PRODUCT.md section 4; format in docs/federation.md, "Reports"):
 * a region's aggregate report of one month, with every cell that counts fewer than k persons
 * suppressed (and a second cell beside it, so that a published total cannot reveal it),
 * signed, numbered and queued in an outbox that survives restarts; pushed to the hub, which
 * accepts each (region, sequence) exactly once. Nothing personal is ever in a report: only
 * counts, rates and averages over groups. reports.sql is its schema.
 */
#ifndef MES_FED_REPORT_H
#define MES_FED_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/minisign.h"

struct db;
struct writer;
struct mes_config;
struct node;
struct req;
struct route;

/* ---- Small-cell suppression (no database) ----------------------------------------------------
 *
 * A report's cell counts persons; a cell of fewer than k persons is suppressed (its values
 * replaced by nulls). One row of cells may come with a published total (the mark values of a
 * subject and grade beside its counts; the grades of attendance beside the region's total). */
struct report_cell {
    long persons;    /* in: the distinct persons the cell counts (0 or more) */
    bool suppressed; /* out: set by report_suppress */
};
#define REPORT_NO_TOTAL (-1L)

/* Suppresses, with threshold k (>= 1), every cell of the row counting fewer than k persons
 * (a cell of none too). When the row has a published total (`total`, the persons it counts, is
 * not REPORT_NO_TOTAL) and exactly one cell went, the smallest other one goes too (the first of
 * equals): a single gap would be the total minus the rest. Returns true when the total itself
 * counts fewer than k persons and must be suppressed as well (a row of one small cell would
 * otherwise show it as its total); false without a total. `cells` may be NULL when n is 0. */
bool report_suppress(struct report_cell *cells, size_t n, long total, long k);

/* Computes the report of month `month` ("YYYY-MM") from the region's data, suppressed with
 * k = federation.k_suppression. A new JSON object, or NULL with err. */
json_t *report_build(struct db *db, const struct mes_config *cfg, const char *month, char *err,
                     size_t errlen);

/* Builds the report of `month` in a read transaction on `db`, then signs it and appends it to
 * the outbox under the next sequence number (into *sequence) through the writer `w`
 * (writer_call: NULL in a command, a short transaction of its own). 0, or -1 with err. */
int report_queue(struct db *db, struct writer *w, const struct mes_config *cfg,
                 const struct ms_secret *sk, const char *month, int64_t *sequence, char *err,
                 size_t errlen);

/* Pushes the outbox's unsent reports to the hub in sequence order (each as its own request,
 * signed), stopping at the first failure; with `due_only`, only those whose backoff has
 * passed. Counts in *sent; the first failure's message in err, which also goes into the
 * report's row with its next attempt (1, 2, 4 ... minutes, at most 6 hours later).
 * 0 when nothing failed, -1 otherwise. */
int report_push(struct node *n, struct db *db, int due_only, long *sent, char *err, size_t errlen);

/* The hub's check of a received report's text (its signature checked before): a
 * "mes-report-1" with a sequence of at least 1 and a month YYYY-MM. 0 when it is `region`'s
 * own (its sequence and month filled in), 1 when it names another region, -1 when it is not a
 * report, -2 when it is `region`'s own but a section it carries is malformed (the «Москвёнок»
 * volumes, "passage" and "meals", which a report may lack: rows of days of its month and
 * grades 1 to 11, each once; each cell all its counts, whole and not negative, with at least
 * the report's k persons, or suppressed with nulls; no other key), with what is wrong in `why`
 * (may be NULL). The hub's route POST /federation/v1/reports is report_routes, in http.h. */
int report_check(const char *text, size_t len, const char *region, int64_t *sequence, char month[8],
                 char *why, size_t whylen);

/* A report as the hub received it: the fields point into `doc` (the parsed body), which
 * json_decref(doc) frees. */
struct report_received {
    json_t *doc;
    const char *text; /* the report's JSON text, as signed */
    size_t len;
    const char *signature; /* its .minisig text */
    int64_t sequence;
    char month[8];
};
enum {
    REPORT_OK,
    REPORT_BAD_BODY,
    REPORT_BAD_SIGNATURE,
    REPORT_NOT_A_REPORT,
    REPORT_FOREIGN,
    REPORT_BAD_SECTION
};

/* The hub's check of a received body (POST /federation/v1/reports, the request's own signature
 * checked before; no database): {"report": JSON text, "signature": minisig} (duplicate keys
 * refused), the report's signature by the region's key `pk`, then report_check against
 * `region`. REPORT_OK with *out filled (the caller frees out->doc); otherwise *out is empty, a
 * message is in err and the verdict says which: REPORT_BAD_BODY (not that shape),
 * REPORT_BAD_SIGNATURE, REPORT_NOT_A_REPORT, REPORT_FOREIGN (another region's report),
 * REPORT_BAD_SECTION (its own, with a malformed section: err names the row and key). */
int report_verify(const void *body, size_t len, const struct ms_public *pk, const char *region,
                  struct report_received *out, char *err, size_t errlen);

/* At the hub (ministry.c): a report's row of the Ministry's summary: coverage, the average mark
 * over published cells, attendance, homework, library, logins; whatever the report's shape,
 * absent or suppressed values are nulls. Borrowed arguments; NULL when one is NULL. */
json_t *ministry_row(json_t *rep, json_t *region, json_t *name, json_t *received_at);

#endif
