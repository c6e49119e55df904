/*
 * The roster model: arena memory, hash tables, entities by source id, the report, and loading
 * what the database already holds (earlier imports' ids, current enrolments, links, staff,
 * assignments) so that the apply compares in memory instead of asking per row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "roles.h"
#include "roster/model.h"

/* ---- arena --------------------------------------------------------------------------------- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(struct roster_model *m, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_block *b = m->arena;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = m->arena;
        m->arena = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strdup(struct roster_model *m, const char *s)
{
    size_t n = strlen(s);
    char *p = arena_alloc(m, n + 1);
    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}

char *ent_key(struct roster_model *m, char kind, const char *sid)
{
    size_t n = strlen(sid);
    char *p = arena_alloc(m, n + 2);
    if (p == NULL)
        return NULL;
    p[0] = kind;
    memcpy(p + 1, sid, n + 1);
    return p;
}

/* ---- hash tables ---------------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void *smap_get(const struct smap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return NULL;
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    }
}

static int smap_grow(struct smap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    const char **keys = calloc(cap, sizeof(*keys));
    void **vals = calloc(cap, sizeof(*vals));
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t j = 0; j < m->cap; j++) {
        if (m->keys[j] == NULL)
            continue;
        size_t i = hash_str(m->keys[j]) & (cap - 1);
        while (keys[i] != NULL)
            i = (i + 1) & (cap - 1);
        keys[i] = m->keys[j];
        vals[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int smap_put(struct smap *m, const char *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap && smap_grow(m) != 0)
        return -1;
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == NULL)
        m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

void smap_free(struct smap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static uint64_t hash_pair(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 29);
}

static size_t imap_slot(const struct imap *m, uint64_t a, uint64_t b, bool *found)
{
    size_t i = hash_pair(a, b) & (m->cap - 1);
    while (m->used[i]) {
        if (m->ka[i] == a && m->kb[i] == b) {
            *found = true;
            return i;
        }
        i = (i + 1) & (m->cap - 1);
    }
    *found = false;
    return i;
}

int64_t imap_get(const struct imap *m, uint64_t a, uint64_t b, int64_t def)
{
    if (m->cap == 0)
        return def;
    bool f;
    size_t i = imap_slot(m, a, b, &f);
    return f ? m->vals[i] : def;
}

bool imap_has(const struct imap *m, uint64_t a, uint64_t b)
{
    if (m->cap == 0)
        return false;
    bool f;
    imap_slot(m, a, b, &f);
    return f;
}

static int imap_grow(struct imap *m)
{
    struct imap g = {0};
    g.cap = m->cap ? m->cap * 2 : 1024;
    g.ka = malloc(g.cap * sizeof(*g.ka));
    g.kb = malloc(g.cap * sizeof(*g.kb));
    g.vals = malloc(g.cap * sizeof(*g.vals));
    g.used = calloc(g.cap, 1);
    if (!g.ka || !g.kb || !g.vals || !g.used) {
        imap_free(&g);
        return -1;
    }
    for (size_t j = 0; j < m->cap; j++)
        if (m->used[j]) {
            bool f;
            size_t i = imap_slot(&g, m->ka[j], m->kb[j], &f);
            g.ka[i] = m->ka[j], g.kb[i] = m->kb[j], g.vals[i] = m->vals[j], g.used[i] = 1;
        }
    g.n = m->n;
    imap_free(m);
    *m = g;
    return 0;
}

int imap_put(struct imap *m, uint64_t a, uint64_t b, int64_t val)
{
    if ((m->n + 1) * 2 > m->cap && imap_grow(m) != 0)
        return -1;
    bool f;
    size_t i = imap_slot(m, a, b, &f);
    if (!f) {
        m->n++;
        m->used[i] = 1;
        m->ka[i] = a;
        m->kb[i] = b;
    }
    m->vals[i] = val;
    return 0;
}

void imap_del(struct imap *m, uint64_t a, uint64_t b)
{
    if (m->cap == 0)
        return;
    bool f;
    size_t i = imap_slot(m, a, b, &f);
    if (!f)
        return;
    m->used[i] = 0;
    m->n--;
    /* backward-shift the rest of the run */
    for (size_t j = (i + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)) {
        size_t home = hash_pair(m->ka[j], m->kb[j]) & (m->cap - 1);
        /* can j move to i? only when home is not in (i, j] cyclically */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        m->ka[i] = m->ka[j], m->kb[i] = m->kb[j], m->vals[i] = m->vals[j], m->used[i] = 1;
        m->used[j] = 0;
        i = j;
    }
}

