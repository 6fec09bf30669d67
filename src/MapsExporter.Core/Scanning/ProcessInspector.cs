using System.Diagnostics;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Reads, classifies and reports one live process at a time through a <see cref="ProcFs"/>, as an
/// <see cref="InspectRequest"/> says, and returns an immutable <see cref="InspectionResult"/>. What is kept of a
/// process between inspections lives in its <see cref="ProcessState"/>, which the caller owns; the inspector keeps
/// only its buffers and tables (no per-mapping allocation in steady state). Not thread-safe.
/// </summary>
public sealed class ProcessInspector : IDisposable
{
    private readonly ProcessFiles _files;
    private readonly bool _ownsFiles;
    private readonly TimeProvider _time;
    private readonly MappingTable _table = new();
    private readonly Classification _classification = new();
    private readonly List<ThreadSample> _threadSamples = [];
    private readonly List<string> _warnings = [];
    private readonly ProcessCgroupReader _cgroups;
    private readonly PagemapResident _pagemap = new();
    private (Version? Kernel, int Cpus)? _host;

    /// <param name="procFs">Where the processes are read.</param>
    /// <param name="time">The clock of fresh states' chunk-probe re-checks and of resident read times.</param>
    /// <param name="cgroupFs">Where the cgroups are read (null: /sys/fs/cgroup).</param>
    public ProcessInspector(ProcFs procFs, TimeProvider? time = null, CgroupFs? cgroupFs = null)
        : this(new ProcessFiles(procFs), time, cgroupFs)
    {
        _ownsFiles = true;
    }

    /// <summary>What reading malloc's free lists may cost per process; null is <see cref="MallocReadLimits.Default"/>.</summary>
    public MallocReadLimits? MallocLimits { get; init; }

    /// <summary>An inspector reading through <paramref name="files"/> (a scanner's, shared with its other reads).</summary>
    public ProcessInspector(ProcessFiles files, TimeProvider? time = null, ProcessCgroupReader? cgroups = null)
    {
        _files = files;
        _time = time ?? TimeProvider.System;
        _cgroups = cgroups ?? new ProcessCgroupReader(files, new CgroupFs());
    }

    private ProcessInspector(ProcessFiles files, TimeProvider? time, CgroupFs? cgroupFs)
        : this(files, time, new ProcessCgroupReader(files, cgroupFs ?? new CgroupFs()))
    {
    }

    /// <summary>Cheap test for a JVM: reads maps (no page-table walk, unlike smaps) and looks for libjvm.so.</summary>
    public bool IsJvm(int pid) => JvmDetector.MapsTextHasLibJvm(_files.Read(pid, "maps"));

    /// <summary>
    /// The name of a JVM not inspected yet, by the same rule as its label (<see cref="AppNameResolver.Choose"/>), so
    /// that a scan selects it by the name it will publish: reads maps and the hsperfdata file the JVM maps.
    /// </summary>
    public string Name(int pid, ProcStat stat, ProcessState state)
    {
        try
        {
            ParseMappings(pid, ScanMode.Maps, warnings: null);
        }
        catch (ProcessReadException e) when (e.Reason == ReadFailure.Parse && HasEnded(pid, stat.StartTicks))
        {
            throw ExitedWhileRead(pid, e);
        }

        bool isJvm = JvmDetector.MapsLibJvm(_table);
        HsPerfData? perfData = isJvm ? HsPerfDataLocator.Read(_files.ProcFs, pid, _table, _files.Reader) : null;
        return ResolveApp(pid, isJvm, perfData, stat, state);
    }

    /// <summary>
    /// Reads the process as <paramref name="request"/> says (smaps falls back to maps, and smaps_rollup to none, when
    /// they cannot be read: <see cref="InspectionResult.Warnings"/> says why) and reports it. The process is checked
    /// not to have been replaced or to have exited while it was read.
    /// </summary>
    public InspectionResult Inspect(int pid, InspectRequest request)
    {
        long started = Stopwatch.GetTimestamp();
        ProcStat stat = request.Stat ?? _files.ReadStat(pid);
        try
        {
            return Inspect(pid, request, stat, started);
        }
        catch (ProcessReadException e) when (e.Reason == ReadFailure.Parse && HasEnded(pid, stat.StartTicks))
        {
            throw ExitedWhileRead(pid, e);
        }
    }

