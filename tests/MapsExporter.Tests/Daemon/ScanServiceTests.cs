using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using MapsExporter.Scanning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MapsExporter.Tests.Daemon;

/// <summary>One scan of the service on a made-up procfs and sysfs: what it publishes and what it keeps for <c>/</c> and <c>/healthz</c>.</summary>
public sealed class ScanServiceTests : IDisposable
{
    private readonly string _procFs = Directory.CreateTempSubdirectory("mapsexporter-procfs-").FullName;
    private readonly string _sysFs = Directory.CreateTempSubdirectory("mapsexporter-sysfs-").FullName;

    public ScanServiceTests()
    {
        File.WriteAllText(Path.Combine(_procFs, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n");
        Directory.CreateDirectory(Path.Combine(_sysFs, "devices/system/cpu"));
        File.WriteAllText(Path.Combine(_sysFs, "devices/system/cpu/online"), "0-2,5\n");
    }

    [Fact]
    public async Task Host_cpus_are_read_under_the_sysfs_root_it_is_given()
    {
        using var publisher = new MetricsPublisher();
        var latest = new LatestScan();
        ScanOnce(publisher, latest);
        MetricsScrape scrape = await PublisherTests.Scrape(publisher);
        Assert.Equal(4, scrape.Value("mapsexporter_host_cpus"));
    }

    [Fact]
    public async Task The_last_scan_is_kept_for_the_landing_page_and_healthz_once_published()
    {
        using var publisher = new MetricsPublisher();
        var latest = new LatestScan();
        Assert.Null(latest.Snapshot);
        ScanOnce(publisher, latest);
        ScanSnapshot snapshot = Assert.IsType<ScanSnapshot>(latest.Snapshot);
        MetricsScrape scrape = await PublisherTests.Scrape(publisher);
        Assert.Equal(snapshot.Timestamp.ToUnixTimeMilliseconds() / 1000.0, scrape.Value("mapsexporter_last_scan_timestamp_seconds"));
        Assert.Equal(snapshot.Success ? 1 : 0, scrape.Value("mapsexporter_last_scan_success"));
    }

    private void ScanOnce(MetricsPublisher publisher, LatestScan latest)
    {
        var options = new ScanOptions { ProcFs = _procFs, SysFs = _sysFs, Interval = "1h" };
        using var scanner = new ProcessScanner(new ProcFs(_procFs), ProcessSelector.All, useSmaps: true, TimeProvider.System, options.CostOptions);
        using var service = new ScanService(Options.Create(options), scanner, publisher, latest, TimeProvider.System, NullLogger<ScanService>.Instance);
        service.ScanOnce();
    }

    public void Dispose()
    {
        Directory.Delete(_procFs, recursive: true);
        Directory.Delete(_sysFs, recursive: true);
    }
}
