using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// What is left of a JVM's effective cgroup limit if its heap grows to its maximum: limit − (heap maximum + resident
/// memory outside the heap). Below zero, the kernel OOM-kills it before the heap fills, whatever the heap's use.
/// </summary>
public static class MemoryHeadroom
{
    /// <summary>The heap's maximum: hsperfdata's, else the reserved size of the Java heap's regions (the whole -Xmx reservation).</summary>
    public static long? HeapMaxBytes(MemoryReport report) =>
        !report.IsJvm ? null : report.Jvm?.HeapMaxBytes ?? (report[RegionCategory.JavaHeap].Regions > 0 ? report[RegionCategory.JavaHeap].VirtualBytes : null);

    /// <summary>Resident memory outside the Java heap (native memory, code, stacks, libraries): null when resident sizes are unknown.</summary>
    public static long? NativeResidentBytes(MemoryReport report) =>
        report.ResidentKnown && report.Total.ResidentBytes is { } total ? total - (report[RegionCategory.JavaHeap].ResidentBytes ?? 0) : null;

    /// <summary>The headroom in bytes, or null when the limit (unlimited), the heap maximum or the resident sizes are unknown.</summary>
    public static long? Of(MemoryReport report) =>
        report.Cgroup?.Memory?.LimitBytes is { } limit && HeapMaxBytes(report) is { } heapMax && NativeResidentBytes(report) is { } native
            ? limit - (heapMax + native)
            : null;
}
