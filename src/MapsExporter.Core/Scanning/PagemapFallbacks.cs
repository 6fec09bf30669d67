namespace MapsExporter.Core.Scanning;

/// <summary>The <c>reason</c> labels of <c>mapsexporter_pagemap_fallbacks_total</c>: why a process was read through smaps.</summary>
public static class PagemapFallbacks
{
    /// <summary>No Java heap: not a JVM (pagemap of everything costs what smaps does).</summary>
    public const string NoHeap = "no_heap";

    /// <summary>The heap's range was found by layout only (no hsperfdata): a wrong guess would move Rss between categories.</summary>
    public const string HeapNotExact = "heap_not_exact";

    /// <summary>The heap is mapped more than once (ZGC on JDK 17).</summary>
    public const string HeapMultiMapped = "heap_multi_mapped";

    /// <summary>pagemap itself could not be read (permission) although smaps could.</summary>
    public const string Unreadable = "unreadable";

    public static IReadOnlyList<string> All { get; } = [NoHeap, HeapNotExact, HeapMultiMapped, Unreadable];
}
