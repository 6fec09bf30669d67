using System.Buffers.Binary;
using System.Diagnostics;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>A thread arena found from its heaps: its malloc_state, its heap_info size and its heaps (address, <c>size</c>).</summary>
public sealed record ThreadArenaHeaps(ArenaInfo Arena, ulong HeaderSize, IReadOnlyList<(ulong Address, ulong Size)> Heaps);

/// <summary>
/// Reads every glibc arena's bookkeeping from outside, read-only: the layout chosen by validating the arenas' own
/// malloc_state (<see cref="MallocStateLayout"/>), the main arena found through the arena ring (the one member of
/// <c>next</c>'s ring that lies in a file's data, libc's or a static binary's) or, with no thread arena, by scanning
/// libc's data for a malloc_state whose <c>next</c> is itself; mp_ by its pattern (<see cref="MallocParametersLocator"/>).
/// Each arena is a consistent snapshot or nothing: its lock free, its malloc_state the same bytes before and after the
/// walk, every chunk passing the walker's checks; else it is read again, up to <see cref="MallocReadLimits.Attempts"/>
/// times, and then counted as a <see cref="DecisionMethod.MallocState"/> fallback, keeping its system bytes and top.
/// </summary>
public static class MallocStateReader
{
    private const int MaxLibcDataBytes = 64 * 1024;
    private const int MaxRingHops = 4096;
    private const int NonContiguousBit = 2;
    private static readonly int MaxStateSize = MainArenaLocator.MaxStateSize;

