using MapsExporter.Core.Cgroups;
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
            if (p.Report.Arenas.Any(a => !a.Main) && p.Report.ResidentKnown)
            {
                s.Set(p.Report.Arenas.Where(a => !a.Main).Max(a => a.ResidentBytes));
            }
        }),
        // glibc's own bookkeeping read from outside (absent where an arena could not be read: see the malloc_state fallbacks).
        PerProcess("mapsexporter_malloc_system_bytes", "Memory glibc malloc's arenas, the main one included, hold from the system (malloc_stats' system bytes), in bytes", (p, s) => s.SetIfKnown(p.Report.Malloc?.SystemBytes)),
        PerProcess("mapsexporter_malloc_in_use_bytes", "Bytes of the process's glibc arenas in allocated chunks, headers and tcache included (malloc_stats' in use bytes), in bytes", (p, s) => s.SetIfKnown(p.Report.Malloc?.InUseBytes)),
        PerProcess("mapsexporter_malloc_free_bytes", "Bytes of the process's glibc arenas in free chunks: top, fastbins, unsorted and regular bins (malloc_info's fast and rest), in bytes", (p, s) => s.SetIfKnown(p.Report.Malloc?.FreeBytes)),
        PerProcess("mapsexporter_malloc_releasable_bytes", "Resident bytes malloc_trim(0) would give back to the system: whole free pages inside free chunks and the main arena's top, in bytes", (p, s) => s.SetIfKnown(p.Report.Malloc?.ReleasableBytes)),
        PerProcess("mapsexporter_malloc_mmapped_bytes", "Bytes of the allocations glibc malloc mmapped on their own, outside the arenas (mp_.mmapped_mem), in bytes", (p, s) => s.SetIfKnown(p.Report.Malloc?.MmappedBytes)),
        PerProcess("mapsexporter_malloc_largest_arena_free_bytes", "Free bytes of the process's glibc arena with the most free bytes, the main one included, in bytes", (p, s) =>
        {
            if (p.Report.Malloc?.FreeBytes is not null)
            {
                s.SetIfKnown(p.Report.Arenas.Max(a => a.FreeBytes));
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
            "Process reads in which an exact method could not be used and layout rules decided instead, by method (heap_info and chunk_header need CAP_SYS_PTRACE, stack_pointer counts threads shown running, hsperfdata a JVM without a mapped hsperfdata file, malloc_state arenas whose free lists could not be read consistently).",
            "method",
            [DecisionMethod.HeapInfo.Id(), DecisionMethod.ChunkHeader.Id(), DecisionMethod.StackPointer.Id(), DecisionMethod.HsPerfData.Id(), DecisionMethod.MallocState.Id()],
            scan => scan.Snapshot.Processes.SelectMany(p => p.Report.Fallbacks).Select(method => method.Id())),
        PerProcess("mapsexporter_thread_stacks", "Number of thread stacks mapped by the process", (p, s) => s.Set(p.Report.ThreadStacks)),
        PerProcess("mapsexporter_threads", "Number of threads of the process (entries of /proc/PID/task)", (p, s) => s.Set(p.Report.Threads ?? 0)),
        PerProcess("mapsexporter_mappings", "Number of memory mappings (VMAs) of the process, to compare with mapsexporter_max_mappings", (p, s) => s.Set(p.Report.Mappings)),
        PerProcess("mapsexporter_process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds", (p, s) => s.Set(p.StartTimeSeconds)),
        new ProcessGauge("mapsexporter_process_info", "Always 1: a reported process, with its Java version (none for a native process, unknown when no release file was found) and its malloc (glibc, jemalloc, tcmalloc, mimalloc, musl, other: told from the libraries mapped and glibc's main arena)" + FromLastScan, ["jvm_version", "allocator"], (p, s) => s.Set(p.JvmVersion ?? "none", p.Report.Allocator.Id(), 1)),
        PerProcess("mapsexporter_process_scan_duration_seconds", "How long reading and classifying the process took in the last scan (smaps or smaps_rollup reads stall the process's memory-map changes meanwhile), in seconds", (p, s) => s.Set(p.ReadDuration.TotalSeconds)),
        PerProcess("mapsexporter_process_scan_mode", "Always 1: how the last scan read the process: smaps, rollup (maps + smaps_rollup, above --scan.rollup-above-bytes), maps_cached (maps; resident figures from the last smaps or rollup read, see mapsexporter_process_resident_timestamp_seconds), pagemap (maps + pagemap outside the Java heap + statm: Rss and swap fresh, Pss from the last smaps read), maps (no resident figures)", "mode", (p, s) => s.Set(p.Mode.Id(), 1)),
        PerProcess("mapsexporter_process_proportional_timestamp_seconds", "When the process's Pss figures were read, where older than its resident figures (pagemap scans: the last smaps read), since the Unix epoch, in seconds", (p, s) => s.SetIfKnown(p.ProportionalReadAt?.ToUnixTimeMilliseconds() / 1000.0)),
        PerProcess("mapsexporter_process_resident_error_bytes", "Bound on the error of the process's statm resident count, which the java_heap figure of a pagemap scan carries (0 where statm is exact, Linux 6.16+; per-CPU counter drift before), in bytes", (p, s) => s.SetIfKnown(p.ResidentErrorBoundBytes)),
        new EventCounter(
            "mapsexporter_pagemap_fallbacks_total",
            "Process reads planned as pagemap that read smaps instead, by reason (no_heap, heap_not_exact: no hsperfdata for the heap's range, heap_multi_mapped: ZGC on JDK 17, unreadable).",
            "reason",
            PagemapFallbacks.All,
            scan => scan.Snapshot.Processes.Where(p => p.PagemapFallback is not null).Select(p => p.PagemapFallback!)),
        PerProcess("mapsexporter_process_resident_bytes", "Resident memory (Rss) of the whole process, from smaps or smaps_rollup, in bytes", (p, s) => s.SetIfKnown(p.Totals?.ResidentBytes)),
        PerProcess("mapsexporter_process_proportional_bytes", "Proportional set size (Pss) of the whole process, from smaps or smaps_rollup, in bytes", (p, s) => s.SetIfKnown(p.Totals?.ProportionalBytes)),
        PerProcess("mapsexporter_process_swap_bytes", "Swapped-out memory of the whole process, from smaps or smaps_rollup, in bytes", (p, s) => s.SetIfKnown(p.Totals?.SwapBytes)),
        PerProcess("mapsexporter_process_resident_timestamp_seconds", "When the process's resident, proportional and swap figures were read (smaps or smaps_rollup), since the Unix epoch, in seconds", (p, s) => s.SetIfKnown(p.ResidentReadAt?.ToUnixTimeMilliseconds() / 1000.0)),
        // Where each process lives and the limit that kills it (issue 15): labels from /proc/PID/cgroup, one series per memory cgroup.
        new ProcessCgroupInfo("mapsexporter_process_cgroup_info", "Always 1: a reported process with its memory cgroup's path and the systemd unit, container runtime and id, Kubernetes pod UID, QoS class and pod name (the container's hostname) its cgroup names; empty where they do not apply" + FromLastScan),
        PerProcess("mapsexporter_process_memory_headroom_bytes", "The JVM's effective cgroup memory limit minus its heap maximum and its resident memory outside the heap: what is left if the heap grows to its maximum (below 0: the kernel OOM-kills it first), in bytes", (p, s) => s.SetIfKnown(MemoryHeadroom.Of(p.Report))),
        new CgroupGauge("mapsexporter_cgroup_memory_limit_bytes", "The memory cgroup's effective limit, the lowest over it and its ancestors (as the JVM computes it; absent when unlimited), in bytes" + FromLastScan, m => m.LimitBytes),
        new CgroupGauge("mapsexporter_cgroup_memory_usage_bytes", "The memory cgroup's usage, descendants included (memory.current, v1 memory.usage_in_bytes), in bytes" + FromLastScan, m => m.UsageBytes),
        new CgroupGauge("mapsexporter_cgroup_memory_anon_bytes", "The memory cgroup's anonymous memory, descendants included (memory.stat anon, v1 total_rss), in bytes" + FromLastScan, m => m.AnonBytes),
        new CgroupGauge("mapsexporter_cgroup_memory_file_bytes", "The memory cgroup's page cache, shmem included, descendants included (memory.stat file, v1 total_cache), in bytes" + FromLastScan, m => m.FileBytes),
        new CgroupCounter("mapsexporter_cgroup_oom_kills_total", "Processes of the memory cgroup the kernel's OOM killer killed (memory.events oom_kill, descendants included; v1 memory.oom_control oom_kill, this cgroup's only), as the kernel counts them" + FromLastScan, m => m.OomKills),
        new ScanGauge("mapsexporter_max_mappings", "The kernel's limit on mappings per process (vm.max_map_count)" + FromLastScan, scan => scan.Snapshot.MaxMapCount),
        new ScanGauge("mapsexporter_host_cpus", "The host's online CPUs (/sys/devices/system/cpu/online): glibc's default arena limit is 8 per CPU, main arena included, unless MALLOC_ARENA_MAX is set" + FromLastScan, scan => scan.HostCpus),
        new ScanGauge("mapsexporter_scan_duration_seconds", "How long the last scan took, in seconds.", scan => scan.Snapshot.Duration.TotalSeconds),
        new ScanGauge("mapsexporter_last_scan_timestamp_seconds", "When the last scan finished, since the Unix epoch, in seconds.", scan => scan.Snapshot.Timestamp.ToUnixTimeMilliseconds() / 1000.0),
        new ScanGauge("mapsexporter_last_scan_success", "1 if the last scan could read procfs, else 0 (a process that could not be read does not fail the scan).", scan => scan.Snapshot.Success ? 1 : 0),
        new ScanGauge("mapsexporter_scanned_processes", "Number of processes reported" + FromLastScan, scan => scan.Snapshot.Processes.Count),
        new EventCounter(
            "mapsexporter_scan_errors_total",
            "Processes that scans could not read, by reason (vanished, permission, parse, io; cgroup: a process reported without all of its cgroup's labels or figures).",
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
        new InfoGauge(
            "mapsexporter_build_info",
            "Always 1: the exporter's version, the commit it was built from and the .NET runtime it runs on.",
            ("version", BuildInfo.Version), ("revision", BuildInfo.Revision), ("dotnet_version", BuildInfo.DotnetVersion)),
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
