#!/usr/bin/env bash
# Soak test: runs the daemon for SOAK_SECONDS (default 1800) with continuous process churn (native processes
# and JVMs started and killed) and concurrent scrapes, and samples the daemon's RSS, open fds and threads every
# SOAK_SAMPLE seconds (default 30). Prints a table and a summary line; exits 1 if the daemon died, a scrape
# failed too often, or its logs carry an exception.
#
#   bash scripts/soak.sh                      # 30 minutes (run as root: the daemon reads every process)
#   SOAK_SECONDS=120 bash scripts/soak.sh     # a short run
#   MAPSEXPORTER_BIN=artifacts/aot/mapsexporter bash scripts/soak.sh   # a Native AOT binary instead of the Release build
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

seconds=${SOAK_SECONDS:-1800}
sample=${SOAK_SAMPLE:-30}
interval=${SOAK_SCAN_INTERVAL:-1s}
jdk=${SOAK_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
work=$(mktemp -d /tmp/mapsexporter-soak.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The binary: an explicit one, an AOT build under artifacts/, else a Release build of this tree (in its own
# artifacts path, so a concurrent build of the tree is not disturbed).
bin=${MAPSEXPORTER_BIN:-}
if [ -z "$bin" ]; then
  bin=$(find artifacts -type f -name mapsexporter -perm -u+x 2>/dev/null | grep -i aot | head -1 || true)
fi
if [ -n "$bin" ]; then
  cmd=("$bin")
else
  echo "building Release ..." >&2
  dotnet publish src/MapsExporter/MapsExporter.csproj -c Release --artifacts-path "$work/build" -o "$work/app" -v quiet -nologo >/dev/null
  cmd=(dotnet "$work/app/mapsexporter.dll")
  bin="$work/app/mapsexporter.dll (Release, JIT)"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 10199)
"${cmd[@]}" --web.listen-address="127.0.0.1:$port" --scan.interval="$interval" --selection.include-native='soak-.*|sleep' \
  --log.level=info >"$work/daemon.log" 2>&1 &
daemon=$!
pids+=("$daemon")
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "daemon did not start"; cat "$work/daemon.log"; exit 1; }

# Native churn: short-lived sleep processes, 10 a second.
( while :; do for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 0.$((RANDOM % 9 + 1)) & done; wait; done ) >/dev/null 2>&1 &
pids+=($!)
# JVM churn: one long-lived JVM, and one more started and killed every ~20 s.
mkdir -p "$work/classes"
"$jdk/bin/javac" -d "$work/classes" tests/workloads/Workload.java
# (Under set -e a subshell stops at the first failing command: `wait` on the killed JVM returns 143, hence || true.)
# Workload keeps 32 MiB of 1 MiB arrays live (humongous for G1): smaller heaps die of OutOfMemoryError at start.
"$jdk/bin/java" -Xmx256m -cp "$work/classes" Workload 20 >"$work/jvm.out" 2>&1 &
long_jvm=$!
pids+=($!)
( while :; do "$jdk/bin/java" -Xmx128m -cp "$work/classes" Workload 5 >/dev/null 2>&1 & j=$!; sleep 20; kill "$j"; wait "$j" 2>/dev/null || true; done ) >/dev/null 2>&1 &
pids+=($!)
# Scrapers: two loops, /metrics every 0.25 s each, counting failures.
for s in 1 2; do
  ( ok=0; bad=0; while :; do if curl -sf -o /dev/null --max-time 10 "http://127.0.0.1:$port/metrics"; then ok=$((ok+1)); else bad=$((bad+1)); fi
      echo "$ok $bad" >"$work/scraper$s"; sleep 0.25; done ) &
  pids+=($!)
done

rss() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$daemon/status"; }
fds() { ls "/proc/$daemon/fd" | wc -l; }
threads() { ls "/proc/$daemon/task" | wc -l; }
series() { curl -sf "http://127.0.0.1:$port/metrics" | grep -c '^mapsexporter_' || true; }
vanished() { curl -sf "http://127.0.0.1:$port/metrics" | awk -F' ' '/^mapsexporter_scan_errors_total\{reason="vanished"\}/ {print $2}'; }
# The managed heap after the daemon's last collection, as it publishes it (MB).
jvms() { curl -sf "http://127.0.0.1:$port/metrics" | grep '^mapsexporter_process_info' | grep -vc 'jvm_version="none"' || true; }
gc_heap() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^mapsexporter_self_gc_heap_bytes / {printf "%.1f", $2 / 1048576}'; }

printf '%-8s %-8s %-8s %-6s %-8s %-8s %-6s %-10s\n' elapsed rss_mb gc_mb fds threads series jvms vanished
start=$(date +%s)
first_rss=$(rss); max_rss=$first_rss; max_fds=0; max_threads=0; min_rss=$first_rss
rows=()
while :; do
  now=$(date +%s); elapsed=$((now - start))
  kill -0 "$daemon" 2>/dev/null || { echo "daemon died"; tail -50 "$work/daemon.log"; exit 1; }
  r=$(rss); f=$(fds); t=$(threads)
  [ "$r" -gt "$max_rss" ] && max_rss=$r; [ "$r" -lt "$min_rss" ] && min_rss=$r
  [ "$f" -gt "$max_fds" ] && max_fds=$f; [ "$t" -gt "$max_threads" ] && max_threads=$t
  [ "$elapsed" -eq 0 ] && { first_fds=$f; first_threads=$t; }
  printf '%-8s %-8s %-8s %-6s %-8s %-8s %-6s %-10s\n' "${elapsed}s" "$r" "$(gc_heap)" "$f" "$t" "$(series)" "$(jvms)" "$(vanished)"
  [ "$elapsed" -ge "$seconds" ] && break
  sleep "$sample"
done

read -r ok1 bad1 <"$work/scraper1"; read -r ok2 bad2 <"$work/scraper2"
exceptions=$(grep -cE 'Exception|   at ' "$work/daemon.log" || true)
echo
echo "binary: $bin; host: $(nproc) cores, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "rss_mb start $first_rss end $r min $min_rss max $max_rss; fds start $first_fds end $f max $max_fds; threads start $first_threads end $t max $max_threads"
echo "scrapes ok $((ok1 + ok2)) failed $((bad1 + bad2)); exception lines in the daemon log: $exceptions"
status=0
# The long-lived JVM must have lived, and be reported, to the end: a soak without its JVM proves little.
kill -0 "$long_jvm" 2>/dev/null || { echo "the long-lived JVM died: $(tail -3 "$work/jvm.out")"; status=1; }
curl -sf "http://127.0.0.1:$port/metrics" | grep -q "^mapsexporter_process_info{pid=\"$long_jvm\"" || { echo "the long-lived JVM $long_jvm is not reported"; status=1; }
[ "$exceptions" -eq 0 ] || { grep -E -m5 'Exception|   at ' "$work/daemon.log"; status=1; }
[ $((bad1 + bad2)) -le 2 ] || status=1
exit $status
