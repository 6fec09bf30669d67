#!/usr/bin/env bash
# Debian packages of the release binaries, with dpkg-deb alone (no network, no debhelper):
#   bash deploy/publish.sh && bash deploy/package.sh     -> artifacts/mapsexporter_VERSION_amd64.deb, _arm64.deb
#   ARCHS=x64 bash deploy/package.sh                     one of them
# Each holds /usr/bin/mapsexporter, the hardened unit (systemd/mapsexporter.service, run as a DynamicUser: no
# account to create or remove), /etc/default/mapsexporter (a conffile: dpkg keeps an edited one on upgrade; the
# unit reads it as EnvironmentFile, ARGS= for flags), the man page (made from `mapsexporter --help`), copyright and
# changelog. The version is the VERSION file's; deploy/debian/changelog must start with it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(cat VERSION)
out=${OUT:-artifacts}
grep -q "^mapsexporter ($version) " deploy/debian/changelog \
  || { echo "package.sh: deploy/debian/changelog does not start with version $version (VERSION)" >&2; exit 1; }
# The x86-64 binary writes the man page (both binaries print the same --help).
help=$("$out/linux-x64/mapsexporter" --help)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

man_page() {
  cat <<MAN
.TH MAPSEXPORTER 1 "$(date -u -d "@$(stat -c %Y deploy/debian/changelog)" +%Y-%m-%d)" "mapsexporter $version" "User Commands"
.SH NAME
mapsexporter \\- Prometheus exporter of where each JVM's memory goes, from /proc/PID/smaps
.SH SYNOPSIS
.B mapsexporter
[\\fIflags\\fR]
.br
.B mapsexporter report
\\fIPID\\fR|\\fIdump\\fR... [\\fB\\-\\-format\\fR text|csv|json]
.br
.B mapsexporter \\-\\-version
.SH DESCRIPTION
Finds every JVM on the host through /proc, sorts each memory mapping into what it is (Java heap, glibc
arenas, thread stacks, code cache, metaspace, ...) and publishes per-process, per-category gauges on
/metrics for Prometheus. The same binary reports one process or a saved maps/smaps dump.
The text below is what \\fBmapsexporter \\-\\-help\\fR prints.
.SH OPTIONS
.nf
$(printf '%s\n' "$help" | sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g')
.fi
.SH FILES
.TP
.I /etc/default/mapsexporter
Settings of the service: \\fBARGS\\fR (flags) and \\fBMAPSEXPORTER__SECTION__KEY\\fR variables.
.TP
.I /lib/systemd/system/mapsexporter.service
The unit: a dynamic user with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH only.
.SH SEE ALSO
.BR systemd.exec (5),
.BR proc (5)
MAN
}

for arch in ${ARCHS:-x64 arm64}; do
  deb_arch=$([ "$arch" = x64 ] && echo amd64 || echo arm64)
  binary=$out/linux-$arch/mapsexporter
  [ -x "$binary" ] || { echo "package.sh: $binary is missing: run deploy/publish.sh first" >&2; exit 1; }
  root=$work/$deb_arch
  install -D -m 0755 "$binary" "$root/usr/bin/mapsexporter"
  sed -e 's#^ExecStart=/usr/local/bin/mapsexporter$#ExecStart=/usr/bin/mapsexporter $ARGS#' \
      -e 's#^EnvironmentFile=-/etc/mapsexporter/environment$#EnvironmentFile=-/etc/default/mapsexporter#' \
      -e 's#^Documentation=.*#Documentation=man:mapsexporter(1)#' \
      -e 's#^\# Installed by systemd/install.sh; flags go on ExecStart or in /etc/mapsexporter/environment#\# Installed by the mapsexporter package; flags go in ARGS= of /etc/default/mapsexporter, settings too#' \
      systemd/mapsexporter.service >"$work/unit"
  grep -q '^ExecStart=/usr/bin/mapsexporter \$ARGS$' "$work/unit" && grep -q '^EnvironmentFile=-/etc/default/mapsexporter$' "$work/unit" \
    || { echo "package.sh: systemd/mapsexporter.service no longer has the ExecStart/EnvironmentFile lines this script rewrites" >&2; exit 1; }
  install -D -m 0644 "$work/unit" "$root/lib/systemd/system/mapsexporter.service"
  install -D -m 0644 deploy/debian/default "$root/etc/default/mapsexporter"
  install -d "$root/usr/share/man/man1" "$root/usr/share/doc/mapsexporter"
  man_page | gzip -9n >"$root/usr/share/man/man1/mapsexporter.1.gz"
  install -m 0644 deploy/debian/copyright "$root/usr/share/doc/mapsexporter/copyright"
  gzip -9n <deploy/debian/changelog >"$root/usr/share/doc/mapsexporter/changelog.gz"
  chmod 0644 "$root/usr/share/man/man1/mapsexporter.1.gz" "$root/usr/share/doc/mapsexporter/changelog.gz"

  install -d "$root/DEBIAN"
  for script in postinst prerm postrm; do install -m 0755 "deploy/debian/$script" "$root/DEBIAN/$script"; done
  echo /etc/default/mapsexporter >"$root/DEBIAN/conffiles"
  # The newest glibc symbol version the binary needs (readelf reads either architecture's ELF).
  glibc=$(readelf -W --dyn-syms "$binary" | grep -o '@GLIBC_[0-9.]*' | sed 's/@GLIBC_//' | sort -uV | tail -1)
  cat >"$root/DEBIAN/control" <<CONTROL
Package: mapsexporter
Version: $version
Architecture: $deb_arch
Maintainer: MapsExporter maintainers <maintainers@mapsexporter.example.org>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= $glibc)
Section: admin
Priority: optional
Description: Prometheus exporter of JVM memory by region (/proc/PID/smaps)
 Finds every JVM on the host through /proc, sorts each memory mapping into
 what it is (Java heap, glibc malloc arenas, thread stacks, JIT code cache,
 metaspace, CDS archive, shared libraries, mapped files) and publishes
 per-process, per-category gauges on /metrics for Prometheus, so native
 memory beyond -Xmx can be watched and alerted on.
 .
 One Native AOT binary (no .NET runtime needed) and a hardened systemd unit
 that runs it as a dynamic user with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.
CONTROL
  deb=$out/mapsexporter_${version}_${deb_arch}.deb
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  echo "packaged $(readlink -f "$deb") ($(stat -c %s "$deb") bytes)"
done
