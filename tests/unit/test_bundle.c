/*
 * Unit tests of the bundle container (lib/bundle.c), the tamper suite's base: a bundle
 * round-trips; a flipped byte anywhere, a truncation, bytes after the end, another key, a
 * blob its manifest does not name, named twice, or longer than claimed, oversize claims and
 * a zstd bomb are each refused, and a refused bundle reaches the consumer's blob callback
 * only with blobs that matched their hashes. JSON from peers nested too deep (a manifest, a
 * report) is refused before jansson, which recurses, parses it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "federation/report.h"
#include "lib/bundle.h"
#include "lib/input.h"

static struct ms_public pk, other_pk;
static struct ms_secret *sk, *other_sk;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    sk = ms_secret_generate(&pk);
    other_sk = ms_secret_generate(&other_pk);
    return sk && other_sk ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ms_secret_free(sk);
    ms_secret_free(other_sk);
    return 0;
}

struct blob {
    unsigned char hash[32];
    const char *data;
};

static void blob_init(struct blob *b, const char *data)
{
    b->data = data;
    crypto_generichash(b->hash, 32, (const unsigned char *)data, strlen(data), NULL, 0);
}

/* A manifest naming `named` blobs (with their true sizes, plus `extra` to the first size). */
static char *manifest_for(const struct blob *b, int named, long extra)
{
    json_t *blobs = json_array();
    for (int i = 0; i < named; i++) {
        char hex[65];
        sodium_bin2hex(hex, sizeof(hex), b[i].hash, 32);
        json_array_append_new(blobs, json_pack("{s:s,s:I}", "hash", hex, "size",
                                               (json_int_t)strlen(b[i].data) + (i ? 0 : extra)));
    }
    json_t *m = json_pack("{s:s,s:o}", "kind", "test", "blobs", blobs);
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return text;
}

/* A bundle in memory: the manifest signed by `key`, then blobs[order[i]] for each i. */
static char *build(const struct ms_secret *key, const char *manifest, const struct blob *b,
                   const int *order, int n, size_t *len)
{
    char *out = NULL, err[256];
    FILE *f = open_memstream(&out, len);
    struct bundle_writer *w =
        bundle_writer_open(f, 3, key, manifest, strlen(manifest), "t", err, sizeof(err));
    assert_non_null(w);
    for (int i = 0; i < n; i++)
        assert_int_equal(bundle_writer_blob(w, b[order[i]].hash, b[order[i]].data,
                                            strlen(b[order[i]].data), i % 2 == 0, err, sizeof(err)),
                         0); /* compressed and raw frames in turn */
    assert_int_equal(bundle_writer_close(w, err, sizeof(err)), 0);
    fclose(f);
    return out;
}

struct seen {
    int manifests, blobs;
};

static int on_manifest(void *ctx, json_t *m, const struct ms_sig *sig, const char *raw,
                       size_t raw_len, char *err, size_t errlen)
{
    (void)m;
    (void)raw;
    (void)raw_len;
    (void)sig;
    (void)err;
    (void)errlen;
    ((struct seen *)ctx)->manifests++;
    return 0;
}

static int on_blob(void *ctx, const unsigned char hash[32], const unsigned char *data, size_t len,
                   void *prepared, char *err, size_t errlen)
{
    (void)prepared;
    (void)err;
    (void)errlen;
    unsigned char got[32];
    crypto_generichash(got, 32, data, len, NULL, 0);
    assert_memory_equal(got, hash, 32); /* only checked blobs reach the consumer */
    ((struct seen *)ctx)->blobs++;
    return 0;
}

/* The error of the last read_mem's verification alone. */
static char verify_err[256];

/* Reads a bundle from memory, as a consumer that keeps the blobs and as a verification alone
 * (no callback takes a blob's bytes, so they are checked in pieces and may wait for the claims
 * with only their hash): both must give the same verdict and count. 0 or -1, with err. */