    // A process torn down while we read it can leave a file cut mid-record (smaps ends where its mm went): that is the
    // process exiting, not a file the parser got wrong.
    private static ProcessReadException ExitedWhileRead(int pid, ProcessReadException parseError) =>
        new(ReadFailure.Vanished, $"process {pid} exited while it was read ({parseError.Message})", parseError);

    /// <summary>The process read as <c>stat</c> started is gone, replaced, or exiting (its memory released: vsize 0).</summary>
    private bool HasEnded(int pid, ulong startTicks)
    {
        try
        {
            return IsGoneOrExiting(ReadIdentity(pid), startTicks);
        }
        catch (ProcessReadException e)
        {
            return e.Reason == ReadFailure.Vanished;
        }
    }

    private (ulong StartTicks, int Threads, ulong VirtualBytes) ReadIdentity(int pid) =>
        _files.ParseOrThrow(pid, "stat", static (text, source) => ProcStatParser.ParseStartTimeThreadsAndSize(text, source));

    /// <summary>Another process under the PID (its start time), or this one exiting (its memory released: vsize 0).</summary>
    private static bool IsGoneOrExiting((ulong StartTicks, int Threads, ulong VirtualBytes) now, ulong startTicks) =>
        now.StartTicks != startTicks || now.VirtualBytes == 0;

