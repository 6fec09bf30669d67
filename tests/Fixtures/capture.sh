#!/usr/bin/env bash
# Re-captures the /proc fixtures used by the MapsExporter tests from real processes.
#
#   bash tests/Fixtures/capture.sh            # every fixture
#   bash tests/Fixtures/capture.sh NAME...    # only these fixtures
#
# Each fixture directory tests/Fixtures/<name>/ gets:
#   maps              copy of /proc/PID/maps
#   smaps             copy of /proc/PID/smaps (read right after maps)
#   threads           number of entries in /proc/PID/task (same moment)
#   tasks.txt         one line per thread: TID <tab> comm <tab> /proc/PID/task/TID/syscall
#                     (syscall = "nr a0..a5 sp pc" or "running"; sp locates the thread's stack)
#   nmt.txt           jcmd PID VM.native_memory summary        (JVMs only)
#   system_map.txt    jcmd PID System.map                      (JDK 22+ only)
#   malloc_stats.txt  glibc malloc_stats() output of the process ("Arena N:" blocks)
#   command.txt       command line, environment, JDK, date, kernel, glibc
# maps, smaps, threads and tasks.txt are read before anything attaches to the process
# (jcmd adds an "Attach Listener" thread, gdb stops the process).
#
# Needs root (or ptrace rights over the children), gcc, gdb and the two JDKs below.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKLOADS=$REPO/tests/workloads
JDK17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
# Fixed build directory so paths in maps/command.txt are stable across re-captures.
BUILD=${CAPTURE_BUILD_DIR:-/tmp/mapsexporter-capture}
SETTLE=${SETTLE_SECONDS:-1}
READY_TIMEOUT=${READY_TIMEOUT:-120}

# name | kind (jdk17, jdk25, native) | environment (VAR=value ..., or -) | JVM flags (or -) | program args
#      [| layout: a function below that the capture's smaps must pass; the capture is repeated until it does]
FIXTURES=(
  "jdk17-g1-xmx512m-t20|jdk17|-|-XX:+UseG1GC -Xmx512m|20"
  "jdk17-parallel-xmx256m-t10|jdk17|-|-XX:+UseParallelGC -Xmx256m|10"
  "jdk17-serial-xmx128m-t10|jdk17|-|-XX:+UseSerialGC -Xmx128m|10"
  "jdk17-zgc-xmx512m-t10|jdk17|-|-XX:+UseZGC -Xmx512m|10"
  "jdk17-shenandoah-xmx512m-t10|jdk17|-|-XX:+UseShenandoahGC -Xmx512m|10"
  "jdk17-g1-nocoops-xmx1g-t10|jdk17|-|-XX:+UseG1GC -XX:-UseCompressedOops -Xmx1g|10"
  "jdk17-g1-xss256k-t50|jdk17|-|-XX:+UseG1GC -Xss256k|50"
  "jdk17-g1-xss8m-t20|jdk17|-|-XX:+UseG1GC -Xss8m|20"
  "jdk17-g1-t300-native-churn|jdk17|-|-XX:+UseG1GC|300 --native-churn"
  "jdk17-g1-arenamax1-native-churn|jdk17|MALLOC_ARENA_MAX=1|-XX:+UseG1GC|20 --native-churn"
  "jdk17-g1-arenamax4-native-churn|jdk17|MALLOC_ARENA_MAX=4|-XX:+UseG1GC|20 --native-churn"
  "jdk25-g1-xmx512m-t20|jdk25|-|-XX:+UseG1GC -Xmx512m|20"
  "jdk25-zgc-xmx512m-t10|jdk25|-|-XX:+UseZGC -Xmx512m|10"
  "jdk25-parallel-xmx256m-t10|jdk25|-|-XX:+UseParallelGC -Xmx256m|10"
  "jdk25-shenandoah-xmx512m-t10|jdk25|-|-XX:+UseShenandoahGC -Xmx512m|10"
  "jdk25-g1-t200-native-churn|jdk25|-|-XX:+UseG1GC|200 --native-churn"
  # The class space ending where the heap begins (JDK 21+ puts the archive at a random address, so this happens by
  # chance): an archive dumped at SharedBaseAddress=0x9f000000 (in build) and mapped there, its 16 MiB and the 1 GiB
  # class space end at 0xe0000000, the -Xmx512m heap's start.
  "jdk25-g1-xmx512m-classspace-below-heap|jdk25|-|-XX:+UseG1GC -Xmx512m -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 -XX:SharedArchiveFile=@BUILD@/classspace-below-heap.jsa|20"
  # A code heap's segment map (its MAP_NORESERVE PROT_NONE rest) right below a thread stack's guard: two PROT_NONE
  # VMAs the kernel keeps apart only for their flags, which maps does not show (issue 16). By chance, so repeated.
  "jdk17-parallel-xmx256m-segmap-below-guard|jdk17|-|-XX:+UseParallelGC -Xmx256m|20 --native-churn --direct-buffers=4|segmap_below_guard"
  "native-arenas-7|native|-|-|7"
  "native-arenas-3-max2|native|MALLOC_ARENA_MAX=2|-|3"
  # Each malloc named (tests/Fixtures/allocators/): tests/workloads/allocators.c built against it (the flags column is
  # the build variant), and a JVM with jemalloc preloaded; jemalloc's own figures in jemalloc_stats.txt.
  "alloc-glibc|alloc|-|glibc|20000"
  "alloc-jemalloc|alloc|-|jemalloc|20000"
  "alloc-jemalloc-static|alloc|-|jemalloc-static|20000"
  "alloc-tcmalloc|alloc|-|tcmalloc|20000"
  "alloc-mimalloc|alloc|-|mimalloc|20000"
  "alloc-musl|alloc|-|musl|20000"
  "alloc-musl-static|alloc|-|musl-static|20000"
  "alloc-jdk17-g1-xmx256m-jemalloc|jdk17|LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2|-XX:+UseG1GC -Xmx256m|20 --native-churn --direct-buffers=8"
)

