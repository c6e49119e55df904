/*
 * minisign's key and signature formats over libsodium (formats in minisign.h). Key files are
 * a few hundred bytes and signatures at most MS_SIG_TEXT_MAX: both are read whole.
 */
#include "lib/minisign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNTRUSTED    "untrusted comment: "
#define TRUSTED      "trusted comment: "
#define KEY_FILE_MAX 4096

/* The secret key file's fixed layout (minisign's SeckeyStruct): 158 bytes. */
struct seckey_file {
    unsigned char sig_alg[2];
    unsigned char kdf_alg[2];
    unsigned char chk_alg[2];
    unsigned char salt[crypto_pwhash_scryptsalsa208sha256_SALTBYTES];
    unsigned char opslimit[8];
    unsigned char memlimit[8];
    unsigned char id[MS_ID_BYTES]; /* from here to the end: encrypted with scrypt's stream */
    unsigned char sk[64];
    unsigned char chk[32];
};
#define SECRET_TAIL (MS_ID_BYTES + 64 + 32)

_Static_assert(sizeof(struct seckey_file) == 158, "minisign's secret key layout");
_Static_assert(offsetof(struct seckey_file, chk) + 32 == 158, "the encrypted tail ends the file");

static void le64_store(unsigned char out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le64_load(const unsigned char in[8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | in[i];
    return v;
}

void ms_id_hex(const unsigned char id[MS_ID_BYTES], char out[17])
{
    snprintf(out, 17, "%016" PRIX64, le64_load(id));
}

/* Splits the next line off text[*pos..len): returns its start and sets *n to its length
 * without the line break (a trailing \r dropped too); NULL at the end. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *n)
{
    if (*pos >= len)
        return NULL;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t l = nl ? (size_t)(nl - start) : len - *pos;
    *pos += l + (nl != NULL);
    if (l > 0 && start[l - 1] == '\r')
        l--;
    *n = l;
    return start;
}

/* Decodes exactly `want` bytes of standard base64 from a line. */
static int b64_exact(const char *line, size_t n, void *out, size_t want)
{
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, want, line, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        got != want || end != line + n)
        return -1;
    return 0;
}

static char *b64_encode(const void *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* Reads a small file whole into buf (NUL-terminated); its length, or -1 with err. */
static ssize_t read_small(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        snprintf(err, errlen, "%s: too large for a key", path);
        return -1;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

int ms_public_parse(const char *text, size_t len, struct ms_public *out, char *err, size_t errlen)
{
    size_t pos = 0, n = 0;
    const char *line = next_line(text, len, &pos, &n);
    if (line && n >= sizeof(UNTRUSTED) - 1 && memcmp(line, UNTRUSTED, sizeof(UNTRUSTED) - 1) == 0)
        line = next_line(text, len, &pos, &n);
    while (line && n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    unsigned char raw[2 + MS_ID_BYTES + 32];
    if (line == NULL || b64_exact(line, n, raw, sizeof(raw)) != 0 || memcmp(raw, "Ed", 2) != 0) {
        snprintf(err, errlen, "not a minisign public key");
        return -1;
    }
    memcpy(out->id, raw + 2, MS_ID_BYTES);
    memcpy(out->pk, raw + 2 + MS_ID_BYTES, 32);
    return 0;
}

int ms_public_load(const char *arg, struct ms_public *out, char *err, size_t errlen)
{
    char buf[KEY_FILE_MAX];
    struct stat st;
    if (stat(arg, &st) != 0 && strlen(arg) == MS_PUBLIC_B64 - 1)
        return ms_public_parse(arg, strlen(arg), out, err, errlen);
    ssize_t n = read_small(arg, buf, sizeof(buf), err, errlen);
    if (n < 0)
        return -1;
    if (ms_public_parse(buf, (size_t)n, out, err, errlen) != 0) {
        snprintf(err, errlen, "%s: not a minisign public key", arg);
        return -1;
    }
    return 0;
}

void ms_public_base64(const struct ms_public *pk, char out[MS_PUBLIC_B64])
{
    unsigned char raw[2 + MS_ID_BYTES + 32];
    memcpy(raw, "Ed", 2);
    memcpy(raw + 2, pk->id, MS_ID_BYTES);
    memcpy(raw + 2 + MS_ID_BYTES, pk->pk, 32);
    sodium_bin2base64(out, MS_PUBLIC_B64, raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
}

struct ms_secret *ms_secret_generate(struct ms_public *pk)
{
    struct ms_secret *sk = sodium_malloc(sizeof(*sk));
    if (sk == NULL)
        return NULL;
    randombytes_buf(sk->id, MS_ID_BYTES);
    crypto_sign_keypair(pk->pk, sk->sk);
    memcpy(pk->id, sk->id, MS_ID_BYTES);
    return sk;
}

void ms_secret_public(const struct ms_secret *sk, struct ms_public *pk)
{
    memcpy(pk->id, sk->id, MS_ID_BYTES);
    crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

void ms_secret_free(struct ms_secret *sk)
{
    sodium_free(sk); /* sodium_free wipes */
}

static void secret_checksum(const struct seckey_file *f, unsigned char chk[32])
{
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, 32);
    crypto_generichash_update(&hs, f->sig_alg, 2);
    crypto_generichash_update(&hs, f->id, MS_ID_BYTES);
    crypto_generichash_update(&hs, f->sk, 64);
    crypto_generichash_final(&hs, chk, 32);
}

/* XORs the encrypted tail of a secret key file with scrypt's stream for `password`. */
static int secret_crypt(struct seckey_file *f, const char *password)
{
    unsigned char *stream = sodium_malloc(SECRET_TAIL);
    if (stream == NULL)
        return -1;
    int rc =
        crypto_pwhash_scryptsalsa208sha256(stream, SECRET_TAIL, password, strlen(password), f->salt,
                                           le64_load(f->opslimit), (size_t)le64_load(f->memlimit));
    unsigned char *tail = (unsigned char *)f + offsetof(struct seckey_file, id);
    if (rc == 0)
        for (size_t i = 0; i < SECRET_TAIL; i++)
            tail[i] ^= stream[i]; /* id, sk and chk are contiguous */
    sodium_free(stream);
    return rc;
}

struct ms_secret *ms_secret_load(const char *path, const char *password, char *err, size_t errlen)
{
    char *buf = sodium_malloc(KEY_FILE_MAX);
    struct seckey_file *f = sodium_malloc(sizeof(*f));
    struct ms_secret *sk = NULL;
    if (buf == NULL || f == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ssize_t len = read_small(path, buf, KEY_FILE_MAX, err, errlen);
    if (len < 0)
        goto out;
    size_t pos = 0, n = 0;
    const char *line = next_line(buf, (size_t)len, &pos, &n);
    if (line && n >= sizeof(UNTRUSTED) - 1 && memcmp(line, UNTRUSTED, sizeof(UNTRUSTED) - 1) == 0)
        line = next_line(buf, (size_t)len, &pos, &n);
    if (line == NULL || b64_exact(line, n, f, sizeof(*f)) != 0 || memcmp(f->sig_alg, "Ed", 2) ||
        memcmp(f->chk_alg, "B2", 2) != 0) {
        snprintf(err, errlen, "%s: not a minisign secret key", path);
        goto out;
    }
    bool encrypted = memcmp(f->kdf_alg, "Sc", 2) == 0;
    if (!encrypted && memcmp(f->kdf_alg, "\0\0", 2) != 0) {
        snprintf(err, errlen, "%s: unknown key derivation", path);
        goto out;
    }
    if (encrypted && password == NULL) {
        snprintf(err, errlen, "%s: the key is encrypted: give its password", path);
        goto out;
    }
    if (encrypted && secret_crypt(f, password) != 0) {
        snprintf(err, errlen, "%s: cannot derive the key from the password (memory?)", path);
        goto out;
    }
    /* minisign leaves the checksum of an unencrypted key zero; any other must match. */
    unsigned char chk[32], zero[32] = {0};
    secret_checksum(f, chk);
    if (sodium_memcmp(chk, f->chk, 32) != 0 && (encrypted || sodium_memcmp(f->chk, zero, 32))) {
        snprintf(err, errlen, encrypted ? "%s: wrong password" : "%s: damaged secret key", path);
        goto out;
    }
    sk = sodium_malloc(sizeof(*sk));
    if (sk == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(sk->id, f->id, MS_ID_BYTES);
    memcpy(sk->sk, f->sk, 64);
out:
    sodium_free(buf);
    sodium_free(f);
    return sk;
}

/* Writes text to a new file of the given mode (never replacing one), durably. */
static int write_new(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    return 0;
}

int ms_secret_write(const char *path, const struct ms_secret *sk, const char *password, char *err,
                    size_t errlen)
{
    struct seckey_file *f = sodium_malloc(sizeof(*f));
    size_t cap = sizeof(UNTRUSTED) + 64 + sodium_base64_ENCODED_LEN(sizeof(*f), 1) + 2;
    char *text = sodium_malloc(cap);
    int rc = -1;
    if (f == NULL || text == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memset(f, 0, sizeof(*f));
    memcpy(f->sig_alg, "Ed", 2);
    memcpy(f->chk_alg, "B2", 2);
    memcpy(f->id, sk->id, MS_ID_BYTES);
    memcpy(f->sk, sk->sk, 64);
    secret_checksum(f, f->chk);
    if (password != NULL) {
        memcpy(f->kdf_alg, "Sc", 2);
        randombytes_buf(f->salt, sizeof(f->salt));
        le64_store(f->opslimit, crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE);
        le64_store(f->memlimit, crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
        if (secret_crypt(f, password) != 0) {
            snprintf(err, errlen, "cannot derive a key from the password (memory?)");
            goto out;
        }
    }
    int n = snprintf(text, cap, UNTRUSTED "minisign %s secret key\n",
                     password ? "encrypted" : "unencrypted");
    sodium_bin2base64(text + n, cap - (size_t)n - 1, (const unsigned char *)f, sizeof(*f),
                      sodium_base64_VARIANT_ORIGINAL);
    strcat(text, "\n");
    rc = write_new(path, text, 0600, err, errlen);
out:
    sodium_free(f);
    sodium_free(text);
    return rc;
}

int ms_public_write(const char *path, const struct ms_public *pk, char *err, size_t errlen)
{
    char id[17], b64[MS_PUBLIC_B64], text[160];
    ms_id_hex(pk->id, id);
    ms_public_base64(pk, b64);
    snprintf(text, sizeof(text), UNTRUSTED "minisign public key %s\n%s\n", id, b64);
    if (write_new(path, text, 0644, err, errlen) != 0)
        return -1;
    return 0;
}

static bool comment_ok(const char *c, size_t max)
{
    return strlen(c) < max && strpbrk(c, "\r\n") == NULL;
}

char *ms_sign_hash(const struct ms_secret *sk, const unsigned char hash[MS_HASH_BYTES],
                   const char *untrusted, const char *trusted)
{
    if (!comment_ok(untrusted, 1024 - sizeof(UNTRUSTED)) ||
        !comment_ok(trusted, MS_TRUSTED_MAX - sizeof(TRUSTED)))
        return NULL;
    unsigned char sig[2 + MS_ID_BYTES + 64], global[64];
    memcpy(sig, "ED", 2);
    memcpy(sig + 2, sk->id, MS_ID_BYTES);
    crypto_sign_detached(sig + 2 + MS_ID_BYTES, NULL, hash, MS_HASH_BYTES, sk->sk);
    size_t tlen = strlen(trusted);
    unsigned char *signed_part = malloc(64 + tlen);
    if (signed_part == NULL)
        return NULL;
    memcpy(signed_part, sig + 2 + MS_ID_BYTES, 64);
    memcpy(signed_part + 64, trusted, tlen);
    crypto_sign_detached(global, NULL, signed_part, 64 + tlen, sk->sk);
    free(signed_part);
    char *s64 = b64_encode(sig, sizeof(sig)), *g64 = b64_encode(global, sizeof(global));
    char *out = NULL;
    if (s64 && g64 &&
        asprintf(&out, UNTRUSTED "%s\n%s\n" TRUSTED "%s\n%s\n", untrusted, s64, trusted, g64) < 0)
        out = NULL;
    free(s64);
    free(g64);
    return out;
}

char *ms_sign(const struct ms_secret *sk, const void *msg, size_t len, const char *untrusted,
              const char *trusted)
{
    unsigned char hash[MS_HASH_BYTES];
    crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
    return ms_sign_hash(sk, hash, untrusted, trusted);
}

int ms_sig_parse(const char *text, size_t len, struct ms_sig *out, char *err, size_t errlen)
{
    size_t pos = 0, n[4];
    const char *line[4];
    for (int i = 0; i < 4; i++)
        if ((line[i] = next_line(text, len, &pos, &n[i])) == NULL) {
            snprintf(err, errlen, "signature: too short (4 lines expected)");
            return -1;
        }
    while (pos < len && (text[pos] == '\n' || text[pos] == '\r'))
        pos++;
    unsigned char raw[2 + MS_ID_BYTES + 64];
    if (len > MS_SIG_TEXT_MAX || pos != len) {
        snprintf(err, errlen, "signature: too long");
        return -1;
    }
    if (n[0] < sizeof(UNTRUSTED) - 1 || memcmp(line[0], UNTRUSTED, sizeof(UNTRUSTED) - 1) != 0 ||
        b64_exact(line[1], n[1], raw, sizeof(raw)) != 0 ||
        (memcmp(raw, "ED", 2) != 0 && memcmp(raw, "Ed", 2) != 0)) {
        snprintf(err, errlen, "signature: not a minisign signature");
        return -1;
    }
    size_t tn = n[2] - (sizeof(TRUSTED) - 1);
    if (n[2] < sizeof(TRUSTED) - 1 || memcmp(line[2], TRUSTED, sizeof(TRUSTED) - 1) != 0 ||
        tn >= MS_TRUSTED_MAX || memchr(line[2], '\0', n[2]) != NULL ||
        b64_exact(line[3], n[3], out->global, sizeof(out->global)) != 0) {
        snprintf(err, errlen, "signature: the trusted comment is missing or malformed");
        return -1;
    }
    out->prehashed = raw[1] == 'D';
    memcpy(out->id, raw + 2, MS_ID_BYTES);
    memcpy(out->sig, raw + 2 + MS_ID_BYTES, 64);
    memcpy(out->trusted, line[2] + sizeof(TRUSTED) - 1, tn);
    out->trusted[tn] = '\0';
    return 0;
}

int ms_sig_check(const struct ms_public *pk, const struct ms_sig *sig,
                 const unsigned char hash[MS_HASH_BYTES], const void *msg, size_t len, char *err,
                 size_t errlen)
{
    if (memcmp(sig->id, pk->id, MS_ID_BYTES) != 0) {
        char want[17], got[17];
        ms_id_hex(pk->id, want);
        ms_id_hex(sig->id, got);
        snprintf(err, errlen, "signed with key %s, not with the expected key %s", got, want);
        return -1;
    }
    int bad = sig->prehashed
                  ? hash == NULL ||
                        crypto_sign_verify_detached(sig->sig, hash, MS_HASH_BYTES, pk->pk) != 0
                  : msg == NULL || crypto_sign_verify_detached(sig->sig, msg, len, pk->pk) != 0;
    if (bad) {
        snprintf(err, errlen, "signature verification failed");
        return -1;
    }
    size_t tlen = strlen(sig->trusted);
    unsigned char *signed_part = malloc(64 + tlen);
    if (signed_part == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(signed_part, sig->sig, 64);
    memcpy(signed_part + 64, sig->trusted, tlen);
    bad = crypto_sign_verify_detached(sig->global, signed_part, 64 + tlen, pk->pk) != 0;
    free(signed_part);
    if (bad) {
        snprintf(err, errlen, "comment signature verification failed");
        return -1;
    }
    return 0;
}

int ms_verify(const struct ms_public *pk, const void *msg, size_t len, const char *sigtext,
              size_t siglen, struct ms_sig *out, char *err, size_t errlen)
{
    if (ms_sig_parse(sigtext, siglen, out, err, errlen) != 0)
        return -1;
    unsigned char hash[MS_HASH_BYTES];
    crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
    return ms_sig_check(pk, out, hash, msg, len, err, errlen);
}
