/*
 * Configuration loader (see config.h). The YAML document is loaded with libyaml's document
 * API and walked against a table of fields per section; each field knows its type, its place
 * in struct mes_config and its bounds. Errors name the file, the line and the dotted key.
 * No global state: safe from any thread.
 */
#include "config/config.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILE_BYTES (1 << 20)

enum kind {
    K_STR,
    K_INT,
    K_LLONG,
    K_BOOL,
    K_ENUM,
    K_LANGS,
    K_PERIODS,
    K_HOLIDAYS,
    K_SUBJECTS,
    K_FORMS,
    K_SECTION
};

struct field {
    const char *key;
    enum kind kind;
    size_t off;  /* offset in struct mes_config */
    size_t size; /* K_STR: buffer size */
    long long min, max;
    const char *const *names;    /* K_ENUM: names, index = value */
    const struct field *section; /* K_SECTION: its fields, ending with a NULL key */
};

struct ctx {
    const char *name;
    yaml_document_t *doc;
    struct mes_config *cfg;
    char *err;
    size_t errlen;
};

#define OFF(f) offsetof(struct mes_config, f)
#define STR(k, f)                                                                                  \
    {                                                                                              \
        k, K_STR, OFF(f), sizeof(((struct mes_config *)0)->f), 0, 0, NULL, NULL                    \
    }
#define INT(k, f, lo, hi)                                                                          \
    {                                                                                              \
        k, K_INT, OFF(f), 0, lo, hi, NULL, NULL                                                    \
    }
#define LLONG(k, f, lo, hi)                                                                        \
    {                                                                                              \
        k, K_LLONG, OFF(f), 0, lo, hi, NULL, NULL                                                  \
    }
#define BOOL(k, f)                                                                                 \
    {                                                                                              \
        k, K_BOOL, OFF(f), 0, 0, 0, NULL, NULL                                                     \
    }
#define ENUM(k, f, names)                                                                          \
    {                                                                                              \
        k, K_ENUM, OFF(f), 0, 0, 0, names, NULL                                                    \
    }

static const char *const mode_names[] = {"region", "hub", NULL};
static const char *const period_names[] = {"quarters", "trimesters", "semesters", NULL};
static const char *const sync_names[] = {"normal", "full", NULL};

static const struct field region_fields[] = {
    STR("name", region.name),
    STR("code", region.code),
    STR("timezone", region.timezone),
    {"languages", K_LANGS, OFF(region), 0, 0, 0, NULL, NULL},
    {NULL},
};
static const struct field school_year_fields[] = {
    ENUM("period_system", school_year.system, period_names),
    {"periods", K_PERIODS, OFF(school_year), 0, 0, 0, NULL, NULL},
    {"holidays", K_HOLIDAYS, OFF(school_year), 0, 0, 0, NULL, NULL},
    {NULL},
};
static const struct field grading_fields[] = {
    INT("min", grading.min, 0, 100),
    INT("max", grading.max, 1, 100),
    BOOL("pass_fail", grading.pass_fail),
    {"control_forms", K_FORMS, OFF(grading), 0, 0, 0, NULL, NULL},
    {NULL},
};
static const struct field http_fields[] = {
    STR("listen", http.listen),
    INT("threads", http.threads, 1, 1024),
    INT("request_timeout_ms", http.request_timeout_ms, 100, 600000),
    INT("keep_alive_timeout_ms", http.keep_alive_timeout_ms, 0, 600000),
    LLONG("max_body_bytes", http.max_body_bytes, 1024, 1LL << 30),
    STR("access_log", http.access_log),
    {NULL},
};
static const struct field storage_fields[] = {
    STR("data_dir", storage.data_dir),
    INT("busy_timeout_ms", storage.busy_timeout_ms, 0, 600000),
    ENUM("synchronous", storage.synchronous, sync_names),
    LLONG("mmap_bytes", storage.mmap_bytes, 0, 1LL << 40),
    {NULL},
};
static const struct field auth_fields[] = {
    INT("session_ttl_hours", auth.session_ttl_hours, 1, 24 * 90),
    INT("max_failures_per_login", auth.max_failures_per_login, 1, 1000),
    INT("max_failures_per_address", auth.max_failures_per_address, 1, 100000),
    INT("failure_window_s", auth.failure_window_s, 1, 86400),
    LLONG("argon2_opslimit", auth.argon2_opslimit, 1, 64),
    LLONG("argon2_memlimit_kib", auth.argon2_memlimit_kib, 8, 4 * 1024 * 1024),
    BOOL("cookie_secure", auth.cookie_secure),
    {NULL},
};
static const struct field federation_fields[] = {
    BOOL("enabled", federation.enabled),
    STR("hub_url", federation.hub_url),
    STR("hub_public_key", federation.hub_public_key),
    STR("secret_key_file", federation.secret_key_file),
    INT("sync_interval_s", federation.sync_interval_s, 10, 86400 * 7),
    INT("k_suppression", federation.k_suppression, 2, 1000),
    {NULL},
};
static const struct field top_fields[] = {
    ENUM("mode", mode, mode_names),
    {"region", K_SECTION, 0, 0, 0, 0, NULL, region_fields},
    {"school_year", K_SECTION, 0, 0, 0, 0, NULL, school_year_fields},
    {"grading", K_SECTION, 0, 0, 0, 0, NULL, grading_fields},
    {"subjects", K_SUBJECTS, 0, 0, 0, 0, NULL, NULL},
    {"http", K_SECTION, 0, 0, 0, 0, NULL, http_fields},
    {"storage", K_SECTION, 0, 0, 0, 0, NULL, storage_fields},
    {"auth", K_SECTION, 0, 0, 0, 0, NULL, auth_fields},
    {"federation", K_SECTION, 0, 0, 0, 0, NULL, federation_fields},
    {NULL},
};

