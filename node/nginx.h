/*
 * The nginx site in front of the node: installer/nginx-site.conf (compiled into the binary)
 * with its {{name}} placeholders filled from the node's configuration and a few choices of
 * the machine nginx runs on. `mesnode nginx-site` prints it; installer/install.sh calls that;
 * tests/api/test_nginx.py runs nginx with what it prints. See docs/deployment.md.
 */
#ifndef MES_NGINX_H
#define MES_NGINX_H

#include <stddef.h>

#include "config/config.h"

/* What the configuration does not say: where nginx listens and its certificate. */
struct nginx_site_options {
    const char *certificate;     /* PEM chain; default /etc/ssl/mesnode/fullchain.pem */
    const char *certificate_key; /* default /etc/ssl/mesnode/privkey.pem */
    const char *monitoring;      /* address or CIDR allowed /metrics; default 192.0.2.0/24 */
    const char *bind;            /* address nginx listens on ("" or NULL: all IPv4) */
    int http_port;               /* the redirect to HTTPS; default 80 */
};

/* Renders the site for `cfg`. The HTTPS port is the public URL's. Returns the text (free()
 * it), or NULL with the reason in err: http.public_url unset or not https, http.listen on port
 * 0, http.keep_alive_timeout_ms below 200 ms, http.trusted_proxies not holding the address
 * nginx reaches a loopback node from (empty, for a node elsewhere), or an option that is not
 * a plain path, address or port. */
char *nginx_site_render(const struct mes_config *cfg, const struct nginx_site_options *o, char *err,
                        size_t errlen);

/* `mesnode nginx-site`: the command and its help. */
int nginx_cmd_site(int argc, char **argv);
extern const char nginx_usage_site[];

#endif
