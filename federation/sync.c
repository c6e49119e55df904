/*
 * Pulling the hub's library channel (see sync.h).
 */
#include "federation/sync.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "federation/auth.h"
#include "federation/rotation.h"
#include "files/files.h"
#include "lib/bundle.h"
#include "lib/input.h"
#include "node.h"

/* Where an answer goes: memory up to `max` bytes, or a file up to `max` bytes. */
struct sink {
    char *buf;
    size_t len, max;
    FILE *file;
    bool over;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t len = size * n;
    if (s->len + len > s->max) {
        s->over = true;
        return 0; /* aborts the transfer */
    }
    if (s->file != NULL) {
        if (fwrite(p, 1, len, s->file) != len)
            return 0;
    } else {
        char *more = realloc(s->buf, s->len + len + 1);
        if (more == NULL)
            return 0;
        s->buf = more;
        memcpy(s->buf + s->len, p, len);
        s->buf[s->len + len] = '\0';
    }
    s->len += len;
    return len;
}

/* A signed request of `uri` at the hub: a GET from byte `from` when > 0, or a POST of `body`
 * (JSON) when it is not NULL. The HTTP status, or -1 with err when the transfer failed (or the
 * answer exceeded the sink's limit). */
static long hub_request(CURL *curl, struct node *n, const char *uri, const char *body,
                        size_t body_len, const char *type, long long from, struct sink *s,
                        char *err, size_t errlen)
{
    char url[2400], region[64], when[64], sig[FED_SIG_B64 + 32], range[64];
    long long now = (long long)time(NULL);
    char sig64[FED_SIG_B64];
    fed_auth_sign(n->key, body ? "POST" : "GET", uri, body ? body : "", body ? body_len : 0, now,
                  sig64);
    snprintf(url, sizeof(url), "%s%s", n->cfg.federation.hub_url, uri);
    snprintf(region, sizeof(region), "X-Mes-Region: %s", n->cfg.region.code);
    snprintf(when, sizeof(when), "X-Mes-Time: %lld", now);
    snprintf(sig, sizeof(sig), "X-Mes-Signature: %s", sig64);
    snprintf(range, sizeof(range), "Range: bytes=%lld-", from);
    struct curl_slist *h = curl_slist_append(NULL, region);
    h = curl_slist_append(h, when);
    h = curl_slist_append(h, sig);
    if (from > 0)
        h = curl_slist_append(h, range);
    char ctype[160];
    snprintf(ctype, sizeof(ctype), "Content-Type: %s", type ? type : "application/json");
    if (body != NULL)
        h = curl_slist_append(h, ctype);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled transfer ends after 60 s */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    /* A hub behind a private CA: its certificates replace the system's store for the hub. */
    const char *ca = n->cfg.federation.ca_file;
    if (ca[0] != '\0')
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL); /* `detail` ends with this call */
    curl_slist_free_all(h);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        const char *why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
        if (s->over)
            snprintf(err, errlen, "%s: the hub sent more than the %zu bytes allowed: refused", url,
                     s->max);
        else if (rc == CURLE_PEER_FAILED_VERIFICATION && ca[0] == '\0')
            snprintf(err, errlen,
                     "%s: %s (checked against the system's CAs: a hub behind a private CA needs "
                     "federation.ca_file)",
                     url, why);
        else if (rc == CURLE_PEER_FAILED_VERIFICATION)
            snprintf(err, errlen, "%s: %s (checked against federation.ca_file %s)", url, why, ca);
        else
            snprintf(err, errlen, "%s: %s", url, why);
        return -1;
    }
    return status;
}

static long hub_get(CURL *curl, struct node *n, const char *uri, long long from, struct sink *s,
                    char *err, size_t errlen)
{
    return hub_request(curl, n, uri, NULL, 0, NULL, from, s, err, errlen);
}

long fed_hub_post(struct node *n, const char *uri, const char *type, const char *body, size_t len,
                  char **answer, char *err, size_t errlen)
{
    err[0] = '\0';
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct sink s = {.max = 1 << 16};
    long status = hub_request(curl, n, uri, body, len, type, 0, &s, err, errlen);
    if (status >= 300)
        snprintf(err, errlen, "%s%s: the hub answered %ld: %.300s", n->cfg.federation.hub_url, uri,
                 status, s.buf ? s.buf : "");
    if (answer != NULL && status > 0 && status < 300) {
        *answer = s.buf;
        s.buf = NULL;
    }
    free(s.buf);
    curl_easy_cleanup(curl);
    return status;
}

