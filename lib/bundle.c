/*
 * The bundle container (see bundle.h): a zstd stream written with ZSTD_compressStream2 (and raw
 * blocks for bodies known not to compress) and read with a bounded ZSTD_decompressStream. The
 * reader holds the manifest, a sorted table of the manifest's blob claims and the blobs decoded
 * ahead (DECODE_AHEAD bytes, or one larger blob); its memory is bounded by those claims. Both sides
 * hash the whole file for its signature on a second thread (struct hashpipe), beside the one that
 * (de)compresses and hashes the blobs: a channel of a gigabyte is two gigabytes of hashing.
 */
#include "lib/bundle.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "lib/input.h"

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

/* ---- the whole-file hash, on a thread of its own ----
 *
 * The owner fills fixed buffers in turn and hands each over; the worker hashes them in order
 * and, when writing, writes them to the file. A buffer is the owner's again once the worker is
 * done with it, so that at most HASHPIPE_BUFS are in flight and memory stays fixed.
 *
 * A file written is sent on to the disk every HASHPIPE_FLUSH bytes (sync_file_range, which
 * starts the writeback and does not wait for it): the disk works while the bundle is still
 * being made, and the writer's final fsync waits only for the last part, not for a gigabyte
 * at once. */
enum { HASHPIPE_BUFS = 4, HASHPIPE_BUF = 256 << 10, HASHPIPE_FLUSH = 8 << 20 };

struct hashpipe {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *buf[HASHPIPE_BUFS];
    size_t len[HASHPIPE_BUFS];
    unsigned long handed, done; /* buffers handed over, and hashed (and written) */
    bool closing, running;
    atomic_bool failed; /* a write failed */
    FILE *out;          /* where hashed buffers go, or NULL */
    off_t sent, wrote;  /* of the file: handed to the disk up to `sent`, written up to `wrote` */
    crypto_generichash_state hash;
};

static void *pipe_work(void *arg)
{
    struct hashpipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->done == p->handed && !p->closing)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->done == p->handed)
            break;
        const unsigned char *b = p->buf[p->done % HASHPIPE_BUFS];
        size_t len = p->len[p->done % HASHPIPE_BUFS];
        pthread_mutex_unlock(&p->mu);
        crypto_generichash_update(&p->hash, b, len);
        if (p->out != NULL && len > 0 && fwrite(b, 1, len, p->out) != len)
            p->failed = true;
        p->wrote += (off_t)len;
        if (p->out != NULL && p->wrote - p->sent >= HASHPIPE_FLUSH && fflush(p->out) == 0) {
            /* Only a hint: a file system without it (or a pipe) still gets the final fsync. */
            sync_file_range(fileno(p->out), p->sent, p->wrote - p->sent, SYNC_FILE_RANGE_WRITE);
            p->sent = p->wrote;
        }
        pthread_mutex_lock(&p->mu);
        p->done++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts the worker (writing to `out` when not NULL). 0, or -1 when out of memory or threads. */
static int pipe_start(struct hashpipe *p, FILE *out)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    if (out != NULL && (p->wrote = p->sent = ftello(out)) < 0)
        p->wrote = p->sent = 0;
    crypto_generichash_init(&p->hash, NULL, 0, MS_HASH_BYTES);
    if ((p->buf[0] = malloc(HASHPIPE_BUF)) == NULL) /* the others when a file needs them */
        return -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, pipe_work, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        return -1;
    }
    p->running = true;
    return 0;
}

/* The next buffer to fill (HASHPIPE_BUF bytes), once the worker no longer needs it; NULL when
 * out of memory. */
static unsigned char *pipe_buffer(struct hashpipe *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->handed - p->done >= HASHPIPE_BUFS)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    unsigned char **b = &p->buf[p->handed % HASHPIPE_BUFS];
    if (*b == NULL)
        *b = malloc(HASHPIPE_BUF);
    return *b;
}

