/*
 * HTTP dispatch over CivetWeb (see http.h for the request path). One CivetWeb handler takes
 * every request; the route table decides. CivetWeb gives a worker thread to each connection
 * for its keep-alive life, so `http.threads` bounds concurrent clients and timeouts are short
 * (PRODUCT.md section 8). Every answer carries Content-Length so keep-alive works.
 *
 * Hostile input is stopped here, before any handler: the path is percent-decoded by us (not
 * by CivetWeb, which would cut it at a decoded NUL) and must be UTF-8 without control
 * characters; a JSON body must be complete (a body shorter than its Content-Length is refused
 * whole) and no deeper than http.max_json_depth before jansson, which recurses, sees it; the
 * errors CivetWeb answers by itself go through on_http_error, in the same JSON shape. The
 * worker threads get a stack of http.thread_stack_kib (see "worker stacks" below).
 */
#include "http.h"

#include <civetweb.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/input.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "subsystem.h"
#include "writer.h"

/* ---- route table ---------------------------------------------------------------------- */

#define MAX_ROUTES 512
static const struct route *routes[MAX_ROUTES];
static int nroutes;
/* The subsystems' pages as routes: the web shell's page for each path. */
static struct route page_routes[MAX_ROUTES];
static pthread_once_t routes_once = PTHREAD_ONCE_INIT;

static void route_add(const struct route *rt)
{
    if (nroutes < MAX_ROUTES)
        routes[nroutes++] = rt;
    else
        log_error("more than %d routes: %s %s is not served", MAX_ROUTES, rt->method, rt->path);
}

/* The core's own routes, then every subsystem's tables in list order, then their pages. */
static void routes_build(void)
{
    for (const struct route *rt = system_routes; rt->method != NULL; rt++)
        route_add(rt);
    for (int s = 0; subsystems[s] != NULL; s++)
        for (int t = 0; subsystems[s]->routes && subsystems[s]->routes[t]; t++)
            for (const struct route *rt = subsystems[s]->routes[t]; rt->method != NULL; rt++)
                route_add(rt);
    int npages = 0;
    for (int s = 0; subsystems[s] != NULL; s++)
        for (const struct page *p = subsystems[s]->pages; p && p->path; p++) {
            if (npages == MAX_ROUTES)
                break;
            struct route *rt = &page_routes[npages++];
            *rt = (struct route){.method = "GET",
                                 .path = p->path,
                                 .handler = registry_hooks()->page_handler,
                                 .access = ACCESS_PUBLIC,
                                 .name = p->name,
                                 .self_tx = true};
            route_add(rt);
        }
}

static void routes_init(void)
{
    pthread_once(&routes_once, routes_build);
}

int http_route_count(void)
{
    routes_init();
    return nroutes;
}

const struct route *http_route_at(int i)
{
    return i >= 0 && i < nroutes ? routes[i] : NULL;
}

/* Matches `path` against a pattern; fills params. Returns 1 on a match. */
static int path_match(const char *pat, const char *path, struct req *r)
{
    int np = 0;
    while (*pat) {
        if (pat[0] == '*' && pat[1] == '\0') {
            r->rest = path;
            return 1;
        }
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            if (close == NULL || np >= MAX_PARAMS)
                return 0;
            int64_t v = 0;
            int digits = 0;
            while (*path >= '0' && *path <= '9' && digits < 18) {
                v = v * 10 + (*path - '0');
                path++;
                digits++;
            }
            if (digits == 0 || v <= 0 || (*path != '/' && *path != '\0'))
                return 0;
            r->params[np++] = v;
            pat = close + 1;
            continue;
        }
        if (*pat != *path)
            return 0;
        pat++;
        path++;
    }
    return *path == '\0';
}

/* Finds the route for method and path. Returns its index, -1 when no path matches, -2 when
 * the path exists under other methods (their names in `allow`). */
static int route_find(const char *method, const char *path, struct req *r, char *allow,
                      size_t allowlen)
{
    int path_seen = 0;
    allow[0] = '\0';
    for (int i = 0; i < nroutes; i++) {
        struct req probe = {0};
        if (!path_match(routes[i]->path, path, &probe))
            continue;
        if (strcmp(routes[i]->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i]->method, "GET") == 0)) {
            memcpy(r->params, probe.params, sizeof(r->params));
            r->rest = probe.rest;
            return i;
        }
        path_seen = 1;
        size_t used = strlen(allow);
        snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", routes[i]->method);
    }
    return path_seen ? -2 : -1;
}

