/*
 * The nginx site (contract in nginx.h). The template is data: installer/nginx-site.conf, read
 * by people as it is and compiled into the binary, so that the site printed always matches
 * the binary that checks the configuration it is filled from. A placeholder is {{name}} of
 * lowercase letters and _; an unknown name is refused, so the template and this table cannot
 * drift apart silently. Every value is checked to be one nginx word (no blank, ';', braces,
 * quotes or '$'), so an option cannot smuggle a directive into the site.
 */
#include "nginx.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "lib/proxy.h"

#define TEMPLATE "installer/nginx-site.conf"

const char nginx_usage_site[] =
    "usage: mesnode nginx-site --config FILE [--cert FILE] [--key FILE]\n"
    "                          [--monitoring CIDR] [--bind ADDR] [--http-port N]\n"
    "\n"
    "Prints the nginx site that terminates TLS in front of the node FILE describes\n"
    "(installer/nginx-site.conf filled in): the server name and HTTPS port from\n"
    "http.public_url, the upstream from http.listen, the body limit from http.max_upload_bytes\n"
    "and http.max_body_bytes, upstream keep-alive and the per-client connection limit from\n"
    "http.threads and http.keep_alive_timeout_ms. Refuses when http.public_url is not an\n"
    "https:// address, or http.trusted_proxies does not hold the address nginx reaches the\n"
    "node from (127.0.0.1 for a node on the loopback), which would make every client nginx.\n"
    "  --cert FILE        certificate chain (default /etc/ssl/mesnode/fullchain.pem)\n"
    "  --key FILE         its private key (default /etc/ssl/mesnode/privkey.pem)\n"
    "  --monitoring CIDR  the network allowed /metrics (default 192.0.2.0/24: nobody)\n"
    "  --bind ADDR        the address nginx listens on (default: every IPv4 address)\n"
    "  --http-port N      the port of the redirect to HTTPS (default 80)\n";

struct value {
    const char *name;
    char text[512];
};

/* One nginx word: printable, no blank, ';', braces, quotes, '#', '$' or backslash. */
static bool one_word(const char *s)
{
    if (s[0] == '\0' || strlen(s) >= 400)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr(";{}'\"#$\\", *p) != NULL)
            return false;
    return true;
}

/* Whether the loopback address nginx connects from to a node listening on `host` (as in
 * http.listen) is trusted; for a node on another address, whether any proxy is trusted. */
static bool nginx_trusted(const struct mes_config *cfg, const char *host, size_t hlen,
                          const char **need)
{
    struct proxy_net nets[CFG_MAX_PROXIES];
    int n = 0;
    for (int i = 0; i < cfg->http.ntrusted_proxies; i++)
        if (proxy_net_parse(cfg->http.trusted_proxies[i], &nets[n]) == 0)
            n++;
    unsigned char a[16];
    bool v6 = host[0] == '[';
    const char *inner = v6 ? host + 1 : host;
    size_t ilen = v6 && hlen >= 2 ? hlen - 2 : hlen;
    bool loopback = false;
    if (proxy_addr_parse(inner, ilen, a) == 0) {
        static const unsigned char any[16] = {0}, one[16] = {[15] = 1};
        loopback = v6 ? memcmp(a, any, 16) == 0 || memcmp(a, one, 16) == 0
                      : a[12] == 127 || (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 0);
    }
    if (!loopback) {
        *need = "the address of the nginx machine";
        return n > 0;
    }
    *need = v6 ? "::1" : "127.0.0.1";
    if (proxy_addr_parse(*need, strlen(*need), a) != 0)
        return false;
    return proxy_trusted(nets, n, a);
}

