namespace MapsExporter.Core.Scanning;

/// <summary>How one process was read in one scan; the <c>mode</c> label of <c>mapsexporter_process_scan_mode</c>.</summary>
public enum ScanMode
{
    /// <summary>Full smaps: layout and resident sizes per mapping (a page-table walk under the target's mmap lock).</summary>
    Smaps,

    /// <summary>maps for the layout plus smaps_rollup for the resident totals (same walk, no per-VMA text): processes above the Rss threshold.</summary>
    Rollup,

    /// <summary>maps for the layout; resident figures are those of the last smaps or smaps_rollup read (between smaps-interval reads).</summary>
    MapsCached,

    /// <summary>maps only: no resident figures (smaps switched off or unreadable).</summary>
    Maps,

    /// <summary>maps for the layout, pagemap for the resident pages outside the Java heap, statm and status for the totals (the heap is the rest); Pss from the last smaps read.</summary>
    Pagemap,
}

public static class ScanModes
{
    public static IReadOnlyList<ScanMode> All { get; } = Enum.GetValues<ScanMode>();

    public static string Id(this ScanMode mode) => mode switch
    {
        ScanMode.Smaps => "smaps",
        ScanMode.Rollup => "rollup",
        ScanMode.MapsCached => "maps_cached",
        ScanMode.Pagemap => "pagemap",
        _ => "maps",
    };
}

/// <summary>A process's resident totals (bytes): from smaps summed, smaps_rollup, or statm and status (Pss then from the last smaps read, or unknown).</summary>
public readonly record struct ResidentTotals(long ResidentBytes, long? ProportionalBytes, long SwapBytes);