/* ---- replies ---------------------------------------------------------------------------- */

static void reply_reset(struct req *r)
{
    json_decref(r->out_json);
    r->out_json = NULL;
    if (r->out_owned)
        free((void *)r->out_data);
    r->out_data = NULL;
    r->out_len = 0;
    r->out_owned = false;
}

int reply_json(struct req *r, int status, json_t *obj)
{
    reply_reset(r);
    r->status = status;
    r->out_json = obj;
    r->out_type = "application/json; charset=utf-8";
    return status;
}

/* The error answer {"error": {"code", "message"[, "field"]}}. */
static int reply_verror(struct req *r, int status, const char *code, const char *field,
                        const char *fmt, va_list ap)
{
    char msg[512], clean[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    /* A message may quote client input; jansson makes no string of invalid UTF-8 (the answer
     * would go out empty). */
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    input_text_printable(msg, len, clean, sizeof(clean));
    json_t *err = json_pack("{s:s,s:s}", "code", code, "message", clean);
    if (field && err)
        json_object_set_new(err, "field", json_string(field));
    return reply_json(r, status, json_pack("{s:o}", "error", err));
}

int reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = reply_verror(r, status, code, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int reply_field_error(struct req *r, int status, const char *code, const char *field,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = reply_verror(r, status, code, field, fmt, ap);
    va_end(ap);
    return rc;
}

int reply_raw(struct req *r, int status, const char *type, const void *data, size_t len, bool owned)
{
    reply_reset(r);
    r->status = status;
    r->out_type = type;
    r->out_data = data;
    r->out_len = len;
    r->out_owned = owned;
    return status;
}

int reply_header(struct req *r, const char *name, const char *fmt, ...)
{
    size_t used = strlen(r->out_headers);
    size_t room = sizeof(r->out_headers) - used;
    int n = snprintf(r->out_headers + used, room, "%s: ", name);
    if (n < 0 || (size_t)n >= room)
        goto full;
    used += (size_t)n;
    room -= (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(r->out_headers + used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= room)
        goto full;
    memcpy(r->out_headers + used + n, "\r\n", 3);
    return 0;
full:
    r->out_headers[sizeof(r->out_headers) - room] = '\0';
    log_error("response headers full, dropped %s", name);
    return -1;
}

int reply_rows(struct req *r, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st))
{
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, row(st));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

void http_run_handler(struct req *r)
{
    db_failure_clear();
    r->route->handler(r);
    int failure = db_failure();
    if (failure != 0 && r->status < 500) {
        log_error("%s: answered %d after a storage failure (%s): 500 instead",
                  r->route->name ? r->route->name : "-", r->status, sqlite3_errstr(failure));
        r->out_headers[0] = '\0';
        r->keep_on_error = false;
        reply_error(r, 500, "internal", "internal storage error");
    }
    db_failure_clear();
}

int reply_db_error(struct req *r)
{
    log_error("%s: database: %s", r->route ? r->route->name : "-",
              r->db ? db_errmsg(r->db) : "no connection");
    return reply_error(r, 500, "internal", "internal storage error");
}

/* ---- input ------------------------------------------------------------------------------ */

int body_unpack_or_respond(struct req *r, const char *fmt, ...)
{
    if (r->body == NULL) {
        reply_error(r, 400, "bad_request", "a JSON object body is required");
        return -1;
    }
    json_error_t err;
    va_list ap;
    va_start(ap, fmt);
    int rc = json_vunpack_ex(r->body, &err, JSON_STRICT, fmt, ap);
    va_end(ap);
    if (rc != 0) {
        reply_error(r, 400, "bad_request", "invalid body: %s%s%s", err.text,
                    err.source[0] && strcmp(err.source, "<validation>") ? " at " : "",
                    err.source[0] && strcmp(err.source, "<validation>") ? err.source : "");
        return -1;
    }
    return 0;
}

int req_query(struct req *r, const char *name, char *buf, size_t size)
{
    const char *qs = r->ri->query_string;
    if (qs == NULL)
        return -1;
    int n = mg_get_var(qs, strlen(qs), name, buf, size);
    return n >= 0 ? n : n == -2 ? -2 : -1; /* -2: CivetWeb's "does not fit" */
}

int req_query_id_or_respond(struct req *r, const char *name, int64_t *out)
{
    char buf[32];
    if (req_query(r, name, buf, sizeof(buf)) < 0) {
        reply_error(r, 400, "bad_request", "query parameter '%s' is required", name);
        return -1;
    }
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0' || v <= 0) {
        reply_error(r, 400, "bad_request", "query parameter '%s' must be a positive integer", name);
        return -1;
    }
    *out = v;
    return 0;
}

const char *req_header(struct req *r, const char *name)
{
    return mg_get_header(r->conn, name);
}

const char *req_remote_addr(struct req *r)
{
    return r->remote_addr;
}

/* Resolves the client's address into r->remote_addr from the peer and, when the peer is a
 * trusted proxy, every X-Forwarded-For line. */
static void resolve_remote_addr(struct req *r)
{
    const char *xff[64];
    int n = 0;
    for (int i = 0; i < r->ri->num_headers && n < (int)(sizeof(xff) / sizeof(xff[0])); i++)
        if (strcasecmp(r->ri->http_headers[i].name, "X-Forwarded-For") == 0)
            xff[n++] = r->ri->http_headers[i].value;
    proxy_client_addr(r->ri->remote_addr, xff, n, r->node->proxies, r->node->nproxies,
                      r->remote_addr);
}

/* Reads the whole body, Content-Length or chunked, and parses it as a JSON object into
 * r->body; answers 400/413/503 itself and returns -1. A body is refused whole, never parsed in
 * part: shorter than its Content-Length (the client closed its side, or sent nothing for
 * http.request_timeout_ms), a chunked body CivetWeb cannot decode, or one nested deeper than
 * http.max_json_depth (jansson recurses per level). A refusal before the body's end says
 * "Connection: close": CivetWeb reads what is left of a body that is still coming (so that
 * the client, still sending, gets the answer rather than a reset) and closes after a broken
 * or short one. When `hash` is not NULL, the BLAKE2b-256 of the bytes read goes there (of
 * nothing when there is no body). A raw_body route keeps the bytes read in r->raw. */
static int read_body_or_respond(struct req *r, long long max, unsigned char hash[32])
{
    long long len = r->ri->content_length;
    bool chunked = len < 0;
    if (hash != NULL)
        crypto_generichash(hash, 32, (const unsigned char *)"", 0, NULL, 0);
    if (chunked && req_header(r, "Transfer-Encoding") == NULL)
        return 0; /* no body */
    if (len == 0)
        return 0;
    if (len > max) {
        reply_header(r, "Connection", "close");
        reply_error(r, 413, "too_large", "request body exceeds %lld bytes", max);
        return -1;
    }
    /* A chunked body is read up to one byte past the limit, to see whether it ends there. */
    size_t cap = chunked ? (size_t)max + 1 : (size_t)len;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        reply_header(r, "Connection", "close");
        reply_error(r, 503, "unavailable", "out of memory");
        return -1;
    }
    size_t got = 0;
    int n = 0;
    while (got < cap && (n = mg_read(r->conn, buf + got, cap - got)) > 0)
        got += (size_t)n;
    /* mg_read: 0 at the end of a chunked body or when the peer closed, -1 on a timeout, a
     * reset, or a chunk CivetWeb 1.15 refuses (it reads no chunk extension: "b;x=y"). */
    if (chunked ? n < 0 : got < (size_t)len) {
        free(buf);
        reply_header(r, "Connection", "close");
        if (chunked)
            reply_error(r, 400, "bad_request",
                        "the chunked body is malformed, cut short, or has chunk extensions "
                        "(not supported here: send Content-Length)");
        else
            reply_error(r, 400, "bad_request",
                        "the body ended before Content-Length: %zu of %lld bytes", got, len);
        return -1;
    }
    if (got > (size_t)max) {
        free(buf);
        reply_header(r, "Connection", "close");
        reply_error(r, 413, "too_large", "request body exceeds %lld bytes", max);
        return -1;
    }
    buf[got] = '\0';
    if (hash != NULL)
        crypto_generichash(hash, 32, (const unsigned char *)buf, got, NULL, 0);
    json_error_t err;
    int depth = r->node->cfg.http.max_json_depth;
    r->body = input_json_loadb(buf, got, JSON_REJECT_DUPLICATES, depth, &err);
    if (r->route->raw_body) { /* freed when the request ends */
        r->raw = buf;
        r->raw_len = got;
    } else {
        free(buf);
    }
    if (r->body == NULL && json_error_code(&err) == json_error_stack_overflow) {
        reply_error(r, 400, "bad_json", "the JSON body is nested deeper than %d levels", depth);
        return -1;
    }
    if (r->body == NULL) {
        reply_error(r, 400, "bad_json", "invalid JSON at line %d column %d: %s", err.line,
                    err.column, err.text);
        return -1;
    }
    if (!json_is_object(r->body)) {
        reply_error(r, 400, "bad_json", "the body must be a JSON object");
        return -1;
    }
    return 0;
}

