using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// Maps each scan's snapshot onto gauges in a registry of its own (no runtime families, no exemplars). One lock
/// is held while a snapshot is applied and rendered, because a registry collects family by family: without it a
/// scrape during an update would mix two scans. The text is rendered once per scan and scrapes serve those bytes:
/// they only read, never scan, and never wait for the lock.
/// </summary>
internal sealed class MetricsPublisher : IDisposable
{
    private const string FromLastScan = "; from the last scan.";
    private static readonly string[] ProcessLabels = ["pid", "app"];
    private static readonly string[] CategoryLabels = ["pid", "app", "category"];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RenderedScrape? _rendered;
    private readonly LabelledSeries _resident, _virtual, _proportional, _swap, _regions;
    private readonly LabelledSeries _arenas, _stacks, _threads, _mappings, _startTime, _info;
    private readonly LabelledSeries _arenaHeaps, _largestArena, _groupStacks, _mallocMmapChunks, _heapMax, _heapCommitted, _heapUsed;
    private readonly LabelledSeries _readDuration, _readMode, _residentTotal, _proportionalTotal, _swapTotal, _residentReadAt;
    private readonly Counter _fallbacks;
    private readonly Gauge _maxMapCount, _duration, _timestamp, _success, _scanned, _hostCpus;
    private readonly Counter _errors;
    private readonly Gauge _selfResident, _selfGcHeap, _selfGcCommitted;
    private readonly Counter _selfCpu, _selfAllocated;

    // Kept across scans: the exposition is a few hundred KB, and a new stream per scan grows through the large
    // object heap, which only a full collection frees.
    private readonly MemoryStream _textBuffer = new();
    private readonly MemoryStream _gzipBuffer = new();

