#!/usr/bin/env bash
# Captures tests/Fixtures/procfs/tree/: a small /proc tree holding what the exporter reads of three real processes,
# for the golden /metrics test (tests/MapsExporter.Tests/Deploy/GoldenMetricsTests.cs), which runs the release
# binary with --path.procfs=tree.
#
#   bash tests/Fixtures/procfs/capture.sh      # as root; about 10 s
#
# The processes (started here, read once they print READY plus SETTLE_SECONDS, then stopped):
#   $JDK17/bin/java -XX:+UseG1GC -Xmx128m -cp $BUILD/classes17 Workload 4 --native-churn   (glibc arenas)
#   $JDK25/bin/java -XX:+UseZGC -Xmx128m -cp $BUILD/classes25 Workload 4                  (memfd heap views)
#   $BUILD/arenas 3                                                                        (native, --selection.include-native)
# $BUILD is /tmp/mapsexporter-capture as for ../capture.sh, and the JVMs run in it, so their paths are stable.
#
# Per PID, read back to back: stat, statm, comm, cmdline, maps, smaps, smaps_rollup, task/TID/{comm,syscall};
# for a JVM also its hsperfdata file (PID/root/tmp/hsperfdata_USER/PID, read by the exporter through
# /proc/PID/root and the path it maps) and the JDK's release file (PID/root/JDK/release, found above the
# mapped libjvm.so as JvmVersionResolver looks for it). For the host: the btime line of /proc/stat and
# sys/vm/max_map_count, and beside the tree sysfs/devices/system/cpu/online (for --path.sysfs). Never mem, pagemap or environ: the exact methods that read a process's memory fall
# back in the golden run and are counted, which is part of the expected output.
# A snapshot whose maps and smaps differ in VMA count, or whose task/ listing differs from stat's thread
# count, is taken again (up to 5 times). The tree is replaced only when every process was captured.
# How and when it was made goes to captured.txt beside the tree.
#
# After a capture the golden file has to be rewritten (see tests/Fixtures/README.md):
#   UPDATE_GOLDEN=1 dotnet test MapsExporter.sln -c Release --filter FullyQualifiedName~GoldenMetrics
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
WORKLOADS=$REPO/tests/workloads
JDK17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
BUILD=${CAPTURE_BUILD_DIR:-/tmp/mapsexporter-capture}
SETTLE=${SETTLE_SECONDS:-1}
READY_TIMEOUT=${READY_TIMEOUT:-120}

