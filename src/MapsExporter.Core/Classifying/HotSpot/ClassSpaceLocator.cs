using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The CDS archive and the compressed class space behind it. The archive's metadata is a <c>*.jsa</c> file
/// mapping inside a 16 MiB reservation whose unused rest is PROT_NONE (JDK 25 also keeps a page of PROT_NONE in
/// front); the class space (metaspace for class metadata, 1 GiB by default) starts right where that ends. A
/// <c>*.jsa</c> mapping followed by anonymous read/write memory is the archived heap region instead, which lies
/// inside the Java heap (see <see cref="JavaHeapLocator"/>). The class space is one reservation of
/// CompressedClassSpaceSize (hsperfdata's compressedclassspace.maxCapacity): with it, the run ends there, so a
/// neighbour with the same shape (Parallel's mark bitmap, committed whole) is not taken in. Without a CDS archive
/// (<c>-Xshare:off</c>, or the Zero VM, which has none) the class space sits right above the heap and can merge
/// with it; then it is found by that size only, once the heap is placed (<see cref="LocateBySize"/>).
/// </summary>
internal static class ClassSpaceLocator
{
    /// <summary>HotSpot's default CompressedClassSpaceSize, the class space's size when hsperfdata does not say.</summary>
    private const ulong DefaultClassSpaceBytes = 1UL << 30;

    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData = null)
    {
        ulong? classSpace = perfData?.ClassSpaceMaxBytes is { } max && max > 0 ? (ulong)max : null;
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (result[i] != RegionCategory.CdsArchive)
            {
                continue;
            }

            if (IsArchivedHeapRegion(items, i))
            {
                result.Assign(i, RegionCategory.JavaHeap);
                continue;
            }

            // PROT_NONE in front of the archive, within its reservation.
            if (i > 0 && !result.IsAssigned(i - 1) && IsGap(items[i - 1]) && items[i - 1].End == items[i].Start && items[i - 1].Size <= 64 * 1024)
            {
                result.Assign(i - 1, RegionCategory.CdsArchive);
            }

            // Other archive mappings and the anonymous rest of the reservation.
            int j = i + 1;
            while (j < items.Length && items[j].Start == items[j - 1].End
                && (result[j] == RegionCategory.CdsArchive ? !IsArchivedHeapRegion(items, j) : !result.IsAssigned(j) && IsGap(items[j])))
            {
                result.Assign(j, RegionCategory.CdsArchive);
                j++;
            }

            // The compressed class space follows directly.
            if (j < items.Length && items[j].Start == items[j - 1].End && !result.IsAssigned(j) && AnonymousRun.IsReservationPiece(items[j]))
            {
                j = AssignClassSpace(table, result, j, classSpace ?? DefaultSizeAtBoundary(items, result, j));
                items = table.Items;
            }

            i = j - 1;
        }
    }

    /// <summary>
    /// Without a CDS archive in front (or with one the class space does not follow), the class space by its size
    /// alone: a run of metaspace pieces starting on a mapping boundary that holds exactly that many bytes, the one
    /// right above the heap first (where HotSpot puts it then, for zero-based class pointers).
    /// </summary>
    public static void LocateBySize(MappingTable table, Classification result, HsPerfData? perfData)
    {
        if (perfData?.ClassSpaceMaxBytes is not { } max || max <= 0 || HasClassSpace(table.Items, result, (ulong)max))
        {
            return;
        }

        ulong bytes = (ulong)max;

        ReadOnlySpan<Mapping> items = table.Items;
        int best = -1;
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !MetaspaceLocator.IsMetaspacePiece(items[i]) || (i > 0 && items[i - 1].End == items[i].Start && !result.IsAssigned(i - 1)))
            {
                continue;
            }

            int end = AnonymousRun.End(items, result, i, static m => MetaspaceLocator.IsMetaspacePiece(m));
            if (items[end - 1].End - items[i].Start >= bytes)
            {
                bool aboveHeap = i > 0 && items[i - 1].End == items[i].Start && result[i - 1] == RegionCategory.JavaHeap;
                if (best < 0 || aboveHeap)
                {
                    best = i;
                }
            }

            i = end - 1;
        }

        if (best >= 0)
        {
            AssignClassSpace(table, result, best, bytes);
        }
    }

    /// <summary>
    /// Without hsperfdata (a dump) the class space's size is unknown, and the run of reservation pieces behind the
    /// archive can go on into the Java heap: the archive is placed at a random address (JDK 21+ relocates it by
    /// default), and when the class space ends where the heap begins their pieces have the same shape. The default
    /// size ends the run where a mapping starts exactly there; a run ending earlier, or a class space of another size
    /// with no boundary at 1 GiB, is taken whole as before.
    /// </summary>
    private static ulong? DefaultSizeAtBoundary(ReadOnlySpan<Mapping> items, Classification result, int first)
    {
        ulong stop = items[first].Start + DefaultClassSpaceBytes;
        int end = AnonymousRun.End(items, result, first, static m => MetaspaceLocator.IsMetaspacePiece(m));
        for (int i = first + 1; i < end; i++)
        {
            if (items[i].Start == stop)
            {
                return DefaultClassSpaceBytes;
            }
        }

        return null;
    }

    /// <summary>The class space from <paramref name="first"/>: its metaspace pieces, up to <paramref name="bytes"/> when known (a mapping crossing that end is split there).</summary>
    private static int AssignClassSpace(MappingTable table, Classification result, int first, ulong? bytes)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        int end = AnonymousRun.End(items, result, first, static m => MetaspaceLocator.IsMetaspacePiece(m));
        if (bytes is { } size)
        {
            ulong stop = items[first].Start + size;
            int last = first;
            while (last < end && items[last].End <= stop)
            {
                last++;
            }

            if (last < end && items[last].Start < stop)
            {
                result.SplitAt(table, last, stop);
                last++;
            }

            end = last;
        }

        AnonymousRun.Assign(result, first, end, RegionCategory.Metaspace);
        return end;
    }

    /// <summary>Whether metaspace of at least the class space's size is already found in one run (behind the CDS archive).</summary>
    private static bool HasClassSpace(ReadOnlySpan<Mapping> items, Classification result, ulong bytes)
    {
        for (int i = 0; i < items.Length; i++)
        {
            if (result[i] != RegionCategory.Metaspace)
            {
                continue;
            }

            int end = i + 1;
            while (end < items.Length && result[end] == RegionCategory.Metaspace && items[end].Start == items[end - 1].End)
            {
                end++;
            }

            if (items[end - 1].End - items[i].Start >= bytes)
            {
                return true;
            }

            i = end - 1;
        }

        return false;
    }

    /// <summary>An archive mapping directly followed by anonymous read/write memory: heap objects mapped at the heap's top.</summary>
    public static bool IsArchivedHeapRegion(ReadOnlySpan<Mapping> items, int i) =>
        i + 1 < items.Length && items[i + 1].Start == items[i].End
        && AnonymousRun.IsAnonymousPrivate(items[i + 1]) && items[i + 1].IsPrivateReadWrite;

    private static bool IsGap(in Mapping m) => AnonymousRun.IsAnonymousPrivate(m) && m.IsNoAccess;
}
