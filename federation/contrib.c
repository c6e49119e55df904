/*
 * Contributions to the shared library (docs/federation.md, "Contributions"): a region's
 * approved item is proposed (by its author or a regional methodologist), sent to the hub as a
 * bundle signed by the region, reviewed there like any item, and the verdict with its comment
 * comes back at the region's next sync; an approved contribution is in the hub's next channel
 * version, for every region. contributions.sql is its schema.
 */
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "db.h"
#include "federation/auth.h"
#include "federation/contrib.h"
#include "federation/sync.h"
#include "files/files.h"
#include "http.h"
#include "lib/bundle.h"
#include "lib/input.h"
#include "library/library.h"
#include "node.h"

static json_t *contribution_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:I,s:s,s:s,s:s?,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                     "item_id", (json_int_t)sqlite3_column_int64(st, 1), "status",
                     db_col_text(st, 2), "comment", db_col_text(st, 3), "hub_uid",
                     (const char *)sqlite3_column_text(st, 4), "proposed_at",
                     (json_int_t)sqlite3_column_int64(st, 5));
}

/* POST /api/v1/library/items/{id}/contribute: the author of an approved item of the region, or
 * a regional methodologist, proposes it for the shared library. */
static int contribute(struct req *r)
{
    if (r->node->cfg.mode != NODE_REGION)
        return reply_error(r, 404, "not_found", "the hub's own items are the shared library");
    if (library_item_visible_or_respond(r, r->params[0]) != 0)
        return r->status;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT coalesce(author_id, 0), status, origin FROM library_items "
                                "WHERE id = :id",
                                DB_ARGS(DB_INT(":id", r->params[0])));
    int rc;
    if (!db_next(st, &rc)) /* no row: it was visible a moment ago */
        return reply_db_error(r);
    int64_t author = sqlite3_column_int64(st, 0);
    bool approved = strcmp(db_col_text(st, 1), "approved") == 0;
    bool hub = strcmp(db_col_text(st, 2), "hub") == 0;
    sqlite3_reset(st);
    if (author != r->caller.person_id && !caller_has(r, ROLE_METHODOLOGIST, 0))
        return reply_error(r, 403, "forbidden",
                           "its author or a methodologist proposes an item for the shared library");
    if (hub || !approved)
        return reply_error(r, 409, "conflict",
                           hub ? "the item is in the shared library already"
                               : "only approved items are proposed");
    rc = db_run(r->db, "INSERT INTO fed_contributions (item_id, proposed_by) VALUES (:i, :me)",
                DB_ARGS(DB_INT(":i", r->params[0]), DB_INT(":me", r->caller.person_id)));
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return reply_error(r, 409, "conflict",
                           "the item is proposed already; wait for the verdict");
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:s}", "id", (json_int_t)db_last_id(r->db), "item_id",
                                (json_int_t)r->params[0], "status", "queued"));
}

/* GET /api/v1/library/items/{id}/contributions: the item's proposals and their verdicts. */
static int contributions_of_item(struct req *r)
{
    if (library_item_visible_or_respond(r, r->params[0]) != 0)
        return r->status;
    return reply_rows(r,
                      db_query(r->db,
                               "SELECT id, item_id, status, comment, hub_uid, proposed_at FROM "
                               "fed_contributions WHERE item_id = :i ORDER BY id DESC",
                               DB_ARGS(DB_INT(":i", r->params[0]))),
                      contribution_row);
}

/* ---- a region's sync ---- */

