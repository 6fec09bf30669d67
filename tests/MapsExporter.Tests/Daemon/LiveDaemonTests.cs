using System.Globalization;
using System.Text.Json;
using MapsExporter.Cli;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Daemon;

/// <summary>The daemon against real JVMs: figures equal the report's and the JVM's own, series come and go with processes.</summary>
[Collection(LiveDaemonCollection.Name)]
public sealed class LiveDaemonTests(LiveDaemonFixture fixture)
{
    private static readonly string[] PerProcessFamilies =
    [
        "mapsexporter_region_resident_bytes", "mapsexporter_region_virtual_bytes", "mapsexporter_region_proportional_bytes",
        "mapsexporter_region_swap_bytes", "mapsexporter_regions", "mapsexporter_libc_arenas", "mapsexporter_thread_stacks",
        "mapsexporter_threads", "mapsexporter_mappings", "mapsexporter_process_start_time_seconds", "mapsexporter_process_info",
    ];

    private RunningDaemon Daemon => fixture.Daemon;

    [Fact]
    public async Task Gauges_equal_the_json_report_of_the_same_scan()
    {
        // Scrape, then take the published snapshot; they are the same scan when the timestamps agree.
        (MetricsScrape scrape, ScanSnapshot snapshot) = await Poll.UntilAsync(
            async () => (await Daemon.ScrapeAsync(), Daemon.Latest.Snapshot!),
            pair => Math.Abs(pair.Item1.Value("mapsexporter_last_scan_timestamp_seconds") - (pair.Item2.Timestamp.ToUnixTimeMilliseconds() / 1000.0)) < 0.0005,
            TimeSpan.FromSeconds(20),
            "a scrape and a snapshot of the same scan");

        Assert.Equal(snapshot.Processes.Count, scrape.Value("mapsexporter_scanned_processes"));
        foreach (JavaWorkload jvm in fixture.Jvms)
        {
            ProcessSample sample = snapshot.Processes.Single(p => p.Pid == jvm.Pid);
            using var json = new MemoryStream();
            JsonReportWriter.Write(json, [sample.Report]);
            using JsonDocument report = JsonDocument.Parse(json.ToArray());
            AssertGaugesEqualReport(scrape, report.RootElement, LiveDaemonFixture.PidOf(jvm));
        }
    }

    [Fact]
    public async Task Stable_figures_equal_the_report_command_output()
    {
        foreach (JavaWorkload jvm in fixture.Jvms)
        {
            string pid = LiveDaemonFixture.PidOf(jvm);
            // Two reads of a live JVM: compare what an idle JVM keeps still, and retry if a thread came or went between them.
            await Poll.UntilAsync(
                async () =>
                {
                    using JsonDocument report = RunReportCommand(pid);
                    MetricsScrape scrape = await Daemon.ScrapeAsync();
                    JsonElement root = report.RootElement;
                    return new[]
                    {
                        (root.GetProperty("categories").GetProperty("java_heap").GetProperty("virtual_bytes").GetInt64(), scrape.Value("mapsexporter_region_virtual_bytes", $"pid={pid}", "category=java_heap")),
                        (root.GetProperty("categories").GetProperty("cds_archive").GetProperty("virtual_bytes").GetInt64(), scrape.Value("mapsexporter_region_virtual_bytes", $"pid={pid}", "category=cds_archive")),
                        (root.GetProperty("thread_stacks").GetInt64(), scrape.Value("mapsexporter_thread_stacks", $"pid={pid}")),
                        (root.GetProperty("libc_arenas").GetInt64(), scrape.Value("mapsexporter_libc_arenas", $"pid={pid}")),
                        (root.GetProperty("threads").GetInt64(), scrape.Value("mapsexporter_threads", $"pid={pid}")),
                    };
                },
                pairs => pairs.All(p => p.Item1 == (long)p.Item2),
                TimeSpan.FromSeconds(20),
                $"report --format json {pid} and /metrics to agree (report, metric)");
        }
    }

