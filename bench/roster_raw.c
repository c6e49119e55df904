/*
 * Benchmark baseline for the roster import (bench/import.sh): the rows of a OneRoster 1.1 CSV
 * set, as `mesnode gen --export-oneroster` writes it, inserted into the node's schema by plain
 * SQLite: prepared statements, one transaction, no checks beyond what the schema enforces.
 * What the node's import writes, this writes too: municipalities, schools, years, classes,
 * persons with birth dates, accounts (the node's made logins, no password), role grants, staff,
 * guardians (relation from the guardian's sex), enrolments, teaching assignments, class
 * teachers, and a map from every sourcedId to its local id (a table of its own here). The
 * database is a fresh one migrated by the node's own code, so triggers and indexes are the
 * node's. Prints the rows read and the time; the machine's limit for this work.
 *
 * Usage: roster_raw DBFILE DIR   (DBFILE must not exist)
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts/auth.h"
#include "config/config.h"
#include "db.h"
#include "log.h"

static sqlite3 *db;
static long rows_read;

static void die(const char *what)
{
    fprintf(stderr, "roster_raw: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

/* ---- a streaming CSV reader (RFC 4180: quoted fields may hold commas, quotes, newlines) ---- */

struct csv {
    FILE *f;
    char *buf;
    size_t cap, len;
    size_t off[64];
    const char *field[64];
    int n;
    char *names[64];
    int ncols;
};

static void put(struct csv *c, int ch)
{
    if (c->len + 1 >= c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4096;
        c->buf = realloc(c->buf, c->cap);
        if (c->buf == NULL)
            die("out of memory");
    }
    c->buf[c->len++] = (char)ch;
}

/* The next record into c->field[0..n-1]; 1, or 0 at the end of the file. */
static int next(struct csv *c)
{
    int ch = getc_unlocked(c->f);
    if (ch == EOF)
        return 0;
    c->len = 0;
    c->n = 0;
    c->off[c->n++] = 0;
    bool quoted = false;
    for (;; ch = getc_unlocked(c->f)) {
        if (quoted) {
            if (ch == EOF)
                die("a quoted field runs to the end of the file");
            if (ch == '"') {
                int after = getc_unlocked(c->f);
                if (after == '"') {
                    put(c, '"');
                    continue;
                }
                quoted = false;
                ch = after;
            } else {
                put(c, ch);
                continue;
            }
        }
        if (ch == '"' && c->len == c->off[c->n - 1]) {
            quoted = true;
        } else if (ch == ',') {
            put(c, '\0');
            if (c->n == 64)
                die("a row of more than 64 fields");
            c->off[c->n++] = c->len;
        } else if (ch == '\n' || ch == EOF) {
            break;
        } else if (ch != '\r') {
            put(c, ch);
        }
    }
    put(c, '\0');
    for (int i = 0; i < c->n; i++)
        c->field[i] = c->buf + c->off[i];
    return 1;
}

static void open_csv(struct csv *c, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    memset(c, 0, sizeof(*c));
    c->f = fopen(path, "r");
    if (c->f == NULL || !next(c)) {
        fprintf(stderr, "roster_raw: %s: %s\n", path, c->f ? "empty" : strerror(errno));
        exit(1);
    }
    c->ncols = c->n;
    for (int i = 0; i < c->n; i++)
        c->names[i] = strdup(c->field[i]);
}

static void close_csv(struct csv *c)
{
    for (int i = 0; i < c->ncols; i++)
        free(c->names[i]);
    free(c->buf);
    fclose(c->f);
}

/* The column index of `name`; exits when the header lacks it. */
static int col(struct csv *c, const char *name)
{
    for (int i = 0; i < c->ncols; i++)
        if (strcmp(c->names[i], name) == 0)
            return i;
    fprintf(stderr, "roster_raw: no column %s\n", name);
    exit(1);
}

static const char *get(struct csv *c, int i)
{
    return i < c->n ? c->field[i] : "";
}

/* ---- demographics: sourcedId -> birth date and sex, held while users are read ------------- */

struct demo_entry {
    char *key;
    char birth[11];
    char sex; /* 'm', 'f' or 0 */
};
static struct demo_entry *demo_table;
static size_t demo_size;

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct demo_entry *demo_slot(const char *key)
{
    size_t i = hash(key) & (demo_size - 1);
    while (demo_table[i].key && strcmp(demo_table[i].key, key) != 0)
        i = (i + 1) & (demo_size - 1);
    return &demo_table[i];
}

