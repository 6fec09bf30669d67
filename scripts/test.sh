#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need from Debian's packages (as root, once), then
# builds and runs every test. The tests start real JVMs, native programs, a Prometheus server and promtool.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v gdb >/dev/null 2>&1 || need+=(gdb)
# glibc's symbols: MallocTuningTests reads the daemon's malloc parameters (mp_) with gdb
dpkg -s libc6-dbg >/dev/null 2>&1 || need+=(libc6-dbg)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v clang >/dev/null 2>&1 || need+=(clang)
dpkg -s "zlib1g-dev:$(dpkg --print-architecture)" >/dev/null 2>&1 || need+=(zlib1g-dev)
# Other mallocs: AllocatorTests builds tests/workloads/allocators.c against each, and preloads jemalloc into JVMs
dpkg -s libjemalloc-dev >/dev/null 2>&1 || need+=(libjemalloc-dev)
dpkg -s libgoogle-perftools-dev >/dev/null 2>&1 || need+=(libgoogle-perftools-dev)
dpkg -s libmimalloc-dev >/dev/null 2>&1 || need+=(libmimalloc-dev)
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/javac ] || need+=(openjdk-17-jdk-headless)
# Other CPUs: EmulatedCpuTests runs the release binaries under qemu-x86_64-static -cpu (no AVX) and qemu-aarch64-static
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
# The arm64 binary: deploy/publish.sh cross-compiles it with clang, lld and Debian's arm64 libraries (multiarch)
command -v ld.lld >/dev/null 2>&1 || need+=(lld)
command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 || need+=(binutils-aarch64-linux-gnu)
dpkg -s libc6-dev:arm64 >/dev/null 2>&1 || need+=(libc6-dev:arm64)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu)
dpkg -s zlib1g-dev:arm64 >/dev/null 2>&1 || need+=(zlib1g-dev:arm64)
# The Debian packages: DebianPackageTests checks them with lintian
command -v lintian >/dev/null 2>&1 || need+=(lintian)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing test dependencies: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to install ${need[*]} (or install them yourself)" >&2
    exit 1
  fi
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package starts a Prometheus server of its own; the tests run theirs on free ports, so it may stay.

if [ ! -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
  echo "error: /usr/lib/jvm/temurin-25-jdk-amd64 is missing: the JDK 25 tests need Temurin 25 there" >&2
  exit 1
fi

# Debian's Zero VM (no JIT) for ZeroVmTests, extracted into /var/cache/mapsexporter-tests, not installed.
MAPSEXPORTER_JDK17_ZERO=$(bash scripts/jdk17-zero.sh)
export MAPSEXPORTER_JDK17_ZERO

# The release binary (Native AOT): the tests under Deploy/ run it, and fail if it is missing.
bash deploy/publish.sh -v:quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test MapsExporter.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line for CI, summed over the test assemblies.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { v = $(i+1); gsub(/,/, "", v);
       if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
