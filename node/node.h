/*
 * The running node: its configuration, the HTTP server and process-wide state shared by the
 * worker threads. One per process, created by `mesnode serve` or `mesnode demo`.
 */
#ifndef MES_NODE_H
#define MES_NODE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "db.h"
#include "lib/minisign.h"
#include "lib/proxy.h"

struct mg_context;
struct throttle;
struct metrics;
struct writer;
struct view_cache;
struct fed_runtime;

struct node {
    struct mes_config cfg;
    char db_path[PATH_MAX];
    struct mg_context *ctx;
    int port;
    struct throttle *throttle; /* login failures (accounts/throttle.c) */
    struct metrics *metrics;   /* per-route counters (metrics.c) */
    struct writer *writer;     /* group commit of write requests (writer.c) */
    struct view_cache *cache;  /* finished answers of the hottest reads (cache/cache.c) */
    FILE *access_log;          /* NULL: off */
    pthread_mutex_t access_log_lock;
    atomic_int active_requests;
    atomic_int db_connections;
    bool demo;               /* `mesnode demo`: print the address and logins once listening */
    struct ms_secret *key;   /* the node's signing key (sodium_malloc), or NULL */
    struct ms_public pub;    /* its public half */
    struct fed_runtime *fed; /* the federation\'s schedule (federation/schedule.c), or NULL */
    /* http.trusted_proxies parsed, and the base of every absolute link (http.public_url, or
     * derived from http.listen and the port bound): both set by http_start. */
    struct proxy_net proxies[CFG_MAX_PROXIES];
    int nproxies;
    char public_url[PROXY_URL_TEXT];
};

/* Whether this process may write directory `dir` (`what` names it in the message, as "the data
 * directory"): a command run as another user than the directory's owner (root, say, on the
 * service user's /var/lib/mesnode) would leave files of its own there, 0600, that the service
 * then cannot open. 0 when the effective user owns `dir`, or when `dir` does not exist yet
 * (the command creates it, owned by its user); -1 with err naming the owner (its user name, or
 * its uid when it has none) and the command to run instead, "sudo -u OWNER mesnode CMD ...".
 * `cmd` is the command as typed ("bundle import"). Commands exit 2 on -1, writing nothing. */
int node_check_owner(const char *dir, const char *what, const char *cmd, char *err, size_t errlen);

/* Opens the node's data directory (creating the database and migrating it) and fills
 * n->db_path. Returns 0 or -1 with err. */
int node_open_storage(struct node *n, char *err, size_t errlen);

/* Loads the node's Ed25519 signing key from federation.secret_key_file, or DATA_DIR/node.key
 * when that is not set (minisign's format, unencrypted), creating it (mode 0600) and its .pub
 * beside it when absent, converting an older node's raw
 * key in place; the secret stays in sodium_malloc memory. 0 or -1 with err. */
int node_load_key(struct node *n, char *err, size_t errlen);

/* Makes `sk` the node's signing key: its files replaced (through temporary names) and the key
 * in memory. 0, or -1 with err. */
int node_replace_key(struct node *n, const struct ms_secret *sk, char *err, size_t errlen);

/* The calling thread's database connection, opened on first use; NULL on failure (logged). */
struct db *node_thread_db(struct node *n);
/* Closes the calling thread's connection (worker thread exit). */
void node_thread_db_close(struct node *n);

/* Starts serving on storage node_open_storage prepared: the access log, the signing key, the
 * throttle, metrics, read cache, the writer and the HTTP server (n->port is then the port
 * bound), and ignores SIGPIPE. Returns 0, or -1 with err (what was started stays; the process
 * is expected to exit). The federation's schedule is not started (node_serve does that). */
int node_start(struct node *n, char *err, size_t errlen);
/* Stops what node_start started and frees it, the signing key included. */
void node_stop(struct node *n);

/* node_start, the federation's schedule, then serving until SIGINT/SIGTERM, then node_stop.
 * Returns the process exit code. */
int node_serve(struct node *n);

#endif
