#!/usr/bin/env bash
# The release daemon's CPU per scan, two builds side by side on the same 20 JVMs:
#   bash bench/daemon-compare.sh BASE_BINARY [NEW_BINARY] [ROUNDS] [SECONDS]
# e.g. after `git worktree add /tmp/base REV && (cd /tmp/base && bash deploy/publish.sh)`:
#   bash bench/daemon-compare.sh /tmp/base/artifacts/mapsexporter
# For each configuration (the defaults at a 1 s interval: smaps at most once a minute, maps between; and smaps
# every scan) each round runs base then new, alternating, each for SECONDS, and prints CPU ms per scan
# (utime+stime ticks of the daemon and its web side over the scans it logged). NEW_FLAGS: more flags for the new build only (to
# take one feature's cost apart, e.g. NEW_FLAGS=--scan.resident=smaps). As root.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/daemon-compare.sh BASE_BINARY [NEW_BINARY] [ROUNDS] [SECONDS]}
NEW=${2:-$PWD/artifacts/mapsexporter}
ROUNDS=${3:-2}
SECONDS_EACH=${4:-20}
JDK=${JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
. bench/bench-jvms.sh
bench_work daemon-compare
start_bench_jvms "$WORK" "$JDK"
# The daemon's CPU and its children's (a privileged daemon splits off its web side: --web.privsep).
cpu_ticks() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
echo "base $BASE  new $NEW"
echo "date $(date -u +%Y-%m-%dT%H:%MZ)  cpu $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)"
port=19400
for config in defaults smaps-every-scan; do
  extra=(); [ "$config" = smaps-every-scan ] && extra=(--scan.smaps-interval=0s)
  for r in $(seq "$ROUNDS"); do
    for side in base new; do
      bin=$BASE; flags=(); [ "$side" = new ] && bin=$NEW && read -ra flags <<<"${NEW_FLAGS:-}"
      port=$((port + 1))
      "$bin" --web.listen-address "127.0.0.1:$port" --scan.interval 1s "${extra[@]}" "${flags[@]}" --selection.include-app BenchWorkload --log.level debug >"$WORK/d.log" 2>&1 &
      d=$!; echo "$d" >>"$WORK/pids"
      for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null && break; sleep 0.1; done
      sleep 3 # the first scans (JVM detection, first smaps reads) are not the steady state
      n0=$(grep -c 'Scan [0-9]* took' "$WORK/d.log" || true); c0=$(cpu_ticks "$d")
      sleep "$SECONDS_EACH"
      c1=$(cpu_ticks "$d"); n1=$(grep -c 'Scan [0-9]* took' "$WORK/d.log" || true)
      kill "$d"; wait "$d" 2>/dev/null || true
      awk -v c="$config" -v r="$r" -v s="$side" -v d=$((c1 - c0)) -v n=$((n1 - n0)) -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%-17s round %d %-4s cpu_ms_per_scan %6.2f (%d scans, %d ticks)\n", c, r, s, 1000 * d / hz / n, n, d }'
    done
  done
done
