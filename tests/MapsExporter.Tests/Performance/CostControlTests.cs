using System.Diagnostics;
using System.Text;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using MapsExporter.Scanning;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;
using Microsoft.Extensions.Options;

namespace MapsExporter.Tests.Performance;

/// <summary>
/// Cost controls for huge JVMs: smaps read at most every smaps-interval (maps between, resident figures kept),
/// smaps_rollup above an Rss threshold, and the per-process read duration and mode published.
/// </summary>
public sealed class CostControlTests : IDisposable
{
    private const string Fixture = "jdk17-g1-xmx512m-t20";
    private const string LibJvm = "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so";
    private readonly string _root = Directory.CreateTempSubdirectory("mapsexporter-cost-").FullName;
    private readonly ManualTime _time = new();

    public CostControlTests()
    {
        Write("stat", "cpu  1 2 3 4\nbtime 1700000000\n");
        AddJvm(100);
    }

    [Fact]
    public void Smaps_is_read_only_every_smaps_interval_and_the_scans_between_keep_its_resident_figures()
    {
        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time, new ScanCostOptions { SmapsInterval = TimeSpan.FromMinutes(5) });
        ProcessSample first = Assert.Single(scanner.Scan().Processes);
        Assert.Equal(ScanMode.Smaps, first.Mode);
        Assert.True(first.Report.ResidentKnown);

        // Without smaps a read of it would fail: the scans inside the interval must not read it.
        File.Delete(Path.Combine(_root, "100/smaps"));
        for (int i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            ScanSnapshot between = scanner.Scan();
            Assert.Empty(between.Errors);
            ProcessSample sample = Assert.Single(between.Processes);
            Assert.Equal(ScanMode.MapsCached, sample.Mode);
            Assert.True(sample.Report.ResidentKnown);
            Assert.Equal(first.Totals, sample.Totals);
            Assert.Equal(first.ResidentReadAt, sample.ResidentReadAt);
            // The fresh read's placement (this tree has no cgroup file: nothing to place), not dropped with the merge.
            Assert.Same(CgroupPlacement.Unknown, sample.Report.Cgroup);
            Assert.Equal(NativeAllocator.Glibc, sample.Report.Allocator);
            for (int c = 0; c < RegionCategories.Count; c++)
            {
                Assert.Equal(first.Report.Categories[c].ResidentBytes, sample.Report.Categories[c].ResidentBytes);
                Assert.Equal(first.Report.Categories[c].VirtualBytes, sample.Report.Categories[c].VirtualBytes);
            }
        }

