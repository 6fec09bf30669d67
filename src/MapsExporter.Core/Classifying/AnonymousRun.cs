using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying;

/// <summary>
/// Helpers over runs of adjacent anonymous private mappings, the shape HotSpot's reservations take:
/// committed parts read/write (or rwx for code), the rest PROT_NONE.
/// </summary>
internal static class AnonymousRun
{
    public static bool IsAnonymousPrivate(in Mapping m) =>
        m.Kind == MappingKind.Anonymous && (m.Permissions & Permissions.Shared) == 0;

    /// <summary>Read/write without execute, or no access at all: a piece of a HotSpot reservation.</summary>
    public static bool IsReservationPiece(in Mapping m) =>
        IsAnonymousPrivate(m) && (m.IsNoAccess || (m.IsPrivateReadWrite && (m.Permissions & Permissions.Execute) == 0));

    /// <summary>The index after the last mapping of the run that starts at <paramref name="first"/>.</summary>
    public static int End(ReadOnlySpan<Mapping> items, Classification result, int first, Func<Mapping, bool> belongs)
    {
        int i = first + 1;
        while (i < items.Length && items[i].Start == items[i - 1].End && !result.IsAssigned(i) && belongs(items[i]))
        {
            i++;
        }

        return i;
    }

    public static void Assign(Classification result, int from, int to, RegionCategory category)
    {
        for (int i = from; i < to; i++)
        {
            result.Assign(i, category);
        }
    }
}