    [Fact]
    public async Task Java_heap_equals_native_memory_tracking_and_threads_equal_the_task_count()
    {
        MetricsScrape scrape = await Daemon.ScrapeAsync();
        foreach (JavaWorkload jvm in fixture.Jvms)
        {
            string pid = LiveDaemonFixture.PidOf(jvm);
            NmtSummary nmt = jvm.NativeMemorySummary();
            Assert.Equal(512L * 1024 * 1024, nmt.Reserved("Java Heap"));
            Assert.Equal(nmt.Reserved("Java Heap"), scrape.Value("mapsexporter_region_virtual_bytes", $"pid={pid}", "category=java_heap"));
            Assert.True(scrape.Value("mapsexporter_libc_arenas", $"pid={pid}") >= 1);
            Assert.True(scrape.Value("mapsexporter_thread_stacks", $"pid={pid}") >= 4 + 1, "the workload's threads have stacks");

            await Poll.UntilAsync(
                async () => (Tasks: Directory.GetDirectories($"/proc/{pid}/task").Length, Metric: (await Daemon.ScrapeAsync()).Value("mapsexporter_threads", $"pid={pid}")),
                pair => pair.Tasks == (int)pair.Metric,
                TimeSpan.FromSeconds(20),
                $"mapsexporter_threads of {pid} to equal /proc/{pid}/task");
        }
    }

    [Fact]
    public async Task Process_info_names_the_app_and_the_java_version_from_the_release_file()
    {
        MetricsScrape scrape = await Daemon.ScrapeAsync();
        foreach (JavaWorkload jvm in fixture.Jvms)
        {
            string release = File.ReadAllText(Path.Combine(jvm.Jdk, "release"));
            string expected = JvmVersionResolver.ParseJavaVersion(release)!;
            Sample info = scrape.Find("mapsexporter_process_info", $"pid={LiveDaemonFixture.PidOf(jvm)}").Single();
            Assert.Equal("Workload", info.Label("app"));
            Assert.Equal(expected, info.Label("jvm_version"));
            Assert.Equal("glibc", info.Label("allocator"));
            Assert.StartsWith(jvm.Jdk == RepoPaths.Jdk17 ? "17." : "25.", expected, StringComparison.Ordinal);
        }

        // Started after the fixture's JVMs (READY came after their first scan), so before the scrape.
        double started = scrape.Value("mapsexporter_process_start_time_seconds", $"pid={LiveDaemonFixture.PidOf(fixture.Jdk17)}");
        Assert.InRange(started, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_process_that_exits_loses_its_series_and_a_new_one_gains_them()
    {
        string pid;
        using (JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk25, ["-Xmx128m"], 1))
        {
            pid = LiveDaemonFixture.PidOf(jvm);
            MetricsScrape appeared = await Daemon.WaitForAsync(s => s.Pids("mapsexporter_process_info").Contains(pid), $"new JVM {pid} to appear");
            Assert.All(PerProcessFamilies, family => Assert.Contains(pid, appeared.Pids(family)));
            Assert.Equal(RegionCategories.Count, appeared.Find("mapsexporter_region_virtual_bytes", $"pid={pid}").Count());
        }

        MetricsScrape gone = await Daemon.WaitForAsync(s => !s.AllPids().Contains(pid), $"exited JVM {pid} to disappear from every family");
        Assert.All(fixture.Jvms, j => Assert.Contains(LiveDaemonFixture.PidOf(j), gone.Pids("mapsexporter_process_info")));
    }

    [Fact]
    public async Task The_exporter_reports_its_own_memory_cpu_and_allocations_at_each_scan()
    {
        MetricsScrape first = await Daemon.ScrapeAsync();
        double scanned = first.Value("mapsexporter_last_scan_timestamp_seconds");
        MetricsScrape next = await Daemon.WaitForAsync(s => s.Value("mapsexporter_last_scan_timestamp_seconds") > scanned, "the next scan");

        // The daemon runs in this test process: its figures are this process's.
        Assert.InRange(next.Value("mapsexporter_self_resident_bytes"), 4 << 20, Environment.WorkingSet * 2.0);
        Assert.InRange(next.Value("mapsexporter_self_cpu_seconds_total"), first.Value("mapsexporter_self_cpu_seconds_total"), Environment.CpuUsage.TotalTime.TotalSeconds);
        Assert.True(next.Value("mapsexporter_self_allocated_bytes_total") > first.Value("mapsexporter_self_allocated_bytes_total"), "a scan allocates");
        Assert.InRange(next.Value("mapsexporter_self_gc_heap_bytes"), 1, next.Value("mapsexporter_self_gc_committed_bytes"));
    }

    [Fact]
    public async Task Promtool_accepts_a_live_scrape()
    {
        string text = await Daemon.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        (int code, string output) = Promtool.CheckMetrics(text);
        Assert.True(code == 0 && output.Length == 0, $"promtool check metrics: rc {code}: {output}");
        Assert.DoesNotContain("# {", text, StringComparison.Ordinal); // no exemplars
        // No runtime families (build_info's dotnet_version label is not one).
        Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex("^(# (HELP|TYPE) )?(dotnet|process)_", System.Text.RegularExpressions.RegexOptions.Multiline), text);
    }