/* Default period tables: realistic Russian school calendars. */
static const struct cfg_period quarters[] = {
    {"1 четверть", 9, 1, 10, 26},
    {"2 четверть", 11, 5, 12, 28},
    {"3 четверть", 1, 9, 3, 22},
    {"4 четверть", 4, 1, 5, 26},
};
static const struct cfg_period trimesters[] = {
    {"1 триместр", 9, 1, 11, 30},
    {"2 триместр", 12, 1, 2, 28},
    {"3 триместр", 3, 1, 5, 26},
};
static const struct cfg_period semesters[] = {
    {"1 полугодие", 9, 1, 12, 28},
    {"2 полугодие", 1, 9, 5, 26},
};

static void default_periods(struct mes_config *cfg)
{
    const struct cfg_period *p = quarters;
    int n = 4;
    if (cfg->school_year.system == PERIODS_TRIMESTERS) {
        p = trimesters;
        n = 3;
    } else if (cfg->school_year.system == PERIODS_SEMESTERS) {
        p = semesters;
        n = 2;
    }
    memcpy(cfg->school_year.periods, p, (size_t)n * sizeof(*p));
    cfg->school_year.nperiods = n;
}

/* Federal public holidays that fall inside school periods (Russia). */
static const int default_holidays[][2] = {{11, 4}, {2, 23}, {3, 8}, {5, 1}, {5, 9}};

/* Control forms of marks with their default weights. */
static const struct cfg_control_form default_forms[] = {
    {"oral", "Ответ на уроке", 1},
    {"homework", "Домашняя работа", 1},
    {"independent", "Самостоятельная работа", 2},
    {"practical", "Практическая работа", 2},
    {"test", "Проверочная работа", 2},
    {"dictation", "Диктант", 2},
    {"control", "Контрольная работа", 3},
    {"exam", "Итоговая работа", 4},
};

const char *config_period_system_name(enum period_system s)
{
    return s <= PERIODS_SEMESTERS ? period_names[s] : "?";
}