/* ---- statements -------------------------------------------------------------------------- */

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die(sql);
    return st;
}

static int64_t step_id(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        die(sqlite3_sql(st));
    return sqlite3_last_insert_rowid(db);
}

static sqlite3_stmt *map_put, *map_get;

static void map(const char *sourced_id, int64_t local, int64_t extra)
{
    sqlite3_bind_text(map_put, 1, sourced_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(map_put, 2, local);
    sqlite3_bind_int64(map_put, 3, extra);
    step_id(map_put);
}

/* The local id of a sourcedId (and its extra into *extra when not NULL); 0 when unknown. */
static int64_t lookup(const char *sourced_id, int64_t *extra)
{
    sqlite3_bind_text(map_get, 1, sourced_id, -1, SQLITE_STATIC);
    int64_t id = 0;
    if (sqlite3_step(map_get) == SQLITE_ROW) {
        id = sqlite3_column_int64(map_get, 0);
        if (extra)
            *extra = sqlite3_column_int64(map_get, 1);
    }
    sqlite3_reset(map_get);
    return id;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || *s == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* ---- the files --------------------------------------------------------------------------- */

static void orgs(const char *dir)
{
    sqlite3_stmt *mun = prep("INSERT INTO municipalities (name) VALUES (?1)");
    sqlite3_stmt *inst = prep("INSERT INTO institutions (municipality_id, kind, name, short_name) "
                              "VALUES (?1, 'school', ?2, ?3)");
    struct csv c;
    open_csv(&c, dir, "orgs.csv");
    int id = col(&c, "sourcedId"), name = col(&c, "name"), type = col(&c, "type"),
        ident = col(&c, "identifier"), parent = col(&c, "parentSourcedId");
    /* Districts first: a school names its district. Two passes over a small file. */
    for (int pass = 0; pass < 2; pass++) {
        rewind(c.f);
        next(&c);
        while (next(&c)) {
            bool district = strcmp(get(&c, type), "district") == 0;
            if (pass == 0 && district) {
                sqlite3_bind_text(mun, 1, get(&c, name), -1, SQLITE_STATIC);
                map(get(&c, id), step_id(mun), 0);
            } else if (pass == 1 && !district) {
                sqlite3_bind_int64(inst, 1, lookup(get(&c, parent), NULL));
                sqlite3_bind_text(inst, 2, get(&c, name), -1, SQLITE_STATIC);
                sqlite3_bind_text(inst, 3, *get(&c, ident) ? get(&c, ident) : get(&c, name), -1,
                                  SQLITE_STATIC);
                map(get(&c, id), step_id(inst), 0);
            }
            rows_read += pass == 0;
        }
    }
    close_csv(&c);
    sqlite3_finalize(mun);
    sqlite3_finalize(inst);
}

static void sessions(const char *dir)
{
    sqlite3_stmt *year =
        prep("INSERT INTO academic_years (name, starts_on, ends_on) VALUES (?1, ?2, ?3)");
    struct csv c;
    open_csv(&c, dir, "academicSessions.csv");
    int id = col(&c, "sourcedId"), title = col(&c, "title"), type = col(&c, "type"),
        start = col(&c, "startDate"), end = col(&c, "endDate"), parent = col(&c, "parentSourcedId");
    for (int pass = 0; pass < 2; pass++) {
        rewind(c.f);
        next(&c);
        while (next(&c)) {
            bool is_year = strcmp(get(&c, type), "schoolYear") == 0;
            if (pass == 0 && is_year) {
                sqlite3_bind_text(year, 1, get(&c, title), -1, SQLITE_STATIC);
                sqlite3_bind_text(year, 2, get(&c, start), -1, SQLITE_STATIC);
                sqlite3_bind_text(year, 3, get(&c, end), -1, SQLITE_STATIC);
                map(get(&c, id), step_id(year), 0);
            } else if (pass == 1 && !is_year) { /* a term locates its year */
                map(get(&c, id), lookup(get(&c, parent), NULL), 0);
            }
            rows_read += pass == 0;
        }
    }
    close_csv(&c);
    sqlite3_finalize(year);
}

static void courses(const char *dir)
{
    sqlite3_stmt *subject = prep("SELECT id FROM subjects WHERE code = ?1");
    struct csv c;
    open_csv(&c, dir, "courses.csv");
    int id = col(&c, "sourcedId"), code = col(&c, "subjectCodes");
    while (next(&c)) {
        rows_read++;
        sqlite3_bind_text(subject, 1, get(&c, code), -1, SQLITE_STATIC);
        int64_t s = sqlite3_step(subject) == SQLITE_ROW ? sqlite3_column_int64(subject, 0) : 0;
        sqlite3_reset(subject);
        map(get(&c, id), s, 0);
    }
    close_csv(&c);
    sqlite3_finalize(subject);
}

static void classes(const char *dir)
{
    sqlite3_stmt *cls = prep("INSERT INTO classes (institution_id, year_id, grade, letter) "
                             "VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt *find = prep("SELECT id FROM classes WHERE institution_id = ?1 AND year_id = "
                              "?2 AND grade = ?3 AND letter = ?4");
    sqlite3_stmt *subject = prep("SELECT id FROM subjects WHERE code = ?1");
    struct csv c;
    open_csv(&c, dir, "classes.csv");
    int id = col(&c, "sourcedId"), type = col(&c, "classType"), code = col(&c, "classCode"),
        school = col(&c, "schoolSourcedId"), terms = col(&c, "termSourcedIds"),
        subj = col(&c, "subjectCodes");
    /* Homerooms first: a scheduled class names its homeroom by classCode. */
    for (int pass = 0; pass < 2; pass++) {
        rewind(c.f);
        next(&c);
        while (next(&c)) {
            bool homeroom = strcmp(get(&c, type), "homeroom") == 0;
            if (homeroom != (pass == 0))
                continue;
            rows_read++;
            char term[64];
            snprintf(term, sizeof(term), "%s", get(&c, terms));
            term[strcspn(term, ",")] = '\0';
            const char *cc = get(&c, code);
            char *letter;
            long grade = strtol(cc, &letter, 10);
            sqlite3_stmt *st = homeroom ? cls : find;
            sqlite3_bind_int64(st, 1, lookup(get(&c, school), NULL));
            sqlite3_bind_int64(st, 2, lookup(term, NULL));
            sqlite3_bind_int64(st, 3, grade);
            sqlite3_bind_text(st, 4, letter, -1, SQLITE_STATIC);
            if (homeroom) {
                map(get(&c, id), step_id(cls), 0);
                continue;
            }
            int64_t k = sqlite3_step(find) == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
            sqlite3_reset(find);
            sqlite3_bind_text(subject, 1, get(&c, subj), -1, SQLITE_STATIC);
            int64_t s = sqlite3_step(subject) == SQLITE_ROW ? sqlite3_column_int64(subject, 0) : 0;
            sqlite3_reset(subject);
            map(get(&c, id), k, s);
        }
    }
    close_csv(&c);
    sqlite3_finalize(cls);
    sqlite3_finalize(find);
    sqlite3_finalize(subject);
}

static void demographics(const char *dir)
{
    demo_size = 1 << 16;
    struct csv c;
    open_csv(&c, dir, "demographics.csv");
    int id = col(&c, "sourcedId"), birth = col(&c, "birthDate"), sex = col(&c, "sex");
    size_t used = 0;
    demo_table = calloc(demo_size, sizeof(*demo_table));
    while (next(&c)) {
        rows_read++;
        if (2 * (used + 1) > demo_size) { /* grow: rehash into a table twice the size */
            struct demo_entry *old = demo_table;
            size_t old_size = demo_size;
            demo_size *= 2;
            demo_table = calloc(demo_size, sizeof(*demo_table));
            if (demo_table == NULL)
                die("out of memory");
            for (size_t i = 0; i < old_size; i++)
                if (old[i].key)
                    *demo_slot(old[i].key) = old[i];
            free(old);
        }
        struct demo_entry *e = demo_slot(get(&c, id));
        if (e->key == NULL) {
            e->key = strdup(get(&c, id));
            used++;
        }
        snprintf(e->birth, sizeof(e->birth), "%s", get(&c, birth));
        e->sex = strcmp(get(&c, sex), "male") == 0     ? 'm'
                 : strcmp(get(&c, sex), "female") == 0 ? 'f'
                                                       : 0;
    }
    close_csv(&c);
}

static void users(const char *dir)
{
    sqlite3_stmt *person = prep("INSERT INTO persons (last_name, first_name, middle_name, "
                                "birth_date) VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt *account = prep("INSERT INTO accounts (person_id, login) VALUES (?1, ?2)");
    sqlite3_stmt *grant =
        prep("INSERT INTO role_grants (account_id, role, institution_id) VALUES (?1, ?2, ?3)");
    sqlite3_stmt *staff = prep("INSERT OR IGNORE INTO staff (person_id, institution_id, "
                               "position) VALUES (?1, ?2, ?3)");
    sqlite3_stmt *guardian = prep("INSERT OR IGNORE INTO guardians (guardian_id, student_id, "
                                  "relation) VALUES (?1, ?2, ?3)");
    struct csv c;
    open_csv(&c, dir, "users.csv");
    int id = col(&c, "sourcedId"), role = col(&c, "role"), given = col(&c, "givenName"),
        family = col(&c, "familyName"), middle = col(&c, "middleName"),
        orgs = col(&c, "orgSourcedIds"), agents = col(&c, "agentSourcedIds");
    while (next(&c)) {
        rows_read++;
        struct demo_entry *d = demo_slot(get(&c, id));
        sqlite3_bind_text(person, 1, get(&c, family), -1, SQLITE_STATIC);
        sqlite3_bind_text(person, 2, get(&c, given), -1, SQLITE_STATIC);
        sqlite3_bind_text(person, 3, get(&c, middle), -1, SQLITE_STATIC);
        bind_text(person, 4, d->key ? d->birth : NULL);
        int64_t p = step_id(person);
        char login[ACCOUNT_LOGIN_MAX + 1];
        if (accounts_make_login(get(&c, family), p, 1, login, sizeof(login)) != 0)
            die("a login too long");
        sqlite3_bind_int64(account, 1, p);
        sqlite3_bind_text(account, 2, login, -1, SQLITE_STATIC);
        int64_t a = step_id(account);
        map(get(&c, id), p, a);
        const char *r = get(&c, role);
        bool student = strcmp(r, "student") == 0;
        bool family_role = strcmp(r, "parent") == 0 || strcmp(r, "guardian") == 0;
        sqlite3_bind_int64(grant, 1, a);
        if (student || family_role) {
            sqlite3_bind_text(grant, 2, student ? "student" : "parent", -1, SQLITE_STATIC);
            sqlite3_bind_null(grant, 3);
            step_id(grant);
            continue;
        }
        bool admin = strcmp(r, "administrator") == 0, teacher = strcmp(r, "teacher") == 0;
        char list[1024];
        snprintf(list, sizeof(list), "%s", get(&c, orgs));
        for (char *save, *o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            int64_t inst = lookup(o, NULL);
            sqlite3_bind_int64(staff, 1, p);
            sqlite3_bind_int64(staff, 2, inst);
            sqlite3_bind_text(staff, 3,
                              admin     ? "директор"
                              : teacher ? "учитель"
                                        : "сотрудник",
                              -1, SQLITE_STATIC);
            step_id(staff);
            if (admin || teacher) {
                sqlite3_bind_int64(grant, 1, a);
                sqlite3_bind_text(grant, 2, admin ? "school_admin" : "teacher", -1, SQLITE_STATIC);
                sqlite3_bind_int64(grant, 3, inst);
                step_id(grant);
            }
        }
    }
    /* Second pass: the guardians' links, now that every student has an id. */
    rewind(c.f);
    next(&c);
    while (next(&c)) {
        const char *r = get(&c, role);
        if (strcmp(r, "parent") != 0 && strcmp(r, "guardian") != 0)
            continue;
        int64_t g = lookup(get(&c, id), NULL);
        struct demo_entry *d = demo_slot(get(&c, id));
        const char *relation = strcmp(r, "guardian") == 0 ? "guardian"
                               : d->key && d->sex == 'f'  ? "mother"
                               : d->key && d->sex == 'm'  ? "father"
                                                          : "parent";
        char list[4096];
        snprintf(list, sizeof(list), "%s", get(&c, agents));
        for (char *save, *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            sqlite3_bind_int64(guardian, 1, g);
            sqlite3_bind_int64(guardian, 2, lookup(s, NULL));
            sqlite3_bind_text(guardian, 3, relation, -1, SQLITE_STATIC);
            step_id(guardian);
        }
    }
    close_csv(&c);
    sqlite3_finalize(person);
    sqlite3_finalize(account);
    sqlite3_finalize(grant);
    sqlite3_finalize(staff);
    sqlite3_finalize(guardian);
}

static void enrollments(const char *dir)
{
    sqlite3_stmt *enrol = prep("INSERT INTO enrollments (student_id, class_id, enrolled_on) "
                               "VALUES (?1, ?2, coalesce(?3, date('now')))");
    sqlite3_stmt *assign = prep("INSERT OR IGNORE INTO teaching_assignments (teacher_id, "
                                "class_id, subject_id) VALUES (?1, ?2, ?3)");
    sqlite3_stmt *lead = prep("UPDATE classes SET class_teacher_id = ?1 WHERE id = ?2");
    sqlite3_stmt *grant = prep("INSERT OR IGNORE INTO role_grants (account_id, role, "
                               "institution_id) SELECT ?1, 'class_teacher', institution_id "
                               "FROM classes WHERE id = ?2");
    struct csv c;
    open_csv(&c, dir, "enrollments.csv");
    int id = col(&c, "sourcedId"), cls = col(&c, "classSourcedId"), user = col(&c, "userSourcedId"),
        role = col(&c, "role"), primary = col(&c, "primary"), begin = col(&c, "beginDate");
    while (next(&c)) {
        rows_read++;
        int64_t account = 0, subject = 0;
        int64_t p = lookup(get(&c, user), &account);
        int64_t k = lookup(get(&c, cls), &subject);
        int64_t local;
        if (strcmp(get(&c, role), "student") == 0) {
            sqlite3_bind_int64(enrol, 1, p);
            sqlite3_bind_int64(enrol, 2, k);
            bind_text(enrol, 3, get(&c, begin));
            local = step_id(enrol);
        } else if (strcmp(get(&c, primary), "true") == 0) {
            sqlite3_bind_int64(lead, 1, p);
            sqlite3_bind_int64(lead, 2, k);
            step_id(lead);
            sqlite3_bind_int64(grant, 1, account);
            sqlite3_bind_int64(grant, 2, k);
            step_id(grant);
            local = k;
        } else {
            sqlite3_bind_int64(assign, 1, p);
            sqlite3_bind_int64(assign, 2, k);
            sqlite3_bind_int64(assign, 3, subject);
            local = step_id(assign);
        }
        map(get(&c, id), local, 0);
    }
    close_csv(&c);
    sqlite3_finalize(enrol);
    sqlite3_finalize(assign);
    sqlite3_finalize(lead);
    sqlite3_finalize(grant);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: roster_raw DBFILE DIR\n");
        return 2;
    }
    if (access(argv[1], F_OK) == 0) {
        fprintf(stderr, "roster_raw: %s exists\n", argv[1]);
        return 2;
    }
    static struct mes_config cfg;
    config_defaults(&cfg);
    char err[512];
    log_set_quiet(1);
    struct db *node_db = db_open(argv[1], &cfg, err, sizeof(err));
    if (node_db == NULL || db_migrate(node_db, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "roster_raw: %s\n", err);
        return 1;
    }
    db = db_handle(node_db);
    double t0 = now();
    if (sqlite3_exec(db,
                     "PRAGMA cache_size = -262144; BEGIN IMMEDIATE; CREATE TABLE raw_ids "
                     "(sourced_id TEXT PRIMARY KEY, local_id INTEGER NOT NULL, extra INTEGER) "
                     "WITHOUT ROWID",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("begin");
    map_put = prep("INSERT INTO raw_ids (sourced_id, local_id, extra) VALUES (?1, ?2, ?3)");
    map_get = prep("SELECT local_id, extra FROM raw_ids WHERE sourced_id = ?1");
    orgs(argv[2]);
    sessions(argv[2]);
    courses(argv[2]);
    classes(argv[2]);
    demographics(argv[2]);
    users(argv[2]);
    enrollments(argv[2]);
    sqlite3_finalize(map_put);
    sqlite3_finalize(map_get);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die("commit");
    double t = now() - t0;
    printf("rows %ld seconds %.2f rows_per_second %.0f\n", rows_read, t, rows_read / t);
    for (size_t i = 0; i < demo_size; i++)
        free(demo_table[i].key);
    free(demo_table);
    db_close(node_db);
    return 0;
}
