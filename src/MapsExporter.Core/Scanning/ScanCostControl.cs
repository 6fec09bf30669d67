using System.Diagnostics;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// What the expensive reads may cost. smaps (and smaps_rollup) make the kernel walk the target's page tables
/// under its mmap lock; maps does not. <see cref="SmapsInterval"/> reads smaps at most that often and maps in
/// the scans between; <see cref="RollupAboveBytes"/> reads smaps_rollup instead of smaps for processes whose
/// Rss (from statm, cheap) is above it. Zero turns either off.
/// </summary>
public sealed record ScanCostOptions
{
    public static ScanCostOptions Default { get; } = new();

    /// <summary>Least time between two smaps (or smaps_rollup) reads of one process; zero: every scan.</summary>
    public TimeSpan SmapsInterval { get; init; }

    /// <summary>Rss above which smaps_rollup replaces smaps (layout from maps); zero: never.</summary>
    public long RollupAboveBytes { get; init; }
}

/// <summary>One process read under <see cref="ScanCostOptions"/>: its report, how it was read, what it cost.</summary>
public readonly record struct CostControlledRead(MemoryReport Report, ScanMode Mode, TimeSpan Duration, ResidentTotals? Totals, DateTimeOffset? ResidentReadAt);

/// <summary>
/// Reads each process in the cheapest way its <see cref="ScanCostOptions"/> allow and keeps the figures of its
/// last expensive read. Between smaps reads the layout is fresh (maps: regions, virtual sizes, arenas, stacks,
/// threads) and the resident, proportional and swap figures are those of the last smaps or smaps_rollup read,
/// published with the time they were read (never zeros, never a guess). Not thread-safe, like the scanner.
/// </summary>
public sealed class ScanCostControl : IDisposable
{
    private readonly ProcFs _procFs;
    private readonly ScanCostOptions _options;
    private readonly TimeProvider _time;
    private readonly ProcFileReader _reader = new(4096);
    private readonly Dictionary<(int Pid, ulong Start), LastRead> _last = [];

    public ScanCostControl(ProcFs procFs, ScanCostOptions? options = null, TimeProvider? time = null)
    {
        _procFs = procFs;
        _options = options ?? ScanCostOptions.Default;
        _time = time ?? TimeProvider.System;
    }

    public CostControlledRead Read(ProcessInspector inspector, int pid, ulong startTicks, bool useSmaps, Action<string>? warn)
    {
        long started = Stopwatch.GetTimestamp();
        DateTimeOffset now = _time.GetUtcNow();
        var key = (pid, startTicks);
        if (!useSmaps)
        {
            return Done(inspector.Inspect(pid, useSmaps: false, warn, expectedStartTicks: startTicks), ScanMode.Maps, null, null);
        }

        if (_options.SmapsInterval > TimeSpan.Zero && _last.TryGetValue(key, out LastRead? last) && now - last.At < _options.SmapsInterval - Slack(_options.SmapsInterval))
        {
            MemoryReport fresh = inspector.Inspect(pid, useSmaps: false, warn, expectedStartTicks: startTicks);
            return Done(WithResidentOf(fresh, last.Report), ScanMode.MapsCached, last.Totals, last.At);
        }

        if (_options.RollupAboveBytes > 0 && ResidentBytes(pid) > _options.RollupAboveBytes)
        {
            MemoryReport layout = inspector.Inspect(pid, useSmaps: false, warn, expectedStartTicks: startTicks);
            ResidentTotals? rollup = TryReadRollup(pid, warn);
            if (rollup is { } totals)
            {
                _last[key] = new LastRead(layout, totals, now);
                return Done(layout, ScanMode.Rollup, totals, now);
            }

            return Done(layout, ScanMode.Maps, null, null);
        }

        MemoryReport report = inspector.Inspect(pid, useSmaps: true, warn, expectedStartTicks: startTicks);
        if (!report.ResidentKnown)
        {
            // smaps could not be read (the inspector warned): maps only.
            return Done(report, ScanMode.Maps, null, null);
        }

        CategoryTotals total = report.Total;
        var sum = new ResidentTotals(total.ResidentBytes ?? 0, total.ProportionalBytes ?? 0, total.SwapBytes ?? 0);
        if (_options.SmapsInterval > TimeSpan.Zero)
        {
            _last[key] = new LastRead(report, sum, now);
        }

        return Done(report, ScanMode.Smaps, sum, now);

        CostControlledRead Done(MemoryReport r, ScanMode mode, ResidentTotals? totals, DateTimeOffset? at) =>
            new(r, mode, Stopwatch.GetElapsedTime(started), totals, at);
    }

