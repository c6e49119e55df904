/*
 * «Москвёнок»'s menu (meals.c): a school's buffet goods and the day's complexes, who eats free
 * and why, and the kitchen's order. What other parts and the unit tests use: the free rules
 * split by their reason, the calendar arithmetic of the menu's days, the next school day and
 * the kitchen's order as a table.
 */
#ifndef MES_MOSKVENOK_MEALS_H
#define MES_MOSKVENOK_MEALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "db.h"

/* The highest price of a buffet item or a complex, in kopecks (100 000 ₽). */
#define MEALS_MAX_PRICE 10000000

/* The school day after `today` at `institution`: the first date within four weeks on which
 * one of its classes has a lesson that is not cancelled; when its timetable has made none, the
 * first Monday to Friday that is not one of the region's days off (holidays), else the day
 * after `today`. 0, or -1 on a storage failure. */
int meals_next_school_day(struct db *db, int64_t institution, const char *today, char out[16]);

/* The kitchen's order of `institution` for `date` (docs/moskvenok.md, "The kitchen's order"):
 * per class and complex kind, the students enrolled, those expected (enrolled, less those with
 * an absence notice or a medical note covering the date), those of them who eat that kind free,
 * and the paid estimate: the mean number of paid portions of that kind per school day bought
 * by the class's students over the last 10 days before `date` with sales at the school. A new
 * JSON object (docs/openapi.yaml), or NULL on a storage failure or when out of memory. */
json_t *meals_order(struct db *db, const struct mes_config *cfg, int64_t institution,
                    const char *date);

/* The order (as meals_order makes it) as CSV for a spreadsheet: UTF-8 with a byte order mark,
 * ';' between fields, CRLF lines, decimal commas; the heads and the kinds' names are
 * `text(key)`'s (the catalog's kitchen.csv.* and menu.kind.*). malloc'ed into *out, *len its
 * length; 0, or -1 when out of memory. */
int meals_order_csv(const json_t *order, const char *(*text)(const char *key), char **out,
                    size_t *len);

#endif
