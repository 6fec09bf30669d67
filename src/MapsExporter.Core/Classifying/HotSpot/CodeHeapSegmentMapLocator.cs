using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// Each code heap has a segment map: one byte per code segment (CodeCacheSegmentSize: 64 bytes, 64 more when
/// both C1 and C2 are built in, so 128 in a Server VM and 64 in the Zero, Client and Minimal VMs), a
/// reservation of its own mapped apart from the code cache, page aligned, whose committed part follows the
/// heap's committed part (one byte per committed segment). NMT counts them as Code. The code cache's layout
/// shows each heap's size and committed head, so both parts of its segment map have known sizes: the
/// PROT_NONE rest is found by its exact size, and the committed part is the read/write memory right before it,
/// split off where a neighbour with the same flags merged into it.
/// </summary>
internal static class CodeHeapSegmentMapLocator
{
    private static readonly ulong PageSize = SystemPage.Size;

    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData = null, IProcessMemory? memory = null)
    {
        Span<(ulong Reserved, ulong Committed)> heaps = stackalloc (ulong, ulong)[8];
        int count = CodeHeaps(table.Items, result, heaps);
        ulong segment = count == 0 ? 0 : SegmentSize(table, perfData);
        for (int h = 0; h < count; h++)
        {
            ulong reserved = PageAlign(heaps[h].Reserved / segment);
            ulong committed = Math.Min(reserved, PageAlign(heaps[h].Committed / segment));
            AssignSegmentMap(table, result, reserved, committed, memory);
        }
    }

    /// <summary>
    /// 128 bytes in a Server VM (C1 and C2), 64 in any other: told by java.vm.name (hsperfdata), else by the
    /// directory libjvm.so is installed in (<c>lib/server</c>, <c>lib/zero</c>, <c>lib/client</c>, <c>lib/minimal</c>).
    /// </summary>
    private static ulong SegmentSize(MappingTable table, HsPerfData? perfData)
    {
        if (perfData?.VmName is { Length: > 0 } name)
        {
            return name.Contains("Server VM", StringComparison.Ordinal) ? 128UL : 64UL;
        }

        string? variant = Path.GetFileName(Path.GetDirectoryName(JvmVersionResolver.LibJvmPath(table)));
        return variant is "zero" or "client" or "minimal" ? 64UL : 128UL;
    }

    private static ulong PageAlign(ulong bytes) => (bytes + PageSize - 1) / PageSize * PageSize;

    /// <summary>The code heaps: each from its rwxp head (committed) to the next head or the end of the code cache run.</summary>
    private static int CodeHeaps(ReadOnlySpan<Mapping> items, Classification result, Span<(ulong Reserved, ulong Committed)> heaps)
    {
        int count = 0;
        for (int i = 0; i < items.Length && count < heaps.Length; i++)
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

            heaps[count++] = (items[end - 1].End - items[i].Start, items[i].Size);
            i = end - 1;
        }

        return count;
    }

    private static void AssignSegmentMap(MappingTable table, Classification result, ulong reserved, ulong committed, IProcessMemory? memory)
    {
        for (int i = 0; i < table.Count; i++)
        {
            ref readonly Mapping m = ref table[i];
            if (result.IsAssigned(i) || !AnonymousRun.IsAnonymousPrivate(m))
            {
                continue;
            }

            if (committed == reserved)
            {
                // Fully committed: one read/write mapping of its own.
                if (m.IsPrivateReadWrite && (m.Permissions & Permissions.Execute) == 0 && m.Size == reserved && IsAlone(table, result, i))
                {
                    result.Assign(i, RegionCategory.CodeCache);
                    return;
                }

                continue;
            }

            // The PROT_NONE rest, exactly sized, right behind the committed part.
            if (!m.IsNoAccess || m.Size != reserved - committed || i == 0 || result.IsAssigned(i - 1))
            {
                continue;
            }

            ref readonly Mapping before = ref table[i - 1];
            if (before.End != m.Start || !AnonymousRun.IsAnonymousPrivate(before) || !before.IsPrivateReadWrite
                || (before.Permissions & Permissions.Execute) != 0 || before.Size < committed)
            {
                continue;
            }

            int rw = i - 1;
            if (before.Size > committed)
            {
                result.SplitAt(table, rw, m.Start - committed, memory);
                rw++;
            }

            result.Assign(rw, RegionCategory.CodeCache);
            result.Assign(rw + 1, RegionCategory.CodeCache);
            return;
        }
    }

    private static bool IsAlone(MappingTable table, Classification result, int i) =>
        (i == 0 || table[i - 1].End != table[i].Start || result.IsAssigned(i - 1) || table[i - 1].IsNoAccess)
        && (i + 1 == table.Count || table[i + 1].Start != table[i].End || result.IsAssigned(i + 1));
}
