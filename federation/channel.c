/*
 * The library channel (see channel.h). A version's manifest is built once, at publication, and
 * kept byte for byte with its signature: bundles of it re-sign the same bytes with the same key
 * (Ed25519 is deterministic, so the manifest signature is the same), and a region remembers its
 * hash to refuse other content under the same number.
 */
#include "federation/channel.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "db.h"
#include "files/files.h"
#include "lib/bundle.h"
#include "lib/input.h"
#include "library/library.h"
#include "writer.h"

#define CHANNEL "library"

/* The trusted comment of a version's signatures: what stock minisign prints. */
static void trusted_comment(char *out, size_t cap, const char *origin, int64_t version,
                            int64_t previous, int64_t expires)
{
    snprintf(out, cap, "mes channel=" CHANNEL " origin=%s version=%lld previous=%lld expires=%lld",
             origin, (long long)version, (long long)previous, (long long)expires);
}

/* ---- publication ----
 *
 * In steps, so that the hub's write lock is held briefly: the approved items are read and each
 * one's document made and staged in the blob store (a read transaction, no lock), the manifest
 * signed, the documents' blob rows written in short steps, and the version with the blobs it
 * publishes first in one short transaction last. */

/* A publication under way. */
struct publishing {
    int64_t previous, next, now, expires;
    json_t *items;    /* the manifest's entries */
    json_t *blobs;    /* hex hash -> {"hash", "size"}: every blob the version lists */
    json_t *blob_ids; /* hex hash -> blob id (library_item_export's) */
    json_t *fresh;    /* hex hashes no earlier version published */
    json_int_t bytes;
    char *text, *sig;
    struct channel_stage cs;
};

static void publishing_free(struct publishing *p)
{
    json_decref(p->items);
    json_decref(p->blobs);
    json_decref(p->blob_ids);
    json_decref(p->fresh);
    free(p->text);
    free(p->sig);
}

/* Item `id` as a document of its own, stored as a blob (staged when new): the manifest names it
 * by hash, so that it stays small (a line per item) and an unchanged item costs a region
 * nothing. 0, or -1 with err. */
