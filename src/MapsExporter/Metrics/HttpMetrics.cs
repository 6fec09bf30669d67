using Prometheus;
using Prometheus.HttpMetrics;

namespace MapsExporter.Metrics;

/// <summary>
/// The exporter's own HTTP metrics, as Go exporters publish promhttp_*: prometheus-net.AspNetCore's middleware
/// counting into a registry of its own, rendered live at each scrape after the scan's families. Labels are the route
/// template (<c>endpoint</c>: "/metrics", "/"; empty when no route matched, so a scanner's random paths are one
/// series) and the status code; never the raw path or the method, which a client chooses.
/// </summary>
internal sealed class HttpMetrics
{
    private static readonly string[] Labels = [HttpRequestLabelNames.Code, HttpRequestLabelNames.Endpoint];

    public HttpMetrics()
    {
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        Requests = factory.CreateCounter("mapsexporter_http_requests_total", "HTTP requests the exporter answered, by route template (empty when no route matched) and status code", Labels);
        Duration = factory.CreateHistogram("mapsexporter_http_request_duration_seconds", "Time from the start of an HTTP request to the end of its response, by route template and status code, in seconds", Labels, new HistogramConfiguration
        {
            Buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        });
        InProgress = factory.CreateGauge("mapsexporter_http_requests_in_progress", "HTTP requests being answered now, by route template", [HttpRequestLabelNames.Endpoint]);
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public Counter Requests { get; }

    public Histogram Duration { get; }

    public Gauge InProgress { get; }

    public void Configure(HttpMiddlewareExporterOptions options)
    {
        options.CaptureMetricsUrl = true; // /metrics is the exporter's main route: count it
        options.RequestCount.Counter = Requests;
        options.RequestDuration.Histogram = Duration;
        options.InProgress.Gauge = InProgress;
    }

    /// <summary>The families as exposition text, now.</summary>
    public async Task<byte[]> RenderAsync(CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}
