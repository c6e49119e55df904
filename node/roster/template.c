/*
 * The node's own Russian CSV template (docs/roster.md, docs/roster-sample.csv): one file, a
 * student or a staff member per row, as a school's secretary fills it in Excel (';' or ','
 * as separator, UTF-8 or Windows-1251). It becomes the same model as a OneRoster set, with
 * source ids made from what identifies a person here:
 *   a school      the institution already in the database, by its full or short name;
 *   a class       "ru:h:INSTITUTION:YEAR:5А" in the academic year holding today;
 *   a student     "ru:s:INSTITUTION:ФИО:BIRTH";
 *   a staff member "ru:t:INSTITUTION:ФИО:BIRTH" (birth date may be empty);
 *   a guardian    "ru:g:ФИО:PHONE-or-EMAIL" (the same parent of two children is one person);
 *   a subject of a class "ru:x:INSTITUTION:YEAR:5А:SUBJECT".
 * The template adds and updates, and never removes anyone: it is read as a delta.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "roles.h"
#include "roster/model.h"

enum col {
    C_KIND,
    C_SCHOOL,
    C_CLASS,
    C_NAME,
    C_BIRTH,
    C_POSITION,
    C_SUBJECTS,
    C_CLASSES,
    C_G1,
    C_G1_PHONE,
    C_G1_EMAIL,
    C_G2,
    C_G2_PHONE,
    C_G2_EMAIL,
    C_COUNT
};
static const char *const col_names[C_COUNT] = {
    "Тип",
    "Школа",
    "Класс",
    "ФИО",
    "Дата рождения",
    "Должность",
    "Предметы",
    "Классы",
    "Родитель 1",
    "Телефон родителя 1",
    "E-mail родителя 1",
    "Родитель 2",
    "Телефон родителя 2",
    "E-mail родителя 2",
};

struct tpl {
    struct roster_model *m;
    struct db *db;
    struct roster_report *rep;
    const char *file;
    long line;
    int64_t year;
    struct ent *year_ent;
    struct smap schools; /* name -> ghost school entity */
    const struct roster_options *opt;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static void err(struct tpl *t, const char *code, const char *id, const char *value)
{
    roster_error(t->rep, t->file, t->line, code, id, value);
}

/* The school a row names (full or short name), as a ghost entity; NULL after reporting. */
static struct ent *school_of(struct tpl *t, const char *name)
{
    struct ent *e = smap_get(&t->schools, name);
    if (e != NULL)
        return e;
    int64_t id = 0;
    int rc = db_int(t->db, &id,
                    "SELECT id FROM institutions WHERE name = :n OR short_name = :n "
                    "ORDER BY name = :n DESC, id LIMIT 1",
                    DB_ARGS(DB_TEXT(":n", name)));
    if (rc != SQLITE_ROW) {
        err(t, "unknown_school", "", name);
        return NULL;
    }
    if (t->opt->only_institution && id != t->opt->only_institution) {
        err(t, "other_school", "", name);
        return NULL;
    }
    char sid[48];
    snprintf(sid, sizeof(sid), "ru:%lld", (long long)id);
    e = ent_find(t->m, E_SCHOOL, sid);
    if (e == NULL) {
        bool dup;
        e = ent_add(t->m, E_SCHOOL, sid, sizeof(struct ent), &dup);
        if (e == NULL)
            return NULL;
    }
    e->ghost = true;
    e->local = e->preset_local = e->extra = id;
    char *k = arena_strdup(t->m, name);
    if (k != NULL)
        smap_put(&t->schools, k, e);
    return e;
}

/* "5А", "5 А", "5-а": the grade and the letter (upper case) into `code` ("5А"); false when
 * not a class. */