    private InspectionResult Inspect(int pid, InspectRequest request, ProcStat stat, long started)
    {
        ProcessState state = request.State ?? new ProcessState(pid, stat.StartTicks, _time);
        _warnings.Clear();
        (string source, ScanMode mode) = ParseMappings(pid, request.Mode, _warnings);
        ResidentTotals? rollup = null;
        if (mode == ScanMode.Rollup)
        {
            rollup = TryReadRollup(pid, _warnings);
            mode = rollup is null ? ScanMode.Maps : ScanMode.Rollup;
        }

        if (_table.Count == 0)
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} has no memory map (a kernel thread, or it exited)");
        }

        // A stop asked for while a huge smaps was read and parsed need not wait for its classification.
        _files.Cancellation.ThrowIfCancellationRequested();

        bool isJvm = JvmDetector.MapsLibJvm(_table);
        HsPerfData? perfData = null;
        string? exactUnavailable = null;
        int threads = 0, memoryReads = 0;
        if (request.Exact)
        {
            string? perfDataReason = null;
            perfData = isJvm ? HsPerfDataLocator.Read(_files.ProcFs, pid, _table, _files.Reader, out perfDataReason) : null;
            using ProcessMemoryReader? memory = ProcessMemoryReader.TryOpen(_files.ProcFs, pid, out string? memoryReason);
            exactUnavailable = memoryReason ?? perfDataReason;
            // The task listing is the thread count too.
            threads = SampleThreads(pid, state);
            var sources = new ExactSources
            {
                Memory = memory,
                Threads = _threadSamples,
                PerfData = perfData,
                IsJvm = isJvm,
                ChunkProbes = state.ChunkProbes,
                // glibc's bookkeeping is read with the resident figures: a maps_cached read publishes the last ones.
                MallocLimits = mode == ScanMode.MapsCached ? MallocReadLimits.Off : MallocLimits,
                JemallocRoot = state.JemallocRoot,
            };
            RegionClassifier.Classify(_table, _classification, sources);
            memoryReads = memory?.Reads ?? 0;
        }
        else
        {
            RegionClassifier.Classify(_table, _classification);
        }

        _files.Cancellation.ThrowIfCancellationRequested();

        // Pagemap mode: its assumptions are checked on the classified table; where they fail, smaps instead (counted).
        string? pagemapUnsuitable = PagemapResident.Unsuitable(_table, _classification);
        PagemapFigures? pagemap = null;
        if (mode == ScanMode.Pagemap)
        {
            pagemap = TryReadPagemap(pid, ref pagemapUnsuitable);
            if (pagemap is null)
            {
                // Remembered until the next smaps read looks again (an unreadable pagemap is not retried every scan).
                return Inspect(pid, request with { Mode = ScanMode.Smaps }, stat, started) with { PagemapFallback = pagemapUnsuitable, PagemapUnsuitable = pagemapUnsuitable };
            }
        }

        string app = ResolveApp(pid, isJvm, perfData, stat, state);
        // A process is seldom moved to another cgroup: where it lives is read again with its resident figures (smaps at
        // most once a smaps interval) or with each maps-only read; its cgroup's figures every scan.
        if (state.Cgroup is null || mode is ScanMode.Smaps or ScanMode.Rollup or ScanMode.Maps)
        {
            state.Cgroup = _cgroups.Locate(pid);
        }

        CgroupPlacement cgroup = _cgroups.Read(state.Cgroup, out string? cgroupProblem);
        string? version = isJvm ? state.JvmVersion ??= JvmVersionResolver.Resolve(_files.ProcFs, pid, _table) ?? "unknown" : null;

        // The PID may have been reused while we read: the start time tells. A process that exited while its smaps was
        // read keeps its stat (same start time) until it is reaped, but its memory is gone and the read ended early at
        // a record boundary, a well-formed but short list: vsize 0 tells. This second stat read checks the first one's
        // identity after everything else was read; without exact methods its num_threads is the thread count.
        (ulong StartTicks, int Threads, ulong VirtualBytes) end = ReadIdentity(pid);
        if (IsGoneOrExiting(end, stat.StartTicks))
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited while it was read");
        }

        if (!request.Exact)
        {
            threads = end.Threads;
        }

        MemoryReport report = ReportBuilder.Build(_table, _classification, new ProcessIdentity(pid, app, isJvm, stat.StartTicks), source, threads, perfData, cgroup);
        if (pagemap is not null)
        {
            report = WithPagemap(report, pagemap);
        }

        ResidentTotals? totals = mode switch
        {
            ScanMode.Smaps => SumOf(report),
            ScanMode.Rollup => rollup,
            ScanMode.Pagemap when pagemap is not null => new ResidentTotals(pagemap.TotalResidentBytes, null, pagemap.TotalSwapBytes),
            _ => null,
        };
        return new InspectionResult(report, mode, Stopwatch.GetElapsedTime(started))
        {
            JvmVersion = version,
            Totals = totals,
            ResidentReadAt = totals is null ? null : _time.GetUtcNow(),
            ExactMethodsUnavailable = exactUnavailable,
            Warnings = _warnings.Count == 0 ? [] : [.. _warnings],
            MemoryReads = memoryReads,
            CgroupProblem = cgroupProblem,
            Regions = request.KeepRegions ? ClassifiedRegions.Capture(_table, _classification) : null,
            PagemapUnsuitable = pagemapUnsuitable,
            ResidentErrorBoundBytes = pagemap is null ? null : StatmErrorBound(threads),
        };
    }

    /// <summary>The pagemap figures, or null with <paramref name="unsuitable"/> saying why smaps must be read instead.</summary>
    private PagemapFigures? TryReadPagemap(int pid, ref string? unsuitable)
    {
        if (unsuitable is not null)
        {
            return null;
        }

        try
        {
            return _pagemap.Read(_files, pid, _table, _classification);
        }
        catch (ProcessReadException e) when (e.Reason is ReadFailure.Permission or ReadFailure.Io)
        {
            unsuitable = PagemapFallbacks.Unreadable;
            return null;
        }
    }

    /// <summary>The maps report with pagemap's Rss and swap per category; Pss, arenas' and thread groups' Rss are left to smaps.</summary>
    private static MemoryReport WithPagemap(MemoryReport report, PagemapFigures pagemap)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < categories.Length; i++)
        {
            CategoryTotals layout = report.Categories[i];
            categories[i] = new CategoryTotals(layout.Regions, layout.VirtualBytes, pagemap.ResidentBytes[i], null, pagemap.SwapBytes[i]);
        }

        return report.WithResident(categories, MemoryReport.PagemapSource, [], report.Malloc, new Dictionary<string, ThreadGroupStacks>());
    }

    private long? StatmErrorBound(int threads)
    {
        (Version? kernel, int cpus) = _host ??= (Proc.StatmErrorBound.ReadKernel(_files.ProcFs), Proc.StatmErrorBound.ReadCpus(_files.ProcFs));
        return kernel is null ? null : Proc.StatmErrorBound.Bytes(kernel, cpus, threads);
    }

    /// <summary><see cref="Inspect(int, InspectRequest)"/> with the request spelled as arguments (the report command, tests).</summary>
    public InspectionResult Inspect(int pid, bool useSmaps = true, bool exact = true, ProcessState? state = null, bool keepRegions = false) =>
        Inspect(pid, new InspectRequest { Mode = useSmaps ? ScanMode.Smaps : ScanMode.Maps, Exact = exact, State = state, KeepRegions = keepRegions });

    private static ResidentTotals SumOf(MemoryReport report)
    {
        CategoryTotals total = report.Total;
        return new ResidentTotals(total.ResidentBytes ?? 0, total.ProportionalBytes ?? 0, total.SwapBytes ?? 0);
    }

    private int SampleThreads(int pid, ProcessState state)
    {
        try
        {
            return state.Threads.Sample(_files.ProcFs, pid, _table, _files.Reader, _threadSamples);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            throw ProcReadErrors.Translate(pid, _files.ProcFs.PidPath(pid, "task"), e);
        }
    }

    /// <summary>Parses smaps (for <see cref="ScanMode.Smaps"/>) or maps into the table; the mode says which was read.</summary>
    private (string Source, ScanMode Mode) ParseMappings(int pid, ScanMode requested, List<string>? warnings)
    {
        if (requested == ScanMode.Smaps)
        {
            try
            {
                Parse(pid, "smaps");
                return (_files.ProcFs.PidPath(pid, "smaps"), ScanMode.Smaps);
            }
            catch (ProcessReadException e) when (e.Reason is ReadFailure.Permission or ReadFailure.Io && Directory.Exists(_files.ProcFs.PidDirectory(pid)))
            {
                warnings?.Add($"{e.Message}; falling back to maps (sizes only, resident unknown)");
            }

            requested = ScanMode.Maps;
        }

        Parse(pid, "maps");
        return (_files.ProcFs.PidPath(pid, "maps"), requested);
    }

    private void Parse(int pid, string file) => _files.ParseOrThrow(pid, file, (Table: _table, Smaps: file == "smaps"), static (text, source, into) =>
    {
        if (text.IsEmpty)
        {
            into.Table.Clear();
        }
        else if (into.Smaps)
        {
            SmapsParser.Parse(text, into.Table, source);
        }
        else
        {
            MapsParser.Parse(text, into.Table, source);
        }

        return true;
    });

    private ResidentTotals? TryReadRollup(int pid, List<string> warnings)
    {
        try
        {
            return _files.ParseOrThrow(pid, "smaps_rollup", static (text, source) => SmapsRollupParser.Parse(text, source));
        }
        catch (ProcessReadException e) when (e.Reason != ReadFailure.Parse && Directory.Exists(_files.ProcFs.PidDirectory(pid)))
        {
            warnings.Add(e.Reason == ReadFailure.Vanished
                ? $"{_files.ProcFs.PidPath(pid, "smaps_rollup")} does not exist (Linux before 4.14?); maps only (resident unknown)"
                : $"{e.Message}; maps only (resident unknown)");
            return null;
        }
    }

    /// <summary>The process's name by the one rule, kept in its state; the command line is read at most once a process.</summary>
    private string ResolveApp(int pid, bool isJvm, HsPerfData? perfData, ProcStat stat, ProcessState state)
    {
        if (state.AppFromPerfData && state.App is { } final)
        {
            return final;
        }

        string? mainClass = isJvm ? perfData?.MainClass : null;
        if (mainClass is null && isJvm && !state.CommandLineRead)
        {
            try
            {
                state.CommandLineName = AppNameResolver.FromJavaCommandLine(_files.Read(pid, "cmdline"));
                state.CommandLineRead = true;
            }
            catch (ProcessReadException e) when (e.Reason != ReadFailure.Vanished)
            {
                // Fall back to the comm.
            }
        }

        state.App = AppNameResolver.Choose(mainClass, isJvm ? state.CommandLineName : null, stat.Comm);
        state.AppFromPerfData = mainClass is not null;
        return state.App;
    }

    public void Dispose()
    {
        if (_ownsFiles)
        {
            _files.Dispose();
        }
    }
}
