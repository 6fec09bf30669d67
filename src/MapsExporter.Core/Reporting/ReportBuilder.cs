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
    /// would count thrice. Views of the same file offsets after the first are not counted as resident again.
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

        (ulong Inode, ulong Offset, ulong Size, long Rss)[] keys = ArrayPool<(ulong, ulong, ulong, long)>.Shared.Rent(views);
        try
        {
            int n = 0;
            for (int i = 0; i < items.Length; i++)
            {
                if (IsSharedHeapView(items[i], classification[i]))
                {
                    keys[n++] = (items[i].Inode, items[i].Offset, items[i].Size, items[i].ResidentBytes);
                }
            }

            Span<(ulong Inode, ulong Offset, ulong Size, long Rss)> span = keys.AsSpan(0, n);
            span.Sort();
            long duplicate = 0;
            for (int i = 1; i < span.Length; i++)
            {
                if (span[i].Inode == span[i - 1].Inode && span[i].Offset == span[i - 1].Offset && span[i].Size == span[i - 1].Size)
                {
                    // Sorted by Rss within equal ranges: keep the largest view, drop the smaller ones.
                    duplicate += span[i - 1].Rss;
                }
            }

            return duplicate;
        }
        finally
        {
            ArrayPool<(ulong, ulong, ulong, long)>.Shared.Return(keys);
        }
    }

    private static bool IsSharedHeapView(in Mapping m, RegionCategory category) =>
        category == RegionCategory.JavaHeap && m.Kind == MappingKind.File && (m.Permissions & Permissions.Shared) != 0;
}
