/*
 * The web shell: a Russian-language single-page interface compiled into the binary.
 * index.html answers "/" and the shell's own page paths; /static/ serves scripts and styles,
 * /i18n/ the message catalogs (one JSON file per language: a region adds a language by adding
 * a catalog). Each asset carries a strong ETag (BLAKE2b of its bytes, computed once), so
 * browsers revalidate with If-None-Match and get 304 without a body.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "http.h"
#include "log.h"
#include "node.h"
#include "subsystem.h"

#define MAX_WEB_ASSETS 256

struct web_asset {
    const struct asset *a;
    const char *url; /* "/static/app.js" */
    char etag[36];   /* "\"" + 32 hex + "\"" */
    const char *type;
};

static struct web_asset table[MAX_WEB_ASSETS];
static int ntable;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* /static/main.js, the shell's entry point, made from the list of subsystems: the shell
 * (app.js), then each subsystem's scripts in list order (each adds its pages and menu entries),
 * then boot(). A subsystem with pages names its scripts in its struct subsystem. */
static char main_js[4096];
static struct asset main_js_asset = {.path = "node/web/static/main.js"};

static void main_js_build(void)
{
    size_t used = 0;
    int n = snprintf(main_js, sizeof(main_js),
                     "// Entry point, made by the node from its subsystems' scripts (web.c).\n"
                     "import { boot } from \"./app.js\";\n");
    used = n > 0 ? (size_t)n : 0;
    for (int s = 0; subsystems[s] != NULL; s++)
        for (int i = 0; subsystems[s]->scripts && subsystems[s]->scripts[i]; i++) {
            n = snprintf(main_js + used, sizeof(main_js) - used, "import \"./%s\";\n",
                         subsystems[s]->scripts[i]);
            if (n < 0 || (size_t)n >= sizeof(main_js) - used) {
                log_error("web: main.js is full, %s is not loaded", subsystems[s]->scripts[i]);
                main_js[used] = '\0';
                continue;
            }
            used += (size_t)n;
        }
    n = snprintf(main_js + used, sizeof(main_js) - used, "\nboot();\n");
    if (n > 0 && (size_t)n < sizeof(main_js) - used)
        used += (size_t)n;
    main_js_asset.data = (const unsigned char *)main_js;
    main_js_asset.size = (long)used;
}

/* Adds `a` to the table under `url`; false when the table is full. */
static bool table_add(const struct asset *a, const char *url)
{
    if (ntable == MAX_WEB_ASSETS) {
        log_error("web: more than %d files, %s is not served", MAX_WEB_ASSETS, a->path);
        return false;
    }
    struct web_asset *w = &table[ntable];
    w->a = a;
    w->url = url;
    w->type = content_type(a->path);
    unsigned char h[16];
    crypto_generichash(h, sizeof(h), a->data, (unsigned long long)a->size, NULL, 0);
    w->etag[0] = '"';
    sodium_bin2hex(w->etag + 1, 33, h, sizeof(h));
    w->etag[33] = '"';
    w->etag[34] = '\0';
    ntable++;
    return true;
}

static void build_table(void)
{
    main_js_build();
    table_add(&main_js_asset, "/static/main.js");
    static const struct {
        const char *dir, *url;
    } roots[] = {{"node/web/static/", "/static/"}, {"node/web/i18n/", "/i18n/"}};
    static char urls[MAX_WEB_ASSETS][128];
    for (const struct asset *a = assets; a->path != NULL; a++) {
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
            size_t n = strlen(roots[i].dir);
            if (strncmp(a->path, roots[i].dir, n) != 0)
                continue;
            if (ntable == MAX_WEB_ASSETS) {
                log_error("web: more than %d files, %s is not served", MAX_WEB_ASSETS, a->path);
                continue;
            }
            snprintf(urls[ntable], sizeof(urls[ntable]), "%s%s", roots[i].url, a->path + n);
            table_add(a, urls[ntable]);
        }
    }
}

static const struct web_asset *find(const char *url)
{
    pthread_once(&once, build_table);
    for (int i = 0; i < ntable; i++)
        if (strcmp(table[i].url, url) == 0)
            return &table[i];
    return NULL;
}

