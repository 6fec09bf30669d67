using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The CDS archive and the compressed class space behind it. The archive's metadata is a <c>*.jsa</c> file
/// mapping inside a 16 MiB reservation whose unused rest is PROT_NONE (JDK 25 also keeps a page of PROT_NONE in
/// front); the class space (metaspace for class metadata, 1 GiB by default) starts right where that ends. A
/// <c>*.jsa</c> mapping followed by anonymous read/write memory is the archived heap region instead, which lies
/// inside the Java heap (see <see cref="JavaHeapLocator"/>). With <c>-Xshare:off</c> the class space sits right
/// above the heap and can merge with it; only the JVM's own figures (a later, exact method) separate them then.
/// </summary>
internal static class ClassSpaceLocator
{
    public static void Locate(MappingTable table, Classification result)
    {
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
                int end = AnonymousRun.End(items, result, j, static m => MetaspaceLocator.IsMetaspacePiece(m));
                AnonymousRun.Assign(result, j, end, RegionCategory.Metaspace);
                j = end;
            }

            i = j - 1;
        }
    }

    /// <summary>An archive mapping directly followed by anonymous read/write memory: heap objects mapped at the heap's top.</summary>
    public static bool IsArchivedHeapRegion(ReadOnlySpan<Mapping> items, int i) =>
        i + 1 < items.Length && items[i + 1].Start == items[i].End
        && AnonymousRun.IsAnonymousPrivate(items[i + 1]) && items[i + 1].IsPrivateReadWrite;

    private static bool IsGap(in Mapping m) => AnonymousRun.IsAnonymousPrivate(m) && m.IsNoAccess;
}
