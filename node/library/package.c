/*
 * Offline packages of library items: a set of items with their files as one signed bundle
 * (lib/bundle.h) that a teacher downloads and `mesnode bundle open` checks and unpacks
 * on another machine, for a school without a line (docs/library.md, "Offline packages").
 *
 * The manifest: {"format": "mes-library-1", "kind": "package", "origin": region code,
 * "region": its name, "created": unix time, "items": [...], "blobs": [{"hash", "size"}]}; each
 * item carries its metadata, its files by name and blob hash and, for a test, its questions
 * without their answers (a package goes to people; tests are scored on a node).
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files/files.h"
#include "lib/bundle.h"
#include "library/library.h"
#include "node.h"

enum { PACKAGE_ITEMS_MAX = 100 };
#define PACKAGE_BYTES_MAX (256u << 20)

/* Parses "1,2,3" into distinct ids; the count, or -1. */
static int parse_ids(const char *list, int64_t *ids, int max)
{
    int n = 0;
    const char *p = list;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno != 0 || v <= 0 || n == max || (*end != ',' && *end != '\0'))
            return -1;
        for (int i = 0; i < n; i++)
            if (ids[i] == v)
                return -1;
        ids[n++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && *p == '\0')
            return -1;
    }
    return n;
}

/* Writes the signed bundle of `manifest` (its trusted comment `trusted`) with the blobs of
 * `blob_ids` (hex hash -> blob id), each checked against its hash as it is read, into *body
 * (malloc'ed, *len bytes; the caller frees it, also on failure). 0, or -1 (logged by the store
 * when a blob is damaged). */
static int package_write(struct req *r, const char *manifest, const char *trusted, json_t *blob_ids,
                         char **body, size_t *len)
{
    FILE *mem = open_memstream(body, len);
    char err[256];
    struct bundle_writer *w = mem ? bundle_writer_open(mem, 6, r->node->key, manifest,
                                                       strlen(manifest), trusted, err, sizeof(err))
                                  : NULL;
    bool ok = w != NULL;
    const char *hex;
    json_t *id;
    json_object_foreach(blob_ids, hex, id)
    {
        if (!ok)
            break;
        unsigned char hash[32];
        size_t size;
        int why;
        bool packed = false;
        unsigned char *data = blob_load(r->db, json_integer_value(id), hash, &size, &why, &packed);
        ok = data != NULL && bundle_writer_blob(w, hash, data, size, packed, err, sizeof(err)) == 0;
        free(data);
    }
    if (w != NULL && bundle_writer_close(w, err, sizeof(err)) != 0)
        ok = false;
    if (mem != NULL)
        fclose(mem);
    return ok ? 0 : -1;
}

/* GET /api/v1/library/package?items=1,2,3: the items (each one the caller may see) as one
 * signed bundle, checked with the region's public key (GET /federation/v1/key). */
int library_package(struct req *r)
{
    char list[2048];
    int64_t ids[PACKAGE_ITEMS_MAX];
    int n = req_query(r, "items", list, sizeof(list)) > 0 ? parse_ids(list, ids, PACKAGE_ITEMS_MAX)
                                                          : -1;
    if (n <= 0)
        return reply_error(r, 400, "bad_request",
                           "items must list 1-%d distinct item ids, separated by commas",
                           PACKAGE_ITEMS_MAX);
    for (int i = 0; i < n; i++)
        if (library_item_visible_or_respond(r, ids[i]) != 0)
            return r->status;
    if (r->node->key == NULL)
        return reply_error(r, 503, "unavailable", "the node has no signing key");
    json_t *items = json_array(), *blobs = json_object(), *blob_ids = json_object();
    char *manifest = NULL, *body = NULL;
    size_t body_len = 0;
    int rc;
    for (int i = 0; i < n; i++)
        if (library_item_export(r->db, ids[i], false, items, blobs, blob_ids) != 0) {
            rc = reply_db_error(r);
            goto out;
        }
    json_t *list_of_blobs = json_array(), *b;
    const char *hex;
    uint64_t total = 0;
    json_object_foreach(blobs, hex, b)
    {
        json_array_append(list_of_blobs, b);
        total += (uint64_t)json_integer_value(json_object_get(b, "size"));
    }
    const struct mes_config *cfg = &r->node->cfg;
    json_t *doc =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:O,s:o}", "format", "mes-library-1", "kind", "package",
                  "origin", cfg->region.code, "region", cfg->region.name, "created",
                  (json_int_t)time(NULL), "items", items, "blobs", list_of_blobs);
    manifest = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (total > PACKAGE_BYTES_MAX) {
        rc = reply_error(r, 413, "too_large", "the items' files exceed %u MiB: take fewer items",
                         PACKAGE_BYTES_MAX >> 20);
        goto out;
    }
    char trusted[256];
    snprintf(trusted, sizeof(trusted), "mes library package origin=%s items=%d created=%lld",
             cfg->region.code, n, (long long)time(NULL));
    if (manifest == NULL) {
        rc = reply_error(r, 503, "unavailable", "out of memory");
        goto out;
    }
    bool ok = package_write(r, manifest, trusted, blob_ids, &body, &body_len) == 0;
    if (!ok) {
        rc = reply_error(r, 500, "internal", "the package could not be made");
        goto out;
    }
    reply_header(r, "Content-Disposition", "attachment; filename=\"library-%s-%d-items.mesb\"",
                 cfg->region.code, n);
    rc = reply_raw(r, 200, "application/vnd.mes.bundle", body, body_len, true);
    body = NULL; /* reply_raw took it */