void config_defaults(struct mes_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = NODE_REGION;
    snprintf(cfg->region.name, sizeof(cfg->region.name), "Демонстрационный регион");
    snprintf(cfg->region.code, sizeof(cfg->region.code), "00");
    snprintf(cfg->region.timezone, sizeof(cfg->region.timezone), "Europe/Moscow");
    snprintf(cfg->region.languages[0], sizeof(cfg->region.languages[0]), "ru");
    cfg->region.nlanguages = 1;
    cfg->school_year.system = PERIODS_QUARTERS;
    default_periods(cfg);
    cfg->grading.min = 2;
    cfg->grading.max = 5;
    cfg->grading.pass_fail = true;
    cfg->grading.nforms = (int)(sizeof(default_forms) / sizeof(default_forms[0]));
    memcpy(cfg->grading.forms, default_forms, sizeof(default_forms));
    cfg->school_year.nholidays = (int)(sizeof(default_holidays) / sizeof(default_holidays[0]));
    for (int i = 0; i < cfg->school_year.nholidays; i++) {
        cfg->school_year.holidays[i].month = default_holidays[i][0];
        cfg->school_year.holidays[i].day = default_holidays[i][1];
    }
    snprintf(cfg->http.listen, sizeof(cfg->http.listen), "127.0.0.1:8080");
    cfg->http.threads = 32;
    cfg->http.request_timeout_ms = 5000;
    cfg->http.keep_alive_timeout_ms = 2000;
    cfg->http.max_body_bytes = 1048576;
    snprintf(cfg->storage.data_dir, sizeof(cfg->storage.data_dir), "/var/lib/mesnode");
    cfg->storage.busy_timeout_ms = 5000;
    cfg->storage.synchronous = SYNC_FULL;
    cfg->storage.mmap_bytes = 268435456;
    cfg->auth.session_ttl_hours = 12;
    cfg->auth.max_failures_per_login = 5;
    cfg->auth.max_failures_per_address = 50;
    cfg->auth.failure_window_s = 900;
    cfg->auth.argon2_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    cfg->auth.argon2_memlimit_kib = crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024;
    cfg->auth.cookie_secure = false;
    cfg->federation.enabled = false;
    cfg->federation.sync_interval_s = 300;
    cfg->federation.k_suppression = 5;
}

/* Records "NAME:LINE: KEY: message" and returns -1. */
static int fail(struct ctx *c, const yaml_node_t *node, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct ctx *c, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%lu: %s%s%s", c->name,
             node ? (unsigned long)node->start_mark.line + 1 : 1UL, key ? key : "",
             key && key[0] ? ": " : "", msg);
    return -1;
}

static const char *kind_name(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a scalar";
}

/* The scalar's text (NUL-terminated by libyaml), or NULL after an error for non-scalars. */
static const char *scalar(struct ctx *c, const yaml_node_t *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE) {
        fail(c, n, key, "expected a value, got %s", kind_name(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static int parse_int(struct ctx *c, const yaml_node_t *n, const char *key, long long lo,
                     long long hi, long long *out)
{
    const char *s = scalar(c, n, key);
    if (s == NULL)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return fail(c, n, key, "expected an integer between %lld and %lld, got \"%s\"", lo, hi, s);
    *out = v;
    return 0;
}

static int parse_bool(struct ctx *c, const yaml_node_t *n, const char *key, bool *out)
{
    const char *s = scalar(c, n, key);
    if (s == NULL)
        return -1;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
        *out = false;
    else
        return fail(c, n, key, "expected true or false, got \"%s\"", s);
    return 0;
}

static int copy_str(struct ctx *c, const yaml_node_t *n, const char *key, char *dst, size_t size)
{
    const char *s = scalar(c, n, key);
    if (s == NULL)
        return -1;
    size_t len = strlen(s);
    if (len != n->data.scalar.length)
        return fail(c, n, key, "contains a NUL byte");
    if (len >= size)
        return fail(c, n, key, "too long (%zu bytes, at most %zu)", len, size - 1);
    memcpy(dst, s, len + 1);
    return 0;
}

/* "MM-DD" into month and day. */
static int parse_month_day(struct ctx *c, const yaml_node_t *n, const char *key, int *m, int *d)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s = scalar(c, n, key);
    if (s == NULL)
        return -1;
    if (strlen(s) != 5 || s[2] != '-' || sscanf(s, "%2d-%2d", m, d) != 2 || *m < 1 || *m > 12 ||
        *d < 1 || *d > days[*m - 1])
        return fail(c, n, key, "expected a date MM-DD, got \"%s\"", s);
    return 0;
}

/* Position of a month/day in the school year (September first). */
static int year_pos(int m, int d)
{
    return ((m + 12 - 9) % 12) * 32 + d;
}

typedef int (*pair_fn)(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg);

/* Walks a mapping, refusing duplicate and non-scalar keys, calling fn for each pair. */
static int each_pair(struct ctx *c, yaml_node_t *map, const char *path, pair_fn fn, void *arg)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail(c, map, path, "expected a mapping, got %s", kind_name(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
            return fail(c, k, path, "keys must be plain words");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE &&
                strcmp((char *)k2->data.scalar.value, (char *)k->data.scalar.value) == 0) {
                char full[160];
                snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "",
                         (char *)k->data.scalar.value);
                return fail(c, k, full, "duplicate key");
            }
        }
        char full[160];
        snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "",
                 (char *)k->data.scalar.value);
        if (fn(c, full, k, v, arg) != 0)
            return -1;
    }
    return 0;
}

