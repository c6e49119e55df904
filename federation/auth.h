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

#include "http.h"
#include "lib/minisign.h"

#define FED_SKEW_S  300
#define FED_SIG_B64 96

/* Region side: the signature header value for a request made at `now`. */
void fed_auth_sign(const struct ms_secret *sk, const char *method, const char *uri,
                   const void *body, size_t len, long long now, char out[FED_SIG_B64]);

/* The dispatcher's check of a node-signed route (http.h's http_node_check_fn, registered by
 * the federation): at the hub, a route signed by SIGNER_REGION (or ANY) takes an enrolled
 * region (fed_regions) whose key verifies the signature; at a region, SIGNER_HUB (or ANY) the
 * hub's key the region follows. On success r->caller.node_code is the X-Mes-Region named and
 * node_key_* the key; 0. Otherwise -1 after answering 401 (missing, stale or bad signature),
 * 403 (not enrolled), 404 (a route this node's mode does not serve) or 500. */
int fed_node_check(struct req *r, enum signer signer, const unsigned char body_hash[32]);

/* The key that verified a node-signed request (after fed_node_check), as minisign's key. */
void fed_caller_key(const struct req *r, struct ms_public *pk);

#endif
