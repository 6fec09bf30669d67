using System.Diagnostics;
using System.Text.Json;
using MapsExporter.Tests.Daemon;

namespace MapsExporter.Tests.Deploy;

/// <summary>A real Prometheus server (Debian's package) on 127.0.0.1, scraping one target every second as job mapsexporter.</summary>
public sealed class PrometheusServer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private PrometheusServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Http { get; }

    public static PrometheusServer Start(string target)
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-deploy-prometheus-").FullName;
        int port = Ports.Free();
        string config = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: mapsexporter
                static_configs:
                  - targets: ['{target}']
            """);
        Process process = AotBinary.Launch(["prometheus", $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}"]);
        return new PrometheusServer(process, dir, port);
    }

    /// <summary>An instant query: (error or null, the result's series as their label sets).</summary>
    public async Task<(string? Error, List<Dictionary<string, string>> Series)> QueryAsync(string promql)
    {
        try
        {
            using HttpResponseMessage response = await Http.GetAsync(new Uri($"/api/v1/query?query={Uri.EscapeDataString(promql)}", UriKind.Relative));
            using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (doc.RootElement.GetProperty("status").GetString() != "success")
            {
                return (doc.RootElement.GetProperty("error").GetString(), []);
            }

            JsonElement data = doc.RootElement.GetProperty("data");
            if (data.GetProperty("resultType").GetString() is "scalar" or "string")
            {
                return (null, [new Dictionary<string, string>()]);
            }

            return (null, data.GetProperty("result").EnumerateArray()
                .Select(r => r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""))
                .ToList());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return ($"not answering: {e.Message}", []); // not listening yet
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