static int publish_item(struct db *db, struct publishing *p, int64_t id, char *err, size_t errlen)
{
    json_t *one = json_array();
    char *text = NULL;
    int rc = -1;
    if (library_item_export(db, id, true, one, p->blobs, p->blob_ids) != 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        goto out;
    }
    json_t *it = json_array_get(one, 0);
    if ((text = json_dumps(it, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t len = strlen(text);
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof(h), (unsigned char *)text, len, NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    if (json_object_get(p->blobs, hex) == NULL) {
        struct blob_packed *packed = blob_pack(text, len);
        int staged = channel_stage_blob(db, &p->cs, h, text, len, packed, err, errlen);
        blob_packed_free(packed);
        if (staged != 0)
            goto out;
        json_object_set_new(p->blobs, hex,
                            json_pack("{s:s,s:I}", "hash", hex, "size", (json_int_t)len));
    }
    json_array_append_new(p->items,
                          json_pack("{s:O,s:O,s:s}", "uid", json_object_get(it, "uid"), "version",
                                    json_object_get(it, "version"), "doc", hex));
    rc = 0;
out:
    free(text);
    json_decref(one);
    return rc;
}

/* In one read transaction: the version to publish, every approved item's document, and which
 * blobs no earlier version published. 0, or -1 with err. */
static int publish_collect(struct db *db, struct publishing *p, char *err, size_t errlen)
{
    int rc = -1, step;
    if (db_begin_read(db) != SQLITE_OK ||
        db_int(db, &p->previous, "SELECT coalesce(max(version), 0) FROM channel_versions", NULL) !=
            SQLITE_ROW)
        goto db_error;
    p->next = p->previous + 1;
    json_t *ids = json_array();
    sqlite3_stmt *st =
        db_query(db, "SELECT id FROM library_items WHERE status = 'approved' ORDER BY id", NULL);
    while (db_next(st, &step))
        json_array_append_new(ids, json_integer(sqlite3_column_int64(st, 0)));
    size_t i;
    json_t *id;
    bool failed = false;
    json_array_foreach(ids, i, id)
    {
        if (step != SQLITE_DONE ||
            (failed = publish_item(db, p, json_integer_value(id), err, errlen) != 0))
            break;
    }
    json_decref(ids);
    if (step != SQLITE_DONE)
        goto db_error;
    if (failed)
        goto out; /* publish_item's err */
    const char *hex;
    json_t *b;
    json_object_foreach(p->blobs, hex, b)
    {
        unsigned char hash[32];
        p->bytes += json_integer_value(json_object_get(b, "size"));
        int held = bundle_hash_parse(hex, hash) != 0
                       ? -1
                       : db_exists(db, "SELECT 1 FROM channel_blobs WHERE hash = :h",
                                   DB_ARGS(DB_BLOB(":h", hash, 32)));
        if (held < 0)
            goto db_error;
        if (!held)
            json_array_append_new(p->fresh, json_string(hex));
    }
    rc = 0;
    goto out;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
out:
    db_rollback(db); /* the read transaction; the stage's bodies are apart from it */
    return rc;
}

/* The manifest, signed by `sk`. 0, or -1 with err. */
static int publish_sign(struct publishing *p, const struct mes_config *cfg,
                        const struct ms_secret *sk, int64_t valid_s, char *err, size_t errlen)
{
    json_t *list = json_array(), *b;
    const char *hex;
    json_object_foreach(p->blobs, hex, b) json_array_append(list, b);
    p->now = (int64_t)time(NULL);
    p->expires = p->now + valid_s;
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:O,s:o}", "format", "mes-library-1",
                            "kind", "channel", "channel", CHANNEL, "origin", cfg->region.code,
                            "version", (json_int_t)p->next, "previous", (json_int_t)p->previous,
                            "created", (json_int_t)p->now, "expires", (json_int_t)p->expires,
                            "items", p->items, "blobs", list);
    p->text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    char trusted[256];
    trusted_comment(trusted, sizeof(trusted), cfg->region.code, p->next, p->previous, p->expires);
    if (p->text == NULL || (p->sig = ms_sign(sk, p->text, strlen(p->text),
                                             "mes library channel manifest", trusted)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strlen(p->text) > BUNDLE_MANIFEST_MAX) {
        snprintf(err, errlen, "the manifest would exceed %u bytes", BUNDLE_MANIFEST_MAX);
        return -1;
    }
    return 0;
}

/* The last step (a writer_call): the version, and the blobs it publishes first. */
static int publish_write(struct db *db, void *ctx)
{
    struct publishing *p = ctx;
    int64_t now_held = 0;
    if (db_int(db, &now_held, "SELECT coalesce(max(version), 0) FROM channel_versions", NULL) !=
            SQLITE_ROW ||
        now_held != p->previous)
        return -1; /* the stage's lock keeps publications apart: not expected */
    if (db_run(db,
               "INSERT INTO channel_versions (version, previous, created_at, expires_at, items, "
               "bytes, manifest, signature) VALUES (:v, :p, :c, :e, :n, :b, :m, :s)",
               DB_ARGS(DB_INT(":v", p->next), DB_INT(":p", p->previous), DB_INT(":c", p->now),
                       DB_INT(":e", p->expires), DB_INT(":n", (int64_t)json_array_size(p->items)),
                       DB_INT(":b", p->bytes), DB_BLOB(":m", p->text, (int)strlen(p->text)),
                       DB_TEXT(":s", p->sig))) != SQLITE_DONE)
        return -1;
    size_t i;
    json_t *hex;
    json_array_foreach(p->fresh, i, hex)
    {
        unsigned char hash[32];
        if (bundle_hash_parse(json_string_value(hex), hash) != 0 ||
            db_run(db,
                   "INSERT INTO channel_blobs (hash, version) VALUES (:h, :v) ON CONFLICT DO "
                   "NOTHING",
                   DB_ARGS(DB_BLOB(":h", hash, 32), DB_INT(":v", p->next))) != SQLITE_DONE)
            return -1;
    }
    return 0;
}

static int stage_rows(struct db *db, struct writer *w, struct channel_stage *cs, char *err,
                      size_t errlen);

int channel_publish(struct db *db, const struct mes_config *cfg, const struct ms_secret *sk,
                    int64_t valid_s, int64_t *version, long *count, char *err, size_t errlen)
{
    if (cfg->mode != NODE_HUB) {
        snprintf(err, errlen, "only the hub publishes the library channel (mode: hub)");
        return -1;
    }
    struct publishing p = {.items = json_array(),
                           .blobs = json_object(),
                           .blob_ids = json_object(),
                           .fresh = json_array()};
    /* One at a time, with imports too: the version number is read and written under it. */
    if (channel_stage_begin(db, &p.cs, err, errlen) != 0) {
        publishing_free(&p);
        return -1;
    }
    int rc = publish_collect(db, &p, err, errlen);
    if (rc == 0)
        rc = publish_sign(&p, cfg, sk, valid_s, err, errlen);
    if (rc == 0) {
        /* Rows a power loss undid are written again by the next publication. */
        db_sync_relaxed(db, true);
        rc = stage_rows(db, NULL, &p.cs, err, errlen);
        db_sync_relaxed(db, false);
    }
    if (rc == 0 && writer_call(NULL, db, publish_write, &p) != 0) {
        snprintf(err, errlen, "database: the version was not written (logged)");
        rc = -1;
    }
    channel_stage_end(db, &p.cs);
    if (rc == 0) {
        *version = p.next;
        *count = (long)json_array_size(p.items);
    }
    publishing_free(&p);
    return rc;
}

/* A published version's manifest (malloc'ed, NUL-terminated) and its trusted comment fields. */
static char *load_version(struct db *db, int64_t *version, int64_t *previous, int64_t *expires,
                          char *err, size_t errlen)
{
    sqlite3_stmt *st = db_query(db,
                                "SELECT version, previous, expires_at, manifest FROM "
                                "channel_versions WHERE version = CASE WHEN :v > 0 THEN :v "
                                "ELSE (SELECT max(version) FROM channel_versions) END",
                                DB_ARGS(DB_INT(":v", *version)));
    char *text = NULL;
    int rc = st ? db_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        *previous = sqlite3_column_int64(st, 1);
        *expires = sqlite3_column_int64(st, 2);
        size_t n = (size_t)sqlite3_column_bytes(st, 3);
        if ((text = malloc(n + 1)) != NULL) {
            memcpy(text, sqlite3_column_blob(st, 3), n);
            text[n] = '\0';
        } else {
            snprintf(err, errlen, "out of memory");
        }
    } else if (rc == SQLITE_DONE) {
        snprintf(err, errlen,
                 *version > 0 ? "no version %lld has been published"
                              : "nothing has been published yet (mesnode publish)",
                 (long long)*version);
    } else {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
    }
    if (st != NULL)
        sqlite3_reset(st);
    return text;
}

/* A blob to write, and in which order: the items' files before their documents, so that a
 * reader can write each item as its document comes; in each part the compressed ones first,
 * then by id. */
struct out_blob {
    struct blob_row row; /* row.hash from the manifest, the rest from the table */
    bool doc, skip;
};

static int out_blob_cmp(const void *a, const void *b)
{
    const struct out_blob *x = a, *y = b;
    if (x->doc != y->doc)
        return x->doc ? 1 : -1;
    if (x->row.zstd != y->row.zstd)
        return x->row.zstd ? -1 : 1;
    return x->row.id < y->row.id ? -1 : x->row.id > y->row.id;
}

static int out_blob_by_hash(const void *a, const void *b)
{
    return memcmp(((const struct out_blob *)a)->row.hash, ((const struct out_blob *)b)->row.hash,
                  32);
}

/* The blob of `v` (n of them, sorted by hash) with this hash, or NULL. */
static struct out_blob *out_blob_find(struct out_blob *v, size_t n, const unsigned char *hash)
{
    struct out_blob key;
    memcpy(key.row.hash, hash, 32);
    return bsearch(&key, v, n, sizeof(*v), out_blob_by_hash);
}

static struct out_blob *out_blob_find_hex(struct out_blob *v, size_t n, const char *hex)
{
    unsigned char h[32];
    return hex != NULL && bundle_hash_parse(hex, h) == 0 ? out_blob_find(v, n, h) : NULL;
}

/* What a version's bundle carries: the manifest's blobs, less those of version `base` when not
 * NULL, each with its row and whether it is an item's document, in writing order. The rows are
 * found in one pass over the table rather than by an index look-up each (200,000 of them in
 * a large channel). The array (malloc'ed) and its length, or NULL with err. */
static struct out_blob *bundle_blobs(struct db *db, json_t *doc, json_t *base, int64_t version,
                                     size_t *count, char *err, size_t errlen)
{
    json_t *list = json_object_get(doc, "blobs"), *b;
    size_t n = json_array_size(list), i, m = 0;
    struct out_blob *v = calloc(n + 1, sizeof(*v));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_array_foreach(list, i, b)
    {
        if (bundle_hash_parse(json_string_value(json_object_get(b, "hash")), v[i].row.hash) != 0) {
            snprintf(err, errlen, "version %lld's stored manifest is damaged", (long long)version);
            goto fail;
        }
    }
    qsort(v, n, sizeof(*v), out_blob_by_hash);
    struct out_blob *o;
    json_array_foreach(json_object_get(doc, "items"), i, b)
    {
        if ((o = out_blob_find_hex(v, n, json_string_value(json_object_get(b, "doc")))) != NULL)
            o->doc = true;
    }
    json_array_foreach(json_object_get(base, "blobs"), i, b)
    {
        if ((o = out_blob_find_hex(v, n, json_string_value(json_object_get(b, "hash")))) != NULL)
            o->skip = true;
    }
    sqlite3_stmt *st =
        db_query(db, "SELECT id, hash, zstd, size, length(data) > 0 FROM blobs", NULL);
    int rc;
    while (db_next(st, &rc)) {
        if (sqlite3_column_bytes(st, 1) == 32 &&
            (o = out_blob_find(v, n, sqlite3_column_blob(st, 1))) != NULL) {
            o->row.id = sqlite3_column_int64(st, 0);
            o->row.zstd = sqlite3_column_int(st, 2) != 0;
            o->row.size = (size_t)sqlite3_column_int64(st, 3);
            o->row.in_row = sqlite3_column_int(st, 4) != 0;
        }
    }
    if (rc != SQLITE_DONE)
        goto db_error;
    for (i = 0; i < n; i++) {
        if (v[i].skip)
            continue;
        if (v[i].row.id == 0) {
            char hex[65];
            sodium_bin2hex(hex, sizeof(hex), v[i].row.hash, 32);
            snprintf(err, errlen, "blob %s of version %lld is missing", hex, (long long)version);
            goto fail;
        }
        v[m++] = v[i];
    }
    qsort(v, m, sizeof(*v), out_blob_cmp);
    *count = m;
    return v;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
fail:
    free(v);
    return NULL;
}

int channel_bundle_build(struct db *db, const struct ms_secret *sk, int64_t version, int64_t from,
                         FILE *out, long *carried, char *err, size_t errlen)
{
    struct out_blob *out_blobs = NULL;
    int64_t previous = 0, expires = 0, base_v = from, base_p, base_e;
    char *text = NULL, *base = NULL;
    json_t *doc = NULL, *base_doc = NULL;
    struct bundle_writer *w = NULL;
    size_t i, n = 0;
    unsigned char *data = NULL;
    int rc = -1;
    *carried = 0;
    if (db_begin_read(db) != SQLITE_OK) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        goto out;
    }
    if ((text = load_version(db, &version, &previous, &expires, err, errlen)) == NULL)
        goto out;
    if (from > 0) {
        if (from >= version) {
            snprintf(err, errlen, "--from must be older than the version built (%lld)",
                     (long long)version);
            goto out;
        }
        if ((base = load_version(db, &base_v, &base_p, &base_e, err, errlen)) == NULL)
            goto out;
        if ((base_doc = json_loads(base, 0, NULL)) == NULL) {
            snprintf(err, errlen, "version %lld's stored manifest is damaged", (long long)base_v);
            goto out;
        }
    }
    doc = json_loads(text, 0, NULL);
    if (doc == NULL) {
        snprintf(err, errlen, "version %lld's stored manifest is damaged", (long long)version);
        goto out;
    }
    /* The files, then the documents. The blobs the store compressed go first, in the
     * compressed stream; then those it keeps raw (they did not compress), copied as they are
     * without trying again; each part in the store's order, so that its pages are read in
     * sequence. */
    if ((out_blobs = bundle_blobs(db, doc, base_doc, version, &n, err, errlen)) == NULL)
        goto out;
    char trusted[256];
    trusted_comment(trusted, sizeof(trusted), json_string_value(json_object_get(doc, "origin")),
                    version, previous, expires);
    if ((w = bundle_writer_open(out, 3, sk, text, strlen(text), trusted, err, errlen)) == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        struct out_blob *o = &out_blobs[i];
        int why = 0;
        if ((data = blob_load_row(db, &o->row, &why)) == NULL) {
            snprintf(err, errlen, "a blob of version %lld is damaged (%d)", (long long)version,
                     why);
            goto out;
        }
        if (bundle_writer_blob(w, o->row.hash, data, o->row.size, o->row.zstd, err, errlen) != 0)
            goto out;
        free(data);
        data = NULL;
        (*carried)++;
    }
    rc = bundle_writer_close(w, err, errlen);
    w = NULL;
out:
    if (w != NULL) {
        char ignored[64];
        bundle_writer_close(w, ignored, sizeof(ignored));
    }
    db_rollback(db);
    free(out_blobs);
    free(data);
    free(text);
    free(base);
    json_decref(doc);
    json_decref(base_doc);
    return rc;
}

