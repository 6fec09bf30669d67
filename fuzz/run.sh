#!/usr/bin/env bash
# Fuzzes the parsers with AFL++ through SharpFuzz: builds fuzz/MapsExporter.Fuzz (not part of MapsExporter.sln),
# instruments its copy of MapsExporter.Core.dll, and runs afl-fuzz on one target for SECONDS.
#
#   bash fuzz/run.sh dump 600          # DumpReader.Report over maps/smaps (corpus: fuzz/corpus/dump)
#   bash fuzz/run.sh hsperfdata 300    # HsPerfData.Parse
#   bash fuzz/run.sh stat 120          # /proc/PID/stat and /proc/stat
#   bash fuzz/run.sh cgroup 300        # /proc/PID/cgroup and a memory cgroup's files (v1 and v2)
#   bash fuzz/run.sh malloc 300        # glibc malloc state images (GlibcMallocImage), patched
#   bash fuzz/run.sh pagemap 300       # /proc/PID/pagemap words over a chosen range
#   bash fuzz/run.sh webconfig 300     # the web config loader (YamlDotNet + the toolkit's keys)
#   bash fuzz/run.sh ipc 300           # the privilege separation's frames (IpcFrames, IpcScrape, GzipBody)
#   bash fuzz/run.sh all 300           # each target in turn, 300 s each
#
# Findings go to fuzz/findings/TARGET (crashes/, hangs/); reproduce one without AFL:
#   dotnet fuzz/out/MapsExporter.Fuzz.dll dump --replay fuzz/findings/dump/default/crashes/id:000000*
# Needs afl++ (Debian package, installed here when run as root) and the SharpFuzz.CommandLine tool (installed
# into fuzz/.tools).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:-dump}
seconds=${2:-300}

if [ "$target" = all ]; then
  for t in dump hsperfdata stat cgroup malloc pagemap webconfig ipc; do bash "$0" "$t" "$seconds"; done
  exit 0
fi
case "$target" in dump|hsperfdata|stat|cgroup|malloc|pagemap|webconfig|ipc) ;; *) echo "usage: $0 dump|hsperfdata|stat|cgroup|malloc|pagemap|webconfig|ipc|all [SECONDS]" >&2; exit 64 ;; esac

if ! command -v afl-fuzz >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "error: install afl++ (apt-get install afl++)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
if [ ! -x .tools/sharpfuzz ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path .tools >/dev/null
fi

# Build once per run into fuzz/out, then instrument the copy of the core there (never the tree's own build).
# SKIP_BUILD=1 reuses fuzz/out as it is: to run a second target beside a running one (a rebuild would rewrite
# the assemblies that one has loaded).
[ "${SKIP_BUILD:-0}" = 1 ] || dotnet build MapsExporter.Fuzz/MapsExporter.Fuzz.csproj -c Release --artifacts-path build -o out -v quiet -nologo >/dev/null
# The core's readers, and for webconfig and ipc the host's loader, frames and YamlDotNet's parser. The marker holds the instrumented
# file's hash: a build copies the original back with its old timestamp, so a time comparison would miss it.
for dll in MapsExporter.Core mapsexporter YamlDotNet; do
  [ "${SKIP_BUILD:-0}" = 1 ] && break
  if [ "$(sha256sum < "out/$dll.dll")" != "$(cat "out/.instrumented-$dll" 2>/dev/null)" ]; then
    .tools/sharpfuzz "out/$dll.dll" >/dev/null
    sha256sum < "out/$dll.dll" > "out/.instrumented-$dll"
  fi
done

mkdir -p "findings/$target"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# -t: the .NET fork server's first run JIT-compiles the parsers; -m none: the runtime reserves far more than AFL's default.
afl-fuzz -V "$seconds" -t 5000 -m none -i "corpus/$target" -o "findings/$target" -- dotnet out/MapsExporter.Fuzz.dll "$target" \
  >"findings/$target/afl.log" 2>&1 || { tail -30 "findings/$target/afl.log"; exit 1; }
# The cgroup and pagemap targets' scratch trees of fuzzers no longer running.
for d in /dev/shm/mapsexporter-fuzz-*; do if [ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null; then rm -rf "$d"; fi; done

stats="findings/$target/default/fuzzer_stats"
execs=$(awk -F': *' '$1 ~ /execs_done/ {print $2}' "$stats")
crashes=$(awk -F': *' '$1 ~ /saved_crashes|unique_crashes/ {print $2}' "$stats" | head -1)
hangs=$(awk -F': *' '$1 ~ /saved_hangs|unique_hangs/ {print $2}' "$stats" | head -1)
paths=$(awk -F': *' '$1 ~ /corpus_count|paths_total/ {print $2}' "$stats" | head -1)
echo "$target: $execs executions in ${seconds}s, corpus $paths, crashes $crashes, hangs $hangs (findings/$target)"
