/*
 * School structure: municipalities, institutions, academic years and periods, subjects,
 * classes and groups, staff, teaching assignments, enrollments, guardians.
 * Schema: school.sql beside this file. Routes, one file per entity: institutions.c
 * (municipalities, institutions, academic years, subjects), classes.c (classes, groups,
 * assignments, enrollments), persons.c (persons, staff, guardians, students); school.c holds
 * what they share, seed.c the configuration's subjects and years.
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

/* ---- Days off and periods of a year (years.c; schema holidays.sql) ---- */

/* The date (YYYY-MM-DD) a configured day off, month-day, falls on in the year running from
 * starts_on to ends_on: in the year's first calendar year when that is inside it, else in
 * its last. False when neither is (or the day does not exist that year, as 29 February). */
bool school_holiday_date(int month, int day, const char *starts_on, const char *ends_on,
                         char out[11]);

/* Makes year `year_id`'s list of days off from the configuration unless it was made. 0, or -1
 * (see db_errmsg). Runs in the caller's write transaction. */
int school_seed_holidays(struct db *db, const struct mes_config *cfg, int64_t year_id);

/* The school's storage_init: the regional subjects, and the days off of every year without a
 * list. 0 or -1 with err. */
int school_storage_init(struct db *db, const struct mes_config *cfg, char *err, size_t errlen);

/* Whether a period may run from `starts` to `ends` (dates already checked): NULL when it may,
 * else the error code: "period_order" (ends before it starts), "period_outside_year" (not
 * inside year_start..year_end), "period_overlap" (it does not start after prev_end, the end
 * of the period before it, or end before next_start, the start of the one after; either
 * NULL when there is none). */
const char *school_period_check(const char *year_start, const char *year_end, const char *prev_end,
                                const char *next_start, const char *starts, const char *ends);

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

/* ---- Shared by the school's route files (school.c) ---- */
struct req;

/* Audits a change of `kind/id` at `institution` with `detail` (stolen). 0, or -1 after
 * answering 500. */
int school_audit_or_respond(struct req *r, int64_t institution, const char *action,
                            const char *kind, int64_t id, json_t *detail);
/* Answers a failed insert or update of `what`: 400 for a reference to nothing, 409 for another
 * constraint, 500 otherwise. Returns the status. */
int school_reply_write_error(struct req *r, const char *what);
/* The institution of a class, or -1 (no such class) / -2 (storage failure). */
int64_t school_class_institution(struct req *r, int64_t class_id);
/* Whether the person works at the institution: 1 yes, 0 no, -1 storage failure. */
int school_is_staff(struct req *r, int64_t person, int64_t inst);
/* Appends to `o` under `key` the rows of `sql` (one :id parameter) made by `row` (each a new
 * reference). 0, or -1 on a storage failure. */
int school_add_list(struct req *r, json_t *o, const char *key, const char *sql, int64_t id,
                    json_t *(*row)(sqlite3_stmt *));

#endif
