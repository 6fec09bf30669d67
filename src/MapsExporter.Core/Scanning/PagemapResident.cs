using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Resident and swapped bytes per category without walking the Java heap: every mapping outside the heap from
/// pagemap, the heap as the process's total (statm resident, status VmSwap: the kernel's counters) minus the rest.
/// Its cost follows the address space outside the heap, not the heap; smaps walks every resident page under the
/// target's mmap lock. It needs the heap's mappings known exactly (<see cref="Unsuitable"/>). It gives no Pss.
/// </summary>
internal sealed class PagemapResident
{
    /// <summary>PROT_NONE mappings this small are read (guard pages, JDK 25's class-space protection page can be resident); larger ones are reservations.</summary>
    private const ulong SmallNoAccessBytes = 64 * 1024;

    private ulong[]? _block;

    /// <summary>
    /// Why the method cannot be used on this classified table (the <c>reason</c> label), or null when it can: the
    /// heap's mappings must be known exactly (the JVM's MaxHeapSize from hsperfdata, or ZGC's <c>memfd:java_heap</c>),
    /// and mapped once (ZGC on JDK 17 maps it three times; smaps counts the largest view, which needs each view's Rss).
    /// </summary>
    public static string? Unsuitable(MappingTable table, Classification classification)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        int heapMappings = 0;
        bool memfdHeap = false;
        for (int i = 0; i < items.Length; i++)
        {
            if (classification[i] != RegionCategory.JavaHeap)
            {
                continue;
            }

            heapMappings++;
            if (IsSharedView(items[i]))
            {
                if (memfdHeap && HasEarlierView(items, classification, i))
                {
                    return PagemapFallbacks.HeapMultiMapped;
                }

                memfdHeap = true;
            }
        }

        if (heapMappings == 0)
        {
            return PagemapFallbacks.NoHeap;
        }

        return memfdHeap || classification.MethodOf(RegionCategory.JavaHeap) == DecisionMethod.HsPerfData ? null : PagemapFallbacks.HeapNotExact;
    }

    /// <summary>Reads the figures of process <paramref name="pid"/>, whose table was classified and found suitable.</summary>
    /// <exception cref="ProcessReadException">pagemap, statm or status could not be read.</exception>
    public PagemapFigures Read(ProcessFiles files, int pid, MappingTable table, Classification classification)
    {
        _block ??= new ulong[PagemapReader.BlockEntries];
        var resident = new long[RegionCategories.Count];
        var swap = new long[RegionCategories.Count];
        ReadOnlySpan<Mapping> items = table.Items;
        long entries;
        using (PagemapReader pagemap = PagemapReader.Open(files.ProcFs, pid, _block))
        {
            for (int i = 0; i < items.Length; i++)
            {
                ref readonly Mapping m = ref items[i];
                RegionCategory category = classification[i];
                if (category == RegionCategory.JavaHeap || (m.IsNoAccess && m.Size > SmallNoAccessBytes) || IsUnreadableKernelMapping(table, m))
                {
                    continue;
                }

                (long r, long s) = pagemap.Count(m.Start, m.End, m.IsAnonymousPrivateMemory);
                resident[(int)category] += r;
                swap[(int)category] += s;
            }

            entries = pagemap.Entries;
        }

        // The totals right after the pages: what grows meanwhile outside the heap shows as heap, for a few ms.
        long total = StatmReader.ParseResidentBytes(files.Read(pid, "statm"));
        long totalSwap = StatusSwapReader.ParseSwapBytes(files.Read(pid, "status"));
        if (total < 0)
        {
            throw new ProcessReadException(ReadFailure.Parse, $"{files.ProcFs.PidPath(pid, "statm")} has no resident count");
        }

        int heap = (int)RegionCategory.JavaHeap;
        resident[heap] = Math.Max(0, total - resident.Sum());
        swap[heap] = totalSwap < 0 ? 0 : Math.Max(0, totalSwap - swap.Sum());
        return new PagemapFigures(resident, swap, total, Math.Max(totalSwap, 0), entries);
    }

    // [vsyscall] is above the user address space (pagemap reads 0 bytes there); [vvar*] are PFN maps (never resident).
    private static bool IsUnreadableKernelMapping(MappingTable table, in Mapping m) =>
        m.Kind == MappingKind.Kernel && table.PathOf(m) is { } path && (path == "[vsyscall]" || path.StartsWith("[vvar", StringComparison.Ordinal));

    private static bool IsSharedView(in Mapping m) => m.Kind == MappingKind.File && (m.Permissions & Permissions.Shared) != 0;

    private static bool HasEarlierView(ReadOnlySpan<Mapping> items, Classification classification, int index)
    {
        for (int i = 0; i < index; i++)
        {
            if (classification[i] == RegionCategory.JavaHeap && IsSharedView(items[i]) && items[i].Inode == items[index].Inode
                && items[i].Offset < items[index].Offset + items[index].Size && items[index].Offset < items[i].Offset + items[i].Size)
            {
                return true;
            }
        }

        return false;
    }
}
