#!/usr/bin/env bash
# Builds the release: one Native AOT binary per architecture, for the baseline of each (any x86-64 CPU, any arm64
# one; the vector readers pick their instructions at run time):
#   artifacts/linux-x64/mapsexporter     (also copied to artifacts/mapsexporter, where the tests and scripts look)
#   artifacts/linux-arm64/mapsexporter   cross-compiled: clang --target=aarch64-linux-gnu, lld, and Debian's arm64
#                                        libraries installed side by side (multiarch), see below
# plus appsettings.json beside each binary if the project has one. Needs the .NET 10 SDK and clang or gcc with
# zlib1g-dev; for arm64 on an x86-64 machine, as root once:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install clang lld binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev:arm64 zlib1g-dev:arm64
# About 60-90 s per architecture on 2 cores. The Dockerfile's build stage runs this same script.
#   bash deploy/publish.sh                    both architectures
#   ARCHS=x64 bash deploy/publish.sh          one (x64 or arm64)
#   OUT=/some/dir bash deploy/publish.sh      OUT/mapsexporter (x64), OUT/linux-ARCH/mapsexporter
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-artifacts}
# Intermediate files under artifacts/aot-build, so a release build never rewrites the obj/ folders that
# `dotnet build` and `dotnet test` use in the same tree.
build=${AOT_BUILD_DIR:-artifacts/aot-build}
host=$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')

for arch in ${ARCHS:-x64 arm64}; do
  cross=()
  if [ "$arch" != "$host" ]; then
    # ILCompiler passes --target=aarch64-linux-gnu (or x86_64-linux-gnu) to clang when the target is not the host;
    # clang finds the target's libraries where Debian's multiarch packages put them. lld links any target.
    command -v clang >/dev/null && command -v ld.lld >/dev/null \
      || { echo "publish.sh: cross-compiling for $arch needs clang and lld (see the header of $0)" >&2; exit 1; }
    triple=$([ "$arch" = arm64 ] && echo aarch64-linux-gnu || echo x86_64-linux-gnu)
    cross=(-p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld -p:ObjCopyName="$triple-objcopy")
  fi
  dotnet publish src/MapsExporter/MapsExporter.csproj -c Release -r "linux-$arch" \
    -p:PublishAot=true "${cross[@]}" --artifacts-path "$build/$arch" -o "$build/$arch/publish" -nologo "$@"

  mkdir -p "$out/linux-$arch"
  install -m 0755 "$build/$arch/publish/mapsexporter" "$out/linux-$arch/mapsexporter"
  if [ -f "$build/$arch/publish/appsettings.json" ]; then
    install -m 0644 "$build/$arch/publish/appsettings.json" "$out/linux-$arch/appsettings.json"
  fi
  echo "published $(readlink -f "$out/linux-$arch/mapsexporter") ($(stat -c %s "$out/linux-$arch/mapsexporter") bytes)"
done

# The x86-64 binary where everything before two architectures looked for it.
if [ -f "$out/linux-x64/mapsexporter" ]; then
  install -m 0755 "$out/linux-x64/mapsexporter" "$out/mapsexporter"
  if [ -f "$out/linux-x64/appsettings.json" ]; then
    install -m 0644 "$out/linux-x64/appsettings.json" "$out/appsettings.json"
  fi
fi
