using MapsExporter.Core.Parsing;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>How to read one process: the cost control's decision (<see cref="ScanCostControl.Plan"/>) or a caller's.</summary>
public sealed record InspectRequest
{
    /// <summary>
    /// What to read: <see cref="ScanMode.Smaps"/> (maps when smaps cannot be read), <see cref="ScanMode.Rollup"/>
    /// (maps and smaps_rollup), <see cref="ScanMode.Maps"/> or <see cref="ScanMode.MapsCached"/> (maps only),
    /// <see cref="ScanMode.Pagemap"/> (maps, pagemap outside the heap, statm; smaps when it cannot be used).
    /// </summary>
    public ScanMode Mode { get; init; } = ScanMode.Smaps;

    /// <summary>Use the exact methods (the process's memory, its threads' stack pointers, hsperfdata).</summary>
    public bool Exact { get; init; } = true;

    /// <summary>What is kept of the process between inspections; null: a fresh one (a one-off report).</summary>
    public ProcessState? State { get; init; }

    /// <summary>The process's stat as the caller read it before deciding (a scan keys processes on it); null: read here.</summary>
    public ProcStat? Stat { get; init; }

    /// <summary>Keep an immutable copy of the classified regions in the result (for the text report).</summary>
    public bool KeepRegions { get; init; }
}

/// <summary>One process read, classified and reported: everything an inspection found, immutable.</summary>
public sealed record InspectionResult(MemoryReport Report, ScanMode Mode, TimeSpan Duration)
{
    /// <summary>The JVM's Java version (<c>unknown</c> without a release file); null for a native process.</summary>
    public string? JvmVersion { get; init; }

    /// <summary>Resident totals (smaps summed, or smaps_rollup); null when only maps was read.</summary>
    public ResidentTotals? Totals { get; init; }

    /// <summary>When the resident figures were read (earlier than the inspection when they are a cached read's).</summary>
    public DateTimeOffset? ResidentReadAt { get; init; }

    /// <summary>When the Pss figures were read, when older than <see cref="ResidentReadAt"/> (a pagemap read: the last smaps read's).</summary>
    public DateTimeOffset? ProportionalReadAt { get; init; }

    /// <summary>Why pagemap cannot give the resident figures of this process (<see cref="PagemapFallbacks"/>), or null; known after an exact classification.</summary>
    public string? PagemapUnsuitable { get; init; }

    /// <summary>Set when a pagemap read was asked for and smaps was read instead: why (<see cref="PagemapFallbacks"/>).</summary>
    public string? PagemapFallback { get; init; }

    /// <summary>Bound on the error of the statm figures (0 on a kernel whose statm is exact), for a pagemap read; the heap's figure carries it.</summary>
    public long? ResidentErrorBoundBytes { get; init; }

    /// <summary>
    /// Why an exact method could not be used (the process's memory, or the JVM's hsperfdata; a permission names the
    /// capability missing), or null when they all could or none was asked for.
    /// </summary>
    public string? ExactMethodsUnavailable { get; init; }

    /// <summary>What was read in a cheaper way than asked, and why (smaps unreadable: maps; no smaps_rollup).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>How many reads of the process's memory the exact methods made (for tests and the benchmark).</summary>
    public int MemoryReads { get; init; }

    /// <summary>What of the process's cgroup could not be read or placed (counted as reason <c>cgroup</c>), or null.</summary>
    public string? CgroupProblem { get; init; }

    /// <summary>The classified regions, when <see cref="InspectRequest.KeepRegions"/> asked for them.</summary>
    public ClassifiedRegions? Regions { get; init; }
}