/* ---- dispatch --------------------------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

static size_t send_reply(struct req *r)
{
    char *json = NULL;
    const void *data = r->out_data;
    size_t len = r->out_len;
    if (r->out_json != NULL) {
        json = json_dumps(r->out_json, JSON_COMPACT);
        if (json == NULL) {
            r->status = 500;
            json = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"encoding failed\"}}");
        }
        data = json;
        len = json ? strlen(json) : 0;
    }
    if (r->status == 0) {
        r->status = 500;
        r->out_type = "application/json";
        data = "{\"error\":{\"code\":\"internal\",\"message\":\"no reply\"}}";
        len = strlen(data);
        log_error("handler %s gave no reply", r->route ? r->route->name : "?");
    }
    bool head = strcmp(r->ri->request_method, "HEAD") == 0;
    bool api = r->route == NULL || strncmp(r->route->path, "/api/", 5) == 0;
    size_t body = head || r->status == 304 ? 0 : len;
    /* Headers and body leave in one write: two small writes meet Nagle's algorithm and the
     * peer's delayed ACK, 40 ms a response. */
    char head_buf[2048];
    /* How long an idle connection stays open, so that a client closes it first rather than
     * send its next request into a socket the node is closing (HTTP clients such as Node's
     * fetch otherwise assume 4 s and now and then fail a request). Whole seconds, rounded down. */
    char keep_alive[48] = "";
    int idle_s = r->node->cfg.http.keep_alive_timeout_ms / 1000;
    if (idle_s > 0 && strstr(r->out_headers, "Connection: close") == NULL)
        snprintf(keep_alive, sizeof(keep_alive), "Keep-Alive: timeout=%d\r\n", idle_s);
    int n = snprintf(head_buf, sizeof(head_buf),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "%s"
                     "%s"
                     "%s"
                     "\r\n",
                     r->status, status_text(r->status), r->out_type ? r->out_type : "text/plain",
                     len, api ? "Cache-Control: no-store\r\n" : "", keep_alive, r->out_headers);
    if (n < 0 || (size_t)n >= sizeof(head_buf))
        n = 0;
    char *out = malloc((size_t)n + body);
    if (out != NULL) {
        memcpy(out, head_buf, (size_t)n);
        if (body)
            memcpy(out + n, data, body);
        mg_write(r->conn, out, (size_t)n + body);
        free(out);
    } else {
        mg_write(r->conn, head_buf, (size_t)n);
        if (body)
            mg_write(r->conn, data, body);
    }
    free(json);
    return len;
}

