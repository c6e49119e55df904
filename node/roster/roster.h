/*
 * The roster import: a region's schools, classes and people brought in from OneRoster CSV (1.1
 * and 1.2, docs/roster.md) or from the node's own Russian CSV template, checked, compared with
 * the database and applied in one write transaction.
 *
 * The flow: roster_model_new, then roster_read_oneroster (a directory) or roster_read_template
 * (one file) fill the model and the report's errors; roster_apply runs in a write transaction
 * (writer_call) and brings the database to the model: the source's ids are kept in
 * roster_ids, so an import of the same files changes nothing and a later export updates in
 * place. Any error refuses the whole import unless skip_invalid (the bad rows and those that
 * depend on them are left out). A dry run is the same apply rolled back.
 *
 * Load: a whole region (1.25 million people) in one model: every row's strings live in the
 * files' buffers (parsed in place), lookups are hash tables, and the apply prepares each
 * statement once.
 */
#ifndef MES_ROSTER_H
#define MES_ROSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct mes_config;
struct writer;

/* ---- CSV (RFC 4180) --------------------------------------------------------------------------
 * Quoted fields, doubled quotes, line breaks inside quotes, CRLF or LF, a comma or a semicolon
 * as separator. The reader works in place on a buffer it owns. */

enum roster_encoding {
    ROSTER_UTF8,
    ROSTER_UTF8_BOM,
    ROSTER_CP1251, /* not UTF-8: converted from Windows-1251 */
};

struct roster_csv {
    char *buf; /* the whole text, UTF-8, NUL-terminated (owned) */
    size_t len;
    size_t pos;
    long line; /* the line the next record starts on (1-based) */
    char sep;  /* ',' or ';' */
    enum roster_encoding encoding;
    char **fields; /* the current record's fields (pointers into buf) */
    int nfields, capfields;
};

/* Takes `data` (malloc'ed, `len` bytes; owned from now on, also on failure): strips a UTF-8
 * byte order mark, converts text that is not UTF-8 from Windows-1251 (csv->encoding says so).
 * `sep` 0 sniffs ';' or ',' from the first line. 0, or -1 when the text is neither (code
 * "encoding") or out of memory. */
int roster_csv_open(struct roster_csv *csv, char *data, size_t len, char sep);
/* The next record into csv->fields / csv->nfields; *line is the line it starts on. 1 for a
 * record, 0 at the end, -1 on a malformed one (an unclosed quote, text after a closing quote:
 * *code says which; the reader goes on at the next line). Empty lines are skipped. */
int roster_csv_next(struct roster_csv *csv, long *line, const char **code);
void roster_csv_close(struct roster_csv *csv);

/* ---- The report --------------------------------------------------------------------------- */

enum roster_kind {
    RK_MUNICIPALITIES,
    RK_SCHOOLS,
    RK_YEARS,
    RK_CLASSES,
    RK_STUDENTS,
    RK_GUARDIANS,
    RK_STAFF,
    RK_ENROLMENTS,
    RK_ASSIGNMENTS,
    RK_GUARDIAN_LINKS,
    RK_ACCOUNTS,
    RK_COUNT
};
extern const char *const roster_kind_names[RK_COUNT]; /* "municipalities", ... */

struct roster_count {
    long added, updated, moved, left;
};

/* One error: where (file and line; line 0 for the whole file), a stable code and up to two
 * parameters (an id, the value refused). */
struct roster_error {
    char file[48];
    long line;
    const char *code; /* static */
    char id[96];
    char value[96];
};

#define ROSTER_MAX_ERRORS 5000 /* kept in full; more are counted */

struct roster_report {
    struct roster_count counts[RK_COUNT];
    struct roster_error *errors;
    size_t nerrors, cap;
    long errors_total;    /* every error, also those past ROSTER_MAX_ERRORS */
    char notices[8][160]; /* the files read as Windows-1251 (converted to UTF-8) */
    int nnotices;
};

/* Adds an error (strings may be NULL). */
void roster_error(struct roster_report *rep, const char *file, long line, const char *code,
                  const char *id, const char *value);
/* The English message for an error, as the CLI prints it. */
void roster_error_message(const struct roster_error *e, char *out, size_t size);
/* The report as JSON: {"counts": {kind: {added, updated, moved, left}}, "errors": [{file, line,
 * code, params: {id, value}, message}], "errors_total", "notices": [{file, code: "cp1251"}]}.
 * New reference. */