/* The bundle of contribution `id` (item `item`) in memory; NULL with err. */
static char *contribution_bundle(struct node *n, struct db *db, int64_t id, int64_t item,
                                 size_t *len, char *err, size_t errlen)
{
    json_t *items = json_array(), *blobs = json_object(), *ids = json_object(),
           *list = json_array();
    char *manifest = NULL, *body = NULL;
    FILE *mem = NULL;
    bool ok = false;
    if (library_item_export(db, item, true, items, blobs, ids) != 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        goto out;
    }
    const char *hex;
    json_t *b;
    json_object_foreach(blobs, hex, b) json_array_append(list, b);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:I,s:O,s:O}", "format", "mes-library-1", "kind",
                            "contribution", "region", n->cfg.region.code, "number", (json_int_t)id,
                            "items", items, "blobs", list);
    manifest = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    char trusted[128];
    snprintf(trusted, sizeof(trusted), "mes contribution region=%s number=%lld", n->cfg.region.code,
             (long long)id);
    mem = manifest ? open_memstream(&body, len) : NULL;
    struct bundle_writer *w =
        mem ? bundle_writer_open(mem, 3, n->key, manifest, strlen(manifest), trusted, err, errlen)
            : NULL;
    ok = w != NULL;
    json_t *bid;
    json_object_foreach(ids, hex, bid)
    {
        unsigned char hash[32];
        size_t size;
        int why;
        bool packed = false;
        unsigned char *data =
            ok ? blob_load(db, json_integer_value(bid), hash, &size, &why, &packed) : NULL;
        ok = data != NULL && bundle_writer_blob(w, hash, data, size, packed, err, errlen) == 0;
        free(data);
        if (!ok)
            break;
    }
    if (w != NULL && bundle_writer_close(w, err, errlen) != 0)
        ok = false;
    if (!ok && err[0] == '\0')
        snprintf(err, errlen, "contribution %lld: the item's files could not be read",
                 (long long)id);
out:
    if (mem)
        fclose(mem);
    if (!ok) {
        free(body);
        body = NULL;
    }
    free(manifest);
    json_decref(items);
    json_decref(blobs);
    json_decref(ids);
    json_decref(list);
    return body;
}

/* Sends the queued contributions to the hub in order, each as its bundle, stopping at the
 * first failure (noted in its row). Counts in *sent. 0, or -1 with err. */
static int send_queued(struct node *n, struct db *db, long *sent, char *err, size_t errlen)
{
    for (;;) {
        sqlite3_stmt *st = db_query(db,
                                    "SELECT id, item_id FROM fed_contributions WHERE status = "
                                    "'queued' ORDER BY id LIMIT 1",
                                    NULL);
        int rc;
        if (!db_next(st, &rc)) {
            if (rc == SQLITE_DONE)
                return 0;
            snprintf(err, errlen, "database: %s", db_errmsg(db));
            return -1;
        }
        int64_t id = sqlite3_column_int64(st, 0), item = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
        size_t len = 0;
        char *bundle = contribution_bundle(n, db, id, item, &len, err, errlen);
        long status =
            bundle ? fed_hub_post(n, "/federation/v1/contributions", "application/vnd.mes.bundle",
                                  bundle, len, NULL, err, errlen)
                   : -1;
        free(bundle);
        if (status != 200 && status != 201) {
            /* err says why; a failure to note it is logged by db_run. */
            db_run(db, "UPDATE fed_contributions SET last_error = :e WHERE id = :id",
                   DB_ARGS(DB_INT(":id", id), DB_TEXT(":e", err)));
            return -1;
        }
        if (db_run(db,
                   "UPDATE fed_contributions SET status = 'sent', sent_at = unixepoch(), "
                   "last_error = '' WHERE id = :id",
                   DB_ARGS(DB_INT(":id", id))) != SQLITE_DONE) {
            snprintf(err, errlen, "database: %s", db_errmsg(db));
            return -1;
        }
        (*sent)++;
    }
}

/* Records the verdicts in the hub's list of contributions `doc` on those sent. Counts in
 * *decided. 0, or -1 with err. */
static int record_verdicts(struct db *db, json_t *doc, long *decided, char *err, size_t errlen)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "items"), i, c)
    {
        const char *status = json_string_value(json_object_get(c, "status"));
        if (status == NULL || (strcmp(status, "approved") != 0 && strcmp(status, "rejected") != 0))
            continue;
        const char *comment = json_string_value(json_object_get(c, "comment"));
        if (db_run(db,
                   "UPDATE fed_contributions SET status = :s, comment = :c, hub_uid = :u, "
                   "decided_at = unixepoch() WHERE id = :id AND status = 'sent'",
                   DB_ARGS(DB_TEXT(":s", status), DB_TEXT(":c", comment ? comment : ""),
                           DB_TEXT(":u", json_string_value(json_object_get(c, "uid"))),
                           DB_INT(":id", json_integer_value(json_object_get(c, "number"))))) !=
            SQLITE_DONE) {
            snprintf(err, errlen, "database: %s", db_errmsg(db));
            return -1;
        }
        *decided += db_changes(db);
    }
    return 0;
}

