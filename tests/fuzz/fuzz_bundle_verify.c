/*
 * libFuzzer target for the bundle reader alone (lib/bundle.c's bundle_read), without a
 * database: what `mesnode bundle verify` runs, and the blob queue the importers consume. The
 * database-backed import of a bundle is fuzz_bundle.c's.
 *
 * Byte 0 of an input chooses: bit 0 clear, the rest is a bundle file as received (read against
 * the fixed key of fuzz_keys.h); bit 0 set, the rest describes a bundle that this target writes
 * itself, signed (both the manifest and the whole file) with that key, so that the reader's
 * checks after the signatures meet arbitrary content. Bit 1 has the reader hand each blob to a
 * consumer that keeps it (with a prepare step), as an import does, instead of only verifying.
 *
 * A described bundle: byte 1 is the position of a byte to flip (with bit 3 of byte 0), then the
 * manifest up to the first NUL, then records of [selector, length, bytes]. Bits of byte 0:
 *   2  the manifest's "blobs" list is written from the records (the manifest must then be a
 *      JSON object; its own "blobs" is replaced)
 *   3  a byte of the file (at byte 1 times the file's length / 256) is flipped after signing
 *   4  no end of content marker
 *   5  bytes after the signature frame
 *   6  the manifest signed by another key;  7  the file signed by another key
 * A record's selector: bits 0-1 the hash its head carries (0 its own, 1 that of record
 * (selector >> 4) % count, 2 zeros, 3 its own with a bit flipped); bit 2 a head claiming one
 * byte more than follows; bit 3 a new zstd frame before it; with written claims, bit 4 leaves
 * it out of them, bit 5 names it twice, bit 6 claims one byte more; bit 7 is not used.
 *
 * Oracles besides the sanitizers: a consumer is given only blobs that match their hash; a
 * described bundle without any fault (distinct blobs, own hashes, true lengths, written claims,
 * the marker, one key, nothing flipped or appended) is accepted with every blob carried, and one
 * with a fault that the format forbids (a flipped byte, bytes after the signature, another key,
 * no marker, a wrong hash or length, a blob not named, named twice or misclaimed) is refused.
 *
 * MES_FUZZ_SEEDS=DIR writes this target's seed corpus into DIR and exits (see docs/benchmarks.md,
 * "Fuzzing"): described bundles, and files written by bundle_writer (the node's own writer).
 */
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fuzz_keys.h"
#include "lib/bundle.h"

#define MAX_RECORDS 32
#define SIG_FRAME   0x184D2A5Du

static struct ms_secret key[2];
static struct ms_public pub[2];
static ZSTD_CCtx *cctx;
static bool verbose; /* MES_FUZZ_VERBOSE: each read's result */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