static void access_log_line(struct req *r, size_t bytes, double seconds)
{
    struct node *n = r->node;
    if (n->access_log == NULL)
        return;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    pthread_mutex_lock(&n->access_log_lock);
    fprintf(n->access_log, "%s %s account=%lld device=%lld \"%s %s\" %d %zu %.3fms\n", when,
            r->remote_addr, (long long)r->caller.account_id, (long long)r->caller.device_id,
            r->ri->request_method, r->ri->local_uri, r->status, bytes, seconds * 1e3);
    fflush(n->access_log);
    pthread_mutex_unlock(&n->access_log_lock);
}

/* The policy of an ACCESS_USER or ACCESS_DEVICE route for the caller auth_resolve found: 0
 * when it may call the route, or -1 after answering 401 or 403. */
static int caller_allowed_or_respond(struct req *r)
{
    const struct route *rt = r->route;
    if (rt->access == ACCESS_USER) {
        if (r->caller.account_id == 0) {
            reply_error(r, r->caller.device_id ? 403 : 401,
                        r->caller.device_id ? "forbidden" : "unauthorized",
                        r->caller.device_id ? "device tokens cannot use this route"
                                            : "log in first");
            return -1;
        }
        if ((r->caller.roles & rt->allow) == 0) {
            reply_error(r, 403, "forbidden", "your roles do not allow this");
            return -1;
        }
        bool (*csrf_ok)(struct req *) = registry_hooks()->csrf_ok;
        if (rt->writes && r->caller.via_cookie && (csrf_ok == NULL || !csrf_ok(r))) {
            reply_error(r, 403, "csrf", "missing or wrong X-CSRF-Token header");
            return -1;
        }
    } else if (rt->access == ACCESS_DEVICE) {
        if (r->caller.device_id == 0) {
            reply_error(r, r->caller.account_id ? 403 : 401,
                        r->caller.account_id ? "forbidden" : "unauthorized",
                        "a device token is required");
            return -1;
        }
        if ((r->caller.scopes & rt->allow) == 0) {
            reply_error(r, 403, "forbidden", "the device token lacks the scope for this");
            return -1;
        }
    }
    return 0;
}