    /// <summary>
    /// How early a read counts as due: a process is read at a slightly different point of each scan and the timer
    /// jitters, so "59.99 s ago" must not put the read off by a whole scan (75 s instead of 60 at 15 s scans).
    /// </summary>
    private static TimeSpan Slack(TimeSpan interval) => TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, interval.Ticks / 10));

    /// <summary>Forgets processes the last scan did not see.</summary>
    public void Retain(IReadOnlySet<(int, ulong)> seen)
    {
        if (_last.Count == 0)
        {
            return;
        }

        foreach ((int, ulong) key in _last.Keys)
        {
            if (!seen.Contains(key))
            {
                _last.Remove(key);
            }
        }
    }

    /// <summary>Fresh layout from <paramref name="fresh"/> (maps), resident figures of <paramref name="resident"/> (the last expensive read).</summary>
    public static MemoryReport WithResidentOf(MemoryReport fresh, MemoryReport resident)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < categories.Length; i++)
        {
            CategoryTotals now = fresh.Categories[i], then = resident.Categories[i];
            categories[i] = new CategoryTotals(now.Regions, now.VirtualBytes, then.ResidentBytes, then.ProportionalBytes, then.SwapBytes);
        }

        return new MemoryReport(categories)
        {
            Pid = fresh.Pid,
            App = fresh.App,
            IsJvm = fresh.IsJvm,
            Threads = fresh.Threads,
            ThreadStacks = fresh.ThreadStacks,
            LibcArenas = fresh.LibcArenas,
            LibcArenaHeaps = fresh.LibcArenaHeaps,
            MallocMmapChunks = fresh.MallocMmapChunks,
            Mappings = fresh.Mappings,
            ResidentKnown = resident.ResidentKnown,
            Source = fresh.Source,
            // Resident per arena and per thread group are only known from the last smaps read.
            Arenas = resident.ResidentKnown ? resident.Arenas : fresh.Arenas,
            ThreadGroups = resident.ResidentKnown ? resident.ThreadGroups : fresh.ThreadGroups,
            Methods = fresh.Methods,
            Fallbacks = fresh.Fallbacks,
            Jvm = fresh.Jvm,
        };
    }

    private long ResidentBytes(int pid)
    {
        try
        {
            return StatmReader.ParseResidentBytes(_reader.ReadAll(_procFs.PidPath(pid, "statm")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unknown: read smaps as usual; the smaps read reports what is wrong.
            return -1;
        }
    }

    private ResidentTotals? TryReadRollup(int pid, Action<string>? warn)
    {
        string path = _procFs.PidPath(pid, "smaps_rollup");
        try
        {
            return SmapsRollupParser.Parse(_reader.ReadAll(path), path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && Directory.Exists(_procFs.PidDirectory(pid)))
        {
            warn?.Invoke($"{path} does not exist (Linux before 4.14?); maps only (resident unknown)");
        }
        catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException and not FileNotFoundException and not DirectoryNotFoundException && e.HResult != 3))
        {
            warn?.Invoke($"cannot read {path}: {e.Message}; maps only (resident unknown)");
        }
        catch (Exception e) when (e is IOException)
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited while {path} was read", e);
        }
        catch (ProcParseException e)
        {
            throw new ProcessReadException(ReadFailure.Parse, e.Message, e);
        }

        return null;
    }

    public void Dispose() => _reader.Dispose();

    private sealed record LastRead(MemoryReport Report, ResidentTotals Totals, DateTimeOffset At);
}
