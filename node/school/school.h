/*
 * School structure: municipalities, institutions, academic years and periods, subjects,
 * classes and groups, staff, teaching assignments, enrollments, guardians.
 * Schema: school.sql beside this file. Routes: school.c (school_routes).
 */
#ifndef MES_SCHOOL_H
#define MES_SCHOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "db.h"
#include "refs.h" /* the JSON fragments of people, classes and schools */

/* Adds the configuration's regional subjects (idempotent). 0 or -1 with err. Runs in the
 * caller's transaction. */
int school_seed_subjects(struct db *db, const struct mes_config *cfg, char *err, size_t errlen);

/* Creates the academic year containing `when` ("2026/2027", 1 September to 31 August) with
 * the periods of the configured system, unless it exists. Returns its id or -1 with err. */
int64_t school_ensure_year(struct db *db, const struct mes_config *cfg, time_t when, char *err,
                           size_t errlen);

/* Creates a year named "YYYY/YYYY+1" starting in `first_year`, with the configured periods.
 * Returns its id, 0 when it already exists, or -1 with err. */
int64_t school_create_year(struct db *db, const struct mes_config *cfg, int first_year, char *err,
                           size_t errlen);

/* Inserts a person; birth_date may be NULL. Returns the id or -1 (see db_errmsg). */
int64_t school_add_person(struct db *db, const char *last, const char *first, const char *middle,
                          const char *birth_date);

struct node;
/* `mesnode init` (bootstrap.c): the region's subjects, the current academic year and the
 * first region administrator. Refuses when an administrator exists. 0 or -1 with err. */
int school_bootstrap(struct node *n, const char *login, const char *password, char *err,
                     size_t errlen);

/* Input checks: text of min..max characters (UTF-8 aware), and an ISO date YYYY-MM-DD. */
bool school_text_ok(const char *s, size_t min, size_t max);
bool school_date_ok(const char *s);

#endif
