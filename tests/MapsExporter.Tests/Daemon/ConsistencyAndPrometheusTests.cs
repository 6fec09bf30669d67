using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Daemon;

/// <summary>Scrapes during scans never mix two scans; a real Prometheus server scrapes the daemon and stores the series.</summary>
[Collection(LiveDaemonCollection.Name)]
public sealed class ConsistencyAndPrometheusTests(LiveDaemonFixture fixture)
{
    private static readonly string[] PidFamilies =
    [
        "mapsexporter_region_resident_bytes", "mapsexporter_region_virtual_bytes", "mapsexporter_regions", "mapsexporter_libc_arenas",
        "mapsexporter_thread_stacks", "mapsexporter_threads", "mapsexporter_mappings", "mapsexporter_process_start_time_seconds",
    ];

    [Fact]
    public async Task Concurrent_scrapes_during_scans_with_churning_processes_are_never_torn()
    {
        // Scans every 100 ms; `sleep` processes are selected as native processes and started and killed all the time,
        // so consecutive scans have different sets of PIDs.
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=100ms", "--selection.include-native=sleep");
        // At least 4 s and 10 scans (a loaded machine scans slower), at most 30 s.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = System.Diagnostics.Stopwatch.StartNew();
        Task churn = Task.Run(() => Churn(stop.Token));
        var torn = new List<string>();
        var scans = new HashSet<double>();
        int scrapes = 0;
        Task[] scrapers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                MetricsScrape scrape = await daemon.ScrapeAsync();
                string? problem = Inconsistency(scrape);
                lock (torn)
                {
                    scrapes++;
                    scans.Add(scrape.Value("mapsexporter_last_scan_timestamp_seconds"));
                    if (scans.Count >= 10 && started.Elapsed > TimeSpan.FromSeconds(4))
                    {
                        stop.Cancel();
                    }

                    if (problem is not null)
                    {
                        torn.Add(problem);
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(scrapers);
        await churn;

        Assert.True(scans.Count >= 10, $"only {scans.Count} scans seen in {scrapes} scrapes");
        Assert.True(torn.Count == 0, $"{torn.Count} of {scrapes} scrapes torn, e.g. {torn.FirstOrDefault()}");
    }

    [Fact]
    public async Task A_real_prometheus_server_scrapes_arena_and_stack_series_of_every_jvm()
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-prometheus-").FullName;
        int port = Ports.Free();
        string config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: mapsexporter
                static_configs:
                  - targets: ['{fixture.Daemon.Address.Authority}']
            """);
        var info = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
        {
            info.ArgumentList.Add(arg);
        }

        using Process prometheus = Process.Start(info)!;
        prometheus.OutputDataReceived += (_, _) => { };
        prometheus.ErrorDataReceived += (_, _) => { };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await Poll.UntilAsync(() => Query(http, "up"), r => r.Any(s => s.Value == "1"), TimeSpan.FromSeconds(60), "up == 1 in Prometheus");
            foreach (JavaWorkload jvm in fixture.Jvms)
            {
                string pid = LiveDaemonFixture.PidOf(jvm);
                foreach (string family in new[] { "mapsexporter_libc_arenas", "mapsexporter_thread_stacks" })
                {
                    var result = await Poll.UntilAsync(() => Query(http, $"{family}{{pid=\"{pid}\"}}"), r => r.Count == 1, TimeSpan.FromSeconds(30), $"{family} of {pid} in Prometheus");
                    Assert.True(double.Parse(result[0].Value, CultureInfo.InvariantCulture) >= 1);
                    Assert.Equal("Workload", result[0].App);
                }
            }

            var heap = await Query(http, "sum by (pid) (mapsexporter_region_virtual_bytes{category=\"java_heap\",app=\"Workload\"})");
            Assert.Contains(heap, s => s.Value == (512L * 1024 * 1024).ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Null when every family shows the same PIDs, as many as scanned_processes, and each PID's regions add up to its mappings.</summary>
    private static string? Inconsistency(MetricsScrape scrape)
    {
        HashSet<string> pids = scrape.Pids("mapsexporter_process_info");
        if (pids.Count != (int)scrape.Value("mapsexporter_scanned_processes"))
        {
            return $"{pids.Count} PIDs in process_info, scanned_processes {scrape.Value("mapsexporter_scanned_processes")}";
        }

        foreach (string family in PidFamilies)
        {
            if (!scrape.Pids(family).SetEquals(pids))
            {
                return $"{family} has PIDs {string.Join(',', scrape.Pids(family).Order())}, process_info {string.Join(',', pids.Order())}";
            }
        }

        foreach (string pid in pids)
        {
            // A VMA split where two things merged (a malloc chunk beside a reservation) counts as two regions.
            double regions = scrape.Find("mapsexporter_regions", $"pid={pid}").Sum(s => s.Value);
            double mappings = scrape.Value("mapsexporter_mappings", $"pid={pid}");
            if (regions < mappings || regions > mappings + 8)
            {
                return $"pid {pid}: regions add up to {regions}, mappings {scrape.Value("mapsexporter_mappings", $"pid={pid}")}";
            }
        }

        return null;
    }

    private static void Churn(CancellationToken stop)
    {
        var running = new Queue<Process>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                running.Enqueue(Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!);
                if (running.Count > 3)
                {
                    using Process old = running.Dequeue();
                    old.Kill();
                    old.WaitForExit();
                }

                stop.WaitHandle.WaitOne(30);
            }
        }
        finally
        {
            foreach (Process p in running)
            {
                p.Kill();
                p.Dispose();
            }
        }
    }

    private static async Task<List<(string Value, string? App)>> Query(HttpClient http, string query)
    {
        try
        {
            string body = await http.GetStringAsync(new Uri($"/api/v1/query?query={Uri.EscapeDataString(query)}", UriKind.Relative));
            using JsonDocument doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
                .Select(r => (r.GetProperty("value")[1].GetString()!, r.GetProperty("metric").TryGetProperty("app", out JsonElement app) ? app.GetString() : null))
                .ToList();
        }
        catch (HttpRequestException)
        {
            return []; // not listening yet
        }
        catch (TaskCanceledException)
        {
            return [];
        }
    }
}
