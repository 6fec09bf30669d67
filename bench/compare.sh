#!/usr/bin/env bash
# The scan and overhead benchmarks of two builds side by side, in one run, on the same live processes:
#   bash bench/compare.sh BASE_REV [ROUNDS]     # e.g. bash bench/compare.sh b490a2b 3
# BASE_REV's benchmark is built from a git worktree in a scratch folder (removed on exit); this tree's is the other.
# One set of targets is started once (20 JVMs for the whole scan; a 50-thread JVM, a 1,400-thread JVM and a native
# program with 10,000 mappings for the overhead), then each round runs base then this build, alternating, so that
# both see the same processes and the same drift of the machine. Prints each round's figures, labelled. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE=${1:?usage: bench/compare.sh BASE_REV [ROUNDS]}
ROUNDS=${2:-3}
JDK=${JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
WORK=$(mktemp -d /tmp/mapsexporter-compare.XXXXXX)
cleanup() {
  for p in $(cat "$WORK/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git -C "$ROOT" worktree remove --force "$WORK/base" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

git -C "$ROOT" worktree add --detach "$WORK/base" "$BASE" >/dev/null 2>&1
for side in base new; do
  dir=$ROOT; [ "$side" = base ] && dir=$WORK/base
  dotnet build "$dir/bench/MapsExporter.Benchmarks" -c Release -v q -nologo >"$WORK/build-$side.log" 2>&1 || { tail -20 "$WORK/build-$side.log"; exit 1; }
done
DLL_base=$WORK/base/bench/MapsExporter.Benchmarks/bin/Release/net10.0/MapsExporter.Benchmarks.dll
DLL_new=$ROOT/bench/MapsExporter.Benchmarks/bin/Release/net10.0/MapsExporter.Benchmarks.dll

gcc -O2 -o "$WORK/mappings" tests/workloads/mappings.c
# Two names: the whole scan selects only the 20 BenchWorkload JVMs, not the overhead targets.
for name in BenchWorkload OverheadWorkload; do
  sed "s/\\bWorkload\\b/$name/g" tests/workloads/Workload.java >"$WORK/$name.java"
  "$JDK/bin/javac" -d "$WORK" "$WORK/$name.java"
done
start_jvm() { # threads heap [class] -> pid
  local out="$WORK/jvm.$RANDOM.out"
  "$JDK/bin/java" -Xmx"$2" -Xss512k -cp "$WORK" "${3:-BenchWorkload}" "$1" >"$out" 2>&1 &
  local pid=$!
  echo "$pid" >>"$WORK/pids"
  for _ in $(seq 600); do grep -q READY "$out" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$out" || { echo "JVM $pid did not start: $(cat "$out")" >&2; exit 1; }
  echo "$pid"
}
JVMS=(); for i in $(seq 20); do JVMS+=("$(start_jvm 20 128m)"); done
small=$(start_jvm 50 128m OverheadWorkload); many=$(start_jvm 1400 128m OverheadWorkload)
"$WORK/mappings" 5000 >"$WORK/mappings.out" & echo $! >>"$WORK/pids"; native=$!; sleep 0.5
echo "base $(git -C "$ROOT" rev-parse --short "$BASE")  new $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo '+changes')"
echo "date $(date -u +%Y-%m-%dT%H:%MZ)  cpu $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  nproc $(nproc)"
for p in $small $many $native; do echo "target $p: $(wc -l <"/proc/$p/maps") mappings, $(ls "/proc/$p/task" | wc -l) threads"; done
for r in $(seq "$ROUNDS"); do
  for side in base new; do
    dll=DLL_$side
    echo "== round $r $side wholescan"
    BENCH_ROUNDS=15 dotnet "${!dll}" wholescan "${JVMS[@]}" || true
    echo "== round $r $side cpu"
    BENCH_SPLIT=1 BENCH_EXACT=1 dotnet "${!dll}" cpu "$small" "$many" "$native"
  done
done
