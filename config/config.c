/*
 * Configuration loader (contract in config.h; every key in docs/configuration.md).
 *
 * A node reads one small YAML file once, at start, so clarity beats speed here. The text is
 * parsed twice with libyaml: a first pass over the events refuses what the document API would
 * hide (aliases, a second document) and reports syntax errors with their line; the second pass
 * loads the document tree, which is walked against tables of fields, one table per section.
 * Each field knows its type, its place in struct mes_config and its bounds; lists (languages,
 * periods, holidays, control forms, subjects) have their own parsers. Relations between keys
 * (grading.min < grading.max, the period count of the system, federation prerequisites) are
 * checked last, in validate().
 *
 * Every refusal reads "NAME:LINE: dotted.key: what is wrong", LINE being 1-based and taken from
 * libyaml's marks. Values from the file are quoted in messages through show(), cut and escaped,
 * so a message never carries control bytes and always fits. Nothing is truncated silently: a
 * string longer than its field is refused.
 *
 * No global mutable state (the tables are const): safe to call from any thread.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/proxy.h"

#define MAX_FILE_BYTES (1 << 20) /* a configuration is a few KiB; refuse anything absurd */
#define MAX_KEY_BYTES  40        /* longest key word accepted (the longest real one: 24) */
#define MAX_PATH_KEY   128       /* "school_year.periods[5].start" and the like */
#define SHOW_BYTES     48        /* how much of a bad value a message quotes */
/* Deepest nesting of mappings and lists accepted: a configuration needs 4 (the document, a
 * section, a list, an item). libyaml parses without recursion, but its scanner checks every
 * open flow level for each token, so "{a: {a: ..." costs the square of its depth (a 1 MiB file
 * of it: hours); the first pass stops at the first level too deep. */
#define MAX_NESTING 16

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
    K_PROXIES,
    K_BENEFITS,
    K_SECTION
};

struct field {
    const char *key;
    enum kind kind;
    size_t off;  /* offset in struct mes_config */
    size_t size; /* K_STR: buffer size */
    long long min, max;
    const char *const *names;    /* K_ENUM: names, index = value, NULL-terminated */
    const struct field *section; /* K_SECTION: its fields, ending with a NULL key */
};

/* State of one load; lives on the caller's stack. */
struct ctx {
    const char *name; /* the file, for messages */
    const char *text; /* the YAML text and its length (to place reader errors) */
    size_t len;
    yaml_document_t *doc;
    struct mes_config *cfg;
    char *err;
    size_t errlen;
    bool periods_given; /* school_year.periods was in the file */
};

