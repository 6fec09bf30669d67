namespace MapsExporter.Core;

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

    /// <summary>[start, end) of the Java heap reservation when one was found.</summary>
    public (ulong Start, ulong End)? JavaHeapRange { get; internal set; }

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
        LibcArenas = LibcArenaHeaps = ThreadStacks = 0;
        JavaHeapRange = null;
    }

    public bool IsAssigned(int index) => _assigned[index];

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