    [Fact]
    public async Task A_scraper_that_accepts_gzip_gets_the_same_exposition_compressed()
    {
        // Both requests must see the same scan: retry until the two bodies come from one.
        for (int attempt = 0; ; attempt++)
        {
            using var plainRequest = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
            using HttpResponseMessage plain = await Daemon.Http.SendAsync(plainRequest);
            byte[] plainBytes = await plain.Content.ReadAsByteArrayAsync();
            using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
            gzipRequest.Headers.AcceptEncoding.ParseAdd("gzip");
            using HttpResponseMessage compressed = await Daemon.Http.SendAsync(gzipRequest);
            Assert.Equal("gzip", Assert.Single(compressed.Content.Headers.ContentEncoding));
            byte[] gzipBytes = await compressed.Content.ReadAsByteArrayAsync();
            using var inflated = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(gzipBytes), System.IO.Compression.CompressionMode.Decompress))
            {
                await gzip.CopyToAsync(inflated);
            }

            Assert.True(gzipBytes.Length * 4 < plainBytes.Length, $"{gzipBytes.Length} gzip bytes for {plainBytes.Length}");
            // The scan's families; the HTTP ones after them count this very request, so they differ between the two.
            string plainScan = ScanPart(plainBytes), inflatedScan = ScanPart(inflated.ToArray());
            if (plainScan == inflatedScan || attempt == 20)
            {
                Assert.Equal(plainScan, inflatedScan);
                return;
            }
        }
    }

    private static string ScanPart(byte[] body)
    {
        string text = System.Text.Encoding.UTF8.GetString(body);
        int http = text.IndexOf("# HELP mapsexporter_http_", StringComparison.Ordinal);
        Assert.True(http > 0, "no HTTP families after the scan's");
        return text[..http];
    }

    [Fact]
    public async Task Landing_page_links_metrics_and_healthz_says_ok()
    {
        using HttpResponseMessage page = await Daemon.Http.GetAsync(new Uri("/", UriKind.Relative));
        string html = await page.Content.ReadAsStringAsync();
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("href=\"metrics\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        using HttpResponseMessage health = await Daemon.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (await health.Content.ReadAsStringAsync()).Trim());
        using HttpResponseMessage metrics = await Daemon.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
    }

    private static void AssertGaugesEqualReport(MetricsScrape scrape, JsonElement report, string pid)
    {
        foreach (JsonProperty category in report.GetProperty("categories").EnumerateObject())
        {
            string[] labels = [$"pid={pid}", $"category={category.Name}"];
            JsonElement totals = category.Value;
            Assert.Equal(totals.GetProperty("virtual_bytes").GetInt64(), scrape.Value("mapsexporter_region_virtual_bytes", labels));
            Assert.Equal(totals.GetProperty("regions").GetInt64(), scrape.Value("mapsexporter_regions", labels));
            Assert.Equal(totals.GetProperty("resident_bytes").GetInt64(), scrape.Value("mapsexporter_region_resident_bytes", labels));
            Assert.Equal(totals.GetProperty("proportional_bytes").GetInt64(), scrape.Value("mapsexporter_region_proportional_bytes", labels));
            Assert.Equal(totals.GetProperty("swap_bytes").GetInt64(), scrape.Value("mapsexporter_region_swap_bytes", labels));
        }

        Assert.Equal(report.GetProperty("thread_stacks").GetInt64(), scrape.Value("mapsexporter_thread_stacks", $"pid={pid}"));
        Assert.Equal(report.GetProperty("libc_arenas").GetInt64(), scrape.Value("mapsexporter_libc_arenas", $"pid={pid}"));
        Assert.Equal(report.GetProperty("threads").GetInt64(), scrape.Value("mapsexporter_threads", $"pid={pid}"));
        Assert.Equal(report.GetProperty("app").GetString(), scrape.Find("mapsexporter_threads", $"pid={pid}").Single().Label("app"));
    }

    private static JsonDocument RunReportCommand(string pid)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        int code = ReportCommand.Run(["--format", "json", pid], stdout, stderr);
        Assert.True(code == 0, $"report --format json {pid}: rc {code}: {stderr}");
        return JsonDocument.Parse(stdout.ToString());
    }
}