static int read_mem(const void *data, size_t len, const struct ms_public *key, struct seen *s,
                    char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)data, len, "rb");
    struct bundle_ops ops = {on_manifest, on_blob};
    long carried = -1, verified = -1;
    int rc = bundle_read(f, key, &ops, s, &carried, err, errlen);
    fclose(f);
    if (rc == 0)
        assert_int_equal(carried, s->blobs);
    struct seen alone = {0};
    struct bundle_ops verify = {.manifest = on_manifest};
    f = fmemopen((void *)data, len, "rb");
    int vrc = bundle_read(f, key, &verify, &alone, &verified, verify_err, sizeof(verify_err));
    fclose(f);
    if (vrc != rc)
        fail_msg("kept: %d (%s), verified alone: %d (%s)", rc, rc ? err : "", vrc,
                 vrc ? verify_err : "");
    if (rc == 0)
        assert_int_equal(verified, carried);
    return rc;
}

static struct blob blobs[3];

static void round_trip_and_incremental(void **state)
{
    (void)state;
    blob_init(&blobs[0], "Квадратные уравнения: сценарий урока");
    blob_init(&blobs[1], "");
    blob_init(&blobs[2], "cover.svg <svg/>");
    char *m = manifest_for(blobs, 3, 0), err[256];
    int order[] = {0, 1, 2};
    size_t len;
    char *b = build(sk, m, blobs, order, 3, &len);
    struct seen s = {0};
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), 0);
    assert_int_equal(s.manifests, 1);
    assert_int_equal(s.blobs, 3);
    free(b);
    /* An incremental bundle carries some of the named blobs. */
    b = build(sk, m, blobs, order + 2, 1, &len);
    memset(&s, 0, sizeof(s));
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), 0);
    assert_int_equal(s.blobs, 1);
    free(b);
    free(m);
}

static void every_flipped_byte_and_truncation_is_refused(void **state)
{
    (void)state;
    char *m = manifest_for(blobs, 3, 0), err[256];
    int order[] = {0, 1, 2};
    size_t len;
    char *b = build(sk, m, blobs, order, 3, &len);
    for (size_t i = 0; i < len; i++) {
        struct seen s = {0};
        b[i] ^= 0x20;
        if (read_mem(b, len, &pk, &s, err, sizeof(err)) == 0)
            fail_msg("flipped byte %zu of %zu accepted", i, len);
        b[i] ^= 0x20;
        s = (struct seen){0};
        assert_int_equal(read_mem(b, i, &pk, &s, err, sizeof(err)), -1);
    }
    /* Bytes after the end: another frame, or garbage. */
    char *longer = malloc(2 * len);
    memcpy(longer, b, len);
    memcpy(longer + len, b, len);
    struct seen s = {0};
    assert_int_equal(read_mem(longer, 2 * len, &pk, &s, err, sizeof(err)), -1);
    assert_int_equal(read_mem(longer, len + 1, &pk, &s, err, sizeof(err)), -1);
    free(longer);
    /* Another key. */
    s = (struct seen){0};
    assert_int_equal(read_mem(b, len, &other_pk, &s, err, sizeof(err)), -1);
    assert_int_equal(s.manifests, 0);
    free(b);
    free(m);
}

static void claims_are_enforced(void **state)
{
    (void)state;
    char err[256];
    size_t len;
    struct seen s = {0};
    /* A blob the manifest does not name. */
    char *m = manifest_for(blobs, 2, 0);
    int order[] = {0, 2};
    char *b = build(sk, m, blobs, order, 2, &len);
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not name"));
    assert_non_null(strstr(verify_err, "does not name"));
    free(b);
    /* The same blob twice. */
    int twice[] = {0, 0};
    b = build(sk, m, blobs, twice, 2, &len);
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "twice"));
    assert_non_null(strstr(verify_err, "twice"));
    free(b);
    free(m);
    /* A size claim that differs from the blob. */
    m = manifest_for(blobs, 3, 5);
    b = build(sk, m, blobs, order, 1, &len);
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "claim"));
    assert_non_null(strstr(verify_err, "claim"));
    free(b);
    free(m);
    /* Claims beyond the limits, and manifests that are not lists of claims. */
    const char *bad[] = {
        "{\"blobs\":[{\"hash\":\"00\",\"size\":1}]}",
        "{\"blobs\":[{\"hash\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"size\":999999999999}]}",
        "{\"blobs\":[{\"hash\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"size\":-1}]}",
        "{\"blobs\":{}}",
        "{\"blobs\":[],\"blobs\":[]}",
        "[1,2]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b = build(sk, bad[i], blobs, order, 0, &len);
        s = (struct seen){0};
        assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
        assert_int_equal(s.manifests, 0);
        free(b);
    }
}

