#!/usr/bin/env bash
# Installs MapsExporter as a systemd service, as root:
#   bash deploy/publish.sh && sudo bash systemd/install.sh          # build, then install artifacts/mapsexporter
#   sudo bash systemd/install.sh path/to/mapsexporter               # install a binary built elsewhere
# Puts the binary in $PREFIX/bin (default /usr/local), the unit in /etc/systemd/system, an empty
# /etc/mapsexporter/environment for settings (MAPSEXPORTER__SCAN__INTERVAL=30s, ...), then enables and starts it.
# The service runs as a user systemd allocates at start (DynamicUser=yes): there is no account to create, and
# its only privileges are CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH. DESTDIR= stages into a folder and starts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-$here/../artifacts/mapsexporter}
prefix=${PREFIX:-/usr/local}
dest=${DESTDIR:-}

if [ ! -x "$binary" ]; then
  echo "error: $binary is missing: run deploy/publish.sh first, or pass the binary's path" >&2
  exit 1
fi
if [ -z "$dest" ] && [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (or set DESTDIR to stage the files)" >&2
  exit 1
fi

install -D -m 0755 "$binary" "$dest$prefix/bin/mapsexporter"
if [ -f "$(dirname "$binary")/appsettings.json" ]; then
  install -D -m 0644 "$(dirname "$binary")/appsettings.json" "$dest$prefix/bin/appsettings.json"
fi
unit=$(mktemp)
trap 'rm -f "$unit"' EXIT
sed "s#/usr/local/bin/mapsexporter#$prefix/bin/mapsexporter#" "$here/mapsexporter.service" > "$unit"
install -D -m 0644 "$unit" "$dest/etc/systemd/system/mapsexporter.service"
if [ ! -e "$dest/etc/mapsexporter/environment" ]; then
  install -D -m 0644 /dev/null "$dest/etc/mapsexporter/environment"
fi
if [ -f "$here/../README.md" ]; then
  install -D -m 0644 "$here/../README.md" "$dest$prefix/share/doc/mapsexporter/README.md"
fi

if [ -n "$dest" ]; then
  echo "staged under $dest"
  exit 0
fi
systemctl daemon-reload
systemctl enable --now mapsexporter.service
echo "installed: systemctl status mapsexporter; curl -s localhost:10135/metrics"
