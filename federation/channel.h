/*
 * The library channel (PRODUCT.md section 4; formats in docs/federation.md): the hub publishes
 * its library as numbered, signed versions; a region imports a version from a bundle (and,
 * later, by pulling it over HTTP), checking the signature against the hub's pinned key, the
 * version (never backwards; the same version with other content is refused), the expiry and
 * every blob, and switches to it in one transaction. channel.sql is its schema.
 */
#ifndef MES_CHANNEL_H
#define MES_CHANNEL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/minisign.h"

struct db;
struct mes_config;

/* The page cache (MiB) of a connection that imports a version. */
#define CHANNEL_CACHE_MIB 64

/* Hub: publishes the next version of the channel from every approved item of the hub's
 * library, signed with `sk`, valid for `valid_s` seconds. Its number in *version, its item
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

/* Region, inside a write transaction, once every blob is stored: applies the manifest's items
 * (library_hub_apply; or, when the caller began the change and offered documents as they came,
 * `change`, which stays the caller's, library_hub_end) and records the version held. 0, or -1
 * with err (roll back). */
struct hub_change;
int channel_apply(struct db *db, json_t *manifest, const unsigned char hash[32],
                  struct hub_change *change, struct channel_import *res, char *err, size_t errlen);

/* Region: checks the bundle in `in` against the hub's key `hub` and imports it in one write
 * transaction (nothing changes unless every check passes). 0, or -1 with err. */
int channel_import_bundle(struct db *db, const struct ms_public *hub, FILE *in,
                          struct channel_import *res, char *err, size_t errlen);

#endif
