/*
 * The bundle container (see bundle.h): a zstd stream written with ZSTD_compressStream2 and read
 * with a bounded ZSTD_decompressStream. The reader holds the manifest, one blob at a time and
 * a sorted table of the manifest's blob claims; its memory is bounded by those claims.
 */
#include "federation/bundle.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

enum { WINDOW_LOG_MAX = 27 };

static const unsigned char zero_hash[32];
/* A zstd skippable frame (RFC 8878 section 3.1.2) holds the signature of the file before it. */
#define SIG_FRAME_MAGIC 0x184D2A5Du
/* Its untrusted comment is fixed, so that no byte of a bundle is left unchecked. */
#define SIG_FRAME_COMMENT "signature of a bundle"
#define SIG_FRAME_PREFIX  "untrusted comment: " SIG_FRAME_COMMENT "\n"

int bundle_hash_parse(const char *hex, unsigned char out[32])
{
    size_t got = 0;
    const char *end = NULL;
    if (hex == NULL || strlen(hex) != 64 ||
        sodium_hex2bin(out, 32, hex, 64, NULL, &got, &end) != 0 || got != 32)
        return -1;
    return 0;
}

static void le_store(unsigned char *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le_load(const unsigned char *in, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | in[i];
    return v;
}

/* ---- writing ---- */

struct bundle_writer {
    FILE *out;
    ZSTD_CCtx *cctx;
    unsigned char *buf;
    size_t cap;
    const struct ms_secret *sk;
    crypto_generichash_state file_hash; /* of every byte written */
};

static int put(struct bundle_writer *w, const void *data, size_t len, char *err, size_t errlen)
{
    if (len && fwrite(data, 1, len, w->out) != len) {
        snprintf(err, errlen, "cannot write the bundle");
        return -1;
    }
    crypto_generichash_update(&w->file_hash, data, len);
    return 0;
}

/* Compresses `len` bytes into the output (mode: ZSTD_e_continue or ZSTD_e_end). */
static int zwrite(struct bundle_writer *w, const void *data, size_t len, ZSTD_EndDirective mode,
                  char *err, size_t errlen)
{
    ZSTD_inBuffer in = {data, len, 0};
    for (;;) {
        ZSTD_outBuffer o = {w->buf, w->cap, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &o, &in, mode);
        if (ZSTD_isError(left)) {
            snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(left));
            return -1;
        }
        if (put(w, w->buf, o.pos, err, errlen) != 0)
            return -1;
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

struct bundle_writer *bundle_writer_open(FILE *out, int level, const struct ms_secret *sk,
                                         const char *manifest, size_t manifest_len,
                                         const char *trusted, char *err, size_t errlen)
{
    char *sig = NULL;
    size_t sig_len = 0;
    struct bundle_writer *w = NULL;
    if (manifest_len > BUNDLE_MANIFEST_MAX) {
        snprintf(err, errlen, "the manifest is too large for a bundle");
        return NULL;
    }
    sig = ms_sign(sk, manifest, manifest_len, "signature of a bundle's manifest", trusted);
    if (sig == NULL || (sig_len = strlen(sig)) > MS_SIG_TEXT_MAX) {
        snprintf(err, errlen, "cannot sign the manifest (memory, or a bad trusted comment)");
        goto fail;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL || (w->cctx = ZSTD_createCCtx()) == NULL ||
        (w->buf = malloc(w->cap = ZSTD_CStreamOutSize())) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    w->out = out;
    w->sk = sk;
    crypto_generichash_init(&w->file_hash, NULL, 0, MS_HASH_BYTES);
    /* Levels above 19 would want windows beyond what readers allow. */
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level > 19 ? 19 : level);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    /* Compression in a worker thread beside the one that reads and hashes, as `tar | zstd`
     * runs in two processes (ignored by a libzstd built without threads). */
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, 1);
    unsigned char len[4];
    if (zwrite(w, BUNDLE_MAGIC, 8, ZSTD_e_continue, err, errlen) != 0)
        goto fail;
    le_store(len, manifest_len, 4);
    if (zwrite(w, len, 4, ZSTD_e_continue, err, errlen) != 0 ||
        zwrite(w, manifest, manifest_len, ZSTD_e_continue, err, errlen) != 0)
        goto fail;
    le_store(len, sig_len, 4);
    if (zwrite(w, len, 4, ZSTD_e_continue, err, errlen) != 0 ||
        zwrite(w, sig, sig_len, ZSTD_e_continue, err, errlen) != 0)
        goto fail;
    free(sig);
    return w;
fail:
    free(sig);
    if (w) {
        ZSTD_freeCCtx(w->cctx);
        free(w->buf);
        free(w);
    }
    return NULL;
}

int bundle_writer_blob(struct bundle_writer *w, const unsigned char hash[32], const void *data,
                       size_t len, char *err, size_t errlen)
{
    unsigned char head[40];
    memcpy(head, hash, 32);
    le_store(head + 32, len, 8);
    if (zwrite(w, head, sizeof(head), ZSTD_e_continue, err, errlen) != 0)
        return -1;
    return zwrite(w, data, len, ZSTD_e_continue, err, errlen);
}

int bundle_writer_close(struct bundle_writer *w, char *err, size_t errlen)
{
    unsigned char end[40] = {0}, hash[MS_HASH_BYTES], head[8];
    int rc = zwrite(w, end, sizeof(end), ZSTD_e_end, err, errlen);
    char *sig = NULL;
    if (rc == 0) {
        /* The signature of every byte before it, in a skippable frame that zstd ignores. */
        crypto_generichash_final(&w->file_hash, hash, sizeof(hash));
        sig = ms_sign_hash(w->sk, hash, SIG_FRAME_COMMENT, "mes bundle");
        if (sig == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else {
            le_store(head, SIG_FRAME_MAGIC, 4);
            le_store(head + 4, strlen(sig), 4);
            rc = put(w, head, 8, err, errlen) || put(w, sig, strlen(sig), err, errlen) ? -1 : 0;
            free(sig);
        }
    }
    if (rc == 0 && fflush(w->out) != 0) {
        snprintf(err, errlen, "cannot write the bundle");
        rc = -1;
    }
    ZSTD_freeCCtx(w->cctx);
    free(w->buf);
    free(w);
    return rc;
}

/* ---- reading ---- */

struct zin {
    FILE *f;
    ZSTD_DCtx *dctx;
    unsigned char *ibuf, *obuf;
    size_t icap, ocap;
    ZSTD_inBuffer in;
    size_t opos, olen;  /* decompressed bytes not yet taken: obuf[opos..olen) */
    size_t frame_state; /* last ZSTD_decompressStream result: 0 at a frame's end */
    bool eof;
    crypto_generichash_state file_hash; /* of the input the decompressor consumed */
};

/* Decompresses more into obuf; 1 when bytes came, 0 at the end of input, -1 on error. */
static int zfill(struct zin *z, char *err, size_t errlen)
{
    for (;;) {
        if (z->in.pos == z->in.size && !z->eof) {
            z->in.size = fread(z->ibuf, 1, z->icap, z->f);
            z->in.pos = 0;
            if (z->in.size == 0) {
                if (ferror(z->f)) {
                    snprintf(err, errlen, "cannot read the bundle");
                    return -1;
                }
                z->eof = true;
            }
        }
        if (z->in.pos == z->in.size && z->eof && z->frame_state == 0)
            return 0;
        ZSTD_outBuffer o = {z->obuf, z->ocap, 0};
        size_t pos0 = z->in.pos;
        size_t rc = ZSTD_decompressStream(z->dctx, &o, &z->in);
        crypto_generichash_update(&z->file_hash, z->ibuf + pos0, z->in.pos - pos0);
        if (ZSTD_isError(rc)) {
            snprintf(err, errlen, "not a bundle or damaged: zstd: %s", ZSTD_getErrorName(rc));
            return -1;
        }
        z->frame_state = rc;
        if (o.pos > 0) {
            z->opos = 0;
            z->olen = o.pos;
            return 1;
        }
        if (z->in.pos == z->in.size && z->eof) {
            snprintf(err, errlen, "the bundle is truncated");
            return -1;
        }
    }
}

/* Takes exactly n decompressed bytes; -1 with err when the stream ends first. */
static int zread(struct zin *z, void *out, size_t n, char *err, size_t errlen)
{
    unsigned char *p = out;
    while (n > 0) {
        if (z->opos == z->olen) {
            int rc = zfill(z, err, errlen);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                snprintf(err, errlen, "the bundle is truncated");
                return -1;
            }
        }
        size_t take = z->olen - z->opos < n ? z->olen - z->opos : n;
        memcpy(p, z->obuf + z->opos, take);
        z->opos += take;
        p += take;
        n -= take;
    }
    return 0;
}

/* Takes exactly n raw (compressed) bytes after the decompressor's part; -1 when the file ends
 * first. */
static int raw_read(struct zin *z, void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        if (z->in.pos == z->in.size) {
            z->in.size = fread(z->ibuf, 1, z->icap, z->f);
            z->in.pos = 0;
            if (z->in.size == 0)
                return -1;
        }
        size_t take = z->in.size - z->in.pos < n ? z->in.size - z->in.pos : n;
        memcpy(p, z->ibuf + z->in.pos, take);
        z->in.pos += take;
        p += take;
        n -= take;
    }
    return 0;
}

