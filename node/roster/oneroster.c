/*
 * OneRoster CSV (1.1 and 1.2) into the roster model, as docs/roster.md describes it: the
 * manifest says which files are bulk, delta or absent; each file's rows become entities whose
 * strings stay in the file's buffer; then roster_link resolves every reference (in these
 * files first, else to what an earlier import recorded) and checks it, adding each error with
 * its file and line. A row that is refused marks its entity bad; the rows that refer to it are
 * refused too (depends_on_invalid), so that --skip-invalid leaves out a consistent part.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles.h"
#include "roster/model.h"

static const char *const file_names[RF_COUNT] = {
    "orgs.csv",  "academicSessions.csv", "courses.csv",      "classes.csv", "users.csv",
    "roles.csv", "enrollments.csv",      "demographics.csv",
};
static const char *const manifest_keys[RF_COUNT] = {
    "file.orgs",  "file.academicSessions", "file.courses",      "file.classes", "file.users",
    "file.roles", "file.enrollments",      "file.demographics",
};

/* ---- a table: a CSV with its header --------------------------------------------------------- */

struct table {
    struct roster_csv csv;
    const char *name;
    char **header;
    int ncols;
    long line;
    struct roster_report *rep;
};

/* Opens `data` as a table (the header read). 0, or -1 after adding the error. */
static int table_open(struct table *t, const char *name, char *data, size_t len,
                      struct roster_report *rep)
{
    memset(t, 0, sizeof(*t));
    t->name = name;
    t->rep = rep;
    if (roster_csv_open(&t->csv, data, len, ',') != 0) {
        roster_error(rep, name, 0, "encoding", NULL, NULL);
        return -1;
    }
    if (t->csv.encoding == ROSTER_CP1251 && rep->nnotices < 8)
        snprintf(rep->notices[rep->nnotices++], sizeof(rep->notices[0]), "%s", name);
    const char *code = NULL;
    int rc = roster_csv_next(&t->csv, &t->line, &code);
    if (rc <= 0) {
        roster_error(rep, name, rc < 0 ? t->line : 0, rc < 0 ? code : "empty", NULL, NULL);
        roster_csv_close(&t->csv);
        return -1;
    }
    t->ncols = t->csv.nfields;
    t->header = malloc((size_t)t->ncols * sizeof(char *));
    if (t->header == NULL) {
        roster_csv_close(&t->csv);
        return -1;
    }
    for (int i = 0; i < t->ncols; i++) {
        char *h = t->csv.fields[i];
        while (*h == ' ')
            h++;
        t->header[i] = h;
    }
    return 0;
}

/* The index of column `name`, or -1. */
static int table_col(const struct table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0)
            return i;
    return -1;
}

/* The next row with the header's width: 1, or 0 at the end. Rows of another width and
 * malformed ones are reported and skipped. */
static int table_next(struct table *t)
{
    for (;;) {
        const char *code = NULL;
        int rc = roster_csv_next(&t->csv, &t->line, &code);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            roster_error(t->rep, t->name, t->line, code, NULL, NULL);
            continue;
        }
        if (t->csv.nfields != t->ncols) {
            char a[16], b[16];
            snprintf(a, sizeof(a), "%d", t->ncols);
            snprintf(b, sizeof(b), "%d", t->csv.nfields);
            roster_error(t->rep, t->name, t->line, "row_width", a, b);
            continue;
        }
        return 1;
    }
}

static const char *F(const struct table *t, int col)
{
    return col >= 0 ? t->csv.fields[col] : "";
}

/* Keeps the table's buffer with the model (its strings are the entities'). */
static int table_keep(struct roster_model *m, struct table *t)
{
    free(t->header);
    t->header = NULL;
    return model_keep_csv(m, &t->csv);
}

/* Checks the columns a file needs; adds missing_column for each absent one. */
static bool table_has(struct table *t, const char *const *cols)
{
    bool ok = true;
    for (; *cols; cols++)
        if (table_col(t, *cols) < 0) {
            roster_error(t->rep, t->name, 1, "missing_column", *cols, NULL);
            ok = false;
        }
    return ok;
}

/* ---- rows ------------------------------------------------------------------------------------ */

static bool status_of(struct table *t, const char *sid, const char *s, bool *tbd)
{
    *tbd = strcmp(s, "tobedeleted") == 0;
    if (*tbd || s[0] == '\0' || strcmp(s, "active") == 0)
        return true;
    roster_error(t->rep, t->name, t->line, "bad_status", sid, s);
    return false;
}