/* Reads the request's body as the route wants it (a file, JSON, or none) and, on a
 * node-signed route, checks the signature over it. 0, or -1 after answering. */
static int body_and_signature_or_respond(struct req *r)
{
    const struct route *rt = r->route;
    const char *m = r->ri->request_method;
    unsigned char hash[32];
    bool signed_route = rt->access == ACCESS_NODE;
    if (rt->upload) {
        int (*upload_read)(struct req *) = registry_hooks()->upload_read;
        if (upload_read == NULL)
            return reply_error(r, 500, "internal", "no subsystem reads uploads"), -1;
        if (upload_read(r) != 0)
            return -1;
        if (signed_route)
            memcpy(hash, r->upload->hash, sizeof(hash));
    } else if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
               strcmp(m, "DELETE") == 0) {
        if (read_body_or_respond(r, r->node->cfg.http.max_body_bytes, signed_route ? hash : NULL) !=
            0)
            return -1;
    } else if (signed_route) {
        crypto_generichash(hash, sizeof(hash), (const unsigned char *)"", 0, NULL, 0);
    }
    if (!signed_route)
        return 0;
    http_node_check_fn node_check = registry_hooks()->node_check;
    if (node_check == NULL)
        return reply_error(r, 404, "not_found", "this node serves no federation routes"), -1;
    return node_check(r, rt->signer, hash) != 0 ? -1 : 0;
}

/* Runs the route's policy, body parsing and handler inside one transaction. */
static void run_route(struct req *r)
{
    const struct route *rt = r->route;
    if (rt->access == ACCESS_USER || rt->access == ACCESS_DEVICE ||
        strncmp(rt->path, "/api/", 5) == 0) {
        int (*resolve)(struct req *) = registry_hooks()->resolve_caller;
        if (resolve != NULL && resolve(r) != 0)
            return; /* answered */
    }
    if (caller_allowed_or_respond(r) != 0 || body_and_signature_or_respond(r) != 0)
        return;
    if (rt->prepare != NULL) {
        db_failure_clear();
        if (rt->prepare(r) != 0 || db_failure() != 0) {
            if (r->status < 500 && db_failure() != 0)
                reply_db_error(r);
            db_rollback(r->db); /* a no-op unless prepare left a read transaction open */
            db_failure_clear();
            return;
        }
        db_rollback(r->db);
    }
    if (rt->self_tx) {
        http_run_handler(r);
        db_rollback(r->db); /* a no-op unless the handler left a transaction open */
        return;
    }
    if (rt->writes && r->node->writer != NULL) {
        writer_run(r->node->writer, r); /* group commit: answered after the batch's commit */
        r->db = node_thread_db(r->node);
        return;
    }
    int rc = rt->writes ? db_begin_write(r->db) : db_begin_read(r->db);
    if (rc != SQLITE_OK) {
        reply_error(r, 503, "unavailable", "storage busy, retry");
        return;
    }
    http_run_handler(r);
    if (r->status < 400 || r->keep_on_error) {
        if (db_commit(r->db) != SQLITE_OK) {
            log_error("commit failed: %s", db_errmsg(r->db));
            db_rollback(r->db);
            reply_error(r, 503, "unavailable", "storage failed to commit, retry");
        }
    } else {
        db_rollback(r->db);
    }
}

/* Framing that CivetWeb lets through and a proxy in front might read otherwise: a
 * Content-Length that is not a plain decimal number (CivetWeb reads "12abc" as 12), or one
 * beside Transfer-Encoding (RFC 9112 6.3: a smuggling attempt). Answers 400 and returns -1.
 * Where the body ends is then unknown: the connection closes without reading on (any other
 * refusal lets CivetWeb read the rest of the body and keep the connection). */