void imap_free(struct imap *m)
{
    free(m->ka);
    free(m->kb);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof(*m));
}

/* ---- entities ------------------------------------------------------------------------------- */

struct ent *ent_add(struct roster_model *m, char kind, const char *sid, size_t size, bool *dup)
{
    *dup = false;
    char *key = ent_key(m, kind, sid);
    if (key == NULL)
        return NULL;
    struct ent *old = smap_get(&m->ents, key);
    if (old != NULL && !old->ghost) {
        *dup = true;
        return NULL;
    }
    struct ent *e = arena_alloc(m, size);
    if (e == NULL || smap_put(&m->ents, key, e) != 0)
        return NULL;
    e->kind = kind;
    e->sid = key + 1;
    e->ids = smap_get(&m->ids, key);
    if (e->ids != NULL) {
        e->local = e->ids->local;
        e->extra = e->ids->extra;
    }
    if (kind == E_USER) {
        if (m->nusers == m->capusers) {
            size_t cap = m->capusers ? m->capusers * 2 : 1024;
            struct user **g = realloc(m->users, cap * sizeof(*g));
            if (g == NULL)
                return NULL;
            m->users = g, m->capusers = cap;
        }
        m->users[m->nusers++] = (struct user *)e;
    } else {
        if (m->nlist == m->caplist) {
            size_t cap = m->caplist ? m->caplist * 2 : 256;
            struct ent **g = realloc(m->list, cap * sizeof(*g));
            if (g == NULL)
                return NULL;
            m->list = g, m->caplist = cap;
        }
        m->list[m->nlist++] = e;
    }
    return e;
}

struct ent *ent_find(struct roster_model *m, char kind, const char *sid)
{
    if (sid == NULL || sid[0] == '\0')
        return NULL;
    char stack[300];
    size_t n = strlen(sid);
    if (n + 2 > sizeof(stack))
        return NULL;
    stack[0] = kind;
    memcpy(stack + 1, sid, n + 1);
    struct ent *e = smap_get(&m->ents, stack);
    if (e != NULL)
        return e;
    struct ids_row *row = smap_get(&m->ids, stack);
    if (row == NULL)
        return NULL;
    /* a ghost: known from an earlier import */
    char *key = arena_strdup(m, stack);
    e = arena_alloc(m, kind == E_USER ? sizeof(struct user) : sizeof(struct ent));
    if (key == NULL || e == NULL || smap_put(&m->ents, key, e) != 0)
        return NULL;
    e->kind = kind;
    e->sid = key + 1;
    e->ghost = true;
    e->ids = row;
    e->local = row->local;
    e->extra = row->extra;
    e->subject_id = kind == E_COURSE ? row->local : 0;
    if (kind == E_SECTION) { /* its homeroom's id; the institution and subject packed */
        e->subject_id = row->extra & 0xfffff;
        e->extra = row->extra >> 20;
    }
    if (kind == E_USER)
        ((struct user *)e)->role = (uint32_t)row->extra;
    return e;
}

int model_keep_csv(struct roster_model *m, struct roster_csv *csv)
{
    if (m->ncsvs == m->capcsvs) {
        int cap = m->capcsvs ? m->capcsvs * 2 : 16;
        struct roster_csv *g = realloc(m->csvs, (size_t)cap * sizeof(*g));
        if (g == NULL)
            return -1;
        m->csvs = g, m->capcsvs = cap;
    }
    m->csvs[m->ncsvs++] = *csv;
    free(csv->fields);
    csv->fields = NULL;
    csv->buf = NULL;
    return 0;
}

int64_t roster_digest(const char *const *parts)
{
    uint64_t h = 1469598103934665603ull;
    for (; *parts; parts++) {
        for (const char *s = *parts; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
        h = (h ^ 0x1f) * 1099511628211ull;
    }
    return (int64_t)(h >> 1); /* positive: SQLite integers */
}

bool roster_date_ok(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8);
    if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return true;
}

