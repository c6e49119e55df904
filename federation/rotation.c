/*
 * The hub's key rotation (docs/federation.md, "Key rotation"): the hub announces its new key
 * in a statement signed by the key it replaces; a region that finds the channel signed by a
 * key it does not know fetches the statements and follows the chain from the key it trusts
 * (pinned in its configuration, or followed before), each link checked, and keeps the key it
 * arrived at. rotation.sql is its schema.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "federation/rotation.h"
#include "federation/sync.h"
#include "http.h"
#include "lib/input.h"
#include "node.h"
#include "writer.h"

int hub_key_current(struct db *db, const struct mes_config *cfg, struct ms_public *pk, char *err,
                    size_t errlen)
{
    /* A key followed after a rotation comes first; a failure to read it is not "none". */
    char *followed = NULL;
    int rc = db_text(db, &followed, "SELECT public_key FROM fed_hub_key", NULL);
    if (rc == SQLITE_ROW) {
        int parsed = ms_public_parse(followed, strlen(followed), pk, err, errlen);
        free(followed);
        return parsed;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    const char *pinned = cfg->federation.hub_public_key;
    if (pinned[0] == '\0') {
        snprintf(err, errlen, "federation.hub_public_key is not set: pin the hub's key");
        return -1;
    }
    return ms_public_parse(pinned, strlen(pinned), pk, err, errlen);
}

/* A signed key statement, to keep (keep_statement, a writer_call). */
struct key_statement {
    const char *old64, *new64;
    long long created;
    const char *text, *sig;
};

static int keep_statement(struct db *db, void *ctx)
{
    const struct key_statement *ks = ctx;
    int rc = db_run(
        db,
        "INSERT INTO fed_key_statements (old_key, new_key, created_at, statement, "
        "signature) VALUES (:o, :n, :c, :s, :sig)",
        DB_ARGS(DB_TEXT(":o", ks->old64), DB_TEXT(":n", ks->new64), DB_INT(":c", ks->created),
                DB_BLOB(":s", ks->text, (int)strlen(ks->text)), DB_TEXT(":sig", ks->sig)));
    return rc == SQLITE_DONE ? 0 : -1;
}

int rotation_announce(struct node *n, struct db *db, const char *new_key_file, char *err,
                      size_t errlen)
{
    struct ms_secret *next = ms_secret_load(new_key_file, NULL, err, errlen);
    if (next == NULL)
        return -1;
    struct ms_public old_pk, new_pk;
    ms_secret_public(n->key, &old_pk);
    ms_secret_public(next, &new_pk);
    char old64[MS_PUBLIC_B64], new64[MS_PUBLIC_B64], oid[17], nid[17], trusted[128];
    ms_public_base64(&old_pk, old64);
    ms_public_base64(&new_pk, new64);
    ms_id_hex(old_pk.id, oid);
    ms_id_hex(new_pk.id, nid);
    long long now = (long long)time(NULL);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:I}", "format", "mes-key-rotation-1", "hub",
                            n->cfg.region.code, "old_key", old64, "new_key", new64, "created",
                            (json_int_t)now);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    snprintf(trusted, sizeof(trusted), "mes key rotation old=%s new=%s", oid, nid);
    char *sig = text ? ms_sign(n->key, text, strlen(text), "mes hub key rotation", trusted) : NULL;
    int rc = -1;
    if (sig == NULL || memcmp(old_pk.pk, new_pk.pk, 32) == 0) {
        snprintf(err, errlen, sig ? "the new key is the key in use" : "out of memory");
        goto out;
    }
    struct key_statement ks = {old64, new64, now, text, sig};
    if (writer_call(n->writer, db, keep_statement, &ks) != 0)
        goto db_error;
    /* The statement is kept: now the new key becomes the node's, through temporary names. */
    if (node_replace_key(n, next, err, errlen) != 0)
        goto out;
    rc = 0;
    goto out;
db_error:
    snprintf(err, errlen, "database: %s", db_errmsg(db));
out:
    ms_secret_free(next);
    free(text);
    free(sig);
    return rc;
}

