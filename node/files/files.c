/*
 * The content-addressed file store (see files.h).
 */
#include "files/files.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <civetweb.h>

#include "log.h"
#include "node.h"

enum { ZSTD_LEVEL = 3, MIN_COMPRESS = 64 };

void upload_free(struct upload *u)
{
    if (u == NULL)
        return;
    free(u->data);
    free(u);
}

/* The media type of the request, lower-cased and without parameters: type/subtype of token
 * characters. 0, or -1 when malformed. */
static int media_type(const char *header, char out[128])
{
    if (header == NULL || header[0] == '\0') {
        snprintf(out, 128, "application/octet-stream");
        return 0;
    }
    size_t n = strcspn(header, ";");
    while (n > 0 && header[n - 1] == ' ')
        n--;
    if (n == 0 || n >= 128)
        return -1;
    int slashes = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)header[i];
        if (c == '/')
            slashes++;
        else if (!isalnum(c) && strchr("!#$&^_.+-", c) == NULL)
            return -1;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return slashes == 1 && out[0] != '/' && out[n - 1] != '/' ? 0 : -1;
}

int upload_read_or_respond(struct req *r)
{
    long long max = r->node->cfg.http.max_upload_bytes, len = r->ri->content_length;
    if (len < 0) {
        reply_header(r, "Connection", "close");
        return reply_error(r, 411, "length_required", "send the file with a Content-Length"), -1;
    }
    if (len > max) {
        reply_header(r, "Connection", "close"); /* the body stays unread on the socket */
        return reply_error(r, 413, "too_large", "the file exceeds %lld bytes", max), -1;
    }
    /* Every refusal below leaves the body unread on the socket: the connection closes. */
    char type[128];
    if (media_type(req_header(r, "Content-Type"), type) != 0) {
        reply_header(r, "Connection", "close");
        return reply_error(r, 400, "bad_request",
                           "Content-Type must be a media type such as application/pdf"),
               -1;
    }
    struct upload *u = calloc(1, sizeof(*u));
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (u == NULL || buf == NULL) {
        free(u);
        free(buf);
        reply_header(r, "Connection", "close");
        return reply_error(r, 503, "unavailable", "out of memory"), -1;
    }
    memcpy(u->type, type, sizeof(type));
    size_t got = 0;
    while (got < (size_t)len) {
        int n = mg_read(r->conn, buf + got, (size_t)len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)len) {
        free(buf);
        free(u);
        reply_header(r, "Connection", "close");
        return reply_error(r, 400, "bad_request", "the body ended before Content-Length"), -1;
    }
    upload_prepare(u, buf, got);
    r->upload = u;
    return 0;
}

/* One compression and one decompression context per thread, reused: a context made per call
 * costs more than compressing a small body (its tables are allocated and zeroed each time). */
static pthread_key_t zctx_key;
static pthread_once_t zctx_once = PTHREAD_ONCE_INIT;

struct zctx {
    ZSTD_CCtx *c;
    ZSTD_DCtx *d;
};

static void zctx_free(void *p)
{
    struct zctx *z = p;
    ZSTD_freeCCtx(z->c);
    ZSTD_freeDCtx(z->d);
    free(z);
}

static void zctx_key_make(void)
{
    pthread_key_create(&zctx_key, zctx_free);
}

/* This thread's contexts, made at its first use; NULL when out of memory. */
static struct zctx *zctx(void)
{
    pthread_once(&zctx_once, zctx_key_make);
    struct zctx *z = pthread_getspecific(zctx_key);
    if (z == NULL && (z = calloc(1, sizeof(*z))) != NULL) {
        z->c = ZSTD_createCCtx();
        z->d = ZSTD_createDCtx();
        if (z->c == NULL || z->d == NULL || pthread_setspecific(zctx_key, z) != 0) {
            zctx_free(z);
            z = NULL;
        }
    }
    return z;
}

/* The zstd frame of `len` bytes when it saves 3 % or more (malloc'ed, its length in *zlen),
 * else NULL: the body is stored as it is. A body that does not compress in its beginning
 * (media, archives, PDF streams: 4 KiB of a small body, 64 KiB of one over 128 KiB) is not
 * compressed whole to find out. */
