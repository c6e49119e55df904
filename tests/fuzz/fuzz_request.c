/*
 * libFuzzer target for the node's whole request path: CivetWeb's parsing, node/http.c's
 * dispatch (route matching, the caller, the policy, the body), every handler and the writer,
 * on a scratch copy of the demo region. LLVMFuzzerInitialize makes a data directory (in
 * /dev/shm when there is one), fills it with the demo region (node/demo) cut down to the days
 * around today, mints sessions and device tokens for each kind of caller, enrolls a region and
 * starts the node in-process (node_start) on a loopback port chosen by the kernel. Each input
 * becomes up to four HTTP requests, each sent on its own connection and answered in full before
 * the next; after an input that committed anything the database is put back as it was (SQLite's
 * backup API, from an in-memory copy) and the read cache and login throttle start empty, so that
 * every input starts from the same region and a finding replays from its input alone.
 *
 * Input: requests separated by the line "@@@@"; in each, "$L", "$M" and "$H" stand for the ids
 * of a lesson of the demo teacher in the demo student's class, a mark on it and the teacher's
 * latest homework there (ids that depend on the day the region was made). Each request is
 *   byte 0  who: bits 0-3 the credential (0 none; 1-8 sessions of admin, schooladmin, teacher,
 *           classteacher, student, parent, medic, methodologist; 9-12 device tokens with the
 *           scopes passage, meals, health, all three; 13 a revoked device token; 14 an expired
 *           session; 15 the X-Mes-* signature of region 77, enrolled at the node as hub); bit 4
 *           sends the session as its cookie rather than as a bearer token; bit 5 leaves out the
 *           cookie's X-CSRF-Token, bit 6 sends another session's; bit 7 has the node answer as
 *           the hub (mode: hub) rather than as a region
 *   byte 1  framing: bits 0-1: 0 Content-Length, 1 chunked (chunks of 1 + bits 4-7 bytes),
 *           2 a Content-Length one more than the body (the client then half-closes), 3 none (the
 *           input's own Content-Length or Transfer-Encoding lines pass); bit 2 adds
 *           Content-Type: application/json when the input has none; bit 3 sends HTTP/1.0
 *   then "METHOD TARGET" up to a newline (bytes that cannot stand in a request line are
 *   %-escaped), header lines up to an empty line (Connection, and the framing headers unless
 *   framing 3, are the target's), and the body.
 * tests/fuzz/request_seeds.py writes the seed corpus (a request to every route) in this format.
 *
 * Oracles besides the sanitizers: every answer is HTTP/1.x with a status line and headers; no
 * 5xx but 503; an answer of the node itself (it carries X-Content-Type-Options) has a
 * Content-Length that its body matches, and an error under /api/ is JSON {"error": {"code":
 * "...", "message": "..."}}. CivetWeb's own error pages (to a malformed request, say) are held to
 * the same only with MES_FUZZ_STRICT=1. A violation prints the request and the answer and
 * aborts. MES_FUZZ_VERBOSE=1 prints each request's first line and answer, and at exit the time
 * spent in requests and in restoring the database.
 */
#include <arpa/inet.h>
#include <civetweb.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accounts/auth.h"
#include "accounts/throttle.h"
#include "cache/cache.h"
#include "db.h"
#include "demo/demo.h"
#include "federation/auth.h"
#include "http.h"
#include "lib/minisign.h"
#include "log.h"
#include "node.h"

#define CREDENTIALS      16
#define FEDERATION       15   /* the credential that signs the request as an enrolled region */
#define REGION           "77" /* that region's code */
#define MAX_REQUESTS     4
#define SEPARATOR        "\n@@@@\n"
#define ANSWER_TIMEOUT_S 30

static struct node node;
static char data_dir[64];
static bool strict, verbose;

/* What byte 0 of a request chooses: a token and the CSRF token of its session (if any). */
static struct {
    char token[TOKEN_CHARS];
    char csrf[TOKEN_CHARS];
} cred[CREDENTIALS];
static struct ms_secret *region_key; /* the enrolled region's node key */