/* ---- import ----
 *
 * In two parts, so that the write lock is held only briefly: the bundle is read whole and
 * checked, its new bodies stored meanwhile as a stage in the blob store (db.h) outside any
 * transaction of the database; then the switch-over writes the rows in short steps, each a
 * job of the writer (serve) or a short transaction of its own (a command), so that a serving
 * node's writer waits at most one step. */

int channel_check(struct db *db, json_t *m, const char *raw, size_t raw_len,
                  struct channel_import *res, unsigned char hash[32], char *err, size_t errlen)
{
    const char *format = NULL, *kind = NULL, *channel = NULL;
    json_int_t version = 0, previous = -1, expires = 0;
    if (json_unpack(m, "{s:s,s:s,s:s,s:I,s:I,s:I}", "format", &format, "kind", &kind, "channel",
                    &channel, "version", &version, "previous", &previous, "expires",
                    &expires) != 0 ||
        strcmp(format, "mes-library-1") != 0 || strcmp(kind, "channel") != 0 ||
        strcmp(channel, CHANNEL) != 0 || version < 1 || previous < 0 || previous >= version ||
        !json_is_array(json_object_get(m, "items"))) {
        snprintf(err, errlen,
                 "not a library channel manifest (format, kind, channel, version, "
                 "previous, expires, items)");
        return -1;
    }
    crypto_generichash(hash, 32, (const unsigned char *)raw, raw_len, NULL, 0);
    sqlite3_stmt *st = db_query(db, "SELECT version, manifest_hash FROM channel_state", NULL);
    int64_t held = 0;
    unsigned char held_hash[32] = {0};
    int rc = st ? db_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        held = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(held_hash, sqlite3_column_blob(st, 1), 32);
    }
    if (st != NULL)
        sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) { /* never taken for "nothing held" */
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    res->previous = held;
    if (version < held) {
        snprintf(err, errlen,
                 "version %lld is older than the version %lld held: refused "
                 "(versions never go back)",
                 (long long)version, (long long)held);
        return -1;
    }
    if (version == held && sodium_memcmp(held_hash, hash, 32) != 0) {
        snprintf(err, errlen,
                 "version %lld differs from the version %lld held: refused (the "
                 "same version with other content)",
                 (long long)version, (long long)held);
        return -1;
    }
    if (expires <= (json_int_t)time(NULL)) {
        snprintf(err, errlen, "version %lld expired at %lld: refused", (long long)version,
                 (long long)expires);
        return -1;
    }
    res->version = version;
    res->already = version == held;
    return 0;
}