out:
    json_decref(items);
    json_decref(blobs);
    json_decref(blob_ids);
    free(manifest);
    free(body);
    return rc;
}

/* ---- opening a package (`mesnode bundle open`) ---- */

struct opening {
    const char *dir; /* the temporary directory, renamed to the target at the end */
    json_t *manifest;
};

/* A package's items: each with a safe uid and title, files with safe, distinct names whose
 * hashes the manifest's blob list names. */
static int package_check(void *ctx, json_t *m, const struct ms_sig *sig, const char *raw,
                         size_t raw_len, char *err, size_t errlen)
{
    (void)sig;
    (void)raw;
    (void)raw_len;
    json_t *items = json_object_get(m, "items"), *blobs = json_object_get(m, "blobs");
    if (!json_is_string(json_object_get(m, "format")) ||
        strcmp(json_string_value(json_object_get(m, "format")), "mes-library-1") != 0 ||
        !json_is_string(json_object_get(m, "kind")) ||
        strcmp(json_string_value(json_object_get(m, "kind")), "package") != 0 ||
        !json_is_array(items) || json_array_size(items) == 0) {
        snprintf(err, errlen, "not a library package (format, kind or items)");
        return -1;
    }
    json_t *named = json_object(), *uids = json_object();
    size_t i;
    json_t *b, *it;
    json_array_foreach(blobs, i, b)
        json_object_set(named, json_string_value(json_object_get(b, "hash")), b);
    int rc = 0;
    json_array_foreach(items, i, it)
    {
        const char *uid = json_string_value(json_object_get(it, "uid"));
        json_t *files = json_object_get(it, "files"), *f;
        if (!library_uid_ok(uid) || json_object_get(uids, uid) ||
            !json_is_string(json_object_get(it, "title")) || !json_is_array(files)) {
            snprintf(err, errlen, "item %zu: a unique uid, a title and files are needed", i);
            rc = -1;
            break;
        }
        json_object_set_new(uids, uid, json_true());
        json_t *names = json_object();
        size_t j;
        json_array_foreach(files, j, f)
        {
            const char *name = json_string_value(json_object_get(f, "name"));
            const char *hash = json_string_value(json_object_get(f, "hash"));
            if (name == NULL || !file_name_ok(name) || json_object_get(names, name) ||
                strcmp(name, "item.json") == 0 || hash == NULL || !json_object_get(named, hash)) {
                snprintf(err, errlen,
                         "item %s: file %zu has a bad or repeated name or an "
                         "unknown blob",
                         uid, j);
                rc = -1;
                break;
            }
            json_object_set_new(names, name, json_true());
        }
        json_decref(names);
        if (rc)
            break;
    }
    json_decref(named);
    json_decref(uids);
    if (rc == 0)
        ((struct opening *)ctx)->manifest = json_incref(m);
    return rc;
}