static int framing_or_respond(struct req *r)
{
    const char *cl = req_header(r, "Content-Length");
    if (cl == NULL)
        return 0;
    const char *why = NULL;
    if (req_header(r, "Transfer-Encoding") != NULL)
        why = "Content-Length and Transfer-Encoding together are refused";
    else if (cl[0] == '\0' || cl[strspn(cl, "0123456789")] != '\0')
        why = "Content-Length must be a decimal number";
    if (why == NULL)
        return 0;
    reply_header(r, "Connection", "close");
    mg_disable_connection_keep_alive(r->conn);
    return reply_error(r, 400, "bad_request", "%s", why), -1;
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    struct node *n = cbdata;
    double t0 = now_seconds();
    atomic_fetch_add(&n->active_requests, 1);
    struct req r = {.node = n, .conn = conn, .ri = mg_get_request_info(conn), .route_index = -1};
    resolve_remote_addr(&r);
    /* CivetWeb leaves the path as sent (decode_url: no), with dot segments removed. */
    const char *raw = r.ri->local_uri ? r.ri->local_uri : "/";
    size_t rawlen = strlen(raw);
    char small[512], *path = rawlen < sizeof(small) ? small : malloc(rawlen + 1);
    char allow[128];
    int i = -3; /* -3: answered before routing */
    if (path == NULL)
        reply_error(&r, 503, "unavailable", "out of memory");
    else if (input_path_decode(raw, path, rawlen + 1) < 0)
        reply_error(&r, 400, "bad_path",
                    "the path is not percent-encoded UTF-8 text (a NUL, a control character, "
                    "a bad %%-escape, an encoded dot segment or invalid UTF-8)");
    else if (framing_or_respond(&r) == 0)
        i = route_find(r.ri->request_method, path, &r, allow, sizeof(allow));
    if (i == -2) {
        reply_header(&r, "Allow", "%s", allow);
        reply_error(&r, 405, "method_not_allowed", "%s is not allowed here; allowed: %s",
                    r.ri->request_method, allow);
    } else if (i == -1) {
        reply_error(&r, 404, "not_found", "no such route: %s", path);
    } else if (i >= 0) {
        r.route = routes[i];
        r.route_index = i;
        r.db = node_thread_db(n);
        if (r.db == NULL)
            reply_error(&r, 503, "unavailable", "storage unavailable");
        else
            run_route(&r);
    }
    /* Counted before the answer leaves: a client that has its answer finds it in /metrics. */
    double dt = now_seconds() - t0;
    metrics_observe(n->metrics, r.route_index, r.status ? r.status : 500, dt);
    size_t bytes = send_reply(&r);
    access_log_line(&r, bytes, now_seconds() - t0);
    reply_reset(&r);
    json_decref(r.body);
    free(r.raw);
    if (r.upload != NULL && registry_hooks()->upload_free != NULL)
        registry_hooks()->upload_free(r.upload);
    if (r.prep_free != NULL)
        r.prep_free(r.prep);
    if (path != small)
        free(path);
    atomic_fetch_sub(&n->active_requests, 1);
    return r.status;
}

/* CivetWeb answers some requests by itself, before any handler (docs/architecture.md, "What
 * CivetWeb answers by itself"): a request it cannot parse (400, which includes a method it
 * does not know and headers larger than its buffer), a bad Content-Length (411), an HTTP
 * version other than 1.0 and 1.1 (505), a Transfer-Encoding other than chunked (400). It calls
 * this first: the answer goes out in the JSON shape of every other error, and the connection
 * closes (CivetWeb closes it after any of these; we say so). Returns 0 (answered), or 1 to let
 * CivetWeb answer (statuses below 400, which carry no error). */
