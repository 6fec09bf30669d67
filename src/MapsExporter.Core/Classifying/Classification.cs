using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying;

/// <summary>
/// The category of every mapping of one table, plus the counts the layout reveals. Reused across scans:
/// <see cref="Reset"/> keeps the arrays.
/// </summary>
public sealed class Classification
{
    private RegionCategory[] _categories = new RegionCategory[256];
    private bool[] _assigned = new bool[256];

    public int Count { get; private set; }

    /// <summary>glibc arenas other than the main one.</summary>
    public int LibcArenas { get; internal set; }

    /// <summary>64 MiB heaps those arenas consist of.</summary>
    public int LibcArenaHeaps { get; internal set; }

    /// <summary>Thread stacks found, the main thread's <c>[stack]</c> included.</summary>
    public int ThreadStacks { get; internal set; }

    /// <summary>glibc arenas found from their heap_info headers (empty when found by layout).</summary>
    public List<ArenaInfo> Arenas { get; } = [];

    /// <summary>Thread stacks by thread-name group (only when the threads' stack pointers were read).</summary>
    public Dictionary<string, ThreadGroupStacks> ThreadGroups { get; } = new(StringComparer.Ordinal);

    /// <summary>Malloc chunks glibc mmapped on their own, found from their headers.</summary>
    public int MallocMmapChunks { get; internal set; }

    /// <summary>The malloc bookkeeping over all arenas, when the process's memory could be read.</summary>
    public MallocSummary? Malloc { get; internal set; }
    /// <summary>The process's malloc (<see cref="AllocatorDetector"/>).</summary>
    public NativeAllocator Allocator { get; internal set; }

    /// <summary>Exact methods that could not be used for this process, and fell back to layout rules.</summary>
    public HashSet<DecisionMethod> Fallbacks { get; } = [];

    /// <summary>How each category was decided (layout unless an exact method decided it).</summary>
    public DecisionMethod MethodOf(RegionCategory category) => _methods[(int)category];

    private readonly DecisionMethod[] _methods = new DecisionMethod[RegionCategories.Count];

    internal void Decided(RegionCategory category, DecisionMethod method) => _methods[(int)category] = method;

    public ReadOnlySpan<RegionCategory> Categories => _categories.AsSpan(0, Count);

    public RegionCategory this[int index] => _categories[index];

    public void Reset(int count)
    {
        if (_categories.Length < count)
        {
            _categories = new RegionCategory[Math.Max(count, _categories.Length * 2)];
            _assigned = new bool[_categories.Length];
        }

        Count = count;
        Array.Fill(_categories, RegionCategory.Unknown, 0, count);
        Array.Clear(_assigned, 0, count);
        LibcArenas = LibcArenaHeaps = ThreadStacks = MallocMmapChunks = 0;
        Allocator = NativeAllocator.Other;
        Arenas.Clear();
        Malloc = null;
        ThreadGroups.Clear();
        Fallbacks.Clear();
        Array.Clear(_methods);
    }

    public bool IsAssigned(int index) => _assigned[index];

    /// <summary>Splits mapping <paramref name="index"/> of <paramref name="table"/>; both parts keep its category so far.</summary>
    internal void SplitAt(MappingTable table, int index, ulong address, IProcessMemory? memory = null)
    {
        table.SplitAt(index, address, LowResidentBytes(table[index], address, memory));
        if (Count == _categories.Length)
        {
            Array.Resize(ref _categories, _categories.Length * 2);
            Array.Resize(ref _assigned, _assigned.Length * 2);
        }

        Array.Copy(_categories, index + 1, _categories, index + 2, Count - index - 1);
        Array.Copy(_assigned, index + 1, _assigned, index + 2, Count - index - 1);
        _categories[index + 1] = _categories[index];
        _assigned[index + 1] = _assigned[index];
        Count++;
    }

    /// <summary>
    /// The Rss below <paramref name="address"/> from the page table, read over the smaller side (the code heap's
    /// segment map splits from G1's tables, hundreds of MiB); only when there is an Rss to share (smaps), else null.
    /// </summary>
    private static long? LowResidentBytes(in Mapping whole, ulong address, IProcessMemory? memory)
    {
        if (memory is null || whole.ResidentBytes <= 0)
        {
            return null;
        }

        bool anonymous = whole.IsAnonymousPrivateMemory;
        return address - whole.Start <= whole.End - address
            ? memory.ResidentBytes(whole.Start, address, anonymous)
            : whole.ResidentBytes - memory.ResidentBytes(address, whole.End, anonymous);
    }

    /// <summary>The mapping holding <paramref name="address"/>, or -1: mappings are sorted and disjoint.</summary>
    public static int IndexOf(ReadOnlySpan<Mapping> items, ulong address)
    {
        int low = 0, high = items.Length - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            if (address < items[mid].Start)
            {
                high = mid - 1;
            }
            else if (address >= items[mid].End)
            {
                low = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    internal void Assign(int index, RegionCategory category)
    {
        _categories[index] = category;
        _assigned[index] = true;
    }

    /// <summary>Marks the rest as <see cref="RegionCategory.Unknown"/> (already their value) and assigned.</summary>
    internal void AssignRemainingUnknown()
    {
        Array.Fill(_assigned, true, 0, Count);
    }
}

/// <summary>
/// One glibc arena: where its malloc_state lives, how many 64 MiB heaps it has (0 for the main arena, whose heap is
/// <c>[heap]</c>), their resident bytes, and what its malloc_state and free lists say (null where not read).
/// </summary>
public sealed record ArenaInfo(ulong Address, int Heaps, long ResidentBytes, long VirtualBytes)
{
    public bool Main { get; init; }

    /// <summary>glibc's <c>system_mem</c>: what malloc_stats prints as "system bytes".</summary>
    public long? SystemBytes { get; init; }

    /// <summary>System bytes less free bytes: malloc_stats' "in use bytes" (tcache's chunks count as in use, as there).</summary>
    public long? InUseBytes { get; init; }

    /// <summary>Top, fastbins, unsorted and regular bins: malloc_info's fast and rest totals.</summary>
    public long? FreeBytes { get; init; }

    /// <summary>Resident bytes malloc_trim(0) would give back: whole free pages inside free chunks, and the main arena's top.</summary>
    public long? ReleasableBytes { get; init; }

    /// <summary>The top chunk's size, kept even when the free lists could not be read.</summary>
    public long? TopBytes { get; init; }
}

/// <summary>The stacks of one thread-name group.</summary>
public sealed record ThreadGroupStacks(int Threads, long ResidentBytes, long VirtualBytes);