/* A step of the switch-over holds the write lock for about STEP_MS of work (then its commit):
 * blob rows ROWS_STEP at a time and items ITEMS_STEP at a time until that much has passed. A
 * teacher's mark waits at most about that long (p99 ~40 ms during an import); longer steps
 * commit less often (10 ms steps made a 20,000-item import 1.2 times slower than 40 ms ones:
 * docs/benchmarks.md). */
enum { STEP_MS = 40, ROWS_STEP = 100, ITEMS_STEP = 2 };

static double elapsed_ms(const struct timespec *since)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - since->tv_sec) * 1e3 + (double)(t.tv_nsec - since->tv_nsec) / 1e6;
}

/* Look-ups of blobs staging shares a read transaction between. */
enum { STAGE_READS = 1024 };

/* Ends the read transaction staging's look-ups shared. */
static void stage_reads_end(struct db *db, struct channel_stage *cs)
{
    if (cs->reading)
        db_rollback(db);
    cs->reading = false;
}

/* A staged body, and whether its row went in. */
struct staged_blob {
    unsigned char hash[32];
    int64_t id;
    size_t size;
    bool zstd, used;
};

int channel_stage_begin(struct db *db, struct channel_stage *cs, char *err, size_t errlen)
{
    memset(cs, 0, sizeof(*cs));
    cs->stage.fd = -1;
    if (db_stage_begin(db, &cs->stage, err, errlen) != 0)
        return -1;
    /* Bodies an interrupted import left, that nothing names, go first. */
    if (db_store_collect(db, err, errlen) < 0) {
        channel_stage_end(db, cs);
        return -1;
    }
    return 0;
}