#define OFF(f)  offsetof(struct mes_config, f)
#define SIZE(f) sizeof(((struct mes_config *)0)->f)
#define STR(k, f)                                                                                  \
    {                                                                                              \
        k, K_STR, OFF(f), SIZE(f), 0, 0, NULL, NULL                                                \
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
#define LIST(k, kind)                                                                              \
    {                                                                                              \
        k, kind, 0, 0, 0, 0, NULL, NULL                                                            \
    }
#define SECTION(k, fields)                                                                         \
    {                                                                                              \
        k, K_SECTION, 0, 0, 0, 0, NULL, fields                                                     \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, K_STR, 0, 0, 0, 0, NULL, NULL                                                        \
    }

/* Enum words, indexed by the enum's value (config.h). */
static const char *const mode_names[] = {"region", "hub", NULL};
static const char *const period_names[] = {"quarters", "trimesters", "semesters", NULL};
static const char *const sync_names[] = {"normal", "full", NULL};

static const struct field region_fields[] = {
    STR("name", region.name),
    STR("code", region.code),
    STR("timezone", region.timezone),
    LIST("languages", K_LANGS),
    END,
};
static const struct field school_year_fields[] = {
    ENUM("period_system", school_year.system, period_names),
    LIST("periods", K_PERIODS),
    LIST("holidays", K_HOLIDAYS),
    END,
};
static const struct field grading_fields[] = {
    INT("min", grading.min, 0, 100),
    INT("max", grading.max, 1, 100),
    BOOL("pass_fail", grading.pass_fail),
    LIST("control_forms", K_FORMS),
    END,
};
static const struct field http_fields[] = {
    STR("listen", http.listen),
    INT("threads", http.threads, 1, 1024),
    INT("request_timeout_ms", http.request_timeout_ms, 100, 600000),
    INT("keep_alive_timeout_ms", http.keep_alive_timeout_ms, 0, 600000),
    LLONG("max_body_bytes", http.max_body_bytes, 1024, 1LL << 30),
    INT("cache_mb", http.cache_mb, 0, 65536),
    LLONG("max_upload_bytes", http.max_upload_bytes, 1024, 1LL << 30),
    STR("access_log", http.access_log),
    STR("public_url", http.public_url),
    LIST("trusted_proxies", K_PROXIES),
    INT("max_json_depth", http.max_json_depth, 1, 1024),
    INT("thread_stack_kib", http.thread_stack_kib, 256, 65536),
    END,
};
static const struct field storage_fields[] = {
    STR("data_dir", storage.data_dir),
    INT("busy_timeout_ms", storage.busy_timeout_ms, 0, 600000),
    ENUM("synchronous", storage.synchronous, sync_names),
    LLONG("mmap_bytes", storage.mmap_bytes, 0, 1LL << 40),
    END,
};
static const struct field auth_fields[] = {
    INT("session_ttl_hours", auth.session_ttl_hours, 1, 24 * 90),
    INT("client_free_failures", auth.client_free_failures, 1, 1000),
    INT("login_free_failures", auth.login_free_failures, 1, 100000),
    INT("address_free_failures", auth.address_free_failures, 1, 100000),
    INT("device_free_failures", auth.device_free_failures, 1, 1000),
    INT("device_lockout_failures", auth.device_lockout_failures, 1, 1000),
    INT("delay_s", auth.delay_s, 1, 86400),
    INT("max_delay_s", auth.max_delay_s, 1, 86400),
    INT("failure_window_s", auth.failure_window_s, 1, 86400),
    INT("device_cookie_days", auth.device_cookie_days, 1, 3650),
    /* The names of the throttle before growing delays (a hard lock), still read. */
    INT("max_failures_per_login", auth.login_free_failures, 1, 100000),
    INT("max_failures_per_address", auth.address_free_failures, 1, 100000),
    LLONG("argon2_opslimit", auth.argon2_opslimit, 1, 64),
    LLONG("argon2_memlimit_kib", auth.argon2_memlimit_kib, 8, 4 * 1024 * 1024),
    BOOL("cookie_secure", auth.cookie_secure),
    INT("activation_days", auth.activation_days, 1, 365),
    INT("password_min_length", auth.password_min_length, 6, 128),
    BOOL("password_letters_and_digits", auth.password_letters_and_digits),
    END,
};
static const struct field federation_fields[] = {
    BOOL("enabled", federation.enabled),
    STR("hub_url", federation.hub_url),
    STR("hub_public_key", federation.hub_public_key),
    STR("secret_key_file", federation.secret_key_file),
    STR("ca_file", federation.ca_file),
    INT("sync_interval_s", federation.sync_interval_s, 10, 86400 * 7),
    INT("k_suppression", federation.k_suppression, 2, 1000),
    END,
};
static const struct field meals_fields[] = {
    LLONG("overdraft_kopecks", meals.overdraft_kopecks, 0, 10000000),
    LLONG("low_balance_kopecks", meals.low_balance_kopecks, 0, 10000000),
    INT("free_grade_from", meals.free_grade_from, 0, 11),
    INT("free_grade_to", meals.free_grade_to, 0, 11),
    STR("free_complexes", meals.free_complexes),
    LIST("benefit_categories", K_BENEFITS),
    STR("benefit_complexes", meals.benefit_complexes),
    STR("payment_secret", meals.payment_secret),
    STR("payment_url", meals.payment_url),
    END,
};
static const struct field top_fields[] = {
    ENUM("mode", mode, mode_names),
    SECTION("region", region_fields),
    SECTION("school_year", school_year_fields),
    SECTION("grading", grading_fields),
    LIST("subjects", K_SUBJECTS),
    SECTION("http", http_fields),
    SECTION("storage", storage_fields),
    SECTION("auth", auth_fields),
    SECTION("federation", federation_fields),
    SECTION("meals", meals_fields),
    END,
};

/* Default period tables: the usual Russian school calendars (autumn, winter and spring
 * breaks fall between periods). Counts must match period_count(). */
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

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* How many periods a system has: 4 quarters, 3 trimesters, 2 semesters. */
static int period_count(enum period_system s)
{
    return s == PERIODS_TRIMESTERS  ? COUNT(trimesters)
           : s == PERIODS_SEMESTERS ? COUNT(semesters)
                                    : COUNT(quarters);
}

static void default_periods(struct mes_config *cfg)
{
    const struct cfg_period *p = cfg->school_year.system == PERIODS_TRIMESTERS  ? trimesters
                                 : cfg->school_year.system == PERIODS_SEMESTERS ? semesters
                                                                                : quarters;
    int n = period_count(cfg->school_year.system);
    memcpy(cfg->school_year.periods, p, (size_t)n * sizeof(*p));
    cfg->school_year.nperiods = n;
}

const char *config_period_system_name(enum period_system s)
{
    return (unsigned)s <= (unsigned)PERIODS_SEMESTERS ? period_names[s] : "?";
}

/* Copies a constant default into a field; the defaults all fit (asserted by the tests). */
static void set_default(char *dst, size_t size, const char *value)
{
    size_t len = strlen(value);
    if (len >= size)
        len = size - 1;
    memcpy(dst, value, len);
    dst[len] = '\0';
}

void config_defaults(struct mes_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = NODE_REGION;
    set_default(cfg->region.name, sizeof(cfg->region.name), "Демонстрационный регион");
    set_default(cfg->region.code, sizeof(cfg->region.code), "00");
    set_default(cfg->region.timezone, sizeof(cfg->region.timezone), "Europe/Moscow");
    set_default(cfg->region.languages[0], sizeof(cfg->region.languages[0]), "ru");
    cfg->region.nlanguages = 1;
    cfg->school_year.system = PERIODS_QUARTERS;
    default_periods(cfg);
    cfg->school_year.nholidays = COUNT(default_holidays);
    for (int i = 0; i < cfg->school_year.nholidays; i++) {
        cfg->school_year.holidays[i].month = default_holidays[i][0];
        cfg->school_year.holidays[i].day = default_holidays[i][1];
    }
    cfg->grading.min = 2;
    cfg->grading.max = 5;
    cfg->grading.pass_fail = true;
    cfg->grading.nforms = COUNT(default_forms);
    memcpy(cfg->grading.forms, default_forms, sizeof(default_forms));
    set_default(cfg->http.listen, sizeof(cfg->http.listen), "127.0.0.1:8080");
    cfg->http.threads = 32;
    cfg->http.request_timeout_ms = 5000;
    cfg->http.keep_alive_timeout_ms = 2000;
    cfg->http.max_body_bytes = 1048576;
    cfg->http.cache_mb = 64;
    cfg->http.max_upload_bytes = 20LL << 20;
    cfg->http.max_json_depth = 32;
    cfg->http.thread_stack_kib = 1024;
    set_default(cfg->storage.data_dir, sizeof(cfg->storage.data_dir), "/var/lib/mesnode");
    cfg->storage.busy_timeout_ms = 5000;
    cfg->storage.synchronous = SYNC_FULL;
    cfg->storage.mmap_bytes = 0;
    cfg->auth.session_ttl_hours = 12;
    cfg->auth.client_free_failures = 5;
    cfg->auth.login_free_failures = 10;
    cfg->auth.address_free_failures = 50;
    cfg->auth.device_free_failures = 5;
    cfg->auth.device_lockout_failures = 10;
    cfg->auth.delay_s = 30;
    cfg->auth.max_delay_s = 900;
    cfg->auth.failure_window_s = 900;
    cfg->auth.device_cookie_days = 180;
    cfg->auth.argon2_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    cfg->auth.argon2_memlimit_kib = crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024;
    cfg->auth.cookie_secure = false;
    cfg->auth.activation_days = 30;
    cfg->auth.password_min_length = 8;
    cfg->auth.password_letters_and_digits = true;
    cfg->federation.enabled = false;
    cfg->federation.sync_interval_s = 300;
    cfg->federation.k_suppression = 5;
    cfg->meals.overdraft_kopecks = 0;
    cfg->meals.low_balance_kopecks = 10000;
    cfg->meals.free_grade_from = 1;
    cfg->meals.free_grade_to = 4;
    set_default(cfg->meals.free_complexes, sizeof(cfg->meals.free_complexes), "breakfast");
    set_default(cfg->meals.benefit_complexes, sizeof(cfg->meals.benefit_complexes),
                "breakfast lunch");
}

/* ---- messages ---- */

/* After snprintf cut `buf` (of `size` bytes): ends it with "..." on a UTF-8 boundary. */
static void mark_cut(char *buf, size_t size)
{
    if (size < 4)
        return;
    size_t end = size - 4;
    while (end > 0 && ((unsigned char)buf[end] & 0xC0) == 0x80)
        end--;
    memcpy(buf + end, "...", 4);
}

/* Writes `s` (`len` bytes) into `out` as a double-quoted, escaped, shortened text for a
 * message: "abc", "a\x01b", "very long te...". `out` needs SHOW_BYTES * 4 + 8 bytes. */
static const char *show(const char *s, size_t len, char *out)
{
    size_t o = 0, i = 0;
    out[o++] = '"';
    while (i < len && i < SHOW_BYTES) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
        i++;
    }
    if (i < len) {
        while (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0x80) /* no half characters */
            o--;
        if (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0xC0)
            o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}
#define SHOW_BUF (SHOW_BYTES * 4 + 8)

/* Line (1-based) of a node, or 1 when there is none. */
static unsigned long line_of(const yaml_node_t *n)
{
    return n ? (unsigned long)n->start_mark.line + 1 : 1UL;
}

/* Records "NAME:LINE: KEY: message" in c->err and returns -1. An empty key is left out. */
static int fail(struct ctx *c, const yaml_node_t *node, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct ctx *c, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(msg, sizeof(msg), "invalid value");
    else if ((size_t)n >= sizeof(msg))
        mark_cut(msg, sizeof(msg));
    n = snprintf(c->err, c->errlen, "%s:%lu: %s%s%s", c->name, line_of(node), key ? key : "",
                 key && key[0] ? ": " : "", msg);
    if (n < 0)
        c->err[0] = '\0';
    else if ((size_t)n >= c->errlen)
        mark_cut(c->err, c->errlen);
    return -1;
}

static const char *kind_name(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return "nothing";
    return "a single value";
}

/* "path.key" or "key" into `out` (MAX_PATH_KEY bytes); -1 if it does not fit. */
static int join_key(char *out, const char *path, const char *key)
{
    int n = snprintf(out, MAX_PATH_KEY, "%s%s%s", path, path[0] ? "." : "", key);
    return n < 0 || n >= MAX_PATH_KEY ? -1 : 0;
}

/* "path[i]" into `out` (MAX_PATH_KEY bytes); -1 if it does not fit. */
static int index_key(char *out, const char *path, int i)
{
    int n = snprintf(out, MAX_PATH_KEY, "%s[%d]", path, i);
    return n < 0 || n >= MAX_PATH_KEY ? -1 : 0;
}

/* ---- scalars ---- */

/* The text of scalar `n`, or NULL after recording "expected WANT, got a mapping". */
static const char *scalar(struct ctx *c, const yaml_node_t *n, const char *key, const char *want)
{
    if (n->type != YAML_SCALAR_NODE) {
        fail(c, n, key, "expected %s, got %s", want, kind_name(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* An integer written without quotes, digits only (an optional leading minus), lo..hi. */
static int parse_int(struct ctx *c, const yaml_node_t *n, const char *key, long long lo,
                     long long hi, long long *out)
{
    char want[96], shown[SHOW_BUF];
    int w = snprintf(want, sizeof(want), "an integer between %lld and %lld", lo, hi);
    if (w < 0 || (size_t)w >= sizeof(want))
        return fail(c, n, key, "internal: message too long");
    const char *s = scalar(c, n, key, want);
    if (s == NULL)
        return -1;
    size_t len = n->data.scalar.length;
    if (!is_plain(n))
        return fail(c, n, key, "expected %s without quotes, got %s", want, show(s, len, shown));
    size_t i = s[0] == '-' ? 1 : 0, digits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    long long v = 0;
    bool ok = digits > 0 && digits <= 18 && i == len;
    if (ok) {
        errno = 0;
        v = strtoll(s, NULL, 10);
        ok = errno == 0 && v >= lo && v <= hi;
    }
    if (!ok)
        return fail(c, n, key, "expected %s, got %s", want, show(s, len, shown));
    *out = v;
    return 0;
}

static int parse_bool(struct ctx *c, const yaml_node_t *n, const char *key, bool *out)
{
    char shown[SHOW_BUF];
    const char *s = scalar(c, n, key, "true or false");
    if (s == NULL)
        return -1;
    if (is_plain(n) && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        *out = true;
    else if (is_plain(n) && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
        *out = false;
    else
        return fail(c, n, key, "expected true or false%s, got %s",
                    is_plain(n) ? "" : " without quotes", show(s, n->data.scalar.length, shown));
    return 0;
}

/* A one-line text into `dst` (`size` bytes with its NUL): refused if too long, if it holds
 * control characters, or if it is a YAML null ("~", "null"), which would not mean "empty". */
static int copy_str(struct ctx *c, const yaml_node_t *n, const char *key, char *dst, size_t size)
{
    char shown[SHOW_BUF];
    const char *s = scalar(c, n, key, "a text");
    if (s == NULL)
        return -1;
    size_t len = n->data.scalar.length;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return fail(c, n, key, "control characters (line breaks, tabs) are not allowed in %s",
                        show(s, len, shown));
    if (is_plain(n) && (strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
                        strcmp(s, "NULL") == 0))
        return fail(c, n, key, "got the YAML null %s; write \"\" for an empty text", s);
    if (len >= size)
        return fail(c, n, key, "too long (%zu bytes, at most %zu): %s", len, size - 1,
                    show(s, len, shown));
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int parse_enum(struct ctx *c, const yaml_node_t *n, const char *key,
                      const char *const *names, int *out)
{
    char known[128] = "", shown[SHOW_BUF];
    size_t used = 0;
    for (int i = 0; names[i]; i++) {
        int w = snprintf(known + used, sizeof(known) - used, "%s%s", i ? " | " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof(known) - used)
            return fail(c, n, key, "internal: too many choices");
        used += (size_t)w;
    }
    const char *s = scalar(c, n, key, known);
    if (s == NULL)
        return -1;
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return fail(c, n, key, "expected one of %s, got %s", known,
                show(s, n->data.scalar.length, shown));
}

/* "MM-DD" into month and day. February 29 is refused: it is not in every school year. */
static int parse_month_day(struct ctx *c, const yaml_node_t *n, const char *key, int *m, int *d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    char shown[SHOW_BUF];
    const char *s = scalar(c, n, key, "a date MM-DD");
    if (s == NULL)
        return -1;
    bool ok = n->data.scalar.length == 5 && s[2] == '-';
    for (int i = 0; ok && i < 5; i++)
        ok = i == 2 || (s[i] >= '0' && s[i] <= '9');
    if (ok) {
        *m = (s[0] - '0') * 10 + (s[1] - '0');
        *d = (s[3] - '0') * 10 + (s[4] - '0');
        if (*m == 2 && *d == 29)
            return fail(c, n, key, "02-29 is not in every school year; use 02-28 or 03-01");
        ok = *m >= 1 && *m <= 12 && *d >= 1 && *d <= days[*m - 1];
    }
    if (!ok)
        return fail(c, n, key, "expected a date MM-DD such as \"09-01\", got %s",
                    show(s, n->data.scalar.length, shown));
    return 0;
}

/* Position of a month/day in the school year, which starts in September. */
static int year_pos(int m, int d)
{
    return ((m + 12 - 9) % 12) * 32 + d;
}

/* ---- mappings and lists ---- */

/* Called for each pair of a mapping: `key` is the dotted key of the pair, `out` where the
 * value goes, `table` what the caller passed along (the fields of a section). */
typedef int (*pair_fn)(struct ctx *c, const char *key, const char *word, yaml_node_t *k,
                       yaml_node_t *v, void *out, const void *table);

/* Walks a mapping, refusing keys that are not plain lowercase words and duplicate keys, and
 * calls fn for each pair in the order of the file. */
static int each_pair(struct ctx *c, yaml_node_t *map, const char *path, pair_fn fn, void *out,
                     const void *table)
{
    char full[MAX_PATH_KEY], shown[SHOW_BUF];
    if (map->type != YAML_MAPPING_NODE)
        return fail(c, map, path, "expected a mapping of keys, got %s", kind_name(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
            return fail(c, k, path, "a key must be a plain word, got %s",
                        k ? kind_name(k) : "nothing");
        const char *word = (const char *)k->data.scalar.value;
        size_t len = k->data.scalar.length;
        bool ok = len > 0 && len <= MAX_KEY_BYTES;
        for (size_t i = 0; ok && i < len; i++)
            ok = (word[i] >= 'a' && word[i] <= 'z') || (word[i] >= '0' && word[i] <= '9') ||
                 word[i] == '_';
        if (!ok)
            return fail(c, k, path, "unknown key %s (keys are lowercase words such as threads)",
                        show(word, len, shown));
        if (join_key(full, path, word) != 0)
            return fail(c, k, path, "key too deep");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE &&
                strcmp((const char *)k2->data.scalar.value, word) == 0)
                return fail(c, k, full, "duplicate key (first given on line %lu)", line_of(k2));
        }
        if (fn(c, full, word, k, v, out, table) != 0)
            return -1;
    }
    return 0;
}

/* Walks a list, calling fn(item, its dotted key "path[i]", i) on each of at most `max`. */
typedef int (*item_fn)(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out);

static int each_item(struct ctx *c, yaml_node_t *list, const char *path, const char *what, int max,
                     item_fn fn, void *out, int *count)
{
    char key[MAX_PATH_KEY];
    if (list->type != YAML_SEQUENCE_NODE)
        return fail(c, list, path, "expected a list of %s, got %s", what, kind_name(list));
    int n = 0;
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (item == NULL)
            return fail(c, list, path, "internal: missing list item");
        if (n >= max)
            return fail(c, item, path, "at most %d %s", max, what);
        if (index_key(key, path, n) != 0)
            return fail(c, item, path, "key too deep");
        if (fn(c, key, item, n, out) != 0)
            return -1;
        n++;
    }
    *count = n;
    return 0;
}

static int language_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    char(*langs)[8] = out;
    char shown[SHOW_BUF];
    const char *s = scalar(c, item, key, "a language code such as ru");
    if (s == NULL)
        return -1;
    size_t len = item->data.scalar.length;
    bool ok = len >= 2 && len <= 3;
    for (size_t j = 0; ok && j < len; j++)
        ok = s[j] >= 'a' && s[j] <= 'z';
    if (!ok)
        return fail(c, item, key, "%s is not a language code (2-3 lowercase letters: ru, tt)",
                    show(s, len, shown));
    for (int j = 0; j < i; j++)
        if (strcmp(langs[j], s) == 0)
            return fail(c, item, key, "%s is listed twice", show(s, len, shown));
    memcpy(langs[i], s, len + 1);
    return 0;
}

static int parse_languages(struct ctx *c, const char *key, yaml_node_t *v)
{
    char langs[CFG_MAX_LANGUAGES][8];
    int n = 0;
    if (each_item(c, v, key, "languages", CFG_MAX_LANGUAGES, language_item, langs, &n) != 0)
        return -1;
    if (n == 0)
        return fail(c, v, key, "at least one language is needed (the first is the default)");
    memcpy(c->cfg->region.languages, langs, sizeof(langs));
    c->cfg->region.nlanguages = n;
    return 0;
}

static int period_pair(struct ctx *c, const char *key, const char *word, yaml_node_t *k,
                       yaml_node_t *v, void *out, const void *table)
{
    (void)table;
    struct cfg_period *p = out;
    if (strcmp(word, "name") == 0)
        return copy_str(c, v, key, p->name, sizeof(p->name));
    if (strcmp(word, "start") == 0)
        return parse_month_day(c, v, key, &p->start_month, &p->start_day);
    if (strcmp(word, "end") == 0)
        return parse_month_day(c, v, key, &p->end_month, &p->end_day);
    return fail(c, k, key, "unknown key (known: name, start, end)");
}

static int period_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    struct cfg_period *periods = out, p = {0};
    if (each_pair(c, item, key, period_pair, &p, NULL) != 0)
        return -1;
    if (p.name[0] == '\0' || p.start_month == 0 || p.end_month == 0)
        return fail(c, item, key, "a period needs name, start and end");
    if (year_pos(p.start_month, p.start_day) > year_pos(p.end_month, p.end_day))
        return fail(c, item, key,
                    "ends (%02d-%02d) before it starts (%02d-%02d) in a year from September",
                    p.end_month, p.end_day, p.start_month, p.start_day);
    if (i > 0 && year_pos(p.start_month, p.start_day) <=
                     year_pos(periods[i - 1].end_month, periods[i - 1].end_day))
        return fail(c, item, key,
                    "starts (%02d-%02d) before the period before it ends (%02d-%02d): periods "
                    "must be in order and must not overlap",
                    p.start_month, p.start_day, periods[i - 1].end_month, periods[i - 1].end_day);
    periods[i] = p;
    return 0;
}

static int parse_periods(struct ctx *c, const char *key, yaml_node_t *v)
{
    struct cfg_period periods[CFG_MAX_PERIODS];
    int n = 0;
    if (each_item(c, v, key, "periods", CFG_MAX_PERIODS, period_item, periods, &n) != 0)
        return -1;
    if (n == 0)
        return fail(c, v, key, "at least one period is needed");
    memcpy(c->cfg->school_year.periods, periods, (size_t)n * sizeof(periods[0]));
    c->cfg->school_year.nperiods = n;
    c->periods_given = true;
    return 0;
}

static int holiday_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    struct mes_config *cfg = out;
    int m, d;
    if (parse_month_day(c, item, key, &m, &d) != 0)
        return -1;
    for (int j = 0; j < i; j++)
        if (cfg->school_year.holidays[j].month == m && cfg->school_year.holidays[j].day == d)
            return fail(c, item, key, "%02d-%02d is listed twice", m, d);
    cfg->school_year.holidays[i].month = m;
    cfg->school_year.holidays[i].day = d;
    return 0;
}

static int form_pair(struct ctx *c, const char *key, const char *word, yaml_node_t *k,
                     yaml_node_t *v, void *out, const void *table)
{
    (void)table;
    struct cfg_control_form *f = out;
    long long w;
    if (strcmp(word, "code") == 0)
        return copy_str(c, v, key, f->code, sizeof(f->code));
    if (strcmp(word, "name") == 0)
        return copy_str(c, v, key, f->name, sizeof(f->name));
    if (strcmp(word, "weight") == 0) {
        if (parse_int(c, v, key, 1, 10, &w) != 0)
            return -1;
        f->weight = (int)w;
        return 0;
    }
    return fail(c, k, key, "unknown key (known: code, name, weight)");
}

/* A code of a subject or a control form: lowercase letters, digits and _. */
static bool valid_code(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int form_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    struct cfg_control_form *forms = out, f = {0};
    char shown[SHOW_BUF];
    if (each_pair(c, item, key, form_pair, &f, NULL) != 0)
        return -1;
    if (f.code[0] == '\0' || f.name[0] == '\0' || f.weight == 0)
        return fail(c, item, key, "a control form needs code, name and weight");
    if (!valid_code(f.code))
        return fail(c, item, key, "code %s: lowercase letters, digits and _ only",
                    show(f.code, strlen(f.code), shown));
    for (int j = 0; j < i; j++)
        if (strcmp(forms[j].code, f.code) == 0)
            return fail(c, item, key, "code %s is listed twice",
                        show(f.code, strlen(f.code), shown));
    forms[i] = f;
    return 0;
}

static int parse_forms(struct ctx *c, const char *key, yaml_node_t *v)
{
    struct cfg_control_form forms[CFG_MAX_FORMS];
    int n = 0;
    if (each_item(c, v, key, "control forms", CFG_MAX_FORMS, form_item, forms, &n) != 0)
        return -1;
    if (n == 0)
        return fail(c, v, key, "at least one control form is needed");
    memcpy(c->cfg->grading.forms, forms, (size_t)n * sizeof(forms[0]));
    c->cfg->grading.nforms = n;
    return 0;
}

static int subject_pair(struct ctx *c, const char *key, const char *word, yaml_node_t *k,
                        yaml_node_t *v, void *out, const void *table)
{
    (void)table;
    struct cfg_subject *s = out;
    if (strcmp(word, "code") == 0)
        return copy_str(c, v, key, s->code, sizeof(s->code));
    if (strcmp(word, "name") == 0)
        return copy_str(c, v, key, s->name, sizeof(s->name));
    return fail(c, k, key, "unknown key (known: code, name)");
}

static int subject_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    struct cfg_subject *subjects = out, s = {0};
    char shown[SHOW_BUF];
    if (each_pair(c, item, key, subject_pair, &s, NULL) != 0)
        return -1;
    if (s.code[0] == '\0' || s.name[0] == '\0')
        return fail(c, item, key, "a subject needs code and name");
    if (!valid_code(s.code))
        return fail(c, item, key, "code %s: lowercase letters, digits and _ only",
                    show(s.code, strlen(s.code), shown));
    for (int j = 0; j < i; j++)
        if (strcmp(subjects[j].code, s.code) == 0)
            return fail(c, item, key, "code %s is listed twice",
                        show(s.code, strlen(s.code), shown));
    subjects[i] = s;
    return 0;
}

/* An address or CIDR range of http.trusted_proxies (lib/proxy.c says what is accepted). */
static int proxy_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    struct mes_config *cfg = out;
    char(*list)[64] = cfg->http.trusted_proxies;
    char shown[SHOW_BUF];
    struct proxy_net net;
    if (copy_str(c, item, key, list[i], sizeof(list[i])) != 0)
        return -1;
    if (proxy_net_parse(list[i], &net) != 0)
        return fail(c, item, key,
                    "expected an IPv4 or IPv6 address or a CIDR range with nothing set past its "
                    "prefix (\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"), got %s",
                    show(list[i], strlen(list[i]), shown));
    for (int j = 0; j < i; j++)
        if (strcmp(list[j], list[i]) == 0)
            return fail(c, item, key, "%s is listed twice", show(list[i], strlen(list[i]), shown));
    return 0;
}

