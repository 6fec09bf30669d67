using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Finds glibc's main_arena, a static of libc's data (or a static binary's): the oldest thread arena's <c>next</c> is
/// it, the one member of the arena ring that lies in a file's read/write data; with no thread arena, a malloc_state in
/// libc's data whose <c>next</c> is itself. Such a state left as its initialiser left it, or set up empty, means glibc's
/// malloc is unused (another allocator interposed it).
/// </summary>
public static class MainArenaLocator
{
    public static readonly int MaxStateSize = MallocStateLayout.All.Max(l => l.Size);

    /// <summary>The main arena's address and state, the layout it validated in, or that it is unused (another allocator).</summary>
    public static (ulong Address, byte[]? State, MallocStateLayout? Layout, bool Uninitialised) Find(
        MappingTable table, IProcessMemory memory, MallocStateLayout? layout, Dictionary<ulong, byte[]> states,
        Dictionary<ulong, ThreadArenaHeaps> threadArenas, byte[]? libcData, ulong libcAddress, MallocArenaBounds bounds)
    {
        // The oldest thread arena's next is the main arena: the one ring member that is no thread arena.
        if (layout is not null)
        {
            foreach (byte[] state in states.Values)
            {
                ulong next = layout.Next(state);
                if (threadArenas.ContainsKey(next) || !InFileData(table, next))
                {
                    continue;
                }

                byte[] main = new byte[MaxStateSize];
                if (memory.TryRead(next, main) && layout.Validates(main, next, bounds))
                {
                    return (next, main, layout, false);
                }
            }
        }

        if (libcData is null)
        {
            return (0, null, null, false);
        }

        // No thread arena (or none readable): a malloc_state in libc's data whose ring is itself or leads to a thread arena.
        foreach (MallocStateLayout candidate in layout is null ? MallocStateLayout.All : [layout])
        {
            for (int offset = 0; offset + candidate.Size <= libcData.Length; offset += 8)
            {
                ReadOnlySpan<byte> state = libcData.AsSpan(offset, candidate.Size);
                ulong address = libcAddress + (ulong)offset;
                ulong next = candidate.Next(state);
                if (next != address && !threadArenas.ContainsKey(next))
                {
                    continue;
                }

                if (candidate.IsUnusedMain(state, address) && threadArenas.Count == 0)
                {
                    return (0, null, candidate, true);
                }

                if (candidate.Validates(state, address, bounds))
                {
                    byte[] main = new byte[MaxStateSize];
                    state.CopyTo(main);
                    return (address, main, candidate, false);
                }
            }
        }

        return (0, null, null, false);
    }

    private static bool InFileData(MappingTable table, ulong address)
    {
        int i = Classification.IndexOf(table.Items, address);
        return i >= 0 && table[i].Kind == MappingKind.File && table[i].IsPrivateReadWrite && address + (ulong)MaxStateSize <= table[i].End;
    }
}