log() { printf '[capture] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || log "warning: not root; task syscall files and gdb attach may fail"
command -v gcc >/dev/null || die "gcc not found"
command -v gdb >/dev/null || die "gdb not found"

build() {
  mkdir -p "$BUILD/classes17" "$BUILD/classes25"
  gcc -O2 -pthread -Wall -o "$BUILD/arenas" "$WORKLOADS/arenas.c"
  "$JDK17/bin/javac" -d "$BUILD/classes17" "$WORKLOADS/Workload.java"
  "$JDK25/bin/javac" -d "$BUILD/classes25" "$WORKLOADS/Workload.java"
  "$JDK25/bin/java" -Xshare:dump -XX:+UseG1GC -XX:SharedBaseAddress=0x9f000000 \
    -XX:SharedArchiveFile="$BUILD/classspace-below-heap.jsa" >/dev/null
  local src=$WORKLOADS/allocators.c lib=/usr/lib/x86_64-linux-gnu
  gcc -O2 -pthread -o "$BUILD/alloc-glibc" "$src"
  gcc -O2 -pthread -o "$BUILD/alloc-jemalloc" "$src" -ljemalloc
  gcc -O2 -pthread -o "$BUILD/alloc-jemalloc-static" "$src" "$lib/libjemalloc_pic.a" -lm -lstdc++ -ldl
  gcc -O2 -pthread -o "$BUILD/alloc-tcmalloc" "$src" -ltcmalloc_minimal
  gcc -O2 -pthread -o "$BUILD/alloc-mimalloc" "$src" -lmimalloc
  musl-gcc -O2 -o "$BUILD/alloc-musl" "$src"
  musl-gcc -O2 -static -o "$BUILD/alloc-musl-static" "$src"
}

# jemalloc_stats PID STDERR OUT: jemalloc's malloc_stats_print() (general figures), called through gdb
jemalloc_stats() {
  local pid=$1 stderr=$2 out=$3 before
  before=$(stat -c %s "$stderr")
  timeout 60 gdb -p "$pid" -batch -nx \
      -ex 'handle SIGSEGV nostop noprint pass' -ex 'handle SIGBUS nostop noprint pass' \
      -ex 'call (void)malloc_stats_print(0, 0, "gmdablxe")' > /dev/null 2>&1 || log "jemalloc_stats: gdb exited with $?"
  sleep 0.2
  tail -c +"$((before + 1))" "$stderr" > "$out"
}

glibc_version() { ldd --version 2>&1 | head -n1; }

# wait_for FILE PATTERN PID: waits until FILE has a line matching PATTERN
wait_for() {
  local file=$1 pattern=$2 pid=$3 i
  for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { log "process $pid died"; return 1; }
    sleep 0.1
  done
  log "timeout waiting for '$pattern' in $file"
  return 1
}

# snapshot PID DIR: maps, smaps, threads, tasks.txt, taken back to back
snapshot() {
  local pid=$1 dir=$2 t comm sc
  cat "/proc/$pid/maps" > "$dir/maps"
  cat "/proc/$pid/smaps" > "$dir/smaps"
  ls "/proc/$pid/task" | wc -l > "$dir/threads"
  : > "$dir/tasks.txt"
  for t in $(ls "/proc/$pid/task" | sort -n); do
    comm=$(cat "/proc/$pid/task/$t/comm" 2>/dev/null || echo '?')
    sc=$(cat "/proc/$pid/task/$t/syscall" 2>/dev/null || echo 'unreadable')
    printf '%s\t%s\t%s\n' "$t" "$comm" "$sc" >> "$dir/tasks.txt"
  done
}

write_command() {
  local dir=$1 envs=$2 cmd=$3 jdk=$4 pid=$5
  {
    echo "command: ${envs:+$envs }$cmd"
    echo "environment: ${envs:-(none added)}"
    echo "cmdline (/proc/PID/cmdline): $(tr '\0' ' ' < "/proc/$pid/cmdline")"
    if [ -n "$jdk" ]; then
      echo "jdk: $jdk"
      "$jdk/bin/java" -version 2>&1 | sed 's/^/  /'
    fi
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel: $(uname -r) ($(uname -m))"
    echo "glibc: $(glibc_version)"
    echo "cpus: $(nproc)"
    echo "memory: $(awk '/MemTotal/ {print $2, $3}' /proc/meminfo)"
    echo "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)"
    echo "pid at capture: $pid"
  } > "$dir/command.txt"
}

kill_proc() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

capture_jvm() {
  local name=$1 kind=$2 envs=$3 flags=$4 args=$5 work=$6
  local jdk classes
  case $kind in
    jdk17) jdk=$JDK17; classes=$BUILD/classes17 ;;
    jdk25) jdk=$JDK25; classes=$BUILD/classes25 ;;
  esac
  local cmd="$jdk/bin/java -XX:NativeMemoryTracking=summary ${flags//@BUILD@/$BUILD} -cp $classes Workload $args"
  # shellcheck disable=SC2086
  env ${envs} $cmd > "$work/.stdout" 2> "$work/.stderr" &
  local pid=$!
  wait_for "$work/.stdout" '^READY' "$pid" || { kill_proc "$pid"; return 1; }
  sleep "$SETTLE"
  snapshot "$pid" "$work"
  "$jdk/bin/jcmd" "$pid" VM.native_memory summary > "$work/nmt.txt"
  if [ "$kind" = jdk25 ]; then
    "$jdk/bin/jcmd" "$pid" System.map > "$work/system_map.txt"
  fi
  case $envs in *libjemalloc*) jemalloc_stats "$pid" "$work/.stderr" "$work/jemalloc_stats.txt" ;; esac
  local before
  before=$(stat -c %s "$work/.stderr")
  timeout 60 gdb -p "$pid" -batch -nx \
      -ex 'handle SIGSEGV nostop noprint pass' -ex 'handle SIGBUS nostop noprint pass' \
      -ex 'call (void)malloc_stats()' > "$work/.gdb.log" 2>&1 || log "$name: gdb exited with $?"
  sleep 0.2
  tail -c +"$((before + 1))" "$work/.stderr" > "$work/malloc_stats.txt"
  write_command "$work" "$envs" "$cmd" "$jdk" "$pid"
  kill_proc "$pid"
}