static int benefit_item(struct ctx *c, const char *key, yaml_node_t *item, int i, void *out)
{
    struct mes_config *cfg = out;
    char(*list)[96] = cfg->meals.benefit_categories;
    char shown[SHOW_BUF];
    if (copy_str(c, item, key, list[i], sizeof(list[i])) != 0)
        return -1;
    if (list[i][0] == '\0')
        return fail(c, item, key, "a benefit category needs a name");
    for (int j = 0; j < i; j++)
        if (strcmp(list[j], list[i]) == 0)
            return fail(c, item, key, "%s is listed twice", show(list[i], strlen(list[i]), shown));
    return 0;
}

/* One key of a section (or of the top level): finds its field and stores the value. */
static int field_pair(struct ctx *c, const char *key, const char *word, yaml_node_t *k,
                      yaml_node_t *v, void *out, const void *table)
{
    const struct field *fields = table, *f = fields;
    struct mes_config *cfg = out;
    while (f->key && strcmp(f->key, word) != 0)
        f++;
    if (f->key == NULL) {
        char known[320] = "";
        size_t used = 0;
        for (const struct field *g = fields; g->key; g++) {
            int w = snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "", g->key);
            if (w < 0 || (size_t)w >= sizeof(known) - used) {
                mark_cut(known, sizeof(known));
                break;
            }
            used += (size_t)w;
        }
        return fail(c, k, key, "unknown key (known: %s)", known);
    }
    char *base = (char *)cfg;
    long long n = 0;
    int e = 0;
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
    case K_ENUM:
        if (parse_enum(c, v, key, f->names, &e) != 0)
            return -1;
        /* The enums of config.h are stored as their own type, whose size is an int's. */
        if (f->off == OFF(mode))
            cfg->mode = (enum node_mode)e;
        else if (f->off == OFF(school_year.system))
            cfg->school_year.system = (enum period_system)e;
        else if (f->off == OFF(storage.synchronous))
            cfg->storage.synchronous = (enum sync_mode)e;
        else
            return fail(c, k, key, "internal: unknown enum field");
        return 0;
    case K_LANGS:
        return parse_languages(c, key, v);
    case K_PERIODS:
        return parse_periods(c, key, v);
    case K_HOLIDAYS:
        return each_item(c, v, key, "holidays", CFG_MAX_HOLIDAYS, holiday_item, cfg,
                         &cfg->school_year.nholidays);
    case K_FORMS:
        return parse_forms(c, key, v);
    case K_SUBJECTS:
        return each_item(c, v, key, "regional subjects", CFG_MAX_SUBJECTS, subject_item,
                         cfg->subjects, &cfg->nsubjects);
    case K_PROXIES:
        return each_item(c, v, key, "trusted proxies", CFG_MAX_PROXIES, proxy_item, cfg,
                         &cfg->http.ntrusted_proxies);
    case K_BENEFITS:
        return each_item(c, v, key, "benefit categories", CFG_MAX_BENEFITS, benefit_item, cfg,
                         &cfg->meals.nbenefit_categories);
    case K_SECTION:
        return each_pair(c, v, key, field_pair, cfg, f->section);
    }
    return fail(c, k, key, "internal: unknown field kind");
}

