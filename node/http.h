/*
 * HTTP: the route table, the request context every handler receives, and the replies.
 *
 * Request path (docs/architecture.md): CivetWeb worker thread -> http.c dispatch -> match the
 * route table -> resolve the caller (session cookie, bearer or device token) -> enforce the
 * route's policy (roles or device scopes, CSRF for cookie writes) -> read and parse the JSON
 * body (bounded) -> open a transaction (IMMEDIATE for routes that write) -> handler -> commit
 * (or roll back on an error status) -> only then send the reply -> metrics and access log.
 *
 * Handlers never write to the socket: they call one reply_* function and return its status.
 * Because the reply is sent after the commit, a 2xx answer means the change is durable.
 */
#ifndef MES_HTTP_H
#define MES_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "lib/proxy.h"
#include "roles.h"

struct mg_connection;
struct mg_request_info;
struct node;

enum access {
    ACCESS_PUBLIC, /* anyone, logged in or not */
    ACCESS_USER,   /* a logged-in account holding one of `allow` roles */
    ACCESS_DEVICE, /* a device token holding one of `allow` scopes */
    ACCESS_NODE,   /* a request signed by another node of the federation: see `signer` */
};

/* Which nodes may sign the requests of an ACCESS_NODE route (docs/federation.md, "Requests
 * between nodes"). The dispatcher checks the signature before the handler runs, through the
 * hook the federation registers (struct subsystem's node_check), and puts the signer in r->caller.
 */
enum signer {
    SIGNER_NONE,   /* not a node-signed route */
    SIGNER_REGION, /* an enrolled region: the route is served at the hub only (404 elsewhere) */
    SIGNER_HUB,    /* the hub, with the key the region follows: served at a region only */
    SIGNER_ANY,    /* either, as this node's mode allows */
};

#define MAX_GRANTS 32
/* A role held by an account, scoped to an institution (0 = the whole region). */
struct grant {
    uint32_t role;
    int64_t institution_id;
};

/* Who is calling. Filled by auth_resolve before the policy check. */
struct caller {
    int64_t account_id; /* 0: anonymous or device */
    int64_t person_id;
    uint32_t roles; /* union of grants' roles */
    struct grant grants[MAX_GRANTS];
    int ngrants;
    bool via_cookie; /* session came from the cookie: writes need the CSRF token */
    char csrf[48];
    unsigned char session_hash[32];
    int64_t device_id; /* device tokens */
    uint32_t scopes;
    int64_t device_institution_id;
    /* A node-signed route's caller (ACCESS_NODE): the region's code, or the hub's, and the key
     * that verified the request (minisign's key id and Ed25519 public key). */
    char node_code[16];
    unsigned char node_key_id[8];
    unsigned char node_key[32];
};

struct req;
typedef int (*handler_fn)(struct req *r);

/* One row of a route table: the whole policy of a route. The dispatcher enforces `access`,
 * `allow` and `signer` before the handler runs, so a handler never checks who may call it
 * (only whether this caller may touch *this* record). Rows are written with designated
 * initializers, `{.method = "GET", .path = ..., .handler = ..., .access = ...}`; a table ends
 * with a zeroed row. */
struct route {
    const char *method; /* "GET", "POST", "PATCH", "PUT", "DELETE" */
    const char *path;   /* "/api/v1/students/{id}": {name} matches a positive integer;
                           a final star matches any rest, as in "/static/" followed by a star */
    handler_fn handler;
    enum access access;
    uint32_t allow;     /* roles (ACCESS_USER) or scopes (ACCESS_DEVICE), roles.h */
    bool writes;        /* write transaction; CSRF required for cookie callers */
    const char *name;   /* stable label for metrics and docs/openapi.yaml operationId */
    bool self_tx;       /* the handler runs its own transactions (login: argon2 must not hold
                           the write lock); the dispatcher opens none */
    bool upload;        /* the body is a file (up to http.max_upload_bytes), not JSON: read,
                           hashed and compressed into r->upload before the handler runs */
    handler_fn prepare; /* expensive work before the transaction, on the worker thread with
                           no transaction open (it may open a read one: it is ended after):
                           argon2, hashing. Returns 0 to go on to `handler` (on the writer
                           for a writing route), or the status of the reply it made. What it
                           found goes to the handler in r->prep. */
    enum signer signer; /* ACCESS_NODE: which nodes may sign (SIGNER_NONE otherwise) */
    bool raw_body;      /* keep the JSON body's bytes as sent in r->raw (a signature over them:
                           the payment provider's top-ups) */
    bool bulk;          /* a writing route whose request is many writes at once (a terminal's
                           upload): the writer commits it apart from the interactive ones, so
                           that they never wait behind a queue of uploads (writer.c) */
};

