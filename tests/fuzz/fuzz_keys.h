/*
 * Fixed signing keys of the fuzz targets that read signed input (bundles, reports): made from
 * constant seeds, so that a bundle or report one run signed (a committed seed, a finding) still
 * verifies in the next. Test keys only: their secret halves are in this file.
 */
#ifndef MES_FUZZ_KEYS_H
#define MES_FUZZ_KEYS_H

#include <sodium.h>
#include <string.h>

#include "lib/minisign.h"

/* Key `which` (0 the signer the targets trust, 1 another): its secret in *sk, public in *pk. */
static inline void fuzz_key(int which, struct ms_secret *sk, struct ms_public *pk)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    memset(seed, 0x5a + which, sizeof(seed));
    memset(sk->id, 0x10 + which, sizeof(sk->id));
    crypto_sign_seed_keypair(pk->pk, sk->sk, seed);
    memcpy(pk->id, sk->id, sizeof(pk->id));
}

#endif
