using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;

namespace MapsExporter.Tests.Daemon;

/// <summary>The table of families (MetricFamilies): no series outlives its process, and each family is declared the exporter's way.</summary>
public sealed class MetricFamiliesTests
{
    [Fact]
    public async Task No_family_keeps_a_series_of_a_process_gone_from_the_next_scan()
    {
        using var publisher = new MetricsPublisher();
        publisher.Publish(Snapshot([Everything(100, "A"), Everything(200, "B")]), hostCpus: 2);
        MetricsScrape first = await PublisherTests.Scrape(publisher);
        string[] perProcess = [.. MetricFamilies.Create().Where(f => f.IsPerProcess).Select(f => f.Name)];
        // The sample sets every family a process has, or this test would prove nothing for the ones it leaves out.
        Assert.All(perProcess, family => Assert.Contains("100", first.Pids(family)));
        Assert.Equal(perProcess.Order(), first.Samples.Where(s => s.Label("pid") == "100").Select(s => s.Name).Distinct().Order());

        publisher.Publish(Snapshot([Everything(200, "B")]), hostCpus: 2);
        MetricsScrape second = await PublisherTests.Scrape(publisher);
        // Any family, declared per process or not: the text is searched, not the table.
        Assert.DoesNotContain("pid=\"100\"", second.Text, StringComparison.Ordinal);
        Assert.All(perProcess, family => Assert.Equal(["200"], second.Pids(family)));

        publisher.Publish(ScanSnapshot.Failed(DateTimeOffset.UnixEpoch, TimeSpan.Zero, "/proc is gone"), hostCpus: 2);
        Assert.Empty((await PublisherTests.Scrape(publisher)).AllPids());
    }

    [Fact]
    public void Every_family_is_declared_once_with_help_and_the_exporters_prefix()
    {
        IReadOnlyList<MetricFamily> families = MetricFamilies.Create();
        Assert.Equal(families.Count, families.Select(f => f.Name).Distinct().Count());
        Assert.All(families, f =>
        {
            Assert.StartsWith("mapsexporter_", f.Name, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(f.Help), f.Name);
        });
        Assert.All(families.Where(f => f.IsPerProcess), f => Assert.Equal(["pid", "app"], f.Labels.Take(2)));
    }

    [Fact]
    public async Task Families_are_rendered_in_the_tables_order()
    {
        using var publisher = new MetricsPublisher();
        publisher.Publish(Snapshot([Everything(100, "A")]), hostCpus: 2);
        MetricsScrape scrape = await PublisherTests.Scrape(publisher);
        string[] rendered = [.. scrape.Text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2])];
        Assert.Equal(MetricFamilies.Create().Select(f => f.Name), rendered);
        (int code, string output) = Promtool.CheckMetrics(scrape.Text);
        Assert.True(code == 0 && output.Length == 0, output);
    }

    /// <summary>A process that sets every per-process family: resident sizes, arenas from their headers, thread groups, the JVM's figures, totals.</summary>
    private static ProcessSample Everything(int pid, string app)
    {
        var totals = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < totals.Length; i++)
        {
            totals[i] = new CategoryTotals(i + 1, 4096L * (i + 1), 4096L * i, 2048L * i, 512L * i);
        }

        var report = new MemoryReport(totals)
        {
            Pid = pid,
            App = app,
            Threads = 3,
            ThreadStacks = 2,
            LibcArenas = 2,
            LibcArenaHeaps = 3,
            MallocMmapChunks = 4,
            Mappings = 66,
            ResidentKnown = true,
            IsJvm = true,
            Source = "test",
            Arenas =
            [
                new ArenaInfo(0x7f0000001000, 0, 500, 4096) { Main = true, SystemBytes = 4096, InUseBytes = 1024, FreeBytes = 3072, ReleasableBytes = 0 },
                new ArenaInfo(0x7f0000000000, 1, 1000, 65536) { SystemBytes = 65536, InUseBytes = 1024, FreeBytes = 64512, ReleasableBytes = 61440 },
                new ArenaInfo(0x7f0004000000, 2, 3000, 131072) { SystemBytes = 131072, InUseBytes = 4096, FreeBytes = 126976, ReleasableBytes = 122880 },
            ],
            Malloc = new MallocSummary("glibc", 200704, 6144, 194560, 184320, 1 << 20, 1),
            ThreadGroups = new Dictionary<string, ThreadGroupStacks> { ["main"] = new(1, 8192, 1 << 20), ["worker-N"] = new(2, 16384, 2 << 20) },
            Jvm = new JvmFigures("17.0.15", "G1", 1L << 30, 1L << 28, 1L << 27, null),
            Fallbacks = [DecisionMethod.HeapInfo],
            Cgroup = new CgroupPlacement($"/system.slice/app{pid}.service", CgroupIdentity.FromPath($"/system.slice/app{pid}.service"), "", new CgroupMemory($"/system.slice/app{pid}.service", 2L << 30, "/system.slice", 1 << 28, 1 << 27, 1 << 26, 0)),
        };
        return new ProcessSample(report, 1000, 1_700_000_010, "17.0.15")
        {
            Mode = ScanMode.MapsCached,
            ReadDuration = TimeSpan.FromMilliseconds(7),
            Totals = new ResidentTotals(123456, 100000, 512),
            ResidentReadAt = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_100),
            // A pagemap read's (with MapsCached: every per-process family has a series).
            ProportionalReadAt = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_050),
            ResidentErrorBoundBytes = 0,
        };
    }

    private static ScanSnapshot Snapshot(IReadOnlyList<ProcessSample> processes) =>
        new(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(12), true, null, processes, [new ScanError(300, ReadFailure.Permission, "denied")], [], 65530);
}
