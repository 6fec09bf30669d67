namespace MapsExporter.Core;

/// <summary>
/// The Java heap reservation. ZGC's heap is the <c>memfd:java_heap</c> shared mapping (with its PROT_NONE
/// address-space reservation around the views). For the other collectors the heap is one anonymous
/// reservation of MaxHeapSize: committed parts read/write, the rest PROT_NONE. Which run of such mappings is
/// the heap: the one holding the CDS archived heap region, else the largest below 32 GiB (where compressed
/// oops put it), else the largest anywhere (-XX:-UseCompressedOops). Out there G1's tables beside the heap have
/// its shape and flags and merge into its run, so the text alone overcounts the heap by up to NMT's GC figure;
/// the JVM's own figures (hsperfdata, a later exact method) split them.
/// </summary>
internal static class JavaHeapLocator
{
    private const ulong CompressedOopsLimit = 32UL * 1024 * 1024 * 1024;
    private const ulong MinimumHeapBytes = 2 * 1024 * 1024;

    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData = null)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        if (LocateZgc(items, result))
        {
            return;
        }

        // With the JVM's own heap size, the reservation is the run of exactly that size.
        if (perfData?.HeapMaxBytes is { } heapBytes && LocateBySize(items, result, (ulong)heapBytes))
        {
            result.Decided(RegionCategory.JavaHeap, DecisionMethod.HsPerfData);
            return;
        }

        int bestStart = -1, bestEnd = -1, bestTier = int.MaxValue;
        ulong bestSize = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (!IsHeapPiece(items[i], result, i))
            {
                continue;
            }

            int end = i + 1;
            bool hasArchive = result[i] == RegionCategory.JavaHeap;
            bool hasCommitted = items[i].IsPrivateReadWrite;
            while (end < items.Length && items[end].Start == items[end - 1].End && IsHeapPiece(items[end], result, end))
            {
                hasArchive |= result[end] == RegionCategory.JavaHeap;
                hasCommitted |= items[end].IsPrivateReadWrite;
                end++;
            }

            ulong size = items[end - 1].End - items[i].Start;
            int tier = hasArchive ? 0 : items[end - 1].End <= CompressedOopsLimit ? 1 : 2;
            if (hasCommitted && size >= MinimumHeapBytes && (tier < bestTier || (tier == bestTier && size > bestSize)))
            {
                (bestStart, bestEnd, bestTier, bestSize) = (i, end, tier, size);
            }

            i = end - 1;
        }

        if (bestStart < 0)
        {
            return;
        }

        AnonymousRun.Assign(result, bestStart, bestEnd, RegionCategory.JavaHeap);
        result.JavaHeapRange = (items[bestStart].Start, items[bestEnd - 1].End);
    }

    /// <summary>
    /// The run of heap pieces, starting and ending on mapping boundaries, whose size is exactly the JVM's
    /// MaxHeapSize; preferring one holding the archived heap region, then one below 32 GiB.
    /// </summary>
    private static bool LocateBySize(ReadOnlySpan<Mapping> items, Classification result, ulong heapBytes)
    {
        (int Start, int End) best = (-1, -1);
        int bestTier = int.MaxValue;
        for (int start = 0; start < items.Length; start++)
        {
            if (!IsHeapPiece(items[start], result, start))
            {
                continue;
            }

            bool hasArchive = false, hasCommitted = false;
            for (int end = start; end < items.Length && IsHeapPiece(items[end], result, end) && (end == start || items[end].Start == items[end - 1].End); end++)
            {
                hasArchive |= result[end] == RegionCategory.JavaHeap;
                hasCommitted |= items[end].IsPrivateReadWrite;
                ulong size = items[end].End - items[start].Start;
                if (size > heapBytes)
                {
                    break;
                }

                int tier = hasArchive ? 0 : items[end].End <= CompressedOopsLimit ? 1 : 2;
                if (size == heapBytes && hasCommitted && tier < bestTier)
                {
                    (best, bestTier) = ((start, end + 1), tier);
                }
            }
        }

        if (best.Start < 0)
        {
            result.Fallbacks.Add(DecisionMethod.HsPerfData);
            return false;
        }

        AnonymousRun.Assign(result, best.Start, best.End, RegionCategory.JavaHeap);
        result.JavaHeapRange = (items[best.Start].Start, items[best.End - 1].End);
        return true;
    }

    private static bool IsHeapPiece(in Mapping m, Classification result, int i) =>
        result.IsAssigned(i) ? result[i] == RegionCategory.JavaHeap && m.Kind == MappingKind.File : AnonymousRun.IsReservationPiece(m);

    private static bool LocateZgc(ReadOnlySpan<Mapping> items, Classification result)
    {
        ulong low = ulong.MaxValue, high = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (result[i] != RegionCategory.JavaHeap || items[i].Kind != MappingKind.File || (items[i].Permissions & Permissions.Shared) == 0)
            {
                continue;
            }

            // The address space ZGC reserved for its views and has not mapped yet: PROT_NONE neighbours.
            for (int g = i - 1; g >= 0 && IsReservedNeighbour(items[g], items[g + 1].Start, result, g); g--)
            {
                result.Assign(g, RegionCategory.JavaHeap);
                low = Math.Min(low, items[g].Start);
            }

            for (int g = i + 1; g < items.Length && IsReservedNeighbour(items[g], items[g - 1].End, result, g, after: true); g++)
            {
                result.Assign(g, RegionCategory.JavaHeap);
                high = Math.Max(high, items[g].End);
            }

            low = Math.Min(low, items[i].Start);
            high = Math.Max(high, items[i].End);
        }

        if (high == 0)
        {
            return false;
        }

        result.JavaHeapRange = (low, high);
        return true;
    }

    private static bool IsReservedNeighbour(in Mapping m, ulong boundary, Classification result, int i, bool after = false) =>
        !result.IsAssigned(i) && AnonymousRun.IsAnonymousPrivate(m) && m.IsNoAccess && (after ? m.Start == boundary : m.End == boundary);
}
