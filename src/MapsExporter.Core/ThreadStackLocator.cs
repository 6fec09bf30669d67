namespace MapsExporter.Core;

/// <summary>
/// Finds thread stacks other than <c>[stack]</c> (the kernel stopped naming them in 4.5). Since Linux 6.7
/// MAP_STACK sets <c>nh</c>, so a read/write anonymous VMA with <c>nh</c> is a stack and the PROT_NONE VMAs
/// right below it are its guards (glibc's page, or HotSpot's 16 KiB zone). Without that flag (a maps dump,
/// an older kernel) the shape decides: a small guard directly below a read/write region of stack-like size.
/// A stack glibc keeps cached after its thread exited looks the same; only each thread's stack pointer
/// (a later, exact method) tells them apart.
/// </summary>
public static class ThreadStackLocator
{
    private const ulong MaxGuardBytes = 256 * 1024;
    private const ulong Granule = 64 * 1024;

    public static void Locate(MappingTable table, Classification result)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        bool byFlag = table.HasSmapsFields && AnyStackFlag(items, result);
        for (int i = 0; i < items.Length; i++)
        {
            if (result.IsAssigned(i) || !IsAnonymousReadWrite(items[i]))
            {
                continue;
            }

            bool isStack = byFlag
                ? items[i].HasFlag(VmFlags.NoHugePage) && !items[i].HasFlag(VmFlags.NoReserve)
                : HasStackShape(items, i, result);
            if (!isStack)
            {
                continue;
            }

            result.Assign(i, RegionCategory.ThreadStack);
            result.ThreadStacks++;
            for (int g = i - 1; g >= 0 && IsGuard(items[g], items[g + 1].Start) && !result.IsAssigned(g); g--)
            {
                result.Assign(g, RegionCategory.ThreadStack);
            }
        }
    }

    private static bool AnyStackFlag(ReadOnlySpan<Mapping> items, Classification result)
    {
        for (int i = 0; i < items.Length; i++)
        {
            if (!result.IsAssigned(i) && IsAnonymousReadWrite(items[i]) && items[i].HasFlag(VmFlags.NoHugePage))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasStackShape(ReadOnlySpan<Mapping> items, int i, Classification result)
    {
        if (i == 0 || result.IsAssigned(i - 1) || !IsGuard(items[i - 1], items[i].Start))
        {
            return false;
        }

        ulong guard = items[i - 1].Size, stack = items[i].Size;
        // Guards are pages, never whole 64 KiB granules (HotSpot commits metaspace in those).
        return guard % Granule != 0 && stack >= Granule && (stack % Granule == 0 || (stack + guard) % Granule == 0);
    }

    private static bool IsAnonymousReadWrite(in Mapping m) =>
        m.Kind == MappingKind.Anonymous && m.IsPrivateReadWrite && (m.Permissions & Permissions.Execute) == 0;

    private static bool IsGuard(in Mapping m, ulong nextStart) =>
        m.Kind == MappingKind.Anonymous && m.IsNoAccess && (m.Permissions & Permissions.Shared) == 0
        && m.End == nextStart && m.Size <= MaxGuardBytes && !m.HasFlag(VmFlags.NoReserve);
}
