/*
 * The federation's HTTP routes under /federation/v1/ (docs/federation.md). For now the node's
 * public key, with which anyone checks what the node signs: library packages, certificates.
 */
#include <jansson.h>

#include "federation/minisign.h"
#include "http.h"
#include "node.h"

/* GET /federation/v1/key: the node's public key in minisign's form, its id and the region. */
static int federation_key(struct req *r)
{
    char b64[MS_PUBLIC_B64], id[17];
    ms_public_base64(&r->node->pub, b64);
    ms_id_hex(r->node->pub.id, id);
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:s,s:s,s:s}", "public_key", b64, "key_id", id,
                                "algorithm", "Ed25519 (minisign)", "region",
                                r->node->cfg.region.code, "name", r->node->cfg.region.name));
}

const struct route federation_routes[] = {
    {"GET", "/federation/v1/key", federation_key, ACCESS_PUBLIC, 0, false, "federation_key"},
    {0},
};
