#!/usr/bin/env bash
# Two release binaries side by side, parse and whole scan in one run (issue 18: the x86-64 baseline binary against
# one compiled for x86-64-v3):
#   bash bench/arch-compare.sh BASE_BINARY [NEW_BINARY] [ROUNDS]
# e.g. `OUT=/tmp/v3 AOT_BUILD_DIR=/tmp/v3-build ARCHS=x64 bash deploy/publish.sh -p:IlcInstructionSet=x86-64-v3`,
# then bash bench/arch-compare.sh /tmp/v3/mapsexporter
# Parse: `report` of saved smaps in one process, base then new alternating each round, user CPU seconds (GNU time):
# every captured fixture 100 times (real JVMs' smaps, 4,000 dumps), and a native program's 30,000-mapping smaps 8
# times (43 MB each). Whole scan: bench/daemon-compare.sh on 20 JVMs (CPU ms per scan of the daemon). As root.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/arch-compare.sh BASE_BINARY [NEW_BINARY] [ROUNDS]}
NEW=${2:-$PWD/artifacts/mapsexporter}
ROUNDS=${3:-5}
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
cmp <("$BASE" report "${fixtures[@]:0:20}") <("$NEW" report "${fixtures[@]:0:20}") >/dev/null || { echo "the two binaries' reports differ" >&2; exit 1; }
for r in $(seq "$ROUNDS"); do
  for side in base new; do
    bin=$BASE; [ "$side" = new ] && bin=$NEW
    for set in fixtures big; do
      declare -n inputs=$set
      /usr/bin/time -f "%U %S" -o "$WORK/time" "$bin" report "${inputs[@]}" >/dev/null
      read -r user sys <"$WORK/time"
      printf "parse %-8s round %d %-4s user_s %5.2f sys_s %5.2f\n" "$set" "$r" "$side" "$user" "$sys"
    done
  done
done
bash bench/daemon-compare.sh "$BASE" "$NEW" 2 20
