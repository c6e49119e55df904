/*
 * «Москвёнок»'s buffet sales (sales.c): a terminal's sale as it is read from its JSON and
 * applied, exactly once, in the caller's write transaction. The routes use these; so do the
 * unit tests (tests/unit/test_moskvenok_sales.c).
 */
#ifndef MES_MOSKVENOK_SALES_H
#define MES_MOSKVENOK_SALES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db.h"

struct mes_config;

#define SALE_LINES_MAX    50  /* lines of one sale */
#define SALE_QUANTITY_MAX 100 /* units of one line */
#define SALE_CARD_MAX     128 /* bytes of a carrier's identifier */

/* A line of a sale: a buffet item or a complex of the day's menu. */
struct sale_line_in {
    int64_t id;   /* a buffet item's or a complex's id */
    bool complex; /* {"complex": id} rather than {"id": id} */
    int64_t quantity;
};

/* A sale as the terminal sent it. */
struct sale_in {
    const char *key, *card; /* borrowed from the JSON it was read from */
    int64_t seq;
    time_t at; /* when it was sold (now when the terminal did not say) */
    bool offline;
    struct sale_line_in lines[SALE_LINES_MAX];
    int nlines;
};

/* Reads the sale object `o` into *s (its strings stay `o`'s). 0, or -1 with the field at
 * fault in `field` (named under `prefix`: "" for a single sale, "sales[3]" in a batch, as
 * "sales[3].items[0].quantity") and the reason, in English, in *why. */
int sales_parse(json_t *o, const char *prefix, struct sale_in *s, char *field, size_t size,
                const char **why);

/* What applying a sale came to. */
enum sales_apply {
    SALES_APPLIED,   /* *result: the answer, new */
    SALES_DUPLICATE, /* *result: the first answer, with "duplicate": true; nothing applied */
    SALES_SEQ_TAKEN, /* another key of the terminal holds the sequence number: refuse */
    SALES_FAILED,    /* storage */
};

/* Decides sale `s` of terminal `device` at its school `school`, stores it (approved or
 * declined, with its lines) and debits an approved one, exactly once per (device, key): see
 * the top of sales.c for the order of the reasons and the price. *result is a new reference
 * on SALES_APPLIED and SALES_DUPLICATE: {"key", "approved", "reason", "balance", "sale",
 * "total", "free"}. Runs in the caller's write transaction; on SALES_SEQ_TAKEN and
 * SALES_FAILED the caller rolls it back. */
enum sales_apply sales_apply(struct db *db, const struct mes_config *cfg, int64_t device,
                             int64_t school, const struct sale_in *s, json_t **result);

#endif