/* Hands over the buffer pipe_buffer gave, with its first `len` bytes to hash. */
static void pipe_hand(struct hashpipe *p, size_t len)
{
    pthread_mutex_lock(&p->mu);
    p->len[p->handed % HASHPIPE_BUFS] = len;
    p->handed++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Waits until every buffer handed over is hashed (and written), stops the worker and puts the
 * hash in `out` (may be NULL). 0, or -1 when a write failed. Once stopped, does nothing. */
static int pipe_finish(struct hashpipe *p, unsigned char out[MS_HASH_BYTES])
{
    if (p->running) {
        pthread_mutex_lock(&p->mu);
        p->closing = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        p->running = false;
        unsigned char h[MS_HASH_BYTES];
        crypto_generichash_final(&p->hash, out ? out : h, MS_HASH_BYTES);
    }
    return p->failed ? -1 : 0;
}

static void pipe_free(struct hashpipe *p)
{
    pipe_finish(p, NULL);
    for (int i = 0; i < HASHPIPE_BUFS; i++)
        free(p->buf[i]);
}

/* ---- writing ---- */

struct bundle_writer {
    FILE *out;
    ZSTD_CCtx *cctx;
    unsigned char *buf;
    size_t cap;
    const struct ms_secret *sk;
    bool in_frame;        /* a compressed frame is open */
    struct hashpipe pipe; /* hashes and writes every byte before the signature frame */
    unsigned char *cur;   /* the pipe's buffer being filled */
    size_t fill;
};

static int put(struct bundle_writer *w, const void *data, size_t len, char *err, size_t errlen)
{
    const unsigned char *p = data;
    while (len > 0) {
        if (w->fill == HASHPIPE_BUF) {
            pipe_hand(&w->pipe, w->fill);
            w->cur = pipe_buffer(&w->pipe);
            w->fill = 0;
        }
        if (w->cur == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        size_t n = len < HASHPIPE_BUF - w->fill ? len : HASHPIPE_BUF - w->fill;
        memcpy(w->cur + w->fill, p, n);
        w->fill += n;
        p += n;
        len -= n;
    }
    if (w->pipe.failed) {
        snprintf(err, errlen, "cannot write the bundle");
        return -1;
    }
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
    if (pipe_start(&w->pipe, out) != 0) {
        snprintf(err, errlen, "out of memory or threads");
        goto fail;
    }
    if ((w->cur = pipe_buffer(&w->pipe)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    w->out = out;
    w->sk = sk;
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
    w->in_frame = true;
    free(sig);
    return w;
fail:
    free(sig);
    if (w) {
        pipe_free(&w->pipe);
        ZSTD_freeCCtx(w->cctx);
        free(w->buf);
        free(w);
    }
    return NULL;
}

/* A frame of raw blocks (RFC 8878 section 3.1.1): the magic, a frame header with no content
 * size and a 128 KiB window, then blocks of at most 128 KiB copied as they are. */
enum { RAW_BLOCK_MAX = 128 << 10 };

static int raw_block(struct bundle_writer *w, const void *data, size_t len, bool last, char *err,
                     size_t errlen)
{
    unsigned char head[3];
    le_store(head, (uint64_t)len << 3 | (last ? 1 : 0), 3); /* block type 0: raw */
    return put(w, head, 3, err, errlen) != 0 || put(w, data, len, err, errlen) != 0 ? -1 : 0;
}

static int raw_frame(struct bundle_writer *w, const unsigned char head[40],
                     const unsigned char *data, size_t len, char *err, size_t errlen)
{
    /* Magic 0xFD2FB528; descriptor 0 (no content size, not single-segment, no checksum, no
     * dictionary); window descriptor 0x38: 2^(10 + 7) bytes. */
    static const unsigned char frame[6] = {0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38};
    if (put(w, frame, sizeof(frame), err, errlen) != 0 ||
        raw_block(w, head, 40, len == 0, err, errlen) != 0)
        return -1;
    for (size_t at = 0; at < len; at += RAW_BLOCK_MAX) {
        size_t n = len - at < RAW_BLOCK_MAX ? len - at : RAW_BLOCK_MAX;
        if (raw_block(w, data + at, n, at + n == len, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int bundle_writer_blob(struct bundle_writer *w, const unsigned char hash[32], const void *data,
                       size_t len, bool compress, char *err, size_t errlen)
{
    unsigned char head[40];
    memcpy(head, hash, 32);
    le_store(head + 32, len, 8);
    if (!compress) {
        /* The compressed frame ends first; the next compressed blob starts a new one. */
        if (w->in_frame && zwrite(w, "", 0, ZSTD_e_end, err, errlen) != 0)
            return -1;
        w->in_frame = false;
        return raw_frame(w, head, data, len, err, errlen);
    }
    w->in_frame = true;
    if (zwrite(w, head, sizeof(head), ZSTD_e_continue, err, errlen) != 0)
        return -1;
    return zwrite(w, data, len, ZSTD_e_continue, err, errlen);
}

int bundle_writer_close(struct bundle_writer *w, char *err, size_t errlen)
{
    unsigned char end[40] = {0}, hash[MS_HASH_BYTES], head[8];
    int rc = zwrite(w, end, sizeof(end), ZSTD_e_end, err, errlen);
    char *sig = NULL;
    pipe_hand(&w->pipe, w->fill);
    if (pipe_finish(&w->pipe, hash) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write the bundle");
        rc = -1;
    }
    if (rc == 0) {
        /* The signature of every byte before it, in a skippable frame that zstd ignores. */
        sig = ms_sign_hash(w->sk, hash, SIG_FRAME_COMMENT, "mes bundle");
        if (sig == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else {
            size_t n = strlen(sig);
            le_store(head, SIG_FRAME_MAGIC, 4);
            le_store(head + 4, n, 4);
            if (fwrite(head, 1, 8, w->out) != 8 || fwrite(sig, 1, n, w->out) != n) {
                snprintf(err, errlen, "cannot write the bundle");
                rc = -1;
            }
            free(sig);
        }
    }
    if (rc == 0 && fflush(w->out) != 0) {
        snprintf(err, errlen, "cannot write the bundle");
        rc = -1;
    }
    pipe_free(&w->pipe);
    ZSTD_freeCCtx(w->cctx);
    free(w->buf);
    free(w);
    return rc;
}

/* ---- reading ---- */

struct zin {
    FILE *f;
    ZSTD_DCtx *dctx;
    unsigned char *ibuf, *obuf; /* ibuf: the pipe's buffer being read, HASHPIPE_BUF bytes */
    size_t ocap;
    ZSTD_inBuffer in;
    size_t opos, olen;  /* decompressed bytes not yet taken: obuf[opos..olen) */
    size_t frame_state; /* last ZSTD_decompressStream result: 0 at a frame's end */
    bool eof;
    struct hashpipe pipe; /* hashes the input the decompressor consumed */
};

/* Reads the next input into a fresh buffer, the consumed one going to the hash: 1 when bytes
 * came, 0 at the end of the file, -1 on a read error. */
static int zin_more(struct zin *z)
{
    if (z->in.size > 0)
        pipe_hand(&z->pipe, z->in.size);
    z->in.size = z->in.pos = 0;
    if ((z->ibuf = pipe_buffer(&z->pipe)) == NULL)
        return -1;
    z->in.src = z->ibuf;
    z->in.size = fread(z->ibuf, 1, HASHPIPE_BUF, z->f);
    z->in.pos = 0;
    if (z->in.size == 0)
        return ferror(z->f) ? -1 : 0;
    return 1;
}

/* Decompresses more into dst (cap bytes), *got of them; 1 when bytes came, 0 at the end of
 * input, -1 on error. */
static int zdecode(struct zin *z, unsigned char *dst, size_t cap, size_t *got, char *err,
                   size_t errlen)
{
    for (;;) {
        if (z->in.pos == z->in.size && !z->eof) {
            int more = zin_more(z);
            if (more < 0) {
                snprintf(err, errlen, "cannot read the bundle");
                return -1;
            }
            z->eof = more == 0;
        }
        if (z->in.pos == z->in.size && z->eof && z->frame_state == 0)
            return 0;
        ZSTD_outBuffer o = {dst, cap, 0};
        size_t rc = ZSTD_decompressStream(z->dctx, &o, &z->in);
        if (ZSTD_isError(rc)) {
            snprintf(err, errlen, "not a bundle or damaged: zstd: %s", ZSTD_getErrorName(rc));
            return -1;
        }
        z->frame_state = rc;
        if (o.pos > 0) {
            *got = o.pos;
            return 1;
        }
        if (z->in.pos == z->in.size && z->eof) {
            snprintf(err, errlen, "the bundle is truncated");
            return -1;
        }
    }
}

/* Takes exactly n decompressed bytes; -1 with err when the stream ends first. A large read
 * is decompressed straight into `out`, not through obuf. */
static int zread(struct zin *z, void *out, size_t n, char *err, size_t errlen)
{
    unsigned char *p = out;
    while (n > 0) {
        if (z->opos == z->olen) {
            bool direct = n >= z->ocap;
            size_t got = 0;
            int rc = direct ? zdecode(z, p, n, &got, err, errlen)
                            : zdecode(z, z->obuf, z->ocap, &got, err, errlen);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                snprintf(err, errlen, "the bundle is truncated");
                return -1;
            }
            if (direct) {
                p += got;
                n -= got;
                continue;
            }
            z->opos = 0;
            z->olen = got;
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
            z->in.size = fread(z->ibuf, 1, HASHPIPE_BUF, z->f);
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
        if (z->in.pos == z->in.size && zin_more(z) <= 0) {
            snprintf(err, errlen, "the bundle is truncated");
            return -1;
        }
        ZSTD_outBuffer o = {z->obuf, z->ocap, 0};
        size_t rc = ZSTD_decompressStream(z->dctx, &o, &z->in);
        if (ZSTD_isError(rc) || o.pos > 0) {
            snprintf(err, errlen,
                     ZSTD_isError(rc) ? "the bundle is damaged"
                                      : "bytes after the end of the bundle");
            return -1;
        }
        z->frame_state = rc;
    }
    /* The hash covers what the decompressor consumed; the signature frame follows it. The
     * raw reads below reuse the pipe's buffer once the worker is done. */
    unsigned char head[8], hash[MS_HASH_BYTES], extra;
    pipe_hand(&z->pipe, z->in.pos);
    pipe_finish(&z->pipe, hash);
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
    else if (ms_sig_parse(sigtext, slen, sig, why, sizeof(why)) != 0 || !sig->prehashed ||
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

/* ---- the blobs, decoded ahead ----
 *
 * A worker reads each blob's head and bytes, checks them against the claims and the hash, and
 * queues them; the consumer takes them in order and calls back. The queue holds at most
 * DECODE_AHEAD bytes (one larger blob alone), so memory stays bounded by the claims.
 *
 * The worker starts once the manifest's signature is checked, while the consumer parses it
 * into the claims (half a second for 200,000 blobs). Blobs whose bytes a callback takes wait
 * for the claims, which bound what is read; those nobody keeps (a verification) are hashed in
 * pieces meanwhile, and up to DECODE_PENDING of them wait with only their hash and length for
 * the claims to check them against. */
enum { DECODE_AHEAD = 16 << 20, DECODE_PENDING = 1 << 20, DECODE_PIECE = 256 << 10 };
#define DBLOB_COST(b) ((b)->cap + sizeof(struct dblob))
/* Buffers come back to the worker for the next blobs: malloc'ed on one thread and freed on
 * another, glibc would keep giving the worker new memory. */
enum { DBLOB_MIN_CAP = 64 << 10 };

struct dblob {
    struct dblob *next;
    const struct claim *claim;
    void *prepared; /* what ops->prepare made of it */
    size_t len, cap;
    unsigned char data[];
};

struct pending {
    unsigned char hash[32];
    uint64_t len;
};

struct decoder {
    const struct bundle_ops *ops;
    struct zin *z;
    const struct ms_public *pk;
    struct claim *claims; /* NULL until the consumer hands them over (decoder_claims) */
    size_t nclaims;
    bool claimed;                /* handed over (claims may still be NULL: refused) */
    struct pending *pending;     /* blobs checked but for their claims, the worker's own */
    size_t npending, cappending; /* at most DECODE_PENDING */
    long taken;                  /* blobs checked that were not queued (nobody keeps them) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct dblob *head, *tail;
    struct dblob *spare; /* taken buffers, for the worker to reuse */
    size_t queued;       /* bytes the queue holds */
    bool done;           /* the worker ended: rc and err say how */
    bool stop;           /* the consumer refused a blob: the worker gives up */
    int rc;
    char err[512];
};

/* Queues a checked blob; false (the blob freed) when the consumer has stopped. */
static bool decoder_put(struct decoder *d, struct dblob *b)
{
    pthread_mutex_lock(&d->mu);
    while (!d->stop && d->queued > 0 && d->queued + DBLOB_COST(b) > DECODE_AHEAD)
        pthread_cond_wait(&d->cv, &d->mu);
    bool ok = !d->stop;
    if (ok) {
        if (d->tail)
            d->tail->next = b;
        else
            d->head = b;
        d->tail = b;
        d->queued += DBLOB_COST(b);
        if (d->head == b) /* the consumer may be waiting for it */
            pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    if (!ok) {
        if (d->ops->release)
            d->ops->release(b->prepared);
        free(b);
    }
    return ok;
}

/* For the worker, whether the claims are in: 1 yes (d->claims then stays as it is), 0 not yet,
 * -1 when the consumer stopped or refused the manifest. Waits for them when `wait`. */
static int decoder_poll(struct decoder *d, bool wait)
{
    pthread_mutex_lock(&d->mu);
    while (wait && !d->claimed && !d->stop)
        pthread_cond_wait(&d->cv, &d->mu);
    int state = d->stop || (d->claimed && d->claims == NULL) ? -1 : d->claimed ? 1 : 0;
    pthread_mutex_unlock(&d->mu);
    return state;
}

/* Checks a blob's head against the claims and marks it seen; NULL with err when it may not be
 * carried. */
static struct claim *decoder_claim(struct decoder *d, const unsigned char hash[32], uint64_t len,
                                   char *err, size_t errlen)
{
    struct claim *c = bsearch(hash, d->claims, d->nclaims, sizeof(*d->claims), claim_cmp);
    if (c == NULL || c->seen || c->size != len) {
        snprintf(err, errlen,
                 c == NULL ? "the bundle carries a blob its manifest does not name"
                 : c->seen ? "the bundle carries a blob twice"
                           : "a blob's length differs from its manifest's claim");
        return NULL;
    }
    c->seen = true;
    return c;
}

/* Reads a blob nobody keeps, in pieces, and checks it against its hash. */
static int decoder_skim(struct decoder *d, unsigned char *piece, const unsigned char hash[32],
                        uint64_t len, char *err, size_t errlen)
{
    crypto_generichash_state st;
    unsigned char got[32];
    crypto_generichash_init(&st, NULL, 0, sizeof(got));
    for (uint64_t at = 0; at < len;) {
        size_t n = len - at < DECODE_PIECE ? (size_t)(len - at) : DECODE_PIECE;
        if (zread(d->z, piece, n, err, errlen) != 0)
            return -1;
        crypto_generichash_update(&st, piece, n);
        at += n;
    }
    crypto_generichash_final(&st, got, sizeof(got));
    if (sodium_memcmp(got, hash, 32) != 0) {
        snprintf(err, errlen, "a blob does not match its hash");
        return -1;
    }
    return 0;
}

/* Once the claims are in: the blobs that waited for them are checked against them. */
static int decoder_settle(struct decoder *d, char *err, size_t errlen)
{
    if (decoder_poll(d, true) < 0) {
        snprintf(err, errlen, "stopped");
        return -1;
    }
    for (size_t i = 0; i < d->npending; i++)
        if (decoder_claim(d, d->pending[i].hash, d->pending[i].len, err, errlen) == NULL)
            return -1;
    d->taken += (long)d->npending;
    d->npending = 0;
    return 0;
}

static void *decode_work(void *arg)
{
    struct decoder *d = arg;
    char err[512] = "";
    int rc = -1;
    bool keep = d->ops->blob != NULL || d->ops->prepare != NULL;
    unsigned char *piece = keep ? NULL : malloc(DECODE_PIECE);
    if (!keep && piece == NULL) {
        snprintf(err, sizeof(err), "out of memory");
        goto done;
    }
    for (;;) {
        unsigned char bh[40];
        if (zread(d->z, bh, sizeof(bh), err, sizeof(err)) != 0)
            break;
        uint64_t len = le_load(bh + 32, 8);
        if (memcmp(bh, zero_hash, 32) == 0 && len == 0) {
            if (decoder_settle(d, err, sizeof(err)) == 0)
                rc = zend(d->z, d->pk, err, sizeof(err));
            break;
        }
        if (!keep) {
            if (len > BUNDLE_BLOB_MAX) {
                snprintf(err, sizeof(err), "a blob's length differs from its manifest's claim");
                break;
            }
            if (decoder_skim(d, piece, bh, len, err, sizeof(err)) != 0)
                break;
            int state = decoder_poll(d, false);
            if (state < 0)
                break;
            if (state == 0 && d->npending < DECODE_PENDING) {
                if (d->npending == d->cappending) {
                    size_t cap = d->cappending ? 2 * d->cappending : 4096;
                    void *more = realloc(d->pending, cap * sizeof(*d->pending));
                    if (more == NULL) {
                        snprintf(err, sizeof(err), "out of memory");
                        break;
                    }
                    d->pending = more;
                    d->cappending = cap;
                }
                memcpy(d->pending[d->npending].hash, bh, 32);
                d->pending[d->npending++].len = len;
                continue;
            }
            if (decoder_settle(d, err, sizeof(err)) != 0 ||
                decoder_claim(d, bh, len, err, sizeof(err)) == NULL)
                break;
            d->taken++;
            continue;
        }
        struct claim *c;
        if (decoder_settle(d, err, sizeof(err)) != 0 ||
            (c = decoder_claim(d, bh, len, err, sizeof(err))) == NULL)
            break;
        pthread_mutex_lock(&d->mu);
        struct dblob *b = d->spare;
        if (b != NULL)
            d->spare = b->next;
        pthread_mutex_unlock(&d->mu);
        if (b != NULL && b->cap < len) {
            free(b);
            b = NULL;
        }
        size_t cap = len > DBLOB_MIN_CAP ? len : DBLOB_MIN_CAP; /* len <= BUNDLE_BLOB_MAX */
        if (b == NULL && (b = malloc(sizeof(*b) + cap)) != NULL)
            b->cap = cap;
        if (b == NULL) {
            snprintf(err, sizeof(err), "out of memory");
            break;
        }
        b->next = NULL;
        b->claim = c;
        b->len = len;
        unsigned char got[32];
        if (zread(d->z, b->data, len, err, sizeof(err)) != 0 ||
            (crypto_generichash(got, sizeof(got), b->data, len, NULL, 0),
             sodium_memcmp(got, c->hash, 32) != 0)) {
            if (err[0] == '\0')
                snprintf(err, sizeof(err), "a blob does not match its hash");
            free(b);
            break;
        }
        b->prepared = d->ops->prepare ? d->ops->prepare(b->data, len) : NULL;
        if (!decoder_put(d, b))
            break;
    }
done:
    free(piece);
    free(d->pending);
    pthread_mutex_lock(&d->mu);
    d->done = true;
    d->rc = rc;
    memcpy(d->err, err, sizeof(err));
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Hands the claims over to the worker (NULL: the manifest was refused; the consumer then stops
 * it). The claims stay the caller's. */
static void decoder_claims(struct decoder *d, struct claim *claims, size_t n)
{
    pthread_mutex_lock(&d->mu);
    d->claims = claims;
    d->nclaims = n;
    d->claimed = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static int decoder_start(struct decoder *d)
{
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, decode_work, d) == 0)
        return 0;
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    return -1;
}

/* Calls ops->blob for each blob in order until the worker ends, taking what is queued in
 * batches; stops the worker at once when `refuse`, or when a callback refuses. Joins the worker
 * in every case. 0 when every blob was taken and the bundle's end and signature checked, else
 * -1 with err. *count: the blobs taken (and those checked that nobody keeps). */
static int decoder_consume(struct decoder *d, const struct bundle_ops *ops, void *ctx, bool refuse,
                           long *count, char *err, size_t errlen)
{
    int rc = refuse ? -1 : 0;
    while (rc == 0) {
        pthread_mutex_lock(&d->mu);
        while (d->head == NULL && !d->done)
            pthread_cond_wait(&d->cv, &d->mu);
        struct dblob *batch = d->head, *last = NULL;
        d->head = d->tail = NULL;
        pthread_mutex_unlock(&d->mu);
        if (batch == NULL)
            break;
        size_t cost = 0;
        for (struct dblob *b = batch; b != NULL; b = b->next) {
            if (rc == 0 && ops->blob &&
                ops->blob(ctx, b->claim->hash, b->data, b->len, b->prepared, err, errlen) != 0)
                rc = -1;
            if (ops->release)
                ops->release(b->prepared);
            b->prepared = NULL;
            if (rc == 0)
                (*count)++;
            cost += DBLOB_COST(b);
            last = b;
        }
        pthread_mutex_lock(&d->mu); /* the buffers go back for reuse, the room with them */
        last->next = d->spare;
        d->spare = batch;
        d->queued -= cost;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
    }
    pthread_mutex_lock(&d->mu);
    d->stop = rc != 0;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    for (struct dblob *b = d->head, *next; b != NULL; b = next) {
        next = b->next;
        if (ops->release)
            ops->release(b->prepared);
        free(b);
    }
    for (struct dblob *b = d->spare, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    if (rc == 0 && d->rc != 0) {
        snprintf(err, errlen, "%s", d->err);
        rc = -1;
    }
    *count += d->taken;
    return rc;
}

int bundle_read(FILE *in, const struct ms_public *pk, const struct bundle_ops *ops, void *ctx,
                long *carried, char *err, size_t errlen)
{
    struct zin z = {.f = in};
    char *manifest = NULL, *sigtext = NULL;
    struct ms_sig *sig = NULL;
    struct claim *claims = NULL;
    json_t *doc = NULL;
    size_t nclaims = 0;
    long count = 0;
    int rc = -1;
    z.dctx = ZSTD_createDCtx();
    z.obuf = malloc(z.ocap = ZSTD_DStreamOutSize());
    sig = malloc(sizeof(*sig));
    if (z.dctx == NULL || z.obuf == NULL || sig == NULL || pipe_start(&z.pipe, NULL) != 0) {
        snprintf(err, errlen, "out of memory or threads");
        goto out;
    }
    ZSTD_DCtx_setParameter(z.dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);

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
    /* The blobs are decompressed and checked on a thread of their own, a few MiB ahead of the
     * consumer, which stores them on this one; it starts while the manifest is parsed. */
    struct decoder d = {.ops = ops, .z = &z, .pk = pk};
    if (decoder_start(&d) != 0) {
        snprintf(err, errlen, "out of memory or threads");
        goto out;
    }
    json_error_t jerr;
    bool refused = true;
    doc =
        input_json_loadb(manifest, mlen, JSON_REJECT_DUPLICATES, INPUT_JSON_DEPTH_DOCUMENTS, &jerr);
    if (!json_is_object(doc))
        snprintf(err, errlen, "manifest: not a JSON object (%s)", jerr.text);
    else if ((claims = claims_parse(doc, &nclaims, err, errlen)) != NULL)
        refused = false;
    decoder_claims(&d, claims, nclaims);
    refused = refused ||
              (ops->manifest && ops->manifest(ctx, doc, sig, manifest, mlen, err, errlen) != 0);
    if (decoder_consume(&d, ops, ctx, refused, &count, err, errlen) != 0)
        goto out;
    if (carried)
        *carried = count;
    rc = 0;
out:
    pipe_free(&z.pipe);
    ZSTD_freeDCtx(z.dctx);
    free(z.obuf);
    free(manifest);
    free(sigtext);
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
