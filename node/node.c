/*
 * Node lifetime: storage set-up (and who may write it), per-thread database connections, serving
 * until a signal.
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "lib/minisign.h"
#include "log.h"
#include "metrics.h"
#include "subsystem.h"
#include "writer.h"

static _Thread_local struct db *thread_db;

/* The name of user `uid` into `out`, or "" when it has none. */
static void user_name(uid_t uid, char *out, size_t size)
{
    struct passwd pw, *found = NULL;
    char buf[4096];
    out[0] = '\0';
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
        snprintf(out, size, "%s", found->pw_name);
}

int node_check_owner(const char *dir, const char *what, const char *cmd, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* created by this command: its user owns it */
        snprintf(err, errlen, "%s %s: %s", what, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s is not a directory", what, dir);
        return -1;
    }
    uid_t me = geteuid();
    if (st.st_uid == me)
        return 0;
    char owner[256], self[256], owner_shown[300], self_shown[300], sudo_user[300];
    user_name(st.st_uid, owner, sizeof(owner));
    user_name(me, self, sizeof(self));
    if (owner[0] != '\0') {
        snprintf(owner_shown, sizeof(owner_shown), "user %s", owner);
        snprintf(sudo_user, sizeof(sudo_user), "%s", owner);
    } else {
        snprintf(owner_shown, sizeof(owner_shown), "uid %u (no user name)", (unsigned)st.st_uid);
        snprintf(sudo_user, sizeof(sudo_user), "'#%u'", (unsigned)st.st_uid);
    }
    if (self[0] != '\0')
        snprintf(self_shown, sizeof(self_shown), "%s", self);
    else
        snprintf(self_shown, sizeof(self_shown), "uid %u", (unsigned)me);
    snprintf(err, errlen,
             "%s %s belongs to %s, not to %s who runs this command (files it made there would "
             "be %s's, and the node could not open them): run it as that user, e.g. sudo -u %s "
             "mesnode %s ...",
             what, dir, owner_shown, self_shown, self_shown, sudo_user, cmd);
    return -1;
}

/* Every subsystem's storage_init, in list order: 0, or -1 with err. */
static int storage_init_all(struct db *db, const struct mes_config *cfg, char *err, size_t errlen)
{
    for (int s = 0; subsystems[s] != NULL; s++)
        if (subsystems[s]->storage_init != NULL &&
            subsystems[s]->storage_init(db, cfg, err, errlen) != 0)
            return -1;
    return 0;
}

int node_open_storage(struct node *n, char *err, size_t errlen)
{
    const char *dir = n->cfg.storage.data_dir;
    err[0] = '\0';
    /* The schools' clock: "today", a lesson's day, a passage's hour and a meal's day are the
     * region's local time wherever the server's own zone is set (config validated it is an
     * IANA name). Set once, before any thread starts. A zone the system does not know would
     * be UTC without a word: refused instead. */
    const char *tz = n->cfg.region.timezone, *tzdir = getenv("TZDIR");
    char zone[PATH_MAX];
    snprintf(zone, sizeof(zone), "%s/%s", tzdir && tzdir[0] ? tzdir : "/usr/share/zoneinfo", tz);
    if (access(zone, R_OK) != 0) {
        snprintf(err, errlen, "region.timezone: %s is not a time zone of this system (%s: %s)", tz,
                 zone, strerror(errno));
        return -1;
    }
    if (setenv("TZ", tz, 1) != 0) {
        snprintf(err, errlen, "region.timezone: %s", strerror(errno));
        return -1;
    }
    tzset();
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create data directory: %s", dir, strerror(errno));
        return -1;
    }
    int w = snprintf(n->db_path, sizeof(n->db_path), "%s/mes.db", dir);
    if (w < 0 || (size_t)w >= sizeof(n->db_path)) {
        snprintf(err, errlen, "%s: data directory path too long", dir);
        return -1;
    }
    struct db *db = db_open(n->db_path, &n->cfg, err, errlen);
    if (db == NULL)
        return -1;
    int rc = db_migrate(db, 0, err, errlen);
    /* The subsystems' seeding from the configuration (regional subjects, control forms) runs
     * at every start; file bodies nothing names any more (db.h) go then too. */
    if (rc == 0 &&
        (db_begin_collected(db, err, errlen) != 0 ||
         storage_init_all(db, &n->cfg, err, errlen) != 0 || db_commit(db) != SQLITE_OK)) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: %s", n->db_path, db_errmsg(db));
        db_rollback(db);
        rc = -1;
    }
    db_close(db);
    return rc;
}

