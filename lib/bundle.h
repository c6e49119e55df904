/*
 * Bundles: signed content carried as one file (docs/federation.md, "Bundles"): the library's
 * offline packages, the hub's channel versions (full or incremental) and regions'
 * contributions. A bundle is a zstd stream of
 *
 *   "MESBNDL1"
 *   u32 LE length | the manifest: a JSON object, at most BUNDLE_MANIFEST_MAX bytes
 *   u32 LE length | the manifest's minisign signature (.minisig text)
 *   blobs, each:  BLAKE2b-256 hash[32] | u64 LE length | the bytes
 *   32 zero bytes | u64 LE 0                         (the end of the content)
 *
 * followed by one zstd skippable frame (magic 0x184D2A5D, u32 LE length) holding the minisign
 * signature (prehashed) of every byte of the file before it, and nothing after it: a flipped
 * byte anywhere, even one that would decompress to the same content, refuses the bundle.
 * Both signatures are by the same key; the manifest's is checked first, so that nothing is
 * read on the strength of an unsigned manifest.
 *
 * The manifest's "blobs" array names every blob its content needs: {"hash": 64 hex digits,
 * "size": bytes}. A bundle carries all of them (a full bundle) or some (an incremental one: the
 * reader's consumer checks it holds the others). The reader checks the signature before it
 * parses the manifest, the manifest's claims before it reads a blob, and each blob against its
 * claimed hash and size; a blob not named, named twice, longer than claimed, bytes after the
 * end, a stream that stops early: all refuse the whole bundle. Decompression is bounded by the
 * claims (no zstd bomb) and by a 128 MiB window.
 */
#ifndef MES_BUNDLE_H
#define MES_BUNDLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/minisign.h"

#define BUNDLE_MAGIC        "MESBNDL1"
#define BUNDLE_MANIFEST_MAX (64u << 20)  /* bytes of manifest JSON */
#define BUNDLE_BLOB_MAX     (512u << 20) /* bytes of one blob */
#define BUNDLE_BLOBS_MAX    4000000      /* blobs named by one manifest */

/* Writing: open with the signed manifest, add blobs, close. Each call returns 0, or -1 with
 * err (the output is then unusable). bundle_writer_close frees the writer in every case. */
struct bundle_writer;
/* The writer signs the manifest (with `trusted` as its trusted comment) and, at the close,
 * the whole file, with `sk`, which must outlive the writer. */
struct bundle_writer *bundle_writer_open(FILE *out, int level, const struct ms_secret *sk,
                                         const char *manifest, size_t manifest_len,
                                         const char *trusted, char *err, size_t errlen);
/* Adds a blob: compressed in the stream, or with `compress` false (a body known not to
 * compress: the store keeps it raw) copied in zstd raw blocks, a frame of its own, without
 * trying. Writing the incompressible blobs together saves ending frames between them. */
int bundle_writer_blob(struct bundle_writer *w, const unsigned char hash[32], const void *data,
                       size_t len, bool compress, char *err, size_t errlen);
int bundle_writer_close(struct bundle_writer *w, char *err, size_t errlen);

/* What a reader calls back, in order: `manifest` once, after the signature was checked and the
 * blob list validated (the JSON and its raw bytes stay the reader's; the signature's trusted
 * comment is in sig);
 * `blob` for each blob carried, after its hash was checked (data is the reader's, valid for the
 * call). A callback returns 0 to go on or -1 with err to refuse the bundle.
 * `prepare` (may be NULL) is for work on a checked blob that needs nothing but its bytes
 * (compressing it for storage, say): it runs on the reader's decoding thread, ahead of the
 * consumer, and what it returns reaches `blob` as `prepared` (NULL without it); `release`
 * then frees that, whether `blob` was called or not. */
struct bundle_ops {
    int (*manifest)(void *ctx, json_t *manifest, const struct ms_sig *sig, const char *raw,
                    size_t raw_len, char *err, size_t errlen);
    int (*blob)(void *ctx, const unsigned char hash[32], const unsigned char *data, size_t len,
                void *prepared, char *err, size_t errlen);
    void *(*prepare)(const unsigned char *data, size_t len);
    void (*release)(void *prepared);
};

/* Reads and checks a whole bundle from `in` against the signer's key `pk`. 0 when every check
 * passed and every callback accepted; -1 with err otherwise. A consumer must not make anything
 * it was given visible before this returns 0. `carried` (may be NULL) receives how many blobs
 * the bundle carried. */
int bundle_read(FILE *in, const struct ms_public *pk, const struct bundle_ops *ops, void *ctx,
                long *carried, char *err, size_t errlen);

/* Checks a manifest's "blobs" list as a reader does (bounded count and sizes, 64-digit hashes,
 * none twice): for manifests that come without a bundle (a pull). 0, or -1 with err. */
int bundle_claims_check(json_t *manifest, char *err, size_t errlen);

/* Parses 64 hex digits into a 32-byte hash; 0 or -1. */
int bundle_hash_parse(const char *hex, unsigned char out[32]);

#endif
