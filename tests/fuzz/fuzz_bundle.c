/*
 * libFuzzer target for bundles (lib/bundle.c), library packages (node/library/package.c)
 * and the library channel's import (federation/channel.c, node/library/exchange.c). The first byte
 * picks the mode: even: the input is a bundle file as received, read against a fixed key (the zstd
 * stream, the header, the length fields and the signature frame meet arbitrary bytes); odd:  the
 * input holds a manifest and blobs that the fuzzer shapes; the target writes them as a correctly
 * signed bundle, so that the manifest's claims, the blob framing, the package checks and a channel
 * import (into a scratch database) run on arbitrary JSON and blob lists. Format: manifest bytes up
 * to the first NUL, then records of [selector byte, length byte, bytes]: the selector names which
 * hash the record carries (its own, another record's, or zeros). Every read must end in 0 or -1
 * without a sanitizer finding; a bundle written from a manifest that lists exactly the carried
 * blobs must be accepted.
 */
#include <ftw.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "db.h"
#include "federation/channel.h"
#include "lib/bundle.h"
#include "library/library.h"

static struct ms_public pk;
static struct ms_secret *sk;
static struct db *scratch; /* a migrated database for channel imports */

static int count_blob(void *ctx, const unsigned char hash[32], const unsigned char *data,
                      size_t len, void *prepared, char *err, size_t errlen)
{
    (void)hash, (void)data, (void)len, (void)prepared, (void)err, (void)errlen;
    ++*(int *)ctx;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int read_mem(const void *data, size_t len)
{
    FILE *f = fmemopen((void *)data, len ? len : 1, "rb");
    if (f == NULL)
        return -1;
    if (len == 0)
        fgetc(f); /* an empty file */
    int seen = 0;
    struct bundle_ops ops = {NULL, count_blob};
    char err[512];
    int rc = bundle_read(f, &pk, &ops, &seen, NULL, err, sizeof(err));
    fclose(f);
    return rc;
}

/* The scratch database's files go when the fuzzer exits. */
static void scratch_remove(void)
{
    static const char *const suffixes[] = {".db", ".db-wal", ".db-shm", ".blobs.db",
                                           ".blobs.db-journal"};
    db_close(scratch);
    scratch = NULL;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/fuzz-bundle-%d%s", (int)getpid(), suffixes[i]);
        unlink(path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sk == NULL) {
        static struct mes_config cfg;
        char path[64], err[512];
        config_defaults(&cfg);
        snprintf(path, sizeof(path), "/tmp/fuzz-bundle-%d.db", (int)getpid());
        unlink(path);
        atexit(scratch_remove);
        library_tokenizer_init();
        if (sodium_init() < 0 || (sk = ms_secret_generate(&pk)) == NULL ||
            (scratch = db_open(path, &cfg, err, sizeof(err))) == NULL ||
            db_migrate(scratch, 0, err, sizeof(err)) != 0)
            __builtin_trap();
    }
    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0) {
        read_mem(data + 1, size - 1);
        return 0;
    }
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
    size_t mlen = nul ? (size_t)(nul - p) : (size_t)(end - p);
    if (mlen == 0)
        return 0;
    char *bundle = NULL;
    size_t blen = 0;
    FILE *out = open_memstream(&bundle, &blen);
    char err[512];
    struct bundle_writer *w =
        bundle_writer_open(out, 1, sk, (const char *)p, mlen, "fuzz", err, sizeof(err));
    if (w == NULL) {
        fclose(out);
        free(bundle);
        return 0;
    }
    unsigned char hashes[16][32];
    int n = 0;
    for (p = nul ? nul + 1 : end; p + 2 <= end && n < 16; n++) {
        uint8_t sel = p[0], len = p[1];
        p += 2;
        if (len > end - p)
            len = (uint8_t)(end - p);
        crypto_generichash(hashes[n], 32, p, len, NULL, 0);
        const unsigned char *h = sel < 128 ? hashes[n] : sel < 250 ? hashes[sel % (n + 1)] : NULL;
        unsigned char zero[32] = {0};
        bundle_writer_blob(w, h ? h : zero, p, len, sel & 1, err, sizeof(err));
        p += len;
    }
    bundle_writer_close(w, err, sizeof(err));
    fclose(out);
    read_mem(bundle, blen);
    FILE *in = fmemopen(bundle, blen, "rb");
    if (in != NULL) {
        struct channel_import res;
        channel_import_bundle(scratch, NULL, &pk, in, &res, err, sizeof(err));
        fclose(in);
    }
    /* The same bytes as a library package, unpacked into a scratch directory. */
    char path[64], dir[64];
    snprintf(path, sizeof(path), "/tmp/fuzz-bundle-%d.mesb", (int)getpid());
    snprintf(dir, sizeof(dir), "/tmp/fuzz-bundle-%d.out", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(bundle, 1, blen, f);
        fclose(f);
        if (library_package_open(path, &pk, dir, err, sizeof(err)) == 0 &&
            nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            __builtin_trap();
        unlink(path);
    }
    free(bundle);
    return 0;
}
