/*
 * Signed requests between nodes (see auth.h).
 */
#include "federation/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "db.h"
#include "http.h"

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

int fed_region_or_respond(struct req *r, const unsigned char body_hash[32], char code[16],
                          struct ms_public *pk_out)
{
    const char *region = req_header(r, "X-Mes-Region"), *when = req_header(r, "X-Mes-Time"),
               *sig64 = req_header(r, "X-Mes-Signature");
    if (region == NULL || when == NULL || sig64 == NULL || strlen(region) >= 16)
        return reply_error(r, 401, "unauthorized",
                           "a signed request of an enrolled region is "
                           "needed (X-Mes-Region, -Time, -Signature)"),
               -1;
    char *end;
    long long t = strtoll(when, &end, 10), now = (long long)time(NULL);
    if (*end != '\0' || t < now - FED_SKEW_S || t > now + FED_SKEW_S)
        return reply_error(r, 401, "unauthorized",
                           "X-Mes-Time is not within %d s of the hub's "
                           "clock",
                           FED_SKEW_S),
               -1;
    char *key = NULL; /* NULL: not enrolled */
    int rc = db_text(r->db, &key, "SELECT public_key FROM fed_regions WHERE code = :c",
                     DB_ARGS(DB_TEXT(":c", region)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return reply_db_error(r), -1;
    struct ms_public pk;
    char err[128];
    bool bad_key = key != NULL && ms_public_parse(key, strlen(key), &pk, err, sizeof(err)) != 0;
    bool found = key != NULL;
    free(key);
    if (!found || bad_key)
        return reply_error(r, 403, "forbidden", "region %s is not enrolled at this hub", region),
               -1;
    char uri[2100], msg[2400];
    const char *q = r->ri->query_string;
    snprintf(uri, sizeof(uri), "%s%s%s", r->ri->local_uri, q && q[0] ? "?" : "", q ? q : "");
    unsigned char sig[64];
    size_t got = 0;
    unsigned char empty[32];
    if (body_hash == NULL) {
        crypto_generichash(empty, sizeof(empty), (const unsigned char *)"", 0, NULL, 0);
        body_hash = empty;
    }
    size_t n = auth_message(msg, sizeof(msg), r->ri->request_method, uri, t, body_hash);
    if (sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != sizeof(sig) || n == 0 ||
        crypto_sign_verify_detached(sig, (const unsigned char *)msg, n, pk.pk) != 0)
        return reply_error(r, 401, "unauthorized",
                           "the request's signature does not verify with "
                           "region %s's enrolled key",
                           region),
               -1;
    snprintf(code, 16, "%s", region);
    if (pk_out != NULL)
        *pk_out = pk;
    return 0;
}