/* A new entity for the row, or NULL after reporting (a bad or duplicate id). */
static struct ent *row_ent(struct roster_model *m, struct table *t, char kind, const char *sid,
                           const char *also, size_t size)
{
    if (sid[0] == '\0' || strlen(sid) > 255) {
        roster_error(t->rep, t->name, t->line, "bad_id", sid, NULL);
        return NULL;
    }
    bool dup = false;
    for (const char *k = also; k && *k; k++)
        if (*k != kind && ent_find(m, *k, sid) != NULL && !ent_find(m, *k, sid)->ghost)
            dup = true;
    struct ent *e = dup ? NULL : ent_add(m, kind, sid, size, &dup);
    if (dup) {
        roster_error(t->rep, t->name, t->line, "duplicate_id", sid, NULL);
        return NULL;
    }
    if (e == NULL) {
        roster_error(t->rep, t->name, t->line, "memory", NULL, NULL);
        return NULL;
    }
    e->file = t->name;
    e->line = t->line;
    return e;
}

static void read_orgs(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId", "name", "type", NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_st = table_col(t, "status"),
        c_name = table_col(t, "name"), c_type = table_col(t, "type"),
        c_ident = table_col(t, "identifier"), c_parent = table_col(t, "parentSourcedId");
    while (table_next(t)) {
        const char *type = F(t, c_type);
        char kind = strcmp(type, "district") == 0 ? E_DISTRICT
                    : strcmp(type, "school") == 0 ? E_SCHOOL
                                                  : E_OTHER_ORG;
        struct ent *e = row_ent(m, t, kind, F(t, c_id), "dso", sizeof(struct ent));
        if (e == NULL)
            continue;
        e->bad = !status_of(t, e->sid, F(t, c_st), &e->tbd);
        e->name = F(t, c_name);
        e->ident = F(t, c_ident);
        e->raw_parent = F(t, c_parent);
    }
}

static void read_sessions(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId", "title", "type", "startDate", "endDate", NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_st = table_col(t, "status"),
        c_title = table_col(t, "title"), c_type = table_col(t, "type"),
        c_start = table_col(t, "startDate"), c_end = table_col(t, "endDate"),
        c_parent = table_col(t, "parentSourcedId");
    while (table_next(t)) {
        char kind = strcmp(F(t, c_type), "schoolYear") == 0 ? E_YEAR : E_TERM;
        struct ent *e = row_ent(m, t, kind, F(t, c_id), "yt", sizeof(struct ent));
        if (e == NULL)
            continue;
        e->bad = !status_of(t, e->sid, F(t, c_st), &e->tbd);
        e->name = F(t, c_title);
        e->start = F(t, c_start);
        e->end = F(t, c_end);
        e->raw_parent = F(t, c_parent);
        e->type = F(t, c_type);
    }
}

static void read_courses(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId", "title", NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_st = table_col(t, "status"),
        c_title = table_col(t, "title"), c_org = table_col(t, "orgSourcedId"),
        c_subj = table_col(t, "subjectCodes");
    while (table_next(t)) {
        struct ent *e = row_ent(m, t, E_COURSE, F(t, c_id), NULL, sizeof(struct ent));
        if (e == NULL)
            continue;
        e->bad = !status_of(t, e->sid, F(t, c_st), &e->tbd);
        e->name = F(t, c_title);
        e->raw_school = F(t, c_org);
        e->raw_subject = F(t, c_subj);
    }
}

static void read_classes(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId",       "title",          "classType",
                                       "schoolSourcedId", "termSourcedIds", NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_st = table_col(t, "status"),
        c_title = table_col(t, "title"), c_grades = table_col(t, "grades"),
        c_course = table_col(t, "courseSourcedId"), c_code = table_col(t, "classCode"),
        c_type = table_col(t, "classType"), c_school = table_col(t, "schoolSourcedId"),
        c_terms = table_col(t, "termSourcedIds"), c_subj = table_col(t, "subjectCodes");
    while (table_next(t)) {
        char kind = strcmp(F(t, c_type), "homeroom") == 0 ? E_CLASS : E_SECTION;
        struct ent *e = row_ent(m, t, kind, F(t, c_id), "hx", sizeof(struct ent));
        if (e == NULL)
            continue;
        e->bad = !status_of(t, e->sid, F(t, c_st), &e->tbd);
        e->name = F(t, c_title);
        e->raw_grades = F(t, c_grades);
        e->raw_course = F(t, c_course);
        e->code = F(t, c_code);
        e->raw_school = F(t, c_school);
        e->raw_term = F(t, c_terms);
        e->raw_subject = F(t, c_subj);
        e->type = F(t, c_type);
    }
}

