namespace MapsExporter.Core;

/// <summary>
/// The Java heap reservation. ZGC's heap is the <c>memfd:java_heap</c> shared mapping (with its PROT_NONE
/// address-space reservation around the views). For the other collectors the heap is one anonymous
/// reservation of MaxHeapSize: committed parts read/write, the rest PROT_NONE. Which run of such mappings is
/// the heap: the one holding the CDS archived heap region, else the largest below 32 GiB (where compressed
/// oops put it), else the largest anywhere (-XX:-UseCompressedOops), trimmed of neighbours that merged into it.
/// The JVM's own figures (hsperfdata, a later exact method) confirm it; from the text alone a larger anonymous
/// reservation could win.
/// </summary>
internal static class JavaHeapLocator
{
    private const ulong CompressedOopsLimit = 32UL * 1024 * 1024 * 1024;
    private const ulong MinimumHeapBytes = 2 * 1024 * 1024;

    public static void Locate(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        if (LocateZgc(items, result))
        {
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

        if (bestTier == 2)
        {
            (bestStart, bestEnd) = TrimToRoundestSize(items, bestStart, bestEnd);
        }

        AnonymousRun.Assign(result, bestStart, bestEnd, RegionCategory.JavaHeap);
        result.JavaHeapRange = (items[bestStart].Start, items[bestEnd - 1].End);
    }

    /// <summary>
    /// Outside the compressed-oops range the heap sits among other reservations, and G1's tables beside it
    /// (same shape, same flags) join its run. The heap starts and ends on 1 MiB boundaries (HeapAlignment) and
    /// its size, MaxHeapSize, is a round number, while the tables' pieces are page sized: keep the sub-run on
    /// 1 MiB boundaries whose size has the most trailing zero bits (the largest on a tie).
    /// </summary>
    private static (int Start, int End) TrimToRoundestSize(ReadOnlySpan<Mapping> items, int start, int end)
    {
        const ulong Alignment = 1024 * 1024;
        (int Start, int End) best = (start, end);
        int bestZeros = -1;
        ulong bestSize = 0;
        for (int s = start; s < end; s++)
        {
            if (items[s].Start % Alignment != 0)
            {
                continue;
            }

            for (int e = end; e > s; e--)
            {
                ulong size = items[e - 1].End - items[s].Start;
                if (items[e - 1].End % Alignment != 0 || size < MinimumHeapBytes)
                {
                    continue;
                }

                int zeros = System.Numerics.BitOperations.TrailingZeroCount(size);
                if (zeros > bestZeros || (zeros == bestZeros && size > bestSize))
                {
                    (best, bestZeros, bestSize) = ((s, e), zeros, size);
                }
            }
        }

        return best;
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