/* A GET whose answer must be 200, into memory of at most `max` bytes (malloc'ed, NUL-ended). */
static char *hub_get_mem(CURL *curl, struct node *n, const char *uri, size_t max, size_t *len,
                         char *err, size_t errlen)
{
    struct sink s = {.max = max};
    long status = hub_get(curl, n, uri, 0, &s, err, errlen);
    if (status != 200) {
        if (status > 0)
            snprintf(err, errlen, "%s%s: the hub answered %ld: %.300s", n->cfg.federation.hub_url,
                     uri, status, s.buf ? s.buf : "");
        free(s.buf);
        return NULL;
    }
    if (s.buf == NULL && (s.buf = calloc(1, 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *len = s.len;
    return s.buf;
}

/* Fetches blob `hex` of `size` bytes into DIR/incoming/HEX, resuming a .part left by an
 * earlier attempt, and checks its hash. Received bytes are added to *bytes. 0, or -1. */
static int fetch_blob(CURL *curl, struct node *n, const char *dir, const char *hex,
                      const unsigned char hash[32], long long size, long long *bytes, char *err,
                      size_t errlen)
{
    char done[4300], part[4310], uri[128];
    snprintf(done, sizeof(done), "%s/%s", dir, hex);
    snprintf(part, sizeof(part), "%s.part", done);
    snprintf(uri, sizeof(uri), "/federation/v1/blobs/%s", hex);
    struct stat st;
    if (stat(done, &st) != 0) {
        long long have = stat(part, &st) == 0 ? (long long)st.st_size : 0;
        if (have > size)
            have = 0;
        FILE *f = fopen(part, have > 0 && have < size ? "ab" : "wb");
        if (f == NULL) {
            snprintf(err, errlen, "%s: %s", part, strerror(errno));
            return -1;
        }
        if (have == size)
            have = 0; /* a whole .part never renamed: fetch again */
        struct sink s = {.file = f, .max = (size_t)(size - have)};
        long status =
            size - have > 0 || have == 0 ? hub_get(curl, n, uri, have, &s, err, errlen) : 200;
        if (status == 200 && have > 0) {
            /* The hub ignored the range: start over with the whole answer. */
            fclose(f);
            if ((f = fopen(part, "wb")) == NULL) {
                snprintf(err, errlen, "%s: %s", part, strerror(errno));
                return -1;
            }
            s = (struct sink){.file = f, .max = (size_t)size};
            status = hub_get(curl, n, uri, 0, &s, err, errlen);
        }
        int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
        fclose(f);
        if (status != 200 && status != 206) {
            if (status > 0)
                snprintf(err, errlen, "blob %s: the hub answered %ld", hex, status);
            if (status == 416)
                unlink(part);
            return -1;
        }
        *bytes += (long long)s.len;
        if (bad || rename(part, done) != 0) {
            snprintf(err, errlen, "%s: %s", done, strerror(errno));
            return -1;
        }
    }
    /* Check the whole file against its hash; a bad one is removed for the next attempt. */
    FILE *f = fopen(done, "rb");
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, 32);
    unsigned char buf[1 << 16], got[32];
    size_t k;
    long long total = 0;
    while (f != NULL && (k = fread(buf, 1, sizeof(buf), f)) > 0) {
        crypto_generichash_update(&hs, buf, k);
        total += (long long)k;
    }
    if (f != NULL)
        fclose(f);
    crypto_generichash_final(&hs, got, sizeof(got));
    if (f == NULL || total != size || sodium_memcmp(got, hash, 32) != 0) {
        unlink(done);
        snprintf(err, errlen,
                 "blob %s does not match its size or hash: refused (fetched again "
                 "next time)",
                 hex);
        return -1;
    }
    return 0;
}

/* Reads a fetched blob file and stores it in the database. */
static int store_fetched(struct db *db, const char *path, size_t size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(size ? size : 1);
    bool ok = f != NULL && buf != NULL && fread(buf, 1, size, f) == size;
    if (f != NULL)
        fclose(f);
    if (!ok) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read the fetched blob", path);
        return -1;
    }
    struct upload u = {0};
    upload_prepare(&u, buf, size);
    int64_t id = blob_put(db, &u);
    free(u.data);
    if (id == 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        return -1;
    }
    return 0;
}

int fed_pull_channel(struct node *n, struct db *db, struct sync_result *res, char *err,
                     size_t errlen)
{
    memset(res, 0, sizeof(*res));
    struct ms_public hub;
    if (n->cfg.federation.hub_url[0] == '\0') {
        snprintf(err, errlen, "federation.hub_url must be set");
        return -1;
    }
    if (hub_key_current(db, &n->cfg, &hub, err, errlen) != 0)
        return -1;
    CURL *curl = curl_easy_init();
    char *sigtext = NULL, *manifest = NULL;
    struct ms_sig *sig = malloc(sizeof(*sig));
    json_t *doc = NULL, *missing = json_array();
    int rc = -1;
    size_t siglen = 0, mlen = 0;
    char why[512], uri[160];
    if (curl == NULL || sig == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* 1. The signature, then the manifest of the version it names; both checked before
     * anything else is fetched. */
    sigtext = hub_get_mem(curl, n, "/federation/v1/channel/library/manifest.minisig",
                          MS_SIG_TEXT_MAX, &siglen, err, errlen);
    if (sigtext == NULL)
        goto out;
    if (ms_sig_parse(sigtext, siglen, sig, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "the channel's signature: %s", why);
        goto out;
    }
    const char *v = strstr(sig->trusted, " version=");
    long long version = v ? strtoll(v + 9, NULL, 10) : 0;
    if (version < 1) {
        snprintf(err, errlen, "the channel's signature names no version");
        goto out;
    }
    snprintf(uri, sizeof(uri), "/federation/v1/channel/library/manifest?version=%lld", version);
    manifest = hub_get_mem(curl, n, uri, BUNDLE_MANIFEST_MAX, &mlen, err, errlen);
    if (manifest == NULL)
        goto out;
    unsigned char h512[MS_HASH_BYTES], hash[32];
    crypto_generichash(h512, sizeof(h512), (unsigned char *)manifest, mlen, NULL, 0);
    /* Signed by a key this region does not know: the hub may have rotated its key; follow its
     * statements from the key in force, each checked, then check again. */
    if (memcmp(sig->id, hub.id, MS_ID_BYTES) != 0 &&
        rotation_follow(n, db, sig->id, &hub, err, errlen) != 0)
        goto out;
    if (ms_sig_check(&hub, sig, h512, manifest, mlen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "the channel's manifest: %s: refused", why);
        goto out;
    }
    json_error_t jerr;
    doc =
        input_json_loadb(manifest, mlen, JSON_REJECT_DUPLICATES, INPUT_JSON_DEPTH_DOCUMENTS, &jerr);
    if (!json_is_object(doc) || json_integer_value(json_object_get(doc, "version")) != version) {
        snprintf(err, errlen, "the channel's manifest is not the version its signature names");
        goto out;
    }
    if (bundle_claims_check(doc, err, errlen) != 0 ||
        channel_check(db, doc, manifest, mlen, &res->channel, hash, err, errlen) != 0)
        goto out;
    if (res->channel.already) {
        rc = 0;
        goto out;
    }
    /* 2. The blobs this region lacks, if the disk holds them. */
    long long need = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(doc, "blobs"), i, b)
    {
        unsigned char h[32];
        bundle_hash_parse(json_string_value(json_object_get(b, "hash")), h);
        if (blob_id(db, h) == 0) {
            json_array_append(missing, b);
            need += json_integer_value(json_object_get(b, "size"));
        }
    }
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/incoming", n->cfg.storage.data_dir);
    struct statvfs vfs;
    if ((mkdir(dir, 0750) != 0 && errno != EEXIST) || statvfs(dir, &vfs) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto out;
    }
    if ((unsigned long long)vfs.f_bavail * vfs.f_frsize <
        (unsigned long long)need * 2 + (64 << 20)) {
        snprintf(err, errlen,
                 "version %lld needs %lld bytes of blobs and the disk lacks room for "
                 "them: refused",
                 version, need);
        goto out;
    }
    json_array_foreach(missing, i, b)
    {
        const char *hex = json_string_value(json_object_get(b, "hash"));
        unsigned char h[32];
        bundle_hash_parse(hex, h);
        if (fetch_blob(curl, n, dir, hex, h, json_integer_value(json_object_get(b, "size")),
                       &res->fetched_bytes, err, errlen) != 0)
            goto out;
        res->fetched++;
    }
    /* 3. One transaction: the blobs, the items, the version held. */
    db_cache_mib(db, CHANNEL_CACHE_MIB);
    if (db_begin_collected(db, err, errlen) != 0)
        goto out;
    rc = 0;
    json_array_foreach(missing, i, b)
    {
        char path[4300];
        snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(json_object_get(b, "hash")));
        if ((rc = store_fetched(db, path, (size_t)json_integer_value(json_object_get(b, "size")),
                                err, errlen)) != 0)
            break;
    }
    if (rc == 0)
        rc = channel_apply(db, doc, hash, NULL, &res->channel, err, errlen);
    if (rc == 0 && db_commit(db) != SQLITE_OK) {
        snprintf(err, errlen, "database: %s", db_errmsg(db));
        rc = -1;
    }
    if (rc != 0) {
        db_rollback(db);
        char ignored[256]; /* logged; the refusal is what the caller hears */
        db_store_collect(db, ignored, sizeof(ignored));
        goto out;
    }
    json_array_foreach(missing, i, b)
    {
        char path[4300];
        snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(json_object_get(b, "hash")));
        unlink(path);
    }
out:
    if (curl != NULL)
        curl_easy_cleanup(curl);
    free(sigtext);
    free(manifest);
    free(sig);
    json_decref(doc);
    json_decref(missing);
    return rc;
}

char *fed_hub_get(struct node *n, const char *uri, size_t max, char *err, size_t errlen)
{
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t len = 0;
    char *out = hub_get_mem(curl, n, uri, max, &len, err, errlen);
    curl_easy_cleanup(curl);
    return out;
}
