using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The collector's tables beside the heap, whose sizes follow from the heap's (<see cref="GcTableSizes"/>, from
/// hsperfdata). Each is a reservation of its own; neighbouring tables merge, so a run of anonymous reservation
/// pieces whose size is a sum of table sizes is theirs, each table used once. One merged with something else
/// stays unknown. Runs before the metaspace nodes: a table can be 64 MiB (Parallel's bitmap for a 2 GiB heap,
/// G1's for 4 GiB) and so have a node's size. Runs that cannot be a node (one committed piece: Parallel's bitmap
/// is committed whole; off a node's 16 MiB alignment) take their tables first; of the runs that could be either
/// (16 MiB aligned, committed in parts) as many as the JVM's metaspace reservation needs stay nodes
/// (<see cref="KeepNodesForMetaspace"/>), the others are tables while a table of their size is left.
/// A second pass after malloc's chunks behind other mappings are split off finds a table one was merged into,
/// with the tables the first pass left; not for G1, whose other reservations (mark stack, card set tables) are
/// not sized here: a leftover of theirs beside a split piece could add up to a table by chance.
/// </summary>
internal static class GcTableLocator
{
    private const ulong NodeAlignment = 16UL * 1024 * 1024;

    public static void Locate(MappingTable table, Classification result, HsPerfData? perfData, bool secondPass = false)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        if (perfData is null || GcTableSizes.For(perfData, HeapReservation(items, result, out ulong heapEnd), heapEnd) is not { } tables
            || (secondPass && !GcTableSizes.SizesEveryTable(perfData)))
        {
            return;
        }

        HashSet<ulong> sums = GcTableSizes.Sums(tables);
        bool[] used = new bool[tables.Length];
        var candidates = new List<(bool NodeLike, ulong Size, int From, int To)>();
        ulong nodeBytes = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (result[i] == RegionCategory.Gc)
            {
                // Found by an earlier pass: its tables are taken.
                int last = i + 1;
                while (last < items.Length && result[last] == RegionCategory.Gc && items[last].Start == items[last - 1].End)
                {
                    last++;
                }

                TakeTables(tables, used, items[last - 1].End - items[i].Start);
                i = last - 1;
                continue;
            }

            // A library's .bss (libc's is 52 KiB, the sum of ZGC's tables for a 128 MiB heap on JDK 25) is not.
            if (result.IsAssigned(i) || !AnonymousRun.IsReservationPiece(items[i]) || LibraryBssAttributor.IsBss(items, result, i))
            {
                continue;
            }

            // Tables reserved back to back merge into one run (two bitmaps with equal flags are one VMA); a
            // neighbour's guard page (PROT_NONE, at most 64 KiB) may end or start the run.
            int end = AnonymousRun.End(items, result, i, static m => AnonymousRun.IsReservationPiece(m));
            if (Trimmed(items, i, end, sums) is { } run)
            {
                candidates.Add((IsMetaspaceNodeLike(items, run.From, run.To), items[run.To - 1].End - items[run.From].Start, run.From, run.To));
            }
            else if (MetaspaceLocator.IsNodeRun(items, i, end))
            {
                nodeBytes += items[end - 1].End - items[i].Start;
            }

            i = end - 1;
        }

        KeepNodesForMetaspace(candidates, perfData, nodeBytes);

        // Runs that cannot be a node first; the largest first (a large run of exactly a sum of tables is hardly
        // chance; a page or two of anonymous memory can be), then by address.
        candidates.Sort(static (a, b) => a.NodeLike != b.NodeLike ? a.NodeLike.CompareTo(b.NodeLike)
            : a.Size != b.Size ? b.Size.CompareTo(a.Size) : a.From.CompareTo(b.From));
        bool found = false;
        foreach ((_, ulong size, int from, int to) in candidates)
        {
            if (TakeTables(tables, used, size))
            {
                AnonymousRun.Assign(result, from, to, RegionCategory.Gc);
                found = true;
            }
        }

        if (found)
        {
            result.Decided(RegionCategory.Gc, DecisionMethod.HsPerfData);
        }
    }

    /// <summary>
    /// Leaves to the metaspace nodes the runs that could be either, as many bytes of them as the JVM's non-class
    /// metaspace reservation (hsperfdata: metaspace.maxCapacity less compressedclassspace.maxCapacity, as of the
    /// last collection; nodes are added between, never removed) needs beyond the runs that can only be nodes. A
    /// set of such runs of exactly that size is kept (the first in address order); if none fits, or the JVM does
    /// not say, all of them are.
    /// </summary>
    private static void KeepNodesForMetaspace(List<(bool NodeLike, ulong Size, int From, int To)> candidates, HsPerfData perfData, ulong nodeBytes)
    {
        var nodeLike = candidates.FindAll(static c => c.NodeLike);
        if (nodeLike.Count == 0)
        {
            return;
        }

        long? metaspace = perfData.MetaspaceMaxBytes, classSpace = perfData.ClassSpaceMaxBytes;
        long needed = metaspace is { } m && m > 0 ? m - (classSpace ?? 0) - (long)nodeBytes : long.MaxValue;
        if (needed <= 0)
        {
            return;
        }

        int keep = -1;
        if (nodeLike.Count <= 16)
        {
            for (int mask = 1; mask < 1 << nodeLike.Count && keep < 0; mask++)
            {
                long bytes = 0;
                for (int k = 0; k < nodeLike.Count; k++)
                {
                    bytes += (mask & (1 << k)) != 0 ? (long)nodeLike[k].Size : 0;
                }

                keep = bytes == needed ? mask : -1;
            }
        }

        for (int k = 0; k < nodeLike.Count; k++)
        {
            if (keep < 0 || (keep & (1 << k)) != 0)
            {
                candidates.Remove(nodeLike[k]);
            }
        }
    }

    /// <summary>The run, or the run without a guard page at either end, whose size is a sum of tables.</summary>
    private static (int From, int To)? Trimmed(ReadOnlySpan<Mapping> items, int from, int to, HashSet<ulong> sums)
    {
        const ulong GuardBytes = 64 * 1024;
        bool guardFirst = to - from > 1 && items[from].IsNoAccess && items[from].Size <= GuardBytes;
        bool guardLast = to - from > 1 && items[to - 1].IsNoAccess && items[to - 1].Size <= GuardBytes;
        foreach ((int f, int t) in new[] { (from, to), (from, to - 1), (from + 1, to), (from + 1, to - 1) })
        {
            if ((f > from && !guardFirst) || (t < to && !guardLast) || f >= t)
            {
                continue;
            }

            if (sums.Contains(items[t - 1].End - items[f].Start))
            {
                return (f, t);
            }
        }

        return null;
    }

    /// <summary>
    /// Marks the fewest unused tables (one size each) that add up to <paramref name="size"/> (a run that is one
    /// table takes that table, not two smaller ones of the same total); false, and nothing marked, if none do.
    /// </summary>
    private static bool TakeTables(ulong[][] tables, bool[] used, ulong size)
    {
        for (int count = 1; count <= tables.Length; count++)
        {
            if (TakeTables(tables, used, 0, size, count))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TakeTables(ulong[][] tables, bool[] used, int next, ulong size, int count)
    {
        if (size == 0 || count == 0)
        {
            return size == 0;
        }

        for (int t = next; t < tables.Length; t++)
        {
            if (used[t])
            {
                continue;
            }

            foreach (ulong bytes in tables[t])
            {
                if (bytes <= size)
                {
                    used[t] = true;
                    if (TakeTables(tables, used, t + 1, size - bytes, count - 1))
                    {
                        return true;
                    }

                    used[t] = false;
                }
            }
        }

        return false;
    }

    /// <summary>The heap's reserved address space (ZGC's views and their reservation) and where it ends.</summary>
    private static ulong HeapReservation(ReadOnlySpan<Mapping> items, Classification result, out ulong end)
    {
        ulong bytes = 0;
        end = 0;
        for (int i = 0; i < items.Length; i++)
        {
            if (result[i] == RegionCategory.JavaHeap)
            {
                bytes += items[i].Size;
                end = Math.Max(end, items[i].End);
            }
        }

        return bytes;
    }

    private static bool IsMetaspaceNodeLike(ReadOnlySpan<Mapping> items, int from, int to) =>
        to - from > 1 && items[from].Start % NodeAlignment == 0 && MetaspaceLocator.IsNodeRun(items, from, to);
}
