/*
 * The node behind its reverse proxy (docs/deployment.md): which peers are trusted proxies
 * (`http.trusted_proxies`), the client's real address taken from X-Forwarded-For through
 * them, and the node's public URL (`http.public_url`) that every absolute link is built on.
 *
 * A leaf: libc only, no state, safe from any thread. config.c uses it to validate the keys
 * (so the rules live in one place); http.c resolves each request's client address with it.
 */
#ifndef MES_PROXY_H
#define MES_PROXY_H

#include <stdbool.h>
#include <stddef.h>

/* Text of an address, canonical (INET6_ADDRSTRLEN with its NUL). */
#define PROXY_ADDR_TEXT 46
/* How many X-Forwarded-For entries the walk looks at before it gives up (and uses the peer). */
#define PROXY_MAX_HOPS 32
/* A public URL: "https://" + a 253-byte name + ":65535", with room to spare. */
#define PROXY_URL_TEXT 288

/* An address or a range of them. IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d, the prefix
 * length plus 96), so that one comparison serves both families and a v4-mapped peer matches
 * the IPv4 range. */
struct proxy_net {
    unsigned char addr[16];
    int bits; /* 0..128 */
};

/* Parses an address ("10.1.2.3", "2001:db8::1", "::ffff:10.1.2.3") or a range in CIDR form
 * ("10.0.0.0/8", "2001:db8::/32"); an address alone is a range of one. Returns 0, or -1 for
 * anything else: garbage, a prefix length out of range or with a leading zero, and bits set
 * past the prefix ("10.0.0.1/8": the writer meant another range, so it is refused). */
int proxy_net_parse(const char *s, struct proxy_net *out);

/* Parses one address (no range) of `len` bytes, not NUL-terminated, into 16 bytes (IPv4 as
 * IPv4-mapped). Returns 0, or -1 when it is not an address or is longer than an address. */
int proxy_addr_parse(const char *s, size_t len, unsigned char out[16]);

/* Writes `addr` as canonical text into `out`: dotted quad for IPv4 (and IPv4-mapped IPv6),
 * RFC 5952 for IPv6. */
void proxy_addr_format(const unsigned char addr[16], char out[PROXY_ADDR_TEXT]);

/* Whether `addr` lies in one of the `n` ranges. */
bool proxy_trusted(const struct proxy_net *nets, int n, const unsigned char addr[16]);

/* The client's address of a request, canonical, into `out`:
 * - the peer (`peer`, the socket's address) unless the peer is a trusted proxy;
 * - else the rightmost entry of X-Forwarded-For (its `nxff` header lines in the order they
 *   came, read as one comma-separated list) that is not a trusted proxy, or the leftmost
 *   entry when all are trusted: entries left of the first untrusted one are what the client
 *   wrote, and are never believed;
 * - the peer again when that walk meets a malformed or empty entry before it ends, or walks
 *   more than PROXY_MAX_HOPS entries, or there is no X-Forwarded-For at all.
 * Work is bounded by the header lines' length. Never fails: a peer that is not an address
 * (never from a socket) is copied as it is, cut to fit. Returns 1 when the address came from
 * X-Forwarded-For, 0 when it is the peer's. */
int proxy_client_addr(const char *peer, const char *const *xff, int nxff,
                      const struct proxy_net *nets, int nnets, char out[PROXY_ADDR_TEXT]);

/* A public URL split: `http(s)://host[:port]`, with at most one trailing "/". */
struct proxy_url {
    bool https;
    char host[256];            /* a DNS name, an IPv4 address, or "[IPv6]" with its brackets */
    int port;                  /* the one given, or the scheme's (443, 80) */
    char base[PROXY_URL_TEXT]; /* the URL without its trailing "/": links append "/path" */
};

/* Parses `url` into `out`. Returns 0, or -1 when it is not `http(s)://host[:port]` with an
 * optional single trailing "/": a path, query, fragment, user info, upper-case scheme, an
 * empty or malformed host, or a port outside 1..65535 are refused. The node serves from the
 * root of its origin (the web pages name their files "/static/..."), hence no base path. */
int proxy_url_parse(const char *url, struct proxy_url *out);

/* The loopback-reachable "host:port" of a listen address "IPV4:PORT" / "[IPV6]:PORT" with
 * `port` as the port (the one bound, for a listen port 0): a wildcard address (0.0.0.0,
 * [::]) becomes the loopback of its family. Returns 0, or -1 when `listen` has no port or
 * the result does not fit `size`. */
int proxy_listen_local(const char *listen, int port, char *out, size_t size);

#endif