/* Takes the hub's verdicts on the contributions sent, when any waits for one. Counts in
 * *decided. 0, or -1 with err. */
static int take_verdicts(struct node *n, struct db *db, long *decided, char *err, size_t errlen)
{
    int waiting = db_exists(db, "SELECT 1 FROM fed_contributions WHERE status = 'sent'", NULL);
    if (waiting < 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    if (waiting == 0)
        return 0;
    char *text = fed_hub_get(n, "/federation/v1/contributions", 4u << 20, err, errlen);
    json_t *doc =
        text ? input_json_loadb(text, strlen(text), 0, INPUT_JSON_DEPTH_DOCUMENTS, NULL) : NULL;
    free(text);
    if (doc == NULL) {
        if (err[0] == '\0')
            snprintf(err, errlen, "the hub's list of contributions is not JSON");
        return -1;
    }
    int rc = record_verdicts(db, doc, decided, err, errlen);
    json_decref(doc);
    return rc;
}

int contrib_sync(struct node *n, struct db *db, long *sent, long *decided, char *err, size_t errlen)
{
    *sent = *decided = 0;
    err[0] = '\0';
    if (send_queued(n, db, sent, err, errlen) != 0)
        return -1;
    return take_verdicts(n, db, decided, err, errlen);
}

/* ---- the hub's side ---- */

struct receiving {
    struct db *db;
    const char *region;
    json_t *manifest;
};

static int receive_manifest(void *ctx, json_t *m, const struct ms_sig *sig, const char *raw,
                            size_t raw_len, char *err, size_t errlen)
{
    (void)sig, (void)raw, (void)raw_len;
    struct receiving *rc = ctx;
    const char *kind = json_string_value(json_object_get(m, "kind"));
    const char *region = json_string_value(json_object_get(m, "region"));
    json_t *items = json_object_get(m, "items");
    if (kind == NULL || strcmp(kind, "contribution") != 0 || region == NULL ||
        json_integer_value(json_object_get(m, "number")) < 1 || !json_is_array(items) ||
        json_array_size(items) != 1) {
        snprintf(err, errlen, "not a contribution (kind, region, number, one item)");
        return -1;
    }
    if (strcmp(region, rc->region) != 0) {
        snprintf(err, errlen, "a region contributes only in its own name");
        return -1;
    }
    rc->manifest = json_incref(m);
    return 0;
}

static int receive_blob(void *ctx, const unsigned char hash[32], const unsigned char *data,
                        size_t len, void *prepared, char *err, size_t errlen)
{
    (void)prepared;
    struct receiving *rc = ctx;
    if (blob_put_hashed(rc->db, hash, data, len) == 0) { /* the reader checked the hash */
        snprintf(err, errlen, "database: %s", db_errmsg(rc->db));
        return -1;
    }
    return 0;
}

/* Reads the uploaded bundle, signed by `pk`, into *rc: its blobs stored, its manifest kept
 * (rc->manifest, released by the caller). 0, or -1 after answering. */
static int read_contribution_or_respond(struct req *r, const struct ms_public *pk,
                                        struct receiving *rc)
{
    size_t len = 0;
    unsigned char *raw = upload_bytes(r->upload, &len);
    FILE *in = raw ? fmemopen(raw, len ? len : 1, "rb") : NULL;
    struct bundle_ops ops = {receive_manifest, receive_blob};
    char err[512] = "";
    int ok = -1;
    if (in == NULL)
        reply_error(r, 503, "unavailable", "out of memory");
    else if (len == 0 || bundle_read(in, pk, &ops, rc, NULL, err, sizeof(err)) != 0)
        reply_error(r, 400, "bad_request", "the contribution: %s", err[0] ? err : "empty");
    else
        ok = 0;
    if (in)
        fclose(in);
    free(raw);
    return ok;
}

/* Puts contribution `number` of region `code` (the one item of `manifest`) in the library for
 * review and records it. Answers 201, or the refusal. */
static int accept_contribution(struct req *r, const char *code, int64_t number, json_t *manifest)
{
    char uid[64], name[160] = "", err[512] = "";
    snprintf(uid, sizeof(uid), "c%s-%lld", code, (long long)number);
    char *region = NULL;
    int rc = db_text(r->db, &region,
                     "SELECT CASE name WHEN '' THEN 'регион ' || code ELSE name END FROM "
                     "fed_regions WHERE code = :c",
                     DB_ARGS(DB_TEXT(":c", code)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r);
    snprintf(name, sizeof(name), "%s", region ? region : "");
    free(region);
    int64_t item = library_contribution_write(
        r->db, json_array_get(json_object_get(manifest, "items"), 0), uid, name, err, sizeof(err));
    if (item == 0)
        return reply_error(r, 400, "bad_request", "the contribution: %s", err);
    if (db_run(
            r->db, "INSERT INTO fed_contributions_in (region, number, item_id) VALUES (:r, :n, :i)",
            DB_ARGS(DB_TEXT(":r", code), DB_INT(":n", number), DB_INT(":i", item))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:s,s:I,s:s,s:I}", "region", code, "number", (json_int_t)number,
                                "uid", uid, "item_id", (json_int_t)item));
}

/* POST /federation/v1/contributions (body: the contribution's bundle): an enrolled region's
 * item for review, kept once per (region, number). */
static int contributions_receive(struct req *r)
{
    const char *code = r->caller.node_code; /* the dispatcher checked its signature */
    struct ms_public pk;
    fed_caller_key(r, &pk);
    struct receiving rc = {.db = r->db, .region = code};
    int status;
    if (read_contribution_or_respond(r, &pk, &rc) != 0) {
        status = r->status;
        goto out;
    }
    int64_t number = json_integer_value(json_object_get(rc.manifest, "number"));
    int seen =
        db_exists(r->db, "SELECT 1 FROM fed_contributions_in WHERE region = :r AND number = :n",
                  DB_ARGS(DB_TEXT(":r", code), DB_INT(":n", number)));
    if (seen < 0)
        status = reply_db_error(r);
    else if (seen)
        status = reply_json(r, 200,
                            json_pack("{s:s,s:I,s:s}", "region", code, "number", (json_int_t)number,
                                      "status", "duplicate"));
    else
        status = accept_contribution(r, code, number, rc.manifest);
out:
    json_decref(rc.manifest);
    return status;
}

/* GET /federation/v1/contributions: the calling region's contributions and their verdicts. */
static int contributions_list(struct req *r)
{
    const char *code = r->caller.node_code; /* the dispatcher checked its signature */
    sqlite3_stmt *st = db_query(
        r->db,
        "SELECT c.number, coalesce(i.status, 'withdrawn'), coalesce(i.review_comment, ''), i.uid "
        "FROM fed_contributions_in c LEFT JOIN library_items i ON i.id = c.item_id WHERE "
        "c.region = :r ORDER BY c.number",
        DB_ARGS(DB_TEXT(":r", code)));
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc)) {
        const char *s = db_col_text(st, 1);
        json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:s?}", "number",
                                               (json_int_t)sqlite3_column_int64(st, 0), "status",
                                               strcmp(s, "submitted") == 0 ? "pending" : s,
                                               "comment", db_col_text(st, 2), "uid",
                                               (const char *)sqlite3_column_text(st, 3)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

const struct route contrib_routes[] = {
    {.method = "POST",
     .path = "/api/v1/library/items/{id}/contribute",
     .handler = contribute,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER | ROLE_METHODOLOGIST,
     .writes = true,
     .name = "library_item_contribute"},
    {.method = "GET",
     .path = "/api/v1/library/items/{id}/contributions",
     .handler = contributions_of_item,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_item_contributions"},
    {.method = "POST",
     .path = "/federation/v1/contributions",
     .handler = contributions_receive,
     .access = ACCESS_NODE,
     .writes = true,
     .name = "federation_contribution",
     .upload = true,
     .signer = SIGNER_REGION},
    {.method = "GET",
     .path = "/federation/v1/contributions",
     .handler = contributions_list,
     .access = ACCESS_NODE,
     .name = "federation_contributions",
     .signer = SIGNER_REGION},
    {0},
};