/* Appends len bytes (or room for them, uninitialised, when data is NULL). */
static void put(struct buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        if ((b->p = realloc(b->p, b->cap)) == NULL)
            abort();
    }
    if (data != NULL && len > 0)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void put_le(struct buf *b, uint64_t v, int bytes)
{
    unsigned char le[8];
    for (int i = 0; i < bytes; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    put(b, le, (size_t)bytes);
}

/* ---- the consumer ---------------------------------------------------------------------- */

struct seen {
    json_t *manifest;
    long blobs;
};

static int on_manifest(void *ctx, json_t *manifest, const struct ms_sig *sig, const char *raw,
                       size_t raw_len, char *err, size_t errlen)
{
    (void)sig, (void)raw, (void)raw_len, (void)err, (void)errlen;
    struct seen *s = ctx;
    s->manifest = json_incref(manifest);
    return 0;
}

static void *on_prepare(const unsigned char *data, size_t len)
{
    unsigned char *h = malloc(32);
    if (h != NULL)
        crypto_generichash(h, 32, data, len, NULL, 0);
    return h;
}

static void on_release(void *prepared)
{
    free(prepared);
}

static int on_blob(void *ctx, const unsigned char hash[32], const unsigned char *data, size_t len,
                   void *prepared, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    unsigned char got[32];
    crypto_generichash(got, sizeof(got), data, len, NULL, 0);
    if (memcmp(got, hash, 32) != 0 || (prepared != NULL && memcmp(prepared, hash, 32) != 0)) {
        fprintf(stderr, "fuzz_bundle_verify: a blob reached the consumer unchecked\n");
        abort();
    }
    ((struct seen *)ctx)->blobs++;
    return 0;
}

/* Reads `len` bytes as a bundle file; 0 accepted, -1 refused. *carried: blobs carried. */
static int read_bundle(const unsigned char *data, size_t len, bool keep, long *carried)
{
    FILE *f = fmemopen((void *)data, len ? len : 1, "rb");
    if (f == NULL)
        abort();
    if (len == 0)
        fgetc(f); /* an empty file */
    struct seen s = {0};
    struct bundle_ops verify = {.manifest = on_manifest};
    struct bundle_ops import = {on_manifest, on_blob, on_prepare, on_release};
    char err[512];
    *carried = 0;
    int rc = bundle_read(f, &pub[0], keep ? &import : &verify, &s, carried, err, sizeof(err));
    fclose(f);
    if (verbose)
        fprintf(stderr, "fuzz_bundle_verify: %s, %ld blobs carried%s%s\n",
                rc == 0 ? "accepted" : "refused", *carried, rc == 0 ? "" : ": ",
                rc == 0 ? "" : err);
    if (keep && rc == 0 && s.blobs != *carried) {
        fprintf(stderr, "fuzz_bundle_verify: %ld blobs carried, %ld given\n", *carried, s.blobs);
        abort();
    }
    json_decref(s.manifest);
    return rc;
}

/* ---- described bundles ----------------------------------------------------------------- */

/* Compresses content[from, to) as one zstd frame onto out. */
static void frame(struct buf *out, const struct buf *content, size_t from, size_t to)
{
    size_t bound = ZSTD_compressBound(to - from), at = out->len;
    put(out, NULL, bound);
    size_t n = ZSTD_compress2(cctx, out->p + at, bound, content->p + from, to - from);
    if (ZSTD_isError(n))
        abort();
    out->len = at + n;
}

struct record {
    const unsigned char *data;
    size_t len;
    unsigned char hash[32];
    uint8_t sel;
};

/* The manifest text: the input's, or with bit 2 that JSON object with "blobs" written from the
 * records. NULL (malloc'ed otherwise) when bit 2 is set and the input is not a JSON object. */
static char *manifest_text(const uint8_t *m, size_t mlen, const struct record *r, int n,
                           bool claims, bool *faulty)
{
    if (!claims) {
        char *t = malloc(mlen + 1);
        if (t == NULL)
            abort();
        memcpy(t, m, mlen);
        t[mlen] = '\0';
        return t;
    }
    json_t *doc = json_loadb((const char *)m, mlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    json_t *blobs = json_array();
    for (int i = 0; i < n; i++) {
        unsigned char own[32];
        char hex[65];
        crypto_generichash(own, sizeof(own), r[i].data, r[i].len, NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), own, sizeof(own));
        if (r[i].sel & 16) {
            *faulty = true; /* carried, not named */
            continue;
        }
        for (int k = 0; k < (r[i].sel & 32 ? 2 : 1); k++)
            json_array_append_new(blobs, json_pack("{s:s,s:I}", "hash", hex, "size",
                                                   (json_int_t)r[i].len + (r[i].sel & 64 ? 1 : 0)));
        if (r[i].sel & 96)
            *faulty = true;
    }
    json_object_set_new(doc, "blobs", blobs);
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return t;
}

/* Writes the described bundle into *out. Returns 1 when it has no fault (it must be accepted),
 * -1 when it has one the format forbids (it must be refused), 0 when either may happen. */
static int describe(const uint8_t *data, size_t size, struct buf *out, int *records)
{
    uint8_t flags = data[0], flip = size > 1 ? data[1] : 0;
    const uint8_t *p = data + (size > 1 ? 2 : 1), *end = data + size;
    const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
    const uint8_t *m = p;
    size_t mlen = nul ? (size_t)(nul - p) : (size_t)(end - p);
    struct record r[MAX_RECORDS];
    int n = 0;
    for (p = nul ? nul + 1 : end; p + 2 <= end && n < MAX_RECORDS; n++) {
        r[n].sel = p[0];
        r[n].len = p[1] <= end - p - 2 ? p[1] : (size_t)(end - p - 2);
        r[n].data = p + 2;
        p += 2 + r[n].len;
    }
    *records = n;
    bool faulty = false, clean = (flags & 4) != 0;
    char *manifest = manifest_text(m, mlen, r, n, flags & 4, &faulty);
    if (manifest == NULL)
        return 0;
    /* The content. */
    struct buf content = {0};
    size_t starts[MAX_RECORDS + 1];
    int nstarts = 0;
    put(&content, BUNDLE_MAGIC, 8);
    put_le(&content, strlen(manifest), 4);
    put(&content, manifest, strlen(manifest));
    char *msig = ms_sign(&key[flags & 64 ? 1 : 0], manifest, strlen(manifest),
                         "signature of a bundle's manifest", "fuzz");
    if (msig == NULL)
        abort();
    put_le(&content, strlen(msig), 4);
    put(&content, msig, strlen(msig));
    free(msig);
    for (int i = 0; i < n; i++) {
        unsigned char own[32], head[32];
        crypto_generichash(own, sizeof(own), r[i].data, r[i].len, NULL, 0);
        switch (r[i].sel & 3) {
        case 0:
            memcpy(head, own, 32);
            break;
        case 1: {
            const struct record *o = &r[(r[i].sel >> 4) % n];
            crypto_generichash(head, 32, o->data, o->len, NULL, 0);
            break;
        }
        case 2:
            memset(head, 0, 32);
            break;
        default:
            memcpy(head, own, 32);
            head[r[i].sel % 32] ^= 1;
        }
        if (memcmp(head, own, 32) != 0 || (r[i].sel & 4))
            faulty = true;
        for (int k = 0; k < i; k++)
            if (r[k].len == r[i].len && memcmp(r[k].data, r[i].data, r[i].len) == 0)
                clean = false; /* the same blob twice: refused, for one reason or another */
        if (r[i].sel & 8)
            starts[nstarts++] = content.len;
        put(&content, head, 32);
        put_le(&content, r[i].len + (r[i].sel & 4 ? 1 : 0), 8);
        put(&content, r[i].data, r[i].len);
    }
    if (!(flags & 16)) {
        unsigned char marker[40] = {0};
        put(&content, marker, sizeof(marker));
    }
    /* Frames of zstd, then the signature of every byte before it in a skippable frame. */
    size_t from = 0;
    for (int i = 0; i < nstarts; i++) {
        if (starts[i] > from)
            frame(out, &content, from, starts[i]);
        from = starts[i];
    }
    frame(out, &content, from, content.len);
    free(content.p);
    unsigned char hash[MS_HASH_BYTES];
    crypto_generichash(hash, sizeof(hash), out->p, out->len, NULL, 0);
    char *fsig = ms_sign_hash(&key[flags & 128 ? 1 : 0], hash, "signature of a bundle", "fuzz");
    if (fsig == NULL)
        abort();
    put_le(out, SIG_FRAME, 4);
    put_le(out, strlen(fsig), 4);
    put(out, fsig, strlen(fsig));
    free(fsig);
    if (flags & 32)
        put(out, "x", 1);
    if (flags & 8)
        out->p[(size_t)flip * out->len / 256] ^= 0x20;
    free(manifest);
    faulty = faulty || (flags & (8 | 16 | 32 | 64 | 128));
    return faulty ? -1 : clean ? 1 : 0;
}

/* ---- seeds ----------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A described seed: flags, the flip byte, the manifest, then records of the given texts, the
 * last with selector `last` (the others 0, but 8 for the second: a frame of its own). */
static void seed_described(const char *dir, const char *name, uint8_t flags, const char *manifest,
                           const char *const *blobs, int n, uint8_t last)
{
    struct buf b = {0};
    put(&b, &flags, 1);
    put(&b, "\x80", 1);
    put(&b, manifest, strlen(manifest) + 1);
    for (int i = 0; i < n; i++) {
        uint8_t head[2] = {i == n - 1 ? last : i == 1 ? 8 : 0, (uint8_t)strlen(blobs[i])};
        put(&b, head, 2);
        put(&b, blobs[i], strlen(blobs[i]));
    }
    write_file(dir, name, b.p, b.len);
    free(b.p);
}

/* A file written by the node's own writer: a package-like manifest naming the blobs. */
static void seed_written(const char *dir, const char *name, const char *const *blobs, int n,
                         int level)
{
    json_t *list = json_array();
    unsigned char hash[MAX_RECORDS][32];
    for (int i = 0; i < n; i++) {
        char hex[65];
        crypto_generichash(hash[i], 32, (const unsigned char *)blobs[i], strlen(blobs[i]), NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), hash[i], 32);
        json_array_append_new(
            list, json_pack("{s:s,s:I}", "hash", hex, "size", (json_int_t)strlen(blobs[i])));
    }
    json_t *m = json_pack("{s:s,s:s,s:[],s:o}", "format", "mes-library-1", "kind", "package",
                          "items", "blobs", list);
    char *text = json_dumps(m, JSON_COMPACT), *file = NULL, err[256];
    size_t len = 0;
    FILE *out = open_memstream(&file, &len);
    struct bundle_writer *w =
        bundle_writer_open(out, level, &key[0], text, strlen(text), "fuzz", err, sizeof(err));
    for (int i = 0; w != NULL && i < n; i++)
        if (bundle_writer_blob(w, hash[i], blobs[i], strlen(blobs[i]), i % 2 == 0, err,
                               sizeof(err)) != 0)
            w = NULL;
    if (w == NULL || bundle_writer_close(w, err, sizeof(err)) != 0) {
        fprintf(stderr, "seed %s: %s\n", name, err);
        exit(1);
    }
    fclose(out);
    unsigned char *raw = malloc(len + 1);
    raw[0] = 0; /* a file as received */
    memcpy(raw + 1, file, len);
    write_file(dir, name, raw, len + 1);
    free(raw);
    free(file);
    free(text);
    json_decref(m);
}