/* Writes key files through a temporary name, so that a crash leaves the old file or the new. */
static int replace_key(const char *path, const struct ms_secret *sk, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    unlink(tmp);
    if (ms_secret_write(tmp, sk, NULL, err, errlen) != 0)
        return -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The paths of the node's key pair. */
static void key_paths(const struct node *n, char *path, size_t cap, char *pub, size_t pcap)
{
    const char *named = n->cfg.federation.secret_key_file;
    if (named[0] != '\0')
        snprintf(path, cap, "%s", named);
    else
        snprintf(path, cap, "%s/node.key", n->cfg.storage.data_dir);
    /* The public key beside it: NAME.key gives NAME.pub, any other name NAME.pub. */
    size_t len = strlen(path);
    bool dot_key = len > 4 && strcmp(path + len - 4, ".key") == 0;
    snprintf(pub, pcap, "%.*s.pub", (int)(dot_key ? len - 4 : len), path);
}

int node_replace_key(struct node *n, const struct ms_secret *sk, char *err, size_t errlen)
{
    char path[PATH_MAX + 16], pub[PATH_MAX + 16], tmp[PATH_MAX + 32];
    key_paths(n, path, sizeof(path), pub, sizeof(pub));
    struct ms_public pk;
    ms_secret_public(sk, &pk);
    snprintf(tmp, sizeof(tmp), "%s.new", pub);
    unlink(tmp);
    if (replace_key(path, sk, err, errlen) != 0 || ms_public_write(tmp, &pk, err, errlen) != 0 ||
        rename(tmp, pub) != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: %s", pub, strerror(errno));
        return -1;
    }
    if (n->key != NULL)
        memcpy(n->key, sk, sizeof(*sk));
    n->pub = pk;
    return 0;
}

int node_load_key(struct node *n, char *err, size_t errlen)
{
    char path[PATH_MAX + 16], pub[PATH_MAX + 16];
    key_paths(n, path, sizeof(path), pub, sizeof(pub));
    struct stat st;
    if (stat(path, &st) != 0) {
        if ((n->key = ms_secret_generate(&n->pub)) == NULL) {
            snprintf(err, errlen, "out of memory for the key");
            return -1;
        }
        if (ms_secret_write(path, n->key, NULL, err, errlen) != 0)
            return -1;
    } else if (st.st_size == crypto_sign_SECRETKEYBYTES) {
        /* A raw Ed25519 key of an older node: the same key, now in minisign's format, so that
         * the certificates it signed stay valid. */
        FILE *f = fopen(path, "rb");
        n->key = sodium_malloc(sizeof(*n->key));
        if (f == NULL || n->key == NULL ||
            fread(n->key->sk, 1, sizeof(n->key->sk), f) != sizeof(n->key->sk)) {
            snprintf(err, errlen, "%s: cannot read the key", path);
            if (f)
                fclose(f);
            return -1;
        }
        fclose(f);
        randombytes_buf(n->key->id, sizeof(n->key->id));
        unlink(pub);
        if (replace_key(path, n->key, err, errlen) != 0)
            return -1;
    } else if ((n->key = ms_secret_load(path, NULL, err, errlen)) == NULL) {
        return -1;
    }
    ms_secret_public(n->key, &n->pub);
    if (stat(pub, &st) != 0 && ms_public_write(pub, &n->pub, err, errlen) != 0)
        return -1;
    return 0;
}

struct db *node_thread_db(struct node *n)
{
    if (thread_db == NULL) {
        char err[512];
        thread_db = db_open(n->db_path, &n->cfg, err, sizeof(err));
        if (thread_db == NULL) {
            log_error("%s", err);
            return NULL;
        }
        atomic_fetch_add(&n->db_connections, 1);
    }
    return thread_db;
}

void node_thread_db_close(struct node *n)
{
    if (thread_db != NULL) {
        db_close(thread_db);
        thread_db = NULL;
        atomic_fetch_sub(&n->db_connections, 1);
    }
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int node_start(struct node *n, char *err, size_t errlen)
{
    if (pthread_mutex_init(&n->access_log_lock, NULL) != 0) {
        snprintf(err, errlen, "cannot initialise a lock");
        return -1;
    }
    const char *al = n->cfg.http.access_log;
    if (strcmp(al, "off") == 0)
        n->access_log = NULL;
    else if (al[0] == '\0')
        n->access_log = stderr;
    else if ((n->access_log = fopen(al, "a")) == NULL) {
        snprintf(err, errlen, "%s: cannot open access log: %s", al, strerror(errno));
        return -1;
    }
    if (n->key == NULL && node_load_key(n, err, errlen) != 0)
        return -1;
    if (registry_check(err, errlen) != 0)
        return -1;
    for (int s = 0; subsystems[s] != NULL; s++)
        if (subsystems[s]->start != NULL && subsystems[s]->start(n, err, errlen) != 0)
            return -1;
    n->metrics = metrics_create(http_route_count());
    if (n->metrics == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone while answered: mg_write fails instead */
    if ((n->writer = writer_start(n, err, errlen)) == NULL)
        return -1;
    if (http_start(n, err, errlen) != 0)
        return -1;
    log_info("serving %s on port %d (%d threads), data in %s", n->cfg.region.name, n->port,
             n->cfg.http.threads, n->cfg.storage.data_dir);
    return 0;
}

void node_stop(struct node *n)
{
    http_stop(n);
    writer_stop(n->writer);
    n->writer = NULL;
    node_thread_db_close(n);
    int count = 0;
    while (subsystems[count] != NULL)
        count++;
    for (int s = count - 1; s >= 0; s--) /* what a start made, in reverse */
        if (subsystems[s]->stop != NULL)
            subsystems[s]->stop(n);
    metrics_destroy(n->metrics);
    n->metrics = NULL;
    ms_secret_free(n->key);
    n->key = NULL;
    if (n->access_log != NULL && n->access_log != stderr)
        fclose(n->access_log);
    n->access_log = NULL;
}

int node_serve(struct node *n)
{
    char err[512];
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (node_start(n, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return 1;
    }
    for (int s = 0; subsystems[s] != NULL; s++)
        if (subsystems[s]->serve_start != NULL && subsystems[s]->serve_start(n) != 0)
            return 1;
    while (!stop_requested)
        pause();
    log_info("stopping");
    for (int s = 0; subsystems[s] != NULL; s++)
        if (subsystems[s]->serve_stop != NULL)
            subsystems[s]->serve_stop(n);
    node_stop(n);
    return 0;
}
