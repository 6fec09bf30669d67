using System.Globalization;
using MapsExporter.Core.Scanning;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// Maps each scan's snapshot onto the families of <see cref="MetricFamilies"/>, in a registry of its own (no runtime
/// families, no exemplars). One lock is held while a snapshot is applied and rendered, because a registry collects
/// family by family: without it a scrape during an update would mix two scans. The text is rendered once per scan
/// and scrapes serve those bytes: they only read, never scan, and never wait for the lock.
/// </summary>
internal sealed class MetricsPublisher : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IReadOnlyList<MetricFamily> _families = MetricFamilies.Create();
    private readonly ScrapeRenderer _renderer = new();
    private RenderedScrape? _rendered;

    public MetricsPublisher()
    {
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        foreach (MetricFamily family in _families)
        {
            family.Register(factory);
        }
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>The last scan's exposition and its gzip copy, or null before the first scan.</summary>
    public RenderedScrape? Rendered => Volatile.Read(ref _rendered);

    /// <summary>
    /// Shows <paramref name="snapshot"/>; <paramref name="hostCpus"/> is read by the caller (from sysfs), so that no
    /// file is read under the lock.
    /// </summary>
    public void Publish(ScanSnapshot snapshot, int hostCpus)
    {
        _gate.Wait();
        try
        {
            foreach (ProcessSample sample in snapshot.Processes)
            {
                string pid = sample.Pid.ToString(CultureInfo.InvariantCulture);
                foreach (MetricFamily family in _families)
                {
                    family.SetProcess(sample, pid);
                }
            }

            var figures = new ScanFigures(snapshot, hostCpus, SelfFigures.Read());
            foreach (MetricFamily family in _families)
            {
                family.Finish(figures);
            }

            // Rendered once per scan: every scrape until the next one serves these bytes, without the lock.
            Volatile.Write(ref _rendered, _renderer.Render(Registry));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The text exposition format (0.0.4) of every family, all from one snapshot.</summary>
    public async Task WriteAsync(Stream output, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _rendered) is { } rendered)
        {
            await output.WriteAsync(rendered.Text, cancellationToken);
            return;
        }

        // Before the first scan: every family, with no process series yet (the unlabelled ones at 0), rendered now.
        using var buffer = new MemoryStream();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await Registry.CollectAndExportAsTextAsync(buffer, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(output, cancellationToken);
    }

    public void Dispose()
    {
        _gate.Dispose();
        _renderer.Dispose();
    }
}