/* ---- relations between keys ---- */

/* Whether `list` is space-separated words of breakfast, lunch and snack, none twice. */
static bool valid_complexes(const char *list)
{
    static const char *const kinds[] = {"breakfast", "lunch", "snack"};
    bool seen[3] = {false, false, false};
    const char *p = list;
    for (;;) {
        p += strspn(p, " ");
        if (*p == '\0')
            return true;
        size_t n = strcspn(p, " ");
        int k = 0;
        while (k < 3 && !(strlen(kinds[k]) == n && strncmp(p, kinds[k], n) == 0))
            k++;
        if (k == 3 || seen[k])
            return false;
        seen[k] = true;
        p += n;
    }
}

/* The value of `section.key` in the file, or NULL if the file does not name it. */
static yaml_node_t *find_value(struct ctx *c, const char *section, const char *key)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (strcmp((const char *)k->data.scalar.value, section) != 0)
            continue;
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
             q++) {
            yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);
            if (strcmp((const char *)k2->data.scalar.value, key) == 0)
                return yaml_document_get_node(c->doc, q->value);
        }
    }
    return NULL;
}

/* The node to blame for `section.key`: its value if the file has it, else the section's key,
 * else the document (line 1). The walk has already checked that sections are mappings. */
static yaml_node_t *find(struct ctx *c, const char *section, const char *key)
{
    yaml_node_t *v = find_value(c, section, key);
    if (v != NULL)
        return v;
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (strcmp((const char *)k->data.scalar.value, section) == 0)
            return k;
    }
    return root;
}