static void write_seeds(const char *dir)
{
    static const char *const blobs[] = {"первый файл", "второй файл, длиннее первого", "third",
                                        "{\"json\": true}"};
    static const struct {
        const char *name;
        uint8_t flags, last;
    } faults[] = {
        {"fault_flipped", 8, 0},      {"fault_no_marker", 16, 0},
        {"fault_trailing", 32, 0},    {"fault_manifest_key", 64, 0},
        {"fault_file_key", 128, 0},   {"fault_other_hash", 0, 1 | (0 << 4)},
        {"fault_zero_hash", 0, 2},    {"fault_flipped_hash", 0, 3},
        {"fault_longer_head", 0, 4},  {"fault_not_named", 0, 16},
        {"fault_named_twice", 0, 32}, {"fault_claim_longer", 0, 64},
    };
    seed_described(dir, "empty", 1 | 4, "{\"kind\":\"test\"}", blobs, 0, 0);
    seed_described(dir, "one", 1 | 4, "{\"kind\":\"package\",\"items\":[]}", blobs, 1, 0);
    seed_described(dir, "four_kept", 1 | 2 | 4, "{\"kind\":\"channel\",\"version\":1}", blobs, 4,
                   0);
    seed_described(dir, "own_claims", 1, "{\"blobs\":[]}", blobs, 0, 0);
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        seed_described(dir, faults[i].name, 1 | 4 | faults[i].flags, "{}", blobs, 2,
                       faults[i].last);
    seed_written(dir, "written", blobs, 3, 3);
    seed_written(dir, "written_empty", blobs, 0, 1);
    printf("seeds written to %s\n", dir);
    exit(0);
}

/* ---- the target ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (sodium_init() < 0 || (cctx = ZSTD_createCCtx()) == NULL)
        abort();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    fuzz_key(0, &key[0], &pub[0]);
    fuzz_key(1, &key[1], &pub[1]);
    verbose = getenv("MES_FUZZ_VERBOSE") != NULL;
    const char *seeds = getenv("MES_FUZZ_SEEDS");
    if (seeds != NULL)
        write_seeds(seeds);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool keep = data[0] & 2;
    long carried;
    if ((data[0] & 1) == 0) {
        read_bundle(data + 1, size - 1, keep, &carried);
        return 0;
    }
    struct buf file = {0};
    int records = 0;
    int expect = describe(data, size, &file, &records);
    if (file.p == NULL)
        return 0;
    int rc = read_bundle(file.p, file.len, keep, &carried);
    if ((expect > 0 && (rc != 0 || carried != records)) || (expect < 0 && rc == 0)) {
        fprintf(stderr,
                "fuzz_bundle_verify: a described bundle %s (read: %d, %ld of %d blobs carried)\n",
                expect > 0 ? "without a fault was refused" : "with a fault was accepted", rc,
                carried, records);
        abort();
    }
    free(file.p);
    return 0;
}
