# Sourced by the daemon benchmarks: start_bench_jvms WORK JDK starts 20 JVMs of tests/workloads/Workload.java
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