static bool class_code(const char *s, char *code, size_t size)
{
    int grade = atoi(s);
    if (grade < 1 || grade > 11)
        return false;
    while (isdigit((unsigned char)*s) || *s == ' ' || *s == '-')
        s++;
    char letter[16] = "";
    snprintf(letter, sizeof(letter), "%s", s);
    /* а..я (U+0430..U+044F) to upper case: 0xd0 0xb0..0xbf -> 0xd0 0x90..0x9f, 0xd1 0x80..0x8f
     * -> 0xd0 0xa0..0xaf */
    unsigned char *l = (unsigned char *)letter;
    if (l[0] == 0xd0 && l[1] >= 0xb0 && l[1] <= 0xbf)
        l[1] -= 0x20;
    else if (l[0] == 0xd1 && l[1] >= 0x80 && l[1] <= 0x8f)
        l[0] = 0xd0, l[1] += 0x20;
    size_t n = strlen(letter);
    if (n == 0 || n > 8)
        return false;
    snprintf(code, size, "%d%s", grade, letter);
    return true;
}

/* DD.MM.YYYY (or YYYY-MM-DD) into ISO `out`; false when not a date. */
static bool date_ru(const char *s, char out[11])
{
    int d, mo, y;
    char tail;
    if (sscanf(s, "%2d.%2d.%4d%c", &d, &mo, &y, &tail) == 3 && y >= 1000 && y <= 9999 && mo >= 1 &&
        mo <= 12 && d >= 1 && d <= 31)
        snprintf(out, 11, "%04d-%02d-%02d", (unsigned)y % 10000u, (unsigned)mo % 100u,
                 (unsigned)d % 100u);
    else
        snprintf(out, 11, "%s", s);
    return roster_date_ok(out);
}

/* A homeroom of the school in the current year (found or added). */
static struct ent *homeroom(struct tpl *t, struct ent *school, const char *code)
{
    char sid[128];
    snprintf(sid, sizeof(sid), "ru:h:%lld:%lld:%s", (long long)school->local, (long long)t->year,
             code);
    char key[140];
    snprintf(key, sizeof(key), "%c%s", E_CLASS, sid);
    struct ent *e = smap_get(&t->m->ents, key);
    if (e != NULL && !e->ghost)
        return e;
    bool dup;
    e = ent_add(t->m, E_CLASS, sid, sizeof(struct ent), &dup);
    if (e == NULL)
        return NULL;
    e->file = t->file;
    e->line = t->line;
    e->name = e->code = arena_strdup(t->m, code);
    e->raw_grades = "";
    e->raw_school = school->sid;
    e->raw_term = t->year_ent->sid;
    e->raw_course = e->raw_subject = e->type = "";
    return e;
}

static struct ent *section(struct tpl *t, struct ent *school, const char *code, const char *subject,
                           int64_t subject_id)
{
    char sid[200];
    snprintf(sid, sizeof(sid), "ru:x:%lld:%lld:%s:%lld", (long long)school->local,
             (long long)t->year, code, (long long)subject_id);
    char key[210];
    snprintf(key, sizeof(key), "%c%s", E_SECTION, sid);
    struct ent *e = smap_get(&t->m->ents, key);
    if (e != NULL && !e->ghost)
        return e;
    bool dup;
    e = ent_add(t->m, E_SECTION, sid, sizeof(struct ent), &dup);
    if (e == NULL)
        return NULL;
    e->file = t->file;
    e->line = t->line;
    e->name = arena_strdup(t->m, subject);
    e->code = arena_strdup(t->m, code);
    e->raw_grades = e->raw_course = e->type = "";
    e->raw_school = school->sid;
    e->raw_term = t->year_ent->sid;
    e->raw_subject = arena_strdup(t->m, subject);
    e->subject_id = subject_id;
    return e;
}

static struct enrol *enrol_add(struct tpl *t, const char *cls, const char *school, const char *user,
                               const char *role)
{
    struct roster_model *m = t->m;
    if (m->nenrols == m->capenrols) {
        size_t cap = m->capenrols ? m->capenrols * 2 : 256;
        struct enrol *g = realloc(m->enrols, cap * sizeof(*g));
        if (g == NULL)
            return NULL;
        m->enrols = g, m->capenrols = cap;
    }
    struct enrol *en = &m->enrols[m->nenrols++];
    memset(en, 0, sizeof(*en));
    en->sid = user;
    en->file = t->file;
    en->line = t->line;
    en->raw_class = cls;
    en->raw_school = school;
    en->raw_user = user;
    en->raw_role = role;
    en->raw_primary = "false";
    en->begin = en->end = "";
    return en;
}