void roster_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- the model ----------------------------------------------------------------------------- */

struct roster_model *roster_model_new(void)
{
    struct roster_model *m = calloc(1, sizeof(*m));
    if (m != NULL) {
        m->version = 11;
        roster_today(m->today);
    }
    return m;
}

void roster_model_free(struct roster_model *m)
{
    if (m == NULL)
        return;
    while (m->arena) {
        struct arena_block *n = m->arena->next;
        free(m->arena);
        m->arena = n;
    }
    for (int i = 0; i < m->ncsvs; i++)
        free(m->csvs[i].buf);
    free(m->csvs);
    smap_free(&m->ids);
    smap_free(&m->subjects);
    smap_free(&m->classes_db);
    imap_free(&m->current);
    imap_free(&m->links);
    imap_free(&m->staff);
    imap_free(&m->assign);
    imap_free(&m->imported_classes);
    imap_free(&m->imported_people);
    smap_free(&m->ents);
    free(m->list);
    free(m->users);
    free(m->enrols);
    free(m);
}

int roster_load(struct roster_model *m, struct db *db)
{
    int rc;
    sqlite3_stmt *st =
        db_query(db, "SELECT kind, source_id, local_id, extra, digest, left FROM roster_ids", NULL);
    while (db_next(st, &rc)) {
        const char *kind = db_col_text(st, 0);
        char *key = ent_key(m, kind[0], db_col_text(st, 1));
        struct ids_row *row = arena_alloc(m, sizeof(*row));
        if (key == NULL || row == NULL || smap_put(&m->ids, key, row) != 0)
            return -1;
        row->local = sqlite3_column_int64(st, 2);
        row->extra = sqlite3_column_int64(st, 3);
        row->digest = sqlite3_column_int64(st, 4);
        row->left = sqlite3_column_int(st, 5) != 0;
        if (kind[0] == E_CLASS && imap_put(&m->imported_classes, (uint64_t)row->local, 0, 1))
            return -1;
        if (kind[0] == E_USER &&
            imap_put(&m->imported_people, (uint64_t)row->local, 0, row->left ? 0 : row->extra))
            return -1;
    }
    if (rc != SQLITE_DONE)
        return -1;
    st = db_query(db, "SELECT code, name, id FROM subjects", NULL);
    while (db_next(st, &rc)) {
        char *code = arena_strdup(m, db_col_text(st, 0));
        char *name = arena_alloc(m, strlen(db_col_text(st, 1)) + 2);
        if (code == NULL || name == NULL)
            return -1;
        name[0] = '=';
        strcpy(name + 1, db_col_text(st, 1));
        void *id = (void *)(intptr_t)sqlite3_column_int64(st, 2);
        if (smap_put(&m->subjects, code, id) != 0 || smap_put(&m->subjects, name, id) != 0)
            return -1;
    }
    if (rc != SQLITE_DONE)
        return -1;
    st = db_query(db, "SELECT institution_id, year_id, grade, letter, id FROM classes", NULL);
    while (db_next(st, &rc)) {
        char key[160];
        snprintf(key, sizeof(key), "%lld:%lld:%d:%s", (long long)sqlite3_column_int64(st, 0),
                 (long long)sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
                 db_col_text(st, 3));
        char *k = arena_strdup(m, key);
        if (k == NULL || smap_put(&m->classes_db, k, (void *)(intptr_t)sqlite3_column_int64(st, 4)))
            return -1;
    }
    if (rc != SQLITE_DONE)
        return -1;
    st = db_query(db, "SELECT student_id, id, class_id FROM enrollments WHERE left_on IS NULL",
                  NULL);
    while (db_next(st, &rc)) {
        uint64_t s = (uint64_t)sqlite3_column_int64(st, 0);
        if (imap_put(&m->current, s, 0, sqlite3_column_int64(st, 1)) ||
            imap_put(&m->current, s, 1, sqlite3_column_int64(st, 2)))
            return -1;
    }
    if (rc != SQLITE_DONE)
        return -1;
    st = db_query(db, "SELECT guardian_id, student_id FROM guardians", NULL);
    while (db_next(st, &rc))
        if (imap_put(&m->links, (uint64_t)sqlite3_column_int64(st, 0),
                     (uint64_t)sqlite3_column_int64(st, 1), 1))
            return -1;
    if (rc != SQLITE_DONE)
        return -1;
    st = db_query(db, "SELECT person_id, institution_id FROM staff", NULL);
    while (db_next(st, &rc))
        if (imap_put(&m->staff, (uint64_t)sqlite3_column_int64(st, 0),
                     (uint64_t)sqlite3_column_int64(st, 1), 1))
            return -1;
    if (rc != SQLITE_DONE)
        return -1;
    st = db_query(db,
                  "SELECT teacher_id, class_id, subject_id FROM teaching_assignments "
                  "WHERE group_id IS NULL",
                  NULL);
    while (db_next(st, &rc))
        if (imap_put(&m->assign, (uint64_t)sqlite3_column_int64(st, 0),
                     (uint64_t)sqlite3_column_int64(st, 1) << 20 |
                         (uint64_t)sqlite3_column_int64(st, 2),
                     1))
            return -1;
    if (rc != SQLITE_DONE)
        return -1;
    m->loaded = true;
    return 0;
}