/* The database as the demo left it, and a connection to the live one to put it back through.
 * Likewise the blob store beside it. */
static sqlite3 *pristine, *live, *pristine_store, *live_store;
static long long live_version, store_version;
static unsigned long long restores, inputs, requests;
static double restore_seconds, exchange_seconds; /* for MES_FUZZ_VERBOSE's summary */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_request: %s: %s\n", what, detail ? detail : "");
    abort();
}

/* ---- set-up --------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_data_dir(void)
{
    if (data_dir[0] != '\0')
        nftw(data_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Data directories of earlier runs that died (a finding ends the process without its atexit
 * handlers): in /dev/shm they would hold memory until the next boot. */
static void remove_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        int pid = 0;
        char path[PATH_MAX];
        if (sscanf(e->d_name, "fuzz-request-%d-", &pid) == 1 && pid > 0 && kill(pid, 0) != 0 &&
            errno == ESRCH &&
            snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name) < (int)sizeof(path))
            nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (d != NULL)
        closedir(d);
}

static int64_t scalar(struct db *db, const char *sql, const char *login)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st == NULL)
        die("query", db_errmsg(db));
    if (login != NULL)
        db_bind_text(st, ":l", login);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
}

/* A session of `login` in cred[i], expired when `expired`. */
static void mint_session(struct db *db, int i, const char *login, bool expired)
{
    unsigned char hash[32], csrf_hash[32];
    auth_new_token(cred[i].token, hash);
    auth_new_token(cred[i].csrf, csrf_hash);
    int64_t account = scalar(db, "SELECT id FROM accounts WHERE login = :l", login);
    int64_t now = time(NULL);
    sqlite3_stmt *st = db_stmt(db, "INSERT INTO sessions (token_hash, account_id, csrf, "
                                   "created_at, expires_at) VALUES (:h, :a, :c, :now, :exp)");
    if (account < 0 || st == NULL)
        die("minting a session", login);
    db_bind_blob(st, ":h", hash, 32);
    db_bind_int(st, ":a", account);
    db_bind_text(st, ":c", cred[i].csrf);
    db_bind_int(st, ":now", now - 60);
    db_bind_int(st, ":exp", expired ? now - 1 : now + 365 * 86400);
    if (db_exec_stmt(st) != SQLITE_DONE)
        die("minting a session", db_errmsg(db));
}

/* A device token of the first school in cred[i] (region-wide for health). */
static void mint_device(struct db *db, int i, const char *scopes, bool revoked)
{
    unsigned char hash[32];
    auth_new_token(cred[i].token, hash);
    sqlite3_stmt *st = db_stmt(db, "INSERT INTO device_tokens (name, scopes, institution_id, "
                                   "token_hash, created_by, revoked_at) VALUES (:n, :s, "
                                   "(SELECT CASE WHEN :s = 'health' THEN NULL ELSE min(id) END "
                                   "FROM institutions), :h, 1, :r)");
    if (st == NULL)
        die("minting a device token", db_errmsg(db));
    db_bind_text(st, ":n", scopes);
    db_bind_text(st, ":s", scopes);
    db_bind_blob(st, ":h", hash, 32);
    if (revoked)
        db_bind_int(st, ":r", time(NULL) - 60);
    else
        db_bind_null(st, ":r");
    if (db_exec_stmt(st) != SQLITE_DONE)
        die("minting a device token", db_errmsg(db));
}

