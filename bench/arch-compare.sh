#!/usr/bin/env bash
# Two release binaries side by side, parse and whole scan in one run (issue 18: the x86-64 baseline binary against
# one compiled for x86-64-v3):
#   bash bench/arch-compare.sh BASE_BINARY [NEW_BINARY] [ROUNDS] [SCAN_ROUNDS]
# e.g. `OUT=/tmp/v3 AOT_BUILD_DIR=/tmp/v3-build ARCHS=x64 bash deploy/publish.sh -p:IlcInstructionSet=x86-64-v3`,
# then bash bench/arch-compare.sh /tmp/v3/mapsexporter
# Parse: `report` of saved smaps in one process, base then new alternating each round: every captured fixture 100
# times (real JVMs' smaps), and a native program's 60,024-mapping smaps 8 times (43 MB each). Each run's CPU time as
# perf stat's task-clock (all threads, user and kernel, to the microsecond) and GNU time's user seconds (10 ms ticks);
# then per input the medians, minimums and the median of the rounds' new/base ratios (a round's two runs share the
# machine's load, so the ratio spreads less than either side). Whole scan: bench/daemon-compare.sh on 20 JVMs (CPU ms
# per scan of the daemon). As root; perf from linux-perf.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/arch-compare.sh BASE_BINARY [NEW_BINARY] [ROUNDS] [SCAN_ROUNDS]}
NEW=${2:-$PWD/artifacts/mapsexporter}
ROUNDS=${3:-15}
SCAN_ROUNDS=${4:-3}
WORK=$(mktemp -d /tmp/mapsexporter-arch-compare.XXXXXX)
trap 'kill "$(cat "$WORK/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$WORK"' EXIT

gcc -O2 -o "$WORK/mappings" tests/workloads/mappings.c
"$WORK/mappings" 30000 >"$WORK/mappings.out" 2>&1 & echo $! >"$WORK/pid"
for _ in $(seq 100); do [ "$(wc -l <"/proc/$(cat "$WORK/pid")/maps")" -gt 30000 ] && break; sleep 0.1; done
cat "/proc/$(cat "$WORK/pid")/smaps" >"$WORK/native30k.smaps"
kill "$(cat "$WORK/pid")"
fixtures=(); for _ in $(seq 100); do fixtures+=(tests/Fixtures/*/smaps); done
big=(); for _ in $(seq 8); do big+=("$WORK/native30k.smaps"); done

echo "base $BASE  new $NEW"
echo "date $(date -u +%Y-%m-%dT%H:%MZ)  cpu $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "inputs: fixtures ${#fixtures[@]} dumps, big ${#big[@]} x $(grep -c '^[0-9a-f]*-' "$WORK/native30k.smaps") mappings"
cmp <("$BASE" report "${fixtures[@]:0:20}") <("$NEW" report "${fixtures[@]:0:20}") >/dev/null || { echo "the two binaries' reports differ" >&2; exit 1; }
for r in $(seq "$ROUNDS"); do
  for side in base new; do
    bin=$BASE; [ "$side" = new ] && bin=$NEW
    for set in fixtures big; do
      declare -n inputs=$set
      /usr/bin/time -f "%U %S" -o "$WORK/time" perf stat -x, -e task-clock -o "$WORK/stat" "$bin" report "${inputs[@]}" >/dev/null
      read -r user sys <"$WORK/time"
      task=$(awk -F, '/task-clock/ { print $1 }' "$WORK/stat")
      printf "parse %-8s round %d %-4s task_ms %7.1f user_s %5.2f sys_s %5.2f\n" "$set" "$r" "$side" "$task" "$user" "$sys" | tee -a "$WORK/parse"
    done
  done
done
echo "end $(date -u +%H:%MZ)  load $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
  function median(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
  { t[$2, $5, $4] = $7; u[$2, $5, $4] = $9; n[$2] = $4 > n[$2] ? $4 : n[$2] }
  END {
    for (set in n) {
      for (s = 1; s <= 2; s++) {
        side = s == 1 ? "base" : "new"
        for (r = 1; r <= n[set]; r++) { a[r] = t[set, side, r]; b[r] = u[set, side, r] }
        m = median(a, n[set]); mu = median(b, n[set])
        printf "summary %-8s %-4s task_ms median %7.1f min %7.1f   user_s median %5.2f min %5.2f\n", set, side, m, a[1], mu, b[1]
      }
      for (r = 1; r <= n[set]; r++) { a[r] = t[set, "new", r] / t[set, "base", r]; b[r] = u[set, "base", r] > 0 ? u[set, "new", r] / u[set, "base", r] : 1 }
      printf "summary %-8s new/base per round: task %.3f (median of %d), user %.3f\n", set, median(a, n[set]), n[set], median(b, n[set])
    }
  }' "$WORK/parse"
bash bench/daemon-compare.sh "$BASE" "$NEW" "$SCAN_ROUNDS" 15