/* A file body as the dispatcher prepared it for an upload route (files/files.c). */
struct upload {
    unsigned char hash[32]; /* BLAKE2b-256 of the original bytes */
    size_t size;            /* original length */
    void *data;             /* what is stored: the original or its zstd frame */
    size_t len;
    bool zstd;
    char type[128]; /* the request's media type, checked; "application/octet-stream" if none */
};

#define MAX_PARAMS 4

struct req {
    struct node *node;
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    char remote_addr[PROXY_ADDR_TEXT]; /* the client: see req_remote_addr */
    const struct route *route;
    int route_index;
    int64_t params[MAX_PARAMS]; /* {name} segments in path order */
    const char *rest;           /* what a trailing "*" matched */
    struct db *db;
    struct caller caller;
    json_t *body; /* parsed JSON object for requests with a body, else NULL */
    char *raw;    /* a raw_body route's body as sent (NUL-terminated), else NULL */
    size_t raw_len;
    struct upload *upload; /* the file of an upload route, else NULL */
    /* The reply, sent by the dispatcher after the transaction ends. */
    int status;
    json_t *out_json;
    const void *out_data; /* raw body; freed with free() when out_owned */
    size_t out_len;
    bool out_owned;
    const char *out_type;
    char out_headers[1024]; /* extra "Name: value\r\n" lines */
    bool keep_on_error;     /* commit even though the status is an error (e.g. audit a failure) */
    void *prep;             /* what the route's prepare found, for its handler */
    void (*prep_free)(void *prep); /* called on prep when the request ends, if set */
};

/* The core's own routes (system.c: /healthz, /metrics); the subsystems' are in their
 * struct subsystem (subsystem.h). Ends with a zeroed entry. */
extern const struct route system_routes[];

/* Replies. Each records the reply and returns `status` so handlers can `return reply_...`. */
int reply_json(struct req *r, int status, json_t *obj); /* steals the reference */
int reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* As reply_error, naming the request field the error is about ("field" in the answer) so that
 * a page shows its message beside that field. The message stays English, for operators and
 * API clients; pages show the catalog's text for the code and field ("error.CODE.FIELD"). */
int reply_field_error(struct req *r, int status, const char *code, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int reply_raw(struct req *r, int status, const char *type, const void *data, size_t len,
              bool owned);
/* Adds a response header line; returns 0 or -1 when the header buffer is full. */
int reply_header(struct req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Input helpers. The *_or_respond ones answer 400 themselves and return -1. */
/* Unpacks r->body with json_unpack's format in strict mode: unknown fields are refused. */
int body_unpack_or_respond(struct req *r, const char *fmt, ...);
/* Reads query parameter `name` into buf; returns its length, -1 when absent, or -2 when its
 * value does not fit in `size` (a caller that only asks "given?" reads both as absent; one
 * that must refuse nonsense answers 400 on -2). */
int req_query(struct req *r, const char *name, char *buf, size_t size);
/* Required positive integer query parameter. */
int req_query_id_or_respond(struct req *r, const char *name, int64_t *out);
const char *req_header(struct req *r, const char *name);
/* The client's address, canonical: the peer's, or through a trusted proxy the one its
 * X-Forwarded-For names (proxy_client_addr; resolved once, before the route runs). The login
 * throttle, the audit log, sessions and the access log all use it. */
const char *req_remote_addr(struct req *r);

/* Runs a query to its end and answers {"items": [...]}, one object per row made by `row`;
 * 500 when the query fails. */
int reply_rows(struct req *r, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st));

/* Runs r->route->handler inside the transaction its caller opened (the dispatcher's, or the
 * writer's savepoint). When the handler met a storage failure (db_failure, db.h) and still
 * answered below 500, its answer is replaced by a 500: the caller then rolls its work back. */
void http_run_handler(struct req *r);

/* Replies 500 for an unexpected database failure, logging the statement's error. */
int reply_db_error(struct req *r);

/* Stack size in bytes of the calling thread (a worker: http.thread_stack_kib), 0 if unknown. */
size_t http_thread_stack_bytes(void);

/* Server lifetime. http_start returns 0 or -1 with a message in err. */
int http_start(struct node *n, char *err, size_t errlen);
void http_stop(struct node *n);
/* Port actually bound (useful with port 0). */
int http_port(struct node *n);

/* The check of a node-signed request, registered by the federation (the core knows nothing of
 * signatures or keys): 0 when the request is signed by a node `signer` allows, with
 * r->caller.node_* filled; otherwise -1 after answering (401 unsigned or a bad signature, 403
 * an unknown node, 404 a route this node's mode does not serve). `body_hash` is the
 * BLAKE2b-256 of the request's body (of nothing when it has none). Without one, every
 * node-signed route answers 404. */
typedef int (*http_node_check_fn)(struct req *r, enum signer signer,
                                  const unsigned char body_hash[32]);

/* All routes, flattened at start-up (for metrics and docs checks). */
int http_route_count(void);
const struct route *http_route_at(int i);

#endif