static int parse_languages(struct ctx *c, const char *key, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(c, v, key, "expected a list of language codes, got %s", kind_name(v));
    int n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        const char *s = item ? scalar(c, item, key) : NULL;
        if (s == NULL)
            return -1;
        size_t len = strlen(s);
        bool ok = len >= 2 && len <= 3;
        for (size_t i = 0; i < len; i++)
            ok = ok && s[i] >= 'a' && s[i] <= 'z';
        if (!ok)
            return fail(c, item, key, "\"%s\" is not a language code (2-3 lowercase letters)", s);
        if (n >= CFG_MAX_LANGUAGES)
            return fail(c, item, key, "at most %d languages", CFG_MAX_LANGUAGES);
        for (int j = 0; j < n; j++)
            if (strcmp(c->cfg->region.languages[j], s) == 0)
                return fail(c, item, key, "\"%s\" is listed twice", s);
        memcpy(c->cfg->region.languages[n++], s, len + 1);
    }
    if (n == 0)
        return fail(c, v, key, "at least one language is needed");
    c->cfg->region.nlanguages = n;
    return 0;
}

static int period_pair(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_period *p = arg;
    const char *name = (const char *)k->data.scalar.value;
    if (strcmp(name, "name") == 0)
        return copy_str(c, v, key, p->name, sizeof(p->name));
    if (strcmp(name, "start") == 0)
        return parse_month_day(c, v, key, &p->start_month, &p->start_day);
    if (strcmp(name, "end") == 0)
        return parse_month_day(c, v, key, &p->end_month, &p->end_day);
    return fail(c, k, key, "unknown key (expected name, start, end)");
}

static int parse_periods(struct ctx *c, const char *key, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(c, v, key, "expected a list of periods, got %s", kind_name(v));
    struct cfg_period *out = c->cfg->school_year.periods;
    int n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (n >= CFG_MAX_PERIODS)
            return fail(c, item, key, "at most %d periods", CFG_MAX_PERIODS);
        struct cfg_period p = {0};
        char path[96];
        snprintf(path, sizeof(path), "%s[%d]", key, n);
        if (each_pair(c, item, path, period_pair, &p) != 0)
            return -1;
        if (p.name[0] == '\0' || p.start_month == 0 || p.end_month == 0)
            return fail(c, item, path, "a period needs name, start and end");
        if (year_pos(p.start_month, p.start_day) > year_pos(p.end_month, p.end_day))
            return fail(c, item, path, "ends before it starts");
        if (n > 0 && year_pos(p.start_month, p.start_day) <=
                         year_pos(out[n - 1].end_month, out[n - 1].end_day))
            return fail(c, item, path, "overlaps or precedes the period before it");
        out[n++] = p;
    }
    if (n == 0)
        return fail(c, v, key, "at least one period is needed");
    c->cfg->school_year.nperiods = n;
    return 0;
}

static int parse_holidays(struct ctx *c, const char *key, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(c, v, key, "expected a list of dates MM-DD, got %s", kind_name(v));
    int n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (n >= CFG_MAX_HOLIDAYS)
            return fail(c, item, key, "at most %d holidays", CFG_MAX_HOLIDAYS);
        if (parse_month_day(c, item, key, &c->cfg->school_year.holidays[n].month,
                            &c->cfg->school_year.holidays[n].day) != 0)
            return -1;
        n++;
    }
    c->cfg->school_year.nholidays = n;
    return 0;
}

static int form_pair(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_control_form *f = arg;
    const char *name = (const char *)k->data.scalar.value;
    long long w;
    if (strcmp(name, "code") == 0)
        return copy_str(c, v, key, f->code, sizeof(f->code));
    if (strcmp(name, "name") == 0)
        return copy_str(c, v, key, f->name, sizeof(f->name));
    if (strcmp(name, "weight") == 0) {
        if (parse_int(c, v, key, 1, 10, &w) != 0)
            return -1;
        f->weight = (int)w;
        return 0;
    }
    return fail(c, k, key, "unknown key (expected code, name, weight)");
}

