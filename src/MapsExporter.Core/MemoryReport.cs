namespace MapsExporter.Core;

/// <summary>Where one process's memory goes: totals per category and the counts that matter for native memory.</summary>
public sealed class MemoryReport
{
    public MemoryReport(CategoryTotals[] categories)
    {
        if (categories.Length != RegionCategories.Count)
        {
            throw new ArgumentException($"expected {RegionCategories.Count} categories", nameof(categories));
        }

        Categories = categories;
    }

    /// <summary>The PID, or null when the report is of a saved dump.</summary>
    public int? Pid { get; init; }

    /// <summary>A safe name: main class, jar file name or comm; never the command line.</summary>
    public required string App { get; init; }

    /// <summary>Entries of <c>/proc/PID/task</c>; null for a dump.</summary>
    public int? Threads { get; init; }

    public int ThreadStacks { get; init; }

    public int LibcArenas { get; init; }

    public int LibcArenaHeaps { get; init; }

    /// <summary>Number of VMAs, to watch against vm.max_map_count.</summary>
    public int Mappings { get; init; }

    public bool ResidentKnown { get; init; }

    public bool IsJvm { get; init; }

    /// <summary>Where the mappings came from, e.g. <c>/proc/1234/smaps</c> or a dump's path.</summary>
    public required string Source { get; init; }

    /// <summary>Indexed by <see cref="RegionCategory"/>.</summary>
    public IReadOnlyList<CategoryTotals> Categories { get; }

    public CategoryTotals this[RegionCategory category] => Categories[(int)category];

    public CategoryTotals Total
    {
        get
        {
            CategoryTotals total = CategoryTotals.Empty(ResidentKnown);
            foreach (CategoryTotals c in Categories)
            {
                total = total.Add(c);
            }

            return total;
        }
    }
}
