/*
 * Node configuration: one YAML file per node (see regions/ and docs/configuration.md), loaded
 * with libyaml into this fixed-size, typed structure and validated before the node starts.
 * Every field has a default (config_defaults); a file only names what it changes. A wrong or
 * unknown key, a bad type or value is refused with "FILE:LINE: KEY: what is wrong".
 *
 * The structure is plain data: copy it freely, nothing to free.
 */
#ifndef MES_CONFIG_H
#define MES_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_LANGUAGES 8
#define CFG_MAX_PERIODS   6
#define CFG_MAX_SUBJECTS  64
#define CFG_MAX_FORMS     16
#define CFG_MAX_HOLIDAYS  32
#define CFG_MAX_PROXIES   32
#define CFG_MAX_BENEFITS  16

enum node_mode { NODE_REGION, NODE_HUB };
enum period_system { PERIODS_QUARTERS, PERIODS_TRIMESTERS, PERIODS_SEMESTERS };
enum sync_mode { SYNC_NORMAL, SYNC_FULL };

/* One period of the school year as month/day bounds, inclusive (the year is the academic
 * year's: months 9..12 fall in its first calendar year, 1..8 in the second). */
struct cfg_period {
    char name[64];
    int start_month, start_day;
    int end_month, end_day;
};

/* A control form of a mark (oral answer, test, control work) and its default weight. */
struct cfg_control_form {
    char code[32];
    char name[96];
    int weight; /* 1..10 */
};

/* A regional subject added to the federal list, e.g. a native language. */
struct cfg_subject {
    char code[32];
    char name[128];
};

struct mes_config {
    char path[PATH_MAX]; /* file it was loaded from, "" for defaults */
    enum node_mode mode; /* key "mode": region | hub */

    struct {
        char name[128];                       /* "Республика Дагестан" */
        char code[8];                         /* two-digit region code, "05" */
        char timezone[64];                    /* IANA, "Europe/Moscow" */
        char languages[CFG_MAX_LANGUAGES][8]; /* interface languages, first is the default */
        int nlanguages;
    } region;

    struct {
        enum period_system system;
        struct cfg_period periods[CFG_MAX_PERIODS]; /* filled from `system` unless given */
        int nperiods;
        struct {
            int month, day;
        } holidays[CFG_MAX_HOLIDAYS]; /* days off inside periods: no lessons */
        int nholidays;
    } school_year;

    struct {
        int min, max;   /* numeric scale, 2..5 by default */
        bool pass_fail; /* "зачёт/незачёт" allowed besides numbers */
        struct cfg_control_form forms[CFG_MAX_FORMS];
        int nforms;
    } grading;

    struct cfg_subject subjects[CFG_MAX_SUBJECTS]; /* regional subjects */
    int nsubjects;

    struct {
        char listen[64]; /* "127.0.0.1:8080" */
        int threads;     /* CivetWeb worker threads: one per keep-alive connection */
        int request_timeout_ms;
        int keep_alive_timeout_ms;
        long long max_body_bytes;
        int cache_mb;               /* read cache (cache/cache.c); 0 = off */
        long long max_upload_bytes; /* a file sent to an upload route */
        char access_log[PATH_MAX];  /* "" = standard error, "off" = none */
        /* The address people reach the node at, "https://mes.example.region" (lib/proxy.h:
         * no path); every absolute link is built on it. "" = "http://" + http.listen. */
        char public_url[256];
        /* Peers whose X-Forwarded-For is believed: addresses and CIDR ranges, as written
         * (checked with proxy_net_parse). */
        char trusted_proxies[CFG_MAX_PROXIES][64];
        int ntrusted_proxies;
        int max_json_depth;   /* deepest nesting of a JSON body; deeper is 400 bad_json */
        int thread_stack_kib; /* stack of each CivetWeb thread (http.c) */
    } http;

    struct {
        char data_dir[PATH_MAX];
        int busy_timeout_ms;
        enum sync_mode synchronous;
        long long mmap_bytes;
    } storage;

    struct {
        int session_ttl_hours;
        /* The login throttle (accounts/throttle.h; docs/security.md): failures free of delay
         * per counter, then delay_s doubling per failure up to max_delay_s; each counter
         * forgets one failure per failure_window_s. */
        int client_free_failures;    /* one login from one client */
        int login_free_failures;     /* one login from clients without its device cookie */
        int address_free_failures;   /* one client, across logins */
        int device_free_failures;    /* one device cookie */
        int device_lockout_failures; /* a device cookie failing this often is not trusted */
        int delay_s;
        int max_delay_s;
        int failure_window_s;
        int device_cookie_days; /* lifetime of the device cookie a login sets */
        long long argon2_opslimit;
        long long argon2_memlimit_kib;
        bool cookie_secure; /* set Secure on cookies (behind TLS) */
        /* Accounts for everyone (accounts/activation.h): how long an activation code lives,
         * and the rules of a chosen password. */
        int activation_days;
        int password_min_length;          /* characters */
        bool password_letters_and_digits; /* at least one letter and one digit */
    } auth;

    struct {
        bool enabled;
        char hub_url[256]; /* the hub's base address, without /federation/v1 (see config.c) */
        char hub_public_key[128]; /* minisign "RW..." */
        char secret_key_file[PATH_MAX];
        char ca_file[PATH_MAX]; /* PEM bundle of the CAs trusted for the hub; "": the system's */
        int sync_interval_s;
        int k_suppression; /* cells counting fewer persons are suppressed */
    } federation;

    /* «Москвёнок»'s meals (node/moskvenok/, docs/moskvenok.md). Money is in kopecks. */
    struct {
        long long overdraft_kopecks;        /* how far below zero a sale may take a balance */
        long long low_balance_kopecks;      /* parents are told when a balance falls below it */
        int free_grade_from, free_grade_to; /* grades whose students eat free_complexes free
                                               (0 and 0: none) */
        char free_complexes[64];            /* "breakfast lunch": of breakfast, lunch, snack */
        /* Benefit categories (многодетная семья, ...): a student given one eats
         * benefit_complexes free, whatever the grade. */
        char benefit_categories[CFG_MAX_BENEFITS][96];
        int nbenefit_categories;
        char benefit_complexes[64];
        /* The payment provider's notifications are signed with HMAC-SHA-256 under this secret
         * ("": top-ups are refused). */
        char payment_secret[256];
        char payment_url[256]; /* where parents top up, shown on their page ("": not shown) */
    } meals;
};

/* Fills `cfg` with every default (documented in docs/configuration.md). */
void config_defaults(struct mes_config *cfg);

/* Loads and validates `path` on top of the defaults. Returns 0, or -1 with a message
 * "PATH:LINE: KEY: reason" in `err` (always NUL-terminated) and `cfg` unspecified. */
int config_load(const char *path, struct mes_config *cfg, char *err, size_t errlen);

/* Same for a YAML text in memory; `name` stands for the file in messages. */
int config_load_string(const char *name, const char *text, size_t len, struct mes_config *cfg,
                       char *err, size_t errlen);

/* Names for enums, for messages and /metrics. */
const char *config_period_system_name(enum period_system s);

#endif