/* Splits "Фамилия Имя Отчество" in place; false when there are fewer than two words. */
static bool split_name(char *s, const char **last, const char **first, const char **middle)
{
    s = trim(s);
    char *sp = strchr(s, ' ');
    if (sp == NULL)
        return false;
    *sp = '\0';
    *last = s;
    s = trim(sp + 1);
    sp = strchr(s, ' ');
    if (sp != NULL) {
        *sp = '\0';
        *middle = trim(sp + 1);
    } else
        *middle = "";
    *first = s;
    return **last && **first;
}

static struct user *person(struct tpl *t, const char *sid, char *fio, uint32_t role, bool *again)
{
    *again = false;
    char key[400];
    snprintf(key, sizeof(key), "%c%s", E_USER, sid);
    struct ent *old = smap_get(&t->m->ents, key);
    if (old != NULL && !old->ghost) {
        *again = true;
        return (struct user *)old;
    }
    const char *last, *first, *middle;
    if (!split_name(fio, &last, &first, &middle)) {
        err(t, "bad_name", "", fio);
        return NULL;
    }
    bool dup;
    struct user *u = (struct user *)ent_add(t->m, E_USER, sid, sizeof(struct user), &dup);
    if (u == NULL)
        return NULL;
    u->e.file = t->file;
    u->e.line = t->line;
    u->family = last, u->given = first, u->middle = middle;
    u->birth = u->sex = u->email = u->phone = u->raw_agents = "";
    u->raw_orgs = "";
    static const char *const roles[] = {"student", "parent", "teacher", "administrator"};
    u->raw_role = role == ROLE_STUDENT   ? roles[0]
                  : role == ROLE_PARENT  ? roles[1]
                  : role == ROLE_TEACHER ? roles[2]
                                         : roles[3];
    return u;
}

static void student_row(struct tpl *t, char **f, struct ent *school)
{
    char code[32], birth[11];
    if (!class_code(trim(f[C_CLASS]), code, sizeof(code))) {
        err(t, "bad_class", f[C_NAME], f[C_CLASS]);
        return;
    }
    if (f[C_BIRTH][0] == '\0') {
        err(t, "missing_value", f[C_NAME], col_names[C_BIRTH]);
        return;
    }
    if (!date_ru(trim(f[C_BIRTH]), birth)) {
        err(t, "bad_date", f[C_NAME], f[C_BIRTH]);
        return;
    }
    struct ent *cls = homeroom(t, school, code);
    char sid[400];
    snprintf(sid, sizeof(sid), "ru:s:%lld:%s:%s", (long long)school->local, trim(f[C_NAME]), birth);
    bool again;
    struct user *u = person(t, arena_strdup(t->m, sid), f[C_NAME], ROLE_STUDENT, &again);
    if (u == NULL || cls == NULL)
        return;
    if (again) {
        roster_error(t->rep, t->file, t->line, "duplicate_id", sid, NULL);
        return;
    }
    u->birth = arena_strdup(t->m, birth);
    u->raw_orgs = school->sid;
    char agents[900] = "";
    for (int g = 0; g < 2; g++) {
        char *fio = trim(f[g ? C_G2 : C_G1]);
        char *phone = trim(f[g ? C_G2_PHONE : C_G1_PHONE]);
        char *email = trim(f[g ? C_G2_EMAIL : C_G1_EMAIL]);
        if (fio[0] == '\0')
            continue;
        if (phone[0] == '\0' && email[0] == '\0') {
            err(t, "bad_contact", sid, fio);
            u->e.bad = true;
            continue;
        }
        char gsid[400];
        snprintf(gsid, sizeof(gsid), "ru:g:%s:%s", fio, phone[0] ? phone : email);
        char *gs = arena_strdup(t->m, gsid);
        bool seen;
        struct user *p = gs ? person(t, gs, fio, ROLE_PARENT, &seen) : NULL;
        if (p == NULL) {
            u->e.bad = true;
            continue;
        }
        if (!seen) {
            p->phone = phone;
            p->email = email;
        }
        snprintf(agents + strlen(agents), sizeof(agents) - strlen(agents), "%s%s",
                 agents[0] ? "," : "", gs);
    }
    u->raw_agents = arena_strdup(t->m, agents);
    enrol_add(t, cls->sid, school->sid, u->e.sid, "student");
}