static void mint_credentials(void)
{
    static const char *const logins[] = {"admin",   "schooladmin", "teacher", "classteacher",
                                         "student", "parent",      "medic",   "methodologist"};
    char err[512];
    struct db *db = db_open(node.db_path, &node.cfg, err, sizeof(err));
    if (db == NULL || db_begin_write(db) != SQLITE_OK)
        die("opening the database", err);
    for (int i = 0; i < 8; i++)
        mint_session(db, 1 + i, logins[i], false);
    mint_device(db, 9, "passage", false);
    mint_device(db, 10, "meals", false);
    mint_device(db, 11, "health", false);
    mint_device(db, 12, "passage meals health", false);
    mint_device(db, 13, "passage meals health", true);
    mint_session(db, 14, "admin", true);
    /* A region enrolled at this node as hub (the requests signed by credential 15). */
    struct ms_public pk;
    char b64[MS_PUBLIC_B64];
    if ((region_key = ms_secret_generate(&pk)) == NULL)
        die("out of memory", NULL);
    ms_public_base64(&pk, b64);
    sqlite3_stmt *st = db_stmt(db, "INSERT INTO fed_regions (code, name, public_key) VALUES (:c, "
                                   "'Fuzz', :k)");
    if (st == NULL)
        die("enrolling a region", db_errmsg(db));
    db_bind_text(st, ":c", REGION);
    db_bind_text(st, ":k", b64);
    if (db_exec_stmt(st) != SQLITE_DONE)
        die("enrolling a region", db_errmsg(db));
    if (db_commit(db) != SQLITE_OK)
        die("minting credentials", db_errmsg(db));
    db_close(db);
}

/* The demo's term of lessons, marks and homework (most of its database) cut down to the days
 * around today, so that putting the database back after an input costs little; and the records
 * the placeholders name. */
static char placeholder[3][24]; /* the ids "$L", "$M" and "$H" stand for, as text */

static void trim_region(void)
{
    static const char *const sql[] = {
        "DELETE FROM lessons WHERE date < date('now', '-10 days') OR date > date('now', "
        "'+7 days')",
        "DELETE FROM mark_history WHERE lesson_id NOT IN (SELECT id FROM lessons)",
    };
    char err[512];
    struct db *db = db_open(node.db_path, &node.cfg, err, sizeof(err));
    if (db == NULL || db_begin_write(db) != SQLITE_OK)
        die("opening the database", err);
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
        if (db_exec(db, sql[i]) != SQLITE_OK)
            die("trimming the demo region", db_errmsg(db));
    if (db_commit(db) != SQLITE_OK || db_exec(db, "VACUUM") != SQLITE_OK)
        die("trimming the demo region", db_errmsg(db));
    /* The teacher's latest lesson with marks in the demo student's class, a mark on it, and
     * the latest homework the teacher set that class. */
    static const char *const find[] = {
        "SELECT l.id, m.id FROM lessons l JOIN marks m ON m.lesson_id = l.id WHERE l.teacher_id "
        "= (SELECT person_id FROM accounts WHERE login = 'teacher') AND l.class_id = (SELECT "
        "class_id FROM enrollments WHERE student_id = (SELECT person_id FROM accounts WHERE "
        "login = 'student')) ORDER BY l.date DESC, m.id LIMIT 1",
        "SELECT h.id FROM homework h JOIN lessons l ON l.id = h.lesson_id WHERE l.teacher_id = "
        "(SELECT person_id FROM accounts WHERE login = 'teacher') AND l.class_id = (SELECT "
        "class_id FROM enrollments WHERE student_id = (SELECT person_id FROM accounts WHERE "
        "login = 'student')) ORDER BY l.date DESC LIMIT 1",
    };
    int64_t ids[3] = {0, 0, 0};
    for (int q = 0; q < 2; q++) {
        sqlite3_stmt *st = db_stmt(db, find[q]);
        if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
            die("the records of the placeholders", db_errmsg(db));
        ids[q == 0 ? 0 : 2] = sqlite3_column_int64(st, 0);
        if (q == 0)
            ids[1] = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
    }
    for (int i = 0; i < 3; i++)
        snprintf(placeholder[i], sizeof(placeholder[i]), "%lld", (long long)ids[i]);
    db_close(db);
}

