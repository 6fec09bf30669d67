using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;

namespace MapsExporter.Core.Reporting;

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

    /// <summary>Large allocations glibc mmapped on their own, found from their chunk headers.</summary>
    public int MallocMmapChunks { get; init; }

    /// <summary>The process's malloc: glibc, jemalloc, tcmalloc, mimalloc, musl or other.</summary>
    public NativeAllocator Allocator { get; init; } = NativeAllocator.Other;

    /// <summary>Number of VMAs, to watch against vm.max_map_count.</summary>
    public int Mappings { get; init; }

    public bool ResidentKnown { get; init; }

    /// <summary>Each arena found from its headers (empty when arenas were found by layout).</summary>
    public IReadOnlyList<ArenaInfo> Arenas { get; init; } = [];

    /// <summary>The malloc bookkeeping over all arenas (null when the process's memory was not read).</summary>
    public MallocSummary? Malloc { get; init; }

    /// <summary>Stacks by thread-name group (when the threads' stack pointers were read).</summary>
    public IReadOnlyDictionary<string, ThreadGroupStacks> ThreadGroups { get; init; } = new Dictionary<string, ThreadGroupStacks>();

    /// <summary>How each category was decided, indexed by <see cref="RegionCategory"/>.</summary>
    public IReadOnlyList<DecisionMethod> Methods { get; init; } = new DecisionMethod[RegionCategories.Count];

    /// <summary>Exact methods that could not be used and fell back to layout rules.</summary>
    public IReadOnlyCollection<DecisionMethod> Fallbacks { get; init; } = [];

    /// <summary>The JVM's own figures from hsperfdata, when found.</summary>
    public JvmFigures? Jvm { get; init; }

    public bool IsJvm { get; init; }

    /// <summary>Where the process lives (cgroup, unit, container, pod) and its memory cgroup's figures; null for a dump.</summary>
    public Cgroups.CgroupPlacement? Cgroup { get; init; }

    /// <summary>Where the mappings came from, e.g. <c>/proc/1234/smaps</c> or a dump's path.</summary>
    public required string Source { get; init; }

    /// <summary>
    /// This report's layout (regions, counts, methods) with other resident figures: <paramref name="categories"/>,
    /// and arenas, malloc figures and thread groups whose resident sizes go with them.
    /// </summary>
    public MemoryReport WithResident(CategoryTotals[] categories, string? residentSource, IReadOnlyList<ArenaInfo> arenas, MallocSummary? malloc, IReadOnlyDictionary<string, ThreadGroupStacks> threadGroups) => new(categories)
    {
        Pid = Pid,
        App = App,
        IsJvm = IsJvm,
        Threads = Threads,
        ThreadStacks = ThreadStacks,
        LibcArenas = LibcArenas,
        LibcArenaHeaps = LibcArenaHeaps,
        MallocMmapChunks = MallocMmapChunks,
        Allocator = Allocator,
        Mappings = Mappings,
        ResidentKnown = residentSource is not null,
        ResidentSource = residentSource,
        Source = Source,
        Arenas = arenas,
        Malloc = malloc,
        ThreadGroups = threadGroups,
        Methods = Methods,
        Fallbacks = Fallbacks,
        Jvm = Jvm,
        Cgroup = Cgroup,
    };

    /// <summary>
    /// Where the resident figures came from: <see cref="SmapsSource"/>, or <see cref="PagemapSource"/> (each category
    /// from pagemap but the Java heap, which is statm's total minus the rest); null when they are unknown.
    /// </summary>
    public string? ResidentSource { get; init; }

    public const string SmapsSource = "smaps";

    public const string PagemapSource = "pagemap";

    /// <summary>The source of one category's resident figure, as the JSON report names it.</summary>
    public string? ResidentSourceOf(RegionCategory? category) => ResidentSource switch
    {
        PagemapSource when category is null => "statm",
        PagemapSource when category == RegionCategory.JavaHeap => "statm_minus_pagemap",
        _ => ResidentSource,
    };

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

/// <summary>What a JVM says of itself in hsperfdata; never its arguments or properties.</summary>
public sealed record JvmFigures(string? Version, string? Gc, long? HeapMaxBytes, long? HeapCommittedBytes, long? HeapUsedBytes, long? MetaspaceMaxBytes)
{
    public static JvmFigures From(HsPerfData data) =>
        new(data.JvmVersion is { } v ? AppNameResolver.Sanitize(v) : null, data.GcName, data.HeapMaxBytes, data.HeapCommittedBytes, data.HeapUsedBytes, data.MetaspaceMaxBytes);
}