static void staff_row(struct tpl *t, char **f, struct ent *school)
{
    char birth[11] = "";
    if (f[C_BIRTH][0] && !date_ru(trim(f[C_BIRTH]), birth)) {
        err(t, "bad_date", f[C_NAME], f[C_BIRTH]);
        return;
    }
    const char *pos = trim(f[C_POSITION]);
    if (pos[0] == '\0') {
        err(t, "missing_value", f[C_NAME], col_names[C_POSITION]);
        return;
    }
    /* a director or a deputy administers the school; anyone else teaches */
    bool admin = strstr(pos, "иректор") || strstr(pos, "аместитель") || strstr(pos, "авуч") ||
                 strstr(pos, "дминистратор");
    char sid[400];
    snprintf(sid, sizeof(sid), "ru:t:%lld:%s:%s", (long long)school->local, trim(f[C_NAME]), birth);
    bool again;
    struct user *u = person(t, arena_strdup(t->m, sid), f[C_NAME],
                            admin ? ROLE_SCHOOL_ADMIN : ROLE_TEACHER, &again);
    if (u == NULL)
        return;
    if (again) {
        roster_error(t->rep, t->file, t->line, "duplicate_id", sid, NULL);
        return;
    }
    u->birth = arena_strdup(t->m, birth);
    u->raw_orgs = school->sid;
    u->position = pos;
    /* every subject in every class listed */
    char *subjects = f[C_SUBJECTS], *classes = f[C_CLASSES];
    for (char *sp = subjects; sp && *sp;) {
        char *next = strchr(sp, ',');
        if (next)
            *next++ = '\0';
        char *subj = trim(sp);
        sp = next;
        if (subj[0] == '\0')
            continue;
        int64_t sid_ = roster_subject(t->m, subj, subj);
        if (sid_ == 0) {
            err(t, "unknown_subject", u->e.sid, subj);
            u->e.bad = true;
            continue;
        }
        char list[512];
        snprintf(list, sizeof(list), "%s", classes);
        for (char *cp = list; *cp;) {
            char *cn = strchr(cp, ',');
            if (cn)
                *cn++ = '\0';
            char code[32];
            char *c = trim(cp);
            cp = cn ? cn : cp + strlen(cp);
            if (c[0] == '\0')
                continue;
            if (!class_code(c, code, sizeof(code))) {
                err(t, "bad_class", u->e.sid, c);
                u->e.bad = true;
                continue;
            }
            homeroom(t, school, code);
            struct ent *x = section(t, school, code, subj, sid_);
            if (x != NULL)
                enrol_add(t, x->sid, school->sid, u->e.sid, "teacher");
        }
    }
}