int channel_stage_blob(struct db *db, struct channel_stage *cs, const unsigned char hash[32],
                       const void *data, size_t len, const struct blob_packed *p, char *err,
                       size_t errlen)
{
    /* The look-ups share a read transaction, renewed now and then (one of its own each costs
     * the database's locks and checks of its log); a held one is never ended here. */
    if (cs->reading && cs->lookups % STAGE_READS == 0) {
        db_rollback(db);
        cs->reading = false;
    }
    if (!cs->reading && sqlite3_get_autocommit(db_handle(db)) && db_begin_read(db) == SQLITE_OK)
        cs->reading = true;
    cs->lookups++;
    if (blob_id(db, hash) != 0)
        return 0; /* held already (an incremental bundle's base, another item's file) */
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? 2 * cs->cap : 1024;
        struct staged_blob *more = realloc(cs->rows, cap * sizeof(*more));
        if (more == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        cs->rows = more;
        cs->cap = cap;
    }
    struct staged_blob *b = &cs->rows[cs->n];
    memset(b, 0, sizeof(*b));
    memcpy(b->hash, hash, 32);
    b->size = len;
    if ((b->id = blob_stage(db, &cs->stage, data, len, p, &b->zstd)) == 0) {
        snprintf(err, errlen, "the blob store failed (logged)");
        return -1;
    }
    cs->n++;
    return 0;
}

