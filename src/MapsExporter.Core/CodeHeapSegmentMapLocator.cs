namespace MapsExporter.Core;

/// <summary>
/// Each code heap has a segment map: one byte per 128-byte code segment (CodeCacheSegmentSize on x86_64), a
/// reservation of its own mapped apart from the code cache (committed part read/write, rest PROT_NONE). NMT
/// counts them as Code. Their sizes follow from the code heaps' sizes, which the code cache's layout shows
/// (each heap starts at an <c>rwxp</c> head), so a reservation of exactly that size is the segment map. One that
/// merged with a neighbour cannot be told apart and stays unknown.
/// </summary>
internal static class CodeHeapSegmentMapLocator
{
    private const ulong PageSize = 4096;
    private static readonly ulong[] SegmentSizes = [128, 64];

    public static void Locate(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        Span<ulong> heapSizes = stackalloc ulong[8];
        int heaps = CodeHeapSizes(items, result, heapSizes);
        if (heaps == 0)
        {
            return;
        }

        foreach (ulong segment in SegmentSizes)
        {
            int found = 0;
            for (int h = 0; h < heaps; h++)
            {
                ulong expected = (heapSizes[h] / segment + PageSize - 1) / PageSize * PageSize;
                found += AssignReservationOfSize(items, result, expected) ? 1 : 0;
            }

            if (found > 0)
            {
                return;
            }
        }
    }

    /// <summary>The code heaps: from each rwxp head to the next head or the end of the code cache run.</summary>
    private static int CodeHeapSizes(ReadOnlySpan<Mapping> items, Classification result, Span<ulong> sizes)
    {
        int count = 0;
        for (int i = 0; i < items.Length && count < sizes.Length; i++)
        {
            if (result[i] != RegionCategory.CodeCache || (items[i].Permissions & Permissions.Execute) == 0)
            {
                continue;
            }

            int end = i + 1;
            while (end < items.Length && result[end] == RegionCategory.CodeCache && (items[end].Permissions & Permissions.Execute) == 0 && items[end].Start == items[end - 1].End)
            {
                end++;
            }

            sizes[count++] = items[end - 1].End - items[i].Start;
            i = end - 1;
        }

        return count;
    }

    /// <summary>An unclaimed read/write piece followed by its PROT_NONE rest (or alone), of exactly <paramref name="size"/> bytes.</summary>
    private static bool AssignReservationOfSize(ReadOnlySpan<Mapping> items, Classification result, ulong size)
    {
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !AnonymousRun.IsAnonymousPrivate(items[i]) || !items[i].IsPrivateReadWrite || (items[i].Permissions & Permissions.Execute) != 0)
            {
                continue;
            }

            // A reservation starts where the one before ended: a gap, a claimed mapping, or another's PROT_NONE rest.
            bool boundaryBefore = i == 0 || items[i - 1].End != items[i].Start || result.IsAssigned(i - 1) || items[i - 1].IsNoAccess;
            if (!boundaryBefore)
            {
                continue;
            }

            int end = i + 1;
            if (end < items.Length && items[end].Start == items[i].End && !result.IsAssigned(end) && AnonymousRun.IsAnonymousPrivate(items[end]) && items[end].IsNoAccess)
            {
                end++;
            }

            bool boundaryAfter = end == items.Length || items[end].Start != items[end - 1].End || result.IsAssigned(end);
            if (boundaryAfter && items[end - 1].End - items[i].Start == size)
            {
                AnonymousRun.Assign(result, i, end, RegionCategory.CodeCache);
                return true;
            }
        }

        return false;
    }
}