        // The interval is over: smaps again, with its new figures (every Rss doubled).
        _time.Advance(TimeSpan.FromMinutes(2));
        Write("100/smaps", DoubleRss(File.ReadAllText(RepoPaths.Fixture(Fixture, "smaps"))));
        ProcessSample again = Assert.Single(scanner.Scan().Processes);
        Assert.Equal(ScanMode.Smaps, again.Mode);
        Assert.Equal(2 * first.Totals!.Value.ResidentBytes, again.Totals!.Value.ResidentBytes);
        Assert.Equal(_time.GetUtcNow(), again.ResidentReadAt);
    }

    [Fact]
    public void Above_the_rss_threshold_smaps_rollup_gives_the_totals_that_smaps_gives()
    {
        ProcessSample full;
        using (var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time))
        {
            full = Assert.Single(scanner.Scan().Processes);
        }

        ResidentTotals sum = full.Totals!.Value;
        Write("100/smaps_rollup", $"00400000-7fff00000000 ---p 00000000 00:00 0    [rollup]\nRss: {sum.ResidentBytes / 1024} kB\nPss: {sum.ProportionalBytes / 1024} kB\nPss_Anon: 1 kB\nSwap: {sum.SwapBytes / 1024} kB\nLocked: 0 kB\n");
        File.Delete(Path.Combine(_root, "100/smaps"));

        // 1 GiB threshold: this process's 400 MiB Rss stays below it (smaps would be read, and it is gone).
        Write("100/statm", "1000000 102400 5000 1 0 90000 0\n");
        using (var below = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time, new ScanCostOptions { RollupAboveBytes = 1L << 30 }))
        {
            Assert.Contains(below.Scan().Errors, e => e.Pid == 100);
        }

        Write("100/statm", $"1000000 {(2L << 30) / Environment.SystemPageSize} 5000 1 0 90000 0\n");
        using var above = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time, new ScanCostOptions { RollupAboveBytes = 1L << 30 });
        ScanSnapshot snapshot = above.Scan();
        Assert.Empty(snapshot.Errors);
        ProcessSample rollup = Assert.Single(snapshot.Processes);
        Assert.Equal(ScanMode.Rollup, rollup.Mode);
        Assert.Equal(sum, rollup.Totals);
        Assert.False(rollup.Report.ResidentKnown, "per-category resident sizes are not known from a rollup");
        for (int c = 0; c < RegionCategories.Count; c++)
        {
            Assert.Equal(full.Report.Categories[c].Regions, rollup.Report.Categories[c].Regions);
        }
    }

    [Fact]
    public void On_a_live_process_smaps_rollup_totals_equal_the_sum_of_its_smaps()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            // Until it sleeps (exec done, pages faulted in) its Rss moves.
            string stat = $"/proc/{sleeper.Id}/stat";
            for (int i = 0; i < 200 && !(File.ReadAllText(stat).Contains(") S ", StringComparison.Ordinal) && File.ReadAllText($"/proc/{sleeper.Id}/comm") == "sleep\n"); i++)
            {
                Thread.Sleep(10);
            }

            Thread.Sleep(50);
            var procFs = new ProcFs();
            using var inspector = new ProcessInspector(procFs);
            var full = new ScanCostControl(null, _time);
            var rollup = new ScanCostControl(new ScanCostOptions { RollupAboveBytes = 1 }, _time);
            using var files = new ProcessFiles(procFs);
            ProcStat identity = files.ReadStat(sleeper.Id);
            var state = new ProcessState(sleeper.Id, identity.StartTicks, _time);
            InspectionResult a = full.Complete(state, inspector.Inspect(sleeper.Id, new InspectRequest { Mode = full.Plan(state, useSmaps: true, () => files.ReadResidentBytes(sleeper.Id)), State = state, Stat = identity }));
            InspectionResult b = rollup.Complete(state, inspector.Inspect(sleeper.Id, new InspectRequest { Mode = rollup.Plan(state, useSmaps: true, () => files.ReadResidentBytes(sleeper.Id)), State = state, Stat = identity }));
            Assert.Equal(ScanMode.Smaps, a.Mode);
            Assert.Equal(ScanMode.Rollup, b.Mode);
            Assert.Equal(a.Totals!.Value.ResidentBytes, b.Totals!.Value.ResidentBytes);
            Assert.Equal(a.Report.Mappings, b.Report.Mappings);
            Assert.Equal(a.Report.Total.VirtualBytes, b.Report.Total.VirtualBytes);
            Assert.True(a.Duration > TimeSpan.Zero && b.Duration > TimeSpan.Zero);
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public async Task The_read_duration_mode_and_totals_of_each_process_are_published()
    {
        ProcessSample sample;
        using (var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time, new ScanCostOptions { SmapsInterval = TimeSpan.FromMinutes(5) }))
        {
            scanner.Scan();
            _time.Advance(TimeSpan.FromMinutes(1));
            sample = Assert.Single(scanner.Scan().Processes);
        }

        using var publisher = new MetricsPublisher();
        publisher.Publish(new ScanSnapshot(_time.GetUtcNow(), TimeSpan.FromMilliseconds(3), true, null, [sample], [], [], null), hostCpus: 2);
        using var buffer = new MemoryStream();
        await publisher.WriteAsync(buffer, CancellationToken.None);
        MetricsScrape scrape = MetricsScrape.Parse(Encoding.UTF8.GetString(buffer.ToArray()));
        double duration = scrape.Value("mapsexporter_process_scan_duration_seconds", "pid=100");
        Assert.True(duration > 0 && duration < 5, $"{duration}");
        Assert.Equal("maps_cached", scrape.Find("mapsexporter_process_scan_mode", "pid=100").Single().Label("mode"));
        Assert.Equal(sample.Totals!.Value.ResidentBytes, scrape.Value("mapsexporter_process_resident_bytes", "pid=100"));
        Assert.Equal(_time.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds(), scrape.Value("mapsexporter_process_resident_timestamp_seconds", "pid=100"));
        (int code, string output) = Promtool.CheckMetrics(scrape.Text);
        Assert.True(code == 0 && output.Length == 0, output);
    }

    [Fact]
    public void A_read_due_within_the_timer_jitter_is_not_put_off_a_whole_scan()
    {
        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time, new ScanCostOptions { SmapsInterval = TimeSpan.FromMinutes(1) });
        Assert.Equal(ScanMode.Smaps, Assert.Single(scanner.Scan().Processes).Mode);
        _time.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(ScanMode.MapsCached, Assert.Single(scanner.Scan().Processes).Mode);

        // The fourth 15 s scan, a little early against the first one's read.
        _time.Advance(TimeSpan.FromSeconds(14.6));
        Assert.Equal(ScanMode.Smaps, Assert.Single(scanner.Scan().Processes).Mode);
    }

    [Fact]
    public void The_daemon_reads_smaps_at_most_once_a_minute_unless_told_0s_for_every_scan()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), new ScanOptions().CostOptions.SmapsInterval);
        var everyScan = new ScanOptions { ProcFs = _root, SmapsInterval = "0s" };
        Assert.True(new ScanOptionsValidator().Validate(null, everyScan).Succeeded);
        Assert.Equal(TimeSpan.Zero, everyScan.CostOptions.SmapsInterval);

        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true, _time, everyScan.CostOptions);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ScanMode.Smaps, Assert.Single(scanner.Scan().Processes).Mode);
            _time.Advance(TimeSpan.FromSeconds(15));
        }
    }

    [Theory]
    [InlineData("SmapsInterval", "-1m")]
    [InlineData("SmapsInterval", "often")]
    [InlineData("SmapsInterval", "")]
    [InlineData("RollupAboveBytes", "-1")]
    public void Bad_cost_settings_are_refused(string key, string value)
    {
        var options = new ScanOptions { ProcFs = _root };
        if (key == "SmapsInterval")
        {
            options.SmapsInterval = value;
        }
        else
        {
            options.RollupAboveBytes = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        ValidateOptionsResult result = new ScanOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(key == "SmapsInterval" ? "--scan.smaps-interval" : "--scan.rollup-above-bytes", result.FailureMessage, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string DoubleRss(string smaps) => string.Join('\n', smaps.Split('\n').Select(line =>
        line.StartsWith("Rss:", StringComparison.Ordinal)
            ? $"Rss: {2 * long.Parse(line[4..^3].Trim(), System.Globalization.CultureInfo.InvariantCulture)} kB"
            : line));

    private void AddJvm(int pid)
    {
        string maps = File.ReadAllText(RepoPaths.Fixture(Fixture, "maps"));
        Assert.Contains(LibJvm, maps, StringComparison.Ordinal);
        Write($"{pid}/stat", $"{pid} (java) S {string.Join(' ', Enumerable.Repeat("0", 18))} 500 1073741824 0\n");
        Write($"{pid}/maps", maps);
        Write($"{pid}/smaps", File.ReadAllText(RepoPaths.Fixture(Fixture, "smaps")));
        Write($"{pid}/comm", "java\n");
        Write($"{pid}/cmdline", "/usr/bin/java\0-cp\0/app\0com.example.Big\0");
        Directory.CreateDirectory(Path.Combine(_root, $"{pid}/task/{pid}"));
    }

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch.AddDays(20000);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