void channel_stage_end(struct db *db, struct channel_stage *cs)
{
    stage_reads_end(db, cs);
    size_t m = 0;
    int64_t *drop = malloc((cs->n ? cs->n : 1) * sizeof(*drop));
    for (size_t i = 0; drop != NULL && i < cs->n; i++)
        if (!cs->rows[i].used)
            drop[m++] = cs->rows[i].id;
    /* Out of memory: the unused bodies wait for the next collection. */
    db_stage_end(db, &cs->stage, drop, m);
    free(drop);
    free(cs->rows);
    cs->rows = NULL;
    cs->n = cs->cap = 0;
}

/* The switch-over's state, for its steps. */
struct switching {
    struct channel_stage *cs;
    size_t from, to;           /* rows: the step's range */
    struct hub_change *change; /* items */
    long left;
    json_t *manifest;
    const unsigned char *hash;
    struct channel_import *res;
    char *err;
    size_t errlen;
};

/* A step: the rows from cs->rows[from], ROWS_STEP at a time for STEP_MS; `to` where it ended. */
static int insert_rows(struct db *db, void *ctx)
{
    struct switching *sw = ctx;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t i = sw->from;
    while (i < sw->cs->n) {
        if (i > sw->from && (i - sw->from) % ROWS_STEP == 0 && elapsed_ms(&start) >= STEP_MS)
            break;
        struct staged_blob *b = &sw->cs->rows[i++];
        int rc = blob_insert_staged(db, b->id, b->hash, b->size, b->zstd);
        if (rc < 0) {
            snprintf(sw->err, sw->errlen, "database: %s", db_errmsg(db));
            return -1;
        }
        b->used = rc == 1;
    }
    sw->to = i;
    return 0;
}

