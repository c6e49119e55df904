/*
 * Keys and signatures in minisign's formats (PRODUCT.md section 8), so that stock
 * `minisign -V` checks what a node signs and a node checks what `minisign -S` signs.
 *
 *   public key   "untrusted comment: ..." line, then base64("Ed" | key id[8] | pk[32])
 *   secret key   "untrusted comment: ..." line, then base64 of 158 bytes: "Ed", KDF ("Sc":
 *                scrypt-encrypted, or two zero bytes: plain), "B2", salt[32], opslimit and
 *                memlimit (little-endian u64), then key id[8] | sk[64] | BLAKE2b-256 checksum
 *                of "Ed" | key id | sk, XORed with the scrypt stream when encrypted
 *   signature    "untrusted comment: ..." line, base64("ED" | key id | Ed25519(BLAKE2b-512 of
 *                the file))  ("Ed": legacy, the file itself signed), "trusted comment: ..."
 *                line, base64(Ed25519(signature | trusted comment))
 *
 * We always sign prehashed ("ED") and verify both. Secret keys live only in sodium_malloc
 * memory and are wiped when freed. No function here prints or exits.
 */
#ifndef MES_MINISIGN_H
#define MES_MINISIGN_H

#include <stddef.h>

#define MS_ID_BYTES     8
#define MS_HASH_BYTES   64    /* BLAKE2b-512, the prehash */
#define MS_PUBLIC_B64   57    /* base64 of the 42-byte public key, with its NUL */
#define MS_TRUSTED_MAX  8192  /* a trusted comment's bytes, NUL included */
#define MS_SIG_TEXT_MAX 10240 /* a whole .minisig text we accept */

struct ms_public {
    unsigned char id[MS_ID_BYTES];
    unsigned char pk[32];
};

struct ms_secret {
    unsigned char id[MS_ID_BYTES];
    unsigned char sk[64];
};

struct ms_sig {
    int prehashed; /* "ED": the signed message is BLAKE2b-512 of the file */
    unsigned char id[MS_ID_BYTES];
    unsigned char sig[64];
    unsigned char global[64];
    char trusted[MS_TRUSTED_MAX]; /* the trusted comment, without its prefix */
};

/* Parses a public key: the text of a .pub file or the bare base64 string. 0, or -1 with err. */
int ms_public_parse(const char *text, size_t len, struct ms_public *out, char *err, size_t errlen);
/* `arg` names a .pub file or is itself the base64 string (as `minisign -P`). */
int ms_public_load(const char *arg, struct ms_public *out, char *err, size_t errlen);
/* The key as base64 (out holds MS_PUBLIC_B64 bytes) and its id as 16 hex digits (17 bytes),
 * as minisign prints them. */
void ms_public_base64(const struct ms_public *pk, char out[MS_PUBLIC_B64]);
void ms_id_hex(const unsigned char id[MS_ID_BYTES], char out[17]);

/* A new key pair; the secret in sodium_malloc memory (free with ms_secret_free). NULL when
 * out of memory. */
struct ms_secret *ms_secret_generate(struct ms_public *pk);
/* Loads a secret key file; `password` (NULL: none) decrypts an encrypted one. The checksum is
 * checked (a wrong password fails it). NULL with err. */
struct ms_secret *ms_secret_load(const char *path, const char *password, char *err, size_t errlen);
/* The public half of a secret key. */
void ms_secret_public(const struct ms_secret *sk, struct ms_public *pk);
void ms_secret_free(struct ms_secret *sk);

/* Writes key files, refusing to replace an existing file: the secret mode 0600 (encrypted with
 * scrypt when password is not NULL), the public 0644. 0, or -1 with err. */
int ms_secret_write(const char *path, const struct ms_secret *sk, const char *password, char *err,
                    size_t errlen);
int ms_public_write(const char *path, const struct ms_public *pk, char *err, size_t errlen);

/* The .minisig text (malloc'ed; NULL when out of memory or a comment holds a line break or is
 * too long) of a message whose BLAKE2b-512 is `hash`. */
char *ms_sign_hash(const struct ms_secret *sk, const unsigned char hash[MS_HASH_BYTES],
                   const char *untrusted, const char *trusted);
/* The same for a message in memory. */
char *ms_sign(const struct ms_secret *sk, const void *msg, size_t len, const char *untrusted,
              const char *trusted);

/* Parses a .minisig text. 0, or -1 with err. */
int ms_sig_parse(const char *text, size_t len, struct ms_sig *out, char *err, size_t errlen);
/* Checks a parsed signature against `pk`: the key id, the signature of the message (its hash
 * for a prehashed signature, else the message itself: pass what the signature needs, the
 * other may be NULL) and the signature of the trusted comment. 0 valid, -1 with err. */
int ms_sig_check(const struct ms_public *pk, const struct ms_sig *sig,
                 const unsigned char hash[MS_HASH_BYTES], const void *msg, size_t len, char *err,
                 size_t errlen);
/* Parses and checks a signature of a message in memory. */
int ms_verify(const struct ms_public *pk, const void *msg, size_t len, const char *sigtext,
              size_t siglen, struct ms_sig *out, char *err, size_t errlen);

#endif
