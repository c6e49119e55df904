/*
 * An import as one job: the model loaded from the database, the files read and linked, and
 * the apply, all inside one write transaction (writer_call), so that what was compared is what
 * is written; a dry run is the same job rolled back.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "roster/model.h"
#include "writer.h"

struct job {
    const char *format, *path;
    const struct roster_options *opt;
    struct roster_report *rep;
    int result; /* 0 applied, 1 errors, -1 failed */
};

#define ROLL_BACK 7 /* the job's own "undo it": not a storage failure */

static int import_job(struct db *db, void *ctx)
{
    struct job *j = ctx;
    struct roster_model *m = roster_model_new();
    if (m == NULL) {
        j->result = -1;
        return ROLL_BACK;
    }
    int rc;
    if (roster_load(m, db) != 0) {
        roster_model_free(m);
        j->result = -1;
        return -1;
    }
    if (strcmp(j->format, "csv") == 0) {
        size_t len = 0;
        char *data = roster_slurp(j->path, &len);
        const char *base = strrchr(j->path, '/') ? strrchr(j->path, '/') + 1 : j->path;
        if (data == NULL) {
            roster_error(j->rep, base, 0, "unreadable", base, NULL);
            rc = -1;
        } else
            rc = roster_read_template(m, db, base, data, len, j->rep, j->opt);
    } else
        rc = roster_read_oneroster(m, j->path, j->rep, j->opt);
    if (rc != 0) {
        roster_model_free(m);
        j->result = 1;
        return ROLL_BACK;
    }
    rc = roster_apply(m, db, j->rep, j->opt);
    roster_model_free(m);
    if (rc < 0) {
        j->result = -1;
        return -1;
    }
    j->result = rc != 0 || j->rep->errors_total > 0 ? 1 : 0;
    if (rc != 0 || j->opt->dry_run)
        return ROLL_BACK;
    return 0;
}

int roster_run(struct writer *w, struct db *db, const char *format, const char *path,
               const struct roster_options *opt, struct roster_report *rep)
{
    struct job j = {.format = format, .path = path, .opt = opt, .rep = rep, .result = -1};
    int rc = writer_call(w, db, import_job, &j);
    if (rc != 0 && rc != ROLL_BACK) {
        log_error("roster import: the transaction failed");
        return -1;
    }
    return j.result;
}

int roster_import_upload(struct db *db, const char *format, const void *data, size_t len,
                         const struct roster_options *opt, struct roster_report *rep)
{
    if (opt->dry_run && db_exec(db, "SAVEPOINT roster_preview") != SQLITE_OK)
        return -1;
    struct roster_model *m = roster_model_new();
    int rc = m == NULL ? -1 : roster_load(m, db);
    if (rc == 0) {
        if (strcmp(format, "oneroster") == 0)
            rc = roster_read_zip(m, data, len, rep, opt) == 0 ? 0 : 1;
        else {
            char *copy = malloc(len + 1);
            if (copy == NULL)
                rc = -1;
            else {
                memcpy(copy, data, len);
                rc = roster_read_template(m, db, opt->file_name ? opt->file_name : "roster.csv",
                                          copy, len, rep, opt) == 0
                         ? 0
                         : 1;
            }
        }
    }
    if (rc == 0)
        rc = roster_apply(m, db, rep, opt);
    roster_model_free(m);
    if (rc == 0 && rep->errors_total > 0)
        rc = 1;
    if (opt->dry_run && (db_exec(db, "ROLLBACK TO roster_preview") != SQLITE_OK ||
                         db_exec(db, "RELEASE roster_preview") != SQLITE_OK))
        return -1;
    return rc;
}