/* The content must end here: no decompressed byte left, the last frame complete; then the
 * signature frame over every byte before it, then the end of the file. */
static int zend(struct zin *z, const struct ms_public *pk, char *err, size_t errlen)
{
    if (z->opos != z->olen) {
        snprintf(err, errlen, "bytes after the end of the bundle");
        return -1;
    }
    while (z->frame_state != 0) { /* the frame's checksum may still be unread */
        if (z->in.pos == z->in.size) {
            z->in.size = fread(z->ibuf, 1, z->icap, z->f);
            z->in.pos = 0;
            if (z->in.size == 0) {
                snprintf(err, errlen, "the bundle is truncated");
                return -1;
            }
        }
        ZSTD_outBuffer o = {z->obuf, z->ocap, 0};
        size_t pos0 = z->in.pos;
        size_t rc = ZSTD_decompressStream(z->dctx, &o, &z->in);
        crypto_generichash_update(&z->file_hash, z->ibuf + pos0, z->in.pos - pos0);
        if (ZSTD_isError(rc) || o.pos > 0) {
            snprintf(err, errlen,
                     ZSTD_isError(rc) ? "the bundle is damaged"
                                      : "bytes after the end of the bundle");
            return -1;
        }
        z->frame_state = rc;
    }
    unsigned char head[8], hash[MS_HASH_BYTES], extra;
    if (raw_read(z, head, 8) != 0 || le_load(head, 4) != SIG_FRAME_MAGIC) {
        snprintf(err, errlen, "the bundle's signature is missing (truncated or not a bundle)");
        return -1;
    }
    uint64_t slen = le_load(head + 4, 4);
    char *sigtext = slen > 0 && slen <= MS_SIG_TEXT_MAX ? malloc(slen) : NULL;
    struct ms_sig *sig = malloc(sizeof(*sig));
    int rc = -1;
    char why[256];
    if (sigtext == NULL || sig == NULL || raw_read(z, sigtext, slen) != 0 ||
        slen < sizeof(SIG_FRAME_PREFIX) ||
        memcmp(sigtext, SIG_FRAME_PREFIX, sizeof(SIG_FRAME_PREFIX) - 1) != 0)
        snprintf(err, errlen, "the bundle's signature is malformed or truncated");
    else if (raw_read(z, &extra, 1) == 0 || ferror(z->f))
        snprintf(err, errlen, "bytes after the bundle's signature");
    else if (crypto_generichash_final(&z->file_hash, hash, sizeof(hash)),
             ms_sig_parse(sigtext, slen, sig, why, sizeof(why)) != 0 || !sig->prehashed ||
                 ms_sig_check(pk, sig, hash, NULL, 0, why, sizeof(why)) != 0)
        snprintf(err, errlen, "the bundle's signature: %s",
                 sig->prehashed ? why : "not a prehashed signature");
    else
        rc = 0;
    free(sigtext);
    free(sig);
    return rc;
}