capture_native() {
  local name=$1 envs=$2 args=$3 work=$4
  local cmd="$BUILD/arenas $args"
  local fifo=$work/.stdin
  mkfifo "$fifo"
  # shellcheck disable=SC2086
  env ${envs} $cmd < "$fifo" > "$work/.stdout" 2> "$work/.stderr" &
  local pid=$!
  exec 3> "$fifo"
  wait_for "$work/.stdout" '^READY' "$pid" || { exec 3>&-; kill_proc "$pid"; return 1; }
  sleep "$SETTLE"
  snapshot "$pid" "$work"
  echo stats >&3
  wait_for "$work/.stdout" '^STATS-DONE' "$pid" || { exec 3>&-; kill_proc "$pid"; return 1; }
  cp "$work/.stderr" "$work/malloc_stats.txt"
  write_command "$work" "$envs" "$cmd" "" "$pid"
  echo quit >&3
  exec 3>&-
  wait "$pid" || log "$name: arenas exited with $?"
}

capture_alloc() {
  local name=$1 variant=$2 args=$3 work=$4
  local cmd="$BUILD/alloc-$variant $args"
  local fifo=$work/.stdin
  mkfifo "$fifo"
  # shellcheck disable=SC2086
  $cmd < "$fifo" > "$work/.stdout" 2> "$work/.stderr" &
  local pid=$!
  exec 3> "$fifo"
  wait_for "$work/.stdout" '^READY' "$pid" || { exec 3>&-; kill_proc "$pid"; return 1; }
  sleep "$SETTLE"
  snapshot "$pid" "$work"
  case $variant in jemalloc) jemalloc_stats "$pid" "$work/.stderr" "$work/jemalloc_stats.txt" ;; esac
  write_command "$work" "" "$cmd" "" "$pid"
  exec 3>&-
  wait "$pid" || log "$name: exited with $?"
}