static int parse_forms(struct ctx *c, const char *key, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(c, v, key, "expected a list of control forms, got %s", kind_name(v));
    int n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (n >= CFG_MAX_FORMS)
            return fail(c, item, key, "at most %d control forms", CFG_MAX_FORMS);
        struct cfg_control_form f = {0};
        char path[96];
        snprintf(path, sizeof(path), "%s[%d]", key, n);
        if (each_pair(c, item, path, form_pair, &f) != 0)
            return -1;
        if (f.code[0] == '\0' || f.name[0] == '\0' || f.weight == 0)
            return fail(c, item, path, "a control form needs code, name and weight");
        for (int j = 0; j < n; j++)
            if (strcmp(c->cfg->grading.forms[j].code, f.code) == 0)
                return fail(c, item, path, "code \"%s\" is listed twice", f.code);
        c->cfg->grading.forms[n++] = f;
    }
    if (n == 0)
        return fail(c, v, key, "at least one control form is needed");
    c->cfg->grading.nforms = n;
    return 0;
}

static int subject_pair(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_subject *s = arg;
    const char *name = (const char *)k->data.scalar.value;
    if (strcmp(name, "code") == 0)
        return copy_str(c, v, key, s->code, sizeof(s->code));
    if (strcmp(name, "name") == 0)
        return copy_str(c, v, key, s->name, sizeof(s->name));
    return fail(c, k, key, "unknown key (expected code, name)");
}

static int parse_subjects(struct ctx *c, const char *key, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(c, v, key, "expected a list of subjects, got %s", kind_name(v));
    int n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (n >= CFG_MAX_SUBJECTS)
            return fail(c, item, key, "at most %d regional subjects", CFG_MAX_SUBJECTS);
        struct cfg_subject s = {0};
        char path[96];
        snprintf(path, sizeof(path), "%s[%d]", key, n);
        if (each_pair(c, item, path, subject_pair, &s) != 0)
            return -1;
        if (s.code[0] == '\0' || s.name[0] == '\0')
            return fail(c, item, path, "a subject needs code and name");
        for (const char *p = s.code; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                return fail(c, item, path, "code \"%s\": lowercase letters, digits and _ only",
                            s.code);
        for (int j = 0; j < n; j++)
            if (strcmp(c->cfg->subjects[j].code, s.code) == 0)
                return fail(c, item, path, "code \"%s\" is listed twice", s.code);
        c->cfg->subjects[n++] = s;
    }
    c->cfg->nsubjects = n;
    return 0;
}

static int field_pair(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const struct field *fields = arg;
    const char *name = (const char *)k->data.scalar.value;
    const struct field *f = fields;
    while (f->key && strcmp(f->key, name) != 0)
        f++;
    if (f->key == NULL) {
        char known[256] = "";
        for (const struct field *g = fields; g->key; g++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     known[0] ? ", " : "", g->key);
        return fail(c, k, key, "unknown key (known: %s)", known);
    }
    char *base = (char *)c->cfg;
    long long n;
    switch (f->kind) {
    case K_STR:
        return copy_str(c, v, key, base + f->off, f->size);
    case K_INT:
        if (parse_int(c, v, key, f->min, f->max, &n) != 0)
            return -1;
        *(int *)(base + f->off) = (int)n;
        return 0;
    case K_LLONG:
        if (parse_int(c, v, key, f->min, f->max, &n) != 0)
            return -1;
        *(long long *)(base + f->off) = n;
        return 0;
    case K_BOOL:
        return parse_bool(c, v, key, (bool *)(base + f->off));
    case K_ENUM: {
        const char *s = scalar(c, v, key);
        if (s == NULL)
            return -1;
        for (int i = 0; f->names[i]; i++)
            if (strcmp(s, f->names[i]) == 0) {
                *(int *)(base + f->off) = i;
                if (f->off == OFF(school_year.system))
                    default_periods(c->cfg);
                return 0;
            }
        char known[128] = "";
        for (int i = 0; f->names[i]; i++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
                     f->names[i]);
        return fail(c, v, key, "expected one of %s, got \"%s\"", known, s);
    }
    case K_LANGS:
        return parse_languages(c, key, v);
    case K_PERIODS:
        return parse_periods(c, key, v);
    case K_HOLIDAYS:
        return parse_holidays(c, key, v);
    case K_FORMS:
        return parse_forms(c, key, v);
    case K_SUBJECTS:
        return parse_subjects(c, key, v);
    case K_SECTION:
        return each_pair(c, v, key, field_pair, (void *)f->section);
    }
    return fail(c, k, key, "internal: unknown field kind");
}