log() { printf '[procfs-capture] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: task/TID/syscall and the JVMs' hsperfdata are owner-only or ptrace-guarded"
command -v gcc >/dev/null || die "gcc not found"

WORK=$(mktemp -d "$HERE/.capture.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  exec 3>&-
  rm -rf "$WORK"
}
trap cleanup EXIT

build() {
  mkdir -p "$BUILD/classes17" "$BUILD/classes25"
  gcc -O2 -pthread -Wall -o "$BUILD/arenas" "$WORKLOADS/arenas.c"
  "$JDK17/bin/javac" -d "$BUILD/classes17" "$WORKLOADS/Workload.java"
  "$JDK25/bin/javac" -d "$BUILD/classes25" "$WORKLOADS/Workload.java"
}

# wait_ready FILE PID: until FILE has a line starting with READY
wait_ready() {
  local file=$1 pid=$2 i
  for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
    grep -q '^READY' "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || die "process $pid died: $(cat "${file%.stdout}.stderr" 2>/dev/null)"
    sleep 0.1
  done
  die "timeout waiting for READY in $file"
}

# snapshot PID DEST: the files the scanner reads, back to back; fails when they do not agree
snapshot() {
  local pid=$1 dest=$2 tid
  rm -rf "$dest"
  mkdir -p "$dest/task"
  cat "/proc/$pid/stat" > "$dest/stat"
  cat "/proc/$pid/statm" > "$dest/statm"
  cat "/proc/$pid/comm" > "$dest/comm"
  cat "/proc/$pid/cmdline" > "$dest/cmdline"
  cat "/proc/$pid/maps" > "$dest/maps"
  cat "/proc/$pid/smaps" > "$dest/smaps"
  cat "/proc/$pid/smaps_rollup" > "$dest/smaps_rollup"
  # Where it lives (the golden /metrics of a tree captured before this file was copied has no cgroup labels).
  cat "/proc/$pid/cgroup" > "$dest/cgroup"
  for tid in $(ls "/proc/$pid/task"); do
    mkdir "$dest/task/$tid"
    cat "/proc/$pid/task/$tid/comm" > "$dest/task/$tid/comm" || return 1
    cat "/proc/$pid/task/$tid/syscall" > "$dest/task/$tid/syscall" || return 1
  done
  local vmas records tasks threads
  vmas=$(wc -l < "$dest/maps")
  records=$(grep -c '^VmFlags:' "$dest/smaps")
  tasks=$(ls "$dest/task" | wc -l)
  # field 20 (num_threads), counted after the comm's closing parenthesis (field 2 may hold spaces)
  threads=$(sed 's/.*) //' "$dest/stat" | cut -d' ' -f18)
  [ "$vmas" = "$records" ] || { log "$pid: maps has $vmas VMAs, smaps $records"; return 1; }
  [ "$tasks" = "$threads" ] || { log "$pid: task/ lists $tasks, stat says $threads threads"; return 1; }
}

# jvm_files PID DEST: the hsperfdata file the JVM maps and the JDK's release file, under DEST/root
jvm_files() {
  local pid=$1 dest=$2 perf libjvm dir
  perf=$(awk '$6 ~ /\/hsperfdata_[^\/]+\/[0-9]+$/ { print $6; exit }' "$dest/maps")
  [ -n "$perf" ] || die "$pid maps no hsperfdata file"
  mkdir -p "$dest/root$(dirname "$perf")"
  cat "/proc/$pid/root$perf" > "$dest/root$perf"
  libjvm=$(awk '$6 ~ /\/libjvm\.so$/ { print $6; exit }' "$dest/maps")
  [ -n "$libjvm" ] || die "$pid maps no libjvm.so"
  dir=$(dirname "$libjvm")
  while [ "$dir" != / ] && [ ! -f "/proc/$pid/root$dir/release" ]; do
    dir=$(dirname "$dir")
  done
  [ "$dir" != / ] || die "no release file above $libjvm"
  mkdir -p "$dest/root$dir"
  cat "/proc/$pid/root$dir/release" > "$dest/root$dir/release"
}

# capture PID KIND: snapshot (taken again while the files disagree), then the JVM's files
capture() {
  local pid=$1 kind=$2 try
  for try in 1 2 3 4 5; do
    snapshot "$pid" "$WORK/tree/$pid" && break
    [ "$try" = 5 ] && die "$pid: no consistent snapshot in 5 tries"
    sleep 0.5
  done
  [ "$kind" = jvm ] && jvm_files "$pid" "$WORK/tree/$pid"
  return 0
}

# check_cmdline PID EXPECTED...: the captured cmdline is exactly the command this script started
check_cmdline() {
  local pid=$1
  shift
  local expected
  expected=$(printf '%s\0' "$@" | od -An -c)
  [ "$(od -An -c < "$WORK/tree/$pid/cmdline")" = "$expected" ] || die "$pid: cmdline is not the command started: $(tr '\0' ' ' < "$WORK/tree/$pid/cmdline")"
}

main() {
  build
  mkdir -p "$WORK/tree/sys/vm"
  local jdk17_cmd=("$JDK17/bin/java" -XX:+UseG1GC -Xmx128m -cp "$BUILD/classes17" Workload 4 --native-churn)
  local jdk25_cmd=("$JDK25/bin/java" -XX:+UseZGC -Xmx128m -cp "$BUILD/classes25" Workload 4)
  local native_cmd=("$BUILD/arenas" 3)

  (cd "$BUILD" && exec "${jdk17_cmd[@]}") > "$WORK/jdk17.stdout" 2> "$WORK/jdk17.stderr" &
  local jdk17=$!
  PIDS+=("$jdk17")
  (cd "$BUILD" && exec "${jdk25_cmd[@]}") > "$WORK/jdk25.stdout" 2> "$WORK/jdk25.stderr" &
  local jdk25=$!
  PIDS+=("$jdk25")
  mkfifo "$WORK/native.stdin"
  (cd "$BUILD" && exec "${native_cmd[@]}") < "$WORK/native.stdin" > "$WORK/native.stdout" 2> "$WORK/native.stderr" &
  local native=$!
  PIDS+=("$native")
  exec 3> "$WORK/native.stdin"

  wait_ready "$WORK/jdk17.stdout" "$jdk17"
  wait_ready "$WORK/jdk25.stdout" "$jdk25"
  wait_ready "$WORK/native.stdout" "$native"
  sleep "$SETTLE"

  capture "$jdk17" jvm
  capture "$jdk25" jvm
  capture "$native" native
  grep '^btime ' /proc/stat > "$WORK/tree/stat"
  cat /proc/sys/vm/max_map_count > "$WORK/tree/sys/vm/max_map_count"
  mkdir -p "$WORK/sysfs/devices/system/cpu"
  cat /sys/devices/system/cpu/online > "$WORK/sysfs/devices/system/cpu/online"
  check_cmdline "$jdk17" "${jdk17_cmd[@]}"
  check_cmdline "$jdk25" "${jdk25_cmd[@]}"
  check_cmdline "$native" "${native_cmd[@]}"

  {
    echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ) by tests/Fixtures/procfs/capture.sh"
    echo "kernel: $(uname -r) ($(uname -m))"
    echo "glibc: $(ldd --version 2>&1 | head -n1)"
    echo "pid $jdk17: ${jdk17_cmd[*]}"
    "$JDK17/bin/java" -version 2>&1 | sed 's/^/  /'
    echo "pid $jdk25: ${jdk25_cmd[*]}"
    "$JDK25/bin/java" -version 2>&1 | sed 's/^/  /'
    echo "pid $native: ${native_cmd[*]}"
    echo "each run in $BUILD, read ${SETTLE}s after its READY line"
  } > "$WORK/captured.txt"

  find "$WORK/tree" "$WORK/sysfs" -type d -exec chmod 755 {} +
  find "$WORK/tree" "$WORK/sysfs" -type f -exec chmod 644 {} +
  rm -rf "$HERE/tree" "$HERE/sysfs"
  mv "$WORK/tree" "$HERE/tree"
  mv "$WORK/sysfs" "$HERE/sysfs"
  mv "$WORK/captured.txt" "$HERE/captured.txt"
  log "tree: $(du -sh "$HERE/tree" | cut -f1), pids $jdk17 $jdk25 $native"
}

main "$@"
