/*
 * The demo region (`mesnode demo`): three schools with classes, teachers, students, parents,
 * a medical worker, a canteen operator and administrators, and the fixed demo logins, all with
 * password "demo". «Школа № 1» is also «Москвёнок»'s showcase (demo/terminals.c).
 */
#ifndef MES_DEMO_H
#define MES_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;
struct mes_config;
struct node;

/* Fills an empty database with the demo region. Returns 1 when it created it, 0 when the
 * database already held data, -1 with err on failure (nothing written). */
int demo_populate(struct node *n, char *err, size_t errlen);

/* Fills an empty database with a synthetic region of the named scale ("demo", "small",
 * "medium", "dagestan"): the demo's schools and logins, plus generated schools, people,
 * timetables, lessons of every period begun, and marks, attendance and homework on the past
 * lessons. Every other person gets an account waiting for activation (accounts_add_inactive)
 * with the grants their records give: student, parent; teacher, class teacher and (directors)
 * school admin at their school. `progress` (may be NULL) is called now and then. Same returns as
 * demo_populate. */
int demo_generate(struct node *n, const char *scale,
                  void (*progress)(const char *stage, long done, long total), char *err,
                  size_t errlen);

/* The scales, one "  name  description" line each (static text). */
const char *demo_scales(void);

/* Adds the sample library (demo/library.c): items of every type across the main subjects,
 * written as by `teacher` and approved by `methodologist`. 0 or -1. */
struct db;
int demo_sample_library(struct db *db, const char *region_code, long long teacher,
                        long long methodologist);

/* Whether the node's database already holds a region (any account). */
bool demo_has_region(struct node *n);

/* Adds `count` synthetic approved library items to the region's database (mesnode gen
 * --library N): every type, the main subjects' topics, grades, origins and uses; the search
 * index is rebuilt once at the end. 0, or -1 with err. */
int demo_generate_library(struct node *n, long count, long long file_bytes,
                          void (*progress)(const char *stage, long done, long total), char *err,
                          size_t errlen);

/* Writes the region in the node's database as a OneRoster 1.1 CSV set into `dir` (created
 * when absent; files of the same names are replaced): manifest, orgs, academicSessions,
 * courses, classes, users, enrollments and demographics (demo/export.c says how the records
 * map). Rows are streamed from one read snapshot. 0, or -1 with err. */
int demo_export_oneroster(struct node *n, const char *dir,
                          void (*progress)(const char *stage, long done, long total), char *err,
                          size_t errlen);

/* «Москвёнок» in a generated region (demo/terminals.c): the device tokens made, to be written
 * out once the region is committed. */
struct demo_token {
    long long school;
    const char *scope; /* "passage" or "meals" (static) */
    char token[48];
};
struct demo_tokens {
    struct demo_token *items; /* malloc'ed */
    size_t n;
};
/* The files beside the database: "SCHOOL<TAB>SCOPE<TAB>TOKEN" and "CARD<TAB>SCHOOL" lines after
 * a '#' comment (what `mesnode terminal rush --tokens --cards` reads). */
#define DEMO_TOKENS_FILE "moskvenok-tokens.tsv"
#define DEMO_CARDS_FILE  "moskvenok-cards.tsv"

/* For every school from id `first_school` on: a card and a meal account for each student
 * enrolled there, with an opening balance (a ledger top-up the evening before `now`), a small
 * buffet, and a passage and a meals device token (their plain tokens in *out, to free). In the
 * caller's transaction. 0, or -1 on a storage failure. */
int demo_moskvenok(struct db *db, long long first_school, time_t now, struct demo_tokens *out);

/* «Москвёнок» at the demo's showcase school `school` (demo/terminals.c): cards, meal accounts,
 * a buffet, the complexes of this week and the next, its turnstile and buffet terminal, and the
 * last school day before `now` as they recorded it (passage, breakfasts, lunches, buffet
 * sales). In the caller's transaction, after the term's lessons and attendance. 0, or -1 on a
 * storage failure. */
int demo_moskvenok_showcase(struct db *db, const struct mes_config *cfg, int64_t school,
                            time_t now);

/* Writes DEMO_TOKENS_FILE and DEMO_CARDS_FILE into `data_dir` (mode 0600). 0, or -1 with err. */
int demo_moskvenok_files(struct db *db, const char *data_dir, long long first_school,
                         const struct demo_tokens *tokens, char *err, size_t errlen);

/* Prints the address and the demo logins to standard output. */
void demo_print_banner(struct node *n);

#endif