    public MetricsPublisher()
    {
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        _resident = PerCategory(factory, "mapsexporter_region_resident_bytes", "Resident memory (Rss) of the process's regions of this category, in bytes");
        _virtual = PerCategory(factory, "mapsexporter_region_virtual_bytes", "Virtual size of the process's regions of this category, reserved or committed, in bytes");
        _proportional = PerCategory(factory, "mapsexporter_region_proportional_bytes", "Proportional set size (Pss: shared pages divided among their users) of the process's regions of this category, in bytes");
        _swap = PerCategory(factory, "mapsexporter_region_swap_bytes", "Swapped-out memory of the process's regions of this category, in bytes");
        _regions = PerCategory(factory, "mapsexporter_regions", "Number of memory mappings (VMAs) of the process classified in this category");
        _arenas = PerProcess(factory, "mapsexporter_libc_arenas", "Number of glibc malloc arenas of the process besides the main arena ([heap]); glibc's limit is 8 per core with the main one unless MALLOC_ARENA_MAX is set");
        _arenaHeaps = PerProcess(factory, "mapsexporter_libc_arena_heaps", "Number of 64 MiB heaps the process's glibc arenas consist of (an arena grows by adding heaps)");
        _largestArena = PerProcess(factory, "mapsexporter_libc_arena_largest_resident_bytes", "Resident memory of the process's largest glibc arena, in bytes (only when arenas were read from their heap headers)");
        _mallocMmapChunks = PerProcess(factory, "mapsexporter_malloc_mmap_chunks", "Number of large allocations glibc mmapped on their own (direct ByteBuffers, big native buffers), found from their chunk headers");
        _groupStacks = new LabelledSeries(factory.CreateGauge(
            "mapsexporter_thread_stack_resident_bytes",
            $"Resident memory of the stacks of the process's threads by thread name, digits folded (GC Thread#N, worker-N), at most {ThreadStackLocator.MaxThreadGroups} groups per process (the rest as other), in bytes; only when the threads' stack pointers could be read" + FromLastScan,
            ["pid", "app", "thread_group"]));
        _heapMax = PerProcess(factory, "mapsexporter_java_heap_max_bytes", "The JVM's maximum heap size (reserved), from its hsperfdata, in bytes");
        _heapCommitted = PerProcess(factory, "mapsexporter_java_heap_committed_bytes", "The JVM's committed heap, from its hsperfdata, in bytes");
        _heapUsed = PerProcess(factory, "mapsexporter_java_heap_used_bytes", "The JVM's used heap, from its hsperfdata (updated by the JVM at its sampling interval), in bytes");
        _fallbacks = factory.CreateCounter(
            "mapsexporter_classification_fallbacks_total",
            "Process reads in which an exact method could not be used and layout rules decided instead, by method (heap_info and chunk_header need CAP_SYS_PTRACE, stack_pointer counts threads shown running, hsperfdata a JVM without a mapped hsperfdata file).",
            ["method"]);
        foreach (DecisionMethod method in new[] { DecisionMethod.HeapInfo, DecisionMethod.ChunkHeader, DecisionMethod.StackPointer, DecisionMethod.HsPerfData })
        {
            _fallbacks.WithLabels(method.Id());
        }

        _stacks = PerProcess(factory, "mapsexporter_thread_stacks", "Number of thread stacks mapped by the process");
        _threads = PerProcess(factory, "mapsexporter_threads", "Number of threads of the process (entries of /proc/PID/task)");
        _mappings = PerProcess(factory, "mapsexporter_mappings", "Number of memory mappings (VMAs) of the process, to compare with mapsexporter_max_mappings");
        _startTime = PerProcess(factory, "mapsexporter_process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds");
        _info = new LabelledSeries(factory.CreateGauge(
            "mapsexporter_process_info",
            "Always 1: a reported process, with its Java version (none for a native process, unknown when no release file was found)" + FromLastScan,
            ["pid", "app", "jvm_version"]));
        _readDuration = PerProcess(factory, "mapsexporter_process_scan_duration_seconds", "How long reading and classifying the process took in the last scan (smaps or smaps_rollup reads stall the process's memory-map changes meanwhile), in seconds");
        _readMode = new LabelledSeries(factory.CreateGauge(
            "mapsexporter_process_scan_mode",
            "Always 1: how the last scan read the process: smaps, rollup (maps + smaps_rollup, above --scan.rollup-above-bytes), maps_cached (maps; resident figures from the last smaps or rollup read, see mapsexporter_process_resident_timestamp_seconds), maps (no resident figures)" + FromLastScan,
            ["pid", "app", "mode"]));
        _residentTotal = PerProcess(factory, "mapsexporter_process_resident_bytes", "Resident memory (Rss) of the whole process, from smaps or smaps_rollup, in bytes");
        _proportionalTotal = PerProcess(factory, "mapsexporter_process_proportional_bytes", "Proportional set size (Pss) of the whole process, from smaps or smaps_rollup, in bytes");
        _swapTotal = PerProcess(factory, "mapsexporter_process_swap_bytes", "Swapped-out memory of the whole process, from smaps or smaps_rollup, in bytes");
        _residentReadAt = PerProcess(factory, "mapsexporter_process_resident_timestamp_seconds", "When the process's resident, proportional and swap figures were read (smaps or smaps_rollup), since the Unix epoch, in seconds");
        _maxMapCount = factory.CreateGauge("mapsexporter_max_mappings", "The kernel's limit on mappings per process (vm.max_map_count)" + FromLastScan);
        _hostCpus = factory.CreateGauge("mapsexporter_host_cpus", "The host's online CPUs (/sys/devices/system/cpu/online): glibc's default arena limit is 8 per CPU, main arena included, unless MALLOC_ARENA_MAX is set" + FromLastScan);
        _duration = factory.CreateGauge("mapsexporter_scan_duration_seconds", "How long the last scan took, in seconds.");
        _timestamp = factory.CreateGauge("mapsexporter_last_scan_timestamp_seconds", "When the last scan finished, since the Unix epoch, in seconds.");
        _success = factory.CreateGauge("mapsexporter_last_scan_success", "1 if the last scan could read procfs, else 0 (a process that could not be read does not fail the scan).");
        _scanned = factory.CreateGauge("mapsexporter_scanned_processes", "Number of processes reported" + FromLastScan);
        _errors = factory.CreateCounter("mapsexporter_scan_errors_total", "Processes that scans could not read, by reason (vanished, permission, parse, io).", ["reason"]);
        foreach (ReadFailure reason in Enum.GetValues<ReadFailure>())
        {
            _errors.WithLabels(ProcessReadException.LabelOf(reason));
        }

        // The exporter's own cost, so a footprint budget can be watched like any other series (no process_ prefix:
        // every other family here describes the processes scanned, not this one).
        _selfResident = factory.CreateGauge("mapsexporter_self_resident_bytes", "Resident memory (working set) of the exporter itself, in bytes" + AtLastScan);
        _selfCpu = factory.CreateCounter("mapsexporter_self_cpu_seconds_total", "CPU time (user and system) the exporter itself has used since it started, in seconds" + AtLastScan);
        _selfGcHeap = factory.CreateGauge("mapsexporter_self_gc_heap_bytes", "Size of the exporter's managed heap after its last garbage collection, fragmentation included, in bytes" + AtLastScan);
        _selfGcCommitted = factory.CreateGauge("mapsexporter_self_gc_committed_bytes", "Memory the exporter's garbage collector had committed at its last collection, in bytes" + AtLastScan);
        _selfAllocated = factory.CreateCounter("mapsexporter_self_allocated_bytes_total", "Bytes the exporter has allocated on its managed heap since it started" + AtLastScan);
    }

