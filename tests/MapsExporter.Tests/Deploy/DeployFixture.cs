using System.Diagnostics;
using System.Globalization;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The release as it is deployed: the Native AOT binary scanning every second on 127.0.0.1, one real JVM (JDK 17,
/// 4 threads allocating natively, so it has glibc arenas), and a real Prometheus scraping the binary every second.
/// </summary>
public sealed class DeployFixture : IAsyncLifetime, IDisposable
{
    private Process? _exporter;

    private TestCgroups? _cgroups;

    public JavaWorkload Jvm { get; private set; } = null!;

    public string Pid => Jvm.Pid.ToString(CultureInfo.InvariantCulture);

    public Uri Address { get; private set; } = null!;

    /// <summary>The AOT exporter's PID.</summary>
    public int ExporterPid => _exporter!.Id;

    public HttpClient Http { get; private set; } = null!;

    public PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        AotBinary.Require();
        // The JVM runs as a systemd unit with a memory limit (a cgroup made below the test's own), so the cgroup
        // families and the dashboard's unit variable have something to show.
        _cgroups = new TestCgroups();
        string unit = _cgroups.Make("system.slice/workload.service");
        _cgroups.Limit(_cgroups.Path, 1L << 30);
        Jvm = await Task.Run(() => JavaWorkload.Start(RepoPaths.Jdk17, ["-XX:+UseG1GC", "-Xmx256m"], 4, ["--native-churn"], new Dictionary<string, string> { ["MAPSEXPORTER_CGROUP_PROCS"] = TestCgroups.Procs(unit) }));
        int port = Ports.Free();
        Address = new Uri($"http://127.0.0.1:{port}");
        Http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        _exporter = AotBinary.Start(port);
        await AotBinary.WaitForAsync(Http, _exporter, s => s.Pids("mapsexporter_thread_stack_resident_bytes").Contains(Pid), "the JVM's series from the AOT binary");
        Prometheus = PrometheusServer.Start(Address.Authority);
        // Three scrapes at least, so rate() over the dashboard's windows has points.
        await Poll.UntilAsync(
            () => Prometheus.QueryAsync($"count_over_time(mapsexporter_thread_stacks{{pid=\"{Pid}\"}}[1m]) >= 3"),
            r => r.Series.Count == 1, TimeSpan.FromSeconds(60), "three scrapes of the JVM in Prometheus");
    }

    public Task DisposeAsync()
    {
        Prometheus?.Dispose();
        if (_exporter is not null)
        {
            AotBinary.Stop(_exporter);
        }

        Http?.Dispose();
        Jvm?.Dispose();
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Removes the JVM's cgroup (after the JVM has gone).</summary>
    public void Dispose() => _cgroups?.Dispose();
}

[CollectionDefinition(Name)]
public sealed class DeployCollection : ICollectionFixture<DeployFixture>
{
    public const string Name = "deployed release";
}
