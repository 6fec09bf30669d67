using System.Buffers;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Reporting;

/// <summary>Adds up a classified mapping table into a <see cref="MemoryReport"/>.</summary>
public static class ReportBuilder
{
    public static MemoryReport Build(MappingTable table, Classification classification, ProcessIdentity identity, string source, int? threads, HsPerfData? perfData = null, Cgroups.CgroupPlacement? cgroup = null)
    {
        bool resident = table.HasSmapsFields;
        var totals = new CategoryTotals[RegionCategories.Count];
        Array.Fill(totals, CategoryTotals.Empty(resident));
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            ref readonly Mapping m = ref items[i];
            var one = resident
                ? new CategoryTotals(1, (long)m.Size, m.ResidentBytes, m.ProportionalBytes, m.SwapBytes)
                : new CategoryTotals(1, (long)m.Size, null, null, null);
            int c = (int)classification[i];
            totals[c] = totals[c].Add(one);
        }

        if (resident)
        {
            long duplicate = DuplicateViewResidentBytes(items, classification);
            ref CategoryTotals heap = ref totals[(int)RegionCategory.JavaHeap];
            heap = heap with { ResidentBytes = heap.ResidentBytes - duplicate };
        }

        return new MemoryReport(totals)
        {
            Pid = identity.Pid,
            App = identity.App,
            IsJvm = identity.IsJvm,
            Cgroup = cgroup,
            Threads = threads,
            ThreadStacks = classification.ThreadStacks,
            LibcArenas = classification.LibcArenas,
            LibcArenaHeaps = classification.LibcArenaHeaps,
            MallocMmapChunks = classification.MallocMmapChunks,
            Allocator = classification.Allocator,
            Mappings = table.VmaCount,
            ResidentKnown = resident,
            ResidentSource = resident ? MemoryReport.SmapsSource : null,
            Source = source,
            Arenas = [.. classification.Arenas],
            Malloc = classification.Malloc,
            ThreadGroups = new Dictionary<string, ThreadGroupStacks>(classification.ThreadGroups, StringComparer.Ordinal),
            Methods = [.. RegionCategories.All.Select(classification.MethodOf)],
            Fallbacks = [.. classification.Fallbacks],
            Jvm = perfData is null ? null : JvmFigures.From(perfData),
        };
    }

    /// <summary>
    /// ZGC on JDK 17 maps its heap memfd three times (multi-mapping); Rss counts each view, so the same pages
    /// would count thrice, and no one view holds them all (a page is in the page table of each view that touched
    /// it). Where views of the same file offsets exist, their pages count by Pss: a page present in k views of
    /// this process counts 1/k in each, so the views' Pss add up to each distinct page once (exact while no other
    /// process maps the memfd, which is the JVM's own). What their Rss counts beyond that is the duplicate.
    /// </summary>
    private static long DuplicateViewResidentBytes(ReadOnlySpan<Mapping> items, Classification classification)
    {
        int views = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (IsSharedHeapView(items[i], classification[i]))
            {
                views++;
            }
        }

        if (views < 2)
        {
            return 0;
        }

        (ulong Inode, ulong Offset, ulong Size, long Rss, long Pss)[] keys = ArrayPool<(ulong, ulong, ulong, long, long)>.Shared.Rent(views);
        try
        {
            int n = 0;
            for (int i = 0; i < items.Length; i++)
            {
                if (IsSharedHeapView(items[i], classification[i]))
                {
                    keys[n++] = (items[i].Inode, items[i].Offset, items[i].Size, items[i].ResidentBytes, items[i].ProportionalBytes);
                }
            }

            Span<(ulong Inode, ulong Offset, ulong Size, long Rss, long Pss)> span = keys.AsSpan(0, n);
            span.Sort();
            long duplicate = 0;
            for (int first = 0, end; first < span.Length; first = end)
            {
                long rss = 0, pss = 0;
                for (end = first; end < span.Length && span[end].Inode == span[first].Inode && span[end].Offset == span[first].Offset && span[end].Size == span[first].Size; end++)
                {
                    rss += span[end].Rss;
                    pss += span[end].Pss;
                }

                if (end - first > 1)
                {
                    duplicate += rss - Math.Min(rss, pss);
                }
            }

            return duplicate;
        }
        finally
        {
            ArrayPool<(ulong, ulong, ulong, long, long)>.Shared.Return(keys);
        }
    }

    private static bool IsSharedHeapView(in Mapping m, RegionCategory category) =>
        category == RegionCategory.JavaHeap && m.Kind == MappingKind.File && (m.Permissions & Permissions.Shared) != 0;
}
