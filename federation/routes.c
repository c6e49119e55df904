/*
 * The federation's HTTP routes under /federation/v1/ (docs/federation.md): the node's public
 * key, with which anyone checks what the node signs; at the hub, the library channel's
 * manifests and blobs for enrolled regions' signed requests (auth.h); the operator's status of
 * the federation (GET /api/v1/federation/status).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "federation/auth.h"
#include "federation/sync.h"
#include "files/files.h"
#include "http.h"
#include "lib/bundle.h"
#include "lib/minisign.h"
#include "node.h"

/* GET /federation/v1/key: the node's public key in minisign's form, its id and the region. */
static int federation_key(struct req *r)
{
    char b64[MS_PUBLIC_B64], id[17];
    ms_public_base64(&r->node->pub, b64);
    ms_id_hex(r->node->pub.id, id);
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:s,s:s,s:s}", "public_key", b64, "key_id", id,
                                "algorithm", "Ed25519 (minisign)", "region",
                                r->node->cfg.region.code, "name", r->node->cfg.region.name));
}

/* The published version asked for (?version=N) or the latest: its manifest or signature. */
static int channel_part(struct req *r, bool signature)
{
    char v[24] = "";
    req_query(r, "version", v, sizeof(v));
    char *end;
    long long version = v[0] ? strtoll(v, &end, 10) : 0;
    if (v[0] && (*end != '\0' || version < 1))
        return reply_error(r, 400, "bad_request", "version must be a positive number");
    sqlite3_stmt *st = db_query(r->db,
                                signature ? "SELECT version, signature FROM channel_versions WHERE "
                                            "version = coalesce(nullif(:v, 0), (SELECT "
                                            "max(version) FROM channel_versions))"
                                          : "SELECT version, manifest FROM channel_versions WHERE "
                                            "version = coalesce(nullif(:v, 0), (SELECT "
                                            "max(version) FROM channel_versions))",
                                DB_ARGS(DB_INT(":v", version)));
    int rc;
    if (!db_next(st, &rc))
        return rc != SQLITE_DONE ? reply_db_error(r)
                                 : reply_error(r, 404, "not_found",
                                               version ? "no such version of the channel"
                                                       : "no version of the channel has been "
                                                         "published yet");
    size_t n = (size_t)sqlite3_column_bytes(st, 1);
    char *body = malloc(n ? n : 1);
    if (body != NULL)
        memcpy(body, sqlite3_column_blob(st, 1), n);
    reply_header(r, "X-Mes-Channel-Version", "%lld", (long long)sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    if (body == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    reply_header(r, "Cache-Control", "no-store");
    return reply_raw(r, 200, signature ? "text/plain; charset=utf-8" : "application/json", body, n,
                     true);
}

/* GET /federation/v1/channel/library/manifest[?version=N] */
static int federation_manifest(struct req *r)
{
    return channel_part(r, false);
}

/* GET /federation/v1/channel/library/manifest.minisig[?version=N] */
static int federation_manifest_sig(struct req *r)
{
    return channel_part(r, true);
}

/* 1 when the channel published this blob, 0 when not; -1 after answering 500. */
static int db_exists_blob_published(struct req *r, const unsigned char hash[32])
{
    int found = db_exists(r->db, "SELECT 1 FROM channel_blobs WHERE hash = :h",
                          DB_ARGS(DB_BLOB(":h", hash, 32)));
    return found < 0 ? (reply_db_error(r), -1) : found;
}

/* GET /federation/v1/blobs/HASH: a blob the channel published, whole or from an offset
 * ("Range: bytes=N-", answered 206), so that an interrupted transfer resumes. */
static int federation_blob(struct req *r)
{
    unsigned char hash[32];
    if (r->rest == NULL || bundle_hash_parse(r->rest, hash) != 0)
        return reply_error(r, 400, "bad_request", "a blob is named by 64 hex digits");
    if (db_exists_blob_published(r, hash) != 1)
        return r->status ? r->status : reply_error(r, 404, "not_found", "no such published blob");
    int why = 0;
    size_t size = 0;
    unsigned char *data = blob_load(r->db, blob_id(r->db, hash), hash, &size, &why, NULL);
    if (data == NULL)
        return why == 500 ? reply_error(r, 500, "damaged", "the stored blob is damaged")
                          : reply_error(r, 404, "not_found", "no such published blob");
    const char *range = req_header(r, "Range");
    if (range == NULL)
        return reply_raw(r, 200, "application/octet-stream", data, size, true);
    char *end;
    long long from = strncmp(range, "bytes=", 6) == 0 && isdigit((unsigned char)range[6])
                         ? strtoll(range + 6, &end, 10)
                         : -1;
    if (from < 0 || strcmp(end, "-") != 0 || (size_t)from >= size) {
        free(data);
        reply_header(r, "Content-Range", "bytes */%zu", size);
        return reply_error(r, 416, "range_not_satisfiable",
                           "only \"bytes=N-\" with N below the size (%zu) is served", size);
    }
    memmove(data, data + from, size - (size_t)from);
    reply_header(r, "Content-Range", "bytes %lld-%zu/%zu", from, size - 1, size);
    return reply_raw(r, 206, "application/octet-stream", data, size - (size_t)from, true);
}

/* One integer from a query without parameters, or 0 (a failure is the thread's: db.h; the
 * handler then answers 500). */
static json_int_t scalar(struct req *r, const char *sql)
{
    int64_t v = 0;
    db_int(r->db, &v, sql, NULL);
    return v;
}

/* GET /api/v1/federation/status: the operator's view of the federation: at a region the
 * channel version held, the outbox and the schedule; at the hub the versions published, the
 * regions enrolled and the reports received. */
static int federation_status(struct req *r)
{
    const struct mes_config *cfg = &r->node->cfg;
    json_t *o = json_pack("{s:s,s:s,s:b,s:s}", "mode", cfg->mode == NODE_HUB ? "hub" : "region",
                          "region", cfg->region.code, "enabled", cfg->federation.enabled, "hub_url",
                          cfg->federation.hub_url);
    if (cfg->mode == NODE_HUB) {
        json_object_set_new(
            o, "hub",
            json_pack("{s:I,s:I,s:I}", "channel_version",
                      scalar(r, "SELECT coalesce(max(version), 0) FROM channel_versions"),
                      "regions_enrolled", scalar(r, "SELECT count(*) FROM fed_regions"),
                      "reports_received", scalar(r, "SELECT count(*) FROM fed_reports")));
        return reply_json(r, 200, o);
    }
    json_object_set_new(
        o, "channel",
        json_pack(
            "{s:I,s:I,s:I}", "version",
            scalar(r, "SELECT coalesce((SELECT version FROM channel_state), 0)"), "imported_at",
            scalar(r, "SELECT coalesce((SELECT imported_at FROM channel_state), 0)"), "expires_at",
            scalar(r, "SELECT coalesce((SELECT expires_at FROM channel_state), 0)")));
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT last_error, next_attempt FROM fed_outbox WHERE "
                                "sent_at IS NULL AND refused_at IS NULL ORDER BY sequence LIMIT 1",
                                NULL);
    json_t *first = json_null();
    int rc;
    if (db_next(st, &rc)) {
        first = json_pack("{s:s,s:I}", "last_error", db_col_text(st, 0), "next_attempt",
                          (json_int_t)sqlite3_column_int64(st, 1));
        sqlite3_reset(st);
    } else if (rc != SQLITE_DONE) {
        json_decref(o);
        return reply_db_error(r);
    }
    json_object_set_new(
        o, "outbox",
        json_pack("{s:I,s:I,s:I,s:o}", "waiting",
                  scalar(r, "SELECT count(*) FROM fed_outbox WHERE sent_at IS NULL AND refused_at "
                            "IS NULL"),
                  "sent", scalar(r, "SELECT count(*) FROM fed_outbox WHERE sent_at IS NOT NULL"),
                  "refused",
                  scalar(r, "SELECT count(*) FROM fed_outbox WHERE refused_at IS NOT NULL"),
                  "first_waiting", first));
    /* The last report the hub refused for good, and why (kept, never sent again). */
    st = db_query(r->db,
                  "SELECT sequence, last_error, refused_at FROM fed_outbox WHERE refused_at IS "
                  "NOT NULL ORDER BY sequence DESC LIMIT 1",
                  NULL);
    json_t *refused = json_null();
    if (db_next(st, &rc)) {
        refused = json_pack("{s:I,s:s,s:I}", "sequence", (json_int_t)sqlite3_column_int64(st, 0),
                            "last_error", db_col_text(st, 1), "refused_at",
                            (json_int_t)sqlite3_column_int64(st, 2));
        sqlite3_reset(st);
    } else if (rc != SQLITE_DONE) {
        json_decref(o);
        return reply_db_error(r);
    }
    json_object_set_new(json_object_get(o, "outbox"), "last_refused", refused);
    struct fed_status fs;
    if (fed_status_get(r->node, &fs))
        json_object_set_new(
            o, "schedule",
            json_pack("{s:I,s:I,s:I,s:I,s:s,s:i}", "last_sync_at", (json_int_t)fs.last_sync_at,
                      "last_success_at", (json_int_t)fs.last_ok_at, "errors", (json_int_t)fs.errors,
                      "reports_sent", (json_int_t)fs.reports_sent, "last_error", fs.last_error,
                      "interval_s", cfg->federation.sync_interval_s));
    else
        json_object_set_new(o, "schedule", json_null());
    return reply_json(r, 200, o);
}

const struct route federation_routes[] = {
    {.method = "GET",
     .path = "/federation/v1/key",
     .handler = federation_key,
     .access = ACCESS_PUBLIC,
     .name = "federation_key"},
    {.method = "GET",
     .path = "/api/v1/federation/status",
     .handler = federation_status,
     .access = ACCESS_USER,
     .allow = ROLE_ADMIN | ROLE_OPERATOR,
     .name = "federation_status"},
    {.method = "GET",
     .path = "/federation/v1/channel/library/manifest",
     .handler = federation_manifest,
     .access = ACCESS_NODE,
     .name = "federation_manifest",
     .signer = SIGNER_REGION},
    {.method = "GET",
     .path = "/federation/v1/channel/library/manifest.minisig",
     .handler = federation_manifest_sig,
     .access = ACCESS_NODE,
     .name = "federation_manifest_sig",
     .signer = SIGNER_REGION},
    {.method = "GET",
     .path = "/federation/v1/blobs/*",
     .handler = federation_blob,
     .access = ACCESS_NODE,
     .name = "federation_blob",
     .signer = SIGNER_REGION},
    {0},
};
