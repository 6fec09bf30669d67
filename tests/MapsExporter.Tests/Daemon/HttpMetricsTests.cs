using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Daemon;

/// <summary>prometheus-net.AspNetCore's HTTP metrics after the scan's families on a real Kestrel listener.</summary>
public sealed class HttpMetricsTests
{
    [Fact]
    public async Task Requests_are_counted_by_route_template_and_code_with_durations_and_promtool_accepts_it()
    {
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h");
        await daemon.WaitForAsync(s => s.Family("mapsexporter_last_scan_timestamp_seconds").Any(t => t.Value > 0), "the first scan");
        Assert.Equal(HttpStatusCode.OK, (await daemon.Http.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await daemon.Http.GetAsync(new Uri($"/scanner-{i}/../x{i}", UriKind.Relative))).StatusCode);
        }

        using var odd = new HttpRequestMessage(new HttpMethod("FROBNICATE"), "/metrics");
        await daemon.Http.SendAsync(odd);
        MetricsScrape before = await daemon.ScrapeAsync();
        MetricsScrape scrape = await daemon.ScrapeAsync();

        Assert.Equal(3, scrape.Value("mapsexporter_http_requests_total", "code=404", "endpoint="));
        Assert.Equal(1, scrape.Value("mapsexporter_http_requests_total", "code=200", "endpoint=/"));
        double metrics = scrape.Value("mapsexporter_http_requests_total", "code=200", "endpoint=/metrics");
        Assert.Equal(before.Value("mapsexporter_http_requests_total", "code=200", "endpoint=/metrics") + 1, metrics);
        Assert.Equal(metrics, scrape.Value("mapsexporter_http_request_duration_seconds_count", "code=200", "endpoint=/metrics"));
        Assert.Equal(1, scrape.Value("mapsexporter_http_requests_in_progress", "endpoint=/metrics")); // this scrape
        // Bounded labels: route templates and codes only, never a raw path or a method a client made up.
        Assert.DoesNotContain("scanner-", scrape.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("FROBNICATE", scrape.Text, StringComparison.Ordinal);
        Assert.All(scrape.Samples.Where(s => s.Name.StartsWith("mapsexporter_http_", StringComparison.Ordinal)), s =>
            Assert.Empty(s.Labels.Keys.Except(["code", "endpoint", "le"])));

        string[] families = [.. scrape.Text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2])];
        Assert.Contains("mapsexporter_http_request_duration_seconds", families);
        Assert.DoesNotContain(families, f => f.StartsWith("process_", StringComparison.Ordinal) || f.StartsWith("http_", StringComparison.Ordinal));
        Assert.All(families, f => Assert.Contains($"# HELP {f} ", scrape.Text, StringComparison.Ordinal));
        var (code, output) = Promtool.CheckMetrics(scrape.Text);
        Assert.True(code == 0, $"promtool check metrics: {output}");
    }

    [Fact]
    public async Task The_gzip_body_is_one_member_that_gzip_itself_reads_whole()
    {
        await using RunningDaemon daemon = await RunningDaemon.StartAsync("--scan.interval=1h");
        await daemon.WaitForAsync(s => s.Family("mapsexporter_last_scan_timestamp_seconds").Any(t => t.Value > 0), "the first scan");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        using HttpResponseMessage response = await daemon.Http.SendAsync(request);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        string file = Path.Combine(Path.GetTempPath(), $"mapsexporter-metrics-{Guid.NewGuid():N}.gz");
        await File.WriteAllBytesAsync(file, body);
        try
        {
            var (exit, text, stderr) = ToolRunner.Run("gzip", ["-dc", file]);
            Assert.True(exit == 0, stderr);
            using var inflated = new MemoryStream();
            using (var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress))
            {
                await gzip.CopyToAsync(inflated);
            }

            Assert.Equal(text, System.Text.Encoding.UTF8.GetString(inflated.ToArray()));
            // One member: its trailer's length is the whole text's, the scan's families and the HTTP ones after them.
            Assert.Equal((uint)inflated.Length, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(body.Length - 4)));
            Assert.Contains("# HELP mapsexporter_scanned_processes ", text, StringComparison.Ordinal);
            Assert.Contains("mapsexporter_http_requests_total{code=\"200\",endpoint=\"/metrics\"}", text, StringComparison.Ordinal);
            Assert.True(Promtool.CheckMetrics(text).Code == 0, text);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