/* ---- the report ---------------------------------------------------------------------------- */

const char *const roster_kind_names[RK_COUNT] = {
    "municipalities", "schools",    "years",       "classes",        "students", "guardians",
    "staff",          "enrolments", "assignments", "guardian_links", "accounts",
};

void roster_error(struct roster_report *rep, const char *file, long line, const char *code,
                  const char *id, const char *value)
{
    rep->errors_total++;
    if (rep->nerrors >= ROSTER_MAX_ERRORS)
        return;
    if (rep->nerrors == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 64;
        struct roster_error *g = realloc(rep->errors, cap * sizeof(*g));
        if (g == NULL)
            return;
        rep->errors = g, rep->cap = cap;
    }
    struct roster_error *e = &rep->errors[rep->nerrors++];
    memset(e, 0, sizeof(*e));
    snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
    e->line = line;
    e->code = code;
    snprintf(e->id, sizeof(e->id), "%s", id ? id : "");
    snprintf(e->value, sizeof(e->value), "%s", value ? value : "");
}

/* The English messages: %1 is the id, %2 the value. */
static const struct {
    const char *code, *text;
} messages[] = {
    {"missing_file", "the file is missing (the manifest names it)"},
    {"unreadable", "the file cannot be read"},
    {"encoding", "the file is neither UTF-8 nor Windows-1251 text"},
    {"bad_quote", "a quote is not closed, or text follows a closing quote"},
    {"row_width", "the row has %2 fields; the header has %1"},
    {"missing_column", "the header lacks the column %1"},
    {"bad_manifest", "the manifest's value %2 for %1 is not understood"},
    {"bad_version", "OneRoster version %2 is not supported (1.1 or 1.2)"},
    {"duplicate_id", "sourcedId %1 appears twice"},
    {"missing_value", "%1: the column %2 is empty"},
    {"bad_status", "%1: status %2 is neither active nor tobedeleted"},
    {"bad_date", "%1: %2 is not a date (YYYY-MM-DD)"},
    {"bad_dates", "%1: the start date %2 is not before the end date"},
    {"unknown_org", "%1: organisation %2 is not in orgs.csv nor imported before"},
    {"unknown_school", "%1: school %2 is not in orgs.csv nor imported before"},
    {"unknown_session", "%1: academic session %2 is unknown"},
    {"unknown_course", "%1: course %2 is unknown"},
    {"unknown_subject", "%1: subject %2 is not one of the region's subjects"},
    {"unknown_class", "%1: class %2 is not in classes.csv nor imported before"},
    {"unknown_homeroom", "%1: no homeroom class %2 in the same school and year"},
    {"unknown_user", "%1: user %2 is not in users.csv nor imported before"},
    {"unknown_role", "%1: role %2 is not understood"},
    {"bad_grade", "%1: grade %2 is not between 1 and 11"},
    {"class_other_school", "%1: class %2 belongs to another school than the enrolment's"},
    {"agent_not_user", "%1: agent %2 is not a user"},
    {"agent_role", "%1: agent %2 is not a guardian of a student (or the reverse)"},
    {"two_homerooms", "%1: student %2 has a second current homeroom"},
    {"depends_on_invalid", "%1: refers to %2, a row that was refused"},
    {"bad_id", "sourcedId %1 is empty or longer than 255 characters"},
    {"bad_name", "%1: %2 is not a full name (last name, first name, middle name)"},
    {"bad_kind", "%1: %2 is neither «ученик» nor «сотрудник»"},
    {"other_school", "%1: school %2 is not the one you may import for"},
    {"no_year", "no academic year holds today's date: add the year first"},
    {"bad_class", "%1: class %2 is not a grade and letter (5А)"},
    {"bad_contact", "%1: guardian %2 has neither a phone nor an e-mail"},
    {"conflict", "%1: %2 clashes with a record already in the database"},
    {"empty", "the file holds no rows"},
    {"memory", "out of memory"},
};