static long long data_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Copies every page of `from` into `to` (SQLite's online backup). */
static void copy_database(sqlite3 *to, sqlite3 *from)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    if (b == NULL || rc != SQLITE_DONE) {
        sqlite3_backup_finish(b);
        die("copying a database", sqlite3_errmsg(to));
    }
    sqlite3_backup_finish(b);
}

static sqlite3 *open_raw(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die("opening", path);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* Keeps the database and the blob store as they are now, to put them back after each input
 * that wrote. */
static void snapshot(void)
{
    char path[PATH_MAX + 16];
    live = open_raw(node.db_path);
    snprintf(path, sizeof(path), "%s/mes.blobs.db", node.cfg.storage.data_dir);
    live_store = open_raw(path);
    pristine = open_raw(":memory:");
    pristine_store = open_raw(":memory:");
    copy_database(pristine, live);
    copy_database(pristine_store, live_store);
    live_version = data_version(live);
    store_version = data_version(live_store);
}

/* After an input: when another connection committed to the database or the store, both are
 * put back and the read cache and the login throttle start empty again. */
static void restore_if_written(void)
{
    long long v = data_version(live), s = data_version(live_store);
    if (v == live_version && s == store_version)
        return;
    double t0 = now();
    copy_database(live, pristine);
    copy_database(live_store, pristine_store);
    live_version = data_version(live);
    store_version = data_version(live_store);
    view_cache_destroy(node.cache);
    node.cache = view_cache_create((size_t)node.cfg.http.cache_mb << 20);
    throttle_destroy(node.throttle);
    node.throttle = throttle_create(&node.cfg, NULL); /* a key of its own: no cookie survives */
    if (node.throttle == NULL)
        die("out of memory", NULL);
    restores++;
    restore_seconds += now() - t0;
}

static void report_rates(void)
{
    if (verbose)
        fprintf(stderr,
                "fuzz_request: %llu inputs, %llu requests (%.1f s), %llu restores of the "
                "database (%.1f s)\n",
                inputs, requests, exchange_seconds, restores, restore_seconds);
}

/* Whether an environment variable is set to something other than "" or "0". */
static bool flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    strict = flag("MES_FUZZ_STRICT");
    verbose = flag("MES_FUZZ_VERBOSE");
    log_set_quiet(1);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("libsodium or libcurl", "cannot initialise");
    /* In memory where there is such a file system: every commit of the node, and every restore,
     * would otherwise wait for a disk. */
    struct stat st;
    const char *tmp =
        stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
            ? "/dev/shm"
            : "/tmp";
    remove_stale(tmp);
    snprintf(data_dir, sizeof(data_dir), "%s/fuzz-request-%d-XXXXXX", tmp, (int)getpid());
    if (mkdtemp(data_dir) == NULL)
        die("mkdtemp", strerror(errno));
    atexit(remove_data_dir);
    atexit(report_rates);
    config_defaults(&node.cfg);
    snprintf(node.cfg.storage.data_dir, sizeof(node.cfg.storage.data_dir), "%s", data_dir);
    snprintf(node.cfg.http.listen, sizeof(node.cfg.http.listen), "127.0.0.1:0");
    snprintf(node.cfg.http.access_log, sizeof(node.cfg.http.access_log), "off");
    node.cfg.http.threads = 2;
    node.cfg.http.cache_mb = 1; /* a small read cache: evictions too, and cheap to empty */
    node.cfg.storage.synchronous = SYNC_NORMAL;
    /* Passwords hashed cheaply, so that a login the fuzzer gets right costs little. */
    node.cfg.auth.argon2_opslimit = 1;
    node.cfg.auth.argon2_memlimit_kib = 8;
    char err[1024];
    if (node_open_storage(&node, err, sizeof(err)) != 0 ||
        demo_populate(&node, err, sizeof(err)) != 1)
        die("the demo region", err);
    mint_credentials();
    trim_region();
    if (node_start(&node, err, sizeof(err)) != 0)
        die("starting the node", err);
    snapshot();
    return 0;
}