int roster_read_template(struct roster_model *m, struct db *db, const char *name, char *data,
                         size_t len, struct roster_report *rep, const struct roster_options *opt)
{
    struct tpl t = {.m = m, .db = db, .rep = rep, .file = name, .opt = opt};
    if (opt && opt->today)
        snprintf(m->today, sizeof(m->today), "%s", opt->today);
    m->template = true;
    m->mode[RF_USERS] = m->mode[RF_ENROLLMENTS] = FM_DELTA;
    struct roster_csv csv;
    if (roster_csv_open(&csv, data, len, 0) != 0) {
        roster_error(rep, name, 0, "encoding", NULL, NULL);
        return -1;
    }
    if (csv.encoding == ROSTER_CP1251 && rep->nnotices < 8)
        snprintf(rep->notices[rep->nnotices++], sizeof(rep->notices[0]), "%s", name);
    /* the current academic year */
    int64_t year = 0;
    char *yname = NULL;
    int rc = db_int(db, &year,
                    "SELECT id FROM academic_years WHERE starts_on <= :d AND ends_on >= :d "
                    "ORDER BY starts_on DESC LIMIT 1",
                    DB_ARGS(DB_TEXT(":d", m->today)));
    if (rc == SQLITE_ROW)
        db_text(db, &yname, "SELECT name FROM academic_years WHERE id = :y",
                DB_ARGS(DB_INT(":y", year)));
    if (rc != SQLITE_ROW || yname == NULL) {
        roster_error(rep, name, 0, "no_year", NULL, NULL);
        roster_csv_close(&csv);
        return 0;
    }
    free(yname);
    t.year = year;
    char ysid[32];
    snprintf(ysid, sizeof(ysid), "ru:%lld", (long long)year);
    bool dup;
    t.year_ent = ent_add(m, E_YEAR, ysid, sizeof(struct ent), &dup);
    if (t.year_ent == NULL) {
        roster_csv_close(&csv);
        return -1;
    }
    t.year_ent->ghost = true;
    t.year_ent->local = t.year_ent->preset_local = year;
    /* the header */
    const char *code = NULL;
    int cols[C_COUNT];
    rc = roster_csv_next(&csv, &t.line, &code);
    if (rc <= 0) {
        roster_error(rep, name, rc < 0 ? t.line : 0, rc < 0 ? code : "empty", NULL, NULL);
        roster_csv_close(&csv);
        return 0;
    }
    int ncols = csv.nfields;
    bool ok = true;
    for (int c = 0; c < C_COUNT; c++) {
        cols[c] = -1;
        for (int i = 0; i < csv.nfields; i++)
            if (strcmp(trim(csv.fields[i]), col_names[c]) == 0)
                cols[c] = i;
        if (cols[c] < 0 && (c == C_KIND || c == C_SCHOOL || c == C_NAME)) {
            roster_error(rep, name, 1, "missing_column", col_names[c], NULL);
            ok = false;
        }
    }
    char empty[1] = "";
    while (ok) {
        rc = roster_csv_next(&csv, &t.line, &code);
        if (rc == 0)
            break;
        if (rc < 0) {
            roster_error(rep, name, t.line, code, NULL, NULL);
            continue;
        }
        if (csv.nfields != ncols) {
            char a[16], b[16];
            snprintf(a, sizeof(a), "%d", ncols);
            snprintf(b, sizeof(b), "%d", csv.nfields);
            roster_error(rep, name, t.line, "row_width", a, b);
            continue;
        }
        char *f[C_COUNT];
        for (int c = 0; c < C_COUNT; c++)
            f[c] = cols[c] >= 0 ? csv.fields[cols[c]] : empty;
        char *kind = trim(f[C_KIND]);
        if (trim(f[C_NAME])[0] == '\0') {
            err(&t, "missing_value", "", col_names[C_NAME]);
            continue;
        }
        struct ent *school = school_of(&t, trim(f[C_SCHOOL]));
        if (school == NULL)
            continue;
        if (strcmp(kind, "ученик") == 0 || strcmp(kind, "Ученик") == 0)
            student_row(&t, f, school);
        else if (strcmp(kind, "сотрудник") == 0 || strcmp(kind, "Сотрудник") == 0)
            staff_row(&t, f, school);
        else
            err(&t, "bad_kind", f[C_NAME], kind);
    }
    smap_free(&t.schools);
    if (model_keep_csv(m, &csv) != 0) {
        roster_csv_close(&csv);
        return -1;
    }
    roster_link(m, rep);
    return 0;
}