static void *compress_if_worth(const void *buf, size_t len, size_t *zlen)
{
    size_t sample = len > (128 << 10) ? 64 << 10 : len >= (8 << 10) ? 4 << 10 : 0;
    struct zctx *z = len >= MIN_COMPRESS ? zctx() : NULL;
    if (z == NULL)
        return NULL;
    size_t bound = ZSTD_compressBound(sample ? sample : len);
    void *out = malloc(bound);
    if (out == NULL)
        return NULL;
    if (sample) {
        size_t zl = ZSTD_compressCCtx(z->c, out, bound, buf, sample, 1);
        if (ZSTD_isError(zl) || zl >= sample - sample / 32) {
            free(out);
            return NULL;
        }
        void *bigger = realloc(out, bound = ZSTD_compressBound(len));
        if (bigger == NULL) {
            free(out);
            return NULL;
        }
        out = bigger;
    }
    size_t zl = ZSTD_compressCCtx(z->c, out, bound, buf, len, ZSTD_LEVEL);
    if (ZSTD_isError(zl) || zl >= len - len / 32) {
        free(out);
        return NULL;
    }
    *zlen = zl;
    return out;
}

void upload_prepare(struct upload *u, unsigned char *buf, size_t len)
{
    u->size = len;
    crypto_generichash(u->hash, sizeof(u->hash), buf, len, NULL, 0);
    u->data = buf;
    u->len = len;
    u->zstd = false;
    size_t zl = 0;
    void *z = compress_if_worth(buf, len, &zl);
    if (z != NULL) {
        free(buf);
        u->data = z;
        u->len = zl;
        u->zstd = true;
    }
}

/* Inserts a body once per hash: `data` (len bytes) is what is stored, its zstd frame when
 * `zstd`. The row goes in the database and the bytes in the blob store beside it (db.h); rows
 * written before the store existed hold their bytes themselves (`data` not empty). The blob's
 * id, or 0 on a database error. */
static int64_t blob_insert(struct db *db, const unsigned char hash[32], size_t size, bool zstd,
                           const void *data, size_t len)
{
    sqlite3_stmt *st =
        db_query(db,
                 "INSERT INTO blobs (hash, size, zstd, data) VALUES (:h, :s, :z, "
                 "x'') ON CONFLICT (hash) DO NOTHING RETURNING id",
                 DB_ARGS(DB_BLOB(":h", hash, 32), DB_INT(":s", (int64_t)size), DB_INT(":z", zstd)));
    int64_t id = 0;
    int rc;
    while (db_next(st, &rc)) /* one row, or none */
        id = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE)
        return 0;
    if (id == 0) /* 0 rows: the body was already there */
        return blob_id(db, hash);
    return len == 0 || db_store_put(db, id, data, len) == SQLITE_OK ? id : 0;
}

int64_t blob_put(struct db *db, const struct upload *u)
{
    return blob_insert(db, u->hash, u->size, u->zstd, u->data, u->len);
}

int64_t blob_put_data(struct db *db, const void *data, size_t len)
{
    unsigned char hash[32];
    crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
    return blob_put_hashed(db, hash, data, len);
}

struct blob_packed {
    void *z;
    size_t len;
};

struct blob_packed *blob_pack(const void *data, size_t len)
{
    struct blob_packed *p = malloc(sizeof(*p));
    if (p != NULL && (p->z = compress_if_worth(data, len, &p->len)) == NULL) {
        free(p);
        p = NULL;
    }
    return p;
}

void blob_packed_free(struct blob_packed *p)
{
    if (p != NULL)
        free(p->z);
    free(p);
}

int64_t blob_put_packed(struct db *db, const unsigned char hash[32], const void *data, size_t len,
                        const struct blob_packed *p)
{
    return p ? blob_insert(db, hash, len, true, p->z, p->len)
             : blob_insert(db, hash, len, false, data, len);
}

int64_t blob_stage(struct db *db, struct db_stage *sg, const void *data, size_t len,
                   const struct blob_packed *p, bool *zstd)
{
    *zstd = p != NULL;
    return p ? db_stage_put(db, sg, p->z, p->len) : db_stage_put(db, sg, data, len);
}

