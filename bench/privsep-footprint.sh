#!/usr/bin/env bash
# Privilege separation's cost: the release (AOT) daemon on 20 JVMs, split (the default as root) and one process
# (--web.privsep=false), alternating.
#  busy: 1 s scans; RSS of every process of the daemon after SECONDS, and CPU ms per scan of the scanner and the web
#        side together (utime+stime ticks over SECONDS of 1 s scans, a gzip scrape every 10 s).
#  idle: as the footprint section measures it: 15 s scans, --selection.include-app BenchWorkload (the 20 JVMs),
#        three gzip scrapes 10 s apart, then Rss, Pss, Pss_Anon and Pss_File of each process from smaps_rollup.
# With BASE=OTHER_BINARY the same rounds also run that binary split (a baseline in the same run). As root:
#   [BASE=OLD] bash bench/privsep-footprint.sh [BINARY] [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-$PWD/artifacts/mapsexporter}
ROUNDS=${2:-2}
SECONDS_EACH=${3:-30}
JDK=${JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
. bench/bench-jvms.sh
bench_work privsep
start_bench_jvms "$WORK" "$JDK"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# Rss Pss Pss_Anon Pss_File in kB, or four zeros for no process.
rollup() { if [ -z "$1" ]; then echo 0 0 0 0; else awk '/^(Rss|Pss|Pss_Anon|Pss_File):/ { v[$1] = $2 } END { print v["Rss:"], v["Pss:"], v["Pss_Anon:"], v["Pss_File:"] }' "/proc/$1/smaps_rollup"; fi; }
hz=$(getconf CLK_TCK)
echo "binary $BIN${BASE:+  base $BASE}"
echo "date $(date -u +%Y-%m-%dT%H:%MZ)  cpu $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)"
modes=(split one); [ -n "${BASE:-}" ] && modes=(base split one)
port=19480
start() { # BINARY FLAGS...: starts the daemon, waits for /healthz; sets main and web
  port=$((port + 1))
  "$1" "--web.listen-address=127.0.0.1:$port" --log.level=warn "${@:2}" >"$WORK/log" 2>&1 &
  main=$!
  for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  web=$(pgrep -P "$main" -f web-side || true)
}
for r in $(seq "$ROUNDS"); do
  for mode in "${modes[@]}"; do
    bin=$BIN; flags=(); [ "$mode" = one ] && flags=(--web.privsep=false); [ "$mode" = base ] && bin=$BASE
    start "$bin" --scan.interval=1s "${flags[@]}"
    sleep 5
    t0=$(ticks "$main"); w0=0; [ -n "$web" ] && w0=$(ticks "$web")
    for _ in $(seq $((SECONDS_EACH / 10))); do sleep 10; curl -s -o /dev/null --compressed "http://127.0.0.1:$port/metrics"; done
    t1=$(ticks "$main"); w1=0; [ -n "$web" ] && w1=$(ticks "$web")
    rss_main=$(rss_kb "$main"); rss_web=0; [ -n "$web" ] && rss_web=$(rss_kb "$web")
    kill "$main"; wait "$main" || true
    awk -v m="$mode" -v r="$r" -v s="$SECONDS_EACH" -v hz="$hz" -v t="$((t1 - t0))" -v w="$((w1 - w0))" -v a="$rss_main" -v b="$rss_web" 'BEGIN {
      printf "round %d %-5s busy  cpu/scan scanner %.1f ms + web %.1f ms = %.1f ms   RSS scanner %.1f MB + web %.1f MB = %.1f MB\n",
        r, m, t * 1000 / hz / s, w * 1000 / hz / s, (t + w) * 1000 / hz / s, a / 1024, b / 1024, (a + b) / 1024 }'

    start "$bin" --scan.interval=15s --selection.include-app BenchWorkload "${flags[@]}"
    for _ in 1 2 3; do sleep 10; curl -s -o /dev/null --compressed "http://127.0.0.1:$port/metrics"; done
    read -r a_rss a_pss a_anon a_file < <(rollup "$main")
    read -r b_rss b_pss b_anon b_file < <(rollup "$web")
    kill "$main"; wait "$main" || true
    awk -v m="$mode" -v r="$r" -v ar="$a_rss" -v ap="$a_pss" -v aa="$a_anon" -v af="$a_file" -v br="$b_rss" -v bp="$b_pss" -v ba="$b_anon" -v bf="$b_file" 'BEGIN {
      printf "round %d %-5s idle  Pss scanner %.1f (anon %.1f, file %.1f) + web %.1f (anon %.1f, file %.1f) = %.1f MB   Rss %.1f + %.1f = %.1f MB\n",
        r, m, ap / 1024, aa / 1024, af / 1024, bp / 1024, ba / 1024, bf / 1024, (ap + bp) / 1024, ar / 1024, br / 1024, (ar + br) / 1024 }'
  done
done
