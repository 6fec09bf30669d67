namespace MapsExporter.Core;

/// <summary>
/// G1's tables beside the heap, whose sizes follow from the heap's (MaxHeapSize, from hsperfdata): the mark
/// bitmaps, one bit per 8-byte word (heap / 64; JDK 17 keeps two, JDK 25 one), and the block offset table, card
/// table and card counts, one byte per 512-byte card (heap / 512; card counts only before JDK 21). Each is a
/// reservation of its own, found by its exact size; one merged with a neighbour stays unknown. The other
/// collectors' structures are not told apart (they remain unknown).
/// </summary>
internal static class GcTableLocator
{
    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData)
    {
        if (perfData?.GcName != "G1" || perfData.HeapMaxBytes is not { } heap || heap <= 0)
        {
            return;
        }

        bool found = false;
        foreach (ulong size in new[] { (ulong)heap / 64, (ulong)heap / 512 })
        {
            // At most three tables of a size; stop when none is left.
            for (int n = 0; n < 3 && AssignReservationOfSize(table, result, size); n++)
            {
                found = true;
            }
        }

        if (found)
        {
            result.Decided(RegionCategory.Gc, DecisionMethod.HsPerfData);
        }
    }

    /// <summary>An unclaimed reservation (read/write, then optionally its PROT_NONE rest) of exactly <paramref name="size"/> bytes, standing alone.</summary>
    private static bool AssignReservationOfSize(MappingTable table, Classification result, ulong size)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !AnonymousRun.IsReservationPiece(items[i]) || !items[i].IsPrivateReadWrite
                || !(i == 0 || items[i - 1].End != items[i].Start || result.IsAssigned(i - 1) || items[i - 1].IsNoAccess))
            {
                continue;
            }

            int end = i + 1;
            if (end < items.Length && items[end].Start == items[i].End && !result.IsAssigned(end) && AnonymousRun.IsAnonymousPrivate(items[end]) && items[end].IsNoAccess)
            {
                end++;
            }

            bool alone = end == items.Length || items[end].Start != items[end - 1].End || result.IsAssigned(end);
            if (alone && items[end - 1].End - items[i].Start == size)
            {
                AnonymousRun.Assign(result, i, end, RegionCategory.Gc);
                return true;
            }
        }

        return false;
    }
}