static void read_users(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId", "givenName", "familyName", NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_st = table_col(t, "status"),
        c_orgs = table_col(t, "orgSourcedIds"), c_porg = table_col(t, "primaryOrgSourcedId"),
        c_role = table_col(t, "role"), c_given = table_col(t, "givenName"),
        c_family = table_col(t, "familyName"), c_middle = table_col(t, "middleName"),
        c_email = table_col(t, "email"), c_phone = table_col(t, "phone"),
        c_sms = table_col(t, "sms"), c_agents = table_col(t, "agentSourcedIds");
    if (c_role < 0)
        m->version = 12;
    while (table_next(t)) {
        struct user *u =
            (struct user *)row_ent(m, t, E_USER, F(t, c_id), NULL, sizeof(struct user));
        if (u == NULL)
            continue;
        u->e.bad = !status_of(t, u->e.sid, F(t, c_st), &u->e.tbd);
        u->given = F(t, c_given);
        u->family = F(t, c_family);
        u->middle = F(t, c_middle);
        u->email = F(t, c_email);
        u->phone = F(t, c_phone)[0] ? F(t, c_phone) : F(t, c_sms);
        u->raw_orgs = c_orgs >= 0 ? F(t, c_orgs) : F(t, c_porg);
        u->raw_role = F(t, c_role);
        u->raw_agents = F(t, c_agents);
        u->birth = "";
        u->sex = "";
    }
}

/* 1.2's roles.csv: a user's role and schools. The primary role wins; every row's school is
 * one of the user's. */
static void read_roles(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"userSourcedId", "role", "orgSourcedId", NULL};
    if (!table_has(t, need))
        return;
    int c_user = table_col(t, "userSourcedId"), c_st = table_col(t, "status"),
        c_type = table_col(t, "roleType"), c_role = table_col(t, "role"),
        c_org = table_col(t, "orgSourcedId");
    while (table_next(t)) {
        if (strcmp(F(t, c_st), "tobedeleted") == 0)
            continue;
        struct ent *e = smap_get(&m->ents, ent_key(m, E_USER, F(t, c_user)));
        if (e == NULL) {
            roster_error(t->rep, t->name, t->line, "unknown_user", F(t, c_user), F(t, c_user));
            continue;
        }
        struct user *u = (struct user *)e;
        if (u->raw_role[0] == '\0' || strcmp(F(t, c_type), "primary") == 0)
            u->raw_role = F(t, c_role);
        const char *org = F(t, c_org);
        if (org[0]) {
            if (u->raw_orgs[0] == '\0')
                u->raw_orgs = org;
            else {
                char *j = arena_alloc(m, strlen(u->raw_orgs) + strlen(org) + 2);
                if (j != NULL) {
                    sprintf(j, "%s,%s", u->raw_orgs, org);
                    u->raw_orgs = j;
                }
            }
        }
    }
}

static void read_demographics(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId", NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_birth = table_col(t, "birthDate"),
        c_sex = table_col(t, "sex");
    while (table_next(t)) {
        struct ent *e = smap_get(&m->ents, ent_key(m, E_USER, F(t, c_id)));
        if (e == NULL) {
            if (smap_get(&m->ids, ent_key(m, E_USER, F(t, c_id))) == NULL)
                roster_error(t->rep, t->name, t->line, "unknown_user", F(t, c_id), F(t, c_id));
            continue; /* a person imported before and not in users.csv: kept as is */
        }
        struct user *u = (struct user *)e;
        const char *birth = F(t, c_birth);
        if (birth[0] && !roster_date_ok(birth)) {
            roster_error(t->rep, t->name, t->line, "bad_date", u->e.sid, birth);
            u->e.bad = true;
        }
        u->birth = birth;
        u->sex = F(t, c_sex);
    }
}