int blob_insert_staged(struct db *db, int64_t id, const unsigned char hash[32], size_t size,
                       bool zstd)
{
    int rc = db_run(db,
                    "INSERT INTO blobs (id, hash, size, zstd, data) VALUES (:id, :h, :s, :z, x'') "
                    "ON CONFLICT (hash) DO NOTHING",
                    DB_ARGS(DB_INT(":id", id), DB_BLOB(":h", hash, 32), DB_INT(":s", (int64_t)size),
                            DB_INT(":z", zstd)));
    if (rc != SQLITE_DONE)
        return -1;
    return db_changes(db) == 1 ? 1 : 0;
}

int64_t blob_put_hashed(struct db *db, const unsigned char hash[32], const void *data, size_t len)
{
    int64_t id = blob_id(db, hash);
    if (id != 0)
        return id;
    struct blob_packed *p = blob_pack(data, len);
    id = blob_put_packed(db, hash, data, len, p);
    blob_packed_free(p);
    return id;
}

int64_t blob_id(struct db *db, const unsigned char hash[32])
{
    /* From the index alone: the row, and its first page, stay unread. */
    int64_t id = 0;
    int rc =
        db_int(db, &id, "SELECT id FROM blobs WHERE hash = :h", DB_ARGS(DB_BLOB(":h", hash, 32)));
    return rc == SQLITE_ROW ? id : 0;
}

int64_t blob_store_or_respond(struct req *r)
{
    int64_t id = blob_put(r->db, r->upload);
    if (id == 0)
        reply_db_error(r);
    return id;
}

int blob_release(struct db *db, int64_t blob_id)
{
    /* Every table that names blobs is listed here. */
    sqlite3_stmt *st = db_query(db,
                                "DELETE FROM blobs WHERE id = :b AND NOT EXISTS (SELECT 1 "
                                "FROM homework_files WHERE blob_id = :b) AND NOT EXISTS "
                                "(SELECT 1 FROM library_files WHERE blob_id = :b) AND NOT "
                                "EXISTS (SELECT 1 FROM library_items WHERE cover_blob_id = "
                                ":b) AND NOT EXISTS (SELECT 1 FROM library_items WHERE "
                                "hub_doc = (SELECT hash FROM blobs WHERE id = :b)) "
                                "RETURNING id",
                                DB_ARGS(DB_INT(":b", blob_id)));
    int rc;
    while (db_next(st, &rc))            /* one row when it went, or none */
        db_store_released(db, blob_id); /* the body goes after the commit */
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The catalog's own string for a media type a browser shows without running anything (the
 * reply keeps the pointer past the handler), or NULL. */
static const char *passive_type(const char *type)
{
    static const char *const types[] = {"image/png",  "image/jpeg",      "image/gif",  "image/webp",
                                        "text/plain", "application/pdf", "audio/mpeg", "video/mp4"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i]) == 0)
            return types[i];
    return NULL;
}

/* The checked body of row `b` from `data` (len bytes): the row's own bytes, or none when the
 * store keeps them (len 0 for a body that is not empty). */
static unsigned char *blob_body(struct db *db, const struct blob_row *b, const void *data,
                                size_t len, int *why)
{
    size_t n = b->size;
    struct zctx *z = b->zstd ? zctx() : NULL;
    void *held = NULL; /* the bytes from the store */
    if (len == 0 && n > 0) {
        int rc = SQLITE_OK;
        if ((data = held = db_store_get(db, b->id, &len, &rc)) == NULL && rc != SQLITE_DONE)
            return *why = -1, NULL;
    }
    /* The store's copy of a raw body is the answer itself. */
    unsigned char *out = held && !b->zstd ? held : malloc(n ? n : 1);
    if (out == NULL || (b->zstd && z == NULL)) { /* out of memory: not the body's fault */
        free(out);
        free(held);
        return *why = -1, NULL;
    }
    if (out == held)
        held = NULL;
    bool ok;
    if (b->zstd) {
        /* The frame must say it holds exactly `n` bytes: no more is ever decompressed. */
        ok = ZSTD_getFrameContentSize(data, len) == (unsigned long long)n &&
             ZSTD_decompressDCtx(z->d, out, n, data, len) == n;
    } else {
        ok = len == n;
        if (ok && n && out != data)
            memcpy(out, data, n);
    }
    free(held);
    unsigned char got[32];
    if (ok) {
        crypto_generichash(got, sizeof(got), out, n, NULL, 0);
        ok = sodium_memcmp(b->hash, got, sizeof(got)) == 0;
    }
    if (!ok) {
        free(out);
        log_error("blob %lld does not match its hash", (long long)b->id);
        return *why = 500, NULL;
    }
    return out;
}

