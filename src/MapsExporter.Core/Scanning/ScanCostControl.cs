using MapsExporter.Core.Classifying;
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

    /// <summary>Where resident figures come from in the scans between smaps reads (with a smaps interval).</summary>
    public ResidentMode Resident { get; init; } = ResidentMode.Smaps;
}

/// <summary>
/// Decides, before each read, the cheapest way its <see cref="ScanCostOptions"/> allow to read a process
/// (<see cref="Plan"/>), and afterwards keeps the figures of its last expensive read in the process's state
/// (<see cref="Complete"/>). Between smaps reads the layout is fresh (maps: regions, virtual sizes, arenas, stacks,
/// threads) and the resident, proportional and swap figures are those of the last smaps or smaps_rollup read,
/// published with the time they were read (never zeros, never a guess). It reads nothing itself.
/// </summary>
public sealed class ScanCostControl(ScanCostOptions? options = null, TimeProvider? time = null)
{
    private readonly ScanCostOptions _options = options ?? ScanCostOptions.Default;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>
    /// How many times a pagemap read smaps must cost for <see cref="ResidentMode.Auto"/> to read pagemap every scan
    /// (which costs more than the maps-only scans it replaces: 0.5 against 2.3 ms for a 128 MiB JVM). Measured
    /// (docs/benchmarks.md): a pre-touched 1 GiB heap's smaps costs 5 times its pagemap read, 4 GiB 15 times, 8 GiB
    /// 18 times; a 128 MiB JVM's about 2 times, where a threshold of 2 flipped 8 of 20 such JVMs to pagemap on a loaded
    /// machine (wall-clock costs), each then costing 4 times as much a scan for figures smaps gives cheaply.
    /// </summary>
    public const int PagemapAdvantage = 4;

    /// <summary>
    /// How to read the process now: <see cref="ScanMode.Maps"/> when smaps is off, <see cref="ScanMode.MapsCached"/>
    /// within the smaps interval of its last expensive read, <see cref="ScanMode.Rollup"/> above the Rss threshold
    /// (<paramref name="residentBytes"/>, cheap statm, is asked only then), else <see cref="ScanMode.Smaps"/>.
    /// </summary>
    public ScanMode Plan(ProcessState state, bool useSmaps, Func<long> residentBytes)
    {
        if (!useSmaps)
        {
            return ScanMode.Maps;
        }

        if (_options.SmapsInterval > TimeSpan.Zero && state.LastResident is { } last && _time.GetUtcNow() - last.At < _options.SmapsInterval - Slack(_options.SmapsInterval))
        {
            return UsePagemap(state) ? ScanMode.Pagemap : ScanMode.MapsCached;
        }

        return _options.RollupAboveBytes > 0 && residentBytes() > _options.RollupAboveBytes ? ScanMode.Rollup : ScanMode.Smaps;
    }

    /// <summary>
    /// Between smaps reads, pagemap keeps the resident figures fresh where it can (<see cref="PagemapResident.Unsuitable"/>,
    /// as the last read found). <see cref="ResidentMode.Auto"/> uses it where the process's last smaps read cost at
    /// least <see cref="PagemapAdvantage"/> times its last pagemap read (both measured; tried once to measure): a big
    /// heap of 4 KiB pages. Where smaps is that cheap already (a small or THP-backed process), the scans between read
    /// maps only, as with smaps, and the smaps read keeps giving Pss and per-arena figures.
    /// </summary>
    private bool UsePagemap(ProcessState state) => _options.Resident switch
    {
        ResidentMode.Pagemap => state.PagemapUnsuitable is null,
        ResidentMode.Auto => state.PagemapUnsuitable is null && !(state.PagemapCost * PagemapAdvantage > state.SmapsCost),
        _ => false,
    };

    /// <summary>
    /// The result as published: a <see cref="ScanMode.MapsCached"/> read gets the resident figures of the last
    /// expensive one; an expensive read is remembered for the scans until the next (with a smaps interval).
    /// </summary>
    public InspectionResult Complete(ProcessState state, InspectionResult result)
    {
        state.PagemapUnsuitable = result.PagemapUnsuitable;
        switch (result.Mode)
        {
            case ScanMode.Pagemap:
                state.PagemapCost = result.Duration;
                return state.LastResident is { } smaps ? WithProportionalOf(result, smaps) : result;
            case ScanMode.Smaps:
                state.SmapsCost = result.Duration;
                break;
        }

        switch (result.Mode)
        {
            case ScanMode.MapsCached when state.LastResident is { } last:
                return result with { Report = WithResidentOf(result.Report, last.Report), Totals = last.Totals, ResidentReadAt = last.At };
            case ScanMode.Rollup when result.Totals is { } rollup:
                state.LastResident = new ResidentRead(result.Report, rollup, result.ResidentReadAt ?? _time.GetUtcNow());
                break;
            case ScanMode.Smaps when result.Totals is { } sum && _options.SmapsInterval > TimeSpan.Zero:
                state.LastResident = new ResidentRead(result.Report, sum, result.ResidentReadAt ?? _time.GetUtcNow());
                break;
        }

        return result;
    }

    /// <summary>Fresh Rss and swap from pagemap; Pss (which pagemap cannot give), arenas and thread groups from the last smaps read.</summary>
    private static InspectionResult WithProportionalOf(InspectionResult result, ResidentRead smaps)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < categories.Length; i++)
        {
            categories[i] = result.Report.Categories[i] with { ProportionalBytes = smaps.Report.Categories[i].ProportionalBytes };
        }

        MemoryReport report = smaps.Report.ResidentKnown
            ? result.Report.WithResident(categories, MemoryReport.PagemapSource, smaps.Report.Arenas, smaps.Report.Malloc, smaps.Report.ThreadGroups)
            : result.Report;
        return result with
        {
            Report = report,
            Totals = result.Totals is { } totals ? totals with { ProportionalBytes = smaps.Totals.ProportionalBytes } : null,
            ProportionalReadAt = smaps.At,
        };
    }

    /// <summary>
    /// How early a read counts as due: a process is read at a slightly different point of each scan and the timer
    /// jitters, so "59.99 s ago" must not put the read off by a whole scan (75 s instead of 60 at 15 s scans).
    /// </summary>
    private static TimeSpan Slack(TimeSpan interval) => TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, interval.Ticks / 10));

    /// <summary>Fresh layout from <paramref name="fresh"/> (maps), resident figures of <paramref name="resident"/> (the last expensive read).</summary>
    public static MemoryReport WithResidentOf(MemoryReport fresh, MemoryReport resident)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < categories.Length; i++)
        {
            CategoryTotals now = fresh.Categories[i], then = resident.Categories[i];
            categories[i] = new CategoryTotals(now.Regions, now.VirtualBytes, then.ResidentBytes, then.ProportionalBytes, then.SwapBytes);
        }

        // Resident per arena and per thread group are only known from the last smaps read, and so are malloc's figures
        // (read only with the resident ones, for what they cost).
        return resident.ResidentKnown
            ? fresh.WithResident(categories, resident.ResidentSource, resident.Arenas, resident.Malloc, resident.ThreadGroups)
            : fresh.WithResident(categories, null, fresh.Arenas, fresh.Malloc, fresh.ThreadGroups);
    }
}
