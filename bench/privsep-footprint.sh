#!/usr/bin/env bash
# Privilege separation's cost: the release (AOT) daemon on 20 JVMs, split (the default as root) and one process
# (--web.privsep=false), alternating. For each: RSS of every process of the daemon after SECONDS idle at a 1 s
# interval (a few scrapes), and CPU ms per scan of the scanner and the web side together (utime+stime ticks over
# SECONDS of 1 s scans). As root:
#   bash bench/privsep-footprint.sh [BINARY] [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-$PWD/artifacts/mapsexporter}
ROUNDS=${2:-2}
SECONDS_EACH=${3:-30}
JDK=${JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
WORK=$(mktemp -d /tmp/mapsexporter-privsep.XXXXXX)
cleanup() {
  for p in $(cat "$WORK/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
. bench/bench-jvms.sh
start_bench_jvms "$WORK" "$JDK"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
echo "binary $BIN"
echo "date $(date -u +%Y-%m-%dT%H:%MZ)  cpu $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)"
port=19480
for r in $(seq "$ROUNDS"); do
  for mode in split one; do
    flags=(); [ "$mode" = one ] && flags=(--web.privsep=false)
    port=$((port + 1))
    "$BIN" "--web.listen-address=127.0.0.1:$port" --scan.interval=1s --log.level=warn "${flags[@]}" >"$WORK/log" 2>&1 &
    main=$!
    for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
    web=$(pgrep -P "$main" -f web-side || true)
    sleep 5
    t0=$(ticks "$main"); w0=0; [ -n "$web" ] && w0=$(ticks "$web")
    for _ in $(seq $((SECONDS_EACH / 10))); do sleep 10; curl -s -o /dev/null --compressed "http://127.0.0.1:$port/metrics"; done
    t1=$(ticks "$main"); w1=0; [ -n "$web" ] && w1=$(ticks "$web")
    rss_main=$(rss_kb "$main"); rss_web=0; [ -n "$web" ] && rss_web=$(rss_kb "$web")
    kill "$main"; wait "$main" || true
    awk -v m="$mode" -v r="$r" -v s="$SECONDS_EACH" -v hz="$hz" -v t="$((t1 - t0))" -v w="$((w1 - w0))" -v a="$rss_main" -v b="$rss_web" 'BEGIN {
      printf "round %d %-5s  cpu/scan scanner %.1f ms + web %.1f ms = %.1f ms   RSS scanner %.1f MB + web %.1f MB = %.1f MB\n",
        r, m, t * 1000 / hz / s, w * 1000 / hz / s, (t + w) * 1000 / hz / s, a / 1024, b / 1024, (a + b) / 1024 }'
  done
done