/* A manifest slow to parse (a long list beside the claims): a verification's worker checks
 * every blob's hash before the claims are in, and must still hold each to them. */
static char *slow_manifest(const struct blob *b, int named, long extra)
{
    char *text = manifest_for(b, named, extra);
    json_t *m = json_loads(text, 0, NULL), *pad = json_array();
    free(text);
    for (int i = 0; i < 400000; i++)
        json_array_append_new(pad, json_integer(i));
    json_object_set_new(m, "pad", pad);
    text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return text;
}

static void claims_are_enforced_on_blobs_checked_ahead(void **state)
{
    (void)state;
    char err[256];
    size_t len;
    struct seen s = {0};
    char *m = slow_manifest(blobs, 2, 0);
    int order[] = {0, 2}, twice[] = {0, 0}, both[] = {0, 1};
    char *b = build(sk, m, blobs, order, 2, &len);
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(verify_err, "does not name"));
    free(b);
    b = build(sk, m, blobs, twice, 2, &len);
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(verify_err, "twice"));
    free(b);
    b = build(sk, m, blobs, both, 2, &len);
    s = (struct seen){0};
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), 0);
    free(b);
    free(m);
    m = slow_manifest(blobs, 3, 5);
    b = build(sk, m, blobs, order, 1, &len);
    assert_int_equal(read_mem(b, len, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(verify_err, "claim"));
    free(b);
    free(m);
}

/* A stream that claims a huge manifest, or decompresses far beyond its claims, is refused
 * without decompressing more than the claims allow. */
static void bombs_are_refused(void **state)
{
    (void)state;
    size_t cap = 64 << 20;
    unsigned char *plain = calloc(1, cap);
    memcpy(plain, BUNDLE_MAGIC, 8);
    plain[8] = 0xff, plain[9] = 0xff, plain[10] = 0xff, plain[11] = 0x7f; /* 2 GiB manifest */
    size_t zcap = ZSTD_compressBound(cap);
    void *z = malloc(zcap);
    size_t zlen = ZSTD_compress(z, zcap, plain, cap, 3);
    assert_false(ZSTD_isError(zlen));
    assert_true(zlen < 1 << 20); /* 64 MiB of zeros squeezed small */
    char err[256];
    struct seen s = {0};
    assert_int_equal(read_mem(z, zlen, &pk, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "manifest claims"));
    /* A valid header, then 64 MiB of zeros where the end marker should be followed by
     * nothing: refused at the first bytes after the end. */
    char *m = manifest_for(blobs, 1, 0);
    int order[] = {0};
    size_t len;
    char *b = build(sk, m, blobs, order, 1, &len);
    unsigned char *both = malloc(len + zcap);
    memcpy(both, b, len);
    size_t z2 = ZSTD_compress(both + len, zcap, plain + 12, cap - 12, 3);
    assert_false(ZSTD_isError(z2));
    assert_int_equal(read_mem(both, len + z2, &pk, &s, err, sizeof(err)), -1);
    free(both);
    free(b);
    free(m);
    free(z);
    free(plain);
}

/* A body the store keeps raw goes out in zstd raw blocks of 128 KiB at most, a frame of its own
 * between compressed ones: the reader takes it, and libzstd's own streaming decoder (what
 * `zstd -d` runs) reads the same content, the skippable signature frame aside. */
