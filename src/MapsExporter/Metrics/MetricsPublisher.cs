using MapsExporter.Core;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// Maps each scan's snapshot onto gauges in a registry of its own (no runtime families, no exemplars). One lock
/// is held while a snapshot is applied and while a scrape collects, because a registry collects family by
/// family: without it a scrape during an update mixes two scans. Scrapes only read; they never scan.
/// </summary>
internal sealed class MetricsPublisher : IDisposable
{
    private const string FromLastScan = "; from the last scan.";
    private static readonly string[] ProcessLabels = ["pid", "app"];
    private static readonly string[] CategoryLabels = ["pid", "app", "category"];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly LabelledSeries _resident, _virtual, _proportional, _swap, _regions;
    private readonly LabelledSeries _arenas, _stacks, _threads, _mappings, _startTime, _info;
    private readonly Gauge _maxMapCount, _duration, _timestamp, _success, _scanned;
    private readonly Counter _errors;

    public MetricsPublisher()
    {
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        _resident = PerCategory(factory, "mapsexporter_region_resident_bytes", "Resident memory (Rss) of the process's regions of this category, in bytes");
        _virtual = PerCategory(factory, "mapsexporter_region_virtual_bytes", "Virtual size of the process's regions of this category, reserved or committed, in bytes");
        _proportional = PerCategory(factory, "mapsexporter_region_proportional_bytes", "Proportional set size (Pss: shared pages divided among their users) of the process's regions of this category, in bytes");
        _swap = PerCategory(factory, "mapsexporter_region_swap_bytes", "Swapped-out memory of the process's regions of this category, in bytes");
        _regions = PerCategory(factory, "mapsexporter_regions", "Number of memory mappings (VMAs) of the process classified in this category");
        _arenas = PerProcess(factory, "mapsexporter_libc_arenas", "Number of glibc malloc arenas of the process, the main arena included");
        _stacks = PerProcess(factory, "mapsexporter_thread_stacks", "Number of thread stacks mapped by the process");
        _threads = PerProcess(factory, "mapsexporter_threads", "Number of threads of the process (entries of /proc/PID/task)");
        _mappings = PerProcess(factory, "mapsexporter_mappings", "Number of memory mappings (VMAs) of the process, to compare with mapsexporter_max_mappings");
        _startTime = PerProcess(factory, "mapsexporter_process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds");
        _info = new LabelledSeries(factory.CreateGauge(
            "mapsexporter_process_info",
            "Always 1: a reported process, with its Java version (none for a native process, unknown when no release file was found)" + FromLastScan,
            ["pid", "app", "jvm_version"]));
        _maxMapCount = factory.CreateGauge("mapsexporter_max_mappings", "The kernel's limit on mappings per process (vm.max_map_count)" + FromLastScan);
        _duration = factory.CreateGauge("mapsexporter_scan_duration_seconds", "How long the last scan took, in seconds.");
        _timestamp = factory.CreateGauge("mapsexporter_last_scan_timestamp_seconds", "When the last scan finished, since the Unix epoch, in seconds.");
        _success = factory.CreateGauge("mapsexporter_last_scan_success", "1 if the last scan could read procfs, else 0 (a process that could not be read does not fail the scan).");
        _scanned = factory.CreateGauge("mapsexporter_scanned_processes", "Number of processes reported" + FromLastScan);
        _errors = factory.CreateCounter("mapsexporter_scan_errors_total", "Processes that scans could not read, by reason (vanished, permission, parse, io).", ["reason"]);
        foreach (ReadFailure reason in Enum.GetValues<ReadFailure>())
        {
            _errors.WithLabels(ProcessReadException.LabelOf(reason));
        }
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>The snapshot the gauges show now.</summary>
    public ScanSnapshot? Latest { get; private set; }

    public void Publish(ScanSnapshot snapshot)
    {
        _gate.Wait();
        try
        {
            foreach (ProcessSample sample in snapshot.Processes)
            {
                SetProcess(sample);
            }

            foreach (LabelledSeries series in new[] { _resident, _virtual, _proportional, _swap, _regions, _arenas, _stacks, _threads, _mappings, _startTime, _info })
            {
                series.Commit();
            }

            foreach (ScanError error in snapshot.Errors)
            {
                _errors.WithLabels(ProcessReadException.LabelOf(error.Reason)).Inc();
            }

            if (snapshot.MaxMapCount is { } max)
            {
                _maxMapCount.Set(max);
            }
            else
            {
                _maxMapCount.Unpublish();
            }

            _duration.Set(snapshot.Duration.TotalSeconds);
            _timestamp.Set(snapshot.Timestamp.ToUnixTimeMilliseconds() / 1000.0);
            _success.Set(snapshot.Success ? 1 : 0);
            _scanned.Set(snapshot.Processes.Count);
            Latest = snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The text exposition format (0.0.4) of every family, all from one snapshot.</summary>
    public async Task WriteAsync(Stream output, CancellationToken cancellationToken)
    {
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

    private void SetProcess(ProcessSample sample)
    {
        MemoryReport report = sample.Report;
        string pid = sample.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (RegionCategory category in RegionCategories.All)
        {
            CategoryTotals totals = report[category];
            string id = category.Id();
            _virtual.Set(totals.VirtualBytes, pid, report.App, id);
            _regions.Set(totals.Regions, pid, report.App, id);
            // Maps only (smaps unreadable): resident sizes are unknown, and a zero would be a lie.
            if (report.ResidentKnown)
            {
                _resident.Set(totals.ResidentBytes ?? 0, pid, report.App, id);
                _proportional.Set(totals.ProportionalBytes ?? 0, pid, report.App, id);
                _swap.Set(totals.SwapBytes ?? 0, pid, report.App, id);
            }
        }

        _arenas.Set(report.LibcArenas, pid, report.App);
        _stacks.Set(report.ThreadStacks, pid, report.App);
        _threads.Set(report.Threads ?? 0, pid, report.App);
        _mappings.Set(report.Mappings, pid, report.App);
        _startTime.Set(sample.StartTimeSeconds, pid, report.App);
        _info.Set(1, pid, report.App, sample.JvmVersion ?? "none");
    }

    private static LabelledSeries PerCategory(MetricFactory factory, string name, string help) =>
        new(factory.CreateGauge(name, help + FromLastScan, CategoryLabels));

    private static LabelledSeries PerProcess(MetricFactory factory, string name, string help) =>
        new(factory.CreateGauge(name, help + FromLastScan, ProcessLabels));

    public void Dispose() => _gate.Dispose();
}