/* Writes the template with each {{name}} replaced; -1 with err on an unknown name. */
static int fill(FILE *out, const char *t, const struct value *vals, int nvals, char *err,
                size_t errlen)
{
    while (*t) {
        const char *open = strstr(t, "{{");
        if (open == NULL) {
            fputs(t, out);
            break;
        }
        fwrite(t, 1, (size_t)(open - t), out);
        const char *name = open + 2;
        size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz_");
        if (strncmp(name + len, "}}", 2) != 0) {
            snprintf(err, errlen, "%s: a \"{{\" that opens no placeholder", TEMPLATE);
            return -1;
        }
        int i = 0;
        while (i < nvals && (strlen(vals[i].name) != len || strncmp(vals[i].name, name, len) != 0))
            i++;
        if (i == nvals) {
            snprintf(err, errlen, "%s: unknown placeholder {{%.*s}}", TEMPLATE, (int)len, name);
            return -1;
        }
        fputs(vals[i].text, out);
        t = name + len + 2;
    }
    return 0;
}

char *nginx_site_render(const struct mes_config *cfg, const struct nginx_site_options *o, char *err,
                        size_t errlen)
{
    const char *cert = o->certificate ? o->certificate : "/etc/ssl/mesnode/fullchain.pem";
    const char *key = o->certificate_key ? o->certificate_key : "/etc/ssl/mesnode/privkey.pem";
    const char *monitoring = o->monitoring ? o->monitoring : "192.0.2.0/24";
    const char *bind = o->bind ? o->bind : "";
    int http_port = o->http_port ? o->http_port : 80;
    struct proxy_url u;
    struct proxy_net net;
    unsigned char a[16];
    const char *need;
    if (cfg->http.public_url[0] == '\0') {
        snprintf(err, errlen,
                 "http.public_url is not set: give the address people use, such as "
                 "\"https://mes.example.region\"");
        return NULL;
    }
    if (proxy_url_parse(cfg->http.public_url, &u) != 0 || !u.https) {
        snprintf(err, errlen, "http.public_url must be an https:// address: nginx serves HTTPS");
        return NULL;
    }
    const char *colon = strrchr(cfg->http.listen, ':');
    int port = colon ? atoi(colon + 1) : 0;
    if (colon == NULL || port <= 0) {
        snprintf(err, errlen, "http.listen must name the node's port (not 0) for nginx to reach");
        return NULL;
    }
    if (cfg->http.keep_alive_timeout_ms < 200) {
        snprintf(err, errlen,
                 "http.keep_alive_timeout_ms must be at least 200 behind nginx, "
                 "which keeps connections to the node open between requests");
        return NULL;
    }
    if (!nginx_trusted(cfg, cfg->http.listen, (size_t)(colon - cfg->http.listen), &need)) {
        snprintf(err, errlen,
                 "http.trusted_proxies must hold %s, where nginx connects from: without it "
                 "every client is nginx to the node (its login throttle and audit log)",
                 need);
        return NULL;
    }
    if (!one_word(cert) || cert[0] != '/' || !one_word(key) || key[0] != '/') {
        snprintf(err, errlen, "--cert and --key must be absolute paths without blanks or quotes");
        return NULL;
    }
    if (proxy_net_parse(monitoring, &net) != 0) {
        snprintf(err, errlen, "--monitoring: not an address or CIDR range: %.64s", monitoring);
        return NULL;
    }
    bool bind_ok = bind[0] == '\0' ||
                   (strchr(bind, ':') == NULL && proxy_addr_parse(bind, strlen(bind), a) == 0) ||
                   (bind[0] == '[' && bind[strlen(bind) - 1] == ']' && strlen(bind) > 2 &&
                    proxy_addr_parse(bind + 1, strlen(bind) - 2, a) == 0);
    if (!bind_ok) {
        snprintf(err, errlen, "--bind: expected an IPv4 address or [IPv6], got %.64s", bind);
        return NULL;
    }
    if (http_port < 1 || http_port > 65535 || http_port == u.port) {
        snprintf(err, errlen, "--http-port must be 1-65535 and not the HTTPS port %d", u.port);
        return NULL;
    }
    const struct asset *tpl = asset_find(TEMPLATE);
    if (tpl == NULL) {
        snprintf(err, errlen, "%s is not in this build", TEMPLATE);
        return NULL;
    }
    int threads = cfg->http.threads;
    long long max_body = cfg->http.max_upload_bytes > cfg->http.max_body_bytes
                             ? cfg->http.max_upload_bytes
                             : cfg->http.max_body_bytes;
    struct value v[] = {
        {"upstream", ""},    {"keepalive", ""},    {"keepalive_timeout", ""},
        {"http_listen", ""}, {"https_listen", ""}, {"server_name", ""},
        {"public_url", ""},  {"certificate", ""},  {"certificate_key", ""},
        {"max_body", ""},    {"limit_conn", ""},   {"monitoring", ""},
    };
    int i = 0;
    if (proxy_listen_local(cfg->http.listen, port, v[i++].text, sizeof(v[0].text)) != 0) {
        snprintf(err, errlen, "http.listen: cannot use %s", cfg->http.listen);
        return NULL;
    }
    snprintf(v[i++].text, sizeof(v[0].text), "%d", threads / 4 > 0 ? threads / 4 : 1);
    snprintf(v[i++].text, sizeof(v[0].text), "%dms", cfg->http.keep_alive_timeout_ms / 2);
    snprintf(v[i++].text, sizeof(v[0].text), "%s%s%d", bind, bind[0] ? ":" : "", http_port);
    snprintf(v[i++].text, sizeof(v[0].text), "%s%s%d", bind, bind[0] ? ":" : "", u.port);
    snprintf(v[i++].text, sizeof(v[0].text), "%s", u.host);
    snprintf(v[i++].text, sizeof(v[0].text), "%s", u.base);
    snprintf(v[i++].text, sizeof(v[0].text), "%s", cert);
    snprintf(v[i++].text, sizeof(v[0].text), "%s", key);
    snprintf(v[i++].text, sizeof(v[0].text), "%lld", max_body);
    snprintf(v[i++].text, sizeof(v[0].text), "%d", threads / 2 > 4 ? threads / 2 : 4);
    snprintf(v[i++].text, sizeof(v[0].text), "%s", monitoring);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = fill(out, (const char *)tpl->data, v, (int)(sizeof(v) / sizeof(v[0])), err, errlen);
    if (fclose(out) != 0 && rc == 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int nginx_cmd_site(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"cert", required_argument, 0, 'C'},
                                         {"key", required_argument, 0, 'k'},
                                         {"monitoring", required_argument, 0, 'm'},
                                         {"bind", required_argument, 0, 'b'},
                                         {"http-port", required_argument, 0, 'p'},
                                         {0, 0, 0, 0}};
    struct nginx_site_options o = {0};
    const char *config = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'C':
            o.certificate = optarg;
            break;
        case 'k':
            o.certificate_key = optarg;
            break;
        case 'm':
            o.monitoring = optarg;
            break;
        case 'b':
            o.bind = optarg;
            break;
        case 'p':
            o.http_port = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || o.http_port < 1 || o.http_port > 65535) {
                fprintf(stderr, "mesnode nginx-site: --http-port must be 1-65535\n");
                return 2;
            }
            break;
        default:
            fputs(nginx_usage_site, stderr);
            return 2;
        }
    }
    if (config == NULL || optind != argc) {
        fputs(nginx_usage_site, stderr);
        return 2;
    }
    static struct mes_config cfg;
    char err[1024];
    if (config_load(config, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode: %s\n", err);
        return 1;
    }
    char *site = nginx_site_render(&cfg, &o, err, sizeof(err));
    if (site == NULL) {
        fprintf(stderr, "mesnode nginx-site: %s: %s\n", config, err);
        return 1;
    }
    fputs(site, stdout);
    free(site);
    return fflush(stdout) == 0 ? 0 : 1;
}
