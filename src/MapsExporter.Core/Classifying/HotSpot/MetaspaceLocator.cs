using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// Metaspace nodes (JDK 16+): 64 MiB reservations committed in 64 KiB granules, so a run of read/write and
/// PROT_NONE pieces on 64 KiB boundaries spanning whole multiples of 64 MiB. With smaps flags, committed
/// pieces carry <c>ac</c> (HotSpot commits with mmap) and uncommitted ones <c>nr</c>. The class space is found
/// behind the CDS archive by <see cref="ClassSpaceLocator"/>.
/// </summary>
internal static class MetaspaceLocator
{
    private const ulong NodeSize = 64UL * 1024 * 1024;
    private const ulong Granule = 64 * 1024;

    public static void Locate(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !IsNodePiece(items[i]))
            {
                continue;
            }

            int end = AnonymousRun.End(items, result, i, static m => IsNodePiece(m));
            if (IsNodeRun(items, i, end))
            {
                AnonymousRun.Assign(result, i, end, RegionCategory.Metaspace);
            }

            i = end - 1;
        }
    }

    /// <summary>Node pieces, some committed, spanning whole nodes.</summary>
    public static bool IsNodeRun(ReadOnlySpan<Mapping> items, int from, int to)
    {
        bool committed = false;
        for (int j = from; j < to; j++)
        {
            if (!IsNodePiece(items[j]))
            {
                return false;
            }

            committed |= items[j].IsPrivateReadWrite;
        }

        return committed && (items[to - 1].End - items[from].Start) % NodeSize == 0;
    }

    /// <summary>
    /// A piece of a metaspace node: within nodes of 64 MiB, a committed piece is at most one node and an
    /// uncommitted one at most the tail of one node and the head of the next; larger pieces belong to other
    /// reservations (ZGC's 8 GiB GC space has the same shape).
    /// </summary>
    private static bool IsNodePiece(in Mapping m) => m.Size <= (m.IsNoAccess ? 2 * NodeSize : NodeSize) && IsMetaspacePiece(m);

    /// <summary>A piece of metaspace or class space: 64 KiB granules, committed by HotSpot (<c>ac</c>) or reserved (<c>nr</c>).</summary>
    public static bool IsMetaspacePiece(in Mapping m)
    {
        if (!AnonymousRun.IsReservationPiece(m) || m.Start % Granule != 0 || m.End % Granule != 0)
        {
            return false;
        }

        if (!m.HasFlag(VmFlags.Known))
        {
            return true;
        }

        return m.IsNoAccess
            ? m.HasFlag(VmFlags.NoReserve)
            : m.HasFlag(VmFlags.Accountable) && !m.HasFlag(VmFlags.NoReserve) && !m.HasFlag(VmFlags.NoHugePage);
    }
}
