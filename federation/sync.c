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

/* Reads a fetched (checked) blob file and stages it for the switch-over. */
static int stage_fetched(struct db *db, struct channel_stage *cs, const char *path,
                         const unsigned char hash[32], size_t size, char *err, size_t errlen)
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
    struct blob_packed *p = blob_pack(buf, size);
    int rc = channel_stage_blob(db, cs, hash, buf, size, p, err, errlen);
    blob_packed_free(p);
    free(buf);
    return rc;
}

/* A pull under way: the hub's manifest of the version its signature names, checked. */
struct pull {
    struct node *n;
    struct db *db;
    CURL *curl;
    struct ms_public hub;
    char *manifest;
    size_t mlen;
    json_t *doc, *missing;
    unsigned char hash[32];
    char dir[4200];
};

/* The signature, then the manifest of the version it names; both checked (following the hub's
 * key statements when another key signed it) before anything else is fetched, then
 * channel_check. 0, or -1 with err. */
static int pull_manifest(struct pull *p, struct sync_result *res, char *err, size_t errlen)
{
    size_t siglen = 0;
    char why[512], uri[160];
    int rc = -1;
    struct ms_sig *sig = malloc(sizeof(*sig));
    char *sigtext = hub_get_mem(p->curl, p->n, "/federation/v1/channel/library/manifest.minisig",
                                MS_SIG_TEXT_MAX, &siglen, err, errlen);
    if (sig == NULL || sigtext == NULL) {
        if (sig == NULL)
            snprintf(err, errlen, "out of memory");
        goto out;
    }
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
    p->manifest = hub_get_mem(p->curl, p->n, uri, BUNDLE_MANIFEST_MAX, &p->mlen, err, errlen);
    if (p->manifest == NULL)
        goto out;
    unsigned char h512[MS_HASH_BYTES];
    crypto_generichash(h512, sizeof(h512), (unsigned char *)p->manifest, p->mlen, NULL, 0);
    /* Signed by a key this region does not know: the hub may have rotated its key; follow its
     * statements from the key in force, each checked, then check again. */
    if (memcmp(sig->id, p->hub.id, MS_ID_BYTES) != 0 &&
        rotation_follow(p->n, p->db, sig->id, &p->hub, err, errlen) != 0)
        goto out;
    if (ms_sig_check(&p->hub, sig, h512, p->manifest, p->mlen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "the channel's manifest: %s: refused", why);
        goto out;
    }
    json_error_t jerr;
    p->doc = input_json_loadb(p->manifest, p->mlen, JSON_REJECT_DUPLICATES,
                              INPUT_JSON_DEPTH_DOCUMENTS, &jerr);
    if (!json_is_object(p->doc) ||
        json_integer_value(json_object_get(p->doc, "version")) != version) {
        snprintf(err, errlen, "the channel's manifest is not the version its signature names");
        goto out;
    }
    if (bundle_claims_check(p->doc, err, errlen) != 0 ||
        channel_check(p->db, p->doc, p->manifest, p->mlen, &res->channel, p->hash, err, errlen) !=
            0)
        goto out;
    rc = 0;
out:
    free(sigtext);
    free(sig);
    return rc;
}

/* The blobs this region lacks, fetched into DIR/incoming if the disk holds them (twice their
 * size: the files and the store). 0, or -1 with err. */
static int pull_blobs(struct pull *p, struct sync_result *res, char *err, size_t errlen)
{
    long long need = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(p->doc, "blobs"), i, b)
    {
        unsigned char h[32];
        bundle_hash_parse(json_string_value(json_object_get(b, "hash")), h);
        if (blob_id(p->db, h) == 0) {
            json_array_append(p->missing, b);
            need += json_integer_value(json_object_get(b, "size"));
        }
    }
    snprintf(p->dir, sizeof(p->dir), "%s/incoming", p->n->cfg.storage.data_dir);
    struct statvfs vfs;
    if ((mkdir(p->dir, 0750) != 0 && errno != EEXIST) || statvfs(p->dir, &vfs) != 0) {
        snprintf(err, errlen, "%s: %s", p->dir, strerror(errno));
        return -1;
    }
    if ((unsigned long long)vfs.f_bavail * vfs.f_frsize <
        (unsigned long long)need * 2 + (64 << 20)) {
        snprintf(err, errlen,
                 "version %lld needs %lld bytes of blobs and the disk lacks room for "
                 "them: refused",
                 (long long)res->channel.version, need);
        return -1;
    }
    json_array_foreach(p->missing, i, b)
    {
        const char *hex = json_string_value(json_object_get(b, "hash"));
        unsigned char h[32];
        bundle_hash_parse(hex, h);
        if (fetch_blob(p->curl, p->n, p->dir, hex, h,
                       json_integer_value(json_object_get(b, "size")), &res->fetched_bytes, err,
                       errlen) != 0)
            return -1;
        res->fetched++;
    }
    return 0;
}

/* The fetched blobs staged, then the switch-over through the node's writer (serve) or short
 * transactions of the pull's own (a command); the fetched files go once it is done. 0, or -1
 * with err. */
static int pull_apply(struct pull *p, struct channel_stage *cs, struct sync_result *res, char *err,
                      size_t errlen)
{
    size_t i;
    json_t *b;
    char path[4300];
    json_array_foreach(p->missing, i, b)
    {
        const char *hex = json_string_value(json_object_get(b, "hash"));
        unsigned char h[32];
        snprintf(path, sizeof(path), "%s/%s", p->dir, hex);
        if (bundle_hash_parse(hex, h) != 0 ||
            stage_fetched(p->db, cs, path, h,
                          (size_t)json_integer_value(json_object_get(b, "size")), err, errlen) != 0)
            return -1;
    }
    if (channel_switch(p->db, p->n->writer, cs, p->doc, p->hash, &res->channel, err, errlen) != 0)
        return -1;
    json_array_foreach(p->missing, i, b)
    {
        snprintf(path, sizeof(path), "%s/%s", p->dir,
                 json_string_value(json_object_get(b, "hash")));
        unlink(path);
    }
    return 0;
}

int fed_pull_channel(struct node *n, struct db *db, struct sync_result *res, char *err,
                     size_t errlen)
{
    memset(res, 0, sizeof(*res));
    if (n->cfg.federation.hub_url[0] == '\0') {
        snprintf(err, errlen, "federation.hub_url must be set");
        return -1;
    }
    struct pull p = {.n = n, .db = db, .missing = json_array()};
    struct channel_stage cs;
    int rc = -1;
    if (hub_key_current(db, &n->cfg, &p.hub, err, errlen) != 0) {
        json_decref(p.missing);
        return -1;
    }
    /* One import at a time: the version held is checked and changed under the stage's lock. */
    if (channel_stage_begin(db, &cs, err, errlen) != 0) {
        json_decref(p.missing);
        return -1;
    }
    if ((p.curl = curl_easy_init()) == NULL)
        snprintf(err, errlen, "out of memory");
    else if (pull_manifest(&p, res, err, errlen) == 0)
        rc = res->channel.already                    ? 0
             : pull_blobs(&p, res, err, errlen) == 0 ? pull_apply(&p, &cs, res, err, errlen)
                                                     : -1;
    channel_stage_end(db, &cs);
    if (p.curl != NULL)
        curl_easy_cleanup(p.curl);
    free(p.manifest);
    json_decref(p.doc);
    json_decref(p.missing);
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