static void read_enrollments(struct roster_model *m, struct table *t)
{
    static const char *const need[] = {"sourcedId",     "classSourcedId", "schoolSourcedId",
                                       "userSourcedId", "role",           NULL};
    if (!table_has(t, need))
        return;
    int c_id = table_col(t, "sourcedId"), c_st = table_col(t, "status"),
        c_class = table_col(t, "classSourcedId"), c_school = table_col(t, "schoolSourcedId"),
        c_user = table_col(t, "userSourcedId"), c_role = table_col(t, "role"),
        c_primary = table_col(t, "primary"), c_begin = table_col(t, "beginDate"),
        c_end = table_col(t, "endDate");
    while (table_next(t)) {
        if (m->nenrols == m->capenrols) {
            size_t cap = m->capenrols ? m->capenrols * 2 : 1024;
            struct enrol *g = realloc(m->enrols, cap * sizeof(*g));
            if (g == NULL) {
                roster_error(t->rep, t->name, t->line, "memory", NULL, NULL);
                return;
            }
            m->enrols = g, m->capenrols = cap;
        }
        struct enrol *en = &m->enrols[m->nenrols++];
        memset(en, 0, sizeof(*en));
        en->sid = F(t, c_id);
        en->file = t->name;
        en->line = t->line;
        en->bad = !status_of(t, en->sid, F(t, c_st), &en->tbd);
        en->raw_class = F(t, c_class);
        en->raw_school = F(t, c_school);
        en->raw_user = F(t, c_user);
        en->raw_role = F(t, c_role);
        en->raw_primary = F(t, c_primary);
        en->begin = F(t, c_begin);
        en->end = F(t, c_end);
    }
}

/* ---- the set ----------------------------------------------------------------------------------
 */

static void read_manifest(struct roster_model *m, struct table *t)
{
    int c_name = table_col(t, "propertyName"), c_value = table_col(t, "value");
    if (c_name < 0 || c_value < 0) {
        roster_error(t->rep, t->name, 1, "missing_column", c_name < 0 ? "propertyName" : "value",
                     NULL);
        return;
    }
    while (table_next(t)) {
        const char *k = F(t, c_name), *v = F(t, c_value);
        if (strcmp(k, "oneroster.version") == 0) {
            if (strcmp(v, "1.1") == 0)
                m->version = 11;
            else if (strcmp(v, "1.2") == 0)
                m->version = 12;
            else
                roster_error(t->rep, t->name, t->line, "bad_version", k, v);
            continue;
        }
        for (int f = 0; f < RF_COUNT; f++)
            if (strcmp(k, manifest_keys[f]) == 0) {
                if (strcmp(v, "bulk") == 0)
                    m->mode[f] = FM_BULK;
                else if (strcmp(v, "delta") == 0)
                    m->mode[f] = FM_DELTA;
                else if (strcmp(v, "absent") == 0)
                    m->mode[f] = FM_ABSENT;
                else
                    roster_error(t->rep, t->name, t->line, "bad_manifest", k, v);
            }
    }
}

int roster_read_oneroster_mem(struct roster_model *m, int n, const char *const *names, char **data,
                              const size_t *lens, struct roster_report *rep,
                              const struct roster_options *opt)
{
    if (opt && opt->today)
        snprintf(m->today, sizeof(m->today), "%s", opt->today);
    int manifest = -1, at[RF_COUNT];
    for (int f = 0; f < RF_COUNT; f++)
        at[f] = -1;
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(names[i], '/') ? strrchr(names[i], '/') + 1 : names[i];
        if (strcmp(base, "manifest.csv") == 0)
            manifest = i;
        for (int f = 0; f < RF_COUNT; f++)
            if (strcmp(base, file_names[f]) == 0)
                at[f] = i;
    }
    struct table t;
    if (manifest < 0) {
        roster_error(rep, "manifest.csv", 0, "missing_file", "manifest.csv", NULL);
        for (int f = 0; f < RF_COUNT; f++)
            m->mode[f] = at[f] >= 0 ? FM_BULK : FM_ABSENT;
    } else {
        if (table_open(&t, "manifest.csv", data[manifest], lens[manifest], rep) == 0) {
            read_manifest(m, &t);
            free(t.header);
            roster_csv_close(&t.csv);
        }
        data[manifest] = NULL;
    }
    static void (*const readers[RF_COUNT])(struct roster_model *, struct table *) = {
        read_orgs,  read_sessions, read_courses,     read_classes,
        read_users, read_roles,    read_enrollments, read_demographics,
    };
    for (int f = 0; f < RF_COUNT; f++) {
        if (m->mode[f] == FM_ABSENT)
            continue;
        if (at[f] < 0) {
            roster_error(rep, file_names[f], 0, "missing_file", file_names[f], NULL);
            m->mode[f] = FM_ABSENT;
            continue;
        }
        if (table_open(&t, file_names[f], data[at[f]], lens[at[f]], rep) != 0) {
            data[at[f]] = NULL;
            m->mode[f] = FM_ABSENT; /* unreadable: nothing of it, and no leavers */
            continue;
        }
        data[at[f]] = NULL;
        if (opt && opt->progress)
            opt->progress("reading", f, RF_COUNT);
        readers[f](m, &t);
        if (table_keep(m, &t) != 0) {
            roster_error(rep, file_names[f], 0, "memory", NULL, NULL);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) { /* files of the set the node does not read */
        free(data[i]);
        data[i] = NULL;
    }
    if (opt && opt->progress)
        opt->progress("reading", RF_COUNT, RF_COUNT);
    roster_link(m, rep);
    return 0;
}