unsigned char *blob_load_row(struct db *db, const struct blob_row *b, int *why)
{
    *why = 0;
    if (!b->in_row)
        return blob_body(db, b, NULL, 0, why);
    sqlite3_stmt *st =
        db_query(db, "SELECT data FROM blobs WHERE id = :b", DB_ARGS(DB_INT(":b", b->id)));
    int rc;
    if (!db_next(st, &rc))
        return *why = rc == SQLITE_DONE ? 404 : -1, NULL;
    unsigned char *out =
        blob_body(db, b, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), why);
    sqlite3_reset(st);
    return out;
}

unsigned char *blob_load(struct db *db, int64_t blob_id, unsigned char hash[32], size_t *size,
                         int *why, bool *packed)
{
    *why = 0;
    sqlite3_stmt *st = db_query(db,
                                "SELECT hash, size, zstd, length(data) > 0 FROM blobs WHERE id "
                                "= :b",
                                DB_ARGS(DB_INT(":b", blob_id)));
    int rc;
    if (!db_next(st, &rc))
        return *why = rc == SQLITE_DONE ? 404 : -1, NULL;
    struct blob_row b = {.id = blob_id};
    bool whole = sqlite3_column_bytes(st, 0) == 32;
    if (whole) {
        memcpy(b.hash, sqlite3_column_blob(st, 0), 32);
        b.size = (size_t)sqlite3_column_int64(st, 1);
        b.zstd = sqlite3_column_int(st, 2) != 0;
        b.in_row = sqlite3_column_int(st, 3) != 0;
    }
    sqlite3_reset(st);
    if (!whole) {
        log_error("blob %lld does not match its hash", (long long)blob_id);
        return *why = 500, NULL;
    }
    memcpy(hash, b.hash, 32);
    if (packed)
        *packed = b.zstd;
    unsigned char *out = blob_load_row(db, &b, why);
    if (out != NULL)
        *size = b.size;
    return out;
}

int reply_blob(struct req *r, int64_t blob_id, const char *name, const char *type)
{
    unsigned char hash[32];
    size_t size = 0;
    int why;
    unsigned char *out = blob_load(r->db, blob_id, hash, &size, &why, NULL);
    if (out == NULL)
        return why == 404   ? reply_error(r, 404, "not_found", "no such file")
               : why == 500 ? reply_error(r, 500, "damaged", "the stored file is damaged")
                            : reply_db_error(r);
    /* RFC 6266/5987: an ASCII fallback and the UTF-8 name percent-encoded. */
    char enc[3 * 200 + 1];
    size_t e = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && e + 4 < sizeof(enc); p++) {
        if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
            enc[e++] = (char)*p;
        else
            e += (size_t)snprintf(enc + e, sizeof(enc) - e, "%%%02X", *p);
    }
    enc[e] = '\0';
    const char *shown = passive_type(type);
    reply_header(r, "Content-Disposition", "%s; filename=\"file\"; filename*=UTF-8''%s",
                 shown ? "inline" : "attachment", enc);
    reply_header(r, "Content-Security-Policy", "sandbox; default-src 'none'");
    return reply_raw(r, 200, shown ? shown : "application/octet-stream", out, size, true);
}

int file_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || strpbrk(name, "/\\") != NULL || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    json_t *j = json_string(name); /* jansson accepts only valid UTF-8 */
    json_decref(j);
    return j != NULL;
}

unsigned char *upload_bytes(const struct upload *u, size_t *len)
{
    unsigned char *out = malloc(u->size ? u->size : 1);
    if (out == NULL)
        return NULL;
    if (u->zstd && ZSTD_decompress(out, u->size, u->data, u->len) != u->size) {
        free(out);
        return NULL;
    }
    if (!u->zstd && u->size)
        memcpy(out, u->data, u->size);
    *len = u->size;
    return out;
}
