/*
 * The library channel (PRODUCT.md section 4; formats in docs/federation.md): the hub publishes
 * its library as numbered, signed versions; a region imports a version from a bundle (and,
 * later, by pulling it over HTTP), checking the signature against the hub's pinned key, the
 * version (never backwards; the same version with other content is refused), the expiry and
 * every blob, and switches to it in short steps once every check has passed (its blobs staged
 * meanwhile, outside the write lock). channel.sql is its schema.
 */
#ifndef MES_CHANNEL_H
#define MES_CHANNEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "lib/minisign.h"

struct db;
struct mes_config;

/* The page cache (MiB) of a connection that imports a version. */
#define CHANNEL_CACHE_MIB 64

/* Hub: publishes the next version of the channel from every approved item of the hub's
 * library, signed with `sk`, valid for `valid_s` seconds: the documents made and staged in a
 * read transaction, their rows and then the version in short write transactions (a command's
 * own: a serving hub's writer waits at most one). Its number in *version, its item
 * count in *items. 0, or -1 with err. */
int channel_publish(struct db *db, const struct mes_config *cfg, const struct ms_secret *sk,
                    int64_t valid_s, int64_t *version, long *items, char *err, size_t errlen);

/* Hub: writes version `version` (0: the latest) as a bundle to `out`: every blob, or with
 * `from` > 0 only those that version `from` did not have (an incremental bundle for regions
 * holding `from`). *carried counts the blobs written. 0, or -1 with err. */
int channel_bundle_build(struct db *db, const struct ms_secret *sk, int64_t version, int64_t from,
                         FILE *out, long *carried, char *err, size_t errlen);

/* What an import did. */
struct channel_import {
    int64_t version, previous; /* the version now held, and the one held before */
    long carried;              /* blobs the bundle carried */
    long changed, removed;     /* items inserted or updated, and removed */
    int already;               /* 1: the region already held exactly this version */
};

/* Region: the checks of a verified manifest before anything is fetched or read: a library
 * channel manifest, a version not older than the one held and, if the same, the same content
 * (its BLAKE2b-256 goes into `hash`), not expired. Fills res->version, previous, already.
 * 0, or -1 with err. */
int channel_check(struct db *db, json_t *m, const char *raw, size_t raw_len,
                  struct channel_import *res, unsigned char hash[32], char *err, size_t errlen);

/* A version's import under way (or, at the hub, a publication's documents). Its new blobs are
 * staged (db.h) while the bundle or the pull is read and checked, outside any write
 * transaction; channel_switch then makes the version the one held in short write steps. One at
 * a time per node (the stage's lock); the stage's rows are freed by stage_end.
 *
 * stage_begin takes the lock and collects bodies nothing names (an interrupted import's):
 * 0, or -1 with err (another import is under way). stage_blob stages a body whose hash the
 * caller checked (`p`: blob_pack's form, NULL raw), unless a blob of this hash is held: 0, or
 * -1 with err. stage_end deletes the staged bodies no row names and releases the lock. */
struct blob_packed;
struct staged_blob;
struct writer;
struct channel_stage {
    struct db_stage stage;
    struct staged_blob *rows;
    size_t n, cap;
    size_t lookups; /* of blobs held, sharing a read transaction (reading) */
    bool reading;
};
int channel_stage_begin(struct db *db, struct channel_stage *cs, char *err, size_t errlen);
int channel_stage_blob(struct db *db, struct channel_stage *cs, const unsigned char hash[32],
                       const void *data, size_t len, const struct blob_packed *p, char *err,
                       size_t errlen);
void channel_stage_end(struct db *db, struct channel_stage *cs);

/* Region, once the version is checked and its blobs staged: the switch-over, each step through
 * the writer `w` (writer_call: a job of its next batch) or, `w` NULL, a short transaction of
 * its own on `db`, each about 10 ms of work (channel.c, STEP_MS): the staged blobs' rows,
 * then the manifest's items (library_hub_begin_steps, library_hub_step), then the items that
 * left, the blobs they released and the version held, in the last step; the steps before the
 * last commit without waiting for the disk (db_sync_relaxed). A serving node's writer waits at
 * most one step. Readers see the items arrive over the switch-over; the version held moves
 * in the last step, and an import cut short (failure, crash) leaves items of the new version
 * that the next import of it finds unchanged. 0, or -1 with err. */
int channel_switch(struct db *db, struct writer *w, struct channel_stage *cs, json_t *manifest,
                   const unsigned char hash[32], struct channel_import *res, char *err,
                   size_t errlen);

/* Region: checks the bundle in `in` against the hub's key `hub` and imports it: staged while
 * it is read, switched over (channel_switch, through `w` or short transactions on `db`) once
 * every check has passed; nothing changes unless every check passes. 0, or -1 with err. */
int channel_import_bundle(struct db *db, struct writer *w, const struct ms_public *hub, FILE *in,
                          struct channel_import *res, char *err, size_t errlen);

#endif
