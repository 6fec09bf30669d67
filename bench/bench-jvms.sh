# Sourced by the daemon benchmarks. bench_work NAME: WORK, a scratch folder removed on exit, every PID in WORK/pids
# killed first.
bench_work() {
  WORK=$(mktemp -d "/tmp/mapsexporter-$1.XXXXXX")
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in $(cat "$WORK/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
# start_bench_jvms WORK JDK starts 20 JVMs of tests/workloads/Workload.java
# (-Xmx128m, -Xss512k, 20 threads) as BenchWorkload, each waited for until READY; their PIDs go to WORK/pids.
start_bench_jvms() {
  local work=$1 jdk=$2 out
  sed "s/\\bWorkload\\b/BenchWorkload/g" tests/workloads/Workload.java >"$work/BenchWorkload.java"
  "$jdk/bin/javac" -d "$work" "$work/BenchWorkload.java"
  for _ in $(seq 20); do
    out="$work/jvm.$RANDOM.out"
    "$jdk/bin/java" -Xmx128m -Xss512k -cp "$work" BenchWorkload 20 >"$out" 2>&1 &
    echo $! >>"$work/pids"
    for _ in $(seq 600); do grep -q READY "$out" 2>/dev/null && break; sleep 0.1; done
  done
}
