/*
 * Trusted proxies, the client's address and the public URL (contract in proxy.h).
 *
 * Addresses are compared as 16 bytes, IPv4 mapped into IPv6, so "10.0.0.0/8" is the range
 * ::ffff:10.0.0.0/104 and a peer written "::ffff:10.1.2.3" falls in it. Text goes through
 * inet_pton, which takes only the plain forms (no "10.1", no octal, no zone "%eth0"), and out
 * through inet_ntop, so that one client has one spelling in the throttle and the audit log.
 *
 * X-Forwarded-For is read from its right end: each proxy appends the address it received the
 * connection from, so the entries right of the first address that is not a trusted proxy were
 * written by trusted proxies and that address is the client as the last of them saw it; what
 * lies further left was written by the client and is never believed.
 */
#include "lib/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int proxy_addr_parse(const char *s, size_t len, unsigned char out[16])
{
    char buf[PROXY_ADDR_TEXT];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) /* a NUL inside: not what was given */
        return -1;
    unsigned char v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        memcpy(out, v4_mapped, sizeof(v4_mapped));
        memcpy(out + 12, v4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

void proxy_addr_format(const unsigned char addr[16], char out[PROXY_ADDR_TEXT])
{
    const char *ok = memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0
                         ? inet_ntop(AF_INET, addr + 12, out, PROXY_ADDR_TEXT)
                         : inet_ntop(AF_INET6, addr, out, PROXY_ADDR_TEXT);
    if (ok == NULL) /* cannot happen with a buffer of INET6_ADDRSTRLEN */
        snprintf(out, PROXY_ADDR_TEXT, "?");
}

int proxy_net_parse(const char *s, struct proxy_net *out)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    struct proxy_net net = {.bits = 128};
    if (proxy_addr_parse(s, alen, net.addr) != 0)
        return -1;
    /* Written as IPv4: its prefix counts from the mapped part. */
    bool v4 = memchr(s, ':', alen) == NULL;
    int max = v4 ? 32 : 128;
    if (slash != NULL) {
        const char *p = slash + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 3 || p[digits] != '\0' || (digits > 1 && p[0] == '0'))
            return -1;
        int bits = 0;
        for (size_t i = 0; i < digits; i++)
            bits = bits * 10 + (p[i] - '0');
        if (bits > max)
            return -1;
        net.bits = bits + (v4 ? 96 : 0);
    }
    for (int b = net.bits; b < 128; b++) /* nothing set past the prefix */
        if (net.addr[b / 8] & (0x80 >> (b % 8)))
            return -1;
    *out = net;
    return 0;
}

/* Whether `addr` is in `net`. */
static bool net_contains(const struct proxy_net *net, const unsigned char addr[16])
{
    int whole = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->addr[whole] & mask) == (addr[whole] & mask);
}

bool proxy_trusted(const struct proxy_net *nets, int n, const unsigned char addr[16])
{
    for (int i = 0; i < n; i++)
        if (net_contains(&nets[i], addr))
            return true;
    return false;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

int proxy_client_addr(const char *peer, const char *const *xff, int nxff,
                      const struct proxy_net *nets, int nnets, char out[PROXY_ADDR_TEXT])
{
    unsigned char peer_addr[16], a[16];
    if (peer == NULL || proxy_addr_parse(peer, strlen(peer), peer_addr) != 0) {
        snprintf(out, PROXY_ADDR_TEXT, "%s", peer ? peer : "");
        return 0;
    }
    if (!proxy_trusted(nets, nnets, peer_addr))
        goto use_peer;
    int hops = 0;
    for (int line = nxff - 1; line >= 0; line--) {
        const char *s = xff[line];
        if (s == NULL)
            continue;
        size_t end = strlen(s);
        for (;;) {
            /* The entry s[start, end), then without its blanks. */
            size_t start = end;
            while (start > 0 && s[start - 1] != ',')
                start--;
            size_t b = start, e = end;
            while (b < e && blank(s[b]))
                b++;
            while (e > b && blank(s[e - 1]))
                e--;
            if (++hops > PROXY_MAX_HOPS || proxy_addr_parse(s + b, e - b, a) != 0)
                goto use_peer;
            if (!proxy_trusted(nets, nnets, a)) {
                proxy_addr_format(a, out);
                return 1;
            }
            if (start == 0)
                break;
            end = start - 1; /* before the comma */
        }
    }
    if (hops > 0) { /* every entry a trusted proxy: the leftmost is the farthest known */
        proxy_addr_format(a, out);
        return 1;
    }
use_peer:
    proxy_addr_format(peer_addr, out);
    return 0;
}

/* A DNS name (letters, digits, hyphens; labels of 1-63 bytes that neither start nor end with a
 * hyphen; 253 bytes at most) or, when it is digits and dots only, an IPv4 address. */
static bool valid_host_name(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    if (strspn(s, "0123456789.") >= len) {
        unsigned char a[16];
        return proxy_addr_parse(s, len, a) == 0;
    }
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok || ++label > 63)
            return false;
    }
    return label > 0 && s[len - 1] != '-';
}

int proxy_url_parse(const char *url, struct proxy_url *out)
{
    struct proxy_url u = {0};
    const char *p;
    if (strncmp(url, "https://", 8) == 0) {
        u.https = true;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        return -1;
    }
    size_t len = strlen(p);
    if (len > 0 && p[len - 1] == '/')
        len--;
    size_t hlen;
    if (len > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', len);
        unsigned char a[16];
        if (close == NULL || memchr(p + 1, ':', (size_t)(close - p - 1)) == NULL ||
            proxy_addr_parse(p + 1, (size_t)(close - p - 1), a) != 0)
            return -1;
        hlen = (size_t)(close - p) + 1;
    } else {
        hlen = strcspn(p, ":/");
        if (hlen > len)
            hlen = len;
        if (!valid_host_name(p, hlen))
            return -1;
    }
    memcpy(u.host, p, hlen);
    u.host[hlen] = '\0';
    u.port = u.https ? 443 : 80;
    if (hlen < len) {
        const char *q = p + hlen + 1;
        size_t digits = len - hlen - 1;
        if (p[hlen] != ':' || digits == 0 || digits > 5 || strspn(q, "0123456789") < digits ||
            q[0] == '0')
            return -1;
        long port = 0;
        for (size_t i = 0; i < digits; i++)
            port = port * 10 + (q[i] - '0');
        if (port > 65535)
            return -1;
        u.port = (int)port;
    }
    int n =
        snprintf(u.base, sizeof(u.base), "%s%.*s", u.https ? "https://" : "http://", (int)len, p);
    if (n < 0 || (size_t)n >= sizeof(u.base))
        return -1;
    *out = u;
    return 0;
}

int proxy_listen_local(const char *listen, int port, char *out, size_t size)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen)
        return -1;
    int hlen = (int)(colon - listen);
    const char *host = listen;
    if (hlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0) {
        host = "127.0.0.1";
        hlen = 9;
    } else if (hlen == 4 && strncmp(listen, "[::]", 4) == 0) {
        host = "[::1]";
        hlen = 5;
    }
    int n = snprintf(out, size, "%.*s:%d", hlen, host, port);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
