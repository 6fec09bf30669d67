using System.Buffers.Binary;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Finds glibc arenas exactly, from the <c>heap_info</c> header at the start of every heap:
/// <c>{ar_ptr, prev, size, mprotect_size, pagesize (glibc 2.35+), pad}</c>. A first heap holds its arena's
/// malloc_state right after the header (<c>ar_ptr == heap + sizeof(heap_info)</c>, 0x30 from 2.35, 0x20 before)
/// and <c>prev == 0</c>; a later heap carries the same ar_ptr and points back to the previous heap. Every 64 MiB
/// boundary inside an anonymous read/write VMA is tried, so heaps merged into one VMA are each found.
/// </summary>
public static class HeapInfoArenaReader
{
    private const ulong HeapSize = ArenaDetector.HeapSize;

    /// <summary>Classifies the arenas' mappings; false when no candidate header could be read (then layout decides).</summary>
    public static bool Detect(MappingTable table, Classification result, IProcessMemory memory, MallocReadLimits? mallocLimits = null)
    {
        ReadOnlySpan<Mapping> items = table.Items;
        Span<byte> header = stackalloc byte[48];
        var heaps = new List<(ulong Address, ulong ArenaPtr, ulong Prev, ulong Size)>();
        bool anyRead = false, anyCandidate = false;
        for (int i = 0; i < items.Length; i++)
        {
            ref readonly Mapping m = ref items[i];
            if (result.IsAssigned(i) || !m.IsPrivateReadWrite || (m.Permissions & Permissions.Execute) != 0
                || m.Kind is not (MappingKind.Anonymous or MappingKind.NamedAnonymous))
            {
                continue;
            }

            for (ulong a = (m.Start + HeapSize - 1) / HeapSize * HeapSize; a < m.End; a += HeapSize)
            {
                anyCandidate = true;
                if (!memory.TryRead(a, header))
                {
                    continue;
                }

                anyRead = true;
                if (TryParse(header, a, out ulong arenaPtr, out ulong prev))
                {
                    heaps.Add((a, arenaPtr, prev, BinaryPrimitives.ReadUInt64LittleEndian(header[16..])));
                }
            }
        }

        if (anyCandidate && !anyRead)
        {
            return false;
        }

        // A later heap must point back to a heap of the same arena; a first heap's ar_ptr is right behind it.
        var firstHeaps = new Dictionary<ulong, ulong>();
        foreach (var heap in heaps)
        {
            if (heap.Prev == 0)
            {
                firstHeaps[heap.ArenaPtr] = heap.Address;
            }
        }

        var byAddress = heaps.ToDictionary(h => h.Address);
        var arenaStats = new Dictionary<ulong, (int Heaps, long Rss, long Vsz)>();
        var arenaHeaps = new Dictionary<ulong, List<(ulong Address, ulong Size)>>();
        foreach (var heap in heaps)
        {
            if (!firstHeaps.ContainsKey(heap.ArenaPtr)
                || (heap.Prev != 0 && !(byAddress.TryGetValue(heap.Prev, out var previous) && previous.ArenaPtr == heap.ArenaPtr)))
            {
                continue;
            }

            var (rss, vsz) = AssignHeap(table, result, heap.Address);
            arenaStats[heap.ArenaPtr] = arenaStats.TryGetValue(heap.ArenaPtr, out var s) ? (s.Heaps + 1, s.Rss + rss, s.Vsz + vsz) : (1, rss, vsz);
            (arenaHeaps.TryGetValue(heap.ArenaPtr, out var list) ? list : arenaHeaps[heap.ArenaPtr] = []).Add((heap.Address, heap.Size));
        }

        var threadArenas = new List<ThreadArenaHeaps>();
        foreach (var (arena, stats) in arenaStats.OrderBy(a => a.Key))
        {
            threadArenas.Add(new ThreadArenaHeaps(new ArenaInfo(arena, stats.Heaps, stats.Rss, stats.Vsz), arena - firstHeaps[arena], arenaHeaps[arena]));
            result.LibcArenaHeaps += stats.Heaps;
        }

        // What each arena holds, from its malloc_state and free lists; the main arena comes first.
        result.Arenas.AddRange(MallocStateReader.Read(table, memory, threadArenas, result, mallocLimits));

        result.LibcArenas = arenaStats.Count;
        return true;
    }

    /// <summary>Validates a header read at <paramref name="address"/>, in either glibc layout.</summary>
    public static bool TryParse(ReadOnlySpan<byte> header, ulong address, out ulong arenaPtr, out ulong prev)
    {
        arenaPtr = BinaryPrimitives.ReadUInt64LittleEndian(header);
        prev = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        ulong mprotectSize = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        ulong pageSize = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        if (size == 0 || size > HeapSize || mprotectSize > HeapSize || (prev != 0 && (prev % HeapSize != 0 || prev == address)))
        {
            return false;
        }

        bool first = prev == 0;
        bool modern = pageSize is 4096 or 16384 or 65536;
        ulong headerSize = modern ? 0x30UL : 0x20UL;
        // A first heap holds its malloc_state right behind the header; a later heap's ar_ptr points into another heap.
        return first ? arenaPtr == address + headerSize : arenaPtr % 16 == 0 && arenaPtr > 0 && (arenaPtr / HeapSize * HeapSize) != address;
    }

    private static (long Rss, long Vsz) AssignHeap(MappingTable table, Classification result, ulong heap)
    {
        long rss = 0, vsz = 0;
        ReadOnlySpan<Mapping> items = table.Items;
        int i = Classification.IndexOf(items, heap);
        for (; i >= 0 && i < items.Length && items[i].Start < heap + HeapSize; i++)
        {
            if (items[i].Kind is not (MappingKind.Anonymous or MappingKind.NamedAnonymous) || (items[i].Permissions & Permissions.Shared) != 0)
            {
                break;
            }

            // A heap's PROT_NONE tail ends at its 64 MiB; beyond, a neighbour's reservation merged into the VMA
            // (a collector's uncommitted bitmap): split it off there.
            if (items[i].End > heap + HeapSize && items[i].IsNoAccess && !result.IsAssigned(i))
            {
                result.SplitAt(table, i, heap + HeapSize);
                items = table.Items;
            }

            ref readonly Mapping m = ref items[i];

            // Heaps merged into one VMA share its Rss: each gets its part in proportion to its bytes.
            ulong from = Math.Max(m.Start, heap), to = Math.Min(m.End, heap + HeapSize);
            vsz += (long)(to - from);
            if (m.ResidentBytes > 0)
            {
                rss += (long)((double)m.ResidentBytes * (to - from) / m.Size);
            }

            result.Assign(i, RegionCategory.LibcArena);
        }

        return (rss, vsz);
    }
}