int roster_read_oneroster(struct roster_model *m, const char *dir, struct roster_report *rep,
                          const struct roster_options *opt)
{
    static const char *const all[] = {
        "manifest.csv", "orgs.csv",  "academicSessions.csv", "courses.csv",      "classes.csv",
        "users.csv",    "roles.csv", "enrollments.csv",      "demographics.csv",
    };
    enum { N = sizeof(all) / sizeof(all[0]) };
    const char *names[N];
    char *data[N];
    size_t lens[N];
    int n = 0;
    for (int i = 0; i < N; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, all[i]);
        size_t len = 0;
        char *d = roster_slurp(path, &len);
        if (d == NULL)
            continue;
        names[n] = all[i];
        data[n] = d;
        lens[n] = len;
        n++;
    }
    if (n == 0) {
        roster_error(rep, dir, 0, "unreadable", dir, NULL);
        return -1;
    }
    return roster_read_oneroster_mem(m, n, names, data, lens, rep, opt);
}

/* ---- linking -------------------------------------------------------------------------------- */

static struct ent *find_org(struct roster_model *m, const char *sid)
{
    struct ent *e = ent_find(m, E_SCHOOL, sid);
    if (e == NULL)
        e = ent_find(m, E_DISTRICT, sid);
    if (e == NULL)
        e = ent_find(m, E_OTHER_ORG, sid);
    return e;
}

/* The year of a session: itself, or up its terms' parents. */
static struct ent *year_of(struct roster_model *m, const char *sid)
{
    for (int depth = 0; depth < 6 && sid && sid[0]; depth++) {
        struct ent *y = ent_find(m, E_YEAR, sid);
        if (y != NULL)
            return y;
        struct ent *t = ent_find(m, E_TERM, sid);
        if (t == NULL)
            return NULL;
        if (t->ghost) { /* an earlier import recorded the term's year */
            if (t->parent == NULL && (t->parent = arena_alloc(m, sizeof(struct ent))) != NULL) {
                t->parent->kind = E_YEAR;
                t->parent->ghost = true;
                t->parent->sid = t->sid;
                t->parent->local = t->local;
            }
            return t->parent;
        }
        if (t->parent != NULL)
            return t->parent;
        sid = t->raw_parent;
    }
    return NULL;
}

