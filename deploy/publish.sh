#!/usr/bin/env bash
# Builds the release: one Native AOT binary for linux-x64, artifacts/mapsexporter (plus appsettings.json if the
# project has one). Needs the .NET 10 SDK and a C toolchain for the native link (clang or gcc, zlib1g-dev).
# The Dockerfile's build stage runs this same script. About 60-90 s on 2 cores.
#   bash deploy/publish.sh              -> artifacts/mapsexporter
#   OUT=/some/dir bash deploy/publish.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-artifacts}
# Intermediate files under artifacts/aot-build, so a release build never rewrites the obj/ folders that
# `dotnet build` and `dotnet test` use in the same tree.
build=${AOT_BUILD_DIR:-artifacts/aot-build}

dotnet publish src/MapsExporter/MapsExporter.csproj -c Release -r linux-x64 \
  -p:PublishAot=true --artifacts-path "$build" -o "$build/publish" -nologo "$@"

mkdir -p "$out"
install -m 0755 "$build/publish/mapsexporter" "$out/mapsexporter"
if [ -f "$build/publish/appsettings.json" ]; then
  install -m 0644 "$build/publish/appsettings.json" "$out/appsettings.json"
fi
echo "published $(readlink -f "$out/mapsexporter") ($(stat -c %s "$out/mapsexporter") bytes)"