/* A minisign public key: base64 (original alphabet) of "Ed" || key id[8] || Ed25519 pk[32]. */
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

/* "IPV4:PORT" or "[IPV6]:PORT", port 0..65535 (0: any free port, for tests). CivetWeb's own
 * syntax for lists, TLS ("s") and redirects ("r") is refused: nginx terminates TLS. */
static bool valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0' || strlen(colon + 1) > 5)
        return false;
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (*p - '0');
    }
    if (port > 65535)
        return false;
    char host[64];
    size_t hlen = (size_t)(colon - s);
    unsigned char addr[16];
    if (s[0] == '[') {
        if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(host))
            return false;
        memcpy(host, s + 1, hlen - 2);
        host[hlen - 2] = '\0';
        return inet_pton(AF_INET6, host, addr) == 1;
    }
    if (hlen >= sizeof(host))
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    return inet_pton(AF_INET, host, addr) == 1;
}

/* An IANA zone name: "UTC" or Area/Location[/More] of letters, digits, _ + -. */
static bool valid_timezone(const char *s)
{
    if (strcmp(s, "UTC") == 0)
        return true;
    if (strchr(s, '/') == NULL || s[0] == '/' || strstr(s, "//") || s[strlen(s) - 1] == '/' ||
        strstr(s, ".."))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '/' || *s == '_' || *s == '+' || *s == '-'))
            return false;
    return true;
}