/* Reads an item's document from the blobs (the bundle or the pull stored it, checked). */
static json_t *load_doc(void *ctx, json_t *entry, char *err, size_t errlen)
{
    struct db *db = ctx;
    unsigned char h[32];
    const char *hex = json_string_value(json_object_get(entry, "doc"));
    int64_t id = bundle_hash_parse(hex, h) == 0 ? blob_id(db, h) : 0;
    size_t size = 0;
    int why = 0;
    unsigned char *text = id ? blob_load(db, id, h, &size, &why, NULL) : NULL;
    json_t *doc = text ? input_json_loadb((const char *)text, size, JSON_REJECT_DUPLICATES,
                                          INPUT_JSON_DEPTH_DOCUMENTS, NULL)
                       : NULL;
    free(text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(err, errlen, "the document of item %s is missing or not JSON",
                 json_string_value(json_object_get(entry, "uid")) ?: "?");
        return NULL;
    }
    return doc;
}

/* A step: items, ITEMS_STEP at a time for STEP_MS. */
static int write_items(struct db *db, void *ctx)
{
    struct switching *sw = ctx;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        sw->left = library_hub_step(sw->change, db, load_doc, db, ITEMS_STEP, sw->err, sw->errlen);
    while (sw->left > 0 && elapsed_ms(&start) < STEP_MS);
    return sw->left < 0 ? -1 : 0;
}