/* ---- one request ---------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        if ((b->p = realloc(b->p, b->cap)) == NULL)
            die("out of memory", NULL);
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Whether a header line of the input names `name` (case-insensitive, before the colon). */
static bool names(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The request's bytes, from one segment of the input. Sets *head when the method is HEAD and
 * *api when the path is under /api/. */
static void build_request(const uint8_t *data, size_t size, struct buf *out, bool *head, bool *api)
{
    uint8_t who = size > 0 ? data[0] : 0, framing = size > 1 ? data[1] : 0;
    const char *p = size > 2 ? (const char *)data + 2 : "", *end = p + (size > 2 ? size - 2 : 0);
    /* The request line: method, one space, target. */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    const char *sp = memchr(p, ' ', (size_t)(line_end - p));
    const char *method = "GET", *target = p;
    size_t mlen = 3;
    if (sp != NULL) {
        method = p;
        mlen = (size_t)(sp - p);
        target = sp + 1;
    }
    size_t method_at = out->len;
    for (size_t i = 0; i < mlen; i++) {
        unsigned char c = (unsigned char)method[i];
        char esc[4];
        snprintf(esc, sizeof(esc), "%%%02X", c);
        if (c <= 0x20 || c >= 0x7f)
            puts_(out, esc);
        else
            put(out, &method[i], 1);
    }
    if (mlen == 0)
        puts_(out, "GET");
    size_t method_end = out->len;
    puts_(out, " ");
    *head = mlen == 4 && memcmp(method, "HEAD", 4) == 0;
    size_t tlen = (size_t)(line_end - target), target_at = out->len;
    if (tlen == 0 || target[0] != '/')
        puts_(out, "/");
    *api = (tlen >= 5 && memcmp(target, "/api/", 5) == 0);
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)target[i];
        char esc[4];
        snprintf(esc, sizeof(esc), "%%%02X", c);
        if (c <= 0x20 || c >= 0x7f || c == '#')
            puts_(out, esc);
        else
            put(out, &target[i], 1);
    }
    size_t target_end = out->len;
    puts_(out, framing & 8 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    /* Header lines of the input, up to an empty line. */
    bool has_host = false, has_type = false;
    p = nl ? nl + 1 : end;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        line_end = nl ? nl : end;
        size_t len = (size_t)(line_end - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (len == 0)
            break;
        if (names(line, len, "Connection") ||
            ((framing & 3) != 3 &&
             (names(line, len, "Content-Length") || names(line, len, "Transfer-Encoding"))))
            continue;
        has_host |= names(line, len, "Host");
        has_type |= names(line, len, "Content-Type");
        for (size_t i = 0; i < len; i++) {
            char c = line[i] == '\0' || line[i] == '\r' ? ' ' : line[i];
            put(out, &c, 1);
        }
        puts_(out, "\r\n");
    }
    const char *body = p;
    size_t blen = (size_t)(end - p);
    if (!has_host)
        puts_(out, "Host: 127.0.0.1\r\n");
    if (!has_type && (framing & 4))
        puts_(out, "Content-Type: application/json\r\n");
    puts_(out, "Connection: close\r\n");
    /* The caller. */
    int c = who & 15;
    char hdr[256];
    if (c != 0 && (who & 16)) {
        snprintf(hdr, sizeof(hdr), "Cookie: %s=%s\r\n", SESSION_COOKIE, cred[c].token);
        puts_(out, hdr);
        if (!(who & 32)) {
            snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s\r\n",
                     who & 64 ? cred[(c + 1) % CREDENTIALS].csrf : cred[c].csrf);
            puts_(out, hdr);
        }
    } else if (c == FEDERATION) {
        char m[64], uri[4096], sig[FED_SIG_B64];
        snprintf(m, sizeof(m), "%.*s", (int)(method_end - method_at), out->p + method_at);
        /* The path as the node sees it (decoded), the query as sent. */
        const char *t = out->p + target_at, *q = memchr(t, '?', target_end - target_at);
        size_t plen = q ? (size_t)(q - t) : target_end - target_at;
        int n = mg_url_decode(t, (int)plen, uri, sizeof(uri) - 1024, 0);
        if (n >= 0 && q != NULL)
            snprintf(uri + n, sizeof(uri) - (size_t)n, "%.*s", (int)(target_end - target_at - plen),
                     q);
        long long when = time(NULL);
        fed_auth_sign(region_key, m, uri, body, blen, when, sig);
        snprintf(hdr, sizeof(hdr),
                 "X-Mes-Region: %s\r\nX-Mes-Time: %lld\r\nX-Mes-Signature: %s\r\n", REGION, when,
                 sig);
        puts_(out, hdr);
    } else if (c != 0) {
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", cred[c].token);
        puts_(out, hdr);
    }
    /* The body's framing. */
    switch (framing & 3) {
    case 0:
    case 2:
        snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n",
                 blen + ((framing & 3) == 2 ? 1 : 0));
        puts_(out, hdr);
        put(out, body, blen);
        break;
    case 1: {
        puts_(out, "Transfer-Encoding: chunked\r\n\r\n");
        size_t step = 1 + (framing >> 4);
        for (size_t at = 0; at < blen; at += step) {
            size_t n = blen - at < step ? blen - at : step;
            snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
            puts_(out, hdr);
            put(out, body + at, n);
            puts_(out, "\r\n");
        }
        puts_(out, "0\r\n\r\n");
        break;
    }
    default:
        puts_(out, "\r\n");
        put(out, body, blen);
    }
}

