using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Metrics;

/// <summary>
/// Every family the exporter publishes, declared once: name, HELP, labels and where the values come from. The
/// publisher registers them in this order, which is the order of the exposition (prometheus-net renders families
/// in registration order), and removes an exited process's series from every <see cref="ProcessGauge"/> here.
/// </summary>
internal static class MetricFamilies
{
    private const string FromLastScan = "; from the last scan.";
    private const string AtLastScan = "; as of the end of the last scan.";

    /// <summary>New, unregistered declarations of every family (each publisher registers its own).</summary>
    public static IReadOnlyList<MetricFamily> Create() =>
    [
        // Maps only (smaps unreadable): resident sizes are unknown, and a zero would be a lie.
        PerCategory("mapsexporter_region_resident_bytes", "Resident memory (Rss) of the process's regions of this category, in bytes", t => t.ResidentBytes, residentOnly: true),
        PerCategory("mapsexporter_region_virtual_bytes", "Virtual size of the process's regions of this category, reserved or committed, in bytes", t => t.VirtualBytes, residentOnly: false),
        PerCategory("mapsexporter_region_proportional_bytes", "Proportional set size (Pss: shared pages divided among their users) of the process's regions of this category, in bytes", t => t.ProportionalBytes, residentOnly: true),
        PerCategory("mapsexporter_region_swap_bytes", "Swapped-out memory of the process's regions of this category, in bytes", t => t.SwapBytes, residentOnly: true),
        PerCategory("mapsexporter_regions", "Number of memory mappings (VMAs) of the process classified in this category", t => t.Regions, residentOnly: false),
        PerProcess("mapsexporter_libc_arenas", "Number of glibc malloc arenas of the process besides the main arena ([heap]); glibc's limit is 8 per core with the main one unless MALLOC_ARENA_MAX is set", (p, s) => s.Set(p.Report.LibcArenas)),
        PerProcess("mapsexporter_libc_arena_heaps", "Number of 64 MiB heaps the process's glibc arenas consist of (an arena grows by adding heaps)", (p, s) => s.Set(p.Report.LibcArenaHeaps)),
        PerProcess("mapsexporter_libc_arena_largest_resident_bytes", "Resident memory of the process's largest glibc arena, in bytes (only when arenas were read from their heap headers)", (p, s) =>
        {
            if (p.Report.Arenas.Count > 0 && p.Report.ResidentKnown)
            {
                s.Set(p.Report.Arenas.Max(a => a.ResidentBytes));
            }
        }),
        PerProcess("mapsexporter_malloc_mmap_chunks", "Number of large allocations glibc mmapped on their own (direct ByteBuffers, big native buffers), found from their chunk headers", (p, s) => s.Set(p.Report.MallocMmapChunks)),
        PerProcess("mapsexporter_thread_stack_resident_bytes", $"Resident memory of the stacks of the process's threads by thread name, digits folded (GC Thread#N, worker-N), at most {ThreadStackLocator.MaxThreadGroups} groups per process (the rest as other), in bytes; only when the threads' stack pointers could be read", "thread_group", (p, s) =>
        {
            if (p.Report.ResidentKnown)
            {
                foreach (var (group, stacks) in p.Report.ThreadGroups)
                {
                    s.Set(group, stacks.ResidentBytes);
                }
            }
        }),
        PerProcess("mapsexporter_java_heap_max_bytes", "The JVM's maximum heap size (reserved), from its hsperfdata, in bytes", (p, s) => s.SetIfKnown(p.Report.Jvm?.HeapMaxBytes)),
        PerProcess("mapsexporter_java_heap_committed_bytes", "The JVM's committed heap, from its hsperfdata, in bytes", (p, s) => s.SetIfKnown(p.Report.Jvm?.HeapCommittedBytes)),
        PerProcess("mapsexporter_java_heap_used_bytes", "The JVM's used heap, from its hsperfdata (updated by the JVM at its sampling interval), in bytes", (p, s) => s.SetIfKnown(p.Report.Jvm?.HeapUsedBytes)),
        new EventCounter(
            "mapsexporter_classification_fallbacks_total",
            "Process reads in which an exact method could not be used and layout rules decided instead, by method (heap_info and chunk_header need CAP_SYS_PTRACE, stack_pointer counts threads shown running, hsperfdata a JVM without a mapped hsperfdata file).",
            "method",
            [DecisionMethod.HeapInfo.Id(), DecisionMethod.ChunkHeader.Id(), DecisionMethod.StackPointer.Id(), DecisionMethod.HsPerfData.Id()],
            scan => scan.Snapshot.Processes.SelectMany(p => p.Report.Fallbacks).Select(method => method.Id())),
        PerProcess("mapsexporter_thread_stacks", "Number of thread stacks mapped by the process", (p, s) => s.Set(p.Report.ThreadStacks)),
        PerProcess("mapsexporter_threads", "Number of threads of the process (entries of /proc/PID/task)", (p, s) => s.Set(p.Report.Threads ?? 0)),
        PerProcess("mapsexporter_mappings", "Number of memory mappings (VMAs) of the process, to compare with mapsexporter_max_mappings", (p, s) => s.Set(p.Report.Mappings)),
        PerProcess("mapsexporter_process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds", (p, s) => s.Set(p.StartTimeSeconds)),
        new ProcessGauge("mapsexporter_process_info", "Always 1: a reported process, with its Java version (none for a native process, unknown when no release file was found) and its malloc (glibc, jemalloc, tcmalloc, mimalloc, musl, other: told from the libraries mapped and glibc's main arena)" + FromLastScan, ["jvm_version", "allocator"], (p, s) => s.Set(p.JvmVersion ?? "none", p.Report.Allocator.Id(), 1)),
        PerProcess("mapsexporter_process_scan_duration_seconds", "How long reading and classifying the process took in the last scan (smaps or smaps_rollup reads stall the process's memory-map changes meanwhile), in seconds", (p, s) => s.Set(p.ReadDuration.TotalSeconds)),
        PerProcess("mapsexporter_process_scan_mode", "Always 1: how the last scan read the process: smaps, rollup (maps + smaps_rollup, above --scan.rollup-above-bytes), maps_cached (maps; resident figures from the last smaps or rollup read, see mapsexporter_process_resident_timestamp_seconds), maps (no resident figures)", "mode", (p, s) => s.Set(p.Mode.Id(), 1)),
        PerProcess("mapsexporter_process_resident_bytes", "Resident memory (Rss) of the whole process, from smaps or smaps_rollup, in bytes", (p, s) => s.SetIfKnown(p.Totals?.ResidentBytes)),
        PerProcess("mapsexporter_process_proportional_bytes", "Proportional set size (Pss) of the whole process, from smaps or smaps_rollup, in bytes", (p, s) => s.SetIfKnown(p.Totals?.ProportionalBytes)),
        PerProcess("mapsexporter_process_swap_bytes", "Swapped-out memory of the whole process, from smaps or smaps_rollup, in bytes", (p, s) => s.SetIfKnown(p.Totals?.SwapBytes)),
        PerProcess("mapsexporter_process_resident_timestamp_seconds", "When the process's resident, proportional and swap figures were read (smaps or smaps_rollup), since the Unix epoch, in seconds", (p, s) => s.SetIfKnown(p.ResidentReadAt?.ToUnixTimeMilliseconds() / 1000.0)),
        new ScanGauge("mapsexporter_max_mappings", "The kernel's limit on mappings per process (vm.max_map_count)" + FromLastScan, scan => scan.Snapshot.MaxMapCount),
        new ScanGauge("mapsexporter_host_cpus", "The host's online CPUs (/sys/devices/system/cpu/online): glibc's default arena limit is 8 per CPU, main arena included, unless MALLOC_ARENA_MAX is set" + FromLastScan, scan => scan.HostCpus),
        new ScanGauge("mapsexporter_scan_duration_seconds", "How long the last scan took, in seconds.", scan => scan.Snapshot.Duration.TotalSeconds),
        new ScanGauge("mapsexporter_last_scan_timestamp_seconds", "When the last scan finished, since the Unix epoch, in seconds.", scan => scan.Snapshot.Timestamp.ToUnixTimeMilliseconds() / 1000.0),
        new ScanGauge("mapsexporter_last_scan_success", "1 if the last scan could read procfs, else 0 (a process that could not be read does not fail the scan).", scan => scan.Snapshot.Success ? 1 : 0),
        new ScanGauge("mapsexporter_scanned_processes", "Number of processes reported" + FromLastScan, scan => scan.Snapshot.Processes.Count),
        new EventCounter(
            "mapsexporter_scan_errors_total",
            "Processes that scans could not read, by reason (vanished, permission, parse, io).",
            "reason",
            Enum.GetValues<ReadFailure>().Select(ProcessReadException.LabelOf).ToArray(),
            scan => scan.Snapshot.Errors.Select(error => ProcessReadException.LabelOf(error.Reason))),

        // The exporter's own cost, so a footprint budget can be watched like any other series (no process_ prefix:
        // every other family here describes the processes scanned, not this one).
        new ScanGauge("mapsexporter_self_resident_bytes", "Resident memory (working set) of the exporter itself, in bytes" + AtLastScan, scan => scan.Self.ResidentBytes),
        new ScanTotal("mapsexporter_self_cpu_seconds_total", "CPU time (user and system) the exporter itself has used since it started, in seconds" + AtLastScan, scan => scan.Self.CpuSeconds),
        new ScanGauge("mapsexporter_self_gc_heap_bytes", "Size of the exporter's managed heap after its last garbage collection, fragmentation included, in bytes" + AtLastScan, scan => scan.Self.GcHeapBytes),
        new ScanGauge("mapsexporter_self_gc_committed_bytes", "Memory the exporter's garbage collector had committed at its last collection, in bytes" + AtLastScan, scan => scan.Self.GcCommittedBytes),
        new ScanTotal("mapsexporter_self_allocated_bytes_total", "Bytes the exporter has allocated on its managed heap since it started" + AtLastScan, scan => scan.Self.AllocatedBytes),
    ];

    private static ProcessGauge PerProcess(string name, string help, Action<ProcessSample, ProcessSeries> values) =>
        new(name, help + FromLastScan, [], values);

    private static ProcessGauge PerProcess(string name, string help, string label, Action<ProcessSample, ProcessSeries> values) =>
        new(name, help + FromLastScan, [label], values);

    /// <summary>A series per category of each process; <paramref name="residentOnly"/>: only when smaps (or its rollup) was read.</summary>
    private static ProcessGauge PerCategory(string name, string help, Func<CategoryTotals, long?> value, bool residentOnly) =>
        PerProcess(name, help, "category", (p, s) =>
        {
            if (residentOnly && !p.Report.ResidentKnown)
            {
                return;
            }

            foreach (RegionCategory category in RegionCategories.All)
            {
                s.Set(category.Id(), value(p.Report[category]) ?? 0);
            }
        });
}