/* Finds the node of a dotted top-level key (for messages about relations between keys). */
static yaml_node_t *find(struct ctx *c, const char *section, const char *key)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (strcmp((char *)k->data.scalar.value, section) != 0)
            continue;
        if (key == NULL || v->type != YAML_MAPPING_NODE)
            return key == NULL ? v : k;
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
             q++) {
            yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);
            if (strcmp((char *)k2->data.scalar.value, key) == 0)
                return yaml_document_get_node(c->doc, q->value);
        }
        return k;
    }
    return root;
}

static bool valid_minisign_key(const char *s)
{
    unsigned char raw[64];
    size_t len = 0;
    if (strncmp(s, "RW", 2) != 0)
        return false;
    if (sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return len == 42 && raw[0] == 'E' && raw[1] == 'd';
}

/* Checks that involve several keys. */
static int validate(struct ctx *c)
{
    struct mes_config *cfg = c->cfg;
    const char *code = cfg->region.code;
    if (strlen(code) != 2 || code[0] < '0' || code[0] > '9' || code[1] < '0' || code[1] > '9')
        return fail(c, find(c, "region", "code"), "region.code",
                    "expected a two-digit region code, got \"%s\"", code);
    if (cfg->region.name[0] == '\0')
        return fail(c, find(c, "region", "name"), "region.name", "must not be empty");
    if (strchr(cfg->region.timezone, '/') == NULL && strcmp(cfg->region.timezone, "UTC") != 0)
        return fail(c, find(c, "region", "timezone"), "region.timezone",
                    "expected an IANA zone such as Europe/Moscow, got \"%s\"",
                    cfg->region.timezone);
    static const int expected[] = {4, 3, 2};
    if (cfg->school_year.nperiods != expected[cfg->school_year.system])
        return fail(c, find(c, "school_year", "periods"), "school_year.periods",
                    "%s need %d periods, %d given",
                    config_period_system_name(cfg->school_year.system),
                    expected[cfg->school_year.system], cfg->school_year.nperiods);
    if (cfg->grading.min >= cfg->grading.max)
        return fail(c, find(c, "grading", "min"), "grading.min", "must be below grading.max");
    if (strchr(cfg->http.listen, ':') == NULL)
        return fail(c, find(c, "http", "listen"), "http.listen",
                    "expected ADDRESS:PORT, got \"%s\"", cfg->http.listen);
    if (cfg->storage.data_dir[0] == '\0')
        return fail(c, find(c, "storage", "data_dir"), "storage.data_dir", "must not be empty");
    const char *pk = cfg->federation.hub_public_key;
    if (pk[0] != '\0' && !valid_minisign_key(pk))
        return fail(c, find(c, "federation", "hub_public_key"), "federation.hub_public_key",
                    "not a minisign public key (base64 \"RW...\" of 42 bytes)");
    if (cfg->federation.enabled && cfg->mode == NODE_REGION &&
        (cfg->federation.hub_url[0] == '\0' || pk[0] == '\0'))
        return fail(c, find(c, "federation", "enabled"), "federation.enabled",
                    "a region needs hub_url and hub_public_key to enable federation");
    if (cfg->federation.hub_url[0] != '\0' && strncmp(cfg->federation.hub_url, "http://", 7) &&
        strncmp(cfg->federation.hub_url, "https://", 8))
        return fail(c, find(c, "federation", "hub_url"), "federation.hub_url",
                    "expected an http:// or https:// address");
    return 0;
}

int config_load_string(const char *name, const char *text, size_t len, struct mes_config *cfg,
                       char *err, size_t errlen)
{
    config_defaults(cfg);
    snprintf(cfg->path, sizeof(cfg->path), "%s", name);
    struct ctx c = {.name = name, .cfg = cfg, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = -1, have_doc = 0;
    err[0] = '\0';
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: YAML syntax: %s%s%s", name,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        goto out;
    }
    have_doc = 1;
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        snprintf(err, errlen, "%s:1: the file is empty", name);
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        fail(&c, root, "", "the document must be a mapping of sections, got %s", kind_name(root));
        goto out;
    }
    if (each_pair(&c, root, "", field_pair, (void *)top_fields) != 0 || validate(&c) != 0)
        goto out;
    rc = 0;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int config_load(const char *path, struct mes_config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    if (n > MAX_FILE_BYTES) {
        free(buf);
        snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_FILE_BYTES);
        return -1;
    }
    int rc = config_load_string(path, buf, n, cfg, err, errlen);
    free(buf);
    return rc;
}
