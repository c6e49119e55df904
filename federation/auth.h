/*
 * Signed requests between nodes (docs/federation.md, "Requests between nodes"): a region
 * signs each request to the hub with its node key; the hub answers only enrolled regions
 * whose signature verifies with the key enrolled for them, within five minutes of its clock.
 *
 *   X-Mes-Region:    the region's code
 *   X-Mes-Time:      unix seconds
 *   X-Mes-Signature: base64 of Ed25519 over
 *                    "mes-fed-1\n" METHOD "\n" PATH?QUERY "\n" TIME "\n" hex(BLAKE2b-256(body))
 */
#ifndef MES_FED_AUTH_H
#define MES_FED_AUTH_H

#include <stddef.h>

#include "lib/minisign.h"

struct req;

#define FED_SKEW_S  300
#define FED_SIG_B64 96

/* Region side: the signature header value for a request made at `now`. */
void fed_auth_sign(const struct ms_secret *sk, const char *method, const char *uri,
                   const void *body, size_t len, long long now, char out[FED_SIG_B64]);

/* Hub side: checks the request's headers against the enrolled regions (fed_regions), for a
 * body whose BLAKE2b-256 is `body_hash` (NULL: no body); the region's code goes into `code`,
 * its enrolled key into `pk` (may be NULL). 0, or -1 after answering 401 (missing, stale or
 * bad signature) or 403 (not enrolled). */
int fed_region_or_respond(struct req *r, const unsigned char body_hash[32], char code[16],
                          struct ms_public *pk);

#endif