struct claim {
    unsigned char hash[32];
    uint64_t size;
    bool seen;
};

static int claim_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Validates the manifest's "blobs" list into a sorted table of claims. */
static struct claim *claims_parse(json_t *manifest, size_t *count, char *err, size_t errlen)
{
    json_t *blobs = json_object_get(manifest, "blobs");
    if (!json_is_array(blobs) || json_array_size(blobs) > BUNDLE_BLOBS_MAX) {
        snprintf(err, errlen, "manifest: \"blobs\" must be a list of at most %d", BUNDLE_BLOBS_MAX);
        return NULL;
    }
    size_t n = json_array_size(blobs);
    struct claim *c = calloc(n ? n : 1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(blobs, i), *size = json_object_get(b, "size");
        if (bundle_hash_parse(json_string_value(json_object_get(b, "hash")), c[i].hash) != 0 ||
            !json_is_integer(size) || json_integer_value(size) < 0 ||
            json_integer_value(size) > (json_int_t)BUNDLE_BLOB_MAX || json_object_size(b) != 2) {
            snprintf(err, errlen,
                     "manifest: blob %zu needs a 64-digit \"hash\" and a \"size\" of "
                     "at most %u bytes",
                     i, BUNDLE_BLOB_MAX);
            free(c);
            return NULL;
        }
        c[i].size = (uint64_t)json_integer_value(size);
    }
    qsort(c, n, sizeof(*c), claim_cmp);
    for (size_t i = 1; i < n; i++)
        if (memcmp(c[i - 1].hash, c[i].hash, 32) == 0) {
            snprintf(err, errlen, "manifest: a blob is named twice");
            free(c);
            return NULL;
        }
    *count = n;
    return c;
}

