using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// G1's tables beside the heap, whose sizes follow from the heap's (MaxHeapSize, from hsperfdata): the mark
/// bitmaps, one bit per 8-byte word (heap / 64; JDK 17 keeps two, JDK 25 one), and the block offset table, card
/// table and card counts, one byte per 512-byte card (heap / 512; card counts only before JDK 21). Each is a
/// reservation of its own; neighbouring tables merge, so a run whose size is a sum of table sizes is theirs. One
/// merged with something else stays unknown. The other collectors' structures are not told apart (unknown).
/// </summary>
internal static class GcTableLocator
{
    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData)
    {
        if (perfData?.GcName != "G1" || perfData.HeapMaxBytes is not { } heap || heap <= 0)
        {
            return;
        }

        ulong bitmap = (ulong)heap / 64, cardTable = (ulong)heap / 512;
        bool found = false;
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !AnonymousRun.IsReservationPiece(items[i]))
            {
                continue;
            }

            // Tables reserved back to back merge into one run (two bitmaps with equal flags are one VMA).
            int end = AnonymousRun.End(items, result, i, static m => AnonymousRun.IsReservationPiece(m));
            ulong size = items[end - 1].End - items[i].Start;
            if (items[i].IsPrivateReadWrite && IsSumOfTables(size, bitmap, cardTable))
            {
                AnonymousRun.Assign(result, i, end, RegionCategory.Gc);
                found = true;
            }

            i = end - 1;
        }

        if (found)
        {
            result.Decided(RegionCategory.Gc, DecisionMethod.HsPerfData);
        }
    }

    /// <summary>Up to two bitmaps and three card-sized tables, at least one table.</summary>
    private static bool IsSumOfTables(ulong size, ulong bitmap, ulong cardTable)
    {
        for (ulong bitmaps = 0; bitmaps <= 2; bitmaps++)
        {
            for (ulong tables = 0; tables <= 3; tables++)
            {
                if (bitmaps + tables > 0 && (bitmaps * bitmap) + (tables * cardTable) == size)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