static bool valid_url(const char *s)
{
    const char *host = strncmp(s, "https://", 8) == 0  ? s + 8
                       : strncmp(s, "http://", 7) == 0 ? s + 7
                                                       : NULL;
    if (host == NULL || host[0] == '\0' || host[0] == '/')
        return false;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || *s == '<' || *s == '>' || *s == '\\')
            return false;
    return true;
}

/* federation.hub_url is the hub's base address: the node appends "/federation/v1/..." to it.
 * Trailing slashes and a trailing "/federation/v1" (the form the shipped region files had
 * before) are removed here, so that either form the operator writes reaches the same routes
 * and the path never doubles. `url` has passed valid_url(); it is shortened in place. */
static void hub_url_base(char *url)
{
    static const char api[] = "/federation/v1";
    const size_t alen = sizeof(api) - 1;
    const char *host = strstr(url, "://") + 3;
    const char *path = strchr(host, '/');
    size_t from = path ? (size_t)(path - url) : strlen(url), len = strlen(url);
    for (;;) {
        while (len > from && url[len - 1] == '/')
            len--;
        if (len < from + alen || memcmp(url + len - alen, api, alen) != 0)
            break;
        len -= alen;
    }
    url[len] = '\0';
}

/* Whether `path` names a readable regular file holding at least one PEM certificate. Sets
 * `why` (a static text, or strerror's) when it does not. */