static int on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    if (status < 400 || status > 599)
        return 1;
    const char *code, *what;
    switch (status) {
    case 400:
        code = "bad_request", what = "malformed request";
        break;
    case 404:
        code = "not_found", what = "not found";
        break;
    case 405:
        code = "method_not_allowed", what = "method not allowed";
        break;
    case 411:
        code = "length_required", what = "Content-Length must be a decimal number of bytes";
        break;
    case 413:
        code = "too_large", what = "the request line and headers are too large";
        break;
    case 505:
        code = "http_version", what = "only HTTP/1.0 and HTTP/1.1 are served";
        break;
    default:
        code = status < 500 ? "bad_request" : "internal", what = "refused";
        break;
    }
    char said[128], msg[256];
    input_text_printable(errmsg ? errmsg : "", errmsg ? strlen(errmsg) : 0, said, sizeof(said));
    if (said[0] == '\0' || strcasecmp(said, what) == 0)
        snprintf(msg, sizeof(msg), "%s", what);
    else
        snprintf(msg, sizeof(msg), "%s (%s)", what, said);
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL)
        return 1;
    char head[512];
    int hn = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\n"
                      "Content-Type: application/json; charset=utf-8\r\n"
                      "Content-Length: %zu\r\n"
                      "X-Content-Type-Options: nosniff\r\n"
                      "Cache-Control: no-store\r\n"
                      "Connection: close\r\n\r\n",
                      status, status_text(status), strlen(body));
    mg_disable_connection_keep_alive(conn);
    if (hn > 0 && (size_t)hn < sizeof(head)) {
        mg_write(conn, head, (size_t)hn);
        mg_write(conn, body, strlen(body));
    }
    free(body);
    struct node *n = mg_get_user_data(mg_get_context(conn));
    if (n != NULL)
        metrics_observe(n->metrics, -1, status, 0);
    return 0;
}

/* ---- worker stacks ---------------------------------------------------------------------- */

/* CivetWeb as Debian builds it (1.15, USE_STACK_SIZE=102400) gives each thread it starts a
 * 100 KiB stack: mg_start_thread_with_id calls pthread_attr_setstacksize with that constant,
 * and no option changes it. That is too small for what runs on a worker (SQLite, jansson,
 * argon2's caller, the handlers), and smaller still under AddressSanitizer.
 *
 * So this program defines pthread_attr_setstacksize itself. A definition in the executable
 * comes first in the dynamic linker's lookup, so libcivetweb's calls (through its PLT) land
 * here; this one passes every call on to the C library's (dlsym RTLD_NEXT), and only while
 * http_start's mg_start creates CivetWeb's threads (stack_floor set) raises a smaller size to
 * http.thread_stack_kib. At any other time, and for sizes already larger, the call is passed
 * on unchanged. http_thread_stack_bytes lets /metrics show the size a worker really got. */
static _Atomic size_t stack_floor;

typedef int (*setstacksize_fn)(pthread_attr_t *, size_t);

int pthread_attr_setstacksize(pthread_attr_t *attr, size_t size)
{
    static _Atomic(setstacksize_fn) real;
    setstacksize_fn fn = atomic_load(&real);
    if (fn == NULL) {
        *(void **)&fn = dlsym(RTLD_NEXT, "pthread_attr_setstacksize");
        if (fn == NULL)
            return ENOSYS;
        atomic_store(&real, fn);
    }
    size_t floor = atomic_load(&stack_floor);
    return fn(attr, size < floor ? floor : size);
}

size_t http_thread_stack_bytes(void)
{
    pthread_attr_t a;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return 0;
    pthread_attr_getstacksize(&a, &size);
    pthread_attr_destroy(&a);
    return size;
}

/* A worker thread opens its connection as it starts, not on its first request: a node started
 * in the middle of a morning would otherwise make its first few hundred requests wait while
 * dozens of threads open their connections at once. A failure here is retried on the first
 * request, which answers 503 if it fails again. */
static void *on_init_thread(const struct mg_context *ctx, int thread_type)
{
    if (thread_type == 1)
        node_thread_db(mg_get_user_data(ctx));
    return NULL;
}

static void on_exit_thread(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
    (void)thread_type;
    (void)thread_pointer;
    node_thread_db_close(mg_get_user_data(ctx));
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_error("civetweb: %s", message);
    return 1;
}

/* Parses http.trusted_proxies into n->proxies (the configuration checked them already).
 * Returns 0, or -1 with err. */
static int proxies_init(struct node *n, char *err, size_t errlen)
{
    n->nproxies = 0;
    for (int i = 0; i < n->cfg.http.ntrusted_proxies; i++)
        if (proxy_net_parse(n->cfg.http.trusted_proxies[i], &n->proxies[n->nproxies++]) != 0) {
            snprintf(err, errlen, "http.trusted_proxies: not an address or range: %s",
                     n->cfg.http.trusted_proxies[i]);
            return -1;
        }
    return 0;
}