void roster_error_message(const struct roster_error *e, char *out, size_t size)
{
    const char *text = "invalid row";
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        if (strcmp(messages[i].code, e->code) == 0)
            text = messages[i].text;
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < size; p++) {
        if (p[0] == '%' && (p[1] == '1' || p[1] == '2')) {
            const char *v = p[1] == '1' ? e->id : e->value;
            n += (size_t)snprintf(out + n, size - n, "%s", v);
            if (n >= size)
                n = size - 1;
            p++;
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
}

json_t *roster_report_json(const struct roster_report *rep)
{
    json_t *counts = json_object();
    for (int k = 0; k < RK_COUNT; k++)
        json_object_set_new(
            counts, roster_kind_names[k],
            json_pack("{s:I,s:I,s:I,s:I}", "added", (json_int_t)rep->counts[k].added, "updated",
                      (json_int_t)rep->counts[k].updated, "moved", (json_int_t)rep->counts[k].moved,
                      "left", (json_int_t)rep->counts[k].left));
    json_t *errors = json_array();
    for (size_t i = 0; i < rep->nerrors; i++) {
        const struct roster_error *e = &rep->errors[i];
        char msg[400];
        roster_error_message(e, msg, sizeof(msg));
        json_array_append_new(errors,
                              json_pack("{s:s,s:I,s:s,s:{s:s,s:s},s:s}", "file", e->file, "line",
                                        (json_int_t)e->line, "code", e->code, "params", "id", e->id,
                                        "value", e->value, "message", msg));
    }
    json_t *notices = json_array();
    for (int i = 0; i < rep->nnotices; i++)
        json_array_append_new(notices,
                              json_pack("{s:s,s:s}", "file", rep->notices[i], "code", "cp1251"));
    return json_pack("{s:o,s:o,s:I,s:o}", "counts", counts, "errors", errors, "errors_total",
                     (json_int_t)rep->errors_total, "notices", notices);
}

void roster_report_print(const struct roster_report *rep, FILE *out)
{
    for (int i = 0; i < rep->nnotices; i++)
        fprintf(out, "note: %s: not UTF-8, read as Windows-1251\n", rep->notices[i]);
    fprintf(out, "%-16s %8s %8s %8s %8s\n", "", "added", "updated", "moved", "left");
    for (int k = 0; k < RK_COUNT; k++) {
        const struct roster_count *c = &rep->counts[k];
        fprintf(out, "%-16s %8ld %8ld %8ld %8ld\n", roster_kind_names[k], c->added, c->updated,
                c->moved, c->left);
    }
    for (size_t i = 0; i < rep->nerrors; i++) {
        char msg[400];
        roster_error_message(&rep->errors[i], msg, sizeof(msg));
        fprintf(out, "%s:%ld: %s: %s\n", rep->errors[i].file, rep->errors[i].line,
                rep->errors[i].code, msg);
    }
    if (rep->errors_total > (long)rep->nerrors)
        fprintf(out, "... and %ld more errors\n", rep->errors_total - (long)rep->nerrors);
    if (rep->errors_total > 0)
        fprintf(out, "%ld error%s\n", rep->errors_total, rep->errors_total == 1 ? "" : "s");
}

void roster_report_free(struct roster_report *rep)
{
    free(rep->errors);
    memset(rep, 0, sizeof(*rep));
}
