using System.Text;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>
/// The mappings of one process, in address order, with their path names interned: parsing a file
/// allocates once per distinct path, not once per mapping, and a table is reused across reads.
/// </summary>
public sealed class MappingTable
{
    private Mapping[] _items = new Mapping[256];
    private readonly List<string> _paths = [];
    private readonly Dictionary<string, int> _pathIds = new(StringComparer.Ordinal);
    private char[] _decodeBuffer = new char[256];

    // The last path interned, as bytes, and its id: a file's mappings come one after another (text, data, bss), so
    // most lookups are of the path just seen and skip the decoding and the dictionary.
    private byte[] _lastPath = new byte[256];
    private int _lastPathLength = -1;
    private int _lastPathId;

    public int Count { get; private set; }

    /// <summary>SmapsParser's record template, kept with the table so that parsing allocates nothing.</summary>
    internal SmapsRecordTemplate RecordTemplate { get; } = new();

    /// <summary>VMAs as the kernel listed them, before any <see cref="SplitAt"/> (what vm.max_map_count limits).</summary>
    public int VmaCount => Count - Splits;

    /// <summary>How many times a VMA was split where two different things had merged into it.</summary>
    public int Splits { get; private set; }

    /// <summary>True when the source was smaps: resident, proportional and swap sizes are known.</summary>
    public bool HasSmapsFields { get; internal set; }

    public ReadOnlySpan<Mapping> Items => _items.AsSpan(0, Count);

    public ref readonly Mapping this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _items[index];
        }
    }

    public string? PathOf(in Mapping mapping) => mapping.PathId < 0 ? null : _paths[mapping.PathId];

    internal string PathAt(int pathId) => _paths[pathId];

    /// <summary>Paths interned so far (kept across parses until there are too many): every path id is below it.</summary>
    internal int PathCount => _paths.Count;

    /// <summary>FileMappingClassifier's category by each path's name, by path id; dropped with the paths.</summary>
    internal List<RegionCategory> PathCategories { get; } = [];

    public string? PathOf(int index) => PathOf(_items[index]);

    public void Clear()
    {
        Count = 0;
        Splits = 0;
        HasSmapsFields = false;
        // The path table is kept: the same process (or the next JVM) maps mostly the same files.
        if (_paths.Count > 4096)
        {
            _paths.Clear();
            _pathIds.Clear();
            PathCategories.Clear();
            _lastPathLength = -1;
        }
    }

    internal void Add(in Mapping mapping)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = mapping;
    }

    /// <summary>
    /// Adds <paramref name="header"/> with its smaps sizes and flags, built in its slot: <c>header with { ... }</c>
    /// copies the 88-byte struct through the stack twice (~4% of the parse's profile samples).
    /// </summary>
    internal void Add(in Mapping header, long residentBytes, long proportionalBytes, long swapBytes, VmFlags flags)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = new Mapping(header.Start, header.End, header.Permissions, header.Offset, header.Device, header.Inode, header.Kind,
            header.PathId, residentBytes, proportionalBytes, swapBytes, flags);
    }

    internal ref Mapping Last => ref _items[Count - 1];

    /// <summary>
    /// Splits mapping <paramref name="index"/> at <paramref name="address"/>: the kernel merges neighbouring
    /// mappings with equal flags (an mmapped malloc chunk beside a HotSpot reservation), and each part belongs
    /// elsewhere. smaps gives Rss, Pss and Swap per VMA only: the parts share them as the page table's resident
    /// pages say (<paramref name="lowResidentBytes"/>, from pagemap), else in proportion to their bytes.
    /// </summary>
    public void SplitAt(int index, ulong address, long? lowResidentBytes = null)
    {
        ref readonly Mapping m = ref this[index];
        if (address <= m.Start || address >= m.End)
        {
            throw new ArgumentOutOfRangeException(nameof(address), "split address must lie inside the mapping");
        }

        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        Mapping whole = _items[index];
        double share = (double)(address - whole.Start) / whole.Size;
        if (lowResidentBytes is { } lowResident && whole.ResidentBytes > 0)
        {
            // The page table's answer: Pss and swap follow the same split as Rss.
            share = Math.Clamp((double)lowResident / whole.ResidentBytes, 0, 1);
        }

        Mapping low = whole with
        {
            End = address,
            ResidentBytes = Part(whole.ResidentBytes, share),
            ProportionalBytes = Part(whole.ProportionalBytes, share),
            SwapBytes = Part(whole.SwapBytes, share),
        };
        Mapping high = whole with
        {
            Start = address,
            Offset = whole.Kind == MappingKind.File ? whole.Offset + (address - whole.Start) : whole.Offset,
            ResidentBytes = Rest(whole.ResidentBytes, low.ResidentBytes),
            ProportionalBytes = Rest(whole.ProportionalBytes, low.ProportionalBytes),
            SwapBytes = Rest(whole.SwapBytes, low.SwapBytes),
        };
        Array.Copy(_items, index + 1, _items, index + 2, Count - index - 1);
        _items[index] = low;
        _items[index + 1] = high;
        Count++;
        Splits++;
    }

    // Whole KiB, as smaps counts; unknown (-1) stays unknown.
    private static long Part(long bytes, double share) => bytes < 0 ? bytes : (long)(bytes / 1024 * share) * 1024;

    private static long Rest(long bytes, long part) => bytes < 0 ? bytes : bytes - part;

    internal int InternPath(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == _lastPathLength && utf8.SequenceEqual(_lastPath.AsSpan(0, _lastPathLength)))
        {
            return _lastPathId;
        }

        int id = LookUpPath(utf8);
        if (_lastPath.Length < utf8.Length)
        {
            _lastPath = new byte[Math.Max(utf8.Length, _lastPath.Length * 2)];
        }

        utf8.CopyTo(_lastPath);
        _lastPathLength = utf8.Length;
        _lastPathId = id;
        return id;
    }

    private int LookUpPath(ReadOnlySpan<byte> utf8)
    {
        int maxChars = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        if (_decodeBuffer.Length < maxChars)
        {
            _decodeBuffer = new char[Math.Max(maxChars, _decodeBuffer.Length * 2)];
        }

        int length = Encoding.UTF8.GetChars(utf8, _decodeBuffer);
        ReadOnlySpan<char> chars = _decodeBuffer.AsSpan(0, length);
        var lookup = _pathIds.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars, out int id))
        {
            return id;
        }

        id = _paths.Count;
        string path = chars.ToString();
        _paths.Add(path);
        _pathIds.Add(path, id);
        return id;
    }
}