/* Sends the request on a new connection, half-closes it and reads the answer to its end.
 * Returns false when the connection failed before any answer came (the server reset it). */
static bool exchange(const struct buf *req, struct buf *ans)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)node.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = ANSWER_TIMEOUT_S};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die("connect", strerror(errno));
    for (size_t at = 0; at < req->len;) {
        ssize_t n = send(fd, req->p + at, req->len - at, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer and close before reading everything */
        at += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    bool ok = true;
    for (;;) {
        char chunk[65536];
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            put(ans, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            die("no answer within the timeout", req->p);
        if (n < 0)
            ok = ans->len > 0;
        break;
    }
    close(fd);
    /* The handler's thread finishes its bookkeeping after the answer leaves: wait for it, so
     * that the next request and the database's restore find the node idle. */
    while (atomic_load(&node.active_requests) > 0)
        sched_yield();
    return ok;
}

static void finding(const char *what, const struct buf *req, const struct buf *ans)
{
    fprintf(stderr, "fuzz_request: %s\n--- request ---\n%.*s\n--- answer ---\n%.*s\n---\n", what,
            (int)(req->len < 4096 ? req->len : 4096), req->p,
            (int)(ans->len < 4096 ? ans->len : 4096), ans->p ? ans->p : "");
    abort();
}

/* A header's value in the answer's head (NUL-terminated copy in out); false when absent. */
static bool header(const char *headers, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *l = strstr(headers, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ')
                h++;
            size_t len = strcspn(h, "\r\n");
            snprintf(out, size, "%.*s", (int)len, h);
            return true;
        }
    }
    return false;
}

/* Checks one answer at the start of [p, end) and returns where the next begins (bytes a
 * keep-alive connection answered to what followed the request, as when CivetWeb stops reading
 * headers at a malformed line and takes the body for another request). `first`: the answer to
 * the request built, whose method and path are known. */
static const char *check_one(const char *p, const char *end, bool first, const struct buf *req,
                             const struct buf *ans, bool head, bool api)
{
    const char *end_head = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    int status = 0;
    /* CivetWeb answers bytes it took for a request of their own (after a header line it could
     * not parse, it reads no further headers: neither the body's length nor Connection) and
     * puts their "version" in its status line: its business, unless strict. */
    if (!first && !strict && strncmp(p, "HTTP/1.", 7) != 0)
        return NULL;
    if ((size_t)(end - p) < 12 || strncmp(p, "HTTP/1.", 7) != 0 || end_head == NULL ||
        sscanf(p + 8, " %3d", &status) != 1 || status < 100 || status > 599)
        finding("the answer is not HTTP", req, ans);
    char *headers = strndup(p, (size_t)(end_head - p) + 2);
    const char *body = end_head + 4;
    size_t rest = (size_t)(end - body), blen = rest;
    char value[256];
    bool ours = header(headers, "X-Content-Type-Options", value, sizeof(value));
    bool has_length = header(headers, "Content-Length", value, sizeof(value));
    free(headers);
    if (!has_length && (ours || strict))
        finding("an answer without Content-Length", req, ans);
    if (has_length) {
        char *e;
        unsigned long long cl = strtoull(value, &e, 10);
        if (*e != '\0' || value[0] == '\0')
            finding("a malformed Content-Length", req, ans);
        blen = (first && head) || status == 304 || status == 204 ? 0 : (size_t)cl;
        if (cl > rest && blen != 0)
            finding("the body is shorter than its Content-Length", req, ans);
    }
    if (status >= 500 && status != 503)
        finding("a server error", req, ans);
    if (first && status >= 400 && api && !head && (ours || strict)) {
        json_t *doc = json_loadb(body, blen, 0, NULL);
        json_t *error = json_object_get(doc, "error"), *code = json_object_get(error, "code");
        bool good = json_is_string(code) && json_string_length(code) > 0 &&
                    json_is_string(json_object_get(error, "message"));
        json_decref(doc);
        if (!good)
            finding("an error under /api/ without the JSON error contract", req, ans);
    }
    return body + blen;
}

static void check_answer(const struct buf *req, const struct buf *ans, bool head, bool api)
{
    const char *p = ans->p, *end = ans->p + ans->len;
    for (bool first = true; p != NULL && p < end; first = false)
        p = check_one(p, end, first, req, ans, head, api);
}

/* One segment of the input with the placeholders "$L", "$M" and "$H" replaced by the ids of a
 * lesson, a mark and homework of the trimmed demo region (their two first bytes left as they
 * are). */
static void expand(const uint8_t *p, size_t n, struct buf *out)
{
    out->len = 0;
    put(out, p, n < 2 ? n : 2);
    for (size_t i = 2; i < n; i++) {
        const char *hit = i + 1 < n && p[i] == '$' ? strchr("LMH", p[i + 1]) : NULL;
        if (hit != NULL && p[i + 1] != '\0') {
            puts_(out, placeholder[hit - "LMH"]);
            i++;
        } else {
            put(out, &p[i], 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inputs++;
    struct buf seg = {0}, req = {0}, ans = {0};
    const uint8_t *p = data, *end = data + size;
    for (int i = 0; i < MAX_REQUESTS && p <= end; i++) {
        const uint8_t *sep = memmem(p, (size_t)(end - p), SEPARATOR, strlen(SEPARATOR));
        const uint8_t *seg_end = sep ? sep : end;
        bool head = false, api = false;
        expand(p, (size_t)(seg_end - p), &seg);
        req.len = ans.len = 0;
        build_request((const uint8_t *)seg.p, seg.len, &req, &head, &api);
        /* The node is idle between requests: its mode may change under it. */
        node.cfg.mode = seg.len > 0 && (seg.p[0] & 128) ? NODE_HUB : NODE_REGION;
        double t0 = now();
        bool answered = exchange(&req, &ans);
        exchange_seconds += now() - t0;
        requests++;
        if (verbose)
            fprintf(stderr, "fuzz_request: %.*s -> %.*s\n", (int)strcspn(req.p, "\r"), req.p,
                    ans.p ? (int)(ans.len < 300 ? ans.len : 300) : 0, ans.p ? ans.p : "");
        if (answered)
            check_answer(&req, &ans, head, api);
        if (sep == NULL)
            break;
        p = sep + strlen(SEPARATOR);
    }
    free(seg.p);
    free(req.p);
    free(ans.p);
    restore_if_written();
    return 0;
}