/* The last step: the items that left, the blobs released, the version held. */
static int finish(struct db *db, void *ctx)
{
    struct switching *sw = ctx;
    struct channel_import *res = sw->res;
    if (library_hub_step(sw->change, db, load_doc, db, 0, sw->err, sw->errlen) != 0 ||
        library_hub_end(sw->change, load_doc, db, &res->changed, &res->removed, sw->err,
                        sw->errlen) != 0)
        return -1;
    int rc =
        db_run(db,
               "INSERT INTO channel_state (id, version, manifest_hash, expires_at, "
               "imported_at) VALUES (1, :v, :h, :e, unixepoch()) ON CONFLICT (id) DO UPDATE "
               "SET version = excluded.version, manifest_hash = excluded.manifest_hash, "
               "expires_at = excluded.expires_at, imported_at = excluded.imported_at",
               DB_ARGS(DB_INT(":v", res->version), DB_BLOB(":h", sw->hash, 32),
                       DB_INT(":e", json_integer_value(json_object_get(sw->manifest, "expires")))));
    if (rc != SQLITE_DONE) {
        snprintf(sw->err, sw->errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

/* Runs a step; a failure without a message of its own gets the storage's. */
static int step(struct writer *w, struct db *db, writer_fn fn, struct switching *sw)
{
    sw->err[0] = '\0';
    if (writer_call(w, db, fn, sw) == 0)
        return 0;
    if (sw->err[0] == '\0')
        snprintf(sw->err, sw->errlen, "the write failed (storage busy or failing: logged)");
    return -1;
}

/* Every blob the manifest lists is stored by now: carried by the bundle or pulled, or held
 * from the version an incremental bundle builds on. 0, or -1 with err. */
static int blobs_all_held(struct db *db, json_t *manifest, const struct channel_import *res,
                          char *err, size_t errlen)
{
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(manifest, "blobs"), i, b)
    {
        unsigned char h[32];
        if (bundle_hash_parse(json_string_value(json_object_get(b, "hash")), h) != 0 ||
            blob_id(db, h) == 0) {
            snprintf(err, errlen,
                     "this region lacks blobs of version %lld (held: %lld): an "
                     "incremental bundle needs the version it builds on; import a full bundle",
                     (long long)res->version, (long long)res->previous);
            return -1;
        }
    }
    return 0;
}

static int switch_steps(struct db *db, struct writer *w, struct switching *sw);

/* The staged blobs' rows, in steps, once their bodies are on the disk. 0, or -1 with err. */
static int stage_rows(struct db *db, struct writer *w, struct channel_stage *cs, char *err,
                      size_t errlen)
{
    struct switching sw = {.cs = cs, .err = err, .errlen = errlen};
    stage_reads_end(db, cs);
    if (db_stage_flush(db) != SQLITE_OK) {
        snprintf(err, errlen, "the blob store failed to commit (logged)");
        return -1;
    }
    for (sw.from = 0; sw.from < cs->n; sw.from = sw.to)
        if (step(w, db, insert_rows, &sw) != 0)
            return -1;
    return 0;
}

int channel_switch(struct db *db, struct writer *w, struct channel_stage *cs, json_t *manifest,
                   const unsigned char hash[32], struct channel_import *res, char *err,
                   size_t errlen)
{
    struct switching sw = {
        .cs = cs, .manifest = manifest, .hash = hash, .res = res, .err = err, .errlen = errlen};
    err[0] = '\0';
    /* The steps before the last are redone by the next import if a power loss undid them: on a
     * connection of the import's own, their commits do not wait for the disk, so that each
     * holds the lock for its work only (the writer's batches commit as configured). */
    db_sync_relaxed(db, true);
    int rc = switch_steps(db, w, &sw);
    db_sync_relaxed(db, false);
    if (rc == 0)
        rc = step(w, db, finish, &sw);
    library_hub_free(sw.change);
    return rc;
}

/* channel_switch's steps before the last: the rows, then the items. 0, or -1 with sw->err. */
static int switch_steps(struct db *db, struct writer *w, struct switching *sw)
{
    char *err = sw->err;
    size_t errlen = sw->errlen;
    if (stage_rows(db, w, sw->cs, err, errlen) != 0)
        return -1;
    if (blobs_all_held(db, sw->manifest, sw->res, err, errlen) != 0)
        return -1;
    /* What changes, read in one snapshot (a transaction per look-up costs the locks each). */
    if (db_begin_read(db) != SQLITE_OK) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    sw->change = library_hub_begin_steps(db, json_object_get(sw->manifest, "items"), err, errlen);
    db_rollback(db);
    if (sw->change == NULL)
        return -1;
    int rc = 0;
    do
        rc = step(w, db, write_items, sw);
    while (rc == 0 && sw->left > 0);
    return rc;
}

/* A bundle's import: the bundle reader's callbacks. */
struct importing {
    struct db *db;
    struct channel_import *res;
    json_t *manifest;
    unsigned char hash[32];
    struct channel_stage stage;
};

/* The manifest: channel_check, then it is kept. */
static int import_manifest(void *ctx, json_t *m, const struct ms_sig *sig, const char *raw,
                           size_t raw_len, char *err, size_t errlen)
{
    (void)sig;
    struct importing *im = ctx;
    if (channel_check(im->db, m, raw, raw_len, im->res, im->hash, err, errlen) != 0)
        return -1;
    im->manifest = json_incref(m);
    return 0;
}

/* The decoding thread makes the store's form of each blob. */
static void *import_prepare(const unsigned char *data, size_t len)
{
    return blob_pack(data, len); /* NULL: stored raw */
}

static void import_release(void *prepared)
{
    blob_packed_free(prepared);
}

static int import_blob(void *ctx, const unsigned char hash[32], const unsigned char *data,
                       size_t len, void *prepared, char *err, size_t errlen)
{
    struct importing *im = ctx;
    if (im->res->already)
        return 0;
    /* The reader checked the hash. */
    return channel_stage_blob(im->db, &im->stage, hash, data, len, prepared, err, errlen);
}

int channel_import_bundle(struct db *db, struct writer *w, const struct ms_public *hub, FILE *in,
                          struct channel_import *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    err[0] = '\0';
    struct importing im = {.db = db, .res = res};
    struct bundle_ops ops = {import_manifest, import_blob, import_prepare, import_release};
    db_cache_mib(db, CHANNEL_CACHE_MIB);
    /* One import at a time: the version held is checked and changed under the stage's lock. */
    if (channel_stage_begin(db, &im.stage, err, errlen) != 0)
        return -1;
    int rc = bundle_read(in, hub, &ops, &im, &res->carried, err, errlen);
    if (rc == 0 && !res->already)
        rc = channel_switch(db, w, &im.stage, im.manifest, im.hash, res, err, errlen);
    channel_stage_end(db, &im.stage); /* what a refused bundle staged goes */
    json_decref(im.manifest);
    return rc;
}
