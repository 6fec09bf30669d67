using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using MapsExporter.Scanning;

namespace MapsExporter.Tests.Daemon;

/// <summary>The publisher on made-up snapshots: series removal, no fake zeros, counters, promtool-clean output.</summary>
public sealed class PublisherTests
{
    private const int HostCpus = 2;

    [Fact]
    public async Task Series_of_processes_gone_from_the_next_scan_are_removed()
    {
        using var publisher = new MetricsPublisher();
        publisher.Publish(Snapshot([Sample(100, "A", resident: true), Sample(200, "B", resident: true)], [new ScanError(300, ReadFailure.Permission, "denied")]), HostCpus);
        MetricsScrape first = await Scrape(publisher);
        Assert.Equal(["100", "200"], first.AllPids().Order());

        publisher.Publish(Snapshot([Sample(200, "B", resident: true)], [new ScanError(300, ReadFailure.Permission, "denied"), new ScanError(400, ReadFailure.Vanished, "gone")]), HostCpus);
        MetricsScrape second = await Scrape(publisher);
        Assert.Equal(["200"], second.AllPids());
        Assert.Equal(1, second.Value("mapsexporter_scanned_processes"));
        Assert.Equal(2, second.Value("mapsexporter_scan_errors_total", "reason=permission"));
        Assert.Equal(1, second.Value("mapsexporter_scan_errors_total", "reason=vanished"));
        Assert.Equal(0, second.Value("mapsexporter_scan_errors_total", "reason=parse"));
        Assert.Equal(65530, second.Value("mapsexporter_max_mappings"));
        (int code, string output) = Promtool.CheckMetrics(second.Text);
        Assert.True(code == 0 && output.Length == 0, output);
    }

    [Fact]
    public async Task Resident_sizes_are_not_published_when_only_maps_could_be_read()
    {
        using var publisher = new MetricsPublisher();
        publisher.Publish(Snapshot([Sample(100, "A", resident: true), Sample(200, "B", resident: false)], []), HostCpus);
        MetricsScrape scrape = await Scrape(publisher);
        foreach (string family in new[] { "mapsexporter_region_resident_bytes", "mapsexporter_region_proportional_bytes", "mapsexporter_region_swap_bytes" })
        {
            Assert.Equal(["100"], scrape.Pids(family));
        }

        Assert.Equal(["100", "200"], scrape.Pids("mapsexporter_region_virtual_bytes").Order());
        Assert.Equal(RegionCategories.Count, scrape.Find("mapsexporter_region_virtual_bytes", "pid=200").Count());
        Assert.Equal("none", scrape.Find("mapsexporter_process_info", "pid=200").Single().Label("jvm_version"));
        Assert.Equal("17.0.15", scrape.Find("mapsexporter_process_info", "pid=100").Single().Label("jvm_version"));
        Assert.Equal("jemalloc", scrape.Find("mapsexporter_process_info", "pid=100").Single().Label("allocator"));
        Assert.Equal("glibc", scrape.Find("mapsexporter_process_info", "pid=200").Single().Label("allocator"));
    }

    [Fact]
    public async Task A_failed_scan_publishes_success_0_and_no_process_series()
    {
        using var publisher = new MetricsPublisher();
        publisher.Publish(Snapshot([Sample(100, "A", resident: true)], []), HostCpus);
        publisher.Publish(ScanSnapshot.Failed(DateTimeOffset.UnixEpoch.AddSeconds(42), TimeSpan.FromMilliseconds(3), "/proc is gone"), HostCpus);
        MetricsScrape scrape = await Scrape(publisher);
        Assert.Equal(0, scrape.Value("mapsexporter_last_scan_success"));
        Assert.Equal(42, scrape.Value("mapsexporter_last_scan_timestamp_seconds"));
        Assert.Empty(scrape.AllPids());
        Assert.Empty(scrape.Family("mapsexporter_max_mappings"));
    }

    [Fact]
    public void A_failure_class_is_logged_once_then_at_most_once_per_period_with_a_count()
    {
        var time = new ManualTime();
        var throttle = new FailureLogThrottle(time, TimeSpan.FromMinutes(10));
        Assert.True(throttle.ShouldLog("permission", 3, out long suppressed));
        Assert.Equal(0, suppressed);
        Assert.True(throttle.ShouldLog("parse", 1, out _), "another class is logged on its own");
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(throttle.ShouldLog("permission", 3, out _));
        Assert.False(throttle.ShouldLog("permission", 4, out _));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(throttle.ShouldLog("permission", 1, out suppressed));
        Assert.Equal(7, suppressed);
    }

    internal static async Task<MetricsScrape> Scrape(MetricsPublisher publisher)
    {
        using var buffer = new MemoryStream();
        await publisher.WriteAsync(buffer, CancellationToken.None);
        return MetricsScrape.Parse(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static ScanSnapshot Snapshot(IReadOnlyList<ProcessSample> processes, IReadOnlyList<ScanError> errors) =>
        new(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(12), true, null, processes, errors, [], 65530);

    private static ProcessSample Sample(int pid, string app, bool resident)
    {
        var totals = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < totals.Length; i++)
        {
            totals[i] = resident ? new CategoryTotals(i + 1, 4096L * (i + 1), 4096L * i, 2048L * i, 0) : new CategoryTotals(i + 1, 4096L * (i + 1), null, null, null);
        }

        var report = new MemoryReport(totals) { Pid = pid, App = app, Threads = 3, ThreadStacks = 2, LibcArenas = 1, Mappings = 66, ResidentKnown = resident, IsJvm = resident, Source = "test", Allocator = resident ? NativeAllocator.Jemalloc : NativeAllocator.Glibc };
        return new ProcessSample(report, 1000, 1_700_000_010, resident ? "17.0.15" : null);
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
