using MapsExporter.Core.Classifying;

namespace MapsExporter.Core.Reporting;

/// <summary>One figure before and after; <see cref="Change"/> null when either side does not know it.</summary>
public readonly record struct FigureChange(long? Before, long? After)
{
    public long? Change => Before is { } b && After is { } a ? a - b : null;

    /// <summary>How large the change is, for ordering: its absolute value, 0 when unknown.</summary>
    public long Magnitude => Change is { } c ? Math.Abs(c) : 0;
}

/// <summary>A category's virtual and resident bytes before and after.</summary>
public readonly record struct CategoryChange(RegionCategory Category, FigureChange Virtual, FigureChange Resident);

/// <summary>A thread group's stacks before and after (a group on one side only has 0 threads on the other).</summary>
public readonly record struct ThreadGroupChange(string Group, FigureChange Threads, FigureChange Resident, FigureChange Virtual);

/// <summary>
/// BEFORE against AFTER (NMT's <c>summary.diff</c> for the regions): per category virtual and resident bytes, then
/// arenas, malloc in use and free, threads, stacks by group, mappings; the largest changes first. Two sides that do not
/// compare (a saved report against a dump, resident figures on one side only) are refused with a
/// <see cref="FormatException"/> that says why, in one line.
/// </summary>
public sealed class ReportDiff
{
    private ReportDiff(ReportFigures before, ReportFigures after)
    {
        Before = before;
        After = after;
        Categories = [.. RegionCategories.All
            .Select(c => new CategoryChange(c,
                new FigureChange(before.Categories[(int)c].VirtualBytes, after.Categories[(int)c].VirtualBytes),
                new FigureChange(before.Categories[(int)c].ResidentBytes, after.Categories[(int)c].ResidentBytes)))
            .Where(c => c.Virtual.Before != 0 || c.Virtual.After != 0)
            .OrderByDescending(c => c.Resident.Magnitude).ThenByDescending(c => c.Virtual.Magnitude).ThenBy(c => c.Category)];
        Total = new CategoryChange(
            RegionCategory.Unknown,
            new FigureChange(before.Categories.Sum(c => c.VirtualBytes), after.Categories.Sum(c => c.VirtualBytes)),
            new FigureChange(SumResident(before), SumResident(after)));
        Figures =
        [
            ("libc_arenas", new FigureChange(before.LibcArenas, after.LibcArenas)),
            ("malloc_in_use_bytes", new FigureChange(before.MallocInUseBytes, after.MallocInUseBytes)),
            ("malloc_free_bytes", new FigureChange(before.MallocFreeBytes, after.MallocFreeBytes)),
            ("threads", new FigureChange(before.Threads, after.Threads)),
            ("thread_stacks", new FigureChange(before.ThreadStacks, after.ThreadStacks)),
            ("mappings", new FigureChange(before.Mappings, after.Mappings)),
        ];
        ThreadGroups = [.. before.ThreadGroups.Keys.Union(after.ThreadGroups.Keys, StringComparer.Ordinal)
            .Select(g =>
            {
                ThreadGroupFigures b = before.ThreadGroups.GetValueOrDefault(g, new ThreadGroupFigures(0, before.ResidentKnown ? 0 : null, 0));
                ThreadGroupFigures a = after.ThreadGroups.GetValueOrDefault(g, new ThreadGroupFigures(0, after.ResidentKnown ? 0 : null, 0));
                return new ThreadGroupChange(g, new FigureChange(b.Threads, a.Threads), new FigureChange(b.ResidentBytes, a.ResidentBytes), new FigureChange(b.VirtualBytes, a.VirtualBytes));
            })
            .OrderByDescending(g => g.Resident.Magnitude).ThenByDescending(g => g.Virtual.Magnitude).ThenByDescending(g => g.Threads.Magnitude).ThenBy(g => g.Group, StringComparer.Ordinal)];
    }

    public ReportFigures Before { get; }

    public ReportFigures After { get; }

    /// <summary>Categories either side has regions of, the largest resident change first (then virtual).</summary>
    public IReadOnlyList<CategoryChange> Categories { get; }

    /// <summary>Sums over every category (<see cref="CategoryChange.Category"/> is meaningless here).</summary>
    public CategoryChange Total { get; }

    /// <summary>Arenas, malloc in use and free, threads, thread stacks, mappings, in that order.</summary>
    public IReadOnlyList<(string Name, FigureChange Change)> Figures { get; }

    public IReadOnlyList<ThreadGroupChange> ThreadGroups { get; }

    /// <summary>The diff of two sides that compare; a <see cref="FormatException"/> naming the mismatch otherwise.</summary>
    public static ReportDiff Compare(ReportFigures before, ReportFigures after)
    {
        if (before.Kind == ReportKind.LiveProcess)
        {
            throw new FormatException($"BEFORE ({before.Source}) is a live process: only AFTER can be, BEFORE is a saved report or dump");
        }

        bool beforeReport = before.Kind == ReportKind.SavedReport, afterReport = after.Kind == ReportKind.SavedReport;
        if ((beforeReport && after.Kind == ReportKind.Dump) || (before.Kind == ReportKind.Dump && afterReport))
        {
            throw new FormatException($"BEFORE {Describe(before)} but AFTER {Describe(after)}: compare a saved report with a saved report or a live PID, a dump with a dump or a live PID");
        }

        if (before.ResidentKnown != after.ResidentKnown)
        {
            ReportFigures with = before.ResidentKnown ? before : after, without = before.ResidentKnown ? after : before;
            throw new FormatException($"{without.Source} has no resident figures (a maps dump or maps-only read) but {with.Source} has: compare two with resident figures (smaps) or two without (maps)");
        }

        return new ReportDiff(before, after);
    }

    private static string Describe(ReportFigures side) => side.Kind switch
    {
        ReportKind.SavedReport => $"{side.Source} is a saved JSON report",
        ReportKind.Dump => $"{side.Source} is a maps/smaps dump",
        _ => $"{side.Source} is a live process",
    };

    private static long? SumResident(ReportFigures side) => side.ResidentKnown ? side.Categories.Sum(c => c.ResidentBytes ?? 0) : null;
}
