using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The JIT code cache: HotSpot's only anonymous executable memory. Each code heap segment is a committed
/// <c>rwxp</c> head followed by its PROT_NONE remainder, the segments back to back (240 MiB by default).
/// The code heap's segment maps (small read/write reservations beside it) are not told apart here.
/// </summary>
internal static class CodeCacheLocator
{
    public static void Locate(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !IsCode(items[i]))
            {
                continue;
            }

            int end = AnonymousRun.End(items, result, i, static m => IsCode(m) || (AnonymousRun.IsAnonymousPrivate(m) && m.IsNoAccess));
            AnonymousRun.Assign(result, i, end, RegionCategory.CodeCache);
            i = end - 1;
        }
    }

    private static bool IsCode(in Mapping m) =>
        AnonymousRun.IsAnonymousPrivate(m) && (m.Permissions & Permissions.Execute) != 0 && (m.Permissions & Permissions.Write) != 0;
}