static bool valid_ca_file(const char *path, const char **why)
{
    /* Not blocking: a FIFO named by mistake is refused, not waited on. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = fd < 0 ? strerror(errno) : "not a regular file";
        if (fd >= 0)
            close(fd);
        return false;
    }
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        *why = strerror(errno);
        close(fd);
        return false;
    }
    bool found = false;
    char *line = NULL;
    size_t cap = 0;
    while (!found && getline(&line, &cap, f) > 0)
        found = strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
    if (ferror(f))
        *why = strerror(errno);
    else if (!found)
        *why = "no PEM certificate in it (expected \"-----BEGIN CERTIFICATE-----\" lines)";
    found = found && !ferror(f);
    free(line);
    fclose(f);
    return found;
}

static int check_meals(struct ctx *c)
{
    const struct mes_config *cfg = c->cfg;
    char shown[SHOW_BUF];
    int from = cfg->meals.free_grade_from, to = cfg->meals.free_grade_to;
    if ((from == 0) != (to == 0) || from > to)
        return fail(c, find(c, "meals", "free_grade_from"), "meals.free_grade_from",
                    "grades %d to %d: expected 1 <= from <= to <= 11, or both 0 (no free meals "
                    "by grade)",
                    from, to);
    const char *lists[][2] = {{"free_complexes", cfg->meals.free_complexes},
                              {"benefit_complexes", cfg->meals.benefit_complexes}};
    for (int i = 0; i < 2; i++)
        if (!valid_complexes(lists[i][1])) {
            char key[40];
            snprintf(key, sizeof(key), "meals.%s", lists[i][0]);
            return fail(c, find(c, "meals", lists[i][0]), key,
                        "expected words of breakfast, lunch and snack, each once, got %s",
                        show(lists[i][1], strlen(lists[i][1]), shown));
        }
    const char *secret = cfg->meals.payment_secret;
    if (secret[0] != '\0' && strlen(secret) < 32)
        return fail(c, find(c, "meals", "payment_secret"), "meals.payment_secret",
                    "a secret of at least 32 characters is needed (%zu given)", strlen(secret));
    const char *url = cfg->meals.payment_url;
    if (url[0] != '\0' && !valid_url(url))
        return fail(c, find(c, "meals", "payment_url"), "meals.payment_url",
                    "expected an https:// (or http://) address, got %s",
                    show(url, strlen(url), shown));
    return 0;
}

static int validate(struct ctx *c)
{
    struct mes_config *cfg = c->cfg;
    char shown[SHOW_BUF];
    const char *code = cfg->region.code;
    if (strlen(code) != 2 || code[0] < '0' || code[0] > '9' || code[1] < '0' || code[1] > '9')
        return fail(c, find(c, "region", "code"), "region.code",
                    "expected the two-digit code of the region in quotes, such as \"05\", got %s",
                    show(code, strlen(code), shown));
    if (cfg->region.name[0] == '\0')
        return fail(c, find(c, "region", "name"), "region.name", "must not be empty");
    if (!valid_timezone(cfg->region.timezone))
        return fail(c, find(c, "region", "timezone"), "region.timezone",
                    "expected an IANA time zone such as Europe/Moscow, got %s",
                    show(cfg->region.timezone, strlen(cfg->region.timezone), shown));
    int want = period_count(cfg->school_year.system);
    if (cfg->school_year.nperiods != want)
        return fail(c, find(c, "school_year", "periods"), "school_year.periods",
                    "%s need %d periods, %d given",
                    config_period_system_name(cfg->school_year.system), want,
                    cfg->school_year.nperiods);
    if (cfg->grading.min >= cfg->grading.max) {
        bool has_min = find_value(c, "grading", "min") != NULL;
        return fail(
            c, find(c, "grading", has_min ? "min" : "max"), has_min ? "grading.min" : "grading.max",
            "grading.min (%d) must be below grading.max (%d)", cfg->grading.min, cfg->grading.max);
    }
    if (!valid_listen(cfg->http.listen))
        return fail(c, find(c, "http", "listen"), "http.listen",
                    "expected IPV4:PORT or [IPV6]:PORT such as \"127.0.0.1:8080\" (plain HTTP "
                    "only: nginx terminates TLS), got %s",
                    show(cfg->http.listen, strlen(cfg->http.listen), shown));
    struct proxy_url pub;
    const char *pu = cfg->http.public_url;
    if (pu[0] != '\0' && proxy_url_parse(pu, &pub) != 0)
        return fail(c, find(c, "http", "public_url"), "http.public_url",
                    "expected http(s)://HOST[:PORT] without a path, query or fragment, such as "
                    "\"https://mes.example.region\", got %s",
                    show(pu, strlen(pu), shown));
    if (cfg->storage.data_dir[0] == '\0')
        return fail(c, find(c, "storage", "data_dir"), "storage.data_dir", "must not be empty");
    if (cfg->auth.delay_s > cfg->auth.max_delay_s)
        return fail(c, find(c, "auth", "delay_s"), "auth.delay_s",
                    "the first delay (%d s) must not exceed auth.max_delay_s (%d s)",
                    cfg->auth.delay_s, cfg->auth.max_delay_s);
    const char *url = cfg->federation.hub_url, *pk = cfg->federation.hub_public_key;
    if (url[0] != '\0' && !valid_url(url))
        return fail(c, find(c, "federation", "hub_url"), "federation.hub_url",
                    "expected an https:// (or http://) address, got %s",
                    show(url, strlen(url), shown));
    if (strpbrk(url, "?#") != NULL)
        return fail(c, find(c, "federation", "hub_url"), "federation.hub_url",
                    "expected the hub's base address, without a query or fragment, got %s",
                    show(url, strlen(url), shown));
    if (url[0] != '\0')
        hub_url_base(cfg->federation.hub_url);
    const char *ca = cfg->federation.ca_file, *why = "";
    if (ca[0] != '\0' && !valid_ca_file(ca, &why))
        return fail(c, find(c, "federation", "ca_file"), "federation.ca_file",
                    "expected a readable PEM file of CA certificates, %s: %s",
                    show(ca, strlen(ca), shown), why);
    if (pk[0] != '\0' && !valid_minisign_key(pk))
        return fail(c, find(c, "federation", "hub_public_key"), "federation.hub_public_key",
                    "not a minisign public key (base64 \"RW...\" of 42 bytes starting with Ed), "
                    "got %s",
                    show(pk, strlen(pk), shown));
    if (check_meals(c) != 0)
        return -1;
    if (cfg->federation.enabled && (url[0] == '\0' || pk[0] == '\0'))
        return fail(c, find(c, "federation", "enabled"), "federation.enabled",
                    "federation needs hub_url and hub_public_key (%s is empty)",
                    url[0] == '\0' ? "hub_url" : "hub_public_key");
    return 0;
}

/* ---- loading ---- */

/* Records a libyaml parser error as "NAME:LINE: YAML syntax: problem (context on line N)". */
static int syntax_error(struct ctx *c, const yaml_parser_t *parser)
{
    unsigned long line = (unsigned long)parser->problem_mark.line + 1;
    if (parser->error == YAML_READER_ERROR) {
        line = 1;
        for (size_t i = 0; i < parser->problem_offset && i < c->len; i++)
            line += c->text[i] == '\n';
    }
    const char *problem = parser->problem ? parser->problem : "cannot parse";
    int n;
    if (parser->error == YAML_MEMORY_ERROR)
        n = snprintf(c->err, c->errlen, "%s: out of memory while parsing", c->name);
    else if (parser->error == YAML_READER_ERROR)
        n = snprintf(c->err, c->errlen, "%s:%lu: not UTF-8 text: %s", c->name, line, problem);
    else if (parser->context)
        n = snprintf(c->err, c->errlen, "%s:%lu: YAML syntax: %s (%s that starts on line %lu)",
                     c->name, line, problem, parser->context,
                     (unsigned long)parser->context_mark.line + 1);
    else
        n = snprintf(c->err, c->errlen, "%s:%lu: YAML syntax: %s", c->name, line, problem);
    if (n < 0)
        c->err[0] = '\0';
    else if ((size_t)n >= c->errlen)
        mark_cut(c->err, c->errlen);
    return -1;
}

/* First pass over the events: syntax errors, aliases (refused: a value is written where it
 * is used, so that every line number points at it), a second document (refused: it would
 * be ignored) and nesting deeper than MAX_NESTING. */
static int check_events(struct ctx *c)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int rc = -1, documents = 0, depth = 0;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(c->err, c->errlen, "%s: out of memory", c->name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)c->text, c->len);
    for (;;) {
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(c, &parser);
            goto out;
        }
        yaml_event_type_t type = ev.type;
        unsigned long line = (unsigned long)ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_ALIAS_EVENT) {
            int n = snprintf(c->err, c->errlen,
                             "%s:%lu: YAML aliases (*name) are not accepted: write the value out",
                             c->name, line);
            if (n >= 0 && (size_t)n >= c->errlen)
                mark_cut(c->err, c->errlen);
            goto out;
        }
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
            if (++depth > MAX_NESTING) {
                int n = snprintf(c->err, c->errlen,
                                 "%s:%lu: mappings and lists nested deeper than %d levels", c->name,
                                 line, MAX_NESTING);
                if (n >= 0 && (size_t)n >= c->errlen)
                    mark_cut(c->err, c->errlen);
                goto out;
            }
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        if (type == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
            int n = snprintf(c->err, c->errlen,
                             "%s:%lu: a second YAML document: one file holds one configuration",
                             c->name, line);
            if (n >= 0 && (size_t)n >= c->errlen)
                mark_cut(c->err, c->errlen);
            goto out;
        }
    }
    rc = 0;
