using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MapsExporter.Core.Parsing;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// Thousands of short-lived native processes and a few JVMs start and die while the real daemon scans every 200 ms
/// and three scrapers scrape: it survives, logs no exception, reports the native churners that live long enough
/// (with their app label), counts as vanished exactly the selected processes that exit while it reads them (and
/// no unselected one), never shows two start times for one PID in a scrape nor a JVM's start time changing while
/// it lives, and leaves no series behind.
/// </summary>
public sealed partial class ChurnTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Churner = "churn-sleep";
    private const string MapsChurner = "churn-maps";
    private const string Other = "churn-other";
    private const string JvmApp = "ChurnProbe";
    private const int MapsPages = 3000;

    [Fact]
    public async Task Process_churn_under_scrapes_leaks_nothing_and_merges_nothing()
    {
        string sleep = Exporter.CopyBinary("/bin/sleep", Churner);
        string other = Exporter.CopyBinary("/bin/sleep", Other);
        string maps = CompileMapsChurner();
        string pidDir = Directory.CreateTempSubdirectory("mapsexporter-churn-").FullName;
        // Only this test's processes are selected (JVMs by their main class, natives by comm), so the vanished count
        // and every PID in /metrics are this test's, whatever else the machine runs.
        using Exporter exporter = await Exporter.StartAsync(["--scan.interval=200ms", $"--selection.include-app={JvmApp}", $"--selection.include-native={Churner}|{MapsChurner}", "--log.level=debug"]);
        using ProbeJvm survivorJvm = ProbeJvm.Start(JvmApp, ["-Xmx64m"]);
        using Process survivor = Process.Start(sleep, "600");
        using var killSurvivor = new Killer(survivor);
        string[] survivors = [survivorJvm.Pid.ToString(CultureInfo.InvariantCulture), survivor.Id.ToString(CultureInfo.InvariantCulture)];
        MetricsScrape baseline = await exporter.WaitForAsync(s => survivors.All(s.Pids("mapsexporter_process_start_time_seconds").Contains), "the surviving JVM and sleep reported");
        Assert.Equal(survivors.Order(), baseline.AllPids().Order());

        // Unselected churn (a copy of sleep under another comm) for 3 s: nothing reported, nothing counted.
        var (otherCode, otherCount, otherErr) = ToolRunner.Run("bash", ["-c",
            $"end=$((SECONDS+3)); n=0; while [ $SECONDS -lt $end ]; do p=; for i in $(seq 20); do {other} 0.0$((RANDOM % 5 + 1)) & p=\"$p $!\"; done; wait $p; n=$((n+20)); done; echo $n"],
            TimeSpan.FromSeconds(60));
        Assert.True(otherCode == 0, otherErr);
        MetricsScrape quiet = await exporter.ScrapeAsync();
        Assert.Equal(0, quiet.Value("mapsexporter_scan_errors_total", "reason=vanished"));
        Assert.Equal(survivors.Order(), quiet.AllPids().Order());
        Assert.True(int.Parse(otherCount.Trim(), CultureInfo.InvariantCulture) >= 100, $"only {otherCount} unselected lifetimes");

        using var stop = new CancellationTokenSource();
        // The JVMs this test runs, with their real start times (from /proc/PID/stat): every scrape that shows one of
        // their PIDs must show that start time, never another process's.
        var realStart = new Dictionary<string, double>();
        var reported = new Dictionary<string, HashSet<string>>(); // pid -> app labels it was reported with
        var fewestMappings = new Dictionary<string, double>(); // churn-maps pid -> fewest mappings any scrape showed
        int scrapes = 0;
        var scrapers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                MetricsScrape scrape = await exporter.ScrapeAsync();
                var byPid = scrape.Family("mapsexporter_process_start_time_seconds").GroupBy(s => s.Label("pid")!).ToList();
                Assert.All(byPid, g => Assert.True(g.Count() == 1, $"pid {g.Key} has {g.Count()} start times in one scrape"));
                lock (realStart)
                {
                    scrapes++;
                    foreach (Sample s in byPid.Select(g => g.Single()))
                    {
                        string pid = s.Label("pid")!;
                        (reported.TryGetValue(pid, out HashSet<string>? apps) ? apps : reported[pid] = []).Add(s.Label("app")!);
                        foreach (Sample m in scrape.Find("mapsexporter_mappings", $"pid={pid}").Where(m => m.Label("app") == MapsChurner))
                        {
                            fewestMappings[pid] = Math.Min(m.Value, fewestMappings.GetValueOrDefault(pid, double.MaxValue));
                        }

                        if (realStart.TryGetValue(pid, out double start))
                        {
                            Assert.True(Math.Abs(start - s.Value) < 0.02, $"pid {pid} reported start {s.Value}, its JVM started at {start}");
                        }
                    }
                }

                await Task.Delay(20);
            }
        })).ToList();

        // Native churn for 20 s, in a shell (cheap process starts), each PID written down: batches of 20 sleeps of
        // 10-50 ms (most die before a scan reaches them), five loops of 2 s sleeps (live through a scan), and a loop
        // of churn-maps, which maps 6,000 VMAs (a read of its smaps takes tens of ms) and exits 0-0.4 s later: some
        // exit while a scan reads them, which is what the vanished count is for.
        Task<(int, string, string)> churn = Task.Run(() => ToolRunner.Run("bash", ["-c",
            $"cd {pidDir}; end=$((SECONDS+20)); "
            + $"for l in 1 2 3 4 5; do ( while [ $SECONDS -lt $end ]; do {sleep} 2 & echo $! >> long; wait $!; done ) & done; "
            + $"( while [ $SECONDS -lt $end ]; do {maps} {MapsPages} 0.$((RANDOM % 4))$((RANDOM % 10)) & echo $! >> maps; wait $!; done ) & "
            + $"n=0; while [ $SECONDS -lt $end ]; do p=; for i in $(seq 20); do {sleep} 0.0$((RANDOM % 5 + 1)) & p=\"$p $!\"; done; echo $p >> short; wait $p; n=$((n+20)); done; wait; echo $n"],
            TimeSpan.FromSeconds(120)));
        // JVM churn: start, scrape a while, kill; three in turn, each killed mid-life.
        var jvmPids = new List<int>();
        for (int i = 0; i < 3 && !churn.IsCompleted; i++)
        {
            using ProbeJvm jvm = ProbeJvm.Start(JvmApp, ["-Xmx128m", "-XX:TieredStopAtLevel=1"]);
            jvmPids.Add(jvm.Pid);
            lock (realStart)
            {
                realStart[jvm.Pid.ToString(CultureInfo.InvariantCulture)] = StartTimeSeconds(jvm.Pid);
            }

            await exporter.WaitForAsync(s => s.Pids("mapsexporter_process_start_time_seconds").Contains(jvm.Pid.ToString(CultureInfo.InvariantCulture)), $"JVM {jvm.Pid} reported");
            await Task.Delay(1500); // scrapers check its start time meanwhile
            lock (realStart)
            {
                realStart.Remove(jvm.Pid.ToString(CultureInfo.InvariantCulture)); // about to die: its PID may be reused
            }
        }

        var (code, count, stderr) = await churn;
        Assert.True(code == 0, stderr);
        int lifetimes = int.Parse(count.Trim(), CultureInfo.InvariantCulture);
        await stop.CancelAsync();
        await Task.WhenAll(scrapers);

        // After the churn: no series of a dead process, and the survivors' series are exactly the baseline's.
        MetricsScrape after = await exporter.WaitForAsync(
            s => s.AllPids().SetEquals(survivors), "only the survivors left in /metrics", seconds: 10);
        // (but for the two families a pagemap read adds: --scan.resident=auto may move the JVM to pagemap meanwhile)
        string[] pagemapOnly = ["mapsexporter_process_proportional_timestamp_seconds", "mapsexporter_process_resident_error_bytes"];
        foreach (string pid in survivors)
        {
            Assert.Equal(
                baseline.Samples.Where(x => x.Label("pid") == pid && !pagemapOnly.Contains(x.Name)).Select(x => x.Name).Order(),
                after.Samples.Where(x => x.Label("pid") == pid && !pagemapOnly.Contains(x.Name)).Select(x => x.Name).Order());
        }

        string[] ReadPids(string file) => File.ReadAllText(Path.Combine(pidDir, file)).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        string[] longPids = ReadPids("long"), shortPids = ReadPids("short"), mapsPids = ReadPids("maps");
        HashSet<string> sleeps = [.. longPids, .. shortPids, survivors[1]];
        HashSet<string> selected = [.. sleeps, .. mapsPids, .. jvmPids.Select(p => p.ToString(CultureInfo.InvariantCulture)), .. survivors];
        string scanLog = string.Join(", ", ScanLine().Matches(exporter.Output).Select(m => m.Groups[1].Value).TakeLast(40));
        Assert.True(lifetimes >= 1000, $"only {lifetimes} native process lifetimes");
        Assert.Equal(lifetimes, shortPids.Length);
        Assert.True(scrapes >= 100, $"only {scrapes} scrapes");

        // Native churners are reported: at least 80% of the 2 s sleeps (all of them in runs here) at least once, each under its comm. Every PID reported
        // under a churner's name is one this test started as that churner.
        int longSeen = longPids.Count(reported.ContainsKey);
        Assert.True(longSeen * 5 >= longPids.Length * 4, $"{longSeen} of {longPids.Length} 2 s churners reported (last scans took {scanLog} ms)");
        Assert.All(reported.Where(r => sleeps.Contains(r.Key)), r => Assert.Equal([Churner], r.Value));
        Assert.All(reported.Where(r => r.Value.Contains(Churner)), r => Assert.Contains(r.Key, sleeps));
        Assert.All(reported.Where(r => r.Value.Contains(MapsChurner)), r => Assert.Contains(r.Key, mapsPids));
        Assert.All(reported.Where(r => r.Value.Contains(JvmApp)), r => Assert.Contains(r.Key, selected));
        Assert.True(reported.Keys.Count(mapsPids.Contains) >= 5, $"{reported.Keys.Count(mapsPids.Contains)} of {mapsPids.Length} churn-maps reported");
        // A churn-maps that exits while its smaps is read leaves a short but well-formed list: never published as its map.
        Assert.All(fewestMappings, f => Assert.True(f.Value >= 2 * MapsPages, $"churn-maps {f.Key} published with {f.Value} mappings, fewer than its {2 * MapsPages}"));

        // Vanished counts the selected processes that exited while a scan read them: some did (churn-maps), the
        // counter equals what the scans logged, each logged example is a process this test started, and there are
        // no more than there were selected lifetimes.
        double vanished = after.Value("mapsexporter_scan_errors_total", "reason=vanished");
        MatchCollection logged = VanishedLine().Matches(exporter.Output);
        output.WriteLine($"{lifetimes} short sleeps, {longPids.Length} 2 s sleeps ({longSeen} reported), {mapsPids.Length} churn-maps ({reported.Keys.Count(mapsPids.Contains)} reported), "
            + $"{reported.Count} PIDs reported in {scrapes} scrapes, {vanished} vanished; last scans took {scanLog} ms");
        Assert.True(vanished > 0, $"no vanished process counted among {mapsPids.Length} churn-maps and {lifetimes + longPids.Length} sleeps");
        Assert.Equal(vanished, logged.Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        Assert.All(logged, m => Assert.Contains(m.Groups[2].Value, selected));
        Assert.True(vanished <= selected.Count, $"{vanished} vanished, {selected.Count} selected lifetimes");
        string failures = string.Join("\n", exporter.Output.Split('\n').Where(l => l.Contains("could not be read (", StringComparison.Ordinal)).Take(10));
        Assert.True(after.Value("mapsexporter_scan_errors_total", "reason=parse") == 0, $"parse errors counted; the daemon logged:\n{failures}");
        Assert.True(after.Value("mapsexporter_scan_errors_total", "reason=io") == 0, $"io errors counted; the daemon logged:\n{failures}");

        Assert.False(exporter.Daemon.Process.HasExited);
        exporter.AssertNoExceptions();
        Directory.Delete(pidDir, recursive: true);
    }

    /// <summary>
    /// churn-maps PAGES SECONDS: maps PAGES pages with alternating permissions (2 x PAGES VMAs), only then takes the
    /// comm churn-maps (so a scan never selects it half-built), sleeps SECONDS and exits.
    /// </summary>
    private static string CompileMapsChurner()
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-churnmaps-").FullName;
        string source = Path.Combine(dir, "churn-maps.c");
        File.WriteAllText(source, $$"""
            #include <stdlib.h>
            #include <sys/mman.h>
            #include <sys/prctl.h>
            #include <time.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                if (argc < 3) return 2;
                long n = atol(argv[1]);
                double s = atof(argv[2]);
                long page = sysconf(_SC_PAGESIZE);
                char *base = mmap(NULL, (size_t)(2 * n + 2) * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (base == MAP_FAILED) return 1;
                for (long i = 0; i < n; i++) {
                    if (mprotect(base + (2 * i + 1) * page, page, PROT_READ | PROT_WRITE) != 0) return 1;
                    base[(2 * i + 1) * page] = 1;
                }
                prctl(PR_SET_NAME, "{{MapsChurner}}", 0, 0, 0);
                struct timespec t = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
                nanosleep(&t, NULL);
                return 0;
            }
            """);
        string binary = Path.Combine(dir, "cm-setup");
        var (code, stdout, stderr) = ToolRunner.Run("gcc", ["-O2", "-o", binary, source]);
        Assert.True(code == 0, $"gcc: {stdout}{stderr}");
        Assert.Equal(0, ToolRunner.Run("chmod", ["755", dir, binary]).ExitCode);
        return binary;
    }

    /// <summary>Kills the process when disposed (Process.Dispose does not).</summary>
    private sealed class Killer(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    [GeneratedRegex(@"(\d+) processes exited while scan \d+ read them, e\.g\. process (\d+) ")]
    private static partial Regex VanishedLine();

    [GeneratedRegex(@"Scan \d+ took ([0-9.]+) ms")]
    private static partial Regex ScanLine();

    private static double StartTimeSeconds(int pid) =>
        ProcStatParser.ParseBootTime(File.ReadAllBytes("/proc/stat"), "stat")
        + (ProcStatParser.ParseStartTimeTicks(File.ReadAllBytes($"/proc/{pid}/stat"), "stat") / ProcStatParser.ClockTicksPerSecond);
}
