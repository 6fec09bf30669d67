using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>One process as a scan saw it: its report, when it started, and the Java version when it is a JVM.</summary>
public sealed record ProcessSample(MemoryReport Report, ulong StartTimeTicks, double StartTimeSeconds, string? JvmVersion)
{
    public int Pid => Report.Pid ?? 0;

    /// <summary>How the process was read (smaps, smaps_rollup, maps with the last resident figures, maps only).</summary>
    public ScanMode Mode { get; init; } = ScanMode.Smaps;

    /// <summary>How long reading and classifying this process took.</summary>
    public TimeSpan ReadDuration { get; init; }

    /// <summary>Resident totals (smaps summed, or smaps_rollup); null when only maps was ever read.</summary>
    public ResidentTotals? Totals { get; init; }

    /// <summary>When the resident figures were read (earlier than the scan between smaps-interval reads).</summary>
    public DateTimeOffset? ResidentReadAt { get; init; }

    /// <summary>When the Pss figures were read, when older than <see cref="ResidentReadAt"/> (pagemap reads: the last smaps read).</summary>
    public DateTimeOffset? ProportionalReadAt { get; init; }

    /// <summary>Why smaps was read where pagemap was planned (<see cref="PagemapFallbacks"/>), or null.</summary>
    public string? PagemapFallback { get; init; }

    /// <summary>Bound on the error of statm's resident count (pagemap reads; carried by the heap's figure), or null.</summary>
    public long? ResidentErrorBoundBytes { get; init; }
}

/// <summary>A process the scan could not read, and why; the message names paths and the PID, never arguments.</summary>
public readonly record struct ScanError(int Pid, ReadFailure Reason, string Message);

/// <summary>
/// The immutable result of one scan of every process. <see cref="Success"/> is false only when the scan as a
/// whole failed (procfs unreadable); a process that could not be read is in <see cref="Errors"/> instead.
/// </summary>
public sealed record ScanSnapshot(
    DateTimeOffset Timestamp,
    TimeSpan Duration,
    bool Success,
    string? FailureMessage,
    IReadOnlyList<ProcessSample> Processes,
    IReadOnlyList<ScanError> Errors,
    IReadOnlyList<string> Fallbacks,
    long? MaxMapCount)
{
    public static ScanSnapshot Failed(DateTimeOffset timestamp, TimeSpan duration, string message) =>
        new(timestamp, duration, false, message, [], [], [], null);

    /// <summary>
    /// Why an exact method (the process's memory, its JVM's hsperfdata) could not be used, one line per process
    /// that was still reported, its regions then decided by layout; a permission names what is missing.
    /// </summary>
    public IReadOnlyList<string> ExactMethodsUnavailable { get; init; } = [];
}