/* The first item of a comma-separated list into `out` (trimmed). */
static void first_item(const char *list, char *out, size_t size)
{
    while (*list == ' ')
        list++;
    size_t n = strcspn(list, ",");
    while (n > 0 && list[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, list, n);
    out[n] = '\0';
}

static void err_ent(struct roster_report *rep, struct ent *e, const char *code, const char *v)
{
    roster_error(rep, e->file, e->line, code, e->sid, v);
    e->bad = true;
}

/* A reference that resolved: refused when what it names was refused. */
static bool ref_ok(struct roster_report *rep, struct ent *e, struct ent *ref)
{
    /* a row tobedeleted is not there to refer to either */
    if (ref != NULL && (ref->bad || ref->tbd) && !e->bad) {
        err_ent(rep, e, "depends_on_invalid", ref->sid);
        return false;
    }
    return ref != NULL && !ref->bad && !ref->tbd;
}

int64_t roster_subject(struct roster_model *m, const char *codes, const char *title)
{
    char code[64];
    first_item(codes, code, sizeof(code));
    if (code[0]) {
        void *v = smap_get(&m->subjects, code);
        if (v != NULL)
            return (int64_t)(intptr_t)v;
    }
    if (title && title[0]) {
        char key[300];
        snprintf(key, sizeof(key), "=%s", title);
        void *v = smap_get(&m->subjects, key);
        if (v != NULL)
            return (int64_t)(intptr_t)v;
    }
    return 0;
}

uint32_t roster_role(const char *s)
{
    static const struct {
        const char *name;
        uint32_t role;
    } map[] = {
        {"student", ROLE_STUDENT},        {"teacher", ROLE_TEACHER},
        {"aide", ROLE_TEACHER},           {"proctor", ROLE_TEACHER},
        {"counselor", ROLE_TEACHER},      {"administrator", ROLE_SCHOOL_ADMIN},
        {"principal", ROLE_SCHOOL_ADMIN}, {"siteAdministrator", ROLE_SCHOOL_ADMIN},
        {"guardian", ROLE_PARENT},        {"parent", ROLE_PARENT},
        {"relative", ROLE_PARENT},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].role;
    return 0;
}

/* The key a homeroom is found by from its scheduled classes: school, year and classCode as
 * the rows write them (so that a refused homeroom is still found, and its sections refused
 * as depending on it). */
static char *homeroom_key(struct roster_model *m, struct ent *e, const char *code)
{
    char term[256];
    first_item(e->raw_term, term, sizeof(term));
    struct ent *y = year_of(m, term);
    char key[800];
    snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", e->raw_school, y ? y->sid : term, code);
    return arena_strdup(m, key);
}

static void link_class(struct roster_model *m, struct roster_report *rep, struct ent *e,
                       struct smap *homerooms)
{
    e->school = ent_find(m, E_SCHOOL, e->raw_school);
    if (e->school == NULL) {
        err_ent(rep, e, "unknown_school", e->raw_school);
        return;
    }
    if (!ref_ok(rep, e, e->school))
        return;
    char term[256];
    first_item(e->raw_term, term, sizeof(term));
    e->parent = year_of(m, term);
    if (e->parent == NULL) {
        err_ent(rep, e, "unknown_session", term);
        return;
    }
    if (!ref_ok(rep, e, e->parent))
        return;
    if (e->kind == E_CLASS) {
        const char *code = e->code[0] ? e->code : e->name;
        char g[16];
        first_item(e->raw_grades, g, sizeof(g));
        e->grade = g[0] ? atoi(g) : atoi(code);
        if (e->grade < 1 || e->grade > 11) {
            err_ent(rep, e, "bad_grade", g[0] ? g : code);
            return;
        }
        const char *l = code;
        while (*l && (isdigit((unsigned char)*l) || *l == ' ' || *l == '-'))
            l++;
        char *letter = arena_strdup(m, l);
        if (letter == NULL)
            return;
        for (size_t n = strlen(letter); n > 0 && letter[n - 1] == ' '; n--)
            letter[n - 1] = '\0';
        e->letter = letter;
        return;
    }
    /* a scheduled class: a subject of a homeroom */
    struct ent *course = e->raw_course[0] ? ent_find(m, E_COURSE, e->raw_course) : NULL;
    if (e->raw_course[0] && course == NULL) {
        err_ent(rep, e, "unknown_course", e->raw_course);
        return;
    }
    if (course != NULL && !ref_ok(rep, e, course))
        return;
    if (e->subject_id == 0) /* the template knows it already */
        e->subject_id = roster_subject(m, e->raw_subject, NULL);
    if (e->subject_id == 0 && course != NULL)
        e->subject_id = course->subject_id;
    if (e->subject_id == 0) {
        err_ent(rep, e, "unknown_subject", e->raw_subject[0] ? e->raw_subject : e->name);
        return;
    }
    char *key = homeroom_key(m, e, e->code);
    struct ent *h = key ? smap_get(homerooms, key) : NULL;
    if (h == NULL && e->school->local && e->parent->local) {
        /* a homeroom of an earlier import, in the database */
        const char *l = e->code;
        int grade = atoi(l);
        while (*l && (isdigit((unsigned char)*l) || *l == ' ' || *l == '-'))
            l++;
        char dbkey[400];
        snprintf(dbkey, sizeof(dbkey), "%lld:%lld:%d:%s", (long long)e->school->local,
                 (long long)e->parent->local, grade, l);
        void *id = smap_get(&m->classes_db, dbkey);
        if (id != NULL && (h = arena_alloc(m, sizeof(struct ent))) != NULL) {
            h->kind = E_CLASS;
            h->ghost = true;
            h->sid = "";
            h->local = (int64_t)(intptr_t)id;
            h->extra = e->school->local;
        }
    }
    if (h == NULL) {
        err_ent(rep, e, "unknown_homeroom", e->code);
        return;
    }
    if (ref_ok(rep, e, h))
        e->parent = h; /* the section's parent is now its homeroom */
}

static void link_user(struct roster_model *m, struct roster_report *rep, struct user *u)
{
    u->role = roster_role(u->raw_role);
    if (u->role == 0) {
        err_ent(rep, &u->e, "unknown_role", u->raw_role);
        return;
    }
    if (u->family[0] == '\0' || u->given[0] == '\0') {
        err_ent(rep, &u->e, "missing_value", u->family[0] ? "givenName" : "familyName");
        return;
    }
    /* the schools */
    int cap = 0;
    for (const char *p = u->raw_orgs; *p; p++)
        cap += *p == ',';
    u->orgs = arena_alloc(m, (size_t)(cap + 1) * sizeof(*u->orgs));
    if (u->orgs == NULL)
        return;
    const char *p = u->raw_orgs;
    while (*p) {
        char sid[256];
        first_item(p, sid, sizeof(sid));
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
        if (sid[0] == '\0')
            continue;
        struct ent *o = find_org(m, sid);
        if (o == NULL) {
            err_ent(rep, &u->e, "unknown_org", sid);
            return;
        }
        if (!ref_ok(rep, &u->e, o))
            return;
        bool again = false;
        for (int i = 0; i < u->norgs; i++)
            again |= u->orgs[i] == o;
        if (o->kind == E_SCHOOL && !again && u->norgs <= cap)
            u->orgs[u->norgs++] = o;
    }
}

static void link_agents(struct roster_model *m, struct roster_report *rep, struct user *u)
{
    int cap = 1;
    for (const char *p = u->raw_agents; *p; p++)
        cap += *p == ',';
    u->agents = arena_alloc(m, (size_t)cap * sizeof(*u->agents));
    if (u->agents == NULL)
        return;
    const char *p = u->raw_agents;
    while (*p) {
        char sid[256];
        first_item(p, sid, sizeof(sid));
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
        if (sid[0] == '\0')
            continue;
        struct user *a = (struct user *)ent_find(m, E_USER, sid);
        if (a == NULL) {
            err_ent(rep, &u->e, "agent_not_user", sid);
            return;
        }
        if (a->e.bad)
            continue; /* refused on its own row; the link goes with it */
        bool pair = (u->role == ROLE_STUDENT && a->role == ROLE_PARENT) ||
                    (u->role == ROLE_PARENT && a->role == ROLE_STUDENT);
        if (!pair) {
            err_ent(rep, &u->e, "agent_role", sid);
            return;
        }
        if (u->nagents < cap)
            u->agents[u->nagents++] = a;
    }
}

static void link_enrol(struct roster_model *m, struct roster_report *rep, struct enrol *en,
                       const char *today)
{
#define EN_ERR(code, v)                                                                            \
    do {                                                                                           \
        roster_error(rep, en->file, en->line, code, en->sid, v);                                   \
        en->bad = true;                                                                            \
    } while (0)
    if (en->bad)
        return;
    en->user = (struct user *)ent_find(m, E_USER, en->raw_user);
    if (en->user == NULL) {
        EN_ERR("unknown_user", en->raw_user);
        return;
    }
    en->user->enrol_seen = true;
    en->cls = ent_find(m, E_CLASS, en->raw_class);
    if (en->cls == NULL)
        en->cls = ent_find(m, E_SECTION, en->raw_class);
    if (en->cls == NULL) {
        EN_ERR("unknown_class", en->raw_class);
        en->user->enrol_bad = true;
        return;
    }
    en->school = ent_find(m, E_SCHOOL, en->raw_school);
    if (en->school == NULL) {
        EN_ERR("unknown_school", en->raw_school);
        en->user->enrol_bad = true;
        return;
    }
    struct ent *refs[] = {&en->user->e, en->cls, en->school};
    for (int i = 0; i < 3; i++)
        if (refs[i]->bad) {
            EN_ERR("depends_on_invalid", refs[i]->sid);
            en->user->enrol_bad = true;
            return;
        }
    bool same =
        en->cls->ghost ? en->cls->extra == en->school->local : en->cls->school == en->school;
    if (!same) {
        EN_ERR("class_other_school", en->raw_class);
        en->user->enrol_bad = true;
        return;
    }
    if ((en->begin[0] && !roster_date_ok(en->begin)) || (en->end[0] && !roster_date_ok(en->end))) {
        EN_ERR("bad_date", en->begin[0] && !roster_date_ok(en->begin) ? en->begin : en->end);
        en->user->enrol_bad = true;
        return;
    }
    en->role = roster_role(en->raw_role);
    if (en->role == 0) {
        EN_ERR("unknown_role", en->raw_role);
        return;
    }
    en->primary = strcmp(en->raw_primary, "true") == 0 || strcmp(en->raw_primary, "1") == 0;
    bool ended = en->end[0] && strcmp(en->end, today) < 0;
    if (en->role == ROLE_STUDENT && en->cls->kind == E_CLASS && !en->tbd && !ended) {
        struct user *u = en->user;
        if (u->homeroom != NULL && u->homeroom != en->cls) {
            EN_ERR("two_homerooms", u->e.sid);
            u->enrol_bad = true;
            return;
        }
        u->homeroom = en->cls;
        u->enrolled_on = en->begin[0] ? en->begin : today;
    }
#undef EN_ERR
}

void roster_link(struct roster_model *m, struct roster_report *rep)
{
    struct smap homerooms = {0};
    /* orgs, sessions and courses first, then homerooms, then the scheduled classes */
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < m->nlist; i++) {
            struct ent *e = m->list[i];
            int want = e->kind == E_CLASS ? 1 : e->kind == E_SECTION ? 2 : 0;
            if (e->ghost || want != pass)
                continue;
            if (e->kind == E_CLASS) { /* found by its sections, even when refused */
                char *k = homeroom_key(m, e, e->code[0] ? e->code : e->name);
                if (k != NULL)
                    smap_put(&homerooms, k, e);
            }
            if (e->bad)
                continue;
            switch (e->kind) {
            case E_DISTRICT:
                if (e->name[0] == '\0')
                    err_ent(rep, e, "missing_value", "name");
                break;
            case E_SCHOOL:
                if (e->name[0] == '\0') {
                    err_ent(rep, e, "missing_value", "name");
                    break;
                }
                e->parent = ent_find(m, E_DISTRICT, e->raw_parent);
                if (e->parent == NULL && !(e->ids && e->raw_parent[0] == '\0'))
                    err_ent(rep, e, "unknown_org", e->raw_parent);
                else if (e->parent)
                    ref_ok(rep, e, e->parent);
                break;
            case E_YEAR:
                if (!roster_date_ok(e->start) || !roster_date_ok(e->end))
                    err_ent(rep, e, "bad_date", roster_date_ok(e->start) ? e->end : e->start);
                else if (strcmp(e->start, e->end) >= 0)
                    err_ent(rep, e, "bad_dates", e->start);
                else if (e->name[0] == '\0')
                    err_ent(rep, e, "missing_value", "title");
                break;
            case E_TERM: {
                struct ent *y = year_of(m, e->raw_parent);
                if (y == NULL)
                    err_ent(rep, e, "unknown_session", e->raw_parent);
                else if (ref_ok(rep, e, y))
                    e->parent = y;
                break;
            }
            case E_COURSE:
                e->subject_id = roster_subject(m, e->raw_subject, e->name);
                if (e->subject_id == 0)
                    err_ent(rep, e, "unknown_subject",
                            e->raw_subject[0] ? e->raw_subject : e->name);
                break;
            case E_CLASS:
            case E_SECTION:
                link_class(m, rep, e, &homerooms);
                break;
            default:
                break;
            }
        }
    smap_free(&homerooms);
    for (size_t i = 0; i < m->nusers; i++)
        if (!m->users[i]->e.bad)
            link_user(m, rep, m->users[i]);
    for (size_t i = 0; i < m->nusers; i++)
        if (!m->users[i]->e.bad)
            link_agents(m, rep, m->users[i]);
    for (size_t i = 0; i < m->nenrols; i++)
        link_enrol(m, rep, &m->enrols[i], m->today);
}
