namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Where an arena's chunks may lie: a thread arena's heaps (each from behind its heap_info, and behind the
/// malloc_state in the first one, to its <c>size</c>), the main arena's sbrk heap. Every pointer read from the process
/// is followed only if it lands, 16-aligned, inside one of these ranges, with the whole chunk inside the same range.
/// </summary>
public sealed class MallocArenaBounds
{
    private readonly (ulong Start, ulong End)[] _ranges;

    public MallocArenaBounds(IEnumerable<(ulong Start, ulong End)> ranges)
    {
        _ranges = [.. ranges.Where(r => r.End > r.Start).OrderBy(r => r.Start)];
    }

    public IReadOnlyList<(ulong Start, ulong End)> Ranges => _ranges;

    /// <summary>Sum of the ranges' sizes.</summary>
    public ulong Bytes => _ranges.Aggregate(0UL, (sum, r) => sum + (r.End - r.Start));

    /// <summary>Whether a chunk of <paramref name="size"/> bytes at <paramref name="chunk"/> lies, aligned, inside one range.</summary>
    public bool HoldsChunk(ulong chunk, ulong size)
    {
        if (chunk % 16 != 0 || size == 0)
        {
            return false;
        }

        foreach (var (start, end) in _ranges)
        {
            if (chunk >= start && chunk < end)
            {
                return size <= end - chunk;
            }
        }

        return false;
    }

    /// <summary>The end of the range holding <paramref name="address"/>, or 0.</summary>
    public ulong EndOf(ulong address)
    {
        foreach (var (start, end) in _ranges)
        {
            if (address >= start && address < end)
            {
                return end;
            }
        }

        return 0;
    }
}