/* A writer_call: the hub's key in force (base64 text in ctx) becomes the one followed. */
static int keep_hub_key(struct db *db, void *ctx)
{
    int rc = db_run(db,
                    "INSERT INTO fed_hub_key (id, public_key, followed_at) VALUES (1, :k, "
                    "unixepoch()) ON CONFLICT (id) DO UPDATE SET public_key = "
                    "excluded.public_key, followed_at = excluded.followed_at",
                    DB_ARGS(DB_TEXT(":k", (const char *)ctx)));
    return rc == SQLITE_DONE ? 0 : -1;
}

int rotation_follow(struct node *n, struct db *db, const unsigned char want_id[MS_ID_BYTES],
                    struct ms_public *pk, char *err, size_t errlen)
{
    char *text = fed_hub_get(n, "/federation/v1/key-rotations", 1 << 20, err, errlen);
    json_t *doc =
        text ? input_json_loadb(text, strlen(text), 0, INPUT_JSON_DEPTH_DOCUMENTS, NULL) : NULL;
    free(text);
    if (doc == NULL) {
        if (text != NULL || err[0] == '\0')
            snprintf(err, errlen, "the hub's key statements are not JSON");
        return -1;
    }
    struct ms_public at = *pk;
    bool moved = false;
    size_t i;
    json_t *x;
    int rc = -1;
    json_array_foreach(json_object_get(doc, "items"), i, x)
    {
        const char *stmt = json_string_value(json_object_get(x, "statement"));
        const char *sig = json_string_value(json_object_get(x, "signature"));
        if (stmt == NULL || sig == NULL)
            continue;
        json_t *s = input_json_loadb(stmt, strlen(stmt), 0, INPUT_JSON_DEPTH_DOCUMENTS, NULL);
        const char *old_key = json_string_value(json_object_get(s, "old_key"));
        const char *new_key = json_string_value(json_object_get(s, "new_key"));
        struct ms_public old_pk, new_pk;
        struct ms_sig parsed;
        char why[256];
        bool link = old_key && new_key &&
                    ms_public_parse(old_key, strlen(old_key), &old_pk, why, sizeof(why)) == 0 &&
                    memcmp(&old_pk, &at, sizeof(at)) == 0;
        if (link) {
            /* A statement from the key in force must verify with it: else it is a forgery. */
            if (ms_verify(&at, stmt, strlen(stmt), sig, strlen(sig), &parsed, why, sizeof(why)) !=
                    0 ||
                ms_public_parse(new_key, strlen(new_key), &new_pk, why, sizeof(why)) != 0) {
                snprintf(err, errlen, "a key statement of the hub does not verify: %s: refused",
                         why);
                json_decref(s);
                goto out;
            }
            at = new_pk;
            moved = true;
        }
        json_decref(s);
    }
    if (!moved || memcmp(at.id, want_id, MS_ID_BYTES) != 0) {
        char want[17], have[17];
        ms_id_hex(want_id, want);
        ms_id_hex(pk->id, have);
        snprintf(err, errlen,
                 "the channel is signed with key %s, not with the expected key %s, "
                 "and no statement of the hub leads from one to the other: refused",
                 want, have);
        goto out;
    }
    char b64[MS_PUBLIC_B64];
    ms_public_base64(&at, b64);
    /* The key followed is kept: through the node's writer when it serves. */
    if (writer_call(n->writer, db, keep_hub_key, b64) != 0) {
        snprintf(err, errlen, "database: cannot keep the hub's new key (logged)");
        goto out;
    }
    *pk = at;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* GET /federation/v1/key-rotations: the hub's key statements in order, each signed by the key
 * it replaces (public: they prove themselves). */
static int key_rotations(struct req *r)
{
    sqlite3_stmt *st =
        db_query(r->db, "SELECT statement, signature FROM fed_key_statements ORDER BY id", NULL);
    json_t *items = json_array();
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(
            items, json_pack("{s:s%,s:s}", "statement", (const char *)sqlite3_column_blob(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0), "signature", db_col_text(st, 1)));
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o}", "items", items));
}

const struct route rotation_routes[] = {
    {.method = "GET",
     .path = "/federation/v1/key-rotations",
     .handler = key_rotations,
     .access = ACCESS_PUBLIC,
     .name = "federation_key_rotations"},
    {0},
};