int bundle_read(FILE *in, const struct ms_public *pk, const struct bundle_ops *ops, void *ctx,
                long *carried, char *err, size_t errlen)
{
    struct zin z = {.f = in};
    char *manifest = NULL, *sigtext = NULL;
    unsigned char *blob = NULL;
    struct ms_sig *sig = NULL;
    struct claim *claims = NULL;
    json_t *doc = NULL;
    size_t nclaims = 0;
    long count = 0;
    int rc = -1;
    z.dctx = ZSTD_createDCtx();
    z.ibuf = malloc(z.icap = ZSTD_DStreamInSize());
    z.obuf = malloc(z.ocap = ZSTD_DStreamOutSize());
    sig = malloc(sizeof(*sig));
    if (z.dctx == NULL || z.ibuf == NULL || z.obuf == NULL || sig == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ZSTD_DCtx_setParameter(z.dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
    z.in.src = z.ibuf;
    crypto_generichash_init(&z.file_hash, NULL, 0, MS_HASH_BYTES);

    unsigned char head[12];
    if (zread(&z, head, sizeof(head), err, errlen) != 0)
        goto out;
    uint64_t mlen = le_load(head + 8, 4);
    if (memcmp(head, BUNDLE_MAGIC, 8) != 0) {
        snprintf(err, errlen, "not a bundle (wrong magic)");
        goto out;
    }
    if (mlen == 0 || mlen > BUNDLE_MANIFEST_MAX) {
        snprintf(err, errlen, "the manifest claims %llu bytes (at most %u)",
                 (unsigned long long)mlen, BUNDLE_MANIFEST_MAX);
        goto out;
    }
    if ((manifest = malloc(mlen)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    unsigned char slen_le[4];
    if (zread(&z, manifest, mlen, err, errlen) != 0 || zread(&z, slen_le, 4, err, errlen) != 0)
        goto out;
    uint64_t slen = le_load(slen_le, 4);
    if (slen == 0 || slen > MS_SIG_TEXT_MAX) {
        snprintf(err, errlen, "the signature claims %llu bytes (at most %d)",
                 (unsigned long long)slen, MS_SIG_TEXT_MAX);
        goto out;
    }
    if ((sigtext = malloc(slen)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (zread(&z, sigtext, slen, err, errlen) != 0)
        goto out;
    char why[256];
    if (ms_verify(pk, manifest, mlen, sigtext, slen, sig, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "the manifest's signature: %s", why);
        goto out;
    }
    json_error_t jerr;
    doc = json_loadb(manifest, mlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "manifest: not a JSON object (%s)", jerr.text);
        goto out;
    }
    if ((claims = claims_parse(doc, &nclaims, err, errlen)) == NULL)
        goto out;
    if (ops->manifest && ops->manifest(ctx, doc, sig, manifest, mlen, err, errlen) != 0)
        goto out;

    for (;;) {
        unsigned char bh[40];
        if (zread(&z, bh, sizeof(bh), err, errlen) != 0)
            goto out;
        uint64_t len = le_load(bh + 32, 8);
        if (memcmp(bh, zero_hash, 32) == 0 && len == 0)
            break;
        struct claim *c = bsearch(bh, claims, nclaims, sizeof(*claims), claim_cmp);
        if (c == NULL || c->seen || c->size != len) {
            snprintf(err, errlen,
                     c == NULL ? "the bundle carries a blob its manifest does not name"
                     : c->seen ? "the bundle carries a blob twice"
                               : "a blob's length differs from its manifest's claim");
            goto out;
        }
        c->seen = true;
        unsigned char *b = realloc(blob, len ? len : 1);
        if (b == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        blob = b;
        if (zread(&z, blob, len, err, errlen) != 0)
            goto out;
        unsigned char got[32];
        crypto_generichash(got, sizeof(got), blob, len, NULL, 0);
        if (sodium_memcmp(got, c->hash, 32) != 0) {
            snprintf(err, errlen, "a blob does not match its hash");
            goto out;
        }
        if (ops->blob && ops->blob(ctx, c->hash, blob, len, err, errlen) != 0)
            goto out;
        count++;
    }
    if (zend(&z, pk, err, errlen) != 0)
        goto out;
    if (carried)
        *carried = count;
    rc = 0;
out:
    ZSTD_freeDCtx(z.dctx);
    free(z.ibuf);
    free(z.obuf);
    free(manifest);
    free(sigtext);
    free(blob);
    free(sig);
    free(claims);
    json_decref(doc);
    return rc;
}

int bundle_claims_check(json_t *manifest, char *err, size_t errlen)
{
    size_t n = 0;
    struct claim *c = claims_parse(manifest, &n, err, errlen);
    free(c);
    return c ? 0 : -1;
}
