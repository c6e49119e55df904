/*
 * Signed requests between nodes (see auth.h).
 */
#include "federation/auth.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "db.h"
#include "federation/rotation.h"
#include "http.h"
#include "node.h"

/* The signed string for a body of BLAKE2b-256 `h`; its length, or 0 when it does not fit. */
static size_t auth_message(char *out, size_t cap, const char *method, const char *uri,
                           long long when, const unsigned char h[32])
{
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), h, 32);
    int n = snprintf(out, cap, "mes-fed-1\n%s\n%s\n%lld\n%s", method, uri, when, hex);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void fed_auth_sign(const struct ms_secret *sk, const char *method, const char *uri,
                   const void *body, size_t len, long long now, char out[FED_SIG_B64])
{
    char msg[2400];
    unsigned char sig[64], h[32];
    crypto_generichash(h, sizeof(h), body, len, NULL, 0);
    size_t n = auth_message(msg, sizeof(msg), method, uri, now, h);
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, n, sk->sk);
    sodium_bin2base64(out, FED_SIG_B64, sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
}

/* The signer's key for a request naming `code`: an enrolled region's (signer SIGNER_REGION)
 * from fed_regions, or the hub's key this region follows (SIGNER_HUB). 0; or -1 after
 * answering 403 (not enrolled) or 500. */
static int signer_key_or_respond(struct req *r, enum signer signer, const char *code,
                                 struct ms_public *pk)
{
    char err[128];
    if (signer == SIGNER_HUB) {
        if (hub_key_current(r->db, &r->node->cfg, pk, err, sizeof(err)) != 0)
            return reply_error(r, 403, "forbidden", "this region follows no hub key: %s", err), -1;
        return 0;
    }
    char *key = NULL;
    int rc = db_text(r->db, &key, "SELECT public_key FROM fed_regions WHERE code = :c",
                     DB_ARGS(DB_TEXT(":c", code)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r), -1;
    bool bad = key == NULL || ms_public_parse(key, strlen(key), pk, err, sizeof(err)) != 0;
    free(key);
    if (bad)
        return reply_error(r, 403, "forbidden", "region %s is not enrolled at this hub", code), -1;
    return 0;
}

/* Whose signature this node accepts on a route for `signer`: SIGNER_REGION at the hub,
 * SIGNER_HUB at a region, SIGNER_NONE when this node does not serve the route. */
static enum signer signer_here(const struct req *r, enum signer signer)
{
    bool hub = r->node->cfg.mode == NODE_HUB;
    if (signer == SIGNER_ANY)
        return hub ? SIGNER_REGION : SIGNER_HUB;
    if (signer == SIGNER_REGION)
        return hub ? SIGNER_REGION : SIGNER_NONE;
    if (signer == SIGNER_HUB)
        return hub ? SIGNER_NONE : SIGNER_HUB;
    return SIGNER_NONE;
}

int fed_node_check(struct req *r, enum signer signer, const unsigned char body_hash[32])
{
    enum signer who = signer_here(r, signer);
    if (who == SIGNER_NONE)
        return reply_error(r, 404, "not_found",
                           r->node->cfg.mode != NODE_HUB ? "this node is not the hub"
                                                         : "the hub does not serve this route"),
               -1;
    const char *code = req_header(r, "X-Mes-Region"), *when = req_header(r, "X-Mes-Time"),
               *sig64 = req_header(r, "X-Mes-Signature");
    if (code == NULL || when == NULL || sig64 == NULL || strlen(code) >= 16)
        return reply_error(r, 401, "unauthorized",
                           "a signed request of %s is needed (X-Mes-Region, -Time, -Signature)",
                           who == SIGNER_HUB ? "the hub" : "an enrolled region"),
               -1;
    char *end;
    long long t = strtoll(when, &end, 10), now = (long long)time(NULL);
    if (*end != '\0' || t < now - FED_SKEW_S || t > now + FED_SKEW_S)
        return reply_error(r, 401, "unauthorized",
                           "X-Mes-Time is not within %d s of this node's clock", FED_SKEW_S),
               -1;
    struct ms_public pk;
    if (signer_key_or_respond(r, who, code, &pk) != 0)
        return -1;
    char uri[2100], msg[2400];
    const char *q = r->ri->query_string;
    snprintf(uri, sizeof(uri), "%s%s%s", r->ri->local_uri, q && q[0] ? "?" : "", q ? q : "");
    unsigned char sig[64];
    size_t got = 0;
    size_t n = auth_message(msg, sizeof(msg), r->ri->request_method, uri, t, body_hash);
    if (sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != sizeof(sig) || n == 0 ||
        crypto_sign_verify_detached(sig, (const unsigned char *)msg, n, pk.pk) != 0)
        return reply_error(r, 401, "unauthorized",
                           "the request's signature does not verify with %s%s's key",
                           who == SIGNER_HUB ? "the hub" : "region ",
                           who == SIGNER_HUB ? "" : code),
               -1;
    snprintf(r->caller.node_code, sizeof(r->caller.node_code), "%s", code);
    memcpy(r->caller.node_key_id, pk.id, sizeof(r->caller.node_key_id));
    memcpy(r->caller.node_key, pk.pk, sizeof(r->caller.node_key));
    return 0;
}

void fed_caller_key(const struct req *r, struct ms_public *pk)
{
    memcpy(pk->id, r->caller.node_key_id, sizeof(pk->id));
    memcpy(pk->pk, r->caller.node_key, sizeof(pk->pk));
}
