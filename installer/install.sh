#!/usr/bin/env bash
# Installs or upgrades a regional node on Debian 12:
#   sudo installer/install.sh regions/dagestan.yaml
# Builds and installs the binary, creates the `mesnode` system user, puts the region's
# configuration in /etc/mesnode/node.yaml (kept on upgrade), installs the systemd unit, and
# prints the nginx site that terminates TLS in front of the node (`mesnode nginx-site`, from
# installer/nginx-site.conf; CivetWeb's own TLS is not used: see docs/deployment.md). An upgrade keeps the database: the new binary migrates it
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
# The nginx site: installer/nginx-site.conf filled from the node's configuration (server name
# from http.public_url, upstream from http.listen, body limit from http.max_upload_bytes).
echo
if site=$(/usr/local/bin/mesnode nginx-site --config /etc/mesnode/node.yaml); then
  echo "nginx site (TLS in front of the node): save it as /etc/nginx/sites-available/mesnode,"
  echo "put the certificate where it says, set the monitoring network, link it into"
  echo "/etc/nginx/sites-enabled/, then: nginx -t && systemctl reload nginx (docs/deployment.md)"
  echo
  printf '%s\n' "$site"
else
  echo "no nginx site yet: fix the above in /etc/mesnode/node.yaml, then print it with"
  echo "  mesnode nginx-site --config /etc/mesnode/node.yaml [--cert FILE --key FILE --monitoring CIDR]"
fi