    /// <summary>
    /// The arenas, the main one first and the rest in ring order (malloc_stats' "Arena N" order), each with its figures;
    /// sets <see cref="Classification.Malloc"/>. Thread arenas the reader could not place keep their heap figures.
    /// </summary>
    public static IReadOnlyList<ArenaInfo> Read(MappingTable table, IProcessMemory memory, IReadOnlyList<ThreadArenaHeaps> threadArenas, Classification result, MallocReadLimits? limits = null)
    {
        limits ??= MallocReadLimits.Default;
        if (limits.MaxChunks < 0)
        {
            return [.. threadArenas.Select(a => a.Arena)];
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(limits.MaxDuration.TotalSeconds * Stopwatch.Frequency);
        ulong pageSize = (ulong)Environment.SystemPageSize;
        ReadOnlySpan<Mapping> items = table.Items;
        var (heapStart, heapEnd, heapRss, heapVsz) = MainHeap(items);
        byte[]? libcData = ReadLibcData(table, memory, out ulong libcAddress);
        if (libcData is null && threadArenas.Count == 0)
        {
            return [];
        }

        // Each thread arena's state, read once here for the layout and the ring, and again in its walk.
        var states = new Dictionary<ulong, byte[]>();
        foreach (ThreadArenaHeaps arena in threadArenas)
        {
            byte[] state = new byte[MaxStateSize];
            if (memory.TryRead(arena.Arena.Address, state))
            {
                states[arena.Arena.Address] = state;
            }
        }

        var byAddress = threadArenas.ToDictionary(a => a.Arena.Address);
        MallocStateLayout? layout = ChooseLayout(threadArenas, states);
        var mainBounds = new MallocArenaBounds([(heapStart, heapEnd)]);
        (ulong main, byte[]? mainState, MallocStateLayout? mainLayout, bool uninitialised) = MainArenaLocator.Find(table, memory, layout, states, byAddress, libcData, libcAddress, mainBounds);
        layout ??= mainLayout;

        MallocParameters? mp = null;
        if (libcData is not null && MallocParametersLocator.Locate(libcData, libcAddress, heapStart) is { } located)
        {
            mp = MallocParametersLocator.Read(memory, located.Address, located.Layout, heapStart);
        }

        if (uninitialised)
        {
            // Another allocator took malloc over: glibc's arenas hold nothing to read.
            result.Malloc = MallocSummary.Of(null, [], mp);
            return [.. threadArenas.Select(a => a.Arena)];
        }

        if (layout is null)
        {
            result.Fallbacks.Add(DecisionMethod.MallocState);
            return [.. threadArenas.Select(a => a.Arena)];
        }

        var walker = new MallocFreeListWalker(memory, pageSize);
        long budget = limits.MaxChunks;
        bool fallback = false;
        var arenas = new List<ArenaInfo>();
        if (main != 0)
        {
            // systrim gives back through sbrk, so only from a contiguous main arena, in THP units when glibc uses THP.
            bool contiguous = (BinaryPrimitives.ReadInt32LittleEndian(mainState.AsSpan(4)) & NonContiguousBit) == 0;
            ulong trimPage = !contiguous ? 0 : mp?.ThpPageSize is > 0 ? mp.Value.ThpPageSize : pageSize;
            ArenaInfo info = new(main, 0, heapRss, heapVsz) { Main = true };
            arenas.Add(ReadArena(memory, walker, layout, info, mainState!, mainBounds, true, trimPage, limits, ref budget, deadline, ref fallback));
        }

        foreach (ulong address in RingOrder(layout, main, mainState, states, byAddress))
        {
            ThreadArenaHeaps arena = byAddress[address];
            byte[] state = states.TryGetValue(address, out byte[]? read) ? read : new byte[MaxStateSize];
            arenas.Add(ReadArena(memory, walker, layout, arena.Arena, state, BoundsOf(arena, layout), false, 0, limits, ref budget, deadline, ref fallback));
        }

        if (fallback)
        {
            result.Fallbacks.Add(DecisionMethod.MallocState);
        }

        result.Malloc = MallocSummary.Of(main != 0 ? MallocSummary.Glibc : null, arenas, mp);
        return arenas;
    }

    /// <summary>Above 56 bits (5-level paging's user space) system_mem cannot be real.</summary>
    private const ulong MaxSystemBytes = 1UL << 56;

    /// <summary>One arena, retried while torn; a fallback keeps system bytes and top from the last state that validated.</summary>
    private static ArenaInfo ReadArena(IProcessMemory memory, MallocFreeListWalker walker, MallocStateLayout layout, ArenaInfo info, byte[] state, MallocArenaBounds bounds, bool main, ulong trimPage, MallocReadLimits limits, ref long budget, long deadline, ref bool fallback)
    {
        byte[] after = new byte[state.Length];
        long? system = null, top = null;
        for (int attempt = 0; attempt < limits.Attempts; attempt++)
        {
            if (attempt > 0)
            {
                Thread.Yield();
                if (!memory.TryRead(info.Address, state))
                {
                    break;
                }
            }

            if (!layout.Validates(state, info.Address, bounds))
            {
                continue;
            }

            // The target's own memory: a system_mem beyond any address space is not a state (found by the malloc fuzz
            // target: it was published as negative system and in-use bytes).
            if (layout.SystemMem(state) > MaxSystemBytes)
            {
                continue;
            }

            system = (long)layout.SystemMem(state);
            top = walker.TryReadTop(layout, state, bounds, out ulong topSize) ? (long)topSize : top;
            if (MallocStateLayout.Mutex(state) != 0)
            {
                continue;
            }

            MallocWalk walk = walker.Walk(layout, state, info.Address, bounds, main, trimPage, budget, deadline);
            budget -= walk.Chunks;
            if (walk.OverBudget)
            {
                break;
            }

            if (!walk.Consistent || !memory.TryRead(info.Address, after) || !after.AsSpan(0, layout.Size).SequenceEqual(state.AsSpan(0, layout.Size)))
            {
                continue;
            }

            long free = (long)walk.FreeBytes;
            if (free > system)
            {
                continue; // more free than the arena holds: a torn or corrupt read, never a real arena
            }

            return info with
            {
                SystemBytes = system,
                FreeBytes = free,
                InUseBytes = system - free,
                ReleasableBytes = Resident(memory, walk.TrimRanges),
                TopBytes = (long)walk.TopBytes,
            };
        }

        fallback = true;
        return info with { SystemBytes = system, TopBytes = top };
    }

    private static long? Resident(IProcessMemory memory, IReadOnlyList<(ulong Start, ulong Length)> ranges)
    {
        long total = 0;
        foreach (var (start, length) in ranges)
        {
            if (memory.AnonymousResidentBytes(start, start + length) is not { } resident)
            {
                return null;
            }

            total += resident;
        }

        return total;
    }

    /// <summary>The layout in which a thread arena validates and whose system_mem is the sum of its heaps' sizes.</summary>
    private static MallocStateLayout? ChooseLayout(IReadOnlyList<ThreadArenaHeaps> arenas, Dictionary<ulong, byte[]> states)
    {
        foreach (ThreadArenaHeaps arena in arenas)
        {
            if (!states.TryGetValue(arena.Arena.Address, out byte[]? state))
            {
                continue;
            }

            ulong heapBytes = arena.Heaps.Aggregate(0UL, (sum, h) => sum + h.Size);
            foreach (MallocStateLayout layout in MallocStateLayout.All)
            {
                if (layout.Validates(state, arena.Arena.Address, BoundsOf(arena, layout)) && layout.SystemMem(state) == heapBytes)
                {
                    return layout;
                }
            }
        }

        return null;
    }

    /// <summary>Chunks lie behind the malloc_state in an arena's first heap, behind the heap_info in the later ones.</summary>
    private static MallocArenaBounds BoundsOf(ThreadArenaHeaps arena, MallocStateLayout layout) =>
        new(arena.Heaps.Select(h => (h.Address + (arena.Arena.Address - h.Address == arena.HeaderSize ? arena.HeaderSize + (ulong)layout.Size : arena.HeaderSize), h.Address + h.Size)));

    /// <summary>main.next, its next, ... back to main: newest thread arena first, as glibc numbers them; then any not on the ring.</summary>
    private static List<ulong> RingOrder(MallocStateLayout layout, ulong main, byte[]? mainState, Dictionary<ulong, byte[]> states, Dictionary<ulong, ThreadArenaHeaps> arenas)
    {
        var order = new List<ulong>();
        var seen = new HashSet<ulong>();
        if (mainState is not null)
        {
            ulong at = layout.Next(mainState);
            for (int hops = 0; at != main && hops < MaxRingHops && arenas.ContainsKey(at) && seen.Add(at) && states.TryGetValue(at, out byte[]? state); hops++)
            {
                order.Add(at);
                at = layout.Next(state);
            }
        }

        order.AddRange(arenas.Keys.Where(a => !seen.Contains(a)).Order());
        return order;
    }

    /// <summary>[heap]: the main arena's sbrk heap (one VMA, or more if something split it).</summary>
    private static (ulong Start, ulong End, long Rss, long Vsz) MainHeap(ReadOnlySpan<Mapping> items)
    {
        ulong start = 0, end = 0;
        long rss = 0, vsz = 0;
        foreach (ref readonly Mapping m in items)
        {
            if (m.Kind == MappingKind.Heap && (start == 0 || m.Start == end))
            {
                start = start == 0 ? m.Start : start;
                end = m.End;
                rss += Math.Max(0, m.ResidentBytes);
                vsz += (long)m.Size;
            }
        }

        return (start, end, rss, vsz);
    }

    /// <summary>libc's file-backed read/write mapping (its .data, where main_arena and mp_ live), read whole up to 64 KiB.</summary>
    private static byte[]? ReadLibcData(MappingTable table, IProcessMemory memory, out ulong address)
    {
        address = 0;
        for (int i = 0; i < table.Count; i++)
        {
            ref readonly Mapping m = ref table[i];
            if (m.Kind != MappingKind.File || !m.IsPrivateReadWrite || !IsLibc(table.PathOf(i)))
            {
                continue;
            }

            byte[] data = new byte[(int)Math.Min(m.Size, MaxLibcDataBytes)];
            if (memory.TryRead(m.Start, data))
            {
                address = m.Start;
                return data;
            }
        }

        return null;
    }

    private static bool IsLibc(string? path)
    {
        string name = Path.GetFileName(path ?? "");
        return name == "libc.so.6" || (name.StartsWith("libc-2.", StringComparison.Ordinal) && name.EndsWith(".so", StringComparison.Ordinal));
    }
}
