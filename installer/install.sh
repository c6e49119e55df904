#!/usr/bin/env bash
# Installs or upgrades a regional node on Debian 12:
#   sudo installer/install.sh regions/dagestan.yaml
# Builds and installs the binary, creates the `mesnode` system user, puts the region's
# configuration in /etc/mesnode/node.yaml (kept on upgrade), installs the systemd unit, and
# prints the nginx site that terminates TLS in front of the node (CivetWeb's own TLS is not
# used: see docs/architecture.md). An upgrade keeps the database: the new binary migrates it
# on start, keeping every row.
set -euo pipefail
cd "$(dirname "$0")/.."
region=${1:?usage: install.sh regions/REGION.yaml}
[[ -f "$region" ]] || { echo "no such file: $region" >&2; exit 2; }

bash installer/deps.sh
make
make install PREFIX=/usr/local
id mesnode >/dev/null 2>&1 || useradd --system --home /var/lib/mesnode --shell /usr/sbin/nologin mesnode
install -d -o mesnode -g mesnode -m 0750 /var/lib/mesnode
install -d -m 0755 /etc/mesnode
if [[ ! -f /etc/mesnode/node.yaml ]]; then
  install -m 0640 -g mesnode "$region" /etc/mesnode/node.yaml
  echo "configuration: /etc/mesnode/node.yaml (from $region)"
else
  echo "keeping the existing /etc/mesnode/node.yaml"
fi
/usr/local/bin/mesnode serve --help >/dev/null
install -m 0644 installer/mesnode.service /etc/systemd/system/mesnode.service
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  if [[ ! -f /var/lib/mesnode/mes.db ]]; then
    echo "first install: create the administrator with"
    echo "  sudo -u mesnode mesnode init --config /etc/mesnode/node.yaml"
    echo "then: systemctl enable --now mesnode"
    echo "every command that writes /var/lib/mesnode (sync, report, bundle import, ...) runs as"
    echo "its owner: sudo -u mesnode mesnode COMMAND --config /etc/mesnode/node.yaml"
  else
    systemctl restart mesnode
    echo "mesnode restarted with the new binary"
  fi
fi
cat <<'NGINX'

nginx site (TLS in front of the node), e.g. /etc/nginx/sites-available/mesnode:
  server {
      listen 443 ssl http2;
      server_name mes.example.region;
      ssl_certificate     /etc/ssl/mes/fullchain.pem;
      ssl_certificate_key /etc/ssl/mes/privkey.pem;
      client_max_body_size 2m;
      location /metrics { allow 127.0.0.1; deny all; proxy_pass http://127.0.0.1:8080; }
      location / {
          proxy_pass http://127.0.0.1:8080;
          proxy_http_version 1.1;
          proxy_set_header Connection "";
          proxy_set_header X-Forwarded-For $remote_addr;
      }
  }
NGINX
