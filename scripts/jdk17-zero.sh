#!/usr/bin/env bash
# Debian's Zero VM (a JVM without a JIT: openjdk-17-jre-zero), for the tests, without installing it: installing
# it would upgrade the system's openjdk-17 to the same version. Fetches the zero package and the headless JRE of
# the same version (apt-get download), extracts both (dpkg-deb -x) into a private directory, points the JRE's
# links into /etc/java-17-openjdk at the extracted copies, and checks that `java -zero -version` runs.
# Prints the JDK directory. Needs root (the cache directory) and the Debian mirror; once done, neither.
set -euo pipefail

cache=${MAPSEXPORTER_ZERO_CACHE:-/var/cache/mapsexporter-tests}
root="$cache/jdk17-zero"
jdk="$root/usr/lib/jvm/java-17-openjdk-amd64"

if [ -x "$jdk/bin/java" ] && "$jdk/bin/java" -zero -version >/dev/null 2>&1; then
  echo "$jdk"
  exit 0
fi

version=$(apt-cache policy openjdk-17-jre-zero | awk '/Candidate:/ { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  apt-get update -qq
  version=$(apt-cache policy openjdk-17-jre-zero | awk '/Candidate:/ { print $2 }')
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "error: no openjdk-17-jre-zero package in the apt sources" >&2
  exit 1
fi

debs="$cache/debs"
mkdir -p "$debs"
# apt-get download writes into the current directory; _apt cannot write there as root owns it: that warning is harmless.
(cd "$debs" && apt-get download -qq "openjdk-17-jre-zero=$version" "openjdk-17-jre-headless=$version" 2>&1 | grep -v "couldn't be accessed by user '_apt'" >&2 || true)
zero_deb=$(ls "$debs"/openjdk-17-jre-zero_*"$(echo "$version" | sed 's/:/%3a/')"_amd64.deb)
headless_deb=$(ls "$debs"/openjdk-17-jre-headless_*"$(echo "$version" | sed 's/:/%3a/')"_amd64.deb)

rm -rf "$root.tmp"
mkdir -p "$root.tmp"
dpkg-deb -x "$headless_deb" "$root.tmp"
dpkg-deb -x "$zero_deb" "$root.tmp"
# The JRE's configuration links point at /etc/java-17-openjdk (the installed package's); use the extracted files.
find "$root.tmp/usr/lib/jvm" -type l -lname '/etc/java-17-openjdk/*' | while read -r link; do
  target=$(readlink "$link")
  ln -sfn "$root/${target#/}" "$link"
done
rm -rf "$root"
mv "$root.tmp" "$root"

if ! "$jdk/bin/java" -zero -version >/dev/null 2>&1; then
  echo "error: $jdk/bin/java -zero -version fails:" >&2
  "$jdk/bin/java" -zero -version >&2 || true
  exit 1
fi
echo "$jdk"