/* Whether an If-None-Match value names `etag`: "*", or a comma-separated list of entity tags
 * compared weakly (a W/ prefix is ignored), as RFC 9110 13.1.2 asks. False for NULL. */
static bool etag_matches(const char *inm, const char *etag)
{
    if (inm == NULL)
        return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p != '\0';) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return true;
        /* Skip this tag: to the end of its quoted part, then to the next comma. */
        if (*p == '"') {
            const char *q = strchr(p + 1, '"');
            p = q ? q + 1 : p + strlen(p);
        }
        while (*p != '\0' && *p != ',')
            p++;
    }
    return false;
}

static int reply_asset(struct req *r, const struct web_asset *w)
{
    reply_header(r, "ETag", "%s", w->etag);
    reply_header(r, "Cache-Control", "no-cache");
    if (strncmp(w->type, "text/html", 9) == 0) {
        reply_header(r, "Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                     "form-action 'self'");
        reply_header(r, "Referrer-Policy", "same-origin");
    }
    /* 304 sends no body, but its Content-Length is the one a 200 would carry (RFC 9110 8.6). */
    int status = etag_matches(req_header(r, "If-None-Match"), w->etag) ? 304 : 200;
    return reply_raw(r, status, w->type, w->a->data, (size_t)w->a->size, false);
}

/* "/" and the shell's page paths: the page itself; the script routes inside. */
static int web_index(struct req *r)
{
    const struct web_asset *w = find("/static/index.html");
    if (w == NULL)
        return reply_error(r, 500, "internal", "index.html is not compiled in");
    return reply_asset(r, w);
}

static int web_static(struct req *r)
{
    /* The route's path up to its star, then what the star matched. */
    char url[160];
    int n = snprintf(url, sizeof(url), "%.*s%s", (int)(strlen(r->route->path) - 1), r->route->path,
                     r->rest);
    if (n < 0 || (size_t)n >= sizeof(url))
        return reply_error(r, 404, "not_found", "no such file");
    const struct web_asset *w = find(url);
    if (w == NULL)
        return reply_error(r, 404, "not_found", "no such file: %s", url);
    return reply_asset(r, w);
}

/* GET /api/v1/ui: what the shell needs before anyone logs in, and whether the request came
 * with a live session (signed_in), so that the shell asks /api/v1/me only then (a 401 there
 * would be an error in every anonymous visitor's console). */
static int web_ui(struct req *r)
{
    const struct mes_config *cfg = &r->node->cfg;
    json_t *langs = json_array();
    for (int i = 0; i < cfg->region.nlanguages; i++)
        json_array_append_new(langs, json_string(cfg->region.languages[i]));
    return reply_json(r, 200,
                      json_pack("{s:{s:s,s:s},s:o,s:s,s:s,s:b}", "region", "name", cfg->region.name,
                                "code", cfg->region.code, "languages", langs, "default_language",
                                cfg->region.languages[0], "version", MES_VERSION, "signed_in",
                                r->caller.account_id != 0));
}

static const struct route web_routes[] = {
    /* None of these reads the database: no transaction (self_tx). */
    {.method = "GET",
     .path = "/static/*",
     .handler = web_static,
     .access = ACCESS_PUBLIC,
     .name = "web_static",
     .self_tx = true},
    {.method = "GET",
     .path = "/i18n/*",
     .handler = web_static,
     .access = ACCESS_PUBLIC,
     .name = "web_i18n",
     .self_tx = true},
    {.method = "GET",
     .path = "/api/v1/ui",
     .handler = web_ui,
     .access = ACCESS_PUBLIC,
     .name = "ui",
     .self_tx = true},
    {0},
};

/* The shell's own pages (app.js); every subsystem's pages answer index.html too, as routes
 * the dispatcher makes from their struct subsystem (page_handler). */
const struct subsystem web_subsystem = {
    .name = "web",
    .routes = (const struct route *const[]){web_routes, NULL},
    .pages =
        (const struct page[]){
            {"/", "web_index"},
            {"/login", "web_page_login"},
            {"/home", "web_page_home"},
            {"/students/{id}", "web_page_student"},
            {0},
        },
    .page_handler = web_index,
};