/* Sets n->public_url: http.public_url without its trailing "/", or, when that is unset,
 * "http://" + http.listen with the port bound (a wildcard address as its loopback). */
static int public_url_init(struct node *n, char *err, size_t errlen)
{
    struct proxy_url u;
    if (n->cfg.http.public_url[0] != '\0') {
        if (proxy_url_parse(n->cfg.http.public_url, &u) != 0) {
            snprintf(err, errlen, "http.public_url: not http(s)://HOST[:PORT]: %s",
                     n->cfg.http.public_url);
            return -1;
        }
        snprintf(n->public_url, sizeof(n->public_url), "%s", u.base);
        return 0;
    }
    char local[128];
    if (proxy_listen_local(n->cfg.http.listen, n->port, local, sizeof(local)) != 0) {
        snprintf(err, errlen, "http.listen: no port in %s", n->cfg.http.listen);
        return -1;
    }
    snprintf(n->public_url, sizeof(n->public_url), "http://%s", local);
    log_info("http.public_url is not set: links (certificates' QR codes) use %s", n->public_url);
    return 0;
}

int http_start(struct node *n, char *err, size_t errlen)
{
    if (registry_check(err, errlen) != 0)
        return -1;
    routes_init();
    if (proxies_init(n, err, errlen) != 0)
        return -1;
    char threads[16], req_timeout[16], ka_timeout[16];
    snprintf(threads, sizeof(threads), "%d", n->cfg.http.threads);
    snprintf(req_timeout, sizeof(req_timeout), "%d", n->cfg.http.request_timeout_ms);
    snprintf(ka_timeout, sizeof(ka_timeout), "%d", n->cfg.http.keep_alive_timeout_ms);
    const char *options[] = {"listening_ports",
                             n->cfg.http.listen,
                             "num_threads",
                             threads,
                             "request_timeout_ms",
                             req_timeout,
                             "keep_alive_timeout_ms",
                             ka_timeout,
                             "enable_keep_alive",
                             "yes",
                             "decode_url",
                             "no", /* on_request decodes and checks the path */
                             "tcp_nodelay",
                             "1",
                             NULL};
    struct mg_callbacks cb = {0};
    cb.init_thread = on_init_thread;
    cb.exit_thread = on_exit_thread;
    cb.log_message = on_log_message;
    cb.http_error = on_http_error;
    mg_init_library(0);
    atomic_store(&stack_floor, (size_t)n->cfg.http.thread_stack_kib * 1024);
    n->ctx = mg_start(&cb, n, options);
    atomic_store(&stack_floor, 0);
    if (n->ctx == NULL) {
        snprintf(err, errlen, "cannot listen on %s (in use, or a bad address?)",
                 n->cfg.http.listen);
        return -1;
    }
    mg_set_request_handler(n->ctx, "/", on_request, n);
    struct mg_server_port ports[4];
    int np = mg_get_server_ports(n->ctx, 4, ports);
    n->port = np > 0 ? ports[0].port : 0;
    if (public_url_init(n, err, errlen) != 0) {
        http_stop(n);
        return -1;
    }
    return 0;
}

/* CivetWeb's listening thread polls its sockets in rounds of 2 s and looks at the stop flag
 * between rounds, so mg_stop waits up to 2 s for it. Shutting the node's own listening sockets
 * first (found by their ports among the process's descriptors) ends the round at once: the
 * socket stops accepting, its poll returns, the thread sees the flag that mg_stop sets next.
 * In-flight requests are not touched; they finish as mg_stop lets them. */
static void close_listeners(const struct mg_context *ctx)
{
    struct mg_server_port ports[4];
    int np = mg_get_server_ports(ctx, 4, ports);
    for (int fd = 0; np > 0 && fd < 1024; fd++) {
        int listening = 0;
        socklen_t len = sizeof(listening);
        struct sockaddr_storage a;
        socklen_t alen = sizeof(a);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
            continue;
        int p = a.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                : a.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port)
                                          : -1;
        for (int i = 0; i < np; i++)
            if (p == ports[i].port)
                shutdown(fd, SHUT_RD);
    }
}

void http_stop(struct node *n)
{
    if (n->ctx) {
        close_listeners(n->ctx);
        mg_stop(n->ctx);
        n->ctx = NULL;
    }
}

int http_port(struct node *n)
{
    return n->port;
}