check_fixture() {
  local dir=$1 name=$2 m s
  m=$(wc -l < "$dir/maps")
  s=$(grep -c '^VmFlags:' "$dir/smaps")
  [ -s "$dir/maps" ] && [ -s "$dir/smaps" ] || { log "$name: empty maps/smaps"; return 1; }
  if [ -e "$dir/malloc_stats.txt" ]; then
    grep -q '^Arena 0:' "$dir/malloc_stats.txt" || { log "$name: no 'Arena 0:' in malloc_stats.txt"; return 1; }
  fi
  if [ -e "$dir/jemalloc_stats.txt" ]; then
    grep -q '^Allocated: ' "$dir/jemalloc_stats.txt" || { log "$name: no 'Allocated:' in jemalloc_stats.txt"; return 1; }
  fi
  if [ -e "$dir/nmt.txt" ]; then
    grep -q 'Java Heap' "$dir/nmt.txt" || { log "$name: nmt.txt has no Java Heap"; return 1; }
  fi
  log "$name: maps=$m smaps=$s threads=$(cat "$dir/threads") arenas=$(grep -c '^Arena ' "$dir/malloc_stats.txt" 2>/dev/null || echo -)"
}

# segmap_below_guard SMAPS: an anonymous PROT_NONE VMA with "nr", at most 256 KiB (what a stack guard may be), directly
# below one without it, directly below an anonymous read/write VMA (a code heap segment map's rest, a guard, a stack)
segmap_below_guard() {
  local start end
  while read -r start end; do
    (( 16#$end - 16#$start <= 262144 )) && return 0
  done < <(awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); n++; s[n] = r[1]; e[n] = r[2]; p[n] = $2; anon[n] = ($5 == 0 && NF == 5); next }
       /^VmFlags:/ { f[n] = $0 }
       END { for (i = 3; i <= n; i++)
               if (anon[i] && p[i] == "rw-p" && p[i-1] == "---p" && anon[i-1] && e[i-1] == s[i] && f[i-1] !~ / nr/ \
                   && p[i-2] == "---p" && anon[i-2] && e[i-2] == s[i-1] && f[i-2] ~ / nr/) print s[i-2], e[i-2] }' "$1")
  return 1
}

capture_one() {
  local spec=$1 name kind envs flags args layout
  IFS='|' read -r name kind envs flags args layout <<< "$spec"
  if [ -n "$layout" ]; then
    local try
    for ((try = 1; try <= ${CAPTURE_TRIES:-30}; try++)); do
      capture_attempt "$name" "$kind" "$envs" "$flags" "$args" "$layout" && return 0
      log "$name: try $try did not have the layout ($layout), again"
    done
    return 1
  fi
  capture_attempt "$name" "$kind" "$envs" "$flags" "$args" ""
}

capture_attempt() {
  local name=$1 kind=$2 envs=$3 flags=$4 args=$5 layout=$6
  [ "$envs" = - ] && envs=""
  [ "$flags" = - ] && flags=""
  local dest=$HERE/$name
  case $name in alloc-*) mkdir -p "$HERE/allocators"; dest=$HERE/allocators/$name ;; esac
  local work
  work=$(mktemp -d "$HERE/.capture-$name.XXXXXX")
  log "capturing $name"
  local ok=0
  if [ "$kind" = native ]; then
    capture_native "$name" "$envs" "$args" "$work" || ok=1
  elif [ "$kind" = alloc ]; then
    capture_alloc "$name" "$flags" "$args" "$work" || ok=1
  else
    capture_jvm "$name" "$kind" "$envs" "$flags" "$args" "$work" || ok=1
  fi
  if [ $ok = 0 ] && [ -n "$layout" ] && ! "$layout" "$work/smaps"; then
    rm -rf "$work"
    return 1
  fi
  if [ $ok = 0 ] && check_fixture "$work" "$name"; then
    rm -f "$work"/.stdout "$work"/.stderr "$work"/.stdin "$work"/.gdb.log
    rm -rf "$dest"
    mv "$work" "$dest"
    chmod 755 "$dest"
    return 0
  fi
  log "$name: FAILED (work files kept in $work)"
  return 1
}

main() {
  build
  local failed=() spec name found
  local wanted=("$@")
  for spec in "${FIXTURES[@]}"; do
    name=${spec%%|*}
    if [ ${#wanted[@]} -gt 0 ]; then
      found=0
      for w in "${wanted[@]}"; do [ "$w" = "$name" ] && found=1; done
      [ $found = 1 ] || continue
    fi
    capture_one "$spec" || failed+=("$name")
  done
  if [ ${#wanted[@]} -gt 0 ]; then
    for w in "${wanted[@]}"; do
      printf '%s\n' "${FIXTURES[@]}" | grep -q "^$w|" || { log "unknown fixture: $w"; failed+=("$w"); }
    done
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    log "failed: ${failed[*]}"
    exit 1
  fi
  log "done"
}

main "$@"