static void raw_frames_are_standard_zstd(void **state)
{
    (void)state;
    enum { BIG = 300000 };
    unsigned char *big = malloc(BIG), hash[3][32];
    randombytes_buf(big, BIG);
    const char *text = "Квадратные уравнения: сценарий урока, Квадратные уравнения";
    crypto_generichash(hash[0], 32, big, BIG, NULL, 0);
    crypto_generichash(hash[1], 32, (const unsigned char *)text, strlen(text), NULL, 0);
    crypto_generichash(hash[2], 32, NULL, 0, NULL, 0);
    json_t *list = json_array();
    size_t sizes[3] = {BIG, strlen(text), 0};
    for (int i = 0; i < 3; i++) {
        char hex[65];
        sodium_bin2hex(hex, sizeof(hex), hash[i], 32);
        json_array_append_new(list,
                              json_pack("{s:s,s:I}", "hash", hex, "size", (json_int_t)sizes[i]));
    }
    json_t *mj = json_pack("{s:s,s:o}", "kind", "test", "blobs", list);
    char *m = json_dumps(mj, JSON_COMPACT), *out = NULL, err[256];
    json_decref(mj);
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    struct bundle_writer *w = bundle_writer_open(f, 3, sk, m, strlen(m), "t", err, sizeof(err));
    assert_non_null(w);
    assert_int_equal(bundle_writer_blob(w, hash[1], text, sizes[1], true, err, sizeof(err)), 0);
    assert_int_equal(bundle_writer_blob(w, hash[0], big, BIG, false, err, sizeof(err)), 0);
    assert_int_equal(bundle_writer_blob(w, hash[2], "", 0, false, err, sizeof(err)), 0);
    assert_int_equal(bundle_writer_close(w, err, sizeof(err)), 0);
    fclose(f);
    struct seen s = {0};
    assert_int_equal(read_mem(out, len, &pk, &s, err, sizeof(err)), 0);
    assert_int_equal(s.blobs, 3);
    /* The raw body is a frame of its own, not compressed again: the frame header (no content
     * size, 128 KiB window), then a raw block of the 40-byte head (40 << 3 | raw, not last)
     * starting with its hash. */
    unsigned char frame[9 + 32] = {0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38, 0x40, 0x01, 0x00};
    memcpy(frame + 9, hash[0], 32);
    assert_non_null(memmem(out, len, frame, sizeof(frame)));
    assert_true(len < BIG + strlen(m) + 1000);

    ZSTD_DStream *d = ZSTD_createDStream();
    size_t cap = BIG + 65536, got = 0;
    unsigned char *plain = malloc(cap);
    ZSTD_inBuffer in = {out, len, 0};
    while (in.pos < in.size) {
        ZSTD_outBuffer o = {plain, cap, got};
        size_t rc = ZSTD_decompressStream(d, &o, &in);
        assert_false(ZSTD_isError(rc));
        got = o.pos;
    }
    ZSTD_freeDStream(d);
    /* magic, manifest, signature, the text's head and bytes, then the raw body's head. */
    unsigned char *at = memmem(plain, got, hash[0], 32);
    assert_non_null(at);
    assert_true(at + 40 + BIG <= plain + got);
    assert_memory_equal(at + 40, big, BIG);
    assert_non_null(memmem(plain, got, text, strlen(text)));
    free(plain);
    free(out);
    free(m);
    free(big);
}

/* `prepare` runs on the decoding thread for every checked blob; what it made reaches `blob`, and
 * `release` frees each one, also those a refusing consumer never took. */
static int prepared_made, prepared_released;

static void *copy_prepare(const unsigned char *data, size_t len)
{
    unsigned char *c = malloc(len + 1);
    memcpy(c, data, len);
    __atomic_add_fetch(&prepared_made, 1, __ATOMIC_SEQ_CST);
    return c;
}

static void copy_release(void *p)
{
    if (p != NULL)
        __atomic_add_fetch(&prepared_released, 1, __ATOMIC_SEQ_CST);
    free(p);
}

static int check_prepared(void *ctx, const unsigned char hash[32], const unsigned char *data,
                          size_t len, void *prepared, char *err, size_t errlen)
{
    (void)hash;
    assert_non_null(prepared);
    assert_memory_equal(prepared, data, len);
    int *left = ctx;
    if (--*left < 0) {
        snprintf(err, errlen, "enough");
        return -1;
    }
    return 0;
}