static int package_blob(void *ctx, const unsigned char hash[32], const unsigned char *data,
                        size_t len, void *prepared, char *err, size_t errlen)
{
    (void)prepared;
    const struct opening *o = ctx;
    char hex[65], path[4200];
    sodium_bin2hex(hex, sizeof(hex), hash, 32);
    snprintf(path, sizeof(path), "%s/blobs/%s", o->dir, hex);
    FILE *f = fopen(path, "wbx");
    bool ok = f != NULL && fwrite(data, 1, len, f) == len;
    if (f != NULL && fclose(f) != 0)
        ok = false;
    if (!ok)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* The path of a file inside the package as a URL path segment (percent-encoded). */
static void html_href(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (isalnum(*p) || strchr("-_.~", *p))
            fputc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
}

/* index.html: every item with its metadata, text, files and questions, to read offline. */
static int write_index(const char *dir, json_t *m)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/index.html", dir);
    FILE *f = fopen(path, "wx");
    if (f == NULL)
        return -1;
    fputs("<!doctype html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
          "<title>Библиотека МЭШ</title></head><body>\n<h1>Библиотека МЭШ: ",
          f);
    html_text(f, json_string_value(json_object_get(m, "region")));
    fputs("</h1>\n", f);
    size_t i, j;
    json_t *it, *x;
    json_array_foreach(json_object_get(m, "items"), i, it)
    {
        const char *uid = json_string_value(json_object_get(it, "uid"));
        fputs("<section>\n<h2>", f);
        html_text(f, json_string_value(json_object_get(it, "title")));
        fputs("</h2>\n<p>", f);
        html_text(f, json_string_value(json_object_get(it, "subject")));
        fputs(" · ", f);
        html_text(f, json_string_value(json_object_get(it, "authors")));
        fputs(" · ", f);
        html_text(f, json_string_value(json_object_get(it, "licence")));
        fputs("</p>\n<p>", f);
        html_text(f, json_string_value(json_object_get(it, "description")));
        fputs("</p>\n<pre>", f);
        html_text(f, json_string_value(json_object_get(it, "body")));
        fputs("</pre>\n<ul>\n", f);
        json_array_foreach(json_object_get(it, "files"), j, x)
        {
            fputs("<li><a href=\"", f);
            html_href(f, uid);
            fputc('/', f);
            html_href(f, json_string_value(json_object_get(x, "name")));
            fputs("\">", f);
            html_text(f, json_string_value(json_object_get(x, "name")));
            fputs("</a></li>\n", f);
        }
        fputs("</ul>\n<ol>\n", f);
        json_array_foreach(json_object_get(it, "questions"), j, x)
        {
            fputs("<li>", f);
            html_text(f, json_string_value(json_object_get(x, "prompt")));
            size_t k;
            json_t *opt;
            fputs("<ul>", f);
            json_array_foreach(json_object_get(x, "options"), k, opt)
            {
                fputs("<li>", f);
                html_text(f, json_string_value(opt));
                fputs("</li>", f);
            }
            fputs("</ul>", f);
            if (json_array_size(json_object_get(x, "matches")) > 0) {
                fputs("<ul>", f); /* a matching question's right-hand items */
                json_array_foreach(json_object_get(x, "matches"), k, opt)
                {
                    fputs("<li>", f);
                    html_text(f, json_string_value(opt));
                    fputs("</li>", f);
                }
                fputs("</ul>", f);
            }
            fputs("</li>\n", f);
        }
        fputs("</ol>\n</section>\n", f);
    }
    fputs("</body></html>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Lays the checked package out: one folder per item uid holding its files (hard links to the
 * blobs, so a file used twice is stored once), item.json, manifest.json and index.html. */
static int lay_out(const char *dir, json_t *m, char *err, size_t errlen)
{
    char path[4200], blob[4200];
    size_t i, j;
    json_t *it, *f;
    json_array_foreach(json_object_get(m, "blobs"), i, f)
    {
        snprintf(blob, sizeof(blob), "%s/blobs/%s", dir,
                 json_string_value(json_object_get(f, "hash")));
        if (access(blob, F_OK) != 0) {
            snprintf(err, errlen, "the package lacks a blob its manifest names");
            return -1;
        }
    }
    json_array_foreach(json_object_get(m, "items"), i, it)
    {
        const char *uid = json_string_value(json_object_get(it, "uid"));
        snprintf(path, sizeof(path), "%s/%s", dir, uid);
        if (mkdir(path, 0755) != 0)
            goto fail;
        json_array_foreach(json_object_get(it, "files"), j, f)
        {
            snprintf(path, sizeof(path), "%s/%s/%s", dir, uid,
                     json_string_value(json_object_get(f, "name")));
            snprintf(blob, sizeof(blob), "%s/blobs/%s", dir,
                     json_string_value(json_object_get(f, "hash")));
            if (link(blob, path) != 0)
                goto fail;
        }
        snprintf(path, sizeof(path), "%s/%s/item.json", dir, uid);
        if (json_dump_file(it, path, JSON_INDENT(2)) != 0)
            goto fail;
    }
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (json_dump_file(m, path, JSON_INDENT(2)) != 0 || write_index(dir, m) != 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
}

int library_package_open(const char *path, const struct ms_public *pk, const char *outdir,
                         char *err, size_t errlen)
{
    struct stat st;
    if (stat(outdir, &st) == 0) {
        snprintf(err, errlen, "%s already exists", outdir);
        return -1;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.part-XXXXXX", outdir) >= (int)sizeof(tmp) - 8 ||
        mkdtemp(tmp) == NULL) {
        snprintf(err, errlen, "%s: cannot create: %s", outdir, strerror(errno));
        return -1;
    }
    FILE *in = fopen(path, "rb");
    struct opening o = {.dir = tmp};
    struct bundle_ops ops = {.manifest = package_check, .blob = package_blob};
    char blobs[4200];
    snprintf(blobs, sizeof(blobs), "%s/blobs", tmp);
    int rc = -1;
    if (in == NULL)
        snprintf(err, errlen, "%s", strerror(errno));
    else if (mkdir(blobs, 0755) != 0)
        snprintf(err, errlen, "%s: %s", blobs, strerror(errno));
    else if (bundle_read(in, pk, &ops, &o, NULL, err, errlen) == 0 &&
             lay_out(tmp, o.manifest, err, errlen) == 0) {
        rc = rename(tmp, outdir);
        if (rc != 0)
            snprintf(err, errlen, "%s: %s", outdir, strerror(errno));
    }
    if (in != NULL)
        fclose(in);
    json_decref(o.manifest);
    if (rc != 0)
        nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
