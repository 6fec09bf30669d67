using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.HotSpot;

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

    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData = null, IProcessMemory? memory = null)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        if (LocateZgc(items, result))
        {
            return;
        }

        // With the JVM's own heap size, the reservation is the run of exactly that size.
        if (perfData?.HeapMaxBytes is { } heapBytes && LocateBySize(table, result, (ulong)heapBytes, memory))
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
    }

    /// <summary>
    /// The range of exactly the JVM's MaxHeapSize inside a run of heap pieces, ending on a mapping boundary. It
    /// starts on a mapping boundary, or inside a mapping at a 2 MiB boundary (the heap's alignment: the card
    /// table needs it) when a neighbour with equal flags merged into the heap's first mapping; that mapping is
    /// then split. Preferred: a range holding the archived heap region, then one below 32 GiB, then a boundary
    /// start over a split.
    /// </summary>
    private static bool LocateBySize(MappingTable table, Classification result, ulong heapBytes, IProcessMemory? memory)
    {
        const ulong HeapAlignment = 2 * 1024 * 1024;
        ReadOnlySpan<Mapping> items = table.Items;
        (int First, int Last, ulong Start, int Rank) best = (-1, -1, 0, int.MaxValue);
        for (int runStart = 0; runStart < items.Length; runStart++)
        {
            if (!IsHeapPiece(items[runStart], result, runStart))
            {
                continue;
            }

            int runEnd = runStart + 1;
            while (runEnd < items.Length && items[runEnd].Start == items[runEnd - 1].End && IsHeapPiece(items[runEnd], result, runEnd))
            {
                runEnd++;
            }

            for (int last = runStart; last < runEnd; last++)
            {
                ulong end = items[last].End;
                if (end - items[runStart].Start < heapBytes)
                {
                    continue;
                }

                ulong start = end - heapBytes;
                int first = Classification.IndexOf(items, start);
                bool onBoundary = items[first].Start == start;
                if (!onBoundary && start % HeapAlignment != 0)
                {
                    continue;
                }

                bool hasArchive = false, hasCommitted = false;
                for (int k = first; k <= last; k++)
                {
                    hasArchive |= result[k] == RegionCategory.JavaHeap;
                    hasCommitted |= items[k].IsPrivateReadWrite;
                }

                int tier = hasArchive ? 0 : end <= CompressedOopsLimit ? 1 : 2;
                int rank = (tier * 2) + (onBoundary ? 0 : 1);
                if (hasCommitted && rank < best.Rank)
                {
                    best = (first, last, start, rank);
                }
            }

            runStart = runEnd - 1;
        }

        if (best.First < 0)
        {
            result.Fallbacks.Add(DecisionMethod.HsPerfData);
            return false;
        }

        (int firstIndex, int lastIndex) = (best.First, best.Last);
        if (table[firstIndex].Start != best.Start)
        {
            result.SplitAt(table, firstIndex, best.Start, memory);
            firstIndex++;
            lastIndex++;
        }

        AnonymousRun.Assign(result, firstIndex, lastIndex + 1, RegionCategory.JavaHeap);
        return true;
    }

    private static bool IsHeapPiece(in Mapping m, Classification result, int i) =>
        result.IsAssigned(i) ? result[i] == RegionCategory.JavaHeap && m.Kind == MappingKind.File : AnonymousRun.IsReservationPiece(m);

    private static bool LocateZgc(ReadOnlySpan<Mapping> items, Classification result)
    {
        bool found = false;
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
            }

            for (int g = i + 1; g < items.Length && IsReservedNeighbour(items[g], items[g - 1].End, result, g, after: true); g++)
            {
                result.Assign(g, RegionCategory.JavaHeap);
            }

            found = true;
        }

        return found;
    }

    private static bool IsReservedNeighbour(in Mapping m, ulong boundary, Classification result, int i, bool after = false) =>
        !result.IsAssigned(i) && AnonymousRun.IsAnonymousPrivate(m) && m.IsNoAccess && (after ? m.Start == boundary : m.End == boundary);
}