json_t *roster_report_json(const struct roster_report *rep);
/* Prints the report as text (counts, then every error as FILE:LINE: CODE: message). */
void roster_report_print(const struct roster_report *rep, FILE *out);
void roster_report_free(struct roster_report *rep);

/* ---- The model ---------------------------------------------------------------------------- */

struct roster_model; /* opaque: model.c */

typedef void (*roster_progress_fn)(const char *stage, long done, long total);

struct roster_options {
    bool skip_invalid;
    bool dry_run;                 /* roster_run: roll everything back */
    const struct mes_config *cfg; /* new years get the region's periods; may be NULL */
    const char *today;            /* "YYYY-MM-DD": enrolments begin and end on it; NULL: today */
    roster_progress_fn progress;  /* may be NULL */
    int64_t only_institution;     /* non-zero: the template may name this school only */
    const char *file_name;        /* an upload's template: its name in the errors */
};

struct roster_model *roster_model_new(void);
void roster_model_free(struct roster_model *m);

/* Loads what earlier imports left (roster_ids) and what the database holds that the model
 * refers to; call it before reading, inside a transaction on `db`. 0, or -1 (storage). */
int roster_load(struct roster_model *m, struct db *db);

/* Reads a OneRoster set from directory `dir` into the model, adding every error to `rep`.
 * 0 when read (errors or not), -1 when it cannot be read at all (also in `rep`). */
int roster_read_oneroster(struct roster_model *m, const char *dir, struct roster_report *rep,
                          const struct roster_options *opt);
/* The same for a set already in memory: `files` are n names ("users.csv") with their bytes
 * (the buffers are taken: owned and freed by the model). */
int roster_read_oneroster_mem(struct roster_model *m, int n, const char *const *names, char **data,
                              const size_t *lens, struct roster_report *rep,
                              const struct roster_options *opt);
/* Reads a OneRoster set zipped (its .csv entries by base name), as above. 0 or -1. */
int roster_read_zip(struct roster_model *m, const void *zip, size_t len, struct roster_report *rep,
                    const struct roster_options *opt);
/* Reads the Russian CSV template (docs/roster.md): `data` taken as above; `name` is the file's
 * name for the errors. 0, or -1 as above. */
int roster_read_template(struct roster_model *m, struct db *db, const char *name, char *data,
                         size_t len, struct roster_report *rep, const struct roster_options *opt);

/* Brings the database to the model, inside the caller's write transaction, counting into
 * `rep`. Refuses (returns 1, nothing written) when `rep` holds errors and not skip_invalid
 * (a dry run goes on as with skip_invalid: its counts are those of the valid rows).
 * 0 when applied, 1 refused, -1 on a storage failure (the caller rolls back). */
int roster_apply(struct roster_model *m, struct db *db, struct roster_report *rep,
                 const struct roster_options *opt);

/* An import from start to end: the model loaded, `format` ("oneroster": a directory, or
 * "csv": the template's file) read from `path`, applied through the writer (writer_call:
 * `w` NULL for a command run while the node is stopped), rolled back when opt->dry_run or on
 * any error without skip_invalid. The report is filled in any case. Returns 0 when applied
 * (or a dry run found nothing wrong), 1 when there were errors (with skip_invalid the rest was
 * applied), -1 when it could not run (storage, memory: in the report's last error or logged). */
int roster_run(struct writer *w, struct db *db, const char *format, const char *path,
               const struct roster_options *opt, struct roster_report *rep);

/* An upload's import in the caller's write transaction (the HTTP routes, on the writer):
 * `data` is a zip of a OneRoster set when `format` is "oneroster", else the template's CSV
 * (copied: the caller keeps its bytes). With opt->dry_run everything is rolled back to a
 * savepoint; the report is filled in any case. 0 applied (or nothing wrong), 1 errors
 * (without skip_invalid nothing was written), -1 a storage failure. */
int roster_import_upload(struct db *db, const char *format, const void *data, size_t len,
                         const struct roster_options *opt, struct roster_report *rep);

/* Reads a whole file into memory (malloc'ed, NUL-terminated). NULL when it cannot. */
char *roster_slurp(const char *path, size_t *len);

#endif
