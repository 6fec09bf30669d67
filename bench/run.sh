#!/usr/bin/env bash
# Builds and runs every MapsExporter benchmark on this machine and prints the figures docs/benchmarks.md records.
# As root (smaps, /proc/PID/mem and task/*/syscall of the workloads). Takes about 12 minutes.
#   bash bench/run.sh                 # everything
#   bash bench/run.sh overhead scan   # some sections: machine overhead scan sidebyside footprint scrapes scale resident stall history
# Needs: .NET 10 SDK, gcc, OpenJDK 17 (javac), wrk, pmap (procps), perl, prometheus-process-exporter (Debian; optional,
# compared side by side); the seed Perl tool in a snapshot at
# $SEED_TOOL_REPO (default /work/.mirror/ewirch+javaJniMemUsage/repo: it is run from there, never copied here).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECTIONS=${*:-machine overhead scan sidebyside footprint scrapes scale resident stall history}
JDK=${JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
SEED_TOOL_REPO=${SEED_TOOL_REPO:-/work/.mirror/ewirch+javaJniMemUsage/repo}
WORK=$(mktemp -d /tmp/mapsexporter-bench.XXXXXX)
PIDS_TO_KILL=()
cleanup() {
  # start_jvm runs in $(...): its PIDs come back through $WORK/pids, not the array.
  for p in "${PIDS_TO_KILL[@]}" $(cat "$WORK/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
say() { printf '\n== %s\n' "$*"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now_ns() { date +%s%N; }

# ---- build
BENCH_DLL=$ROOT/bench/MapsExporter.Benchmarks/bin/Release/net10.0/MapsExporter.Benchmarks.dll
dotnet build bench/MapsExporter.Benchmarks -c Release -v q -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
gcc -O2 -o "$WORK/mappings" tests/workloads/mappings.c
# The workload under its own class name, so the scans select only the JVMs started here (--selection.include-app).
sed 's/\bWorkload\b/BenchWorkload/g' tests/workloads/Workload.java >"$WORK/BenchWorkload.java"
"$JDK/bin/javac" -d "$WORK" "$WORK/BenchWorkload.java"

start_jvm() { # threads heap -> pid
  local out="$WORK/jvm.$RANDOM.out"
  "$JDK/bin/java" -Xmx"$2" -Xss512k -cp "$WORK" BenchWorkload "$1" >"$out" 2>&1 &
  local pid=$!
  echo "$pid" >>"$WORK/pids"
  for _ in $(seq 600); do grep -q READY "$out" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$out" || { echo "JVM $pid did not start: $(cat "$out")" >&2; exit 1; }
  echo "$pid"
}
stop() { kill "$@" 2>/dev/null || true; for p in "$@"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done; }
aot_binary() {
  if [ -x "$ROOT/artifacts/mapsexporter" ]; then echo "$ROOT/artifacts/mapsexporter"; return; fi
  if [ ! -x "$ROOT/artifacts/aot/mapsexporter" ]; then
    dotnet publish src/MapsExporter -c Release -r linux-x64 -p:PublishAot=true -o "$ROOT/artifacts/aot" -v q -nologo >"$WORK/aot.log" 2>&1 || { tail -20 "$WORK/aot.log"; exit 1; }
  fi
  echo "$ROOT/artifacts/aot/mapsexporter"
}
wait_http() { for _ in $(seq 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

if want machine; then
  say machine
  echo "date $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc $(nproc)"
  echo "cpu $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "ram $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel $(uname -r)"
  echo "dotnet $(dotnet --version)"
  echo "commit ${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
fi

if want overhead; then
  say "overhead: BenchmarkDotNet, read+parse+classify vs read only, same smaps, one process"
  small=$(start_jvm 50 128m)
  many=$(start_jvm 1400 128m)
  "$WORK/mappings" 5000 >"$WORK/mappings.out" &
  native=$!; PIDS_TO_KILL+=("$native"); sleep 0.5
  for p in $small $many $native; do echo "pid $p: $(wc -l <"/proc/$p/maps") mappings, $(ls "/proc/$p/task" | wc -l) threads"; done
  # In process: no generated boilerplate project to build; the memory diagnoser works the same.
  BENCH_TARGETS="jvm-small=$small,jvm-threads=$many,native-10k=$native" \
    dotnet "$BENCH_DLL" bdn --filter '*OverheadBenchmarks*' --inProcess --artifacts "$WORK/bdn" \
      --launchCount 1 --warmupCount 5 --iterationCount 20 >"$WORK/bdn.log" 2>&1 \
    || { tail -40 "$WORK/bdn.log"; exit 1; }
  grep -E '// (jvm|native)' "$WORK/bdn.log" | sort -u || true
  cat "$WORK"/bdn/results/*OverheadBenchmarks-report-github.md
  echo "CPU time of the benchmark's thread (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), blocks of 20 calls alternating, 15 blocks;"
  echo "same_read_ratio: each read+parse+classify over its own read; parse and classify apart; Inspect text-only and exact on one warm inspector. Two runs:"
  for run in 1 2; do BENCH_SPLIT=1 BENCH_EXACT=1 dotnet "$BENCH_DLL" cpu "$small" "$many" "$native"; done
  stop "$small" "$many" "$native"
fi

if want scan || want sidebyside || want footprint; then
  say "starting 20 JVMs (20 threads, -Xmx128m)"
  JVMS=()
  for i in $(seq 20); do JVMS+=("$(start_jvm 20 128m)"); done
  echo "pids ${JVMS[*]}"
fi

if want scan; then
  say "whole scan of 20 live JVMs vs cat of their smaps (interleaved, medians of 15)"
  BENCH_ROUNDS=15 dotnet "$BENCH_DLL" wholescan "${JVMS[@]}" || echo "(other BenchWorkload JVMs on this host: the scan read more than these 20)"
  # The daemon's defaults (smaps at most once a minute) with each resident mode: the scans after the first read smaps
  # no more; smaps is what every build before --scan.resident did.
  for mode in smaps auto pagemap; do
    echo "-- smaps interval 60 s, --scan.resident=$mode"
    BENCH_ROUNDS=15 BENCH_SMAPS_INTERVAL=60 BENCH_RESIDENT=$mode dotnet "$BENCH_DLL" wholescan "${JVMS[@]}" || true
  done
  for r in $(seq 15); do
    t0=$(now_ns); for p in "${JVMS[@]}"; do cat "/proc/$p/smaps" >/dev/null; done; t1=$(now_ns)
    echo $(( (t1 - t0) / 1000 ))
  done | median | awk '{ printf "cat_smaps_sum_ms %.2f\n", $1 / 1000 }'
  for r in $(seq 15); do
    t0=$(now_ns); for p in "${JVMS[@]}"; do /bin/true; done; t1=$(now_ns)
    echo $(( (t1 - t0) / 1000 ))
  done | median | awk '{ printf "exec_true_x20_ms %.2f  (process start cost inside the cat figure)\n", $1 / 1000 }'
fi

if want sidebyside; then
  say "side by side: the same 20 JVMs, medians of 5 rounds, ms for all 20"
  BIN=$(aot_binary)
  # Run from the snapshot: git show into the scratch directory (deleted on exit), never into the repo.
  git -C "$SEED_TOOL_REPO" show HEAD:javaJniMemUsage.pl >"$WORK/seed.pl"
  perl "$WORK/seed.pl" "${JVMS[0]}" >"$WORK/seed.out" 2>&1 && echo "seed tool runs: $(wc -l <"$WORK/seed.out") lines" || echo "seed tool failed: $(tail -2 "$WORK/seed.out")"
  measure() { # name command...   (PID substituted for {})
    local name=$1; shift
    for r in $(seq 5); do
      t0=$(now_ns)
      for p in "${JVMS[@]}"; do "${@//\{\}/$p}" >/dev/null 2>&1 || true; done
      t1=$(now_ns); echo $(( (t1 - t0) / 1000 ))
    done | median | awk -v n="$name" '{ printf "%-34s %8.1f ms\n", n, $1 / 1000 }'
  }
  measure "cat /proc/PID/smaps" cat "/proc/{}/smaps"
  measure "cat /proc/PID/maps" cat "/proc/{}/maps"
  measure "pmap -X PID" pmap -X "{}"
  measure "javaJniMemUsage.pl PID (maps)" perl "$WORK/seed.pl" "{}"
  measure "mapsexporter report PID (AOT)" "$BIN" report "{}"
  measure "mapsexporter report --maps-only" "$BIN" report "{}" --maps-only
  # A smaps-reading exporter users run today: Debian's prometheus-process-exporter (ncabatoff/process-exporter),
  # -gather-smaps on by default (it reads smaps_rollup, one record a process) and per-thread stats. It reads /proc
  # on each scrape; ours on its timer: both as the CPU of the exporter process per scrape or scan.
  if command -v prometheus-process-exporter >/dev/null; then
    printf 'process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n    - java .*BenchWorkload\n' >"$WORK/process-exporter.yml"
    prometheus-process-exporter -config.path "$WORK/process-exporter.yml" -web.listen-address 127.0.0.1:19256 >"$WORK/pe.log" 2>&1 &
    PE=$!; PIDS_TO_KILL+=("$PE")
    wait_http http://127.0.0.1:19256/metrics
    echo "process-exporter $(prometheus-process-exporter -version 2>&1 | head -1): $(curl -fsS http://127.0.0.1:19256/metrics | awk '$1 ~ /^namedprocess_namegroup_num_procs/ { n += $2 } END { print n }') processes tracked"
    for r in $(seq 5); do
      t0=$(now_ns); curl -fsS -o /dev/null http://127.0.0.1:19256/metrics; t1=$(now_ns); echo $(( (t1 - t0) / 1000 ))
    done | median | awk '{ printf "process-exporter scrape, all 20      %8.1f ms (wall, median of 5)\n", $1 / 1000 }'
    c0=$(cpu_ticks $PE); for _ in $(seq 40); do curl -fsS -o /dev/null http://127.0.0.1:19256/metrics; done; c1=$(cpu_ticks $PE)
    awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "process-exporter CPU per scrape     %8.1f ms (40 scrapes, %d ticks)\n", 1000 * d / hz / 40, d }'
    stop "$PE"
    "$BIN" --web.listen-address 127.0.0.1:19139 --scan.interval 500ms --scan.smaps-interval=0s --selection.include-app BenchWorkload --log.level debug >"$WORK/d.log" 2>&1 &
    D=$!; PIDS_TO_KILL+=("$D")
    wait_http http://127.0.0.1:19139/metrics
    sleep 2
    n0=$(grep -c 'Scan [0-9]* took' "$WORK/d.log" || true); c0=$(cpu_ticks $D); sleep 20; c1=$(cpu_ticks $D); n1=$(grep -c 'Scan [0-9]* took' "$WORK/d.log" || true)
    awk -v d=$((c1 - c0)) -v n=$((n1 - n0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "mapsexporter CPU per scan (smaps)   %8.1f ms (%d scans at 500 ms, %d ticks)\n", 1000 * d / hz / n, n, d }'
    stop "$D"
  else
    echo "prometheus-process-exporter not installed (apt-get install prometheus-process-exporter): not compared"
  fi
  if command -v go >/dev/null; then echo "go found: build node_exporter by hand to compare"; else echo "no Go toolchain here (which go: none): nothing else built"; fi
fi

if want footprint; then
  say "footprint: AOT daemon, 20 JVMs; A (defaults: smaps at most once a minute) and A0 (--scan.smaps-interval=0s: smaps every scan) side by side at 15s for ${FOOTPRINT_SECONDS:-300} s (idle RSS, CPU), then B alone at 100ms, smaps every scan, for 1,000 scans (growth)"
  BIN=$(aot_binary)
  self() { curl -fsS "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }
  # FOOTPRINT_A_FLAGS: extra flags for A; FOOTPRINT_SKIP_B=1: A and A0 only.
  # shellcheck disable=SC2086
  "$BIN" --web.listen-address 127.0.0.1:19135 --scan.interval 15s --selection.include-app BenchWorkload ${FOOTPRINT_A_FLAGS:-} >"$WORK/a.log" 2>&1 &
  A=$!; PIDS_TO_KILL+=("$A")
  "$BIN" --web.listen-address 127.0.0.1:19138 --scan.interval 15s --scan.smaps-interval=0s --selection.include-app BenchWorkload >"$WORK/a0.log" 2>&1 &
  A0=$!; PIDS_TO_KILL+=("$A0")
  wait_http http://127.0.0.1:19135/metrics
  wait_http http://127.0.0.1:19138/metrics
  curl -fsS http://127.0.0.1:19135/metrics | grep -E '^mapsexporter_scanned_processes'
  sleep 5
  a0=$(cpu_ticks $A); z0=$(cpu_ticks $A0); t0=$(now_ns)
  echo "A idle RSS after first scan: $(rss_kb $A) kB; A0: $(rss_kb $A0) kB"
  steps=$(( ${FOOTPRINT_SECONDS:-300} / 30 ))
  for s in $(seq "$steps"); do
    sleep 30
    echo "t=$((s * 30))s A rss=$(rss_kb $A)kB gc_heap=$(self http://127.0.0.1:19135 mapsexporter_self_gc_heap_bytes) allocated=$(self http://127.0.0.1:19135 mapsexporter_self_allocated_bytes_total)  A0 rss=$(rss_kb $A0)kB"
  done
  a1=$(cpu_ticks $A); z1=$(cpu_ticks $A0); t1=$(now_ns)
  for r in "A $((a1 - a0))" "A0 $((z1 - z0))"; do
    set -- $r
    awk -v n="$1" -v d="$2" -v ns=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%s cpu %.3f%% of one core over %.0f s (%d ticks)\n", n, 100 * d / hz / (ns / 1e9), ns / 1e9, d }'
  done
  echo "A status: $(grep -E 'VmRSS|VmHWM|RssAnon|RssFile' /proc/$A/status | tr -s ' \n' ' ')"
  echo "A0 status: $(grep -E 'VmRSS|VmHWM|RssAnon|RssFile' /proc/$A0/status | tr -s ' \n' ' ')"
  stop "$A" "$A0"
  # Baseline in the same run: the kernel's cost of the same 20 smaps, as cat reads them, per 15 s.
  ( time -p bash -c 'for r in $(seq 10); do for p in "$@"; do cat /proc/$p/smaps >/dev/null; done; done' _ "${JVMS[@]}" ) 2>&1 | awk '/^user|^sys/ { t += $2 } END { printf "baseline: cat of the 20 smaps, user+sys %.1f ms per round = %.3f%% of one core at one round per 15 s\n", t * 100, t * 100 / 15000 * 100 }'

  if [ -z "${FOOTPRINT_SKIP_B:-}" ]; then
    "$BIN" --web.listen-address 127.0.0.1:19136 --scan.interval 100ms --scan.smaps-interval=0s --selection.include-app BenchWorkload --log.level debug >"$WORK/b.log" 2>&1 &
    B=$!; PIDS_TO_KILL+=("$B")
    wait_http http://127.0.0.1:19136/metrics
    next=100
    for _ in $(seq 1200); do
      n=$(grep -c 'Scan [0-9]* took' "$WORK/b.log" || true)
      if [ "$n" -ge "$next" ]; then
        echo "B scans=$n rss=$(rss_kb $B)kB gc_heap=$(self http://127.0.0.1:19136 mapsexporter_self_gc_heap_bytes) gc_committed=$(self http://127.0.0.1:19136 mapsexporter_self_gc_committed_bytes)"
        next=$((next + 100))
      fi
      [ "$n" -ge 1000 ] && break
      sleep 0.5
    done
    echo "B status: $(grep -E 'VmRSS|VmHWM|RssAnon|RssFile' /proc/$B/status | tr -s ' \n' ' ')"
    grep 'Scan [0-9]* took' "$WORK/b.log" | sed -n '100p;1000p;$p' | sed 's/^/B /'
    stop "$B"
  fi
fi

if want scan || want sidebyside || want footprint; then stop "${JVMS[@]}"; fi

if want scrapes; then
  say "scrapes: /metrics of 50 generated JVMs, wrk 50 connections 30 s, 127.0.0.1"
  BIN=$(aot_binary)
  dotnet "$BENCH_DLL" gentree "$WORK/proc50" tests/Fixtures/jdk17-g1-xmx512m-t20 50 0
  "$BIN" --web.listen-address 127.0.0.1:19137 --path.procfs "$WORK/proc50" --scan.interval 15s >"$WORK/c.log" 2>&1 &
  C=$!; PIDS_TO_KILL+=("$C")
  wait_http http://127.0.0.1:19137/metrics
  curl -fsS http://127.0.0.1:19137/metrics >"$WORK/metrics.txt"
  echo "exposition: $(wc -c <"$WORK/metrics.txt") bytes, $(grep -vc '^#' "$WORK/metrics.txt") series, $(grep -c '^# TYPE' "$WORK/metrics.txt") families, $(grep -c '^mapsexporter_process_info' "$WORK/metrics.txt") processes"
  wrk -t2 -c50 -d30s --latency http://127.0.0.1:19137/metrics | tee "$WORK/wrk.txt"
  say "scrapes as Prometheus sends them (Accept-Encoding: gzip)"
  wrk -t2 -c50 -d30s --latency -H 'Accept-Encoding: gzip' http://127.0.0.1:19137/metrics | tee "$WORK/wrk-gzip.txt"
  stop "$C"
fi

if want scale; then
  say "scale: generated /proc of JVM-like processes with 2,000 mappings (from jdk17-g1-t300-native-churn)"
  dotnet "$BENCH_DLL" gentree "$WORK/proc500" tests/Fixtures/jdk17-g1-t300-native-churn 500 2000
  sync  # the 710 MB just written: no writeback during the measurement
  BENCH_ROUNDS=5 dotnet "$BENCH_DLL" scale "$WORK/proc500" 100 250 500
fi

# One big JVM at a time (-Xms = -Xmx, pre-touched), killed after its figures: the host's memory is shared.
start_big_jvm() { # heap [extra JVM flags...] -> pid
  local heap=$1 out="$WORK/big.$RANDOM.out"; shift
  "$JDK/bin/java" -Xms"$heap" -Xmx"$heap" -XX:+AlwaysPreTouch -XX:+UseG1GC "$@" -cp "$WORK" BenchWorkload 20 >"$out" 2>&1 &
  local pid=$!
  echo "$pid" >>"$WORK/pids"
  for _ in $(seq 1200); do grep -q READY "$out" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$out" || { echo "JVM $pid did not start: $(cat "$out")" >&2; exit 1; }
  echo "$pid"
}

if want resident; then
  say "resident read of one pre-touched G1 JVM (JDK ${JDK##*/}), thread CPU ms per read, medians of ${RESIDENT_ROUNDS:-15}: cat smaps vs the exporter's smaps, pagemap and maps reads; pread vs PAGEMAP_SCAN over the same ranges"
  gcc -O2 -o "$WORK/pagemap_scan" bench/pagemap_scan.c
  for heap in ${RESIDENT_HEAPS:-1g 4g 8g}; do
    for pages in 4k thp; do
      flags=(); [ "$pages" = thp ] && flags=(-XX:+UseTransparentHugePages)
      pid=$(start_big_jvm "$heap" "${flags[@]}")
      echo "-- heap $heap pages $pages: VmRSS $(rss_kb "$pid") kB, AnonHugePages $(awk '/^AnonHugePages/ { print $2 }' "/proc/$pid/smaps_rollup") kB"
      dotnet "$BENCH_DLL" resident "$pid" "${RESIDENT_ROUNDS:-15}" "$WORK/ranges"
      "$WORK/pagemap_scan" "$pid" "$WORK/ranges" "${RESIDENT_ROUNDS:-15}"
      for r in $(seq 5); do
        t0=$(now_ns); cat "/proc/$pid/smaps" >/dev/null; t1=$(now_ns); echo $(( (t1 - t0) / 1000 ))
      done | median | awk '{ printf "cat_smaps_process_wall_ms %.2f\n", $1 / 1000 }'
      stop "$pid"
    done
  done
fi

if want stall; then
  say "stall: bench/stall.c (a JVM through JNI, -Xms8g -Xmx8g pre-touched, 4 KiB pages) times its own mmap+munmap; the longest wait inside each read's window, median and max of ${STALL_ROUNDS:-5} reads"
  gcc -O2 -pthread -I"$JDK/include" -I"$JDK/include/linux" -o "$WORK/stall" bench/stall.c -L"$JDK/lib/server" -ljvm -Wl,-rpath,"$JDK/lib/server"
  "$WORK/stall" -Xms${STALL_HEAP:-8g} -Xmx${STALL_HEAP:-8g} -XX:+AlwaysPreTouch -XX:+UseG1GC >"$WORK/stall.log" 2>&1 &
  pid=$!; PIDS_TO_KILL+=("$pid")
  for _ in $(seq 1200); do grep -q READY "$WORK/stall.log" && break; sleep 0.1; done
  echo "VmRSS $(rss_kb "$pid") kB"
  dotnet "$BENCH_DLL" stall "$pid" "${STALL_ROUNDS:-5}" >"$WORK/windows"
  stop "$pid"
  # Each window's longest iteration that overlaps it (an iteration ends at end_ns and began latency_ns earlier).
  awk 'NR == FNR { if ($1 != "READY" && NF == 2) { e[++n] = $1; l[n] = $2 } next }
       { w = 0; for (i = 1; i <= n; i++) if (e[i] >= $2 && e[i] - l[i] <= $3 && l[i] > w) w = l[i];
         printf "%s %.3f %.3f\n", $1, w / 1e6, ($3 - $2) / 1e6 }' "$WORK/stall.log" "$WORK/windows" >"$WORK/waits"
  for k in idle cat_smaps smaps_rollup exporter_smaps exporter_pagemap; do
    waits=$(awk -v k="$k" '$1 == k { print $2 }' "$WORK/waits" | sort -n)
    printf '%-17s worst wait ms median %s max %s (all: %s; reader wall ms median %s)\n' "$k" "$(echo "$waits" | median)" \
      "$(echo "$waits" | tail -1)" "$(echo $waits)" "$(awk -v k="$k" '$1 == k { print $3 }' "$WORK/waits" | median)"
  done
fi

if want history; then
  say "history: the memory console's HistoryStore, ${HISTORY_PROCESSES:-200} processes over a full ${HISTORY_WINDOW:-3600} s window at ${HISTORY_INTERVAL:-15} s scans, fed reports of the captured fixtures' smaps dumps"
  dotnet "$BENCH_DLL" history tests/Fixtures "${HISTORY_PROCESSES:-200}" "${HISTORY_WINDOW:-3600}" "${HISTORY_INTERVAL:-15}"
fi