    private const string AtLastScan = "; as of the end of the last scan.";

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>The last scan's exposition and its gzip copy, or null before the first scan.</summary>
    public RenderedScrape? Rendered => Volatile.Read(ref _rendered);

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

            foreach (LabelledSeries series in new[]
            {
                _resident, _virtual, _proportional, _swap, _regions, _arenas, _stacks, _threads, _mappings, _startTime, _info,
                _arenaHeaps, _largestArena, _groupStacks, _mallocMmapChunks, _heapMax, _heapCommitted, _heapUsed,
                _readDuration, _readMode, _residentTotal, _proportionalTotal, _swapTotal, _residentReadAt,
            })
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

            _hostCpus.Set(HostCpus.Read());
            _duration.Set(snapshot.Duration.TotalSeconds);
            _timestamp.Set(snapshot.Timestamp.ToUnixTimeMilliseconds() / 1000.0);
            _success.Set(snapshot.Success ? 1 : 0);
            _scanned.Set(snapshot.Processes.Count);
            SetSelf();
            Latest = snapshot;

            // Rendered once per scan: every scrape until the next one serves these bytes, without the lock.
            _textBuffer.SetLength(0);
            Registry.CollectAndExportAsTextAsync(_textBuffer).GetAwaiter().GetResult();
            byte[] rendered = _textBuffer.ToArray();
            _gzipBuffer.SetLength(0);
            using (var gzip = new System.IO.Compression.GZipStream(_gzipBuffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(rendered);
            }

            Volatile.Write(ref _rendered, new RenderedScrape(rendered, _gzipBuffer.ToArray()));
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

        // Before the first scan: only the self families, rendered now.
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

    private void SetSelf()
    {
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        _selfResident.Set(Environment.WorkingSet);
        _selfCpu.IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
        _selfGcHeap.Set(gc.HeapSizeBytes);
        _selfGcCommitted.Set(gc.TotalCommittedBytes);
        _selfAllocated.IncTo(GC.GetTotalAllocatedBytes());
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
        _arenaHeaps.Set(report.LibcArenaHeaps, pid, report.App);
        _mallocMmapChunks.Set(report.MallocMmapChunks, pid, report.App);
        if (report.Arenas.Count > 0 && report.ResidentKnown)
        {
            _largestArena.Set(report.Arenas.Max(a => a.ResidentBytes), pid, report.App);
        }

        if (report.ResidentKnown)
        {
            foreach (var (group, stacks) in report.ThreadGroups)
            {
                _groupStacks.Set(stacks.ResidentBytes, pid, report.App, group);
            }
        }

        if (report.Jvm is { } jvm)
        {
            SetIfKnown(_heapMax, jvm.HeapMaxBytes, pid, report.App);
            SetIfKnown(_heapCommitted, jvm.HeapCommittedBytes, pid, report.App);
            SetIfKnown(_heapUsed, jvm.HeapUsedBytes, pid, report.App);
        }

        SetReadCost(sample, pid);
        foreach (DecisionMethod method in report.Fallbacks)
        {
            _fallbacks.WithLabels(method.Id()).Inc();
        }
    }

    private void SetReadCost(ProcessSample sample, string pid)
    {
        string app = sample.Report.App;
        _readDuration.Set(sample.ReadDuration.TotalSeconds, pid, app);
        _readMode.Set(1, pid, app, sample.Mode.Id());
        if (sample.Totals is { } totals)
        {
            _residentTotal.Set(totals.ResidentBytes, pid, app);
            _proportionalTotal.Set(totals.ProportionalBytes, pid, app);
            _swapTotal.Set(totals.SwapBytes, pid, app);
        }

        if (sample.ResidentReadAt is { } at)
        {
            _residentReadAt.Set(at.ToUnixTimeMilliseconds() / 1000.0, pid, app);
        }
    }

    private static void SetIfKnown(LabelledSeries series, long? value, string pid, string app)
    {
        if (value is { } v)
        {
            series.Set(v, pid, app);
        }
    }

    private static LabelledSeries PerCategory(MetricFactory factory, string name, string help) =>
        new(factory.CreateGauge(name, help + FromLastScan, CategoryLabels));

    private static LabelledSeries PerProcess(MetricFactory factory, string name, string help) =>
        new(factory.CreateGauge(name, help + FromLastScan, ProcessLabels));

    public void Dispose()
    {
        _gate.Dispose();
        _textBuffer.Dispose();
        _gzipBuffer.Dispose();
    }
}

/// <summary>One scan's exposition text, and a gzip copy for scrapers that accept it (Prometheus does).</summary>
internal sealed record RenderedScrape(byte[] Text, byte[] Gzip);