static void prepared_blobs_are_handed_over_and_released(void **state)
{
    (void)state;
    char *m = manifest_for(blobs, 3, 0), err[256];
    int order[] = {0, 1, 2};
    size_t len;
    char *b = build(sk, m, blobs, order, 3, &len);
    struct bundle_ops ops = {NULL, check_prepared, copy_prepare, copy_release};
    for (int take = 3; take >= 0; take--) {
        prepared_made = prepared_released = 0;
        int left = take;
        FILE *f = fmemopen(b, len, "rb");
        long carried = 0;
        int rc = bundle_read(f, &pk, &ops, &left, &carried, err, sizeof(err));
        fclose(f);
        assert_int_equal(rc, take == 3 ? 0 : -1);
        if (take == 3)
            assert_int_equal(carried, 3);
        else
            assert_string_equal(err, "enough");
        assert_true(prepared_made >= take);
        assert_int_equal(prepared_released, prepared_made);
    }
    free(b);
    free(m);
}

/* `prefix`, then `depth` nested arrays around 1, then `suffix`: malloc'd. */
static char *nested(const char *prefix, int depth, const char *suffix)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    char *t = malloc(lp + 2 * (size_t)depth + ls + 2);
    assert_non_null(t);
    memcpy(t, prefix, lp);
    memset(t + lp, '[', (size_t)depth);
    t[lp + (size_t)depth] = '1';
    memset(t + lp + (size_t)depth + 1, ']', (size_t)depth);
    memcpy(t + lp + 2 * (size_t)depth + 1, suffix, ls + 1);
    return t;
}

/* A signed manifest, or a report, that nests deeper than INPUT_JSON_DEPTH_DOCUMENTS is refused
 * as a whole, even though every field the reader looks at is well-formed. */
static void deep_json_from_peers_is_refused(void **state)
{
    (void)state;
    char *m = manifest_for(blobs, 1, 0), err[256];
    m[strlen(m) - 1] = '\0'; /* reopen the object to add a field */
    int order[] = {0};
    /* The manifest's object is one level: 63 arrays inside make the most accepted. */
    int depths[] = {INPUT_JSON_DEPTH_DOCUMENTS - 1, INPUT_JSON_DEPTH_DOCUMENTS, 2000};
    for (int d = 0; d < 3; d++) {
        int depth = depths[d];
        char prefix[1024];
        snprintf(prefix, sizeof(prefix), "%s,\"note\":", m);
        char *deep = nested(prefix, depth, "}");
        size_t len;
        char *b = build(sk, deep, blobs, order, 1, &len);
        struct seen s = {0};
        int rc = read_mem(b, len, &pk, &s, err, sizeof(err));
        if (depth < INPUT_JSON_DEPTH_DOCUMENTS) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "nested deeper than 64 levels"));
            assert_int_equal(s.blobs, 0);
        }
        free(b);
        free(deep);
    }
    free(m);

    const char *report = "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":1,"
                         "\"period\":{\"month\":\"2026-09\"},\"tables\":";
    int64_t seq = 0;
    char month[8];
    char *ok = nested(report, 10, "}"), *deep = nested(report, 2000, "}");
    assert_int_equal(report_check(ok, strlen(ok), "05", &seq, month, NULL, 0), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(report_check(deep, strlen(deep), "05", &seq, month, NULL, 0), -1);
    free(ok);
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_incremental),
        cmocka_unit_test(every_flipped_byte_and_truncation_is_refused),
        cmocka_unit_test(claims_are_enforced),
        cmocka_unit_test(claims_are_enforced_on_blobs_checked_ahead),
        cmocka_unit_test(bombs_are_refused),
        cmocka_unit_test(raw_frames_are_standard_zstd),
        cmocka_unit_test(prepared_blobs_are_handed_over_and_released),
        cmocka_unit_test(deep_json_from_peers_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