out:
    yaml_parser_delete(&parser);
    return rc;
}

int config_load_string(const char *name, const char *text, size_t len, struct mes_config *cfg,
                       char *err, size_t errlen)
{
    char scratch[1];
    if (err == NULL || errlen == 0) { /* the contract wants a buffer; never write past one */
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    config_defaults(cfg);
    struct ctx c = {
        .name = name, .text = text, .len = len, .cfg = cfg, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser = false, have_doc = false;
    int rc = -1;

    size_t nlen = strlen(name);
    if (nlen >= sizeof(cfg->path)) {
        int n = snprintf(err, errlen, "%s: the file name is too long", name);
        if (n >= 0 && (size_t)n >= errlen)
            mark_cut(err, errlen);
        goto out;
    }
    memcpy(cfg->path, name, nlen + 1);
    if (check_events(&c) != 0)
        goto out;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(&c, &parser);
        goto out;
    }
    have_doc = true;
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        fail(&c, NULL, "", "the file is empty: name at least one key (see regions/)");
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        fail(&c, root, "", "the document must be a mapping of keys (mode, region, ...), got %s",
             kind_name(root));
        goto out;
    }
    if (each_pair(&c, root, "", field_pair, cfg, top_fields) != 0)
        goto out;
    if (!c.periods_given)
        default_periods(cfg); /* the system's own table, wherever period_system stood */
    if (validate(&c) != 0)
        goto out;
    rc = 0;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    return rc;
}

int config_load(const char *path, struct mes_config *cfg, char *err, size_t errlen)
{
    char scratch[1];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    char *buf = NULL;
    int rc = -1, n = 0;
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        char why[128];
        n = snprintf(err, errlen, "%s: cannot open: %s", path,
                     strerror_r(errno, why, sizeof(why))); /* GNU: returns the text */
        goto out;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        n = snprintf(err, errlen, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > MAX_FILE_BYTES) {
        n = snprintf(err, errlen, "%s: larger than %d bytes: not a configuration", path,
                     MAX_FILE_BYTES);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        n = snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    size_t got = fread(buf, 1, (size_t)st.st_size + 1, f);
    if (ferror(f) || got > (size_t)st.st_size) {
        n = snprintf(err, errlen, "%s: cannot read (or it changed while read)", path);
        goto out;
    }
    rc = config_load_string(path, buf, got, cfg, err, errlen);
out:
    if (n >= 0 && (size_t)n >= errlen)
        mark_cut(err, errlen);
    else if (n < 0)
        err[0] = '\0';
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}
